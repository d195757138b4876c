package dev.bellows.workflow;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Keeps {@code bellows check}'s PREPAREs out of {@code pg_stat_statements}. PostgreSQL keys an entry on the
 * statement's structure and keeps the first text it saw: a form the check prepared before the application ran it
 * would be counted under {@code PREPARE bellows_check …} for good. {@code pg_stat_statements.track = none} for the
 * check's session prevents that; it needs superuser (or {@code GRANT SET ON PARAMETER}), otherwise the check says so
 * and the readers of pg_stat_statements (the gate, the next check) look inside such texts instead.
 */
final class StatsOff {
    private StatsOff() {
    }

    /** Turns tracking off for this session; false (with a note) when not permitted. Autocommit must be on. */
    static boolean apply(Connection c, List<String> notes) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET pg_stat_statements.track = 'none'");
            return true;
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) throw e;
            notes.add("this user may not set pg_stat_statements.track (superuser, or GRANT SET ON PARAMETER"
                + " pg_stat_statements.track): pg_stat_statements may count the application's runs of a checked statement"
                + " under the check's PREPARE " + Checker.CHECK_STATEMENT + " text; bellows gate and bellows check read the"
                + " statement inside such texts");
            return false;
        }
    }

    static void reset(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("RESET pg_stat_statements.track");
        }
    }
}
