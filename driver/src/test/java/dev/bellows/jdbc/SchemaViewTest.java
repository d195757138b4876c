package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bellows.schema}: what old and new code read from {@code DatabaseMetaData} in every phase, and the
 * rule for statements writing both columns (what a metadata-driven insert built from the other view sends).
 */
class SchemaViewTest {
    private static final String ID = "leads-contact-email";
    private TestDb db;
    private Connection old;
    private Connection neu;

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDb.create("schemaview");
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, user_email text, name text, score int)",
            "CREATE UNIQUE INDEX leads_user_email_key ON leads (user_email)");
        old = db.connect();
        neu = db.connect("bellows.schema", "new");
        for (Connection c : List.of(old, neu)) {
            c.unwrap(BellowsConnection.class).runtime().setRules(RuleSet.of(
                Migration.rename(ID, "leads", "user_email", "contact_email", Phase.OFF)));
        }
    }

    @AfterEach
    void tearDown() throws SQLException {
        old.close();
        neu.close();
    }

    private void phase(Phase p) {
        for (Connection c : List.of(old, neu)) {
            try {
                c.unwrap(BellowsConnection.class).runtime().setPhase(ID, p);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** DDL through one Bellows connection refreshes its own configuration's catalog; the other reads it again. */
    private void ddl(String sql) throws SQLException {
        try (Statement s = old.createStatement()) {
            s.execute(sql);
        }
        neu.unwrap(BellowsConnection.class).refreshCatalog();
    }

    @Test
    void settingIsReadFromUrlPropertiesAndDataSource() throws SQLException {
        assertEquals(SchemaView.OLD, old.unwrap(BellowsConnection.class).runtime().schemaView());
        assertEquals(SchemaView.NEW, neu.unwrap(BellowsConnection.class).runtime().schemaView());
        try (Connection c = java.sql.DriverManager.getConnection(db.url + "?bellows.schema=NEW", db.credentials())) {
            assertEquals(SchemaView.NEW, c.unwrap(BellowsConnection.class).runtime().schemaView());
        }
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(db.url);
        ds.setUser(db.fixture.user());
        ds.setPassword(db.fixture.password());
        ds.setSchemaView("new");
        try (Connection c = ds.getConnection()) {
            assertEquals(SchemaView.NEW, c.unwrap(BellowsConnection.class).runtime().schemaView());
        }
        SQLException e = assertThrows(SQLException.class, () -> db.connect("bellows.schema", "newest"));
        assertTrue(e.getMessage().contains("bellows.schema"), e.getMessage());
        assertEquals("BW001", e.getSQLState());
    }

    @Test
    void eachViewSeesItsOwnTableInEveryPhase() throws SQLException {
        // off, before the expand DDL: both see the table as it is
        assertEquals(List.of("id", "user_email", "name", "score"), columns(old));
        assertEquals(List.of("id", "user_email", "name", "score"), columns(neu));
        ddl("ALTER TABLE leads ADD COLUMN contact_email text");
        ddl("CREATE UNIQUE INDEX leads_contact_email_key ON leads (contact_email)");
        assertEquals(List.of("id", "user_email", "name", "score", "contact_email"), columns(old), "off changes nothing");
        assertEquals(List.of("id", "user_email", "name", "score", "contact_email"), columns(neu), "off changes nothing");
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            phase(p);
            assertEquals(List.of("id", "user_email", "name", "score"), columns(old), p.label());
            assertEquals(List.of("id", "name", "score", "contact_email"), columns(neu), p.label());
            assertEquals(List.of(), names(old.getMetaData().getColumns(null, "public", "leads", "contact_email"), "COLUMN_NAME"));
            assertEquals(List.of(), names(neu.getMetaData().getColumns(null, "public", "leads", "user_email"), "COLUMN_NAME"));
            assertEquals(List.of("leads_pkey:id", "leads_user_email_key:user_email"), indexes(old), p.label());
            assertEquals(List.of("leads_contact_email_key:contact_email", "leads_pkey:id"), indexes(neu), p.label());
            assertEquals(List.of("id"), names(old.getMetaData().getPrimaryKeys(null, "public", "leads"), "COLUMN_NAME"));
        }
        ddl("ALTER TABLE leads DROP COLUMN user_email");
        // after the drop the old view keeps its column where it stood: this process saw the order before the drop
        // (without that, or a bellows.column_order record, it would come in the new column's place)
        assertEquals(List.of("id", "user_email", "name", "score"), columns(old));
        assertEquals(List.of("id", "name", "score", "contact_email"), columns(neu));
        assertEquals(List.of("leads_contact_email_key:user_email", "leads_pkey:id"), indexes(old));
        assertEquals(List.of("leads_contact_email_key:contact_email", "leads_pkey:id"), indexes(neu));
    }

    @Test
    void aMetadataDrivenInsertFromEitherViewWritesBothColumns() throws SQLException {
        ddl("ALTER TABLE leads ADD COLUMN contact_email text");
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            phase(p);
            db.exec("TRUNCATE leads");
            // what SimpleJdbcInsert builds from metadata that lists both columns: NULL bound for the one the bean lacks
            String sql = "INSERT INTO leads (id, user_email, name, contact_email) VALUES (?, ?, ?, ?)";
            try (PreparedStatement ps = old.prepareStatement(sql)) {
                ps.setInt(1, 1);
                ps.setString(2, "old@x.io");
                ps.setString(3, "old code");
                ps.setNull(4, Types.VARCHAR);
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = neu.prepareStatement(sql)) {
                ps.setInt(1, 2);
                ps.setNull(2, Types.VARCHAR);
                ps.setString(3, "new code");
                ps.setString(4, "new@x.io");
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = old.prepareStatement(sql)) { // the same value twice is fine
                ps.setInt(1, 3);
                ps.setString(2, "same@x.io");
                ps.setString(3, "both");
                ps.setString(4, "same@x.io");
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = old.prepareStatement(sql)) { // two truths are refused
                ps.setInt(1, 4);
                ps.setString(2, "a@x.io");
                ps.setString(3, "conflict");
                ps.setString(4, "b@x.io");
                SQLException e = assertThrows(SQLException.class, ps::executeUpdate);
                assertTrue(e.getMessage().contains("Bellows: public.leads.user_email and contact_email written with different values"),
                    e.getMessage());
            }
            try (Statement s = old.createStatement()) { // NULL literal for the column outside the view
                s.executeUpdate("INSERT INTO leads (id, user_email, name, contact_email) VALUES (5, 'lit@x.io', 'literal', NULL)");
                s.executeUpdate("UPDATE leads SET user_email = 'upd@x.io', contact_email = NULL WHERE id = 5");
            }
            assertEquals("1 old@x.io old@x.io|2 new@x.io new@x.io|3 same@x.io same@x.io|5 upd@x.io upd@x.io",
                rows(), p.label());
        }
    }

    private String rows() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, user_email, contact_email FROM leads ORDER BY id")) {
            while (rs.next()) out.add(rs.getInt(1) + " " + rs.getString(2) + " " + rs.getString(3));
        }
        return String.join("|", out);
    }

    private static List<String> columns(Connection c) throws SQLException {
        return names(c.getMetaData().getColumns(null, "public", "leads", null), "COLUMN_NAME");
    }

    private static List<String> indexes(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        TreeSet<String> out = new TreeSet<>();
        try (ResultSet rs = md.getIndexInfo(null, "public", "leads", false, false)) {
            while (rs.next()) out.add(rs.getString("INDEX_NAME") + ":" + rs.getString("COLUMN_NAME"));
        }
        return new ArrayList<>(out);
    }

    private static List<String> names(ResultSet rs, String column) throws SQLException {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) out.add(rs.getString(column));
        }
        return out;
    }
}
