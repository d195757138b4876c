package dev.bellows.testapp;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsRuntime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
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

    private final HikariDataSource pool;
    private final Version version;
    private final World world;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    private NotNullApp(HikariDataSource pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
    }

    public static NotNullApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                   World world, int workers, long idBase) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(appName);
        config.setDriverClassName("dev.bellows.jdbc.BellowsDriver");
        config.setJdbcUrl(bellowsUrl);
        if (user != null) config.setUsername(user);
        if (password != null) config.setPassword(password);
        config.addDataSourceProperty("bellows.appName", appName);
        config.setMaximumPoolSize(workers);
        config.setConnectionTimeout(10_000);
        NotNullApp app = new NotNullApp(new HikariDataSource(config), version, world);
        for (int w = 0; w < workers; w++) {
            long base = idBase + w * 1_000_000L;
            Thread t = new Thread(() -> app.work(base), appName + "-" + w);
            t.setDaemon(true);
            app.threads.add(t);
            t.start();
        }
        return app;
    }

    private void work(long base) {
        long n = 0;
        while (!stop.get()) {
            long id = base + n++;
            try (Connection c = pool.getConnection()) {
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
            try {
                Thread.sleep(3);
            } catch (InterruptedException e) {
                return;
            }
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
        stop.set(true);
        for (Thread t : threads) t.join(10_000);
    }

    @Override public void close() throws Exception {
        stopLoad();
        BellowsRuntime rt;
        try (Connection c = pool.getConnection()) {
            rt = c.unwrap(BellowsConnection.class).runtime();
        }
        pool.close();
        rt.close();
    }
}
