package dev.bellows.cli;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.workflow.Plan;
import dev.bellows.workflow.PlanWriter;
import dev.bellows.workflow.Planner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bellows plan ID}: writes the migration's SQL files (each with its down script) from the live catalog. */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = "Writes the migration's SQL files from the live catalog and the rules: expand (new column, same"
        + " default), an optional sync trigger, mirror (twin indexes and constraints), NOT NULL after the"
        + " backfill, and contract (a guarded drop). Each file is idempotent and has its down script (or says it"
        + " is irreversible).")
public final class PlanCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin MigrationTarget target;

    @Parameters(index = "0", paramLabel = "ID", description = "The migration id (from the rules file).")
    String id;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write the files (default: bellows-plan/ID).")
    Path out;

    @Option(names = "--flyway", description = "Name the files V<n>__bellows_<id>_<step>.sql / U<n>__… for Flyway.")
    boolean flyway;

    @Option(names = "--flyway-version", paramLabel = "N",
        description = "First Flyway version (default: one more than the highest in --out and flyway_schema_history).")
    Integer flywayVersion;

    @Option(names = "--trigger", description = "Add a bidirectional sync trigger for writers that do not go through Bellows.")
    boolean trigger;

    @Option(names = "--lock-timeout", paramLabel = "TIME", defaultValue = "3s",
        description = "lock_timeout of the DDL statements (default: ${DEFAULT-VALUE}).")
    String lockTimeout;

    @Override public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (target.several()) {
            // the plan's files are one migration's steps, written once: run it against one database
            err.println("bellows plan: give one database (--url once); the plan it writes applies to every database of the same schema");
            return BellowsCli.ERROR;
        }
        RuleSet rules = target.ruleSet();
        Migration m = MigrationTarget.migration(rules, id);
        Path dir = out != null ? out : Path.of("bellows-plan", id);
        Plan plan;
        int version = 0;
        try (Connection c = target.connect()) {
            try {
                plan = Planner.plan(c, m, new Planner.Options(trigger, lockTimeout));
            } catch (dev.bellows.workflow.WorkflowException e) {
                throw new dev.bellows.workflow.WorkflowException(e.getMessage() + " (migration '" + m.id() + "' at "
                    + rules.source() + (m.line() > 0 ? ":" + m.line() : "") + ")");
            }
            if (flyway) version = flywayVersion != null ? flywayVersion : PlanWriter.nextFlywayVersion(dir, c, m.id());
        }
        if (flyway && version < 1) {
            err.println("bellows plan: --flyway-version must be at least 1");
            return BellowsCli.ERROR;
        }
        List<PlanWriter.Written> files = PlanWriter.write(plan, dir, version);
        if (m.isTableRename()) return printTableRename(o, m, dir, files, plan);
        o.println("Plan for " + m.id() + " (" + m.qualifiedTable() + "." + m.from() + " -> "
            + (m.isNotNull() ? "NOT NULL, default " + m.defaultValue() : m.isRemoval() ? "(removed), column removal" : m.to() + (m.isTypeChange() ? ", type change" : ", rename"))
            + ") written to " + dir + ":");
        int n = 0;
        boolean backfillShown = false;
        for (PlanWriter.Written w : files) {
            Plan.Step s = w.step();
            if (m.isNotNull() && s.name().equals("check")) {
                o.println(String.format("  %d. bellows flags set %s expand --url … --rules …   (NULL writes of %s get the default;"
                    + " wait until bellows status shows every instance in expand)", ++n, m.id(), m.from()));
            }
            if (m.isNotNull() && s.name().equals("not_null")) {
                o.println(String.format("  %d. bellows backfill %s --url … --rules …   (rows with %s NULL get the default), then"
                    + " bellows gate %s", ++n, m.id(), m.from(), m.id()));
                backfillShown = true;
            }
            if (m.isRemoval() && s.name().equals("contract")) {
                o.println(String.format("  %d. bellows flags set %s switch --url … --rules …   (reads of %s give its removed value,"
                    + " writes of it are dropped)", ++n, m.id(), m.from()));
                o.println(String.format("  %d. bellows gate %s --strict --url …   (names every statement and call site that still"
                    + " names %s); then bellows flags set %s contract", ++n, m.id(), m.from(), m.id()));
                backfillShown = true;
            }
            if (!backfillShown && (s.name().equals("not_null") || s.name().equals("contract"))) {
                o.println(String.format("  %d. bellows flags set %s expand --url … --rules …   (every instance dual-writes; wait"
                    + " until bellows status shows them all in expand)", ++n, m.id()));
                o.println(String.format("  %d. bellows backfill %s --url … --rules …   (once every instance is in expand)", ++n, m.id()));
                backfillShown = true;
            }
            if (s.name().equals("contract") && !m.isRemoval()) {
                o.println(String.format("  %d. bellows flags set %s switch; later, once bellows gate %s passes: bellows flags set %s contract",
                    ++n, m.id(), m.id(), m.id()));
            }
            if (s.name().equals("recreate_not_null")) n = printSwitchBack(o, n, m);
            o.println(String.format("  %d. %s  (%s)%s", ++n, w.up().getFileName(),
                s.transactional() ? "one transaction" : "outside a transaction", s.reversible() ? "" : ", irreversible"));
            o.println("       " + s.summary());
            o.println("       down: " + w.down().getFileName() + (s.reversible() ? "" : " (only refuses)"));
        }
        if (plan.step("recreate") != null && plan.step("recreate_not_null") == null) n = printSwitchBack(o, n, m);
        if (!plan.warnings().isEmpty()) {
            o.println();
            o.println("Warnings:");
            for (String w : plan.warnings()) o.println("  - " + w);
        }
        o.flush();
        return 0;
    }

    /** A table rename's steps: expand view, flags, the switch's rename, the gate, the bridge view's drop. */
    private static int printTableRename(PrintWriter o, Migration m, java.nio.file.Path dir, List<PlanWriter.Written> files, Plan plan) {
        o.println("Plan for " + m.id() + " (table " + m.qualifiedTable() + " -> " + m.toTable() + ", table rename) written to "
            + dir + ":");
        int n = 0;
        for (PlanWriter.Written w : files) {
            Plan.Step s = w.step();
            if (s.name().equals("switch")) {
                o.println(String.format("  %d. bellows flags set %s expand, then switch --url … --rules …   (wait until bellows"
                    + " status shows every instance in switch: Bellows then sends %s)", ++n, m.id(), m.toTable()));
            }
            if (s.name().equals("contract")) {
                o.println(String.format("  %d. bellows flags set %s contract; once bellows gate %s passes:", ++n, m.id(), m.id()));
            }
            o.println(String.format("  %d. %s  (one transaction)", ++n, w.up().getFileName()));
            o.println("       " + s.summary());
            o.println("       down: " + w.down().getFileName());
        }
        if (!plan.warnings().isEmpty()) {
            o.println();
            o.println("Notes:");
            for (String w : plan.warnings()) o.println("  - " + w);
        }
        o.flush();
        return 0;
    }

    /** The move back that follows the re-creation files (see docs/runbook.md, Rolling back). */
    private static int printSwitchBack(PrintWriter o, int n, Migration m) {
        o.println(String.format("  %d. bellows flags set %s switch --url … --rules …   (copies %s back into %s, waits for"
            + " the fleet, copies again)", n + 1, m.id(), m.to(), m.from()));
        return n + 1;
    }
}
