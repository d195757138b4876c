package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * The rules file is watched: a valid change is installed, an invalid one is rejected with an error naming
 * file and line while the last good rules stay in force; the phase sources keep their precedence throughout.
 */
class RulesFileWatchTest {
    private static final String ORDERS = "  - id: orders-state\n"
        + "    table: orders\n"
        + "    from: status\n"
        + "    to: state\n"
        + "    phase: switch\n";

    private static String read(BellowsDataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    @Test
    void validChangesAreInstalledInvalidOnesRejectedAndTheLastGoodRulesStay() throws Exception {
        try (FlagsDb db = FlagsDb.create("rulesfile", FlagsDb.leadsRules("expand"));
             FlagsDb.LogCapture log = new FlagsDb.LogCapture()) {
            db.exec("CREATE TABLE leads (id serial PRIMARY KEY, user_email text, email text)",
                "INSERT INTO leads (user_email, email) VALUES ('old', 'new')",
                "CREATE TABLE orders (id serial PRIMARY KEY, status text, state text)",
                "INSERT INTO orders (status, state) VALUES ('old-status', 'new-state')");
            BellowsDataSource ds = db.instance("rulesfile", "bellows.rules.poll", "200ms");
            BellowsRuntime runtime = ds.runtime();
            assertEquals("old", read(ds, "SELECT user_email FROM leads"));

            // A valid change: another phase, and a migration on a table the catalog was not read for.
            db.writeRules(FlagsDb.leadsRules("switch") + ORDERS);
            FlagsDb.await("the changed file to be installed", 3_000,
                () -> runtime.rules().get("orders-state") != null && FlagsDb.phase(runtime, "leads-email") == Phase.SWITCH);
            assertEquals("new", read(ds, "SELECT user_email FROM leads"));
            assertEquals("new-state", read(ds, "SELECT status FROM orders"));
            RuleSet good = runtime.rules();
            int version = runtime.version();

            // An invalid change: rejected, with file and line; the last good rules stay in force.
            db.writeRules(FlagsDb.leadsRules("swich"));
            FlagsDb.await("the invalid file to be rejected", 3_000, () -> log.has(Level.SEVERE,
                db.rules + ":6: migration 'leads-email', key 'phase': unknown phase 'swich'", "stay in force"));
            Thread.sleep(500);
            assertEquals(good, runtime.rules());
            assertEquals(version, runtime.version());
            assertEquals("new", read(ds, "SELECT user_email FROM leads"));
            assertEquals("new-state", read(ds, "SELECT status FROM orders"));

            // A deleted file is rejected the same way.
            java.nio.file.Files.delete(db.rules);
            FlagsDb.await("the missing file to be rejected", 3_000,
                () -> log.has(Level.SEVERE, db.rules + ": file not found", "stay in force"));
            assertEquals(good, runtime.rules());

            // Fixed: installed.
            db.writeRules(FlagsDb.leadsRules("expand"));
            FlagsDb.await("the fixed file to be installed", 3_000,
                () -> runtime.rules().get("orders-state") == null && FlagsDb.phase(runtime, "leads-email") == Phase.EXPAND);
            assertEquals("old", read(ds, "SELECT user_email FROM leads"));
            System.out.println("rules file watching:\n" + log.dump());
        }
    }

    @Test
    void databaseFlagBeatsSystemPropertyBeatsTheFile() throws Exception {
        String id = "leads-precedence";
        String property = PhaseOverrides.systemProperty(id);
        try (FlagsDb db = FlagsDb.create("precedence", FlagsDb.leadsRules(id, "expand"))) {
            db.exec("CREATE TABLE leads (id serial PRIMARY KEY, user_email text, email text)");
            BellowsDataSource ds = db.instance("precedence", "bellows.rules.poll", "200ms");
            BellowsRuntime runtime = ds.runtime();
            FlagWatcher w = FlagWatcher.of(runtime);
            assertEquals(new PhaseOverrides.Source(Phase.EXPAND, "rules file"), w.effectivePhases().get(id));
            try {
                System.setProperty(property, "switch"); // read again every second
                FlagsDb.awaitPhase(runtime, id, Phase.SWITCH, 2_500);
                assertEquals("system property " + property, w.effectivePhases().get(id).origin());

                db.setFlag(id, Phase.EXPAND); // the database wins over the property
                FlagsDb.awaitPhase(runtime, id, Phase.EXPAND, 1_000);
                assertEquals("database flag", w.effectivePhases().get(id).origin());

                int version = runtime.version();
                db.writeRules(FlagsDb.leadsRules(id, "contract")); // ... and over the file
                FlagsDb.await("the changed file to be installed", 3_000, () -> runtime.version() > version);
                assertEquals(Phase.EXPAND, FlagsDb.phase(runtime, id));
                assertEquals("database flag", w.effectivePhases().get(id).origin());

                try (Connection c = db.raw(); Statement s = c.createStatement()) { // the flag is removed
                    s.execute("DELETE FROM bellows.flags WHERE migration_id = '" + id + "'");
                    s.execute("NOTIFY " + FlagStore.CHANNEL);
                }
                FlagsDb.awaitPhase(runtime, id, Phase.SWITCH, 1_000); // back to the system property
            } finally {
                System.clearProperty(property);
            }
            FlagsDb.awaitPhase(runtime, id, Phase.CONTRACT, 2_500); // and to the (new) file
            assertEquals(new PhaseOverrides.Source(Phase.CONTRACT, "rules file"), w.effectivePhases().get(id));
            assertNull(System.getProperty(property));
        }
    }
}
