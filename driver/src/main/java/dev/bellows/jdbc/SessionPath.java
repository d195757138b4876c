package dev.bellows.jdbc;

import dev.bellows.rules.SearchPath;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One connection's search path as PostgreSQL applies it to unqualified table names: read from the server (the
 * URL's {@code currentSchema}, the role's default, any {@code SET}) and read again after a statement through the
 * driver that may have changed it, and at the end of a transaction in which one ran ({@code SET LOCAL}, or a
 * {@code SET} that a rollback undoes).
 */
final class SessionPath {
    private static final String QUERY = "SELECT current_setting('search_path'), current_user,"
        + " (SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema())";

    private SearchPath known;
    /** Changed inside a transaction still open: a rollback (to a savepoint, or of it all) may undo it. */
    private boolean inTransaction;

    /** The path now; read from {@code raw} when not known. Null when it cannot be read (an aborted transaction). */
    SearchPath get(Connection raw) {
        SearchPath p = known;
        if (p == null) known = p = read(raw);
        return p;
    }

    /** A statement ran through this connection. */
    void executed(boolean mayChangePath, Connection raw) {
        if (mayChangePath) {
            known = null;
            if (!idle(raw)) inTransaction = true;
        } else if (inTransaction) {
            known = null; // a ROLLBACK [TO SAVEPOINT] sent as SQL, or anything else: read again until the transaction ends
            if (idle(raw)) inTransaction = false;
        }
    }

    /** commit(), rollback() or a savepoint rollback through the JDBC API. */
    void transactionChanged(Connection raw) {
        if (!inTransaction) return;
        known = null;
        if (idle(raw)) inTransaction = false;
    }

    private static boolean idle(Connection raw) {
        try {
            return raw.unwrap(org.postgresql.core.BaseConnection.class).getTransactionState()
                == org.postgresql.core.TransactionState.IDLE;
        } catch (SQLException e) {
            return false;
        }
    }

    private static SearchPath read(Connection raw) {
        try {
            // outside a transaction, reading must not open one (the application may still set its isolation level)
            boolean flip = !raw.getAutoCommit() && idle(raw);
            if (flip) raw.setAutoCommit(true);
            try (Statement s = raw.createStatement(); ResultSet rs = s.executeQuery(QUERY)) {
                if (!rs.next()) return null;
                return SearchPath.of(effective(rs.getString(1), rs.getString(2), rs.getString(3)));
            } finally {
                if (flip) raw.setAutoCommit(false);
            }
        } catch (SQLException e) {
            return null;
        }
    }

    /**
     * The schemas searched for a relation, in order: the session's temporary schema unless the path places
     * {@code pg_temp}, then {@code pg_catalog} unless the path places it, then the path with {@code $user}
     * replaced by the current role and {@code pg_temp} by the temporary schema.
     */
    static List<String> effective(String setting, String user, String temp) {
        List<String> listed = parse(setting);
        List<String> out = new ArrayList<>();
        if (temp != null && !listed.contains("pg_temp")) out.add(temp);
        if (!listed.contains("pg_catalog")) out.add("pg_catalog");
        for (String s : listed) {
            String n = s.equals("$user") ? user : s.equals("pg_temp") ? temp : s;
            if (n != null && !out.contains(n)) out.add(n);
        }
        return out;
    }

    /** The elements of a {@code search_path} setting: comma-separated, double-quoted where needed. */
    static List<String> parse(String setting) {
        List<String> out = new ArrayList<>();
        if (setting == null) return out;
        int i = 0;
        int n = setting.length();
        while (i < n) {
            while (i < n && (setting.charAt(i) == ' ' || setting.charAt(i) == ',')) i++;
            if (i >= n) break;
            StringBuilder sb = new StringBuilder();
            if (setting.charAt(i) == '"') {
                i++;
                while (i < n) {
                    char c = setting.charAt(i++);
                    if (c == '"') {
                        if (i < n && setting.charAt(i) == '"') {
                            sb.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        sb.append(c);
                    }
                }
                while (i < n && setting.charAt(i) != ',') i++;
                out.add(sb.toString());
            } else {
                while (i < n && setting.charAt(i) != ',') sb.append(setting.charAt(i++));
                String s = sb.toString().strip();
                if (!s.isEmpty()) out.add(s.toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }
}
