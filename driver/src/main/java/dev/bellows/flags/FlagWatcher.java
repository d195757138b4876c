package dev.bellows.flags;

import dev.bellows.redact.Redact;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
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
    private final String rulesLocation;
    private final RulesFileWatch rulesFile;
    private final long flagsPollMillis;
    private final long rulesPollMillis;
    private final long maxBackoffMillis;
    private final ConnectionOpener opener;
    private final UnaryOperator<String> systemProperties;
    private final UnaryOperator<String> environment;
    private final String label;
    /** {@code check} mode's reader on the application's connections; null in {@code listen} mode or without flags. */
    private final FlagCheck check;
    private final Object wake = new Object();
    private boolean flushWanted;

    // Guarded by this (the watcher thread, and statements applying what their check read); the connection is the thread's. (and by start() before the thread exists).
    private RuleSet base;
    private volatile Map<String, Phase> database = Map.of();
    /** check mode's poll read the catalog just before {@link #apply}: it need not read it again. */
    private boolean catalogJustRead;
    private Map<String, PhaseOverrides.Source> local = Map.of();
    private RuleSet appliedBase;
    private Map<String, Phase> appliedPhases;
    private Connection conn;
    private PGConnection pg;
    private String where = "the bellows.flags table";
    private long backoffMillis;
    private long nextConnectNanos;
    private long downSinceNanos;
    private boolean outageReported;
    private final Set<String> reportedInvalid = new HashSet<>();

    private volatile Map<String, PhaseOverrides.Source> effective = Map.of();
    private volatile boolean reachable;
    private volatile long flagReads;
    private volatile boolean closed;
    private Thread thread;

    private FlagWatcher(PhaseTarget runtime, String rulesLocation, long flagsPollMillis, long rulesPollMillis,
                        long stalenessMillis, ConnectionOpener opener, UnaryOperator<String> systemProperties,
                        UnaryOperator<String> environment) {
        this.runtime = runtime;
        this.rulesLocation = rulesLocation;
        this.flagsPollMillis = flagsPollMillis;
        this.rulesPollMillis = rulesPollMillis;
        this.maxBackoffMillis = Math.max(flagsPollMillis, 100);
        this.backoffMillis = Math.min(INITIAL_BACKOFF_MILLIS, maxBackoffMillis);
        this.opener = opener;
        this.systemProperties = systemProperties;
        this.environment = environment;
        this.label = "Bellows flags [" + runtime.appName() + ", " + rulesLocation + "]";
        this.rulesFile = rulesPollMillis > 0 ? RulesFileWatch.of(rulesLocation, label) : null;
        this.check = flagsPollMillis > 0 && stalenessMillis > 0 ? new FlagCheck(this, stalenessMillis) : null;
        this.base = runtime.rules();
        this.appliedBase = base;
        this.appliedPhases = phases(base);
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
        return effective;
    }

    /** {@code check} mode's per-statement reader, or null ({@code listen} mode, or no database flags). */
    public FlagCheck check() {
        return check;
    }

    /** Whether the flag source answered its last read (false before the first successful read, or when off). */
    public boolean flagSourceReachable() {
        return reachable;
    }

    /** How many times the flag table has been read; for tests and diagnostics. */
    public long flagReads() {
        return flagReads;
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
        if (t == null) closeConnection(true);
    }

    // ------------------------------------------------------------------ the loop

    private void initialize() {
        try {
            refreshLocal();
            if (flagsPollMillis > 0) {
                try {
                    long started = System.nanoTime();
                    connect();
                    readFlags();
                    reachable = true;
                    if (check != null) {
                        check.readElsewhere(started);
                        closeConnection(true);
                    }
                } catch (SQLException | RuntimeException e) {
                    closeConnection();
                    outageReported = true;
                    downSinceNanos = System.nanoTime();
                    nextConnectNanos = downSinceNanos + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
                    LOG.log(Level.WARNING, label + ": the flag source is unreachable at start (" + describe(e)
                        + "); until it is reachable, phases come from system properties, the environment and the"
                        + " rules file: " + format(PhaseOverrides.resolve(base, database, local))
                        + ". Reconnecting with backoff.");
                }
            }
            apply(null);
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
        long jitter = 0;
        try {
            while (!closed) {
                now = System.nanoTime();
                if (check != null) {
                    // check mode: statements read the flags; read them here only for a quiet instance
                    nextPoll = check.checkedAt() + pollNanos + jitter;
                    if (now - nextPoll >= 0 && now - nextConnectNanos >= 0) {
                        pollOnce();
                        jitter = java.util.concurrent.ThreadLocalRandom.current().nextLong(pollNanos / 5 + 1);
                        nextPoll = check.checkedAt() + pollNanos + jitter;
                    }
                }
                synchronized (this) {
                    if (check != null) {
                        // polled above, outside the monitor
                    } else if (flagsPollMillis > 0) {
                        if (conn == null) {
                            if (now - nextConnectNanos >= 0) {
                                try {
                                    connect();
                                    readFlags();
                                    recovered();
                                    apply(null);
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
                        checkRulesFile();
                        nextFile = now + TimeUnit.MILLISECONDS.toNanos(rulesPollMillis);
                    }
                    if (now - nextLocal >= 0) {
                        refreshLocal();
                        apply(null);
                        nextLocal = now + TimeUnit.MILLISECONDS.toNanos(LOCAL_CHECK_MILLIS);
                    }
                }
                flushIfWanted();
                long deadline = nextLocal;
                if (rulesFile != null) deadline = earlier(deadline, nextFile);
                if (flagsPollMillis > 0) {
                    deadline = earlier(deadline, check == null && conn != null ? nextPoll
                        : check == null || nextConnectNanos - nextPoll > 0 ? nextConnectNanos : nextPoll);
                }
                long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                if (conn != null) {
                    PGNotification[] notes;
                    try {
                        notes = pg.getNotifications((int) Math.min(waitMillis, Integer.MAX_VALUE));
                    } catch (SQLException | RuntimeException e) {
                        synchronized (this) {
                            failed(e);
                        }
                        continue;
                    }
                    if (notes != null && notes.length > 0) {
                        nextPoll = System.nanoTime() + pollNanos;
                        synchronized (this) {
                            readAndApply();
                        }
                    }
                } else {
                    synchronized (wake) {
                        if (!flushWanted && !closed) {
                            try {
                                wake.wait(waitMillis);
                            } catch (InterruptedException e) {
                                if (closed) break;
                            }
                        }
                    }
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, label + ": the watcher stopped unexpectedly; the phases in force stay", t);
        } finally {
            closeConnection(closed);
        }
    }

    /** check mode: one read of the flags on a short-lived connection, for an instance that ran no statement lately. */
    private void pollOnce() {
        // No monitor is held while a connection is taken (it may come from the application's pool, whose
        // connections may be held by statements waiting for the monitor in offer()).
        long started = System.nanoTime();
        Map<String, Phase> read;
        try {
            connect();
            read = FlagStore.phases(conn);
            closeConnection(true);
        } catch (SQLException | RuntimeException e) {
            synchronized (this) {
                failed(e);
            }
            return;
        }
        check.readElsewhere(started);
        boolean changed = !read.equals(database);
        if (changed) {
            try {
                runtime.refreshCatalog(); // a phase change usually follows DDL: read the catalog first (see apply)
            } catch (SQLException | RuntimeException e) {
                LOG.log(Level.WARNING, label + ": could not read the catalog before changing phases (" + describe(e)
                    + "); using the one read last");
            }
        }
        synchronized (this) {
            flagReads++;
            recovered();
            database = read;
            catalogJustRead = changed;
            try {
                apply(null);
            } finally {
                catalogJustRead = false;
            }
        }
    }

    /**
     * check mode: what a statement's check read on the application connection {@code raw}, still in auto-commit
     * there; a phase change reads the catalog on it first, and the heartbeat goes from the watcher thread.
     */
    void offer(Map<String, Phase> read, Connection raw) {
        flagReads++;
        if (reachable && read.equals(database)) return; // the common case takes no monitor
        synchronized (this) {
            if (!reachable) recovered();
            if (read.equals(database)) return;
            database = read;
            apply(raw);
        }
    }

    /** check mode: a statement's read of the flags failed; the phases stay, the first failure is logged. */
    void checkFailed(Throwable e) {
        synchronized (this) {
            reachable = false;
            if (!outageReported) {
                outageReported = true;
                downSinceNanos = System.nanoTime();
                LOG.log(Level.WARNING, label + ": could not read bellows.flags on an application connection ("
                    + describe(e) + "); keeping the last known phases: " + format(effective)
                    + ". Reading again after the staleness interval.");
            }
        }
    }

    private void flushIfWanted() {
        synchronized (wake) {
            if (!flushWanted) return;
            flushWanted = false;
        }
        flushRecorder();
    }

    private static long earlier(long a, long b) {
        return a - b <= 0 ? a : b;
    }

    /** Reads the flags and applies them; a failure drops the connection and schedules a reconnect. */
    private void readAndApply() {
        try {
            readFlags();
        } catch (SQLException | RuntimeException e) {
            failed(e);
            return;
        }
        apply(null);
    }

    // ------------------------------------------------------------------ the flag source

    private void connect() throws SQLException {
        Connection c = opener.open();
        if (c == null) throw new SQLException("the PostgreSQL driver returned no connection");
        try {
            PGConnection p = c.unwrap(PGConnection.class);
            c.setAutoCommit(true);
            try {
                c.setNetworkTimeout(Runnable::run, NETWORK_TIMEOUT_MILLIS);
            } catch (SQLException | UnsupportedOperationException e) {
                // a pool proxy may refuse; the poll then relies on the driver's own socket timeout
            }
            try (Statement s = c.createStatement()) {
                String app = ("bellows-flags " + runtime.appName()).replace("'", "''");
                s.execute("SET application_name = '" + (app.length() > 60 ? app.substring(0, 60) : app) + "'");
                if (check == null) s.execute("LISTEN " + FlagStore.CHANNEL);
            }
            where = describe(c);
            conn = c;
            pg = p;
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private static String describe(Connection c) {
        try {
            return "bellows.flags in " + Redact.location(c.getMetaData().getURL());
        } catch (SQLException | RuntimeException e) {
            return "the bellows.flags table";
        }
    }

    private void readFlags() throws SQLException {
        Map<String, Phase> read = FlagStore.phases(conn);
        flagReads++;
        for (String id : read.keySet()) {
            if (base.get(id) == null && reportedInvalid.add("flag:" + id)) {
                LOG.log(Level.DEBUG, label + ": flag '" + id + "' names no migration of the rules file; ignored");
            }
        }
        database = read;
    }

    private void recovered() {
        reachable = true;
        backoffMillis = Math.min(INITIAL_BACKOFF_MILLIS, maxBackoffMillis);
        if (outageReported) {
            outageReported = false;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSinceNanos);
            LOG.log(Level.INFO, label + ": the flag source " + where + " is reachable again after "
                + Interval.format(ms) + "; flags read again");
        }
    }

    private void failed(Throwable e) {
        closeConnection();
        reachable = false;
        nextConnectNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        long delay = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, maxBackoffMillis);
        if (!outageReported) {
            outageReported = true;
            downSinceNanos = System.nanoTime();
            LOG.log(Level.WARNING, label + ": the flag source " + where + " is unreachable (" + describe(e)
                + "); keeping the last known phases: " + format(effective) + ". Reconnecting with backoff"
                + " (" + Interval.format(delay) + " doubling up to " + Interval.format(maxBackoffMillis) + ").");
        } else {
            LOG.log(Level.DEBUG, label + ": the flag source is still unreachable (" + describe(e) + ")");
        }
    }

    private static String describe(Throwable e) {
        return Redact.message(e).replace('\n', ' ');
    }

    private void closeConnection() {
        closeConnection(false);
    }

    /**
     * Drops the listening connection. On a clean stop it first stops listening, in case the connection goes
     * back to a pool; a failed connection is just closed (it may not answer).
     */
    private void closeConnection(boolean clean) {
        Connection c = conn;
        conn = null;
        pg = null;
        if (c != null) {
            if (clean) {
                try (Statement s = c.createStatement()) {
                    s.execute("UNLISTEN *");
                    s.execute("RESET application_name");
                } catch (SQLException | RuntimeException e) {
                    // closing anyway
                }
            }
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                // it is being dropped because it failed
            }
        }
    }

    // ------------------------------------------------------------------ the process overrides

    private void refreshLocal() {
        local = PhaseOverrides.local(base, systemProperties, environment, (name, message) -> {
            if (reportedInvalid.add(name + "=" + message)) LOG.log(Level.WARNING, label + ": " + message);
        });
    }

    // ------------------------------------------------------------------ the rules file

    private void checkRulesFile() {
        RuleSet loaded = rulesFile.check(base);
        if (loaded == null) return;
        base = loaded;
        refreshLocal();
        apply(null);
    }

    // ------------------------------------------------------------------ applying

    /**
     * Installs what the sources say. {@code raw}: the application connection a statement's check read the flags on
     * (in auto-commit), where the catalog is read before a phase change; null on the watcher thread, which reads it
     * on a connection of its own. Called holding this.
     */
    private void apply(Connection raw) {
        if (raw != null && base != appliedBase) {
            wakeUp(false); // new rules are installed by the watcher thread (setRules may need a connection of its own)
            return;
        }
        Map<String, PhaseOverrides.Source> resolved = PhaseOverrides.resolve(base, database, local);
        Map<String, Phase> phases = new LinkedHashMap<>();
        resolved.forEach((id, s) -> phases.put(id, s.phase()));
        Map<String, PhaseOverrides.Source> previous = effective;
        // Published before the runtime changes, so whoever sees the new phase also sees where it came from.
        effective = resolved;
        if (base != appliedBase) {
            try {
                runtime.setRules(PhaseOverrides.apply(base, resolved));
            } catch (SQLException | RuntimeException e) {
                effective = previous;
                // setRules reads the catalog first when the new rules name new tables; try again later
                LOG.log(Level.WARNING, label + ": the new rules are not installed yet (" + describe(e)
                    + "); the previous rules stay in force and installing is retried");
                return;
            }
            LOG.log(Level.INFO, label + ": installed the rules of " + rulesLocation + "; phases " + format(resolved));
            appliedBase = base;
            appliedPhases = phases;
            return;
        }
        if (!phases.equals(appliedPhases) && !catalogJustRead) {
            // A phase change usually follows DDL run elsewhere (the expand migration): read the catalog first,
            // or the new phase would run on a catalog without the new column and dual writes would not happen.
            try {
                if (raw != null) runtime.refreshCatalog(raw);
                else runtime.refreshCatalog();
            } catch (SQLException | RuntimeException e) {
                LOG.log(Level.WARNING, label + ": could not read the catalog before changing phases (" + describe(e)
                    + "); using the one read last");
            }
        }
        boolean changed = false;
        for (Map.Entry<String, Phase> e : phases.entrySet()) {
            Phase before = appliedPhases.get(e.getKey());
            if (before == e.getValue()) continue;
            changed = true;
            try {
                runtime.setPhase(e.getKey(), e.getValue());
                LOG.log(Level.INFO, label + ": " + e.getKey() + " " + (before == null ? "?" : before.label()) + " -> "
                    + resolved.get(e.getKey()));
            } catch (IllegalArgumentException notThere) {
                // the runtime's rules were replaced in code and no longer have this migration
                LOG.log(Level.DEBUG, label + ": " + e.getKey() + " is not in the runtime's rules; flag not applied");
            }
        }
        appliedPhases = phases;
        // report the new phases now, not a flush interval later: a move back from contract waits for these heartbeats
        if (!changed) return;
        if (raw != null) wakeUp(true); // not on the application's thread: the flush takes a connection of its own
        else flushRecorder();
    }

    private void wakeUp(boolean flush) {
        synchronized (wake) {
            if (flush) flushWanted = true;
            wake.notifyAll();
        }
    }

    private void flushRecorder() {
        dev.bellows.usage.UsageRecorder recorder = runtime.usageRecorder();
        if (recorder != null && recorder.isRunning()) {
            try {
                recorder.flush();
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, label + ": could not report the new phases at once (" + describe(e) + ")");
            }
        }
    }

    private static Map<String, Phase> phases(RuleSet rules) {
        Map<String, Phase> out = new LinkedHashMap<>();
        for (Migration m : rules.migrations()) out.put(m.id(), m.phase());
        return out;
    }

    private static String format(Map<String, PhaseOverrides.Source> phases) {
        if (phases.isEmpty()) return "(no migrations)";
        StringJoiner j = new StringJoiner(", ");
        phases.forEach((id, s) -> j.add(id + "=" + s));
        return j.toString();
    }

    @Override public String toString() {
        return "FlagWatcher[" + runtime + ", reachable=" + reachable + ", " + format(effective) + "]";
    }
}
