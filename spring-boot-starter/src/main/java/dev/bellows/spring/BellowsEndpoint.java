package dev.bellows.spring;

import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.usage.Durations;
import dev.bellows.usage.HtmlReport;
import dev.bellows.usage.Report;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * {@code /actuator/bellows}: each Bellows DataSource's settings, its migrations' effective phases, and from the
 * {@code bellows} schema the fleet's residual use in the gate window and the gate's verdict with its conditions
 * ({@link FleetView}); {@code /actuator/bellows/report}: the HTML page of {@code bellows report --format html}.
 * Everything is read when the endpoint is called, never at start-up.
 */
@Endpoint(id = "bellows")
public class BellowsEndpoint {
    private final BellowsRuntimes runtimes;
    private final Duration gateWindow;

    BellowsEndpoint(BellowsRuntimes runtimes, Duration gateWindow) {
        this.runtimes = runtimes;
        this.gateWindow = gateWindow;
    }

    @ReadOperation
    public Map<String, Object> bellows() {
        List<Map<String, Object>> out = new ArrayList<>();
        runtimes.pools().forEach((r, pool) -> out.add(FleetView.describe(r, pool, gateWindow)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataSources", out);
        return m;
    }

    /** {@code report}: the fleet's HTML usage report (the first Bellows DataSource's database); else 404. */
    @ReadOperation(produces = "text/html")
    public String page(@Selector String name) {
        if (!"report".equals(name)) return null;
        Map<BellowsRuntime, DataSource> pools = runtimes.pools();
        if (pools.isEmpty()) return null;
        try (Connection c = pools.values().iterator().next().getConnection()) {
            if (!c.getAutoCommit()) c.setAutoCommit(true);
            return HtmlReport.render(c, Report.build(c, null, null, 10), gateWindow);
        } catch (Exception e) {
            return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Bellows</title></head><body><p>The Bellows usage"
                + " report cannot be read (window " + Durations.format(gateWindow) + "): "
                + escape(e.getClass().getSimpleName() + ": " + dev.bellows.redact.Redact.message(e)) + "</p></body></html>";
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
