package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testapp.NotNullApp;
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
 * NOT NULL with a default (issue 15 §4) through every step on the embedded server: legacy code that writes NULL
 * into {@code notes.body} (bound with setNull, and as a literal) and new code that leaves it out run under load while
 * the plan's expand (default), check (NOT VALID) and, after the backfill, not_null (VALIDATE, SET NOT NULL) files are
 * applied. The end: 0 errors, 0 wrong answers, the column NOT NULL, no row NULL and every row as written.
 */
class NotNullWalkTest {
    private static final String ID = "notes-body-not-null";
    private static final int SEED = 2_000;

    @TempDir Path tmp;

    @Test
    void aColumnBecomesNotNullWhileLegacyCodeStillWritesNull() throws Exception {
        WfDb db = WfDb.create("notnull");
        db.exec("CREATE TABLE notes (id bigint PRIMARY KEY, title text NOT NULL, body text)",
            "INSERT INTO notes SELECT g, 't' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'seed' || g END FROM generate_series(1, " + SEED + ") g");
        Path rules = tmp.resolve("bellows-rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: notes\n    from: body\n    not_null: true\n"
            + "    default_value: \"''\"\n    phase: off\n");
        List<String> conn = List.of("--url", RunbookWalkTest.cliUrl(db));
        String r = rules.toString();
        NotNullApp.World world = new NotNullApp.World("");
        String appUrl = "jdbc:bellows:" + db.url.substring("jdbc:".length()) + (db.url.contains("?") ? "&" : "?")
            + "bellows.rules=" + URLEncoder.encode(r, StandardCharsets.UTF_8) + "&bellows.usage.flushInterval=500ms";
        NotNullApp legacy = NotNullApp.start(appUrl, db.fixture.user(), db.fixture.password(), "legacy-app",
            NotNullApp.Version.LEGACY, world, 2, 1_000_000_000L);
        NotNullApp newer = null;
        try {
            awaitLoad(world, 200);
            ok(cli(conn, "init"));
            Path dir = tmp.resolve("plan");
            WfDb.Run plan = ok(cli(conn, "plan", ID, "--rules", r, "--out", dir.toString()));
            assertTrue(plan.out().contains("NOT NULL, default ''"), plan.toString());
            String notNullSql = Files.readString(Files.list(dir).filter(p -> p.toString().endsWith("_not_null.sql")).findFirst().orElseThrow());
            assertTrue(notNullSql.contains("VALIDATE CONSTRAINT") && notNullSql.contains("SET NOT NULL"), notNullSql);
            String checkSql = Files.readString(Files.list(dir).filter(p -> p.toString().endsWith("_check.sql")).findFirst().orElseThrow());
            assertTrue(checkSql.contains("CHECK (body IS NOT NULL) NOT VALID"), checkSql);

            RunbookWalkTest.apply(db, dir, "expand");
            ok(cli(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "expand applied"));
            await(conn, new String[] {"status"}, x -> x.out().contains(ID + "=expand") && !x.out().contains(ID + "=off"));
            newer = NotNullApp.start(appUrl, db.fixture.user(), db.fixture.password(), "new-app", NotNullApp.Version.NEW,
                world, 1, 2_000_000_000L);
            // the gate is red while rows hold NULL
            WfDb.Run red = cli(conn, "gate", ID, "--window", "3s");
            assertEquals(1, red.exit(), red.toString());
            assertTrue(red.out().contains("have body NULL"), red.toString());
            RunbookWalkTest.apply(db, dir, "check");
            long nullsBefore = world.nullWrites.get();
            awaitLoad(world, 300);
            assertTrue(world.nullWrites.get() > nullsBefore, "legacy code kept writing NULL after the NOT VALID check");
            WfDb.Run backfill = ok(cli(conn, "backfill", ID, "--rules", r, "--batch", "500"));
            assertTrue((backfill.out() + backfill.err()).contains("verified: 0 rows have body NULL"), backfill.toString());
            await(conn, new String[] {"gate", ID, "--window", "3s"}, x -> x.exit() == 0);
            RunbookWalkTest.apply(db, dir, "not_null");
            assertEquals("t", db.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'notes'::regclass AND attname = 'body'"));
            nullsBefore = world.nullWrites.get();
            awaitLoad(world, 400);
            assertTrue(world.nullWrites.get() > nullsBefore, "legacy code kept writing NULL after SET NOT NULL");
            ok(cli(conn, "report", "--migration", ID));
        } finally {
            if (newer != null) newer.close();
            legacy.close();
        }
        System.out.printf("not null walk: %d statements, %d errors, %d wrong answers, %d NULL writes%n",
            world.ops.get(), world.errors.get(), world.wrong.get(), world.nullWrites.get());
        assertEquals(0, world.errors.get(), "errors: " + world.problems);
        assertEquals(0, world.wrong.get(), "wrong answers: " + world.problems);
        assertEquals(0, db.count("SELECT count(*) FROM notes WHERE body IS NULL"), "no row is NULL");
        long diverging = 0;
        for (String row : db.rows("SELECT id, body FROM notes WHERE id > " + SEED)) {
            String[] p = row.split(" \\| ", -1);
            String written = world.bodies.get(Long.parseLong(p[0]));
            String expected = written.equals("\0null") ? "" : written;
            if (!expected.equals(p.length > 1 ? p[1] : "")) diverging++;
        }
        assertEquals(0, diverging, "rows that do not hold what was written (or the default for NULL)");
        assertEquals(world.bodies.size(), db.count("SELECT count(*) FROM notes WHERE id > " + SEED), "no row lost");
        assertTrue(world.ops.get() > 1_000, "the load ran: " + world.ops.get());
    }

    private static void awaitLoad(NotNullApp.World world, long statements) throws InterruptedException {
        WalkSteps.awaitLoad(world.ops, world.problems, statements);
    }
}
