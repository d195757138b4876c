package dev.bellows.rules;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Table → ordered column names, as the database has them now.
 *
 * <p>Contract: the catalog lists every managed table and every other table, view or materialized view that
 * has a column named like some migration's {@code from} or {@code to}. A table it does not list is taken to
 * have no such column; that is how an unqualified name in a join is resolved with certainty. Functions in
 * FROM: see {@link #routines}.
 */
public interface Catalog {
    /** Columns of {@code schema.table} in ordinal order, or null when the catalog does not list it. */
    List<String> columns(String schema, String table);

    /**
     * Every column of {@code schema.table} in ordinal order as recorded while an old column since dropped
     * still existed, or null when nothing was recorded. Positional statements after the drop are read in
     * this order; without it they are refused.
     */
    default List<String> recordedOrder(String schema, String table) {
        return null;
    }

    /**
     * Whether a relation {@code schema.table} exists. Known for every relation named like one the catalog lists
     * (so a same-named table earlier on the search path is seen); by default, whether it is listed.
     */
    default boolean hasRelation(String schema, String table) {
        return columns(schema, table) != null;
    }

    /**
     * Whether {@link #routines} answers: the catalog read the functions whose result in FROM is not one scalar
     * column named after the call (see {@link Routine}). When false, a function in FROM has unknown columns.
     */
    default boolean knowsRoutines() {
        return false;
    }

    /**
     * Every overload of function {@code schema.name} when one of them could give FROM anything but one scalar
     * column (a composite or OUT-parameter result, {@code record}, a polymorphic element, or a name like a managed
     * column's); an empty list when every overload (if any) returns one plain scalar. Only asked when
     * {@link #knowsRoutines()}.
     */
    default List<Routine> routines(String schema, String name) {
        return List.of();
    }

    /**
     * One overload of a function, as a FROM clause sees it.
     *
     * @param params   each input parameter's class: {@code array} (a concrete array type), {@code anyarray}
     *                 (anyarray, anycompatiblearray), {@code poly} (any other polymorphic or "any"), {@code other}
     * @param defaults how many trailing parameters have defaults
     * @param variadic whether the last parameter is VARIADIC
     * @param result   {@code scalar} (one column named after the call), {@code columns} (composite or OUT
     *                 parameters: {@code columns}), {@code record} (needs a column definition list),
     *                 {@code element} (anyelement and kin: scalar or composite by the arguments' types)
     * @param columns  the result columns for {@code columns}, else empty
     */
    record Routine(List<String> params, int defaults, boolean variadic, String result, List<String> columns) {
        public Routine {
            params = List.copyOf(params);
            columns = List.copyOf(columns);
        }

        /** Whether a call with {@code argc} arguments could reach this overload. */
        public boolean accepts(int argc) {
            int min = params.size() - defaults;
            if (variadic) return argc >= Math.max(0, min - 1);
            return argc >= min && argc <= params.size();
        }
    }

    /** This catalog with {@code routines} (keyed {@code schema.name}) as everything it knows of functions. */
    default Catalog withRoutines(Map<String, List<Routine>> routines) {
        Catalog self = this;
        Map<String, List<Routine>> copy = Map.copyOf(routines);
        return new Catalog() {
            @Override public List<String> columns(String schema, String table) { return self.columns(schema, table); }
            @Override public List<String> recordedOrder(String schema, String table) { return self.recordedOrder(schema, table); }
            @Override public boolean hasRelation(String schema, String table) { return self.hasRelation(schema, table); }
            @Override public boolean knowsRoutines() { return true; }
            @Override public List<Routine> routines(String schema, String name) {
                return copy.getOrDefault(schema + "." + name, List.of());
            }
        };
    }

    /** A catalog from a map keyed by {@code schema.table} (or bare {@code table} for public). */
    static Catalog of(Map<String, List<String>> tables) {
        return of(tables, Map.of());
    }

    /** A catalog with recorded column orders, both maps keyed like {@link #of(Map)}. */
    static Catalog of(Map<String, List<String>> tables, Map<String, List<String>> recorded) {
        Map<String, List<String>> copy = keyed(tables);
        Map<String, List<String>> rec = keyed(recorded);
        return new Catalog() {
            @Override public List<String> columns(String schema, String table) { return copy.get(schema + "." + table); }
            @Override public List<String> recordedOrder(String schema, String table) { return rec.get(schema + "." + table); }
        };
    }

    private static Map<String, List<String>> keyed(Map<String, List<String>> tables) {
        Map<String, List<String>> copy = new HashMap<>();
        tables.forEach((k, v) -> copy.put(k.indexOf('.') < 0 ? "public." + k : k, List.copyOf(v)));
        return copy;
    }

    /** A catalog that lists nothing. */
    static Catalog empty() {
        return (schema, table) -> null;
    }
}
