package dev.bellows.flags;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What a move back ({@code bellows flags set} to an earlier phase) would break, checked before anything is
 * written: a NOT NULL on the new column when the fleet stops writing it ({@code expand → off}), live instances
 * running new code when the fleet goes to {@code off}, and the old column being gone. {@link CopyBack} does the
 * data step of a move back from {@code switch} or {@code contract}.
 *
 * <p>"New code" here: a live instance (a heartbeat in {@code bellows.instances}, not stopped, heard from within
 * max(60 s, 3 flush intervals)) that knows the migration and whose application has recorded no use of the old
 * column since the instance started. Legacy code records a use with every statement that names the old column, in
 * every phase; code that names only the new column records none.
 */
final class RollbackCheck {
    private RollbackCheck() {
    }

    /** The problems of moving {@code m} from {@code from} back to {@code to}, each naming the step that fixes it. */
    static List<String> problems(Connection c, Migration m, Phase from, Phase to, boolean oldExists, boolean newExists)
        throws SQLException {
        List<String> problems = new ArrayList<>();
        if (to.ordinal() >= from.ordinal()) return problems;
        String id = m.id();
        if (m.isNotNull()) {
            if (to == Phase.OFF && notNullNow(c, m)) {
                problems.add(m.qualifiedTable() + "." + m.from() + " is NOT NULL or checked (the plan's check or not_null step is"
                    + " in force): in off legacy writes of NULL are sent as written and fail (23502/23514). Apply the down file of"
                    + " that step first, then this command again");
            }
            return problems;
        }
        if (m.isRemoval()) {
            if (!oldExists && to != Phase.SWITCH) {
                problems.add("the removed column " + m.qualifiedTable() + "." + m.from() + " is gone; in " + to.label()
                    + " statements would read and write it as written and fail. Only switch and contract carry legacy code"
                    + " past the drop");
            }
            return problems;
        }
        if (from == Phase.CONTRACT && !oldExists) {
            problems.add("the old column " + m.qualifiedTable() + "." + m.from() + " is gone; in " + to.label()
                + " statements would " + (to == Phase.SWITCH ? "write" : "read and write") + " it. Re-create it first:"
                + " bellows plan " + id + " --out DIR writes the re-creation files (recreate: the column, filled from down("
                + m.to() + "); recreate_mirror: its unique indexes and constraints); apply them, then this command again,"
                + " then the recreate_not_null file if there is one (see docs/runbook.md, Rolling back)");
        }
        if (to == Phase.OFF && newExists) {
            if (notNull(c, m)) {
                problems.add(m.qualifiedTable() + "." + m.to() + " is NOT NULL (the plan's not_null step is in force): in off,"
                    + " legacy code writes only " + m.from() + ", so every insert through it would fail with 23502 (not-null"
                    + " violation). First apply the not_null step's down file (" + id + "_NN_not_null.down.sql from bellows plan "
                    + id + "; it makes " + m.to() + " nullable and " + m.from() + " NOT NULL again), then this command again");
            }
            List<String> newCode = newCodeInstances(c, m);
            if (!newCode.isEmpty()) {
                problems.add(newCode.size() + " live instance" + (newCode.size() == 1 ? " runs" : "s run") + " new code (no use of "
                    + m.from() + " recorded since it started): " + String.join("; ", newCode) + ". In off its writes of "
                    + m.to() + " no longer reach " + m.from() + " and its reads miss legacy writes. Stop it or roll it back to the"
                    + " legacy version first (it drops out of this check once stopped), then this command again. An instance reports"
                    + " its uses once per flush interval (bellows.usage.flushInterval, 10 s by default): a legacy instance that"
                    + " started less than one ago may not have reported yet, so run this command again after one");
            }
        }
        return problems;
    }

    /** Whether a NOT NULL migration's column is NOT NULL or has its check. */
    private static boolean notNullNow(Connection c, Migration m) throws SQLException {
        return notNull(c, new Migration(m.id(), m.schema(), m.table(), m.from() + "\0", m.from(), null, null, null, m.phase(), 0));
    }

    /** Whether the new column is NOT NULL, or has the not_null step's CHECK (it IS NOT NULL) on the way there. */
    static boolean notNull(Connection c, Migration m) throws SQLException {
        String q = "SELECT a.attnotnull OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'c'"
            + " AND k.conkey = ARRAY[a.attnum] AND pg_get_constraintdef(k.oid) ~* ('^CHECK \\(+' || quote_ident(a.attname) || ' IS NOT NULL\\)+'))"
            + " FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attname = ? AND NOT a.attisdropped";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, FlagChange.quote(m.schema()) + "." + FlagChange.quote(m.table()));
            ps.setString(2, m.to());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Live instances running new code (see the class comment), described for a message. */
    static List<String> newCodeInstances(Connection c, Migration m) throws SQLException {
        List<String> out = new ArrayList<>();
        if (!tablesExist(c)) return out;
        String q = "SELECT i.instance_id, i.app_name, i.host, i.started_at FROM bellows.instances i"
            + " WHERE i.stopped_at IS NULL AND (i.phases ->> ?) IS NOT NULL"
            + " AND i.last_seen > now() - greatest(interval '60 seconds', i.flush_interval_ms * interval '3 milliseconds')"
            + " AND NOT EXISTS (SELECT 1 FROM bellows.usage u WHERE u.migration_id = ? AND u.app_name = i.app_name"
            + " AND u.last_seen >= i.started_at)"
            + " ORDER BY i.app_name, i.instance_id";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, m.id());
            ps.setString(2, m.id());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add("instance " + rs.getString(1) + " (" + rs.getString(2) + " on " + rs.getString(3) + ", started "
                        + rs.getTimestamp(4) + ")");
                }
            }
        }
        return out;
    }

    static boolean tablesExist(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('bellows.instances') IS NOT NULL AND to_regclass('bellows.usage') IS NOT NULL")) {
            return rs.next() && rs.getBoolean(1);
        }
    }
}
