package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The way back after the DROP: the plan that re-creates the old column from the new one. It is the forward plan
 * of the reverse migration ({@code to -> from}, with up and down exchanged) cut to what a way back needs: the
 * column with its default, filled with {@code down(to)} (recreate), twins of the new column's indexes and
 * constraints under their old names (recreate_mirror), and NOT NULL once the fleet writes it again
 * (recreate_not_null, after {@code bellows flags set ID switch}).
 */
final class Recreation {
    private Recreation() {
    }

    static Plan plan(Connection c, Migration m, Planner.Options o, TableInfo t) throws SQLException, WorkflowException {
        TableInfo.Column to = t.column(m.to());
        String qt = t.qualified();
        String f = ident(m.from());
        String oldType = null;
        if (m.isTypeChange()) {
            oldType = Db.scalar(c, "SELECT pg_typeof(" + Planner.downExpr(m) + ")::text FROM (SELECT NULL::" + to.type()
                + " AS " + ident(m.to()) + ") s");
        }
        Migration back = new Migration(m.id(), m.schema(), m.table(), m.to(), m.from(), m.down(), m.up(), oldType, Phase.OFF,
            m.line());
        Plan reverse = Planner.plan(c, back, new Planner.Options(false, o.lockTimeout()));
        String down = Planner.downExpr(m);
        String lock = "SET lock_timeout = " + literal(o.lockTimeout().strip()) + ";\n";
        List<Plan.Step> steps = new ArrayList<>();
        Plan.Step add = reverse.step("expand");
        String fill = "-- fill it from the new column: " + f + " = down(" + ident(m.to()) + "), its own transaction (row locks only;\n"
            + "-- on a very large table run it in primary-key ranges instead). Rows written after it are copied by\n"
            + "-- bellows flags set " + m.id() + " switch, in the flag's transaction.\n"
            + "UPDATE " + qt + " SET " + f + " = " + down + " WHERE " + f + " IS DISTINCT FROM " + down + ";\n";
        steps.add(new Plan.Step("recreate", "re-creates the dropped " + f + " next to " + ident(m.to()) + " (nullable, last in"
                + " the table) and fills it with down(" + m.to() + ")",
            "after the DROP, to go back: with the fleet still in contract (which maps " + m.from() + " to " + m.to() + ")",
            false, add.up() + fill, add.down(),
            "drops the re-created " + f + " again; only while every instance is in phase contract"));
        Plan.Step mirror = reverse.step("mirror");
        if (mirror != null) {
            steps.add(new Plan.Step("recreate_mirror", mirror.summary(), "after recreate, before bellows flags set " + m.id()
                + " switch (the values filled are unique where " + m.to() + "'s are)", false, mirror.up(), mirror.down(),
                mirror.downNote()));
        }
        if (to.notNull()) steps.add(notNull(m, qt, f, lock));
        List<String> warnings = new ArrayList<>();
        warnings.add(f + " comes back as the table's last column: through Bellows, a positional INSERT (no column list) or"
            + " SELECT * keeps the order recorded in bellows.column_order before the drop, as long as the migration stays in"
            + " the rules file; clients without Bellows see the new order");
        return new Plan(m, steps, warnings);
    }

    private static Plan.Step notNull(Migration m, String qt, String f, String lock) {
        String chk = SqlText.truncate(m.table() + "_" + m.from() + "_not_null");
        String reg = literal(qt) + "::regclass";
        String attnotnull = "SELECT attnotnull FROM pg_attribute WHERE attrelid = " + reg + " AND attname = " + literal(m.from());
        String up = lock
            + "-- phase contract writes only " + ident(m.to()) + ": " + f + " can be NOT NULL only once the fleet writes it again\n"
            + "DO $bellows$\nBEGIN\n"
            + "  IF to_regclass('bellows.flags') IS NOT NULL THEN\n"
            + "    IF EXISTS (SELECT 1 FROM bellows.flags WHERE migration_id = " + literal(m.id()) + " AND phase = 'contract') THEN\n"
            + "      RAISE EXCEPTION 'bellows: migration " + m.id().replace("'", "''") + " is still in phase contract, which does"
            + " not write " + f.replace("'", "''") + "' USING HINT = 'run bellows flags set " + m.id().replace("'", "''")
            + " switch first, then this file again';\n"
            + "    END IF;\n  END IF;\nEND\n$bellows$;\n"
            + "DO $bellows$\nBEGIN\n"
            + "  IF NOT (" + attnotnull + ")\n"
            + "     AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + reg + " AND conname = " + literal(chk) + ") THEN\n"
            + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(chk) + " CHECK (" + f + " IS NOT NULL) NOT VALID;\n"
            + "  END IF;\nEND\n$bellows$;\n"
            + "DO $bellows$\nBEGIN\n"
            + "  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + reg + " AND conname = " + literal(chk) + " AND NOT convalidated) THEN\n"
            + "    ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + ident(chk) + ";\n"
            + "  END IF;\nEND\n$bellows$;\n"
            + "DO $bellows$\nBEGIN\n"
            + "  IF NOT (" + attnotnull + ") THEN\n"
            + "    ALTER TABLE " + qt + " ALTER COLUMN " + f + " SET NOT NULL;\n"
            + "  END IF;\n"
            + "  ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + ident(chk) + ";\nEND\n$bellows$;\n"
            + "RESET lock_timeout;\n";
        String down = lock
            + "ALTER TABLE " + qt + " ALTER COLUMN " + f + " DROP NOT NULL;\n"
            + "ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + ident(chk) + ";\n"
            + "RESET lock_timeout;\n";
        return new Plan.Step("recreate_not_null", "makes the re-created " + f + " NOT NULL like " + ident(m.to())
            + " (check NOT VALID, VALIDATE, SET NOT NULL)",
            "after bellows flags set " + m.id() + " switch (switch writes both columns again); it refuses while the flag is"
                + " contract", false, up, down, "makes " + f + " nullable again (needed before going back to contract)");
    }
}
