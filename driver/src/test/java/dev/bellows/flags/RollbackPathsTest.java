package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.workflow.ScriptRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every way back of docs/runbook.md ("Rolling back"), each on a fresh database with a NOT NULL, uniquely indexed
 * {@code leads.user_email} renamed to {@code contact_email} through the plan files and the CLI, with legacy and new
 * code writing and reading through Bellows the whole time (about a second of load per stage). Each path either
 * succeeds with 0 errors, 0 wrong answers and every row right, or is refused up front with a message naming the
 * fix and nothing changed; then the fix is applied as the runbook says and the path completes.
 */
class RollbackPathsTest {
    static final String ID = "leads-contact-email";
    private static final long LOAD_MS = 500;

    private FlagsDb db;
    private Path plan;
    private final Map<String, String> truth = RollbackLoad.truth();
    private final List<RollbackLoad> loads = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (RollbackLoad l : loads) l.close();
        for (RollbackLoad l : loads) l.ds.runtime().close();
        if (db != null) db.close();
    }

    // ------------------------------------------------------------------ issue 22 §1: expand -> off with NOT NULL

    @Test
    void expandToOffRefusedWhileTheNewColumnIsNotNullThenDoneAfterItsDownFile() throws Exception {
        start(Phase.EXPAND, true);
        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        pause();
        // the runbook: new code goes first (stopped, its instance reports an orderly stop)
        stop(modern);
        String before = seedSnapshot();
        assertEquals(1, cli("flags", "set", ID, "off"), db.err);
        assertTrue(db.err.contains("is NOT NULL") && db.err.contains("23502") && db.err.contains("not_null.down.sql"), db.err);
        assertEquals("expand", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
        assertEquals(before, seedSnapshot(), "a refused move changes nothing");

        apply("not_null", true);
        assertEquals(0, cli("flags", "set", ID, "off"), db.err);
        pause();
        // the expand files' down scripts, in reverse order: nothing in off reads or writes contact_email
        apply("mirror", true);
        apply("expand", true);
        pause();
        stop(legacy);
        assertClean(legacy, modern);
        assertRows(false);
    }

    // ------------------------------------------------------------------ issue 22 §2: new code still running at off

    @Test
    void expandToOffRefusedWhileNewCodeRunsThenDoneOnceItStopped() throws Exception {
        start(Phase.EXPAND, false);
        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        pause();
        assertEquals(1, cli("flags", "set", ID, "off"), db.err);
        assertTrue(db.err.contains("runs new code") && db.err.contains("(new on ") && !db.err.contains("(legacy on "), db.err);
        assertEquals("expand", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));

        stop(modern);
        assertEquals(0, cli("flags", "set", ID, "off"), db.err);
        pause();
        stop(legacy);
        assertClean(legacy, modern);
        assertRows(false);
    }

    // ------------------------------------------------------------------ §3: contract -> switch after a swap

    @Test
    void contractToSwitchCopiesBackRowsThatSwappedUniqueValues() throws Exception {
        start(Phase.CONTRACT, true);
        // ids 1 and 2 exchange their emails through Bellows in contract (contact_email only; user_email stays)
        BellowsDataSource admin = db.instance("admin", "bellows.usage.flushInterval", "200ms");
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("UPDATE leads SET user_email = 'swap@example.com' WHERE id = 1");
            s.executeUpdate("UPDATE leads SET user_email = 'seed1@example.com' WHERE id = 2");
            s.executeUpdate("UPDATE leads SET user_email = 'seed2@example.com' WHERE id = 1");
            c.commit();
        }
        admin.runtime().close();
        truth.put("seed1", "seed2@example.com");
        truth.put("seed2", "seed1@example.com");
        assertEquals("seed1@example.com", db.query("SELECT user_email FROM leads WHERE id = 1"), "the old column is stale");

        // a user who kept user_email NOT NULL: the copy cannot go through NULL, so the move is refused naming the rows
        db.exec("ALTER TABLE leads ALTER COLUMN user_email SET NOT NULL");
        String before = snapshot();
        assertEquals(1, cli("flags", "set", ID, "switch"), db.err);
        assertTrue(db.err.contains("DROP NOT NULL") && db.err.contains("1 takes the value 2 still holds"), db.err);
        assertEquals("contract", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
        assertEquals(before, snapshot(), "a refused move changes nothing");
        db.exec("ALTER TABLE leads ALTER COLUMN user_email DROP NOT NULL"); // the fix the message names

        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        pause();
        assertEquals(0, cli("flags", "set", ID, "switch"), db.err);
        assertTrue(db.out.contains("copied ") && db.out.contains("every live instance"), db.out);
        pause();
        assertRowsOf(true, Phase.SWITCH);
        // and on down the runbook's table: switch -> expand, then expand -> off
        assertEquals(0, cli("flags", "set", ID, "expand"), db.err);
        pause();
        stop(modern);
        apply("not_null", true);
        assertEquals(0, cli("flags", "set", ID, "off"), db.err);
        pause();
        stop(legacy);
        assertClean(legacy, modern);
        assertRows(false);
    }

    /** Every row right while the load still runs: only the rows the load does not touch (the seed rows). */
    private void assertRowsOf(boolean both, Phase phase) throws SQLException {
        for (int g = 1; g <= 200; g++) {
            String want = truth.get("seed" + g);
            assertEquals(want + (both ? ":" + want : ""), db.query("SELECT user_email" + (both ? " || ':' || contact_email" : "")
                + " FROM leads WHERE name = 'seed" + g + "'"), "seed" + g + " in " + phase.label());
        }
    }

    @Test
    void contractToSwitchRefusesNamingRowsWhoseFinalValuesWouldCollide() throws Exception {
        start(Phase.CONTRACT, true);
        db.exec("ALTER TABLE leads ALTER COLUMN contact_email DROP NOT NULL");
        BellowsDataSource admin = db.instance("admin", "bellows.usage.flushInterval", "200ms");
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            // row 3 loses its email (user_email keeps the stale one), row 4 takes that value
            s.executeUpdate("UPDATE leads SET contact_email = NULL WHERE id = 3");
            s.executeUpdate("UPDATE leads SET contact_email = 'seed3@example.com' WHERE id = 4");
        }
        admin.runtime().close();
        String before = snapshot();
        assertEquals(1, cli("flags", "set", ID, "switch"), db.err);
        assertTrue(db.err.contains("would give these rows the same public.leads.user_email") && db.err.contains("3 and 4"), db.err);
        assertEquals("contract", db.query("SELECT phase FROM bellows.flags WHERE migration_id = '" + ID + "'"));
        assertEquals(before, snapshot(), "a refused move changes nothing");
    }

    // ------------------------------------------------------------------ §4: stragglers still in contract

    @Test
    void contractToSwitchWaitsForAStragglerAndCopiesWhatItWroteMeanwhile() throws Exception {
        start(Phase.CONTRACT, true);
        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        // a straggler: no flag listener, its own rules file in contract, which is changed to switch 1.5 s after the move
        Path rules = db.dir.resolve("straggler.yaml");
        Files.writeString(rules, rulesYaml("contract"));
        BellowsDataSource slow = db.instance("straggler", "bellows.flags.poll", "off", "bellows.rules.poll", "100ms",
            "bellows.usage.flushInterval", "200ms");
        slow.setRules(rules.toString());
        RollbackLoad straggler = new RollbackLoad("straggler", slow, true, 2, truth).start();
        loads.add(straggler);
        pause();
        Thread follow = new Thread(() -> {
            try {
                Thread.sleep(1500);
                Files.writeString(rules, rulesYaml("switch"));
                Files.setLastModifiedTime(rules, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 1000));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        follow.start();
        assertEquals(0, cli("flags", "set", ID, "switch"), db.err);
        follow.join();
        assertTrue(db.out.contains("every live instance (3) reported switch"), db.out);
        long more = Long.parseLong(db.out.replaceAll("(?s).*copied (\\d+) more rows?.*", "$1"));
        assertTrue(more > 0, "the straggler wrote contact_email only while the fleet was in switch: " + db.out);
        pause();
        stop(legacy, modern, straggler);
        assertClean(legacy, modern, straggler);
        assertRows(true);
    }

    @Test
    void contractToSwitchNamesAnInstanceThatNeverFollowsAndTheNextMoveBackRepairsItsRows() throws Exception {
        start(Phase.CONTRACT, true);
        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        Path rules = db.dir.resolve("stuck.yaml");
        Files.writeString(rules, rulesYaml("contract")); // no flag listener: it stays in contract
        BellowsDataSource stuckDs = db.instance("stuck", "bellows.flags.poll", "off", "bellows.usage.flushInterval", "200ms");
        stuckDs.setRules(rules.toString());
        RollbackLoad stuck = new RollbackLoad("stuck", stuckDs, false, 1, truth).start();
        loads.add(stuck);
        pause();
        assertEquals(0, cli("flags", "set", ID, "switch"), db.err);
        assertTrue(db.out.contains("WARNING: after") && db.out.contains("(stuck) still in contract")
            && db.out.contains("bellows flags set " + ID + " expand"), db.out);
        pause();
        assertTrue(Integer.parseInt(db.query("SELECT count(*) FROM leads WHERE user_email IS DISTINCT FROM contact_email")) > 0,
            "what the stuck instance wrote after the copies is what remains");
        stop(stuck); // as the warning says: once it is gone (or follows), the next move back copies again
        assertEquals(0, cli("flags", "set", ID, "expand"), db.err);
        pause();
        stop(legacy, modern);
        assertClean(legacy, modern, stuck);
        assertRows(true);
    }

    // ------------------------------------------------------------------ §6 and §5: backfill in contract; after the DROP

    @Test
    void backfillInContractIsRefusedAndAfterTheDropThePlanRecreatesTheColumnForTheWayBack() throws Exception {
        start(Phase.CONTRACT, true);
        // a contract-era write (issue 20: a legacy update of row 5), then the contract file's old hint: the backfill
        BellowsDataSource admin = db.instance("admin", "bellows.usage.flushInterval", "200ms");
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE leads SET user_email = 'five@example.com' WHERE id = 5");
        }
        admin.runtime().close();
        truth.put("seed5", "five@example.com");
        String before = snapshot();
        for (String[] extra : List.of(new String[0], new String[] {"--force"})) {
            List<String> args = new ArrayList<>(List.of("backfill", ID, "--rules", db.rules.toString(), "--progress", "none"));
            args.addAll(List.of(extra));
            assertEquals(1, db.cli(args.toArray(new String[0])), db.err);
            assertTrue(db.err.contains("refusing to backfill") && db.err.contains("is in phase contract")
                && db.err.contains("flags set " + ID + " switch") && db.err.contains("contract file"), db.err);
            assertEquals(before, snapshot(), "no stored value changed");
        }
        String contract = Files.readString(file("contract", false)); // its hint no longer sends the user to the backfill
        assertTrue(contract.contains("bellows backfill refuses") && contract.contains("In phase contract"), contract);

        RollbackLoad legacy = load("legacy", true);
        RollbackLoad modern = load("new", false);
        pause();
        try (Connection c = db.raw()) { // runbook §8: contract-era rows do not hold the drop back
            ScriptRunner.run(c, file("contract", false));
        }
        pause();
        assertEquals(1, cli("flags", "set", ID, "switch"), db.err);
        assertTrue(db.err.contains("is gone") && db.err.contains("bellows plan " + ID), db.err);
        assertEquals(2, db.cli("backfill", ID, "--rules", db.rules.toString(), "--progress", "none"), db.err);
        assertTrue(db.err.contains("nothing to backfill") && db.err.contains("forward"), db.err);

        Path back = db.dir.resolve("back");
        assertEquals(0, cli("plan", ID, "--out", back.toString()), db.err);
        assertTrue(db.out.contains("recreate.sql") && db.out.contains("flags set " + ID + " switch"), db.out);
        apply(back, "recreate", false);
        apply(back, "recreate_mirror", false);
        pause();
        assertEquals(0, cli("flags", "set", ID, "switch"), db.err);
        apply(back, "recreate_not_null", false);
        pause();
        stop(legacy, modern);
        assertClean(legacy, modern);
        assertRows(true);
        assertEquals("t", db.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'user_email'"));
        assertEquals("1", db.query("SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            + " AND a.attnum = i.indkey[0] WHERE i.indrelid = 'leads'::regclass AND i.indisunique AND i.indnatts = 1"
            + " AND a.attname = 'user_email'"), "the unique index on user_email is back");
    }

    // ------------------------------------------------------------------ the way there, as the runbook says

    static String rulesYaml(String phase) {
        return "migrations:\n  - id: " + ID + "\n    table: leads\n    from: user_email\n    to: contact_email\n    phase: " + phase + "\n";
    }

    /** A fresh database walked through the runbook to {@code phase}; with the not_null step when asked. */
    private void start(Phase phase, boolean notNull) throws Exception {
        db = FlagsDb.create("rollbackpaths", rulesYaml("off"));
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text NOT NULL UNIQUE, user_email text NOT NULL UNIQUE)",
            "INSERT INTO leads (name, user_email) SELECT 'seed' || g, 'seed' || g || '@example.com' FROM generate_series(1, 200) g");
        for (int g = 1; g <= 200; g++) truth.put("seed" + g, "seed" + g + "@example.com");
        plan = db.dir.resolve("plan");
        assertEquals(0, cli("plan", ID, "--out", plan.toString()), db.err);
        apply("expand", false);
        apply("mirror", false);
        // the instances exist before the move, as in production
        legacyDs = db.instance("legacy", "bellows.usage.flushInterval", "200ms");
        newDs = db.instance("new", "bellows.usage.flushInterval", "200ms");
        try (Connection c = legacyDs.getConnection(); Connection d = newDs.getConnection()) {
            // both instances start (and begin heartbeating) now
        }
        assertEquals(0, cli("flags", "set", ID, "expand"), db.err);
        db.awaitReported(ID, Phase.EXPAND, 5_000);
        assertEquals(0, db.cli("backfill", ID, "--rules", db.rules.toString(), "--progress", "none"), db.err);
        if (notNull || phase == Phase.CONTRACT) apply("not_null", false);
        if (phase == Phase.EXPAND) return;
        assertEquals(0, cli("flags", "set", ID, "switch"), db.err);
        db.awaitReported(ID, Phase.SWITCH, 5_000);
        if (phase == Phase.SWITCH) return;
        // the gate's 8-day window cannot pass in a test: the forward move is forced (it is not a way back)
        assertEquals(0, cli("flags", "set", ID, "contract", "--force"), db.err);
        db.awaitReported(ID, Phase.CONTRACT, 5_000);
    }

    private BellowsDataSource legacyDs;
    private BellowsDataSource newDs;

    private RollbackLoad load(String label, boolean legacy) throws SQLException {
        RollbackLoad l = new RollbackLoad(label, legacy ? legacyDs : newDs, legacy, 2, truth).start();
        loads.add(l);
        return l;
    }

    /** Stops the loads and marks their instances stopped (an orderly shutdown). */
    private static void stop(RollbackLoad... ls) throws Exception {
        for (RollbackLoad l : ls) l.close();
        for (RollbackLoad l : ls) l.ds.runtime().close();
    }

    private static void pause() throws InterruptedException {
        Thread.sleep(LOAD_MS);
    }

    private int cli(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--rules", db.rules.toString()));
        return db.cli(a.toArray(new String[0]));
    }

    private Path file(String step, boolean down) throws IOException {
        return file(plan, step, down);
    }

    private static Path file(Path dir, String step, boolean down) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches(".*_\\d\\d_" + step + (down ? "\\.down" : "") + "\\.sql"))
                .findFirst().orElseThrow(() -> new AssertionError("no " + step + " file in " + dir));
        }
    }

    private void apply(String step, boolean down) throws Exception {
        apply(plan, step, down);
    }

    private void apply(Path dir, String step, boolean down) throws Exception {
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, file(dir, step, down));
        }
    }

    private static void assertClean(RollbackLoad... ls) {
        for (RollbackLoad l : ls) {
            System.out.println("load " + l.summary());
            assertTrue(l.statements.get() > 0, l.summary());
            assertEquals(0, l.errors.get(), l.summary());
            assertEquals(0, l.wrong.get(), l.summary());
        }
    }

    /** Every row holds what was last written to it, in the old column (and the new one, when {@code both}). */
    private void assertRows(boolean both) throws SQLException {
        boolean hasNew = "1".equals(db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass"
            + " AND attname = 'contact_email' AND NOT attisdropped"));
        int checked = 0;
        try (Connection c = db.raw();
             PreparedStatement ps = c.prepareStatement("SELECT user_email" + (hasNew ? ", contact_email" : "")
                 + " FROM leads WHERE name = ?")) {
            for (Map.Entry<String, String> e : truth.entrySet()) {
                ps.setString(1, e.getKey());
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next(), e.getKey() + " is missing");
                    assertEquals(e.getValue(), rs.getString(1), e.getKey() + ": user_email");
                    if (both) assertEquals(e.getValue(), rs.getString(2), e.getKey() + ": contact_email");
                }
                checked++;
            }
        }
        assertEquals(String.valueOf(truth.size()), db.query("SELECT count(*) FROM leads"), "no row more, no row less");
        System.out.println("rows: " + checked + " checked, all right");
    }

    /** Every row, both columns, as one string (the columns that exist). */
    private String snapshot() throws SQLException {
        return db.query("SELECT string_agg(id || ':' || coalesce(user_email, '-') || ':' || coalesce(contact_email, '-'), ','"
            + " ORDER BY id) FROM leads");
    }


    /** The seed rows, which the load never touches. */
    private String seedSnapshot() throws SQLException {
        return db.query("SELECT string_agg(id || ':' || coalesce(user_email, '-') || ':' || coalesce(contact_email, '-'), ','"
            + " ORDER BY id) FROM leads WHERE id <= 200");
    }
}
