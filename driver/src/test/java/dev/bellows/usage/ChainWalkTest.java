package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain {@code user_email -> contact_email -> email} and a second migration on the same table ({@code name ->
 * full_name}) walked through their phases on the real server under concurrent load: code written for each link
 * (the oldest, the middle column, the newest) runs side by side through Bellows, every read checked against the
 * writer's own model, zero errors and zero divergent rows at the end; usage is recorded per migration.
 */
class ChainWalkTest {
    @TempDir Path dir;

    /** Writes and reads its own rows through one column name of the chain. */
    static final class Writer implements Runnable {
        final String owner;
        final String column;
        final Connection c;
        final Map<Integer, String[]> model = new ConcurrentHashMap<>(); // id -> {email value, name value}
        final AtomicLong ops = new AtomicLong();
        final List<Throwable> errors;
        volatile boolean stop;

        Writer(String owner, String column, Connection c, List<Throwable> errors) {
            this.owner = owner;
            this.column = column;
            this.c = c;
            this.errors = errors;
        }

        @Override public void run() {
            while (!stop) {
                try {
                    step();
                    ops.incrementAndGet();
                } catch (Throwable t) {
                    errors.add(new AssertionError(owner + ": " + t, t));
                    return;
                }
            }
        }

        private void step() throws SQLException {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            String v = owner + "-" + r.nextInt(1_000_000) + "@example.com";
            String n = "n" + r.nextInt(1000);
            String nameCol = column.equals("user_email") ? "name" : "full_name";
            if (model.isEmpty() || r.nextInt(4) == 0) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (owner, " + column + ", " + nameCol
                    + ") VALUES (?, ?, ?) RETURNING id")) {
                    ps.setString(1, owner);
                    ps.setString(2, v);
                    ps.setString(3, n);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        model.put(rs.getInt(1), new String[] {v, n});
                    }
                }
                return;
            }
            Integer id = List.copyOf(model.keySet()).get(r.nextInt(model.size()));
            if (r.nextBoolean()) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET " + column + " = ?, " + nameCol + " = ? WHERE id = ?")) {
                    ps.setString(1, v);
                    ps.setString(2, n);
                    ps.setInt(3, id);
                    assertEquals(1, ps.executeUpdate());
                    model.put(id, new String[] {v, n});
                }
            } else {
                try (PreparedStatement ps = c.prepareStatement("SELECT " + column + ", " + nameCol + " FROM leads WHERE id = ? AND owner = ?")) {
                    ps.setInt(1, id);
                    ps.setString(2, owner);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(model.get(id)[0], rs.getString(1), owner + " reads " + column + " of " + id);
                        assertEquals(model.get(id)[1], rs.getString(2), owner + " reads " + nameCol + " of " + id);
                    }
                }
            }
        }
    }

    @Test
    void chainAndStackUnderLoad() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        String pgUrl = pg.createDatabase("chain");
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n"
            + "  - {id: m1, table: leads, from: user_email, to: contact_email, phase: off}\n"
            + "  - {id: m2, table: leads, from: contact_email, to: email, phase: off}\n"
            + "  - {id: m3, table: leads, from: name, to: full_name, phase: off}\n");
        try (Connection admin = pg.connect(pgUrl); Statement s = admin.createStatement()) {
            s.execute("CREATE TABLE leads (id serial PRIMARY KEY, owner text NOT NULL, name text, user_email text,"
                + " contact_email text, email text, full_name text)");
        }
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(pgUrl);
        if (pg.user() != null) ds.setUser(pg.user());
        if (pg.password() != null) ds.setPassword(pg.password());
        ds.setRules(rules.toString());
        ds.setAppName("chain");
        ds.setProperty("bellows.flags.poll", "off");
        ds.setProperty("bellows.rules.poll", "off");
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<Writer> writers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (Connection admin = pg.connect(pgUrl)) {
            start(new Writer("oldest", "user_email", ds.getConnection(), errors), writers, threads);
            progress(writers, errors);

            phase(ds, "m1", Phase.EXPAND);
            phase(ds, "m3", Phase.EXPAND);
            progress(writers, errors);
            exec(admin, "UPDATE leads SET contact_email = user_email, full_name = name");
            phase(ds, "m1", Phase.SWITCH);
            phase(ds, "m3", Phase.SWITCH);
            start(new Writer("middle", "contact_email", ds.getConnection(), errors), writers, threads);
            progress(writers, errors);

            // the second link starts while the first is in switch
            phase(ds, "m2", Phase.EXPAND);
            progress(writers, errors);
            exec(admin, "UPDATE leads SET email = contact_email");
            phase(ds, "m2", Phase.SWITCH);
            phase(ds, "m1", Phase.CONTRACT);
            phase(ds, "m3", Phase.CONTRACT);
            start(new Writer("newest", "email", ds.getConnection(), errors), writers, threads);
            progress(writers, errors);
            exec(admin, "ALTER TABLE leads DROP COLUMN user_email, DROP COLUMN name");
            ds.runtime().refreshCatalog();
            progress(writers, errors);
            phase(ds, "m2", Phase.CONTRACT);
            progress(writers, errors);
            for (Writer w : writers) w.stop = true;
            for (Thread t : threads) t.join();
            assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.get(0));

            int divergent = 0;
            for (Writer w : writers) {
                Map<Integer, List<String>> actual = new HashMap<>();
                try (PreparedStatement ps = admin.prepareStatement("SELECT id, email, full_name FROM leads WHERE owner = ?")) {
                    ps.setString(1, w.owner);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) actual.put(rs.getInt(1), List.of(rs.getString(2), rs.getString(3)));
                    }
                }
                Map<Integer, List<String>> expected = new HashMap<>();
                w.model.forEach((k, v) -> expected.put(k, List.of(v)));
                if (!actual.equals(expected)) divergent++;
                w.c.close();
            }
            assertEquals(0, divergent, "divergent writers");

            // usage per migration: each link and the stacked migration has its own rewritten uses
            UsageDb.recorder(ds).flush();
            for (String id : List.of("m1", "m2", "m3")) {
                List<Fleet.Usage> uses = Fleet.usage(admin, id, null);
                assertTrue(uses.stream().anyMatch(u -> u.treatment().equals("rewritten")), id + " " + uses);
            }
            assertTrue(Fleet.usage(admin, "m2", null).stream().anyMatch(u -> u.fingerprint().contains("user_email")),
                "m2's uses include the oldest code's statements, named as the application wrote them");
        } finally {
            for (Writer w : writers) w.stop = true;
            for (Thread t : threads) t.join();
            ds.runtime().close();
        }
    }

    private static void phase(BellowsDataSource ds, String id, Phase p) throws SQLException {
        ds.runtime().setPhase(id, p);
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void start(Writer w, List<Writer> writers, List<Thread> threads) {
        writers.add(w);
        Thread t = new Thread(w, w.owner);
        threads.add(t);
        t.start();
    }

    /** Waits until every writer has done at least 15 more operations (or one failed). */
    private static void progress(List<Writer> writers, List<Throwable> errors) throws InterruptedException {
        Map<Writer, Long> at = new HashMap<>();
        for (Writer w : writers) at.put(w, w.ops.get());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (errors.isEmpty() && !writers.stream().allMatch(w -> w.ops.get() >= at.get(w) + 15)) {
            if (System.nanoTime() > deadline) throw new AssertionError("no progress in 60 s");
            Thread.sleep(5);
        }
        assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.get(0));
    }
}
