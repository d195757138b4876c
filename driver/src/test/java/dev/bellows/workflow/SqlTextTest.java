package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The text helpers the plan, backfill and check rely on; no database. */
class SqlTextTest {
    @Test
    void quotesLikeQuoteIdent() {
        assertEquals("user_email", SqlText.ident("user_email"));
        assertEquals("\"UserEmail\"", SqlText.ident("UserEmail"));
        assertEquals("\"order\"", SqlText.ident("order"));
        assertEquals("\"a\"\"b\"", SqlText.ident("a\"b"));
        assertEquals("\"1x\"", SqlText.ident("1x"));
        assertEquals("\"Sales\".\"Invoice Lines\"", SqlText.qualified("Sales", "Invoice Lines"));
        assertEquals("'it''s'", SqlText.literal("it's"));
        assertEquals(63, SqlText.truncate("x".repeat(80)).length());
    }

    @Test
    void replacesOnlyBareColumnReferences() {
        String up = "CASE status WHEN 'status' THEN 1 ELSE length(status::text) END";
        assertEquals("CASE NEW.status WHEN 'status' THEN 1 ELSE length(NEW.status::text) END",
            SqlText.replaceColumn(up, "status", "NEW.status"));
        // qualified names, function calls, type names and quoted text stay
        assertEquals("o.status + status(x) + y::status + $$status$$ + (z)",
            SqlText.replaceColumn("o.status + status(x) + y::status + $$status$$ + status", "status", "(z)"));
        assertEquals("upper(NEW.\"UserEmail\")", SqlText.replaceColumn("upper(\"UserEmail\")", "UserEmail", "NEW.\"UserEmail\""));
        assertEquals("upper(useremail)", SqlText.replaceColumn("upper(useremail)", "UserEmail", "x"));
        assertEquals("lower(x) -- status\n", SqlText.replaceColumn("lower(STATUS) -- status\n", "status", "x"));
    }

    @Test
    void splitsScriptsAtTopLevelSemicolons() {
        String script = "SET a = 1;\n-- comment; only\nDO $b$ BEGIN PERFORM 1; END $b$;\n"
            + "SELECT 'x;y', \"q;\" FROM t /* ; */;\n  ;\nSELECT E'\\';'";
        List<String> s = SqlText.statements(script);
        assertEquals(4, s.size(), s.toString());
        assertEquals("DO $b$ BEGIN PERFORM 1; END $b$", s.get(1));
        assertEquals("SELECT E'\\';'", s.get(3));
    }

    @Test
    void turnsJdbcPlaceholdersIntoDollarParameters() {
        assertEquals("SELECT $1, '?', \"?\" FROM t WHERE a = $2 AND j ? 'k'",
            SqlText.jdbcToDollar("SELECT ?, '?', \"?\" FROM t WHERE a = ? AND j ?? 'k'"));
        assertTrue(SqlText.hasQuestionMarks("SELECT 1 WHERE a = ?"));
        assertFalse(SqlText.hasQuestionMarks("SELECT '?' -- ?"));
    }

    @Test
    void findsNamesAndCalledFunctions() {
        assertTrue(SqlText.namesIdentifier("SELECT l.User_Email FROM leads l", "user_email"));
        assertFalse(SqlText.namesIdentifier("SELECT 'user_email' FROM leads", "user_email"));
        assertEquals(List.of("nextval"), List.copyOf(SqlText.calledFunctions("nextval('s'::regclass)")));
    }

    @Test
    void parsesDurations() throws WorkflowException {
        assertEquals(Duration.ofMillis(20), DurationText.parse("20ms", "--pause"));
        assertEquals(Duration.ofMillis(1500), DurationText.parse("1.5s", "--pause"));
        assertEquals(Duration.ofMinutes(2), DurationText.parse("2min", "--pause"));
        assertEquals(Duration.ZERO, DurationText.parse("0", "--pause"));
        WorkflowException e = org.junit.jupiter.api.Assertions.assertThrows(WorkflowException.class,
            () -> DurationText.parse("20", "--pause"));
        assertTrue(e.getMessage().contains("--pause"), e.getMessage());
    }
}
