package dev.bellows.spring;

import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.usage.Durations;
import dev.bellows.usage.Gate;
import dev.bellows.usage.Report;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * What the {@code bellows} endpoint adds to a runtime's own settings: per migration the fleet's use of the old
 * column in the gate window (the numbers of {@code bellows report --migration ID --since WINDOW}) and the gate's
 * verdict with its conditions ({@link Gate#evaluate}, as {@code bellows gate ID --window WINDOW --rules RULES}).
 * Read from the {@code bellows} schema over a plain connection of the pool, only when asked; a database error is
 * reported in the payload, never thrown.
 */
final class FleetView {
    private static final List<String> RESIDUAL = List.of("passed_through", "unanalysed");

    private FleetView() {
    }

    /** {@link BellowsRuntimes#describe} plus {@code residual} and {@code gate} for each migration. */
    static Map<String, Object> describe(BellowsRuntime r, DataSource pool, Duration window) {
        Map<String, Object> m = BellowsRuntimes.describe(r);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> migrations = (List<Map<String, Object>>) m.get("migrations");
        m.put("gateWindow", Durations.format(window));
        try (Connection c = pool.getConnection()) {
            if (!c.getAutoCommit()) c.setAutoCommit(true);
            for (Map<String, Object> d : migrations) {
                String id = (String) d.get("id");
                try {
                    d.put("residual", residual(Report.build(c, id, window, 0)));
                } catch (Exception e) {
                    d.put("residual", Map.of("error", message(e)));
                }
                try {
                    d.put("gate", gate(Gate.evaluate(c, id, new Gate.Options(window, false, null, r.rules()))));
                } catch (Exception e) {
                    d.put("gate", Map.of("error", message(e)));
                }
            }
        } catch (Exception e) {
            m.put("fleetError", message(e)); // a database the endpoint cannot reach is no reason to fail it
        }
        return m;
    }

    static Map<String, Object> residual(Report report) {
        long total = 0;
        long residual = 0;
        List<Map<String, Object>> totals = new ArrayList<>();
        for (Report.ColumnUsage u : report.columns()) {
            for (Report.Totals t : u.totals()) {
                total += t.count();
                if (RESIDUAL.contains(t.treatment())) residual += t.count();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("column", u.column());
                row.put("kind", t.kind());
                row.put("treatment", t.treatment());
                row.put("count", t.count());
                row.put("lastSeen", String.valueOf(t.lastSeen()));
                totals.add(row);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("since", String.valueOf(report.since()));
        out.put("uses", total);
        out.put("residualUses", residual); // passed through or unanalysed: what the gate refuses
        out.put("byKindAndTreatment", totals); // as in `bellows report --format json`
        return out;
    }

    static Map<String, Object> gate(Gate.Result g) {
        // the members of `bellows gate --format json` (docs/cli.md)
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("safe", g.safe());
        out.put("strict", g.strict());
        out.put("window", Durations.format(g.window()));
        out.put("windowStart", String.valueOf(g.windowStart()));
        out.put("evaluatedAt", String.valueOf(g.now()));
        List<Map<String, Object>> conditions = new ArrayList<>();
        for (Gate.Condition c : g.conditions()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("id", c.id());
            d.put("title", c.title());
            d.put("status", c.status().name().toLowerCase(java.util.Locale.ROOT));
            d.put("evidence", c.evidence());
            conditions.add(d);
        }
        out.put("conditions", conditions);
        out.put("notes", g.notes());
        return out;
    }

    private static String message(Exception e) {
        return e.getClass().getSimpleName() + ": " + dev.bellows.redact.Redact.message(e);
    }
}
