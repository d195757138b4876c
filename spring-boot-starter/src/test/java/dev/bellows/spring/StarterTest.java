package dev.bellows.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.jdbc.SchemaView;
import dev.bellows.testing.PostgresFixture;
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
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.SimpleJdbcInsert;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A Spring Boot 4 application with Flyway and JPA on a plain {@code jdbc:postgresql:} URL and the starter on
 * the class path: the DataSource becomes Bellows over HikariCP, Flyway migrates through it, and the legacy
 * entity's writes are duplicated in expand; SimpleJdbcInsert from either schema view stores both columns. The
 * {@code bellows} endpoint reads the fleet's residual use and the gate's verdict from the {@code bellows} schema,
 * equal to what {@code bellows report} and {@code bellows gate} say on the same database.
 */
@SpringBootTest(classes = StarterApp.class, properties = {
    "bellows.rules=classpath:bellows-rules.yaml",
    "bellows.app-name=starter-test",
    "bellows.flags-poll=off",
    "bellows.usage=db",
    "spring.jpa.hibernate.ddl-auto=validate",
    "spring.jpa.open-in-view=false"})
class StarterTest {
    private static final PostgresFixture PG = PostgresFixture.get();
    private static final String URL = PG.createDatabase("starter");

    @DynamicPropertySource
    static void datasource(DynamicPropertyRegistry r) {
        r.add("spring.datasource.url", () -> URL);
        r.add("spring.datasource.username", () -> PG.user() == null ? "" : PG.user());
        r.add("spring.datasource.password", () -> PG.password() == null ? "" : PG.password());
    }

    @Autowired DataSource dataSource;
    @Autowired Flyway flyway;
    @Autowired StarterApp.Leads leads;
    @Autowired io.micrometer.core.instrument.MeterRegistry meters;
    @Autowired BellowsEndpoint endpoint;
    @Autowired org.springframework.boot.health.contributor.HealthIndicator bellowsHealthIndicator;

    @Test
    void flywayAndJpaGoThroughBellowsOverHikari() throws Exception {
        BellowsDataSource bellows = assertInstanceOf(BellowsDataSource.class, dataSource);
        assertInstanceOf(HikariDataSource.class, bellows.getDelegate(), "HikariCP pools the raw connections");
        assertTrue(dataSource.isWrapperFor(HikariDataSource.class));
        assertEquals("jdbc:postgresql:", ((HikariDataSource) bellows.getDelegate()).getJdbcUrl().substring(0, 16));
        BellowsRuntime rt = bellows.runtime();
        assertEquals("starter-test", rt.appName());
        assertEquals(SchemaView.OLD, rt.schemaView());
        assertEquals(2, flyway.info().applied().length);
        assertTrue(rt.catalog().columns("public", "leads").contains("contact_email"),
            "Flyway's ADD COLUMN ran through Bellows and refreshed the catalog");

        StarterApp.Lead saved = leads.save(new StarterApp.Lead("jpa@x.io", "jpa"));
        assertEquals("jpa@x.io jpa@x.io", row(saved.id));

        // SimpleJdbcInsert builds its column list from getColumns: the old view lists user_email only
        Number oldId = new SimpleJdbcInsert(dataSource).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("user_email", "old@x.io", "name", "old"));
        assertEquals("old@x.io old@x.io", row(oldId.longValue()));
        // new code: its own DataSource over the same pool with bellows.schema=new lists contact_email only
        BellowsDataSource newView = BellowsDataSourcePostProcessor.wrap(bellows.getDelegate(), props("new"), null);
        Number newId = new SimpleJdbcInsert(newView).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("contact_email", "new@x.io", "name", "new"));
        assertEquals("new@x.io new@x.io", row(newId.longValue()));
        try (Connection c = dataSource.getConnection()) {
            assertTrue(c.isWrapperFor(BellowsConnection.class));
        }

        // metrics: the legacy writes above were dual-written (rewritten), and the phase gauge says expand
        assertEquals(1.0, meters.get("bellows.phase").tag("migration", "leads-contact-email").gauge().value());
        assertTrue(meters.get("bellows.statements").tag("migration", "leads-contact-email").tag("kind", "write")
            .tag("treatment", "rewritten").counter().count() >= 2);
        leads.count();
        leads.count(); // the same statement again: answered from the rewrite cache
        double hits = meters.get("bellows.rewrite.cache").tag("result", "hit").functionCounter().count();
        double misses = meters.get("bellows.rewrite.cache").tag("result", "miss").functionCounter().count();
        assertTrue(hits >= 1 && misses >= 1, "hits " + hits + ", misses " + misses);
        assertEquals(rt.rewriteStats().misses(), meters.get("bellows.rewrite.miss").functionTimer().count());
        assertTrue(meters.get("bellows.rewrite.miss").functionTimer().totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) > 0);
        EndpointChecks.assertFleetView(endpoint, dataSource, rt, URL, PG.user(), PG.password());
        assertEquals("UP", bellowsHealthIndicator.health().getStatus().getCode());
    }

    @Test
    void flagsUrlPropertyReachesTheDriver() {
        BellowsProperties p = props("old");
        p.setAppName("starter-flags-url"); // another runtime: flags.url is not part of a runtime's identity
        p.setFlagsUrl("jdbc:bellows:postgresql://127.0.0.1/x");
        BellowsDataSource ds = BellowsDataSourcePostProcessor.wrap(((BellowsDataSource) dataSource).getDelegate(), p, null);
        java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class, ds::runtime);
        assertTrue(e.getMessage().contains("'bellows.flags.url' must be a plain jdbc:postgresql: URL"), e.getMessage());
    }

    @Test
    void flagsModeStalenessAndShadowPropertiesReachTheDriver() {
        java.util.Map<String, java.util.function.Consumer<BellowsProperties>> bad = new java.util.LinkedHashMap<>();
        bad.put("bellows.flags.mode", p -> p.setFlagsMode("sometimes"));
        bad.put("bellows.flags.staleness", p -> p.setFlagsStaleness("soon"));
        bad.put("bellows.shadow", p -> p.setShadow("often"));
        for (var e : bad.entrySet()) {
            BellowsProperties p = props("old");
            p.setAppName("starter-" + e.getKey());
            e.getValue().accept(p);
            // the driver's own validation names the setting: the property was handed to it
            Exception x = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () ->
                BellowsDataSourcePostProcessor.wrap(((BellowsDataSource) dataSource).getDelegate(), p, null).runtime());
            assertTrue(String.valueOf(x.getMessage()).contains(e.getKey()), e.getKey() + ": " + x.getMessage());
        }
    }

    private static BellowsProperties props(String schema) {
        BellowsProperties p = new BellowsProperties();
        p.setRules("classpath:bellows-rules.yaml");
        p.setFlagsPoll("off");
        p.setUsage("off");
        p.setSchema(schema);
        return p;
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
