package dev.bellows.sample;

import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine;

/**
 * Each step of the safe migration as one small adapter. Where this build's {@code bellows} CLI has the command,
 * the step runs it in-process through {@link BellowsCli#run(String...)}, printing the command line and its
 * output; where it does not, the step says so and does the same job itself with the driver's API (a fallback),
 * so the demo runs end to end either way. {@link #modes()} tells which steps used which.
 */
final class Steps {
    private final Timeline timeline;
    private final Settings settings;
    private final Database db;
    private final Path rulesFile;
    private final RuleSet rules;
    private final List<Instance> fleet;
    private final UsageTap tap;
    private final Map<String, String> modes = new LinkedHashMap<>();
    /** Phases set by the fallback, applied to instances that start later too. */
    private final Map<String, Phase> fallbackPhases = new ConcurrentHashMap<>();

    Steps(Timeline timeline, Settings settings, Database db, Path rulesFile, RuleSet rules, List<Instance> fleet, UsageTap tap) {
        this.timeline = timeline;
        this.settings = settings;
        this.db = db;
        this.rulesFile = rulesFile;
        this.rules = rules;
        this.fleet = fleet;
        this.tap = tap;
    }

    /** Which steps ran the real CLI ("cli") and which the demo's own fallback ("fallback"). */
    Map<String, String> modes() { return modes; }

    /** Whether this build's CLI has the (sub)command, e.g. {@code has("flags", "set")}. */
    static boolean has(String... path) {
        CommandLine cl = new CommandLine(new BellowsCli());
        for (String p : path) {
            cl = cl.getSubcommands().get(p);
            if (cl == null) return false;
        }
        return true;
    }

    /** Whether the (sub)command at {@code path} has the option {@code name}. */
    static boolean option(String name, String... path) {
        CommandLine cl = new CommandLine(new BellowsCli());
        for (String p : path) {
            cl = cl.getSubcommands().get(p);
            if (cl == null) return false;
        }
        return cl.getCommandSpec().findOption(name) != null;
    }

    private boolean useCli(String step, String... path) {
        boolean cli = settings.preferCli() && has(path);
        modes.merge(step, cli ? "cli" : "fallback", (a, b) -> a.equals(b) ? a : "mixed");
        return cli;
    }

    /** Runs {@code bellows args...} in-process, its output indented under the command line; returns the exit code. */
    int cli(String... args) {
        return run(args).exitCode();
    }

    /** The exit code of one CLI run, and what it printed. */
    record CliRun(int exitCode, String output) {
    }

    /** Like {@link #cli}, also keeping what the command printed. */
    CliRun run(String... args) {
        timeline.command("bellows " + String.join(" ", displayArgs(args)));
        PrintStream outBefore = System.out;
        PrintStream errBefore = System.err;
        java.io.ByteArrayOutputStream copy = new java.io.ByteArrayOutputStream();
        PrintStream indented = timeline.indented();
        PrintStream tee = new PrintStream(new java.io.OutputStream() {
            @Override public void write(int b) {
                indented.write(b);
                copy.write(b);
            }

            @Override public void write(byte[] b, int off, int len) {
                indented.write(b, off, len);
                copy.write(b, off, len);
            }
        }, true, java.nio.charset.StandardCharsets.UTF_8);
        System.setOut(tee);
        System.setErr(tee);
        try {
            int rc = BellowsCli.run(args);
            return new CliRun(rc, copy.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            tee.flush();
            indented.close();
            System.setOut(outBefore);
            System.setErr(errBefore);
        }
    }

    // Credentials stay out of the printed command line.
    private List<String> displayArgs(String[] args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            if (a.equals(db.cliUrl())) out.add("\"" + db.url() + "?user=...\"");
            else out.add(a.contains(" ") ? "\"" + a + "\"" : a);
        }
        return out;
    }

    private String url() { return db.cliUrl(); }

    // ------------------------------------------------------------------ bellows init

    void init() {
        if (useCli("init", "init")) {
            int rc = cli("init", "--url", url());
            if (rc != 0) throw new IllegalStateException("bellows init failed with exit code " + rc);
        } else {
            timeline.say("(this build's CLI has no `bellows init`; the driver creates the bellows schema on first use)");
        }
    }

    // ------------------------------------------------------------------ bellows flags set

    /** Moves a migration to {@code phase} across the fleet and waits until every running instance follows. */
    void flagsSet(String id, Phase phase, String reason) throws InterruptedException {
        long start = System.nanoTime();
        if (useCli("flags set", "flags", "set")) {
            List<String> args = new ArrayList<>(List.of("flags", "set", id, phase.label(), "--url", url(), "--rules",
                rulesFile.toString(), "--reason", reason));
            if (phase == Phase.CONTRACT) {
                // flags set asks `bellows gate` before contract. With no way to hand it the demo's window it would use
                // the production default (8 days), which a demo that runs for a minute cannot satisfy.
                if (option("--window", "flags", "set")) {
                    args.addAll(List.of("--window", settings.windowArg()));
                } else {
                    timeline.say("before contract, `flags set` checks `bellows gate " + id + "` with its default window"
                        + " (8 days), which a one-minute demo cannot meet; the gate with the demo's " + settings.windowArg()
                        + " window was green above, so the demo passes --force (the flag history records it as forced)");
                    args.add("--force");
                }
            }
            int rc = cli(args.toArray(String[]::new));
        } else {
            timeline.say("(fallback: this build's CLI has no `bellows flags set`; the demo calls BellowsRuntime.setPhase(\""
                + id + "\", " + phase + ") on each running instance)");
            fallbackPhases.put(id, phase);
            for (Instance i : fleet) applyFallbackPhases(i);
        }
        awaitPhase(id, phase, start);
    }

    /** Gives an instance started later the phases the fallback set (the real flags come from the database). */
    void applyFallbackPhases(Instance instance) {
        BellowsRuntime rt = instance.runtime();
        if (rt == null) return;
        fallbackPhases.forEach(rt::setPhase);
    }

    private void awaitPhase(String id, Phase phase, long start) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            List<String> behind = new ArrayList<>();
            for (Instance i : fleet) {
                BellowsRuntime rt = i.runtime();
                if (rt != null && rt.rules().get(id).phase() != phase) behind.add(i.name());
            }
            if (behind.isEmpty()) {
                timeline.say(String.format(Locale.ROOT, "every running instance (%d) is in %s for %s, %d ms after the change",
                    fleet.size(), phase.label(), id, (System.nanoTime() - start) / 1_000_000));
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("instances " + behind + " did not follow " + id + " -> " + phase.label() + " within 10 s");
            }
            Thread.sleep(20);
        }
    }

    // ------------------------------------------------------------------ bellows backfill

    /** Copies up(from) into every row's new column, in keyset batches, while the load runs. */
    void backfill(String id) throws SQLException, InterruptedException {
        if (useCli("backfill", "backfill")) {
            String[] args = {"backfill", id, "--url", url(), "--rules", rulesFile.toString(), "--batch", Integer.toString(settings.batch())};
            CliRun run = run(args);
            for (int attempt = 1; run.exitCode() == 1 && run.output().contains("refusing to backfill") && attempt <= 5; attempt++) {
                // Refused: some instance's last heartbeat still shows the phase before expand. Heartbeats come with
                // each usage flush (every 500 ms here), so the next one will show expand.
                timeline.say("(the refusal names an instance whose last heartbeat predates its move to expand;"
                    + " the next heartbeat will show it, so the demo asks again in 1 s)");
                Thread.sleep(1000);
                run = run(args);
            }
            int rc = run.exitCode();
            if (rc != 0) throw new IllegalStateException("bellows backfill " + id + " exited with " + rc);
            return;
        }
        Migration m = rules.get(id);
        timeline.say("(fallback: this build's CLI has no `bellows backfill`; the demo runs keyset batches of "
            + settings.batch() + " rows itself:");
        String up = m.isTypeChange() ? "(" + m.up() + ")" : m.from();
        String update = "UPDATE " + m.table() + " SET " + m.to() + " = " + up + " WHERE id > ? AND id <= ? AND "
            + m.to() + " IS DISTINCT FROM " + up;
        timeline.say("  " + update + ")");
        long total = db.count("SELECT count(*) FROM " + m.table());
        long[] done = {0};
        long started = System.nanoTime();
        timeline.activity(() -> {
            double secs = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
            return String.format(Locale.ROOT, "backfill %s %s %d/%d rows, %.0f rows/s", m.table(),
                Timeline.bar(done[0] / (double) Math.max(1, total)), done[0], total, done[0] / secs);
        });
        long updated = 0;
        try (Connection c = db.connect();
             PreparedStatement next = c.prepareStatement("SELECT max(id), count(*) FROM (SELECT id FROM " + m.table()
                 + " WHERE id > ? ORDER BY id LIMIT ?) b");
             PreparedStatement ps = c.prepareStatement(update)) {
            try (var s = c.createStatement()) {
                s.execute("SET lock_timeout = '2s'");
            }
            long after = 0;
            while (true) {
                next.setLong(1, after);
                next.setInt(2, settings.batch());
                long upTo;
                long n;
                try (ResultSet rs = next.executeQuery()) {
                    rs.next();
                    upTo = rs.getLong(1);
                    n = rs.getLong(2);
                }
                if (n == 0) break;
                ps.setLong(1, after);
                ps.setLong(2, upTo);
                updated += ps.executeUpdate();
                after = upTo;
                done[0] = Math.min(total, done[0] + n);
                Thread.sleep(5); // a breath between batches for the live load
            }
        } finally {
            timeline.activity(null);
        }
        long diverged = db.count("SELECT count(*) FROM " + m.table() + " WHERE " + m.to() + " IS DISTINCT FROM " + up);
        timeline.say(String.format(Locale.ROOT, "backfill of %s done: %d rows scanned, %d updated in %.1f s; rows where %s <> up(%s): %d",
            m.table(), done[0], updated, (System.nanoTime() - started) / 1e9, m.to(), m.from(), diverged));
    }

    // ------------------------------------------------------------------ bellows gate

    /** Whether dropping the old column is safe now; prints the evidence either way. */
    boolean gate(String id, boolean strict) throws SQLException {
        if (useCli(strict ? "gate --strict" : "gate", "gate")) {
            List<String> args = new ArrayList<>(List.of("gate", id, "--url", url(), "--rules", rulesFile.toString(),
                "--window", settings.windowArg()));
            if (strict) args.add("--strict");
            int rc = cli(args.toArray(String[]::new));
            Migration m = rules.get(id);
            if (rc == BellowsCli.ERROR && m.from() != null && !db.hasColumn(m.table(), m.from())) {
                // This build's gate answers only while the old column exists. Whether any code still names it (the
                // --strict question) matters after the drop too: it decides when the rule can be removed.
                modes.put("gate after the drop", "fallback");
                timeline.say("(`bellows gate` in this build stops with exit 2 once " + m.from() + " is dropped; the demo"
                    + " answers the same question from the usage facts it received from Bellows:)");
                return fallbackGate(id, strict);
            }
            if (rc == BellowsCli.ERROR) throw new IllegalStateException("bellows gate " + id + " failed with exit code " + rc);
            timeline.say("gate " + id + (strict ? " --strict" : "") + ": " + (rc == 0 ? "GREEN (exit 0)" : "RED (exit " + rc + ")"));
            return rc == 0;
        }
        timeline.say("(fallback: this build's CLI has no `bellows gate`; the demo checks the same evidence from its own usage"
            + " records and the catalog)");
        return fallbackGate(id, strict);
    }

    private boolean fallbackGate(String id, boolean strict) throws SQLException {
        Migration m = rules.get(id);
        long now = System.currentTimeMillis();
        long since = now - settings.window().toMillis();
        List<String> unmet = new ArrayList<>();
        if (tap.started() > since) {
            unmet.add(String.format(Locale.ROOT, "usage has been recorded for %.1f s only, less than the %s window",
                (now - tap.started()) / 1000.0, settings.windowArg()));
        }
        long physical = 0;
        long legacyNamed = 0;
        for (Map.Entry<UsageTap.Key, UsageTap.Entry> e : tap.entries().entrySet()) {
            UsageTap.Key k = e.getKey();
            if (!k.migration().equals(id) || e.getValue().lastSeen.get() < since) continue;
            if (k.treatment() != UsageFact.Treatment.REWRITTEN) physical++;
            else legacyNamed++;
        }
        if (physical > 0) {
            unmet.add(physical + " statement(s) read or wrote " + m.from() + " directly (not rewritten) within the window;"
                + " see the report");
        }
        boolean both = db.hasColumn(m.table(), m.from()) && db.hasColumn(m.table(), m.to());
        if (both) {
            String up = m.isTypeChange() ? "(" + m.up() + ")" : m.from();
            long diverged = db.count("SELECT count(*) FROM " + m.table() + " WHERE " + m.to() + " IS DISTINCT FROM " + up);
            if (diverged > 0) unmet.add(diverged + " row(s) have " + m.to() + " <> up(" + m.from() + "): the backfill is incomplete");
            long deps = db.count("SELECT count(*) FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid"
                + " AND a.attnum = d.refobjsubid WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = '"
                + m.table() + "'::regclass AND a.attname = '" + m.from() + "' AND d.classid <> 'pg_attrdef'::regclass"
                + " AND d.deptype IN ('n', 'a')");
            if (deps > 0) unmet.add(deps + " database object(s) (view, index, constraint, ...) depend on " + m.from());
        }
        if (strict && legacyNamed > 0) {
            unmet.add("--strict: " + legacyNamed + " statement(s) still name " + m.from() + " within the window"
                + " (Bellows maps them; the code has not moved)");
        }
        String label = "gate " + id + (strict ? " --strict" : "") + " (window " + settings.windowArg() + ")";
        if (unmet.isEmpty()) {
            timeline.say(label + ": GREEN: no physical use of " + m.from() + " in the window"
                + (strict ? ", and no statement names it any more" : "") + (both ? "; every row has " + m.to() + " = up(" + m.from() + ")" : ""));
            return true;
        }
        timeline.say(label + ": RED");
        for (String u : unmet) timeline.say("  - " + u);
        return false;
    }

    // ------------------------------------------------------------------ bellows plan, check; applying a plan step

    /** Writes the migration's SQL files ({@code bellows plan ID --out DIR}), printing what the plan says. */
    void plan(String id, Path dir) {
        if (!useCli("plan", "plan")) throw new IllegalStateException("this build's CLI has no `bellows plan`");
        int rc = cli("plan", id, "--url", url(), "--rules", rulesFile.toString(), "--out", dir.toString());
        if (rc != 0) throw new IllegalStateException("bellows plan " + id + " exited with " + rc);
    }

    /** {@code bellows check ID --file F}: which of these statements Bellows carries in each phase; returns the exit code. */
    int check(String id, Path statements) {
        if (!useCli("check", "check")) throw new IllegalStateException("this build's CLI has no `bellows check`");
        return cli("check", id, "--url", url(), "--rules", rulesFile.toString(), "--file", statements.toString());
    }

    /**
     * Runs the plan's file for {@code step} ({@code *_expand.sql}, ...) as the migration tool would, on a plain pgjdbc
     * connection outside Bellows, printing its statements. A contract file may refuse (its guard) until every live
     * instance's heartbeat shows contract: then it is tried again, for up to 30 s.
     */
    void apply(Path dir, String step) throws Exception {
        Path file;
        try (var files = java.nio.file.Files.list(dir)) {
            file = files.filter(p -> p.getFileName().toString().endsWith("_" + step + ".sql")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + step + " file in " + dir));
        }
        // The statements that change the schema; the file's guards and bookkeeping are summed up in one line.
        List<String> shown = new ArrayList<>();
        int other = 0;
        for (String line : java.nio.file.Files.readAllLines(file)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("--")) continue;
            if (l.matches("(?i)(ALTER TABLE|CREATE VIEW|DROP VIEW|DROP INDEX|CREATE INDEX|GRANT|UPDATE) .*")) shown.add(l);
            else other++;
        }
        timeline.say("migration> " + file.getFileName() + " (from bellows plan; one transaction):");
        for (String l : shown) timeline.say("migration>   " + l);
        if (other > 0) timeline.say("migration>   (+ " + other + " lines of lock timeout, guards and bookkeeping)");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try (Connection c = db.connect()) {
                dev.bellows.workflow.ScriptRunner.run(c, file);
                return;
            } catch (SQLException e) {
                if (!String.valueOf(e.getMessage()).contains("not in contract") || System.nanoTime() > deadline) throw e;
                timeline.say("(the guard refused: " + e.getMessage().lines().findFirst().orElse("") + "; the next heartbeats"
                    + " will show contract, so the migration tool tries again in 1 s)");
                Thread.sleep(1000);
            }
        }
    }

    // ------------------------------------------------------------------ bellows flags history

    /** Who moved which migration when, and why (forced moves included). */
    void flagsHistory() {
        if (useCli("flags history", "flags", "history")) {
            int rc = cli("flags", "history", "--url", url());
            if (rc == BellowsCli.ERROR) throw new IllegalStateException("bellows flags history exited with " + rc);
        } else {
            timeline.say("(this build's CLI has no `bellows flags history`; the phases were set as shown above)");
        }
    }

    // ------------------------------------------------------------------ bellows status

    /** The fleet as Bellows sees it: instances, their phases, live or silent. */
    void status() {
        if (useCli("status", "status")) {
            int rc = cli("status", "--url", url());
            if (rc == BellowsCli.ERROR) throw new IllegalStateException("bellows status exited with " + rc);
            return;
        }
        timeline.say("(fallback: this build's CLI has no `bellows status`; the running instances as the demo knows them:)");
        for (Instance i : fleet) {
            BellowsRuntime rt = i.runtime();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-10s %-14s", i.name(), rt.appName()));
            for (Migration m : rt.rules().migrations()) sb.append(' ').append(m.id()).append('=').append(m.phase().label());
            timeline.say(sb.toString());
        }
    }

    // ------------------------------------------------------------------ bellows report

    void report(String id) {
        if (useCli("report", "report")) {
            int rc = cli("report", "--url", url(), "--migration", id);
            if (rc != 0) throw new IllegalStateException("bellows report exited with " + rc);
            return;
        }
        timeline.say("(fallback: this build's CLI has no `bellows report`; residual use of " + id + " as the demo recorded it:)");
        long now = System.currentTimeMillis();
        List<Map.Entry<UsageTap.Key, UsageTap.Entry>> rows = new ArrayList<>();
        tap.entries().forEach((k, v) -> {
            if (k.migration().equals(id)) rows.add(Map.entry(k, v));
        });
        rows.sort(Comparator.comparing((Map.Entry<UsageTap.Key, UsageTap.Entry> e) -> e.getKey().app())
            .thenComparing(e -> -e.getValue().count.sum()));
        timeline.say(String.format(Locale.ROOT, "%-14s %-5s %-14s %8s %9s  %s", "application", "kind", "treatment", "count",
            "last seen", "statement / call site"));
        for (Map.Entry<UsageTap.Key, UsageTap.Entry> e : rows) {
            UsageTap.Key k = e.getKey();
            String fp = k.fingerprint().length() > 70 ? k.fingerprint().substring(0, 67) + "..." : k.fingerprint();
            timeline.say(String.format(Locale.ROOT, "%-14s %-5s %-14s %8d %8.1fs  %s", k.app(), k.kind().name().toLowerCase(Locale.ROOT),
                k.treatment().label(), e.getValue().count.sum(), (now - e.getValue().lastSeen.get()) / 1000.0, fp));
            timeline.say(String.format(Locale.ROOT, "%-55s  at %s", "", e.getValue().callSite));
        }
    }
}
