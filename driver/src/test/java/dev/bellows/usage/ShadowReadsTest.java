package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testapp.LegacyOrders;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow reads ({@code bellows.shadow}) against the real server, one database for the class: three type changes of
 * {@code status text -> status_code int} in expand, one correct, one with a planted wrong {@code down} (3 and 4
 * swapped), one whose backfill missed every tenth row. A legacy workload at rate 1.0 through Bellows; the switch
 * gate, {@code flags set … switch}, statements with side effects, snapshots and the application's own results.
 */
class ShadowReadsTest {
    @TempDir static Path dir;
    static String pgUrl;
    static Path rules;
    static BellowsDataSource shadowed;
    static BellowsDataSource plain;
    static final List<BellowsDataSource> sources = new ArrayList<>();
    static final String UP = "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3"
        + " WHEN 'cancelled' THEN 4 END";
    static final String DOWN = "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed'"
        + " WHEN 4 THEN 'cancelled' END";
    static final String WRONG_DOWN = "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'cancelled'"
        + " WHEN 4 THEN 'completed' END";
    static final String[] STATUSES = {"pending", "processing", "completed", "cancelled"};

    @BeforeAll
    static void setUp() throws Exception {
        pgUrl = PostgresFixture.get().createDatabase("shadow");
        StringBuilder y = new StringBuilder("migrations:\n");
        for (String[] m : new String[][] {{"ok", DOWN}, {"bad", WRONG_DOWN}, {"missed", DOWN}}) {
            exec("CREATE TABLE orders_" + m[0] + " (id int PRIMARY KEY, status text, status_code int)",
                "INSERT INTO orders_" + m[0] + " (id, status) SELECT i, (ARRAY['pending','processing','completed','cancelled'])"
                    + "[1 + i % 4] FROM generate_series(1, 60) i",
                "UPDATE orders_" + m[0] + " SET status_code = " + UP + (m[0].equals("missed") ? " WHERE id % 10 <> 0" : ""));
            y.append("  - id: orders-").append(m[0]).append("\n    table: orders_").append(m[0])
                .append("\n    from: status\n    to: status_code\n    type: integer\n    up: \"").append(UP)
                .append("\"\n    down: \"").append(m[1]).append("\"\n    phase: expand\n");
        }
        exec("CREATE SEQUENCE reads_seq", "CREATE TABLE touched (id serial PRIMARY KEY)", "CREATE TABLE app_writes (id int)",
            "CREATE FUNCTION touch(s text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN INSERT INTO touched DEFAULT VALUES;"
                + " RETURN s; END $$");
        rules = Files.writeString(dir.resolve("rules.yaml"), y.toString());
        shadowed = dataSource("legacy-shadowed", "bellows.shadow", "1.0");
        plain = dataSource("legacy-plain");
    }

    @AfterAll
    static void close() throws SQLException {
        for (BellowsDataSource ds : sources) ds.runtime().close();
    }

    static BellowsDataSource dataSource(String app, String... settings) throws SQLException {
        PostgresFixture f = PostgresFixture.get();
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(pgUrl);
        if (f.user() != null) ds.setUser(f.user());
        if (f.password() != null) ds.setPassword(f.password());
        ds.setRules(rules.toString());
        ds.setAppName(app);
        ds.setProperty("bellows.flags.poll", "off");
        ds.setProperty("bellows.rules.poll", "off");
        ds.setProperty("bellows.usage.flushInterval", "60s");
        for (int i = 0; i < settings.length; i += 2) ds.setProperty(settings[i], settings[i + 1]);
        sources.add(ds);
        return ds;
    }

    static void exec(String... sql) throws SQLException {
        try (Connection c = PostgresFixture.get().connect(pgUrl); Statement s = c.createStatement()) {
            for (String q : sql) s.execute(q);
        }
    }

    static String query(String sql) throws SQLException {
        try (Connection c = PostgresFixture.get().connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static List<String> legacyReads(BellowsDataSource ds, String table) throws SQLException {
        return LegacyOrders.reads(ds, table);
    }

    static String render(ResultSet rs) throws SQLException {
        return LegacyOrders.render(rs);
    }

    static ShadowGate.Result gate(String id) throws SQLException {
        assertTrue(shadowed.runtime().shadowRecorder().flush());
        try (Connection c = PostgresFixture.get().connect(pgUrl)) {
            return ShadowGate.evaluate(c, id, Duration.ofHours(1), 20);
        }
    }

    static UsageDb.Cli cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", pgUrl));
        PostgresFixture f = PostgresFixture.get();
        if (f.user() != null) all.addAll(List.of("--user", f.user()));
        if (f.password() != null) all.addAll(List.of("--password", f.password()));
        return UsageDb.Cli.run(all.toArray(new String[0]));
    }

    // ---------------------------------------------------------------- verdicts

    @Test
    void correctMigrationManyComparisonsNoDifferenceGateGreenSwitchAllowed() throws Exception {
        long before = gate("orders-ok").compared();
        for (int i = 0; i < 4; i++) legacyReads(shadowed, "orders_ok");
        ShadowGate.Result r = gate("orders-ok");
        // 4 x (3 + 20 + 4 + 2) reads, every one compared (rate 1.0, all plain SELECTs, autocommit or REPEATABLE READ)
        assertEquals(before + 116, r.compared(), r.toString());
        assertEquals(0, r.differed(), r.toString());
        assertEquals(0, r.errors(), r.toString());
        assertTrue(r.green());
        UsageDb.Cli gate = cli("gate", "orders-ok", "--for", "switch", "--window", "1h", "--min-shadowed", "20");
        assertEquals(0, gate.code(), gate.toString());
        assertTrue(gate.out().startsWith("SAFE TO SWITCH"), gate.toString());
        UsageDb.Cli more = cli("gate", "orders-ok", "--for", "switch", "--window", "1h", "--min-shadowed", "1000");
        assertEquals(1, more.code(), more.toString()); // not enough evidence yet is red too
        UsageDb.Cli set = cli("flags", "set", "orders-ok", "switch", "--rules", rules.toString(), "--reason", "shadow green");
        assertEquals(0, set.code(), set.toString());
        UsageDb.Cli report = cli("report", "--migration", "orders-ok");
        assertTrue(report.out().contains("shadow reads orders-ok: " + r.compared() + " compared, 0 differed"), report.toString());
    }

    @Test
    void wrongDownIsRecordedGateRedSwitchRefused() throws Exception {
        long before = gate("orders-bad").compared();
        legacyReads(shadowed, "orders_bad");
        ShadowGate.Result r = gate("orders-bad");
        assertEquals(before + 29, r.compared(), r.toString());
        // whole-table reads, the grouped count, and each single-row read of a completed or cancelled order
        assertTrue(r.differed() >= 10, r.toString());
        assertFalse(r.green());
        assertFalse(r.differences().isEmpty());
        ShadowGate.Difference d = r.differences().get(0);
        assertEquals("legacy-shadowed", d.app());
        assertTrue(d.callSite() != null && d.callSite().contains("LegacyOrders.reads"), d.toString());
        UsageDb.Cli gate = cli("gate", "orders-bad", "--for", "switch", "--window", "1h", "--min-shadowed", "20");
        assertEquals(1, gate.code(), gate.toString());
        assertTrue(gate.out().contains("NOT SAFE TO SWITCH") && gate.out().contains("differed"), gate.toString());
        UsageDb.Cli set = cli("flags", "set", "orders-bad", "switch", "--rules", rules.toString(), "--reason", "try");
        assertEquals(1, set.code(), set.toString());
        assertTrue((set.out() + set.err()).contains("switch gate"), set.toString());
        assertEquals("expand", phaseOf("orders-bad"));
        // no literal value reached the table, not even of the rows that differed
        assertEquals("0", query("SELECT count(*) FROM bellows.shadow_reads s WHERE s::text ~ '(pending|processing|completed|cancelled)'"));
        UsageDb.Cli forced = cli("flags", "set", "orders-bad", "switch", "--rules", rules.toString(), "--reason", "forced",
            "--force");
        assertEquals(0, forced.code(), forced.toString());
    }

    static String phaseOf(String id) throws SQLException {
        try {
            String p = query("SELECT phase FROM bellows.flags WHERE migration_id = '" + id + "'");
            return p == null ? "expand" : p;
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) return "expand";
            throw e;
        }
    }

    @Test
    void backfillThatMissedRowsDiffersGateRed() throws Exception {
        long before = gate("orders-missed").compared();
        legacyReads(shadowed, "orders_missed");
        ShadowGate.Result r = gate("orders-missed");
        assertEquals(before + 29, r.compared(), r.toString());
        assertTrue(r.differed() >= 3, r.toString()); // the whole-table reads and ids 10 and 20 at least
        assertFalse(r.green());
        UsageDb.Cli gate = cli("gate", "orders-missed", "--for", "switch", "--window", "1h", "--min-shadowed", "20",
            "--format", "json");
        assertEquals(1, gate.code(), gate.toString());
        assertTrue(gate.out().contains("\"safe\":false"), gate.toString());
    }

    // ---------------------------------------------------------------- the application's side

    @Test
    void applicationResultsAreIdenticalWithAndWithoutShadowing() throws Exception {
        for (String t : new String[] {"orders_ok", "orders_bad", "orders_missed"}) {
            assertEquals(legacyReads(plain, t), legacyReads(shadowed, t), t);
        }
    }

    @Test
    void statementsWithSideEffectsAreNeverShadowed() throws Exception {
        long before = gate("orders-ok").unsafe();
        try (Connection c = shadowed.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 5; i++) {
                s.executeQuery("SELECT id, touch(status) FROM orders_ok WHERE id = 1").close();
                s.executeQuery("SELECT nextval('reads_seq'), status FROM orders_ok WHERE id = 2").close();
                s.executeQuery("SELECT status FROM orders_ok WHERE id = 3 FOR UPDATE").close();
                s.executeQuery("WITH t AS (INSERT INTO touched DEFAULT VALUES RETURNING id) SELECT status FROM orders_ok, t"
                    + " WHERE orders_ok.id = 4").close();
            }
        }
        assertEquals("10", query("SELECT count(*) FROM touched")); // five by touch(), five by the CTE: each ran once
        assertEquals("5", query("SELECT last_value FROM reads_seq"));
        // in the application's REPEATABLE READ transaction the copies would not be read-only: the check alone keeps
        // touch() from running twice there
        try (Connection c = shadowed.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement s = c.createStatement()) {
                for (int i = 0; i < 5; i++) s.executeQuery("SELECT id, touch(status) FROM orders_ok WHERE id = 1").close();
            }
            c.commit();
        }
        assertEquals("15", query("SELECT count(*) FROM touched"));
        assertEquals(before + 25, gate("orders-ok").unsafe());
    }

    @Test
    void readCommittedTransactionIsNotShadowedTooLargeIsNotCompared() throws Exception {
        long noSnapshot = gate("orders-ok").noSnapshot();
        try (Connection c = shadowed.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT status FROM orders_ok WHERE id = 1")) {
                assertTrue(rs.next());
                assertEquals("processing", rs.getString(1));
            }
            c.commit();
        }
        assertEquals(noSnapshot + 1, gate("orders-ok").noSnapshot());

        BellowsDataSource small = dataSource("legacy-small", "bellows.shadow", "100%", "bellows.shadow.maxRows", "5");
        try (Connection c = small.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, status FROM orders_ok ORDER BY id")) {
            int n = 0;
            while (rs.next()) n++;
            assertEquals(60, n); // the application gets every row
        }
        assertTrue(small.runtime().shadowRecorder().flush());
        assertEquals("1", query("SELECT sum(too_large) FROM bellows.shadow_reads WHERE app_name = 'legacy-small'"));
        assertEquals("0", query("SELECT sum(matched + differed) FROM bellows.shadow_reads WHERE app_name = 'legacy-small'"));
    }

    @Test
    void aShadowThatFailsNeverFailsTheApplication() throws Exception {
        long errors = gate("orders-ok").errors();
        try (Connection c = shadowed.getConnection(); Statement s = c.createStatement()) {
            // a transaction opened by SQL on an autocommit connection: the shadow's savepoint is refused by pgjdbc
            s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            try (ResultSet rs = s.executeQuery("SELECT status FROM orders_ok WHERE id = 1")) {
                assertTrue(rs.next());
                assertEquals("processing", rs.getString(1));
                assertFalse(rs.next());
            }
            // the application's transaction is neither aborted nor ended by the failed shadow
            s.execute("INSERT INTO app_writes VALUES (1)");
            s.execute("COMMIT");
        }
        assertEquals("1", query("SELECT count(*) FROM app_writes"));
        assertEquals(errors + 1, gate("orders-ok").errors());
    }

    @Test
    void badRateIsAClearConfigurationError() {
        for (String bad : new String[] {"often", "1.5", "-0.1", "200%"}) {
            BellowsDataSource ds = new BellowsDataSource();
            ds.setUrl(pgUrl);
            ds.setRules(rules.toString());
            SQLException e = assertThrows(SQLException.class, () -> {
                ds.setProperty("bellows.shadow", bad);
                ds.getConnection().close();
            });
            assertEquals("BW001", e.getSQLState());
            assertTrue(e.getMessage().contains("bellows.shadow") && e.getMessage().contains(bad), e.getMessage());
        }
    }
}
