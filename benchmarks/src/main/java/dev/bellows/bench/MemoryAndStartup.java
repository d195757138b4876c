package dev.bellows.bench;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Catalog;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import dev.bellows.testing.PostgresFixture;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Issue 23, section 5: heap per cached rewrite (and with 100,000 distinct statements against the 10,000-entry
 * bound), and the time from {@code getConnection()} to the first statement's result with a 200-table catalog,
 * Bellows beside plain pgjdbc. Not a test; run with
 * {@code ./mvnw -q -B -pl benchmarks exec:exec@memory-startup}.
 */
public final class MemoryAndStartup {
    private MemoryAndStartup() {
    }

    public static void main(String[] args) throws Exception {
        List<String> parts = Arrays.asList(args); // "memory", "startup", or nothing for both
        if (parts.isEmpty() || parts.contains("memory")) memory();
        if (parts.isEmpty() || parts.contains("startup")) startup();
        System.exit(0);
    }

    // ------------------------------------------------------------------ heap

    static void memory() throws Exception {
        RuleSet rules = RulesFile.load("classpath:jmh-rules.yaml", MemoryAndStartup.class.getClassLoader());
        Catalog catalog = Catalog.of(Map.of(
            "leads", List.of("id", "name", "user_email", "created_at", "owner_id", "contact_email"),
            "orders", List.of("id", "lead_id", "status", "amount", "created_at", "status_code"),
            "users", List.of("id", "email", "name")));
        System.out.println("Heap per cached statement (bytes retained after full GC / statements; the cache holds the only reference to each SQL string):");
        for (String shape : new String[] {"literal", "distinct", "passthrough"}) {
            for (int n : new int[] {10_000, 100_000}) {
                long base = used();
                Rewriter rw = Rewriter.create(rules, catalog);
                Rewrite last = null;
                // twice each: a statement only scanned or filled into a known template is kept from its second sighting
                for (int i = 0; i < n; i++) {
                    String sql = statement(shape, i);
                    rw.rewrite(sql);
                    last = rw.rewrite(sql);
                }
                long after = used();
                int cached = Math.min(n, rw.options().cacheSize());
                System.out.printf("  %-11s %,7d statements: %,12d B retained, %,6d B per cached statement (bound %,d)  e.g. %s%n",
                    shape, n, after - base, (after - base) / cached, rw.options().cacheSize(), last.sql().length() + " chars");
                if (rw.rewrite("x") == null) throw new AssertionError(); // keep rw reachable until measured
            }
        }
    }

    static String statement(String shape, int i) {
        switch (shape) {
            case "literal": // exact entries only: every one shares one template analysis
                return "SELECT id, name, user_email FROM leads WHERE id = " + i + " AND name <> 'lead-" + i + "'";
            case "distinct": // a new template (and analysis) for each
                return "SELECT l.id, l.user_email AS e" + i + ", o.status FROM leads l JOIN orders o ON o.lead_id = l.id WHERE l.id = ?";
            default: // no managed name: cached as passed through
                return "SELECT inv.id, inv.number, inv.amount_cents FROM invoices inv WHERE inv.customer_id = ? AND inv.n = " + i;
        }
    }

    static long used() {
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    // ------------------------------------------------------------------ start-up

    static void startup() throws SQLException {
        PostgresFixture fixture = PostgresFixture.get();
        String url = fixture.createDatabase("startup");
        try (Connection c = fixture.connect(url); Statement s = c.createStatement()) {
            for (int t = 0; t < 200; t++) {
                // every tenth table has a column named like the migration's, so the catalog read covers 20 tables
                s.execute("CREATE TABLE t" + t + " (id bigint PRIMARY KEY, a text, b text, c int, d int, e date, f numeric, g boolean"
                    + (t % 10 == 0 ? ", user_email text" : "") + ")");
            }
            s.execute("CREATE TABLE leads (id bigint PRIMARY KEY, name text, user_email text, contact_email text, created_at timestamptz, owner_id bigint)");
            s.execute("INSERT INTO leads VALUES (1, 'Ann', 'ann@example.com', 'ann@example.com', now(), 1)");
        }
        String sql = "SELECT user_email FROM leads WHERE id = ?";
        int rounds = 15;
        // per round: [0] configuration (Bellows: rules file, runtime), [1] getConnection() (Bellows: + catalog read), [2] first statement
        long[][] plain = new long[3][rounds];
        long[][] bellows = new long[3][rounds];
        for (int r = 0; r < rounds; r++) {
            // interleaved; each Bellows round is a new configuration (appName), so its runtime reads the catalog afresh
            firstStatement(null, fixture.dataSource(url), sql, plain, r);
            BellowsDataSource b = new BellowsDataSource(fixture.dataSource(url));
            b.setRules("classpath:jmh-rules.yaml");
            b.setAppName("startup-" + r);
            b.setFlagsPoll("off");
            b.setRulesPoll("off");
            firstStatement(b, b, sql, bellows, r);
        }
        System.out.println("getConnection() to the first statement's result, 200 tables + leads, " + rounds
            + " interleaved rounds, first round dropped (class loading): median (min-max) ms");
        String[] parts = {"configuration", "getConnection()", "first statement"};
        for (int i = 0; i < 3; i++) {
            System.out.println("  " + parts[i] + ": plain pgjdbc " + summary(plain[i]) + ", Bellows " + summary(bellows[i]));
        }
        long[] pt = new long[rounds];
        long[] bt = new long[rounds];
        for (int r = 0; r < rounds; r++) {
            pt[r] = plain[0][r] + plain[1][r] + plain[2][r];
            bt[r] = bellows[0][r] + bellows[1][r] + bellows[2][r];
        }
        System.out.println("  total: plain pgjdbc " + summary(pt) + ", Bellows " + summary(bt)
            + "  (Bellows: new runtime each round: rules file, catalog read, rewriter, first parse; usage recording db, flags off)");
    }

    static void firstStatement(BellowsDataSource bellows, DataSource ds, String sql, long[][] out, int r) throws SQLException {
        long t0 = System.nanoTime();
        if (bellows != null) bellows.runtime();
        long t1 = System.nanoTime();
        try (Connection c = ds.getConnection()) {
            long t2 = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, 1L);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !"ann@example.com".equals(rs.getString("user_email"))) throw new AssertionError("wrong result");
                }
            }
            long t3 = System.nanoTime();
            out[0][r] = t1 - t0;
            out[1][r] = t2 - t1;
            out[2][r] = t3 - t2;
        }
    }

    static String summary(long[] nanos) {
        long[] s = Arrays.copyOfRange(nanos, 1, nanos.length);
        Arrays.sort(s);
        return String.format("%.1f (%.1f-%.1f)", s[s.length / 2] / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6);
    }
}
