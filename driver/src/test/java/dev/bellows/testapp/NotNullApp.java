package dev.bellows.testapp;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A HikariCP application on {@code notes} through Bellows while {@code body} is made NOT NULL. The legacy version
 * writes NULL into it (bound with {@code setNull} on every other row, and as a literal in an UPDATE); the new version
 * leaves it out of its INSERTs. A read of a row written with NULL may give NULL or the default, any other read must
 * give what was written; every exception is an error.
 */
public final class NotNullApp implements AutoCloseable {
    /** Which code runs. */
    public enum Version { LEGACY, NEW }

    /** What the applications of one test share; a null value in {@code bodies} is written as NULL. */
    public static final class World {
        public final Map<Long, String> bodies = new ConcurrentHashMap<>();
        public final AtomicLong ops = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong wrong = new AtomicLong();
        public final AtomicLong nullWrites = new AtomicLong();
        public final Queue<String> problems = new ConcurrentLinkedQueue<>();
        final String fill;

        public World(String fill) {
            this.fill = fill;
        }

        void problem(String p) {
            if (problems.size() < 20) problems.add(p);
        }
    }

    private final LoadPool pool;
    private final Version version;
    private final World world;

    private NotNullApp(LoadPool pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
    }

    public static NotNullApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                   World world, int workers, long idBase) {
        NotNullApp app = new NotNullApp(new LoadPool(bellowsUrl, user, password, appName, workers), version, world);
        app.pool.start(appName, workers, idBase, app::work);
        return app;
    }

    private void work(long base) {
        long n = 0;
        while (!pool.stopping()) {
            long id = base + n++;
            try (Connection c = pool.connection()) {
                String body = version == Version.NEW || id % 2 == 0 ? null : "b" + id;
                if (version == Version.LEGACY) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (id, title, body) VALUES (?, ?, ?)")) {
                        ps.setLong(1, id);
                        ps.setString(2, "t" + id);
                        if (body == null) ps.setNull(3, Types.VARCHAR);
                        else ps.setString(3, body);
                        ps.executeUpdate();
                    }
                    if (body == null) world.nullWrites.incrementAndGet();
                } else {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (id, title) VALUES (?, ?)")) {
                        ps.setLong(1, id);
                        ps.setString(2, "t" + id);
                        ps.executeUpdate();
                    }
                }
                world.ops.incrementAndGet();
                world.bodies.put(id, body == null ? "\0null" : body);
                check(c, id);
                if (version == Version.LEGACY && id % 3 == 0) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE notes SET body = NULL, title = ? WHERE id = ?")) {
                        ps.setString(1, "u" + id);
                        ps.setLong(2, id);
                        if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
                    }
                    world.nullWrites.incrementAndGet();
                    world.ops.incrementAndGet();
                    world.bodies.put(id, "\0null");
                    check(c, id);
                }
            } catch (SQLException | RuntimeException e) {
                world.errors.incrementAndGet();
                world.problem(version + " row " + id + ": " + e);
            }
            if (!LoadPool.pause()) return;
        }
    }

    private void check(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT body FROM notes WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    wrong("read " + id + ": no row");
                    return;
                }
                String got = rs.getString(1);
                String written = world.bodies.get(id);
                boolean ok = written.equals("\0null") ? got == null || got.equals(world.fill) : Objects.equals(written, got);
                if (!ok) wrong(version + " read " + id + ": wrote " + written + ", read " + got);
            }
        }
        world.ops.incrementAndGet();
    }

    private void wrong(String p) {
        world.wrong.incrementAndGet();
        world.problem(p);
    }

    public void stopLoad() throws InterruptedException {
        pool.stopLoad();
    }

    @Override public void close() throws Exception {
        pool.close();
    }
}
