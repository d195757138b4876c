package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 §1, against the real server: an unqualified table name means what PostgreSQL makes of it for this
 * session. The managed table is {@code app.leads} (user_email renamed to contact_email, phase switch: reads come
 * from contact_email); {@code other.leads} is a table of the same name and column that no rule manages. Each row
 * holds different values in the two columns, so every read shows which table and column answered.
 */
class SearchPathTest {
    private static final RuleSet RULES = RuleSet.of(new Migration("app-leads-contact-email", "app", "leads", "user_email",
        "contact_email", null, null, null, Phase.SWITCH, 0));
    private static final String MANAGED = "new@app"; // app.leads.contact_email, what switch reads for user_email
    private static final String OTHER = "other@other";
    private static TestDb db;

    @BeforeAll
    static void schema() throws SQLException {
        db = TestDb.create("searchpath");
        db.exec("CREATE SCHEMA app", "CREATE SCHEMA other",
            "CREATE TABLE app.leads (id int PRIMARY KEY, user_email text, contact_email text)",
            "INSERT INTO app.leads VALUES (1, 'old@app', '" + MANAGED + "')",
            "CREATE TABLE other.leads (id int PRIMARY KEY, user_email text)",
            "INSERT INTO other.leads VALUES (1, '" + OTHER + "')");
    }

    private static Connection open(String... keyValues) throws SQLException {
        Connection c = db.connect(keyValues);
        c.unwrap(BellowsConnection.class).runtime().setRules(RULES);
        return c;
    }

    private static String read(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT user_email FROM leads WHERE id = 1")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void theUrlsCurrentSchemaFindsTheManagedTable() throws SQLException {
        try (Connection c = open("currentSchema", "app,public")) {
            assertEquals(MANAGED, read(c));
        }
        try (Connection c = open("currentSchema", "other,app,public")) {
            assertEquals(OTHER, read(c), "other.leads comes first and is not rewritten");
        }
    }

    @Test
    void setSearchPathThroughTheDriverIsFollowedAndResetRestoresTheSessionDefault() throws SQLException {
        try (Connection c = open("currentSchema", "app,public"); Statement s = c.createStatement()) {
            s.execute("SET search_path TO other, app, public");
            assertEquals(OTHER, read(c));
            s.execute("SELECT set_config('search_path', 'app, public', false)");
            assertEquals(MANAGED, read(c));
            s.execute("SET search_path = other, app");
            assertEquals(OTHER, read(c));
            s.execute("RESET search_path"); // back to the connection's own default: the URL's currentSchema
            assertEquals(MANAGED, read(c));
        }
    }

    @Test
    void setLocalAndRolledBackSetsLastOnlyAsLongAsPostgresKeepsThem() throws SQLException {
        try (Connection c = open("currentSchema", "app,public"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL search_path TO other, public");
            assertEquals(OTHER, read(c));
            c.commit();
            assertEquals(MANAGED, read(c), "SET LOCAL ended with the transaction");
            s.execute("SET search_path TO other, public");
            assertEquals(OTHER, read(c));
            c.rollback();
            assertEquals(MANAGED, read(c), "a rolled-back SET is undone");
            s.execute("SET search_path TO other, public");
            s.execute("COMMIT"); // as SQL text, not through the JDBC API
            assertEquals(OTHER, read(c), "a committed SET stays");
            s.execute("BEGIN");
            s.execute("SAVEPOINT a");
            s.execute("SET search_path TO app, public");
            assertEquals(MANAGED, read(c));
            s.execute("ROLLBACK TO SAVEPOINT a");
            assertEquals(OTHER, read(c), "undone by the savepoint rollback");
            s.execute("ROLLBACK");
            c.setAutoCommit(true);
            assertEquals(OTHER, read(c));
        }
    }

    @Test
    void theRolesDefaultPathIsFollowed() throws SQLException {
        String role = db.query("SELECT current_user");
        String dbName = db.query("SELECT current_database()");
        db.exec("ALTER ROLE \"" + role + "\" IN DATABASE \"" + dbName + "\" SET search_path = app, public");
        try (Connection c = open()) {
            assertEquals(MANAGED, read(c));
        } finally {
            db.exec("ALTER ROLE \"" + role + "\" IN DATABASE \"" + dbName + "\" RESET search_path");
        }
        try (Connection c = open(); Statement s = c.createStatement()) {
            // without it (public only), leads is not found at all, as PostgreSQL says
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                () -> s.executeQuery("SELECT user_email FROM leads WHERE id = 1"));
            assertEquals("42P01", e.getSQLState());
        }
    }

    @Test
    void aPreparedStatementFollowsAPathChangedAfterItWasPrepared() throws SQLException {
        try (Connection c = open("currentSchema", "app,public"); Statement s = c.createStatement();
             PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
            ps.setInt(1, 1);
            assertEquals(MANAGED, single(ps));
            s.execute("SET search_path TO other, public");
            assertEquals(OTHER, single(ps), "prepared again for other.leads, which has no contact_email");
            s.execute("SET search_path TO app, public");
            assertEquals(MANAGED, single(ps));
        }
    }

    @Test
    void writesGoToTheTableThePathFinds() throws SQLException {
        try (Connection c = open("currentSchema", "other,app,public"); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO leads (id, user_email) VALUES (2, 'x@other')"));
            s.execute("SET search_path TO app, public");
            assertEquals(1, s.executeUpdate("INSERT INTO leads (id, user_email) VALUES (2, 'y@app')"));
        }
        assertEquals("x@other", db.query("SELECT user_email FROM other.leads WHERE id = 2"));
        assertEquals("y@app|y@app", db.query("SELECT user_email || '|' || contact_email FROM app.leads WHERE id = 2"),
            "the managed table is dual-written");
        db.exec("DELETE FROM other.leads WHERE id = 2", "DELETE FROM app.leads WHERE id = 2");
    }

    private static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            String v = rs.getString(1);
            assertFalse(rs.next());
            return v;
        }
    }
}
