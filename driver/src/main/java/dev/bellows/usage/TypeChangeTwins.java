package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The twin of a type change's CHECK constraint, which {@link Twins} cannot match by text: {@code bellows plan}
 * writes it through {@code down}, so its definition is not the original's with the column renamed. It is the
 * constraint the plan names for it (the old name with the old column's name replaced by the new one's, or the old
 * name followed by {@code _<to>}), a CHECK on the new column alone, validated when the original is.
 */
final class TypeChangeTwins {
    private TypeChangeTwins() {
    }

    /** {@code "constraint <name>"} of the twin of CHECK constraint {@code oid}, or null. */
    static String ofCheck(Connection c, String table, Migration m, long oid) throws SQLException {
        if (!m.isTypeChange() || m.down() == null) return null;
        String name;
        boolean validated;
        try (PreparedStatement ps = c.prepareStatement("SELECT conname, convalidated FROM pg_constraint WHERE oid = ? AND contype = 'c'")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                name = rs.getString(1);
                validated = rs.getBoolean(2);
            }
        }
        String twin = name.contains(m.from()) ? name.replace(m.from(), m.to()) : name + "_" + m.to();
        if (twin.equals(name)) twin = name + "_" + m.to();
        try (PreparedStatement ps = c.prepareStatement("SELECT k.conname FROM pg_constraint k WHERE k.conrelid = to_regclass(?)"
            + " AND k.conname = ? AND k.contype = 'c' AND (k.convalidated OR NOT ?)"
            + " AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = k.conrelid AND attname = ? AND NOT attisdropped)]")) {
            ps.setString(1, table);
            ps.setString(2, twin);
            ps.setBoolean(3, validated);
            ps.setString(4, m.to());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? "constraint " + rs.getString(1) : null;
            }
        }
    }
}
