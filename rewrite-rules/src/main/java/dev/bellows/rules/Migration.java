package dev.bellows.rules;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One managed change: column {@code table.from} is deprecated in favour of {@code table.to}; or, for a column
 * removal ({@code to} null), deprecated with nothing in its place; or, for a tightening ({@code to} null with a
 * default value), kept but made NOT NULL; or (a table rename) table {@code table} is deprecated in favour of
 * {@code toTable}, with {@code from} and {@code to} both null.
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
    private final String removedValue;
    private final String defaultValue;
    private final boolean inverse;
    private final String toTable; // table renames only
    private final Derived derived; // splits, merges and up/down reading other columns; null otherwise

    /**
     * What a derived migration adds to a rename: several old columns ({@code froms}) or several new ones ({@code tos}),
     * one {@code up} per new column over the old columns (and {@code inputs}, other columns of the row that stay), one
     * {@code down} per old column over the new ones (and {@code inputs}).
     */
    record Derived(List<String> froms, List<String> tos, Map<String, String> ups, Map<String, String> downs,
                   Map<String, String> types, Set<String> inputs) {
        Derived {
            froms = List.copyOf(froms);
            tos = List.copyOf(tos);
            ups = Map.copyOf(ups);
            downs = Map.copyOf(downs);
            types = Map.copyOf(types);
            inputs = Set.copyOf(inputs);
        }
    }

    public Migration(String id, String schema, String table, String from, String to,
                     String up, String down, String type, Phase phase, int line) {
        this(id, schema, table, from, to, up, down, type, phase, line, null, null, false, null, null);
        Objects.requireNonNull(to, "to");
    }

    /**
     * {@code to} null makes a column removal, whose reads may give {@code removedValue}, or with {@code defaultValue}
     * a tightening of {@code from} to NOT NULL, whose NULL writes get that value. (There is deliberately no
     * 11-argument constructor: one taking a removed value and one taking a table's new name would look alike; use
     * {@link #tableRename(String, String, String, String, Phase, int)} for a table rename.)
     */
    public Migration(String id, String schema, String table, String from, String to,
                     String up, String down, String type, Phase phase, int line, String removedValue, String defaultValue) {
        this(id, schema, table, from, to, up, down, type, phase, line, removedValue, defaultValue, false, null, null);
    }

    private Migration(String id, String schema, String table, String from, String to, String up, String down,
                      String type, Phase phase, int line, String removedValue, String defaultValue, boolean inverse,
                      String toTable, Derived derived) {
        this.derived = derived;
        if (inverse && up == null) throw new IllegalArgumentException("inverse needs up and down");
        if (to == null && (up != null || down != null)) throw new IllegalArgumentException("a migration without 'to' has no up/down");
        if (to != null && (removedValue != null || defaultValue != null)) {
            throw new IllegalArgumentException("removed_value and default_value are for migrations without 'to'");
        }
        if (removedValue != null && defaultValue != null) throw new IllegalArgumentException("a removal has no default_value");
        this.inverse = inverse;
        this.removedValue = removedValue;
        this.defaultValue = defaultValue;
        this.id = Objects.requireNonNull(id, "id");
        this.schema = schema == null ? "public" : schema;
        this.table = Objects.requireNonNull(table, "table");
        this.toTable = toTable;
        if (toTable != null) {
            if (from != null || to != null || up != null || down != null || removedValue != null || defaultValue != null) {
                throw new IllegalArgumentException("a table rename has no from, to, up, down, removed_value or default_value");
            }
        } else {
            Objects.requireNonNull(from, "from");
        }
        this.from = from;
        this.to = to;
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

    /** A tightening: {@code table.column} becomes NOT NULL; from expand on, NULL writes of it get {@code defaultValue}. */
    public static Migration notNull(String id, String table, String column, String defaultValue, Phase phase) {
        String[] st = splitTable(table);
        return new Migration(id, st[0], st[1], column, null, null, null, null, phase, 0, null,
            Objects.requireNonNull(defaultValue, "defaultValue"));
    }

    /**
     * A column removal: {@code table.column} is to be dropped. After the switch its reads give
     * {@code removedValue} (an SQL expression without columns; null: reads are not rewritten) and its writes are
     * dropped from the statement.
     */
    public static Migration removal(String id, String table, String column, String removedValue, Phase phase) {
        String[] st = splitTable(table);
        return new Migration(id, st[0], st[1], column, null, null, null, null, phase, 0, removedValue, null);
    }

    /** A table rename ({@code table} becomes {@code toTable}, same schema) in the given phase. */
    public static Migration tableRename(String id, String table, String toTable, Phase phase) {
        String[] st = splitTable(table);
        return tableRename(id, st[0], st[1], toTable, phase, 0);
    }

    /** A table rename ({@code schema.table} becomes {@code schema.toTable}) read from line {@code line} of a rules file. */
    public static Migration tableRename(String id, String schema, String table, String toTable, Phase phase, int line) {
        return new Migration(id, schema, table, null, null, null, null, null, phase, line, null, null, false,
            Objects.requireNonNull(toTable, "toTable"), null);
    }

    /**
     * A derived migration: old columns {@code froms} become new columns {@code tos}, each new column computed by its
     * {@code ups} expression over the old columns and {@code inputs} (other columns of the row, which stay), each old
     * column by its {@code downs} expression over the new columns and {@code inputs}. One old column split into
     * several new ones, several merged into one, or one into one with expressions reading other columns; never
     * several into several. {@code types} gives new columns' SQL types for {@code bellows plan} (may be empty).
     */
    public static Migration derived(String id, String schema, String table, List<String> froms, List<String> tos,
                                    Map<String, String> ups, Map<String, String> downs, Map<String, String> types,
                                    Set<String> inputs, Phase phase, int line) {
        if (froms.isEmpty() || tos.isEmpty()) throw new IllegalArgumentException("a derived migration needs from and to columns");
        if (froms.size() > 1 && tos.size() > 1) throw new IllegalArgumentException("several columns into several is not supported");
        if (!ups.keySet().equals(Set.copyOf(tos))) throw new IllegalArgumentException("one up per new column: " + tos);
        if (!downs.isEmpty() && !downs.keySet().equals(Set.copyOf(froms))) throw new IllegalArgumentException("one down per old column: " + froms);
        if (downs.isEmpty() && (phase == Phase.SWITCH || phase == Phase.CONTRACT)) {
            throw new IllegalArgumentException("without down the old columns stay: phase off or expand only");
        }
        Derived d = new Derived(froms, tos, ups, downs, types, inputs);
        String to = tos.get(0);
        String from = froms.get(0);
        return new Migration(id, schema == null ? "public" : schema, table, from, to, ups.get(to), downs.get(from),
            types.get(to), phase, line, null, null, false, null, d);
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
    /** The replacement column, null for a column removal, a tightening and a table rename. */
    public String to() { return to; }
    /** Whether this migration removes {@code from} with no replacement (a table rename is not a removal). */
    public boolean isRemoval() { return toTable == null && from != null && to == null && defaultValue == null; }
    /** Whether this migration makes {@code from} NOT NULL (it stays; NULL writes get {@link #defaultValue()}). */
    public boolean isNotNull() { return toTable == null && from != null && to == null && defaultValue != null; }
    /** What NULL writes of a tightened column get (an SQL expression), null when not a tightening. */
    public String defaultValue() { return defaultValue; }
    /** What reads of a removed column give after the switch (an SQL expression), null when not given. */
    public String removedValue() { return removedValue; }
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

    /** Whether this is a derived migration (a split, a merge, or up/down reading other columns of the row). */
    public boolean isDerived() { return derived != null; }
    /** The old columns, in rules-file order: {@code [from]} unless derived; empty for a table rename. */
    public List<String> froms() { return derived != null ? derived.froms() : from == null ? List.of() : List.of(from); }
    /** The new columns, in rules-file order: {@code [to]} unless derived; empty without a new column. */
    public List<String> tos() { return derived != null ? derived.tos() : to == null ? List.of() : List.of(to); }
    /** The expression computing new column {@code target} (null: the identity of {@code from}). */
    public String upOf(String target) { return derived != null ? derived.ups().get(target) : up; }
    /** The expression computing old column {@code source} (null: the identity of {@code to}). */
    public String downOf(String source) { return derived != null ? derived.downs().get(source) : down; }
    /** New column {@code target}'s declared SQL type, or null. */
    public String typeOf(String target) { return derived != null ? derived.types().get(target) : type; }
    /** {@code up} for new column {@code target} as SQL over the table's columns ({@code ident} quotes a column name). */
    public String upSql(String target, UnaryOperator<String> ident) {
        String e = upOf(target);
        return e == null ? ident.apply(from) : "(" + e.strip() + ")";
    }

    /** {@code down} for old column {@code source} as SQL over the table's columns. */
    public String downSql(String source, UnaryOperator<String> ident) {
        String e = downOf(source);
        return e == null ? ident.apply(to) : "(" + e.strip() + ")";
    }

    /** The SET list writing every new column from the old ones: {@code a = up_a, b = up_b}. */
    public String upAssignments(UnaryOperator<String> ident) {
        StringBuilder sb = new StringBuilder();
        for (String t : tos()) sb.append(sb.length() == 0 ? "" : ", ").append(ident.apply(t)).append(" = ").append(upSql(t, ident));
        return sb.toString();
    }

    /** The SET list writing every old column from the new ones: {@code a = down_a, …} (the way back). */
    public String downAssignments(UnaryOperator<String> ident) {
        StringBuilder sb = new StringBuilder();
        for (String f : froms()) sb.append(sb.length() == 0 ? "" : ", ").append(ident.apply(f)).append(" = ").append(downSql(f, ident));
        return sb.toString();
    }

    /** SQL over the table's columns, true for a row whose new columns are not what up computes from the old ones. */
    public String upDiffers(UnaryOperator<String> ident) {
        if (tos().size() == 1) return ident.apply(to) + " IS DISTINCT FROM " + upSql(to, ident);
        StringBuilder l = new StringBuilder("(");
        StringBuilder r = new StringBuilder("(");
        for (String t : tos()) {
            l.append(l.length() == 1 ? "" : ", ").append(ident.apply(t));
            r.append(r.length() == 1 ? "" : ", ").append(upSql(t, ident));
        }
        return l + ") IS DISTINCT FROM " + r + ")";
    }

    /** SQL over the table's columns, true for a row whose old columns are not what down computes from the new ones. */
    public String downDiffers(UnaryOperator<String> ident) {
        if (froms().size() == 1) return ident.apply(from) + " IS DISTINCT FROM " + downSql(from, ident);
        StringBuilder l = new StringBuilder("(");
        StringBuilder r = new StringBuilder("(");
        for (String f : froms()) {
            l.append(l.length() == 1 ? "" : ", ").append(ident.apply(f));
            r.append(r.length() == 1 ? "" : ", ").append(downSql(f, ident));
        }
        return l + ") IS DISTINCT FROM " + r + ")";
    }

    /**
     * A derived migration without {@code down} ({@code keep_from: true}): the old columns stay, and Bellows only keeps
     * the new ones computed from them on every write; it never goes past expand.
     */
    public boolean keepsFrom() { return derived != null && derived.downs().isEmpty(); }

    /** Columns other than the old and new ones that up or down read (they stay); empty unless derived. */
    public Set<String> inputs() { return derived != null ? derived.inputs() : Set.of(); }
    /** The table's new name (same schema) for a table rename, else null. */
    public String toTable() { return toTable; }
    /** {@code schema.toTable}, or null when this is not a table rename. */
    public String qualifiedToTable() { return toTable == null ? null : schema + "." + toTable; }
    /** Whether this migration renames its table (and has no column). */
    public boolean isTableRename() { return toTable != null; }

    /**
     * Whether {@code up} and {@code down} are declared inverse: {@code up(down(v)) = v} for every value the new
     * column holds, and both map NULL to NULL. Then a legacy predicate can be answered from the new column's
     * index (see docs/rules.md, {@code inverse}); {@code bellows check} verifies it on the data.
     */
    public boolean inverse() { return inverse; }

    /** This migration in another phase. */
    public Migration withPhase(Phase p) {
        if (keepsFrom() && (p == Phase.SWITCH || p == Phase.CONTRACT)) p = Phase.EXPAND; // its old columns stay: never past expand
        return p == phase ? this : new Migration(id, schema, table, from, to, up, down, type, p, line, removedValue, defaultValue, inverse, toTable, derived);
    }

    /** This type change with its up/down declared inverse (or not). */
    public Migration withInverse(boolean inv) {
        return inv == inverse ? this : new Migration(id, schema, table, from, to, up, down, type, phase, line, removedValue, defaultValue, inv, toTable, derived);
    }

    @Override public boolean equals(Object o) {
        if (!(o instanceof Migration)) return false;
        Migration m = (Migration) o;
        return id.equals(m.id) && schema.equals(m.schema) && table.equals(m.table) && Objects.equals(from, m.from)
            && Objects.equals(to, m.to) && Objects.equals(toTable, m.toTable) && Objects.equals(up, m.up) && Objects.equals(down, m.down)
            && Objects.equals(type, m.type) && phase == m.phase && inverse == m.inverse
            && Objects.equals(removedValue, m.removedValue) && Objects.equals(defaultValue, m.defaultValue)
            && Objects.equals(derived, m.derived);
    }

    @Override public int hashCode() { return Objects.hash(id, schema, table, from, to, up, down, type, phase, inverse, toTable, removedValue, defaultValue, derived); }

    @Override public String toString() {
        if (toTable != null) return id + " (table " + qualifiedTable() + " -> " + toTable + ", " + phase.label() + ")";
        if (derived != null) return id + " (" + qualifiedTable() + "." + String.join("+", froms()) + " -> " + String.join("+", tos()) + ", " + phase.label() + ")";
        return id + " (" + qualifiedTable() + "." + from + " -> " + (isNotNull() ? "NOT NULL" : to == null ? "(removed)" : to) + ", " + phase.label() + ")";
    }
}
