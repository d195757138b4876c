package dev.bellows.sample;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The running instances of a scenario demo: each a HikariCP pool on {@code BellowsDataSource} (its own Bellows runtime,
 * named by its {@code appName} in usage reports), started, tracked on the timeline and stopped as a deploy would.
 */
final class Fleet implements AutoCloseable {
    private final Timeline timeline;
    private final Settings settings;
    private final Database db;
    private final Path rulesFile;
    private final UsageTap tap;
    /** What runs now (the phases on the timeline and the flag checks follow these). */
    final List<Instance> running = new CopyOnWriteArrayList<>();
    /** Every instance ever started, for the totals. */
    final List<Instance> everyone = new ArrayList<>();
    private Steps steps;

    Fleet(Timeline timeline, Settings settings, Database db, Path rulesFile, UsageTap tap) {
        this.timeline = timeline;
        this.settings = settings;
        this.db = db;
        this.rulesFile = rulesFile;
        this.tap = tap;
    }

    void steps(Steps steps) { this.steps = steps; }

    /** An instance of a leads-service version with the settings' thread count. */
    Instance service(String name, String appName, int threads, Function<DataSource, LeadService> version, Expectations expected)
        throws SQLException {
        return joined(Instance.start(name, pool(name, appName, threads), version, threads, expected, settings));
    }

    /** An instance running a job of its own (one worker). */
    Instance job(String name, String appName, Function<DataSource, Instance.Job> job) throws SQLException {
        return joined(Instance.startJob(name, pool(name, appName, 1), job, 1, settings));
    }

    private HikariDataSource pool(String name, String appName, int threads) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDataSourceClassName("dev.bellows.jdbc.BellowsDataSource");
        config.addDataSourceProperty("url", db.bellowsUrl());
        config.addDataSourceProperty("user", db.user());
        config.addDataSourceProperty("password", db.password());
        config.addDataSourceProperty("rules", rulesFile.toString());
        config.addDataSourceProperty("appName", appName);
        config.setMaximumPoolSize(threads + 1);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(10_000);
        return new HikariDataSource(config);
    }

    private Instance joined(Instance i) {
        BellowsRuntime rt = i.runtime();
        rt.setUsageSink(tap);
        if (steps != null) steps.applyFallbackPhases(i);
        running.add(i);
        everyone.add(i);
        timeline.track(i);
        timeline.say(i.name() + " started (" + i.version() + " code, " + rt.appName() + ")");
        return i;
    }

    /** Stops an instance as a deploy replaces it: load stopped, pool closed, usage flushed and the instance marked stopped. */
    void stop(Instance i) {
        timeline.untrack(i);
        running.remove(i);
        i.close();
        i.runtime().close();
        timeline.say(i.name() + " stopped");
    }

    /** After DDL run outside the driver: each running instance re-reads the managed tables (BellowsRuntime.refreshCatalog()). */
    void refreshCatalogs() throws SQLException {
        for (Instance i : running) i.runtime().refreshCatalog();
    }

    long statements() { return everyone.stream().mapToLong(i -> i.stats().statements()).sum(); }

    long errors() { return everyone.stream().mapToLong(i -> i.stats().errors()).sum(); }

    long wrongAnswers() { return everyone.stream().mapToLong(i -> i.stats().wrongAnswers()).sum(); }

    Map<String, Long> messages() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Instance i : everyone) i.stats().messages().forEach((k, v) -> out.merge(i.name() + ": " + k, v, Long::sum));
        return out;
    }

    /** Stops every instance (idempotent), so a failure never leaves load running against a database going away. */
    @Override public void close() {
        timeline.live(false);
        for (Instance i : everyone) i.close();
    }
}
