package dev.bellows.jdbc;

import dev.bellows.rules.Rewrite;
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

    PrepareRequest(String sql, String[] keys, Preparer<S> preparer) {
        this.sql = Objects.requireNonNull(sql, "sql");
        this.keys = keys;
        this.preparer = preparer;
    }

    /** The rewrite this request gets under {@code state}'s rewriter. */
    Prepared plan(BellowsRuntime.State state) throws SQLException {
        if (keys != null) {
            Rewrite k = GeneratedKeys.rewrite(state.rewriter, sql, keys);
            if (k != null) return new Prepared(k, true, GeneratedKeys.askedNames(k, keys), state.version);
        }
        return new Prepared(BellowsRuntime.rewrite(state.rewriter, sql), false, Map.of(), state.version);
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

        Prepared(Rewrite rewrite, boolean viaReturning, Map<String, String> askedNames, int version) {
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
