package dev.bellows.liquibase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import liquibase.integration.spring.SpringLiquibase;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A Spring Boot 4 application whose Liquibase has its own {@code spring.liquibase.url}, a
 * {@code jdbc:bellows:postgresql:} URL, and no driver setting. Spring Boot opens the migration's own connection from
 * that URL (not the application's DataSource), with the driver the starter's {@code BellowsMigrationUrls} names for
 * it; the change set's legacy INSERT, run after its own addColumn in the same process, stores both columns.
 */
class SpringBootLiquibaseUrlTest {
    private static final PostgresFixture PG = PostgresFixture.get();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }

    @Test
    void springLiquibaseUrlMigratesThroughBellows() throws Exception {
        String pgUrl = PG.createDatabase("boot_liquibase_url");
        String bellowsUrl = "jdbc:bellows:" + pgUrl.substring("jdbc:".length())
            + (pgUrl.contains("?") ? "&" : "?") + "bellows.rules=classpath:boot-rules.yaml&bellows.appName=boot-liquibase";
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class)
                 .web(WebApplicationType.NONE)
                 .properties(
                     "spring.datasource.url=" + pgUrl,
                     "spring.datasource.username=" + nullToEmpty(PG.user()),
                     "spring.datasource.password=" + nullToEmpty(PG.password()),
                     "spring.liquibase.url=" + bellowsUrl,
                     "spring.liquibase.user=" + nullToEmpty(PG.user()),
                     "spring.liquibase.password=" + nullToEmpty(PG.password()),
                     "spring.liquibase.change-log=classpath:db/boot/changelog.yaml")
                 .run()) {
            DataSource own = ctx.getBean(SpringLiquibase.class).getDataSource();
            assertTrue(own != ctx.getBean(DataSource.class), "Liquibase has its own DataSource, not the application's");
            assertEquals("dev.bellows.jdbc.BellowsDriver", ctx.getEnvironment().getProperty("spring.liquibase.driver-class-name"));
            try (Connection c = own.getConnection()) {
                assertTrue(c.isWrapperFor(dev.bellows.jdbc.BellowsConnection.class), "Liquibase's own connection is Bellows'");
            }
        }
        try (Connection c = PG.connect(pgUrl); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT string_agg(id, ',' ORDER BY orderexecuted) FROM databasechangelog")) {
                rs.next();
                assertEquals("1-legacy,2-expand,3-seed", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT user_email, contact_email FROM leads WHERE id = 1")) {
                assertTrue(rs.next());
                assertEquals("a@x.org|a@x.org", rs.getString(1) + "|" + rs.getString(2), "the change set's INSERT went through Bellows");
            }
        }
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
