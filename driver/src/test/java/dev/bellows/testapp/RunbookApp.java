package dev.bellows.testapp;

import dev.bellows.jdbc.BellowsRuntime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HikariCP application on {@code leads}, in its legacy version (names {@code user_email}) or its new one
 * (names {@code contact_email}, reads with {@code SELECT *}), running through Bellows under load. Each worker
 * inserts a row, reads it back, changes it, reads it again and looks it up by e-mail; then hands it over as
 * settled (never written again) so workers of the other version check it too. Every exception is an error,
 * every value that differs from what was written is a wrong answer.
 */
public final class RunbookApp implements AutoCloseable {
    /** Which code runs. */
    public enum Version { LEGACY, NEW }

    /** What every application of one test shares: the values written, and the rows no one writes again. */
    public static final class World {
        public final Map<Long, String> expected = new java.util.concurrent.ConcurrentHashMap<>();
        final List<Long> settled = new CopyOnWriteArrayList<>();
        public final AtomicLong ops = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong wrong = new AtomicLong();
        public final Queue<String> problems = new ConcurrentLinkedQueue<>();

        /** Seed rows: settled from the start. */
        public void seed(long id, String email) {
            expected.put(id, email);
            settled.add(id);
        }

        void problem(String p) {
            if (problems.size() < 20) problems.add(p);
        }
    }

    private final LoadPool pool;
    private final Version version;
    private final World world;
    private final String col;

    private RunbookApp(LoadPool pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
        this.col = version == Version.LEGACY ? "user_email" : "contact_email";
    }

    /** Starts {@code workers} threads of {@code version} on a pool of the Bellows URL; ids start at {@code idBase}. */
    public static RunbookApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                   World world, int workers, long idBase) {
        RunbookApp app = new RunbookApp(new LoadPool(bellowsUrl, user, password, appName, workers), version, world);
        app.pool.start(appName, workers, idBase, app::work);
        return app;
    }

    public BellowsRuntime runtime() throws SQLException {
        return pool.runtime();
    }

    private void work(long base) {
        long n = 0;
        while (!pool.stopping()) {
            long id = base + n++;
            String email = version.name().toLowerCase() + "-" + id + "@example.com";
            try {
                insert(id, email);
                world.expected.put(id, email);
                check(id, email, "after insert");
                String changed = "changed-" + email;
                update(id, changed);
                world.expected.put(id, changed);
                check(id, changed, "after update");
                world.settled.add(id);
                long other = world.settled.get(ThreadLocalRandom.current().nextInt(world.settled.size()));
                check(other, world.expected.get(other), "settled row");
            } catch (SQLException | RuntimeException e) {
                world.errors.incrementAndGet();
                world.problem(version + " row " + id + ": " + e);
            }
            if (!LoadPool.pause()) return;
        }
    }

    private void insert(long id, String email) throws SQLException {
        try (Connection c = pool.connection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO leads (id, name, " + col + ") VALUES (?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, "n" + id);
            ps.setString(3, email);
            ps.executeUpdate();
            world.ops.incrementAndGet();
        }
    }

    private void update(long id, String email) throws SQLException {
        try (Connection c = pool.connection();
             PreparedStatement ps = c.prepareStatement("UPDATE leads SET " + col + " = ? WHERE id = ?")) {
            ps.setString(1, email);
            ps.setLong(2, id);
            if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
            world.ops.incrementAndGet();
        }
    }

    /** Reads the row by id and looks it up by its e-mail. */
    private void check(long id, String email, String what) throws SQLException {
        try (Connection c = pool.connection()) {
            String read;
            String sql = version == Version.LEGACY ? "SELECT user_email FROM leads WHERE id = ?" : "SELECT * FROM leads WHERE id = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    read = rs.next() ? rs.getString(col) : "(no row)";
                }
            }
            world.ops.incrementAndGet();
            if (!email.equals(read)) wrong(version + " read " + id + " " + what + ": expected " + email + ", got " + read);
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM leads WHERE " + col + " = ?")) {
                ps.setString(1, email);
                try (ResultSet rs = ps.executeQuery()) {
                    long found = rs.next() ? rs.getLong(1) : -1;
                    if (found != id) wrong(version + " lookup of " + email + " " + what + ": expected id " + id + ", got " + found);
                }
            }
            world.ops.incrementAndGet();
        }
    }

    private void wrong(String p) {
        world.wrong.incrementAndGet();
        world.problem(p);
    }

    /** Stops the workers; the pool stays open. */
    public void stopLoad() throws InterruptedException {
        pool.stopLoad();
    }

    /** Stops the load, flushes the usage recorded and marks the instance stopped (an orderly shutdown), closes the pool. */
    @Override public void close() throws Exception {
        pool.close();
    }
}
