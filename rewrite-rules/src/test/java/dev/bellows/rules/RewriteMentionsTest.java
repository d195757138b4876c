package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whether a statement names a managed name comes back with its rewrite, on a miss and on a hit, and is exactly what
 * {@link Rewriter#mayMention} says: the driver relies on it instead of scanning every statement it prepares.
 */
class RewriteMentionsTest {
    private static final Rewriter PLAIN = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"));
    // a chain: the second stage's old column is the first stage's new one
    private static final Rewriter CHAIN = RewriteChainTest.rw(Phase.SWITCH, Phase.EXPAND, Phase.OFF);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT id, user_email FROM leads WHERE id = ?",
        "SELECT 1 + ?",
        "SELECT i_price FROM item WHERE i_id = ?",
        "UPDATE leads SET name = ? WHERE id = ?",
        "SELECT contact_email FROM accounts",
        "SELECT email FROM users WHERE id = 7",
        "SELECT status FROM orders WHERE id = 42",
        "select 'user_email' as x",
        "INSERT INTO invoices (total) VALUES (?)",
    })
    void theRewriteSaysWhatTheScanSays(String sql) {
        for (Rewriter rw : new Rewriter[] {PLAIN, CHAIN}) {
            boolean scan = rw.mayMention(sql);
            assertEquals(scan, rw.rewrite(sql).mentionsManaged(), "first rewrite (a miss)");
            assertEquals(scan, rw.rewrite(new String(sql)).mentionsManaged(), "a cache hit");
            assertEquals(scan, rw.withSearchPath(SearchPath.of(java.util.List.of("app", "public")))
                .rewrite(sql).mentionsManaged(), "another search path's rewriter");
        }
    }
}
