package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyManager;
import org.postgresql.jdbc.PgResultSet;
import org.postgresql.largeobject.LargeObjectManager;

/** pgjdbc WrapperTest style: unwrap reaches pgjdbc, nothing hands out a raw pgjdbc object, lifecycle. */
class WrapperTest {
    private static TestDb db;
    private Connection conn;

    @BeforeAll
    static void database() throws SQLException {
        db = TestDb.create("wrapper");
        db.exec("CREATE TABLE items (id serial PRIMARY KEY, name text)",
            "CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1'");
    }

    @BeforeEach
    void open() throws SQLException {
        conn = db.connect();
    }

    @AfterEach
    void close() throws SQLException {
        conn.close();
    }

    @Test
    void unwrapReachesPgjdbc() throws SQLException {
        assertTrue(conn.isWrapperFor(PGConnection.class));
        assertTrue(conn.isWrapperFor(BellowsConnection.class));
        assertTrue(conn.isWrapperFor(Connection.class));
        assertFalse(conn.isWrapperFor(String.class));
        PGConnection pg = conn.unwrap(PGConnection.class);
        assertFalse(pg instanceof BellowsConnection);
        assertSame(conn, conn.unwrap(Connection.class));
        assertSame(conn, conn.unwrap(BellowsConnection.class));
        assertThrows(SQLException.class, () -> conn.unwrap(String.class));
        try (Statement s = conn.createStatement()) {
            assertTrue(s.isWrapperFor(PGStatement.class));
            assertNotNull(s.unwrap(PGStatement.class));
            assertSame(s, s.unwrap(Statement.class));
        }
    }

    @Test
    void copyManagerWorksThroughUnwrap() throws Exception {
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        long rows = copy.copyIn("COPY items (name) FROM STDIN", new StringReader("a\nb\n"));
        assertEquals(2, rows);
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE name IN ('a', 'b')")) {
            rs.next();
            assertEquals(2, rs.getInt(1));
        }
    }

    @Test
    void listenNotifyWorksThroughUnwrap() throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute("LISTEN bellows_test");
            s.execute("NOTIFY bellows_test, 'hello'");
        }
        PGNotification[] n = conn.unwrap(PGConnection.class).getNotifications(5000);
        assertNotNull(n);
        assertEquals("hello", n[0].getParameter());
    }

    @Test
    void largeObjectsWorkThroughUnwrap() throws SQLException {
        conn.setAutoCommit(false);
        LargeObjectManager lom = conn.unwrap(PGConnection.class).getLargeObjectAPI();
        long oid = lom.createLO();
        try (var lo = lom.open(oid, LargeObjectManager.WRITE)) {
            lo.write(new byte[] {1, 2, 3});
        }
        conn.commit();
        conn.setAutoCommit(true);
    }

    @Test
    void statementsHandBackTheirWrappers() throws SQLException {
        try (Statement s = conn.createStatement()) {
            assertSame(conn, s.getConnection());
            ResultSet rs = s.executeQuery("SELECT 1");
            assertSame(s, rs.getStatement());
            assertFalse(rs instanceof PgResultSet);
            assertTrue(rs.isWrapperFor(PgResultSet.class));
            assertTrue(s.execute("SELECT 2"));
            ResultSet current = s.getResultSet();
            assertSame(s, current.getStatement());
            assertSame(current, s.getResultSet()); // the same wrapper while the result is the same
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int")) {
            assertSame(conn, ps.getConnection());
            ps.setInt(1, 5);
            ResultSet rs = ps.executeQuery();
            assertSame(ps, rs.getStatement());
            rs.next();
            assertEquals(5, rs.getInt(1));
            assertSame(ps, ps.getResultSet().getStatement());
        }
        try (CallableStatement cs = conn.prepareCall("{? = call add_one(?)}")) {
            assertSame(conn, cs.getConnection());
            cs.registerOutParameter(1, Types.INTEGER);
            cs.setInt(2, 41);
            cs.execute();
            assertEquals(42, cs.getInt(1));
        }
    }

    @Test
    void multipleResultsAreWrapped() throws SQLException {
        try (Statement s = conn.createStatement()) {
            assertTrue(s.execute("SELECT 1; SELECT 2"));
            ResultSet first = s.getResultSet();
            assertSame(s, first.getStatement());
            assertTrue(s.getMoreResults());
            ResultSet second = s.getResultSet();
            assertSame(s, second.getStatement());
            assertFalse(second instanceof PgResultSet);
            second.next();
            assertEquals(2, second.getInt(1));
        }
    }

    @Test
    void generatedKeysAreWrapped() throws SQLException {
        try (Statement s = conn.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO items (name) VALUES ('k')", Statement.RETURN_GENERATED_KEYS));
            ResultSet keys = s.getGeneratedKeys();
            assertSame(s, keys.getStatement());
            assertTrue(keys.next());
            assertTrue(keys.getInt("id") > 0);
        }
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO items (name) VALUES (?)", new String[] {"id", "name"})) {
            ps.setString(1, "n");
            assertEquals(1, ps.executeUpdate());
            ResultSet keys = ps.getGeneratedKeys();
            assertSame(ps, keys.getStatement());
            assertTrue(keys.next());
            assertEquals("n", keys.getString("name"));
            assertEquals("name", keys.getMetaData().getColumnLabel(2));
        }
    }

    @Test
    void metadataHandsBackWrappers() throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        assertSame(conn, md.getConnection());
        assertSame(md, conn.getMetaData());
        try (ResultSet tables = md.getTables(null, "public", "items", null)) {
            assertFalse(tables instanceof PgResultSet);
            assertTrue(tables.next());
            assertEquals("items", tables.getString("TABLE_NAME"));
            Statement owner = tables.getStatement();
            if (owner != null) {
                assertFalse(owner instanceof PGStatement);
                assertSame(conn, owner.getConnection());
            }
        }
        try (ResultSet cols = md.getColumns(null, "public", "items", null)) {
            assertFalse(cols instanceof PgResultSet);
        }
    }

    @Test
    void closeIsIdempotentAndClosesChildren() throws SQLException {
        Connection c = db.connect();
        Statement s = c.createStatement();
        PreparedStatement ps = c.prepareStatement("SELECT 1");
        CallableStatement cs = c.prepareCall("{call add_one(1)}");
        Statement closedEarly = c.createStatement();
        closedEarly.close();
        closedEarly.close();
        assertTrue(closedEarly.isClosed());
        assertEquals(3, ((ConnectionWrapper) c).openStatements());
        c.close();
        c.close();
        assertTrue(c.isClosed());
        assertTrue(s.isClosed());
        assertTrue(ps.isClosed());
        assertTrue(cs.isClosed());
        s.close();
    }

    @Test
    void statementTrackingLosesNothingUnderConcurrentUse() throws Exception {
        Connection c = db.connect();
        int threads = 8;
        java.util.List<java.util.List<PreparedStatement>> kept = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<java.util.concurrent.Future<java.util.List<PreparedStatement>>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    java.util.List<PreparedStatement> open = new java.util.ArrayList<>();
                    for (int i = 0; i < 500; i++) {
                        PreparedStatement ps = c.prepareStatement("SELECT 1");
                        if (i % 100 == 0) open.add(ps); // more than one slot chunk stays open
                        else ps.close();
                    }
                    return open;
                }));
            }
            for (var f : done) kept.add(f.get());
        } finally {
            pool.shutdown();
        }
        assertEquals(threads * 5, ((ConnectionWrapper) c).openStatements());
        kept.get(0).get(0).close();
        assertEquals(threads * 5 - 1, ((ConnectionWrapper) c).openStatements());
        c.close();
        for (var open : kept) for (PreparedStatement ps : open) assertTrue(ps.isClosed());
        assertEquals(0, ((ConnectionWrapper) c).openStatements());
    }

    @Test
    void statementsClosedByPgjdbcOnCompletionAreForgotten() throws SQLException {
        Statement s = conn.createStatement();
        s.closeOnCompletion();
        ResultSet rs = s.executeQuery("SELECT 1");
        assertEquals(1, ((ConnectionWrapper) conn).openStatements());
        rs.close();
        assertTrue(s.isClosed());
        assertEquals(0, ((ConnectionWrapper) conn).openStatements());
    }

    @Test
    void identityEquality() throws SQLException {
        try (Connection other = db.connect(); Statement a = conn.createStatement(); Statement b = conn.createStatement()) {
            assertNotEquals(conn, other);
            assertEquals(conn, conn);
            assertNotEquals(a, b);
            assertEquals(System.identityHashCode(a), a.hashCode());
            assertEquals(System.identityHashCode(conn), conn.hashCode());
        }
    }

    @Test
    void nativeSqlGoesThroughTheRewriterToPgjdbc() throws SQLException {
        assertEquals("SELECT 1", conn.nativeSQL("SELECT 1"));
        assertEquals("SELECT now()", conn.nativeSQL("SELECT {fn now()}"));
    }

    @Test
    void parameterErrorsKeepPgjdbcStates() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int")) {
            SQLException e = assertThrows(SQLException.class, () -> ps.setInt(2, 1));
            assertEquals("22023", e.getSQLState());
            SQLException unset = assertThrows(SQLException.class, ps::executeQuery);
            assertInstanceOf(org.postgresql.util.PSQLException.class, unset);
        }
    }

    @Test
    void statementSettingsReachPgjdbc() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT generate_series(1, 10)")) {
            ps.setFetchSize(3);
            ps.setMaxRows(4);
            assertEquals(3, ps.unwrap(PGStatement.class) instanceof Statement st ? st.getFetchSize() : -1);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) n++;
            }
            assertEquals(4, n);
        }
    }
}
