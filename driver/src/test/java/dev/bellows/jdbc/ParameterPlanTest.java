package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dual writes in phase expand: a client parameter feeds every server parameter the rewrite's ParamPlan
 * names. Needs the rewriter engine.
 */
class ParameterPlanTest {
    private static final String INSERT = "INSERT INTO leads (name, user_email) VALUES (?, ?)";
    private static TestDb db;
    private Connection conn;

    @BeforeAll
    static void database() {
        db = TestDb.create("params");
    }

    @BeforeEach
    void setUp() throws SQLException {
        db.exec("DROP TABLE IF EXISTS leads", "DROP TABLE IF EXISTS docs",
            "CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)",
            "CREATE TABLE docs (id serial PRIMARY KEY, body_old bytea, body bytea)");
        conn = db.connect();
        BellowsRuntime rt = conn.unwrap(BellowsConnection.class).runtime();
        rt.setRules(RuleSet.of(Migration.rename("leads-email", "leads", "user_email", "email", Phase.EXPAND),
            Migration.rename("docs-body", "docs", "body_old", "body", Phase.EXPAND)));
        rt.refreshCatalog();
    }

    @AfterEach
    void tearDown() throws SQLException {
        conn.close();
    }

    private List<String> rows() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT name, user_email, email FROM leads ORDER BY id")) {
            while (rs.next()) out.add(rs.getString(1) + ":" + rs.getString(2) + ":" + rs.getString(3));
        }
        return out;
    }

    @Test
    void insertWritesBothColumns() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT)) {
            ps.setString(1, "ann");
            ps.setString(2, "ann@example.com");
            assertEquals(1, ps.executeUpdate());
        }
        assertEquals(List.of("ann:ann@example.com:ann@example.com"), rows());
    }

    @Test
    void updateWritesBothColumns() throws SQLException {
        db.exec("INSERT INTO leads (name, user_email, email) VALUES ('bo', 'old', 'old')");
        try (PreparedStatement ps = conn.prepareStatement("UPDATE leads SET user_email = ? WHERE name = ?")) {
            ps.setString(1, "bo@example.com");
            ps.setString(2, "bo");
            assertEquals(1, ps.executeUpdate());
        }
        assertEquals(List.of("bo:bo@example.com:bo@example.com"), rows());
    }

    @Test
    void readersAreReadOnceAndSentTwice() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT)) {
            ps.setString(1, "r1");
            ps.setCharacterStream(2, new OnceReader("r1@example.com"));
            ps.executeUpdate();
            ps.setString(1, "r2");
            ps.setCharacterStream(2, new OnceReader("r2@example.com and more"), 14);
            ps.executeUpdate();
            ps.setString(1, "r3");
            ps.setAsciiStream(2, new OnceStream("r3@example.com".getBytes(StandardCharsets.US_ASCII)), 14);
            ps.executeUpdate();
        }
        assertEquals(List.of("r1:r1@example.com:r1@example.com", "r2:r2@example.com:r2@example.com",
            "r3:r3@example.com:r3@example.com"), rows());
    }

    @Test
    void binaryStreamsAreReadOnceAndSentTwice() throws SQLException {
        byte[] body = {0, 1, 2, 3, (byte) 0xff};
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO docs (body_old) VALUES (?)")) {
            ps.setBinaryStream(1, new OnceStream(body));
            assertEquals(1, ps.executeUpdate());
            ps.setBinaryStream(1, new OnceStream(body), 3);
            assertEquals(1, ps.executeUpdate());
        }
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT body_old, body FROM docs ORDER BY id")) {
            rs.next();
            assertArrayEquals(body, rs.getBytes(1));
            assertArrayEquals(body, rs.getBytes(2));
            rs.next();
            assertArrayEquals(new byte[] {0, 1, 2}, rs.getBytes(1));
            assertArrayEquals(new byte[] {0, 1, 2}, rs.getBytes(2));
        }
    }

    @Test
    void batchesWriteBothColumnsPerRow() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT)) {
            for (String n : List.of("a", "b", "c")) {
                ps.setString(1, n);
                ps.setString(2, n + "@example.com");
                ps.addBatch();
            }
            assertArrayEquals(new int[] {1, 1, 1}, ps.executeBatch());
            // The batch is gone after executing; an empty batch does nothing.
            assertArrayEquals(new int[0], ps.executeBatch());
        }
        assertEquals(List.of("a:a@example.com:a@example.com", "b:b@example.com:b@example.com",
            "c:c@example.com:c@example.com"), rows());
    }

    @Test
    void clearParametersClearsEveryServerParameter() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT)) {
            ps.setString(1, "x");
            ps.setString(2, "x@example.com");
            ps.clearParameters();
            SQLException unset = assertThrows(SQLException.class, ps::executeUpdate);
            DriverTest.assertNotPoolEvicting(unset);
            ps.setString(1, "y");
            ps.setNull(2, java.sql.Types.VARCHAR);
            ps.executeUpdate();
            ps.setString(2, "y@example.com");
            ps.executeUpdate();
        }
        assertEquals(List.of("y:null:null", "y:y@example.com:y@example.com"), rows());
    }

    @Test
    void parametersKeepTheApplicationsNumbering() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT)) {
            assertEquals(2, ps.getParameterMetaData().getParameterCount());
            SQLException e = assertThrows(SQLException.class, () -> ps.setString(3, "z"));
            assertEquals("22023", e.getSQLState());
        }
    }

    @Test
    void generatedKeysAreThoseOfTheApplicationsStatement() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(INSERT, Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, "k");
            ps.setString(2, "k@example.com");
            assertEquals(1, ps.executeUpdate());
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                assertEquals("k", keys.getString("name"));
                assertEquals("k@example.com", keys.getString("user_email"));
                assertEquals(Integer.parseInt(db.query("SELECT max(id) FROM leads")), keys.getInt("id"));
            }
        }
    }

    /** A reader that fails when read again after its end, as a network stream would be empty. */
    static final class OnceReader extends Reader {
        private final StringReader in;
        private boolean ended;

        OnceReader(String s) {
            in = new StringReader(s);
        }

        @Override public int read(char[] buf, int off, int len) throws java.io.IOException {
            if (ended) throw new java.io.IOException("read again after its end");
            int n = in.read(buf, off, len);
            if (n < 0) ended = true;
            return n;
        }

        @Override public void close() {
        }
    }

    /** An input stream that fails when read again after its end. */
    static final class OnceStream extends InputStream {
        private final ByteArrayInputStream in;
        private boolean ended;

        OnceStream(byte[] b) {
            in = new ByteArrayInputStream(b);
        }

        @Override public int read() throws java.io.IOException {
            if (ended) throw new java.io.IOException("read again after its end");
            int c = in.read();
            if (c < 0) ended = true;
            return c;
        }

        @Override public int read(byte[] b, int off, int len) throws java.io.IOException {
            if (ended) throw new java.io.IOException("read again after its end");
            int n = in.read(b, off, len);
            if (n < 0) ended = true;
            return n;
        }
    }
}
