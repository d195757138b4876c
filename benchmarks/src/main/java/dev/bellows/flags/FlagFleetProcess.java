package dev.bellows.flags;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One process of {@link FlagPropagation}'s fleet: instances {@code [from, to)}, each its own Bellows runtime and
 * flag watcher over this process's own HikariCP pool, driven by the parent over stdin/stdout; every statement and
 * every phase change of a runtime is written to a file the parent reads at the end.
 *
 * <p>Protocol (one line each): it prints {@code ready <instances> <seconds to start them>}; then answers
 * {@code ping} with {@code pong <System.nanoTime()>} (the parent checks that both processes share the monotonic
 * clock, as {@code CLOCK_MONOTONIC} does on Linux), starts the load on {@code go}, and on {@code stop} writes its
 * records and prints {@code done <statements> <errors>}.
 */
public final class FlagFleetProcess {
    // a strong reference: java.util.logging forgets loggers nobody holds, and their level with them
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger(FlagWatcher.class.getName());
    static final byte OFF = 0;
    static final byte EXPAND = 1;
    static final byte ERROR = -1;

    private FlagFleetProcess() {
    }

    public static void main(String[] args) {
        PrintStream protocol = System.out;
        System.setOut(System.err); // nothing but the protocol on stdout
        try {
            run(protocol);
        } catch (Throwable t) {
            t.printStackTrace();
            protocol.println("failed " + t.toString().replace('\n', ' '));
        } finally {
            protocol.flush();
            System.exit(0);
        }
    }

    private static void run(PrintStream protocol) throws Exception {
        QUIET.setLevel(java.util.logging.Level.WARNING);
        String url = System.getProperty("flags.child.url");
        String user = System.getProperty("flags.child.user", "");
        String password = System.getProperty("flags.child.password", "");
        String rules = System.getProperty("flags.child.rules");
        Path out = Path.of(System.getProperty("flags.child.out"));
        int id = Integer.getInteger("flags.child.id", 0);
        int from = Integer.getInteger("flags.child.from", 0);
        int to = Integer.getInteger("flags.child.to", 0);
        String design = System.getProperty("flags.design", "check");
        double rate = Double.parseDouble(System.getProperty("flags.rate", "2"));
        String staleness = System.getProperty("flags.staleness", "500ms");
        String poll = System.getProperty("flags.poll", "1s");
        String quietPoll = System.getProperty("flags.quietPoll", "5s");
        int pool = Integer.getInteger("flags.connections", 8);
        int threads = Integer.getInteger("flags.threads", pool);
        String listenUrl = System.getProperty("flags.child.listenUrl", "");

        PGSimpleDataSource base = new PGSimpleDataSource();
        base.setURL(url);
        if (!user.isEmpty()) base.setUser(user);
        if (!password.isEmpty()) base.setPassword(password);
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(base);
        hc.setPoolName("flags-process-" + id);
        hc.setMaximumPoolSize(pool);
        hc.setMinimumIdle(pool);
        long startNanos = System.nanoTime();
        try (HikariDataSource shared = new HikariDataSource(hc)) {
            int n = to - from;
            BellowsDataSource[] fleet = new BellowsDataSource[n];
            BellowsRuntime[] runtimes = new BellowsRuntime[n];
            for (int k = 0; k < n; k++) {
                BellowsDataSource ds = new BellowsDataSource(shared);
                ds.setRules(rules);
                ds.setAppName("inst-" + (from + k));
                ds.setProperty("bellows.usage", "off");
                ds.setProperty("bellows.rules.poll", "off");
                switch (design) {
                    case "check" -> {
                        ds.setFlagsMode("check");
                        ds.setFlagsStaleness(staleness);
                        ds.setFlagsPoll(quietPoll);
                    }
                    case "poll" -> {
                        ds.setFlagsMode("check");
                        ds.setFlagsStaleness("60m"); // statements never read: only the jittered poll
                        ds.setFlagsPoll(poll);
                    }
                    case "listen" -> {
                        ds.setFlagsMode("listen");
                        ds.setFlagsUrl(listenUrl);
                        ds.setFlagsPoll("5s");
                    }
                    default -> throw new IllegalArgumentException("flags.design: check, poll or listen, got " + design);
                }
                runtimes[k] = ds.runtime(); // creates the runtime and its watcher now
                fleet[k] = ds;
            }
            // one statement per instance before the load: its rewrite cached, its classes loaded, as in a running fleet
            for (int k = 0; k < n; k++) {
                try (Connection c = fleet[k].getConnection();
                     PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ? RETURNING email")) {
                    ps.setString(1, "warm-" + (from + k));
                    ps.setInt(2, from + k);
                    ps.executeQuery().close();
                }
            }
            protocol.printf(java.util.Locale.ROOT, "ready %d %.1f%n", n, (System.nanoTime() - startNanos) / 1e9);
            protocol.flush();

            AtomicBoolean stop = new AtomicBoolean();
            List<Recorder> recorders = new ArrayList<>();
            List<Thread> workers = new ArrayList<>();
            PhaseLog phases = new PhaseLog(runtimes);
            Thread sampler = new Thread(() -> phases.run(stop), "flags-phase-sampler");
            sampler.setDaemon(true);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                switch (line.trim()) {
                    case "ping" -> protocol.println("pong " + System.nanoTime());
                    case "go" -> {
                        sampler.start();
                        for (int w = 0; w < threads; w++) {
                            Recorder r = new Recorder();
                            recorders.add(r);
                            int worker = w;
                            Thread t = new Thread(() -> work(fleet, from, worker, threads, rate, stop, r),
                                "flags-worker-" + w);
                            t.setDaemon(true);
                            t.start();
                            workers.add(t);
                        }
                        protocol.println("going");
                    }
                    case "stop" -> {
                        stop.set(true);
                        for (Thread t : workers) t.join(10_000);
                        sampler.join(2_000);
                        long statements = 0;
                        long errors = 0;
                        try (DataOutputStream d = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(out)))) {
                            for (Recorder r : recorders) {
                                statements += r.size;
                                for (int k = 0; k < r.size; k++) if (r.phase[k] == ERROR) errors++;
                            }
                            d.writeInt((int) statements);
                            for (Recorder r : recorders) {
                                for (int k = 0; k < r.size; k++) {
                                    d.writeInt(r.instance[k]);
                                    d.writeLong(r.due[k]);
                                    d.writeLong(r.started[k]);
                                    d.writeByte(r.phase[k]);
                                }
                            }
                            phases.write(d, from);
                        }
                        protocol.println("done " + statements + " " + errors);
                        protocol.flush();
                        return;
                    }
                    default -> protocol.println("unknown " + line);
                }
                protocol.flush();
            }
        }
    }

    /** One worker: its share of the instances, each a Poisson stream of statements at {@code rate} per second. */
    private static void work(BellowsDataSource[] fleet, int from, int worker, int threads, double rate, AtomicBoolean stop,
                             Recorder rec) {
        List<Integer> mine = new ArrayList<>();
        for (int i = worker; i < fleet.length; i += threads) mine.add(i);
        if (mine.isEmpty()) return;
        long periodNanos = (long) (1e9 / rate);
        long[] due = new long[mine.size()];
        long now = System.nanoTime();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int k = 0; k < due.length; k++) due[k] = now + (long) (-Math.log(1 - random.nextDouble()) * periodNanos);
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
                if (stop.get()) return;
            }
            long dueAt = due[next];
            // exponential gaps (a Poisson stream per instance) with the configured mean
            due[next] += (long) (-Math.log(1 - random.nextDouble()) * periodNanos);
            int i = mine.get(next);
            String v = "p" + (from + i) + "w" + worker + "-" + (value++);
            long started = 0;
            byte ran = ERROR;
            try (Connection c = fleet[i].getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ? RETURNING email")) {
                ps.setString(1, v);
                ps.setInt(2, from + i);
                // the statement starts here: after the wait for a pooled connection (counted in the schedule's lag)
                started = System.nanoTime();
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    // in expand Bellows also writes email, so the returned value says which phase the statement ran in
                    ran = v.equals(rs.getString(1)) ? EXPAND : OFF;
                }
            } catch (Exception e) {
                if (started == 0) started = System.nanoTime();
                System.err.println("statement failed: " + e);
            }
            rec.add(from + i, dueAt, started, ran);
        }
    }

    /** A worker's statements, in primitive arrays (a run records a few hundred thousand). */
    private static final class Recorder {
        int size;
        int[] instance = new int[1024];
        long[] due = new long[1024];
        long[] started = new long[1024];
        byte[] phase = new byte[1024];

        void add(int i, long d, long s, byte p) {
            if (size == instance.length) {
                int n = size * 2;
                instance = java.util.Arrays.copyOf(instance, n);
                due = java.util.Arrays.copyOf(due, n);
                started = java.util.Arrays.copyOf(started, n);
                phase = java.util.Arrays.copyOf(phase, n);
            }
            instance[size] = i;
            due[size] = d;
            started[size] = s;
            phase[size] = p;
            size++;
        }
    }

    /**
     * The phase each runtime holds, sampled every 25 ms: when it changed. In listen and poll mode this is when the
     * instance would act on a change even without traffic; in check mode a runtime changes only when a statement
     * (or the quiet-instance poll) reads the flags.
     */
    private static final class PhaseLog {
        private final BellowsRuntime[] runtimes;
        private final byte[] last;
        private final List<long[]> changes = new ArrayList<>(); // {index, nanos, phase}

        PhaseLog(BellowsRuntime[] runtimes) {
            this.runtimes = runtimes;
            this.last = new byte[runtimes.length];
            java.util.Arrays.fill(last, ERROR);
        }

        void run(AtomicBoolean stop) {
            while (!stop.get()) {
                for (int k = 0; k < runtimes.length; k++) {
                    Migration m = runtimes[k].rules().get(FlagPropagation.ID);
                    byte p = m == null ? ERROR : m.phase() == Phase.EXPAND ? EXPAND : OFF;
                    if (p != last[k]) {
                        last[k] = p;
                        changes.add(new long[] {k, System.nanoTime(), p});
                    }
                }
                try {
                    Thread.sleep(25);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void write(DataOutputStream d, int from) throws java.io.IOException {
            d.writeInt(changes.size());
            for (long[] c : changes) {
                d.writeInt((int) c[0] + from);
                d.writeLong(c[1]);
                d.writeByte((byte) c[2]);
            }
        }
    }
}
