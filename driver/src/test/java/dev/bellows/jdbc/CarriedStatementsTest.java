package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Statements that carry another (EXPLAIN ANALYZE, PREPARE/EXECUTE, DECLARE/FETCH, CREATE VIEW), run through
 * Bellows on a real server: the carried statement behaves exactly as if it had been sent alone.
 */
class CarriedStatementsTest {
    private static final String ID = "leads-contact-email";

    private static Connection open(TestDb db, Phase phase) throws SQLException {
        Connection c = db.connect();
        c.unwrap(BellowsConnection.class).runtime().setRules(RuleSet.of(
            Migration.rename(ID, "leads", "user_email", "contact_email", phase)));
        return c;
    }

    private static TestDb migrated(String name) throws SQLException {
        TestDb db = TestDb.create(name);
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, user_email text, name text)",
            "ALTER TABLE leads ADD COLUMN contact_email text",
            "INSERT INTO leads VALUES (1, 'a@x.org', 'Ann', 'a@x.org')");
        return db;
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

    @Test
    void explainAnalyzeOfAWriteDualWritesLikeTheWrite() throws SQLException {
        TestDb db = migrated("carried_explain");
        try (Connection c = open(db, Phase.EXPAND)) {
            try (PreparedStatement ps = c.prepareStatement("EXPLAIN ANALYZE INSERT INTO leads (id, user_email, name) VALUES (?, ?, ?)")) {
                ps.setInt(1, 2);
                ps.setString(2, "b@x.org");
                ps.setString(3, "Bo");
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertTrue(rs.getString(1).contains("Insert on leads"), rs.getString(1));
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("EXPLAIN (ANALYZE, COSTS OFF) UPDATE leads SET user_email = 'a2@x.org' WHERE id = 1");
            }
        }
        assertEquals(List.of("1|a2@x.org|a2@x.org", "2|b@x.org|b@x.org"), rows(db, "SELECT id, user_email, contact_email FROM leads ORDER BY id"));
    }

    @Test
    void preparedAndCursorReadsAfterTheDrop() throws SQLException {
        TestDb db = migrated("carried_prepare");
        db.exec("ALTER TABLE leads DROP COLUMN user_email");
        try (Connection c = open(db, Phase.CONTRACT); Statement s = c.createStatement()) {
            s.execute("PREPARE by_email (text) AS SELECT id, user_email FROM leads WHERE user_email = $1");
            try (ResultSet rs = s.executeQuery("EXECUTE by_email('a@x.org')")) {
                assertTrue(rs.next());
                assertEquals("user_email", rs.getMetaData().getColumnLabel(2));
                assertEquals("a@x.org", rs.getString("user_email"));
            }
            s.execute("PREPARE ins AS INSERT INTO leads (id, user_email, name) VALUES ($1, $2, $3)");
            s.execute("EXECUTE ins(3, 'c@x.org', 'Cy')");
            assertEquals(List.of("3|c@x.org"), rows(db, "SELECT id, contact_email FROM leads WHERE id = 3"));

            c.setAutoCommit(false);
            s.execute("DECLARE cur CURSOR FOR SELECT user_email FROM leads ORDER BY user_email");
            try (ResultSet rs = s.executeQuery("FETCH 2 FROM cur")) {
                assertTrue(rs.next());
                assertEquals("a@x.org", rs.getString("user_email"));
                assertTrue(rs.next());
                assertEquals("c@x.org", rs.getString("user_email"));
                assertFalse(rs.next());
            }
            c.commit();
        }
    }

    @Test
    void aViewCreatedInSwitchSurvivesTheDrop() throws SQLException {
        TestDb db = migrated("carried_view");
        try (Connection c = open(db, Phase.SWITCH); Statement s = c.createStatement()) {
            s.execute("CREATE VIEW emails AS SELECT id, user_email FROM leads WHERE user_email LIKE '%@x.org'");
        }
        db.exec("ALTER TABLE leads DROP COLUMN user_email"); // nothing depends on the old column any more
        assertEquals(List.of("1|a@x.org"), rows(db, "SELECT id, user_email FROM emails"));
    }
}
