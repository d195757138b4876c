package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The traps of issue 20 that a user following docs/runbook.md could fall into, one test each: the command or
 * file refuses, names the safe next step, and no stored value changes.
 */
class RunbookTrapsTest {
    private static final String ID = "leads-contact-email";
    private static final String RULES = "migrations:\n  - id: " + ID + "\n    table: leads\n    from: user_email\n"
        + "    to: contact_email\n    phase: off\n";

    @TempDir Path tmp;

    /** A leads table (NOT NULL, uniquely indexed user_email), its plan applied up to not_null, flag in {@code phase}. */
    private Path setUp(WfDb db, Phase phase, boolean backfill) throws Exception {
        db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, name text NOT NULL, user_email text NOT NULL)",
            "CREATE UNIQUE INDEX leads_user_email_idx ON leads (user_email)",
            "INSERT INTO leads SELECT g, 'n' || g, 'e' || g || '@example.com' FROM generate_series(1, 200) g");
        Path rules = WfDb.rules(tmp, RULES);
        Path out = tmp.resolve("plan");
        WfDb.Run plan = run(db, "plan", ID, "--rules", rules.toString(), "--out", out.toString());
        assertEquals(0, plan.exit(), plan.toString());
        RunbookWalkTest.apply(db, out, "expand");
        RunbookWalkTest.apply(db, out, "mirror");
        if (phase != Phase.OFF) flags(db, rules, "expand").exit();
        if (backfill) {
            WfDb.Run b = run(db, "backfill", ID, "--rules", rules.toString());
            assertEquals(0, b.exit(), b.toString());
            RunbookWalkTest.apply(db, out, "not_null");
        }
        if (phase.ordinal() >= Phase.SWITCH.ordinal()) assertEquals(0, flags(db, rules, "switch").exit());
        if (phase == Phase.CONTRACT) assertEquals(0, flags(db, rules, "contract", "--force").exit());
        return rules;
    }

    private static WfDb.Run flags(WfDb db, Path rules, String phase, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("flags", "set", ID, phase, "--rules", rules.toString()));
        a.addAll(List.of(more));
        return run(db, a.toArray(new String[0]));
    }

    /** {@code bellows args…} on this database. */
    private static WfDb.Run run(WfDb db, String... args) {
        List<String> a = new java.util.ArrayList<>(List.of(args));
        a.addAll(db.cliConnection());
        return WfDb.cli(a.toArray(new String[0]));
    }

    /** Every stored value of the table and the flag, as one comparable text. */
    private static String stored(WfDb db) throws SQLException {
        return db.query("SELECT md5(string_agg(to_jsonb(l)::text, ',' ORDER BY id)) FROM leads l") + " flag="
            + db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'");
    }

    private Path contractFile() throws Exception {
        try (var files = Files.list(tmp.resolve("plan"))) {
            return files.filter(p -> p.toString().endsWith("_contract.sql")).findFirst().orElseThrow();
        }
    }

    private BellowsDataSource instance(WfDb db, Path rules, String app) {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(db.url);
        if (db.fixture.user() != null) ds.setUser(db.fixture.user());
        if (db.fixture.password() != null) ds.setPassword(db.fixture.password());
        ds.setRules(rules.toString());
        ds.setAppName(app);
        return ds;
    }

    // ------------------------------------------------------------------ trap 2

    @Test
    void theContractFileRefusesWhileTheFlagIsNotContractAndLeavesEveryValue() throws Exception {
        WfDb db = WfDb.create("trap2_flag");
        setUp(db, Phase.EXPAND, true); // backfill done, no divergence: the old guard would have dropped
        String before = stored(db);
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = db.raw()) {
                ScriptRunner.run(c, contractFile());
            }
        });
        assertTrue(e.getMessage().contains("the flag of " + ID + " is expand, not contract"), e.getMessage());
        assertTrue(e.getMessage().contains("bellows flags set " + ID), e.getMessage());
        assertEquals(before, stored(db));
        assertEquals("1", db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'user_email'"));
    }

    @Test
    void theContractFileRefusesWhileALiveInstanceIsNotInContract() throws Exception {
        WfDb db = WfDb.create("trap2_live");
        Path rules = setUp(db, Phase.SWITCH, true);
        BellowsDataSource ds = instance(db, rules, "behind-app");
        BellowsRuntime rt = ds.runtime();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = 1")) {
            ps.executeQuery().close();
        }
        assertTrue(rt.usageRecorder().flush()); // its heartbeat says switch
        // the flag moves to contract, but the instance has not reported it yet: the file must wait for it
        db.exec("UPDATE bellows.flags SET phase = 'contract' WHERE migration_id = '" + ID + "'");
        String before = stored(db);
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = db.raw()) {
                ScriptRunner.run(c, contractFile());
            }
        });
        assertTrue(e.getMessage().contains("live instances are not in contract: behind-app"), e.getMessage());
        assertEquals(before, stored(db));
        rt.close();
    }

    @Test
    void inContractTheWritesMadeSinceContractDoNotBlockTheDrop() throws Exception {
        WfDb db = WfDb.create("trap2_expected");
        Path rules = setUp(db, Phase.CONTRACT, true);
        BellowsDataSource ds = instance(db, rules, "contract-app");
        BellowsRuntime rt = ds.runtime();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = 5")) {
            ps.setString(1, "newer@example.com"); // contract: only contact_email is written
            assertEquals(1, ps.executeUpdate());
        }
        assertTrue(rt.usageRecorder().flush());
        assertEquals("e5@example.com | newer@example.com", db.rows("SELECT user_email, contact_email FROM leads WHERE id = 5").get(0));
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, contractFile()); // no allow_divergence needed
        }
        assertEquals("newer@example.com", db.query("SELECT contact_email FROM leads WHERE id = 5"));
        rt.close();
    }

    @Test
    void afterAPrematureDropTheOnlyMoveOfferedIsForward() throws Exception {
        WfDb db = WfDb.create("trap2_forward");
        Path rules = setUp(db, Phase.EXPAND, true);
        db.exec("ALTER TABLE leads DROP COLUMN user_email"); // what the old contract file did too early
        String before = stored(db);
        WfDb.Run sw = flags(db, rules, "switch");
        assertEquals(1, sw.exit(), sw.toString());
        assertTrue(sw.err().contains("The only way is forward: bellows flags set " + ID + " contract"), sw.toString());
        assertEquals(before, stored(db));
        WfDb.Run off = flags(db, rules, "off");
        assertEquals(1, off.exit(), off.toString());
        assertTrue(off.err().contains("The only way is forward"), off.toString());
        assertEquals(before, stored(db));
        WfDb.Run forward = flags(db, rules, "contract");
        assertEquals(0, forward.exit(), forward.toString());
        assertTrue(forward.out().contains("the gate was not run"), forward.toString());
        assertEquals("contract", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
        assertEquals("0", db.query("SELECT count(*) FROM bellows.flag_history WHERE forced"));
    }

    // ------------------------------------------------------------------ trap 5

    @Test
    void switchBeforeTheBackfillIsRefusedNamingBellowsBackfill() throws Exception {
        WfDb db = WfDb.create("trap5");
        Path rules = setUp(db, Phase.EXPAND, false);
        String before = stored(db);
        WfDb.Run r = flags(db, rules, "switch");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("200 rows of public.leads have contact_email IS DISTINCT FROM user_email"), r.toString());
        assertTrue(r.err().contains("Run bellows backfill " + ID + " first"), r.toString());
        assertEquals(before, stored(db));
        assertEquals("expand", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
    }

    // ------------------------------------------------------------------ trap 6

    @Test
    void flagsSetPassesTheGateOptionsToTheGate() throws Exception {
        WfDb db = WfDb.create("trap6");
        Path rules = setUp(db, Phase.SWITCH, true);
        String before = stored(db);
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        WfDb.Run r;
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r = flags(db, rules, "contract", "--window", "3s", "--silent-after", "30s");
        } finally {
            System.setOut(old);
        }
        String gate = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
        // no instance ever tracked the migration here, so the gate is red: but it was judged over 3 s, not 8 days
        assertEquals(1, r.exit(), r + gate);
        assertTrue(gate.contains("window: 3s"), gate);
        assertEquals(before, stored(db));
        WfDb.Run bad = flags(db, rules, "contract", "--window", "soon");
        assertEquals(1, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("could not be evaluated (exit 2)"), bad.toString());
    }

    // ------------------------------------------------------------------ trap 7

    @Test
    void aMistypedRuleIsWarnedWithItsFileAndLineAndNeverOverwritesTheReportedDefinition() throws Exception {
        WfDb db = WfDb.create("trap7");
        Path rules = setUp(db, Phase.EXPAND, false);
        BellowsDataSource good = instance(db, rules, "good-app");
        try (Connection c = good.getConnection()) {
            c.createStatement().execute("SELECT 1");
        }
        assertTrue(good.runtime().usageRecorder().flush());
        assertEquals("user_email -> contact_email", db.query("SELECT from_column || ' -> ' || to_column FROM bellows.migrations"));

        Path typo = tmp.resolve("typo.yaml");
        Files.writeString(typo, "# the same migration, mistyped\nmigrations:\n  - id: " + ID + "\n    table: leads\n"
            + "    from: user_emial\n    to: contact_emial\n    phase: expand\n");
        List<String> warnings = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(BellowsRuntime.class.getName());
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) {
                warnings.add(r.getMessage());
            }

            @Override public void flush() {
            }

            @Override public void close() {
            }
        };
        logger.addHandler(h);
        BellowsDataSource bad = instance(db, typo, "typo-app");
        try {
            try (Connection c = bad.getConnection()) {
                c.createStatement().execute("SELECT 1");
            }
            assertTrue(warnings.stream().anyMatch(w -> w.contains(typo + ":3") && w.contains("user_emial")
                && w.contains("neither of which exists")), "at start: " + warnings);
            // on reload: the correct instance gets the mistyped rules
            warnings.clear();
            good.runtime().setRules(dev.bellows.rules.RulesFile.load(typo.toString(), null));
            assertTrue(warnings.stream().anyMatch(w -> w.contains(typo + ":3") && w.contains("neither of which exists")),
                "on reload: " + warnings);
            good.runtime().setRules(dev.bellows.rules.RulesFile.load(rules.toString(), null));
        } finally {
            logger.removeHandler(h);
        }
        assertTrue(bad.runtime().usageRecorder().flush());
        assertEquals("user_email -> contact_email", db.query("SELECT from_column || ' -> ' || to_column FROM bellows.migrations"),
            "the typo did not overwrite the definition the correct instance reported");

        // plan names the rules file and line of a rule whose column does not exist
        WfDb.Run plan = run(db, "plan", ID, "--rules", typo.toString(), "--out", tmp.resolve("p2").toString());
        assertEquals(2, plan.exit(), plan.toString());
        assertTrue(plan.err().contains(typo + ":3"), plan.toString());
        good.runtime().close();
        bad.runtime().close();
    }

    // ------------------------------------------------------------------ trap 3 and 8: the gate

    @Test
    void theGateListsTwinnedIndexesWithoutBlockingAndStrictIgnoresStar() throws Exception {
        WfDb db = WfDb.create("trap38");
        Path rules = setUp(db, Phase.SWITCH, true);
        BellowsDataSource ds = instance(db, rules, "star-app");
        long start = System.currentTimeMillis();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT * FROM leads WHERE id = ?")) {
            ps.setLong(1, 3);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals("e3@example.com", rs.getString("user_email")); // the old view's * (bellows.schema=old)
            }
        }
        assertTrue(ds.runtime().usageRecorder().flush());
        String window = (System.currentTimeMillis() - start + 2000) + "ms";
        WfDb.Run gate = run(db, "gate", ID, "--rules", rules.toString(), "--window", window, "--strict");
        String out = gate.out();
        int deps = out.indexOf("depends on public.leads.user_email");
        assertTrue(deps > 0, gate.toString());
        String depLine = out.substring(out.lastIndexOf('\n', deps) + 1, out.indexOf('\n', deps));
        assertTrue(depLine.startsWith("[ok]"), gate.toString());
        assertTrue(out.contains("index leads_user_email_idx (goes with the column: its valid twin index"), gate.toString());
        int strict = out.indexOf("(--strict)");
        String strictLine = out.substring(out.lastIndexOf('\n', strict) + 1, out.indexOf('\n', strict));
        assertTrue(strictLine.startsWith("[ok]"), gate.toString());
        assertTrue(out.contains("came only through *"), gate.toString());

        // the twin is what makes the index harmless: without it the index blocks
        db.exec("DROP INDEX leads_contact_email_idx");
        WfDb.Run noTwin = run(db, "gate", ID, "--rules", rules.toString(), "--window", window);
        assertFalse(noTwin.out().contains("goes with the column"), noTwin.toString());
        assertEquals(1, noTwin.exit(), noTwin.toString());
        ds.runtime().close();
    }

    // ------------------------------------------------------------------ trap 9: progress on a pipe

    @Test
    void backfillProgressOnAPipePrintsAtItsIntervalAndOnceAtTheEnd() {
        StringWriter sw = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), false, 10_000);
        for (int i = 1; i <= 50; i++) {
            // total is an estimate raised to scanned as the pass goes on, as Backfill reports it
            bar.progress(new Backfill.Progress(i * 1000L, i * 1000L, i, i * 1000L, 5000, Integer.toString(i * 1000)));
        }
        bar.close();
        List<String> lines = sw.toString().lines().toList();
        assertEquals(1, lines.size(), sw.toString());
        assertTrue(lines.get(0).contains("50,000 / 50,000 rows"), lines.get(0));
    }
}
