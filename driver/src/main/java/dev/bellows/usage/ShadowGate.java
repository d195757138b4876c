package dev.bellows.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The switch gate ({@code bellows gate ID --for switch}): green only when at least {@code minShadowed} reads of
 * the migration were shadowed in the window (both rewrites compared in one snapshot) and none differed. Reads
 * {@code bellows.shadow_reads}; hour buckets are counted whole (a bucket whose last comparison falls in the window
 * counts entirely: errs red).
 */
public final class ShadowGate {
    /** Comparisons the gate needs unless told otherwise. */
    public static final long DEFAULT_MIN_SHADOWED = 100;
    /** The window {@code flags set ID switch} judges (the gate's default window). */
    public static final Duration DEFAULT_WINDOW = Duration.ofDays(8);

    private ShadowGate() {
    }

    /** One statement whose shadow differed: its fingerprint, application and a call site; never a value. */
    public record Difference(String fingerprint, String app, long differed, String callSite) {
    }

    /**
     * The evidence of one migration in one window. {@code compared} counts reads whose two results were compared
     * (matched + differed); {@code recordedEver} tells whether any instance ever shadowed this migration.
     */
    public record Result(String migrationId, Duration window, long minShadowed, long matched, long differed,
                         long tooLarge, long errors, long unsafe, long noSnapshot, boolean recordedEver,
                         List<Difference> differences) {
        public long compared() { return matched + differed; }

        public boolean green() { return compared() >= minShadowed && differed == 0; }

        /** Why it is red, one line per unmet condition; empty when green. */
        public List<String> unmet() {
            List<String> u = new ArrayList<>();
            if (differed > 0) {
                u.add(differed + " shadowed read" + (differed == 1 ? "" : "s") + " of " + migrationId + " returned"
                    + " something else through the switch rewrite than through the old column");
            }
            if (compared() < minShadowed) {
                u.add("only " + compared() + " read" + (compared() == 1 ? " was" : "s were") + " shadowed in the last "
                    + Durations.format(window) + "; the switch gate needs " + minShadowed
                    + (recordedEver ? "" : " (no instance has shadowed " + migrationId + ": set bellows.shadow, e.g. 0.01,"
                    + " on instances in expand)"));
            }
            return u;
        }
    }

    /** Evaluates the switch gate of {@code migrationId} over {@code window}. */
    public static Result evaluate(Connection c, String migrationId, Duration window, long minShadowed) throws SQLException {
        if (!tableExists(c)) return new Result(migrationId, window, minShadowed, 0, 0, 0, 0, 0, 0, false, List.of());
        long[] n = new long[6];
        boolean ever;
        try (PreparedStatement ps = c.prepareStatement("/* bellows:gate */ SELECT coalesce(sum(matched), 0),"
            + " coalesce(sum(differed), 0), coalesce(sum(too_large), 0), coalesce(sum(errors), 0), coalesce(sum(unsafe), 0),"
            + " coalesce(sum(no_snapshot), 0), EXISTS (SELECT 1 FROM bellows.shadow_reads WHERE migration_id = ?)"
            + " FROM bellows.shadow_reads WHERE migration_id = ? AND last_seen >= now() - ? * interval '1 second'")) {
            ps.setString(1, migrationId);
            ps.setString(2, migrationId);
            ps.setLong(3, window.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                for (int i = 0; i < n.length; i++) n[i] = rs.getLong(i + 1);
                ever = rs.getBoolean(7);
            }
        }
        List<Difference> diffs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("/* bellows:gate */ SELECT min(fingerprint), app_name, sum(differed),"
            + " min(differed_call_site) FROM bellows.shadow_reads WHERE migration_id = ? AND differed > 0"
            + " AND last_seen >= now() - ? * interval '1 second' GROUP BY fingerprint_hash, app_name"
            + " ORDER BY 3 DESC, 1 LIMIT 20")) {
            ps.setString(1, migrationId);
            ps.setLong(2, window.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) diffs.add(new Difference(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4)));
            }
        }
        return new Result(migrationId, window, minShadowed, n[0], n[1], n[2], n[3], n[4], n[5], ever, List.copyOf(diffs));
    }

    /**
     * What {@code bellows flags set ID switch} refuses on: the switch gate's unmet conditions, once any instance has
     * shadowed the migration (opting in with {@code bellows.shadow}); nothing when none ever did, so a fleet that
     * never opted in moves as before.
     */
    public static List<String> switchProblems(Connection c, String migrationId) throws SQLException {
        Result r = evaluate(c, migrationId, DEFAULT_WINDOW, DEFAULT_MIN_SHADOWED);
        if (!r.recordedEver() || r.green()) return List.of();
        List<String> p = new ArrayList<>();
        for (String u : r.unmet()) p.add("switch gate: " + u + " (bellows gate " + migrationId + " --for switch)");
        return p;
    }

    /** The verdict and its evidence, as {@code bellows gate ID --for switch} prints it. */
    public static String text(Result r) {
        StringBuilder b = new StringBuilder();
        b.append(r.green() ? "SAFE TO SWITCH" : "NOT SAFE TO SWITCH").append(": ").append(r.migrationId())
            .append(" (shadow reads, last ").append(Durations.format(r.window())).append(")\n");
        b.append("  ").append(r.compared() >= r.minShadowed() ? "[MET]    " : "[UNMET]  ").append("at least ")
            .append(r.minShadowed()).append(" reads shadowed: ").append(r.compared()).append(" compared\n");
        b.append("  ").append(r.differed() == 0 ? "[MET]    " : "[UNMET]  ").append("no shadowed read differed: ")
            .append(r.differed()).append(" differed\n");
        for (Difference d : r.differences()) {
            b.append("             - differed x").append(d.differed()).append(" by '").append(d.app()).append("': ")
                .append(d.fingerprint()).append(d.callSite() == null ? "" : " at " + d.callSite()).append('\n');
        }
        b.append("  not compared: ").append(r.tooLarge()).append(" too large, ").append(r.errors()).append(" shadow errors, ")
            .append(r.unsafe()).append(" never shadowed (side effects or not deterministic), ").append(r.noSnapshot())
            .append(" without a shared snapshot\n");
        for (String u : r.unmet()) b.append("  ").append(u).append('\n');
        return b.toString();
    }

    /** The same as JSON. */
    public static String json(Result r) {
        Json j = Json.compact().beginObject().member("migration", r.migrationId()).member("for", "switch")
            .member("safe", r.green()).member("windowSeconds", r.window().toSeconds()).member("minShadowed", r.minShadowed())
            .member("compared", r.compared()).member("differed", r.differed()).member("tooLarge", r.tooLarge())
            .member("errors", r.errors()).member("unsafe", r.unsafe()).member("noSnapshot", r.noSnapshot())
            .name("differences").beginArray();
        for (Difference d : r.differences()) {
            j.beginObject().member("fingerprint", d.fingerprint()).member("app", d.app()).member("differed", d.differed())
                .member("callSite", d.callSite()).endObject();
        }
        return j.endArray().member("unmet", r.unmet()).endObject().toString();
    }

    /** Per-migration shadow counts over {@code window}, one line each, for {@code bellows report}; empty when none. */
    public static List<String> reportLines(Connection c, String migrationId, Duration window) throws SQLException {
        if (!tableExists(c)) return List.of();
        List<String> lines = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("/* bellows:report */ SELECT migration_id, sum(matched) + sum(differed),"
            + " sum(differed), sum(too_large), sum(errors), sum(unsafe), sum(no_snapshot) FROM bellows.shadow_reads"
            + " WHERE (?::text IS NULL OR migration_id = ?) AND last_seen >= now() - ? * interval '1 second'"
            + " GROUP BY migration_id ORDER BY migration_id")) {
            ps.setString(1, migrationId);
            ps.setString(2, migrationId);
            ps.setLong(3, window.toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    lines.add("shadow reads " + rs.getString(1) + ": " + rs.getLong(2) + " compared, " + rs.getLong(3)
                        + " differed, " + rs.getLong(4) + " too large, " + rs.getLong(5) + " errors, " + rs.getLong(6)
                        + " never shadowed (side effects), " + rs.getLong(7) + " without a shared snapshot");
                }
            }
        }
        return lines;
    }

    private static boolean tableExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass('bellows.shadow_reads') IS NOT NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
