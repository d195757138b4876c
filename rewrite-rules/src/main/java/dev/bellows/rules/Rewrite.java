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

    Rewrite(String original, String sql, ParamPlan params, Map<String, String> labels,
            List<UsageFact> facts, String unanalysedReason) {
        this(original, sql, params, labels, facts, unanalysedReason, null);
    }

    Rewrite(String original, String sql, ParamPlan params, Map<String, String> labels,
            List<UsageFact> facts, String unanalysedReason, String rejection) {
        this.rejection = rejection;
        this.original = original;
        this.sql = sql;
        this.params = params;
        this.labels = labels;
        this.facts = facts;
        this.unanalysedReason = unanalysedReason;
    }

    static Rewrite unchanged(String sql) {
        return new Rewrite(sql, sql, null, Map.of(), List.of(), null);
    }

    /** The SQL to send to the server. The same instance as the input when nothing changed. */
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
     * Why the statement must not be sent at all, or null. Set after an old column was dropped, for a
     * statement the server would accept but read differently from the old schema (a positional INSERT
     * whose legacy column order was not recorded, or anything else Bellows cannot analyse that names the
     * dropped column): failing is better than storing or returning the wrong column.
     */
    public String rejection() { return rejection; }

    @Override public String toString() {
        return "Rewrite[" + sql + (params == null ? "" : ", params=" + params)
            + (labels.isEmpty() ? "" : ", labels=" + labels) + ", facts=" + facts
            + (unanalysedReason == null ? "" : ", unanalysed=" + unanalysedReason)
            + (rejection == null ? "" : ", rejected=" + rejection) + "]";
    }
}
