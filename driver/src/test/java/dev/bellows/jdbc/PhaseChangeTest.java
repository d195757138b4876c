package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGStatement;

/**
 * A statement prepared before a phase change takes the new phase at its next execute, never in the middle
 * of one; the catalog follows DDL run through the driver. Tests marked "engine" need the rewriter engine.
 */
class PhaseChangeTest {
    private TestDb db;
    private Connection conn;
    private BellowsRuntime runtime;

    @BeforeEach
    void setUp() throws SQLException {
        // A database per test: the runtime is shared per configuration, and phases are its state.
        db = TestDb.create("phase");
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)",
            "INSERT INTO leads (name, user_email, email) VALUES ('ann', 'old@example.com', 'new@example.com')");
        conn = db.connect();
        runtime = conn.unwrap(BellowsConnection.class).runtime();
        runtime.setRules(RuleSet.of(Migration.rename("leads-email", "leads", "user_email", "email", Phase.EXPAND)));
    }

    @AfterEach
    void tearDown() throws SQLException {
        conn.close();
    }

    private static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getString("user_email");
        }
    }

    @Test
    void phaseChangesReplaceTheRewriter() {
        int before = runtime.version();
        runtime.setPhase("leads-email", Phase.SWITCH);
        assertTrue(runtime.version() > before);
        assertEquals(Phase.SWITCH, runtime.rules().get("leads-email").phase());
        assertThrows(IllegalArgumentException.class, () -> runtime.setPhase("no-such-migration", Phase.SWITCH));
    }

    @Test // engine
    void selectPreparedInExpandReadsTheNewColumnAfterSwitch() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT user_email FROM leads WHERE name = ?")) {
            ps.setString(1, "ann");
            assertEquals("old@example.com", single(ps));
            runtime.setPhase("leads-email", Phase.SWITCH);
            assertEquals("new@example.com", single(ps)); // same statement, same parameters, no re-prepare by the app
            runtime.setPhase("leads-email", Phase.EXPAND);
            assertEquals("old@example.com", single(ps));
        }
    }

    @Test // engine
    void insertPreparedInSwitchSurvivesContractAndTheDrop() throws SQLException {
        runtime.setPhase("leads-email", Phase.SWITCH);
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)")) {
            ps.setString(1, "bo");
            ps.setString(2, "bo@example.com"); // bound before the phase change, replayed after it
            runtime.setPhase("leads-email", Phase.CONTRACT);
            try (Statement s = conn.createStatement()) {
                s.execute("ALTER TABLE leads DROP COLUMN user_email"); // DDL through the driver refreshes the catalog
            }
            assertEquals(List.of("id", "name", "email"), runtime.catalog().columns("public", "leads"));
            assertEquals(1, ps.executeUpdate());
        }
        assertEquals("bo@example.com", db.query("SELECT email FROM leads WHERE name = 'bo'"));
    }

    @Test // engine
    void pendingBatchIsReplayedOnTheNewStatement() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)")) {
            ps.setString(1, "c1");
            ps.setString(2, "c1@example.com");
            ps.addBatch();
            ps.setString(1, "c2");
            ps.setString(2, "c2@example.com");
            ps.addBatch();
            runtime.setPhase("leads-email", Phase.CONTRACT);
            db.exec("ALTER TABLE leads DROP COLUMN user_email"); // outside the driver: refresh on demand
            runtime.refreshCatalog();
            assertArrayEquals(new int[] {1, 1}, ps.executeBatch());
        }
        assertEquals("2", db.query("SELECT count(*) FROM leads WHERE email LIKE 'c_@example.com'"));
    }

    @Test // engine
    void streamsBoundBeforeThePhaseChangeAreReplayed() throws SQLException {
        runtime.setPhase("leads-email", Phase.SWITCH);
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)")) {
            ps.setCharacterStream(1, new ParameterPlanTest.OnceReader("dee")); // pgjdbc reads readers at once
            ps.setCharacterStream(2, new ParameterPlanTest.OnceReader("dee@example.com"));
            runtime.setPhase("leads-email", Phase.CONTRACT);
            assertEquals(1, ps.executeUpdate());
        }
        assertEquals("dee@example.com", db.query("SELECT email FROM leads WHERE name = 'dee'"));
        assertEquals(null, db.query("SELECT user_email FROM leads WHERE name = 'dee'"));
    }

    @Test // engine
    void typedParametersBoundBeforeThePhaseChangeAreReplayed() throws SQLException {
        // setters recorded as kind and value (Parameters), not as lambdas: each kind must replay as itself
        String sql = "SELECT ?::int, ?::bigint, ?::smallint, ?::boolean, ?::float8, ?::float4, ?::numeric, ?::text,"
            + " ?::timestamp, ?::date, ?::bytea, ?::text, ?::int, user_email FROM leads WHERE name = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setInt(1, -7);
            ps.setLong(2, 1L << 40);
            ps.setShort(3, (short) 12);
            ps.setBoolean(4, true);
            ps.setDouble(5, 2.5);
            ps.setFloat(6, 0.25f);
            ps.setBigDecimal(7, new java.math.BigDecimal("123.450"));
            ps.setString(8, "text");
            ps.setTimestamp(9, java.sql.Timestamp.valueOf("2026-12-07 10:11:12"));
            ps.setDate(10, java.sql.Date.valueOf("2026-12-07"));
            ps.setBytes(11, new byte[] {1, 2, 3});
            ps.setNull(12, java.sql.Types.VARCHAR);
            ps.setObject(13, 99);
            ps.setString(14, "ann");
            PGStatement before = ps.unwrap(PGStatement.class);
            runtime.setPhase("leads-email", Phase.SWITCH);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(-7, rs.getInt(1));
                assertEquals(1L << 40, rs.getLong(2));
                assertEquals(12, rs.getShort(3));
                assertTrue(rs.getBoolean(4));
                assertEquals(2.5, rs.getDouble(5));
                assertEquals(0.25f, rs.getFloat(6));
                assertEquals(new java.math.BigDecimal("123.450"), rs.getBigDecimal(7));
                assertEquals("text", rs.getString(8));
                assertEquals(java.sql.Timestamp.valueOf("2026-12-07 10:11:12"), rs.getTimestamp(9));
                assertEquals(java.sql.Date.valueOf("2026-12-07"), rs.getDate(10));
                assertArrayEquals(new byte[] {1, 2, 3}, rs.getBytes(11));
                assertEquals(null, rs.getString(12));
                assertEquals(99, rs.getInt(13));
                assertEquals("new@example.com", rs.getString("user_email")); // switch reads the new column
            }
            assertNotSame(before, ps.unwrap(PGStatement.class), "prepared again, parameters replayed");
        }
    }

    @Test // engine
    void aClosedStatementsParametersNeverReachTheNextOne() throws SQLException {
        // a closed statement hands its parameter arrays to the connection's next statement: cleared, never shared
        String sql = "UPDATE leads SET user_email = ? WHERE name = ?"; // expand: parameter 1 feeds two columns
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setString(1, "stale@example.com");
            ps.setString(2, "ann");
            assertEquals(1, ps.executeUpdate());
        }
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setString(2, "ann");
            SQLException e = assertThrows(SQLException.class, ps::executeUpdate);
            assertTrue(e.getMessage().contains("No value specified for parameter"), e.getMessage());
        }
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setString(2, "ann");
            runtime.setPhase("leads-email", Phase.SWITCH); // prepared again: nothing recorded to replay for 1
            assertThrows(SQLException.class, ps::executeUpdate);
        }
        assertEquals("stale@example.com", db.query("SELECT email FROM leads WHERE name = 'ann'"));
    }

    @Test // engine
    void twoOpenStatementsOfTheSameSqlKeepTheirOwnParametersAcrossAPhaseChange() throws SQLException {
        // prepareStatement(sql) reuses one request and plan per connection and SQL; the statements stay apart
        db.exec("INSERT INTO leads (name, user_email, email) VALUES ('bo', 'bo-old@example.com', 'bo@example.com')");
        String sql = "SELECT user_email FROM leads WHERE name = ?";
        try (PreparedStatement a = conn.prepareStatement(sql); PreparedStatement b = conn.prepareStatement(sql)) {
            a.setString(1, "ann");
            b.setString(1, "bo");
            assertEquals("old@example.com", single(a));
            assertEquals("bo-old@example.com", single(b));
            runtime.setPhase("leads-email", Phase.SWITCH);
            assertEquals("bo@example.com", single(b));
            assertEquals("new@example.com", single(a));
        }
    }

    @Test // engine
    void statementSettingsSurviveThePrepareAgain() throws SQLException {
        db.exec("INSERT INTO leads (name, user_email, email) SELECT 'x' || g, 'o', 'n' FROM generate_series(1, 5) g");
        try (PreparedStatement ps = conn.prepareStatement("SELECT user_email FROM leads WHERE name LIKE 'x%'")) {
            ps.setMaxRows(2);
            ps.setFetchSize(1);
            PGStatement before = ps.unwrap(PGStatement.class);
            runtime.setPhase("leads-email", Phase.SWITCH);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    assertEquals("n", rs.getString(1));
                    n++;
                }
            }
            assertEquals(2, n);
            assertEquals(1, ps.getFetchSize());
            assertNotSame(before, ps.unwrap(PGStatement.class));
        }
    }

    @Test
    void statementsTheRewriteDoesNotChangeKeepTheirServerStatement() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT name FROM leads WHERE name = ?")) {
            ps.setString(1, "ann");
            PGStatement before = ps.unwrap(PGStatement.class);
            runtime.setPhase("leads-email", Phase.SWITCH);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("ann", rs.getString(1));
            }
            assertSame(before, ps.unwrap(PGStatement.class));
        }
    }

    @Test
    void ddlThroughTheDriverRefreshesTheCatalog() throws SQLException {
        assertEquals(List.of("id", "name", "user_email", "email"), runtime.catalog().columns("public", "leads"));
        try (Statement s = conn.createStatement()) {
            s.execute("/* migration */ ALTER TABLE leads ADD COLUMN note text");
        }
        assertEquals(List.of("id", "name", "user_email", "email", "note"), runtime.catalog().columns("public", "leads"));
        try (PreparedStatement ps = conn.prepareStatement("CREATE TABLE contacts (id int, email text)")) {
            ps.execute();
        }
        assertEquals(List.of("id", "email"), runtime.catalog().columns("public", "contacts"));
    }

    @Test
    void ddlInsideATransactionRefreshesAfterCommitOnly() throws SQLException {
        conn.setAutoCommit(false);
        try (Statement s = conn.createStatement()) {
            s.execute("ALTER TABLE leads ADD COLUMN rolled_back text");
            conn.rollback();
            assertFalse(runtime.catalog().columns("public", "leads").contains("rolled_back"));
            s.execute("ALTER TABLE leads ADD COLUMN kept text");
            assertFalse(runtime.catalog().columns("public", "leads").contains("kept"));
            conn.commit();
        }
        assertTrue(runtime.catalog().columns("public", "leads").contains("kept"));
        // The catalog read after commit must not leave a transaction open on the application's connection.
        assertEquals("IDLE", ((org.postgresql.core.BaseConnection) conn.unwrap(org.postgresql.PGConnection.class))
            .getTransactionState().name());
        conn.setAutoCommit(true);
    }

    @Test
    void ordinaryStatementsNeverReadTheCatalog() throws SQLException {
        int version = runtime.version();
        try (Statement s = conn.createStatement()) {
            for (int i = 0; i < 20; i++) s.executeQuery("SELECT name FROM leads").close();
            s.executeUpdate("UPDATE leads SET name = name");
        }
        assertEquals(version, runtime.version());
    }

    @Test
    void newRulesReadTheCatalogTheyNeed() throws SQLException {
        db.exec("CREATE TABLE orders (id int, status text, state text)");
        runtime.setRules(RuleSet.of(Migration.rename("orders-state", "orders", "status", "state", Phase.EXPAND)));
        assertEquals(List.of("id", "status", "state"), runtime.catalog().columns("public", "orders"));
    }
}
