package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code bellows check}'s warning for a type change not declared inverse: a statement that filters on the legacy
 * column, which has an index today, will filter on {@code down(new)} from the switch on, which no index serves. Found
 * by rewriting the statement as if the declaration were made: where that changes the switch form, an inverse
 * declaration would keep the lookup indexed.
 */
final class LostIndexes {
    private LostIndexes() {}

    static List<String> find(Connection c, RuleSet rules, Migration m, TableInfo t, List<Checker.Entry> entries,
                             Map<String, List<String>> catalog) throws SQLException {
        List<String> out = new ArrayList<>();
        TableInfo.Column col = t.column(m.from());
        if (!m.isTypeChange() || m.inverse() || col == null) return out;
        List<String> indexes = new ArrayList<>();
        for (TableInfo.Index i : t.indexesOn(c, col)) if (i.valid() && !i.expression()) indexes.add(i.name());
        if (indexes.isEmpty()) return out;
        RuleSet declared = RuleSet.of(rules.migrations().stream()
            .map(x -> x.id().equals(m.id()) ? x.withInverse(true).withPhase(Phase.SWITCH) : x).toList());
        Rewriter inverse = Rewriter.create(declared, Db.asCatalog(catalog));
        for (Checker.Entry e : entries) {
            Checker.PhaseResult sw = e.phases().get(Phase.SWITCH);
            if (sw == null || sw.status() != Checker.Status.REWRITTEN) continue;
            Rewrite r = inverse.rewrite(e.input().sql());
            if (r.isUnanalysed() || r.sql().equals(sw.sent())) continue;
            out.add("statement " + (entries.indexOf(e) + 1) + (e.input().calls() > 0 ? " (" + e.input().calls() + " calls)" : "")
                + " filters on " + m.from() + ", which " + String.join(", ", indexes) + " serve" + (indexes.size() == 1 ? "s" : "")
                + " today; from the switch on it filters on down(" + m.to() + "), which no index serves: "
                + SqlText.oneLine(e.input().sql(), 200) + callSites(c, m, r) + ". If up and down are inverse, add `inverse: true`"
                + " to migration '" + m.id() + "' (bellows check verifies it on the data) and index " + m.to() + ".");
        }
        return out;
    }

    /** Where the application sends the statement, from Bellows' own usage records, when it has any. */
    private static String callSites(Connection c, Migration m, Rewrite r) throws SQLException {
        String fp = null;
        for (UsageFact f : r.facts()) if (f.migrationId().equals(m.id())) fp = f.fingerprint();
        if (fp == null) return "";
        List<String> sites = new ArrayList<>();
        Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT app_name || ' ' || coalesce(call_site, '(no call site)')"
                + " FROM bellows.usage WHERE to_regclass('bellows.usage') IS NOT NULL AND migration_id = ? AND fingerprint = ?"
                + " ORDER BY 1 LIMIT 5")) {
            ps.setString(1, m.id());
            ps.setString(2, fp);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) sites.add(rs.getString(1));
            }
            if (sp != null) c.releaseSavepoint(sp);
        } catch (SQLException e) {
            if (sp != null) c.rollback(sp); // no usage records here: the statement alone has to do
        }
        return sites.isEmpty() ? "" : " (sent by " + String.join("; ", sites) + ")";
    }
}
