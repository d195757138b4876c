package dev.bellows.flags;

import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * check mode's read of {@code bellows.flags}, on an application connection or a quiet instance's borrowed one: one
 * query once the table is known to exist (asked the first time, and again after the table went away), because across
 * a fleet these reads run N times a second.
 */
final class FlagTableRead {
    // the comment names the reader in pg_stat_activity (check mode renames no connection)
    static final String QUERY = "/* bellows-flags */ SELECT migration_id, phase FROM bellows.flags";
    private static final String EXISTS = "SELECT to_regclass('bellows.flags') IS NOT NULL";

    private volatile boolean tablePresent;

    /** The flags, empty when the table does not exist. */
    Map<String, Phase> read(Connection c) throws SQLException {
        try {
            if (!tablePresent) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(EXISTS)) {
                    if (!rs.next() || !rs.getBoolean(1)) return Map.of();
                }
                tablePresent = true;
            }
            return FlagStore.phasesOnly(c, QUERY);
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) { // dropped since: no flags, as when it never existed
                tablePresent = false;
                return Map.of();
            }
            throw e;
        }
    }
}
