package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;
import static dev.bellows.workflow.SqlText.truncate;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The plan of a NOT NULL migration: expand gives the column its default, check adds {@code CHECK (c IS NOT NULL)
 * NOT VALID} once the fleet fills NULL writes, and after the backfill not_null validates it, sets NOT NULL (which
 * uses the valid check instead of a scan, PostgreSQL 12+) and drops the check.
 */
final class NotNullPlanner {
    private NotNullPlanner() {
    }

    static String checkName(Migration m) {
        return truncate(m.table() + "_" + m.from() + "_not_null");
    }

    static Plan plan(Connection c, Migration m, Planner.Options o, TableInfo t) throws WorkflowException {
        String qt = t.qualified();
        String f = ident(m.from());
        TableInfo.Column col = t.column(m.from());
        if (col == null) throw new WorkflowException("column " + f + " does not exist in " + qt);
        String lock = "SET lock_timeout = " + literal(o.lockTimeout().strip()) + ";\n";
        String check = ident(checkName(m));
        String def = m.defaultValue().strip();
        List<String> warnings = new ArrayList<>();
        List<Plan.Step> steps = new ArrayList<>();
        if (col.notNull()) warnings.add(qt + "." + f + " is already NOT NULL: the plan only sets its default");

        String prior = col.defaultExpr();
        steps.add(new Plan.Step("expand", "gives " + f + " the default " + def + ", so INSERTs that leave it out fill it",
            "before bellows flags set " + m.id() + " expand", true,
            lock + "ALTER TABLE " + qt + " ALTER COLUMN " + f + " SET DEFAULT " + def + ";\n",
            lock + "ALTER TABLE " + qt + " ALTER COLUMN " + f + (prior == null ? " DROP DEFAULT" : " SET DEFAULT " + prior) + ";\n",
            "puts back the column's previous default"));

        steps.add(new Plan.Step("check", "refuses new NULLs in " + f + " (CHECK … NOT VALID: existing rows are not scanned)",
            "once bellows status shows every instance in expand (their NULL writes get the default)", true,
            lock + "DO $bellows$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + literal(qt)
                + "::regclass AND conname = " + literal(checkName(m)) + ") THEN\n"
                + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + check + " CHECK (" + f + " IS NOT NULL) NOT VALID;\n"
                + "  END IF;\nEND\n$bellows$;\n",
            lock + "ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + check + ";\n",
            "drops the check"));

        steps.add(new Plan.Step("not_null", "VALIDATE the check, SET NOT NULL (no scan: the check proves it), drop the check",
            "after bellows backfill " + m.id() + " (no row has " + f + " NULL) and a green bellows gate " + m.id(), false,
            "DO $bellows$\nBEGIN\n  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + literal(qt) + "::regclass AND conname = "
                + literal(checkName(m)) + ") THEN\n    ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + check + ";\n  END IF;\nEND\n$bellows$;\n"
                + lock + "ALTER TABLE " + qt + " ALTER COLUMN " + f + " SET NOT NULL;\n"
                + "ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + check + ";\n",
            lock + "ALTER TABLE " + qt + " ALTER COLUMN " + f + " DROP NOT NULL;\n",
            "makes the column nullable again"));
        return new Plan(m, steps, warnings);
    }
}
