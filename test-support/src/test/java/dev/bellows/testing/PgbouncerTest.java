package dev.bellows.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pgbouncer fixture: where the binary comes from, and that it really pools by transaction in front of the server. */
class PgbouncerTest {

    @Test
    void moreClientsThanServerConnectionsShareThemTransactionByTransaction() throws SQLException {
        Pgbouncer bouncer = Pgbouncer.get();
        PostgresFixture server = PostgresFixture.get();
        String url = bouncer.behind(server.createDatabase("bouncer"));
        assertTrue(url.endsWith("?prepareThreshold=0"), url);
        // In session mode the fifth client would wait for a server connection until query_wait_timeout; in
        // transaction mode every client runs while at most POOL_SIZE server processes serve them all.
        List<Connection> clients = new ArrayList<>();
        Set<String> backends = new HashSet<>();
        try {
            for (int i = 0; i < Pgbouncer.POOL_SIZE * 2; i++) {
                Connection c = server.connect(url);
                clients.add(c);
            }
            for (int round = 0; round < 3; round++) {
                for (Connection c : clients) backends.add(one(c, "SELECT pg_backend_pid()::text"));
            }
            assertTrue(backends.size() <= Pgbouncer.POOL_SIZE, "backends " + backends);
        } finally {
            for (Connection c : clients) c.close();
        }
        // A transaction keeps its server connection to the end: its own writes are visible to it, then committed.
        try (Connection c = server.connect(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (v int)");
            c.setAutoCommit(false);
            String pid = one(c, "SELECT pg_backend_pid()::text");
            s.execute("INSERT INTO t VALUES (1)");
            assertEquals(pid, one(c, "SELECT pg_backend_pid()::text"));
            assertEquals("1", one(c, "SELECT count(*)::text FROM t"));
            c.commit();
        }
    }

    @Test
    void aBinaryGivenExplicitlyIsRequired(@TempDir Path dir) {
        Pgbouncer.Location missing = Pgbouncer.Location.resolve(dir.resolve("nope").toString(), null, null, null, List.of());
        assertTrue(missing.required());
        assertTrue(missing.problem().contains("-Dbellows.pgbouncer"), missing.problem());
        Pgbouncer.Location fromEnv = Pgbouncer.Location.resolve(null, dir.resolve("nope").toString(), null, null, List.of());
        assertTrue(fromEnv.required());
        assertTrue(fromEnv.problem().contains("BELLOWS_PGBOUNCER"), fromEnv.problem());
    }

    @Test
    void aMissingBinaryIsASkipForADeveloperAndAFailureUnderCi(@TempDir Path dir) throws Exception {
        Path fake = Files.createFile(dir.resolve("pgbouncer"));
        Pgbouncer.Location developer = Pgbouncer.Location.resolve(null, null, null, dir.toString(), List.of());
        assertFalse(developer.required());
        assertNull(developer.binary());
        assertTrue(developer.problem().contains("apt-get install -y pgbouncer"), developer.problem());
        Pgbouncer.Location ci = Pgbouncer.Location.resolve(null, null, "true", dir.toString(), List.of());
        assertTrue(ci.required());
        assertTrue(ci.problem().startsWith("CI=true but pgbouncer is not installed"), ci.problem());
        assertTrue(fake.toFile().setExecutable(true));
        Pgbouncer.Location onPath = Pgbouncer.Location.resolve(null, null, "true", dir.toString(), List.of());
        assertEquals(fake, onPath.binary());
        assertNull(onPath.problem());
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
