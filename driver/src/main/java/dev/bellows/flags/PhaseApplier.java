package dev.bellows.flags;

import dev.bellows.redact.Redact;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Resolves a watcher's phase sources (rules file, database flags, process overrides) and installs the result in its
 * {@link PhaseTarget}. Its monitor guards the sources; the watcher thread and statements applying what their check
 * read both take it.
 */
final class PhaseApplier {
    // FlagWatcher's logger: its messages keep the logger name they always had.
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());

    private final PhaseTarget runtime;
    private final String rulesLocation;
    private final String label;
    private final UnaryOperator<String> systemProperties;
    private final UnaryOperator<String> environment;
    private final PhaseReport report;
    private final Set<String> reportedInvalid = new HashSet<>();

    // Guarded by this (and by the watcher's start before its thread exists).
    private RuleSet base;
    private volatile Map<String, Phase> database = Map.of();
    /** check mode's poll read the catalog just before {@link #apply}: it need not read it again. */
    private boolean catalogJustRead;
    private Map<String, PhaseOverrides.Source> local = Map.of();
    private RuleSet appliedBase;
    private Map<String, Phase> appliedPhases;
    /**
     * The read of the flags sent last, whether applied yet or not. A read sent earlier can arrive later (the quiet-
     * instance poll waits for a pooled connection and the catalog while statements go on checking) and must not
     * replace what a later read found, or the instance would go back to the old phase. Lock-free, so a statement's
     * check that finds nothing new takes no monitor.
     */
    private final AtomicReference<Read> latest = new AtomicReference<>();

    /** One read of the flags, and {@code System.nanoTime()} when it was sent (it sees the flags as of then or later). */
    private record Read(Map<String, Phase> flags, long sentAt) {
    }

    private volatile Map<String, PhaseOverrides.Source> effective = Map.of();
    private volatile long flagReads;

    PhaseApplier(PhaseTarget runtime, String rulesLocation, String label, UnaryOperator<String> systemProperties,
                 UnaryOperator<String> environment, PhaseReport report) {
        this.runtime = runtime;
        this.rulesLocation = rulesLocation;
        this.label = label;
        this.systemProperties = systemProperties;
        this.environment = environment;
        this.report = report;
        this.base = runtime.rules();
        this.appliedBase = base;
        this.appliedPhases = phases(base);
    }

    /** The phase in force for each migration and where it comes from, as last applied. */
    Map<String, PhaseOverrides.Source> effective() {
        return effective;
    }

    /** How many times the flag table has been read. */
    long flagReads() {
        return flagReads;
    }

    /** The database flags as last read. */
    Map<String, Phase> database() {
        return database;
    }

    RuleSet base() {
        return base;
    }

    /** What the sources would resolve to now, formatted for a log line. */
    String resolvedNow() {
        return format(PhaseOverrides.resolve(base, database, local));
    }

    /**
     * The watcher's own read of the flags, sent at {@code sentAt} (at start, or in listen mode, where reads are made
     * one at a time holding this); a flag naming no migration is noted once.
     */
    void readByWatcher(Map<String, Phase> read, long sentAt) {
        flagReads++;
        for (String id : read.keySet()) {
            if (base.get(id) == null && reportedInvalid.add("flag:" + id)) {
                LOG.log(Level.DEBUG, label + ": flag '" + id + "' names no migration of the rules file; ignored");
            }
        }
        record(read, sentAt);
        database = read;
    }

    /**
     * check mode: notes a read sent at {@code sentAt}, unless one sent later was noted already; returns the flags of
     * the latest read, which is what is to be applied (by whichever thread gets there first). Takes no monitor.
     */
    Map<String, Phase> record(Map<String, Phase> read, long sentAt) {
        Read r = new Read(read, sentAt);
        return latest.accumulateAndGet(r, (cur, next) -> cur == null || next.sentAt - cur.sentAt >= 0 ? next : cur).flags();
    }

    /** A statement's read (check mode), counted before the monitor is taken. */
    void countRead() {
        flagReads++;
    }

    /**
     * check mode, after a statement's check {@link #record recorded} its read: applies the latest read on {@code raw}
     * (see {@link #apply}) when it differs from the flags in force. Called holding this.
     */
    void offered(Connection raw) {
        Map<String, Phase> read = latest.get().flags();
        if (read.equals(database)) return;
        database = read;
        apply(raw);
    }

    /** Whether the runtime's catalog has what the phases {@code read} resolves to presume (see PhaseTarget). */
    boolean catalogReadyFor(Map<String, Phase> read) {
        return runtime.catalogReadyFor(phasesOf(PhaseOverrides.resolve(base, read, local)));
    }

    private static Map<String, Phase> phasesOf(Map<String, PhaseOverrides.Source> resolved) {
        Map<String, Phase> phases = new LinkedHashMap<>();
        resolved.forEach((id, s) -> phases.put(id, s.phase()));
        return phases;
    }

    /**
     * check mode, after the quiet-instance poll recorded its read: applies the latest read; {@code catalogRead}: the
     * poll read the catalog just before. Called holding this.
     */
    void polled(boolean catalogRead) {
        database = latest.get().flags();
        catalogJustRead = catalogRead;
        try {
            apply(null);
        } finally {
            catalogJustRead = false;
        }
    }

    /** Reads the system properties and environment again. Called holding this (or at start). */
    void refreshLocal() {
        local = PhaseOverrides.local(base, systemProperties, environment, (name, message) -> {
            if (reportedInvalid.add(name + "=" + message)) LOG.log(Level.WARNING, label + ": " + message);
        });
    }

    /** The rules file changed and loaded: installs it with the flags and overrides on top. Called holding this. */
    void newRules(RuleSet loaded) {
        base = loaded;
        refreshLocal();
        apply(null);
    }

    /**
     * Installs what the sources say. {@code raw}: the application connection a statement's check read the flags on
     * (in auto-commit), where the catalog is read before a phase change; null on the watcher thread, which reads it
     * on a connection of its own. Called holding this.
     */
    void apply(Connection raw) {
        if (raw != null && base != appliedBase) {
            report.wakeUp(false); // new rules are installed by the watcher thread (setRules may need a connection of its own)
            return;
        }
        Map<String, PhaseOverrides.Source> resolved = PhaseOverrides.resolve(base, database, local);
        Map<String, Phase> phases = phasesOf(resolved);
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
        if (!phases.equals(appliedPhases) && !catalogJustRead && !runtime.catalogReadyFor(phases)) {
            // A phase change into expand usually follows DDL run elsewhere (the expand migration): read the catalog
            // first, or the new phase would run on a catalog without the new column and dual writes would not happen.
            // Only then: at a flip every instance of a fleet does this at once (1,000 reads of ~20 ms of server time).
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
        if (raw != null) report.wakeUp(true); // not on the application's thread: the flush takes a connection of its own
        else report.flushNow();
    }

    static String describe(Throwable e) {
        return Redact.message(e).replace('\n', ' ');
    }

    private static Map<String, Phase> phases(RuleSet rules) {
        Map<String, Phase> out = new LinkedHashMap<>();
        for (Migration m : rules.migrations()) out.put(m.id(), m.phase());
        return out;
    }

    static String format(Map<String, PhaseOverrides.Source> phases) {
        if (phases.isEmpty()) return "(no migrations)";
        StringJoiner j = new StringJoiner(", ");
        phases.forEach((id, s) -> j.add(id + "=" + s));
        return j.toString();
    }
}
