package dev.bellows.flags;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testing.PostgresFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 16 §1/§2, flag propagation: N application instances in one JVM, each its own Bellows runtime (its own
 * {@code bellows.appName} over one shared HikariCP pool, as instances behind a pooler), each running a statement
 * at {@code flags.rate} per second with jitter, while {@code bellows flags set} (the CLI, in process) moves the
 * migration off → expand → off → expand → off. Each statement is {@code UPDATE leads SET user_email = ? WHERE id = ?
 * RETURNING email}: in expand Bellows also writes {@code email}, so the returned value says which phase the
 * statement ran in. Per flip and instance: the time from the start of {@code flags set} to the start of the
 * instance's first statement that ran in the new phase ("acted": includes the wait for the instance's next
 * statement), and the start of its last statement that still ran in the old phase, counted from the moment
 * {@code flags set} returned (so after its commit; 0 when there was none). Server connections are sampled from {@code pg_stat_activity} every 50 ms.
 *
 * <p>Designs ({@code -Dflags.design}): {@code check} (the default mode: statements read the flags when older than
 * {@code flags.staleness}); {@code poll} (statements never read them, the watcher polls every {@code flags.poll}
 * with jitter on a pooled connection); {@code listen} (one LISTEN connection per instance, {@code bellows.flags.url}).
 * Not a test; run with {@code ./mvnw -q -B -pl benchmarks exec:exec@flags -Dflags.instances=100 -Dflags.design=check}.
 */
public final class FlagPropagation {
    static final String ID = "leads-email";

    private FlagPropagation() {
    }

    public static void main(String[] args) throws Exception {
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
        } finally {
            System.exit(0);
        }
    }

    // a strong reference: java.util.logging forgets loggers nobody holds, and their level with them
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger(FlagWatcher.class.getName());

    static void run() throws Exception {
        QUIET.setLevel(java.util.logging.Level.WARNING); // one INFO line per instance and flip otherwise
        int n = Integer.getInteger("flags.instances", 10);
        String design = System.getProperty("flags.design", "check");
        double rate = Double.parseDouble(System.getProperty("flags.rate", "2"));
        String staleness = System.getProperty("flags.staleness", "500ms");
        String poll = System.getProperty("flags.poll", "1s");
        int pool = Integer.getInteger("flags.connections", 8);
        int threads = Integer.getInteger("flags.threads", pool);
        int flips = Integer.getInteger("flags.flips", 4);
        long settleMillis = Long.getLong("flags.settle", 3000);
        PostgresFixture fx = PostgresFixture.get();
        String url = fx.createDatabase("flagprop");
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE leads (id int PRIMARY KEY, user_email text, email text)");
            s.execute("INSERT INTO leads SELECT g, 'u' || g, NULL FROM generate_series(0, " + (n - 1) + ") g");
        }
        Path rules = Files.createTempFile("bellows-flagprop", ".yaml");
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: leads\n    from: user_email\n    to: email\n"
            + "    phase: off\n");
        String[] cliDb = {"--url", url, "--user", fx.user(), "--password", fx.password() == null ? "" : fx.password(),
            "--rules", rules.toString()};
        cli(cliDb, "flags", "set", ID, "off", "--reason", "start");

        HikariConfig hc = new HikariConfig();
        hc.setDataSource(fx.dataSource(url));
        hc.setMaximumPoolSize(pool);
        hc.setMinimumIdle(pool);
        System.out.printf(Locale.ROOT, "Flag propagation: design %s, %d instances at %.1f statements/s each (%.0f/s in all),"
                + " one HikariCP pool of %d connections, %d worker threads%s%n", design, n, rate, n * rate, pool, threads,
            design.equals("check") ? ", staleness " + staleness : design.equals("poll") ? ", poll " + poll + " (+0-20 % jitter)" : "");
        try (HikariDataSource shared = new HikariDataSource(hc); Connection monitor = fx.connect(url)) {
            long startNanos = System.nanoTime();
            BellowsDataSource[] fleet = new BellowsDataSource[n];
            for (int i = 0; i < n; i++) {
                BellowsDataSource ds = new BellowsDataSource(shared);
                ds.setRules(rules.toString());
                ds.setAppName("inst-" + i);
                ds.setProperty("bellows.usage", "off");
                ds.setProperty("bellows.rules.poll", "off");
                switch (design) {
                    case "check" -> {
                        ds.setFlagsMode("check");
                        ds.setFlagsStaleness(staleness);
                        ds.setFlagsPoll("5s");
                    }
                    case "poll" -> {
                        ds.setFlagsMode("check");
                        ds.setFlagsStaleness("60m"); // statements never read: only the jittered poll
                        ds.setFlagsPoll(poll);
                    }
                    case "listen" -> {
                        ds.setFlagsMode("listen");
                        ds.setFlagsUrl(url + (url.contains("?") ? "&" : "?") + "user=" + fx.user()
                            + (fx.password() == null ? "" : "&password=" + fx.password()));
                        ds.setFlagsPoll("5s");
                    }
                    default -> throw new IllegalArgumentException("flags.design: check, poll or listen, got " + design);
                }
                ds.runtime(); // creates the runtime and its watcher now
                fleet[i] = ds;
            }
            System.out.printf(Locale.ROOT, "  %d runtimes started in %.1f s%n", n, (System.nanoTime() - startNanos) / 1e9);

            // phaseSeen[i]: 1 when the instance's last statement ran in expand, 0 in off; times per instance
            AtomicLong[] firstNew = new AtomicLong[n];
            AtomicLong[] lastOld = new AtomicLong[n];
            for (int i = 0; i < n; i++) {
                firstNew[i] = new AtomicLong(Long.MAX_VALUE);
                lastOld[i] = new AtomicLong(Long.MIN_VALUE);
            }
            long[] expectExpand = {0, System.nanoTime()}; // [0]: 1 when expand is expected; [1]: when flags set started
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong statements = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            AtomicInteger peak = new AtomicInteger();
            AtomicInteger peakFlags = new AtomicInteger();
            List<Integer> samples = new ArrayList<>();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                int worker = w;
                Thread t = new Thread(() -> work(fleet, worker, threads, rate, stop, statements, errors, firstNew, lastOld,
                    expectExpand), "flags-worker-" + w);
                t.setDaemon(true);
                t.start();
                workers.add(t);
            }
            Thread sampler = new Thread(() -> {
                try (PreparedStatement ps = monitor.prepareStatement("SELECT count(*), count(*) FILTER (WHERE"
                    + " application_name LIKE 'bellows-flags%') FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND pid <> pg_backend_pid()")) {
                    while (!stop.get()) {
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            int all = rs.getInt(1);
                            peak.accumulateAndGet(all, Math::max);
                            peakFlags.accumulateAndGet(rs.getInt(2), Math::max);
                            synchronized (samples) {
                                samples.add(all);
                            }
                        }
                        Thread.sleep(50);
                    }
                } catch (Exception e) {
                    if (!stop.get()) System.out.println("  sampler failed: " + e);
                }
            }, "flags-sampler");
            sampler.setDaemon(true);
            sampler.start();
            Thread.sleep(settleMillis);
            long before = statements.get();
            long measureStart = System.nanoTime();

            List<Long> acted = new ArrayList<>();
            List<Long> stale = new ArrayList<>();
            long missed = 0;
            long staleInstances = 0;
            System.out.println("  flip                  flags set | acted (from its start) p50   p99     max | old phase after it"
                + " returned: instances  p99  max");
            for (int f = 0; f < flips; f++) {
                boolean toExpand = f % 2 == 0;
                for (int i = 0; i < n; i++) {
                    firstNew[i].set(Long.MAX_VALUE);
                    lastOld[i].set(Long.MIN_VALUE);
                }
                long t0 = System.nanoTime();
                synchronized (expectExpand) {
                    expectExpand[0] = toExpand ? 1 : 0;
                    expectExpand[1] = t0;
                }
                int code = cli(cliDb, "flags", "set", ID, toExpand ? "expand" : "off", "--reason", "flip " + f);
                long t1 = System.nanoTime();
                long cliMillis = (t1 - t0) / 1_000_000;
                if (code != 0) throw new IllegalStateException("flags set exited " + code);
                long deadline = t0 + 20_000_000_000L;
                while (System.nanoTime() < deadline && Arrays.stream(firstNew).anyMatch(a -> a.get() == Long.MAX_VALUE)) {
                    Thread.sleep(20);
                }
                Thread.sleep(Math.max(0, settleMillis - (System.nanoTime() - t0) / 1_000_000));
                List<Long> a = new ArrayList<>();
                List<Long> s = new ArrayList<>();
                int late = 0;
                for (int i = 0; i < n; i++) {
                    long fn = firstNew[i].get();
                    if (fn == Long.MAX_VALUE) {
                        missed++;
                        continue;
                    }
                    a.add(Math.max(0, fn - t0));
                    long lo = lastOld[i].get();
                    // statements that started in the old phase after flags set returned (so after its commit)
                    if (lo != Long.MIN_VALUE && lo - t1 > 0) late++;
                    s.add(lo == Long.MIN_VALUE ? 0 : Math.max(0, lo - t1));
                }
                acted.addAll(a);
                stale.addAll(s);
                staleInstances += late;
                System.out.printf(Locale.ROOT, "  %-21s %6d ms | %26s %7s %7s | %28d %7s %7s%n",
                    toExpand ? "off -> expand" : "expand -> off (back)", cliMillis,
                    ms(pct(a, 50)), ms(pct(a, 99)), ms(pct(a, 100)), late, ms(pct(s, 99)), ms(pct(s, 100)));
            }
            double seconds = (System.nanoTime() - measureStart) / 1e9;
            stop.set(true);
            for (Thread t : workers) t.join(5000);
            sampler.join(2000);
            int median;
            synchronized (samples) {
                List<Integer> sorted = new ArrayList<>(samples);
                sorted.sort(null);
                median = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
            }
            System.out.printf(Locale.ROOT, "  all flips (%d instance-flips, %d not followed within 20 s): acted p50 %s, p99 %s,"
                    + " max %s; a statement in the old phase after flags set returned: %d instance-flips, p99 %s, max %s%n",
                acted.size(), missed, ms(pct(acted, 50)), ms(pct(acted, 99)), ms(pct(acted, 100)), staleInstances,
                ms(pct(stale, 99)), ms(pct(stale, 100)));
            System.out.printf(Locale.ROOT, "  statements: %d in %.1f s (%.0f/s), %d errors; server connections (client backends,"
                    + " monitor excluded): median %d, peak %d, of them bellows-flags peak %d%n", statements.get() - before,
                seconds, (statements.get() - before) / seconds, errors.get(), median, peak.get(), peakFlags.get());
            for (BellowsDataSource ds : fleet) {
                FlagWatcher w = FlagWatcher.of(ds.runtime());
                if (w != null) w.close();
            }
        }
    }

    private static void work(BellowsDataSource[] fleet, int worker, int threads, double rate, AtomicBoolean stop,
                             AtomicLong statements, AtomicLong errors, AtomicLong[] firstNew, AtomicLong[] lastOld,
                             long[] expectExpand) {
        List<Integer> mine = new ArrayList<>();
        for (int i = worker; i < fleet.length; i += threads) mine.add(i);
        if (mine.isEmpty()) return;
        long periodNanos = (long) (1e9 / rate);
        long[] due = new long[mine.size()];
        long now = System.nanoTime();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int k = 0; k < due.length; k++) due[k] = now + random.nextLong(periodNanos);
        long value = 0;
        while (!stop.get()) {
            int next = 0;
            for (int k = 1; k < due.length; k++) if (due[k] - due[next] < 0) next = k;
            long wait = due[next] - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
            // exponential gaps (a Poisson stream per instance) with the configured mean
            due[next] += (long) (-Math.log(1 - random.nextDouble()) * periodNanos);
            int i = mine.get(next);
            String v = "w" + worker + "-" + (value++);
            try (Connection c = fleet[i].getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ? RETURNING email")) {
                ps.setString(1, v);
                ps.setInt(2, i);
                // the statement starts here: after the wait for a pooled connection, which is no part of propagation
                long started = System.nanoTime();
                boolean wantExpand;
                long flipAt;
                synchronized (expectExpand) {
                    wantExpand = expectExpand[0] == 1;
                    flipAt = expectExpand[1];
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    boolean ranExpand = v.equals(rs.getString(1));
                    if (started - flipAt >= 0) {
                        if (ranExpand == wantExpand) firstNew[i].accumulateAndGet(started, Math::min);
                        else lastOld[i].accumulateAndGet(started, Math::max);
                    }
                }
                statements.incrementAndGet();
            } catch (Exception e) {
                if (errors.incrementAndGet() <= 5) System.out.println("  statement failed: " + e);
            }
        }
    }

    private static int cli(String[] db, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(db));
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(p);
            code = BellowsCli.run(all.toArray(new String[0]));
        } finally {
            System.setOut(out);
        }
        if (code != 0) out.print(buf.toString(StandardCharsets.UTF_8));
        return code;
    }

    private static long pct(List<Long> nanos, int p) {
        if (nanos.isEmpty()) return -1;
        List<Long> sorted = new ArrayList<>(nanos);
        sorted.sort(null);
        int idx = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx)));
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.0f ms", nanos / 1e6);
    }
}
