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
 * A HikariCP application on {@code people} through Bellows while {@code name} is split into {@code first_name} and
 * {@code last_name}. The legacy version inserts, updates and reads {@code name}; the new version inserts both new
 * columns, updates {@code last_name} alone (so the old column must be recomputed from the row's first name) and reads
 * both. Every read must give what the last write meant, whichever version wrote it; every exception is an error.
 */
public final class SplitApp implements AutoCloseable {
    /** Which code runs. */
    public enum Version { LEGACY, NEW }

    /** What the applications of one test share: each row's full name as legacy code sees it ({@code "\0null"}: NULL). */
    public static final class World {
        public final Map<Long, String> names = new ConcurrentHashMap<>();
        public final AtomicLong ops = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong wrong = new AtomicLong();
        public final Queue<String> problems = new ConcurrentLinkedQueue<>();

        void problem(String p) {
            if (problems.size() < 20) problems.add(p);
        }
    }

    private static final String[] NAMES = {"Ada", "Ada Lovelace", "Jean Paul Sartre", " Leading", "Trailing ", "Two  Spaces", "Émilie du Châtelet"};

    private final LoadPool pool;
    private final Version version;
    private final World world;

    private SplitApp(LoadPool pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
    }

    public static SplitApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                 World world, int workers, long idBase) {
        SplitApp app = new SplitApp(new LoadPool(bellowsUrl, user, password, appName, workers), version, world);
        app.pool.start(appName, workers, idBase, app::work);
        return app;
    }

    /** The split as up computes it: first word, and the rest after the first space (NULL without one). */
    public static String[] split(String name) {
        if (name == null) return new String[] {null, null};
        int sp = name.indexOf(' ');
        return sp < 0 ? new String[] {name, null} : new String[] {name.substring(0, sp), name.substring(sp + 1)};
    }

    /** The whole as down computes it. */
    public static String join(String first, String last) {
        if (last == null) return first;
        return first == null ? null : first + " " + last;
    }

    private void work(long base) {
        long n = 0;
        while (!pool.stopping()) {
            long id = base + n++;
            try (Connection c = pool.connection()) {
                String name = id % 7 == 0 ? null : NAMES[(int) (id % NAMES.length)] + (id % 5 == 0 ? "" : " " + id);
                if (version == Version.LEGACY) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO people (id, name, age) VALUES (?, ?, ?)")) {
                        ps.setLong(1, id);
                        if (name == null) ps.setNull(2, Types.VARCHAR);
                        else ps.setString(2, name);
                        ps.setInt(3, (int) (id % 90));
                        ps.executeUpdate();
                    }
                } else {
                    String[] p = split(name);
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO people (id, first_name, last_name, age) VALUES (?, ?, ?, ?)")) {
                        ps.setLong(1, id);
                        ps.setString(2, p[0]);
                        ps.setString(3, p[1]);
                        ps.setInt(4, (int) (id % 90));
                        ps.executeUpdate();
                    }
                }
                world.ops.incrementAndGet();
                world.names.put(id, name == null ? "\0null" : name);
                check(c, id);
                if (id % 3 == 0 && name != null) {
                    String next;
                    if (version == Version.LEGACY) {
                        next = "Renamed " + id + " Again";
                        try (PreparedStatement ps = c.prepareStatement("UPDATE people SET name = ? WHERE id = ?")) {
                            ps.setString(1, next);
                            ps.setLong(2, id);
                            if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
                        }
                    } else {
                        // an UPDATE of one new column: the old one must be rebuilt from it and the row's first name
                        String last = "Married" + id;
                        next = join(split(name)[0], last);
                        try (PreparedStatement ps = c.prepareStatement("UPDATE people SET last_name = ? WHERE id = ?")) {
                            ps.setString(1, last);
                            ps.setLong(2, id);
                            if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
                        }
                    }
                    world.ops.incrementAndGet();
                    world.names.put(id, next);
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
        String written = world.names.get(id);
        String expected = written.equals("\0null") ? null : written;
        String sql = version == Version.LEGACY ? "SELECT name FROM people WHERE id = ?" : "SELECT first_name, last_name FROM people WHERE id = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    wrong("read " + id + ": no row");
                    return;
                }
                if (version == Version.LEGACY) {
                    String got = rs.getString(1);
                    if (!Objects.equals(expected, got)) wrong("legacy read " + id + ": meant '" + expected + "', read '" + got + "'");
                } else {
                    String[] want = split(expected);
                    String f = rs.getString(1);
                    String l = rs.getString(2);
                    if (!Objects.equals(want[0], f) || !Objects.equals(want[1], l)) {
                        wrong("new read " + id + ": meant '" + want[0] + "' / '" + want[1] + "', read '" + f + "' / '" + l + "'");
                    }
                }
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
