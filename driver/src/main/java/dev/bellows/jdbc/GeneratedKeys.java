package dev.bellows.jdbc;

import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Generated keys under rewriting. pgjdbc adds {@code RETURNING <columns>} after the application's SQL, out
 * of the rewriter's sight, so a legacy column asked for by name would reach a server that no longer has it.
 * Instead Bellows appends the clause itself, exactly as pgjdbc would, rewrites the whole statement and sends
 * it with {@code RETURN_GENERATED_KEYS} (pgjdbc then keeps the existing clause). When the rewriter changes
 * nothing, pgjdbc's own path is used untouched.
 */
final class GeneratedKeys {
    /** All columns, pgjdbc's meaning of {@code RETURN_GENERATED_KEYS}. */
    static final String[] ALL = {"*"};

    private GeneratedKeys() {
    }

    /**
     * The rewrite to send with {@code RETURN_GENERATED_KEYS}, or null to hand the application's request to
     * pgjdbc as it is: no rules, a statement pgjdbc adds no clause to, one that already has {@code RETURNING},
     * several statements, or nothing for the rewriter to change.
     */
    static Rewrite rewrite(Rewriter rewriter, String sql, String[] columns) throws SQLException {
        if (rewriter.rules().isEmpty() || !Sql.isReturningKind(sql) || Sql.mentionsReturning(sql)) return null;
        String body = Sql.singleStatementBody(sql);
        if (body == null) return null;
        StringBuilder sb = new StringBuilder(body.length() + 32).append(body).append("\nRETURNING ");
        if (columns.length == 1 && columns[0].startsWith("*")) {
            sb.append('*');
        } else {
            for (int i = 0; i < columns.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append(Sql.quoteIdentifier(columns[i]));
            }
        }
        Rewrite r = BellowsRuntime.rewrite(rewriter, sb.toString());
        return r.changed() || !r.labels().isEmpty() ? r : null;
    }

    /**
     * For keys asked for by name: lower-case label the server returns → the name the application asked for,
     * where the two differ, so the keys' metadata shows the names asked for.
     */
    static Map<String, String> askedNames(Rewrite rewrite, String[] columns) {
        if (rewrite.labels().isEmpty() || columns == ALL) return Map.of();
        Map<String, String> out = new HashMap<>();
        for (String asked : columns) {
            String real = rewrite.labels().get(asked.toLowerCase(Locale.ROOT));
            if (real != null) out.put(real.toLowerCase(Locale.ROOT), asked);
        }
        return out;
    }
}
