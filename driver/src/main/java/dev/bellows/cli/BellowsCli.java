package dev.bellows.cli;

import dev.bellows.redact.Redact;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bellows} command: one subcommand per class in this package. Exit codes: 0 success (a gate
 * that holds), 1 a gate that does not hold or a refused action, 2 an error (bad URL, unknown id, bad input).
 */
@Command(name = "bellows", mixinStandardHelpOptions = true, versionProvider = BellowsCli.Version.class,
    description = "Zero-downtime column renames and type changes for PostgreSQL.",
    subcommands = {
        CommandLine.HelpCommand.class,
        FlagsCommand.class,
        PlanCommand.class,
        BackfillCommand.class,
        CheckCommand.class,
        InitCommand.class,
        StatusCommand.class,
        ReportCommand.class,
        GateCommand.class,
    })
public final class BellowsCli implements Callable<Integer> {
    /** Exit code for errors: bad arguments, unreachable database, unknown migration. */
    public static final int ERROR = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI without exiting; for tests and embedding. */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new BellowsCli());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("bellows: " + Redact.message(ex));
            return ERROR;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("bellows: " + Redact.text(ex.getMessage()));
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return ERROR;
        });
        return cl.execute(args);
    }

    @Override public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    /** The version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = BellowsCli.class.getPackage().getImplementationVersion();
            return new String[] {"bellows " + (v == null ? "dev" : v)};
        }
    }
}
