package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 §1, against the real server: legacy MERGE statements (WHEN MATCHED UPDATE SET, WHEN NOT MATCHED INSERT,
 * DELETE, conditions on the old column) through Bellows write both columns in expand and switch, find rows by the
 * new column in switch, and keep working after the old column is dropped (contract). Every row is checked.
 */
class MergeTest {
    private static final String MERGE = "MERGE INTO leads l USING imports i ON i.id = l.id"
        + " WHEN MATCHED AND i.e IS NULL THEN DELETE"
        + " WHEN MATCHED THEN UPDATE SET user_email = i.e, name = i.n"
        + " WHEN NOT MATCHED THEN INSERT (id, name, user_email) VALUES (i.id, i.n, i.e)";
    private static final String BY_EMAIL = "MERGE INTO leads l USING (SELECT ?::text AS e, ?::text AS n) s ON l.user_email = s.e"
        + " WHEN MATCHED THEN UPDATE SET name = s.n";

    @Test
    void legacyMergeWritesBothColumnsThroughEveryPhase() throws SQLException {
        TestDb db = TestDb.create("merge");
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, user_email text, name text)",
            "CREATE TABLE imports (id int, n text, e text)",
            "INSERT INTO leads VALUES (1, 'a@x.org', 'Ann'), (2, 'b@x.org', 'Bob'), (3, 'c@x.org', 'Cy')",
            "ALTER TABLE leads ADD COLUMN contact_email text",
            "UPDATE leads SET contact_email = user_email");
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            BellowsRuntime rt = c.unwrap(BellowsConnection.class).runtime();
            rt.setRules(RuleSet.of(Migration.rename("leads-contact-email", "leads", "user_email", "contact_email", Phase.EXPAND)));

            // expand: row 1 updated, row 2 deleted, row 4 inserted
            db.exec("INSERT INTO imports VALUES (1, 'Ann2', 'a2@x.org'), (2, 'Bob', NULL), (4, 'Dee', 'd@x.org')");
            assertEquals(3, s.executeUpdate(MERGE));
            assertEquals(List.of("1|Ann2|a2@x.org|a2@x.org", "3|Cy|c@x.org|c@x.org", "4|Dee|d@x.org|d@x.org"), rows(db));

            // switch: the condition on user_email reads contact_email, which new code may have written alone
            rt.setPhase("leads-contact-email", Phase.SWITCH);
            db.exec("UPDATE leads SET contact_email = 'c2@x.org' WHERE id = 3"); // only the new column has it
            try (PreparedStatement ps = c.prepareStatement(BY_EMAIL)) {
                ps.setString(1, "c2@x.org");
                ps.setString(2, "Cyd");
                assertEquals(1, ps.executeUpdate(), "ON l.user_email = ... reads contact_email in switch");
            }
            db.exec("UPDATE leads SET user_email = 'c2@x.org' WHERE id = 3"); // in step again
            db.exec("DELETE FROM imports", "INSERT INTO imports VALUES (4, 'Dee2', 'd2@x.org'), (5, 'Eve', 'e@x.org')");
            assertEquals(2, s.executeUpdate(MERGE));
            assertEquals(List.of("1|Ann2|a2@x.org|a2@x.org", "3|Cyd|c2@x.org|c2@x.org", "4|Dee2|d2@x.org|d2@x.org",
                "5|Eve|e@x.org|e@x.org"), rows(db));

            // contract, then the drop: the same legacy statements write the new column
            rt.setPhase("leads-contact-email", Phase.CONTRACT);
            s.execute("ALTER TABLE leads DROP COLUMN user_email"); // DDL through the driver refreshes its catalog
            db.exec("DELETE FROM imports", "INSERT INTO imports VALUES (5, 'Eve2', 'e2@x.org'), (6, 'Fay', 'f@x.org'), (1, 'Ann2', NULL)");
            assertEquals(3, s.executeUpdate(MERGE));
            try (PreparedStatement ps = c.prepareStatement(BY_EMAIL)) {
                ps.setString(1, "f@x.org");
                ps.setString(2, "Fay2");
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(List.of("3|Cyd|c2@x.org", "4|Dee2|d2@x.org", "5|Eve2|e2@x.org", "6|Fay2|f@x.org"),
                rows(db, "SELECT id, name, contact_email FROM leads ORDER BY id"));
            try (ResultSet rs = s.executeQuery("SELECT user_email FROM leads WHERE id = 6")) { // the legacy read
                rs.next();
                assertEquals("f@x.org", rs.getString(1));
            }
            assertNull(db.query("SELECT 1 FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'user_email'"
                + " AND NOT attisdropped"));
        }
    }

    private static List<String> rows(TestDb db) throws SQLException {
        return rows(db, "SELECT id, name, user_email, contact_email FROM leads ORDER BY id");
    }

    private static List<String> rows(TestDb db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                out.add(String.join("|", row));
            }
        }
        return out;
    }
}
