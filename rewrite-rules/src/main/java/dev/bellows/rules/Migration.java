package dev.bellows.rules;

import java.util.Objects;

/**
 * One managed column change: {@code table.from} is deprecated in favour of {@code table.to}.
 * Immutable. Names are catalog names (unquoted folded identifiers are lower case); {@code up} and
 * {@code down} are SQL expressions over {@code from} and {@code to} respectively, null for a plain rename.
 */
public final class Migration {
    private final String id;
    private final String schema;
    private final String table;
    private final String from;
    private final String to;
    private final String up;
    private final String down;
    private final String type;
    private final Phase phase;
    private final int line;
    private final boolean inverse;

    public Migration(String id, String schema, String table, String from, String to,
                     String up, String down, String type, Phase phase, int line) {
        this(id, schema, table, from, to, up, down, type, phase, line, false);
    }

    private Migration(String id, String schema, String table, String from, String to,
                      String up, String down, String type, Phase phase, int line, boolean inverse) {
        if (inverse && up == null) throw new IllegalArgumentException("inverse needs up and down");
        this.inverse = inverse;
        this.id = Objects.requireNonNull(id, "id");
        this.schema = schema == null ? "public" : schema;
        this.table = Objects.requireNonNull(table, "table");
        this.from = Objects.requireNonNull(from, "from");
        this.to = Objects.requireNonNull(to, "to");
        this.up = up;
        this.down = down;
        this.type = type;
        this.phase = Objects.requireNonNull(phase, "phase");
        this.line = line;
    }

    /** A plain rename in the given phase; handy for tests and programmatic rules. */
    public static Migration rename(String id, String table, String from, String to, Phase phase) {
        String[] st = splitTable(table);
        return new Migration(id, st[0], st[1], from, to, null, null, null, phase, 0);
    }

    /** A type change with its up/down expressions. */
    public static Migration typeChange(String id, String table, String from, String to, String up, String down, Phase phase) {
        String[] st = splitTable(table);
        return new Migration(id, st[0], st[1], from, to, up, down, null, phase, 0);
    }

    static String[] splitTable(String table) {
        int dot = table.indexOf('.');
        return dot < 0 ? new String[] {"public", table} : new String[] {table.substring(0, dot), table.substring(dot + 1)};
    }

    public String id() { return id; }
    public String schema() { return schema; }
    public String table() { return table; }
    /** {@code schema.table}. */
    public String qualifiedTable() { return schema + "." + table; }
    public String from() { return from; }
    public String to() { return to; }
    /** Expression over {@code from} giving {@code to}'s value, or null for the identity. */
    public String up() { return up; }
    /** Expression over {@code to} giving {@code from}'s value, or null for the identity. */
    public String down() { return down; }
    /** The new column's SQL type when declared (used by {@code bellows plan}), else null. */
    public String type() { return type; }
    public Phase phase() { return phase; }
    /** Line of the rules file where this migration starts, 0 when not from a file. */
    public int line() { return line; }
    public boolean isTypeChange() { return up != null; }

    /**
     * Whether {@code up} and {@code down} are declared inverse: {@code up(down(v)) = v} for every value the new
     * column holds, and both map NULL to NULL. Then a legacy predicate can be answered from the new column's
     * index (see docs/rules.md, {@code inverse}); {@code bellows check} verifies it on the data.
     */
    public boolean inverse() { return inverse; }

    /** This migration in another phase. */
    public Migration withPhase(Phase p) {
        return p == phase ? this : new Migration(id, schema, table, from, to, up, down, type, p, line, inverse);
    }

    /** This type change with its up/down declared inverse (or not). */
    public Migration withInverse(boolean inv) {
        return inv == inverse ? this : new Migration(id, schema, table, from, to, up, down, type, phase, line, inv);
    }

    @Override public boolean equals(Object o) {
        if (!(o instanceof Migration)) return false;
        Migration m = (Migration) o;
        return id.equals(m.id) && schema.equals(m.schema) && table.equals(m.table) && from.equals(m.from)
            && to.equals(m.to) && Objects.equals(up, m.up) && Objects.equals(down, m.down)
            && Objects.equals(type, m.type) && phase == m.phase && inverse == m.inverse;
    }

    @Override public int hashCode() { return Objects.hash(id, schema, table, from, to, up, down, type, phase, inverse); }

    @Override public String toString() {
        return id + " (" + qualifiedTable() + "." + from + " -> " + to + ", " + phase.label() + ")";
    }
}
