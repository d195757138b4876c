package dev.bellows.usage;

import dev.bellows.redact.Redact;
import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Records which statements of which application still use deprecated columns, and writes that down
 * periodically. One recorder per driver configuration; it is that configuration's "instance" in
 * {@code bellows status}.
 *
 * <p><b>Hot path</b> ({@link #record}): lock-free, allocation-free and clock-free for statements seen before:
 * one {@link ConcurrentHashMap} lookup and one {@link LongAdder} increment per fact. Counts are aggregated per
 * (migration, column, kind, treatment, fingerprint, application), with first use (when the key was admitted)
 * and last use (stamped by the flush that finds it used: never earlier than the real one, at most a flush
 * interval later). One sample call site per fingerprint is taken with a stack walk, at most once a minute per
 * fingerprint (by a clock each flush advances). Memory is bounded: at most {@code maxFingerprints} keys (and
 * 8 M characters of fingerprint text); beyond that a use is still counted, under its migration, column, kind
 * and treatment with an empty fingerprint, and the overflow is reported. Recording never throws, never blocks
 * on I/O and never fails the statement.
 *
 * <p><b>Flushing</b>: a daemon thread drains the counters every flush interval and hands them, with a heartbeat,
 * to the store ({@code bellows.usage}: database, file or log). A batch that cannot be written is kept and
 * retried under the same sequence number, so the database counts it exactly once; usage counted meanwhile
 * waits in memory, bounded by the same key cap. {@link #close()} (and a JVM shutdown hook) flushes
 * everything and marks the instance stopped.
 */
public final class UsageRecorder implements UsageSink, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.bellows.usage");
    /** How long a final flush (close, JVM exit) may take. */
    static final long FINAL_FLUSH_MILLIS = 5_000;

    private static final Set<UsageRecorder> RUNNING = ConcurrentHashMap.newKeySet();
    private static volatile boolean jvmExiting;
    private static boolean hookInstalled;

    /** Opens a plain (pgjdbc) connection to the application's database, for one flush. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    private final String instanceId = randomId();
    private final String appName;
    private final UsageSettings settings;
    private final Supplier<RuleSet> rules;
    private final UsageStore store;
    private final long startedAt = System.currentTimeMillis();

    // ---- hot-path state
    private final UsageCounters counters;
    private final LongAdder internalErrors = new LongAdder();
    private volatile boolean running;

    // ---- flusher state: guarded by flushLock
    private final ReentrantLock flushLock = new ReentrantLock();
    private Map<RowKey, Batch.Row> pending = new HashMap<>();
    private Batch inflight;
    private long seq;
    private boolean failing;
    private long lastFailureLog;
    /** The flusher thread; a thread that is no longer this one stops (so a restart never leaves two). */
    private volatile Thread flusher;
    // tests: no flusher thread, flushes only on flush()/close()
    private volatile boolean manual;

    private record RowKey(UsageFact fact, String app) {
    }

    UsageRecorder(String appName, UsageSettings settings, Supplier<RuleSet> rules, UsageStore store) {
        this.appName = appName;
        this.settings = settings;
        this.rules = rules;
        this.store = store;
        this.counters = new UsageCounters(settings.maxFingerprints());
    }

    /**
     * A recorder for one driver configuration, or null when {@code settings} say {@code off}. Its flusher starts
     * now when the rules are not empty, otherwise with the first recorded use.
     */
    public static UsageRecorder create(String appName, UsageSettings settings, Supplier<RuleSet> rules, ConnectionSource source) {
        UsageStore store = switch (settings.mode()) {
            case OFF -> null;
            case DB -> new DbStore(source, settings.retention(), () -> 0);
            case FILE -> new FileStore(settings.file());
            case LOG -> new LogStore();
        };
        if (store == null) return null;
        UsageRecorder r = new UsageRecorder(appName, settings, rules, store);
        if (!rules.get().isEmpty()) r.ensureRunning();
        return r;
    }

    // ------------------------------------------------------------------ hot path

    @Override public void record(String appName, List<UsageFact> facts) {
        try {
            if (!running) ensureRunning();
            counters.count(appName, facts);
        } catch (Throwable e) {
            internalErrors.increment();
            if (internalErrors.sum() == 1) {
                LOG.log(System.Logger.Level.WARNING, "Bellows usage recording failed (the statement ran anyway): "
                    + e.getClass().getName() + ": " + Redact.message(e));
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /** Starts the flusher unless it runs (or the JVM is exiting). Off the hot path: only when not running. */
    synchronized void ensureRunning() {
        if (running || jvmExiting) return;
        if (manual) {
            running = true;
            return;
        }
        installHook();
        Thread t = new Thread(this::loop, "bellows-usage-" + appName + "-" + instanceId);
        t.setDaemon(true);
        flusher = t;
        running = true;
        RUNNING.add(this);
        t.start();
    }

    private static synchronized void installHook() {
        if (hookInstalled) return;
        hookInstalled = true;
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(UsageRecorder::closeAllAtExit, "bellows-usage-exit"));
        } catch (IllegalStateException e) {
            jvmExiting = true;
        }
    }

    /** Flushes every running recorder at JVM exit, in parallel, for at most {@link #FINAL_FLUSH_MILLIS}. */
    private static void closeAllAtExit() {
        jvmExiting = true;
        List<Thread> closers = new ArrayList<>();
        for (UsageRecorder r : RUNNING) {
            Thread t = new Thread(r::close, "bellows-usage-exit-" + r.instanceId);
            t.setDaemon(true);
            t.start();
            closers.add(t);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINAL_FLUSH_MILLIS + 1_000);
        for (Thread t : closers) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void loop() {
        Thread me = Thread.currentThread();
        long intervalNanos = TimeUnit.MILLISECONDS.toNanos(settings.flushIntervalMillis());
        while (flusher == me) {
            flushLock.lock();
            try {
                if (flusher == me) cycle(false);
            } catch (Throwable e) {
                LOG.log(System.Logger.Level.WARNING, "Bellows usage flush failed unexpectedly; will retry", e);
            } finally {
                flushLock.unlock();
            }
            long until = System.nanoTime() + intervalNanos;
            long left;
            while (flusher == me && (left = until - System.nanoTime()) > 0) LockSupport.parkNanos(this, left);
        }
    }

    /**
     * Writes everything recorded so far and the heartbeat, now, on the calling thread. Returns whether the store
     * took it; when it did not, the usage stays in memory for the next attempt.
     */
    public boolean flush() {
        flushLock.lock();
        try {
            return cycle(false);
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * Stops the flusher, then writes everything recorded and marks this instance stopped (an orderly stop is not
     * silence). Use recorded afterwards starts the flusher again. Never throws.
     */
    @Override public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = flusher;
            flusher = null;
            RUNNING.remove(this);
        }
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(FINAL_FLUSH_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (flushLock.tryLock(FINAL_FLUSH_MILLIS, TimeUnit.MILLISECONDS)) {
                try {
                    if (!cycle(true)) {
                        long lost = pendingUses();
                        if (lost > 0) {
                            LOG.log(System.Logger.Level.WARNING, "Bellows could not write " + lost
                                + " recorded uses of deprecated columns to " + store.describe() + " on close; they are kept"
                                + " in memory and written if this instance records again");
                        }
                    }
                } finally {
                    flushLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.WARNING, "Bellows usage: final flush failed", e);
        }
    }

    /** No flusher thread: usage is written only by {@link #flush()} and {@link #close()}. For tests. */
    synchronized UsageRecorder manual() {
        manual = true;
        return this;
    }

    /** Stops flushing without writing anything or marking the instance stopped, as a crash would. For tests. */
    void halt() {
        Thread t;
        synchronized (this) {
            running = true; // never restarted: a crashed instance stays silent
            t = flusher;
            flusher = null;
            RUNNING.remove(this);
        }
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(FINAL_FLUSH_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ flushing (flushLock held)

    private boolean cycle(boolean stopping) {
        counters.tick();
        drain();
        if (inflight != null) {
            if (!attempt(inflight)) return false;
            inflight = null;
        }
        List<Batch.Row> rows = new ArrayList<>(pending.values());
        // one lock order for every instance's upserts, so concurrent flushes cannot deadlock
        rows.sort(Comparator.comparing(Batch.Row::migrationId).thenComparing(Batch.Row::column)
            .thenComparing(Batch.Row::kind).thenComparing(Batch.Row::treatment)
            .thenComparing(Batch.Row::fingerprintHash).thenComparing(Batch.Row::app));
        pending = new HashMap<>();
        inflight = new Batch(++seq, List.copyOf(rows), heartbeat(stopping));
        if (!attempt(inflight)) return false;
        inflight = null;
        return true;
    }

    private void drain() {
        long now = System.currentTimeMillis();
        counters.forEach((app, c) -> take(app, c, now));
    }

    private void take(String app, UsageCounters.Counter c, long now) {
        long n = c.count.sumThenReset();
        if (n == 0) return;
        if (c.stored == null) {
            c.stored = Fingerprints.stored(c.fact.fingerprint());
            c.hash = Fingerprints.hash(c.fact.fingerprint());
        }
        UsageFact f = c.fact;
        Batch.Row row = new Batch.Row(f.migrationId(), f.column(), label(f.kind()), f.treatment().label(), c.stored, c.hash,
            app, n, c.firstSeen, Math.max(c.firstSeen, now), c.sample == null ? null : c.sample.site);
        pending.merge(new RowKey(f, app), row, (a, b) -> new Batch.Row(a.migrationId(), a.column(), a.kind(), a.treatment(),
            a.fingerprint(), a.fingerprintHash(), a.app(), a.count() + b.count(), Math.min(a.firstSeen(), b.firstSeen()),
            Math.max(a.lastSeen(), b.lastSeen()), b.callSite() != null ? b.callSite() : a.callSite()));
    }

    static String label(UsageFact.Kind k) {
        return k == UsageFact.Kind.READ ? "read" : "write";
    }

    private boolean attempt(Batch b) {
        try {
            store.write(b);
            if (failing) {
                failing = false;
                LOG.log(System.Logger.Level.INFO, "Bellows usage: writing to " + store.describe() + " works again");
            }
            return true;
        } catch (Exception e) {
            long now = System.currentTimeMillis();
            // once when a failure starts, then at most every 5 minutes while it lasts
            if (!failing || now - lastFailureLog > 300_000) {
                lastFailureLog = now;
                LOG.log(System.Logger.Level.WARNING, "Bellows could not write usage to " + store.describe() + " ("
                    + describe(e) + "); " + pendingUses() + " recorded uses are kept in memory and retried every "
                    + settings.flushIntervalMillis() + " ms");
            }
            failing = true;
            return false;
        }
    }

    private static String describe(Exception e) {
        String state = e instanceof SQLException s && s.getSQLState() != null ? "SQLState " + s.getSQLState() + ": " : "";
        return state + (e.getMessage() == null ? e.getClass().getSimpleName() : Redact.message(e));
    }

    private Batch.Heartbeat heartbeat(boolean stopping) {
        RuleSet r = rules.get();
        Map<String, String> phases = new LinkedHashMap<>();
        for (Migration m : r.migrations()) phases.put(m.id(), m.phase().label());
        return new Batch.Heartbeat(instanceId, appName, host(), ProcessHandle.current().pid(), startedAt,
            settings.flushIntervalMillis(), phases, r.contentHash(), r.source(), r.migrations(), counters.overflowed(), stopping);
    }

    // ------------------------------------------------------------------ introspection

    /** This instance's id in {@code bellows.instances}. */
    public String instanceId() { return instanceId; }

    public String appName() { return appName; }

    public UsageSettings settings() { return settings; }

    /** Uses counted without their fingerprint because the cap was reached, since start. */
    public long overflowed() { return counters.overflowed(); }

    /** Distinct keys held (at most {@code maxFingerprints}). */
    public int keys() { return counters.keys(); }

    /** Uses recorded but not yet written (counted in memory, pending or in a batch being retried). */
    public long pendingUses() {
        long n = 0;
        n += counters.uncounted();
        flushLock.lock();
        try {
            for (Batch.Row r : pending.values()) n += r.count();
            if (inflight != null) for (Batch.Row r : inflight.rows()) n += r.count();
        } finally {
            flushLock.unlock();
        }
        return n;
    }

    /** Whether the flusher thread is running. */
    public boolean isRunning() { return running && (manual || flusher != null); }

    @Override public String toString() {
        return "UsageRecorder[" + appName + " " + instanceId + " -> " + store.describe() + "]";
    }

    // ------------------------------------------------------------------ helpers

    private static String randomId() {
        return String.format("%012x", ThreadLocalRandom.current().nextLong() & 0xffffffffffffL);
    }

    private static volatile String hostName;

    static String host() {
        String h = hostName;
        if (h != null) return h;
        h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                h = "unknown";
            }
        }
        hostName = h;
        return h;
    }
}
