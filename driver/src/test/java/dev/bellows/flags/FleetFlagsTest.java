package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Two instances (two driver configurations, so two runtimes and two watchers) under load while a third party
 * flips the flag expand → switch → expand → switch → contract: both follow every flip within a second of the
 * COMMIT (measured from just before it is sent), and not one statement fails or reads a wrong value.
 */
class FleetFlagsTest {
    private static final String ID = "leads-email";
    private static final int WORKERS_PER_INSTANCE = 3;
    private static final long FLIP_SPACING_MILLIS = 2_000;

    @Test
    void twoInstancesFollowEveryFlipWithinASecondUnderLoad() throws Exception {
        try (FlagsDb db = FlagsDb.create("fleet", FlagsDb.leadsRules("expand"))) {
            db.exec("CREATE TABLE leads (id bigserial PRIMARY KEY, name text NOT NULL, user_email text, email text)",
                "CREATE INDEX ON leads (name)",
                "INSERT INTO leads (name, user_email, email)"
                    + " SELECT 'seed' || g, 'seed' || g || '@x', 'seed' || g || '@x' FROM generate_series(1, 50) g");
            db.setFlag(ID, Phase.EXPAND); // the fleet's flag exists from here on; the flips below move it
            BellowsDataSource a = db.instance("fleet-a");
            BellowsDataSource b = db.instance("fleet-b");
            BellowsRuntime ra = a.runtime();
            BellowsRuntime rb = b.runtime();
            assertNotSame(ra, rb);
            for (BellowsRuntime r : List.of(ra, rb)) {
                FlagWatcher w = FlagWatcher.of(r);
                assertNotNull(w, "a runtime with a rules file has a flag watcher");
                assertTrue(w.flagSourceReachable());
                assertEquals(new PhaseOverrides.Source(Phase.EXPAND, "database flag"), w.effectivePhases().get(ID));
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ops = new AtomicLong();
            Queue<String> errors = new ConcurrentLinkedQueue<>();
            List<Thread> workers = new ArrayList<>();
            for (BellowsDataSource ds : List.of(a, b)) {
                for (int i = 0; i < WORKERS_PER_INSTANCE; i++) {
                    String column = i % 2 == 0 ? "user_email" : "email"; // legacy code and new code side by side
                    String name = ds.getAppName() + "-w" + i;
                    Thread t = new Thread(() -> work(ds, name, column, stop, ops, errors), name);
                    t.start();
                    workers.add(t);
                }
            }

            Phase[] flips = {Phase.SWITCH, Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT};
            List<long[]> latencies = new ArrayList<>();
            try {
                Thread.sleep(1_000);
                for (Phase target : flips) {
                    if (target == Phase.CONTRACT) {
                        // Every write so far went to both columns: nothing to lose by contracting.
                        assertEquals("0", db.query("SELECT count(*) FROM leads WHERE user_email IS DISTINCT FROM email"));
                    }
                    long[] followed = new long[2];
                    Thread[] spinners = {spinner(ra, target, followed, 0), spinner(rb, target, followed, 1)};
                    int va = ra.version();
                    int vb = rb.version();
                    long committed = flip(db, target);
                    for (Thread s : spinners) s.join(5_000);
                    long la = followed[0] - committed;
                    long lb = followed[1] - committed;
                    assertTrue(followed[0] != 0 && followed[1] != 0, "both instances follow " + target.label());
                    assertTrue(ra.version() > va && rb.version() > vb, "the flag change replaced both rewriters");
                    latencies.add(new long[] {la, lb});
                    System.out.printf("flags propagation: flip to %-8s fleet-a %7.2f ms, fleet-b %7.2f ms%n",
                        target.label(), la / 1e6, lb / 1e6);
                    Thread.sleep(Math.max(0, FLIP_SPACING_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - committed)));
                }
            } finally {
                stop.set(true);
                for (Thread t : workers) t.join(10_000);
            }

            long max = latencies.stream().flatMapToLong(java.util.Arrays::stream).max().orElseThrow();
            double mean = latencies.stream().flatMapToLong(java.util.Arrays::stream).average().orElseThrow() / 1e6;
            System.out.printf("flags propagation: %d flips x 2 instances under load (%d statements, %d errors):"
                + " max %.2f ms, mean %.2f ms%n", flips.length, ops.get(), errors.size(), max / 1e6, mean);
            assertTrue(errors.isEmpty(), errors.size() + " errors, first: " + errors.peek());
            assertTrue(ops.get() > 500, "the load ran: " + ops.get() + " statements");
            assertTrue(max < TimeUnit.SECONDS.toNanos(1), "every instance followed within 1 s; max " + max / 1e6 + " ms");
            assertEquals(Phase.CONTRACT, FlagsDb.phase(ra, ID));
            assertEquals(Phase.CONTRACT, FlagsDb.phase(rb, ID));
        }
    }

    /**
     * The third party: the same transaction as {@code bellows flags set} (flag row, history row, NOTIFY).
     * Returns the time just before COMMIT is sent, so the latency measured from it includes the commit itself.
     */
    private static long flip(FlagsDb db, Phase target) throws SQLException {
        try (Connection c = db.raw()) {
            c.setAutoCommit(false);
            FlagStore.lock(c, ID);
            FlagStore.Flag before = FlagStore.get(c, ID);
            FlagStore.write(c, ID, before == null ? null : before.phase(), target,
                new FlagStore.Actor("fleet-test", "localhost"), "load test flip", false);
            long t = System.nanoTime();
            c.commit();
            return t;
        }
    }

    /** Spins until {@code runtime} has {@code target}, recording when it saw it. */
    private static Thread spinner(BellowsRuntime runtime, Phase target, long[] followed, int slot) {
        Thread t = new Thread(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() < deadline) {
                if (FlagsDb.phase(runtime, ID) == target) {
                    followed[slot] = System.nanoTime();
                    return;
                }
                LockSupport.parkNanos(20_000);
            }
        }, "spin-" + runtime.appName());
        t.start();
        return t;
    }

    /**
     * One application thread: inserts a row through its column, reads it back, updates it, reads it again,
     * and now and then counts the seed rows with a plain statement; reconnects every 200 iterations.
     */
    private static void work(BellowsDataSource ds, String name, String column, AtomicBoolean stop, AtomicLong ops,
                             Queue<String> errors) {
        long n = 0;
        while (!stop.get()) {
            try (Connection c = ds.getConnection();
                 PreparedStatement ins = c.prepareStatement("INSERT INTO leads (name, " + column + ") VALUES (?, ?)");
                 PreparedStatement sel = c.prepareStatement("SELECT " + column + " FROM leads WHERE name = ?");
                 PreparedStatement upd = c.prepareStatement("UPDATE leads SET " + column + " = ? WHERE name = ?");
                 Statement plain = c.createStatement()) {
                for (int i = 0; i < 200 && !stop.get(); i++, n++) {
                    String row = name + "-" + n;
                    ins.setString(1, row);
                    ins.setString(2, row + "@v1");
                    check(errors, row, "insert", 1, ins.executeUpdate());
                    sel.setString(1, row);
                    check(errors, row, "read after insert", row + "@v1", single(sel));
                    upd.setString(1, row + "@v2");
                    upd.setString(2, row);
                    check(errors, row, "update", 1, upd.executeUpdate());
                    check(errors, row, "read after update", row + "@v2", single(sel));
                    ops.addAndGet(4);
                    if (n % 10 == 0) {
                        try (ResultSet rs = plain.executeQuery("SELECT count(*) FROM leads WHERE " + column + " LIKE 'seed%'")) {
                            rs.next();
                            check(errors, row, "count seed rows", 50L, rs.getLong(1));
                        }
                        ops.incrementAndGet();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                errors.add(name + ": " + e);
            }
        }
    }

    private static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : "<no row>";
        }
    }

    private static void check(Queue<String> errors, String row, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) errors.add(row + ": " + what + ": expected " + expected + ", got " + actual);
    }
}
