package dev.bellows.workflow;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the workflow commands need to know about one table, read from the system catalogs. */
final class TableInfo {
    /** One column. {@code defaultExpr} is {@code pg_get_expr} of its default, null when it has none. */
    record Column(int attnum, String name, String type, boolean notNull, String defaultExpr, boolean defaultVolatile,
                  String collation, boolean identity, boolean generated, String ownedSequence) {
    }

    /** An index involving a column (by key, expression or predicate), with the constraint it backs, if any. */
    record Index(String name, String definition, String method, boolean unique, boolean primary, boolean valid,
                 String constraintName, String constraintType, boolean deferrable, boolean deferred, boolean expression) {
    }

    /** A check or foreign-key constraint involving a column. */
    record Constraint(String name, char type, String definition, boolean validated) {
    }

    /** A foreign key of another table referencing a column of this one. */
    record Incoming(String table, String name) {
    }

    final String schema;
    final String table;
    final long oid;
    final Map<String, Column> columns;
    final List<String> primaryKey;
    final String primaryKeyType;

    private TableInfo(String schema, String table, long oid, Map<String, Column> columns, List<String> primaryKey,
                      String primaryKeyType) {
        this.schema = schema;
        this.table = table;
        this.oid = oid;
        this.columns = columns;
        this.primaryKey = primaryKey;
        this.primaryKeyType = primaryKeyType;
    }

    String qualified() {
        return SqlText.qualified(schema, table);
    }

    Column column(String name) {
        return columns.get(name);
    }

    /** The table, or null when there is no such table (views and other relations are not tables). */
    static TableInfo load(Connection c, String schema, String table) throws SQLException {
        String oidText = Db.scalar(c, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')", schema, table);
        if (oidText == null) return null;
        long oid = Long.parseLong(oidText);
        Map<String, Column> cols = new LinkedHashMap<>();
        String q = "SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            + " pg_get_expr(ad.adbin, ad.adrelid),"
            + " CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation"
            + "   THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,"
            + " a.attidentity <> '', a.attgenerated <> ''"
            + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            + " LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
            + " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
            + " LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
            + " WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String def = rs.getString(5);
                    cols.put(rs.getString(2), new Column(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                        def, false, rs.getString(6), rs.getBoolean(7), rs.getBoolean(8), null));
                }
            }
        }
        String qualified = SqlText.qualified(schema, table);
        for (Map.Entry<String, Column> e : cols.entrySet()) {
            Column col = e.getValue();
            boolean volatileDefault = col.defaultExpr() != null && isVolatile(c, col.defaultExpr());
            String seq = Db.scalar(c, "SELECT pg_get_serial_sequence(?, ?)", qualified, col.name()); // the column is taken literally
            if (volatileDefault || seq != null) {
                e.setValue(new Column(col.attnum(), col.name(), col.type(), col.notNull(), col.defaultExpr(), volatileDefault,
                    col.collation(), col.identity(), col.generated(), seq));
            }
        }
        List<String> pk = new ArrayList<>();
        String pkType = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod)"
            + " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])"
            + " WHERE i.indrelid = ? AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pk.add(rs.getString(1));
                    pkType = rs.getString(2);
                }
            }
        }
        return new TableInfo(schema, table, oid, cols, List.copyOf(pk), pk.size() == 1 ? pkType : null);
    }

    /** Whether an expression calls a function of which some overload is volatile (nextval, random, clock_timestamp…). */
    static boolean isVolatile(Connection c, String expr) throws SQLException {
        Set<String> fns = SqlText.calledFunctions(expr);
        if (fns.isEmpty()) return false;
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT coalesce(bool_or(provolatile = 'v'), false) FROM pg_proc WHERE proname = ANY (?::text[])")) {
            ps.setArray(1, c.createArrayOf("text", fns.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Indexes whose key, expression or predicate uses the column. */
    List<Index> indexesOn(Connection c, Column col) throws SQLException {
        List<Index> out = new ArrayList<>();
        String q = "SELECT ic.relname, pg_get_indexdef(i.indexrelid), am.amname, i.indisunique, i.indisprimary, i.indisvalid,"
            + " con.conname, con.contype, coalesce(con.condeferrable, false), coalesce(con.condeferred, false),"
            + " i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) oc"
            + "   JOIN pg_opclass o ON o.oid = oc WHERE NOT o.opcdefault)"
            + " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
            + " LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')"
            + " WHERE i.indrelid = ? AND (?::int2 = ANY (i.indkey::int2[]) OR EXISTS (SELECT 1 FROM pg_depend d"
            + "   WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refclassid = 'pg_class'::regclass"
            + "   AND d.refobjid = i.indrelid AND d.refobjsubid = ?))"
            + " ORDER BY ic.relname";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setLong(1, oid);
            ps.setInt(2, col.attnum());
            ps.setInt(3, col.attnum());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String ct = rs.getString(8);
                    out.add(new Index(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5),
                        rs.getBoolean(6), rs.getString(7), ct, rs.getBoolean(9), rs.getBoolean(10), rs.getBoolean(11)));
                }
            }
        }
        return out;
    }

    /** Check and foreign-key constraints of this table that use the column. */
    List<Constraint> constraintsOn(Connection c, Column col) throws SQLException {
        List<Constraint> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT conname, contype, pg_get_constraintdef(oid), convalidated"
            + " FROM pg_constraint WHERE conrelid = ? AND contype IN ('c', 'f') AND ?::int2 = ANY (conkey) ORDER BY conname")) {
            ps.setLong(1, oid);
            ps.setInt(2, col.attnum());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Constraint(rs.getString(1), rs.getString(2).charAt(0), rs.getString(3), rs.getBoolean(4)));
                }
            }
        }
        return out;
    }

    /** Foreign keys of other tables that reference the column. */
    List<Incoming> referencing(Connection c, Column col) throws SQLException {
        List<Incoming> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT conrelid::regclass::text, conname FROM pg_constraint"
            + " WHERE confrelid = ? AND contype = 'f' AND ?::int2 = ANY (confkey) ORDER BY 1, 2")) {
            ps.setLong(1, oid);
            ps.setInt(2, col.attnum());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Incoming(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    /** Views, rules and other objects (not indexes or constraints) that depend on the column. */
    List<String> dependents(Connection c, Column col) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT pg_describe_object(d.classid, d.objid, 0)"
            + " FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ? AND d.refobjsubid = ?"
            + " AND d.deptype = 'n' AND d.classid NOT IN ('pg_class'::regclass, 'pg_constraint'::regclass, 'pg_attrdef'::regclass)"
            + " ORDER BY 1")) {
            ps.setLong(1, oid);
            ps.setInt(2, col.attnum());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Names already taken by relations in this table's schema and constraints on this table. */
    Set<String> takenNames(Connection c) throws SQLException {
        Set<String> out = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = ? UNION SELECT conname FROM pg_constraint WHERE conrelid = ?")) {
            ps.setString(1, schema);
            ps.setLong(2, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
        }
        return out;
    }
}
