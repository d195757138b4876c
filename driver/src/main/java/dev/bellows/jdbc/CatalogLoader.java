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
 * Reads the {@link Catalog} a rule set needs with one query on {@code pg_attribute}: every managed table,
 * plus every table, view or materialized view that has a column named like some migration's {@code from} or
 * {@code to} (that is the Catalog contract: a table it does not list has no such column). The column
 * orders recorded in {@code bellows.column_order} before old columns were dropped come with it, every
 * relation in any schema named like a listed one, so that a session's search path finds the right one, and
 * the overloads of the functions whose result in FROM is more than one scalar column (all schemas, at most
 * {@link #MAX_ROUTINES} rows), so that a function beside a managed table has known columns.
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
    // pg_attribute, not information_schema.columns: materialized views too, and every column PostgreSQL resolves
    // names against whatever the role's privileges (a column it may not read is still there to make a name ambiguous)
    private static final String QUERY =
        "SELECT n.nspname::text, c.relname::text, a.attname::text FROM pg_attribute a"
            + " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            + " AND (c.oid IN (SELECT c2.oid FROM pg_class c2 JOIN pg_namespace n2 ON n2.oid = c2.relnamespace"
            + " WHERE (n2.nspname::text, c2.relname::text) IN (SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t)))"
            + " OR c.oid IN (SELECT d.attrelid FROM pg_attribute d WHERE d.attname::text = ANY (?::text[])"
            + " AND d.attnum > 0 AND NOT d.attisdropped))"
            + " ORDER BY n.nspname, c.relname, a.attnum";

    /** Most function overloads read into a catalog; past it, functions in FROM have unknown columns. */
    static final int MAX_ROUTINES = 20_000;
    private static final String POLY_ELEMENT = "('anyelement'::regtype, 'anynonarray'::regtype, 'anycompatible'::regtype,"
        + " 'anycompatiblenonarray'::regtype)";
    // Every overload of every function name one of whose overloads gives FROM more than one plain scalar column
    // named after the call (composite or OUT-parameter results, record, a polymorphic element), or that is named
    // like a managed column. Any other function in FROM is one scalar column: the Catalog.routines contract.
    private static final String ROUTINES_QUERY =
        "SELECT n.nspname::text, p.proname::text, p.pronargdefaults::int, p.provariadic <> 0,"
            + " ARRAY(SELECT CASE WHEN a.t IN ('anyarray'::regtype, 'anycompatiblearray'::regtype) THEN 'anyarray'"
            + " WHEN at.typtype = 'p' THEN 'poly' WHEN at.typcategory = 'A' THEN 'array' ELSE 'other' END"
            + " FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i) JOIN pg_type at ON at.oid = a.t ORDER BY a.i),"
            + " CASE WHEN rt.typtype = 'c' OR bt.typtype = 'c' THEN 'c' WHEN rt.oid = 'record'::regtype THEN 'r'"
            + " WHEN rt.oid IN " + POLY_ELEMENT + " THEN 'e' ELSE 's' END,"
            + " ARRAY(SELECT x.attname::text FROM pg_attribute x WHERE x.attrelid = CASE WHEN rt.typtype = 'c' THEN rt.typrelid"
            + " ELSE bt.typrelid END AND x.attnum > 0 AND NOT x.attisdropped ORDER BY x.attnum),"
            + " ARRAY(SELECT coalesce(p.proargnames[o.i], '') FROM unnest(p.proargmodes::text[]) WITH ORDINALITY AS o(m, i)"
            + " WHERE o.m IN ('o', 'b', 't') ORDER BY o.i)"
            + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type rt ON rt.oid = p.prorettype"
            + " LEFT JOIN pg_type bt ON rt.typtype = 'd' AND bt.oid = rt.typbasetype"
            + " WHERE p.prokind = 'f' AND p.proname IN (SELECT q.proname FROM pg_proc q JOIN pg_type qt ON qt.oid = q.prorettype"
            + " LEFT JOIN pg_type qb ON qt.typtype = 'd' AND qb.oid = qt.typbasetype"
            + " WHERE qt.typtype = 'c' OR qb.typtype = 'c' OR qt.oid = 'record'::regtype OR qt.oid IN " + POLY_ELEMENT
            + " OR q.proargmodes::text[] && ARRAY['o', 'b', 't'] OR q.proname::text = ANY (?::text[]))"
            + " LIMIT " + (MAX_ROUTINES + 1);

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
            Collections.unmodifiableSet(relations), routines(raw, needs));
    }

    /** How many overloads {@link #ROUTINES_QUERY} reads for no managed column name (a measure, for tests). */
    static String routinesCountQuery() {
        return "SELECT count(*) FROM (" + ROUTINES_QUERY.replace("?::text[]", "'{}'::text[]") + ") r";
    }

    /** The functions FROM needs to know (see ROUTINES_QUERY), keyed like tables; null past {@link #MAX_ROUTINES}. */
    private static Map<String, List<Catalog.Routine>> routines(Connection raw, Needs needs) throws SQLException {
        Map<String, List<Catalog.Routine>> out = new HashMap<>();
        int n = 0;
        try (PreparedStatement ps = raw.prepareStatement(ROUTINES_QUERY)) {
            ps.setArray(1, raw.createArrayOf("text", needs.columns().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (++n > MAX_ROUTINES) return null;
                    List<String> params = List.of((String[]) rs.getArray(5).getArray());
                    String ret = rs.getString(6);
                    List<String> attrs = List.of((String[]) rs.getArray(7).getArray());
                    List<String> outs = List.of((String[]) rs.getArray(8).getArray());
                    String result;
                    List<String> cols = List.of();
                    if (outs.size() == 1) { // one OUT parameter: its type is the result, named after the parameter
                        if (ret.equals("c")) {
                            result = "columns";
                            cols = attrs;
                        } else if (ret.equals("s")) {
                            result = outs.get(0).isEmpty() ? "scalar" : "columns";
                            cols = outs.get(0).isEmpty() ? List.of() : outs;
                        } else {
                            result = "unknown";
                        }
                    } else if (outs.size() > 1) {
                        result = outs.contains("") ? "unknown" : "columns";
                        cols = outs.contains("") ? List.of() : outs;
                    } else {
                        result = switch (ret) {
                            case "c" -> "columns";
                            case "r" -> "record";
                            case "e" -> "element";
                            default -> "scalar";
                        };
                        if (ret.equals("c")) cols = attrs;
                    }
                    out.computeIfAbsent(rs.getString(1) + "." + rs.getString(2), k -> new ArrayList<>())
                        .add(new Catalog.Routine(params, rs.getInt(3), rs.getBoolean(4), result, cols));
                }
            }
        } catch (SQLException e) {
            throw Errors.catalog("Bellows could not read the result columns of functions from pg_proc: " + e.getMessage(), e);
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(out);
    }

    /** A catalog read from the database; equal to another when it lists the same columns and orders. */
    static final class LoadedCatalog implements Catalog {
        static final LoadedCatalog EMPTY = new LoadedCatalog(Map.of(), Map.of(), Set.of(), null);
        private final Map<String, List<String>> tables;
        private final Map<String, List<String>> recorded;
        private final Set<String> relations;
        private final Map<String, List<Catalog.Routine>> routines; // "schema.name"; null when not read

        LoadedCatalog(Map<String, List<String>> tables, Map<String, List<String>> recorded, Set<String> relations,
                      Map<String, List<Catalog.Routine>> routines) {
            this.tables = tables;
            this.recorded = recorded;
            this.relations = relations;
            this.routines = routines;
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
            return rec == null ? this : new LoadedCatalog(tables, Collections.unmodifiableMap(rec), relations, routines);
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
        @Override public boolean knowsRoutines() { return routines != null; }
        @Override public List<Catalog.Routine> routines(String schema, String name) {
            return routines == null ? List.of() : routines.getOrDefault(schema + "." + name, List.of());
        }
        @Override public boolean equals(Object o) {
            return o instanceof LoadedCatalog && ((LoadedCatalog) o).tables.equals(tables) && ((LoadedCatalog) o).recorded.equals(recorded)
                && ((LoadedCatalog) o).relations.equals(relations) && java.util.Objects.equals(((LoadedCatalog) o).routines, routines);
        }
        @Override public int hashCode() {
            return ((tables.hashCode() * 31 + recorded.hashCode()) * 31 + relations.hashCode()) * 31 + java.util.Objects.hashCode(routines);
        }
        @Override public String toString() { return "Catalog" + tables.keySet().stream().map(k -> k.replace('\u0000', '.')).sorted().toList(); }
    }
}
