package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.testing.Pgbouncer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §2: {@code bellows.flags.mode=check} (the default). No connection is held for flags; a statement that
 * starts once the phases are older than {@code bellows.flags.staleness} reads {@code bellows.flags} on its own
 * connection first and runs in the new phase, forward and back; inside a transaction (open or aborted) a
 * connection never reads them, and follows at its next transaction unless another connection of the instance
 * moved the runtime (then, as in listen mode, the next statement runs in the new phase); through pgbouncer in
 * transaction pooling it works the same; a quiet instance follows by the fallback poll.
 *
 * <p>Row {@code id = 1} has {@code user_email = 'old'} and {@code email = 'new'}, so a read of {@code user_email}
 * through Bellows shows the phase it ran in: {@code old} in off and expand, {@code new} in switch and contract.
 */
class FlagCheckTest {
    private static final String ID = "leads-email";
    private static FlagsDb db;

    @BeforeAll
    static void setUp() throws Exception {
        db = FlagsDb.create("flag_check", FlagsDb.leadsRules("expand"));
        db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, email text)",
            "INSERT INTO leads VALUES (1, 'old', 'new')");
        db.setFlag(ID, Phase.EXPAND);
    }

    @AfterAll
    static void tearDown() throws Exception {
        db.close();
    }

    private static BellowsDataSource instance(String app, String... more) throws SQLException {
        String[] settings = new String[more.length + 6];
        settings[0] = "bellows.flags.staleness";
        settings[1] = "200ms";
        settings[2] = "bellows.usage";
        settings[3] = "off";
        settings[4] = "bellows.flags.mode"; // the default, given because the driver's surefire sets listen for older tests
        settings[5] = "check";
        System.arraycopy(more, 0, settings, 6, more.length);
        return db.instance(app, settings);
    }

    /** Stops the instance's watcher (its fallback poll would show in the next test's connection count). */
    private static void done(BellowsDataSource ds) throws SQLException {
        FlagWatcher w = FlagWatcher.of(ds.runtime());
        if (w != null) w.close();
        db.setFlag(ID, Phase.EXPAND);
    }

    private static String read(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT user_email FROM leads WHERE id = 1")) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    private static FlagCheck check(BellowsDataSource ds) throws SQLException {
        FlagCheck c = FlagWatcher.of(ds.runtime()).check();
        assertNotNull(c, "check mode is the default");
        return c;
    }

    /** After a flip, waits until the instance's phases are stale, so the next statement must read them first. */
    private static void flipAndAwaitStale(BellowsDataSource ds, Phase to) throws SQLException {
        db.setFlag(ID, to);
        FlagCheck c = check(ds);
        FlagsDb.await("the phases to be older than the staleness bound", 5_000, c::stale);
    }

    @Test
    void aStatementAfterTheBoundRunsInTheNewPhaseForwardAndBackWithNoFlagConnection() throws Exception {
        String since = db.query("SELECT now()::text");
        BellowsDataSource ds = instance("check-a");
        try (Connection c = ds.getConnection()) {
            assertEquals("old", read(c));
            assertNull(db.query("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
                + " AND application_name LIKE 'bellows-flags%'"), "no flag connection");
            assertEquals("1", db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid() AND backend_start >= '" + since + "'"),
                "the instance holds only the application's connection");
            for (Phase to : new Phase[] {Phase.SWITCH, Phase.EXPAND, Phase.SWITCH}) {
                flipAndAwaitStale(ds, to);
                assertEquals(to == Phase.SWITCH ? "new" : "old", read(c), "the first statement after the bound, " + to);
                assertEquals(to, FlagsDb.phase(ds.runtime(), ID));
            }
        } finally {
            done(ds);
        }
    }

    @Test
    void aTransactionInProgressKeepsItsPhaseUntilItEndsOrAnotherConnectionMovesTheInstance() throws Exception {
        BellowsDataSource ds = instance("check-tx");
        try (Connection tx = ds.getConnection(); Connection other = ds.getConnection()) {
            tx.setAutoCommit(false);
            assertEquals("old", read(tx));
            flipAndAwaitStale(ds, Phase.SWITCH);
            // inside the transaction the connection does not read the flags (nor abort or snapshot anything)
            assertEquals("old", read(tx));
            assertEquals(Phase.EXPAND, FlagsDb.phase(ds.runtime(), ID));
            // another connection of the instance, outside a transaction, reads them and moves the runtime;
            // the transaction's next statement then runs in the new phase, as with LISTEN
            assertEquals("new", read(other));
            assertEquals("new", read(tx));
            tx.commit();

            flipAndAwaitStale(ds, Phase.EXPAND);
            // a transaction's first statement reads them first, in auto-commit: the transaction stays the application's
            try (Statement s = tx.createStatement()) {
                s.executeUpdate("INSERT INTO leads (id, user_email) VALUES (2, 'two@example.com')");
            }
            assertEquals(Phase.EXPAND, FlagsDb.phase(ds.runtime(), ID));
            assertFalse(tx.getAutoCommit());
            assertNull(db.query("SELECT id FROM leads WHERE id = 2"), "not committed by the check");
            tx.rollback();
            assertNull(db.query("SELECT id FROM leads WHERE id = 2"), "the rollback undid the insert");
        } finally {
            done(ds);
        }
    }

    @Test
    void anAbortedTransactionGetsItsOwnErrorAndFollowsAfterTheRollback() throws Exception {
        BellowsDataSource ds = instance("check-abort");
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            assertEquals("old", read(c));
            try (Statement s = c.createStatement()) {
                assertThrows(SQLException.class, () -> s.execute("SELECT 1 / 0"));
            }
            flipAndAwaitStale(ds, Phase.SWITCH);
            SQLException aborted = assertThrows(SQLException.class, () -> read(c));
            assertEquals("25P02", aborted.getSQLState(), "the application's own error, nothing of Bellows'");
            c.rollback();
            assertEquals("new", read(c), "the next transaction's first statement reads the flags");
            c.commit();
        } finally {
            done(ds);
        }
    }

    @Test
    void aQuietInstanceFollowsByTheFallbackPoll() throws Exception {
        BellowsDataSource ds = instance("check-quiet", "bellows.flags.poll", "300ms");
        try (Connection c = ds.getConnection()) {
            assertEquals("old", read(c));
            db.setFlag(ID, Phase.SWITCH);
            // no statement runs: only the watcher's short-lived read can move it
            FlagsDb.awaitPhase(ds.runtime(), ID, Phase.SWITCH, 10_000);
            assertNull(db.query("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
                + " AND application_name LIKE 'bellows-flags%'"), "the fallback's connection is closed after its read");
        } finally {
            done(ds);
        }
    }

    @Test
    void throughPgbouncerInTransactionPooling() throws Exception {
        Pgbouncer bouncer = Pgbouncer.get();
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(bouncer.behind(db.pgUrl));
        ds.setUser(db.fixture.user());
        ds.setPassword(db.fixture.password());
        ds.setRules(db.rules.toString());
        ds.setAppName("check-bouncer");
        ds.setFlagsMode("check");
        ds.setFlagsStaleness("200ms");
        ds.setFlagsPoll("1m"); // so only statements' checks can bring the change
        ds.setProperty("bellows.usage", "off");
        db.track(ds);
        try (Connection c = ds.getConnection()) {
            assertEquals("old", read(c));
            for (Phase to : new Phase[] {Phase.SWITCH, Phase.EXPAND}) {
                flipAndAwaitStale(ds, to);
                assertEquals(to == Phase.SWITCH ? "new" : "old", read(c), "through pgbouncer, " + to);
            }
        } finally {
            done(ds);
        }
    }
}
