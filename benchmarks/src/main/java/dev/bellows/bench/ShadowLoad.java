package dev.bellows.bench;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The overhead of shadow reads ({@code bellows.shadow}, issue 16 §5) against the real server: one thread of legacy
 * reads of a type-changed column in expand ({@code SELECT id, status FROM orders WHERE id = ?} on a prepared
 * statement, autocommit), through plain pgjdbc, Bellows without shadowing, and Bellows shadowing 1 % and 100 %,
 * in interleaved rounds so a shared machine's load hits every variant alike. Prints reads per second per round,
 * the medians, the ratios to plain pgjdbc and to Bellows without shadowing, and the load average before and after.
 *
 * <pre>./mvnw -q -B -pl benchmarks exec:exec@shadow -Dshadow.seconds=5 -Dshadow.rounds=5</pre>
 */
public final class ShadowLoad {
    private ShadowLoad() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("shadow.seconds", 5);
        int rounds = Integer.getInteger("shadow.rounds", 5);
        System.out.println("load before: " + loadAverage());
        PostgresFixture f = PostgresFixture.get();
        String url = f.createDatabase("shadowload");
        try (Connection c = f.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, status_code int)");
            s.execute("INSERT INTO orders (id, status) SELECT i, (ARRAY['pending','processing','completed','cancelled'])"
                + "[1 + i % 4] FROM generate_series(1, 10000) i");
            s.execute("UPDATE orders SET status_code = CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2"
                + " WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END");
        }
        Path rules = Files.createTempFile("shadow-load", ".yaml");
        Files.writeString(rules, "migrations:\n  - id: orders-status-code\n    table: orders\n    from: status\n"
            + "    to: status_code\n    type: integer\n"
            + "    up: \"CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END\"\n"
            + "    down: \"CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' WHEN 4 THEN 'cancelled' END\"\n"
            + "    phase: expand\n");
        Map<String, Connection> variants = new LinkedHashMap<>();
        variants.put("pgjdbc", f.connect(url));
        variants.put("bellows", bellows(f, url, rules, "shadow-off", "off").getConnection());
        variants.put("bellows shadow 1%", bellows(f, url, rules, "shadow-1", "0.01").getConnection());
        variants.put("bellows shadow 100%", bellows(f, url, rules, "shadow-100", "1.0").getConnection());
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        for (String v : variants.keySet()) {
            run(variants.get(v), 1); // warm-up
            rates.put(v, new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
            for (Map.Entry<String, Connection> e : variants.entrySet()) {
                double perSecond = run(e.getValue(), seconds);
                rates.get(e.getKey()).add(perSecond);
                line.append(String.format("  %s %.0f/s", e.getKey(), perSecond));
            }
            System.out.println(line);
        }
        double plain = median(rates.get("pgjdbc"));
        double bellows = median(rates.get("bellows"));
        for (Map.Entry<String, List<Double>> e : rates.entrySet()) {
            double m = median(e.getValue());
            System.out.printf("%-22s median %8.0f reads/s   vs pgjdbc %.3f   vs bellows %.3f%n", e.getKey(), m, m / plain, m / bellows);
        }
        System.out.println("load after: " + loadAverage());
        for (Connection c : variants.values()) c.close();
        System.exit(0);
    }

    private static BellowsDataSource bellows(PostgresFixture f, String url, Path rules, String app, String shadow)
        throws Exception {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(url);
        if (f.user() != null) ds.setUser(f.user());
        if (f.password() != null) ds.setPassword(f.password());
        ds.setRules(rules.toString());
        ds.setAppName(app);
        ds.setProperty("bellows.flags.poll", "off");
        ds.setProperty("bellows.shadow", shadow);
        return ds;
    }

    private static double run(Connection c, int seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long start = System.nanoTime();
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status FROM orders WHERE id = ?")) {
            while (System.nanoTime() < end) {
                ps.setInt(1, 1 + ThreadLocalRandom.current().nextInt(10_000));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rs.getString(2);
                }
                n++;
            }
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
