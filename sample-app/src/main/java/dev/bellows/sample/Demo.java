package dev.bellows.sample;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import dev.bellows.testing.PostgresFixture;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * The scripted demo. Part 1 replays the incident that motivates Bellows (told in the README's "Why"): a column
 * renamed in one step while instances of the old code were still running. Here: the
 * legacy version under load, a plain {@code ALTER TABLE leads RENAME COLUMN user_email TO contact_email}, and the
 * legacy version's errors climbing while the new version deploys. Part 2 makes the same change (and the
 * {@code orders.status} text to integer change) through Bellows on a fresh database, expand, backfill, gate,
 * switch, report, gate, contract, drop, with zero errors, and checks every row at the end.
 *
 * <p>Run it with {@code ./mvnw -q -B install -DskipTests && ./mvnw -q -B -pl sample-app exec:java}; options
 * through {@code -Dexec.args="--fast --no-cli"}.
 */
public final class Demo {
    static final String LEADS = "leads-contact-email";
    static final String ORDERS = "orders-status-code";
    static final String UP_STATUS = "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3"
        + " WHEN 'cancelled' THEN 4 END";

    /** What happened without Bellows. */
    public record Incident(long legacyStatements, long legacyErrors, long newStatements, long newErrors,
                           Map<String, Long> legacyMessages, long staleOrders) {
    }

    /** One gate evaluation: which gate, what the demo expected, what it said. */
    public record Gate(String when, String migration, boolean strict, boolean expectedGreen, boolean green) {
    }

    /**
     * The row checks. Before the drop, in switch (both columns written by every statement): rows whose new column
     * is not up(old column). After the drop: every row read by the new code, against what the services wrote.
     */
    public record RowCheck(long leadsDiverged, long ordersDiverged, long leadsChecked, long ordersChecked,
                           long unreadable, long mismatched, long missing) {
        public boolean ok() {
            return leadsDiverged == 0 && ordersDiverged == 0 && unreadable == 0 && mismatched == 0 && missing == 0
                && leadsChecked > 0 && ordersChecked > 0;
        }
    }

    /** What happened with Bellows. */
    public record Safe(long statements, long errors, long wrongAnswers, Map<String, Long> messages, List<Gate> gates,
                       RowCheck rows, Map<String, String> modes) {
    }

    public record Result(Incident incident, Safe safe) {
        /** The demo's claims: errors without Bellows, none with it, every gate as expected, every row right. */
        public boolean asExpected() {
            return incident.legacyErrors() > 0 && safe.errors() == 0 && safe.wrongAnswers() == 0 && safe.rows().ok()
                && safe.gates().stream().allMatch(g -> g.green() == g.expectedGreen());
        }
    }

    /** Bellows logs each phase change an instance applies at INFO; the timeline shows the same more briefly. */
    private static final java.util.logging.Logger BELLOWS_LOG = java.util.logging.Logger.getLogger("dev.bellows");

    private Demo() {
    }

    /** The {@code --scenario} choices: the README's rename (default), a table rename, a column removal, or all three. */
    static final List<String> SCENARIOS = List.of("rename", "table-rename", "column-removal", "all");

    /** The command line: settings, the scenario, and whether only the help was asked for. */
    record Options(Settings settings, String scenario, boolean help) {
    }

    /** Parses {@code --scenario NAME} (or {@code --scenario=NAME}), {@code --fast}, {@code --no-cli}, {@code --help}. */
    static Options parse(String... args) {
        boolean fast = false;
        boolean noCli = false;
        boolean help = false;
        String scenario = "rename";
        for (int k = 0; k < args.length; k++) {
            String a = args[k];
            if (a.startsWith("--scenario=")) {
                scenario = a.substring("--scenario=".length());
                continue;
            }
            switch (a) {
                case "--fast" -> fast = true;
                case "--no-cli" -> noCli = true;
                case "--scenario" -> {
                    if (k + 1 == args.length) throw new IllegalArgumentException("--scenario needs one of " + SCENARIOS);
                    scenario = args[++k];
                }
                case "-h", "--help" -> help = true;
                default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
            }
        }
        if (!SCENARIOS.contains(scenario)) {
            throw new IllegalArgumentException("unknown scenario '" + scenario + "'; expected one of " + SCENARIOS);
        }
        if (noCli && !scenario.equals("rename")) {
            throw new IllegalArgumentException("--no-cli is for the rename scenario only; " + scenario + " runs the bellows CLI");
        }
        Settings s = fast ? Settings.fast() : Settings.defaults();
        return new Options(noCli ? s.withPreferCli(false) : s, scenario, help);
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        if (o.help()) {
            System.out.println("Bellows demo. Options: --scenario NAME (" + String.join(", ", SCENARIOS) + "; default rename:"
                + " the leads.user_email -> contact_email incident and its safe replay), --fast (short durations),"
                + " --no-cli (rename only: the demo's fallbacks instead of the bellows CLI commands)");
            return;
        }
        Settings s = o.settings();
        String scenario = o.scenario();
        int status;
        try {
            boolean ok = true;
            if (scenario.equals("rename") || scenario.equals("all")) ok = run(System.out, s).asExpected();
            for (String other : List.of("table-rename", "column-removal")) {
                if (scenario.equals(other) || scenario.equals("all")) ok &= runScenario(System.out, s, other).asExpected();
            }
            status = ok ? 0 : 1;
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.out.flush();
        // Exit here rather than return: Bellows' background threads (flag watchers, usage flushers) belong to this
        // class loader, which `mvn exec:java` closes when main returns. Exiting runs the shutdown hooks instead:
        // usage is flushed and the embedded PostgreSQL stops.
        System.exit(status);
    }

    /** Runs {@code table-rename} or {@code column-removal}, printing the story and its summary to {@code out}. */
    public static ScenarioResult runScenario(PrintStream out, Settings s, String scenario) throws Exception {
        if (!s.preferCli()) throw new IllegalArgumentException("the " + scenario + " scenario runs the bellows CLI only (no --no-cli)");
        BELLOWS_LOG.setLevel(java.util.logging.Level.WARNING);
        Class.forName("org.postgresql.Driver");
        Class.forName("dev.bellows.jdbc.BellowsDriver");
        out.println("Bellows demo, scenario " + scenario + ": starting PostgreSQL (embedded unless BELLOWS_TEST_JDBC_URL or"
            + " Docker is there; the first start unpacks it)...");
        PostgresFixture pg = PostgresFixture.get();
        out.println("PostgreSQL: " + pg.kind() + " at " + pg.jdbcUrl());
        try (Timeline timeline = new Timeline(out, s)) {
            ScenarioResult r = switch (scenario) {
                case "table-rename" -> TableRenameDemo.run(timeline, pg, s);
                case "column-removal" -> ColumnRemovalDemo.run(timeline, pg, s);
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            };
            r.summary(timeline);
            return r;
        }
    }

    /** Runs both parts, printing the story to {@code out}. */
    public static Result run(PrintStream out, Settings s) throws Exception {
        BELLOWS_LOG.setLevel(java.util.logging.Level.WARNING);
        Class.forName("org.postgresql.Driver");
        Class.forName("dev.bellows.jdbc.BellowsDriver");
        out.println("Bellows demo: starting PostgreSQL (embedded unless BELLOWS_TEST_JDBC_URL or Docker is there;"
            + " the first start unpacks it)...");
        PostgresFixture pg = PostgresFixture.get();
        out.println("PostgreSQL: " + pg.kind() + " at " + pg.jdbcUrl());
        try (Timeline timeline = new Timeline(out, s)) {
            Incident incident = incident(timeline, pg, s);
            Safe safe = safe(timeline, pg, s);
            Result r = new Result(incident, safe);
            summary(timeline, r);
            return r;
        }
    }

    // ====================================================================== part 1

    private static Incident incident(Timeline t, PostgresFixture pg, Settings s) throws Exception {
        t.part("Part 1 - the incident: a plain RENAME COLUMN while the legacy version still runs (no Bellows)");
        Database db = Database.create(pg, "demo_incident");
        Expectations expected = new Expectations();
        db.createLegacySchema(s, expected);
        t.say(String.format(Locale.ROOT, "schema v1: leads(id, name, user_email), orders(id, lead_id, status text, amount);"
            + " %,d leads, %,d orders", s.seedLeads(), s.seedOrders()));

        t.step("The legacy version serves traffic: " + s.legacyThreads() + " threads, plain pgjdbc (" + db.url() + ")");
        Instance legacy = Instance.start("legacy", db.url(), db.user(), db.password(), LegacyLeadService::new,
            s.legacyThreads(), expected, s);
        Instance newer = null;
        try {
            t.track(legacy);
            t.live(true);
            t.run(s.warmUp(), "legacy only");

            t.step("The migration runs, then the new version deploys; the legacy instances are still up");
            t.say("migration> ALTER TABLE leads RENAME COLUMN user_email TO contact_email");
            t.say("migration> ALTER TABLE orders ADD COLUMN status_code integer;  UPDATE orders SET status_code = CASE status ... END");
            t.say("           (the write-up's type change, done by hand: no sync for writes that come after the UPDATE)");
            db.execute("ALTER TABLE leads RENAME COLUMN user_email TO contact_email",
                "ALTER TABLE orders ADD COLUMN status_code integer",
                "UPDATE orders SET status_code = (" + UP_STATUS + ")");
            newer = Instance.start("new", db.url(), db.user(), db.password(), NewLeadService::new, s.newThreads(), expected, s);
            t.track(newer);
            t.run(s.incidentGap(), "deploy in progress, old instances still up");

            t.live(false);
            t.step("The deploy completes: the legacy instances stop");
            legacy.close();
            newer.close();
            t.untrack(legacy);
            t.untrack(newer);
        } finally {
            t.live(false);
            legacy.close();
            if (newer != null) newer.close();
        }
        Stats ls = legacy.stats();
        t.say(String.format(Locale.ROOT, "legacy version: %,d statements, %,d FAILED after the rename; new version: %,d statements, %,d errors",
            ls.statements(), ls.errors() + ls.wrongAnswers(), newer.stats().statements(),
            newer.stats().errors() + newer.stats().wrongAnswers()));
        t.say("what the legacy version's users got:");
        ls.messages().entrySet().stream().limit(4)
            .forEach(e -> t.say(String.format(Locale.ROOT, "  %,7d x %s", e.getValue(), e.getKey())));
        long stale = db.count("SELECT count(*) FROM orders WHERE status_code IS DISTINCT FROM (" + UP_STATUS + ")");
        t.say(String.format(Locale.ROOT, "and silently: %,d orders the legacy version wrote after the UPDATE have a stale or"
            + " missing status_code (nothing kept the columns in sync)", stale));
        return new Incident(ls.statements(), ls.errors() + ls.wrongAnswers(), newer.stats().statements(),
            newer.stats().errors() + newer.stats().wrongAnswers(), ls.messages(), stale);
    }

    // ====================================================================== part 2

    private static Safe safe(Timeline t, PostgresFixture pg, Settings s) throws Exception {
        t.part("Part 2 - the same change with Bellows: expand, backfill, switch, contract; both versions keep working");
        Database db = Database.create(pg, "demo_bellows");
        Expectations expected = new Expectations();
        db.createLegacySchema(s, expected);
        Path rulesFile = rulesFile();
        RuleSet rules = RulesFile.load(rulesFile);
        t.say(String.format(Locale.ROOT, "fresh database, schema v1 again; %,d leads, %,d orders", s.seedLeads(), s.seedOrders()));
        t.say("rules file (" + Database.RULES + ", copied to " + rulesFile + "):");
        for (String line : Files.readAllLines(rulesFile)) {
            if (!line.isBlank() && !line.stripLeading().startsWith("#")) t.say("  " + line);
        }

        List<Instance> fleet = new CopyOnWriteArrayList<>();
        List<Instance> everyone = new ArrayList<>();
        UsageTap tap = new UsageTap();
        Steps steps = new Steps(t, s, db, rulesFile, rules, fleet, tap);
        List<Gate> gates = new ArrayList<>();
        RowCheck rows;
        try {
            t.phases(() -> "leads=" + phase(fleet, LEADS) + " orders=" + phase(fleet, ORDERS));
            t.usage(tap);

            t.step("Create the tables Bellows records usage and flags in: bellows init");
            steps.init();

            t.step("The legacy version adopts Bellows: only its JDBC URL changes (phase off: nothing is rewritten yet)");
            t.say("was: jdbcUrl = " + db.url());
            t.say("now: jdbcUrl = " + db.bellowsUrl("leads-legacy"));
            Instance legacy = startLegacy(t, s, db, expected, steps, tap, fleet, everyone, "legacy-1");
            t.live(true);
            t.run(s.warmUp(), "legacy through Bellows");

            t.step("Expand migration (plain DDL, run by the migration tool): the new columns, nullable");
            ddl(t, db, fleet,
                "ALTER TABLE leads ADD COLUMN contact_email text",
                "ALTER TABLE orders ADD COLUMN status_code integer");

            t.step("Phase expand: every write of an old column also writes the new one, in the same statement");
            steps.flagsSet(LEADS, Phase.EXPAND, "expand migration applied");
            steps.flagsSet(ORDERS, Phase.EXPAND, "expand migration applied");
            t.run(s.stepLoad(), "dual writes");

            t.step("Backfill the rows written before expand, in batches, under load");
            steps.backfill(LEADS);
            steps.backfill(ORDERS);

            t.step("Deploy the new version alongside the legacy one (HikariCP dataSourceClassName=dev.bellows.jdbc.BellowsDataSource)");
            startNew(t, s, db, expected, steps, tap, fleet, everyone, "new-1");
            t.run(s.stepLoad(), "both versions");
            steps.status();

            t.step("Is it safe to drop user_email? bellows gate (window " + s.windowArg() + ")");
            gates.add(new Gate("expand", LEADS, false, false, steps.gate(LEADS, false)));

            t.step("Phase switch: reads of the old columns now come from the new ones (through down(), under the old label)");
            steps.flagsSet(LEADS, Phase.SWITCH, "backfill complete");
            steps.flagsSet(ORDERS, Phase.SWITCH, "backfill complete");
            t.run(s.stepLoad(), "switch");

            t.step("Who still uses the old column? bellows report");
            steps.report(LEADS);

            t.step("Wait for the window to pass with no physical use of the old columns, then ask the gates again");
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(awaitGate(t, steps, "switch", LEADS, false, true, s));
            gates.add(awaitGate(t, steps, "switch", ORDERS, false, true, s));
            gates.add(new Gate("switch", LEADS, true, false, steps.gate(LEADS, true)));
            t.say("the plain gate is green: nothing touches user_email physically; --strict is red: the legacy code still"
                + " names it, and Bellows maps every such statement");

            t.step("Check every row while both columns are still written: new = up(old)");
            long leadsDiverged = db.count("SELECT count(*) FROM leads WHERE contact_email IS DISTINCT FROM user_email");
            long ordersDiverged = db.count("SELECT count(*) FROM orders WHERE status_code IS DISTINCT FROM ("
                + rules.get(ORDERS).up() + ")");
            t.say(String.format(Locale.ROOT, "%,d leads, %,d orders: %d leads and %d orders diverge", db.count("SELECT count(*) FROM leads"),
                db.count("SELECT count(*) FROM orders"), leadsDiverged, ordersDiverged));

            t.step("Phase contract: only the new columns are read and written; the old ones may go");
            steps.flagsSet(LEADS, Phase.CONTRACT, "gate green");
            steps.flagsSet(ORDERS, Phase.CONTRACT, "gate green");
            t.run(s.stepLoad(), "contract");

            t.step("Contract migration: DROP the old columns, with the legacy version still running through Bellows");
            ddl(t, db, fleet,
                "ALTER TABLE leads DROP COLUMN user_email",
                "ALTER TABLE orders DROP COLUMN status");
            t.run(s.stepLoad(), "old columns gone, legacy still serving");

            t.step("The legacy code moves to the new names: its instance is replaced by the new version");
            t.untrack(legacy);
            fleet.remove(legacy);
            legacy.close();
                // An orderly shutdown: Bellows writes what it recorded and marks the instance stopped (not silent).
            orderlyShutdown(legacy.runtime());
            t.say("legacy-1 stopped");
            startNew(t, s, db, expected, steps, tap, fleet, everyone, "new-2");
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(awaitGate(t, steps, "done", LEADS, true, true, s));
            gates.add(awaitGate(t, steps, "done", ORDERS, true, true, s));

            t.live(false);
            t.step("The record: bellows flags history");
            steps.flagsHistory();

            t.step("Stop, and check every row through the new code");
            for (Instance i : fleet) i.stopLoad();
            rows = finalCheck(t, fleet.get(0).dataSource(), expected, leadsDiverged, ordersDiverged);
            for (Instance i : fleet) i.close();
        } finally {
            t.live(false);
            for (Instance i : everyone) i.close(); // idempotent; on a failure it stops the load before the database goes
        }

        long statements = 0;
        long errors = 0;
        long wrong = 0;
        Map<String, Long> messages = new LinkedHashMap<>();
        for (Instance i : everyone) {
            statements += i.stats().statements();
            errors += i.stats().errors();
            wrong += i.stats().wrongAnswers();
            i.stats().messages().forEach((k, v) -> messages.merge(i.name() + ": " + k, v, Long::sum));
        }
        return new Safe(statements, errors, wrong, messages, gates, rows, steps.modes());
    }

    private static Instance startLegacy(Timeline t, Settings s, Database db, Expectations expected, Steps steps, UsageTap tap,
                                        List<Instance> fleet, List<Instance> everyone, String name) throws SQLException {
        Instance i = Instance.start(name, db.bellowsUrl("leads-legacy"), db.user(), db.password(), LegacyLeadService::new,
            s.legacyThreads(), expected, s);
        return joined(t, steps, tap, fleet, everyone, i);
    }

    private static Instance startNew(Timeline t, Settings s, Database db, Expectations expected, Steps steps, UsageTap tap,
                                     List<Instance> fleet, List<Instance> everyone, String name) throws SQLException {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDataSourceClassName("dev.bellows.jdbc.BellowsDataSource");
        config.addDataSourceProperty("url", db.bellowsUrl());
        config.addDataSourceProperty("user", db.user());
        config.addDataSourceProperty("password", db.password());
        config.addDataSourceProperty("rules", Database.RULES);
        config.addDataSourceProperty("appName", "leads-new");
        config.setMaximumPoolSize(s.newThreads() + 1);
        config.setMinimumIdle(1);
        Instance i = Instance.start(name, new HikariDataSource(config), NewLeadService::new, s.newThreads(), expected, s);
        return joined(t, steps, tap, fleet, everyone, i);
    }

    private static Instance joined(Timeline t, Steps steps, UsageTap tap, List<Instance> fleet, List<Instance> everyone, Instance i) {
        BellowsRuntime rt = i.runtime();
        rt.setUsageSink(tap);
        steps.applyFallbackPhases(i);
        fleet.add(i);
        everyone.add(i);
        t.track(i);
        t.say(i.name() + " started (" + i.version() + " code, " + rt.appName() + ")");
        return i;
    }

    /** Flushes the usage recorded and marks the instance stopped, so the gate does not count it as gone silent. */
    private static void orderlyShutdown(BellowsRuntime runtime) {
        runtime.close();
    }

    /** DDL as a migration tool runs it, outside Bellows; then the running instances re-read the catalog. */
    private static void ddl(Timeline t, Database db, List<Instance> fleet, String... statements) throws SQLException {
        for (String sql : statements) {
            t.say("migration> " + sql);
            db.execute(sql);
        }
        Set<BellowsRuntime> runtimes = new LinkedHashSet<>();
        for (Instance i : fleet) runtimes.add(i.runtime());
        for (BellowsRuntime rt : runtimes) rt.refreshCatalog();
        t.say("(the DDL ran outside the driver, so each running instance re-reads the managed tables' columns:"
            + " BellowsRuntime.refreshCatalog(). An instance that misses a new column treats its migration as off and"
            + " does not dual-write; the backfill's verification would catch that.)");
    }

    /** Asks a gate until it says what the story expects, for a few seconds (usage reaches the database in batches). */
    static Gate awaitGate(Timeline t, Steps steps, String when, String id, boolean strict, boolean expectGreen,
                                  Settings s) throws Exception {
        long deadline = System.nanoTime() + s.window().toNanos() * 3;
        while (true) {
            boolean green = steps.gate(id, strict);
            if (green == expectGreen || System.nanoTime() > deadline) return new Gate(when, id, strict, expectGreen, green);
            t.run(java.time.Duration.ofSeconds(1), "waiting for the evidence");
        }
    }

    static String phase(List<Instance> fleet, String id) {
        Set<String> phases = new LinkedHashSet<>();
        for (Instance i : fleet) {
            BellowsRuntime rt = i.runtime();
            if (rt != null) phases.add(rt.rules().get(id).phase().label());
        }
        return phases.isEmpty() ? "-" : String.join("/", phases);
    }

    private static RowCheck finalCheck(Timeline t, DataSource newCode, Expectations expected, long leadsDiverged,
                                       long ordersDiverged) throws SQLException {
        long leads = 0;
        long orders = 0;
        long unreadable = 0;
        long mismatched = 0;
        Set<Long> seenLeads = new HashSet<>();
        Set<Long> seenOrders = new HashSet<>();
        try (Connection c = newCode.getConnection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT id, contact_email FROM leads")) {
                while (rs.next()) {
                    leads++;
                    long id = rs.getLong(1);
                    String email = rs.getString(2);
                    seenLeads.add(id);
                    if (email == null) unreadable++;
                    else if (!email.equals(expected.leadEmails.get(id))) mismatched++;
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT id, status_code FROM orders")) {
                while (rs.next()) {
                    orders++;
                    long id = rs.getLong(1);
                    int code = rs.getInt(2);
                    seenOrders.add(id);
                    if (rs.wasNull()) unreadable++;
                    else if (OrderStatus.ofCode(code) != expected.orderStatuses.get(id)) mismatched++;
                }
            }
        }
        long missing = expected.leadEmails.keySet().stream().filter(id -> !seenLeads.contains(id)).count()
            + expected.orderStatuses.keySet().stream().filter(id -> !seenOrders.contains(id)).count();
        t.say(String.format(Locale.ROOT, "%,d leads and %,d orders read by the new code: %d without a value, %d different from"
            + " what the services wrote, %d written but missing", leads, orders, unreadable, mismatched, missing));
        return new RowCheck(leadsDiverged, ordersDiverged, leads, orders, unreadable, mismatched, missing);
    }

    private static void summary(Timeline t, Result r) {
        t.part("Summary");
        Incident i = r.incident();
        Safe s = r.safe();
        t.say(String.format(Locale.ROOT, "without Bellows: the legacy version failed %,d of %,d statements after the rename", i.legacyErrors(),
            i.legacyStatements()));
        t.say(String.format(Locale.ROOT, "with Bellows:    %,d statements from legacy and new code, %d errors, %d wrong answers",
            s.statements(), s.errors(), s.wrongAnswers()));
        s.messages().entrySet().stream().limit(5).forEach(e -> t.say(String.format(Locale.ROOT, "  %,7d x %s", e.getValue(), e.getKey())));
        t.say("gates:");
        for (Gate g : s.gates()) {
            t.say(String.format(Locale.ROOT, "  %-7s %-20s %-9s %-5s (expected %s)", g.when(), g.migration(), g.strict() ? "--strict" : "",
                g.green() ? "green" : "red", g.expectedGreen() ? "green" : "red"));
        }
        RowCheck rc = s.rows();
        t.say(String.format(Locale.ROOT, "rows: before the drop %d leads / %d orders diverged; after it %,d leads and %,d orders"
            + " checked, %d unreadable, %d wrong, %d missing", rc.leadsDiverged(), rc.ordersDiverged(), rc.leadsChecked(),
            rc.ordersChecked(), rc.unreadable(), rc.mismatched(), rc.missing()));
        t.say("steps: " + s.modes().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", ")));
        t.say(r.asExpected() ? "RESULT: as expected." : "RESULT: NOT as expected; see above.");
    }

    /** The classpath rules file, copied to a file so the printed CLI commands work from a shell too. */
    private static Path rulesFile() throws Exception {
        return rulesFile("bellows-rules.yaml");
    }

    /** Removes a temporary directory the demo wrote (the plan's files), best effort. */
    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // a leftover in the temporary directory is harmless
        }
    }

    /** A rules file of the class path, copied to a temporary file (the CLI commands take it as --rules). */
    static Path rulesFile(String resource) throws Exception {
        Path file = Files.createTempFile("bellows-rules", ".yaml");
        file.toFile().deleteOnExit();
        try (InputStream in = Demo.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is not on the class path");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }
}
