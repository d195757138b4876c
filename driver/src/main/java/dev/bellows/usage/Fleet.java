package dev.bellows.usage;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the {@code bellows} schema says about the fleet: instances with their heartbeats and phases, recorded
 * usage, and migration definitions. Read by {@code bellows status}, {@code report} and {@code gate}, and by
 * anything else that needs to know which instances are live.
 */
public final class Fleet {
    /** Silence is judged against at least this, or three flush intervals of the instance if longer. */
    public static final Duration DEFAULT_SILENT_AFTER = Duration.ofSeconds(60);

    /** An instance's state at a given time. */
    public enum State {
        /** Reported within its silence threshold. */
        LIVE,
        /** Stopped reporting without an orderly shutdown: its last counts may be lost. */
        SILENT,
        /** Shut down in order after a final flush. */
        STOPPED;

        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** One row of {@code bellows.instances}. */
    public record Instance(String instanceId, String appName, String host, long pid, Instant startedAt, Instant lastSeen,
                           Instant stoppedAt, long flushIntervalMillis, Map<String, String> phases, String rulesHash,
                           String rulesSource, long overflowed) {
        /** How long without a heartbeat makes this instance silent: {@code silentAfter}, else max(60 s, 3 flushes). */
        public Duration silenceThreshold(Duration silentAfter) {
            if (silentAfter != null) return silentAfter;
            Duration three = Duration.ofMillis(3 * flushIntervalMillis);
            return three.compareTo(DEFAULT_SILENT_AFTER) > 0 ? three : DEFAULT_SILENT_AFTER;
        }

        public State state(Instant now, Duration silentAfter) {
            if (stoppedAt != null) return State.STOPPED;
            return lastSeen.isBefore(now.minus(silenceThreshold(silentAfter))) ? State.SILENT : State.LIVE;
        }

        /** When it stopped tracking: its orderly stop, else its last heartbeat. */
        public Instant trackedUntil() { return stoppedAt != null ? stoppedAt : lastSeen; }

        /** The effective phase it reports for a migration, or null when its rules do not have it. */
        public String phase(String migrationId) { return phases.get(migrationId); }
    }

    /** One row of {@code bellows.usage}. */
    public record Usage(String migrationId, String column, String kind, String treatment, String fingerprint,
                        String appName, long count, Instant firstSeen, Instant lastSeen, String callSite) {
        /** A row counting uses whose fingerprint was not kept because the instance's cap was reached. */
        public boolean overflow() { return fingerprint.isEmpty(); }
    }

    private final Instant now;
    private final boolean schema;
    private final List<Instance> instances;

    private Fleet(Instant now, boolean schema, List<Instance> instances) {
        this.now = now;
        this.schema = schema;
        this.instances = instances;
    }

    /** Reads the instances; an absent schema reads as no instances. */
    public static Fleet load(Connection c) throws SQLException {
        Instant now = dbNow(c);
        if (!UsageSchema.exists(c)) return new Fleet(now, false, List.of());
        Map<String, Map<String, String>> phases = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT i.instance_id, p.key, p.value FROM bellows.instances i,"
                 + " jsonb_each_text(i.phases) p ORDER BY 1, 2")) {
            while (rs.next()) phases.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getString(3));
        }
        List<Instance> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT instance_id, app_name, host, pid, started_at, last_seen, stopped_at,"
                 + " flush_interval_ms, rules_hash, rules_source, overflowed FROM bellows.instances"
                 + " ORDER BY app_name, started_at, instance_id")) {
            while (rs.next()) {
                Map<String, String> p = phases.getOrDefault(rs.getString(1), Map.of());
                out.add(new Instance(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), instant(rs, 5),
                    instant(rs, 6), instant(rs, 7), rs.getLong(8), Collections.unmodifiableMap(p), rs.getString(9),
                    rs.getString(10), rs.getLong(11)));
            }
        }
        return new Fleet(now, true, Collections.unmodifiableList(out));
    }

    /** The database's clock, which every comparison uses (application hosts' clocks may differ). */
    public Instant now() { return now; }

    /** Whether the bellows usage tables exist. */
    public boolean hasSchema() { return schema; }

    public List<Instance> instances() { return instances; }

    /** Instances that were tracking at some point in [{@code from}, now]. */
    public List<Instance> reportedSince(Instant from) {
        List<Instance> out = new ArrayList<>();
        for (Instance i : instances) if (!i.trackedUntil().isBefore(from)) out.add(i);
        return out;
    }

    /** Instances that are live now. */
    public List<Instance> live(Duration silentAfter) {
        List<Instance> out = new ArrayList<>();
        for (Instance i : instances) if (i.state(now, silentAfter) == State.LIVE) out.add(i);
        return out;
    }

    /**
     * Usage per statement and application, optionally of one migration, last used at or after {@code since}
     * (null: everything kept), counted from the rollups (see {@link Rollups}).
     */
    public static List<Usage> usage(Connection c, String migrationId, Instant since) throws SQLException {
        if (!UsageSchema.exists(c)) return List.of();
        return Rollups.read(c, migrationId, since);
    }

    /** The fingerprints Bellows sent to the server as written (passed through or unanalysed), any migration, any time. */
    static List<String> sentAsWritten(Connection c) throws SQLException {
        if (!UsageSchema.exists(c)) return List.of();
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT fingerprint FROM bellows.usage"
                 + " WHERE treatment IN ('passed_through', 'unanalysed') AND fingerprint <> ''")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /** Migration definitions as instances last reported them, in id order. */
    public static List<Migration> migrations(Connection c) throws SQLException {
        if (!UsageSchema.exists(c)) return List.of();
        List<Migration> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT migration_id, schema_name, table_name, from_column, to_column, up_expr,"
                 + " down_expr FROM bellows.migrations ORDER BY migration_id")) {
            while (rs.next()) {
                String from = rs.getString(4);
                String to = rs.getString(5);
                if (from.isEmpty()) { // how DbStore stores a table rename
                    out.add(Migration.tableRename(rs.getString(1), rs.getString(2), rs.getString(3), to, Phase.OFF, 0));
                    continue;
                }
                boolean kept = to == null || to.isEmpty(); // a removal, or NOT NULL with its default in down_expr
                out.add(new Migration(rs.getString(1), rs.getString(2), rs.getString(3), from,
                    kept ? null : to, kept ? null : rs.getString(6), kept ? null : rs.getString(7), null, Phase.OFF, 0, null,
                    kept ? rs.getString(7) : null));
            }
        }
        return out;
    }

    /**
     * The migrations known from the rules file (when given) and from the instances' reports; the rules file's
     * definition wins for an id both have.
     */
    public static RuleSet known(Connection c, RuleSet rules) throws SQLException {
        Map<String, Migration> byId = new LinkedHashMap<>();
        for (Migration m : migrations(c)) byId.put(m.id(), m);
        if (rules != null) for (Migration m : rules.migrations()) byId.put(m.id(), m);
        return RuleSet.of(new ArrayList<>(byId.values()));
    }

    static Instant dbNow(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT now()")) {
            rs.next();
            return instant(rs, 1);
        }
    }

    static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
