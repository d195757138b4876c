package dev.bellows.rules;

import dev.bellows.rules.sql.SqlLexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The literal-varying path ({@link Shapes}): a statement that differs from one seen before only in its literals and
 * comments is rewritten exactly as a fresh rewriter would rewrite it, for every case of every case file and for the
 * lexical edges (dollar quotes, E'' strings, comments, negative numbers, casts, parameters beside literals).
 */
class LiteralVaryingTest {

    @TestFactory
    Stream<DynamicTest> everyCaseWithOtherLiteralsMatchesAFreshRewrite() {
        return RewriteCase.all().stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> {
            Rewriter warm = c.rewriter();
            warm.rewrite(c.sql);
            String v1 = vary(c.sql, 1), v2 = vary(c.sql, 2);
            assertSameAsFresh(warm.rewrite(v1), c.rewriter().rewrite(v1), c.id());
            assertSameAsFresh(warm.rewrite(v2), c.rewriter().rewrite(v2), c.id());
        }));
    }

    static final Rewriter SWITCH = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"));
    static final Rewriter EXPAND = Rewriter.create(CaseFixture.rules(Phase.EXPAND), CaseFixture.catalog("both"));

    /** Statements whose every literal variant must take the fast path and agree with a fresh rewrite. */
    static final List<String> EDGES = List.of(
        "SELECT id, name, user_email FROM leads WHERE id = 1 AND name <> 'lead-1'",
        "SELECT user_email FROM leads WHERE name = $$it's$$ AND id = 7",
        "SELECT user_email FROM leads WHERE name = $tag$a $$ b$tag$",
        "SELECT user_email FROM leads WHERE name = E'it\\'s' AND id = -5",
        "SELECT user_email FROM leads WHERE id = -5 AND name = 'x'::text AND id > 2.5e3",
        "SELECT user_email /* a comment 'with' 1 literal */ FROM leads WHERE id = 3 -- trailing 'x'\n",
        "SELECT user_email FROM leads /**/ WHERE id = 3",
        "SELECT \"user_email\", \"1\" FROM leads WHERE id = 4 AND name = '?'",
        "SELECT user_email FROM leads WHERE id = ? AND name = 'n' AND created_at > ?",
        "UPDATE leads SET user_email = 'a@x' WHERE id = 10",
        "UPDATE leads SET user_email = ?, name = 'n' WHERE id = 11",
        "INSERT INTO leads (id, user_email) VALUES (12, 'u@x'), (13, 'v@x')",
        "UPDATE orders SET status = 'completed' WHERE id = 14 AND status = 'processing'",
        "SELECT user_email FROM leads WHERE name = 'set search_path to evil' AND id = 15",
        "SELECT user_email FROM leads WHERE id = 16; SELECT user_email FROM leads WHERE id = 17",
        "SELECT user_email FROM leads WHERE name = U&'d\\0061t' AND id = 0x1F",
        "SELECT user_email FROM leads WHERE created_at > now() - INTERVAL '1 day' AND id = 18");

    @Test
    void lexicalEdgesTakeTheFastPathAndMatchAFreshRewrite() {
        for (Rewriter rw : List.of(SWITCH, EXPAND)) {
            for (String sql : EDGES) {
                rw.rewrite(sql);
                for (int i = 1; i <= 3; i++) {
                    String v = vary(sql, i);
                    assertNotEquals(sql, v);
                    Rewrite fresh = Rewriter.create(rw.rules(), rw.catalog()).rewrite(v);
                    if (!fresh.inert() && fresh.facts().stream().noneMatch(f -> f.treatment() == UsageFact.Treatment.UNANALYSED)
                        && !sql.contains("INTERVAL")) {
                        assertNotNull(rw.fromShape(v), "not recognised as a statement of a known template: " + v);
                    }
                    assertSameAsFresh(rw.rewrite(v), fresh, v);
                }
            }
        }
    }

    @Test
    void aStatementWithADifferentTemplateIsNotTakenForAKnownOne() {
        SWITCH.rewrite("SELECT user_email FROM leads WHERE id = 1");
        assertNotNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = 22"));
        // a parameter where the literal was, a literal inside an identifier, a comment where a literal was
        assertNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = ?"));
        assertNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = \"1\""));
        assertNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = /* 1 */"));
        assertNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = 1 "));
        assertNull(SWITCH.fromShape("SELECT user_email FROM leads WHERE id = '1"));
    }

    @Test
    void theTemplateHashIsTheTemplateTextsHash() {
        for (String sql : EDGES) {
            SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
            String text = dev.bellows.rules.sql.Template.of(sql, java.util.Set.of(), Integer.MAX_VALUE).text;
            assertEquals(text.hashCode(), dev.bellows.rules.sql.Shape.hash(sql, t), sql);
        }
    }

    static void assertSameAsFresh(Rewrite got, Rewrite fresh, String where) {
        assertEquals(fresh.sql(), got.sql(), where);
        assertEquals(fresh.original(), got.original(), where);
        assertEquals(String.valueOf(fresh.params()), String.valueOf(got.params()), where);
        assertEquals(fresh.labels(), got.labels(), where);
        assertEquals(fresh.facts(), got.facts(), where);
        String fr = fresh.unanalysedReason(), gr = got.unanalysedReason();
        if (fr != null && fr.startsWith("not parsed: ") && gr != null && gr.startsWith("not parsed: ")) {
            // the parser's message quotes the text it read: for a template that does not parse even as written, every
            // statement of it shares the first one's analysis and message (as with the template cache alone)
        } else {
            assertEquals(fr, gr, where);
        }
        assertEquals(fresh.rejection(), got.rejection(), where);
        assertEquals(fresh.kind(), got.kind(), where);
        assertEquals(fresh.mayChangeSearchPath(), got.mayChangeSearchPath(), where);
        assertEquals(fresh.inert(), got.inert(), where);
        for (UsageFact f : got.facts()) {
            assertTrue(f.fingerprint() == null || !f.fingerprint().contains("lead-"), "a literal in a usage fact: " + f);
        }
    }

    /** {@code sql} with every literal and comment changed (in length too) but of the same kind: variant {@code i}. */
    static String vary(String sql, int i) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        StringBuilder sb = new StringBuilder();
        int pos = 0;
        for (int k = 0; k < t.count; k++) {
            String s = t.text(k);
            String v;
            switch (t.kind[k]) {
                case SqlLexer.NUMBER: v = s.startsWith("0x") || s.startsWith("0X") ? s + "A".repeat(i) : "9".repeat(i) + s; break;
                case SqlLexer.STRING:
                    if (s.startsWith("$")) {
                        int open = s.indexOf('$', 1) + 1;
                        v = s.substring(0, open) + "v".repeat(i) + s.substring(open);
                    } else {
                        int q = s.indexOf('\'') + 1;
                        v = s.substring(0, q) + "v".repeat(i) + s.substring(q);
                    }
                    break;
                case SqlLexer.COMMENT: v = s.startsWith("--") ? s + " v".repeat(i) : "/* v" + "v".repeat(i) + s.substring(2); break;
                default: v = s;
            }
            sb.append(sql, pos, t.start[k]).append(v);
            pos = t.end[k];
        }
        return sb.append(sql, pos, sql.length()).toString();
    }
}
