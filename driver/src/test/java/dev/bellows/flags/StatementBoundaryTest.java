package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A flag change made through the database applies from the next statement on every connection, prepared
 * statements included, and never within a statement. The two columns hold different values on purpose, so
 * every read shows which phase it ran in (expand reads user_email, switch reads email).
 */
class StatementBoundaryTest {
    private static final String ID = "leads-email";
    private FlagsDb db;
    private BellowsRuntime runtime;
    private BellowsDataSource ds;

    @BeforeEach
    void setUp() throws Exception {
        db = FlagsDb.create("boundary", FlagsDb.leadsRules("expand"));
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)",
            "INSERT INTO leads (name, user_email, email) SELECT 'n' || g, 'old' || g, 'new' || g FROM generate_series(1, 5) g");
        ds = db.instance("boundary");
        runtime = ds.runtime();
    }

    @AfterEach
    void tearDown() throws SQLException {
        db.close();
    }

    private void flip(Phase phase) throws SQLException {
        db.setFlag(ID, phase);
        FlagsDb.awaitPhase(runtime, ID, phase, 1_000);
    }

    private static String one(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    @Test
    void preparedAndPlainStatementsOfEveryConnectionTakeTheFlagAtTheirNextExecute() throws SQLException {
        try (Connection c1 = ds.getConnection(); Connection c2 = ds.getConnection();
             PreparedStatement ps = c1.prepareStatement("SELECT user_email FROM leads WHERE name = ?");
             Statement st = c2.createStatement()) {
            ps.setString(1, "n1");
            assertEquals("old1", one(ps));
            flip(Phase.SWITCH);
            assertEquals("new1", one(ps)); // prepared in expand, same parameters, no re-prepare by the application
            try (ResultSet rs = st.executeQuery("SELECT user_email FROM leads WHERE name = 'n2'")) {
                rs.next();
                assertEquals("new2", rs.getString(1));
            }
            flip(Phase.EXPAND);
            assertEquals("old1", one(ps));
        }
    }

    @Test
    void insideATransactionTheChangeAppliesFromTheNextStatement() throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE name = ?")) {
            c.setAutoCommit(false);
            ps.setString(1, "n3");
            assertEquals("old3", one(ps));
            flip(Phase.SWITCH);
            assertEquals("new3", one(ps));
            c.commit();
        }
    }

    @Test
    void neverWithinOneStatement() throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads ORDER BY id")) {
            c.setAutoCommit(false);
            ps.setFetchSize(1); // a server-side cursor: rows come from the server one by one, during the flip
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                rows.add(rs.getString("user_email"));
                flip(Phase.SWITCH);
                while (rs.next()) rows.add(rs.getString("user_email"));
            }
            assertEquals(List.of("old1", "old2", "old3", "old4", "old5"), rows, "the statement finished in expand");
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("new1", rs.getString("user_email"), "its next execution runs in switch");
            }
            c.commit();
        }
    }
}
