package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The plan of a derived migration (a split, a merge, or up/down reading other columns): expand adds every new column,
 * contract records the legacy column order and drops every old column once the fleet is in contract and no row holds
 * a value only in the old columns.
 */
final class DerivedPlanner {
    private DerivedPlanner() {
    }

    static Plan plan(Connection c, Migration m, Planner.Options o, TableInfo t) throws SQLException, WorkflowException {
        if (o.trigger()) {
            throw new WorkflowException("migration '" + m.id() + "' is a split, a merge or reads other columns: it has no sync"
                + " trigger; writes that bypass Bellows are what bellows gate " + m.id() + " reports");
        }
        String qt = t.qualified();
        for (String f : m.froms()) {
            if (t.column(f) == null) throw new WorkflowException("column " + ident(f) + " does not exist in " + qt + " (already dropped?)");
        }
        for (String x : m.inputs()) {
            if (t.column(x) == null) {
                throw new WorkflowException("migration '" + m.id() + "' reads column " + ident(x) + ", which does not exist in " + qt);
            }
        }
        String lock = "SET lock_timeout = " + literal(o.lockTimeout().strip()) + ";\n";
        String regclass = literal(qt) + "::regclass";
        List<String> warnings = new ArrayList<>();
        List<Plan.Step> steps = new ArrayList<>();

        StringBuilder up = new StringBuilder(lock);
        StringBuilder down = new StringBuilder(lock);
        for (String to : m.tos()) {
            String type = m.typeOf(to);
            if (type == null && m.froms().size() == 1 && t.column(m.from()) != null) {
                type = Db.scalar(c, "SELECT pg_typeof(" + m.upSql(to, SqlText::ident) + ")::text FROM (SELECT 1) bellows_one LEFT JOIN " + qt + " ON false");
                if (type == null) type = t.column(m.from()).type();
            }
            if (type == null) {
                throw new WorkflowException("migration '" + m.id() + "': give the type of " + ident(to) + " (type: {" + to + ": …})");
            }
            up.append("ALTER TABLE ").append(qt).append(" ADD COLUMN IF NOT EXISTS ").append(ident(to)).append(' ').append(type).append(";\n");
            down.append("ALTER TABLE ").append(qt).append(" DROP COLUMN IF EXISTS ").append(ident(to)).append(";\n");
        }
        steps.add(new Plan.Step("expand", "adds " + String.join(", ", m.tos()) + " (nullable, no default: catalog-only)",
            "before bellows flags set " + m.id() + " expand, then bellows backfill " + m.id(), true, up.toString(),
            down.toString(), "drops the new columns again (only before switch: their values are then still derivable)"));

        if (m.keepsFrom()) {
            warnings.add("keep_from: " + String.join(", ", m.froms()) + " stay: Bellows keeps " + String.join(", ", m.tos())
                + " computed from them on every write it sees, and the migration stays in expand (no switch, no contract step)."
                + " Where up is immutable, PostgreSQL can do the same without Bellows: ADD COLUMN … GENERATED ALWAYS AS (up) STORED");
            return new Plan(m, steps, warnings);
        }
        String cols = esc(qt + "." + String.join(", ", m.froms()));
        List<String> only = new ArrayList<>();
        for (String to : m.tos()) only.add("(" + ident(to) + " IS NULL AND " + m.upSql(to, SqlText::ident) + " IS NOT NULL)");
        StringBuilder drop = new StringBuilder(lock);
        drop.append("-- The guard: the flag must be contract and every live instance must report contract, or statements still\n")
            .append("-- naming the old columns fail once they are gone; and no row may hold a value only in them.\n");
        drop.append("DO $bellows$\nDECLARE\n  bellows_flag text;\n  bellows_behind text;\n  bellows_only bigint;\nBEGIN\n"
            + Planner.fleetInContract(m, regclass, cols, "bellows flags set " + esc(m.id()) + " contract once bellows gate "
                + esc(m.id()) + " passes; then apply this file again")
            + "  LOCK TABLE " + qt + " IN SHARE MODE;\n"
            + "  SELECT count(*) INTO bellows_only FROM " + qt + " WHERE " + String.join(" OR ", only) + ";\n"
            + "  IF bellows_only > 0 AND current_setting('" + Planner.ALLOW_DIVERGENCE_SETTING + "', true) IS DISTINCT FROM 'on' THEN\n"
            + "    RAISE EXCEPTION 'bellows: refusing to drop " + cols + ": % rows have a value only in the old columns', bellows_only\n"
            + "      USING HINT = 'written without Bellows since contract began: bellows gate " + esc(m.id()) + " lists such clients';\n"
            + "  END IF;\nEND\n$bellows$;\n");
        drop.append(Planner.recordColumnOrder(m, regclass));
        drop.append("ALTER TABLE ").append(qt);
        for (int i = 0; i < m.froms().size(); i++) drop.append(i == 0 ? " " : ", ").append("DROP COLUMN IF EXISTS ").append(ident(m.froms().get(i)));
        drop.append(";\nRESET lock_timeout;\n");
        steps.add(new Plan.Step("contract", "drops " + String.join(", ", m.froms()) + " (guarded: the fleet must be in contract)",
            "once bellows gate " + m.id() + " passes and the fleet is in contract", true, drop.toString(), null,
            "the old columns are gone: re-create them and fill them with " + m.downAssignments(SqlText::ident)));

        for (String f : m.froms()) {
            TableInfo.Column col = t.column(f);
            for (TableInfo.Incoming in : t.referencing(c, col)) {
                warnings.add("foreign key " + ident(in.name()) + " of " + in.table() + " references " + qt + "." + ident(f)
                    + ": the contract step's DROP COLUMN fails until it is moved or dropped");
            }
            for (String d : t.dependents(c, col)) {
                warnings.add(d + " depends on " + qt + "." + ident(f) + ": the contract step's DROP COLUMN fails until it is changed");
            }
            for (TableInfo.Index i : t.indexesOn(c, col)) {
                warnings.add("index " + ident(i.name()) + " involves " + ident(f) + ": it is not carried over to the new columns"
                    + " (create what the new code needs by hand); the contract step's DROP COLUMN drops it");
            }
            if (col.notNull()) {
                warnings.add(qt + "." + ident(f) + " is NOT NULL: new code that writes only the new columns gets its value"
                    + " through down while it exists; constraints on the new columns are left to you");
            }
        }
        warnings.add("bellows check " + m.id() + " verifies on the data that down gives back every old value"
            + " (" + m.downDiffers(SqlText::ident) + " matches no row); bellows flags set " + m.id() + " switch refuses otherwise");
        return new Plan(m, steps, warnings);
    }

    private static String esc(String s) {
        return s.replace("'", "''").replace("%", "%%");
    }
}
