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
 * {@code --scenario table-rename}: {@code orders} becomes {@code purchases} while the legacy version keeps naming
 * {@code orders} in every statement. The plan's three steps (the new name as a view, the rename with a bridge view
 * under the old name, the bridge view dropped) run under load as the phases move; a new version naming
 * {@code purchases} deploys beside the legacy one; every row is checked at the end.
 */
final class TableRenameDemo {
    static final String ID = "orders-purchases";

    private TableRenameDemo() {
    }

    static ScenarioResult run(Timeline t, PostgresFixture pg, Settings s) throws Exception {
        t.part("Scenario table-rename: orders becomes purchases while the legacy version keeps naming orders");
        Database db = Database.create(pg, "demo_table_rename");
        Expectations expected = new Expectations();
        db.createLegacySchema(s, expected);
        Path rulesFile = Demo.rulesFile("bellows-rules-table-rename.yaml");
        RuleSet rules = RulesFile.load(rulesFile);
        t.say(String.format(Locale.ROOT, "fresh database, schema v1: leads(id, name, user_email), orders(id, lead_id, status, amount);"
            + " %,d leads, %,d orders", s.seedLeads(), s.seedOrders()));
        printRules(t, rulesFile);

        UsageTap tap = new UsageTap();
        List<Demo.Gate> gates = new ArrayList<>();
        Map<String, Boolean> checks = new LinkedHashMap<>();
        Path plan = Files.createTempDirectory("bellows-plan");
        ScenarioResult.Rows rows;
        Fleet fleet = new Fleet(t, s, db, rulesFile, tap);
        try (fleet) {
            Steps steps = new Steps(t, s, db, rulesFile, rules, fleet.running, tap);
            fleet.steps(steps);
            t.phases(() -> "orders-purchases=" + Demo.phase(fleet.running, ID));
            t.usage(tap, "uses of orders/s");

            t.step("Create the tables Bellows records usage and flags in: bellows init");
            steps.init();

            t.step("The legacy version runs through Bellows (phase off: nothing is rewritten yet)");
            Instance legacy = fleet.service("legacy-1", "leads-legacy", s.legacyThreads(), LegacyLeadService::new, expected);
            t.live(true);
            t.run(s.warmUp(), "legacy through Bellows");

            t.step("Before starting: can Bellows carry every statement the legacy code sends to orders? bellows check");
            Path statements = Files.createTempFile("legacy-statements", ".sql");
            statements.toFile().deleteOnExit();
            Files.writeString(statements, String.join(";\n", LegacyLeadService.INSERT_ORDER, LegacyLeadService.SELECT_ORDER,
                LegacyLeadService.UPDATE_STATUS, LegacyLeadService.COUNT_BY_STATUS) + ";\n");
            steps.check(ID, statements);

            t.step("The plan: three steps, each one transaction with a down script (also as Flyway files with --flyway)");
            steps.plan(ID, plan);

            t.step("Expand migration: purchases is created as an updatable view over orders");
            steps.apply(plan, "expand");
            fleet.refreshCatalogs();

            t.step("Phase expand: legacy statements still go as written (orders is the table); the new name works too");
            steps.flagsSet(ID, Phase.EXPAND, "expand step applied");
            t.run(s.stepLoad(), "expand");

            t.step("Deploy the new version beside the legacy one: the same code naming purchases (for now the view)");
            fleet.service("new-1", "leads-new", s.newThreads(), ds -> new LegacyLeadService(ds, "new", "purchases"), expected);
            t.run(s.stepLoad(), "both versions");
            steps.status();

            t.step("Can the old name go? bellows gate (window " + s.windowArg() + ")");
            gates.add(new Demo.Gate("expand", ID, false, false, steps.gate(ID, false)));

            t.step("Phase switch: wherever the legacy code names orders, Bellows sends purchases");
            steps.flagsSet(ID, Phase.SWITCH, "new version deployed");
            t.run(s.stepLoad(), "switch");

            t.step("Switch migration, under load: the table is renamed to purchases and orders becomes a bridge view over it");
            steps.apply(plan, "switch");
            fleet.refreshCatalogs();
            t.run(s.stepLoad(), "purchases is the table");

            t.step("Who still names orders? bellows report");
            steps.report(ID);

            t.step("Wait for the window to pass with no use of orders that Bellows did not rewrite, then ask the gates again");
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(Demo.awaitGate(t, steps, "switch", ID, false, true, s));
            gates.add(new Demo.Gate("switch", ID, true, false, steps.gate(ID, true)));
            t.say("the plain gate is green: nothing reaches orders unrewritten; --strict is red: the legacy code still names"
                + " orders, and Bellows maps every such statement");

            t.step("Phase contract, then the contract migration: the bridge view goes while the legacy version still runs");
            steps.flagsSet(ID, Phase.CONTRACT, "gate green");
            steps.apply(plan, "contract");
            fleet.refreshCatalogs();
            t.run(s.stepLoad(), "orders gone, legacy still serving");

            t.step("The legacy code moves to the new name: its instance is replaced by the new version");
            fleet.stop(legacy);
            fleet.service("new-2", "leads-new-2", s.newThreads(), ds -> new LegacyLeadService(ds, "new", "purchases"), expected);
            t.run(s.window().plusMillis(500), "gate window");
            gates.add(Demo.awaitGate(t, steps, "done", ID, true, true, s));

            t.live(false);
            t.step("The record: bellows flags history");
            steps.flagsHistory();

            t.step("Stop, and check every row through the new code");
            for (Instance i : fleet.running) i.stopLoad();
            rows = finalCheck(t, fleet.running.get(0).dataSource(), expected);
            checks.put("orders no longer exists (the bridge view was dropped)",
                db.count("SELECT count(*) FROM pg_class WHERE oid = to_regclass('public.orders')") == 0);
            checks.put("purchases is the table",
                db.count("SELECT count(*) FROM pg_class WHERE oid = to_regclass('public.purchases') AND relkind = 'r'") == 1);
            checks.put("Bellows rewrote uses of orders (" + tap.mapped() + ")", tap.mapped() > 0);
        } finally {
            Demo.deleteTree(plan);
        }
        return new ScenarioResult("table-rename", fleet.statements(), fleet.errors(), fleet.wrongAnswers(), fleet.messages(),
            gates, rows, checks);
    }

    static void printRules(Timeline t, Path rulesFile) throws Exception {
        t.say("rules file (copied to " + rulesFile + "):");
        for (String line : Files.readAllLines(rulesFile)) {
            if (!line.isBlank() && !line.stripLeading().startsWith("#")) t.say("  " + line);
        }
    }

    /** Every lead's e-mail and every order's status, read through the new code, against what the services wrote. */
    private static ScenarioResult.Rows finalCheck(Timeline t, DataSource newCode, Expectations expected) throws SQLException {
        long checked = 0;
        long unreadable = 0;
        long mismatched = 0;
        Set<Long> leads = new HashSet<>();
        Set<Long> orders = new HashSet<>();
        try (Connection c = newCode.getConnection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT id, user_email FROM leads")) {
                while (rs.next()) {
                    checked++;
                    leads.add(rs.getLong(1));
                    String email = rs.getString(2);
                    if (email == null) unreadable++;
                    else if (!email.equals(expected.leadEmails.get(rs.getLong(1)))) mismatched++;
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT id, status FROM purchases")) {
                while (rs.next()) {
                    checked++;
                    orders.add(rs.getLong(1));
                    String status = rs.getString(2);
                    if (status == null) unreadable++;
                    else if (OrderStatus.ofText(status) != expected.orderStatuses.get(rs.getLong(1))) mismatched++;
                }
            }
        }
        long missing = expected.leadEmails.keySet().stream().filter(id -> !leads.contains(id)).count()
            + expected.orderStatuses.keySet().stream().filter(id -> !orders.contains(id)).count();
        t.say(String.format(Locale.ROOT, "%,d leads and %,d purchases read by the new code: %d without a value, %d different"
            + " from what the services wrote, %d written but missing", leads.size(), orders.size(), unreadable, mismatched, missing));
        return new ScenarioResult.Rows(checked, unreadable, mismatched, missing);
    }
}
