package dev.bellows.workflow;

import dev.bellows.redact.Redact;
import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/** Plain pgjdbc connections and the catalog queries the workflow commands share. */
public final class Db {
    private Db() {
    }

    /**
     * Opens a plain pgjdbc connection. A {@code jdbc:bellows:postgresql:} URL is accepted too: the workflow
     * commands manage the schema itself, so they always talk to PostgreSQL directly.
     */
    public static Connection connect(String url, String user, String password) throws SQLException {
        String pg = url;
        if (pg.regionMatches(true, 0, "jdbc:bellows:", 0, "jdbc:bellows:".length())) {
            pg = "jdbc:" + pg.substring("jdbc:bellows:".length());
            int q = pg.indexOf('?');
            if (q >= 0) {
                StringBuilder kept = new StringBuilder(pg.substring(0, q));
                char sep = '?';
                for (String param : pg.substring(q + 1).split("&")) {
                    if (param.isEmpty() || param.startsWith("bellows.")) continue;
                    kept.append(sep).append(param);
                    sep = '&';
                }
                pg = kept.toString();
            }
        }
        if (!pg.startsWith("jdbc:postgresql:")) {
            throw new SQLException("--url must be a jdbc:postgresql: URL, got '" + Redact.url(url) + "'");
        }
        try {
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new SQLException("pgjdbc (org.postgresql.Driver) is not on the class path", e);
        }
        Properties p = new Properties();
        if (user != null) p.setProperty("user", user);
        String pw = password != null ? password : System.getenv("PGPASSWORD");
        if (pw != null && !pg.contains("password=")) p.setProperty("password", pw);
        if (!pg.contains("connectTimeout=")) p.setProperty("connectTimeout", "5");
        if (!pg.contains("ApplicationName=")) p.setProperty("ApplicationName", "bellows");
        try {
            return DriverManager.getConnection(pg, p);
        } catch (SQLException e) {
            throw new SQLException("cannot connect to " + Redact.url(pg) + ": " + Redact.message(e), e.getSQLState(), e);
        }
    }

    /** The first column of the first row, or null. */
    static String scalar(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    static long scalarLong(Connection c, String sql, Object... params) throws SQLException {
        String s = scalar(c, sql, params);
        return s == null ? 0 : Long.parseLong(s);
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Whether {@code schema.name} is an existing relation. */
    static boolean relationExists(Connection c, String schema, String name) throws SQLException {
        return scalar(c, "SELECT to_regclass(?)", SqlText.qualified(schema, name)) != null;
    }

    /** The columns of {@code schema.table} in order, or an empty list when it does not exist. */
    static List<String> columns(Connection c, String schema, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT column_name FROM information_schema.columns"
            + " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * The rewriter's catalog, read from {@code information_schema.columns} following the {@link Catalog}
     * contract: every managed table, plus every table or view having a column named like some migration's
     * {@code from} or {@code to}. Each {@code extra} entry ({@code schema.table} → column) is appended to that
     * table's columns when missing, to picture the schema after the expand step.
     */
    public static Map<String, List<String>> catalog(Connection c, RuleSet rules, Map<String, String> extra) throws SQLException {
        Set<String> schemas = new LinkedHashSet<>();
        List<String> s = new ArrayList<>();
        List<String> t = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Migration m : rules.migrations()) {
            schemas.add(m.schema());
            s.add(m.schema());
            t.add(m.table());
            if (m.isTableRename()) {
                s.add(m.schema());
                t.add(m.toTable());
                continue;
            }
            names.add(m.from());
            if (m.to() != null) names.add(m.to());
        }
        Map<String, List<String>> out = new HashMap<>();
        String q = "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c"
            + " WHERE (c.table_schema::text, c.table_name::text) IN ("
            + " SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t)"
            + " UNION SELECT d.table_schema::text, d.table_name::text FROM information_schema.columns d"
            + " WHERE d.column_name::text = ANY (?::text[]))"
            + " ORDER BY c.table_schema, c.table_name, c.ordinal_position";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setArray(1, c.createArrayOf("text", s.toArray()));
            ps.setArray(2, c.createArrayOf("text", t.toArray()));
            ps.setArray(3, c.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1) + "." + rs.getString(2), k -> new ArrayList<>()).add(rs.getString(3));
                }
            }
        }
        if (extra != null) {
            extra.forEach((table, col) -> {
                List<String> cols = out.computeIfAbsent(table, k -> new ArrayList<>());
                if (!cols.contains(col)) cols.add(col);
            });
        }
        return out;
    }

    /** A {@link Catalog} over the map {@link #catalog} returns (keys are {@code schema.table}). */
    public static Catalog asCatalog(Map<String, List<String>> tables) {
        Map<String, List<String>> copy = new HashMap<>();
        tables.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        return (schema, table) -> copy.get(schema + "." + table);
    }
}
