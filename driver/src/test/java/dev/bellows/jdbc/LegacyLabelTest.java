package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Legacy code keeps its names after contract has dropped the old column: result labels, generated keys
 * asked for by name, column metadata, usage facts. Tests marked "engine" need the rewriter engine.
 */
class LegacyLabelTest {
    private TestDb db;
    private Connection conn;
    private BellowsRuntime runtime;

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDb.create("labels");
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, email text)",
            "INSERT INTO leads (name, email) VALUES ('ann', 'ann@example.com')");
        conn = db.connect();
        runtime = conn.unwrap(BellowsConnection.class).runtime();
        runtime.setRules(RuleSet.of(Migration.rename("leads-email", "leads", "user_email", "email", Phase.CONTRACT)));
    }

    @AfterEach
    void tearDown() throws SQLException {
        conn.close();
    }

    @Test // engine
    void legacyLabelsResolveInResults() throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM leads")) {
            assertTrue(rs.next());
            assertEquals("ann@example.com", rs.getString("user_email"));
            assertEquals("ann@example.com", rs.getString("USER_EMAIL"));
            // the old view's * is the legacy table: no new column (bellows.schema=new shows it, without user_email)
            assertThrows(SQLException.class, () -> rs.getString("email"));
            assertEquals(rs.findColumn("user_email"), rs.findColumn("User_Email"));
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT user_email FROM leads WHERE name = ?")) {
            ps.setString(1, "ann");
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("ann@example.com", rs.getObject("user_email", String.class));
                assertEquals("user_email", rs.getMetaData().getColumnLabel(1));
            }
        }
    }

    @Test // engine
    void generatedKeysComeBackUnderTheNamesAskedFor() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)",
            new String[] {"id", "user_email"})) {
            ps.setString(1, "bo");
            ps.setString(2, "bo@example.com");
            assertEquals(1, ps.executeUpdate());
            try (ResultSet keys = ps.getGeneratedKeys()) {
                assertTrue(keys.next());
                assertEquals("bo@example.com", keys.getString("user_email"));
                assertTrue(keys.getInt("id") > 1);
                ResultSetMetaData md = keys.getMetaData();
                assertEquals(2, md.getColumnCount());
                assertEquals("id", md.getColumnLabel(1));
                assertEquals("user_email", md.getColumnLabel(2));
            }
        }
        try (Statement s = conn.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO leads (name, user_email) VALUES ('cy', 'cy@example.com')",
                new String[] {"user_email"}));
            try (ResultSet keys = s.getGeneratedKeys()) {
                assertTrue(keys.next());
                assertEquals("cy@example.com", keys.getString(1));
                assertEquals("user_email", keys.getMetaData().getColumnLabel(1));
            }
            assertEquals(1, s.executeUpdate("INSERT INTO leads (name, user_email) VALUES ('di', 'di@example.com')",
                Statement.RETURN_GENERATED_KEYS));
            try (ResultSet keys = s.getGeneratedKeys()) {
                assertTrue(keys.next());
                assertEquals("di@example.com", keys.getString("user_email"));
            }
        }
        assertEquals("3", db.query("SELECT count(*) FROM leads WHERE email IN ('bo@example.com', 'cy@example.com', 'di@example.com')"));
    }

    @Test
    void getColumnsShowsTheDroppedLegacyColumn() throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        // the old view (default): the legacy name in the new column's place, the new name hidden
        assertEquals(List.of("id", "name", "user_email"), columns(md.getColumns(null, "public", "leads", null)));
        try (ResultSet rs = md.getColumns(null, "public", "leads", "user%")) {
            assertTrue(rs.next());
            assertEquals("user_email", rs.getString("COLUMN_NAME"));
            assertEquals("text", rs.getString("TYPE_NAME"));
            assertEquals(java.sql.Types.VARCHAR, rs.getInt("DATA_TYPE"));
            assertEquals(3, rs.getInt("ORDINAL_POSITION"));
            assertTrue(rs.getString("REMARKS").contains("email"));
            assertEquals(conn, rs.getStatement().getConnection());
            assertTrue(!rs.next());
        }
        assertEquals(List.of(), columns(md.getColumns(null, "public", "leads", "email")));
    }

    @Test
    void getColumnsShowsOnlyTheLegacyColumnWhileBothExist() throws SQLException {
        db.exec("ALTER TABLE leads ADD COLUMN user_email text");
        assertEquals(List.of("id", "name", "user_email"), columns(conn.getMetaData().getColumns(null, "public", "leads", null)));
        runtime.setPhase("leads-email", Phase.OFF);
        assertEquals(List.of("id", "name", "email", "user_email"),
            columns(conn.getMetaData().getColumns(null, "public", "leads", null)));
    }

    @Test // engine
    void usageFactsReachTheSink() throws SQLException {
        List<UsageFact> seen = new CopyOnWriteArrayList<>();
        List<String> apps = new CopyOnWriteArrayList<>();
        runtime.setUsageSink((app, facts) -> {
            apps.add(app);
            seen.addAll(facts);
        });
        try (Statement s = conn.createStatement()) {
            s.executeQuery("SELECT user_email FROM leads").close();
            s.executeQuery("SELECT name FROM leads").close();
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT user_email FROM leads")) {
            ps.executeQuery().close();
            ps.executeQuery().close();
        }
        assertEquals(3, seen.size(), seen.toString());
        assertEquals("leads-email", seen.get(0).migrationId());
        assertEquals(UsageFact.Kind.READ, seen.get(0).kind());
        assertEquals("unknown", apps.get(0));
        runtime.setUsageSink((app, facts) -> {
            throw new IllegalStateException("a broken sink must not break statements");
        });
        try (Statement s = conn.createStatement()) {
            s.executeQuery("SELECT user_email FROM leads").close();
        }
    }

    private static List<String> columns(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) out.add(rs.getString("COLUMN_NAME"));
        }
        return out;
    }
}
