package dev.bellows.flags;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Keeps one {@link PhaseTarget}'s phases and rules in line with their sources while the application runs.
 * One per driver configuration that has a rules file, started when its runtime is created.
 *
 * <p><b>Phases.</b> Highest precedence first: the {@code bellows.flags} table, the system property
 * {@code bellows.phase.<id>} or environment variable {@code BELLOWS_PHASE_<ID>}, the rules file (see
 * {@link PhaseOverrides}). The table is read before the runtime serves its first statement, then, in
 * {@code check} mode (the default), by the application's own connections whenever the last read is older than
 * {@code bellows.flags.staleness} ({@link FlagCheck}), and by this thread on a short-lived connection when no
 * statement has read it for {@code bellows.flags.poll} (a quiet instance); in {@code listen} mode on every
 * {@code NOTIFY bellows_flags} (the CLI sends one with each change), received by a daemon thread that holds
 * one dedicated pgjdbc connection in {@code LISTEN}, and every {@code bellows.flags.poll} (default 5 s) in case
 * a notification was missed. When the flag source fails the last known phases stay in force, a warning says
 * so, and the thread tries again with backoff (250 ms doubling up to the poll interval), reading the table
 * again as soon as it is back. System properties are read again every second.
 *
 * <p><b>Rules file.</b> A rules file given as a path is checked every {@code bellows.rules.poll} (default 2 s,
 * by modification time and size). A changed file that held still for one poll and loads is installed with
 * {@link PhaseTarget#setRules} (flags still apply on top); one that does not is rejected with an error
 * naming file and line, and the last good rules stay in force. {@code classpath:} rules are not watched.
 *
 * <p>Changes reach the runtime as {@link PhaseTarget#setPhase} / {@code setRules}, so they apply from each
 * connection's next statement, prepared statements included, never within one. The watcher changes the
 * runtime only when one of its sources changes; a phase set directly on the runtime stays until then.
 *
 * <p>This class starts the watcher and runs its thread's schedule; the jobs are done by {@link PhaseApplier}
 * (resolving and installing phases), {@link FlagCheck} and {@link QuietPoll} (check mode's reads),
 * {@link FlagSourceConnection} (the watcher's own connection), {@link SourceHealth} (outages and backoff),
 * {@link PhaseReport} (the heartbeat after a change) and {@link RulesFileWatch}.
 */
public final class FlagWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());
    private static final Map<PhaseTarget, FlagWatcher> WATCHERS = new ConcurrentHashMap<>();
    /** Default of {@code bellows.flags.poll}. */
    public static final long DEFAULT_FLAGS_POLL_MILLIS = 5_000;
    /** Default of {@code bellows.rules.poll}. */
    public static final long DEFAULT_RULES_POLL_MILLIS = 2_000;
    static final long INITIAL_BACKOFF_MILLIS = 250;
    static final long LOCAL_CHECK_MILLIS = 1_000;
    /** Socket timeout of the listening connection outside waits, so a silently dead peer is noticed. */
    static final int NETWORK_TIMEOUT_MILLIS = 15_000;

    /** Opens a plain pgjdbc connection (or one that unwraps to {@link PGConnection}) to the application's database. */
    @FunctionalInterface
    public interface ConnectionOpener {
        Connection open() throws SQLException;
    }

    private final PhaseTarget runtime;
    private final RulesFileWatch rulesFile;
    private final long flagsPollMillis;
    private final long rulesPollMillis;
    private final String label;
    /** {@code check} mode's reader on the application's connections; null in {@code listen} mode or without flags. */
    private final FlagCheck check;
    /** The sources and what is applied; its monitor guards them, {@link #health} and (listen mode) {@link #source}. */
    private final PhaseApplier phases;
    private final PhaseReport report;
    private final FlagSourceConnection source;
    private final SourceHealth health;
    /** check mode only. */
    private final QuietPoll quietPoll;
    private volatile boolean closed;
    private Thread thread;

    private FlagWatcher(PhaseTarget runtime, String rulesLocation, long flagsPollMillis, long rulesPollMillis,
                        long stalenessMillis, ConnectionOpener opener, UnaryOperator<String> systemProperties,
                        UnaryOperator<String> environment) {
        this.runtime = runtime;
        this.flagsPollMillis = flagsPollMillis;
        this.rulesPollMillis = rulesPollMillis;
        this.label = "Bellows flags [" + runtime.appName() + ", " + rulesLocation + "]";
        this.rulesFile = rulesPollMillis > 0 ? RulesFileWatch.of(rulesLocation, label) : null;
        this.check = flagsPollMillis > 0 && stalenessMillis > 0 ? new FlagCheck(this, stalenessMillis) : null;
        this.report = new PhaseReport(runtime, label);
        this.phases = new PhaseApplier(runtime, rulesLocation, label, systemProperties, environment, report);
        this.source = new FlagSourceConnection(opener, runtime.appName(), check == null);
        this.health = new SourceHealth(label, flagsPollMillis);
        this.quietPoll = check == null ? null
            : new QuietPoll(check, source, health, phases, runtime, label, flagsPollMillis);
    }

    /**
     * Starts watching for {@code runtime}, whose rules were loaded from {@code rulesLocation}: applies the phase
     * overrides and the database flags at once (so the first statement already runs in the fleet's phase),
     * then follows changes on a daemon thread. Returns null when there is nothing to watch (no rules file).
     * Never throws: an unreachable database is logged and retried.
     *
     * @param flagsPollMillis check mode: how often a quiet instance reads the flag table on a short-lived
     *     connection; listen mode: how often it is read besides notifications; 0: no database flags
     * @param stalenessMillis check mode ({@code > 0}): the oldest phases a statement starts on; 0: listen mode
     * @param rulesPollMillis how often the rules file is checked; 0: not watched
     */
    public static FlagWatcher start(PhaseTarget runtime, String rulesLocation, long flagsPollMillis,
                                    long stalenessMillis, long rulesPollMillis, ConnectionOpener opener) {
        return start(runtime, rulesLocation, flagsPollMillis, stalenessMillis, rulesPollMillis, opener,
            System::getProperty, System::getenv);
    }

    static FlagWatcher start(PhaseTarget runtime, String rulesLocation, long flagsPollMillis, long stalenessMillis,
                             long rulesPollMillis, ConnectionOpener opener, UnaryOperator<String> systemProperties,
                             UnaryOperator<String> environment) {
        Objects.requireNonNull(runtime, "runtime");
        if (rulesLocation == null) return null;
        FlagWatcher w = new FlagWatcher(runtime, rulesLocation, flagsPollMillis, rulesPollMillis, stalenessMillis,
            opener, systemProperties, environment);
        w.initialize();
        WATCHERS.put(runtime, w);
        if (w.flagsPollMillis > 0 || w.rulesFile != null) {
            Thread t = new Thread(w::run, "bellows-flags-" + runtime.appName());
            t.setDaemon(true);
            w.thread = t;
            t.start();
        }
        return w;
    }

    /** The watcher of {@code runtime}, or null when it has none. */
    public static FlagWatcher of(PhaseTarget runtime) {
        return WATCHERS.get(runtime);
    }

    /** The phase in force for each migration of the file and where it comes from, as last applied. */
    public Map<String, PhaseOverrides.Source> effectivePhases() {
        return phases.effective();
    }

    /** {@code check} mode's per-statement reader, or null ({@code listen} mode, or no database flags). */
    public FlagCheck check() {
        return check;
    }

    /** Whether the flag source answered its last read (false before the first successful read, or when off). */
    public boolean flagSourceReachable() {
        return health.reachable();
    }

    /** How many times the flag table has been read; for tests and diagnostics. */
    public long flagReads() {
        return phases.flagReads();
    }

    public PhaseTarget runtime() {
        return runtime;
    }

    /** Stops the thread and closes its connection; the runtime keeps the phases it has. */
    @Override public void close() {
        closed = true;
        WATCHERS.remove(runtime, this);
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (t == null) source.close(true);
    }

    // ------------------------------------------------------------------ the loop

    private void initialize() {
        try {
            phases.refreshLocal();
            if (flagsPollMillis > 0) {
                try {
                    long started = System.nanoTime();
                    source.open();
                    phases.readByWatcher(source.read(), started);
                    health.readAtStart();
                    if (check != null) {
                        check.readElsewhere(started);
                        source.close(true);
                    }
                } catch (SQLException | RuntimeException e) {
                    source.close(false);
                    health.unreachableAtStart(e, phases.resolvedNow());
                }
            }
            phases.apply(null);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, label + ": could not apply the phase flags at start; the rules file's phases stay", e);
        }
    }

    private void run() {
        long now = System.nanoTime();
        long nextPoll = now + TimeUnit.MILLISECONDS.toNanos(flagsPollMillis);
        // The first file check happens at once: the file may have changed since the runtime loaded it.
        long nextFile = now;
        long nextLocal = now + TimeUnit.MILLISECONDS.toNanos(LOCAL_CHECK_MILLIS);
        long pollNanos = TimeUnit.MILLISECONDS.toNanos(flagsPollMillis);
        try {
            while (!closed) {
                now = System.nanoTime();
                if (quietPoll != null) {
                    // check mode: statements read the flags; read them here only for a quiet instance (no monitor held)
                    quietPoll.pollIfDue(now);
                    nextPoll = quietPoll.due();
                }
                synchronized (phases) {
                    if (quietPoll == null && flagsPollMillis > 0) {
                        if (!source.isOpen()) {
                            if (now - health.nextConnectNanos() >= 0) {
                                try {
                                    source.open();
                                    long sent = System.nanoTime();
                                    phases.readByWatcher(source.read(), sent);
                                    health.recovered(source.where());
                                    phases.apply(null);
                                    nextPoll = System.nanoTime() + pollNanos;
                                } catch (SQLException | RuntimeException e) {
                                    failed(e);
                                }
                            }
                        } else if (now - nextPoll >= 0) {
                            nextPoll = now + pollNanos;
                            readAndApply();
                        }
                    }
                    now = System.nanoTime();
                    if (rulesFile != null && now - nextFile >= 0) {
                        RuleSet loaded = rulesFile.check(phases.base());
                        if (loaded != null) phases.newRules(loaded);
                        nextFile = now + TimeUnit.MILLISECONDS.toNanos(rulesPollMillis);
                    }
                    if (now - nextLocal >= 0) {
                        phases.refreshLocal();
                        phases.apply(null);
                        nextLocal = now + TimeUnit.MILLISECONDS.toNanos(LOCAL_CHECK_MILLIS);
                    }
                }
                report.flushIfWanted();
                long deadline = nextLocal;
                if (rulesFile != null) deadline = earlier(deadline, nextFile);
                if (flagsPollMillis > 0) {
                    long nextConnect = health.nextConnectNanos();
                    deadline = earlier(deadline, quietPoll == null && source.isOpen() ? nextPoll
                        : quietPoll == null || nextConnect - nextPoll > 0 ? nextConnect : nextPoll);
                }
                long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                if (source.isOpen()) {
                    PGNotification[] notes;
                    try {
                        notes = source.notifications((int) Math.min(waitMillis, Integer.MAX_VALUE));
                    } catch (SQLException | RuntimeException e) {
                        synchronized (phases) {
                            failed(e);
                        }
                        continue;
                    }
                    if (notes != null && notes.length > 0) {
                        nextPoll = System.nanoTime() + pollNanos;
                        synchronized (phases) {
                            readAndApply();
                        }
                    }
                } else if (!report.await(waitMillis, () -> closed)) {
                    break;
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, label + ": the watcher stopped unexpectedly; the phases in force stay", t);
        } finally {
            source.close(closed);
        }
    }

    /**
     * check mode: what a statement's check read on the application connection {@code raw}, still in auto-commit
     * there, sent at {@code sentAt}; a phase change reads the catalog on it first, and the heartbeat goes from the
     * watcher thread.
     */
    void offer(Map<String, Phase> read, Connection raw, long sentAt) {
        phases.countRead();
        // the latest read, which may be the quiet poll's if it was sent after this one and is not applied yet
        Map<String, Phase> latest = phases.record(read, sentAt);
        if (health.reachable() && latest.equals(phases.database())) return; // the common case takes no monitor
        synchronized (phases) {
            if (!health.reachable()) health.recovered(source.where());
            phases.offered(raw);
        }
    }

    /** check mode: a statement's read of the flags failed; the phases stay, the first failure is logged. */
    void checkFailed(Throwable e) {
        synchronized (phases) {
            health.checkFailed(e, PhaseApplier.format(phases.effective()));
        }
    }

    private static long earlier(long a, long b) {
        return a - b <= 0 ? a : b;
    }

    /** listen mode: reads the flags and applies them; a failure drops the connection and schedules a reconnect. */
    private void readAndApply() {
        try {
            long sent = System.nanoTime();
            phases.readByWatcher(source.read(), sent);
        } catch (SQLException | RuntimeException e) {
            failed(e);
            return;
        }
        phases.apply(null);
    }

    /** The watcher's connection failed: dropped, the source marked unreachable, a reconnect scheduled. Holding phases. */
    private void failed(Throwable e) {
        source.close(false);
        health.failed(e, source.where(), PhaseApplier.format(phases.effective()));
    }

    @Override public String toString() {
        return "FlagWatcher[" + runtime + ", reachable=" + health.reachable() + ", "
            + PhaseApplier.format(phases.effective()) + "]";
    }
}
