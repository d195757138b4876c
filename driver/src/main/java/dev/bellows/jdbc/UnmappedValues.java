package dev.bellows.jdbc;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.regex.Pattern;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A NOT NULL violation on the column a type change's dual write added, explained in the writer's terms: the
 * value written has no mapping through up (legacy code) or down (new code). The server's own message names a
 * column the writer has never heard of and its detail echoes the row; this one names the migration and the
 * column written, keeps the SQLState and echoes no value.
 */
final class UnmappedValues {
    private static final String NOT_NULL_VIOLATION = "23502";

    private UnmappedValues() {
    }

    /** {@code e} itself, or Bellows' explanation when it is an unmapped value of a statement Bellows rewrote. */
    static SQLException explain(SQLException e, Rewrite r, RuleSet rules) {
        SQLException server = e instanceof BatchUpdateException && e.getNextException() != null ? e.getNextException() : e;
        if (r == null || rules == null || !r.changed() || !NOT_NULL_VIOLATION.equals(server.getSQLState())
            || !(server instanceof PSQLException p) || p.getServerErrorMessage() == null) {
            return e;
        }
        ServerErrorMessage sem = p.getServerErrorMessage();
        String column = sem.getColumn();
        if (column == null || sem.getTable() == null) return e;
        for (Migration m : rules.migrations()) {
            if (!m.isTypeChange() || !m.table().equals(sem.getTable())
                || sem.getSchema() != null && !m.schema().equals(sem.getSchema())) continue;
            String message = null;
            if (column.equals(m.to()) && wroteOld(r, m)) {
                message = "bellows: migration '" + m.id() + "': the value written to " + m.qualifiedTable() + "." + m.from()
                    + " has no mapping to " + m.to() + " (up gives NULL for it, and " + m.to() + " is NOT NULL)."
                    + " Add the value to the migration's up and down in the rules file, or do not write it";
            } else if (column.equals(m.from()) && !names(r.original(), m.from()) && names(r.sql(), m.from())) {
                message = "bellows: migration '" + m.id() + "': the value written to " + m.qualifiedTable() + "." + m.to()
                    + " has no mapping back to " + m.from() + " (down gives NULL for it, and " + m.from() + " is NOT NULL)."
                    + " Add the value to the migration's up and down in the rules file, or do not write it";
            }
            if (message == null) continue;
            message += " (server: " + sem.getMessage() + ")";
            if (e instanceof BatchUpdateException b) {
                return new BatchUpdateException(message, server.getSQLState(), server.getErrorCode(), b.getLargeUpdateCounts(), null);
            }
            return new SQLException(message, server.getSQLState(), server.getErrorCode());
        }
        return e;
    }

    private static boolean wroteOld(Rewrite r, Migration m) {
        for (UsageFact f : r.facts()) {
            if (f.migrationId().equals(m.id()) && f.kind() == UsageFact.Kind.WRITE) return true;
        }
        return false;
    }

    private static boolean names(String sql, String column) {
        return Pattern.compile("(?i)(^|[^\\w$])\"?" + Pattern.quote(column) + "\"?($|[^\\w$])").matcher(sql).find();
    }
}
