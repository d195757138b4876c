package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.testing.Pgbouncer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 §4: legacy code under concurrent load through a real pgbouncer in {@code pool_mode=transaction}
 * (pgjdbc with {@code prepareThreshold=0}; more client connections than pgbouncer has server connections), while
 * {@code bellows flags set} and {@code bellows backfill}, also through pgbouncer, move the rename off → expand →
 * (backfill) → switch → expand → switch → contract. Two instances: one whose flag watcher listens on a direct
 * connection ({@code bellows.flags.url}, flags poll 1 min, so only the NOTIFY can bring a change in time), and one
 * with no direct URL that follows by polling through pgbouncer. Asserted: no statement fails, every read of a
 * worker's own row returns what it last wrote, both instances follow every flip and the load makes progress in
 * every phase, no row has {@code email <> user_email} in expand and switch after the backfill, and at the end every
 * row holds its last value in the new column and read by the old name through Bellows.
 */
class PgbouncerLoadTest {
    private static final String ID = "leads-email";
    private static final int WORKERS_PER_INSTANCE = 4;
    private static final int ROWS_PER_WORKER = 3;
    /** Statements each phase must see after both instances follow it, before the next flip. */
    private static final long OPS_PER_PHASE = 60;
    private static final long FOLLOW_MILLIS = 20_000;
    private static final int OLD_ROWS = 20;

    private Pgbouncer bouncer;

    @BeforeEach
    void bouncer() {
        bouncer = Pgbouncer.get();
    }

    @Test
    void legacyLoadThroughPgbouncerSurvivesEveryFlagFlip() throws Exception {
        try (FlagsDb db = FlagsDb.create("pool_load", FlagsDb.leadsRules("off"))) {
            db.exec("CREATE TABLE leads (id bigserial PRIMARY KEY, name text NOT NULL, user_email text, email text)",
                // written before the migration and never again: only the backfill fills their email
                "INSERT INTO leads (name, user_email) SELECT 'old' || g, 'old' || g || '@example.com'"
                    + " FROM generate_series(1, " + OLD_ROWS + ") g");
            String pooled = bouncer.behind(db.pgUrl);
            BellowsDataSource direct = instance(db, pooled, "pool-a", "1m");
            direct.setFlagsUrl(db.pgUrl);
            BellowsDataSource polling = instance(db, pooled, "pool-b", "200ms");
            List<BellowsRuntime> fleet = List.of(direct.runtime(), polling.runtime());
            for (BellowsRuntime r : fleet) assertTrue(FlagWatcher.of(r).flagSourceReachable(), r.appName());

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ops = new AtomicLong();
            Queue<String> errors = new ConcurrentLinkedQueue<>();
            Map<Long, String> last = new ConcurrentHashMap<>();
            List<Thread> workers = new ArrayList<>();
            for (BellowsDataSource ds : List.of(direct, polling)) {
                for (int k = 0; k < WORKERS_PER_INSTANCE; k++) {
                    String who = ds.getAppName() + "-" + k;
                    Thread t = new Thread(() -> work(ds, who, stop, ops, errors, last), who);
                    t.start();
                    workers.add(t);
                }
            }
            try {
                awaitOps(ops, errors, "off");
                // Rows written in off have no email yet: the twin check starts after the backfill.
                flip(db, pooled, fleet, Phase.EXPAND, ops, errors, false);
                assertEquals(0, cli(db, pooled, "backfill", ID, "--rules", db.rules.toString(), "--progress", "none"),
                    db.out + db.err);
                assertTrue(db.err.contains(" scanned, " + OLD_ROWS + " updated"), db.err);
                assertEquals("0", db.query("SELECT count(*) FROM leads WHERE email IS DISTINCT FROM user_email"), "after backfill");
                flip(db, pooled, fleet, Phase.SWITCH, ops, errors, true);
                flip(db, pooled, fleet, Phase.EXPAND, ops, errors, true);
                flip(db, pooled, fleet, Phase.SWITCH, ops, errors, true);
                flip(db, pooled, fleet, Phase.CONTRACT, ops, errors, false, "--force");
            } finally {
                stop.set(true);
                for (Thread t : workers) t.join(30_000);
            }
            assertTrue(errors.isEmpty(), errors.size() + " problems under load, first: " + errors.peek());
            assertEquals(WORKERS_PER_INSTANCE * 2 * ROWS_PER_WORKER, last.size());
            // Contract wrote the new column only; the last value of every row is there, and old code reads it.
            try (Connection c = polling.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?");
                 Connection raw = db.raw();
                 PreparedStatement newColumn = raw.prepareStatement("SELECT email FROM leads WHERE id = ?")) {
                for (Map.Entry<Long, String> e : last.entrySet()) {
                    assertEquals(e.getValue(), one(ps, e.getKey()), "row " + e.getKey() + " read by the old name");
                    assertEquals(e.getValue(), one(newColumn, e.getKey()), "row " + e.getKey() + " in the new column");
                }
            }
            System.out.printf("PgbouncerLoadTest: %d statements by %d workers through pgbouncer (%d server connections"
                + " per database), 0 errors%n", ops.get(), workers.size(), Pgbouncer.POOL_SIZE);
        }
    }

    private static BellowsDataSource instance(FlagsDb db, String url, String app, String flagsPoll) {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(url);
        ds.setUser(db.fixture.user());
        ds.setPassword(db.fixture.password());
        ds.setRules(db.rules.toString());
        ds.setAppName(app);
        ds.setFlagsPoll(flagsPoll);
        db.track(ds);
        return ds;
    }

    /**
     * {@code bellows flags set ID to} through pgbouncer, then both instances follow and the load goes on in {@code to};
     * with {@code twinsEqual}, no row has {@code email <> user_email} at that point.
     */
    private static void flip(FlagsDb db, String pooled, List<BellowsRuntime> fleet, Phase to, AtomicLong ops,
                             Queue<String> errors, boolean twinsEqual, String... extra) {
        List<String> args = new ArrayList<>(List.of("flags", "set", ID, to.label(), "--rules", db.rules.toString(),
            "--reason", "pgbouncer load test"));
        args.addAll(List.of(extra));
        assertEquals(0, cli(db, pooled, args.toArray(new String[0])), db.out + db.err);
        for (BellowsRuntime r : fleet) FlagsDb.awaitPhase(r, ID, to, FOLLOW_MILLIS);
        db.awaitReported(ID, to, FOLLOW_MILLIS); // the backfill's fleet check reads the report
        awaitOps(ops, errors, to.label());
        if (twinsEqual) {
            try {
                assertEquals("0", db.query("SELECT count(*) FROM leads WHERE email IS DISTINCT FROM user_email"),
                    "rows with email <> user_email in " + to.label());
            } catch (SQLException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static int cli(FlagsDb db, String pooled, String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--url", pooled, "--user", db.fixture.user(), "--password", db.fixture.password()));
        return db.cliRaw(a.toArray(new String[0]));
    }

    private static void awaitOps(AtomicLong ops, Queue<String> errors, String phase) {
        long target = ops.get() + OPS_PER_PHASE;
        FlagsDb.await(OPS_PER_PHASE + " statements in " + phase, FOLLOW_MILLIS, () -> ops.get() >= target || !errors.isEmpty());
        assertTrue(errors.isEmpty(), "in " + phase + ": " + errors.peek());
    }

    /**
     * One worker of legacy code: owns its rows, writes a fresh value to one (in autocommit or in an explicit
     * transaction, alternately) and reads it back by the old name.
     */
    private static void work(BellowsDataSource ds, String who, AtomicBoolean stop, AtomicLong ops, Queue<String> errors,
                             Map<Long, String> last) {
        try (Connection c = ds.getConnection();
             PreparedStatement insert = c.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?) RETURNING id");
             PreparedStatement update = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ?");
             PreparedStatement read = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
            long[] rows = new long[ROWS_PER_WORKER];
            for (int r = 0; r < ROWS_PER_WORKER; r++) {
                String value = who + "-" + r + "@example.com";
                insert.setString(1, who + "-" + r);
                insert.setString(2, value);
                try (ResultSet rs = insert.executeQuery()) {
                    rs.next();
                    rows[r] = rs.getLong(1);
                }
                last.put(rows[r], value);
            }
            for (int i = 0; !stop.get(); i++) {
                long id = rows[i % ROWS_PER_WORKER];
                String value = who + "-" + i + "@example.com";
                boolean tx = i % 2 == 1;
                c.setAutoCommit(!tx);
                update.setString(1, value);
                update.setLong(2, id);
                int n = update.executeUpdate();
                String read1 = one(read, id);
                if (tx) c.commit();
                if (n != 1 || !value.equals(read1)) {
                    errors.add(who + ": wrote " + value + " to row " + id + " (" + n + " rows), read back " + read1);
                    return;
                }
                last.put(id, value);
                ops.addAndGet(2);
            }
        } catch (SQLException | RuntimeException e) {
            errors.add(who + ": " + e);
        }
    }

    private static String one(PreparedStatement ps, long id) throws SQLException {
        ps.setLong(1, id);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
