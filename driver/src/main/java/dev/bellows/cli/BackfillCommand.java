package dev.bellows.cli;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.workflow.Backfill;
import dev.bellows.workflow.DurationText;
import dev.bellows.workflow.ProgressBar;
import java.io.PrintWriter;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bellows backfill ID}: a resumable, throttled, keyset-batched {@code to = up(from)}. */
@Command(name = "backfill", mixinStandardHelpOptions = true,
    description = "Fills the new column (to = up(from)) in primary-key batches, each its own short transaction with a"
        + " lock_timeout and retries. Resumable: killed and run again, it continues after the last committed"
        + " batch. Refuses to start unless every live instance duplicates its writes (phase expand or later),"
        + " unless --force. Ends by counting rows that still diverge: exit 0 when none, 1 when some (or when it"
        + " refused).")
public final class BackfillCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin MigrationTarget target;

    @Parameters(index = "0", paramLabel = "ID", description = "The migration id (from the rules file).")
    String id;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1000", description = "Keys per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--pause", paramLabel = "TIME", defaultValue = "20ms",
        description = "Pause between batches, e.g. 20ms, 1s, 0 (default: ${DEFAULT-VALUE}).")
    String pause;

    @Option(names = "--force", description = "Start even if some live instance is not in phase expand or later.")
    boolean force;

    @Option(names = "--restart", description = "Start a new pass from the first key instead of resuming.")
    boolean restart;

    @Option(names = "--lock-timeout", paramLabel = "TIME", defaultValue = "2s",
        description = "lock_timeout of each batch; a batch that times out is retried (default: ${DEFAULT-VALUE}).")
    String lockTimeout;

    @Option(names = "--retries", paramLabel = "N", defaultValue = "10",
        description = "Retries of a batch after a lock timeout, deadlock or serialization failure (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--live-window", paramLabel = "TIME",
        description = "An instance whose last heartbeat is older is not live (default: as bellows status counts it,"
            + " max(60 s, 3 flush intervals)).")
    String liveWindow;

    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
        description = "auto (a redrawn bar on a terminal, a line every 10 s otherwise), bar, lines or none.")
    String progress;

    @Override public Integer call() throws Exception {
        if (target.several()) return Fanout.run(spec, target.urls, target.targets);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RuleSet rules = target.ruleSet();
        Migration m = MigrationTarget.migration(rules, id);
        Duration p = DurationText.parse(pause, "--pause");
        Duration live = liveWindow == null ? null : DurationText.parse(liveWindow, "--live-window");
        boolean tty = switch (progress) {
            case "bar" -> true;
            case "lines", "none" -> false;
            case "auto" -> System.console() != null;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                "--progress must be auto, bar, lines or none, got '" + progress + "'");
        };
        ProgressBar bar = new ProgressBar(err, tty, 10_000);
        Backfill.Listener listener = progress.equals("none") ? new Backfill.Listener() {
            @Override public void message(String line) {
                err.println(line);
                err.flush();
            }
        } : bar;
        Thread main = Thread.currentThread();
        // Ctrl-C: stop between batches so the last message says where to resume (the database keeps every committed batch anyway)
        Thread hook = new Thread(() -> {
            main.interrupt();
            try {
                main.join(3000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "bellows-backfill-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Backfill.Result r;
        try (Connection c = target.connect()) {
            r = Backfill.run(c, m, new Backfill.Options(batch, p, force, restart, lockTimeout, retries, live), listener);
        } finally {
            bar.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down
            }
        }
        out.flush();
        return switch (r.outcome()) {
            case DONE -> 0;
            case DIVERGED, REFUSED, INTERRUPTED -> 1;
        };
    }
}
