package dev.bellows.flags;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One checked flag change, as {@code bellows flags set} makes it. Without {@code force}, unsafe moves are
 * refused:
 * <ul>
 *   <li>skipping a phase in either direction ({@code off → switch}, {@code contract → expand}): every step
 *       has to be followed by the fleet, and the step back from {@code switch} copies data back;</li>
 *   <li>any phase but {@code off} while the new column does not exist;</li>
 *   <li>to {@code contract} while {@code bellows gate ID} fails (see {@link Gate});</li>
 *   <li>back from {@code contract} once the old column is gone, and the other checks of moves back
 *       ({@link RollbackCheck}: {@code off} under a NOT NULL new column or with new code running).</li>
 * </ul>
 * A move back out of {@code switch} or {@code contract} copies the new column into the old one for the rows
 * where they differ ({@link CopyBack}: through NULL, so a unique index cannot trip), in the same transaction as
 * the flag, so rows written in {@code contract} (which writes the new column only) keep their values when the old
 * column is read again; back from {@code contract} it then waits for the fleet and copies again. The flag row, a
 * history row and a {@code NOTIFY} are written in one transaction.
 */
public final class FlagChange {
    private FlagChange() {
    }

    /** {@code bellows gate ID}: 0 when it holds; anything else refuses a move to {@code contract}. */
    @FunctionalInterface
    public interface Gate {
        /** What {@link #check} returns when there is no gate to run. */
        int UNAVAILABLE = -1;

        int check(String migrationId);
    }

    public enum Outcome { CHANGED, UNCHANGED, REFUSED }

    /** The shortest wait for the fleet after a move back from contract (longer when instances flush less often). */
    static final long FLEET_WAIT_MILLIS = 5_000;

    /**
     * What happened. {@code from} is the flag's phase before, or the rules file's when there was no flag;
     * {@code notes} explain refusals, forced checks and copies back; {@code rowsCopiedBack} counts rows whose
     * old column was brought back in line.
     */
    public record Result(Outcome outcome, Phase from, boolean fromFlag, Phase to, List<String> notes, long rowsCopiedBack) {
    }

    /** The flag changed between the checks and the write; nothing was written. */
    public static final class ConcurrentChangeException extends SQLException {
        private static final long serialVersionUID = 1L;

        ConcurrentChangeException(String message) {
            super(message);
        }
    }

    /**
     * Moves {@code migration}'s flag to {@code to}. Creates the flag tables when missing. Returns REFUSED with
     * the reasons and writes nothing when a check fails and {@code force} is false.
     */
    public static Result set(Connection c, Migration migration, Phase to, String reason, boolean force,
                             FlagStore.Actor actor, Gate gate) throws SQLException {
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(to, "to");
        String id = migration.id();
        FlagStore.ensureSchema(c);
        c.setAutoCommit(true);
        FlagStore.Flag flag = FlagStore.get(c, id);
        Phase from = flag != null ? flag.phase() : migration.phase();
        if (flag != null && flag.phase() == to) {
            return new Result(Outcome.UNCHANGED, from, true, to, List.of(id + " is already " + to.label()), 0);
        }
        // a table rename: the old and the new name as relations (table or view); no column, nothing to copy back
        boolean table = migration.isTableRename();
        boolean oldExists = table ? relationExists(c, migration.schema(), migration.table())
            : columnExists(c, migration.schema(), migration.table(), migration.from());
        // a removal or a NOT NULL has no new column
        boolean newExists = table ? relationExists(c, migration.schema(), migration.toTable())
            : migration.to() == null || columnExists(c, migration.schema(), migration.table(), migration.to());
        List<String> problems = new ArrayList<>();
        // After a premature drop only contract works (it maps the old name onto the new column): that move may
        // skip phases and needs no gate, since nothing is left for the gate to protect.
        boolean forwardAfterDrop = to == Phase.CONTRACT && from != Phase.CONTRACT && !oldExists && newExists;
        if (Math.abs(to.ordinal() - from.ordinal()) > 1 && !forwardAfterDrop) {
            problems.add("moving " + id + " from " + from.label() + " to " + to.label() + " skips "
                + skipped(from, to) + "; move one phase at a time (the fleet follows each step, and each step"
                + " back keeps the old column in line)");
        }
        if (to != Phase.OFF && !newExists) {
            problems.add(table ? migration.qualifiedToTable() + " does not exist; apply the plan's expand step (bellows plan "
                + id + ", the view " + migration.toTable() + ") before moving to " + to.label()
                : "the new column " + column(migration, migration.to()) + " does not exist; add it"
                + " (bellows plan " + id + ") before moving to " + to.label());
        }
        if (table && to.ordinal() < Phase.SWITCH.ordinal() && !oldExists && newExists) {
            problems.add(migration.qualifiedTable() + " no longer exists (the bridge view was dropped): in " + to.label()
                + " Bellows sends it as written. Re-create it first with the down file of the plan's contract step");
        }
        if (!table) problems.addAll(RollbackCheck.problems(c, migration, from, to, oldExists, newExists));
        if (!table && from != Phase.CONTRACT && newExists) problems.addAll(forwardProblems(c, migration, from, to, oldExists));
        // a table rename's contract rewrites as its switch does; the gate guards the contract step's DROP VIEW instead
        if (!table && to == Phase.CONTRACT && from != Phase.CONTRACT && !force && problems.isEmpty() && !forwardAfterDrop) {
            int code = gate.check(id);
            if (code == Gate.UNAVAILABLE) {
                problems.add("bellows gate is not available in this build, so nothing shows that the old column is"
                    + " no longer used; contract stops writing it");
            } else if (code == 1) {
                problems.add("bellows gate " + id + " does not hold (exit 1); contract would stop"
                    + " writing the old column while something still uses it");
            } else if (code != 0) {
                problems.add("bellows gate " + id + " could not be evaluated (exit " + code + "), so nothing shows"
                    + " that the old column is no longer used");
            }
        }
        List<String> notes = new ArrayList<>();
        if (!problems.isEmpty()) {
            if (!force) return new Result(Outcome.REFUSED, from, flag != null, to, problems, 0);
            for (String p : problems) notes.add("forced: " + p);
        }
        if (forwardAfterDrop && table) {
            notes.add("the bridge view " + migration.qualifiedTable() + " is already gone; in contract Bellows sends "
                + migration.toTable());
        } else if (forwardAfterDrop && migration.isRemoval()) {
            notes.add("the removed column " + column(migration, migration.from()) + " is already gone: the gate was not run");
        } else if (forwardAfterDrop && migration.isNotNull()) {
            notes.add("the column " + column(migration, migration.from()) + " is already gone: the gate was not run");
        } else if (forwardAfterDrop) {
            notes.add("the old column " + column(migration, migration.from()) + " is already gone: the gate was not run (there"
                + " is nothing left for it to protect); in contract Bellows maps " + migration.from() + " to "
                + migration.to() + " again");
        } else if (force && to == Phase.CONTRACT && from != Phase.CONTRACT) {
            notes.add("forced: bellows gate " + id + " was not checked");
        }

        boolean copyBack = !table && from.ordinal() >= Phase.SWITCH.ordinal() && to.ordinal() < from.ordinal()
            && oldExists && newExists && migration.to() != null; // a removal never stops writing the column before the drop
        long copied = 0;
        c.setAutoCommit(false);
        try {
            FlagStore.lock(c, id);
            FlagStore.Flag now = FlagStore.get(c, id);
            Phase fromNow = now != null ? now.phase() : migration.phase();
            if (fromNow != from || (now == null) != (flag == null)) {
                throw new ConcurrentChangeException("the flag of " + id + " changed to " + fromNow.label()
                    + " while this change was being checked" + (now == null ? "" : " (by " + now.updatedBy() + ")")
                    + "; nothing was written, run the command again");
            }
            FlagStore.write(c, id, from, to, actor, reason, force);
            if (copyBack) copied = CopyBack.copy(c, migration);
            c.commit();
        } catch (CopyBack.CollisionException e) {
            c.rollback();
            c.setAutoCommit(true);
            if (!force) return new Result(Outcome.REFUSED, from, flag != null, to, List.of(e.getMessage()), 0);
            throw e;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
        if (copyBack) {
            notes.add("copied " + copied + " row" + (copied == 1 ? "" : "s") + " of " + column(migration, migration.to())
                + " back into " + migration.from() + " (rows written while only the new column was written)");
        }
        if (copyBack && from == Phase.CONTRACT) notes.addAll(CopyBack.afterLeavingContract(c, migration, to, FLEET_WAIT_MILLIS));
        return new Result(Outcome.CHANGED, from, flag != null, to, notes, copied);
    }

    /**
     * The checks of a move out of off, expand or switch: the old column must still be there (after a premature drop
     * every phase but contract names it, so the only move offered is forward to contract), and a move forward to
     * switch, which reads the new column, needs the backfill complete.
     */
    static List<String> forwardProblems(Connection c, Migration m, Phase from, Phase to, boolean oldExists)
        throws SQLException {
        List<String> problems = new ArrayList<>();
        if (to == Phase.CONTRACT) return problems;
        String id = m.id();
        if (m.isNotNull()) return problems; // the column stays; the gate and the plan's not_null step judge the rest
        if (m.isRemoval()) {
            if (!oldExists && to != Phase.SWITCH) {
                problems.add("the removed column " + column(m, m.from()) + " is gone: in " + to.label() + " statements would"
                    + " still read or write it; move forward to switch or contract");
            }
            return problems;
        }
        if (!oldExists) {
            problems.add("the old column " + column(m, m.from()) + " is gone (dropped before the fleet was in contract):"
                + " in " + to.label() + " statements would still read or write it. The only way is forward: bellows flags"
                + " set " + id + " contract, which maps " + m.from() + " to " + m.to());
            return problems;
        }
        if (m.keepsFrom() && (to == Phase.SWITCH || to == Phase.CONTRACT)) {
            problems.add("migration '" + id + "' keeps its old columns (keep_from: true, no down): it stays in expand, where"
                + " Bellows keeps " + String.join(", ", m.tos()) + " computed from them; there is no " + to.label() + " for it");
            return problems;
        }
        if (to == Phase.SWITCH && from == Phase.EXPAND) {
            long diverging = diverging(c, m);
            if (diverging > 0) {
                problems.add(diverging + " row" + (diverging == 1 ? "" : "s") + " of " + m.qualifiedTable() + " have "
                    + m.to() + " IS DISTINCT FROM " + (m.up() == null ? m.from() : "up(" + m.from() + ")") + ": in switch"
                    + " reads come from " + m.to() + " and would miss them. Run bellows backfill " + id + " first (it ends"
                    + " with 'verified: 0 rows diverge'), then this command again");
            }
            if (m.isDerived()) {
                long unreadable = readsDiffer(c, m);
                if (unreadable > 0) {
                    problems.add(unreadable + " row" + (unreadable == 1 ? "" : "s") + " of " + m.qualifiedTable() + " would read"
                        + " differently through down: " + String.join(", ", m.froms()) + " IS DISTINCT FROM down(" + String.join(", ", m.tos())
                        + "). down is not total on this data (it cannot give back what up took apart), so in switch legacy reads"
                        + " would return other values. Fix up/down in the rules file (bellows check " + id + " lists the rule),"
                        + " then run bellows backfill " + id + " and this command again");
                }
            }
            // where instances shadowed reads (bellows.shadow), their evidence must hold too
            problems.addAll(dev.bellows.usage.ShadowGate.switchProblems(c, id));
        }
        return problems;
    }

    /** Rows whose old columns differ from {@code down(new)}: what a read in switch would get wrong. */
    static long readsDiffer(Connection c, Migration m) throws SQLException {
        return rows(c, m, m.downDiffers(FlagChange::quote));
    }

    /** Rows whose new column differs from {@code up(old)}: what the backfill still has to do. */
    static long diverging(Connection c, Migration m) throws SQLException {
        return rows(c, m, m.upDiffers(FlagChange::quote));
    }

    private static long rows(Connection c, Migration m, String where) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("/* bellows:flags */ SELECT count(*) FROM " + quote(m.schema()) + "."
                 + quote(m.table()) + " WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String skipped(Phase from, Phase to) {
        List<String> s = new ArrayList<>();
        int step = to.ordinal() > from.ordinal() ? 1 : -1;
        for (int i = from.ordinal() + step; i != to.ordinal(); i += step) s.add(Phase.values()[i].label());
        return String.join(" and ", s);
    }

    /** Whether {@code schema.table.column} exists (catalog names). */
    static boolean relationExists(Connection c, String schema, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(format('%I.%I', ?::text, ?::text)) IS NOT NULL")) {
            ps.setString(1, schema);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    public static boolean columnExists(Connection c, String schema, String table, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.columns"
            + " WHERE table_schema = ? AND table_name = ? AND column_name = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            ps.setString(3, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String column(Migration m, String column) {
        return m.qualifiedTable() + "." + column;
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
