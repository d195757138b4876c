package dev.bellows.cli;

import dev.bellows.usage.UsageSchema;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code bellows init}: creates the bellows schema and its usage tables (idempotent). */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = {"Creates the bellows schema and the tables usage recording writes (bellows.usage, bellows.instances,"
        + " bellows.migrations). Idempotent. Instances create them on first use too; run this once as a user with the"
        + " CREATE privilege when the application's user lacks it.",
        "Exit codes: 0 done, 2 error."})
public final class InitCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin UsageDatabase db;

    @Override public Integer call() {
        if (db.several()) return Fanout.run(spec, db.urls, db.targets);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Connection c = db.open("init")) {
            boolean existed = UsageSchema.exists(c);
            UsageSchema.ensure(c);
            // shadow reads' table too, so instances without the CREATE privilege can record them
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            dev.bellows.usage.ShadowRecorder.ensureSchema(c);
            c.commit();
            c.setAutoCommit(auto);
            out.println(existed ? "bellows schema already in place (bellows.usage, bellows.instances, bellows.migrations)"
                : "created schema bellows with bellows.usage, bellows.instances and bellows.migrations");
            out.flush();
            return 0;
        } catch (SQLException e) {
            err.println("bellows init: " + e.getMessage());
            err.flush();
            return BellowsCli.ERROR;
        }
    }
}
