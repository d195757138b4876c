package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;
import static dev.bellows.workflow.SqlText.truncate;

import dev.bellows.rules.Migration;

/**
 * CHECK constraints for a type change. The old column's CHECK is twinned on the new column through down: the new
 * value must read, in the legacy code's terms, as a value the old constraint accepts. A separate mapping constraint
 * refuses a new value that down cannot map (down gives NULL), which a twin alone lets through because a CHECK
 * passes on NULL. Both are added NOT VALID in the mirror step and validated after the backfill.
 */
final class CheckTwins {
    private CheckTwins() {
    }

    /**
     * The twin of a CHECK definition (as {@code pg_get_constraintdef} prints it), or null when there is none to
     * write: the migration has no down, or the constraint already names the new column.
     */
    static String twin(Migration m, String definition) {
        if (m.down() == null || SqlText.namesIdentifier(definition, m.to())) return null;
        String def = definition.replaceAll("\\s+NOT VALID$", "");
        return SqlText.replaceColumn(def, m.from(), "(" + m.down().strip() + ")");
    }

    /** The mapping constraint's name. */
    static String mappingName(Migration m) {
        return truncate(m.table() + "_" + m.to() + "_mapped");
    }

    /** {@code CHECK (to IS NULL OR down(to) IS NOT NULL)}: every value of the new column has a legacy reading. */
    static String mapping(Migration m) {
        return "CHECK (" + ident(m.to()) + " IS NULL OR (" + m.down().strip() + ") IS NOT NULL)";
    }

    /** Adds {@code name} NOT VALID unless it exists (a brief lock, no scan). */
    static String add(String regclass, String qt, String name, String definition) {
        return "DO $bellows$\nBEGIN\n"
            + "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass + " AND conname = " + literal(name) + ") THEN\n"
            + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(name) + " " + definition + " NOT VALID;\n"
            + "  END IF;\nEND\n$bellows$;\n";
    }

    /** Validates {@code name} if it is not valid yet (a scan under SHARE UPDATE EXCLUSIVE: reads and writes go on). */
    static String validate(String regclass, String qt, String name) {
        return "DO $bellows$\nBEGIN\n"
            + "  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass + " AND conname = " + literal(name)
            + " AND NOT convalidated) THEN\n"
            + "    ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + ident(name) + ";\n"
            + "  END IF;\nEND\n$bellows$;\n";
    }
}
