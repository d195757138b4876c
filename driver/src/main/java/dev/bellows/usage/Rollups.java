package dev.bellows.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Usage counts over time, bounded: each flush adds its counts to {@code bellows.usage_hourly} (one row per
 * instance, key and hour of the database's clock, UTC); compaction, run by the flushers about once an hour,
 * folds the hours before the previous day into {@code bellows.usage_daily} (one row per key and day, instances
 * merged) and deletes usage, statements and instances last seen before the retention. Rows are then bounded by
 * keys x (48 hours x instances per hour + retention in days), whatever the number of days that pass.
 *
 * <p>A use is counted in the bucket of the flush that wrote it (at most one flush interval late). A window
 * keeps every bucket whose last use is inside it, whole: a day partly inside the window counts fully, so a
 * window never misses a use (the gate errs towards red).
 */
public final class Rollups {
    // pg_try_advisory_xact_lock key: one compaction at a time ("bellowsR" in ASCII)
    private static final long COMPACT_LOCK = 0x62656c6c6f777352L;

    static final String UPSERT_HOURLY =
        "INSERT INTO bellows.usage_hourly AS h (bucket, instance_id, migration_id, column_name, kind, treatment,"
            + " fingerprint_hash, app_name, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (bucket, instance_id, migration_id, column_name, kind, treatment, fingerprint_hash, app_name)"
            + " DO UPDATE SET count = h.count + excluded.count, first_seen = least(h.first_seen, excluded.first_seen),"
            + " last_seen = greatest(h.last_seen, excluded.last_seen)";
    private static final String KEY = "migration_id, column_name, kind, treatment, fingerprint_hash, app_name";
    private static final String FOLD =
        "WITH moved AS (DELETE FROM bellows.usage_hourly WHERE bucket < ? RETURNING *)"
            + " INSERT INTO bellows.usage_daily AS d (bucket, " + KEY + ", count, first_seen, last_seen)"
            + " SELECT date_trunc('day', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', " + KEY + ", sum(count),"
            + " min(first_seen), max(last_seen) FROM moved GROUP BY 1, " + KEY
            + " ON CONFLICT (bucket, " + KEY + ") DO UPDATE SET count = d.count + excluded.count,"
            + " first_seen = least(d.first_seen, excluded.first_seen), last_seen = greatest(d.last_seen, excluded.last_seen)";
    private static final List<String> EXPIRE = List.of(
        "DELETE FROM bellows.usage_daily WHERE last_seen < ?",
        "DELETE FROM bellows.usage_hourly WHERE last_seen < ?",
        "DELETE FROM bellows.usage WHERE last_seen < ?",
        "DELETE FROM bellows.instances WHERE last_seen < ?");

    private Rollups() {
    }

    /** The hour bucket of a database time. */
    static Instant hour(Instant dbNow) {
        return dbNow.truncatedTo(ChronoUnit.HOURS);
    }

    /** Adds one flush's rows to the hour of {@code dbNow}; {@code seen} holds each row's first and last use (database time). */
    static void addHourly(Connection c, String instanceId, Instant dbNow, List<Batch.Row> rows, List<Instant[]> seen) throws SQLException {
        if (rows.isEmpty()) return;
        OffsetDateTime bucket = time(hour(dbNow));
        try (PreparedStatement ps = c.prepareStatement(UPSERT_HOURLY)) {
            for (int i = 0; i < rows.size(); i++) {
                Batch.Row r = rows.get(i);
                ps.setObject(1, bucket);
                ps.setString(2, instanceId);
                ps.setString(3, r.migrationId());
                ps.setString(4, r.column());
                ps.setString(5, r.kind());
                ps.setString(6, r.treatment());
                ps.setString(7, r.fingerprintHash());
                ps.setString(8, r.app());
                ps.setLong(9, r.count());
                ps.setObject(10, time(seen.get(i)[0]));
                ps.setObject(11, time(seen.get(i)[1]));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Folds hours before the previous day (UTC) into days and deletes what was last seen before {@code retention},
     * all as of the database time {@code dbNow}, in one transaction. Returns false when another compaction held
     * the lock (it does the same work). Leaves auto-commit as it was.
     */
    public static boolean compact(Connection c, Instant dbNow, Duration retention) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_try_advisory_xact_lock(" + COMPACT_LOCK + ")")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    c.rollback();
                    return false;
                }
            }
            Instant keepHoursFrom = dbNow.truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(1));
            try (PreparedStatement ps = c.prepareStatement(FOLD)) {
                ps.setObject(1, time(keepHoursFrom));
                ps.executeUpdate();
            }
            OffsetDateTime cutoff = time(dbNow.minus(retention));
            for (String q : EXPIRE) {
                try (PreparedStatement ps = c.prepareStatement(q)) {
                    ps.setObject(1, cutoff);
                    ps.executeUpdate();
                }
            }
            c.commit();
            return true;
        } catch (SQLException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the failure matters
            }
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /**
     * The query {@link #read} runs. Each table is summed on its own before the two are merged: over the union the
     * planner has no statistics and guesses a group per ten rows, so at 1,000 instances it sorted the hourly rows
     * on disk (work_mem) instead of hashing the hundred or so keys they hold.
     */
    static String readQuery(boolean migration, boolean since) {
        String where = " WHERE true" + (migration ? " AND migration_id = ?" : "") + (since ? " AND last_seen >= ?" : "");
        String part = "SELECT " + KEY + ", sum(count) AS n, min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM ";
        return "SELECT r.migration_id, r.column_name, r.kind, r.treatment, coalesce(u.fingerprint, ''), r.app_name, r.n,"
            + " r.first_seen, r.last_seen, u.call_site FROM (SELECT " + KEY + ", sum(n) AS n, min(first_seen) AS first_seen,"
            + " max(last_seen) AS last_seen FROM (" + part + "bellows.usage_hourly" + where + " GROUP BY " + KEY + " UNION ALL "
            + part + "bellows.usage_daily" + where + " GROUP BY " + KEY + ") x GROUP BY " + KEY + ") r"
            + " LEFT JOIN bellows.usage u USING (" + KEY + ")"
            + " ORDER BY r.migration_id, r.n DESC, r.last_seen DESC, r.fingerprint_hash, r.app_name";
    }

    /**
     * Usage per key and application whose last use is at or after {@code since} (null: all that is kept),
     * optionally of one migration, from the rollups, with each statement's text and call site.
     */
    static List<Fleet.Usage> read(Connection c, String migrationId, Instant since) throws SQLException {
        String q = readQuery(migrationId != null, since != null);
        List<Fleet.Usage> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(q)) {
            int i = 1;
            for (int part2 = 0; part2 < 2; part2++) {
                if (migrationId != null) ps.setString(i++, migrationId);
                if (since != null) ps.setObject(i++, time(since));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Fleet.Usage(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), rs.getLong(7), Fleet.instant(rs, 8), Fleet.instant(rs, 9), rs.getString(10)));
                }
            }
        }
        return out;
    }

    /** Uses of one column by one application with one treatment on one UTC day. */
    public record Day(Instant day, String column, String app, String treatment, long count) {
    }

    /** Counts per day, column, application and treatment, in day order, from the rollups. */
    static List<Day> perDay(Connection c, String migrationId, Instant since) throws SQLException {
        String where = " WHERE migration_id = ?" + (since != null ? " AND last_seen >= ?" : "");
        String q = "SELECT date_trunc('day', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, column_name, app_name,"
            + " treatment, sum(count) FROM (SELECT bucket, column_name, app_name, treatment, count FROM bellows.usage_hourly" + where
            + " UNION ALL SELECT bucket, column_name, app_name, treatment, count FROM bellows.usage_daily" + where + ") x"
            + " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
        List<Day> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(q)) {
            int i = 1;
            for (int p = 0; p < 2; p++) {
                ps.setString(i++, migrationId);
                if (since != null) ps.setObject(i++, time(since));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Day(Fleet.instant(rs, 1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5)));
                }
            }
        }
        return out;
    }

    /** The shortest usage retention any instance in the database reports, or null when none reports one. */
    static Duration shortestRetention(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT min(retention_ms) FROM bellows.instances")) {
            rs.next();
            long ms = rs.getLong(1);
            return rs.wasNull() ? null : Duration.ofMillis(ms);
        }
    }

    static OffsetDateTime time(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
