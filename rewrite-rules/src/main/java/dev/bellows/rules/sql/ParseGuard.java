package dev.bellows.rules.sql;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * Parses one statement in the caller's thread within a time budget. JSqlParser's own timeout runs every
 * parse on a new thread; instead one shared watchdog thread raises the parser's {@code interrupted} flag,
 * which its backtracking loops check. Complex parsing, exponential in nesting depth, is only tried on
 * shallow statements.
 */
public final class ParseGuard {
    /** Deeper than this, JSqlParser's complex mode backtracks for seconds (0.4 s at depth 8 on this machine). */
    static final int COMPLEX_MAX_DEPTH = 6;

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bellows-parse-watchdog");
        t.setDaemon(true);
        return t;
    });

    private ParseGuard() {}

    /** Parses {@code sql}; throws on a syntax error or when the budget runs out. */
    public static Statement parse(String sql, int depth, long budgetMillis) throws Exception {
        try {
            return parse(sql, false, budgetMillis);
        } catch (Exception e) {
            if (depth > COMPLEX_MAX_DEPTH) throw e;
            return parse(sql, true, budgetMillis);
        }
    }

    /**
     * Parses one statement as the engine does (for tests). Tests use it to check that output parses again, not
     * how fast: the budget is a hang guard generous enough for a loaded build machine.
     */
    public static Statement parse(String sql) throws Exception {
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        return parse(sql, t.maxDepth, 60_000);
    }

    private static Statement parse(String sql, boolean complex, long budgetMillis) throws Exception {
        CCJSqlParser p = CCJSqlParserUtil.newParser(sql).withAllowComplexParsing(complex);
        ScheduledFuture<?> alarm = WATCHDOG.schedule(() -> p.interrupted = true, budgetMillis, TimeUnit.MILLISECONDS);
        try {
            Statement st = p.Statement();
            if (p.interrupted) throw new IllegalStateException("parse took longer than " + budgetMillis + " ms");
            return st;
        } catch (Exception | StackOverflowError e) {
            if (p.interrupted) throw new IllegalStateException("parse took longer than " + budgetMillis + " ms");
            throw e instanceof Exception ? (Exception) e : new IllegalStateException("parser stack overflow");
        } finally {
            alarm.cancel(false);
        }
    }
}
