package dev.bellows.rules.rewriting;

import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.List;

/** An {@code up} or {@code down} expression compiled into text chunks around the holes where its column goes. */
public final class Transform {
    private final List<String> chunks; // chunks.size() == holes + 1; null for the identity

    private Transform(List<String> chunks) {
        this.chunks = chunks;
    }

    /** Compiles {@code expr} (an expression over {@code column}), or the identity for null. */
    public static Transform compile(String expr, String column) {
        if (expr == null) return new Transform(null);
        SqlLexer.Tokens t = SqlLexer.lex(expr, Integer.MAX_VALUE);
        List<String> chunks = new ArrayList<>();
        int pos = 0;
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if ((k == SqlLexer.IDENT || k == SqlLexer.QIDENT) && column.equals(SqlLexer.identName(t, i))
                    && !(i > 0 && t.kind[i - 1] == SqlLexer.DOT)
                    && !(i + 1 < t.count && (t.kind[i + 1] == SqlLexer.LPAREN || t.kind[i + 1] == SqlLexer.DOT))) {
                chunks.add(expr.substring(pos, t.start[i]));
                pos = t.end[i];
            }
        }
        chunks.add(expr.substring(pos));
        if (chunks.size() == 1) throw new IllegalArgumentException("expression does not name column " + column + ": " + expr);
        return new Transform(chunks);
    }

    public boolean isIdentity() { return chunks == null; }

    /** The expression applied to {@code arg}; parenthesised unless it is the identity. */
    public Parts apply(Parts arg) {
        if (chunks == null) return arg;
        Parts out = new Parts().text("(");
        for (int i = 0; i < chunks.size(); i++) {
            out.text(chunks.get(i));
            if (i + 1 < chunks.size()) out.text("(").add(arg).text(")");
        }
        return out.text(")");
    }
}
