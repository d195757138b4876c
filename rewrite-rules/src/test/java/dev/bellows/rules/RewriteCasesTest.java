package dev.bellows.rules;

import dev.bellows.rules.sql.ParseGuard;
import dev.bellows.rules.sql.ParseText;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Template;
import dev.bellows.rules.sql.Wrapped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every case of every case file under {@code src/test/resources/cases/}: a new case is a new entry
 * in a file, never a new method. See {@link RewriteCase} for the format.
 */
class RewriteCasesTest {

    @TestFactory
    Stream<DynamicTest> cases() {
        return RewriteCase.all().stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> check(c)));
    }

    @Test
    void atLeast250CasesAcrossAllFourPhases() {
        List<RewriteCase> all = RewriteCase.all();
        assertTrue(all.size() >= 250, "only " + all.size() + " cases");
        for (Phase p : Phase.values()) {
            assertTrue(all.stream().anyMatch(c -> c.phase == p), "no case in phase " + p);
        }
        for (String topic : List.of("select", "insert", "update", "delete", "upsert", "cte", "subquery", "join",
                "type-change", "quoting", "pass-through", "refused")) {
            assertTrue(all.stream().anyMatch(c -> c.file.equals(topic + ".yaml")), "no case file " + topic);
        }
    }

    static void check(RewriteCase c) throws Exception {
        Rewriter rw = c.rewriter();
        Rewrite r = rw.rewrite(c.sql);
        String where = c.id() + "\n  sql:    " + c.sql + "\n  got:    " + r;
        if (c.expect == null) fail("case has no expect: " + where);
        switch (c.expect) {
            case "unchanged":
                assertSame(c.sql, r.sql(), "expected the SQL untouched: " + where);
                assertNull(r.unanalysedReason(), "expected analysed: " + where);
                assertNull(r.rejection(), "expected sent, not rejected: " + where);
                break;
            case "unanalysed":
                assertSame(c.sql, r.sql(), "unanalysed SQL must pass through untouched: " + where);
                assertNotNull(r.unanalysedReason(), "expected unanalysed: " + where);
                assertNull(r.rejection(), "expected passed through, not rejected: " + where);
                break;
            case "rejected":
                assertNotNull(r.rejection(), "expected rejected (never sent): " + where);
                assertNotNull(r.unanalysedReason(), "a rejected statement is unanalysed too: " + where);
                break;
            default:
                assertEquals(c.expect, r.sql(), where);
                if (c.reason == null) assertNull(r.unanalysedReason(), "expected analysed: " + where);
                assertNull(r.rejection(), "expected sent, not rejected: " + where);
                assertReparses(r.sql(), where);
        }
        if (c.reason != null) {
            assertNotNull(r.unanalysedReason(), "expected a reason: " + where);
            assertTrue(r.unanalysedReason().contains(c.reason), "reason: " + where);
        }
        if (c.params != null) assertEquals(c.params, String.valueOf(r.params()), "params: " + where);
        if (c.facts != null) {
            List<String> got = new ArrayList<>();
            for (UsageFact f : r.facts()) got.add(f.toString());
            assertEquals(c.facts, got, "facts: " + where);
        }
        if (c.labels != null) assertEquals(c.labels, r.labels().toString(), "labels: " + where);
        if (c.fingerprint != null) {
            assertFalse(r.facts().isEmpty(), "no facts to carry a fingerprint: " + where);
            assertEquals(c.fingerprint, r.facts().get(0).fingerprint(), "fingerprint: " + where);
        }
        if (rw.mayMention(c.sql)) {
            // kept at once when its shape was analysed now, else from its second sighting (the cache's doorkeeper)
            Rewrite second = rw.rewrite(c.sql);
            assertSame(second, rw.rewrite(c.sql), "third rewrite must come from the cache: " + where);
        } else {
            assertSame(c.sql, r.sql(), "no managed name, no change: " + where);
            assertTrue(r.facts().isEmpty(), "no managed name, no facts: " + where);
        }
    }

    /**
     * Every rewritten output parses again, statement by statement. Literals are replaced by {@code ?}
     * first, as the engine does before parsing: JSqlParser cannot read some PostgreSQL literals (E'\'').
     */
    static void assertReparses(String output, String where) {
        String tpl = Template.of(output, java.util.Set.of(), Integer.MAX_VALUE).text;
        try {
            reparse(tpl, where);
        } catch (AssertionError e) {
            reparse(output, where); // as the engine does: typed literals only parse as written
        }
    }

    private static void reparse(String sql, String where) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        int from = 0, depth = 0;
        for (int i = 0; i <= t.count; i++) {
            if (i < t.count) {
                if (t.kind[i] == SqlLexer.LPAREN) depth++;
                if (t.kind[i] == SqlLexer.RPAREN) depth--;
                if (!(t.kind[i] == SqlLexer.SEMI && depth == 0)) continue;
            }
            int first = from;
            while (first < i && t.kind[first] == SqlLexer.COMMENT) first++;
            if (first < i) {
                // as the engine feeds the parser: with what ParseText sets aside (syntax holding no column reference)
                String piece = ParseText.of(sql, t, first, i, new int[1]).substring(t.start[first], t.end[i - 1]);
                Wrapped.Inner w = Wrapped.of(t, first, i); // JSqlParser reads the carried statement, not its carrier
                if (w != null) piece = ParseText.of(sql, t, w.first(), w.to(), new int[1]).substring(t.start[w.first()], t.end[w.to() - 1]);
                else if (t.isWord(first, "copy")) piece = null; // COPY of a table is read from tokens, never parsed
                if (piece == null) {
                    from = i + 1;
                    continue;
                }
                try {
                    ParseGuard.parse(piece);
                } catch (Exception e) {
                    fail("rewritten SQL does not parse again: " + piece + "\n" + where + "\n" + e.getMessage());
                }
            }
            from = i + 1;
        }
    }
}
