package dev.bellows.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the twin on the new column of an index or constraint on the old one (what the plan's mirror step
 * creates): a valid index, or a constraint, on the same table whose definition is the original's with the old
 * column replaced by the new one. Such an object goes with the old column at the drop and is no obstacle.
 */
final class Twins {
    private final Connection c;
    private final String table;
    private final String from;
    private final String to;

    Twins(Connection c, String table, String from, String to) {
        this.c = c;
        this.table = table;
        this.from = from;
        this.to = to;
    }

    /** The name of the valid twin of index {@code oid}, or null. */
    String ofIndex(long oid) throws SQLException {
        String wanted = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT i.indisunique, pg_get_indexdef(i.indexrelid), quote_ident(?), quote_ident(?)"
            + " FROM pg_index i WHERE i.indexrelid = ?")) {
            ps.setString(1, from);
            ps.setString(2, to);
            ps.setLong(3, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                String tail = tail(rs.getString(2));
                if (tail == null) return null;
                wanted = rs.getBoolean(1) + " " + replace(tail, rs.getString(3), rs.getString(4));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT i.indisunique, pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text"
            + " FROM pg_index i WHERE i.indrelid = to_regclass(?) AND i.indexrelid <> ? AND i.indisvalid AND i.indisready")) {
            ps.setString(1, table);
            ps.setLong(2, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String tail = tail(rs.getString(2));
                    if (tail != null && wanted.equals(rs.getBoolean(1) + " " + tail)) return "index " + rs.getString(3);
                }
            }
        }
        return null;
    }

    /** The name of the twin of constraint {@code oid} (validated when the original is), or null. */
    String ofConstraint(long oid) throws SQLException {
        String wanted;
        String type;
        try (PreparedStatement ps = c.prepareStatement("SELECT contype::text, pg_get_constraintdef(oid), quote_ident(?), quote_ident(?)"
            + " FROM pg_constraint WHERE oid = ?")) {
            ps.setString(1, from);
            ps.setString(2, to);
            ps.setLong(3, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                type = rs.getString(1);
                wanted = replace(rs.getString(2), rs.getString(3), rs.getString(4));
            }
        }
        if (!"u".equals(type) && !"c".equals(type) && !"f".equals(type) && !"x".equals(type)) return null;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_get_constraintdef(k.oid), k.conname FROM pg_constraint k"
            + " WHERE k.conrelid = to_regclass(?) AND k.oid <> ? AND k.contype::text = ?"
            + " AND (k.conindid = 0 OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = k.conindid AND i.indisvalid))")) {
            ps.setString(1, table);
            ps.setLong(2, oid);
            ps.setString(3, type);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (wanted.equals(rs.getString(1))) return "constraint " + rs.getString(2);
                }
            }
        }
        return null;
    }

    /** What follows the index name in {@code pg_get_indexdef}: {@code ON table USING method (...)}. */
    private static String tail(String def) {
        int on = def.indexOf(" ON ");
        return on < 0 ? null : def.substring(on);
    }

    /** {@code def} with every whole-identifier occurrence of {@code from} replaced by {@code to} (both as quote_ident gives them). */
    static String replace(String def, String from, String to) {
        Pattern p = Pattern.compile("(?<![A-Za-z0-9_$\"])" + Pattern.quote(from) + "(?![A-Za-z0-9_$\"])");
        return p.matcher(def).replaceAll(Matcher.quoteReplacement(to));
    }
}
