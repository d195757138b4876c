package dev.bellows.flags;

import dev.bellows.jdbc.BellowsDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Legacy code ({@code user_email}) or new code ({@code contact_email}) writing and reading {@code leads} through one
 * Bellows instance, on its own threads and rows. Every answer is checked: a write must change one row, a read of
 * the row it owns must return what it last wrote, a lookup by that value must find exactly that row. Values are
 * never reused, so the load itself never collides on a unique index.
 */
final class RollbackLoad implements AutoCloseable {
    final String label;
    final BellowsDataSource ds;
    private final String column;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    final AtomicLong statements = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong wrong = new AtomicLong();
    final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    /** name → the value last written (the truth every reader must see). */
    final Map<String, String> expected;

    RollbackLoad(String label, BellowsDataSource ds, boolean legacy, int threadCount, Map<String, String> expected) {
        this.label = label;
        this.ds = ds;
        this.column = legacy ? "user_email" : "contact_email";
        this.expected = expected;
        for (int t = 0; t < threadCount; t++) {
            int n = t;
            Thread th = new Thread(() -> run(n), "load-" + label + "-" + n);
            th.setDaemon(true);
            threads.add(th);
        }
    }

    RollbackLoad start() {
        for (Thread t : threads) t.start();
        return this;
    }

    private void run(int n) {
        List<String> mine = new ArrayList<>();
        long seq = 0;
        Connection c = null;
        while (running) {
            try {
                if (c == null) c = ds.getConnection();
                seq++;
                String value = label + "-" + n + "-" + seq + "@example.com";
                if (mine.size() < 3 || ThreadLocalRandom.current().nextInt(3) == 0) {
                    String name = label + "-" + n + "-row" + seq;
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (name, " + column + ") VALUES (?, ?)")) {
                        ps.setString(1, name);
                        ps.setString(2, value);
                        check(ps.executeUpdate() == 1, "insert of " + name);
                    }
                    expected.put(name, value);
                    mine.add(name);
                    read(c, name, value);
                } else {
                    String name = mine.get(ThreadLocalRandom.current().nextInt(mine.size()));
                    try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET " + column + " = ? WHERE name = ?")) {
                        ps.setString(1, value);
                        ps.setString(2, name);
                        check(ps.executeUpdate() == 1, "update of " + name);
                    }
                    expected.put(name, value);
                    read(c, name, value);
                }
            } catch (SQLException e) {
                errors.incrementAndGet();
                if (problems.size() < 20) problems.add(label + ": " + e.getSQLState() + " " + e.getMessage().split("\n")[0]);
                try {
                    if (c != null) c.close();
                } catch (SQLException ignored) {
                    // a new connection follows
                }
                c = null;
            }
        }
        try {
            if (c != null) c.close();
        } catch (SQLException ignored) {
            // done
        }
    }

    private void read(Connection c, String name, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM leads WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next() && value.equals(rs.getString(1)), "read of " + name);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM leads WHERE " + column + " = ?")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next() && name.equals(rs.getString(1)) && !rs.next(), "lookup of " + name + " by " + column);
            }
        }
    }

    private void check(boolean ok, String what) {
        statements.incrementAndGet();
        if (!ok) {
            wrong.incrementAndGet();
            if (problems.size() < 20) problems.add(label + ": wrong answer: " + what);
        }
    }

    /** Stops the threads and waits for them. */
    @Override public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) t.join(10_000);
    }

    String summary() {
        return label + ": " + statements.get() + " checked statements, " + errors.get() + " errors, " + wrong.get()
            + " wrong answers" + (problems.isEmpty() ? "" : " " + problems);
    }

    static Map<String, String> truth() {
        return new ConcurrentHashMap<>();
    }
}
