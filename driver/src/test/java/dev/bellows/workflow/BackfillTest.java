package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RulesFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bellows backfill} on a real PostgreSQL: a million rows, killed midway and run again while an application
 * writes through Bellows, ends with zero diverging rows; and the refusals, retries and final verification.
 */
class BackfillTest {
    static final String ID = "leads-contact-email";
    @TempDir Path tmp;

    private static Migration migration(Path rules) throws Exception {
        return RulesFile.load(rules).get(ID);
    }

    private static long progressBatches(WfDb db) {
        try {
            String b = db.query("SELECT batches FROM bellows.backfill_progress WHERE migration_id = '" + ID + "'");
            return b == null ? 0 : Long.parseLong(b);
        } catch (SQLException e) {
            return 0; // the table does not exist yet
        }
    }

    @Test
    void aMillionRowsKilledMidwayAndRunAgainConvergeWhileAWriterUpdatesThroughBellows() throws Exception {
        WfDb db = WfDb.create("backfill_million");
        // rows first, then the key (one sorted index build is several times faster than a million index inserts)
        db.exec("CREATE TABLE leads (id bigint NOT NULL, user_email text, name text)",
            "INSERT INTO leads SELECT g, 'user' || g || '@example.com', 'lead ' || g FROM generate_series(1, 1000000) g",
            "ALTER TABLE leads ADD PRIMARY KEY (id)",
            "VACUUM ANALYZE leads");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        Path plan = tmp.resolve("plan");
        WfDb.Run p = PlanTest.plan(db, rules, ID, "--out", plan.toString());
        assertEquals(0, p.exit(), p.toString());
        PlanTest.apply(db, PlanTest.step(plan, "expand", false));

        // the application, in phase expand: every write through Bellows fills both columns
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (Connection c = db.bellows(rules);
                 PreparedStatement upd = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ?");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO leads (id, user_email, name) VALUES (?, ?, ?)")) {
                long next = 1_000_001;
                while (!stop.get()) {
                    // an application's steady trickle of writes, not a benchmark: leave the CPU to the backfill
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                    long n = writes.incrementAndGet();
                    if (n % 10 == 0) {
                        ins.setLong(1, next);
                        ins.setString(2, "new" + next + "@example.com");
                        ins.setString(3, "inserted");
                        ins.executeUpdate();
                        next++;
                    } else {
                        long id = ThreadLocalRandom.current().nextLong(1, 1_000_001);
                        upd.setString(1, "changed" + n + "@example.com");
                        upd.setLong(2, id);
                        assertEquals(1, upd.executeUpdate());
                    }
                }
            } catch (Throwable t) {
                writerFailure.set(t);
            }
        }, "bellows-writer");
        writer.start();

        // first run: a separate JVM, killed hard (SIGKILL) once 30 of the ~100 batches are committed
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "dev.bellows.cli.BellowsCli",
            "backfill", ID, "--batch", "10000", "--pause", "0", "--progress", "lines", "--rules", rules.toString()));
        cmd.addAll(db.cliConnection());
        Path log = tmp.resolve("first-run.log");
        Process first = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (progressBatches(db) < 30 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        first.destroyForcibly();
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        long killedAt = progressBatches(db);
        assertTrue(killedAt >= 30 && killedAt < 90, "killed after " + killedAt + " batches; log:\n" + Files.readString(log));
        assertNull(db.query("SELECT finished_at FROM bellows.backfill_progress WHERE migration_id = '" + ID + "'"));
        String lastKey = db.query("SELECT last_key FROM bellows.backfill_progress WHERE migration_id = '" + ID + "'");
        assertTrue(db.count("SELECT count(*) FROM leads WHERE contact_email IS DISTINCT FROM user_email") > 100_000,
            "the kill should leave most rows to do");

        // second run: resumes after the last committed batch and finishes
        long writesBefore = writes.get();
        List<String> messages = new ArrayList<>();
        AtomicLong batchesThisRun = new AtomicLong();
        Backfill.Result r;
        try (Connection c = db.raw()) {
            r = Backfill.run(c, migration(rules), Backfill.Options.defaults().withBatch(10_000).withPause(Duration.ZERO),
                new Backfill.Listener() {
                    @Override public void message(String line) {
                        messages.add(line);
                    }

                    @Override public void batchCommitted(long batches) {
                        batchesThisRun.incrementAndGet();
                    }
                });
        }
        long writesDuring = writes.get() - writesBefore;
        stop.set(true);
        writer.join(30_000);
        assertNull(writerFailure.get(), () -> "the writer failed: " + writerFailure.get());
        assertEquals(Backfill.Outcome.DONE, r.outcome(), String.join("\n", messages));
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("resuming the pass") && m.contains("after id = " + lastKey)),
            String.join("\n", messages));
        assertEquals(r.batches(), killedAt + batchesThisRun.get(), "batches of both runs add up: nothing redone");
        assertTrue(batchesThisRun.get() <= 100 - killedAt + 1, batchesThisRun + " batches after " + killedAt);
        assertTrue(writesDuring > 50, "the writer kept writing during the backfill (" + writesDuring + " writes)");
        assertEquals(0, r.diverging());
        // checked independently of the backfill's own verification
        assertEquals(0, db.count("SELECT count(*) FROM leads WHERE contact_email IS DISTINCT FROM user_email"));
        assertTrue(db.count("SELECT count(*) FROM leads") > 1_000_000);
        assertTrue(Files.readString(log).contains("backfilling public.leads.contact_email = user_email"), Files.readString(log));
    }

    @Test
    void aTableWithoutPrimaryKeyIsRefused() throws Exception {
        WfDb db = WfDb.create("backfill_nopk");
        db.exec("CREATE TABLE leads (id bigint, user_email text, contact_email text)",
            "INSERT INTO leads VALUES (1, 'a@example.com', NULL)");
        WfDb.Run r = PlanTest.backfill(db, WfDb.rules(tmp, PlanTest.RENAME), ID);
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.err().contains("public.leads has no primary key"), r.toString());
        assertEquals("0", db.query("SELECT count(*) FROM leads WHERE contact_email IS NOT NULL"));
    }

    @Test
    void refusesUnlessEveryLiveInstanceDuplicatesItsWrites() throws Exception {
        WfDb db = WfDb.create("backfill_fleet");
        db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, contact_email text)",
            "INSERT INTO leads SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 500) g",
            "CREATE SCHEMA bellows",
            "CREATE TABLE bellows.flags (migration_id text PRIMARY KEY, phase text NOT NULL)",
            "INSERT INTO bellows.flags VALUES ('" + ID + "', 'off')");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        WfDb.Run off = PlanTest.backfill(db, rules, ID);
        assertEquals(1, off.exit(), off.toString());
        assertTrue(off.err().contains("bellows.flags sets " + ID + " to off") && off.err().contains("refusing to backfill"), off.toString());
        assertEquals("0", db.query("SELECT count(*) FROM leads WHERE contact_email IS NOT NULL"));

        // heartbeats: one live instance still in off refuses; a silent one does not count
        db.exec("UPDATE bellows.flags SET phase = 'expand'",
            // the heartbeat table as the driver's usage recorder writes it (dev.bellows.usage)
            "CREATE TABLE bellows.instances (instance_id text PRIMARY KEY, app_name text NOT NULL, host text NOT NULL,"
                + " pid bigint NOT NULL, started_at timestamptz NOT NULL, last_seen timestamptz NOT NULL, stopped_at timestamptz,"
                + " flush_interval_ms bigint NOT NULL, phases jsonb NOT NULL, rules_hash text NOT NULL)",
            "INSERT INTO bellows.instances VALUES"
                + " ('i-1', 'api', 'h1', 1, now(), now(), NULL, 10000, '{\"" + ID + "\": \"expand\"}', 'x'),"
                + " ('i-2', 'weekly-job', 'h2', 2, now(), now() - interval '10 seconds', NULL, 10000, '{\"" + ID + "\": \"off\"}', 'x'),"
                + " ('i-3', 'old-api', 'h3', 3, now(), now() - interval '1 hour', NULL, 10000, '{}', 'x'),"
                + " ('i-4', 'stopped-api', 'h4', 4, now(), now(), now(), 10000, '{}', 'x')");
        WfDb.Run instance = PlanTest.backfill(db, rules, ID);
        assertEquals(1, instance.exit(), instance.toString());
        assertTrue(instance.err().contains("instance i-2 (weekly-job) is in phase off"), instance.toString());
        assertTrue(!instance.err().contains("i-3") && !instance.err().contains("i-4"), instance.toString());

        WfDb.Run forced = PlanTest.backfill(db, rules, ID, "--force");
        assertEquals(0, forced.exit(), forced.toString());
        assertTrue(forced.err().contains("--force: backfilling anyway"), forced.toString());

        db.exec("UPDATE bellows.instances SET phases = '{\"" + ID + "\": \"switch\"}' WHERE instance_id = 'i-2'");
        WfDb.Run ok = PlanTest.backfill(db, rules, ID);
        assertEquals(0, ok.exit(), ok.toString());
        assertTrue(ok.err().contains("all 2 live instances"), ok.toString());
    }

    @Test
    void retriesABatchThatTimesOutOnALockAndAFinishedPassStartsAgain() throws Exception {
        WfDb db = WfDb.create("backfill_retry");
        db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, contact_email text)",
            "INSERT INTO leads SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 5000) g");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        List<String> messages = new ArrayList<>();
        Backfill.Result r;
        try (Connection holder = db.raw(); Connection c = db.raw()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT * FROM leads WHERE id = 10 FOR UPDATE");
            Thread release = new Thread(() -> {
                try {
                    Thread.sleep(1200);
                    holder.commit();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            release.start();
            Backfill.Options o = new Backfill.Options(1000, Duration.ZERO, false, false, "200ms", 20, Duration.ofMinutes(2));
            r = Backfill.run(c, migration(rules), o, new Backfill.Listener() {
                @Override public void message(String line) {
                    messages.add(line);
                }
            });
            release.join();
        }
        assertEquals(Backfill.Outcome.DONE, r.outcome(), String.join("\n", messages));
        assertTrue(messages.stream().anyMatch(m -> m.contains("lock timeout") && m.contains("retry 1 of 20")), String.join("\n", messages));
        assertEquals(5000, r.updated());
        assertEquals(0, db.count("SELECT count(*) FROM leads WHERE contact_email IS DISTINCT FROM user_email"));

        // a finished pass is not resumed: a new one starts, and finds nothing to change
        WfDb.Run again = PlanTest.backfill(db, rules, ID);
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.err().contains("the previous pass finished at") && again.err().contains("(0 updated)"), again.toString());
    }

    @Test
    void endsWithExitCodeOneWhenRowsStillDiverge() throws Exception {
        WfDb db = WfDb.create("backfill_diverge");
        db.exec("CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, contact_email text)",
            "INSERT INTO leads SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 300) g",
            // something outside Bellows keeps rewriting row 5's new column
            "CREATE FUNCTION meddle() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 5 THEN NEW.contact_email := 'other';"
                + " END IF; RETURN NEW; END $$",
            "CREATE TRIGGER meddle BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION meddle()");
        WfDb.Run r = PlanTest.backfill(db, WfDb.rules(tmp, PlanTest.RENAME), ID, "--batch", "100");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("verification FAILED: 1 rows have contact_email IS DISTINCT FROM user_email (id 5)"), r.toString());
    }
}
