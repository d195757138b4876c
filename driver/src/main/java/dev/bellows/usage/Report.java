package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bellows report}: residual usage per deprecated column, from the {@code bellows} schema: counts by kind and
 * treatment, last use, and the top statements (fingerprints) with their applications and call sites. Counts are
 * uses counted in the rollups ({@link Rollups}); {@code since} keeps the statements used at or after it and counts
 * the hours and days whose last use is at or after it.
 */
public final class Report {
    /** Counts of one kind and treatment. */
    public record Totals(String kind, String treatment, long count, Instant lastSeen) {
    }

    /** One application's use of a statement. */
    public record AppUse(String app, long count, Instant lastSeen, String callSite) {
    }

    /** One statement (fingerprint) with one kind and treatment; a null fingerprint counts overflowed uses. */
    public record StatementUse(String fingerprint, String kind, String treatment, long count, Instant firstSeen, Instant lastSeen,
                               List<AppUse> apps) {
    }

    /** Residual usage of one deprecated column. */
    public record ColumnUsage(String migrationId, String column, String replacement, long total, Instant lastSeen,
                              List<Totals> totals, List<StatementUse> statements, int statementsOmitted) {
    }

    private final Instant generatedAt;
    private final Instant since;
    private final List<ColumnUsage> columns;

    private Report(Instant generatedAt, Instant since, List<ColumnUsage> columns) {
        this.generatedAt = generatedAt;
        this.since = since;
        this.columns = columns;
    }

    public Instant generatedAt() { return generatedAt; }
    public Instant since() { return since; }
    public List<ColumnUsage> columns() { return columns; }

    /**
     * Builds the report. {@code migrationId} null means every migration (each known one is listed, used or not);
     * {@code since} null means all time; at most {@code top} statements per column.
     */
    public static Report build(Connection c, String migrationId, Duration since, int top) throws SQLException {
        Instant now = Fleet.dbNow(c);
        Instant from = since == null ? null : now.minus(since);
        Map<String, Migration> defs = new LinkedHashMap<>();
        for (Migration m : Fleet.migrations(c)) defs.put(m.id(), m);
        List<Fleet.Usage> rows = Fleet.usage(c, migrationId, from);
        // group: migration+column -> fingerprint+kind+treatment -> apps
        Map<String, List<Fleet.Usage>> byColumn = new LinkedHashMap<>();
        for (Migration m : defs.values()) {
            if (migrationId == null || migrationId.equals(m.id())) {
                // a table rename's uses are recorded against the old table itself
                byColumn.put(m.id() + "\u0000" + m.qualifiedTable() + (m.isTableRename() ? "" : "." + m.from()), new ArrayList<>());
            }
        }
        for (Fleet.Usage u : rows) byColumn.computeIfAbsent(u.migrationId() + "\u0000" + u.column(), k -> new ArrayList<>()).add(u);
        List<ColumnUsage> out = new ArrayList<>();
        for (Map.Entry<String, List<Fleet.Usage>> e : byColumn.entrySet()) {
            String[] k = e.getKey().split("\u0000", 2);
            Migration def = defs.get(k[0]);
            out.add(column(k[0], k[1], def == null ? null : def.isTableRename() ? def.qualifiedToTable() : def.to(), e.getValue(), top));
        }
        out.sort(Comparator.comparing(ColumnUsage::migrationId).thenComparing(ColumnUsage::column));
        return new Report(now, from, List.copyOf(out));
    }

    private static ColumnUsage column(String id, String column, String replacement, List<Fleet.Usage> rows, int top) {
        Map<String, long[]> totals = new LinkedHashMap<>();
        Map<String, Instant> totalsLast = new LinkedHashMap<>();
        for (String kind : List.of("read", "write")) {
            for (String t : List.of("rewritten", "passed_through", "unanalysed")) totals.put(kind + " " + t, new long[1]);
        }
        Map<String, List<Fleet.Usage>> stmts = new LinkedHashMap<>();
        long total = 0;
        Instant last = null;
        for (Fleet.Usage u : rows) {
            String kt = u.kind() + " " + u.treatment();
            totals.computeIfAbsent(kt, x -> new long[1])[0] += u.count();
            totalsLast.merge(kt, u.lastSeen(), (a, b) -> a.isAfter(b) ? a : b);
            total += u.count();
            if (last == null || u.lastSeen().isAfter(last)) last = u.lastSeen();
            stmts.computeIfAbsent(u.fingerprint() + "\u0000" + kt, x -> new ArrayList<>()).add(u);
        }
        List<Totals> t = new ArrayList<>();
        totals.forEach((kt, n) -> {
            if (n[0] > 0) {
                String[] p = kt.split(" ");
                t.add(new Totals(p[0], p[1], n[0], totalsLast.get(kt)));
            }
        });
        List<StatementUse> s = new ArrayList<>();
        for (List<Fleet.Usage> g : stmts.values()) {
            Fleet.Usage f = g.get(0);
            long n = 0;
            Instant first = null;
            Instant lastSeen = null;
            List<AppUse> apps = new ArrayList<>();
            for (Fleet.Usage u : g) {
                n += u.count();
                if (first == null || u.firstSeen().isBefore(first)) first = u.firstSeen();
                if (lastSeen == null || u.lastSeen().isAfter(lastSeen)) lastSeen = u.lastSeen();
                apps.add(new AppUse(u.appName(), u.count(), u.lastSeen(), u.callSite()));
            }
            apps.sort(Comparator.comparingLong(AppUse::count).reversed().thenComparing(AppUse::app));
            s.add(new StatementUse(f.overflow() ? null : f.fingerprint(), f.kind(), f.treatment(), n, first, lastSeen, List.copyOf(apps)));
        }
        s.sort(Comparator.comparingLong(StatementUse::count).reversed().thenComparing(StatementUse::lastSeen, Comparator.reverseOrder()));
        int omitted = Math.max(0, s.size() - top);
        return new ColumnUsage(id, column, replacement, total, last, List.copyOf(t), List.copyOf(s.subList(0, Math.min(top, s.size()))), omitted);
    }

    // ------------------------------------------------------------------ rendering

    /** The stable JSON form documented in docs/cli.md. */
    public String json() {
        Json j = Json.pretty().beginObject()
            .member("generatedAt", generatedAt)
            .member("since", since)
            .name("columns").beginArray();
        for (ColumnUsage c : columns) {
            j.beginObject()
                .member("migration", c.migrationId())
                .member("column", c.column())
                .member("replacement", c.replacement())
                .member("total", c.total())
                .member("lastSeen", c.lastSeen())
                .name("byKindAndTreatment").beginArray();
            for (Totals t : c.totals()) {
                j.beginObject().member("kind", t.kind()).member("treatment", t.treatment()).member("count", t.count())
                    .member("lastSeen", t.lastSeen()).endObject();
            }
            j.endArray().name("statements").beginArray();
            for (StatementUse s : c.statements()) {
                j.beginObject()
                    .member("fingerprint", s.fingerprint())
                    .member("overflow", s.fingerprint() == null)
                    .member("kind", s.kind())
                    .member("treatment", s.treatment())
                    .member("count", s.count())
                    .member("firstSeen", s.firstSeen())
                    .member("lastSeen", s.lastSeen())
                    .name("apps").beginArray();
                for (AppUse a : s.apps()) {
                    j.beginObject().member("app", a.app()).member("count", a.count()).member("lastSeen", a.lastSeen())
                        .member("callSite", a.callSite()).endObject();
                }
                j.endArray().endObject();
            }
            j.endArray().member("statementsOmitted", c.statementsOmitted()).endObject();
        }
        return j.endArray().endObject().toString();
    }

    /** A readable text table. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append("Residual usage of deprecated columns").append(since == null ? " (all time)" : " since " + since)
            .append(", as of ").append(generatedAt).append('\n');
        if (columns.isEmpty()) sb.append("\nNo usage recorded").append(since == null ? "" : " in this period").append(".\n");
        for (ColumnUsage c : columns) {
            sb.append('\n').append(c.column()).append("  (migration ").append(c.migrationId())
                .append(c.replacement() == null ? "" : ", replaced by " + c.replacement()).append(")\n");
            if (c.total() == 0) {
                sb.append("  no use recorded").append(since == null ? "" : " since " + since).append('\n');
                continue;
            }
            sb.append("  ").append(c.total()).append(" uses, last ").append(ago(c.lastSeen())).append('\n');
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"KIND", "TREATMENT", "COUNT", "LAST SEEN"});
            for (Totals t : c.totals()) rows.add(new String[] {t.kind(), t.treatment(), Long.toString(t.count()), ago(t.lastSeen())});
            grid(sb, "  ", rows, 2);
            sb.append("  top statements:\n");
            int n = 0;
            for (StatementUse s : c.statements()) {
                n++;
                sb.append(String.format(Locale.ROOT, "  %2d. %s %s x%d, last %s%n", n, s.kind(), s.treatment(), s.count(), ago(s.lastSeen())));
                sb.append("      ").append(s.fingerprint() == null ? "(statements not kept: fingerprint cap reached)" : Gate.shorten(s.fingerprint(), 240)).append('\n');
                for (AppUse a : s.apps()) {
                    sb.append("      app ").append(a.app()).append(" x").append(a.count())
                        .append(a.callSite() == null ? "" : " at " + a.callSite()).append('\n');
                }
            }
            if (c.statementsOmitted() > 0) sb.append("  … and ").append(c.statementsOmitted()).append(" more statements (--top)\n");
        }
        return sb.toString();
    }

    /** GitHub-flavoured Markdown. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Residual usage of deprecated columns\n\n")
            .append(since == null ? "All time" : "Since " + since).append(", as of ").append(generatedAt).append(".\n");
        for (ColumnUsage c : columns) {
            sb.append("\n## `").append(c.column()).append("`\n\nMigration `").append(c.migrationId()).append('`')
                .append(c.replacement() == null ? "" : ", replaced by `" + c.replacement() + "`").append(". ");
            if (c.total() == 0) {
                sb.append("No use recorded.\n");
                continue;
            }
            sb.append(c.total()).append(" uses, last ").append(c.lastSeen()).append(".\n\n");
            sb.append("| kind | treatment | count | last seen |\n| --- | --- | ---: | --- |\n");
            for (Totals t : c.totals()) {
                sb.append("| ").append(t.kind()).append(" | ").append(t.treatment()).append(" | ").append(t.count())
                    .append(" | ").append(t.lastSeen()).append(" |\n");
            }
            sb.append("\n| # | statement | kind | treatment | count | last seen | applications (call site) |\n")
                .append("| ---: | --- | --- | --- | ---: | --- | --- |\n");
            int n = 0;
            for (StatementUse s : c.statements()) {
                n++;
                List<String> apps = new ArrayList<>();
                for (AppUse a : s.apps()) apps.add(md(a.app()) + " ×" + a.count() + (a.callSite() == null ? "" : " (`" + md(a.callSite()) + "`)"));
                sb.append("| ").append(n).append(" | ")
                    .append(s.fingerprint() == null ? "*(not kept: fingerprint cap reached)*" : "`" + md(Gate.shorten(s.fingerprint(), 240)) + "`")
                    .append(" | ").append(s.kind()).append(" | ").append(s.treatment()).append(" | ").append(s.count())
                    .append(" | ").append(s.lastSeen()).append(" | ").append(String.join("<br>", apps)).append(" |\n");
            }
            if (c.statementsOmitted() > 0) sb.append("\n… and ").append(c.statementsOmitted()).append(" more statements.\n");
        }
        return sb.toString();
    }

    private static String md(String s) {
        return s.replace("|", "\\|").replace("`", "'").replace("\n", " ");
    }

    private String ago(Instant t) {
        if (t == null) return "-";
        Duration d = Duration.between(t, generatedAt);
        return t + (d.isNegative() ? "" : " (" + Durations.format(d) + " ago)");
    }

    /** Left-aligned columns, numbers right-aligned. */
    static void grid(StringBuilder sb, String indent, List<String[]> rows, int gap) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], r[i] == null ? 1 : r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < cols; i++) {
                String v = r[i] == null ? "-" : r[i];
                boolean num = !v.isEmpty() && v.chars().allMatch(Character::isDigit);
                String cell = num ? " ".repeat(w[i] - v.length()) + v : v + " ".repeat(w[i] - v.length());
                line.append(cell);
                if (i < cols - 1) line.append(" ".repeat(gap));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
