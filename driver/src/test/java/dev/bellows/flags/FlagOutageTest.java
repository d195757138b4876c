package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * The flag source goes away (the embedded server is stopped; on another server the database refuses
 * connections and the listener is terminated): every instance keeps the last known phase and logs that it
 * does, an instance that starts meanwhile uses its local phases and says so, and both follow the flags again
 * once the database is back.
 */
class FlagOutageTest {
    private static final String ID = "leads-email";

    @Test
    void anUnreachableFlagSourceKeepsTheLastKnownPhaseLogsItAndRecovers() throws Exception {
        try (FlagsDb db = FlagsDb.create("outage", FlagsDb.leadsRules("expand"));
             FlagsDb.LogCapture log = new FlagsDb.LogCapture()) {
            db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)",
                "INSERT INTO leads (name, user_email, email) VALUES ('ann', 'old', 'new')");
            BellowsDataSource ds = db.instance("outage", "bellows.flags.poll", "1s");
            BellowsRuntime runtime = ds.runtime();
            FlagWatcher watcher = FlagWatcher.of(runtime);
            db.setFlag(ID, Phase.SWITCH);
            FlagsDb.awaitPhase(runtime, ID, Phase.SWITCH, 1_000);

            // -Dbellows.test.outage=terminate takes the path used on other servers with the embedded one too.
            boolean embedded = "embedded".equals(db.fixture.kind()) && !"terminate".equals(System.getProperty("bellows.test.outage"));
            String dbName = db.pgUrl.substring(db.pgUrl.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
            BellowsRuntime late;
            outage(db, embedded, dbName, true);
            try {
                FlagsDb.await("the watcher to notice the outage", 10_000, () -> !watcher.flagSourceReachable());
                FlagsDb.await("the outage to be logged", 2_000, () -> log.has(Level.WARNING, "is unreachable",
                    "keeping the last known phases: leads-email=switch (database flag)"));
                Thread.sleep(2_500); // several reconnects fail meanwhile
                assertEquals(Phase.SWITCH, FlagsDb.phase(runtime, ID), "the last known phase stays in force");
                assertFalse(watcher.flagSourceReachable());

                // An instance that starts now cannot read the flags: it runs on its local phases and says so.
                late = db.instance("outage-late", "bellows.flags.poll", "1s").runtime();
                assertEquals(Phase.EXPAND, FlagsDb.phase(late, ID));
                assertTrue(log.has(Level.WARNING, "outage-late", "unreachable at start", "leads-email=expand (rules file)"),
                    log.dump());
            } finally {
                outage(db, embedded, dbName, false);
            }

            // Changed as soon as the database is back, most likely before the watchers reconnect: they read it then.
            db.setFlag(ID, Phase.EXPAND);
            FlagsDb.awaitPhase(runtime, ID, Phase.EXPAND, 5_000);
            FlagsDb.await("the instance started during the outage to follow the flag", 5_000,
                () -> FlagsDb.phase(late, ID) == Phase.EXPAND && FlagWatcher.of(late).flagSourceReachable());
            FlagsDb.await("the recovery to be logged", 2_000, () -> log.has(Level.INFO, "reachable again"));
            assertTrue(watcher.flagSourceReachable());

            // Notifications flow again, and statements run.
            db.setFlag(ID, Phase.SWITCH);
            FlagsDb.awaitPhase(runtime, ID, Phase.SWITCH, 1_000);
            FlagsDb.awaitPhase(late, ID, Phase.SWITCH, 1_000);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT user_email FROM leads")) {
                assertTrue(rs.next());
                assertEquals("new", rs.getString(1));
            }
            System.out.println("flag outage (" + db.fixture.kind() + " server):\n" + log.dump());
        }
    }

    /** Makes the flag source unreachable ({@code down}) or reachable again. */
    private static void outage(FlagsDb db, boolean embedded, String dbName, boolean down) throws Exception {
        if (embedded) {
            if (down) db.fixture.stop();
            else db.fixture.start();
            return;
        }
        try (Connection c = db.fixture.connect(db.fixture.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE \"" + dbName + "\" ALLOW_CONNECTIONS " + !down);
            if (down) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + dbName + "'"
                    + " AND application_name LIKE 'bellows-flags%'");
            }
        }
    }
}
