package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import dev.bellows.redact.Redact;
import java.sql.ResultSet;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Writes batches to the {@code bellows} schema (the statements' totals, their hourly rollup and the heartbeat) of the application's database, on a connection opened for each
 * flush (an application may have many configurations; none keeps a connection busy between flushes). One
 * transaction per batch: the heartbeat goes first and only when the stored sequence number is lower, so a batch
 * retried after an unknown outcome is counted once (a concurrent retry waits on the instance row's lock).
 */
final class DbStore implements UsageStore {
    // Every time is the database's clock (application hosts' clocks may be skewed): the flush reads it and places
    // the batch's host times by their age, so only host durations are trusted.
    static final String UPSERT_INSTANCE =
        "INSERT INTO bellows.instances AS i (instance_id, app_name, host, pid, started_at, last_seen, stopped_at,"
            + " flush_interval_ms, phases, rules_hash, rules_source, overflowed, last_seq, retention_ms)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (instance_id) DO UPDATE SET last_seen = excluded.last_seen, stopped_at = excluded.stopped_at,"
            + " flush_interval_ms = excluded.flush_interval_ms, phases = excluded.phases, rules_hash = excluded.rules_hash,"
            + " rules_source = excluded.rules_source, overflowed = excluded.overflowed, last_seq = excluded.last_seq,"
            + " retention_ms = excluded.retention_ms"
            + " WHERE i.last_seq < excluded.last_seq";
    static final String UPSERT_USAGE =
        "INSERT INTO bellows.usage AS u (migration_id, column_name, kind, treatment, fingerprint_hash, app_name,"
            + " fingerprint, count, first_seen, last_seen, call_site) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (migration_id, column_name, kind, treatment, fingerprint_hash, app_name) DO UPDATE SET"
            + " count = u.count + excluded.count, first_seen = least(u.first_seen, excluded.first_seen),"
            + " last_seen = greatest(u.last_seen, excluded.last_seen), call_site = coalesce(excluded.call_site, u.call_site)";
    // A definition replaces a stored one only when it loses none of the columns that exist: a mistyped rule in one
    // instance never overwrites what correct instances reported (and the gate and status then judge).
    static final String UPSERT_MIGRATION =
        "INSERT INTO bellows.migrations AS m (migration_id, schema_name, table_name, from_column, to_column, up_expr,"
            + " down_expr, rules_hash, reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (migration_id) DO UPDATE SET schema_name = excluded.schema_name,"
            + " table_name = excluded.table_name, from_column = excluded.from_column, to_column = excluded.to_column,"
            + " up_expr = excluded.up_expr, down_expr = excluded.down_expr, rules_hash = excluded.rules_hash,"
            + " reported_by = excluded.reported_by, reported_at = excluded.reported_at"
            + " WHERE NOT (" + column("m.schema_name", "m.table_name", "m.from_column") + " AND NOT "
            + column("excluded.schema_name", "excluded.table_name", "excluded.from_column") + ")"
            + " AND NOT (" + column("m.schema_name", "m.table_name", "m.to_column") + " AND NOT "
            + column("excluded.schema_name", "excluded.table_name", "excluded.to_column") + ")";

    private static String column(String schema, String table, String column) {
        return "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(format('%I.%I', " + schema + ", " + table + "))"
            + " AND attname = " + column + " AND attnum > 0 AND NOT attisdropped)";
    }

    private static final System.Logger LOG = System.getLogger("dev.bellows.usage");

    private final UsageRecorder.ConnectionSource source;
    private final Duration retention;
    private final LongSupplier clockOffsetMillis;
    private final LongSupplier hostClock;
    private boolean schemaReady;
    private String migrationsWritten;
    private Instant compactedHour;

    DbStore(UsageRecorder.ConnectionSource source) {
        this(source, UsageSettings.DEFAULT_RETENTION, () -> 0);
    }

    /**
     * A store keeping usage for {@code retention}. {@code clockOffsetMillis} shifts the database's clock: zero in
     * production, a simulated date in tests and the fleet simulation.
     */
    DbStore(UsageRecorder.ConnectionSource source, Duration retention, LongSupplier clockOffsetMillis) {
        this(source, retention, clockOffsetMillis, System::currentTimeMillis);
    }

    /** As above; {@code hostClock} is the clock the batches' times were taken with (tests skew it). */
    DbStore(UsageRecorder.ConnectionSource source, Duration retention, LongSupplier clockOffsetMillis, LongSupplier hostClock) {
        this.source = source;
        this.retention = retention;
        this.clockOffsetMillis = clockOffsetMillis;
        this.hostClock = hostClock;
    }

    @Override public void write(Batch b) throws SQLException {
        try (Connection c = source.open()) {
            if (c == null) throw new SQLException("no connection");
            c.setNetworkTimeout(Runnable::run, 60_000);
            try {
                if (!schemaReady) {
                    UsageSchema.ensure(c);
                    schemaReady = true;
                }
                c.setAutoCommit(false);
                Instant dbNow;
                try {
                    dbNow = dbNow(c);
                    Clock clock = new Clock(dbNow, hostClock.getAsLong());
                    if (upsertInstance(c, b, clock) == 0) {
                        c.rollback(); // this sequence number is stored already: an earlier attempt committed
                        return;
                    }
                    List<Instant[]> seen = new ArrayList<>(b.rows().size());
                    for (Batch.Row r : b.rows()) seen.add(new Instant[] {clock.at(r.firstSeen()), clock.at(r.lastSeen())});
                    upsertUsage(c, b, seen);
                    Rollups.addHourly(c, b.heartbeat().instanceId(), dbNow, b.rows(), seen);
                    boolean migrations = !b.heartbeat().rulesHash().equals(migrationsWritten);
                    if (migrations) upsertMigrations(c, b.heartbeat(), dbNow);
                    c.commit();
                    if (migrations) migrationsWritten = b.heartbeat().rulesHash();
                } catch (SQLException e) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the connection may be gone; the failure is what matters
                    }
                    throw e;
                } finally {
                    try {
                        c.setAutoCommit(true);
                    } catch (SQLException ignored) {
                        // closing anyway
                    }
                }
                compactIfDue(c, dbNow);
            } catch (SQLException e) {
                if (UsageSchema.missing(e)) {
                    schemaReady = false;
                    migrationsWritten = null;
                }
                throw e;
            }
        }
    }

    /** The database's clock now and the host's at the same moment: host times are placed by their age. */
    private record Clock(Instant dbNow, long hostNow) {
        Instant at(long hostMillis) {
            return dbNow.minusMillis(Math.max(0, hostNow - hostMillis));
        }
    }

    private Instant dbNow(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT now() + ? * interval '1 millisecond'")) {
            ps.setLong(1, clockOffsetMillis.getAsLong());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Fleet.instant(rs, 1);
            }
        }
    }

    /**
     * About once an hour of the database's clock, folds and expires rollups. The batch is committed already: a
     * failure here is logged and tried again the next hour, never reported as a failed write.
     */
    private void compactIfDue(Connection c, Instant dbNow) {
        Instant hour = Rollups.hour(dbNow);
        if (hour.equals(compactedHour)) return;
        compactedHour = hour;
        try {
            Rollups.compact(c, dbNow, retention);
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.WARNING, "Bellows could not compact the usage rollups (SQLState " + e.getSQLState()
                + "): " + Redact.message(e) + "; it will try again within the hour");
        }
    }

    private int upsertInstance(Connection c, Batch b, Clock clock) throws SQLException {
        Batch.Heartbeat h = b.heartbeat();
        try (PreparedStatement ps = c.prepareStatement(UPSERT_INSTANCE)) {
            ps.setString(1, h.instanceId());
            ps.setString(2, h.appName());
            ps.setString(3, h.host());
            ps.setLong(4, h.pid());
            ps.setObject(5, Rollups.time(clock.at(h.startedAt())));
            ps.setObject(6, Rollups.time(clock.dbNow()));
            ps.setObject(7, h.stopped() ? Rollups.time(clock.dbNow()) : null, Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setLong(8, h.flushIntervalMillis());
            Json phases = Json.compact().beginObject();
            h.phases().forEach(phases::member);
            ps.setString(9, phases.endObject().toString());
            ps.setString(10, h.rulesHash());
            ps.setString(11, h.rulesSource());
            ps.setLong(12, h.overflowed());
            ps.setLong(13, b.seq());
            ps.setLong(14, retention.toMillis());
            return ps.executeUpdate();
        }
    }

    private static void upsertUsage(Connection c, Batch b, List<Instant[]> seen) throws SQLException {
        if (b.rows().isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT_USAGE)) {
            for (int i = 0; i < b.rows().size(); i++) {
                Batch.Row r = b.rows().get(i);
                ps.setString(1, r.migrationId());
                ps.setString(2, r.column());
                ps.setString(3, r.kind());
                ps.setString(4, r.treatment());
                ps.setString(5, r.fingerprintHash());
                ps.setString(6, r.app());
                ps.setString(7, r.fingerprint());
                ps.setLong(8, r.count());
                ps.setObject(9, Rollups.time(seen.get(i)[0]));
                ps.setObject(10, Rollups.time(seen.get(i)[1]));
                ps.setString(11, r.callSite());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void upsertMigrations(Connection c, Batch.Heartbeat h, Instant dbNow) throws SQLException {
        if (h.migrations().isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT_MIGRATION)) {
            for (Migration m : h.migrations()) {
                ps.setString(1, m.id());
                ps.setString(2, m.schema());
                ps.setString(3, m.table());
                // a table rename has no columns: an empty from_column marks it, to_column holds the new table;
                // an empty to_column marks a removal or NOT NULL (the column is NOT NULL)
                ps.setString(4, m.isTableRename() ? "" : m.from());
                ps.setString(5, m.isTableRename() ? m.toTable() : m.to() == null ? "" : m.to());
                ps.setString(6, m.up());
                ps.setString(7, m.isNotNull() ? m.defaultValue() : m.down()); // a NOT NULL migration's default
                ps.setString(8, h.rulesHash());
                ps.setString(9, h.instanceId());
                ps.setObject(10, Rollups.time(dbNow));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @Override public String describe() {
        return "the bellows schema of the application's database";
    }
}
