package dev.bellows.usage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The tables of the {@code bellows} schema that usage recording writes and the CLI reads. Created with
 * idempotent DDL by the first flush of any instance or by {@code bellows init}; an application user without
 * the CREATE privilege needs {@code bellows init} run once by someone who has it.
 *
 * <ul>
 *   <li>{@code bellows.usage}: one row per (migration, deprecated column, kind, treatment, fingerprint,
 *       application), with the count since first seen, first and last use, and one sample call site.</li>
 *   <li>{@code bellows.instances}: one row per recording instance (driver configuration in one process): its
 *       heartbeat, phases and rules hash; {@code stopped_at} is set by an orderly shutdown. The span from
 *       {@code started_at} to {@code last_seen} (or {@code stopped_at}) is when it was tracking usage.</li>
 *   <li>{@code bellows.migrations}: each migration's definition as last reported, so the CLI can work without
 *       the rules file. A table rename is stored with an empty {@code from_column} and its new table name in
 *       {@code to_column}.</li>
 *   <li>{@code bellows.usage_hourly} and {@code bellows.usage_daily}: the counts over time, per instance and hour
 *       for the current and previous day (UTC), then per day; what {@code report} and {@code gate} count. See
 *       {@link Rollups}. {@code bellows.usage} above is the statements' dictionary (text, call site, totals).</li>
 * </ul>
 */
public final class UsageSchema {
    /** The schema's name. */
    public static final String SCHEMA = "bellows";
    // pg_advisory_xact_lock key serialising concurrent first-use DDL ("bellows" in ASCII)
    private static final long DDL_LOCK = 0x62656c6c6f7773L;

    private static final String KEY_COLUMNS = " migration_id text NOT NULL,"
        + " column_name text NOT NULL,"
        + " kind text NOT NULL,"
        + " treatment text NOT NULL,"
        + " fingerprint_hash text NOT NULL,"
        + " app_name text NOT NULL,";

    static final List<String> DDL = List.of(
        "CREATE SCHEMA IF NOT EXISTS bellows",
        "CREATE TABLE IF NOT EXISTS bellows.usage ("
            + " migration_id text NOT NULL,"
            + " column_name text NOT NULL,"
            + " kind text NOT NULL CHECK (kind IN ('read', 'write')),"
            + " treatment text NOT NULL CHECK (treatment IN ('rewritten', 'passed_through', 'unanalysed')),"
            + " fingerprint_hash text NOT NULL,"
            + " app_name text NOT NULL,"
            + " fingerprint text NOT NULL,"
            + " count bigint NOT NULL,"
            + " first_seen timestamptz NOT NULL,"
            + " last_seen timestamptz NOT NULL,"
            + " call_site text,"
            + " PRIMARY KEY (migration_id, column_name, kind, treatment, fingerprint_hash, app_name))",
        "CREATE INDEX IF NOT EXISTS usage_by_migration ON bellows.usage (migration_id, last_seen)",
        "CREATE TABLE IF NOT EXISTS bellows.instances ("
            + " instance_id text PRIMARY KEY,"
            + " app_name text NOT NULL,"
            + " host text NOT NULL,"
            + " pid bigint NOT NULL,"
            + " started_at timestamptz NOT NULL,"
            + " last_seen timestamptz NOT NULL,"
            + " stopped_at timestamptz,"
            + " stopped boolean GENERATED ALWAYS AS (stopped_at IS NOT NULL) STORED,"
            + " flush_interval_ms bigint NOT NULL,"
            + " phases jsonb NOT NULL,"
            + " rules_hash text NOT NULL,"
            + " rules_source text,"
            + " overflowed bigint NOT NULL DEFAULT 0,"
            + " last_seq bigint NOT NULL)",
        "CREATE INDEX IF NOT EXISTS instances_by_last_seen ON bellows.instances (last_seen)",
        "CREATE TABLE IF NOT EXISTS bellows.migrations ("
            + " migration_id text PRIMARY KEY,"
            + " schema_name text NOT NULL,"
            + " table_name text NOT NULL,"
            + " from_column text NOT NULL,"
            + " to_column text NOT NULL,"
            + " up_expr text,"
            + " down_expr text,"
            + " rules_hash text NOT NULL,"
            + " reported_by text NOT NULL,"
            + " reported_at timestamptz NOT NULL)",
        "CREATE INDEX IF NOT EXISTS usage_by_last_seen ON bellows.usage (last_seen)",
        "ALTER TABLE bellows.instances ADD COLUMN IF NOT EXISTS retention_ms bigint",
        "CREATE TABLE IF NOT EXISTS bellows.usage_hourly ("
            + " bucket timestamptz NOT NULL,"
            + " instance_id text NOT NULL,"
            + KEY_COLUMNS
            + " count bigint NOT NULL,"
            + " first_seen timestamptz NOT NULL,"
            + " last_seen timestamptz NOT NULL,"
            + " PRIMARY KEY (bucket, instance_id, migration_id, column_name, kind, treatment, fingerprint_hash, app_name))",
        "CREATE TABLE IF NOT EXISTS bellows.usage_daily ("
            + " bucket timestamptz NOT NULL,"
            + KEY_COLUMNS
            + " count bigint NOT NULL,"
            + " first_seen timestamptz NOT NULL,"
            + " last_seen timestamptz NOT NULL,"
            + " PRIMARY KEY (bucket, migration_id, column_name, kind, treatment, fingerprint_hash, app_name))",
        "CREATE INDEX IF NOT EXISTS usage_daily_by_migration ON bellows.usage_daily (migration_id, last_seen)",
        "CREATE INDEX IF NOT EXISTS usage_hourly_by_migration ON bellows.usage_hourly (migration_id, last_seen)");
    // Usage recorded before the rollups existed: counted on the day of its last use (the gate errs towards red).
    private static final String SEED_DAILY = "INSERT INTO bellows.usage_daily (bucket, migration_id, column_name, kind,"
        + " treatment, fingerprint_hash, app_name, count, first_seen, last_seen)"
        + " SELECT date_trunc('day', last_seen AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', migration_id, column_name, kind,"
        + " treatment, fingerprint_hash, app_name, count, first_seen, last_seen FROM bellows.usage ON CONFLICT DO NOTHING";

    private UsageSchema() {
    }

    /** Whether every usage table exists. */
    public static boolean exists(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('bellows.usage') IS NOT NULL"
                 + " AND to_regclass('bellows.instances') IS NOT NULL AND to_regclass('bellows.migrations') IS NOT NULL"
                 + " AND to_regclass('bellows.usage_daily') IS NOT NULL AND to_regclass('bellows.usage_hourly') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * Creates the schema and tables unless they all exist. Safe to run concurrently from many instances (an
     * advisory lock serialises it) and any number of times. Leaves the connection's auto-commit as it was.
     */
    public static void ensure(Connection c) throws SQLException {
        if (exists(c)) return;
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
            // another instance may have created everything while this one waited: running the DDL again would take
            // table locks (ALTER TABLE, CREATE INDEX) against that instance's flushes and can deadlock with them
            if (exists(c)) {
                c.commit();
                return;
            }
            boolean seed;
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('bellows.usage') IS NOT NULL AND to_regclass('bellows.usage_daily') IS NULL")) {
                rs.next();
                seed = rs.getBoolean(1);
            }
            for (String ddl : DDL) {
                if (!present(c, ddl)) s.execute(ddl);
            }
            if (seed) s.execute(SEED_DAILY);
            c.commit();
        } catch (SQLException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the original failure matters
            }
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static final java.util.regex.Pattern INDEX = java.util.regex.Pattern.compile("CREATE INDEX IF NOT EXISTS (\\w+) ON .*");
    private static final java.util.regex.Pattern COLUMN =
        java.util.regex.Pattern.compile("ALTER TABLE bellows\\.(\\w+) ADD COLUMN IF NOT EXISTS (\\w+) .*");

    /**
     * Whether the index or column {@code ddl} adds is there already. {@code IF NOT EXISTS} alone is not enough: both
     * take their table lock before they look (a share lock for CREATE INDEX, an exclusive one for ALTER TABLE), and on
     * a schema that is being upgraded under running flushes that lock deadlocks with them (40P01, seen in the fleet
     * simulation and the test servers' logs: a compaction's DELETE against CREATE INDEX IF NOT EXISTS).
     */
    private static boolean present(Connection c, String ddl) throws SQLException {
        java.util.regex.Matcher m = INDEX.matcher(ddl);
        String sql;
        String[] args;
        if (m.matches()) {
            sql = "SELECT to_regclass(?) IS NOT NULL";
            args = new String[] {"bellows." + m.group(1)};
        } else if ((m = COLUMN.matcher(ddl)).matches()) {
            sql = "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped)";
            args = new String[] {"bellows." + m.group(1), m.group(2)};
        } else {
            return false; // CREATE SCHEMA/TABLE IF NOT EXISTS take no table lock when it exists
        }
        try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Whether {@code e} says a bellows table or the schema is missing (someone dropped it). */
    static boolean missing(SQLException e) {
        String s = e.getSQLState();
        return "42P01".equals(s) || "3F000".equals(s);
    }
}
