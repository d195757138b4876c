package dev.bellows.rules.rewriting;

import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** An {@code up} or {@code down} expression compiled into text chunks around the holes where its columns go. */
public final class Transform {
    private final List<String> chunks; // chunks.size() == holes + 1; null for the identity
    private final List<String> holes;  // the column each hole stands for, in order

    private Transform(List<String> chunks, List<String> holes) {
        this.chunks = chunks;
        this.holes = holes;
    }

    /** Compiles {@code expr} (an expression over {@code column}), or the identity for null. */
    public static Transform compile(String expr, String column) {
        if (expr == null) return new Transform(null, List.of());
        Transform t = compile(expr, List.of(column));
        if (t.chunks != null && t.chunks.size() == 1) {
            throw new IllegalArgumentException("expression does not name column " + column + ": " + expr);
        }
        return t;
    }

    /** Compiles {@code expr}, an expression over the given columns (unqualified, never called), or the identity for null. */
    public static Transform compile(String expr, Collection<String> columns) {
        if (expr == null) return new Transform(null, List.of());
        SqlLexer.Tokens t = SqlLexer.lex(expr, Integer.MAX_VALUE);
        List<String> chunks = new ArrayList<>();
        List<String> holes = new ArrayList<>();
        int pos = 0;
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if (k != SqlLexer.IDENT && k != SqlLexer.QIDENT) continue;
            String name = SqlLexer.identName(t, i);
            if (name != null && columns.contains(name)
                    && !(i > 0 && t.kind[i - 1] == SqlLexer.DOT)
                    && !(i + 1 < t.count && (t.kind[i + 1] == SqlLexer.LPAREN || t.kind[i + 1] == SqlLexer.DOT))) {
                chunks.add(expr.substring(pos, t.start[i]));
                holes.add(name);
                pos = t.end[i];
            }
        }
        chunks.add(expr.substring(pos));
        return new Transform(chunks, holes);
    }

    public boolean isIdentity() { return chunks == null; }

    /** The columns the expression reads (empty for the identity, which reads its one column). */
    public Set<String> holes() { return new LinkedHashSet<>(holes); }

    /** The expression applied to {@code arg}; parenthesised unless it is the identity. */
    public Parts apply(Parts arg) {
        if (chunks == null) return arg;
        return apply(c -> arg);
    }

    /** The expression with each column replaced by {@code valueOf(column)}; parenthesised unless it is the identity. */
    public Parts apply(Function<String, Parts> valueOf) {
        if (chunks == null) throw new IllegalStateException("the identity has no holes; apply(Parts) gives its argument");
        Parts out = new Parts().text("(");
        for (int i = 0; i < chunks.size(); i++) {
            out.text(chunks.get(i));
            if (i + 1 < chunks.size()) out.text("(").add(valueOf.apply(holes.get(i))).text(")");
        }
        return out.text(")");
    }
}
