package dev.bellows.jdbc;

import java.util.Locale;
import java.util.Set;

/**
 * Decides from its tokens whether a statement may be run a second time for a shadow read: a single plain
 * {@code SELECT} (or {@code WITH … SELECT}) without locking clauses, {@code INTO}, data-modifying CTEs or
 * sampling, calling no function outside a short allowlist of side-effect-free, deterministic ones, and with no
 * {@code LIMIT}/{@code OFFSET}/{@code FETCH} unless ordered. Anything it does not recognise is unsafe: a
 * statement wrongly refused is only not shadowed, one wrongly admitted could run a side effect twice.
 */
final class ShadowSafety {
    /** Functions that neither write nor depend on anything but their arguments and the snapshot. */
    static final Set<String> FUNCTIONS = Set.of(
        "lower", "upper", "initcap", "coalesce", "nullif", "greatest", "least", "length", "char_length",
        "character_length", "octet_length", "trim", "btrim", "ltrim", "rtrim", "substring", "substr", "left", "right",
        "lpad", "rpad", "replace", "concat", "concat_ws", "position", "strpos", "split_part", "reverse", "md5",
        "abs", "round", "trunc", "floor", "ceil", "ceiling", "mod", "sign",
        "count", "sum", "min", "max", "avg", "bool_and", "bool_or", "every", "string_agg", "array_agg",
        "cast", "extract", "date_part", "date_trunc", "to_char", "now", "age", "array_length", "cardinality");
    /** Words that may stand before a parenthesis without calling anything. */
    private static final Set<String> NOT_CALLS = Set.of(
        "select", "from", "where", "join", "on", "and", "or", "not", "in", "exists", "any", "all", "some", "as",
        "using", "values", "union", "intersect", "except", "by", "with", "row", "array", "case", "when", "then", "else",
        "end", "between", "like", "ilike", "similar", "is", "distinct", "order", "group", "having", "over", "filter",
        "within", "lateral", "partition", "materialized", "to", "escape",
        "varchar", "numeric", "decimal", "char", "character", "varying", "timestamp", "time", "interval", "bit");
    /** Words that make a statement unsafe wherever they appear. */
    private static final Set<String> FORBIDDEN = Set.of(
        "insert", "update", "delete", "merge", "into", "for", "lock", "copy", "call", "do", "tablesample", "notify",
        "listen", "execute", "prepare", "declare", "set", "reset", "create", "alter", "drop", "truncate", "grant",
        "revoke", "vacuum", "analyze", "cluster", "refresh", "begin", "commit", "rollback", "savepoint", "release");

    private ShadowSafety() {
    }

    /** The verdict on one statement: {@code reason} is null when it may be shadowed. */
    record Verdict(String reason, boolean ordered) {
    }

    static Verdict check(String sql) {
        Tokens t = new Tokens(sql);
        String first = t.next();
        if (first == null) return new Verdict("empty", false);
        String f = first.toLowerCase(Locale.ROOT);
        if (!f.equals("select") && !f.equals("with")) return new Verdict("not a SELECT", false);
        int depth = 0;
        boolean ordered = false;
        boolean limited = false;
        String prev = null;
        String prev2 = null;
        for (String tok = first; tok != null; prev2 = prev, prev = tok, tok = t.next()) {
            if (tok.equals("(")) {
                if (prev != null && isWord(prev)) {
                    String w = prev.toLowerCase(Locale.ROOT);
                    if (!NOT_CALLS.contains(w) && !FUNCTIONS.contains(w)) return new Verdict("calls " + w + "()", false);
                    if (".".equals(prev2)) return new Verdict("calls a qualified function", false);
                } else if (prev != null && prev.startsWith("\"")) {
                    return new Verdict("calls a quoted function", false);
                }
                depth++;
                continue;
            }
            if (tok.equals(")")) {
                depth--;
                continue;
            }
            if (tok.equals(";")) {
                if (t.next() != null) return new Verdict("several statements", false);
                break;
            }
            if (!isWord(tok)) continue;
            String w = tok.toLowerCase(Locale.ROOT);
            if (FORBIDDEN.contains(w)) return new Verdict("contains " + w.toUpperCase(Locale.ROOT), false);
            if (depth == 0 && w.equals("by") && prev != null && prev.equalsIgnoreCase("order")) ordered = true;
            if (depth == 0 && (w.equals("limit") || w.equals("offset") || w.equals("fetch"))) limited = true;
        }
        if (t.broken) return new Verdict("could not be read", false);
        if (limited && !ordered) return new Verdict("LIMIT/OFFSET without ORDER BY is not deterministic", false);
        return new Verdict(null, ordered);
    }

    private static boolean isWord(String tok) {
        char c = tok.charAt(0);
        return Character.isLetter(c) || c == '_';
    }

    /**
     * PostgreSQL's lexical structure as far as needed here: words (lower-cased by the caller), quoted names kept
     * with their quotes, strings, dollar-quoted strings, comments and numbers skipped, other characters one by one.
     */
    private static final class Tokens {
        private final String s;
        private int i;
        boolean broken;

        Tokens(String s) { this.s = s; }

        String next() {
            while (true) {
                String tok = raw();
                if (tok == null) return null;
                if (tok.isEmpty()) continue; // a string, comment or number: never a word
                return tok;
            }
        }

        private String raw() {
            int n = s.length();
            while (i < n && Character.isWhitespace(s.charAt(i))) i++;
            if (i >= n) return null;
            char c = s.charAt(i);
            if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                while (i < n && s.charAt(i) != '\n') i++;
                return "";
            }
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int level = 0;
                while (i < n) {
                    if (s.startsWith("/*", i)) { level++; i += 2; }
                    else if (s.startsWith("*/", i)) { level--; i += 2; if (level == 0) return ""; }
                    else i++;
                }
                broken = true;
                return null;
            }
            if (c == '\'' || ((c == 'e' || c == 'E') && i + 1 < n && s.charAt(i + 1) == '\'')) {
                boolean backslash = c != '\'';
                i += backslash ? 2 : 1;
                while (i < n) {
                    char d = s.charAt(i);
                    if (backslash && d == '\\') { i += 2; continue; }
                    if (d == '\'') {
                        if (i + 1 < n && s.charAt(i + 1) == '\'') { i += 2; continue; }
                        i++;
                        return "";
                    }
                    i++;
                }
                broken = true;
                return null;
            }
            if (c == '"') {
                int end = s.indexOf('"', i + 1);
                while (end > 0 && end + 1 < n && s.charAt(end + 1) == '"') end = s.indexOf('"', end + 2);
                if (end < 0) { broken = true; return null; }
                String q = s.substring(i, end + 1);
                i = end + 1;
                return q;
            }
            if (c == '$') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                if (j < n && s.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(s.charAt(i + 1)))) {
                    String tag = s.substring(i, j + 1);
                    int end = s.indexOf(tag, j + 1);
                    if (end < 0) { broken = true; return null; }
                    i = end + tag.length();
                    return "";
                }
                i = j; // a $1 parameter
                return "";
            }
            if (Character.isLetter(c) || c == '_') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '$')) j++;
                String w = s.substring(i, j);
                i = j;
                return w;
            }
            if (Character.isDigit(c)) {
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
                return "";
            }
            i++;
            return String.valueOf(c);
        }
    }
}
