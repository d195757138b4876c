package dev.bellows.usage;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code bellows report --format html}: one self-contained page (XHTML-compatible, inline SVG and CSS, no script,
 * nothing fetched) with each deprecated column's residual use per application and its first and last use as a
 * timeline, the statements and call sites behind it, the gate's conditions per migration, and the instances.
 * Uses per day come from the daily and hourly rollups ({@link Rollups}), stacked by treatment, with the
 * applications of each day in its tooltip.
 */
public final class HtmlReport {
    static final List<String> TREATMENTS = List.of("rewritten", "passed_through", "unanalysed");
    /** Timeline rows per column; the rest are counted in a line under the chart. */
    static final int TIMELINE_ROWS = 40;

    private final Report r;
    private final Fleet fleet;
    private final List<Fleet.Usage> rows;
    private final Map<String, Object> gates; // migration id -> Gate.Result or error text
    private final Map<String, List<Rollups.Day>> days; // migration id -> uses per day
    private final Duration gateWindow;
    private final StringBuilder sb = new StringBuilder(16_384);

    private HtmlReport(Report r, Fleet fleet, List<Fleet.Usage> rows, Map<String, Object> gates, Map<String, List<Rollups.Day>> days,
                       Duration gateWindow) {
        this.r = r;
        this.days = days;
        this.fleet = fleet;
        this.rows = rows;
        this.gates = gates;
        this.gateWindow = gateWindow;
    }

    /**
     * Renders {@code r} with the fleet's instances and, for each migration in it, the gate evaluated read-only
     * over {@code gateWindow} (not strict, default silence threshold, the definitions instances reported).
     */
    public static String render(Connection c, Report r, Duration gateWindow) throws SQLException {
        Set<String> columns = new LinkedHashSet<>();
        Set<String> migrations = new LinkedHashSet<>();
        for (Report.ColumnUsage u : r.columns()) {
            columns.add(u.migrationId() + "\u0000" + u.column());
            migrations.add(u.migrationId());
        }
        List<Fleet.Usage> rows = new ArrayList<>();
        for (Fleet.Usage u : Fleet.usage(c, null, r.since())) {
            if (columns.contains(u.migrationId() + "\u0000" + u.column())) rows.add(u);
        }
        Map<String, Object> gates = new LinkedHashMap<>();
        Map<String, List<Rollups.Day>> days = new LinkedHashMap<>();
        boolean schema = UsageSchema.exists(c);
        for (String id : migrations) {
            days.put(id, schema ? Rollups.perDay(c, id, r.since()) : List.of());
            try {
                gates.put(id, Gate.evaluate(c, id, new Gate.Options(gateWindow, false, null, null)));
            } catch (Gate.GateException e) {
                gates.put(id, e.getMessage());
            }
        }
        return new HtmlReport(r, Fleet.load(c), rows, gates, days, gateWindow).page();
    }

    private String page() {
        sb.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n")
            .append("<title>Bellows: residual usage of deprecated columns</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
            .append("<h1>Residual usage of deprecated columns</h1>\n<p id=\"period\">")
            .append(esc(r.since() == null ? "All time" : "Since " + r.since())).append(", as of ").append(esc(r.generatedAt()))
            .append(" (database time).</p>\n<p class=\"note\" id=\"what-is-charted\">Counts are uses in the period, per"
                + " application; uses per day are by UTC day of the flush that wrote them (a day whose last use is in the period"
                + " counts whole); the timeline shows each statement's first and last use per application.</p>\n");
        if (r.columns().isEmpty()) sb.append("<p id=\"no-usage\">No migration and no usage recorded.</p>\n");
        for (Report.ColumnUsage u : r.columns()) column(u);
        instances();
        return sb.append("</body>\n</html>\n").toString();
    }

    private void column(Report.ColumnUsage u) {
        List<Fleet.Usage> mine = rows.stream().filter(x -> x.migrationId().equals(u.migrationId()) && x.column().equals(u.column())).toList();
        sb.append("<section class=\"column\" data-migration=\"").append(esc(u.migrationId())).append("\" data-column=\"")
            .append(esc(u.column())).append("\">\n<h2><code>").append(esc(u.column())).append("</code></h2>\n<p class=\"summary\">Migration <code>")
            .append(esc(u.migrationId())).append("</code>").append(u.replacement() == null ? "" : ", replaced by <code>" + esc(u.replacement()) + "</code>")
            .append(". ");
        if (u.total() == 0) sb.append("No use recorded").append(r.since() == null ? "" : " in this period").append(".</p>\n");
        else sb.append("<span class=\"total\">").append(u.total()).append("</span> uses, last ").append(esc(u.lastSeen())).append(".</p>\n");
        if (!mine.isEmpty()) {
            byApp(mine);
            perDay(days.getOrDefault(u.migrationId(), List.of()).stream().filter(d -> d.column().equals(u.column())).toList());
            timeline(mine);
        }
        statements(u);
        gate(u.migrationId());
        sb.append("</section>\n");
    }

    // ------------------------------------------------------------------ charts

    /** Vertical bars, one per UTC day with use, stacked by treatment; each day's applications in its tooltip. */
    private void perDay(List<Rollups.Day> mine) {
        if (mine.isEmpty()) return;
        Map<java.time.Instant, long[]> byDay = new java.util.TreeMap<>();
        Map<java.time.Instant, Map<String, Long>> apps = new java.util.TreeMap<>();
        for (Rollups.Day d : mine) {
            byDay.computeIfAbsent(d.day(), k -> new long[TREATMENTS.size()])[TREATMENTS.indexOf(d.treatment())] += d.count();
            apps.computeIfAbsent(d.day(), k -> new java.util.TreeMap<>()).merge(d.app(), d.count(), Long::sum);
        }
        long max = byDay.values().stream().mapToLong(HtmlReport::sum).max().orElse(1);
        int barW = Math.max(4, Math.min(24, 720 / byDay.size()));
        int left = 50;
        int chartH = 160;
        int w = left + byDay.size() * (barW + 2) + 20;
        int h = chartH + 60;
        sb.append("<h3>Uses per day (UTC)</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart per-day\" role=\"img\" width=\"")
            .append(w).append("\" height=\"").append(h).append("\" viewBox=\"0 0 ").append(w).append(' ').append(h)
            .append("\">\n<title>Uses per day, by treatment</title>\n")
            .append("<line class=\"axis\" x1=\"").append(left).append("\" y1=\"").append(chartH + 4).append("\" x2=\"").append(w - 10)
            .append("\" y2=\"").append(chartH + 4).append("\"/>").append("<text x=\"").append(left - 4).append("\" y=\"12\" text-anchor=\"end\">")
            .append(max).append("</text>\n");
        int x = left;
        for (Map.Entry<java.time.Instant, long[]> e : byDay.entrySet()) {
            String day = e.getKey().toString().substring(0, 10);
            long total = sum(e.getValue());
            StringBuilder tip = new StringBuilder(day + ": " + total + " uses");
            apps.get(e.getKey()).forEach((a, n) -> tip.append("; ").append(a).append(' ').append(n));
            sb.append("<g class=\"day\" data-day=\"").append(day).append("\" data-count=\"").append(total).append("\"><title>")
                .append(esc(tip)).append("</title>");
            double y = chartH + 4;
            for (int t = 0; t < TREATMENTS.size(); t++) {
                long n = e.getValue()[t];
                if (n == 0) continue;
                double bh = Math.max(1, (double) n * chartH / max);
                y -= bh;
                sb.append("<rect class=\"seg ").append(TREATMENTS.get(t)).append("\" data-treatment=\"").append(TREATMENTS.get(t))
                    .append("\" data-count=\"").append(n).append("\" x=\"").append(x).append("\" y=\"").append(num(y))
                    .append("\" width=\"").append(barW).append("\" height=\"").append(num(bh)).append("\"/>");
            }
            sb.append("</g>\n");
            x += barW + 2;
        }
        String first = byDay.keySet().iterator().next().toString().substring(0, 10);
        String last = ((java.util.TreeMap<java.time.Instant, long[]>) byDay).lastKey().toString().substring(0, 10);
        sb.append("<text x=\"").append(left).append("\" y=\"").append(chartH + 20).append("\">").append(first).append("</text>")
            .append("<text x=\"").append(w - 10).append("\" y=\"").append(chartH + 20).append("\" text-anchor=\"end\">").append(last).append("</text>\n");
        legend(left, chartH + 30);
        sb.append("</svg>\n");
    }

    /** Horizontal bars, one per application, split by treatment. */
    private void byApp(List<Fleet.Usage> mine) {
        Map<String, long[]> apps = new LinkedHashMap<>();
        for (Fleet.Usage x : mine) apps.computeIfAbsent(x.appName(), a -> new long[TREATMENTS.size()])[TREATMENTS.indexOf(x.treatment())] += x.count();
        List<Map.Entry<String, long[]>> sorted = new ArrayList<>(apps.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, long[]> e) -> -sum(e.getValue())).thenComparing(Map.Entry::getKey));
        long max = sorted.stream().mapToLong(e -> sum(e.getValue())).max().orElse(1);
        int label = 160;
        int width = 520;
        int h = 22 * sorted.size() + 30;
        sb.append("<h3>Uses per application</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart by-app\" role=\"img\" width=\"")
            .append(label + width + 80).append("\" height=\"").append(h).append("\" viewBox=\"0 0 ").append(label + width + 80).append(' ').append(h)
            .append("\">\n<title>Uses per application, by treatment</title>\n");
        int y = 4;
        for (Map.Entry<String, long[]> e : sorted) {
            long total = sum(e.getValue());
            sb.append("<g class=\"app\" data-app=\"").append(esc(e.getKey())).append("\" data-count=\"").append(total).append("\">")
                .append("<text x=\"").append(label - 6).append("\" y=\"").append(y + 14).append("\" text-anchor=\"end\">")
                .append(esc(Gate.shorten(e.getKey(), 24))).append("</text>");
            double x = label;
            for (int t = 0; t < TREATMENTS.size(); t++) {
                long n = e.getValue()[t];
                if (n == 0) continue;
                double w = Math.max(1, (double) n * width / max);
                sb.append("<rect class=\"seg ").append(TREATMENTS.get(t)).append("\" data-treatment=\"").append(TREATMENTS.get(t))
                    .append("\" data-count=\"").append(n).append("\" x=\"").append(num(x)).append("\" y=\"").append(y).append("\" width=\"")
                    .append(num(w)).append("\" height=\"18\"><title>").append(esc(e.getKey() + ": " + n + " " + TREATMENTS.get(t)))
                    .append("</title></rect>");
                x += w;
            }
            sb.append("<text x=\"").append(num(x + 6)).append("\" y=\"").append(y + 14).append("\">").append(total).append("</text></g>\n");
            y += 22;
        }
        legend(label, y + 4);
        sb.append("</svg>\n");
    }

    /** One bar per statement and application from its first to its last use, on a common time axis. */
    private void timeline(List<Fleet.Usage> mine) {
        List<Fleet.Usage> sorted = new ArrayList<>(mine);
        sorted.sort(Comparator.comparingLong(Fleet.Usage::count).reversed().thenComparing(Fleet.Usage::lastSeen, Comparator.reverseOrder()));
        List<Fleet.Usage> shown = sorted.subList(0, Math.min(TIMELINE_ROWS, sorted.size()));
        Instant start = r.since() != null ? r.since() : shown.stream().map(Fleet.Usage::firstSeen).min(Comparator.naturalOrder()).orElseThrow();
        Instant end = r.generatedAt();
        double span = Math.max(1, Duration.between(start, end).toMillis());
        int label = 160;
        int width = 520;
        int h = 16 * shown.size() + 50;
        sb.append("<h3>First and last use per statement and application</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeline\""
            + " role=\"img\" width=\"").append(label + width + 20).append("\" height=\"").append(h).append("\" viewBox=\"0 0 ")
            .append(label + width + 20).append(' ').append(h).append("\" data-start=\"").append(esc(start)).append("\" data-end=\"")
            .append(esc(end)).append("\">\n<title>First and last use, from ").append(esc(start)).append(" to ").append(esc(end)).append("</title>\n");
        int y = 4;
        int n = 0;
        for (Fleet.Usage x : shown) {
            n++;
            double x0 = label + Math.max(0, Duration.between(start, x.firstSeen()).toMillis()) * width / span;
            double x1 = label + Math.max(0, Duration.between(start, x.lastSeen()).toMillis()) * width / span;
            sb.append("<g class=\"span\" data-app=\"").append(esc(x.appName())).append("\" data-first=\"").append(esc(x.firstSeen()))
                .append("\" data-last=\"").append(esc(x.lastSeen())).append("\" data-count=\"").append(x.count()).append("\">")
                .append("<text x=\"").append(label - 6).append("\" y=\"").append(y + 11).append("\" text-anchor=\"end\">")
                .append(esc(Gate.shorten(x.appName(), 14) + " #" + n)).append("</text><rect class=\"seg ").append(x.treatment())
                .append("\" x=\"").append(num(x0)).append("\" y=\"").append(y).append("\" width=\"").append(num(Math.max(3, x1 - x0)))
                .append("\" height=\"12\"><title>").append(esc(x.appName() + ", " + x.kind() + " " + x.treatment() + " x" + x.count() + ", "
                    + x.firstSeen() + " to " + x.lastSeen() + ": " + (x.overflow() ? "(statements not kept)" : Gate.shorten(x.fingerprint(), 200))))
                .append("</title></rect></g>\n");
            y += 16;
        }
        sb.append("<line class=\"axis\" x1=\"").append(label).append("\" y1=\"").append(y + 2).append("\" x2=\"").append(label + width)
            .append("\" y2=\"").append(y + 2).append("\"/><text x=\"").append(label).append("\" y=\"").append(y + 16).append("\">")
            .append(esc(start)).append("</text><text x=\"").append(label + width).append("\" y=\"").append(y + 16)
            .append("\" text-anchor=\"end\">").append(esc(end)).append("</text>\n");
        legend(label, y + 24);
        sb.append("</svg>\n");
        if (sorted.size() > shown.size()) {
            sb.append("<p class=\"note\">").append(sorted.size() - shown.size()).append(" more statement and application lines not drawn.</p>\n");
        }
    }

    private void legend(int x, int y) {
        int dx = x;
        sb.append("<g class=\"legend\">");
        for (String t : TREATMENTS) {
            sb.append("<rect class=\"seg ").append(t).append("\" x=\"").append(dx).append("\" y=\"").append(y).append("\" width=\"10\" height=\"10\"/>")
                .append("<text x=\"").append(dx + 14).append("\" y=\"").append(y + 9).append("\">").append(t.replace('_', ' ')).append("</text>");
            dx += 130;
        }
        sb.append("</g>\n");
    }

    // ------------------------------------------------------------------ tables

    private void statements(Report.ColumnUsage u) {
        if (u.statements().isEmpty()) return;
        sb.append("<h3>Statements and call sites</h3>\n<table class=\"statements\">\n<thead><tr><th>#</th><th>statement</th><th>kind</th>"
            + "<th>treatment</th><th>count</th><th>first seen</th><th>last seen</th><th>applications (call site)</th></tr></thead>\n<tbody>\n");
        int n = 0;
        for (Report.StatementUse s : u.statements()) {
            n++;
            sb.append("<tr class=\"statement\"><td>").append(n).append("</td><td class=\"fingerprint\">")
                .append(s.fingerprint() == null ? "<em>(not kept: fingerprint cap reached)</em>" : "<code>" + esc(s.fingerprint()) + "</code>")
                .append("</td><td>").append(esc(s.kind())).append("</td><td class=\"").append(esc(s.treatment())).append("\">")
                .append(esc(s.treatment())).append("</td><td class=\"count\">").append(s.count()).append("</td><td>").append(esc(s.firstSeen()))
                .append("</td><td>").append(esc(s.lastSeen())).append("</td><td><ul>");
            for (Report.AppUse a : s.apps()) {
                sb.append("<li class=\"call\" data-app=\"").append(esc(a.app())).append("\" data-count=\"").append(a.count()).append("\">")
                    .append(esc(a.app())).append(" \u00d7").append(a.count());
                if (a.callSite() != null) sb.append(" at <code class=\"site\">").append(esc(a.callSite())).append("</code>");
                sb.append("</li>");
            }
            sb.append("</ul></td></tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
        if (u.statementsOmitted() > 0) sb.append("<p class=\"note\">\u2026 and ").append(u.statementsOmitted()).append(" more statements (--top).</p>\n");
    }

    private void gate(String id) {
        Object g = gates.get(id);
        sb.append("<h3>Gate for <code>").append(esc(id)).append("</code> (window ").append(esc(Durations.format(gateWindow))).append(")</h3>\n");
        if (!(g instanceof Gate.Result res)) {
            sb.append("<p class=\"gate-error\">The gate cannot judge this migration: ").append(esc(g)).append("</p>\n");
            return;
        }
        sb.append("<p class=\"verdict ").append(res.safe() ? "safe" : "unsafe").append("\">")
            .append(res.safe() ? "Dropping " + esc(res.migration().isTableRename() ? Gate.subject(res.migration()) : res.migration().from()) + " is safe on this evidence."
                : "Not safe to drop " + esc(res.migration().isTableRename() ? Gate.subject(res.migration()) : res.migration().from()) + ": " + res.unmet().size() + " condition(s) unmet.")
            .append(" Window from ").append(esc(res.windowStart())).append(" to ").append(esc(res.now())).append(".</p>\n")
            .append("<table class=\"gate\">\n<thead><tr><th>condition</th><th>state</th><th>evidence</th></tr></thead>\n<tbody>\n");
        for (Gate.Condition c : res.conditions()) {
            String state = c.status().name().toLowerCase(Locale.ROOT).replace('_', '-');
            sb.append("<tr class=\"condition\" data-id=\"").append(esc(c.id())).append("\" data-state=\"").append(state).append("\"><td><b>")
                .append(esc(c.id())).append("</b>: ").append(esc(c.title())).append("</td><td class=\"state ").append(state).append("\">")
                .append(esc(c.status().label())).append("</td><td><ul>");
            for (String e : c.evidence()) sb.append("<li>").append(esc(e)).append("</li>");
            sb.append("</ul></td></tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
        if (!res.notes().isEmpty()) {
            sb.append("<ul class=\"notes\">");
            for (String n : res.notes()) sb.append("<li>").append(esc(n)).append("</li>");
            sb.append("</ul>\n");
        }
    }

    private void instances() {
        Instant now = fleet.now();
        sb.append("<section id=\"instances\">\n<h2>Instances</h2>\n");
        if (fleet.instances().isEmpty()) {
            sb.append("<p>No instance has reported to this database.</p>\n</section>\n");
            return;
        }
        sb.append("<table class=\"instances\">\n<thead><tr><th>instance</th><th>application</th><th>host</th><th>pid</th><th>state</th>"
            + "<th>started</th><th>last heartbeat</th><th>stopped</th><th>phases</th></tr></thead>\n<tbody>\n");
        List<Fleet.Instance> sorted = new ArrayList<>(fleet.instances());
        sorted.sort(Comparator.comparing(Fleet.Instance::lastSeen).reversed());
        for (Fleet.Instance i : sorted) {
            String state = i.state(now, null).label();
            List<String> phases = new ArrayList<>();
            i.phases().forEach((k, v) -> phases.add(k + ": " + v));
            sb.append("<tr class=\"instance\" data-id=\"").append(esc(i.instanceId())).append("\" data-state=\"").append(state)
                .append("\" data-heartbeat=\"").append(esc(i.lastSeen())).append("\"><td><code>").append(esc(i.instanceId()))
                .append("</code></td><td>").append(esc(i.appName())).append("</td><td>").append(esc(i.host())).append("</td><td>")
                .append(i.pid()).append("</td><td class=\"state ").append(state).append("\">").append(state).append("</td><td>")
                .append(esc(i.startedAt())).append("</td><td class=\"heartbeat\">").append(esc(i.lastSeen()))
                .append(i.lastSeen().isAfter(now) ? "" : " (" + esc(Durations.format(Duration.between(i.lastSeen(), now))) + " ago)")
                .append("</td><td>").append(esc(i.stoppedAt() == null ? "-" : i.stoppedAt())).append("</td><td>")
                .append(esc(String.join(", ", phases))).append("</td></tr>\n");
        }
        sb.append("</tbody>\n</table>\n</section>\n");
    }

    // ------------------------------------------------------------------ helpers

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) s += x;
        return s;
    }

    private static String num(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    /** Text and attribute escaping; characters XML forbids become U+FFFD so a parser always reads the page. */
    static String esc(Object o) {
        if (o == null) return "-";
        String s = o.toString();
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' || ch == '\uFFFE' || ch == '\uFFFF' ? '\uFFFD' : ch);
            }
        }
        return b.toString();
    }

    private static final String CSS = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
        code { font: 12px ui-monospace, monospace; }
        table { border-collapse: collapse; margin: .5em 0 1.5em; }
        th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
        td.count { text-align: right; }
        td ul, ul.notes { margin: 0; padding-left: 1.2em; }
        .note { color: #555; }
        svg.chart text { font: 11px system-ui, sans-serif; fill: #222; }
        .seg.rewritten { fill: #4c9a5e; } .seg.passed_through { fill: #e08a1e; } .seg.unanalysed { fill: #c8423b; }
        .axis { stroke: #888; }
        .state.met { color: #2d7a3e; font-weight: bold; } .state.unmet { color: #b3261e; font-weight: bold; }
        .state.not-checked { color: #8a6d00; font-weight: bold; }
        .verdict.safe { color: #2d7a3e; } .verdict.unsafe { color: #b3261e; }
        section.column { border-top: 2px solid #ddd; margin-top: 2em; }
        """;
}
