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

    /** A catalog from a map keyed by {@code schema.table} (or bare {@code table} for public). */
    static Catalog of(Map<String, List<String>> tables) {
        Map<String, List<String>> copy = new HashMap<>();
        tables.forEach((k, v) -> copy.put(k.indexOf('.') < 0 ? "public." + k : k, List.copyOf(v)));
        return (schema, table) -> copy.get(schema + "." + table);
    }

    /** A catalog that lists nothing. */
    static Catalog empty() {
        return (schema, table) -> null;
    }
}
