package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The plan of a column removal: expand makes the column optional (code that no longer names it can insert), contract
 * records the legacy column order and drops the column once the whole fleet no longer reads or writes it.
 */
final class RemovalPlanner {
    private RemovalPlanner() {
    }

    static Plan plan(Connection c, Migration m, Planner.Options o, TableInfo t) throws SQLException, WorkflowException {
        String qt = t.qualified();
        String f = ident(m.from());
        TableInfo.Column col = t.column(m.from());
        if (col == null) throw new WorkflowException("column " + f + " does not exist in " + qt + " (already dropped?)");
        String lock = "SET lock_timeout = " + literal(o.lockTimeout().strip()) + ";\n";
        String regclass = literal(qt) + "::regclass";
        List<String> warnings = new ArrayList<>();
        List<Plan.Step> steps = new ArrayList<>();

        StringBuilder up = new StringBuilder(lock);
        StringBuilder down = new StringBuilder(lock);
        if (col.notNull() && col.defaultExpr() == null) {
            up.append("-- from switch on Bellows drops writes of ").append(f).append(" from legacy statements, and new code does not\n")
                .append("-- name it: without a default its NOT NULL would refuse their INSERTs (catalog-only change)\n")
                .append("ALTER TABLE ").append(qt).append(" ALTER COLUMN ").append(f).append(" DROP NOT NULL;\n");
            down.append("-- fails if rows were inserted without ").append(f).append(" since the expand step\n")
                .append("ALTER TABLE ").append(qt).append(" ALTER COLUMN ").append(f).append(" SET NOT NULL;\n");
        } else {
            up.append("-- ").append(f).append(col.notNull() ? " is NOT NULL with a default" : " is nullable")
                .append(": INSERTs that leave it out already work; nothing to change\n")
                .append("SELECT 1 FROM pg_attribute WHERE attrelid = ").append(regclass).append(" AND attname = ")
                .append(literal(m.from())).append(" AND NOT attisdropped;\n");
            down.append("-- nothing to undo\nSELECT 1;\n");
        }
        steps.add(new Plan.Step("expand", "makes " + f + " optional for INSERTs that no longer name it",
            "before bellows flags set " + m.id() + " switch", true, up.toString(), down.toString(),
            "puts back what the expand step changed"));

        String colText = esc(qt + "." + f);
        StringBuilder drop = new StringBuilder(lock);
        drop.append("-- The guard: the flag must be contract and every live instance must report contract, or statements still\n")
            .append("-- naming ").append(f).append(" fail once it is gone. bellows gate ").append(m.id())
            .append(" --strict says whether any code still names it.\n");
        drop.append("DO $bellows$\nDECLARE\n  bellows_flag text;\n  bellows_behind text;\nBEGIN\n"
            + Planner.fleetInContract(m, regclass, colText, "bellows flags set " + esc(m.id()) + " switch, then contract once bellows gate "
                + esc(m.id()) + " passes; then apply this file again")
            + "END\n$bellows$;\n");
        drop.append(Planner.recordColumnOrder(m, regclass));
        drop.append("ALTER TABLE ").append(qt).append(" DROP COLUMN IF EXISTS ").append(f).append(";\n");
        steps.add(new Plan.Step("contract", "drops " + f + " (guarded: the fleet must be in contract)",
            "once bellows gate " + m.id() + " passes and the fleet is in contract", true, drop.toString(), null,
            "the values of " + f + " are gone: restore them from a backup"));

        if (m.removedValue() == null) {
            warnings.add("migration '" + m.id() + "' has no removed_value: after the drop Bellows refuses (SQLState BW003) every"
                + " statement that still reads " + f + "; bellows gate " + m.id() + " lists them");
        } else if (col.defaultExpr() != null) {
            warnings.add(f + " has the default " + col.defaultExpr() + "; reads of it give removed_value " + m.removedValue()
                + " from switch on (check that this is the value legacy readers expect)");
        }
        for (TableInfo.Incoming in : t.referencing(c, col)) {
            warnings.add("foreign key " + ident(in.name()) + " of " + in.table() + " references " + qt + "." + f
                + ": the contract step's DROP COLUMN fails until it is dropped");
        }
        for (String d : t.dependents(c, col)) {
            warnings.add(d + " depends on " + qt + "." + f + ": the contract step's DROP COLUMN fails until it is changed");
        }
        for (TableInfo.Index i : t.indexesOn(c, col)) {
            warnings.add("index " + ident(i.name()) + " involves " + f + ": the contract step's DROP COLUMN drops it"
                + (i.constraintName() != null ? " and its constraint " + ident(i.constraintName()) : ""));
        }
        return new Plan(m, steps, warnings);
    }

    private static String esc(String s) {
        return s.replace("'", "''").replace("%", "%%");
    }
}
