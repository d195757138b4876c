package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Refuses the backfill once the migration is in phase {@code contract} (by its flag, by the rules file when there
 * is no flag, or by any live instance's report): contract writes only the new column, so the old one is stale for
 * every row written since, and {@code to = up(from)} would revert those writes. {@code --force} does not override
 * it; the way back copies the other direction ({@code bellows flags set ID switch}).
 */
final class BackfillGuard {
    private BackfillGuard() {
    }

    /** Null when the backfill may run, else why not and the safe next step. */
    static String refusal(Connection c, Migration m) throws SQLException {
        List<String> why = new ArrayList<>();
        boolean flags = Db.scalar(c, "SELECT to_regclass('bellows.flags')") != null;
        String flag = flags ? Db.scalar(c, "SELECT phase FROM bellows.flags WHERE migration_id = ?", m.id()) : null;
        if (Phase.CONTRACT.label().equals(flag)) {
            why.add("its flag in bellows.flags is contract");
        } else if (flag == null && m.phase() == Phase.CONTRACT) {
            why.add("the rules file sets it to contract and there is no flag");
        }
        if (Db.scalar(c, "SELECT to_regclass('bellows.instances')") != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT instance_id || ' (' || app_name || ')' FROM bellows.instances"
                + " WHERE stopped_at IS NULL AND phases ->> ? = 'contract'"
                + " AND last_seen > now() - greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')"
                + " ORDER BY 1 LIMIT 5")) {
                ps.setString(1, m.id());
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> live = new ArrayList<>();
                    while (rs.next()) live.add(rs.getString(1));
                    if (!live.isEmpty()) why.add("live instances report contract: " + String.join(", ", live));
                }
            }
        }
        if (why.isEmpty()) return null;
        String qt = m.qualifiedTable();
        return "refusing to backfill: migration '" + m.id() + "' is in phase contract (" + String.join("; ", why) + ")."
            + " In contract Bellows writes only " + qt + "." + m.to() + ", so " + m.from() + " is stale for every row written"
            + " since, and copying it into " + m.to() + " would revert those writes. Nothing was written. The safe next steps:"
            + " forward, apply the plan's contract file (its guard expects the rows written in contract to differ);"
            + " or back, bellows flags set " + m.id() + " switch, which copies " + m.to() + " back into " + m.from()
            + " (see docs/runbook.md, Rolling back)."
            + " --force does not override this";
    }

    /** Why there is nothing to backfill once the old column is gone, and the only moves left. */
    static String contracted(Migration m, String qt) {
        return qt + " has no column " + SqlText.ident(m.from()) + " any more: migration '" + m.id() + "' is contracted, there"
            + " is nothing to backfill (the new column " + SqlText.ident(m.to()) + " holds every value). The move offered is"
            + " forward: once bellows gate " + m.id() + " --strict holds, remove the migration from the rules file. To go back"
            + " instead, bellows plan " + m.id() + " writes the files that re-create " + SqlText.ident(m.from())
            + " (see docs/runbook.md, Rolling back)";
    }
}
