package dev.bellows.bench.jmh;

import java.util.concurrent.TimeUnit;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The floor under {@link FirstParseBenchmark}: JSqlParser alone (a new parser per statement, simple mode, as Bellows
 * calls it first) on the same ten OLTP statements, in turn. Whatever Bellows does around a first parse comes on top.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ParserFloorBenchmark {
    int next;

    /** One statement parsed into JSqlParser's AST, nothing else. */
    @Benchmark
    public Statement jsqlparserAlone() throws Exception {
        String sql = StatementBenchmark.OLTP[next++ % StatementBenchmark.OLTP.length];
        return CCJSqlParserUtil.newParser(sql).withAllowComplexParsing(false).Statement();
    }
}
