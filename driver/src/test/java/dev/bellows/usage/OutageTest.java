package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database cannot be written for a while during load; once it can again, the totals in bellows.usage equal
 * the statements executed. Two ways to make it unreachable: refusing new connections to the database (any
 * server: the flusher opens a connection per flush, the application keeps its open ones), and stopping the
 * whole server (only the embedded one can be stopped).
 */
class OutageTest {
    @TempDir Path dir;

    /** Statements the workers executed, counted the way Bellows sees them: once prepared, each execute. */
    static final class Load {
        final AtomicLong executed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final List<Thread> threads = new ArrayList<>();

        Load(BellowsDataSource ds, int workers) {
            for (int w = 0; w < workers; w++) {
                Thread t = new Thread(() -> {
                    Connection c = null;
                    while (!stop.get()) {
                        try {
                            if (c == null) c = ds.getConnection();
                            try (PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
                                ps.setInt(1, 1);
                                executed.incrementAndGet(); // Bellows records at execute, before the server answers
                                ps.executeQuery().close();
                            }
                        } catch (SQLException e) {
                            failed.incrementAndGet();
                            close(c);
                            c = null;
                            sleep(20);
                        }
                    }
                    close(c);
                }, "outage-load-" + w);
                t.start();
                threads.add(t);
            }
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) t.join(10_000);
        }
    }

    static void close(Connection c) {
        try {
            if (c != null) c.close();
        } catch (SQLException ignored) {
            // broken anyway
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static long recorded(UsageDb db) throws SQLException {
        String n = db.query("SELECT coalesce(sum(count), 0) FROM bellows.usage WHERE app_name LIKE 'outage%'");
        return Long.parseLong(n);
    }

    /** Flushes until the store takes it (the server may still be starting). */
    static void flushUntilWritten(UsageRecorder r) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!r.flush()) {
            assertTrue(System.currentTimeMillis() < deadline, "the recorder could not write within 30 s after the outage");
            sleep(200);
        }
    }

    @Test
    void refusedConnectionsDuringLoadLoseNothing() throws Exception {
        UsageDb db = UsageDb.create("usage_outage_refused", dir, "expand");
        BellowsDataSource ds = db.dataSource("outage-refused", "bellows.usage.flushInterval", "100ms");
        UsageRecorder r = UsageDb.recorder(ds);
        String name = db.pgUrl.substring(db.pgUrl.lastIndexOf('/') + 1);
        Load load = new Load(ds, 2);
        try {
            sleep(500);
            try (Connection admin = db.fixture.connect(db.fixture.jdbcUrl()); Statement s = admin.createStatement()) {
                s.execute("ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS false");
                try {
                    sleep(400);
                    assertTrue(!r.flush(), "the flusher must not be able to connect now");
                    long pending = r.pendingUses();
                    sleep(800);
                    assertTrue(r.pendingUses() > pending, "counts accumulate in memory while the database is unreachable");
                } finally {
                    s.execute("ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS true");
                }
            }
            sleep(400);
        } finally {
            load.stop();
        }
        flushUntilWritten(r);
        assertTrue(load.executed.get() > 50, "load ran: " + load.executed.get());
        assertEquals(load.executed.get(), recorded(db), "every executed statement is counted once");
        assertEquals(0, r.pendingUses());
        db.close();
    }

    @Test
    void stoppedServerDuringLoadLosesNothing() throws Exception {
        PostgresFixture fixture = PostgresFixture.get();
        if (!fixture.kind().equals("embedded")) {
            // Only the embedded server can be stopped; refusedConnectionsDuringLoadLoseNothing covers the others.
            System.err.println("OutageTest: " + fixture.kind() + " server cannot be stopped; the refused-connections variant ran instead");
            return;
        }
        UsageDb db = UsageDb.create("usage_outage_stopped", dir, "expand");
        BellowsDataSource ds = db.dataSource("outage-stopped", "bellows.usage.flushInterval", "100ms");
        UsageRecorder r = UsageDb.recorder(ds);
        Load load = new Load(ds, 2);
        try {
            sleep(500);
            fixture.stop();
            try {
                sleep(300);
                long pending = r.pendingUses();
                sleep(700);
                assertTrue(!r.flush(), "the flusher must not be able to write now");
                assertTrue(load.failed.get() > 0, "the application saw the outage too");
                assertTrue(r.pendingUses() >= pending);
            } finally {
                fixture.start();
            }
            sleep(500);
        } finally {
            load.stop();
        }
        flushUntilWritten(r);
        assertTrue(load.executed.get() > 50, "load ran: " + load.executed.get());
        assertEquals(load.executed.get(), recorded(db), "every executed statement is counted once");
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_seq > 1 FROM bellows.instances")) {
            assertTrue(rs.next() && rs.getBoolean(1));
        }
        db.close();
    }
}
