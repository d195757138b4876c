package dev.bellows.sample;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code --scenario column-removal}: {@code leads.fax} is dropped while the weekly job (the write-up's background job
 * that still read a dropped column) keeps reading and writing it. From switch on its reads give the rule's
 * {@code removed_value} under the old label and its writes of {@code fax} are left out; the plan's guarded contract
 * step drops the column under load; the strict gate names the job until it is replaced; every row is checked at the end.
 */
final class ColumnRemovalDemo {
    static final String ID = "leads-fax-removal";
    static final String REMOVED_VALUE = "n/a";

    private ColumnRemovalDemo() {
    }

    static ScenarioResult run(Timeline t, PostgresFixture pg, Settings s) throws Exception {
        t.part("Scenario column-removal: leads.fax is dropped while the weekly job still reads and writes it");
        Database db = Database.create(pg, "demo_column_removal");
        Expectations expected = new Expectations();
        db.createLegacySchema(s, expected);
        db.execute("ALTER TABLE leads ADD COLUMN fax text", "UPDATE leads SET fax = '+1-555-0100-' || id");
        Path rulesFile = Demo.rulesFile("bellows-rules-column-removal.yaml");
        RuleSet rules = RulesFile.load(rulesFile);
        t.say(String.format(Locale.ROOT, "fresh database, schema v1 with leads(id, name, user_email, created_at, fax); %,d leads,"
            + " %,d orders", s.seedLeads(), s.seedOrders()));
        TableRenameDemo.printRules(t, rulesFile);

        UsageTap tap = new UsageTap();
        List<Demo.Gate> gates = new ArrayList<>();
        Map<String, Boolean> checks = new LinkedHashMap<>();
        Path plan = Files.createTempDirectory("bellows-plan");
        ScenarioResult.Rows rows;
        List<WeeklyJob> legacyJobs = new ArrayList<>();
        Fleet fleet = new Fleet(t, s, db, rulesFile, tap);
        try (fleet) {
            Steps steps = new Steps(t, s, db, rulesFile, rules, fleet.running, tap);
            fleet.steps(steps);
            t.phases(() -> "leads-fax-removal=" + Demo.phase(fleet.running, ID));
            t.usage(tap, "uses of fax/s");

            t.step("Create the tables Bellows records usage and flags in: bellows init");
            steps.init();

            t.step("The app (which stopped using fax long ago) and the legacy weekly job (which did not) run through Bellows");
            fleet.service("app-1", "leads-app", s.legacyThreads(), LegacyLeadService::new, expected);
            Instance job = fleet.job("weekly-job", "weekly-job", ds -> {
                WeeklyJob j = new WeeklyJob(ds, true, "weekly-job", ID, REMOVED_VALUE, expected);
                legacyJobs.add(j);
                return j;
            });
            t.live(true);
            t.run(s.warmUp(), "phase off");

            t.step("Before starting: can Bellows carry every statement of the weekly job? bellows check");
            Path statements = Files.createTempFile("weekly-job-statements", ".sql");
            statements.toFile().deleteOnExit();
            Files.writeString(statements, WeeklyJob.legacyStatements());
            steps.check(ID, statements);

            t.step("The plan: expand makes fax optional if it has to; contract records the column order, then drops fax (guarded)");
            steps.plan(ID, plan);
            steps.apply(plan, "expand");
            fleet.refreshCatalogs();

            t.step("Phase expand: fax is read and written as written; every use is recorded (nothing to backfill: no data moves)");
            steps.flagsSet(ID, Phase.EXPAND, "expand step applied");
            t.run(s.stepLoad(), "expand");

            t.step("Deploy the new weekly job beside the legacy one: it never names fax");
            fleet.job("weekly-job-v2", "weekly-job-v2", ds -> new WeeklyJob(ds, false, "weekly-job-v2", ID, REMOVED_VALUE, expected));
            t.run(s.stepLoad(), "both versions");

            t.step("Can fax be dropped? bellows gate (window " + s.windowArg() + ")");
            gates.add(new Demo.Gate("expand", ID, false, false, steps.gate(ID, false)));

            t.step("Phase switch: reads of fax give 'n/a' under the label fax, writes of it are left out; the column is still there");
            steps.flagsSet(ID, Phase.SWITCH, "new weekly job deployed");
            t.run(s.stepLoad(), "switch");

            t.step("Who still names fax? bellows report");
            steps.report(ID);

            t.step("Wait for the window to pass with no physical use of fax, then ask the gates again");
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(Demo.awaitGate(t, steps, "switch", ID, false, true, s));
            gates.add(new Demo.Gate("switch", ID, true, false, steps.gate(ID, true)));
            t.say("the plain gate is green: nothing reads or writes fax physically; --strict is red and names the weekly"
                + " job's call sites: the code still names fax, and Bellows maps every such statement");

            t.step("Phase contract, then the contract migration: DROP COLUMN fax while the legacy weekly job still runs");
            steps.flagsSet(ID, Phase.CONTRACT, "gate green");
            steps.apply(plan, "contract");
            fleet.refreshCatalogs();
            t.run(s.stepLoad(), "fax gone, legacy job still running");

            t.step("The legacy weekly job is retired");
            fleet.stop(job);
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(Demo.awaitGate(t, steps, "done", ID, true, true, s));

            t.live(false);
            t.step("The record: bellows flags history");
            steps.flagsHistory();

            t.step("Stop, and check every row through the new code");
            for (Instance i : fleet.running) i.stopLoad();
            rows = finalCheck(t, fleet.running.get(0).dataSource(), expected);
            WeeklyJob legacyJob = legacyJobs.get(0);
            t.say(String.format(Locale.ROOT, "the legacy weekly job read fax %,d times as written (before switch) and %,d times"
                + " as '%s' (from switch on, also after the DROP); none otherwise", legacyJob.writtenReads.sum(),
                legacyJob.removedReads.sum(), REMOVED_VALUE));
            checks.put("fax is gone from leads", !db.hasColumn("leads", "fax"));
            checks.put("the legacy job read fax as written before switch", legacyJob.writtenReads.sum() > 0);
            checks.put("the legacy job read '" + REMOVED_VALUE + "' from switch on", legacyJob.removedReads.sum() > 0);
        } finally {
            Demo.deleteTree(plan);
        }
        return new ScenarioResult("column-removal", fleet.statements(), fleet.errors(), fleet.wrongAnswers(), fleet.messages(),
            gates, rows, checks);
    }

    /** Every lead's e-mail (the app's, the jobs' and the seed rows), read through the new code after the DROP. */
    private static ScenarioResult.Rows finalCheck(Timeline t, DataSource newCode, Expectations expected) throws SQLException {
        long unreadable = 0;
        long mismatched = 0;
        Set<Long> seen = new HashSet<>();
        try (Connection c = newCode.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, user_email FROM leads")) {
            while (rs.next()) {
                long id = rs.getLong(1);
                seen.add(id);
                String email = rs.getString(2);
                if (email == null) unreadable++;
                else if (!email.equals(expected.leadEmails.get(id))) mismatched++;
            }
        }
        long missing = expected.leadEmails.keySet().stream().filter(id -> !seen.contains(id)).count();
        t.say(String.format(Locale.ROOT, "%,d leads read by the new code: %d without an e-mail, %d different from what was"
            + " written, %d written but missing", seen.size(), unreadable, mismatched, missing));
        return new ScenarioResult.Rows(seen.size(), unreadable, mismatched, missing);
    }
}
