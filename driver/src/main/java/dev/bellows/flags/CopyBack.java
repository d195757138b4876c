package dev.bellows.flags;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The data step of a move back out of {@code switch} or {@code contract}: {@code old = down(new)} wherever the new
 * column has a value and the old one differs. Done in two statements (the differing old values to NULL, then to
 * {@code down(new)}), so a unique index on the old column cannot trip over rows that exchanged values while only
 * the new column was written; when the old column is NOT NULL, or the final values themselves collide, it refuses
 * naming the rows. After a move back from {@code contract} it waits for the live instances to report the new phase
 * and copies again what they wrote in the meantime.
 */
final class CopyBack {
    /** A copy that would break a constraint of the old column; the message names the rows and the fix. */
    static final class CollisionException extends SQLException {
        private static final long serialVersionUID = 1L;

        CollisionException(String message, SQLException cause) {
            super(message, cause.getSQLState(), cause);
        }
    }

    private CopyBack() {
    }

    /** Marks these statements as Bellows' own for the gate's pg_stat_statements check (it keeps the first text seen). */
    private static final String TAG = "/* bellows:flags */";

    /** Copies inside the caller's transaction; returns the rows brought in line. */
    static long copy(Connection c, Migration m) throws SQLException {
        String t = table(m);
        if (m.isDerived()) { // every old column from its down, where the new columns hold a row
            Savepoint sp = c.setSavepoint();
            try (Statement s = c.createStatement()) {
                long n = s.executeLargeUpdate("UPDATE " + TAG + " " + t + " SET " + m.downAssignments(FlagChange::quote)
                    + " WHERE " + m.downDiffers(FlagChange::quote));
                c.releaseSavepoint(sp);
                return n;
            } catch (SQLException e) {
                c.rollback(sp);
                throw e;
            }
        }
        String old = FlagChange.quote(m.from());
        String neu = FlagChange.quote(m.to());
        String down = down(m);
        String differs = " WHERE " + neu + " IS NOT NULL AND " + old + " IS DISTINCT FROM " + down;
        boolean oldNotNull = attNotNull(c, m, m.from());
        Savepoint sp = c.setSavepoint();
        try (Statement s = c.createStatement()) {
            // the sync trigger (bellows plan --trigger) would copy the NULL of the first step into the new column
            s.execute("SELECT set_config('bellows.sync_off', 'on', true)");
            long n;
            if (oldNotNull) {
                n = s.executeLargeUpdate("UPDATE " + TAG + " " + t + " SET " + old + " = " + down + differs);
            } else {
                n = s.executeLargeUpdate("UPDATE " + TAG + " " + t + " SET " + old + " = NULL" + differs);
                s.executeLargeUpdate("UPDATE " + TAG + " " + t + " SET " + old + " = " + down + " WHERE " + neu + " IS NOT NULL AND "
                    + old + " IS NULL AND " + down + " IS NOT NULL");
            }
            s.execute("SELECT set_config('bellows.sync_off', 'off', true)");
            c.releaseSavepoint(sp);
            return n;
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState()) && !"23P01".equals(e.getSQLState())) throw e;
            c.rollback(sp);
            throw new CollisionException(collision(c, m, oldNotNull, e), e);
        }
    }

    /** Which rows collide, and what fixes it. */
    private static String collision(Connection c, Migration m, boolean oldNotNull, SQLException e) throws SQLException {
        String old = FlagChange.quote(m.from());
        String neu = FlagChange.quote(m.to());
        String down = down(m);
        String key = primaryKey(c, m);
        String rows = "WITH " + TAG + " d AS (SELECT ctid AS r, (" + key + ")::text AS k, " + old + " AS o, " + down + " AS v,"
            + " (" + neu + " IS NOT NULL AND " + old + " IS DISTINCT FROM " + down + ") AS moving,"
            + " CASE WHEN " + neu + " IS NOT NULL THEN " + down + " ELSE " + old + " END AS fin FROM " + table(m) + ") ";
        String col = m.qualifiedTable() + "." + m.from();
        List<String> dupes = list(c, rows + "SELECT string_agg(k, ' and ' ORDER BY k) FROM d WHERE fin IS NOT NULL"
            + " GROUP BY fin HAVING count(*) > 1 LIMIT 5");
        if (!dupes.isEmpty()) {
            return "copying " + m.to() + " back into " + m.from() + " would give these rows the same " + col + ", which a"
                + " unique index or constraint on it forbids: " + String.join("; ", dupes) + " (by " + key + "). A row whose "
                + m.to() + " is NULL keeps its old " + m.from() + ". Give those rows distinct values (or drop the unique index"
                + " on " + m.from() + "), then this command again";
        }
        if (!oldNotNull) {
            return "copying " + m.to() + " back into " + m.from() + " breaks a constraint of " + col + ": "
                + e.getMessage().split("\n")[0] + ". Fix the rows it names, then this command again";
        }
        List<String> swaps = list(c, rows + "SELECT a.k || ' takes the value ' || b.k || ' still holds' FROM d a JOIN d b"
            + " ON b.o = a.v AND b.r <> a.r WHERE a.moving ORDER BY a.k LIMIT 5");
        return "rows exchanged values of " + m.to() + " while only it was written, and " + col + " is NOT NULL, so they"
            + " cannot be copied back one after the other without a duplicate: " + String.join("; ", swaps) + " (by " + key
            + "). Let it be NULL first (ALTER TABLE " + table(m) + " ALTER COLUMN " + old + " DROP NOT NULL; the plan's"
            + " not_null step does this), then this command again";
    }

    /**
     * After a move back from {@code contract}: waits (up to {@code timeoutMillis}, at least 3 flush intervals of the
     * slowest live instance) until every live instance that knows the migration has reported a heartbeat since the
     * move with a phase other than contract, then copies again. Returns lines for the output.
     */
    static List<String> afterLeavingContract(Connection c, Migration m, Phase to, long minTimeoutMillis) throws SQLException {
        List<String> notes = new ArrayList<>();
        c.setAutoCommit(true);
        String since;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT now()::text")) {
            rs.next();
            since = rs.getString(1);
        }
        List<String> pending = List.of();
        int live = -1;
        long waited = 0;
        if (!RollbackCheck.tablesExist(c)) {
            notes.add("bellows.instances does not exist, so Bellows cannot see whether every instance left contract;"
                + " copied again after 1 s");
            sleep(1000);
        } else {
            long timeout = Math.max(minTimeoutMillis, 3 * maxFlushMillis(c, m));
            long start = System.nanoTime();
            while (true) {
                List<String>[] state = fleet(c, m, since);
                live = state[0].size();
                pending = state[1];
                waited = (System.nanoTime() - start) / 1_000_000;
                if (pending.isEmpty() || waited >= timeout) break;
                sleep(100);
            }
        }
        long again;
        c.setAutoCommit(false);
        try {
            again = copy(c, m);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
        if (live >= 0 && pending.isEmpty()) {
            notes.add("every live instance (" + live + ") reported " + to.label() + " after the move (waited "
                + waited + " ms); copied " + again + " more row" + (again == 1 ? "" : "s") + " written meanwhile by"
                + " instances still in contract");
        } else if (live >= 0) {
            notes.add("WARNING: after " + waited + " ms these live instances have not reported leaving contract: "
                + String.join("; ", pending) + ". Copied " + again + " more row" + (again == 1 ? "" : "s") + " now; rows they"
                + " write until they follow have only " + m.to() + " (reads in " + to.label() + " still read it). Once"
                + " they have followed or stopped (bellows status), run bellows flags set " + m.id() + " expand: it copies"
                + " again");
        } else {
            notes.add("copied " + again + " more row" + (again == 1 ? "" : "s") + " after the wait");
        }
        return notes;
    }

    /** [live instances knowing the migration, those not yet confirmed out of contract]. */
    @SuppressWarnings("unchecked")
    private static List<String>[] fleet(Connection c, Migration m, String since) throws SQLException {
        List<String> live = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        String q = "SELECT instance_id, app_name, phases ->> ?, last_seen >= ?::timestamptz FROM bellows.instances"
            + " WHERE stopped_at IS NULL AND (phases ->> ?) IS NOT NULL"
            + " AND last_seen > now() - greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')"
            + " ORDER BY app_name, instance_id";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, m.id());
            ps.setString(2, since);
            ps.setString(3, m.id());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String who = rs.getString(1) + " (" + rs.getString(2) + ")";
                    live.add(who);
                    if (!rs.getBoolean(4)) pending.add(who + " not heard from since the move");
                    else if (Phase.CONTRACT.label().equals(rs.getString(3))) pending.add(who + " still in contract");
                }
            }
        }
        return new List[] {live, pending};
    }

    private static long maxFlushMillis(Connection c, Migration m) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(flush_interval_ms), 0) FROM bellows.instances"
            + " WHERE stopped_at IS NULL AND (phases ->> ?) IS NOT NULL"
            + " AND last_seen > now() - greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')")) {
            ps.setString(1, m.id());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean attNotNull(Connection c, Migration m, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(?)"
            + " AND attname = ? AND NOT attisdropped")) {
            ps.setString(1, table(m));
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** The primary key's columns as a row expression, or ctid when there is none. */
    private static String primaryKey(Connection c, Migration m) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT string_agg(quote_ident(a.attname), ', '"
            + " ORDER BY array_position(i.indkey::int2[], a.attnum)) FROM pg_index i JOIN pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary")) {
            ps.setString(1, table(m));
            try (ResultSet rs = ps.executeQuery()) {
                String k = rs.next() ? rs.getString(1) : null;
                return k == null ? "ctid" : k;
            }
        }
    }

    private static List<String> list(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    private static String table(Migration m) {
        return FlagChange.quote(m.schema()) + "." + FlagChange.quote(m.table());
    }

    private static String down(Migration m) {
        return m.down() != null ? "(" + m.down() + ")" : FlagChange.quote(m.to());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
