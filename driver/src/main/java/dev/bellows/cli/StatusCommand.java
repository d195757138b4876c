package dev.bellows.cli;

import dev.bellows.rules.Migration;
import dev.bellows.usage.Durations;
import dev.bellows.usage.Fleet;
import dev.bellows.usage.Status;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bellows status}: migrations, their effective phases across the fleet, live and silent instances. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Migrations and the effective phase each instance reports for them, and the instances: live,"
        + " silent (stopped reporting without an orderly shutdown) and stopped.",
        "Exit codes: 0 done, 2 error."})
public final class StatusCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin UsageDatabase db;

    @Option(names = "--silent-after", paramLabel = "DURATION",
        description = "An instance without a heartbeat for this long is silent (default: the longer of 60s and three of its flush intervals).")
    String silentAfter;

    @Option(names = "--all", description = "Also list instances that stopped in order (default: only counted).")
    boolean all;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Override public Integer call() {
        if (db.several()) return Fanout.run(spec, db.urls, db.targets);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Duration silent = silentAfter == null ? null : Durations.parse(silentAfter);
            if (!format.equalsIgnoreCase("table") && !format.equalsIgnoreCase("json")) {
                throw new IllegalArgumentException("--format must be table or json, got '" + format + "'");
            }
            try (Connection c = db.open("status")) {
                Fleet fleet = Fleet.load(c);
                List<Migration> migrations = Fleet.migrations(c);
                Status s = new Status(fleet, migrations, silent);
                out.print(format.equalsIgnoreCase("json") ? s.json() + "\n" : s.table(all));
                out.flush();
                return 0;
            }
        } catch (IllegalArgumentException | SQLException e) {
            err.println("bellows status: " + e.getMessage());
            err.flush();
            return BellowsCli.ERROR;
        }
    }
}
