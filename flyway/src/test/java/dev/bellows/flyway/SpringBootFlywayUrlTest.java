package dev.bellows.flyway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A Spring Boot 4 application whose Flyway has its own {@code spring.flyway.url}, a {@code jdbc:bellows:postgresql:}
 * URL, and no driver setting. Spring Boot opens the migration's own connection from that URL (not the application's
 * DataSource), with the driver the starter's {@code BellowsMigrationUrls} names for it; V3's legacy INSERT, run after
 * V2's own ADD COLUMN in the same process, stores both columns.
 */
class SpringBootFlywayUrlTest {
    private static final PostgresFixture PG = PostgresFixture.get();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }

    @Test
    void springFlywayUrlMigratesThroughBellows() throws Exception {
        String pgUrl = PG.createDatabase("boot_flyway_url");
        String bellowsUrl = "jdbc:bellows:" + pgUrl.substring("jdbc:".length())
            + (pgUrl.contains("?") ? "&" : "?") + "bellows.rules=classpath:boot-rules.yaml&bellows.appName=boot-flyway";
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class)
                 .web(WebApplicationType.NONE)
                 .properties(
                     "spring.datasource.url=" + pgUrl,
                     "spring.datasource.username=" + nullToEmpty(PG.user()),
                     "spring.datasource.password=" + nullToEmpty(PG.password()),
                     "spring.flyway.url=" + bellowsUrl,
                     "spring.flyway.user=" + nullToEmpty(PG.user()),
                     "spring.flyway.password=" + nullToEmpty(PG.password()),
                     "spring.flyway.locations=classpath:db/boot")
                 .run()) {
            Flyway flyway = ctx.getBean(Flyway.class);
            assertEquals(3, flyway.info().applied().length);
            javax.sql.DataSource own = flyway.getConfiguration().getDataSource();
            assertTrue(own != ctx.getBean(javax.sql.DataSource.class), "Flyway has its own DataSource, not the application's");
            assertEquals("dev.bellows.jdbc.BellowsDriver", ctx.getEnvironment().getProperty("spring.flyway.driver-class-name"));
            try (Connection c = own.getConnection()) {
                assertTrue(c.isWrapperFor(dev.bellows.jdbc.BellowsConnection.class), "Flyway's own connection is Bellows'");
            }
        }
        try (Connection c = PG.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT user_email, contact_email FROM leads WHERE id = 1")) {
            assertTrue(rs.next());
            assertEquals("a@x.org|a@x.org", rs.getString(1) + "|" + rs.getString(2), "V3's INSERT went through Bellows");
        }
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
