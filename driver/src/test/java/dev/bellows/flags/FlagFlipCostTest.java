package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RulesFile;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a flag costs the server across a fleet (issue 16): a quiet instance's poll is one query, and a phase change
 * reads the catalog (~20 ms of server time, times every instance at once) only when the catalog held lacks what the
 * new phase presumes — the expand migration's new column, not yet seen. A flip back and forth reads nothing more.
 */
class FlagFlipCostTest {
    private static final String ID = "leads-email";

    @Test
    void aQuietInstancesPollIsOneQueryOnABorrowedConnection() throws Exception {
        try (FlagsDb db = FlagsDb.create("flag_cost_poll", FlagsDb.leadsRules("off"))) {
            db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, email text)");
            db.setFlag(ID, Phase.OFF);
            List<AtomicInteger> perConnection = new CopyOnWriteArrayList<>();
            RecordingTarget target = new RecordingTarget("flip-cost", RulesFile.parse(FlagsDb.leadsRules("off"), "rules.yaml"));
            // check mode, a quiet poll every 100 ms (+ jitter), staleness 100 ms; no statement runs
            FlagWatcher w = FlagWatcher.start(target, db.rules.toString(), 100, 100, 0, () -> {
                AtomicInteger n = new AtomicInteger();
                perConnection.add(n);
                return counting(db.raw(), n);
            }, k -> null, k -> null);
            try {
                FlagsDb.await("five quiet polls", 15_000, () -> perConnection.size() >= 6);
                db.setFlag(ID, Phase.EXPAND);
                FlagsDb.await("the poll to bring expand", 15_000, () -> target.moves.contains(ID + " -> expand"));
                int seen = perConnection.size();
                FlagsDb.await("two more polls", 15_000, () -> perConnection.size() >= seen + 2);
            } finally {
                w.close();
            }
            // the first read (at start) also asks whether the table exists; every later one is the one query
            List<Integer> counts = perConnection.stream().map(AtomicInteger::get).toList();
            for (int k = 1; k < counts.size() - 1; k++) {
                assertEquals(1, counts.get(k), "queries on the poll's connection " + k + " of " + counts);
            }
            assertTrue(counts.get(0) <= 2, "the first read: " + counts);
        }
    }

    @Test
    void aFlipReadsTheCatalogOnlyWhenTheNewPhaseNeedsAColumnItHasNotSeen() throws Exception {
        try (FlagsDb db = FlagsDb.create("flag_cost_catalog", FlagsDb.leadsRules("off"))) {
            db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text)", "INSERT INTO leads VALUES (1, 'a')");
            db.setFlag(ID, Phase.OFF);
            BellowsDataSource ds = db.instance("flip-cost", "bellows.flags.mode", "check", "bellows.flags.staleness",
                "100ms", "bellows.flags.poll", "1m", "bellows.usage", "off");
            BellowsRuntime runtime = ds.runtime();
            try (Connection c = ds.getConnection()) {
                update(c, "b");
                assertFalse(runtime.catalogReadyFor(Map.of(ID, Phase.EXPAND)), "the catalog has no leads.email yet");
                // the expand migration, run elsewhere (not through this driver, which would read the catalog itself)
                db.exec("ALTER TABLE leads ADD COLUMN email text");
                long before = runtime.catalogReads();
                flip(db, ds, Phase.EXPAND);
                update(c, "c");
                assertEquals(before + 1, runtime.catalogReads(), "the flip into expand read the catalog first");
                assertEquals("c", db.query("SELECT email FROM leads WHERE id = 1"), "so the statement wrote both columns");

                assertTrue(runtime.catalogReadyFor(Map.of(ID, Phase.SWITCH)));
                long seen = runtime.catalogReads();
                for (Phase to : new Phase[] {Phase.OFF, Phase.EXPAND, Phase.SWITCH, Phase.EXPAND}) {
                    flip(db, ds, to);
                    update(c, "v-" + to.label());
                    assertEquals(to, FlagsDb.phase(runtime, ID));
                }
                assertEquals(seen, runtime.catalogReads(), "flips with the catalog ready read it no more");
                assertEquals("v-expand", db.query("SELECT email FROM leads WHERE id = 1"));
                assertEquals("v-expand", db.query("SELECT user_email FROM leads WHERE id = 1"));
            } finally {
                FlagWatcher w = FlagWatcher.of(runtime);
                if (w != null) w.close();
            }
        }
    }

    private static void flip(FlagsDb db, BellowsDataSource ds, Phase to) throws Exception {
        db.setFlag(ID, to);
        FlagCheck check = FlagWatcher.of(ds.runtime()).check();
        FlagsDb.await("the phases to be stale", 5_000, check::stale);
    }

    private static void update(Connection c, String value) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = 1")) {
            ps.setString(1, value);
            assertEquals(1, ps.executeUpdate());
        }
    }

    /** A real connection whose statements count their executions in {@code n}. */
    private static Connection counting(Connection real, AtomicInteger n) {
        return (Connection) Proxy.newProxyInstance(FlagFlipCostTest.class.getClassLoader(), new Class<?>[] {Connection.class},
            (proxy, m, args) -> {
                try {
                    Object out = m.invoke(real, args);
                    if (out instanceof Statement s && !(out instanceof PreparedStatement)) return countingStatement(s, n);
                    if (out instanceof PreparedStatement) n.incrementAndGet(); // prepared: counted once, run once here
                    return out;
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    }

    private static Statement countingStatement(Statement real, AtomicInteger n) {
        return (Statement) Proxy.newProxyInstance(FlagFlipCostTest.class.getClassLoader(), new Class<?>[] {Statement.class},
            (proxy, m, args) -> {
                if (m.getName().startsWith("execute")) n.incrementAndGet();
                try {
                    return m.invoke(real, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    }
}
