package dev.bellows.rules;

import java.util.List;
import java.util.Objects;

/**
 * The schemas an unqualified table name is looked up in, in order, as PostgreSQL searches them for one session
 * (its temporary schema and {@code pg_catalog} included where the server puts them).
 */
public final class SearchPath {
    /** What Bellows assumed before it followed a session's path: {@code public} only. */
    public static final SearchPath PUBLIC = new SearchPath(List.of("public"));

    private final List<String> schemas;

    private SearchPath(List<String> schemas) {
        this.schemas = schemas;
    }

    /** A path of schema names exactly as the catalog spells them (already unquoted and case-folded). */
    public static SearchPath of(List<String> schemas) {
        List<String> s = List.copyOf(schemas);
        return s.equals(PUBLIC.schemas) ? PUBLIC : new SearchPath(s);
    }

    public List<String> schemas() { return schemas; }

    /**
     * The schema of the first relation named {@code table} along the path, as far as {@code catalog} knows
     * (its contract: every relation named like one it lists is known). When none is known the relation has
     * no managed table's name and no column named like a migration's, so any schema answers the same:
     * {@code public} if on the path, else the first.
     */
    public String resolve(String table, Catalog catalog) {
        for (String s : schemas) {
            if (catalog.hasRelation(s, table)) return s;
        }
        return schemas.isEmpty() || schemas.contains("public") ? "public" : schemas.get(0);
    }

    @Override public boolean equals(Object o) {
        return o instanceof SearchPath && ((SearchPath) o).schemas.equals(schemas);
    }

    @Override public int hashCode() { return Objects.hash(schemas); }

    @Override public String toString() { return "SearchPath" + schemas; }
}
