package dev.bellows.testapp;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A HikariCP application on {@code tickets} through Bellows while {@code legacy_code} is removed. The legacy version
 * writes and reads {@code legacy_code} (and reads {@code SELECT *} by position); the new version never names it.
 * Each worker inserts a row, reads it, updates it, reads it again, then checks a settled row. Every exception is an
 * error; a title or body that differs from what was written, a legacy_code that is neither the value written nor
 * the removed value, or a {@code SELECT *} whose shape is not the legacy one is a wrong answer.
 */
public final class TicketsApp implements AutoCloseable {
    /** Which code runs. */
    public enum Version { LEGACY, NEW }

    /** The legacy shape of {@code SELECT * FROM tickets}. */
    public static final List<String> LEGACY_STAR = List.of("id", "title", "legacy_code", "body");

    /** What the applications of one test share. */
    public static final class World {
        public final Map<Long, String> titles = new ConcurrentHashMap<>();
        public final Map<Long, String> codes = new ConcurrentHashMap<>();
        final List<Long> settled = new CopyOnWriteArrayList<>();
        public final AtomicLong ops = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong wrong = new AtomicLong();
        /** Legacy reads of legacy_code that gave the removed value. */
        public final AtomicLong removedReads = new AtomicLong();
        public final Queue<String> problems = new ConcurrentLinkedQueue<>();
        final String removedValue;

        public World(String removedValue) {
            this.removedValue = removedValue;
        }

        public void seed(long id, String title, String code) {
            titles.put(id, title);
            codes.put(id, code);
            settled.add(id);
        }

        void problem(String p) {
            if (problems.size() < 20) problems.add(p);
        }
    }

    private final LoadPool pool;
    private final Version version;
    private final World world;

    private TicketsApp(LoadPool pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
    }

    public static TicketsApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                   World world, int workers, long idBase) {
        TicketsApp app = new TicketsApp(new LoadPool(bellowsUrl, user, password, appName, workers), version, world);
        app.pool.start(appName, workers, idBase, app::work);
        return app;
    }

    private void work(long base) {
        long n = 0;
        while (!pool.stopping()) {
            long id = base + n++;
            String title = version.name().toLowerCase() + "-" + id;
            String code = "c" + id;
            try {
                try (Connection c = pool.connection()) {
                    PreparedStatement ps = c.prepareStatement(version == Version.LEGACY
                        ? "INSERT INTO tickets (id, title, legacy_code) VALUES (?, ?, ?)"
                        : "INSERT INTO tickets (id, title, body) VALUES (?, ?, ?)");
                    ps.setLong(1, id);
                    ps.setString(2, title);
                    ps.setString(3, version == Version.LEGACY ? code : "body");
                    ps.executeUpdate();
                    ps.close();
                    world.ops.incrementAndGet();
                }
                world.titles.put(id, title);
                if (version == Version.LEGACY) world.codes.put(id, code);
                check(id, "after insert");
                String changed = "changed-" + title;
                try (Connection c = pool.connection()) {
                    PreparedStatement ps = c.prepareStatement(version == Version.LEGACY
                        ? "UPDATE tickets SET title = ?, legacy_code = ? WHERE id = ?" : "UPDATE tickets SET title = ? WHERE id = ?");
                    ps.setString(1, changed);
                    if (version == Version.LEGACY) ps.setString(2, "u" + code);
                    ps.setLong(version == Version.LEGACY ? 3 : 2, id);
                    if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
                    ps.close();
                    world.ops.incrementAndGet();
                }
                world.titles.put(id, changed);
                if (version == Version.LEGACY) world.codes.put(id, "u" + code);
                check(id, "after update");
                world.settled.add(id);
                long other = world.settled.get(ThreadLocalRandom.current().nextInt(world.settled.size()));
                check(other, "settled row");
            } catch (SQLException | RuntimeException e) {
                world.errors.incrementAndGet();
                world.problem(version + " row " + id + ": " + e);
            }
            if (!LoadPool.pause()) return;
        }
    }

    private void check(long id, String what) throws SQLException {
        String title = world.titles.get(id);
        try (Connection c = pool.connection()) {
            if (version == Version.NEW) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, title, body FROM tickets WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        String got = rs.next() ? rs.getString("title") : "(no row)";
                        if (!title.equals(got)) wrong("new read " + id + " " + what + ": expected " + title + ", got " + got);
                    }
                }
                world.ops.incrementAndGet();
                return;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT title, legacy_code FROM tickets WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        wrong("legacy read " + id + " " + what + ": no row");
                    } else {
                        if (!title.equals(rs.getString(1))) wrong("legacy read " + id + " " + what + ": title " + rs.getString(1));
                        codeRead(id, rs.getString(2), what);
                    }
                }
            }
            world.ops.incrementAndGet();
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM tickets WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    StringBuilder shape = new StringBuilder();
                    for (int i = 1; i <= md.getColumnCount(); i++) shape.append(i > 1 ? "," : "").append(md.getColumnLabel(i));
                    if (!String.join(",", LEGACY_STAR).equals(shape.toString())) wrong("legacy SELECT * shape " + shape);
                    else if (!rs.next()) wrong("legacy SELECT * " + id + ": no row");
                    else {
                        if (!title.equals(rs.getString(2))) wrong("legacy SELECT * " + id + " " + what + ": title " + rs.getString(2));
                        codeRead(id, rs.getString(3), what);
                    }
                }
            }
            world.ops.incrementAndGet();
        }
    }

    /** Before the switch the value written; from the switch on the removed value (a phase change may fall in between). */
    private void codeRead(long id, String got, String what) {
        String written = world.codes.get(id);
        if (world.removedValue.equals(got)) world.removedReads.incrementAndGet();
        else if (!java.util.Objects.equals(written, got)) wrong("legacy read of legacy_code " + id + " " + what + ": " + got);
    }

    private void wrong(String p) {
        world.wrong.incrementAndGet();
        world.problem(p);
    }

    public void stopLoad() throws InterruptedException {
        pool.stopLoad();
    }

    /** Stops the load, flushes the usage recorded, marks the instance stopped and closes the pool. */
    @Override public void close() throws Exception {
        pool.close();
    }
}
