package dev.bellows.bench.jmh;

import com.p6spy.engine.spy.P6DataSource;
import dev.bellows.bench.stub.StubDataSource;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Per-statement cost of the JDBC layer, the way HikariCP's benchmarks measure their proxies: a stub driver
 * underneath (no network, no server), and each JDBC layer over it in the same run: the stub alone
 * ({@code plain}), Bellows over the stub with three migrations in switch, p6spy (logging off) over the stub.
 * One operation is what an application does per statement on a pooled connection: prepare, bind, execute,
 * read one row, close. Differences between the variants are the layer's cost.
 *
 * <p>Run: {@code ./mvnw -q -B -pl benchmarks exec:exec@jmh} (see docs/performance.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StatementBenchmark {

    /** ~300 characters naming no managed column or table: most of an application's SQL. */
    static final String PASS_THROUGH =
        "SELECT inv.id, inv.number, inv.amount_cents, inv.currency, inv.issued_at, cust.display_name, cust.region "
        + "FROM invoices inv JOIN customers cust ON cust.id = inv.customer_id "
        + "WHERE inv.issued_at >= ? AND inv.issued_at < ? AND cust.region IN (?, ?, ?) AND inv.amount_cents > 100 "
        + "ORDER BY inv.issued_at DESC, inv.id LIMIT 50";

    /** A dual write in switch: one client parameter feeds two server parameters (parameter remapping). */
    static final String DUAL_WRITE = "UPDATE leads SET user_email = ?, name = ? WHERE id = ?";

    /** A star over a table the catalog does not list: the legacy label is mapped on the result. */
    static final String LABELS = "SELECT * FROM contacts WHERE id = ?";

    /** Ten typical OLTP statements on the managed tables, for the first parse ({@link FirstParseBenchmark}). */
    static final String[] OLTP = {
        "SELECT id, name, user_email FROM leads WHERE id = ?",
        "SELECT l.id, l.user_email, o.amount, o.status FROM leads l JOIN orders o ON o.lead_id = l.id WHERE l.id = ? AND o.created_at > ?",
        "SELECT l.name, l.user_email, u.email FROM leads l LEFT JOIN users u ON u.id = l.owner_id WHERE l.user_email LIKE ? ORDER BY l.name LIMIT 50",
        "INSERT INTO leads (name, user_email, created_at, owner_id) VALUES (?, ?, now(), ?)",
        "INSERT INTO orders (lead_id, status, amount, created_at) VALUES (?, ?, ?, now()) RETURNING id",
        "UPDATE leads SET user_email = ?, name = ? WHERE id = ?",
        "UPDATE orders SET status = 'completed' WHERE id = ? AND status = 'processing'",
        "DELETE FROM leads WHERE user_email = ? AND created_at < ?",
        "SELECT status, count(*) FROM orders WHERE created_at >= ? GROUP BY status ORDER BY 2 DESC",
        "SELECT id FROM leads WHERE user_email IN (SELECT email FROM users WHERE name = ?) FOR UPDATE",
    };

    /** bellows-check: database flags on in the default mode (bellows.flags.mode=check, staleness 500 ms). */
    @Param({"plain", "bellows", "bellows-check", "p6spy"})
    public String driver;

    Connection connection;
    BellowsRuntime runtime;
    long n;

    // One data source per variant for all the benchmark's threads, as a pool's connections share one: with -t 8 the
    // threads share the runtime (rewriter caches, usage recorder, flag state) and each has its own connection.
    private static final Map<String, DataSource> SHARED = new ConcurrentHashMap<>();
    private static final Set<BellowsRuntime> CLOSED = ConcurrentHashMap.newKeySet();

    @Setup(Level.Trial)
    public void open() throws SQLException {
        // Usage recording stays on (the hot path counts every use) but writes to a file, not to the stub.
        System.setProperty("bellows.usage", "file:" + System.getProperty("java.io.tmpdir") + "/bellows-jmh-usage.jsonl");
        DataSource ds = SHARED.computeIfAbsent(driver, StatementBenchmark::dataSource);
        connection = ds.getConnection();
        if (ds instanceof BellowsDataSource) {
            runtime = ((BellowsDataSource) ds).runtime();
            check(PASS_THROUGH, false, false, false);
            check(DUAL_WRITE, true, true, false);
            check(LABELS, true, false, true);
        }
    }

    static DataSource dataSource(String driver) {
        StubDataSource stub = new StubDataSource();
        switch (driver) {
            case "plain":
                return stub;
            case "bellows":
                BellowsDataSource b = new BellowsDataSource(stub);
                b.setRules("classpath:jmh-rules.yaml");
                b.setFlagsPoll("off");
                b.setRulesPoll("off");
                b.setAppName("jmh");
                return b;
            case "bellows-check":
                // every statement checks the phases' age; one every 500 ms reads "bellows.flags" (answered by the stub)
                BellowsDataSource c = new BellowsDataSource(stub);
                c.setRules("classpath:jmh-rules.yaml");
                c.setFlagsMode("check");
                c.setRulesPoll("off");
                c.setAppName("jmh-check");
                return c;
            case "p6spy":
                return new P6DataSource(stub);
            default:
                throw new IllegalArgumentException(driver);
        }
    }

    // The benchmark measures what it says only if Bellows takes the intended path for each statement.
    private void check(String sql, boolean changed, boolean remapped, boolean labelled) throws SQLException {
        Rewrite r = Rewriter.create(runtime.rules(), runtime.catalog()).rewrite(sql);
        if (r.changed() != changed || (r.params() != null) != remapped || r.labels().isEmpty() == labelled
            || r.isUnanalysed()) {
            throw new IllegalStateException("unexpected rewrite of " + sql + ": " + r);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        connection.close();
        if (runtime != null && CLOSED.add(runtime)) runtime.close();
    }

    /** A statement Bellows passes through: a scan for managed names, no cache, no parse. */
    @Benchmark
    public String passThrough() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(PASS_THROUGH)) {
            ps.setString(1, "2026-01-01");
            ps.setString(2, "2026-02-01");
            ps.setString(3, "eu");
            ps.setString(4, "us");
            ps.setString(5, "apac");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** A cached rewrite with parameter remapping: a dual write binds one client value to two server parameters. */
    @Benchmark
    public int cacheHitRemap() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(DUAL_WRITE)) {
            ps.setString(1, "ann@example.com");
            ps.setString(2, "Ann");
            ps.setLong(3, 42L);
            return ps.executeUpdate();
        }
    }

    /** A cached rewrite whose result maps a legacy label: {@code getString("phone")} reads {@code phone_number}. */
    @Benchmark
    public String cacheHitLabels() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(LABELS)) {
            ps.setLong(1, 42L);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString("phone");
            }
        }
    }

    /**
     * Same shape, a different literal every call (an exact-cache miss and a template hit in Bellows). Building
     * the string is part of every variant's operation, as it is in the application.
     */
    @Benchmark
    public String literalVarying() throws SQLException {
        long k = n++;
        try (PreparedStatement ps = connection.prepareStatement(
            "SELECT id, name, user_email FROM leads WHERE id = " + k + " AND name <> 'lead-" + k + "'")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
