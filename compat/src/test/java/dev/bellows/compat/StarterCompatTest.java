package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.SchemaView;
import dev.bellows.rules.Phase;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;
import org.springframework.data.jdbc.repository.config.EnableJdbcRepositories;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.SimpleJdbcInsert;

/**
 * The Spring Boot starter in a Boot 4 context driving the suite's checks: {@code spring.datasource.url} a plain
 * {@code jdbc:postgresql:} URL, the starter wrapping the auto-configured HikariCP pool, old code's application
 * ({@code bellows.schema=old}) started in off and new code's ({@code bellows.schema=new}) started in expand, both
 * living through the migration. Auto-configured {@code JdbcTemplate}, {@code SimpleJdbcInsert} compiled in each
 * phase, and Spring Data JDBC repositories; stored values of both columns checked after every write.
 */
class StarterCompatTest {
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableJdbcRepositories(considerNestedRepositories = true, basePackageClasses = SpringDataJdbcCompatTest.class,
        includeFilters = @ComponentScan.Filter(type = FilterType.ASSIGNABLE_TYPE, classes = SpringDataJdbcCompatTest.OldLeads.class))
    static class OldBootApp {
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableJdbcRepositories(considerNestedRepositories = true, basePackageClasses = SpringDataJdbcCompatTest.class,
        includeFilters = @ComponentScan.Filter(type = FilterType.ASSIGNABLE_TYPE, classes = SpringDataJdbcCompatTest.NewLeads.class))
    static class NewBootApp {
    }

    private int n;

    static ConfigurableApplicationContext start(CompatDb db, Class<?> app, String schema) {
        return new SpringApplicationBuilder(app).properties(Map.of(
            "spring.main.banner-mode", "off",
            "spring.datasource.url", db.url,
            "spring.datasource.username", db.pg.user() == null ? "" : db.pg.user(),
            "spring.datasource.password", db.pg.password() == null ? "" : db.pg.password(),
            "spring.datasource.hikari.maximum-pool-size", "2",
            "bellows.rules", "classpath:compat-rules.yaml",
            "bellows.app-name", "compat-starter-" + schema,
            "bellows.schema", schema,
            "bellows.flags-poll", "off",
            "bellows.usage", "off")).run();
    }

    static BellowsDataSource bellows(ConfigurableApplicationContext ctx) {
        BellowsDataSource ds = assertInstanceOf(BellowsDataSource.class, ctx.getBean(DataSource.class));
        assertInstanceOf(HikariDataSource.class, ds.getDelegate(), "HikariCP pools the raw connections");
        return ds;
    }

    @Test
    void bootApplicationsOldAndNewInEveryPhase() throws Exception {
        CompatDb db = new CompatDb("compat_starter");
        try (ConfigurableApplicationContext oldCtx = start(db, OldBootApp.class, "old")) {
            BellowsDataSource oldDs = bellows(oldCtx);
            assertEquals(SchemaView.OLD, oldDs.runtime().schemaView());
            ConfigurableApplicationContext[] newCtx = new ConfigurableApplicationContext[1];
            try {
                db.everyPhase(p -> {
                    oldDs.runtime().setPhase(CompatDb.ID, p);
                    writes(db, oldCtx, false, p);
                }, p -> {
                    if (newCtx[0] == null) { // new code deploys in expand
                        newCtx[0] = start(db, NewBootApp.class, "new");
                        assertEquals(SchemaView.NEW, bellows(newCtx[0]).runtime().schemaView());
                    }
                    bellows(newCtx[0]).runtime().setPhase(CompatDb.ID, p);
                    writes(db, newCtx[0], true, p);
                });
            } finally {
                if (newCtx[0] != null) newCtx[0].close();
            }
        }
    }

    private void writes(CompatDb db, ConfigurableApplicationContext ctx, boolean neu, Phase p) throws Exception {
        String who = neu ? "new" : "old";
        String col = neu ? "contact_email" : "user_email";
        DataSource ds = ctx.getBean(DataSource.class);
        JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);

        // SimpleJdbcInsert compiled now: its column list comes from the view's getColumns
        String e = who + "-sji-" + (++n) + "@x.io";
        long id = new SimpleJdbcInsert(ds).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of(col, e, "name", "sji")).longValue();
        db.assertStored(id, e, "sji", p, "Boot SimpleJdbcInsert (" + who + ")");
        e = who + "-jdbc-" + (++n) + "@x.io";
        assertEquals(1, jdbc.update("UPDATE leads SET " + col + " = ? WHERE id = ?", e, id));
        db.assertStored(id, e, "sji", p, "Boot JdbcTemplate update (" + who + ")");
        assertEquals(e, jdbc.queryForObject("SELECT " + col + " FROM leads WHERE id = ?", String.class, id));

        // Spring Data JDBC repositories, auto-configured
        String a = who + "-repo-" + (++n) + "@x.io";
        String b = who + "-repo-upd-" + (++n) + "@x.io";
        if (neu) SpringDataJdbcCompatTest.newWrites(db, ctx.getBean(SpringDataJdbcCompatTest.NewLeads.class), p, a, b);
        else SpringDataJdbcCompatTest.oldWrites(db, ctx.getBean(SpringDataJdbcCompatTest.OldLeads.class), p, a, b);
    }
}
