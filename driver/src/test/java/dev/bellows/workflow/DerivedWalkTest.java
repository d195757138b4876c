package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testapp.SplitApp;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import static dev.bellows.workflow.WalkSteps.await;
import static dev.bellows.workflow.WalkSteps.cli;
import static dev.bellows.workflow.WalkSteps.ok;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A split and a merge (issue 15 §3) through every step on the embedded server: {@code people.name} becomes {@code first_name} and
 * {@code last_name} while legacy code (reading and writing name) and new code (writing both new columns, and
 * last_name alone) run side by side under load: plan, expand, backfill, check, switch, gate, contract and the drop.
 * The end: 0 errors, 0 wrong reads, every row's new columns what up makes of what was last written.
 */
class DerivedWalkTest {
    static final String ID = "people-split-name";
    private static final int SEED = 3_000;
    static final String RULES = "migrations:\n  - id: " + ID + "\n    table: people\n    from: name\n"
        + "    to: [first_name, last_name]\n    up:\n"
        + "      first_name: \"split_part(name, ' ', 1)\"\n"
        + "      last_name: \"CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END\"\n"
        + "    down: \"CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END\"\n"
        + "    phase: off\n";

    @TempDir Path tmp;

    @Test
    void aColumnIsSplitWhileLegacyAndNewCodeRun() throws Exception {
        WfDb db = WfDb.create("split");
        db.exec("CREATE TABLE people (id bigint PRIMARY KEY, name text, age int)",
            "INSERT INTO people SELECT g, CASE WHEN g % 9 = 0 THEN NULL WHEN g % 2 = 0 THEN 'Seed ' || g || ' Person' ELSE 'Mono' || g END,"
                + " g % 90 FROM generate_series(1, " + SEED + ") g");
        Path rules = tmp.resolve("bellows-rules.yaml");
        Files.writeString(rules, RULES);
        List<String> conn = List.of("--url", RunbookWalkTest.cliUrl(db));
        String r = rules.toString();
        SplitApp.World world = new SplitApp.World();
        String appUrl = "jdbc:bellows:" + db.url.substring("jdbc:".length()) + (db.url.contains("?") ? "&" : "?")
            + "bellows.rules=" + URLEncoder.encode(r, StandardCharsets.UTF_8) + "&bellows.usage.flushInterval=500ms";
        SplitApp legacy = SplitApp.start(appUrl, db.fixture.user(), db.fixture.password(), "legacy-app",
            SplitApp.Version.LEGACY, world, 2, 1_000_000_000L);
        SplitApp newer = null;
        try {
            awaitLoad(world, 200);
            ok(cli(conn, "init"));
            Path dir = tmp.resolve("plan");
            WfDb.Run plan = ok(cli(conn, "plan", ID, "--rules", r, "--out", dir.toString()));
            assertTrue(plan.out().contains("first_name") && plan.out().contains("last_name"), plan.toString());
            RunbookWalkTest.apply(db, dir, "expand");
            assertEquals("text", db.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'last_name'"));
            ok(cli(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "expand applied"));
            await(conn, new String[] {"status"}, x -> x.out().contains(ID + "=expand") && !x.out().contains(ID + "=off"));
            newer = SplitApp.start(appUrl, db.fixture.user(), db.fixture.password(), "new-app", SplitApp.Version.NEW,
                world, 1, 2_000_000_000L);
            awaitLoad(world, 300);
            // switching before the backfill is refused: reads would miss the seed rows
            WfDb.Run early = cli(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "too early");
            assertEquals(1, early.exit(), early.toString());
            WfDb.Run backfill = ok(cli(conn, "backfill", ID, "--rules", r, "--batch", "500"));
            assertTrue((backfill.out() + backfill.err()).contains("verified"), backfill.toString());
            WfDb.Run check = ok(cli(conn, "check", ID, "--rules", r, "--file", statements().toString()));
            assertTrue(check.out().contains("SELECT name FROM people"), check.toString());
            ok(cli(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "backfilled"));
            await(conn, new String[] {"status"}, x -> x.out().contains(ID + "=switch") && !x.out().contains(ID + "=expand"));
            awaitLoad(world, 400);
            await(conn, new String[] {"gate", ID, "--window", "3s"}, x -> x.exit() == 0);
            ok(cli(conn, "flags", "set", ID, "contract", "--rules", r, "--window", "3s", "--reason", "gate green"));
            await(conn, new String[] {"status"}, x -> x.out().contains(ID + "=contract") && !x.out().contains(ID + "=switch"));
            awaitLoad(world, 300);
            RunbookWalkTest.apply(db, dir, "contract");
            assertEquals(0, db.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'name' AND NOT attisdropped"));
            awaitLoad(world, 400);
            ok(cli(conn, "report", "--migration", ID));
        } finally {
            if (newer != null) newer.close();
            legacy.close();
        }
        System.out.printf("split walk: %d statements, %d errors, %d wrong reads%n", world.ops.get(), world.errors.get(), world.wrong.get());
        assertEquals(0, world.errors.get(), "errors: " + world.problems);
        assertEquals(0, world.wrong.get(), "wrong reads: " + world.problems);
        long diverging = 0;
        for (String row : db.rows("SELECT id, coalesce(first_name, '<null>'), coalesce(last_name, '<null>') FROM people WHERE id > " + SEED)) {
            String[] p = row.split(" \\| ", -1);
            String meant = world.names.get(Long.parseLong(p[0]));
            String[] want = SplitApp.split(meant.equals("\0null") ? null : meant);
            if (!Objects.equals(Objects.requireNonNullElse(want[0], "<null>"), p[1])
                || !Objects.equals(Objects.requireNonNullElse(want[1], "<null>"), p[2])) {
                diverging++;
            }
        }
        assertEquals(0, diverging, "rows whose new columns are not what the last write meant");
        assertEquals(world.names.size(), db.count("SELECT count(*) FROM people WHERE id > " + SEED), "no row lost");
        assertEquals(0, db.count("SELECT count(*) FROM people WHERE id <= " + SEED + " AND id % 9 <> 0 AND first_name IS NULL"),
            "the seed rows were backfilled");
        assertTrue(world.ops.get() > 1_000, "the load ran: " + world.ops.get());
    }

    static final String MERGE_ID = "members-merge-name";

    @Test
    void twoColumnsAreMergedWhileLegacyAndNewCodeRun() throws Exception {
        WfDb db = WfDb.create("merge");
        db.exec("CREATE TABLE members (id bigint PRIMARY KEY, given_name text, family_name text, email text)",
            "INSERT INTO members SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'Given' || g END,"
                + " CASE WHEN g % 5 = 0 THEN NULL ELSE 'Family ' || g END, 'seed' || g FROM generate_series(1, " + SEED + ") g");
        Path rules = tmp.resolve("merge-rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: " + MERGE_ID + "\n    table: members\n    from: [given_name, family_name]\n"
            + "    to: full_name\n    type: jsonb\n    up: jsonb_build_array(given_name, family_name)\n"
            + "    down:\n      given_name: full_name ->> 0\n      family_name: full_name ->> 1\n    phase: off\n");
        List<String> conn = List.of("--url", RunbookWalkTest.cliUrl(db));
        String r = rules.toString();
        dev.bellows.testapp.MergeApp.World world = new dev.bellows.testapp.MergeApp.World();
        String appUrl = "jdbc:bellows:" + db.url.substring("jdbc:".length()) + (db.url.contains("?") ? "&" : "?")
            + "bellows.rules=" + URLEncoder.encode(r, StandardCharsets.UTF_8) + "&bellows.usage.flushInterval=500ms";
        dev.bellows.testapp.MergeApp legacy = dev.bellows.testapp.MergeApp.start(appUrl, db.fixture.user(), db.fixture.password(),
            "legacy-app", dev.bellows.testapp.MergeApp.Version.LEGACY, world, 2, 1_000_000_000L);
        dev.bellows.testapp.MergeApp newer = null;
        try {
            WalkSteps.awaitLoad(world.ops, world.problems, 200);
            ok(cli(conn, "init"));
            Path dir = tmp.resolve("merge-plan");
            ok(cli(conn, "plan", MERGE_ID, "--rules", r, "--out", dir.toString()));
            RunbookWalkTest.apply(db, dir, "expand");
            ok(cli(conn, "flags", "set", MERGE_ID, "expand", "--rules", r, "--reason", "expand applied"));
            await(conn, new String[] {"status"}, x -> x.out().contains(MERGE_ID + "=expand") && !x.out().contains(MERGE_ID + "=off"));
            newer = dev.bellows.testapp.MergeApp.start(appUrl, db.fixture.user(), db.fixture.password(), "new-app",
                dev.bellows.testapp.MergeApp.Version.NEW, world, 1, 2_000_000_000L);
            WalkSteps.awaitLoad(world.ops, world.problems, 300);
            ok(cli(conn, "backfill", MERGE_ID, "--rules", r, "--batch", "500"));
            ok(cli(conn, "check", MERGE_ID, "--rules", r, "--file", mergeStatements().toString()));
            ok(cli(conn, "flags", "set", MERGE_ID, "switch", "--rules", r, "--reason", "backfilled"));
            await(conn, new String[] {"status"}, x -> x.out().contains(MERGE_ID + "=switch") && !x.out().contains(MERGE_ID + "=expand"));
            WalkSteps.awaitLoad(world.ops, world.problems, 400);
            await(conn, new String[] {"gate", MERGE_ID, "--window", "3s"}, x -> x.exit() == 0);
            ok(cli(conn, "flags", "set", MERGE_ID, "contract", "--rules", r, "--window", "3s", "--reason", "gate green"));
            await(conn, new String[] {"status"}, x -> x.out().contains(MERGE_ID + "=contract") && !x.out().contains(MERGE_ID + "=switch"));
            WalkSteps.awaitLoad(world.ops, world.problems, 300);
            RunbookWalkTest.apply(db, dir, "contract");
            assertEquals(0, db.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname IN ('given_name', 'family_name') AND NOT attisdropped"));
            WalkSteps.awaitLoad(world.ops, world.problems, 400);
        } finally {
            if (newer != null) newer.close();
            legacy.close();
        }
        System.out.printf("merge walk: %d statements, %d errors, %d wrong reads%n", world.ops.get(), world.errors.get(), world.wrong.get());
        assertEquals(0, world.errors.get(), "errors: " + world.problems);
        assertEquals(0, world.wrong.get(), "wrong reads: " + world.problems);
        long diverging = 0;
        for (String row : db.rows("SELECT id, full_name::text FROM members WHERE id > " + SEED)) {
            String[] p = row.split(" \\| ", -1);
            String[] want = world.names.get(Long.parseLong(p[0]));
            if (!dev.bellows.testapp.MergeApp.json(want[0], want[1]).equals(p[1])) diverging++;
        }
        assertEquals(0, diverging, "rows whose new column is not what the last write meant");
        assertEquals(world.names.size(), db.count("SELECT count(*) FROM members WHERE id > " + SEED), "no row lost");
        assertEquals(0, db.count("SELECT count(*) FROM members WHERE id <= " + SEED + " AND full_name IS NULL"), "the seed rows were backfilled");
        assertTrue(world.ops.get() > 1_000, "the load ran: " + world.ops.get());
    }

    private Path mergeStatements() throws java.io.IOException {
        Path f = tmp.resolve("merge-statements.sql");
        Files.writeString(f, "INSERT INTO members (id, given_name, family_name, email) VALUES (?, ?, ?, ?);\n"
            + "UPDATE members SET given_name = ? WHERE id = ?;\nSELECT given_name, family_name FROM members WHERE id = ?;\n");
        return f;
    }

    @Test
    void aDownThatIsNotTotalOnTheDataIsRefusedBeforeTheSwitch() throws Exception {
        WfDb db = WfDb.create("splitbad");
        db.exec("CREATE TABLE people (id bigint PRIMARY KEY, name text, age int)",
            "INSERT INTO people VALUES (1, 'Ada Lovelace', 36), (2, 'Ada', 1), (3, 'Jean Paul Sartre', 74)");
        Path rules = tmp.resolve("bellows-rules.yaml");
        // joins with one space even when there was no last name: 'Ada' reads back as 'Ada ' — not total
        Files.writeString(rules, RULES.replace("CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END",
            "first_name || ' ' || coalesce(last_name, '')"));
        List<String> conn = List.of("--url", RunbookWalkTest.cliUrl(db));
        String r = rules.toString();
        ok(cli(conn, "init"));
        Path dir = tmp.resolve("plan");
        ok(cli(conn, "plan", ID, "--rules", r, "--out", dir.toString()));
        RunbookWalkTest.apply(db, dir, "expand");
        ok(cli(conn, "flags", "set", ID, "expand", "--rules", r, "--reason", "expand applied"));
        ok(cli(conn, "backfill", ID, "--rules", r, "--batch", "500"));
        WfDb.Run check = cli(conn, "check", ID, "--rules", r, "--file", statements().toString());
        assertEquals(1, check.exit(), check.toString());
        assertTrue((check.out() + check.err()).contains("down does not give back name for 1 row"), check.toString());
        WfDb.Run sw = cli(conn, "flags", "set", ID, "switch", "--rules", r, "--reason", "try");
        assertEquals(1, sw.exit(), sw.toString());
        assertTrue((sw.out() + sw.err()).contains("would read differently through down"), sw.toString());
        assertEquals("expand", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
    }

    /** The legacy statements of SplitApp, as a captured-statements file for bellows check. */
    private Path statements() throws java.io.IOException {
        Path f = tmp.resolve("statements.sql");
        Files.writeString(f, "INSERT INTO people (id, name, age) VALUES (?, ?, ?);\nUPDATE people SET name = ? WHERE id = ?;\n"
            + "SELECT name FROM people WHERE id = ?;\n");
        return f;
    }

    private static void awaitLoad(SplitApp.World world, long statements) throws InterruptedException {
        WalkSteps.awaitLoad(world.ops, world.problems, statements);
    }
}
