package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the gate reads pg_stat_statements: which texts (constants as $n, as the server shows them) are Bellows'
 * own and which come from a client that bypasses it.
 */
class StatementFormsTest {
    static final Migration RENAME = Migration.rename("leads-email", "leads", "user_email", "email", Phase.SWITCH);
    static final Migration TYPE = Migration.typeChange("orders-status", "orders", "status", "status_code",
        "CASE status WHEN 'pending' THEN 1 WHEN 'done' THEN 2 END", "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'done' END",
        Phase.SWITCH);
    static final RuleSet RULES = RuleSet.of(RENAME, TYPE);
    static final Catalog CATALOG = Catalog.of(Map.of(
        "leads", List.of("id", "name", "user_email", "email"),
        "orders", List.of("id", "status", "status_code"),
        "users", List.of("id", "user_email")));

    static StatementForms.Kind rename(String serverText, String... sentAsWritten) {
        return new StatementForms(RENAME, RULES, CATALOG, List.of(sentAsWritten)).classify(serverText);
    }

    static StatementForms.Kind type(String serverText) {
        return new StatementForms(TYPE, RULES, CATALOG, List.of()).classify(serverText);
    }

    @Test
    void dualWritesAreBellowsOwn() {
        // the application wrote the old column; Bellows added the new one (and the reverse)
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("INSERT INTO leads (id, name, user_email, email) VALUES ($1, $2, $3, $4)"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("UPDATE leads SET user_email = $1, email = $2 WHERE id = $3"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("UPDATE leads SET email = $1, user_email = $2 WHERE id = $3"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("INSERT INTO leads (id, email, user_email) VALUES ($1, $2, $3), ($4, $5, $6)"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("INSERT INTO leads (id, user_email, email) VALUES ($1, $2, $3)"
            + " ON CONFLICT (id) DO UPDATE SET user_email = excluded.email, email = excluded.email"));
        // a type change: the new column from up(old), constants folded by the server
        assertEquals(StatementForms.Kind.DUAL_WRITE, type("INSERT INTO orders (id, status, status_code) VALUES ($1, $2,"
            + " (CASE ($3) WHEN $4 THEN $5 WHEN $6 THEN $7 END))"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, type("UPDATE orders SET status_code = $1, status = (CASE ($2) WHEN $3 THEN $4"
            + " WHEN $5 THEN $6 END) WHERE id = $7"));
    }

    @Test
    void whatBellowsSendsForLegacyReadsIsNoUse() {
        assertEquals(StatementForms.Kind.NO_USE, rename("SELECT email AS user_email FROM leads WHERE id = $1"));
        assertEquals(StatementForms.Kind.NO_USE, rename("SELECT leads.id, leads.email AS user_email, leads.email, leads.name FROM leads"));
        assertEquals(StatementForms.Kind.NO_USE, rename("SELECT user_email FROM users WHERE id = $1")); // another table's column
    }

    @Test
    void clientsBypassingBellows() {
        assertEquals(StatementForms.Kind.BYPASS, rename("SELECT user_email FROM leads WHERE id = $1"));
        assertEquals(StatementForms.Kind.BYPASS, rename("UPDATE leads SET user_email = $1 WHERE id = $2"));      // old column only
        assertEquals(StatementForms.Kind.BYPASS, rename("UPDATE leads SET user_email = $1, email = $2 WHERE user_email = $3"));
        assertEquals(StatementForms.Kind.BYPASS, rename("DELETE FROM leads WHERE user_email = $1"));
        assertEquals(StatementForms.Kind.BYPASS, type("SELECT status FROM orders"));
    }

    @Test
    void statementsBellowsSentAsWrittenAreJudgedByTheUsageCondition() {
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN,
            rename("SELECT user_email FROM leads WHERE id = $1", "SELECT user_email FROM leads WHERE id = ?"));
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN,
            rename("select user_email from leads where id in ($1, $2, $3)", "SELECT user_email FROM leads WHERE id IN (?, ...)"));
        // expand: an upsert's excluded.user_email is read as written; Bellows' only if that was recorded
        String upsert = "INSERT INTO leads (id, user_email, email) VALUES ($1, $2, $3)"
            + " ON CONFLICT (id) DO UPDATE SET user_email = excluded.user_email, email = excluded.user_email";
        assertEquals(StatementForms.Kind.BYPASS, rename(upsert));
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN, rename(upsert,
            "INSERT INTO leads (id, user_email) VALUES (?, ...) ON CONFLICT (id) DO UPDATE SET user_email = excluded.user_email"));
        // expand: the dual write of an update whose WHERE reads the old column, which Bellows passed through
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN, rename("UPDATE leads SET user_email = $1, email = $2 WHERE user_email = $3",
            "UPDATE leads SET user_email = ? WHERE user_email = ?"));
    }

    @Test
    void bellowsToolsAndNonDataStatements() {
        assertEquals(StatementForms.Kind.BACKFILL, rename("UPDATE leads SET email = user_email WHERE id > $1 AND id <= $2"));
        assertEquals(StatementForms.Kind.BACKFILL, type("UPDATE orders SET status_code = (CASE status WHEN $1 THEN $2 WHEN $3 THEN $4 END)"
            + " WHERE id <= $5"));
        assertEquals(StatementForms.Kind.BYPASS, rename("UPDATE leads SET email = user_email WHERE user_email IS NOT NULL"));
        assertEquals(StatementForms.Kind.BELLOWS_TOOL, rename("/* bellows:gate */ SELECT count(*) FILTER (WHERE email IS DISTINCT FROM user_email) FROM leads"));
        assertEquals(StatementForms.Kind.NOT_DML, rename("CREATE INDEX ON leads (user_email)"));
        assertEquals(StatementForms.Kind.NOT_DML, rename("ALTER TABLE leads DROP COLUMN user_email"));
    }
    @Test
    void backfillFormsOfRenamesAndTypeChanges() {
        // the batches as bellows backfill sends them (issue 20 trap 4, issue 21 §2), tagged or not
        assertEquals(StatementForms.Kind.BACKFILL, rename("UPDATE public.leads SET email = user_email WHERE id > $1::bigint"
            + " AND id <= $2::bigint AND email IS DISTINCT FROM user_email"));
        assertEquals(StatementForms.Kind.BACKFILL, rename("UPDATE public.leads SET email = user_email WHERE id <= $1::bigint"
            + " AND email IS DISTINCT FROM user_email"));
        assertEquals(StatementForms.Kind.BACKFILL, type("UPDATE public.orders SET status_code = (CASE status WHEN $3 THEN $4"
            + " WHEN $5 THEN $6 END) WHERE id > $1::bigint AND id <= $2::bigint AND status_code IS DISTINCT FROM (CASE status"
            + " WHEN $7 THEN $8 WHEN $9 THEN $10 END)"));
        assertEquals(StatementForms.Kind.BELLOWS_TOOL, type("SELECT /* bellows:backfill */ count(*) FROM public.orders"
            + " WHERE status_code IS DISTINCT FROM (CASE status WHEN $1 THEN $2 WHEN $3 THEN $4 END)"));
        // the same SET with any other condition on the old column is not the backfill
        assertEquals(StatementForms.Kind.BYPASS, rename("UPDATE leads SET email = user_email WHERE id <= $1"
            + " AND email IS DISTINCT FROM user_email AND user_email LIKE $2"));
        assertEquals(StatementForms.Kind.BYPASS, type("UPDATE orders SET status_code = (CASE status WHEN $1 THEN $2 WHEN $3 THEN $4 END)"
            + " WHERE status = $5"));
    }

    @Test
    void pgjdbcsReturningForGeneratedKeysIsNotTheClients() {
        // recorded as the application wrote it; pgjdbc appended RETURNING for prepareStatement(sql, String[]) or RETURN_GENERATED_KEYS
        String written = "INSERT INTO leads (id, name, user_email) VALUES (?, ?, ?)";
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN,
            rename("INSERT INTO leads (id, name, user_email) VALUES ($1, $2, $3)\nRETURNING \"id\"", written));
        assertEquals(StatementForms.Kind.SENT_AS_WRITTEN,
            rename("INSERT INTO leads (id, name, user_email) VALUES ($1, $2, $3)\nRETURNING *", written));
        assertEquals(StatementForms.Kind.DUAL_WRITE, type("INSERT INTO orders (id, status, status_code) VALUES ($1, $2,"
            + " (CASE ($3) WHEN $4 THEN $5 WHEN $6 THEN $7 END))\nRETURNING \"id\", \"status_code\""));
        // a client's own RETURNING of another shape, or on a statement Bellows never sent, stays a bypass
        assertEquals(StatementForms.Kind.BYPASS,
            rename("INSERT INTO leads (id, name, user_email) VALUES ($1, $2, $3) RETURNING id, user_email", written));
        assertEquals(StatementForms.Kind.BYPASS, rename("UPDATE leads SET user_email = $1 WHERE id = $2\nRETURNING \"id\""));
    }

    @Test
    void theChecksPrepareTextIsJudgedByTheStatementInside() {
        // PostgreSQL files later executions of the same statement by any client under the check's PREPARE text
        assertEquals(StatementForms.Kind.BYPASS, rename("PREPARE bellows_check(bigint) AS SELECT user_email FROM leads WHERE id = $1"));
        assertEquals(StatementForms.Kind.NO_USE, rename("PREPARE bellows_check AS SELECT email AS user_email FROM leads WHERE id = $1"));
        assertEquals(StatementForms.Kind.DUAL_WRITE, rename("PREPARE bellows_check(text, bigint) AS UPDATE leads SET user_email = $1,"
            + " email = $2 WHERE id = $3"));
        assertEquals(StatementForms.Kind.NOT_DML, rename("PREPARE other AS SELECT user_email FROM leads"));
    }
}
