package dev.bellows.jdbc;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@link Catalog} a rule set needs with one query on {@code information_schema.columns}: every
 * managed table, plus every table or view that has a column named like some migration's {@code from} or
 * {@code to} (that is the Catalog contract: a table it does not list has no such column). The column
 * orders recorded in {@code bellows.column_order} before old columns were dropped come with it, and every
 * relation in any schema named like a listed one, so that a session's search path finds the right one.
 */
final class CatalogLoader {
    /** Where the contract step of {@code bellows plan} records a table's columns just before the drop. */
    static final String ORDER_TABLE = "bellows.column_order";
    // readable only: a role that cannot see the table gets no recorded order (and positional statements fail closed)
    private static final String ORDER_EXISTS =
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = 'bellows' AND c.relname = 'column_order'"
            + " AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')";
    // the earliest record of a table knows every old column dropped since
    private static final String ORDER_QUERY =
        "SELECT DISTINCT ON (schema_name, table_name) schema_name, table_name, columns FROM " + ORDER_TABLE
            + " WHERE (schema_name, table_name) IN (SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t))"
            + " ORDER BY schema_name, table_name, recorded_at";
    private static final String QUERY =
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c"
            + " WHERE (c.table_schema::text, c.table_name::text) IN ("
            + "SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t)"
            + " UNION SELECT d.table_schema::text, d.table_name::text FROM information_schema.columns d"
            + " WHERE d.column_name::text = ANY (?::text[]))"
            + " ORDER BY c.table_schema, c.table_name, c.ordinal_position";

    // every relation named like a listed one, in any schema: what a search path needs to find the first of them
    private static final String RELATIONS_QUERY =
        "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE c.relname = ANY (?::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')";

    private CatalogLoader() {
    }

    /** What a rule set needs the catalog to cover: its managed tables and its column names. */
    record Needs(Set<List<String>> tables, Set<String> columns) {
        static final Needs NONE = new Needs(Set.of(), Set.of());

        static Needs of(RuleSet rules) {
            if (rules.isEmpty()) return NONE;
            Set<List<String>> tables = new LinkedHashSet<>();
            Set<String> columns = new LinkedHashSet<>();
            for (Migration m : rules.migrations()) {
                tables.add(List.of(m.schema(), m.table()));
                if (m.isTableRename()) {
                    tables.add(List.of(m.schema(), m.toTable()));
                    continue;
                }
                columns.add(m.from());
                if (m.to() != null) columns.add(m.to());
            }
            return new Needs(Set.copyOf(tables), Set.copyOf(columns));
        }

        boolean covers(Needs other) {
            return tables.containsAll(other.tables) && columns.containsAll(other.columns);
        }
    }

    /** {@code name@address:port} of the database {@code raw} is connected to, or null when it cannot be read. */
    static String database(Connection raw) {
        try (java.sql.Statement s = raw.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_database() || '@' || coalesce(host(inet_server_addr()), 'local')"
                 + " || ':' || current_setting('port')")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null;
        }
    }

    /** Runs the catalog query on {@code raw} (an unwrapped pgjdbc connection). */
    static Catalog load(Connection raw, Needs needs) throws SQLException {
        if (needs.tables().isEmpty() && needs.columns().isEmpty()) return LoadedCatalog.EMPTY;
        List<String> schemas = new ArrayList<>();
        List<String> tables = new ArrayList<>();
        for (List<String> t : needs.tables()) {
            schemas.add(t.get(0));
            tables.add(t.get(1));
        }
        Map<String, List<String>> out = new HashMap<>();
        try (PreparedStatement ps = raw.prepareStatement(QUERY)) {
            Array s = raw.createArrayOf("text", schemas.toArray());
            Array t = raw.createArrayOf("text", tables.toArray());
            Array c = raw.createArrayOf("text", needs.columns().toArray());
            ps.setArray(1, s);
            ps.setArray(2, t);
            ps.setArray(3, c);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(LoadedCatalog.key(rs.getString(1), rs.getString(2)), k -> new ArrayList<>())
                        .add(rs.getString(3));
                }
            }
        } catch (SQLException e) {
            throw Errors.catalog("Bellows could not read the catalog of managed tables from information_schema.columns: "
                + e.getMessage(), e);
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        Set<String> relations = new java.util.HashSet<>();
        Set<String> names = new LinkedHashSet<>(tables);
        for (String k : out.keySet()) names.add(k.substring(k.indexOf('\u0000') + 1));
        try (PreparedStatement ps = raw.prepareStatement(RELATIONS_QUERY)) {
            ps.setArray(1, raw.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) relations.add(LoadedCatalog.key(rs.getString(1), rs.getString(2)));
            }
        } catch (SQLException e) {
            throw Errors.catalog("Bellows could not read the relations named like managed tables from pg_class: "
                + e.getMessage(), e);
        }
        Map<String, List<String>> recorded = new HashMap<>();
        try {
            boolean exists;
            try (PreparedStatement ps = raw.prepareStatement(ORDER_EXISTS); ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
            if (exists && !schemas.isEmpty()) {
                try (PreparedStatement ps = raw.prepareStatement(ORDER_QUERY)) {
                    ps.setArray(1, raw.createArrayOf("text", schemas.toArray()));
                    ps.setArray(2, raw.createArrayOf("text", tables.toArray()));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            recorded.put(LoadedCatalog.key(rs.getString(1), rs.getString(2)),
                                List.of((String[]) rs.getArray(3).getArray()));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw Errors.catalog("Bellows could not read the recorded column orders from " + ORDER_TABLE + ": "
                + e.getMessage(), e);
        }
        return new LoadedCatalog(Collections.unmodifiableMap(out), Collections.unmodifiableMap(recorded),
            Collections.unmodifiableSet(relations));
    }

    /** A catalog read from the database; equal to another when it lists the same columns and orders. */
    static final class LoadedCatalog implements Catalog {
        static final LoadedCatalog EMPTY = new LoadedCatalog(Map.of(), Map.of(), Set.of());
        private final Map<String, List<String>> tables;
        private final Map<String, List<String>> recorded;
        private final Set<String> relations;

        LoadedCatalog(Map<String, List<String>> tables, Map<String, List<String>> recorded, Set<String> relations) {
            this.tables = tables;
            this.recorded = recorded;
            this.relations = relations;
        }

        /**
         * This catalog, keeping for each table whose old column it no longer lists (and has no record for) the
         * column order {@code previous} saw while the column existed: the snapshot that lets this process go on
         * reading positional statements in the legacy order after a drop it watched happen.
         */
        LoadedCatalog carryingOrder(Catalog previous, RuleSet rules) {
            if (!(previous instanceof LoadedCatalog)) return this;
            LoadedCatalog prev = (LoadedCatalog) previous;
            Map<String, List<String>> rec = null;
            for (Migration m : rules.migrations()) {
                if (m.isTableRename()) continue;
                String k = key(m.schema(), m.table());
                List<String> now = tables.get(k);
                if (now == null || now.contains(m.from()) || recorded.containsKey(k) || (rec != null && rec.containsKey(k))) continue;
                List<String> before = prev.recorded.containsKey(k) ? prev.recorded.get(k) : prev.tables.get(k);
                if (before == null || !before.contains(m.from())) continue;
                if (rec == null) rec = new HashMap<>(recorded);
                rec.put(k, before);
            }
            return rec == null ? this : new LoadedCatalog(tables, Collections.unmodifiableMap(rec), relations);
        }

        // A separator no identifier can contain, so schema "a.b" table "c" differs from schema "a" table "b.c".
        static String key(String schema, String table) {
            return schema + '\u0000' + table;
        }

        @Override public List<String> columns(String schema, String table) { return tables.get(key(schema, table)); }
        @Override public List<String> recordedOrder(String schema, String table) { return recorded.get(key(schema, table)); }
        @Override public boolean hasRelation(String schema, String table) {
            String k = key(schema, table);
            return relations.contains(k) || tables.containsKey(k);
        }
        @Override public boolean equals(Object o) {
            return o instanceof LoadedCatalog && ((LoadedCatalog) o).tables.equals(tables) && ((LoadedCatalog) o).recorded.equals(recorded)
                && ((LoadedCatalog) o).relations.equals(relations);
        }
        @Override public int hashCode() { return (tables.hashCode() * 31 + recorded.hashCode()) * 31 + relations.hashCode(); }
        @Override public String toString() { return "Catalog" + tables.keySet().stream().map(k -> k.replace('\u0000', '.')).sorted().toList(); }
    }
}
