package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testapp.TicketsApp;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import static dev.bellows.workflow.WalkSteps.await;
import static dev.bellows.workflow.WalkSteps.cli;
import static dev.bellows.workflow.WalkSteps.ok;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A column removal (issue 15 §2) through every phase on the embedded server, with the CLI as docs/runbook.md's
 * "Removing a column" section runs it: legacy code that writes and reads {@code tickets.legacy_code} (and reads
 * {@code SELECT *} by position) and new code that never names it run under load from off to after the DROP. The
 * end: 0 errors, 0 wrong answers, every title as last written, the column gone, the strict gate red while the
 * legacy code runs (naming its call site) and green once it is gone.
 */
class ColumnRemovalWalkTest {
    private static final String ID = "tickets-legacy-code";
    private static final int SEED = 2_000;

    @TempDir Path tmp;

    @Test
    void aColumnIsRemovedUnderLoadWithLegacyAndNewCodeSideBySide() throws Exception {
        WfDb db = WfDb.create("removal");
        db.exec("CREATE TABLE tickets (id bigint PRIMARY KEY, title text NOT NULL, legacy_code text NOT NULL, body text)",
            "CREATE INDEX tickets_legacy_code_idx ON tickets (legacy_code)",
            "INSERT INTO tickets SELECT g, 't' || g, 'seed' || g FROM generate_series(1, " + SEED + ") g");
        Path rules = tmp.resolve("bellows-rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: tickets\n    from: legacy_code\n"
            + "    removed_value: \"'n/a'\"\n    phase: off\n");
        List<String> conn = List.of("--url", RunbookWalkTest.cliUrl(db));
        String r = rules.toString();

        TicketsApp.World world = new TicketsApp.World("n/a");
        for (long i = 1; i <= SEED; i++) world.seed(i, "t" + i, "seed" + i);
        String appUrl = "jdbc:bellows:" + db.url.substring("jdbc:".length()) + (db.url.contains("?") ? "&" : "?")
            + "bellows.rules=" + URLEncoder.encode(r, StandardCharsets.UTF_8) + "&bellows.usage.flushInterval=500ms";
        TicketsApp legacy = TicketsApp.start(appUrl, db.fixture.user(), db.fixture.password(), "legacy-app",
            TicketsApp.Version.LEGACY, world, 2, 1_000_000_000L);
        TicketsApp newer = null;
        try {
            awaitLoad(world, 200);
            ok(cli(conn, "init"));
            // check: every statement of the legacy code is carried in every phase, PREPAREd by PostgreSQL
            Path statements = tmp.resolve("statements.sql");
            Files.writeString(statements, "INSERT INTO tickets (id, title, legacy_code) VALUES (?, ?, ?);\n"
                + "UPDATE tickets SET title = ?, legacy_code = ? WHERE id = ?;\n"
                + "SELECT title, legacy_code FROM tickets WHERE id = ?;\nSELECT * FROM tickets WHERE id = ?;\n");
            WfDb.Run check = ok(cli(conn, "check", ID, "--rules", r, "--file", statements.toString()));
            assertTrue(check.out().contains("Coverage of public.tickets.legacy_code -> (removed)"), check.toString());
            assertFalse(check.out().contains("NOT ANALYSED") || check.out().contains("REJECTED"), check.toString());

            // plan: expand makes the NOT NULL column optional, contract records the order and drops it
            Path dir = tmp.resolve("plan");
            WfDb.Run plan = ok(cli(conn, "plan", ID, "--rules", r, "--out", dir.toString()));
            assertTrue(plan.out().contains("column removal"), plan.toString());
            Path flyway = tmp.resolve("flyway");
            ok(cli(conn, "plan", ID, "--rules", r, "--out", flyway.toString(), "--flyway"));
            try (var files = Files.list(flyway)) {
                List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
                assertTrue(names.stream().anyMatch(n -> n.matches("V\\d+__bellows_tickets_legacy_code_expand\\.sql")), names.toString());
                assertTrue(names.stream().anyMatch(n -> n.matches("V\\d+__bellows_tickets_legacy_code_contract\\.sql")), names.toString());
            }
            String contractSql = Files.readString(Files.list(dir).filter(p -> p.toString().endsWith("_contract.sql")).findFirst().orElseThrow());
            assertTrue(contractSql.contains("DROP COLUMN IF EXISTS legacy_code"), contractSql);
            assertTrue(contractSql.contains("bellows.column_order"), contractSql);
            RunbookWalkTest.apply(db, dir, "expand");
            assertEquals("f", db.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'tickets'::regclass AND attname = 'legacy_code'"));

            ok(cli(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "expand applied"));
            WfDb.Run backfill = cli(conn, "backfill", ID, "--rules", r);
            assertEquals(2, backfill.exit(), backfill.toString());
            assertTrue(backfill.err().contains("nothing to backfill"), backfill.toString());

            // the new version deploys beside the legacy one
            newer = TicketsApp.start(appUrl, db.fixture.user(), db.fixture.password(), "new-app", TicketsApp.Version.NEW,
                world, 2, 2_000_000_000L);
            awaitLoad(world, 300);
            // switch: reads of legacy_code give 'n/a', writes of it are dropped; the column still exists
            ok(cli(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "new code deployed"));
            awaitLoad(world, 300);
            await(conn, new String[] {"report", "--migration", ID, "--since", "flag"}, x -> x.out().contains("rewritten"));

            // the gate turns green once a window passes with only rewritten uses; strict stays red and names the reader
            WfDb.Run gate = await(conn, new String[] {"gate", ID, "--window", "3s"}, x -> x.exit() == 0);
            assertTrue(gate.out().contains("a column removal"), gate.toString());
            WfDb.Run strict = cli(conn, "gate", ID, "--window", "3s", "--strict");
            assertEquals(1, strict.exit(), strict.toString());
            assertTrue(strict.out().contains("dev.bellows.testapp.TicketsApp"), "the strict gate names the call site: " + strict);

            ok(cli(conn, "flags", "set", ID, "contract", "--rules", r, "--window", "3s", "--reason", "gate green"));
            awaitLoad(world, 200);
            applyOnceTheFleetFollows(db, dir, "contract");
            assertEquals("0", db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'tickets'::regclass"
                + " AND attname = 'legacy_code' AND NOT attisdropped"));
            // after the drop both versions keep working (the legacy one through the removed value and the recorded order)
            long before = world.ops.get();
            awaitLoad(world, 400);
            assertTrue(world.removedReads.get() > 0, "legacy reads gave the removed value");
            WfDb.Run report = ok(cli(conn, "report", "--migration", ID));
            assertTrue(report.out().contains("legacy-app"), report.toString());

            legacy.close();
            legacy = null;
            assertTrue(world.ops.get() > before);
            // once the legacy code is gone and a window passes, even the strict gate is green
            await(conn, new String[] {"gate", ID, "--window", "3s", "--strict"}, x -> x.exit() == 0);
            awaitLoad(world, 100);
        } finally {
            if (legacy != null) legacy.close();
            if (newer != null) newer.close();
        }
        System.out.printf("column removal walk: %d statements, %d errors, %d wrong answers, %d removed-value reads%n",
            world.ops.get(), world.errors.get(), world.wrong.get(), world.removedReads.get());
        assertEquals(0, world.errors.get(), "errors: " + world.problems);
        assertEquals(0, world.wrong.get(), "wrong answers: " + world.problems);
        // every row holds the title last written
        List<String> rows = db.rows("SELECT id, title FROM tickets ORDER BY id");
        assertEquals(world.titles.size(), rows.size(), "no row lost or added");
        long diverging = 0;
        for (String row : rows) {
            String[] p = row.split(" \\| ");
            if (!p[1].equals(world.titles.get(Long.parseLong(p[0])))) diverging++;
        }
        assertEquals(0, diverging, "rows whose title differs from the last write");
        assertTrue(world.ops.get() > 1_500, "the load ran: " + world.ops.get());
    }

    /** The contract file's guard refuses until every live instance reports contract (its next heartbeat). */
    private static void applyOnceTheFleetFollows(WfDb db, Path dir, String step) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                RunbookWalkTest.apply(db, dir, step);
                return;
            } catch (java.sql.SQLException e) {
                if (!String.valueOf(e.getMessage()).contains("not in contract") || System.nanoTime() > deadline) throw e;
                Thread.sleep(300);
            }
        }
    }

    private static void awaitLoad(TicketsApp.World world, long statements) throws InterruptedException {
        WalkSteps.awaitLoad(world.ops, world.problems, statements);
    }
}
