package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a derived migration's {@code down} gives back every old value from what {@code up} makes of it, on the table's
 * data: where it does not, reads through the new columns would return other values than the old ones hold. A split whose
 * down cannot rebuild the whole (names with spaces split and joined with one space) is refused here, not guessed.
 */
final class DerivedCheck {
    private DerivedCheck() {
    }

    /** One problem per old column whose value down(up(row)) does not give back; empty when down is total on the data. */
    static List<String> totality(Connection c, Migration m) throws SQLException {
        List<String> problems = new ArrayList<>();
        if (!m.isDerived() || m.keepsFrom()) return problems;
        String qt = SqlText.qualified(m.schema(), m.table());
        for (String f : m.froms()) {
            String roundTrip = m.downSql(f, SqlText::ident);
            for (String t : m.tos()) roundTrip = SqlText.replaceColumn(roundTrip, t, m.upSql(t, SqlText::ident));
            String where = SqlText.ident(f) + " IS DISTINCT FROM " + roundTrip;
            long n = Db.scalarLong(c, "SELECT count(*) FROM " + qt + " WHERE " + where);
            if (n > 0) {
                problems.add("migration '" + m.id() + "': down does not give back " + f + " for " + n + " row" + (n == 1 ? "" : "s")
                    + " of " + qt + " (down is not total: from switch on, legacy reads of " + f + " would return another"
                    + " value). Change up/down so that down(up(" + f + ")) = " + f + "; list the rows with: SELECT * FROM "
                    + qt + " WHERE " + where);
            }
        }
        return problems;
    }
}
