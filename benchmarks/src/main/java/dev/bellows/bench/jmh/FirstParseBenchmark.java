package dev.bellows.bench.jmh;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
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
 * The first execution of a statement Bellows has never seen: before every call the rewrite caches are emptied
 * (setting a migration to the phase it has installs a new rewriter), so each of the ten OLTP statements of
 * {@link StatementBenchmark#OLTP}, in turn, is lexed, parsed and analysed. Same stub driver and variants.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FirstParseBenchmark {
    @Param({"plain", "bellows", "p6spy"})
    public String driver;

    Connection connection;
    BellowsRuntime runtime;
    String sql;
    int next;
    int version;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        System.setProperty("bellows.usage", "file:" + System.getProperty("java.io.tmpdir") + "/bellows-jmh-usage.jsonl");
        DataSource ds = StatementBenchmark.dataSource(driver);
        connection = ds.getConnection();
        if (ds instanceof BellowsDataSource) runtime = ((BellowsDataSource) ds).runtime();
    }

    @Setup(Level.Invocation)
    public void fresh() {
        if (runtime != null) {
            runtime.setPhase("leads-contact-email", Phase.SWITCH);
            if (runtime.version() == version) throw new IllegalStateException("no new rewriter");
            version = runtime.version();
        }
        sql = StatementBenchmark.OLTP[next++ % StatementBenchmark.OLTP.length];
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        connection.close();
        if (runtime != null) runtime.close();
    }

    /** Prepare and execute, no parameters bound. */
    @Benchmark
    public boolean firstParse() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            return ps.execute();
        }
    }
}
