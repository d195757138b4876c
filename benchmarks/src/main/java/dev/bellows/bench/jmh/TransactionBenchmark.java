package dev.bellows.bench.jmh;

import com.p6spy.engine.spy.P6DataSource;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.bench.TpcbBenchmark;
import dev.bellows.bench.stub.StubDataSource;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import java.sql.SQLException;
import java.util.Map;
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
 * One TPC-B transaction ({@code TpcbBenchmark}'s: borrow a pooled connection, three updates, a select read by
 * label, an insert, commit, return the connection) through HikariCP over a stub driver, so that what the
 * end-to-end run pays around each statement (HikariCP's proxies over the layer's wrappers, executeUpdate,
 * result-set iteration, usage recording, commit and close) is measured without a server. Variants: the stub alone
 * ({@code plain}), Bellows without rules ({@code bellows-none}), Bellows with {@code bench-rules-switch.yaml}
 * ({@code bellows-switch}: {@code pgbench_accounts.abalance} renamed, in switch, so two statements are rewritten
 * and record a usage fact per execution), p6spy with logging off.
 *
 * <p>Run: {@code ./mvnw -q -B -pl benchmarks exec:exec@jmh -Djmh.args="-prof gc TransactionBenchmark"}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TransactionBenchmark {
    @Param({"plain", "bellows-none", "bellows-switch", "p6spy"})
    public String driver;

    // one pool per variant shared by all the benchmark's threads, as TpcbBenchmark's workers share theirs
    private static final Map<String, HikariDataSource> POOLS = new ConcurrentHashMap<>();

    HikariDataSource pool;
    int n;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        System.setProperty("bellows.usage", "file:" + System.getProperty("java.io.tmpdir") + "/bellows-jmh-usage.jsonl");
        pool = POOLS.computeIfAbsent(driver, TransactionBenchmark::pool);
        DataSource layer = pool.getDataSource();
        if (layer instanceof BellowsDataSource) check(((BellowsDataSource) layer).runtime());
    }

    static HikariDataSource pool(String driver) {
        StubDataSource stub = new StubDataSource();
        DataSource layer;
        switch (driver) {
            case "plain":
                layer = stub;
                break;
            case "bellows-none":
            case "bellows-switch":
                BellowsDataSource b = new BellowsDataSource(stub);
                if (driver.equals("bellows-switch")) b.setRules("classpath:bench-rules-switch.yaml");
                b.setFlagsPoll("off");
                b.setRulesPoll("off");
                b.setAppName("jmh-" + driver);
                layer = b;
                break;
            case "p6spy":
                layer = new P6DataSource(stub);
                break;
            default:
                throw new IllegalArgumentException(driver);
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("jmh-" + driver);
        config.setDataSource(layer);
        config.setAutoCommit(false);
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(8);
        config.setMaxLifetime(0);
        return new HikariDataSource(config);
    }

    // The benchmark measures what it says only if the switch variant rewrites the account statements.
    private void check(BellowsRuntime runtime) {
        Rewriter rewriter = Rewriter.create(runtime.rules(), runtime.catalog());
        boolean rules = driver.equals("bellows-switch");
        for (String sql : new String[] {TpcbBenchmark.UPDATE_ACCOUNT, TpcbBenchmark.SELECT_ACCOUNT}) {
            Rewrite r = rewriter.rewrite(sql);
            if (r.changed() != rules || r.facts().isEmpty() == rules || r.isUnanalysed()) {
                throw new IllegalStateException("unexpected rewrite of " + sql + ": " + r);
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        HikariDataSource p = POOLS.remove(driver);
        if (p != null) {
            DataSource layer = p.getDataSource();
            p.close();
            if (layer instanceof BellowsDataSource) ((BellowsDataSource) layer).runtime().close();
        }
    }

    @Benchmark
    public int transaction() throws SQLException {
        int k = n++;
        return TpcbBenchmark.transaction(pool, k & 0xffff, k & 7, k & 63, k & 1023);
    }
}
