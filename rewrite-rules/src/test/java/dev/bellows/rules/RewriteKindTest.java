package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The statement kind comes back with every rewrite, on each of the rewriter's paths, so the driver need not scan again. */
class RewriteKindTest {
    private final Rewriter rw = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"));

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "SELECT id FROM leads                                          | QUERY",
        "  /* hint /* nested */ */ -- line\\n (select user_email from leads) | QUERY",
        "VALUES (1), (2)                                               | QUERY",
        "WITH x AS (SELECT id FROM leads) SELECT * FROM x              | QUERY",
        "WITH x AS (DELETE FROM leads RETURNING id) SELECT * FROM x    | DML_RETURNING",
        "INSERT INTO leads (user_email) VALUES (?)                     | DML",
        "insert into leads (user_email) values (?) returning id        | DML_RETURNING",
        "UPDATE leads SET user_email = ? WHERE id = ?                  | DML",
        "DELETE FROM invoices WHERE id = ?                             | DML",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE  | DML",
        "UPDATE invoices SET returning_customer = true                 | DML",
        "ALTER TABLE leads ADD COLUMN x int                            | DDL",
        "create index on leads (user_email)                            | DDL",
        "/* c */ DROP TABLE t                                          | DDL",
        "COMMENT ON TABLE leads IS 'x'                                 | DDL",
        "GRANT SELECT ON leads TO app                                  | DDL",
        "SET search_path = public                                      | OTHER",
        "BEGIN                                                         | OTHER",
        "CREATED_AT                                                    | OTHER",
        "''                                                            | OTHER",
    })
    void kindByFirstKeyword(String sql, Rewrite.Kind kind) {
        assertEquals(kind, Rewrite.Kind.of(sql.replace("\\n", "\n")));
        assertEquals(kind, rw.rewrite(sql.replace("\\n", "\n")).kind(), "through the rewriter");
    }

    @Test
    void nullIsOther() {
        assertEquals(Rewrite.Kind.OTHER, Rewrite.Kind.of(null));
        assertEquals(Rewrite.Kind.OTHER, rw.rewrite(null).kind());
    }

    @Test
    void theKindIsOfTheApplicationsStatementOnEveryPath() {
        assertEquals(Rewrite.Kind.DML, rw.rewrite("UPDATE leads SET user_email = ? WHERE id = ?").kind()); // rewritten
        assertEquals(Rewrite.Kind.DML, rw.rewrite("UPDATE leads SET user_email = 'a' WHERE id = 7").kind()); // template
        assertEquals(Rewrite.Kind.QUERY, rw.rewrite("SELECT user_email FROM leads WHERE id = 1").kind());
        assertEquals(Rewrite.Kind.DDL, rw.rewrite("ALTER TABLE leads RENAME COLUMN user_email TO e").kind()); // refused or not, still DDL
    }

    @Test
    void aPassThroughStatementSeenBeforeIsOneCacheLookup() {
        String sql = "SELECT id, total FROM invoices WHERE id = ?";
        Rewrite first = rw.rewrite(sql);
        assertSame(sql, first.sql());
        assertTrue(first.inert(), "names nothing managed");
        Rewrite second = rw.rewrite(sql); // a one-off statement is not kept; one seen twice is
        assertSame(second, rw.rewrite(sql), "cached, so no scan and no allocation");
        assertSame(second, rw.rewrite(new String(sql)), "an equal string finds it too");
    }

    @Test
    void aSessionOnAnotherSearchPathGetsThatPathsRewriteAndThePublicPathItsOwn() {
        // the public rewriter remembers (from the second sighting) that the statement names something managed, so
        // that sessions on another path skip the scan; what it remembers is never handed out
        Rewriter base = Rewriter.create(CaseFixture.rules(Phase.SWITCH), CaseFixture.catalog("both"));
        SearchPath archiveFirst = SearchPath.of(java.util.List.of("archive", "public"));
        Rewriter archive = base.withSearchPath(archiveFirst);
        Rewriter.Session onArchive = b -> b.withSearchPath(archiveFirst);
        String sql = "SELECT user_email FROM leads WHERE id = ?";
        for (int i = 0; i < 4; i++) {
            Rewrite r = base.rewrite(sql, onArchive);
            assertFalse(r.changed(), "archive.leads, found first, is not the managed table: " + r);
            assertFalse(r.inert());
            assertSame(archive.rewrite(sql), r);
        }
        Rewrite pub = base.rewrite(sql);
        assertTrue(pub.changed() && pub.sql().contains("contact_email"), "public.leads is: " + pub);
        assertSame(pub, base.rewrite(sql, b -> b), "a session on the public path gets the public rewrite");
        assertSame(archive.rewrite(sql), base.rewrite(sql, onArchive));
    }

    @Test
    void aStatementFilledIntoAKnownTemplateIsKeptFromItsSecondSighting() {
        rw.rewrite("SELECT user_email FROM leads WHERE id = 1"); // the shape is analysed and kept
        String sql = "SELECT user_email FROM leads WHERE id = 2";
        Rewrite first = rw.rewrite(sql);
        assertNotSame(first, rw.rewrite(sql), "seen once: filled in from the template again, not kept");
        Rewrite kept = rw.rewrite(sql);
        assertSame(kept, rw.rewrite(sql), "seen twice: kept");
        assertFalse(kept.inert(), "names a managed column");
        assertEquals(first.sql(), kept.sql());
    }

    @Test
    void longPassThroughStatementsAreNotKeptInTheCache() {
        String sql = "SELECT 1 FROM invoices WHERE id IN (" + "1, ".repeat(2000) + "2)";
        Rewrite first = rw.rewrite(sql);
        assertSame(sql, first.sql());
        assertNotSame(first, rw.rewrite(sql));
    }
}
