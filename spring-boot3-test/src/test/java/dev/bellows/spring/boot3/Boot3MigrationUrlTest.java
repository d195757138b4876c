package dev.bellows.spring.boot3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import liquibase.integration.spring.SpringLiquibase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * On Spring Boot 3.5 (Flyway 11.7, Liquibase 4.31): {@code spring.flyway.url} and {@code spring.liquibase.url} given
 * a {@code jdbc:bellows:postgresql:} URL and no driver setting; each tool migrates over its own connection through
 * Bellows, and a legacy INSERT after the tool's own ADD COLUMN stores both columns.
 */
class Boot3MigrationUrlTest {
    private static final PostgresFixture PG = PostgresFixture.get();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }

    @Test
    void springFlywayUrl() throws Exception {
        String pgUrl = PG.createDatabase("boot3_flyway_url");
        try (ConfigurableApplicationContext ctx = run(pgUrl, "flyway", "spring.flyway.locations=classpath:db/boot3",
            "spring.liquibase.enabled=false")) {
            Flyway flyway = ctx.getBean(Flyway.class);
            assertEquals(3, flyway.info().applied().length);
            assertOwnBellowsDataSource(ctx, flyway.getConfiguration().getDataSource(), "spring.flyway");
        }
        assertBothColumns(pgUrl);
    }

    @Test
    void springLiquibaseUrl() throws Exception {
        String pgUrl = PG.createDatabase("boot3_liquibase_url");
        try (ConfigurableApplicationContext ctx = run(pgUrl, "liquibase", "spring.liquibase.change-log=classpath:db/boot3/changelog.yaml",
            "spring.flyway.enabled=false")) {
            assertOwnBellowsDataSource(ctx, ctx.getBean(SpringLiquibase.class).getDataSource(), "spring.liquibase");
        }
        assertBothColumns(pgUrl);
    }

    private static ConfigurableApplicationContext run(String pgUrl, String tool, String... more) {
        String bellowsUrl = "jdbc:bellows:" + pgUrl.substring("jdbc:".length())
            + (pgUrl.contains("?") ? "&" : "?") + "bellows.rules=classpath:boot3-rules.yaml&bellows.appName=boot3-" + tool;
        String user = PG.user() == null ? "" : PG.user();
        String password = PG.password() == null ? "" : PG.password();
        return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
            .properties(
                "spring.datasource.url=" + pgUrl,
                "spring.datasource.username=" + user,
                "spring.datasource.password=" + password,
                "spring." + tool + ".url=" + bellowsUrl,
                "spring." + tool + ".user=" + user,
                "spring." + tool + ".password=" + password,
                "spring.autoconfigure.exclude=org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
                "spring.data.jpa.repositories.enabled=false")
            .properties(more)
            .run();
    }

    private static void assertOwnBellowsDataSource(ConfigurableApplicationContext ctx, DataSource own, String prefix)
        throws Exception {
        assertTrue(own != ctx.getBean(DataSource.class), "the tool has its own DataSource, not the application's");
        assertEquals("dev.bellows.jdbc.BellowsDriver", ctx.getEnvironment().getProperty(prefix + ".driver-class-name"));
        try (Connection c = own.getConnection()) {
            assertTrue(c.isWrapperFor(dev.bellows.jdbc.BellowsConnection.class), "the tool's own connection is Bellows'");
        }
    }

    private static void assertBothColumns(String pgUrl) throws Exception {
        try (Connection c = PG.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT user_email, contact_email FROM leads WHERE id = 1")) {
            assertTrue(rs.next());
            assertEquals("a@x.org|a@x.org", rs.getString(1) + "|" + rs.getString(2), "the legacy INSERT went through Bellows");
        }
    }
}
