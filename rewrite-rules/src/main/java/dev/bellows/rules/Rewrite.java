package dev.bellows.rules;

import java.util.List;
import java.util.Map;

/** The result of rewriting one SQL string: what to send, how to bind, how to label, and what was used. */
public final class Rewrite {
    private final String original;
    private final String sql;
    private final ParamPlan params;
    private final Map<String, String> labels;
    private final List<UsageFact> facts;
    private final String unanalysedReason;
    private final String rejection;
    // Computed on first use and then kept; a racy but idempotent cache of an immutable value.
    private Kind kind;
    private byte pathChange; // 0 not computed, 1 no, 2 yes
    private final boolean inert;

    Rewrite(String original, String sql, ParamPlan params, Map<String, String> labels,
            List<UsageFact> facts, String unanalysedReason) {
        this(original, sql, params, labels, facts, unanalysedReason, null);
    }

    private Rewrite(String original, boolean inert) {
        this.original = original;
        this.sql = original;
        this.params = null;
        this.labels = Map.of();
        this.facts = List.of();
        this.unanalysedReason = null;
        this.rejection = null;
        this.inert = inert;
    }

    /**
     * As the public constructor, with the statement's {@link #kind()} (null: work it out on first use) and whether
     * it {@link #mayChangeSearchPath()} already known, as the engine knows them once per template.
     */
    public Rewrite(String original, String sql, ParamPlan params, Map<String, String> labels, List<UsageFact> facts,
                   String unanalysedReason, String rejection, Kind kind, boolean mayChangeSearchPath) {
        this(original, sql, params, labels, facts, unanalysedReason, rejection);
        this.kind = kind;
        this.pathChange = mayChangeSearchPath ? (byte) 2 : (byte) 1;
    }

    /** Built by the engine's analysis ({@code dev.bellows.rules.analysis}); applications get theirs from {@link Rewriter}. */
    public Rewrite(String original, String sql, ParamPlan params, Map<String, String> labels,
                   List<UsageFact> facts, String unanalysedReason, String rejection) {
        this.rejection = rejection;
        this.original = original;
        this.sql = sql;
        this.params = params;
        this.labels = labels;
        this.facts = facts;
        this.unanalysedReason = unanalysedReason;
        this.inert = false;
    }

    /**
     * {@code first} followed by {@code second}, the next stage's rewrite of {@code first.sql()}: the SQL is the
     * second's, parameters and labels map through both, facts are both stages' (named by the application's statement).
     */
    static Rewrite compose(Rewrite first, Rewrite second) {
        if (!second.changed() && second.facts.isEmpty() && second.unanalysedReason == null && second.rejection == null) {
            return first.inert && !second.inert ? new Rewrite(first.original, false) : first;
        }
        ParamPlan plan = first.params;
        if (second.params != null) {
            int[] s2c = new int[second.params.serverCount()];
            for (int i = 0; i < s2c.length; i++) {
                int mid = second.params.clientFor(i + 1);
                s2c[i] = first.params == null ? mid : first.params.clientFor(mid);
            }
            ParamPlan p = ParamPlan.of(first.params == null ? second.params.clientCount() : first.params.clientCount(), s2c);
            plan = p.isIdentity() ? null : p;
        }
        Map<String, String> labels = new java.util.HashMap<>(second.labels);
        first.labels.forEach((legacy, mid) -> labels.put(legacy, second.labels.getOrDefault(mid, mid)));
        List<UsageFact> facts = new java.util.ArrayList<>(first.facts);
        String fp = first.facts.isEmpty() ? null : first.facts.get(0).fingerprint();
        for (UsageFact f : second.facts) {
            UsageFact g = fp == null || !first.changed() ? f
                : new UsageFact(f.migrationId(), f.column(), f.kind(), f.treatment(), fp);
            if (!facts.contains(g)) facts.add(g);
        }
        return new Rewrite(first.original, second.sql, plan, Map.copyOf(labels), List.copyOf(facts),
            join(first.unanalysedReason, second.unanalysedReason), join(first.rejection, second.rejection));
    }

    private static String join(String a, String b) {
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    /** A placeholder a {@link Rewriter} may keep in its cache; never handed out. */
    static Rewrite marker() {
        return new Rewrite("", false);
    }

    /** Sent as written because it names no managed column or table at all. */
    static Rewrite inert(String sql) {
        return new Rewrite(sql, true);
    }

    /**
     * The SQL to send to the server. Equal to the input when nothing changed: the same instance the first time a
     * string is seen, the instance first seen when an equal string comes back from the cache.
     */
    public String sql() { return sql; }

    /** The application's SQL. */
    public String original() { return original; }

    /** Whether the SQL to send differs from the application's. */
    public boolean changed() { return sql != original && !sql.equals(original); }

    /**
     * Client → server parameter mapping, or null when parameters pass one to one (the common case,
     * so callers can skip remapping with a null check).
     */
    public ParamPlan params() { return params; }

    /**
     * Result labels the application may ask for that the server's result does not carry, lower case:
     * legacy label → label present in the result. Empty when the SQL itself keeps every legacy label.
     */
    public Map<String, String> labels() { return labels; }

    /** Uses of deprecated columns, at most one per (migration, kind, treatment). */
    public List<UsageFact> facts() { return facts; }

    /** Why the statement could not be analysed, or null when it was (or needed no analysis). */
    public String unanalysedReason() { return unanalysedReason; }

    public boolean isUnanalysed() { return unanalysedReason != null; }

    /**
     * Whether the statement names no managed column or table in any stage (no word of it, outside literals and
     * comments, is a managed name), so that it is sent as written under every search path: a caller need not work
     * out the session's path for it.
     */
    public boolean inert() { return inert; }

    /**
     * Why the statement must not be sent at all, or null. Set after an old column was dropped, for a
     * statement the server would accept but read differently from the old schema (a positional INSERT
     * whose legacy column order was not recorded, or anything else Bellows cannot analyse that names the
     * dropped column): failing is better than storing or returning the wrong column.
     */
    public String rejection() { return rejection; }

    /**
     * What the application's statement is, from its first keyword, found once per cached rewrite so callers
     * need not scan the SQL again. For a string of several statements, the first one's kind.
     */
    public Kind kind() {
        Kind k = kind;
        if (k == null) kind = k = Kind.of(original);
        return k;
    }

    /**
     * Whether running this string may change which schema an unqualified table name means for the session: it
     * names {@code search_path} (SET, RESET, set_config), sets or resets the role or session authorization
     * ({@code $user}), resets or discards all settings, or is DDL (a temporary schema may appear). Lexical, and
     * errs towards yes: words inside literals and comments count.
     */
    public boolean mayChangeSearchPath() {
        byte p = pathChange;
        if (p == 0) pathChange = p = computePathChange(original) ? (byte) 2 : (byte) 1;
        return p == 2;
    }

    /** What {@link #mayChangeSearchPath()} says of a statement {@code sql}. */
    public static boolean mayChangeSearchPath(String sql) {
        return computePathChange(sql);
    }

    private static final String[] PATH_WORDS = {"search_path", "discard", "set", "reset", "role", "authorization", "all"};

    /** Whether {@code text} contains a word that can make {@link #mayChangeSearchPath(String)} say yes. */
    public static boolean hasPathWord(String text) {
        return hasPathWord(text, 0, text.length());
    }

    /** {@link #hasPathWord(String)} of {@code text.substring(from, to)}, without the substring. */
    public static boolean hasPathWord(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            char l = (char) (text.charAt(i) | 0x20); // ASCII lower case; only a, d, r and s start a path word
            if (l != 'a' && l != 'd' && l != 'r' && l != 's' || i > from && Kind.isIdentifierPart(text.charAt(i - 1))) continue;
            for (String w : PATH_WORDS) {
                if (Kind.startsWithWord(text, i, to, w)) return true;
            }
        }
        return false;
    }

    private static boolean computePathChange(String sql) {
        if (sql == null) return false;
        if (Kind.of(sql) == Kind.DDL || Kind.containsWord(sql, "search_path") || Kind.containsWord(sql, "discard")) return true;
        boolean set = Kind.containsWord(sql, "set") || Kind.containsWord(sql, "reset");
        return set && (Kind.containsWord(sql, "role") || Kind.containsWord(sql, "authorization") || Kind.containsWord(sql, "all"));
    }

    /** A statement's kind, as far as a driver needs it: whether it returns rows, writes, or changes the schema. */
    public enum Kind {
        /** SELECT, VALUES, TABLE, SHOW, EXPLAIN, and WITH without a data-modifying keyword. */
        QUERY,
        /** INSERT, UPDATE, DELETE or MERGE (or WITH naming one) without RETURNING. */
        DML,
        /** INSERT, UPDATE, DELETE or MERGE (or WITH naming one) with RETURNING: returns rows. */
        DML_RETURNING,
        /** ALTER, CREATE, DROP, COMMENT, GRANT, REVOKE, IMPORT: may change which columns the catalog lists. */
        DDL,
        /** Anything else (SET, BEGIN, COPY, CALL, ...), and empty or null SQL. */
        OTHER;

        private static final String[] DDL_WORDS = {"ALTER", "CREATE", "DROP", "COMMENT", "GRANT", "REVOKE", "IMPORT"};
        private static final String[] DML_WORDS = {"INSERT", "UPDATE", "DELETE", "MERGE"};
        private static final String[] QUERY_WORDS = {"SELECT", "VALUES", "TABLE", "SHOW", "EXPLAIN"};

        /**
         * The kind of {@code sql} by its first keyword after whitespace, comments and opening parentheses. A
         * lexical judgement: for WITH and for RETURNING, words inside literals or comments count too, so only
         * {@link #DDL} (from the first keyword alone) should drive behaviour that must be exact.
         */
        public static Kind of(String sql) {
            if (sql == null) return OTHER;
            int start = skipIgnorable(sql, 0);
            if (startsWithAny(sql, start, DDL_WORDS)) return DDL;
            if (startsWithAny(sql, start, QUERY_WORDS)) return QUERY;
            boolean dml = startsWithAny(sql, start, DML_WORDS);
            if (!dml && startsWithWord(sql, start, "WITH")) {
                for (String w : DML_WORDS) dml |= containsWord(sql, w);
                if (!dml) return QUERY;
            }
            if (!dml) return OTHER;
            return containsWord(sql, "RETURNING") ? DML_RETURNING : DML;
        }

        /**
         * The kind when the first keyword alone settles it (DDL, a query not starting with WITH, other), else null:
         * then words further on, literals included, count (see {@link #of(String)}).
         */
        public static Kind byFirstKeyword(String sql) {
            if (sql == null) return OTHER;
            int start = skipIgnorable(sql, 0);
            if (startsWithAny(sql, start, DDL_WORDS)) return DDL;
            if (startsWithAny(sql, start, QUERY_WORDS)) return QUERY;
            if (startsWithAny(sql, start, DML_WORDS) || startsWithWord(sql, start, "WITH")) return null;
            return OTHER;
        }

        private static boolean startsWithAny(String sql, int start, String[] words) {
            for (String w : words) {
                if (startsWithWord(sql, start, w)) return true;
            }
            return false;
        }

        private static boolean startsWithWord(String sql, int start, String w) {
            return startsWithWord(sql, start, sql.length(), w);
        }

        /** {@link #startsWithWord(String, int, String)} in {@code sql.substring(0, end)}. */
        private static boolean startsWithWord(String sql, int start, int end, String w) {
            return start + w.length() <= end && sql.regionMatches(true, start, w, 0, w.length())
                && (start + w.length() == end || !isIdentifierPart(sql.charAt(start + w.length())));
        }

        private static boolean containsWord(String sql, String w) {
            for (int i = 0; i + w.length() <= sql.length(); i++) {
                if ((i == 0 || !isIdentifierPart(sql.charAt(i - 1))) && startsWithWord(sql, i, w)) return true;
            }
            return false;
        }

        private static int skipIgnorable(String sql, int i) {
            int n = sql.length();
            while (i < n) {
                char c = sql.charAt(i);
                if (Character.isWhitespace(c) || c == '(') {
                    i++;
                } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                    while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') i++;
                } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                    int depth = 1; // PostgreSQL block comments nest
                    i += 2;
                    while (i < n && depth > 0) {
                        if (sql.startsWith("/*", i)) { depth++; i += 2; }
                        else if (sql.startsWith("*/", i)) { depth--; i += 2; }
                        else i++;
                    }
                } else {
                    return i;
                }
            }
            return n;
        }

        private static boolean isIdentifierPart(char c) {
            return Character.isLetterOrDigit(c) || c == '_' || c == '$';
        }
    }

    @Override public String toString() {
        return "Rewrite[" + sql + (params == null ? "" : ", params=" + params)
            + (labels.isEmpty() ? "" : ", labels=" + labels) + ", facts=" + facts
            + (unanalysedReason == null ? "" : ", unanalysed=" + unanalysedReason)
            + (rejection == null ? "" : ", rejected=" + rejection) + "]";
    }
}
