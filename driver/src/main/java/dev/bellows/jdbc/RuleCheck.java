package dev.bellows.jdbc;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.util.ArrayList;
import java.util.List;

/** The rules against the catalog: a rule naming a table or column the database does not have, said with its file:line. */
final class RuleCheck {
    private RuleCheck() {
    }

    /** One message per rule that cannot be right for this database; empty when all fit. */
    static List<String> problems(RuleSet rules, Catalog catalog) {
        List<String> out = new ArrayList<>();
        for (Migration m : rules.migrations()) {
            String where = "Bellows rules " + rules.source() + (m.line() > 0 ? ":" + m.line() : "") + ": migration '" + m.id() + "' ";
            if (m.isTableRename()) {
                boolean oldThere = catalog.columns(m.schema(), m.table()) != null;
                boolean newThere = catalog.columns(m.schema(), m.toTable()) != null;
                if (!oldThere && !newThere) {
                    out.add(where + "renames table " + m.qualifiedTable() + " to " + m.toTable() + ", but neither exists in"
                        + " this database: Bellows manages nothing for it. Fix the table names in the rules file");
                } else if (!newThere && m.phase() != Phase.OFF) {
                    out.add(where + "is in phase " + m.phase().label() + " but " + m.qualifiedToTable() + " does not exist:"
                        + " Bellows treats it as off until it does. Apply the expand migration (the view " + m.toTable()
                        + "), or fix the name in the rules file");
                }
                continue;
            }
            List<String> cols = catalog.columns(m.schema(), m.table());
            if (cols == null) {
                out.add(where + "names table " + m.qualifiedTable() + ", which does not exist in this database: Bellows"
                    + " manages nothing for it. Fix the table name in the rules file");
                continue;
            }
            boolean from = cols.contains(m.from());
            if (m.isNotNull() && !from) {
                out.add(where + "makes column " + m.from() + " NOT NULL, but it does not exist in " + m.qualifiedTable()
                    + ". Fix the column name in the rules file");
                continue;
            }
            if (m.to() == null) {
                if (!from && m.isRemoval() && (m.phase() == Phase.OFF || m.phase() == Phase.EXPAND)) {
                    out.add(where + "removes column " + m.from() + ", which does not exist in " + m.qualifiedTable()
                        + " while the migration is in " + m.phase().label() + ". Fix the column name in the rules file,"
                        + " or move the migration to switch or contract if the column was dropped");
                }
                continue;
            }
            boolean to = cols.contains(m.to());
            if (!from && !to) {
                out.add(where + "names columns " + m.from() + " and " + m.to() + ", neither of which exists in "
                    + m.qualifiedTable() + " (it has " + String.join(", ", cols) + "): Bellows manages nothing for it."
                    + " Fix the column names in the rules file");
            } else if (!to && m.phase() != Phase.OFF) {
                out.add(where + "is in phase " + m.phase().label() + " but its new column " + m.qualifiedTable() + "."
                    + m.to() + " does not exist: Bellows treats it as off until it does. Apply the expand migration, or"
                    + " fix the column name in the rules file");
            }
        }
        return out;
    }
}
