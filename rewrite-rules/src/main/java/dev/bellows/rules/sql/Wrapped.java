package dev.bellows.rules.sql;

import java.util.Set;

/**
 * Finds the statement inside the forms that carry one: {@code EXPLAIN [ANALYZE] stmt}, {@code PREPARE name
 * [(types)] AS stmt}, {@code DECLARE cur … CURSOR … FOR query}, {@code CREATE [OR REPLACE] [TEMP] VIEW name …
 * AS query}, {@code CREATE MATERIALIZED VIEW name … AS query [WITH [NO] DATA]} and {@code COPY (query) TO …}.
 * The inner statement is analysed as if sent alone: rewritten in place, dual writes and all (so an
 * {@code EXPLAIN ANALYZE} of a write writes exactly what the plain write would).
 */
public final class Wrapped {
    private static final Set<String> DML = Set.of("select", "with", "insert", "update", "delete", "values", "table");
    private static final Set<String> QUERY = Set.of("select", "with", "values", "table");

    /** Token range [inner, end) of the wrapped statement, and where names outside it may stand. */
    public record Inner(int first, int to, int namesFrom, int namesTo) {}

    private Wrapped() {}

    /** The statement inside tokens [first, to), or null when this is not such a form (or not one Bellows reads). */
    public static Inner of(SqlLexer.Tokens tk, int first, int to) {
        if (tk.isWord(first, "explain")) return explain(tk, first, to);
        if (tk.isWord(first, "prepare")) return prepare(tk, first, to);
        if (tk.isWord(first, "declare")) return declare(tk, first, to);
        if (tk.isWord(first, "create")) return view(tk, first, to);
        if (tk.isWord(first, "copy") && first + 1 < to && tk.kind[first + 1] == SqlLexer.LPAREN) {
            int close = matching(tk, first + 1, to);
            return close < 0 ? null : inner(tk, first + 2, close, DML, -1, -1);
        }
        return null;
    }

    private static Inner explain(SqlLexer.Tokens tk, int first, int to) {
        int i = first + 1;
        if (i < to && tk.kind[i] == SqlLexer.LPAREN) {
            i = matching(tk, i, to);
            if (i < 0) return null;
            i++;
        } else {
            while (tk.isWord(i, "analyze") || tk.isWord(i, "analyse") || tk.isWord(i, "verbose")) i++;
        }
        return inner(tk, i, to, DML, -1, -1);
    }

    private static Inner prepare(SqlLexer.Tokens tk, int first, int to) {
        int i = first + 1;
        if (i >= to || !isIdent(tk, i) || tk.isWord(i, "transaction")) return null;
        i++;
        if (i < to && tk.kind[i] == SqlLexer.LPAREN) {
            i = matching(tk, i, to);
            if (i < 0) return null;
            i++;
        }
        if (!tk.isWord(i, "as")) return null;
        return inner(tk, i + 1, to, DML, -1, -1);
    }

    private static Inner declare(SqlLexer.Tokens tk, int first, int to) {
        int i = first + 1;
        if (i >= to || !isIdent(tk, i)) return null;
        i++;
        while (tk.isWord(i, "binary") || tk.isWord(i, "asensitive") || tk.isWord(i, "insensitive")
            || tk.isWord(i, "no") || tk.isWord(i, "scroll")) i++;
        if (!tk.isWord(i, "cursor")) return null;
        i++;
        if ((tk.isWord(i, "with") || tk.isWord(i, "without")) && tk.isWord(i + 1, "hold")) i += 2;
        if (!tk.isWord(i, "for")) return null;
        return inner(tk, i + 1, to, QUERY, -1, -1);
    }

    private static Inner view(SqlLexer.Tokens tk, int first, int to) {
        int i = first + 1;
        if (tk.isWord(i, "or") && tk.isWord(i + 1, "replace")) i += 2;
        boolean materialized = false;
        if (tk.isWord(i, "temp") || tk.isWord(i, "temporary")) i++;
        if (tk.isWord(i, "materialized")) {
            materialized = true;
            i++;
        }
        if (!tk.isWord(i, "view")) return null; // also RECURSIVE VIEW: the view reads itself, left unanalysed
        i++;
        if (materialized && tk.isWord(i, "if") && tk.isWord(i + 1, "not") && tk.isWord(i + 2, "exists")) i += 3;
        // the name, possibly schema-qualified
        if (i >= to || !isIdent(tk, i)) return null;
        i++;
        if (i + 1 < to && tk.kind[i] == SqlLexer.DOT && isIdent(tk, i + 1)) i += 2;
        int namesFrom = -1, namesTo = -1;
        if (i < to && tk.kind[i] == SqlLexer.LPAREN) { // the view's own column names: output names, not references
            int close = matching(tk, i, to);
            if (close < 0) return null;
            namesFrom = i;
            namesTo = close + 1;
            i = close + 1;
        }
        int depth = 0;
        for (; i < to; i++) {
            byte k = tk.kind[i];
            if (k == SqlLexer.LPAREN) depth++;
            else if (k == SqlLexer.RPAREN) depth--;
            else if (depth == 0 && tk.isWord(i, "as")) break;
        }
        if (i >= to) return null;
        int end = to;
        while (end > i && tk.kind[end - 1] == SqlLexer.COMMENT) end--;
        if (materialized) {
            if (tk.isWord(end - 2, "with") && tk.isWord(end - 1, "data")) end -= 2;
            else if (tk.isWord(end - 3, "with") && tk.isWord(end - 2, "no") && tk.isWord(end - 1, "data")) end -= 3;
        } else if (tk.isWord(end - 2, "check") && tk.isWord(end - 1, "option")) {
            end -= 2;
            if (tk.isWord(end - 1, "cascaded") || tk.isWord(end - 1, "local")) end--;
            if (!tk.isWord(end - 1, "with")) return null;
            end--;
        }
        return inner(tk, i + 1, end, QUERY, namesFrom, namesTo);
    }

    private static Inner inner(SqlLexer.Tokens tk, int i, int end, Set<String> kinds, int namesFrom, int namesTo) {
        while (i < end && tk.kind[i] == SqlLexer.COMMENT) i++;
        if (i >= end) return null;
        boolean ok = tk.kind[i] == SqlLexer.LPAREN || tk.kind[i] == SqlLexer.IDENT && kinds.contains(tk.text(i).toLowerCase(java.util.Locale.ROOT));
        return ok ? new Inner(i, end, namesFrom, namesTo) : null;
    }

    private static boolean isIdent(SqlLexer.Tokens tk, int i) {
        return tk.kind[i] == SqlLexer.IDENT || tk.kind[i] == SqlLexer.QIDENT;
    }

    private static int matching(SqlLexer.Tokens tk, int open, int to) {
        int depth = 0;
        for (int i = open; i < to; i++) {
            if (tk.kind[i] == SqlLexer.LPAREN) depth++;
            else if (tk.kind[i] == SqlLexer.RPAREN && --depth == 0) return i;
        }
        return -1;
    }
}
