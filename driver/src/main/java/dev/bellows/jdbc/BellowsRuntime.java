package dev.bellows.jdbc;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import dev.bellows.usage.UsageSink;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What every connection of one driver configuration shares: the rules with their phases, the catalog of
 * managed tables and the {@link Rewriter} built from both. Obtain it with
 * {@code connection.unwrap(BellowsConnection.class).runtime()} or {@link BellowsDataSource#runtime()}.
 *
 * <p>The rewriter is replaced, never mutated: a phase change, new rules or a changed catalog install a new
 * one with a higher {@link #version()}. Statements compare that number at execute (an int comparison) and a
 * prepared statement whose rewrite changed is prepared again before it runs, never in the middle. The
 * catalog is read once on the first connection, again after DDL runs through the driver, and on
 * {@link #refreshCatalog()}; never per statement. Thread-safe.
 */
public final class BellowsRuntime implements dev.bellows.flags.PhaseTarget {
    private static final System.Logger LOG = System.getLogger(BellowsRuntime.class.getName());

    private final String appName;
    private final Rewriter.Options options;
    private final ConnectionSource source;
    private final AtomicReference<State> state;
    // Serialises catalog reads so an older read can never overwrite a newer one.
    private final Object catalogLock = new Object();
    private volatile long catalogReads; // written under catalogLock
    private volatile UsageSink sink = UsageSink.NONE;
    /** The table versions this configuration's connections present ({@code bellows.schema}); set once at creation. */
    private final SchemaView schemaView;
    /** Which database this configuration reaches (name, server address and port), read with the first catalog. */
    private volatile String database;
    // Built-in usage recording (bellows.usage); null when off or not started. Independent of setUsageSink.
    private volatile dev.bellows.usage.UsageRecorder recorder;
    /** bellows.flags.mode=check: read before statements when the phases are stale; null otherwise. Set once at creation. */
    volatile dev.bellows.flags.FlagCheck flagCheck;
    /** Shadow reads ({@code bellows.shadow}); null when off. */
    volatile ShadowReads shadow;

    /** Opens a pgjdbc connection of this configuration, for catalog reads outside application connections. */
    @FunctionalInterface
    interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** One immutable generation: rules, the catalog read for them, and the rewriter built from both. */
    static final class State {
        final RuleSet rules;
        final Catalog catalog;
        /** What {@link #catalog} was read for; null until it has been read. */
        final CatalogLoader.Needs loadedFor;
        final Rewriter rewriter;
        final int version;

        State(RuleSet rules, Catalog catalog, CatalogLoader.Needs loadedFor, Rewriter.Options options, int version) {
            this.rules = rules;
            this.catalog = catalog;
            this.loadedFor = loadedFor;
            this.rewriter = Rewriter.create(rules, catalog, options);
            this.version = version;
        }

        boolean catalogCovers(RuleSet r) {
            return loadedFor != null && loadedFor.covers(CatalogLoader.Needs.of(r));
        }
    }

    BellowsRuntime(RuleSet rules, String appName, SchemaView schemaView, Rewriter.Options options, ConnectionSource source) {
        this.appName = appName;
        this.schemaView = schemaView;
        // the view shapes * and RETURNING * in the rewritten SQL, as ViewedMetaData shapes getColumns
        this.options = options.newView(schemaView == SchemaView.NEW);
        this.source = source;
        CatalogLoader.Needs loaded = rules.isEmpty() ? CatalogLoader.Needs.NONE : null;
        this.state = new AtomicReference<>(new State(rules, CatalogLoader.LoadedCatalog.EMPTY, loaded, this.options, 1));
    }

    /** The rules in force, with their current phases. */
    public RuleSet rules() { return state.get().rules; }

    /** The catalog the rewriter resolves names with. */
    public Catalog catalog() { return state.get().catalog; }

    /** Increases whenever the rewriter is replaced (phase, rules or catalog change). */
    public int version() { return state.get().version; }

    /** The configuration's {@code bellows.schema}: which version of each managed table its connections present. */
    public SchemaView schemaView() { return schemaView; }

    /** The configuration's {@code bellows.appName}. */
    public String appName() { return appName; }

    /** Cache lookups, misses and time spent on misses of this configuration's rewriters (all generations). */
    public dev.bellows.rules.RewriteStats rewriteStats() { return options.stats(); }

    /**
     * An additional receiver of usage facts; {@link UsageSink#NONE} by default. Bellows' own recording
     * ({@code bellows.usage}, see {@link #usageRecorder()}) goes on regardless.
     */
    public void setUsageSink(UsageSink sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** Starts this configuration's usage recorder (once, when the runtime is registered). */
    synchronized void startUsage(dev.bellows.usage.UsageSettings settings) {
        if (recorder == null) recorder = dev.bellows.usage.UsageRecorder.create(appName, settings, this::rules, source::open);
    }

    /** Starts shadow reads when {@code bellows.shadow} is above 0 (once, after {@link #startUsage}). */
    synchronized void startShadow(double rate, int maxRows, dev.bellows.usage.UsageSettings settings) {
        if (shadow != null || rate <= 0) return;
        shadow = new ShadowReads(rate, maxRows, dev.bellows.usage.ShadowRecorder.create(recorder, settings, source::open), appName);
    }

    /** The recorder of shadow-read outcomes, or null when {@code bellows.shadow} is off. */
    public dev.bellows.usage.ShadowRecorder shadowRecorder() {
        ShadowReads s = shadow;
        return s == null ? null : s.recorder();
    }

    /** This configuration's usage recorder, or null when {@code bellows.usage=off}. */
    public dev.bellows.usage.UsageRecorder usageRecorder() { return recorder; }

    /**
     * Writes the usage recorded so far and marks this instance stopped, for an orderly shutdown (a JVM shutdown
     * hook does the same at exit). Statements run afterwards still work and are recorded again.
     */
    public void close() {
        dev.bellows.usage.UsageRecorder r = recorder;
        if (r != null) r.close();
        ShadowReads s = shadow;
        if (s != null) s.recorder().close();
    }

    /** Moves one migration to another phase; statements pick it up at their next execute. */
    public void setPhase(String migrationId, Phase phase) {
        Objects.requireNonNull(phase, "phase");
        // Validate the id once outside the update loop so an unknown id throws without side effects.
        state.get().rules.withPhase(migrationId, phase);
        state.updateAndGet(s -> new State(s.rules.withPhase(migrationId, phase), s.catalog, s.loadedFor, options, s.version + 1));
    }

    /**
     * Replaces the rules. When they name tables or columns the current catalog was not read for, the
     * catalog is read first on a connection of this configuration, so the new rules never run on a
     * catalog that breaks its contract.
     */
    public void setRules(RuleSet rules) throws SQLException {
        Objects.requireNonNull(rules, "rules");
        if (!state.get().catalogCovers(rules)) {
            CatalogLoader.Needs needs = CatalogLoader.Needs.of(rules);
            try (Connection c = source.open()) {
                if (database == null) database = CatalogLoader.database(c);
                synchronized (catalogLock) {
                    Catalog catalog = loadCatalog(c, needs);
                    warnMismatches(state.updateAndGet(s -> new State(rules, carry(catalog, s.catalog, rules), needs, options, s.version + 1)));
                }
            }
            return;
        }
        warnMismatches(state.updateAndGet(s -> new State(rules, s.catalog, s.loadedFor, options, s.version + 1)));
    }

    /** Reads the catalog again on a fresh connection of this configuration (e.g. after DDL run elsewhere). */
    public void refreshCatalog() throws SQLException {
        try (Connection c = source.open()) {
            refresh(c);
        }
    }

    /** Reads the catalog again on {@code connection}, inside its transaction if one is open. */
    @Override public void refreshCatalog(Connection connection) throws SQLException {
        refresh(connection instanceof ConnectionWrapper ? ((ConnectionWrapper) connection).delegate : connection);
    }

    // Called with catalogLock held.
    private Catalog loadCatalog(Connection c, CatalogLoader.Needs needs) throws SQLException {
        catalogReads++;
        return CatalogLoader.load(c, needs);
    }

    /** How many times this configuration has read the catalog (first connection, DDL, phase changes that needed it). */
    public long catalogReads() {
        return catalogReads;
    }

    /**
     * Whether the catalog read last has each new column and renamed table's new name that {@code phases} put past off,
     * so a phase change can go ahead without reading it again; the expand migration's DDL not seen yet says no.
     */
    @Override public boolean catalogReadyFor(Map<String, Phase> phases) {
        State s = state.get();
        if (s.loadedFor == null || !s.catalogCovers(s.rules)) return false;
        for (Migration m : s.rules.migrations()) {
            Phase p = phases.getOrDefault(m.id(), m.phase());
            if (p == Phase.OFF) continue;
            if (m.isTableRename()) {
                if (s.catalog.columns(m.schema(), m.toTable()) == null) return false;
                continue;
            }
            List<String> cols = s.catalog.columns(m.schema(), m.table());
            if (cols == null || !cols.containsAll(m.tos())) return false;
        }
        return true;
    }

    State state() {
        return state.get();
    }

    /** Reads the catalog on a new physical connection if it has never been read for the current rules. */
    void ensureCatalog(Connection raw) throws SQLException {
        if (database == null) database = CatalogLoader.database(raw);
        if (state.get().catalogCovers(state.get().rules)) return;
        synchronized (catalogLock) {
            State s = state.get();
            if (s.catalogCovers(s.rules)) return;
            install(loadCatalog(raw, CatalogLoader.Needs.of(s.rules)), CatalogLoader.Needs.of(s.rules));
        }
    }

    void refresh(Connection raw) throws SQLException {
        if (database == null) database = CatalogLoader.database(raw);
        synchronized (catalogLock) {
            CatalogLoader.Needs needs = CatalogLoader.Needs.of(state.get().rules);
            install(loadCatalog(raw, needs), needs);
        }
    }

    // Called with catalogLock held. An unchanged catalog keeps the rewriter, so prepared statements and the
    // rewrite cache survive DDL that did not touch managed tables.
    private void install(Catalog loaded, CatalogLoader.Needs needs) {
        State now = state.updateAndGet(s -> {
            Catalog catalog = carry(loaded, s.catalog, s.rules);
            return s.loadedFor != null && s.catalog.equals(catalog) && s.loadedFor.covers(needs) ? s
                : new State(s.rules, catalog, needs, options, s.version + 1);
        });
        warnMismatches(now);
    }

    // A drop seen by this process keeps the column order read before it (see LoadedCatalog.carryingOrder).
    private static Catalog carry(Catalog loaded, Catalog previous, RuleSet rules) {
        return loaded instanceof CatalogLoader.LoadedCatalog
            ? ((CatalogLoader.LoadedCatalog) loaded).carryingOrder(previous, rules) : loaded;
    }

    private volatile java.util.Set<String> warned = java.util.Set.of();

    /** The rules checked against the catalog, each problem logged once (at start, on reload, after DDL). */
    private void warnMismatches(State s) {
        if (s.loadedFor == null) return;
        List<String> problems = RuleCheck.problems(s.rules, s.catalog);
        java.util.Set<String> before = warned;
        for (String p : problems) {
            if (!before.contains(p)) LOG.log(System.Logger.Level.WARNING, p);
        }
        warned = java.util.Set.copyOf(problems);
    }

    /** Rewrites with the current rewriter; the rewriter promises not to throw, this makes sure of it. */
    static Rewrite rewrite(Rewriter rewriter, String sql) throws SQLException {
        return checked(rewriter, sql, null);
    }

    /** {@code sql} rewritten for {@code session}'s search path when it may name something managed. */
    static Rewrite rewrite(Rewriter base, String sql, Rewriter.Session session) throws SQLException {
        return checked(base, sql, session);
    }

    private static Rewrite checked(Rewriter rewriter, String sql, Rewriter.Session session) throws SQLException {
        Rewrite r;
        try {
            r = session == null ? rewriter.rewrite(sql) : rewriter.rewrite(sql, session);
        } catch (RuntimeException e) {
            throw Errors.internal("Bellows failed to rewrite the statement: " + e, e);
        }
        if (r.rejection() != null) throw Errors.rejected(r.rejection());
        return r;
    }

    /** The database this configuration reaches ({@code name@address:port}), or null before its first connection. */
    String database() { return database; }

    /** Hands a statement's usage facts to the sink; called once per execution. */
    void record(Rewrite rewrite) {
        List<UsageFact> facts = rewrite.facts();
        if (facts.isEmpty()) return;
        dev.bellows.usage.UsageRecorder r = recorder;
        if (r != null) r.record(appName, facts); // never throws
        try {
            sink.record(appName, facts);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "Bellows usage sink failed; the statement ran anyway", e);
        }
    }

    @Override public String toString() {
        State s = state.get();
        return "BellowsRuntime[" + appName + ", rules=" + s.rules.source() + ", version=" + s.version + "]";
    }
}
