package dev.bellows.jdbc;

import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Objects;

/**
 * What one {@code prepareStatement}/{@code prepareCall} call asked for, kept so the statement can be
 * prepared again, the same way, when the rewriter changes.
 */
final class PrepareRequest<S extends PreparedStatement> {
    /** The pgjdbc prepare call the application made, applied to rewritten SQL. */
    @FunctionalInterface
    interface Preparer<S> {
        S prepare(Connection raw, String sql) throws SQLException;
    }

    /** The application's SQL. */
    final String sql;
    /** Generated-key columns asked for: null for none, {@link GeneratedKeys#ALL} for all. */
    final String[] keys;
    final Preparer<S> preparer;
    // The plan last made for this request (requests of prepareStatement(sql) are reused, see ConnectionWrapper); a
    // racy cache of an immutable value, checked before use.
    private Prepared last;

    PrepareRequest(String sql, String[] keys, Preparer<S> preparer) {
        this.sql = Objects.requireNonNull(sql, "sql");
        this.keys = keys;
        this.preparer = preparer;
    }

    /** The rewrite this request gets under {@code state}'s rewriter, on {@code connection}'s search path. */
    Prepared plan(BellowsRuntime.State state, ConnectionWrapper connection) throws SQLException {
        if (keys != null) {
            boolean mentions = state.rewriter.mayMention(sql);
            Rewriter rewriter = mentions ? connection.pathRewriter(state) : state.rewriter;
            Rewrite k = GeneratedKeys.rewrite(rewriter, sql, keys);
            if (k != null) return new Prepared(k, true, GeneratedKeys.askedNames(k, keys), state.version, rewriter, mentions);
        }
        // a statement naming nothing managed is the same on every search path: no need to know the session's
        Rewrite r = connection.rewrite(state, sql);
        boolean mentions = !r.inert();
        Rewriter rewriter = mentions ? connection.pathRewriter(state) : state.rewriter;
        Prepared p = last;
        if (p != null && p.rewrite == r && p.version == state.version && p.rewriter == rewriter) return p;
        return last = new Prepared(r, false, Map.of(), state.version, rewriter, mentions);
    }

    /** Prepares {@code plan} on the physical connection. */
    @SuppressWarnings("unchecked")
    S open(Connection raw, Prepared plan) throws SQLException {
        // Only prepareStatement requests ask for keys, so S is PreparedStatement on that branch.
        return plan.viaReturning
            ? (S) raw.prepareStatement(plan.rewrite.sql(), Statement.RETURN_GENERATED_KEYS)
            : preparer.prepare(raw, plan.rewrite.sql());
    }

    /** A request's rewrite under one rewriter version, and how it is sent. */
    static final class Prepared {
        final Rewrite rewrite;
        /** Sent with a RETURNING clause Bellows appended, see {@link GeneratedKeys}. */
        final boolean viaReturning;
        /** Lower-case server label → generated-key name the application asked for. */
        final Map<String, String> askedNames;
        final int version;
        /** The rewriter it was made with: another one (the session's search path changed) means preparing again. */
        final Rewriter rewriter;
        /** Whether the SQL may name a managed column or table, so that the search path matters. */
        final boolean mentions;

        Prepared(Rewrite rewrite, boolean viaReturning, Map<String, String> askedNames, int version, Rewriter rewriter,
                 boolean mentions) {
            this.rewriter = rewriter;
            this.mentions = mentions;
            this.rewrite = rewrite;
            this.viaReturning = viaReturning;
            this.askedNames = askedNames;
            this.version = version;
        }

        /** Whether executing it can change the catalog: the rewriter's verdict, kept with the cached rewrite. */
        boolean ddl() {
            return rewrite.kind() == Rewrite.Kind.DDL;
        }

        /** Whether the server statement would be the same, so the prepared one can be kept. */
        boolean sameStatement(Prepared other) {
            return viaReturning == other.viaReturning && rewrite.sql().equals(other.rewrite.sql())
                && Objects.equals(rewrite.params(), other.rewrite.params());
        }
    }
}
