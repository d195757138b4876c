package dev.bellows.usage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 16, section 1 (usage storage only): N application instances, each a thread-driven {@link UsageRecorder}
 * with its own instance id, application name and heartbeat, writing through the real {@link DbStore} to a real
 * PostgreSQL over a simulated clock (the database's clock shifted back), one flush per simulated hour, 30 days
 * compressed into minutes. Most statements are rewritten; a weekly job reads the deprecated column once on day
 * 3; one instance goes silent on day 10; a tenth of the instances are replaced every day (autoscaling). At the
 * end: rows and size of the {@code bellows} schema, flushes per second, and {@code report} and {@code gate}
 * latency over the 30-day window; the gate must be red on the weekly read (the run fails otherwise). It lives in
 * the {@code usage} package to drive the store's simulated clock. Flags are not simulated.
 *
 * <p>{@code -Dfleet.mode=hourly} (default) flushes hour by hour; {@code bulk} leaves the same rows with
 * set-based SQL (for 1,000 instances, which hour by hour would take hours): real recorders flush once to create
 * the schema and the statements' dictionary, then {@code generate_series} fills the hours still kept and the
 * days already folded, the real {@link Rollups#compact} applies the retention; {@code compare} runs both and
 * prints their row counts side by side. Not a test; run with
 * {@code ./mvnw -q -B -pl benchmarks exec:exec@fleet -Dfleet.instances=10 -Dfleet.mode=bulk}.
 */
public final class FleetSimulation {
    static final long HOUR = 3_600_000L;
    static final String ID = "leads-email";
    static final RuleSet RULES = RuleSet.of(Migration.rename(ID, "leads", "user_email", "email", Phase.SWITCH));
    static final List<String> TABLES = List.of("usage", "usage_hourly", "usage_daily", "instances", "migrations");
    static final int USES_PER_HOUR = 50;
    static final int APPS = 5;
    static final int WEEKLY_HOUR = 3 * 24 + 2; // day 3, 02:00 of the simulated clock

    private FleetSimulation() {
    }

    public static void main(String[] args) throws Exception {
        int status = 1;
        try {
            run();
            status = 0;
        } catch (Throwable e) {
            e.printStackTrace();
        } finally {
            System.exit(status); // the flushers' pool threads would keep the JVM alive after a failure
        }
    }

    static void run() throws Exception {
        int n = Integer.getInteger("fleet.instances", 10);
        int days = Integer.getInteger("fleet.days", 30);
        int statements = Integer.getInteger("fleet.statements", 20);
        int pool = Integer.getInteger("fleet.connections", 8);
        String mode = System.getProperty("fleet.mode", "hourly");
        PostgresFixture fx = PostgresFixture.get();
        List<UsageFact> facts = new ArrayList<>();
        for (int i = 0; i < statements; i++) {
            facts.add(new UsageFact(ID, "public.leads.user_email", i % 4 == 0 ? UsageFact.Kind.WRITE : UsageFact.Kind.READ,
                UsageFact.Treatment.REWRITTEN, "SELECT user_email FROM leads WHERE id = ? /* shape " + i + " */"));
        }
        UsageFact weekly = new UsageFact(ID, "public.leads.user_email", UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH,
            "SELECT user_email FROM leads WHERE name = ? /* weekly job */");
        Map<String, Map<String, Long>> rows = new LinkedHashMap<>();
        if (mode.equals("hourly") || mode.equals("compare")) {
            String url = database(fx);
            hourly(fx, url, n, days, pool, facts, weekly);
            rows.put("hourly", measure(fx, url, days));
        }
        if (mode.equals("bulk") || mode.equals("compare")) {
            String url = database(fx);
            bulk(fx, url, n, days, facts, weekly);
            rows.put("bulk", measure(fx, url, days));
        }
        if (rows.isEmpty()) throw new IllegalArgumentException("fleet.mode must be hourly, bulk or compare, not " + mode);
        if (rows.size() == 2) {
            System.out.printf("Rows per table, hour by hour vs bulk (%d instances, %d days):%n", n, days);
            for (String t : TABLES) {
                System.out.printf("  bellows.%-13s %,9d %,9d%n", t, rows.get("hourly").get(t), rows.get("bulk").get(t));
            }
        }
    }

    private static String database(PostgresFixture fx) throws Exception {
        String url = fx.createDatabase("fleet");
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE leads (id int PRIMARY KEY, name text, user_email text, email text)");
        }
        return url;
    }

    private static UsageRecorder recorder(String app, DbStore store) {
        return new UsageRecorder(app, new UsageSettings(UsageSettings.Mode.DB, null, HOUR, 10_000), () -> RULES, store).manual();
    }

    /** Every instance flushes through the real {@link DbStore} once per simulated hour. */
    static void hourly(PostgresFixture fx, String url, int n, int days, int pool, List<UsageFact> facts, UsageFact weekly) throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(fx.dataSource(url));
        hc.setMaximumPoolSize(pool);
        AtomicLong offset = new AtomicLong();
        AtomicInteger peakConnections = new AtomicInteger();
        Random random = new Random(16);
        System.out.printf("Fleet simulation, hour by hour: %d instances, %d days, one flush per simulated hour, %d statements per app,"
            + " %d pooled connections for all flushes%n", n, days, facts.size(), pool);
        long started = System.nanoTime();
        long flushes = 0;
        long failed = 0;
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            UsageRecorder[] fleet = new UsageRecorder[n];
            ExecutorService threads = Executors.newFixedThreadPool(Math.min(n, 16));
            int silent = n > 1 ? n - 1 : -1;
            for (int d = 0; d < days; d++) {
                for (int i = 0; i < n; i++) {
                    // autoscaling: a tenth of the instances are replaced each day
                    if (fleet[i] == null || (i % 10 == d % 10 && i != silent)) {
                        if (fleet[i] != null) fleet[i].close();
                        fleet[i] = recorder("app-" + (i % APPS), new DbStore(ds::getConnection, UsageSettings.DEFAULT_RETENTION, offset::get));
                    }
                }
                for (int h = 0; h < 24; h++) {
                    offset.set(-((long) (days - d) * 24 - h) * HOUR);
                    List<Future<Boolean>> done = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        UsageRecorder r = fleet[i];
                        if (i == silent && d >= 10) continue; // went silent on day 10: no flush, no close
                        int seed = random.nextInt();
                        boolean job = i == 0 && d * 24 + h == WEEKLY_HOUR;
                        done.add(threads.submit(() -> {
                            Random rr = new Random(seed);
                            String app = r.appName();
                            for (int k = 0; k < USES_PER_HOUR; k++) r.record(app, List.of(facts.get(rr.nextInt(facts.size()))));
                            if (job) r.record(app, List.of(weekly));
                            return r.flush();
                        }));
                    }
                    for (Future<Boolean> f : done) {
                        // a failed flush keeps its batch and writes it with the next one, as in production
                        if (!f.get()) failed++;
                        flushes++;
                    }
                    peakConnections.accumulateAndGet(ds.getHikariPoolMXBean().getTotalConnections(), Math::max);
                }
                if (d == 9 && silent >= 0) fleet[silent].halt();
            }
            offset.set(0);
            threads.shutdown();
            double seconds = (System.nanoTime() - started) / 1e9;
            Thread.sleep(1_500); // backends report their row counts to the statistics about once a second
            long written;
            long deleted;
            try (Connection c = fx.connect(url); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT sum(n_tup_ins + n_tup_upd), sum(n_tup_del) FROM pg_stat_user_tables"
                     + " WHERE schemaname = 'bellows'")) {
                rs.next();
                written = rs.getLong(1);
                deleted = rs.getLong(2);
            }
            System.out.printf("  %,d flushes in %.1f s (%,.0f flushes/s); rows inserted or updated in bellows: %,d (%,.0f/s),"
                + " deleted by compaction: %,d%n", flushes, seconds, flushes / seconds, written, written / seconds, deleted);
            System.out.printf("  flushes that failed and were retried with the next one: %,d%n", failed);
            System.out.printf("  server connections held by the one pool all flushes share: %d (HikariCP keeps it full)%n", peakConnections.get());
            // the last generation is still running when report and gate are timed, as at the end of a real window;
            // halted, not closed: closing would flush once more at the present time
            for (UsageRecorder r : fleet) if (r != null) r.halt();
        }
    }

    /**
     * The rows {@link #hourly} leaves, written set-based: the same instances (ids, generations, heartbeats, the
     * silent one), the hours still kept as hourly rows (50 uses per instance and hour drawn over its app's
     * statements, as the recorders draw them), the folded days as daily rows (one per app, statement and UTC day,
     * its count the expected number of uses), the weekly job's single read, then the statements' totals. The
     * schema, the statements' text and hashes and the migration come from real recorders' first flush.
     */
    static void bulk(PostgresFixture fx, String url, int n, int days, List<UsageFact> facts, UsageFact weekly) throws Exception {
        System.out.printf("Fleet simulation, bulk (set-based SQL): %d instances, %d days, %d statements per app%n", n, days, facts.size());
        long started = System.nanoTime();
        int silent = n > 1 ? n - 1 : -1;
        int hours = days * 24;
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            UsageSchema.ensure(c); // the driver's own DDL, as bellows init runs it
            Instant t0;
            try (ResultSet rs = s.executeQuery("SELECT now()")) {
                rs.next();
                t0 = Fleet.instant(rs, 1);
            }
            // one real flush per app at hour 0: statements' text, hashes and call sites, the instances' shape, the migration
            for (int a = 0; a < Math.min(n, APPS); a++) {
                UsageRecorder r = recorder("app-" + a, new DbStore(() -> fx.connect(url), UsageSettings.DEFAULT_RETENTION,
                    () -> t0.toEpochMilli() - hours * HOUR - System.currentTimeMillis()));
                for (UsageFact f : facts) r.record(r.appName(), List.of(f));
                if (a == 0) r.record(r.appName(), List.of(weekly));
                if (!r.flush()) throw new IllegalStateException("the template flush failed");
                r.halt();
            }
            Instant last = t0.minusMillis(HOUR); // the last simulated hour: day days-1, 23:00
            Instant keepFrom = last.truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(1)); // as Rollups.compact keeps hours
            int kmin = (int) Math.max(0, hours - Math.floorDiv(t0.toEpochMilli() - keepFrom.toEpochMilli(), HOUR));
            String key = "migration_id, column_name, kind, treatment, fingerprint_hash, app_name";
            String at = "(?::timestamptz - (" + hours + " - k) * interval '1 hour')"; // hour k of the simulation
            String day = "date_trunc('day', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";
            String hour = "date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";
            List<Object[]> steps = List.of(
                new Object[] {"CREATE TEMP TABLE tpl AS SELECT DISTINCT ON (app_name) * FROM bellows.instances ORDER BY app_name"},
                new Object[] {"CREATE TEMP TABLE dict AS SELECT " + key + ", row_number() OVER (PARTITION BY app_name"
                    + " ORDER BY fingerprint_hash) - 1 AS j FROM bellows.usage WHERE treatment = 'rewritten'"},
                new Object[] {"CREATE TEMP TABLE weekly AS SELECT " + key + " FROM bellows.usage WHERE treatment <> 'rewritten'"},
                new Object[] {"DELETE FROM bellows.usage_hourly"},
                new Object[] {"DELETE FROM bellows.usage_daily"},
                new Object[] {"DELETE FROM bellows.instances"},
                // generations: every slot starts on day 0; slot i is replaced on the days d % 10 == i % 10, except the
                // silent one (the last slot), which stops flushing after day 9
                new Object[] {"CREATE TEMP TABLE gen AS SELECT i, d AS first_day,"
                    + " CASE WHEN i = " + silent + " THEN least(" + (days - 1) + ", 9) ELSE coalesce(lead(d) OVER w - 1, " + (days - 1) + ") END AS last_day,"
                    + " lead(d) OVER w IS NOT NULL AS replaced, 'app-' || (i % " + APPS + ") AS app_name,"
                    + " substr(md5(i || ':' || d || ':' || random()), 1, 12) AS instance_id"
                    + " FROM generate_series(0, " + (n - 1) + ") i, generate_series(0, " + (days - 1) + ") d"
                    + " WHERE d = 0 OR (d % 10 = i % 10 AND i <> " + silent + ") WINDOW w AS (PARTITION BY i ORDER BY d)"},
                new Object[] {"INSERT INTO bellows.instances (instance_id, app_name, host, pid, started_at, last_seen, stopped_at,"
                    + " flush_interval_ms, phases, rules_hash, rules_source, overflowed, last_seq, retention_ms)"
                    + " SELECT g.instance_id, g.app_name, t.host, t.pid, s.t, e.t, CASE WHEN g.replaced THEN e.t END,"
                    + " t.flush_interval_ms, t.phases, t.rules_hash, t.rules_source, 0,"
                    + " (g.last_day - g.first_day + 1) * 24 + g.replaced::int, t.retention_ms FROM gen g JOIN tpl t USING (app_name),"
                    + " LATERAL (SELECT " + at + " AS t FROM (SELECT g.first_day * 24 AS k) x) s,"
                    + " LATERAL (SELECT " + at + " AS t FROM (SELECT g.last_day * 24 + 23 AS k) x) e", t0, t0},
                // the hours still kept: each instance draws 50 uses an hour over its app's statements
                new Object[] {"INSERT INTO bellows.usage_hourly (bucket, instance_id, " + key + ", count, first_seen, last_seen)"
                    + " SELECT " + hour + ", x.instance_id, d.migration_id, d.column_name, d.kind, d.treatment, d.fingerprint_hash,"
                    + " d.app_name, count(*), t, t FROM (SELECT g.instance_id, g.app_name, " + at + " AS t,"
                    + " floor(random() * " + facts.size() + ")::int AS j FROM gen g,"
                    + " generate_series(greatest(g.first_day * 24, " + kmin + "), g.last_day * 24 + 23) k,"
                    + " generate_series(1, " + USES_PER_HOUR + ") draw) x JOIN dict d USING (app_name, j)"
                    + " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, t", t0},
                // the folded days: one row per app, statement and UTC day, instances merged
                new Object[] {"INSERT INTO bellows.usage_daily (bucket, " + key + ", count, first_seen, last_seen)"
                    + " SELECT a.day, " + key.replace("app_name", "d.app_name") + ", greatest(1, round(a.instance_hours * "
                    + USES_PER_HOUR + ".0 / " + facts.size() + "))::bigint, a.first_seen, a.last_seen"
                    + " FROM (SELECT app_name, " + day + " AS day, count(*) AS instance_hours, min(t) AS first_seen, max(t) AS last_seen"
                    + " FROM (SELECT g.app_name, " + at + " AS t FROM gen g,"
                    + " generate_series(g.first_day * 24, least(g.last_day * 24 + 23, " + (kmin - 1) + ")) k) h GROUP BY 1, 2) a"
                    + " JOIN dict d USING (app_name)", t0},
                // the weekly job's single read, by slot 0's instance of day 3
                new Object[] {"INSERT INTO bellows.usage_hourly (bucket, instance_id, " + key + ", count, first_seen, last_seen)"
                    + " SELECT " + hour + ", g.instance_id, " + key.replace("app_name", "w.app_name") + ", 1, t, t FROM gen g, weekly w,"
                    + " (SELECT " + at + " AS t FROM (SELECT " + WEEKLY_HOUR + " AS k) x) x"
                    + " WHERE g.i = 0 AND 3 BETWEEN g.first_day AND g.last_day AND " + WEEKLY_HOUR + " >= " + kmin + " AND " + days + " > 3", t0},
                new Object[] {"INSERT INTO bellows.usage_daily (bucket, " + key + ", count, first_seen, last_seen)"
                    + " SELECT " + day + ", " + key + ", 1, t, t FROM weekly, (SELECT " + at + " AS t FROM (SELECT " + WEEKLY_HOUR + " AS k) x) x"
                    + " WHERE " + WEEKLY_HOUR + " < " + kmin + " AND " + days + " > 3", t0},
                // the statements' totals over everything the rollups hold
                new Object[] {"UPDATE bellows.usage u SET count = r.n, first_seen = r.f, last_seen = r.l FROM (SELECT " + key
                    + ", sum(count) AS n, min(first_seen) AS f, max(last_seen) AS l FROM (SELECT " + key + ", count, first_seen, last_seen"
                    + " FROM bellows.usage_hourly UNION ALL SELECT " + key + ", count, first_seen, last_seen FROM bellows.usage_daily) x"
                    + " GROUP BY " + key + ") r WHERE (u.migration_id, u.column_name, u.kind, u.treatment, u.fingerprint_hash, u.app_name)"
                    + " = (r.migration_id, r.column_name, r.kind, r.treatment, r.fingerprint_hash, r.app_name)"},
                new Object[] {"DELETE FROM bellows.usage WHERE (" + key + ") NOT IN (SELECT " + key + " FROM bellows.usage_hourly"
                    + " UNION SELECT " + key + " FROM bellows.usage_daily)"});
            c.setAutoCommit(false);
            for (Object[] step : steps) {
                try (PreparedStatement ps = c.prepareStatement((String) step[0])) {
                    for (int i = 1; i < step.length; i++) ps.setObject(i, Rollups.time((Instant) step[i]));
                    ps.execute();
                }
            }
            c.commit();
            c.setAutoCommit(true);
            Rollups.compact(c, last, UsageSettings.DEFAULT_RETENTION); // the retention, as the last flush's compaction applies it
            double seconds = (System.nanoTime() - started) / 1e9;
            // hour by hour, autovacuum has analysed the tables many times over by the end; here they were just filled
            for (String t : TABLES) s.execute("VACUUM ANALYZE bellows." + t);
            System.out.printf("  filled in %.1f s, then VACUUM ANALYZE%n", seconds);
        }
    }

    /** Rows and bytes per table, then report and gate over the window (median and max of 5); fails unless the gate is red on the weekly read. */
    static Map<String, Long> measure(PostgresFixture fx, String url, int days) throws Exception {
        Map<String, Long> rows = new LinkedHashMap<>();
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            for (String t : TABLES) {
                try (ResultSet rs = s.executeQuery("SELECT count(*), pg_total_relation_size('bellows." + t + "') FROM bellows." + t)) {
                    rs.next();
                    rows.put(t, rs.getLong(1));
                    System.out.printf("  bellows.%-13s %,9d rows %,12d bytes%n", t, rs.getLong(1), rs.getLong(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c"
                + " JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = 'bellows' AND c.relkind = 'r'")) {
                rs.next();
                System.out.printf("  bellows schema on disk: %s%n", rs.getString(1));
            }
            if (Boolean.getBoolean("fleet.explain")) { // the plan of the query report and gate spend their time in
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + Rollups.readQuery(true, true))) {
                    Instant since = Instant.now().minus(Duration.ofDays(days));
                    for (int i = 1; i <= 4; i += 2) {
                        ps.setString(i, ID);
                        ps.setObject(i + 1, Rollups.time(since));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) System.out.println("    " + rs.getString(1));
                    }
                }
            }
            long[] report = new long[5];
            long[] gate = new long[5];
            Gate.Result g = null;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                Report.build(c, ID, Duration.ofDays(days), 10);
                report[i] = System.nanoTime() - t0;
                t0 = System.nanoTime();
                g = Gate.evaluate(c, ID, new Gate.Options(Duration.ofDays(days), false, null, null));
                gate[i] = System.nanoTime() - t0;
            }
            Arrays.sort(report);
            Arrays.sort(gate);
            System.out.printf("  report over %d days: median %.1f ms, max %.1f ms; gate: median %.1f ms, max %.1f ms (5 runs)%n",
                days, report[2] / 1e6, report[4] / 1e6, gate[2] / 1e6, gate[4] / 1e6);
            Gate.Condition usage = g.conditions().stream().filter(x -> x.id().equals("usage")).findFirst().orElseThrow();
            System.out.println("  gate: " + (g.safe() ? "SAFE" : "NOT SAFE") + "; usage condition " + usage.status()
                + (usage.evidence().isEmpty() ? "" : ": " + usage.evidence().get(0)));
            if (days > 3 && (g.safe() || usage.status() != Gate.Status.UNMET || usage.evidence().size() != 1
                || !usage.evidence().get(0).startsWith("read passed through x1 by 'app-0'"))) {
                throw new IllegalStateException("the gate must be red on the weekly job's single read of day 3 and on nothing else: "
                    + usage.status() + " " + usage.evidence());
            }
        }
        return rows;
    }
}
