package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 13's silent corruption, against the real server: legacy {@code leads(id, user_email, name)} after
 * {@code user_email} was dropped in favour of {@code contact_email} (now physically {@code (id, name,
 * contact_email)}). A positional statement sent as written would store {@code name = 'a@x.org'} and
 * {@code contact_email = 'Bob'}. With the legacy column order recorded (by the contract step of
 * {@code bellows plan}, or seen by this process before the drop) Bellows names the columns; without it,
 * Bellows rejects the statement with SQLState BW003 and nothing reaches the table.
 */
class DroppedColumnTest {
    private static final RuleSet RULES = RuleSet.of(
        Migration.rename("leads-contact-email", "leads", "user_email", "contact_email", Phase.CONTRACT));

    /** A database migrated up to the drop; {@code record} runs what the plan's contract step records first. */
    private static TestDb dropped(String name, boolean record) throws SQLException {
        TestDb db = TestDb.create(name);
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, user_email text, name text)",
            "CREATE TABLE leads_archive (id int, user_email text, name text)",
            "INSERT INTO leads_archive VALUES (7, 'old@x.org', 'Olga')",
            "ALTER TABLE leads ADD COLUMN contact_email text");
        if (record) {
            db.exec("CREATE SCHEMA IF NOT EXISTS bellows",
                "CREATE TABLE IF NOT EXISTS bellows.column_order (schema_name text NOT NULL, table_name text NOT NULL,"
                    + " migration_id text NOT NULL, columns text[] NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                    + " PRIMARY KEY (schema_name, table_name, migration_id))",
                "INSERT INTO bellows.column_order (schema_name, table_name, migration_id, columns)"
                    + " SELECT 'public', 'leads', 'leads-contact-email', array_agg(attname::text ORDER BY attnum) FROM pg_attribute"
                    + " WHERE attrelid = 'public.leads'::regclass AND attnum > 0 AND NOT attisdropped"
                    + " HAVING bool_or(attname = 'user_email')");
        }
        db.exec("ALTER TABLE leads DROP COLUMN user_email");
        return db;
    }

    private static Connection open(TestDb db) throws SQLException {
        Connection c = db.connect();
        c.unwrap(BellowsConnection.class).runtime().setRules(RULES);
        return c;
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
    void positionalInsertsFollowTheRecordedOrder() throws SQLException {
        TestDb db = dropped("drop_recorded", true);
        try (Connection c = open(db); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO leads VALUES (1, 'a@x.org', 'Bob')"));
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads VALUES (?, ?, ?)")) {
                ps.setInt(1, 2);
                ps.setString(2, "b@x.org");
                ps.setString(3, "Cy");
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(1, s.executeUpdate("INSERT INTO leads SELECT * FROM leads_archive"));
            assertEquals(1, s.executeUpdate("INSERT INTO leads SELECT id + 10, user_email, name FROM leads_archive"));
            assertEquals(List.of("1|Bob|a@x.org", "2|Cy|b@x.org", "7|Olga|old@x.org", "17|Olga|old@x.org"),
                rows(db, "SELECT id, name, contact_email FROM leads ORDER BY id"));

            // the legacy read sees the old shape: user_email second, where it stood
            try (ResultSet rs = s.executeQuery("SELECT * FROM leads WHERE id = 1")) {
                ResultSetMetaData md = rs.getMetaData();
                assertEquals("id", md.getColumnLabel(1));
                assertEquals("user_email", md.getColumnLabel(2));
                assertEquals("name", md.getColumnLabel(3));
                assertTrue(rs.next());
                assertEquals("a@x.org", rs.getString(2));
                assertEquals("Bob", rs.getString(3));
            }
            // the other direction: the legacy-shaped copy gets the values in their legacy places
            assertEquals(4, s.executeUpdate("INSERT INTO leads_archive SELECT id + 100, user_email, name FROM leads"));
            assertEquals(List.of("101|a@x.org|Bob"), rows(db, "SELECT id, user_email, name FROM leads_archive WHERE id = 101"));
        }
    }

    @Test
    void withoutARecordPositionalStatementsFailClosed() throws SQLException {
        TestDb db = dropped("drop_unrecorded", false);
        try (Connection c = open(db); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO leads VALUES (1, 'a@x.org', 'Bob')"));
            assertEquals(Errors.REJECTED, e.getSQLState());
            assertTrue(e.getMessage().contains("public.leads.user_email was dropped"), e.getMessage());
            assertTrue(e.getMessage().contains("give the INSERT a column list"), e.getMessage());
            assertEquals(Errors.REJECTED, assertThrows(SQLException.class, () -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads VALUES (?, ?, ?)")) {
                    ps.setInt(1, 2);
                    ps.setString(2, "b@x.org");
                    ps.setString(3, "Cy");
                    ps.executeUpdate();
                }
            }).getSQLState());
            assertEquals(Errors.REJECTED, assertThrows(SQLException.class,
                () -> s.executeUpdate("INSERT INTO leads SELECT * FROM leads_archive")).getSQLState());
            // anything unanalysable that names the dropped column: the server could resolve it elsewhere
            assertEquals(Errors.REJECTED, assertThrows(SQLException.class,
                () -> s.executeQuery("SELECT user_email FROM leads, leads_archive")).getSQLState());
            assertEquals(Errors.REJECTED, assertThrows(SQLException.class,
                () -> s.execute("COPY leads FROM '/nonexistent'")).getSQLState());
            assertEquals(List.of(), rows(db, "SELECT * FROM leads"));

            // the documented remedy works, and so does everything that names its columns
            assertEquals(1, s.executeUpdate("INSERT INTO leads (id, user_email, name) VALUES (1, 'a@x.org', 'Bob')"));
            assertEquals(List.of("1|Bob|a@x.org"), rows(db, "SELECT * FROM leads"));
        }
    }

    @Test
    void aDropThisProcessSawKeepsTheOrderItReadBefore() throws SQLException {
        TestDb db = TestDb.create("drop_seen");
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, user_email text, name text)",
            "ALTER TABLE leads ADD COLUMN contact_email text");
        try (Connection c = open(db); Statement s = c.createStatement()) {
            BellowsRuntime runtime = c.unwrap(BellowsConnection.class).runtime();
            assertEquals(1, s.executeUpdate("INSERT INTO leads VALUES (1, 'a@x.org', 'Bob')"));
            db.exec("ALTER TABLE leads DROP COLUMN user_email");
            runtime.refreshCatalog();
            assertEquals(List.of("id", "name", "contact_email"), runtime.catalog().columns("public", "leads"));
            assertEquals(1, s.executeUpdate("INSERT INTO leads VALUES (2, 'b@x.org', 'Cy')"));
            assertEquals(List.of("1|Bob|a@x.org", "2|Cy|b@x.org"), rows(db, "SELECT id, name, contact_email FROM leads ORDER BY id"));
        }
    }
}
