package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.testapp.LegacyLeads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bellows gate} red for each condition on its own, each in its own database, then green once all hold.
 * The window is the time since every scenario's instances started (a few seconds), so each scenario's
 * violations fall inside it and its tracking covers it.
 */
class GateTest {
    @TempDir static Path dir;
    /** The silent scenario's threshold; the others use a generous one, as a loaded CI machine may be slow. */
    static final Duration SILENT_AFTER = Duration.ofSeconds(2);
    static final Duration LENIENT = Duration.ofSeconds(60);
    static boolean pgss;
    static long trackingSince;
    static final Map<String, Scenario> scenarios = new java.util.LinkedHashMap<>();

    /** One database and the data sources (instances) on it. */
    record Scenario(UsageDb db, List<BellowsDataSource> live) {
        LegacyLeads app() { return new LegacyLeads(live.get(0)); }

        void phase(Phase p) throws SQLException {
            for (BellowsDataSource ds : live) ds.runtime().setPhase(UsageDb.ID, p);
        }

        Gate.Result gate(boolean strict) throws Exception {
            return gate(Duration.ofMillis(System.currentTimeMillis() - trackingSince), strict);
        }

        Gate.Result gate(Duration window, boolean strict) throws Exception {
            return gate(window, strict, LENIENT);
        }

        Gate.Result gate(Duration window, boolean strict, Duration silentAfter) throws Exception {
            flush();
            try (Connection c = db.raw()) {
                return Gate.evaluate(c, UsageDb.ID, new Gate.Options(window, strict, silentAfter, null));
            }
        }

        void flush() {
            for (BellowsDataSource ds : live) {
                try {
                    assertTrue(UsageDb.recorder(ds).flush());
                } catch (SQLException e) {
                    throw new AssertionError(e);
                }
            }
        }

        /** {@code bellows gate} through the CLI over the scenario's window. */
        UsageDb.Cli cli(String... more) {
            flush();
            List<String> args = new ArrayList<>(List.of(UsageDb.ID, "--window", (System.currentTimeMillis() - trackingSince) + "ms",
                "--silent-after", "60s"));
            args.addAll(List.of(more));
            return db.cli("gate", args.toArray(new String[0]));
        }
    }

    static Scenario scenario(String name, String phase, String... apps) throws Exception {
        UsageDb db = UsageDb.create("gate_" + name, dir, phase);
        if (pgss) db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        List<BellowsDataSource> live = new ArrayList<>();
        for (String app : apps.length == 0 ? new String[] {name} : apps) {
            BellowsDataSource ds = db.dataSource(app, "bellows.usage.flushInterval", "5s");
            try (Connection c = ds.getConnection()) {
                c.isValid(1); // starts the runtime: the instance is tracking from now on
            }
            assertTrue(UsageDb.recorder(ds).flush());
            live.add(ds);
        }
        Scenario s = new Scenario(db, live);
        scenarios.put(name, s);
        return s;
    }

    @BeforeAll
    static void scenarios() throws Exception {
        pgss = dev.bellows.testing.PostgresFixture.get().hasPgStatStatements();
        // 1. every instance starts tracking
        Scenario green = scenario("green", "expand");
        Scenario silent = scenario("silent", "switch", "steady", "crashing");
        Scenario passed = scenario("passed", "expand");
        Scenario unanalysed = scenario("unanalysed", "switch");
        Scenario bypass = scenario("bypass", "switch");
        Scenario backfill = scenario("backfill", "switch");
        Scenario deps = scenario("deps", "switch");
        Scenario stranger = scenario("stranger", "switch");
        Path otherRules = Files.writeString(dir.resolve("other.yaml"),
            "migrations:\n  - id: imports-code\n    table: imports\n    from: code\n    to: import_code\n    phase: expand\n");
        BellowsDataSource outsider = stranger.db().dataSource("outsider", "bellows.usage.flushInterval", "5s");
        outsider.setRules(otherRules.toString());
        try (Connection c = outsider.getConnection()) {
            c.isValid(1);
        }
        assertTrue(UsageDb.recorder(outsider).flush());
        stranger.live().add(outsider);
        Thread.sleep(300);
        trackingSince = System.currentTimeMillis();
        Thread.sleep(200);

        // 2. the workloads, all inside the window
        LegacyLeads g = green.app();
        for (int i = 1; i <= 5; i++) g.create(i, "n" + i, "u" + i + "@example.com"); // dual writes (rewritten)
        g.changeEmail(2, "changed@example.com");
        green.phase(Phase.SWITCH);
        for (int i = 1; i <= 3; i++) g.findEmail(i);                                  // legacy reads, mapped to email

        BellowsDataSource crashing = silent.live().remove(1);
        new LegacyLeads(crashing).findEmail(1);
        assertTrue(UsageDb.recorder(crashing).flush());                                 // reports during the window,
        UsageDb.recorder(crashing).halt();                                              // then stops, as a crash would
        new LegacyLeads(silent.live().get(0)).findEmail(1);

        passed.app().findEmail(1);                                                      // expand: read passed through
        passed.phase(Phase.SWITCH);

        unanalysed.app().countWithImports();

        try (Connection c = bypass.db().raw(); Statement s = c.createStatement()) {       // a client without Bellows
            s.executeQuery("SELECT user_email FROM leads WHERE id = 1").close();
        }
        bypass.app().findEmail(1);

        backfill.app().create(1, "a", "a@example.com");
        backfill.app().create(2, "b", "b@example.com");
        backfill.db().exec("UPDATE leads SET email = NULL WHERE id = 2");               // names only the new column

        deps.db().exec("CREATE VIEW lead_emails AS SELECT id, user_email FROM leads",
            "CREATE INDEX leads_user_email_idx ON leads (user_email)",
            "CREATE FUNCTION touch_lead() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.user_email := lower(NEW.user_email);"
                + " RETURN NEW; END $$",
            "CREATE TRIGGER touch_lead BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION touch_lead()");

        stranger.app().findEmail(1);
        // the silent instance must have been quiet for longer than SILENT_AFTER
        Thread.sleep(SILENT_AFTER.toMillis() + 300);
    }

    @AfterAll
    static void close() throws Exception {
        for (Scenario s : scenarios.values()) s.db().close();
    }

    static Set<String> unmet(Gate.Result r) {
        return r.unmet().stream().map(Gate.Condition::id).collect(Collectors.toCollection(TreeSet::new));
    }

    static Gate.Condition condition(Gate.Result r, String id) {
        return r.conditions().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    static String evidence(Gate.Result r, String id) {
        return String.join("\n", condition(r, id).evidence());
    }

    @Test
    void greenOnceEveryConditionHolds() throws Exception {
        Scenario s = scenarios.get("green");
        Gate.Result r = s.gate(false);
        assertEquals(Set.of(), unmet(r), r.toString());
        assertTrue(r.safe());
        assertEquals(pgss ? Gate.Status.MET : Gate.Status.NOT_CHECKED, condition(r, "bypass").status(), r.toString());
        if (pgss) assertTrue(evidence(r, "bypass").contains("dual write"), r.toString());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("still dual-write user_email")), r.notes().toString());

        // The CLI agrees, with exit code 0, and its JSON says so too.
        UsageDb.Cli cli = s.cli();
        assertEquals(0, cli.code(), cli.toString());
        assertTrue(cli.out().contains("SAFE: every condition holds"), cli.out());
        UsageDb.Cli json = s.cli("--format", "json", "--rules", s.db().rules.toString());
        assertEquals(0, json.code(), json.toString());
        assertEquals("true", s.db().query("SELECT ('" + json.out().replace("'", "''") + "'::jsonb ->> 'safe')"));

        // In contract Bellows writes only the new column, so the old one goes stale: still safe.
        s.phase(Phase.CONTRACT);
        s.app().changeEmail(3, "later@example.com");
        Gate.Result after = s.gate(false);
        assertEquals(Set.of(), unmet(after), after.toString());
        assertTrue(condition(after, "backfill").title().contains("no row has a value only in user_email"), after.toString());
        // (read without naming the column: a plain SELECT user_email here would be a client bypassing Bellows)
        assertEquals("u3@example.com", s.db().query("SELECT to_jsonb(l) ->> ('user_' || 'email') FROM leads l WHERE id = 3"));
    }

    @Test
    void afterTheDropTheGateStillJudgesTheEvidence() throws Exception {
        Scenario s = scenario("dropped", "contract");
        long since = System.currentTimeMillis();
        LegacyLeads legacy = s.app();
        legacy.create(1, "n1", "d1@example.com"); // legacy code in contract: only the new column is written
        s.db().exec("ALTER TABLE leads DROP COLUMN user_email");
        for (BellowsDataSource ds : s.live()) ds.runtime().refreshCatalog();
        assertEquals("d1@example.com", legacy.findEmail(1)); // the legacy name still works after the drop
        // the window runs from just before this scenario's workload to each evaluation
        Gate.Result r = s.gate(Duration.ofMillis(System.currentTimeMillis() - since), false);
        assertEquals(Set.of(), unmet(r), r.toString());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("dropped already")), r.notes().toString());
        // the legacy code still names the old column through Bellows: --strict says so, it does not error
        Gate.Result strict = s.gate(Duration.ofMillis(System.currentTimeMillis() - since), true);
        assertEquals(Set.of("strict"), unmet(strict), strict.toString());
        // A fresh use just before the CLI runs: its window ends when the CLI starts, seconds later on a loaded machine,
        // so the uses made right after `since` could fall out of it and --strict would find nothing.
        assertEquals("d1@example.com", legacy.findEmail(1));
        s.flush();
        UsageDb.Cli cli = s.db().cli("gate", UsageDb.ID, "--window", (System.currentTimeMillis() - since) + "ms",
            "--silent-after", "60s", "--strict");
        assertEquals(1, cli.code(), cli.toString());
        assertTrue(cli.out().contains("dropped already"), cli.out());
    }

    @Test
    void strictRefusesLegacyNamesEvenWhenRewritten() throws Exception {
        Gate.Result r = scenarios.get("green").gate(true);
        assertEquals(Set.of("strict"), unmet(r), r.toString());
        assertTrue(evidence(r, "strict").contains("read rewritten x3 by 'green'"), evidence(r, "strict"));
        assertTrue(evidence(r, "strict").contains("at dev.bellows.testapp.LegacyLeads.findEmail(LegacyLeads.java:"));
    }

    @Test
    void trackingMustCoverTheWindow() throws Exception {
        Gate.Result r = scenarios.get("green").gate(Duration.ofHours(1), false);
        assertEquals(Set.of("tracking"), unmet(r), r.toString());
        assertTrue(evidence(r, "tracking").contains("after the window began"), evidence(r, "tracking"));
    }

    @Test
    void everyInstanceMustTrackTheMigration() throws Exception {
        Gate.Result r = scenarios.get("stranger").gate(false);
        assertEquals(Set.of("tracking"), unmet(r), r.toString());
        assertTrue(evidence(r, "tracking").contains("('outsider' on"), evidence(r, "tracking"));
        assertTrue(evidence(r, "tracking").contains("without leads-email in its rules"));
    }

    @Test
    void silentInstanceFails() throws Exception {
        Scenario s = scenarios.get("silent");
        Gate.Result r = s.gate(Duration.ofMillis(System.currentTimeMillis() - trackingSince), false, SILENT_AFTER);
        assertEquals(Set.of("silence"), unmet(r), r.toString());
        assertTrue(evidence(r, "silence").contains("('crashing' on"), evidence(r, "silence"));
        assertTrue(evidence(r, "silence").contains("without an orderly stop"));
    }

    @Test
    void passedThroughUseFails() throws Exception {
        Gate.Result r = scenarios.get("passed").gate(false);
        assertEquals(Set.of("usage"), unmet(r), r.toString());
        assertTrue(evidence(r, "usage").contains("read passed through x1 by 'passed'"), evidence(r, "usage"));
        assertTrue(evidence(r, "usage").contains("SELECT user_email FROM leads WHERE id = ?"));
    }

    @Test
    void unanalysedUseFails() throws Exception {
        Gate.Result r = scenarios.get("unanalysed").gate(false);
        assertEquals(Set.of("usage"), unmet(r), r.toString());
        assertTrue(evidence(r, "usage").contains("read unanalysed x1"), evidence(r, "usage"));
        assertTrue(evidence(r, "usage").contains("at dev.bellows.testapp.LegacyLeads.countWithImports("));
    }

    @Test
    void clientBypassingBellowsFailsOrIsSaidUnchecked() throws Exception {
        Scenario s = scenarios.get("bypass");
        Gate.Result r = s.gate(false);
        if (pgss) {
            assertEquals(Set.of("bypass"), unmet(r), r.toString());
            assertTrue(evidence(r, "bypass").contains("SELECT user_email FROM leads WHERE id = $1"), evidence(r, "bypass"));
        } else {
            assertEquals(Set.of(), unmet(r), r.toString());
            assertTrue(evidence(r, "bypass").startsWith("NOT CHECKED: the pg_stat_statements extension is not installed"));
        }
        UsageDb.Cli cli = s.cli();
        assertEquals(pgss ? 1 : 0, cli.code(), cli.toString());
        assertTrue(cli.out().contains(pgss ? "[UNMET]  no client that bypasses Bellows" : "NOT CHECKED"), cli.out());
    }

    @Test
    void incompleteBackfillFails() throws Exception {
        Gate.Result r = scenarios.get("backfill").gate(false);
        assertEquals(Set.of("backfill"), unmet(r), r.toString());
        assertTrue(evidence(r, "backfill").startsWith("1 of 2 rows of public.leads match \"email\" IS DISTINCT FROM \"user_email\""),
            evidence(r, "backfill"));
    }

    @Test
    void schemaObjectsOnTheOldColumnFail() throws Exception {
        Gate.Result r = scenarios.get("deps").gate(false);
        assertEquals(Set.of("dependencies"), unmet(r), r.toString());
        String ev = evidence(r, "dependencies");
        assertTrue(ev.contains("lead_emails (view)"), ev);
        assertTrue(ev.contains("index leads_user_email_idx"), ev);
        assertTrue(ev.contains("function touch_lead() mentions user_email in its body (trigger function of touch_lead on leads)"), ev);
        UsageDb.Cli cli = scenarios.get("deps").cli();
        assertEquals(1, cli.code(), cli.toString());
        assertTrue(cli.out().contains("NOT SAFE: 1 condition is unmet (dependencies)"), cli.out());
    }

    @Test
    void errorsExitWithTwo() throws Exception {
        UsageDb db = scenarios.get("green").db();
        UsageDb.Cli unknown = db.cli("gate", "nope");
        assertEquals(2, unknown.code(), unknown.toString());
        assertTrue(unknown.err().contains("unknown migration id 'nope'"), unknown.err());
        UsageDb.Cli badUrl = UsageDb.Cli.run("gate", UsageDb.ID, "--url", "postgres://x");
        assertEquals(2, badUrl.code(), badUrl.toString());
        UsageDb.Cli unreachable = UsageDb.Cli.run("gate", UsageDb.ID, "--url", "jdbc:postgresql://127.0.0.1:1/none");
        assertEquals(2, unreachable.code(), unreachable.toString());
        assertTrue(unreachable.err().contains("cannot connect"), unreachable.err());
        UsageDb.Cli badRules = db.cli("gate", UsageDb.ID, "--rules", dir.resolve("missing.yaml").toString());
        assertEquals(2, badRules.code(), badRules.toString());
    }

    @Test
    void gateReadsPgStatStatementsWithoutNamingTheColumnItself() throws Exception {
        if (!pgss) return; // covered by clientBypassingBellowsFailsOrIsSaidUnchecked's unchecked branch
        UsageDb db = scenarios.get("green").db();
        try (Connection c = db.raw(); PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND query ILIKE '%user_email%' AND query NOT LIKE '%bellows:gate%' AND query ~* '^\\s*(select|insert|update|delete)'")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertTrue(rs.getLong(1) > 0, "Bellows' dual writes name user_email");
            }
        }
    }
}
