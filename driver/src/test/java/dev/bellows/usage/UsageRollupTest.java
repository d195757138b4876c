package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.rules.UsageFact;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded usage storage over simulated days: recorders write through the real {@link DbStore} to a real
 * database whose clock is shifted back (the simulated date), one autoscaled application instance a day, and a
 * weekly job that reads the deprecated column once, on day 3. Report and gate then answer on day 30.
 */
class UsageRollupTest {
    static final String WEB = "SELECT email FROM leads WHERE id = ?";
    static final String WEEKLY = "SELECT user_email FROM leads WHERE name = ?";
    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;
    /** Simulated flushes per day. */
    static final int STEPS = 4;

    @TempDir
    Path dir;

    /** A month of a fleet on a simulated clock: day d (0..days) is {@code days - d} days before the real now. */
    final class Month implements AutoCloseable {
        final UsageDb db;
        final Duration retention;
        final AtomicLong offset = new AtomicLong();
        final List<long[]> rowsPerDay = new ArrayList<>();
        /** The flushes' connections: pooled, so a simulated month is not spent logging in. */
        final HikariDataSource pool;

        Month(UsageDb db, Duration retention) {
            this.db = db;
            this.retention = retention;
            HikariConfig hc = new HikariConfig();
            hc.setDataSource(db.fixture.dataSource(db.pgUrl));
            hc.setMaximumPoolSize(2);
            this.pool = new HikariDataSource(hc);
        }

        @Override public void close() {
            pool.close();
        }

        UsageRecorder recorder(String app) {
            DbStore store = new DbStore(pool::getConnection, retention, offset::get);
            return new UsageRecorder(app, new UsageSettings(UsageSettings.Mode.DB, null, 6 * HOUR, 100, retention),
                () -> UsageRecorderTest.RULES, store).manual();
        }

        void run(int days) throws Exception {
            for (int d = 0; d <= days; d++) {
                // autoscaling: each day a new instance of the application replaces the previous one
                UsageRecorder web = recorder("web");
                for (int s = 0; s < STEPS; s++) {
                    // flushes at 3, 9, 15 and 21 h into the simulated day: far from every retention boundary
                    offset.set(-(days - d + 1) * DAY + s * (DAY / STEPS) + 3 * HOUR);
                    web.record("web", List.of(UsageRecorderTest.fact(WEB, UsageFact.Kind.READ, UsageFact.Treatment.REWRITTEN)));
                    assertTrue(web.flush());
                    if (d == 3 && s == 1) {
                        UsageRecorder weekly = recorder("weekly-job");
                        weekly.record("weekly-job", List.of(UsageRecorderTest.fact(WEEKLY, UsageFact.Kind.READ,
                            UsageFact.Treatment.PASSED_THROUGH)));
                        weekly.close();
                    }
                }
                web.close();
                rowsPerDay.add(new long[] {rows("usage_hourly"), rows("usage_daily"), rows("usage"), rows("instances")});
            }
            offset.set(0);
        }

        long rows(String table) throws Exception {
            return db.count("SELECT count(*) FROM bellows." + table);
        }

        long total(int day) {
            long n = 0;
            for (long r : rowsPerDay.get(day)) n += r;
            return n;
        }

        Gate.Result gate(Duration window) throws Exception {
            try (Connection c = db.raw()) {
                return Gate.evaluate(c, UsageDb.ID, new Gate.Options(window, false, null, null));
            }
        }
    }

    static Gate.Condition condition(Gate.Result r, String id) {
        return r.conditions().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void theWeeklyJobsSingleReadOnDay3IsFoundOnDay30AndKeepsTheGateRed() throws Exception {
        try (UsageDb db = UsageDb.create("rollup30", dir, "expand"); Month m = new Month(db, UsageSettings.DEFAULT_RETENTION)) {
            m.run(30);

            // the read is in the daily rollup now: the hours were folded
            assertEquals(1, db.count("SELECT count(*) FROM bellows.usage_daily d JOIN bellows.usage u USING (migration_id,"
                + " column_name, kind, treatment, fingerprint_hash, app_name) WHERE u.fingerprint = '" + WEEKLY + "' AND d.count = 1"));
            assertEquals(0, db.count("SELECT count(*) FROM bellows.usage_hourly WHERE app_name = 'weekly-job'"));

            Gate.Result month = m.gate(Duration.ofDays(30));
            Gate.Condition usage = condition(month, "usage");
            assertEquals(Gate.Status.UNMET, usage.status(), usage.evidence().toString());
            assertTrue(usage.evidence().stream().anyMatch(e -> e.contains("'weekly-job'") && e.contains(WEEKLY) && e.contains("x1")),
                usage.evidence().toString());
            assertFalse(month.safe());

            // the window decides: one that starts after day 3 sees only rewritten reads
            Gate.Condition after = condition(m.gate(Duration.ofDays(26)), "usage");
            assertEquals(Gate.Status.MET, after.status(), after.evidence().toString());

            Report r;
            try (Connection c = db.raw()) {
                r = Report.build(c, UsageDb.ID, Duration.ofDays(30), 10);
            }
            Report.StatementUse weekly = r.columns().get(0).statements().stream()
                .filter(s -> WEEKLY.equals(s.fingerprint())).findFirst().orElseThrow();
            assertEquals(1, weekly.count());
            assertEquals("passed_through", weekly.treatment());
            Report.StatementUse web = r.columns().get(0).statements().stream()
                .filter(s -> WEB.equals(s.fingerprint())).findFirst().orElseThrow();
            // every flush of days 1..30 is inside the window; a day-0 flush counts too when its UTC day's
            // bucket was last used inside the window (buckets count whole: never fewer uses than happened)
            assertTrue(web.count() >= 30L * STEPS && web.count() <= 31L * STEPS, "web reads " + web.count());
        }
    }

    @Test
    void rowsInTheBellowsSchemaStayBoundedAsDaysPass() throws Exception {
        Duration retention = Duration.ofDays(3).plusHours(2);
        try (UsageDb db = UsageDb.create("rollupbound", dir, "expand"); Month m = new Month(db, retention)) {
            m.run(12);
            // steady state once the retention is full and the weekly job's day has expired: the same rows every
            // day, whatever the number of days
            assertTrue(m.total(7) < m.total(5), m.rowsPerDay.stream().map(java.util.Arrays::toString).toList().toString());
            for (int d = 8; d <= 12; d++) assertEquals(m.total(7), m.total(d), "rows on day " + d + " vs day 7");
            long[] last = m.rowsPerDay.get(12);
            // hours of the current and previous day only (4 flushes a day, one key); days within the retention
            assertTrue(last[0] <= 2 * STEPS, "hourly rows " + last[0]);
            assertTrue(last[1] <= 4, "daily rows " + last[1]);
            assertTrue(last[3] <= 4, "instances " + last[3]);
            // what was deleted is said, not treated as silence: a window longer than the retention is red
            Gate.Condition usage = condition(m.gate(Duration.ofDays(12)), "usage");
            assertEquals(Gate.Status.UNMET, usage.status());
            assertTrue(usage.evidence().stream().anyMatch(e -> e.contains("longer than the usage retention")), usage.evidence().toString());
            assertEquals(0, db.count("SELECT count(*) FROM bellows.usage WHERE app_name = 'weekly-job'"));
        }
    }

    @Test
    void heartbeatsAndBucketsUseTheDatabasesClockWhateverTheHostsSays() throws Exception {
        try (UsageDb db = UsageDb.create("rollupskew", dir, "expand")) {
            for (long skew : new long[] {3 * HOUR, -3 * HOUR}) {
                DbStore store = new DbStore(db::raw, UsageSettings.DEFAULT_RETENTION, () -> 0, () -> System.currentTimeMillis() + skew);
                long host = System.currentTimeMillis() + skew;
                String id = skew > 0 ? "ahead" : "behind";
                Batch.Row row = new Batch.Row(UsageDb.ID, "public.leads.user_email", "read", "passed_through", WEEKLY,
                    Fingerprints.hash(WEEKLY), id, 1, host - 2_000, host - 1_000, null);
                Batch.Heartbeat hb = new Batch.Heartbeat(id, id, "host-" + id, 1, host - 5_000, 10_000,
                    java.util.Map.of(UsageDb.ID, "expand"), UsageRecorderTest.RULES.contentHash(), "<code>",
                    UsageRecorderTest.RULES.migrations(), 0, false);
                store.write(new Batch(1, List.of(row), hb));
            }
            // every stored time is within a minute of the database's now, none three hours off
            assertEquals(0, db.count("SELECT count(*) FROM bellows.instances WHERE abs(extract(epoch FROM now() - started_at)) > 60"
                + " OR abs(extract(epoch FROM now() - last_seen)) > 60"));
            assertEquals(2, db.count("SELECT count(*) FROM bellows.instances"));
            assertEquals(0, db.count("SELECT count(*) FROM bellows.usage WHERE abs(extract(epoch FROM now() - first_seen)) > 60"
                + " OR abs(extract(epoch FROM now() - last_seen)) > 60"));
            assertEquals(2, db.count("SELECT count(*) FROM bellows.usage_hourly WHERE bucket > now() - interval '61 minutes'"
                + " AND bucket <= now() AND extract(minute FROM bucket) = 0"));
            try (Connection c = db.raw()) {
                Fleet f = Fleet.load(c);
                for (Fleet.Instance i : f.instances()) assertEquals(Fleet.State.LIVE, i.state(f.now(), null), i.toString());
                assertEquals(2, Fleet.usage(c, UsageDb.ID, f.now().minus(Duration.ofMinutes(5))).size());
            }
        }
    }
}
