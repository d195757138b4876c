package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One migration over three databases of a sharded application (three databases on the embedded server): the
 * commands run on each, the gate is green only when every database is, output names the database of each
 * finding, {@code flags set} moves every database and names the ones that did not follow.
 */
class ManyDatabasesTest {
    @TempDir
    static Path dir;
    static final List<UsageDb> shards = new ArrayList<>();

    @BeforeAll
    static void shards() throws Exception {
        // shard-3 still runs expand: its legacy reads pass through unrewritten, so its gate is red
        for (String phase : List.of("switch", "switch", "expand")) {
            UsageDb db = UsageDb.create("shard", dir, phase);
            shards.add(db);
            BellowsDataSource ds = db.dataSource("shop");
            try (Connection c = ds.getConnection()) {
                c.isValid(1);
            }
            assertTrue(UsageDb.recorder(ds).flush());
        }
        for (UsageDb db : shards) {
            BellowsDataSource ds = db.dataSource("shop");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeQuery("SELECT user_email FROM leads WHERE id = 1").close();
            }
            assertTrue(UsageDb.recorder(ds).flush());
            // the instances have been tracking for an hour: a 30-minute window is covered, and holds the read above
            db.exec("UPDATE bellows.instances SET started_at = started_at - interval '1 hour'");
        }
    }

    @AfterAll
    static void close() throws Exception {
        for (UsageDb db : shards) db.close();
    }

    static String name(UsageDb db) {
        return db.pgUrl.replaceFirst("^jdbc:postgresql://", "").replaceFirst("\\?.*$", "");
    }

    static UsageDb.Cli cli(List<UsageDb> dbs, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        for (UsageDb db : dbs) all.addAll(List.of("--url", db.pgUrl));
        UsageDb first = dbs.get(0);
        if (first.fixture.user() != null) all.addAll(List.of("--user", first.fixture.user()));
        if (first.fixture.password() != null) all.addAll(List.of("--password", first.fixture.password()));
        return UsageDb.Cli.run(all.toArray(new String[0]));
    }

    static String window() {
        return "30m";
    }

    @Test
    void theGateIsGreenOnlyWhenEveryDatabaseIsAndEachFindingNamesItsDatabase() throws Exception {
        UsageDb.Cli all = cli(shards, "gate", UsageDb.ID, "--window", window());
        assertEquals(1, all.code(), all.toString());
        String red = "[" + name(shards.get(2)) + "]";
        // the finding, on a line naming its database
        assertTrue(all.out().lines().anyMatch(l -> l.startsWith(red) && l.contains("read passed through x1 by 'shop'")), all.toString());
        assertTrue(all.out().lines().anyMatch(l -> l.startsWith(red) && l.contains("NOT SAFE")), all.toString());
        for (UsageDb green : shards.subList(0, 2)) {
            String g = "[" + name(green) + "]";
            assertTrue(all.out().lines().anyMatch(l -> l.startsWith(g) && l.contains("SAFE: every condition holds")), all.toString());
            assertFalse(all.out().lines().anyMatch(l -> l.startsWith(g) && l.contains("[UNMET]")), all.toString());
        }
        assertTrue(all.out().contains("bellows gate on 3 databases: NOT SAFE: 1 of 3 did not: " + name(shards.get(2)) + " (not safe)"),
            all.toString());

        UsageDb.Cli greens = cli(shards.subList(0, 2), "gate", UsageDb.ID, "--window", window());
        assertEquals(0, greens.code(), greens.toString());
        assertTrue(greens.out().contains("bellows gate on 2 databases: SAFE on every database"), greens.toString());

        // a database that cannot be reached is an error, never green; its password is never printed
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path targets = dir.resolve("targets.txt");
        Files.writeString(targets, "# the shards\nshard-1 " + shards.get(0).pgUrl + "\n\nshard-2 " + shards.get(1).pgUrl + "\n"
            + "gone jdbc:postgresql://127.0.0.1:" + port + "/shop?user=app&password=hunter2-shard&connectTimeout=2\n");
        List<String> args = new ArrayList<>(List.of("gate", UsageDb.ID, "--window", window(), "--format", "json", "--targets",
            targets.toString()));
        if (shards.get(0).fixture.user() != null) args.addAll(List.of("--user", shards.get(0).fixture.user()));
        if (shards.get(0).fixture.password() != null) args.addAll(List.of("--password", shards.get(0).fixture.password()));
        UsageDb.Cli json = UsageDb.Cli.run(args.toArray(new String[0]));
        assertEquals(2, json.code(), json.toString());
        assertTrue(json.out().contains("\"database\": \"shard-1\", \"exitCode\": 0, \"result\": {"), json.toString());
        assertTrue(json.out().contains("\"database\": \"gone\", \"exitCode\": 2, \"result\": null"), json.toString());
        assertTrue(json.err().lines().anyMatch(l -> l.startsWith("[gone]") && l.contains("cannot connect")), json.toString());
        assertFalse((json.out() + json.err()).contains("hunter2"), json.toString());
    }

    @Test
    void statusAndReportNameEachDatabase() throws Exception {
        UsageDb.Cli status = cli(shards, "status");
        assertEquals(0, status.code(), status.toString());
        UsageDb.Cli report = cli(shards, "report", "--migration", UsageDb.ID);
        assertEquals(0, report.code(), report.toString());
        for (UsageDb db : shards) {
            String n = "[" + name(db) + "]";
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith(n) && l.contains("shop")), status.toString());
            assertTrue(report.out().lines().anyMatch(l -> l.startsWith(n) && l.contains("SELECT user_email FROM leads")), report.toString());
        }
        String expand = "[" + name(shards.get(2)) + "]";
        assertTrue(report.out().lines().anyMatch(l -> l.startsWith(expand) && l.contains("passed_through")), report.toString());
        assertEquals(2, cli(shards, "report", "--format", "html", "--out", dir.resolve("r.html").toString()).code());
    }

    @Test
    void flagsSetMovesEveryDatabaseAndNamesTheOnesThatDidNotFollow() throws Exception {
        List<UsageDb> dbs = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) dbs.add(UsageDb.create("flagshard", dir, "expand"));
            String rules = dbs.get(0).rules.toString();
            // the third shard's backfill has not run: switch is refused there
            dbs.get(2).exec("INSERT INTO leads (id, name, user_email) VALUES (1, 'a', 'a@example.com')");
            UsageDb.Cli set = cli(dbs, "flags", "set", UsageDb.ID, "switch", "--rules", rules);
            assertEquals(1, set.code(), set.toString());
            String lagging = name(dbs.get(2));
            assertTrue(set.out().contains("bellows flags set on 3 databases: NOT every database followed: 1 of 3 did not move: "
                + lagging + " (refused)"), set.toString());
            assertTrue(set.err().lines().anyMatch(l -> l.startsWith("[" + lagging + "]") && l.contains("refused")), set.toString());
            assertEquals("switch", dbs.get(0).query("SELECT phase FROM bellows.flags WHERE migration_id = '" + UsageDb.ID + "'"));
            assertEquals("switch", dbs.get(1).query("SELECT phase FROM bellows.flags WHERE migration_id = '" + UsageDb.ID + "'"));
            if ("t".equals(dbs.get(2).query("SELECT to_regclass('bellows.flags') IS NOT NULL"))) {
                assertEquals(0, dbs.get(2).count("SELECT count(*) FROM bellows.flags WHERE phase = 'switch'"));
            }

            UsageDb.Cli backfill = cli(dbs, "backfill", UsageDb.ID, "--rules", rules, "--pause", "0", "--progress", "none");
            assertEquals(0, backfill.code(), backfill.toString());
            assertEquals("a@example.com", dbs.get(2).query("SELECT email FROM leads WHERE id = 1"));

            UsageDb.Cli again = cli(dbs, "flags", "set", UsageDb.ID, "switch", "--rules", rules);
            assertEquals(0, again.code(), again.toString());
            assertTrue(again.out().contains("bellows flags set on 3 databases: every database followed"), again.toString());
            UsageDb.Cli list = cli(dbs, "flags", "list");
            for (UsageDb db : dbs) {
                assertTrue(list.out().lines().anyMatch(l -> l.startsWith("[" + name(db) + "]") && l.contains(UsageDb.ID)
                    && l.contains("switch")), list.toString());
            }
        } finally {
            for (UsageDb db : dbs) db.close();
        }
    }
}
