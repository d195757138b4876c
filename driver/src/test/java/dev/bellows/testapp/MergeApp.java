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
 * A HikariCP application on {@code members} through Bellows while {@code given_name} and {@code family_name} are merged
 * into one jsonb {@code full_name}. The legacy version inserts both old columns, updates {@code given_name} alone (so
 * the new column must be recomputed with the row's family name) and reads both; the new version inserts and updates
 * {@code full_name} and reads it. Every read must give what the last write meant; every exception is an error.
 */
public final class MergeApp implements AutoCloseable {
    /** Which code runs. */
    public enum Version { LEGACY, NEW }

    /** What the applications of one test share: each row's given and family name (either may be null). */
    public static final class World {
        public final Map<Long, String[]> names = new ConcurrentHashMap<>();
        public final AtomicLong ops = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong wrong = new AtomicLong();
        public final Queue<String> problems = new ConcurrentLinkedQueue<>();

        void problem(String p) {
            if (problems.size() < 20) problems.add(p);
        }
    }

    private static final String[] GIVEN = {"Ada", "Grace", "Jean Paul", "", "Émilie"};
    private static final String[] FAMILY = {"Lovelace", "Hopper", "Sartre", "du Châtelet", ""};

    private final LoadPool pool;
    private final Version version;
    private final World world;

    private MergeApp(LoadPool pool, Version version, World world) {
        this.pool = pool;
        this.version = version;
        this.world = world;
    }

    public static MergeApp start(String bellowsUrl, String user, String password, String appName, Version version,
                                 World world, int workers, long idBase) {
        MergeApp app = new MergeApp(new LoadPool(bellowsUrl, user, password, appName, workers), version, world);
        app.pool.start(appName, workers, idBase, app::work);
        return app;
    }

    /** full_name as up computes it, as JSON text the way PostgreSQL prints jsonb. */
    public static String json(String given, String family) {
        return "[" + quote(given) + ", " + quote(family) + "]";
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private void work(long base) {
        long n = 0;
        while (!pool.stopping()) {
            long id = base + n++;
            try (Connection c = pool.connection()) {
                String given = id % 11 == 0 ? null : GIVEN[(int) (id % GIVEN.length)] + (id % 3 == 0 ? "" : id);
                String family = id % 13 == 0 ? null : FAMILY[(int) (id % FAMILY.length)];
                if (version == Version.LEGACY) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO members (id, given_name, family_name, email) VALUES (?, ?, ?, ?)")) {
                        ps.setLong(1, id);
                        ps.setString(2, given);
                        ps.setString(3, family);
                        ps.setString(4, "m" + id + "@x.org");
                        ps.executeUpdate();
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO members (id, full_name, email) VALUES (?, ?::jsonb, ?)")) {
                        ps.setLong(1, id);
                        ps.setString(2, json(given, family));
                        ps.setString(3, "m" + id + "@x.org");
                        ps.executeUpdate();
                    }
                }
                world.ops.incrementAndGet();
                world.names.put(id, new String[] {given, family});
                check(c, id);
                if (id % 3 == 0) {
                    String nextGiven = "Re" + id;
                    String sql = version == Version.LEGACY ? "UPDATE members SET given_name = ? WHERE id = ?"
                        : "UPDATE members SET full_name = jsonb_set(full_name, '{0}', to_jsonb(?::text)) WHERE id = ?";
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setString(1, nextGiven);
                        ps.setLong(2, id);
                        if (ps.executeUpdate() != 1) wrong("update of " + id + " matched no row");
                    }
                    world.ops.incrementAndGet();
                    world.names.put(id, new String[] {nextGiven, family});
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
        String[] want = world.names.get(id);
        String sql = version == Version.LEGACY ? "SELECT given_name, family_name FROM members WHERE id = ?" : "SELECT full_name FROM members WHERE id = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    wrong("read " + id + ": no row");
                    return;
                }
                if (version == Version.LEGACY) {
                    String g = rs.getString(1);
                    String f = rs.getString(2);
                    if (!Objects.equals(want[0], g) || !Objects.equals(want[1], f)) {
                        wrong("legacy read " + id + ": meant '" + want[0] + "' / '" + want[1] + "', read '" + g + "' / '" + f + "'");
                    }
                } else {
                    String got = rs.getString(1);
                    if (!Objects.equals(json(want[0], want[1]), got)) wrong("new read " + id + ": meant " + json(want[0], want[1]) + ", read " + got);
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
