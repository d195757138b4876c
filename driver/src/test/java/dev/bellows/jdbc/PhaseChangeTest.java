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
