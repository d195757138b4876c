package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Writes batches to the {@code bellows} schema of the application's database, on a connection opened for each
 * flush (an application may have many configurations; none keeps a connection busy between flushes). One
 * transaction per batch: the heartbeat goes first and only when the stored sequence number is lower, so a batch
 * retried after an unknown outcome is counted once (a concurrent retry waits on the instance row's lock).
 */
final class DbStore implements UsageStore {
    static final String UPSERT_INSTANCE =
        "INSERT INTO bellows.instances AS i (instance_id, app_name, host, pid, started_at, last_seen, stopped_at,"
            + " flush_interval_ms, phases, rules_hash, rules_source, overflowed, last_seq)"
            + " VALUES (?, ?, ?, ?, ?, now(), CASE WHEN ? THEN now() END, ?, ?::jsonb, ?, ?, ?, ?)"
            + " ON CONFLICT (instance_id) DO UPDATE SET last_seen = now(), stopped_at = excluded.stopped_at,"
            + " flush_interval_ms = excluded.flush_interval_ms, phases = excluded.phases, rules_hash = excluded.rules_hash,"
            + " rules_source = excluded.rules_source, overflowed = excluded.overflowed, last_seq = excluded.last_seq"
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
            + " down_expr, rules_hash, reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())"
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

    private final UsageRecorder.ConnectionSource source;
    private boolean schemaReady;
    private String migrationsWritten;

    DbStore(UsageRecorder.ConnectionSource source) {
        this.source = source;
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
                try {
                    if (upsertInstance(c, b) == 0) {
                        c.rollback(); // this sequence number is stored already: an earlier attempt committed
                        return;
                    }
                    upsertUsage(c, b);
                    boolean migrations = !b.heartbeat().rulesHash().equals(migrationsWritten);
                    if (migrations) upsertMigrations(c, b.heartbeat());
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
            } catch (SQLException e) {
                if (UsageSchema.missing(e)) {
                    schemaReady = false;
                    migrationsWritten = null;
                }
                throw e;
            }
        }
    }

    private static int upsertInstance(Connection c, Batch b) throws SQLException {
        Batch.Heartbeat h = b.heartbeat();
        try (PreparedStatement ps = c.prepareStatement(UPSERT_INSTANCE)) {
            ps.setString(1, h.instanceId());
            ps.setString(2, h.appName());
            ps.setString(3, h.host());
            ps.setLong(4, h.pid());
            ps.setObject(5, time(h.startedAt()));
            ps.setBoolean(6, h.stopped());
            ps.setLong(7, h.flushIntervalMillis());
            Json phases = Json.compact().beginObject();
            h.phases().forEach(phases::member);
            ps.setString(8, phases.endObject().toString());
            ps.setString(9, h.rulesHash());
            ps.setString(10, h.rulesSource());
            ps.setLong(11, h.overflowed());
            ps.setLong(12, b.seq());
            return ps.executeUpdate();
        }
    }

    private static void upsertUsage(Connection c, Batch b) throws SQLException {
        if (b.rows().isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT_USAGE)) {
            for (Batch.Row r : b.rows()) {
                ps.setString(1, r.migrationId());
                ps.setString(2, r.column());
                ps.setString(3, r.kind());
                ps.setString(4, r.treatment());
                ps.setString(5, r.fingerprintHash());
                ps.setString(6, r.app());
                ps.setString(7, r.fingerprint());
                ps.setLong(8, r.count());
                ps.setObject(9, time(r.firstSeen()));
                ps.setObject(10, time(r.lastSeen()));
                ps.setString(11, r.callSite());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void upsertMigrations(Connection c, Batch.Heartbeat h) throws SQLException {
        if (h.migrations().isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT_MIGRATION)) {
            for (Migration m : h.migrations()) {
                ps.setString(1, m.id());
                ps.setString(2, m.schema());
                ps.setString(3, m.table());
                // a table rename has no columns: an empty from_column marks it, to_column holds the new table
                ps.setString(4, m.isTableRename() ? "" : m.from());
                ps.setString(5, m.isTableRename() ? m.toTable() : m.to());
                ps.setString(6, m.up());
                ps.setString(7, m.down());
                ps.setString(8, h.rulesHash());
                ps.setString(9, h.instanceId());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    static OffsetDateTime time(long millis) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(millis), ZoneOffset.UTC);
    }

    @Override public String describe() {
        return "the bellows schema of the application's database";
    }
}
