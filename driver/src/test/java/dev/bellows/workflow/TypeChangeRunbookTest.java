package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.usage.Gate;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/runbook.md walked through a type change ({@code orders.status} text NOT NULL, defaulted, CHECK-constrained and
 * indexed, to {@code status_code smallint}) with the CLI and the plan's files, while a legacy and then a new
 * version of the application write and read through Bellows (issue 21).
 */
class TypeChangeRunbookTest {
    static final String ID = "orders-status-code";
    static final String UP = "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3"
        + " WHEN 'cancelled' THEN 4 END";
    static final String DOWN = "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed'"
        + " WHEN 4 THEN 'cancelled' END";
    static final String RULES = "migrations:\n"
        + "  - id: " + ID + "\n"
        + "    table: orders\n"
        + "    from: status\n"
        + "    to: status_code\n"
        + "    type: smallint\n"
        + "    up: \"" + UP + "\"\n"
        + "    down: \"" + DOWN + "\"\n"
        + "    phase: off\n";
    static final String[] STATUSES = {"pending", "processing", "completed", "cancelled"};

    @TempDir Path tmp;

    static WfDb orders(String prefix, int rows) throws SQLException {
        WfDb db = WfDb.create(prefix);
        db.exec("CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL,"
                + " status text NOT NULL DEFAULT 'pending'"
                + " CONSTRAINT orders_status_check CHECK (status IN ('pending', 'processing', 'completed', 'cancelled')))",
            "CREATE INDEX orders_status_idx ON orders (status)",
            "INSERT INTO orders (customer, status) SELECT 'c' || g, (ARRAY['pending', 'processing', 'completed', 'cancelled'])[1 + g % 4]"
                + " FROM generate_series(1, " + rows + ") g");
        return db;
    }

    static BellowsDataSource instance(WfDb db, Path rules, String app) throws SQLException {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(db.url);
        if (db.fixture.user() != null) ds.setUser(db.fixture.user());
        if (db.fixture.password() != null) ds.setPassword(db.fixture.password());
        ds.setRules(rules.toString());
        ds.setAppName(app);
        ds.setProperty("bellows.usage.flushInterval", "500ms");
        try (Connection c = ds.getConnection()) {
            c.isValid(1); // the runtime starts: tracking from now on
        }
        return ds;
    }

    /** {@code bellows <command…>} followed by the connection options. */
    static String[] cmd(List<String> conn, String... command) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(conn);
        return a.toArray(new String[0]);
    }

    static String run(String... args) {
        WfDb.Run r = WfDb.cli(args);
        assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r);
        return r.out() + r.err();
    }

    /** A version of the application: writes and reads its own rows, counting errors and wrong answers. */
    static final class Load implements Runnable {
        final BellowsDataSource ds;
        final boolean legacy;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ops = new AtomicLong();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        final Map<Long, Integer> mine = new ConcurrentHashMap<>(); // id -> index into STATUSES
        Thread thread;

        Load(BellowsDataSource ds, boolean legacy) {
            this.ds = ds;
            this.legacy = legacy;
        }

        Load start() {
            thread = new Thread(this, legacy ? "legacy-load" : "new-load");
            thread.start();
            return this;
        }

        void stopAndJoin() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }

        @Override public void run() {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            while (!stop.get()) {
                try (Connection c = ds.getConnection()) {
                    int s = rnd.nextInt(STATUSES.length);
                    long id;
                    // generated keys by name: pgjdbc (or Bellows for it) appends RETURNING "id"
                    try (PreparedStatement ps = c.prepareStatement(legacy
                        ? "INSERT INTO orders (customer, status) VALUES (?, ?)"
                        : "INSERT INTO orders (customer, status_code) VALUES (?, ?)", new String[] {"id"})) {
                        ps.setString(1, legacy ? "legacy" : "new");
                        if (legacy) ps.setString(2, STATUSES[s]);
                        else ps.setInt(2, s + 1);
                        ps.executeUpdate();
                        try (ResultSet k = ps.getGeneratedKeys()) {
                            k.next();
                            id = k.getLong(1);
                        }
                    }
                    mine.put(id, s);
                    Long[] ids = mine.keySet().toArray(new Long[0]);
                    long other = ids[rnd.nextInt(ids.length)];
                    int t = rnd.nextInt(STATUSES.length);
                    try (PreparedStatement ps = c.prepareStatement(legacy ? "UPDATE orders SET status = ? WHERE id = ?"
                        : "UPDATE orders SET status_code = ? WHERE id = ?")) {
                        if (legacy) ps.setString(1, STATUSES[t]);
                        else ps.setInt(1, t + 1);
                        ps.setLong(2, other);
                        ps.executeUpdate();
                    }
                    mine.put(other, t);
                    try (PreparedStatement ps = c.prepareStatement(legacy ? "SELECT status FROM orders WHERE id = ?"
                        : "SELECT status_code FROM orders WHERE id = ?")) {
                        ps.setLong(1, other);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            String want = legacy ? STATUSES[t] : String.valueOf(t + 1);
                            if (!want.equals(rs.getString(1))) errors.add("wrong answer for id " + other + ": " + rs.getString(1) + " instead of " + want);
                        }
                    }
                    ops.addAndGet(3);
                } catch (SQLException e) {
                    errors.add(e.getSQLState() + " " + e.getMessage());
                }
            }
        }
    }

    @Test
    void theRunbookCarriesATypeChangeToAGreenGate() throws Exception {
        WfDb db = orders("tc_runbook", 3000);
        boolean pgss = db.fixture.hasPgStatStatements();
        if (pgss) {
            db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        }
        Path rules = WfDb.rules(tmp, RULES);
        List<String> conn = db.cliConnection();
        String r = rules.toString();

        // 0. every instance on Bellows, phase off; the legacy version runs throughout
        BellowsDataSource legacyDs = instance(db, rules, "orders-legacy");
        Load legacy = new Load(legacyDs, true).start();
        Thread.sleep(500);
        if (pgss) {
            WfDb.Run check = WfDb.cli(cmd(conn, "check", ID, "--rules", r, "--from-pg-stat-statements"));
            assertEquals(0, check.exit(), check.toString());
            assertTrue(check.out().contains("0 cannot be carried"), check.toString());
        }

        // 1. plan; the expand file while the fleet is still in off: those rows get status_code's default
        Path out = tmp.resolve("plan");
        String plan = run(cmd(conn, "plan", ID, "--rules", r, "--out", out.toString()));
        assertFalse(plan.contains("by hand"), plan); // the CHECK constraint is twinned, not left to the user
        ScriptRunner.run(db.raw(), PlanTest.step(out, "expand", false));
        Thread.sleep(300);
        Gate.Result before = gate(db, Duration.ofSeconds(60));
        Gate.Condition backfill = condition(before, "backfill");
        assertEquals(Gate.Status.UNMET, backfill.status(), backfill.toString());
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "mirror", false));
        }

        // the legacy rows inserted since the expand file carry status_code's default, up('pending') = 1, whatever their status
        // (read without naming the old column: a plain reference here would be a client bypassing Bellows)
        long defaulted = Long.parseLong(db.query("SELECT count(*) FROM orders o WHERE status_code IS NOT NULL"
            + " AND status_code IS DISTINCT FROM (" + UP.replace("CASE status", "CASE to_jsonb(o) ->> ('sta' || 'tus')") + ")"));
        assertTrue(defaulted > 0, "no row written between the expand file and phase expand has a wrong default");

        // 2. phase expand; 3. backfill, then the not_null file (which validates the CHECK twins)
        run(cmd(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "expand file applied"));
        Thread.sleep(1500); // the runbook's check: bellows status shows the instance in expand (its next heartbeat)
        String bf = run(cmd(conn, "backfill", ID, "--rules", r, "--pause", "0", "--progress", "lines"));
        assertTrue(bf.contains("verified: 0 rows diverge"), bf);
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "not_null", false));
        }
        assertEquals("t", db.query("SELECT bool_and(convalidated) FROM pg_constraint WHERE conrelid = 'orders'::regclass"
            + " AND conname IN ('orders_status_code_check', 'orders_status_code_mapped')"));
        assertEquals("2", db.query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass"
            + " AND conname IN ('orders_status_code_check', 'orders_status_code_mapped')"));

        // 4. the new version, 5. phase switch
        Load fresh = new Load(instance(db, rules, "orders-new"), false).start();
        Thread.sleep(500);
        run(cmd(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "backfill verified"));
        long switched = System.currentTimeMillis();
        Thread.sleep(3500); // the window starts 1.5 s after the switch: uses from before it are flushed by then
        legacy.stopAndJoin();
        fresh.stopAndJoin();
        legacyDs.runtime().usageRecorder().flush();
        fresh.ds.runtime().usageRecorder().flush();

        assertEquals(List.of(), legacy.errors);
        assertEquals(List.of(), fresh.errors);
        assertTrue(legacy.ops.get() > 30 && fresh.ops.get() > 30, legacy.ops + " / " + fresh.ops);
        // 6. the gate, over the time since the switch
        Gate.Result g = gate(db, Duration.ofMillis(System.currentTimeMillis() - switched - 1500));
        for (Gate.Condition c : g.conditions()) {
            if (c.id().equals("bypass") && !pgss) continue;
            assertEquals(Gate.Status.MET, c.status(), c.toString());
        }
        assertTrue(g.safe(), g.toString());
        // the old column's index and CHECK go with it: their twins (the CHECK's written through down) are valid
        String depsEv = String.join("\n", condition(g, "dependencies").evidence());
        assertTrue(depsEv.contains("orders_status_idx") && depsEv.contains("orders_status_code_idx")
            && depsEv.contains("orders_status_check") && depsEv.contains("orders_status_code_check"), depsEv);
        // and through the CLI, as the runbook runs it
        WfDb.Run cliGate = WfDb.cli(cmd(conn, "gate", ID, "--rules", r, "--window",
            (System.currentTimeMillis() - switched - 1500) + "ms", "--silent-after", "60s"));
        assertEquals(0, cliGate.exit(), cliGate.toString());
        // every row right (read by a client without Bellows, after the gate: it counts as a bypass)
        for (Load l : List.of(legacy, fresh)) {
            String ids = l.mine.keySet().stream().map(String::valueOf).collect(Collectors.joining(","));
            Map<Long, Integer> got = new java.util.HashMap<>();
            for (String row : db.rows("SELECT id, status, status_code FROM orders WHERE id IN (" + ids + ")")) {
                String[] p = row.split(" \\| ");
                assertEquals(STATUSES[Integer.parseInt(p[2]) - 1], p[1], row);
                got.put(Long.parseLong(p[0]), Integer.parseInt(p[2]) - 1);
            }
            assertEquals(l.mine, got);
        }
        assertEquals("0", db.query("SELECT count(*) FROM orders WHERE status_code IS DISTINCT FROM (" + UP + ")"));

        if (pgss) {
            // no statement of Bellows (check, backfill, flags, gate, usage flush) or of pgjdbc on its behalf is a bypass
            String ev = String.join("\n", condition(g, "bypass").evidence());
            assertTrue(ev.contains("bellows tool") && ev.contains("dual write") && ev.contains("sent as written"), ev);
            assertEquals("0", db.query("SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                + " WHERE datname = current_database()) AND query ILIKE '%PREPARE bellows_check%'"));
            // and the condition can fail: a client without Bellows (a statement no Bellows instance sent: one identical
            // to the legacy code's would share its pg_stat_statements entry)
            db.exec("SELECT customer, status FROM orders WHERE id = 1");
            Gate.Condition bypass = condition(gate(db, Duration.ofMillis(System.currentTimeMillis() - switched - 1500)), "bypass");
            assertEquals(Gate.Status.UNMET, bypass.status(), bypass.toString());
            List<String> found = bypass.evidence().subList(0, bypass.evidence().size() - 1); // the last line is the hint
            assertTrue(found.stream().anyMatch(e -> e.contains("SELECT customer, status FROM orders WHERE id = $1")), bypass.toString());
            // the only others are this test's own checks of the rows above
            assertTrue(found.stream().allMatch(e -> e.contains("SELECT customer, status FROM orders WHERE id = $1")
                || e.contains("SELECT id, status, status_code FROM orders WHERE id IN")), bypass.toString());
        }
        legacyDs.runtime().close();
        fresh.ds.runtime().close();
    }

    static Gate.Result gate(WfDb db, Duration window) throws Exception {
        return gate(db, window, null);
    }

    static Gate.Result gate(WfDb db, Duration window, Path rules) throws Exception {
        try (Connection c = db.raw()) {
            return Gate.evaluate(c, ID, new Gate.Options(window, false, Duration.ofSeconds(60),
                rules == null ? null : dev.bellows.rules.RulesFile.load(rules)));
        }
    }

    static Gate.Condition condition(Gate.Result r, String id) {
        return r.conditions().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aNullableColumnsTwinsAreValidatedInAStepOfTheirOwn() throws Exception {
        WfDb db = WfDb.create("tc_nullable");
        db.exec("CREATE TABLE orders (id bigserial PRIMARY KEY, customer text,"
                + " status text CONSTRAINT orders_status_check CHECK (status IN ('pending', 'processing', 'completed', 'cancelled')))",
            "INSERT INTO orders (customer, status) SELECT 'c' || g,"
                + " (ARRAY['pending', 'processing', 'completed', 'cancelled', NULL])[1 + g % 5] FROM generate_series(1, 50) g");
        Path rules = WfDb.rules(tmp, RULES);
        Path out = tmp.resolve("plan");
        String plan = run(cmd(db.cliConnection(), "plan", ID, "--rules", rules.toString(), "--out", out.toString()));
        assertFalse(plan.contains("by hand"), plan);
        assertEquals(List.of("orders-status-code_01_expand.sql", "orders-status-code_02_mirror.sql",
                "orders-status-code_03_validate.sql", "orders-status-code_04_contract.sql"),
            PlanTest.files(out, false).stream().map(p -> p.getFileName().toString()).toList());
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "expand", false));
            ScriptRunner.run(c, PlanTest.step(out, "mirror", false));
        }
        // the old CHECK, through down
        assertEquals("CHECK (( CASE status_code WHEN 1 THEN 'pending'::text WHEN 2 THEN 'processing'::text WHEN 3 THEN"
                + " 'completed'::text WHEN 4 THEN 'cancelled'::text ELSE NULL::text END = ANY (ARRAY['pending'::text,"
                + " 'processing'::text, 'completed'::text, 'cancelled'::text]))) NOT VALID",
            db.query("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_status_code_check'")
                .replaceAll("\\s+", " "));
        // enforced from the mirror step on, for every writer: a value down cannot map has no legacy reading
        try (Connection c = db.raw()) {
            assertEquals("23514", fails(c, "UPDATE orders SET status_code = 9 WHERE id = 1").getSQLState());
        }
        run(cmd(db.cliConnection(), "backfill", ID, "--rules", rules.toString(), "--pause", "0", "--force"));
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "validate", false));
            ScriptRunner.run(c, PlanTest.step(out, "validate", false)); // idempotent
        }
        assertEquals("2", db.query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND convalidated"
            + " AND conname IN ('orders_status_code_check', 'orders_status_code_mapped')"));
        assertEquals("10", db.query("SELECT count(*) FROM orders WHERE status_code IS NULL"));
        assertEquals(Gate.Status.MET, condition(gate(db, Duration.ofSeconds(10), rules), "backfill").status());
        // a value up cannot map in a nullable column leaves the new column NULL: NULL = NULL must not pass the gate
        db.exec("ALTER TABLE orders DROP CONSTRAINT orders_status_check",
            "INSERT INTO orders (customer, status) VALUES ('legacy', 'on_hold')");
        Gate.Condition backfill = condition(gate(db, Duration.ofSeconds(10), rules), "backfill");
        assertEquals(Gate.Status.UNMET, backfill.status(), backfill.toString());
        assertTrue(backfill.evidence().get(0).startsWith("1 of 51 rows"), backfill.toString());
    }

    // ------------------------------------------------------------------ unmapped values

    @Test
    void unmappedValuesAreRefusedInEveryPhaseInTheWritersTerms() throws Exception {
        WfDb db = orders("tc_unmapped", 20);
        Path rules = WfDb.rules(tmp, RULES);
        Path out = tmp.resolve("plan");
        run(cmd(db.cliConnection(), "plan", ID, "--rules", rules.toString(), "--out", out.toString()));
        try (Connection c = db.raw()) {
            for (String step : List.of("expand", "mirror")) ScriptRunner.run(c, PlanTest.step(out, step, false));
        }
        BellowsDataSource ds = instance(db, rules, "unmapped");
        ds.runtime().setPhase(ID, dev.bellows.rules.Phase.EXPAND);
        run(cmd(db.cliConnection(), "backfill", ID, "--rules", rules.toString(), "--pause", "0", "--force"));
        // before not_null, status is still NOT NULL: the dual write's status = down(9) is NULL, said in the writer's terms
        try (Connection c = ds.getConnection()) {
            SQLException e = fails(c, "UPDATE orders SET status_code = 9 WHERE id = 1");
            assertEquals("23502", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().startsWith("bellows: migration '" + ID + "': the value written to public.orders.status_code"
                + " has no mapping back to status"), e.getMessage());
        }
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, PlanTest.step(out, "not_null", false));
        }
        String data = db.query("SELECT md5(string_agg(id || ':' || coalesce(status, '-') || ':' || status_code, ',' ORDER BY id)) FROM orders");
        for (dev.bellows.rules.Phase p : dev.bellows.rules.Phase.values()) {
            ds.runtime().setPhase(ID, p);
            try (Connection c = ds.getConnection()) {
                // new code: 9 has no legacy reading (down gives NULL)
                SQLException e = fails(c, "UPDATE orders SET status_code = 9 WHERE id = 1");
                assertTrue(e.getSQLState().equals("23514") || e.getSQLState().equals("23502"), p + ": " + e);
                e = fails(c, "INSERT INTO orders (customer, status_code) VALUES ('n', 9)");
                assertTrue(e.getSQLState().equals("23514") || e.getSQLState().equals("23502"), p + ": " + e);
                if (p == dev.bellows.rules.Phase.OFF) continue; // legacy writes are dual writes from expand on
                // legacy code: 'on_hold' has no mapping through up
                e = fails(c, "INSERT INTO orders (customer, status) VALUES ('l', 'on_hold')");
                assertEquals("23502", e.getSQLState(), p + ": " + e);
                assertTrue(e.getMessage().startsWith("bellows: migration '" + ID + "': the value written to public.orders.status"
                    + " has no mapping to status_code"), p + ": " + e.getMessage());
                assertFalse(e.getMessage().contains("on_hold"), e.getMessage());
                try (PreparedStatement ps = c.prepareStatement("UPDATE orders SET status = ? WHERE id = ?")) {
                    ps.setString(1, "on_hold");
                    ps.setLong(2, 2);
                    SQLException pe = null;
                    try {
                        ps.executeUpdate();
                    } catch (SQLException x) {
                        pe = x;
                    }
                    assertNotNull(pe, p.toString());
                    assertEquals("23502", pe.getSQLState());
                    assertTrue(pe.getMessage().contains("has no mapping to status_code"), pe.getMessage());
                    assertFalse(pe.getMessage().contains("on_hold"), pe.getMessage());
                }
            }
        }
        assertEquals(data, db.query("SELECT md5(string_agg(id || ':' || coalesce(status, '-') || ':' || status_code, ',' ORDER BY id)) FROM orders"));
        ds.runtime().close();
    }

    static SQLException fails(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        } catch (SQLException e) {
            return e;
        }
        throw new AssertionError("accepted: " + sql);
    }
}
