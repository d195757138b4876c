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
 * {@code to} (that is the Catalog contract: a table it does not list has no such column).
 */
final class CatalogLoader {
    private static final String QUERY =
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c"
            + " WHERE (c.table_schema::text, c.table_name::text) IN ("
            + "SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t)"
            + " UNION SELECT d.table_schema::text, d.table_name::text FROM information_schema.columns d"
            + " WHERE d.column_name::text = ANY (?::text[]))"
            + " ORDER BY c.table_schema, c.table_name, c.ordinal_position";

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
                columns.add(m.from());
                columns.add(m.to());
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
        return new LoadedCatalog(Collections.unmodifiableMap(out));
    }

    /** A catalog read from the database; equal to another when it lists the same columns. */
    static final class LoadedCatalog implements Catalog {
        static final LoadedCatalog EMPTY = new LoadedCatalog(Map.of());
        private final Map<String, List<String>> tables;

        LoadedCatalog(Map<String, List<String>> tables) {
            this.tables = tables;
        }

        // A separator no identifier can contain, so schema "a.b" table "c" differs from schema "a" table "b.c".
        static String key(String schema, String table) {
            return schema + '\u0000' + table;
        }

        @Override public List<String> columns(String schema, String table) { return tables.get(key(schema, table)); }
        @Override public boolean equals(Object o) { return o instanceof LoadedCatalog && ((LoadedCatalog) o).tables.equals(tables); }
        @Override public int hashCode() { return tables.hashCode(); }
        @Override public String toString() { return "Catalog" + tables.keySet().stream().map(k -> k.replace('\u0000', '.')).sorted().toList(); }
    }
}
