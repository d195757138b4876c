package dev.bellows.usage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * latency over the 30-day window. It lives in the {@code usage} package to drive the store's simulated clock.
 * Flags are not simulated. Not a test; run with
 * {@code ./mvnw -q -B -pl benchmarks exec:exec@fleet -Dfleet.instances=10}.
 */
public final class FleetSimulation {
    static final long HOUR = 3_600_000L;
    static final String ID = "leads-email";
    static final RuleSet RULES = RuleSet.of(Migration.rename(ID, "leads", "user_email", "email", Phase.SWITCH));

    private FleetSimulation() {
    }

    public static void main(String[] args) throws Exception {
        try {
            run();
        } finally {
            System.exit(0); // the flushers' pool threads would keep the JVM alive after a failure
        }
    }

    static void run() throws Exception {
        int n = Integer.getInteger("fleet.instances", 10);
        int days = Integer.getInteger("fleet.days", 30);
        int statements = Integer.getInteger("fleet.statements", 20);
        int pool = Integer.getInteger("fleet.connections", 8);
        PostgresFixture fx = PostgresFixture.get();
        String url = fx.createDatabase("fleet");
        try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE leads (id int PRIMARY KEY, name text, user_email text, email text)");
        }
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(fx.dataSource(url));
        hc.setMaximumPoolSize(pool);
        AtomicLong offset = new AtomicLong();
        AtomicInteger peakConnections = new AtomicInteger();
        List<UsageFact> facts = new ArrayList<>();
        for (int i = 0; i < statements; i++) {
            facts.add(new UsageFact(ID, "public.leads.user_email", i % 4 == 0 ? UsageFact.Kind.WRITE : UsageFact.Kind.READ,
                UsageFact.Treatment.REWRITTEN, "SELECT user_email FROM leads WHERE id = ? /* shape " + i + " */"));
        }
        UsageFact weekly = new UsageFact(ID, "public.leads.user_email", UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH,
            "SELECT user_email FROM leads WHERE name = ? /* weekly job */");
        Random random = new Random(16);
        System.out.printf("Fleet simulation: %d instances, %d days, one flush per simulated hour, %d statements per app,"
            + " %d pooled connections for all flushes%n", n, days, statements, pool);
        long started = System.nanoTime();
        long flushes = 0;
        long failed = 0;
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            UsageRecorder[] fleet = new UsageRecorder[n];
            DbStore[] stores = new DbStore[n];
            ExecutorService threads = Executors.newFixedThreadPool(Math.min(n, 16));
            int silent = n > 1 ? n - 1 : -1;
            for (int d = 0; d < days; d++) {
                for (int i = 0; i < n; i++) {
                    // autoscaling: a tenth of the instances are replaced each day
                    if (fleet[i] == null || (i % 10 == d % 10 && i != silent)) {
                        if (fleet[i] != null) fleet[i].close();
                        DbStore store = new DbStore(ds::getConnection, UsageSettings.DEFAULT_RETENTION, offset::get);
                        stores[i] = store;
                        fleet[i] = new UsageRecorder("app-" + (i % 5), new UsageSettings(UsageSettings.Mode.DB, null, HOUR, 10_000),
                            () -> RULES, store).manual();
                    }
                }
                for (int h = 0; h < 24; h++) {
                    offset.set(-((long) (days - d) * 24 - h) * HOUR);
                    List<Future<Boolean>> done = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        UsageRecorder r = fleet[i];
                        if (i == silent && d >= 10) continue; // went silent on day 10: no flush, no close
                        int seed = random.nextInt();
                        boolean job = i == 0 && d == 3 && h == 2;
                        done.add(threads.submit(() -> {
                            Random rr = new Random(seed);
                            String app = r.appName();
                            for (int k = 0; k < 50; k++) r.record(app, List.of(facts.get(rr.nextInt(facts.size()))));
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
            try (Connection c = fx.connect(url); Statement s = c.createStatement()) {
                for (String t : List.of("usage", "usage_hourly", "usage_daily", "instances", "migrations")) {
                    try (ResultSet rs = s.executeQuery("SELECT count(*), pg_total_relation_size('bellows." + t + "') FROM bellows." + t)) {
                        rs.next();
                        System.out.printf("  bellows.%-13s %,9d rows %,12d bytes%n", t, rs.getLong(1), rs.getLong(2));
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
            }
            for (int i = 0; i < n; i++) if (fleet[i] != null && i != silent) fleet[i].close();
        }
    }
}
