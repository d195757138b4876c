package dev.bellows.testapp;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsRuntime;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/** A HikariCP pool on a Bellows URL and the worker threads that load it: what a test application is made of. */
final class LoadPool implements AutoCloseable {
    private final HikariDataSource pool;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    LoadPool(String bellowsUrl, String user, String password, String appName, int workers) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(appName);
        config.setDriverClassName("dev.bellows.jdbc.BellowsDriver");
        config.setJdbcUrl(bellowsUrl);
        if (user != null) config.setUsername(user);
        if (password != null) config.setPassword(password);
        config.addDataSourceProperty("bellows.appName", appName);
        config.setMaximumPoolSize(workers);
        config.setConnectionTimeout(10_000);
        this.pool = new HikariDataSource(config);
    }

    /** Starts {@code workers} daemon threads running {@code work(base)}, each with its own id range from {@code idBase}. */
    void start(String appName, int workers, long idBase, LongConsumer work) {
        for (int w = 0; w < workers; w++) {
            long base = idBase + w * 1_000_000L;
            Thread t = new Thread(() -> work.accept(base), appName + "-" + w);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    Connection connection() throws SQLException {
        return pool.getConnection();
    }

    boolean stopping() {
        return stop.get();
    }

    /** A short pause between a worker's rounds; false once interrupted. */
    static boolean pause() {
        try {
            Thread.sleep(3);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    void stopLoad() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) t.join(10_000);
    }

    /** The Bellows runtime behind the pool's connections. */
    BellowsRuntime runtime() throws SQLException {
        try (Connection c = pool.getConnection()) {
            return c.unwrap(BellowsConnection.class).runtime();
        }
    }

    /** Stops the load, closes the pool and the runtime (its usage recorder flushes and marks the instance stopped). */
    @Override public void close() throws Exception {
        stopLoad();
        BellowsRuntime rt = runtime();
        pool.close();
        rt.close();
    }
}
