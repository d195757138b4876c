package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RulesFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backfill's rate on 1,000,000 rows and its effect on a concurrent TPC-B-like load (pgbench's default
 * transaction at scale 10, run through Bellows in phase expand by several threads). Not part of the default
 * suite (its name does not end in Test); run it with
 *
 * <pre>./mvnw -B -pl driver test -Dtest=BackfillLoadBenchmark</pre>
 *
 * Options (system properties): {@code bellows.bench.threads} (4), {@code bellows.bench.rounds} (3),
 * {@code bellows.bench.baseline} (10 s of load alone before each backfill), {@code bellows.bench.seconds} (at most
 * 20 s of load measured while the backfill runs). It prints Markdown tables and writes them to
 * {@code driver/target/backfill-benchmark.md}. About 6 minutes.
 */
class BackfillLoadBenchmark {
    static final String ID = "accounts-balance";
    static final String RULES = """
        migrations:
          - id: accounts-balance
            table: pgbench_accounts
            from: abalance
            to: balance
            phase: expand
        """;
    static final int ACCOUNTS = 1_000_000;
    static final int BRANCHES = ACCOUNTS / 100_000;
    static final int TELLERS = BRANCHES * 10;

    @TempDir Path tmp;

    final int seconds = Integer.getInteger("bellows.bench.seconds", 20);
    final int baseline = Integer.getInteger("bellows.bench.baseline", 10);
    final int threads = Integer.getInteger("bellows.bench.threads", 4);
    final int rounds = Integer.getInteger("bellows.bench.rounds", 3);

    /** pgbench -i -s 10, with the key indexes built after the rows. */
    static void pgbenchSchema(WfDb db) throws SQLException {
        db.exec("CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88))",
            "CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84))",
            "CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84))",
            "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
            "INSERT INTO pgbench_branches SELECT g, 0 FROM generate_series(1, " + BRANCHES + ") g",
            "INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0 FROM generate_series(1, " + TELLERS + ") g",
            "INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, " + ACCOUNTS + ") g",
            "ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)",
            "ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)",
            "ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)",
            "VACUUM ANALYZE");
    }

    /** Drops and re-adds the new column, so each run backfills every row of a freshly vacuumed table. */
    static void resetColumn(WfDb db) throws SQLException {
        db.exec("ALTER TABLE pgbench_accounts DROP COLUMN IF EXISTS balance",
            "ALTER TABLE pgbench_accounts ADD COLUMN balance int",
            "DROP TABLE IF EXISTS bellows.backfill_progress",
            "VACUUM ANALYZE pgbench_accounts");
    }

    /** pgbench's default ("TPC-B (sort of)") transaction, in {@code threads} threads through Bellows. */
    final class Load {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong committed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<Thread> workers = new ArrayList<>();

        Load(WfDb db, Path rules) {
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> run(db, rules), "tpcb-" + t);
                workers.add(w);
            }
        }

        void start() {
            workers.forEach(Thread::start);
        }

        void run(WfDb db, Path rules) {
            try (Connection c = db.bellows(rules)) {
                c.setAutoCommit(false);
                PreparedStatement a = c.prepareStatement("UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?");
                PreparedStatement s = c.prepareStatement("SELECT abalance FROM pgbench_accounts WHERE aid = ?");
                PreparedStatement t = c.prepareStatement("UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?");
                PreparedStatement b = c.prepareStatement("UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?");
                PreparedStatement h = c.prepareStatement(
                    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)");
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (!stop.get()) {
                    int aid = r.nextInt(1, ACCOUNTS + 1);
                    int bid = r.nextInt(1, BRANCHES + 1);
                    int tid = r.nextInt(1, TELLERS + 1);
                    int delta = r.nextInt(-5000, 5001);
                    try {
                        a.setInt(1, delta);
                        a.setInt(2, aid);
                        a.executeUpdate();
                        s.setInt(1, aid);
                        try (ResultSet rs = s.executeQuery()) {
                            rs.next();
                        }
                        t.setInt(1, delta);
                        t.setInt(2, tid);
                        t.executeUpdate();
                        b.setInt(1, delta);
                        b.setInt(2, bid);
                        b.executeUpdate();
                        h.setInt(1, tid);
                        h.setInt(2, bid);
                        h.setInt(3, aid);
                        h.setInt(4, delta);
                        h.executeUpdate();
                        c.commit();
                        committed.incrementAndGet();
                    } catch (SQLException e) {
                        c.rollback();
                        failed.incrementAndGet();
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }

        void stopAndJoin() throws InterruptedException {
            stop.set(true);
            for (Thread w : workers) w.join(30_000);
        }
    }

    /** One paired measurement: the load's TPS just before a backfill starts, and while it runs. */
    record Pair(double tpsBefore, double tpsDuring, double backfillRate, long failed, double backfillSeconds) {
        double ratio() {
            return tpsDuring / tpsBefore;
        }
    }

    /**
     * Starts the load, warms it up, measures {@code baseline} seconds of it alone, then starts the backfill and
     * measures the load while the backfill runs (at most {@code seconds}). Pairing the two halves makes the
     * comparison robust to a machine whose background load drifts.
     */
    private Pair measure(WfDb db, Path rules, Backfill.Options backfill) throws Exception {
        resetColumn(db);
        Migration m = RulesFile.load(rules).get(ID);
        Load load = new Load(db, rules);
        load.start();
        Thread.sleep(3000); // warm-up: connections, prepared statements, JIT
        long c0 = load.committed.get();
        long f0 = load.failed.get();
        long t0 = System.nanoTime();
        Thread.sleep(baseline * 1000L);
        long c1 = load.committed.get();
        long t1 = System.nanoTime();
        AtomicReference<Backfill.Result> result = new AtomicReference<>();
        AtomicReference<Throwable> backfillFailure = new AtomicReference<>();
        AtomicLong scannedInWindow = new AtomicLong();
        AtomicBoolean windowOver = new AtomicBoolean();
        Thread bf = new Thread(() -> {
            try (Connection c = db.raw()) {
                result.set(Backfill.run(c, m, backfill, new Backfill.Listener() {
                    @Override public void progress(Backfill.Progress p) {
                        if (!windowOver.get()) scannedInWindow.set(p.scanned());
                    }
                }));
            } catch (Throwable e) {
                backfillFailure.set(e);
            }
        }, "backfill");
        bf.start();
        bf.join(seconds * 1000L);
        windowOver.set(true);
        long c2 = load.committed.get();
        long t2 = System.nanoTime();
        long f2 = load.failed.get();
        load.stopAndJoin();
        bf.join();
        assertNull(load.failure.get(), () -> "load failed: " + load.failure.get());
        assertNull(backfillFailure.get(), () -> "backfill failed: " + backfillFailure.get());
        assertEquals(Backfill.Outcome.DONE, result.get().outcome(), String.join("\n", result.get().messages()));
        double window = (t2 - t1) / 1e9;
        return new Pair((c1 - c0) / ((t1 - t0) / 1e9), (c2 - c1) / window, scannedInWindow.get() / window, f2 - f0,
            result.get().elapsed().toMillis() / 1000.0);
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String serverVersion(WfDb db) throws SQLException {
        return db.query("SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync')"
            + " || ', synchronous_commit=' || current_setting('synchronous_commit')"
            + " || ', shared_buffers=' || current_setting('shared_buffers')");
    }

    @Test
    void backfillRateAndItsEffectOnATpcbLoad() throws Exception {
        WfDb db = WfDb.create("bench_backfill");
        pgbenchSchema(db);
        Path rules = WfDb.rules(tmp, RULES);
        List<String> out = new ArrayList<>();
        String loadBefore = loadAverage();
        out.add("Server: PostgreSQL " + serverVersion(db) + " (" + db.fixture.kind() + "); "
            + Runtime.getRuntime().availableProcessors() + " CPUs; " + threads + " load threads; each round measures the load alone for "
            + baseline + " s, then while the backfill runs (at most " + seconds + " s).");
        out.add("");

        // 1. the backfill alone
        out.add("| backfill alone (1,000,000 rows) | batch | pause | time | rows/s |");
        out.add("|---|---:|---:|---:|---:|");
        for (Backfill.Options o : List.of(
            Backfill.Options.defaults().withBatch(10_000).withPause(Duration.ZERO),
            Backfill.Options.defaults().withBatch(1_000).withPause(Duration.ZERO),
            Backfill.Options.defaults())) {
            resetColumn(db);
            Backfill.Result r;
            try (Connection c = db.raw()) {
                r = Backfill.run(c, RulesFile.load(rules).get(ID), o, null);
            }
            assertEquals(Backfill.Outcome.DONE, r.outcome(), String.join("\n", r.messages()));
            out.add(String.format(Locale.ROOT, "| | %,d | %d ms | %.1f s | %,.0f |", o.batchSize(), o.pause().toMillis(),
                r.elapsed().toMillis() / 1000.0, r.rowsPerSecond()));
        }
        out.add("");

        // 2. the load alone, then with a backfill running: paired measurements, repeated, medians reported
        out.add("| TPC-B-like load through Bellows (expand) | TPS before | TPS during the backfill | change (median of "
            + rounds + ") | per round | backfill rows/s under load | failed tx |");
        out.add("|---|---:|---:|---:|---|---:|---:|");
        List<Backfill.Options> configs = List.of(Backfill.Options.defaults(),
            Backfill.Options.defaults().withBatch(10_000).withPause(Duration.ZERO));
        List<List<Pair>> pairs = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) pairs.add(new ArrayList<>());
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < configs.size(); i++) pairs.get(i).add(measure(db, rules, configs.get(i)));
        }
        for (int i = 0; i < configs.size(); i++) {
            Backfill.Options o = configs.get(i);
            List<Pair> ps = pairs.get(i);
            out.add(String.format(Locale.ROOT, "| backfill, batch %,d, pause %d ms | %,.0f | %,.0f | %+.0f %% | %s | %,.0f | %d |",
                o.batchSize(), o.pause().toMillis(),
                median(ps.stream().map(Pair::tpsBefore).toList()), median(ps.stream().map(Pair::tpsDuring).toList()),
                (median(ps.stream().map(Pair::ratio).toList()) - 1) * 100,
                String.join(", ", ps.stream().map(p -> String.format(Locale.ROOT, "%+.0f %%", (p.ratio() - 1) * 100)).toList()),
                median(ps.stream().map(Pair::backfillRate).toList()), ps.stream().mapToLong(Pair::failed).sum()));
        }
        out.add("");
        out.add("1-minute load average: " + loadBefore + " at the start, " + loadAverage() + " at the end.");
        String table = String.join("\n", out) + "\n";
        System.out.println(table);
        Path target = Path.of("target");
        if (Files.isDirectory(target)) Files.writeString(target.resolve("backfill-benchmark.md"), table);
        assertEquals("0", db.query("SELECT count(*) FROM pgbench_accounts WHERE balance IS DISTINCT FROM abalance"));
    }
}
