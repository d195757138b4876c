package dev.bellows.flags;

import dev.bellows.rules.Phase;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code bellows.flags} and {@code bellows.flag_history} tables in the application's database.
 * Instances only read them (they need {@code USAGE} on schema {@code bellows} and {@code SELECT} on
 * {@code bellows.flags}); the CLI creates them on first use and writes them. Every change is one transaction:
 * the flag row, a history row, and a {@code NOTIFY} on {@link #CHANNEL} that every listening instance
 * receives when the transaction commits. Stateless; thread-safe.
 */
public final class FlagStore {
    /** The channel instances LISTEN on; the payload is the migration id. */
    public static final String CHANNEL = "bellows_flags";

    /** Idempotent DDL; safe to run concurrently and again. */
    static final List<String> DDL = List.of(
        "CREATE SCHEMA IF NOT EXISTS bellows",
        "CREATE TABLE IF NOT EXISTS bellows.flags ("
            + " migration_id text PRIMARY KEY,"
            + " phase text NOT NULL CHECK (phase IN ('off', 'expand', 'switch', 'contract')),"
            + " updated_at timestamptz NOT NULL DEFAULT now(),"
            + " updated_by text NOT NULL,"
            + " reason text)",
        "CREATE TABLE IF NOT EXISTS bellows.flag_history ("
            + " id bigserial PRIMARY KEY,"
            + " migration_id text NOT NULL,"
            + " from_phase text,"
            + " to_phase text NOT NULL,"
            + " changed_at timestamptz NOT NULL DEFAULT now(),"
            + " os_user text NOT NULL,"
            + " host text NOT NULL,"
            + " db_user text NOT NULL DEFAULT current_user,"
            + " reason text,"
            + " forced boolean NOT NULL DEFAULT false)",
        "CREATE INDEX IF NOT EXISTS flag_history_migration_idx ON bellows.flag_history (migration_id, changed_at)");

    private FlagStore() {
    }

    /** One row of {@code bellows.flags}. */
    public record Flag(String migrationId, Phase phase, OffsetDateTime updatedAt, String updatedBy, String reason) {
    }

    /** One row of {@code bellows.flag_history}; {@code from} is null when nothing was known before. */
    public record Change(long id, String migrationId, Phase from, Phase to, OffsetDateTime changedAt, String osUser,
                         String host, String dbUser, String reason, boolean forced) {
    }

    /** Who makes a change: the OS user and host of this process. */
    public record Actor(String osUser, String host) {
        public static Actor current() {
            String user = System.getProperty("user.name");
            return new Actor(user == null || user.isBlank() ? "unknown" : user, hostName());
        }

        @Override public String toString() {
            return osUser + "@" + host;
        }
    }

    static String hostName() {
        try {
            String h = InetAddress.getLocalHost().getHostName();
            if (h != null && !h.isBlank()) return h;
        } catch (Exception e) {
            // fall through: a host without a resolvable name still gets recorded
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "unknown" : env;
    }

    /** Whether {@code bellows.flags} exists (a database where no flag was ever set has none). */
    public static boolean exists(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('bellows.flags') IS NOT NULL"
                 + " AND to_regclass('bellows.flag_history') IS NOT NULL")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** Creates schema {@code bellows} and the flag tables when missing; never touches other tables. */
    public static void ensureSchema(Connection c) throws SQLException {
        if (exists(c)) return;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            for (int attempt = 1; ; attempt++) {
                try (Statement s = c.createStatement()) {
                    for (String ddl : DDL) s.execute(ddl);
                    return;
                } catch (SQLException e) {
                    // Two CLIs creating the schema at once: IF NOT EXISTS can still collide in the catalog.
                    if (attempt >= 3 || !"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) throw e;
                }
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** The phase of every flag; empty when the table does not exist. Rows whose phase is invalid are skipped. */
    public static Map<String, Phase> phases(Connection c) throws SQLException {
        if (!exists(c)) return new LinkedHashMap<>();
        return phasesOnly(c, "SELECT migration_id, phase FROM bellows.flags ORDER BY migration_id");
    }

    /** The phases {@code query} (migration id, phase) returns, with no check that the table exists. */
    static Map<String, Phase> phasesOnly(Connection c, String query) throws SQLException {
        Map<String, Phase> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(query)) {
            while (rs.next()) {
                try {
                    out.put(rs.getString(1), Phase.parse(rs.getString(2)));
                } catch (IllegalArgumentException e) {
                    // the CHECK constraint prevents this unless someone replaced the table; ignore the row
                }
            }
        }
        return out;
    }

    /** Every flag row, ordered by id; empty when the table does not exist. */
    public static List<Flag> list(Connection c) throws SQLException {
        List<Flag> out = new ArrayList<>();
        if (!exists(c)) return out;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT migration_id, phase, updated_at, updated_by, reason FROM bellows.flags"
                 + " ORDER BY migration_id")) {
            while (rs.next()) out.add(flag(rs));
        }
        return out;
    }

    /** The flag of {@code id}, or null. With {@code forUpdate}, locks the row (inside a transaction). */
    public static Flag get(Connection c, String id) throws SQLException {
        if (!exists(c)) return null;
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT migration_id, phase, updated_at, updated_by, reason FROM bellows.flags WHERE migration_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? flag(rs) : null;
            }
        }
    }

    private static Flag flag(ResultSet rs) throws SQLException {
        return new Flag(rs.getString(1), Phase.parse(rs.getString(2)), rs.getObject(3, OffsetDateTime.class),
            rs.getString(4), rs.getString(5));
    }

    /**
     * Serialises changes of one flag across CLIs until the transaction ends. Call inside a transaction.
     */
    static void lock(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('bellows.flags:' || ?))")) {
            ps.setString(1, id);
            ps.execute();
        }
    }

    /**
     * Writes the flag, its history row and the notification, inside the caller's transaction: nothing is
     * visible, and nobody is notified, until the caller commits.
     */
    static void write(Connection c, String id, Phase from, Phase to, Actor actor, String reason, boolean forced)
        throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO bellows.flags (migration_id, phase, updated_at, updated_by, reason) VALUES (?, ?, now(), ?, ?)"
                + " ON CONFLICT (migration_id) DO UPDATE SET phase = EXCLUDED.phase, updated_at = EXCLUDED.updated_at,"
                + " updated_by = EXCLUDED.updated_by, reason = EXCLUDED.reason")) {
            ps.setString(1, id);
            ps.setString(2, to.label());
            ps.setString(3, actor.toString());
            ps.setString(4, reason);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO bellows.flag_history (migration_id, from_phase, to_phase, os_user, host, reason, forced)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, from == null ? null : from.label());
            ps.setString(3, to.label());
            ps.setString(4, actor.osUser());
            ps.setString(5, actor.host());
            ps.setString(6, reason);
            ps.setBoolean(7, forced);
            ps.executeUpdate();
        }
        notify(c, id);
    }

    /** {@code NOTIFY bellows_flags, id}: delivered when the transaction commits (at once with auto-commit). */
    public static void notify(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            ps.setString(1, id);
            ps.execute();
        }
    }

    /**
     * Sets a flag with no safety checks, recording the change and notifying, in one transaction of its own.
     * For embedding and tests; operators use {@code bellows flags set}, which checks first.
     */
    public static void set(Connection c, String id, Phase to, Actor actor, String reason) throws SQLException {
        ensureSchema(c);
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            lock(c, id);
            Flag before = get(c, id);
            write(c, id, before == null ? null : before.phase(), to, actor, reason, true);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** The history, oldest first: of one migration, or of all when {@code id} is null; the latest {@code limit}. */
    public static List<Change> history(Connection c, String id, int limit) throws SQLException {
        List<Change> out = new ArrayList<>();
        if (!exists(c)) return out;
        String sql = "SELECT * FROM (SELECT id, migration_id, from_phase, to_phase, changed_at, os_user, host, db_user,"
            + " reason, forced FROM bellows.flag_history" + (id == null ? "" : " WHERE migration_id = ?")
            + " ORDER BY changed_at DESC, id DESC LIMIT ?) h ORDER BY changed_at, id";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (id != null) ps.setString(i++, id);
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String from = rs.getString(3);
                    out.add(new Change(rs.getLong(1), rs.getString(2), from == null ? null : Phase.parse(from),
                        Phase.parse(rs.getString(4)), rs.getObject(5, OffsetDateTime.class), rs.getString(6),
                        rs.getString(7), rs.getString(8), rs.getString(9), rs.getBoolean(10)));
                }
            }
        }
        return out;
    }
}
