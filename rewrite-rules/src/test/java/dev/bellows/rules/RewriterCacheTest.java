package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The three paths (no mention, exact hit, template hit) give the same answers a fresh analysis would. */
class RewriterCacheTest {
    private final Rewriter rw = Rewriter.create(CaseFixture.rules(Phase.EXPAND), CaseFixture.catalog("both"));

    @Test
    void literalVaryingStatementsShareOneAnalysisButKeepTheirOwnLiterals() {
        for (int i = 0; i < 50; i++) {
            String sql = "INSERT INTO leads (id, user_email) VALUES (" + i + ", 'u" + i + "@x.io') /* req " + i + " */";
            Rewrite r = rw.rewrite(sql);
            assertEquals("INSERT INTO leads (id, user_email, contact_email) VALUES (" + i + ", 'u" + i + "@x.io', 'u" + i
                + "@x.io') /* req " + i + " */", r.sql());
            assertEquals("INSERT INTO leads (id, user_email) VALUES (?, ...)", r.facts().get(0).fingerprint());
            Rewrite fresh = Rewriter.create(CaseFixture.rules(Phase.EXPAND), CaseFixture.catalog("both")).rewrite(sql);
            assertEquals(fresh.sql(), r.sql());
        }
    }

    @Test
    void statsCountLookupsAndMissesAcrossRewritersSharingOptions() {
        Rewriter.Options options = Rewriter.Options.defaults();
        Rewriter a = Rewriter.create(CaseFixture.rules(Phase.EXPAND), CaseFixture.catalog("both"), options);
        a.rewrite("SELECT user_email FROM leads");
        a.rewrite("SELECT user_email FROM leads");
        a.rewrite("SELECT 1");
        a.rewrite(null);
        RewriteStats s = options.stats();
        assertEquals(3, s.lookups());
        assertEquals(2, s.misses());
        assertEquals(1, s.hits());
        assertTrue(s.missNanos() > 0);
        // a new generation (a phase change) built from the same options keeps counting in the same place
        Rewriter b = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"), options.cacheSize(100));
        b.rewrite("SELECT user_email FROM leads");
        assertEquals(4, s.lookups());
        assertEquals(3, s.misses());
    }

    @Test
    void literalsAndParametersInTheSamePlacesDoNotShareAnAnalysis() {
        Rewrite lit = rw.rewrite("UPDATE leads SET user_email = 'lit@x' WHERE id = 1");
        assertEquals("UPDATE leads SET user_email = 'lit@x', contact_email = 'lit@x' WHERE id = 1", lit.sql());
        assertEquals(null, lit.params());
        Rewrite par = rw.rewrite("UPDATE leads SET user_email = ? WHERE id = ?");
        assertEquals("UPDATE leads SET user_email = ?, contact_email = ? WHERE id = ?", par.sql());
        assertEquals("[1, 1, 2]", String.valueOf(par.params()));
        Rewrite mixed = rw.rewrite("INSERT INTO leads (name, user_email, id) VALUES (?, ?, 5)");
        assertEquals("[1, 2, 2]", String.valueOf(mixed.params()));
        Rewrite other = rw.rewrite("INSERT INTO leads (name, user_email, id) VALUES ('n', ?, ?)");
        assertEquals("INSERT INTO leads (name, user_email, id, contact_email) VALUES ('n', ?, ?, ?)", other.sql());
        assertEquals("[1, 2, 1]", String.valueOf(other.params()));
    }

    @Test
    void equalStringsHitTheExactCache() {
        String a = "SELECT user_email FROM leads WHERE id = ?";
        String b = new String(a.toCharArray());
        assertNotSame(a, b);
        assertSame(rw.rewrite(a), rw.rewrite(b));
    }

    @Test
    void twoStatementsSharingADoorkeeperSlotAreBothKeptFromTheirSecondSighting() {
        // both hash to slot 973 of the doorkeeper's first table (TPC-B's SELECT and INSERT): alternating, each used to
        // overwrite the other's trace, so neither was ever kept and every execution of either was a miss
        String a = "SELECT abalance FROM pgbench_accounts WHERE aid = ?";
        String b = "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)";
        assertEquals(slot(a), slot(b));
        Rewriter.Options options = Rewriter.Options.defaults();
        Rewriter r = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"), options);
        for (int round = 0; round < 2; round++) {
            r.rewrite(a);
            r.rewrite(b);
        }
        long misses = options.stats().misses();
        for (int round = 0; round < 3; round++) {
            assertSame(r.rewrite(a), r.rewrite(a));
            assertSame(r.rewrite(b), r.rewrite(b));
        }
        assertEquals(misses, options.stats().misses());
        assertEquals(4, misses);
    }

    private static int slot(String sql) {
        int h = sql.hashCode();
        return (h ^ h >>> 16) & 1023;
    }

    @Test
    void statementsNamingNothingManagedAreReturnedAsTheSameInstance() {
        String sql = "SELECT id, name FROM invoices WHERE id = ?";
        assertSame(sql, rw.rewrite(sql).sql());
        assertTrue(rw.rewrite(sql).facts().isEmpty());
    }

    @Test
    void aTemplateThatDoesNotParseFallsBackToTheStatementItself() {
        String sql = "SELECT user_email FROM leads WHERE created_at > now() - INTERVAL '1 day'";
        Rewrite r = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both")).rewrite(sql);
        assertEquals("SELECT contact_email AS user_email FROM leads WHERE created_at > now() - INTERVAL '1 day'", r.sql());
    }

    @Test
    void cacheIsBounded() {
        Rewriter small = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"),
            Rewriter.Options.defaults().cacheSize(10));
        for (int i = 0; i < 1000; i++) {
            String sql = "SELECT user_email, " + "x".repeat(i % 97 + 1) + " FROM leads";
            assertTrue(small.rewrite(sql).sql().startsWith("SELECT contact_email AS user_email"));
        }
    }

    @Test
    void longStatementsWeighMoreSoTheCacheBoundsTheTextItHolds() {
        Rewriter small = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"),
            Rewriter.Options.defaults().cacheSize(100));
        String literal = "'" + "x".repeat(90_000) + "'"; // long text, short template: the parse is of the template
        for (int i = 0; i < 50; i++) {
            small.rewrite("SELECT user_email FROM leads WHERE id = " + i + " AND name <> " + literal);
        }
        long[] cached = small.cached();
        assertTrue(cached[1] <= 100, "weight " + cached[1]);
        assertTrue(cached[0] <= 10, "a ~90,000-character entry weighs 12 of 100 (23 with its rewrite): " + cached[0] + " kept");
        for (int i = 0; i < 200; i++) small.rewrite("SELECT user_email FROM leads WHERE id = ?" + " ".repeat(i));
        assertTrue(small.cached()[0] > 10, "ordinary statements weigh one each");
    }
}
