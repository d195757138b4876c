package dev.bellows.rules;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Table → ordered column names, as the database has them now.
 *
 * <p>Contract: the catalog lists every managed table and every other table or view that has a column
 * named like some migration's {@code from} or {@code to}. A table it does not list is taken to have no
 * such column; that is how an unqualified name in a join is resolved with certainty.
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
