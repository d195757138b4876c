package dev.bellows.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.jdbc.SchemaView;
import dev.bellows.spring.boot3.Boot3HealthIndicator;
import dev.bellows.testing.PostgresFixture;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.SimpleJdbcInsert;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * StarterTest on Spring Boot 3.5 (this module's versions are Boot 3.5.7's: Spring 6.2, Hibernate 6.6, Flyway 11.7,
 * HikariCP 6.3): the same legacy JPA application on a plain URL, the DataSource Bellows over HikariCP, Flyway
 * migrating through it, both schema views' SimpleJdbcInsert storing both columns, the meters, the endpoint (checked
 * against the CLI) and the health contributor on Boot 3's health API.
 */
@SpringBootTest(classes = StarterApp.class, properties = {
    "bellows.rules=classpath:bellows-rules.yaml",
    "bellows.app-name=starter-boot3",
    "bellows.flags-poll=off",
    "bellows.usage=db",
    "spring.jpa.hibernate.ddl-auto=validate",
    "spring.jpa.open-in-view=false",
    "spring.liquibase.enabled=false"}) // Liquibase is here for Boot3MigrationUrlTest
class Boot3StarterTest {
    private static final PostgresFixture PG = PostgresFixture.get();
    private static final String URL = PG.createDatabase("starter3");

    @DynamicPropertySource
    static void datasource(DynamicPropertyRegistry r) {
        r.add("spring.datasource.url", () -> URL);
        r.add("spring.datasource.username", () -> PG.user() == null ? "" : PG.user());
        r.add("spring.datasource.password", () -> PG.password() == null ? "" : PG.password());
    }

    @Autowired DataSource dataSource;
    @Autowired Flyway flyway;
    @Autowired StarterApp.Leads leads;
    @Autowired MeterRegistry meters;
    @Autowired BellowsEndpoint endpoint;
    @Autowired HealthIndicator bellowsHealthIndicator;

    @Test
    void theStarterWorksOnSpringBoot35() throws Exception {
        assertTrue(SpringBootVersion.getVersion().startsWith("3.5."), SpringBootVersion.getVersion());
        assertTrue(org.hibernate.Version.getVersionString().startsWith("6.6."), org.hibernate.Version.getVersionString());

        BellowsDataSource bellows = assertInstanceOf(BellowsDataSource.class, dataSource);
        assertInstanceOf(HikariDataSource.class, bellows.getDelegate(), "HikariCP pools the raw connections");
        assertTrue(dataSource.isWrapperFor(HikariDataSource.class));
        assertEquals("jdbc:postgresql:", ((HikariDataSource) bellows.getDelegate()).getJdbcUrl().substring(0, 16));
        BellowsRuntime rt = bellows.runtime();
        assertEquals("starter-boot3", rt.appName());
        assertEquals(SchemaView.OLD, rt.schemaView());
        assertEquals(2, flyway.info().applied().length);
        assertTrue(rt.catalog().columns("public", "leads").contains("contact_email"),
            "Flyway's ADD COLUMN ran through Bellows and refreshed the catalog");

        StarterApp.Lead saved = leads.save(new StarterApp.Lead("jpa@x.io", "jpa"));
        assertEquals("jpa@x.io jpa@x.io", row(saved.id));
        Number oldId = new SimpleJdbcInsert(dataSource).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("user_email", "old@x.io", "name", "old"));
        assertEquals("old@x.io old@x.io", row(oldId.longValue()));
        BellowsProperties p = new BellowsProperties();
        p.setRules("classpath:bellows-rules.yaml");
        p.setFlagsPoll("off");
        p.setUsage("off");
        p.setSchema("new");
        BellowsDataSource newView = BellowsDataSourcePostProcessor.wrap(bellows.getDelegate(), p, null);
        Number newId = new SimpleJdbcInsert(newView).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("contact_email", "new@x.io", "name", "new"));
        assertEquals("new@x.io new@x.io", row(newId.longValue()));
        try (Connection c = dataSource.getConnection()) {
            assertTrue(c.isWrapperFor(BellowsConnection.class));
        }

        assertEquals(1.0, meters.get("bellows.phase").tag("migration", "leads-contact-email").gauge().value());
        assertTrue(meters.get("bellows.statements").tag("migration", "leads-contact-email").tag("kind", "write")
            .tag("treatment", "rewritten").counter().count() >= 2);
        leads.count();
        leads.count();
        assertTrue(meters.get("bellows.rewrite.cache").tag("result", "hit").functionCounter().count() >= 1);
        assertEquals(rt.rewriteStats().misses(), meters.get("bellows.rewrite.miss").functionTimer().count());

        EndpointChecks.assertFleetView(endpoint, dataSource, rt, URL, PG.user(), PG.password());

        assertInstanceOf(Boot3HealthIndicator.class, bellowsHealthIndicator);
        Health health = bellowsHealthIndicator.health();
        assertEquals("UP", health.getStatus().getCode());
        assertTrue(String.valueOf(health.getDetails().get("dataSources")).contains("phase=expand"), health.toString());
    }

    private String row(long id) throws Exception {
        try (Connection c = PG.connect(URL); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT user_email, contact_email FROM leads WHERE id = " + id)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) out.add(rs.getString(1) + " " + rs.getString(2));
            return String.join("|", out);
        }
    }
}
