package dev.bellows.jdbc;

import dev.bellows.rules.Migration;
import dev.bellows.rules.ParamPlan;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.UsageFact;
import dev.bellows.usage.ShadowRecorder;
import dev.bellows.usage.ShadowRecorder.Outcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * Shadow reads ({@code bellows.shadow}): for a sampled query that reads the old column of a migration in expand,
 * after the application's own execution has succeeded and its result is in hand, runs the statement again as
 * expand sends it and as switch would rewrite it, both in one snapshot, compares the two results and counts the
 * outcome. The application's statement, result and transaction are never touched: the copies run in a
 * {@code REPEATABLE READ READ ONLY} transaction of their own when the connection is in autocommit, or inside a
 * savepoint of the application's {@code REPEATABLE READ} transaction; anything else is not shadowed. A failure
 * of the copies is counted, never thrown.
 */
final class ShadowReads {
    private static final System.Logger LOG = System.getLogger(ShadowReads.class.getName());

    /** Binds the application's current parameters to a copy prepared with {@code plan}. */
    @FunctionalInterface
    interface Binder {
        /** Returns false when the parameters cannot be bound twice (a stream read once). */
        boolean bind(PreparedStatement copy, ParamPlan plan) throws SQLException;
    }

    private final double rate;
    private final int maxRows;
    private final ShadowRecorder recorder;
    private final String app;
    /** Switch-phase rewriters of the current state, one per migration; replaced with the state. */
    private volatile Cache cache = new Cache(null);

    private record Cache(BellowsRuntime.State state, Map<String, Rewriter> byMigration) {
        Cache(BellowsRuntime.State state) {
            this(state, new ConcurrentHashMap<>());
        }
    }

    ShadowReads(double rate, int maxRows, ShadowRecorder recorder, String app) {
        this.rate = rate;
        this.maxRows = maxRows;
        this.recorder = recorder;
        this.app = app;
    }

    ShadowRecorder recorder() { return recorder; }

    /** After the application's query succeeded: maybe shadow it. Never throws, never changes the application's work. */
    void after(ConnectionWrapper c, Rewrite app, Binder binder) {
        if (app.facts().isEmpty() || (rate < 1.0 && ThreadLocalRandom.current().nextDouble() >= rate)) return;
        BellowsRuntime.State state = c.runtime.state();
        Migration m = null;
        UsageFact fact = null;
        for (UsageFact f : app.facts()) {
            if (f.kind() != UsageFact.Kind.READ) continue;
            Migration x = state.rules.get(f.migrationId());
            if (x != null && x.phase() == Phase.EXPAND && x.to() != null && !x.isTableRename()) {
                m = x;
                fact = f;
                break;
            }
        }
        if (m == null) return;
        try {
            Outcome o = shadow(c, state, m, app, binder);
            if (o != null) recorder.record(m.id(), fact.fingerprint(), this.app, o);
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "Bellows shadow read failed", e);
            recorder.record(m.id(), fact.fingerprint(), this.app, Outcome.ERROR);
        }
    }

    private Outcome shadow(ConnectionWrapper c, BellowsRuntime.State state, Migration m, Rewrite app, Binder binder)
        throws SQLException {
        ShadowSafety.Verdict v = ShadowSafety.check(app.original());
        if (v.reason() != null) return Outcome.UNSAFE;
        Rewrite sw = switchRewriter(state, m).withSearchPath(c.pathRewriter(state).searchPath()).rewrite(app.original());
        if (sw.rejection() != null || sw.isUnanalysed()) return Outcome.ERROR;
        if (sw.sql().equals(app.sql())) return null; // switch sends the same statement: nothing to compare
        Connection raw = c.delegate;
        TransactionState ts = raw.unwrap(BaseConnection.class).getTransactionState();
        if (ts == TransactionState.FAILED) return Outcome.NO_SNAPSHOT;
        if (ts == TransactionState.IDLE) {
            if (!raw.getAutoCommit()) return Outcome.NO_SNAPSHOT;
            try (Statement s = raw.createStatement()) {
                s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            }
            try {
                return compare(raw, app, sw, binder, v.ordered());
            } finally {
                try (Statement s = raw.createStatement()) {
                    s.execute("ROLLBACK");
                }
            }
        }
        if (!repeatableRead(raw)) return Outcome.NO_SNAPSHOT;
        java.sql.Savepoint sp = raw.setSavepoint();
        try {
            Outcome o = compare(raw, app, sw, binder, v.ordered());
            raw.releaseSavepoint(sp);
            return o;
        } catch (SQLException | RuntimeException e) {
            raw.rollback(sp);
            raw.releaseSavepoint(sp);
            throw e;
        }
    }

    // Inside the application's transaction: only REPEATABLE READ shares one snapshot between statements. SERIALIZABLE
    // would add predicate locks to the application's transaction, READ COMMITTED takes a snapshot per statement.
    private static boolean repeatableRead(Connection raw) throws SQLException {
        try (Statement s = raw.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('transaction_isolation')")) {
            return rs.next() && "repeatable read".equals(rs.getString(1));
        }
    }

    private Outcome compare(Connection raw, Rewrite expand, Rewrite sw, Binder binder, boolean ordered) throws SQLException {
        ShadowResult a;
        try {
            a = run(raw, expand, binder);
        } catch (SQLException e) {
            return Outcome.ERROR;
        }
        if (a == null) return Outcome.ERROR;
        if (a.tooLarge()) return Outcome.TOO_LARGE;
        ShadowResult b;
        try {
            b = run(raw, sw, binder);
        } catch (SQLException e) {
            // the switch rewrite fails where expand's ran in the same snapshot: a difference, unless it is the
            // server's doing (cancel, timeout, resources, connection, serialization)
            String st = e.getSQLState();
            if (st != null && (st.startsWith("57") || st.startsWith("53") || st.startsWith("08") || st.startsWith("40"))) {
                throw e;
            }
            return Outcome.DIFFERED;
        }
        if (b == null) return Outcome.ERROR;
        if (b.tooLarge()) return Outcome.TOO_LARGE;
        return a.sameAs(b, expand.labels(), sw.labels(), ordered) ? Outcome.SAME : Outcome.DIFFERED;
    }

    private ShadowResult run(Connection raw, Rewrite r, Binder binder) throws SQLException {
        if (binder == null) {
            try (Statement s = raw.createStatement()) {
                s.setMaxRows(maxRows + 1);
                try (ResultSet rs = s.executeQuery(r.sql())) {
                    return ShadowResult.read(rs, maxRows);
                }
            }
        }
        try (PreparedStatement ps = raw.prepareStatement(r.sql())) {
            ps.setMaxRows(maxRows + 1);
            if (!binder.bind(ps, r.params())) return null;
            try (ResultSet rs = ps.executeQuery()) {
                return ShadowResult.read(rs, maxRows);
            }
        }
    }

    /** The rewriter of {@code state}'s rules with {@code m} alone moved to switch, on the same catalog. */
    private Rewriter switchRewriter(BellowsRuntime.State state, Migration m) {
        Cache k = cache;
        if (k.state() != state) {
            k = new Cache(state);
            cache = k;
        }
        return k.byMigration().computeIfAbsent(m.id(), id -> Rewriter.create(state.rules.withPhase(id, Phase.SWITCH),
            state.catalog, Rewriter.Options.defaults().cacheSize(1_000).newView(state.rewriter.options().newView())));
    }
}
