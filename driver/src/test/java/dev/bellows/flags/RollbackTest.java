package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rolling back from any phase to the previous one loses no data. Legacy code (the old column) and new code
 * (the new column) write through the driver in each phase; after each step back (with {@code bellows flags
 * set}) every value reads back right through both, and the two columns agree in the table itself.
 */
class RollbackTest {
    private FlagsDb db;
    private BellowsRuntime runtime;
    private BellowsDataSource ds;
    private String id;
    /** name → the value every reader must see. */
    private final Map<String, String> expected = new LinkedHashMap<>();

    @AfterEach
    void tearDown() throws SQLException {
        if (db != null) db.close();
    }

    // ------------------------------------------------------------------ a rename

    @Test
    void everyStepBackOfARenameKeepsEveryValue() throws Exception {
        id = "leads-email";
        db = FlagsDb.create("rollback", FlagsDb.leadsRules("off"));
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text UNIQUE, user_email text, email text)");
        ds = db.instance("rollback");
        runtime = ds.runtime();

        write("INSERT INTO leads (name, user_email) VALUES (?, ?)", "a", "a1"); // off: legacy code only
        write("INSERT INTO leads (name, user_email) VALUES (?, ?)", "b", "b1");
        verify(false);

        move(Phase.EXPAND);
        backfill();
        writesInEveryForm();
        verify(true);
        assertConsistent();

        move(Phase.OFF); // back from expand
        verify(true);
        assertConsistent();
        write("INSERT INTO leads (name, user_email) VALUES (?, ?)", "off2", "o1");
        write("UPDATE leads SET user_email = ? WHERE name = ?", "a", "a-off");
        verify(false);

        move(Phase.EXPAND);
        backfill(); // after a spell in off the new column must be filled again before switch
        move(Phase.SWITCH);
        writesInEveryForm();
        verify(true);
        assertConsistent();

        move(Phase.EXPAND); // back from switch
        assertTrue(db.out.contains("copied 0 rows"), db.out); // switch wrote both columns
        verify(true);
        assertConsistent();
        writesInEveryForm();
        verify(true);

        move(Phase.SWITCH);
        db.cli("flags", "set", id, "contract", "--rules", db.rules.toString(), "--force", "--reason", "rollback test");
        FlagsDb.awaitPhase(runtime, id, Phase.CONTRACT, 1_000);
        writesInEveryForm(); // contract writes the new column only
        verify(true);
        int stale = Integer.parseInt(db.query("SELECT count(*) FROM leads WHERE user_email IS DISTINCT FROM email"));
        assertEquals(4, stale, "contract wrote 4 rows to the new column only");

        move(Phase.SWITCH); // back from contract: the old column is brought back in line in the same transaction
        assertTrue(db.out.contains("copied 4 rows of public.leads.email back into user_email"), db.out);
        verify(true);
        assertConsistent();
        writesInEveryForm();

        move(Phase.EXPAND);
        verify(true);
        assertConsistent();
        move(Phase.OFF);
        verify(true);
        assertConsistent();
        assertEquals("0", db.query("SELECT count(*) FROM leads WHERE user_email IS NULL"));
    }

    private int round;

    /** Legacy and new code insert a row each and update an existing row each. */
    private void writesInEveryForm() throws SQLException {
        round++;
        List<String> names = new ArrayList<>(expected.keySet());
        write("INSERT INTO leads (name, user_email) VALUES (?, ?)", "legacy" + round, "l" + round);
        write("INSERT INTO leads (name, email) VALUES (?, ?)", "new" + round, "n" + round);
        write("UPDATE leads SET user_email = ? WHERE name = ?", names.get(0), names.get(0) + "-u" + round);
        write("UPDATE leads SET email = ? WHERE name = ?", names.get(1), names.get(1) + "-v" + round);
    }

    private void assertConsistent() throws SQLException {
        assertEquals("0", db.query("SELECT count(*) FROM leads WHERE user_email IS DISTINCT FROM email"),
            "old and new column agree in every row");
    }

    /** What {@code bellows backfill} does: the new column computed from the old one. */
    private void backfill() throws SQLException {
        db.exec("UPDATE leads SET email = user_email WHERE email IS DISTINCT FROM user_email");
    }

    // ------------------------------------------------------------------ a type change

    @Test
    void stepsBackFromContractOfATypeChangeUseDown() throws Exception {
        id = "orders-status";
        db = FlagsDb.create("rollbacktype", "migrations:\n"
            + "  - id: orders-status\n"
            + "    table: orders\n"
            + "    from: status\n"
            + "    to: status_code\n"
            + "    up: \"CASE status WHEN 'pending' THEN 1 WHEN 'done' THEN 2 END\"\n"
            + "    down: \"CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'done' END\"\n"
            + "    phase: expand\n");
        db.exec("CREATE TABLE orders (id serial PRIMARY KEY, name text UNIQUE, status text, status_code int)",
            "INSERT INTO orders (name, status, status_code) VALUES ('o1', 'pending', 1), ('o2', 'pending', 1)");
        ds = db.instance("rollbacktype");
        runtime = ds.runtime();
        move(Phase.SWITCH);
        move(Phase.CONTRACT, "--force");
        try (Connection c = ds.getConnection()) {
            update(c, "UPDATE orders SET status = ? WHERE name = ?", "done", "o1"); // legacy code
            try (PreparedStatement ps = c.prepareStatement("UPDATE orders SET status_code = ? WHERE name = ?")) { // new code
                ps.setInt(1, 2);
                ps.setString(2, "o2");
                assertEquals(1, ps.executeUpdate());
            }
        }
        assertEquals("2", db.query("SELECT count(*) FROM orders WHERE status = 'pending'"), "contract left status behind");

        move(Phase.SWITCH);
        assertTrue(db.out.contains("copied 2 rows"), db.out);
        assertEquals("0", db.query("SELECT count(*) FROM orders WHERE status IS DISTINCT FROM"
            + " CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'done' END"));
        move(Phase.EXPAND);
        try (Connection c = ds.getConnection(); PreparedStatement legacy = c.prepareStatement("SELECT status FROM orders WHERE name = ?");
             PreparedStatement modern = c.prepareStatement("SELECT status_code FROM orders WHERE name = ?")) {
            for (String name : List.of("o1", "o2")) {
                legacy.setString(1, name);
                modern.setString(1, name);
                assertEquals("done", one(legacy), name + " through legacy code");
                assertEquals("2", one(modern), name + " through new code");
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private void move(Phase to, String... extra) {
        // flags set off checks that no live instance runs new code, by the uses of user_email each application has
        // reported since it started: this instance runs both versions, so let it report as it would within a flush
        if (to == Phase.OFF) runtime.usageRecorder().flush();
        List<String> args = new ArrayList<>(List.of("flags", "set", id, to.label(), "--rules", db.rules.toString()));
        args.addAll(List.of(extra));
        assertEquals(0, db.cli(args.toArray(new String[0])), db.err);
        FlagsDb.awaitPhase(runtime, id, to, 1_000);
    }

    /** Runs an INSERT or UPDATE of (name, value) through the driver and remembers the value. */
    private void write(String sql, String name, String value) throws SQLException {
        try (Connection c = ds.getConnection()) {
            if (sql.startsWith("INSERT")) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, name);
                    ps.setString(2, value);
                    assertEquals(1, ps.executeUpdate());
                }
            } else {
                update(c, sql, value, name);
            }
        }
        expected.put(name, value);
    }

    private static void update(Connection c, String sql, String value, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            ps.setString(2, name);
            assertEquals(1, ps.executeUpdate(), sql);
        }
    }

    /** Every value reads back through legacy code, and through new code when it may run (not in off). */
    private void verify(boolean newCode) throws SQLException {
        Phase phase = FlagsDb.phase(runtime, id);
        try (Connection c = ds.getConnection();
             PreparedStatement legacy = c.prepareStatement("SELECT user_email FROM leads WHERE name = ?");
             PreparedStatement modern = c.prepareStatement("SELECT email FROM leads WHERE name = ?")) {
            for (Map.Entry<String, String> e : expected.entrySet()) {
                legacy.setString(1, e.getKey());
                assertEquals(e.getValue(), one(legacy), e.getKey() + " through legacy code in " + phase.label());
                if (newCode) {
                    modern.setString(1, e.getKey());
                    assertEquals(e.getValue(), one(modern), e.getKey() + " through new code in " + phase.label());
                }
            }
        }
    }

    private static String one(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }
}
