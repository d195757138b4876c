package dev.bellows.rules.analysis;

import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One query level's FROM entries and the levels around it: where column names are resolved. */
final class Scope {
    /** A relation visible by name in a query level: a base table or a derived one (subquery, CTE, function). */
    static final class Rel {
        final String name;          // how columns qualify it: alias, or table name; null for an unnamed subquery
        final String schema;        // base tables only
        final String table;         // base tables only
        final boolean aliased;
        final List<Managed.M> migs; // migrations on this table; empty for derived or unmanaged
        final List<String> cols;    // known columns in order, or null
        final String qualText;      // the text to qualify a column of it with
        boolean merged;             // joined by USING or NATURAL: its managed columns are merged
        String renamedTo;           // a renamed table whose reference now names the new table, else null

        Rel(String name, String schema, String table, boolean aliased, List<Managed.M> migs, List<String> cols, String qualText) {
            this.name = name;
            this.schema = schema;
            this.table = table;
            this.aliased = aliased;
            this.migs = migs == null ? List.of() : migs;
            this.cols = cols;
            this.qualText = qualText;
        }

        boolean isBase() { return table != null; }

        /** The migration whose from or to is {@code col}, or null. */
        Managed.M managing(String col) {
            for (Managed.M m : migs) {
                if (m.from().equals(col) || col.equals(m.to())) return m;
            }
            return null;
        }

        /** 1 has the column, 0 has not, -1 unknown. Only asked for managed names. */
        int has(String col) {
            if (cols != null) return cols.contains(col) ? 1 : (managing(col) != null && isBase() ? 1 : 0);
            if (isBase()) return managing(col) != null ? 1 : 0; // the catalog lists every table having a managed name
            return -1;
        }

        boolean matches(String qSchema, String q) {
            if (qSchema != null) return isBase() && !aliased && qSchema.equals(schema) && q.equals(table);
            return q.equals(name);
        }
    }

    final Scope parent;
    final Map<String, List<String>> ctes; // visible CTE names → output columns (null entry = unknown)
    final List<Rel> rels = new ArrayList<>();
    List<String> outputs;                  // this level's output names, for ORDER BY / GROUP BY
    /**
     * Columns merged by a JOIN USING or NATURAL join that Bellows turned into ON: name → the expression
     * PostgreSQL defines for the merged column; {@link #mergedLeft}/{@link #mergedRight} are the two sides.
     */
    java.util.LinkedHashMap<String, Parts> merged;
    Rel mergedLeft, mergedRight;
    boolean mergedKept;                    // the join was left as written

    Scope(Scope parent, Map<String, List<String>> ctes) {
        this.parent = parent;
        this.ctes = ctes;
    }

    /** Whether this level or one around it has columns merged by a rewritten USING or NATURAL join. */
    boolean anyMerged() {
        for (Scope s = this; s != null; s = s.parent) if (s.merged != null) return true;
        return false;
    }

    /**
     * The level whose merged column an unqualified {@code col} means (its expression is null when the join
     * was left as written), or null when it means something else.
     * Throws a refusal when another relation beside the joined pair has the column too.
     */
    Scope mergedAt(String col) {
        for (Scope s = this; s != null; s = s.parent) {
            boolean other = false;
            for (Rel r : s.rels) {
                if (s.merged != null && (r == s.mergedLeft || r == s.mergedRight)) continue;
                if (r.has(col) != 0) other = true;
            }
            if (s.merged != null && s.merged.containsKey(col)) {
                if (other) throw new Refusal("cannot tell which relation " + col + " belongs to");
                return s;
            }
            if (other) return null;
        }
        return null;
    }

    /** Whether some visible relation is a managed table having {@code col} as from or to. */
    boolean managedVisible(String col) {
        for (Scope s = this; s != null; s = s.parent) {
            for (Rel r : s.rels) {
                if (r.managing(col) != null) return true;
            }
        }
        return false;
    }

    /**
     * The relation {@code [schema.]qualifier.col} or unqualified {@code col} belongs to; null when it is
     * certainly not a managed table's. Throws a refusal when it cannot be known.
     */
    Rel resolve(String qSchema, String qualifier, String col) {
        for (Scope s = this; s != null; s = s.parent) {
            if (qualifier != null) {
                for (Rel r : s.rels) {
                    if (r.matches(qSchema, qualifier)) return r.managing(col) != null ? r : null;
                }
                continue;
            }
            Rel found = null;
            int hits = 0;
            boolean unknown = false;
            for (Rel r : s.rels) {
                int h = r.has(col);
                if (h == 1) {
                    hits++;
                    found = r;
                } else if (h < 0) {
                    unknown = true;
                }
            }
            if (hits == 1 && !unknown) return found.managing(col) != null ? found : null;
            if (hits > 1 || unknown && hits == 1) {
                if (managedVisible(col)) throw new Refusal("cannot tell which relation " + col + " belongs to");
                return null;
            }
            if (unknown) {
                if (managedVisible(col)) throw new Refusal("cannot tell whether " + col + " belongs to a subquery or function");
                return null;
            }
        }
        if (qualifier != null && managedVisible(col)) {
            throw new Refusal("unknown qualifier " + qualifier + "." + col);
        }
        return null;
    }
}
