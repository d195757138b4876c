package dev.bellows.flags;

import dev.bellows.cli.BellowsCli;
import dev.bellows.testing.PostgresFixture;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 16 §1/§2, flag propagation: N application instances spread over {@code flags.processes} JVMs
 * ({@link FlagFleetProcess}, each its own HikariCP pool and N/K Bellows runtimes with their own watcher and
 * {@code bellows.appName}), each instance a Poisson stream of {@code UPDATE leads SET user_email = ? WHERE id = ?
 * RETURNING email} at {@code flags.rate} per second, while this process runs {@code bellows flags set} (the CLI, in
 * process) off → expand → off → …, one flip every {@code flags.period}. In expand Bellows also writes {@code email},
 * so the returned value says which phase each statement ran in. After the run it reads every statement the
 * processes recorded and reports, per instance and flip, counted from the moment {@code flags set} returned
 * (its commit is then visible to every server connection):
 * <ul>
 *   <li><b>acted</b>: to the start of the instance's first statement that ran in the new phase (0 when one
 *       already had before the return); includes the wait for the instance's own next statement;</li>
 *   <li><b>next statement</b>: to the start of its first statement after the return, in whatever phase (the
 *       part of "acted" that is the instance's traffic, not the design);</li>
 *   <li><b>old-phase window</b>: to the start of its last statement that still ran in the old phase (0 when
 *       none did) — what each design bounds;</li>
 *   <li><b>runtime</b>: to when its runtime held the new phase (sampled every 25 ms in its process);</li>
 * </ul>
 * and for the fleet the share of statements started after the return that ran in the old phase, the server's
 * client connections ({@code pg_stat_activity} every 50 ms), how many times {@code bellows.flags} was read, and
 * the rate achieved against the rate asked (a run that fell behind its schedule is marked as such).
 *
 * <p>Designs ({@code -Dflags.design}): {@code check} (the default mode: statements read the flags when older than
 * {@code flags.staleness}; a quiet instance reads them every {@code flags.quietPoll}, default 5s); {@code poll} (statements never read them, the watcher polls every {@code flags.poll}
 * with jitter on a pooled connection); {@code listen} (one LISTEN connection per instance, {@code bellows.flags.url}).
 * Not a test; run with {@code ./mvnw -q -B -pl benchmarks exec:exec@flags -Dflags.instances=100 -Dflags.processes=4}.
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

    /** One child process and its pipe. */
    private record Child(int id, int from, int to, Process process, BufferedReader out, PrintWriter in, Path records,
                         Path log) {
        String call(String line) throws IOException {
            in.println(line);
            in.flush();
            return expect();
        }

        String expect() throws IOException {
            String got = out.readLine();
            if (got == null || got.startsWith("failed")) {
                throw new IllegalStateException("process " + id + " (instances " + from + "-" + (to - 1) + ") "
                    + (got == null ? "ended" : got) + "; its log: " + log);
            }
            return got;
        }
    }

    static void run() throws Exception {
        int n = Integer.getInteger("flags.instances", 10);
        int processes = Math.max(1, Math.min(n, Integer.getInteger("flags.processes", 1)));
        String design = System.getProperty("flags.design", "check");
        double rate = Double.parseDouble(System.getProperty("flags.rate", "2"));
        String staleness = System.getProperty("flags.staleness", "500ms");
        String poll = System.getProperty("flags.poll", "1s");
        int pool = Integer.getInteger("flags.connections", 8);
        int threads = Integer.getInteger("flags.threads", pool);
        int flips = Integer.getInteger("flags.flips", 4);
        long periodMillis = Long.getLong("flags.period", 6000);
        long settleMillis = Long.getLong("flags.settle", 5000);
        if (!List.of("check", "poll", "listen").contains(design)) {
            throw new IllegalArgumentException("flags.design: check, poll or listen, got " + design);
        }
        String loadBefore = loadAverage();
        PostgresFixture fx = PostgresFixture.get();
        String url = fx.createDatabase("flagprop");
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE leads (id int PRIMARY KEY, user_email text, email text)");
            s.execute("INSERT INTO leads SELECT g, 'u' || g, NULL FROM generate_series(0, " + (n - 1) + ") g");
        }
        Path dir = Files.createTempDirectory("bellows-flagprop");
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: leads\n    from: user_email\n    to: email\n"
            + "    phase: off\n");
        String user = fx.user() == null ? "" : fx.user();
        String password = fx.password() == null ? "" : fx.password();
        String[] cliDb = {"--url", url, "--user", user, "--password", password, "--rules", rules.toString()};
        cli(cliDb, "flags", "set", ID, "off", "--reason", "start");
        String listenUrl = url + (url.contains("?") ? "&" : "?") + "user=" + user
            + (password.isEmpty() ? "" : "&password=" + password);

        System.out.printf(Locale.ROOT, "Flag propagation: design %s, %d instances at %.2f statements/s each (%.0f/s asked),"
                + " %d process%s, each one HikariCP pool of %d connections and %d worker threads%s; load average before: %s%n",
            design, n, rate, n * rate, processes, processes == 1 ? "" : "es", pool, threads,
            design.equals("check") ? ", staleness " + staleness + ", quiet poll " + System.getProperty("flags.quietPoll", "5s") : design.equals("poll") ? ", poll " + poll
                + " (+0-20 % jitter)" : "", loadBefore);

        List<Child> children = new ArrayList<>();
        long spawned = System.nanoTime();
        try (Connection monitor = fx.connect(url)) {
            for (int k = 0; k < processes; k++) {
                int from = (int) ((long) n * k / processes);
                int to = (int) ((long) n * (k + 1) / processes);
                children.add(spawn(k, from, to, url, user, password, rules, listenUrl, design, rate, staleness, poll, pool,
                    threads, dir));
            }
            for (Child c : children) {
                String ready = c.expect();
                if (!ready.startsWith("ready")) throw new IllegalStateException("process " + c.id + ": " + ready);
            }
            System.out.printf(Locale.ROOT, "  %d runtimes in %d processes started in %.1f s%n", n, processes,
                (System.nanoTime() - spawned) / 1e9);
            // The analysis compares System.nanoTime() across processes: on Linux it is CLOCK_MONOTONIC, one clock
            // for the machine. Check it: each child's reading must fall between ours before and after asking.
            long worst = 0;
            for (Child c : children) {
                for (int r = 0; r < 3; r++) {
                    long before = System.nanoTime();
                    long theirs = Long.parseLong(c.call("ping").substring(5));
                    long after = System.nanoTime();
                    if (theirs - before < 0 || after - theirs < 0) {
                        throw new IllegalStateException("process " + c.id + " does not share this clock: " + before
                            + " <= " + theirs + " <= " + after + " fails; the figures would mean nothing");
                    }
                    worst = Math.max(worst, after - before);
                }
            }
            System.out.printf(Locale.ROOT, "  clock: every process's System.nanoTime() fell inside ours (round trip <= %.1f ms)%n",
                worst / 1e6);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger peak = new AtomicInteger();
            AtomicInteger peakFlags = new AtomicInteger();
            List<Integer> samples = new ArrayList<>();
            Thread sampler = new Thread(() -> sample(monitor, stop, peak, peakFlags, samples), "flags-sampler");
            sampler.setDaemon(true);
            sampler.start();
            long readsBefore = flagReads(monitor);
            for (Child c : children) c.call("go");
            long loadStart = System.nanoTime();
            Thread.sleep(settleMillis);

            long[] t0 = new long[flips];
            long[] t1 = new long[flips];
            byte[] target = new byte[flips];
            for (int f = 0; f < flips; f++) {
                boolean toExpand = f % 2 == 0;
                target[f] = toExpand ? FlagFleetProcess.EXPAND : FlagFleetProcess.OFF;
                t0[f] = System.nanoTime();
                int code = cli(cliDb, "flags", "set", ID, toExpand ? "expand" : "off", "--reason", "flip " + f);
                t1[f] = System.nanoTime();
                if (code != 0) throw new IllegalStateException("flags set exited " + code);
                long rest = periodMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0[f]);
                if (rest > 0) Thread.sleep(rest);
            }
            long end = System.nanoTime();
            String loadAfter = loadAverage();
            long statementsInAll = 0;
            long errors = 0;
            for (Child c : children) {
                String[] done = c.call("stop").split(" ");
                statementsInAll += Long.parseLong(done[1]);
                errors += Long.parseLong(done[2]);
            }
            stop.set(true);
            sampler.join(2000);
            for (Child c : children) {
                if (!c.process.waitFor(30, TimeUnit.SECONDS)) c.process.destroy();
            }
            // after the processes ended: a backend flushes its table statistics when it exits
            Thread.sleep(1500);
            long reads = flagReads(monitor) - readsBefore;

            Records rec = Records.read(n, children);
            int median;
            synchronized (samples) {
                List<Integer> sorted = new ArrayList<>(samples);
                sorted.sort(null);
                median = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
            }
            report(rec, n, rate, t0, t1, target, loadStart, settleMillis, end, errors, statementsInAll, reads, median,
                peak.get(), peakFlags.get(), loadAfter);
        } finally {
            for (Child c : children) {
                if (c.process.isAlive()) c.process.destroyForcibly();
            }
        }
    }

    private static Child spawn(int k, int from, int to, String url, String user, String password, Path rules,
                               String listenUrl, String design, double rate, String staleness, String poll, int pool,
                               int threads, Path dir) throws IOException {
        int heapMb = 192 + (to - from);
        List<String> cmd = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + heapMb + "m", "-Xss512k", "-XX:+UseSerialGC",
            "-Dflags.child.id=" + k, "-Dflags.child.from=" + from, "-Dflags.child.to=" + to,
            "-Dflags.child.url=" + url, "-Dflags.child.user=" + user, "-Dflags.child.password=" + password,
            "-Dflags.child.rules=" + rules, "-Dflags.child.listenUrl=" + listenUrl,
            "-Dflags.child.out=" + dir.resolve("process-" + k + ".bin"),
            "-Dflags.design=" + design, "-Dflags.rate=" + rate, "-Dflags.staleness=" + staleness, "-Dflags.poll=" + poll,
            "-Dflags.connections=" + pool, "-Dflags.threads=" + threads,
            "-Dflags.quietPoll=" + System.getProperty("flags.quietPoll", "5s"),
            "-cp", System.getProperty("java.class.path"), FlagFleetProcess.class.getName()));
        Path log = dir.resolve("process-" + k + ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        return new Child(k, from, to, p, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)),
            new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8), dir.resolve("process-" + k + ".bin"), log);
    }

    private static void sample(Connection monitor, AtomicBoolean stop, AtomicInteger peak, AtomicInteger peakFlags,
                               List<Integer> samples) {
        try (PreparedStatement ps = monitor.prepareStatement("SELECT count(*), count(*) FILTER (WHERE"
            + " application_name LIKE 'bellows-flags%' OR query LIKE '/* bellows-flags */%' AND state = 'active')"
            + " FROM pg_stat_activity WHERE backend_type = 'client backend'"
            + " AND pid <> pg_backend_pid()")) {
            while (!stop.get()) {
                synchronized (monitor) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        int all = rs.getInt(1);
                        peak.accumulateAndGet(all, Math::max);
                        peakFlags.accumulateAndGet(rs.getInt(2), Math::max);
                        synchronized (samples) {
                            samples.add(all);
                        }
                    }
                }
                Thread.sleep(50);
            }
        } catch (Exception e) {
            if (!stop.get()) System.out.println("  sampler failed: " + e);
        }
    }

    /** Scans of bellows.flags so far (every read of the table is one); the statistics lag by up to a second. */
    private static long flagReads(Connection monitor) throws Exception {
        synchronized (monitor) {
            try (Statement s = monitor.createStatement()) {
                s.execute("SELECT pg_stat_clear_snapshot()");
                try (ResultSet rs = s.executeQuery("SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0)"
                    + " FROM pg_stat_user_tables WHERE schemaname = 'bellows' AND relname = 'flags'")) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        }
    }

    /** Every statement and runtime phase change the processes recorded, by instance, in start order. */
    private static final class Records {
        long[][] started;
        long[][] due;
        byte[][] phase;
        long[][] phaseAt;
        byte[][] phaseTo;

        static Records read(int n, List<Child> children) throws IOException {
            List<List<long[]>> stmts = new ArrayList<>();
            List<List<long[]>> changes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                stmts.add(new ArrayList<>());
                changes.add(new ArrayList<>());
            }
            for (Child c : children) {
                try (DataInputStream d = new DataInputStream(new BufferedInputStream(Files.newInputStream(c.records)))) {
                    int count = d.readInt();
                    for (int k = 0; k < count; k++) {
                        int i = d.readInt();
                        long due = d.readLong();
                        long started = d.readLong();
                        byte p = d.readByte();
                        stmts.get(i).add(new long[] {started, due, p});
                    }
                    int ch = d.readInt();
                    for (int k = 0; k < ch; k++) {
                        int i = d.readInt();
                        long at = d.readLong();
                        byte p = d.readByte();
                        changes.get(i).add(new long[] {at, p});
                    }
                }
            }
            Records r = new Records();
            r.started = new long[n][];
            r.due = new long[n][];
            r.phase = new byte[n][];
            r.phaseAt = new long[n][];
            r.phaseTo = new byte[n][];
            for (int i = 0; i < n; i++) {
                List<long[]> l = stmts.get(i);
                l.sort((a, b) -> Long.compare(a[0], b[0]));
                r.started[i] = l.stream().mapToLong(a -> a[0]).toArray();
                r.due[i] = l.stream().mapToLong(a -> a[1]).toArray();
                r.phase[i] = new byte[l.size()];
                for (int k = 0; k < l.size(); k++) r.phase[i][k] = (byte) l.get(k)[2];
                List<long[]> c = changes.get(i);
                c.sort((a, b) -> Long.compare(a[0], b[0]));
                r.phaseAt[i] = c.stream().mapToLong(a -> a[0]).toArray();
                r.phaseTo[i] = new byte[c.size()];
                for (int k = 0; k < c.size(); k++) r.phaseTo[i][k] = (byte) c.get(k)[1];
            }
            return r;
        }
    }

    private static void report(Records r, int n, double rate, long[] t0, long[] t1, byte[] target, long loadStart,
                               long settleMillis, long end, long errors, long statementsInAll, long reads, int medianConns,
                               int peakConns, int peakFlags, String loadAfter) {
        int flips = t0.length;
        long measuredFrom = loadStart + TimeUnit.MILLISECONDS.toNanos(settleMillis);
        List<Long> acted = new ArrayList<>();
        List<Long> next = new ArrayList<>();
        List<Long> window = new ArrayList<>();
        List<Long> runtime = new ArrayList<>();
        List<Long> lag = new ArrayList<>();
        long after = 0;
        long oldAfter = 0;
        long notActed = 0;
        long noRuntime = 0;
        long measured = 0;
        long lateInstances = 0;
        // acted p99 without the instance's own wait: acted minus the next statement (0 when that one was new)
        List<Long> beyondNext = new ArrayList<>();
        System.out.println("  flip                  flags set | acted after it returned p50   p99    max | old-phase"
            + " window: inst.  p99    max | old-phase stmts after return | stmts/s, lag p99");
        for (int f = 0; f < flips; f++) {
            long from = t0[f];
            long to = f + 1 < flips ? t0[f + 1] : end;
            List<Long> a = new ArrayList<>();
            List<Long> w = new ArrayList<>();
            long fAfter = 0;
            long fOld = 0;
            int late = 0;
            for (int i = 0; i < n; i++) {
                long[] st = r.started[i];
                byte[] ph = r.phase[i];
                long firstNew = Long.MAX_VALUE;
                long firstAfter = Long.MAX_VALUE;
                long lastOld = Long.MIN_VALUE;
                for (int k = 0; k < st.length; k++) {
                    long s = st[k];
                    if (s - from < 0 || s - to >= 0 || ph[k] == FlagFleetProcess.ERROR) continue;
                    if (ph[k] == target[f]) firstNew = Math.min(firstNew, s);
                    if (s - t1[f] >= 0) {
                        firstAfter = Math.min(firstAfter, s);
                        fAfter++;
                        if (ph[k] != target[f]) {
                            fOld++;
                            lastOld = Math.max(lastOld, s);
                        }
                    }
                }
                if (firstNew == Long.MAX_VALUE) {
                    notActed++;
                } else {
                    a.add(Math.max(0, firstNew - t1[f]));
                    if (firstAfter != Long.MAX_VALUE) {
                        next.add(firstAfter - t1[f]);
                        beyondNext.add(Math.max(0, firstNew - firstAfter));
                    }
                }
                w.add(lastOld == Long.MIN_VALUE ? 0 : lastOld - t1[f]);
                if (lastOld != Long.MIN_VALUE) late++;
                long rt = Long.MAX_VALUE;
                for (int k = 0; k < r.phaseAt[i].length; k++) {
                    long at = r.phaseAt[i][k];
                    if (at - from >= 0 && at - to < 0 && r.phaseTo[i][k] == target[f]) {
                        rt = at;
                        break;
                    }
                }
                if (rt == Long.MAX_VALUE) noRuntime++;
                else runtime.add(Math.max(0, rt - t1[f]));
            }
            List<Long> fLag = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < r.started[i].length; k++) {
                    long s = r.started[i][k];
                    if (s - from >= 0 && s - to < 0) fLag.add(Math.max(0, s - r.due[i][k]));
                }
            }
            acted.addAll(a);
            window.addAll(w);
            after += fAfter;
            oldAfter += fOld;
            lateInstances += late;
            System.out.printf(Locale.ROOT, "  %-21s %6.0f ms | %23s %6s %6s | %21d %6s %6s | %d of %d (%.3f %%) | %.0f, %s%n",
                target[f] == FlagFleetProcess.EXPAND ? "off -> expand" : "expand -> off (back)", (t1[f] - t0[f]) / 1e6,
                ms(pct(a, 50)), ms(pct(a, 99)), ms(pct(a, 100)), late, ms(pct(w, 99)), ms(pct(w, 100)), fOld, fAfter,
                fAfter == 0 ? 0 : 100.0 * fOld / fAfter, fLag.size() / ((to - from) / 1e9), ms(pct(fLag, 99)));
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < r.started[i].length; k++) {
                long s = r.started[i][k];
                if (s - measuredFrom >= 0 && s - end < 0) {
                    measured++;
                    lag.add(Math.max(0, s - r.due[i][k]));
                }
            }
        }
        double seconds = (end - measuredFrom) / 1e9;
        double achieved = measured / seconds;
        double asked = n * rate;
        boolean sustained = achieved >= 0.95 * asked && pct(lag, 99) <= 200_000_000L;
        System.out.printf(Locale.ROOT, "  all flips, %d instance-flips from `flags set` returning:%n", (long) n * flips);
        System.out.printf(Locale.ROOT, "    acted (first statement in the new phase):     p50 %s, p99 %s, max %s%s%n",
            ms(pct(acted, 50)), ms(pct(acted, 99)), ms(pct(acted, 100)),
            notActed == 0 ? "" : " (" + notActed + " ran no statement in the new phase before the next flip: not counted)");
        System.out.printf(Locale.ROOT, "    of which the instance's own next statement:    p50 %s, p99 %s, max %s%n",
            ms(pct(next, 50)), ms(pct(next, 99)), ms(pct(next, 100)));
        System.out.printf(Locale.ROOT, "    acted beyond its next statement:              p50 %s, p99 %s, max %s%n",
            ms(pct(beyondNext, 50)), ms(pct(beyondNext, 99)), ms(pct(beyondNext, 100)));
        System.out.printf(Locale.ROOT, "    old-phase window (last old-phase statement):  p50 %s, p99 %s, max %s (%d instance-flips had one)%n",
            ms(pct(window, 50)), ms(pct(window, 99)), ms(pct(window, 100)), lateInstances);
        System.out.printf(Locale.ROOT, "    runtime held the new phase (25 ms samples):   p50 %s, p99 %s, max %s%s%n",
            ms(pct(runtime, 50)), ms(pct(runtime, 99)), ms(pct(runtime, 100)),
            noRuntime == 0 ? "" : " (" + noRuntime + " not before the next flip: not counted)");
        System.out.printf(Locale.ROOT, "    statements started after the return that ran in the old phase: %d of %d (%.3f %%)%n",
            oldAfter, after, after == 0 ? 0 : 100.0 * oldAfter / after);
        System.out.printf(Locale.ROOT, "  rate: %.0f statements/s achieved of %.0f asked (%.1f %%), start lag behind schedule p50 %s,"
                + " p99 %s: %s%n", achieved, asked, 100 * achieved / asked, ms(pct(lag, 50)), ms(pct(lag, 99)),
            sustained ? "SUSTAINED" : "NOT SUSTAINED (under 95 % of the rate asked, or p99 lag over 200 ms): the figures"
                + " include the simulator's own backlog");
        System.out.printf(Locale.ROOT, "  %d statements in all, %d errors; bellows.flags read %d times (%.0f/s);"
                + " server connections (client backends, monitor excluded): median %d, peak %d, of them bellows-flags peak %d;"
                + " load average after: %s%n", statementsInAll, errors, reads, reads / ((end - loadStart) / 1e9), medianConns,
            peakConns, peakFlags, loadAfter);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
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
        long[] sorted = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.0f ms", nanos / 1e6);
    }
}
