package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Whether every writer of a migration's table duplicates its writes (phase expand or later), which the backfill
 * needs: a row written by an instance still in phase off after the backfill passed it would diverge.
 *
 * <p>Evidence, strongest first: the sync trigger on the table (it duplicates every write, whoever makes it);
 * the heartbeats of live instances in {@code bellows.instances} (each reports its effective phases); the flag in
 * {@code bellows.flags}; and, when neither table exists, the rules file's phase.
 */
public final class FleetCheck {
    /** The verdict: whether the backfill may start, and the evidence in readable lines. */
    public record Verdict(boolean ok, List<String> evidence) {
    }

    private FleetCheck() {
    }

    /**
     * @param liveWindow an instance heard from longer ago is not live; null: as {@code bellows status} counts it
     *                   (max(60 s, 3 flush intervals)), or 2 minutes when the table does not say its flush interval
     */
    public static Verdict check(Connection c, Migration m, Duration liveWindow) throws SQLException {
        List<String> ev = new ArrayList<>();
        boolean ok = true;
        boolean trigger = Db.scalar(c, "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(?) AND tgname = ? AND tgenabled <> 'D'",
            SqlText.qualified(m.schema(), m.table()), Planner.triggerName(m)) != null;
        if (trigger) {
            ev.add("the sync trigger " + Planner.triggerName(m) + " is installed on " + m.qualifiedTable()
                + ": every write fills both columns, whichever phase its writer is in");
        }
        boolean flags = Db.scalar(c, "SELECT to_regclass('bellows.flags')") != null;
        boolean instances = Db.scalar(c, "SELECT to_regclass('bellows.instances')") != null;
        if (flags) {
            String phase = Db.scalar(c, "SELECT phase FROM bellows.flags WHERE migration_id = ?", m.id());
            if (phase == null) {
                ev.add("bellows.flags has no flag for " + m.id() + ": instances use their own setting (the rules file says "
                    + m.phase().label() + ")");
                if (!instances && m.phase().compareTo(Phase.EXPAND) < 0) {
                    ok = false;
                    ev.add("  the rules file's phase is " + m.phase().label() + ": writes are not duplicated yet");
                }
            } else {
                Phase p = parse(phase);
                boolean good = p != null && p.compareTo(Phase.EXPAND) >= 0;
                ev.add("bellows.flags sets " + m.id() + " to " + phase + (good ? "" : ": writes are not duplicated yet"));
                ok &= good;
            }
        }
        if (instances) {
            ok &= instances(c, m, liveWindow, ev);
        }
        if (!flags && !instances) {
            boolean good = m.phase().compareTo(Phase.EXPAND) >= 0;
            ev.add("no bellows.flags or bellows.instances table: Bellows cannot see the fleet, so it goes by the rules file,"
                + " whose phase for " + m.id() + " is " + m.phase().label() + (good ? "" : ": writes are not duplicated yet"));
            ok = good;
        }
        return new Verdict(ok || trigger, ev);
    }

    private static boolean instances(Connection c, Migration m, Duration window, List<String> ev) throws SQLException {
        Set<String> cols = Set.copyOf(Db.columns(c, "bellows", "instances"));
        if (!cols.containsAll(Set.of("instance_id", "last_seen", "phases"))) {
            ev.add("bellows.instances lacks instance_id, last_seen or phases (" + cols + "): heartbeats not read");
            return true;
        }
        String app = cols.contains("app_name") ? "app_name" : "NULL::text";
        String stopped = cols.contains("stopped_at") ? " AND stopped_at IS NULL" : "";
        // live, as bellows status counts it: not stopped, and heard from within max(60 s, 3 flush intervals)
        String threshold = window != null || !cols.contains("flush_interval_ms") ? "make_interval(secs => ?)"
            : "greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')";
        String q = "SELECT instance_id::text, " + app + ", last_seen, phases::jsonb ->> ? FROM bellows.instances"
            + " WHERE last_seen > now() - " + threshold + stopped + " ORDER BY 2, 1";
        Duration w = window != null ? window : Duration.ofMinutes(2);
        String described = window != null || !cols.contains("flush_interval_ms") ? "within " + w.toSeconds() + " s"
            : "within max(60 s, 3 flush intervals)";
        boolean ok = true;
        int live = 0;
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, m.id());
            if (threshold.startsWith("make_interval")) ps.setDouble(2, w.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    live++;
                    String phase = rs.getString(4);
                    Phase p = parse(phase);
                    boolean good = p != null && p.compareTo(Phase.EXPAND) >= 0;
                    String who = "instance " + rs.getString(1) + (rs.getString(2) == null ? "" : " (" + rs.getString(2) + ")");
                    if (!good) {
                        ok = false;
                        ev.add(who + " is in phase " + (phase == null ? "off (its rules do not have " + m.id() + ")" : phase)
                            + ", last seen " + rs.getTimestamp(3));
                    }
                }
            }
        }
        if (live == 0) {
            ev.add("no live instance in bellows.instances (none has reported a heartbeat " + described + ")");
        } else if (ok) {
            ev.add("all " + live + " live instance" + (live == 1 ? "" : "s") + " (heartbeat " + described
                + ") are in phase expand or later");
        }
        return ok;
    }

    private static Phase parse(String s) {
        try {
            return s == null ? null : Phase.parse(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
