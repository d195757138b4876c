package dev.bellows.cli;

import dev.bellows.usage.Durations;
import dev.bellows.usage.Fleet;
import dev.bellows.usage.HtmlReport;
import dev.bellows.usage.Report;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bellows report}: residual usage per deprecated column. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = {"Residual usage per deprecated column, as recorded by every instance: counts by kind (read, write)"
        + " and treatment (rewritten, passed_through, unanalysed), last use, and the top statements with the"
        + " applications and call sites that run them.",
        "Exit codes: 0 done, 2 error (bad URL, unknown migration, bad option)."})
public final class ReportCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin UsageDatabase db;

    @Option(names = "--migration", paramLabel = "ID", description = "Only this migration.")
    String migration;

    @Option(names = "--since", paramLabel = "DURATION",
        description = "Only statements used within this long, e.g. 7d, 12h, or `flag`: since the migration's flag last changed and"
            + " live instances followed it and flushed (a second plus one flush interval; needs --migration)"
            + " (default: everything kept, see bellows.usage.retention). Counts are uses in the period, by hour or day.")
    String since;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table",
        description = "table, json, markdown or html (default: ${DEFAULT-VALUE}). The JSON is stable; see docs/cli.md. html is one"
            + " self-contained page: charts, statements, call sites, the gate's conditions (window " + GateCommand.DEFAULT_WINDOW
            + ") and the instances.")
    String format;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report to FILE instead of standard output.")
    java.nio.file.Path outFile;

    @Option(names = "--top", paramLabel = "N", defaultValue = "10", description = "Statements per column (default: ${DEFAULT-VALUE}).")
    int top;

    /**
     * Since the migration's flag last changed, plus the time live instances take to follow it (a second) and to
     * flush what they recorded before (one flush interval): usage rows carry the time of the flush that wrote
     * them, so a line last seen before then may be traffic from before the change. Database time.
     */
    private static Duration sinceFlag(Connection c, String id, PrintWriter err) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("/* bellows:report */ SELECT f.updated_at,"
            + " f.updated_at + interval '1 second' + coalesce((SELECT max(flush_interval_ms) FROM bellows.instances"
            + " WHERE stopped_at IS NULL), 0) * interval '1 millisecond',"
            + " (extract(epoch FROM now() - (f.updated_at + interval '1 second' + coalesce((SELECT max(flush_interval_ms)"
            + " FROM bellows.instances WHERE stopped_at IS NULL), 0) * interval '1 millisecond')) * 1000)::bigint"
            + " FROM bellows.flags f WHERE f.migration_id = ?")) {
            ps.setString(1, id);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    long ms = rs.getLong(3);
                    if (ms <= 0) {
                        err.println("bellows report: the flag of " + id + " changed at " + rs.getObject(1, java.time.OffsetDateTime.class)
                            + "; what instances flush before " + rs.getObject(2, java.time.OffsetDateTime.class) + " may be from before"
                            + " the change, so nothing is shown yet: run this again after that");
                        err.flush();
                    }
                    return Duration.ofMillis(Math.max(0, ms));
                }
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) throw e;
        }
        throw new IllegalArgumentException("--since flag: migration " + id + " has no flag (bellows flags set has not been run for it)");
    }

    @Override public Integer call() {
        if (db.several()) return Fanout.run(spec, db.urls, db.targets);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            String f = format.toLowerCase(java.util.Locale.ROOT);
            if (!f.equals("table") && !f.equals("json") && !f.equals("markdown") && !f.equals("md") && !f.equals("html")) {
                throw new IllegalArgumentException("--format must be table, json, markdown or html, got '" + format + "'");
            }
            if (top < 0) throw new IllegalArgumentException("--top must not be negative");
            boolean sinceFlag = "flag".equalsIgnoreCase(since == null ? "" : since.trim());
            if (sinceFlag && migration == null) throw new IllegalArgumentException("--since flag needs --migration ID");
            Duration d = since == null || sinceFlag ? null : Durations.parse(since);
            try (Connection c = db.open("report")) {
                if (sinceFlag) d = sinceFlag(c, migration, err);
                if (migration != null && Fleet.known(c, null).get(migration) == null
                    && Fleet.usage(c, migration, null).isEmpty()) {
                    err.println("bellows report: unknown migration id '" + migration + "' (no instance has reported it)");
                    err.flush();
                    return BellowsCli.ERROR;
                }
                Report r = Report.build(c, migration, d, top);
                String text = switch (f) {
                    case "json" -> r.json() + "\n";
                    case "markdown", "md" -> r.markdown();
                    case "html" -> HtmlReport.render(c, r, Durations.parse(GateCommand.DEFAULT_WINDOW));
                    default -> r.table();
                };
                if (f.equals("table") || f.equals("markdown") || f.equals("md")) {
                    // shadow reads (bellows.shadow): what the switch gate counts, over the same period
                    java.util.List<String> shadow = dev.bellows.usage.ShadowGate.reportLines(c, migration,
                        d == null ? Duration.ofDays(36_500) : d);
                    if (!shadow.isEmpty()) text = text + "\n" + String.join("\n", shadow) + "\n";
                }
                if (outFile == null) {
                    out.print(text);
                    out.flush();
                } else {
                    java.nio.file.Files.writeString(outFile, text, java.nio.charset.StandardCharsets.UTF_8);
                }
                return 0;
            }
        } catch (java.io.IOException e) {
            err.println("bellows report: cannot write " + outFile + ": " + e);
            err.flush();
            return BellowsCli.ERROR;
        } catch (IllegalArgumentException | SQLException e) {
            err.println("bellows report: " + e.getMessage());
            err.flush();
            return BellowsCli.ERROR;
        }
    }
}
