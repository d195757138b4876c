package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bellows check}'s verification of {@code inverse: true} on the data: {@code up(down(v)) = v} for every distinct
 * value the new column holds and every value {@code up} gives the legacy column's values, and {@code up(NULL)},
 * {@code down(NULL)} both NULL. The rewriter relies on exactly this to answer legacy predicates from the new
 * column's index, so a declaration the data contradicts is an error, not a warning.
 */
final class InverseCheck {
    private InverseCheck() {}

    /** Problems with the declaration (empty when it holds, or when {@code m} does not declare it). */
    static List<String> verify(Connection c, Migration m, TableInfo t, boolean inTransaction) throws SQLException {
        List<String> problems = new ArrayList<>();
        if (!m.inverse()) return problems;
        String qt = SqlText.qualified(m.schema(), m.table());
        String from = SqlText.ident(m.from());
        String to = SqlText.ident(m.to());
        TableInfo.Column oldCol = t.column(m.from());
        TableInfo.Column newCol = t.column(m.to());
        String what = "migration '" + m.id() + "' declares inverse: true, but ";

        List<String> sources = new ArrayList<>();
        if (newCol != null) sources.add("SELECT " + to + " FROM " + qt);
        if (oldCol != null) sources.add("SELECT " + m.up() + " AS " + to + " FROM " + qt);
        if (!sources.isEmpty()) {
            // v has the new column's name so down reads it; d has the old column's name so up reads it.
            String values = "SELECT DISTINCT " + to + " FROM (" + String.join(" UNION ALL ", sources) + ") s WHERE " + to + " IS NOT NULL";
            String q = "SELECT count(*) FROM (" + values + ") v CROSS JOIN LATERAL (SELECT " + m.down() + " AS " + from
                + ") d CROSS JOIN LATERAL (SELECT " + m.up() + " AS bellows_back) u WHERE u.bellows_back IS DISTINCT FROM v." + to;
            try {
                long n = Long.parseLong(String.valueOf(scalar(c, q, inTransaction)));
                if (n > 0) {
                    problems.add(what + "up(down(v)) differs from v for " + n + " distinct value" + (n == 1 ? "" : "s")
                        + " of " + to + (oldCol != null ? " (or of up(" + from + "))" : "") + "; list them with: "
                        + q.replace("SELECT count(*)", "SELECT v." + to + ", u.bellows_back") + ". Remove `inverse: true`,"
                        + " or fix up/down so that they are inverse");
                }
            } catch (SQLException e) {
                problems.add(what + "checking it failed: " + firstLine(e) + " (does up raise an error on a value of "
                    + from + "? A legacy predicate would then fail where it used to match nothing: guard up, e.g. with CASE)");
            }
        }
        String fromType = oldCol != null ? oldCol.type() : null;
        String toType = newCol != null ? newCol.type() : m.type();
        if (fromType != null) nullMapsToNull(c, problems, what + "up(NULL)", m.up(), from, fromType, inTransaction);
        if (toType != null) nullMapsToNull(c, problems, what + "down(NULL)", m.down(), to, toType, inTransaction);
        return problems;
    }

    private static void nullMapsToNull(Connection c, List<String> problems, String what, String expr, String col, String type,
                                       boolean inTransaction) throws SQLException {
        String q = "SELECT (" + expr + ") IS NULL FROM (SELECT NULL::" + type + " AS " + col + ") n";
        try {
            if (!Boolean.TRUE.equals(scalar(c, q, inTransaction))) problems.add(what + " is not NULL");
        } catch (SQLException e) {
            problems.add(what + " could not be evaluated: " + firstLine(e));
        }
    }

    private static Object scalar(Connection c, String q, boolean inTransaction) throws SQLException {
        Savepoint sp = inTransaction ? c.setSavepoint() : null;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q)) {
            Object v = rs.next() ? rs.getObject(1) : null;
            if (sp != null) c.releaseSavepoint(sp);
            return v;
        } catch (SQLException e) {
            if (sp != null) c.rollback(sp);
            throw e;
        }
    }

    private static String firstLine(SQLException e) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }
}
