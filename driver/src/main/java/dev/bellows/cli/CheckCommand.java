package dev.bellows.cli;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.workflow.Checker;
import dev.bellows.workflow.WorkflowException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bellows check ID}: which captured statements Bellows can carry through every phase, checked by PostgreSQL. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Runs every captured statement that uses the migration's deprecated column through the rewriter in"
        + " each phase (expand, switch, contract) and has PostgreSQL check each rewritten form with PREPARE"
        + " (nothing is executed). Prints a coverage table and the statements Bellows cannot carry: exit 0 when"
        + " it carries all of them, 1 otherwise.")
public final class CheckCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin MigrationTarget target;

    @Parameters(index = "0", paramLabel = "ID", description = "The migration id (from the rules file).")
    String id;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--from-pg-stat-statements", required = true,
            description = "Check the statements pg_stat_statements recorded for this database.")
        boolean pgStatStatements;

        @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "Check the statements of a file, separated by semicolons (JDBC ? or $1 parameters).")
        Path file;
    }

    @Override public Integer call() throws Exception {
        if (target.several()) return Fanout.run(spec, target.urls, target.targets);
        PrintWriter out = spec.commandLine().getOut();
        RuleSet rules = target.ruleSet();
        Migration m = MigrationTarget.migration(rules, id);
        List<Checker.Input> inputs = null;
        if (source.file != null) {
            try {
                inputs = Checker.fromScript(Files.readString(source.file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new WorkflowException("cannot read " + source.file + ": " + e.getMessage(), e);
            }
        }
        Checker.Report report;
        try (Connection c = target.connect()) {
            if (inputs == null) inputs = Checker.fromPgStatStatements(c);
            report = Checker.run(c, rules, m, inputs);
        }
        report.print(out);
        out.flush();
        return report.ok() ? 0 : 1;
    }
}
