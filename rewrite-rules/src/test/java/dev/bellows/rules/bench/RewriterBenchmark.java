package dev.bellows.rules.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;

/**
 * The rewriter's four paths, cheapest first: pass-through (no managed name, no parse), exact-cache hit,
 * template-cache hit (literal-varying SQL), and a real miss (lex, template, JSqlParser parse, analysis, splice).
 *
 * <p>Run with {@code ./mvnw -q -pl rewrite-rules -Pbench test-compile exec:exec} (see docs/performance.md).
 * Rules: a rename {@code leads.user_email -> contact_email} and a type change {@code orders.status -> status_code},
 * both in phase switch, where every read and write of a managed column is rewritten.
 */
@State(Scope.Thread)
public class RewriterBenchmark {

    static RuleSet rules() {
        return RuleSet.of(
            Migration.rename("leads-contact-email", "leads", "user_email", "contact_email", Phase.SWITCH),
            Migration.typeChange("orders-status-code", "orders", "status", "status_code",
                "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END",
                "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' WHEN 4 THEN 'cancelled' END",
                Phase.SWITCH));
    }

    static Catalog catalog() {
        return Catalog.of(Map.of(
            "leads", List.of("id", "name", "user_email", "created_at", "owner_id", "contact_email"),
            "orders", List.of("id", "lead_id", "status", "amount", "created_at", "status_code"),
            "users", List.of("id", "email", "name")));
    }

    /** ~300 characters naming no managed column and no managed table: the common case for most of an app's SQL. */
    static final String PASS_THROUGH =
        "SELECT inv.id, inv.number, inv.amount_cents, inv.currency, inv.issued_at, cust.display_name, cust.region "
        + "FROM invoices inv JOIN customers cust ON cust.id = inv.customer_id "
        + "WHERE inv.issued_at >= ? AND inv.issued_at < ? AND cust.region IN (?, ?, ?) AND inv.amount_cents > 100 "
        + "ORDER BY inv.issued_at DESC, inv.id LIMIT 50";

    /** A typical read of the managed table (rewritten in switch). */
    static final String HIT = "SELECT l.id, l.name, l.user_email, l.created_at FROM leads l WHERE l.owner_id = ? "
        + "AND l.created_at > ? ORDER BY l.created_at DESC LIMIT 20";

    /** Ten typical OLTP statements touching the managed tables. */
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

    Rewriter warm;
    String hitCopySource;
    long n;

    @Setup(Level.Trial)
    public void setUp() {
        warm = Rewriter.create(rules(), catalog());
        if (warm.mayMention(PASS_THROUGH)) throw new IllegalStateException("pass-through SQL mentions a managed name");
        Rewrite r = warm.rewrite(HIT);
        if (!r.changed() || r.isUnanalysed()) throw new IllegalStateException("HIT is not rewritten: " + r);
        if (warm.rewrite(HIT) != r) throw new IllegalStateException("second rewrite is not a cache hit");
        for (String s : OLTP) {
            Rewrite x = Rewriter.create(rules(), catalog()).rewrite(s);
            if (x.isUnanalysed() || !x.changed()) throw new IllegalStateException("OLTP statement not rewritten: " + x);
        }
        hitCopySource = HIT;
    }

    /** (i) A statement naming no managed column: a case-insensitive scan, no parse, no cache. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Rewrite passThrough() {
        return warm.rewrite(PASS_THROUGH);
    }

    /** (ii-a) Exact-cache hit with the very same String instance (its hash is cached). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Rewrite cacheHitSameInstance() {
        return warm.rewrite(HIT);
    }

    /**
     * (ii-b) Exact-cache hit with an equal but distinct String built for the call, as applications build their
     * SQL: the hash is recomputed and equals() compares every character. Includes building the copy; see
     * {@link #copyOnly} for that part alone.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Rewrite cacheHitEqualCopy() {
        return warm.rewrite(new String(hitCopySource.toCharArray()));
    }

    /** Baseline for (ii-b): building the equal copy alone. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String copyOnly() {
        return new String(hitCopySource.toCharArray());
    }

    /**
     * (iv) Same shape, different literals on every call: an exact-cache miss and a template-cache hit (lex,
     * template, splice the literals back). Includes building the string, as the application would.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Rewrite literalVarying() {
        long k = n++;
        return warm.rewrite("SELECT id, name, user_email FROM leads WHERE id = " + k + " AND name <> 'lead-" + k + "'");
    }

    /** State for (iii): a fresh rewriter (empty caches) for every invocation, so every call is a real miss. */
    @State(Scope.Thread)
    public static class Cold {
        @Param({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
        public int statement;

        Rewriter rw;
        String sql;

        @Setup(Level.Invocation)
        public void fresh() {
            rw = Rewriter.create(rules(), catalog());
            sql = OLTP[statement];
        }
    }

    /** State for (iii), all ten statements in turn, each with a fresh rewriter. */
    @State(Scope.Thread)
    public static class ColdMix {
        int next;
        Rewriter rw;
        String sql;

        @Setup(Level.Invocation)
        public void fresh() {
            rw = Rewriter.create(rules(), catalog());
            sql = OLTP[next++ % OLTP.length];
        }
    }

    /** (iii) Cache miss over the ten OLTP statements in turn: the headline median. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Rewrite cacheMissMix(ColdMix c) {
        return c.rw.rewrite(c.sql);
    }

    /** (iii) Cache miss: lex, template, JSqlParser parse, scope analysis, splice; one of ten OLTP statements per run. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Rewrite cacheMiss(Cold c) {
        return c.rw.rewrite(c.sql);
    }
}
