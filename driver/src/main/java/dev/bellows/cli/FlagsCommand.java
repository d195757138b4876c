package dev.bellows.cli;

import dev.bellows.redact.Redact;
import dev.bellows.flags.FlagChange;
import dev.bellows.flags.FlagStore;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;
import java.io.PrintWriter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bellows flags set|list|history}: the phase flags in the application's database that every running
 * instance follows within a second (see {@code docs/flags.md}). Exit codes: 0 done, 1 refused (an unsafe move
 * without {@code --force}), 2 error (unknown id or phase, bad rules file, unreachable database).
 */
@Command(name = "flags", description = "Show and change the phase flags every instance follows.",
    subcommands = {FlagsCommand.Set.class, FlagsCommand.ListFlags.class, FlagsCommand.History.class,
        CommandLine.HelpCommand.class})
public final class FlagsCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int REFUSED = 1;
    static final int ERROR = BellowsCli.ERROR;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssXXX");

    @Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ERROR;
    }

    /** Where the database is. */
    static final class Database {
        @Option(names = "--url", paramLabel = "URL",
            description = "JDBC URL of the application's database: jdbc:postgresql://host:port/db (a jdbc:bellows:postgresql: URL is accepted too)."
                + " Repeat it for several databases (a sharded application): the command runs on each, in parallel.")
        List<String> urls;

        @Option(names = "--targets", paramLabel = "FILE",
            description = "A file of databases to run on, in parallel: one per line, URL or NAME URL; # starts a comment.")
        java.nio.file.Path targets;

        @Option(names = "--user", description = "Database user (else from the URL).")
        String user;

        @Option(names = "--password", description = "Database password (else from the URL or PGPASSWORD).")
        String password;

        /** The URL pgjdbc gets: without {@code bellows:} and without {@code bellows.*} parameters. */
        String pgUrl() throws SQLException {
            String u = url().trim();
            if (u.regionMatches(true, 0, "jdbc:bellows:", 0, "jdbc:bellows:".length())) {
                u = "jdbc:" + u.substring("jdbc:bellows:".length());
            }
            int q = u.indexOf('?');
            if (q < 0) return u;
            List<String> kept = new ArrayList<>();
            for (String p : u.substring(q + 1).split("&")) {
                String key = URLDecoder.decode(p.contains("=") ? p.substring(0, p.indexOf('=')) : p, StandardCharsets.UTF_8);
                if (!p.isEmpty() && !key.startsWith("bellows.")) kept.add(p);
            }
            return u.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
        }

        /** The one database's URL, or an error asking for one. */
        String url() throws SQLException {
            if (urls == null || urls.isEmpty()) throw new SQLException("no database: give --url URL (repeatable) or --targets FILE");
            return urls.get(0);
        }

        /** Whether several databases are given (the command then runs through {@link Fanout}). */
        boolean several() {
            return Fanout.several(urls, targets);
        }

        Connection open() throws SQLException {
            String pg = pgUrl();
            if (!pg.startsWith("jdbc:postgresql:")) {
                throw new SQLException("--url must be a jdbc:postgresql: or jdbc:bellows:postgresql: URL, got '" + Redact.url(url()) + "'");
            }
            try {
                Class.forName("org.postgresql.Driver");
            } catch (ClassNotFoundException e) {
                throw new SQLException("pgjdbc (org.postgresql.Driver) is not on the class path", e);
            }
            Properties p = new Properties();
            if (user != null) p.setProperty("user", user);
            String pw = password != null ? password : System.getenv("PGPASSWORD");
            if (pw != null && !pg.contains("password=")) p.setProperty("password", pw);
            if (!pg.contains("connectTimeout=")) p.setProperty("connectTimeout", "5");
            p.setProperty("ApplicationName", "bellows flags");
            try {
                return DriverManager.getConnection(pg, p);
            } catch (SQLException e) {
                throw new SQLException("cannot connect to " + Redact.url(pg) + ": " + Redact.message(e), e.getSQLState(), e);
            }
        }
    }

    /** The rules file: {@code --rules}, else {@code bellows.rules} / {@code BELLOWS_RULES}. */
    static String rulesLocation(String given) {
        if (given != null && !given.isBlank()) return given;
        String p = System.getProperty("bellows.rules");
        if (p != null && !p.isBlank()) return p;
        String e = System.getenv("BELLOWS_RULES");
        return e == null || e.isBlank() ? null : e;
    }

    static String time(OffsetDateTime t) {
        return t == null ? "" : TIME.format(t);
    }

    static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    // ------------------------------------------------------------------ set

    @Command(name = "set", description = {
        "Moves a migration to a phase for every instance (they follow within a second).",
        "Refused without --force: skipping a phase, a phase other than off without the new column, switch before"
            + " the backfill is complete, contract while `bellows gate ID` fails (it gets --window, --silent-after and"
            + " --strict), back from contract once the old column is gone (bellows plan ID then writes its re-creation),"
            + " off while the new column is NOT NULL or while a live instance runs new code, a copy back that would"
            + " collide on the old column.",
        "Once the old column is gone before contract (a premature drop), the only move offered is forward to contract"
            + " (no gate, phases may be skipped).",
        "Moving back from switch or contract copies the new column into the old one where they differ (through NULL,"
            + " so rows that exchanged values cannot collide); back from contract it then waits for the live instances"
            + " to report the new phase and copies again."})
    static final class Set implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;
        @Mixin Database db;

        @Parameters(index = "0", paramLabel = "ID", description = "The migration id (from the rules file).")
        String id;

        @Parameters(index = "1", paramLabel = "PHASE", description = "off, expand, switch or contract.")
        String phase;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; recorded in the history.")
        String reason;

        @Option(names = "--force", description = "Make the change even when a safety check refuses it.")
        boolean force;

        @Option(names = "--rules", paramLabel = "FILE",
            description = "The rules file (default: -Dbellows.rules or BELLOWS_RULES); needed to check the id and columns.")
        String rules;

        @Option(names = "--window", paramLabel = "DURATION",
            description = "Passed to the gate run before contract: how far back the evidence must reach (default: the gate's, 8d).")
        String window;

        @Option(names = "--silent-after", paramLabel = "DURATION",
            description = "Passed to the gate run before contract (default: the gate's).")
        String silentAfter;

        @Option(names = "--strict", description = "Passed to the gate run before contract: also refuse while any statement names the old column.")
        boolean strict;

        @Override public Integer call() {
            if (db.several()) return Fanout.run(spec, db.urls, db.targets);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Phase to;
            try {
                to = Phase.parse(phase);
            } catch (IllegalArgumentException e) {
                err.println("bellows flags set: " + e.getMessage());
                return ERROR;
            }
            String location = rulesLocation(rules);
            if (location == null) {
                err.println("bellows flags set: no rules file: give --rules FILE (or set bellows.rules / BELLOWS_RULES);"
                    + " it is needed to check the id and the migration's columns");
                return ERROR;
            }
            RuleSet ruleSet;
            try {
                ruleSet = RulesFile.load(location, null);
            } catch (RulesException e) {
                err.println("bellows flags set: " + e.getMessage());
                return ERROR;
            }
            Migration m = ruleSet.get(id);
            if (m == null) {
                err.println("bellows flags set: unknown migration id '" + id + "' in " + location + " (known: "
                    + (ruleSet.isEmpty() ? "none" : ruleSet.migrations().stream().map(Migration::id)
                        .collect(Collectors.joining(", "))) + ")");
                return ERROR;
            }
            String text = reason == null || reason.isBlank() ? null : reason.trim();
            try (Connection c = db.open()) {
                FlagChange.Result r = FlagChange.set(c, m, to, text, force, FlagStore.Actor.current(),
                    migrationId -> gate(migrationId, location));
                switch (r.outcome()) {
                    case REFUSED -> {
                        err.println("bellows flags set: refused to move " + id + " from " + r.from().label() + " to "
                            + to.label() + ":");
                        for (String n : r.notes()) err.println("  - " + n);
                        err.println("Use --force to do it anyway.");
                        err.flush();
                        return REFUSED;
                    }
                    case UNCHANGED -> out.println(id + " is already " + to.label() + "; nothing recorded");
                    case CHANGED -> {
                        for (String n : r.notes()) out.println(n);
                        out.println(id + ": " + r.from().label() + (r.fromFlag() ? "" : " (rules file)") + " -> "
                            + to.label() + " (recorded as " + FlagStore.Actor.current() + (text == null ? "" : ": " + text)
                            + "); running instances follow within a second");
                        out.println("each instance reports the new phase to bellows status as it applies it (an instance"
                            + " with bellows.usage=off never reports)");
                    }
                }
                out.flush();
                return OK;
            } catch (SQLException e) {
                err.println("bellows flags set: " + e.getMessage());
                err.flush();
                return ERROR;
            }
        }

        /**
         * {@code bellows gate ID}: the usage engineer's command, run through the CLI so its exit code decides.
         * A build without it refuses unless --force.
         */
        private int gate(String migrationId, String location) {
            CommandLine root = new CommandLine(new BellowsCli());
            CommandLine g = root.getSubcommands().get("gate");
            if (g == null) return FlagChange.Gate.UNAVAILABLE;
            List<String> args = new ArrayList<>(List.of("gate", migrationId, "--url", db.urls.get(0)));
            if (db.user != null && g.getCommandSpec().findOption("--user") != null) args.addAll(List.of("--user", db.user));
            if (db.password != null && g.getCommandSpec().findOption("--password") != null) {
                args.addAll(List.of("--password", db.password));
            }
            if (g.getCommandSpec().findOption("--rules") != null) args.addAll(List.of("--rules", location));
            if (window != null) args.addAll(List.of("--window", window));
            if (silentAfter != null) args.addAll(List.of("--silent-after", silentAfter));
            if (strict) args.add("--strict");
            return BellowsCli.run(args.toArray(new String[0]));
        }
    }

    // ------------------------------------------------------------------ list

    @Command(name = "list", description = "Lists the flags, and with a rules file every migration's phase and its source.")
    static final class ListFlags implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;
        @Mixin Database db;

        @Option(names = "--rules", paramLabel = "FILE",
            description = "Also list the migrations without a flag (default: -Dbellows.rules or BELLOWS_RULES).")
        String rules;

        @Override public Integer call() {
            if (db.several()) return Fanout.run(spec, db.urls, db.targets);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            RuleSet ruleSet = null;
            String location = rulesLocation(rules);
            if (location != null) {
                try {
                    ruleSet = RulesFile.load(location, null);
                } catch (RulesException e) {
                    err.println("bellows flags list: " + e.getMessage());
                    return ERROR;
                }
            }
            List<FlagStore.Flag> flags;
            try (Connection c = db.open()) {
                flags = FlagStore.list(c);
            } catch (SQLException e) {
                err.println("bellows flags list: " + e.getMessage());
                return ERROR;
            }
            Map<String, FlagStore.Flag> byId = new LinkedHashMap<>();
            for (FlagStore.Flag f : flags) byId.put(f.migrationId(), f);
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"MIGRATION", "PHASE", "SOURCE", "UPDATED", "BY", "REASON"});
            if (ruleSet != null) {
                for (Migration m : ruleSet.migrations()) {
                    FlagStore.Flag f = byId.remove(m.id());
                    rows.add(f != null
                        ? new String[] {m.id(), f.phase().label(), "flag", time(f.updatedAt()), f.updatedBy(), orEmpty(f.reason())}
                        : new String[] {m.id(), m.phase().label(), "rules file", "", "", ""});
                }
            }
            for (FlagStore.Flag f : byId.values()) {
                rows.add(new String[] {f.migrationId(), f.phase().label(), ruleSet == null ? "flag" : "flag (not in rules)",
                    time(f.updatedAt()), f.updatedBy(), orEmpty(f.reason())});
            }
            print(out, rows);
            if (rows.size() == 1) out.println("(no flags set)");
            out.flush();
            return OK;
        }
    }

    // ------------------------------------------------------------------ history

    @Command(name = "history", description = "Shows who changed which flag, when, why, from and to what.")
    static final class History implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;
        @Mixin Database db;

        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Only this migration.")
        String id;

        @Option(names = "--limit", defaultValue = "100", description = "At most this many, the latest (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override public Integer call() {
            if (db.several()) return Fanout.run(spec, db.urls, db.targets);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<FlagStore.Change> changes;
            try (Connection c = db.open()) {
                changes = FlagStore.history(c, id, Math.max(1, limit));
            } catch (SQLException e) {
                err.println("bellows flags history: " + e.getMessage());
                return ERROR;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"WHEN", "MIGRATION", "CHANGE", "WHO", "REASON"});
            for (FlagStore.Change ch : changes) {
                rows.add(new String[] {time(ch.changedAt()), ch.migrationId(),
                    (ch.from() == null ? "(none)" : ch.from().label()) + " -> " + ch.to().label() + (ch.forced() ? " (forced)" : ""),
                    ch.osUser() + "@" + ch.host() + (ch.dbUser() == null ? "" : " as " + ch.dbUser()), orEmpty(ch.reason())});
            }
            print(out, rows);
            if (changes.isEmpty()) out.println("(no changes recorded" + (id == null ? "" : " for " + id) + ")");
            out.flush();
            return OK;
        }
    }

    static void print(PrintWriter out, List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                if (i > 0) sb.append("  ");
                sb.append(i == r.length - 1 ? r[i] : String.format("%-" + w[i] + "s", r[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }
}
