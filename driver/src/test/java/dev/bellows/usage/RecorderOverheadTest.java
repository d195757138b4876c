package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.UsageFact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How much recording costs on the statement's thread, in that thread's CPU time (so other load on the machine
 * does not count): {@link UsageRecorder#record} alone (a load measurement, warmed up, several threads), and a
 * prepared statement end to end with recording on and off. Numbers go to
 * stderr and {@code target/usage-overhead.txt}; docs/performance.md has a run. Longer runs:
 * {@code ./mvnw -B -pl driver test -Dtest=RecorderOverheadTest -Dbellows.overhead.seconds=5}.
 * The assertions only catch gross regressions (a stack walk or a lock per call).
 */
class RecorderOverheadTest {
    static final double SECONDS = Double.parseDouble(System.getProperty("bellows.overhead.seconds", "0.4"));
    @TempDir Path dir;

    static UsageFact fact(String fp) {
        return new UsageFact("leads-email", "public.leads.user_email", UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH, fp);
    }

    /** One call of the code measured; {@code i} varies the statement. Each case is its own lambda (call site). */
    interface Op {
        void call(int i);
    }

    /** CPU time of the calling thread: what recording costs the application, whatever else runs on the machine. */
    static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Mean CPU nanoseconds per call over all threads, after a warm-up of the same length. */
    static double measure(int threads, java.util.function.Supplier<Op> op) throws Exception {
        run(threads, op.get(), (long) (SECONDS * 1e9)); // warm-up
        return run(threads, op.get(), (long) (SECONDS * 1e9));
    }

    static double run(int threads, Op op, long nanos) throws Exception {
        LongAdder calls = new LongAdder();
        LongAdder busy = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t * 7;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long count = 0;
                long start = CPU.getCurrentThreadCpuTime();
                int i = offset;
                while (!stop.get()) {
                    for (int k = 0; k < 1_000; k++) op.call(i++);
                    count += 1_000;
                }
                busy.add(CPU.getCurrentThreadCpuTime() - start);
                calls.add(count);
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        Thread.sleep(nanos / 1_000_000);
        stop.set(true);
        for (Thread th : ts) th.join();
        return (double) busy.sum() / calls.sum();
    }

    static UsageRecorder recorder() {
        return new UsageRecorder("app", UsageSettings.defaults(), () -> UsageRecorderTest.RULES, new UsageRecorderTest.MemoryStore()).manual();
    }

    @Test
    void recordingOnTheHotPath() throws Exception {
        List<UsageFact> one = List.of(fact("SELECT user_email FROM leads WHERE id = ?"));
        List<UsageFact> two = List.of(fact("UPDATE leads SET user_email = ? WHERE user_email = ?"),
            new UsageFact("leads-email", "public.leads.user_email", UsageFact.Kind.WRITE, UsageFact.Treatment.REWRITTEN,
                "UPDATE leads SET user_email = ? WHERE user_email = ?"));
        List<List<UsageFact>> many = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) many.add(List.of(fact("SELECT user_email FROM leads WHERE id = ? AND k = " + i)));
        int[] sinkHole = new int[1];
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "UsageRecorder.record, mean thread CPU ns per call (%.1f s per point, %d cores)%n", SECONDS,
            Runtime.getRuntime().availableProcessors()));
        out.append(String.format(Locale.ROOT, "%-44s %10s %10s%n", "case", "1 thread", "4 threads"));
        List<Object[]> cases = List.of(
            new Object[] {"harness only (no recording)", (java.util.function.Supplier<Op>) () -> i -> sinkHole[0] += i},
            new Object[] {"1 fact, same statement", (java.util.function.Supplier<Op>) () -> {
                UsageRecorder r = recorder();
                return i -> r.record("app", one);
            }},
            new Object[] {"2 facts (read + write), same statement", (java.util.function.Supplier<Op>) () -> {
                UsageRecorder r = recorder();
                return i -> r.record("app", two);
            }},
            new Object[] {"1 fact, 1,000 statements round robin", (java.util.function.Supplier<Op>) () -> {
                UsageRecorder r = recorder();
                return i -> r.record("app", many.get(i % 1_000));
            }});
        double[][] r = new double[cases.size()][2];
        for (int row = 0; row < cases.size(); row++) {
            @SuppressWarnings("unchecked")
            java.util.function.Supplier<Op> op = (java.util.function.Supplier<Op>) cases.get(row)[1];
            r[row][0] = measure(1, op);
            r[row][1] = measure(4, op);
            out.append(String.format(Locale.ROOT, "%-44s %10.1f %10.1f%n", cases.get(row)[0], r[row][0], r[row][1]));
        }
        report(out.toString());
        // a clock read, a stack walk or a lock per call would show; none may happen
        assertTrue(r[1][0] < 2_000, Arrays.toString(r[1]));
        assertTrue(r[3][1] < 20_000, Arrays.toString(r[3]));
    }

    @Test
    void statementsEndToEndWithRecordingOnAndOff() throws Exception {
        UsageDb db = UsageDb.create("usage_overhead", dir, "expand");
        db.exec("INSERT INTO leads (id, user_email, email) SELECT g, 'u' || g, 'u' || g FROM generate_series(1, 100) g");
        BellowsDataSource on = db.dataSource("overhead-on");
        BellowsDataSource off = db.dataSource("overhead-off", "bellows.usage", "off");
        int n = (int) Math.max(500, SECONDS * 2_000);
        int rounds = 7;
        double[] onTimes = new double[rounds];
        double[] offTimes = new double[rounds];
        try (Connection cOn = on.getConnection(); Connection cOff = off.getConnection()) {
            loop(cOn, n); // warm-up
            loop(cOff, n);
            for (int round = 0; round < rounds; round++) { // alternate which goes first
                if (round % 2 == 0) {
                    onTimes[round] = loop(cOn, n);
                    offTimes[round] = loop(cOff, n);
                } else {
                    offTimes[round] = loop(cOff, n);
                    onTimes[round] = loop(cOn, n);
                }
            }
        }
        Arrays.sort(onTimes);
        Arrays.sort(offTimes);
        report(String.format(Locale.ROOT, "prepared SELECT of the old column through Bellows, %d rounds x %d,"
            + " application thread CPU us/statement:%n"
            + "  bellows.usage=db   min %7.1f  median %7.1f%n  bellows.usage=off  min %7.1f  median %7.1f%n", rounds, n,
            onTimes[0], onTimes[rounds / 2], offTimes[0], offTimes[rounds / 2]));
        db.close();
    }

    private static double loop(Connection c, int n) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
            long t0 = CPU.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                ps.setInt(1, 1 + i % 100);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            }
            return (CPU.getCurrentThreadCpuTime() - t0) / 1_000.0 / n;
        }
    }

    private static synchronized void report(String text) throws Exception {
        System.err.print(text);
        Path f = Path.of("target", "usage-overhead.txt");
        Files.createDirectories(f.getParent());
        Files.writeString(f, text, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }
}
