package dev.bellows.cli;

import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;
import dev.bellows.usage.Durations;
import dev.bellows.usage.Gate;
import dev.bellows.usage.ShadowGate;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bellows gate ID}: exit 0 only when dropping the migration's old column is safe. */
@Command(name = "gate", mixinStandardHelpOptions = true,
    description = {"Decides on evidence whether dropping a migration's old column is safe: usage tracking covered the"
        + " window; no instance that reported in it went silent; no use of the old column passed through unrewritten or"
        + " unanalysed; where pg_stat_statements is installed, no client bypassing Bellows named it; every row has"
        + " to = up(from); nothing in the schema depends on it; with --strict, no statement names it at all.",
        "Exit codes: 0 safe, 1 not safe (each unmet condition is listed with its evidence), 2 error (bad URL, unknown id)."})
public final class GateCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin UsageDatabase db;

    /** The gate's window unless --window says otherwise; the HTML report judges the gate over it too. */
    static final String DEFAULT_WINDOW = "8d";

    @Parameters(index = "0", paramLabel = "ID", description = "The migration id.")
    String id;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = DEFAULT_WINDOW,
        description = "How far back the evidence must reach (default: ${DEFAULT-VALUE}, so a weekly job has had its chance).")
    String window;

    @Option(names = "--strict", description = "Also refuse while any statement names the old column, even where Bellows rewrote it.")
    boolean strict;

    @Option(names = "--rules", paramLabel = "FILE",
        description = "Rules file (a path or classpath:name.yaml) for the migration's definition (default: as instances reported it).")
    String rules;

    @Option(names = "--silent-after", paramLabel = "DURATION",
        description = "An instance without a heartbeat for this long is silent (default: the longer of 60s and three of its flush intervals).")
    String silentAfter;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--for", paramLabel = "PHASE", defaultValue = "contract",
        description = "contract (default): is dropping the old column safe; switch: did shadow reads (bellows.shadow)"
            + " show that reads through the new column return what the old one returns.")
    String forPhase;

    @Option(names = "--min-shadowed", paramLabel = "N", defaultValue = "" + ShadowGate.DEFAULT_MIN_SHADOWED,
        description = "With --for switch: reads that must have been shadowed in the window (default: ${DEFAULT-VALUE}).")
    long minShadowed;

    @Override public Integer call() {
        if (db.several()) return Fanout.run(spec, db.urls, db.targets);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Duration w = Durations.parse(window);
            Duration silent = silentAfter == null ? null : Durations.parse(silentAfter);
            if (!format.equalsIgnoreCase("text") && !format.equalsIgnoreCase("json")) {
                throw new IllegalArgumentException("--format must be text or json, got '" + format + "'");
            }
            if (forPhase.equalsIgnoreCase("switch")) {
                if (minShadowed < 1) throw new IllegalArgumentException("--min-shadowed must be at least 1, got " + minShadowed);
                try (Connection c = db.open("gate")) {
                    ShadowGate.Result r = ShadowGate.evaluate(c, id, w, minShadowed);
                    out.print(format.equalsIgnoreCase("json") ? ShadowGate.json(r) + "\n" : ShadowGate.text(r));
                    out.flush();
                    return r.green() ? 0 : 1;
                }
            }
            if (!forPhase.equalsIgnoreCase("contract")) {
                throw new IllegalArgumentException("--for must be contract or switch, got '" + forPhase + "'");
            }
            RuleSet ruleSet = null;
            if (rules != null) {
                try {
                    ruleSet = RulesFile.load(rules, null);
                } catch (RulesException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
            }
            try (Connection c = db.open("gate")) {
                Gate.Result r = Gate.evaluate(c, id, new Gate.Options(w, strict, silent, ruleSet));
                out.print(format.equalsIgnoreCase("json") ? GateOutput.json(r) + "\n" : GateOutput.text(r));
                out.flush();
                return r.safe() ? 0 : 1;
            }
        } catch (Gate.GateException | IllegalArgumentException | SQLException e) {
            err.println("bellows gate: " + e.getMessage());
            err.flush();
            return BellowsCli.ERROR;
        }
    }
}
