package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.usage.Gate;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rename's whole life in pg_stat_statements (issue 20 trap 4, issue 21 §2): Bellows' backfill and check, and
 * pgjdbc's RETURNING for generated keys on the application's behalf, are never reported as a client that bypasses
 * Bellows.
 */
class OwnStatementsTest {
    static final String ID = "leads-contact-email";
    @TempDir Path tmp;

    @Test
    void noStatementOfBellowsOrOfPgjdbcIsABypass() throws Exception {
        WfDb db = WfDb.create("own_statements");
        assumeTrue(db.fixture.hasPgStatStatements(), "the server does not preload pg_stat_statements");
        db.exec("CREATE TABLE leads (id bigserial PRIMARY KEY, name text, user_email text NOT NULL)",
            "CREATE UNIQUE INDEX leads_user_email_idx ON leads (user_email)",
            "INSERT INTO leads (name, user_email) SELECT 'n' || g, 'u' || g || '@example.com' FROM generate_series(1, 500) g",
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME.replace("phase: expand", "phase: off"));
        List<String> conn = db.cliConnection();
        String r = rules.toString();
        BellowsDataSource ds = TypeChangeRunbookTest.instance(db, rules, "leads-app");
        long started = System.currentTimeMillis();
        int n = 0;
        // phase off: pgjdbc appends RETURNING * (RETURN_GENERATED_KEYS) to what Bellows sends as written
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 3; i++) legacyWrites(c, ++n);
        }
        TypeChangeRunbookTest.run(TypeChangeRunbookTest.cmd(conn, "check", ID, "--rules", r, "--from-pg-stat-statements"));
        Path out = tmp.resolve("plan");
        TypeChangeRunbookTest.run(TypeChangeRunbookTest.cmd(conn, "plan", ID, "--rules", r, "--out", out.toString()));
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "expand", false));
            ScriptRunner.run(c, PlanTest.step(out, "mirror", false));
        }
        TypeChangeRunbookTest.run(TypeChangeRunbookTest.cmd(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "test"));
        Thread.sleep(1500);
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 3; i++) legacyWrites(c, ++n); // dual writes; Bellows appends RETURNING itself
        }
        String bf = TypeChangeRunbookTest.run(TypeChangeRunbookTest.cmd(conn, "backfill", ID, "--rules", r, "--pause", "0",
            "--batch", "100", "--progress", "none"));
        assertTrue(bf.contains("verified: 0 rows diverge"), bf);
        TypeChangeRunbookTest.run(TypeChangeRunbookTest.cmd(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "test"));
        Thread.sleep(1500);
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 3; i++) legacyWrites(c, ++n);
        }
        ds.runtime().usageRecorder().flush();

        Gate.Result g;
        try (Connection c = db.raw()) {
            g = Gate.evaluate(c, ID, new Gate.Options(Duration.ofMillis(System.currentTimeMillis() - started), false,
                Duration.ofSeconds(60), null));
        }
        Gate.Condition bypass = g.conditions().stream().filter(x -> x.id().equals("bypass")).findFirst().orElseThrow();
        assertEquals(Gate.Status.MET, bypass.status(), bypass.toString());
        String ev = String.join("\n", bypass.evidence());
        assertTrue(ev.contains("bellows tool") && ev.contains("dual write") && ev.contains("sent as written"), ev);
        // what the server recorded really carries pgjdbc's clause and the backfill's statements
        List<String> texts = db.rows("SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
            + " WHERE datname = current_database()) AND calls > 0");
        assertTrue(texts.stream().anyMatch(t -> t.matches("(?s)INSERT INTO leads \\(name, user_email\\) VALUES \\(\\$1, \\$2\\)\\s+RETURNING \\*")),
            texts.toString());
        assertTrue(texts.stream().anyMatch(t -> t.startsWith("UPDATE /* bellows:backfill */ public.leads SET contact_email = user_email")),
            texts.toString());
        ds.runtime().close();
    }

    private static void legacyWrites(Connection c, int n) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)",
            Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, "new " + n);
            ps.setString(2, "new" + n + "@example.com");
            ps.executeUpdate();
            try (ResultSet k = ps.getGeneratedKeys()) {
                assertTrue(k.next());
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE name = ?")) {
            ps.setString(1, "new " + n);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("new" + n + "@example.com", rs.getString(1));
            }
        }
    }
}
