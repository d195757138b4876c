package dev.bellows.sample;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsRuntime;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * One running instance of a service version: its HikariCP pool, the service on top of it, and worker threads
 * that use the service like its users would (create leads, read them back, change e-mails, place and advance
 * orders). Every failure is counted, and every read of a row the worker wrote itself is checked.
 */
public final class Instance implements AutoCloseable {
    private final String name;
    private final HikariDataSource pool;
    private final LeadService service;
    private final Job job;
    private final Stats stats = new Stats();
    private final List<Thread> workers = new ArrayList<>();
    private final Expectations expected;
    private final Settings settings;
    private volatile boolean running = true;
    private BellowsRuntime runtime;

    private Instance(String name, HikariDataSource pool, LeadService service, Job job, Expectations expected, Settings settings) {
        this.name = name;
        this.pool = pool;
        this.service = service;
        this.job = job;
        this.expected = expected;
        this.settings = settings;
    }

    /**
     * A pool on {@code jdbcUrl} (plain {@code jdbc:postgresql:} or {@code jdbc:bellows:postgresql:}) with
     * {@code threads} workers using the service {@code version} builds on it.
     */
    static Instance start(String name, String jdbcUrl, String user, String password, Function<DataSource, LeadService> version,
                          int threads, Expectations expected, Settings settings) throws SQLException {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(jdbcUrl);
        // Named explicitly so the pool finds the driver whatever class loader runs the demo (mvn exec:java).
        config.setDriverClassName(jdbcUrl.startsWith("jdbc:bellows:") ? "dev.bellows.jdbc.BellowsDriver" : "org.postgresql.Driver");
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(threads + 1);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(10_000);
        config.addDataSourceProperty("ApplicationName", name);
        return start(name, new HikariDataSource(config), version, threads, expected, settings);
    }

    /** Like {@link #start(String, String, String, String, Function, int, Expectations, Settings)} on a pool already configured. */
    static Instance start(String name, HikariDataSource pool, Function<DataSource, LeadService> version,
                          int threads, Expectations expected, Settings settings) throws SQLException {
        return begin(new Instance(name, pool, version.apply(pool), null, expected, settings), threads);
    }

    /** An instance running {@code job} instead of the leads service's mix (the weekly job of the column-removal scenario). */
    static Instance startJob(String name, HikariDataSource pool, Function<DataSource, Job> job, int threads, Settings settings)
        throws SQLException {
        return begin(new Instance(name, pool, null, job.apply(pool), null, settings), threads);
    }

    private static Instance begin(Instance instance, int threads) throws SQLException {
        HikariDataSource pool = instance.pool;
        String name = instance.name;
        try (Connection c = pool.getConnection()) {
            // Fails fast on a bad configuration, and loads Bellows' rules and catalog before the load starts.
            if (c.isWrapperFor(BellowsConnection.class)) instance.runtime = c.unwrap(BellowsConnection.class).runtime();
        }
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(instance.new Worker(i), name + "-worker-" + i);
            t.setDaemon(true);
            instance.workers.add(t);
            t.start();
        }
        return instance;
    }

    public String name() { return name; }

    /** The leads service this instance runs, or null when it runs a {@link Job}. */
    public LeadService service() { return service; }

    /** "legacy" or "new": the version of the code this instance runs. */
    public String version() { return service != null ? service.version() : job.version(); }

    public Stats stats() { return stats; }

    public DataSource dataSource() { return pool; }

    /** This instance's Bellows runtime (phases, catalog), or null when it runs on plain pgjdbc. */
    public BellowsRuntime runtime() {
        return runtime;
    }

    /** Stops the workers (each finishes its current statement) and keeps the pool. */
    public void stopLoad() {
        running = false;
        for (Thread t : workers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops the workers and closes the pool: the instance is shut down, as a deploy would. */
    @Override public void close() {
        stopLoad();
        pool.close();
    }

    /** A workload of its own, run by each worker thread in a loop; it counts its wrong answers in {@code stats}. */
    interface Job {
        String version();

        void step(SplittableRandom random, Stats stats) throws SQLException;
    }

    /** One user of the service, looping over a realistic mix of its operations. */
    private final class Worker implements Runnable {
        private final int id;
        private final SplittableRandom random;
        private final List<Long> ownLeads = new ArrayList<>();
        private final List<Long> ownOrders = new ArrayList<>();
        private int created;

        Worker(int id) {
            this.id = id;
            this.random = new SplittableRandom((long) name.hashCode() * 31 + id);
        }

        @Override public void run() {
            while (running) {
                try {
                    if (job != null) job.step(random, stats);
                    else step();
                } catch (SQLException | RuntimeException e) {
                    stats.error(e);
                }
                stats.statement();
                if (settings.pauseMicros() > 0) LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(settings.pauseMicros()));
            }
        }

        private void step() throws SQLException {
            int dice = random.nextInt(100);
            if (dice < 12 || ownLeads.isEmpty()) {
                String email = email();
                long leadId = service.createLead(service.version() + " user " + id, email);
                ownLeads.add(leadId);
                expected.leadEmails.put(leadId, email);
            } else if (dice < 40) {
                // Read one of our own leads, or one of the seeded ones (never changed after seeding).
                long leadId = random.nextBoolean() ? pick(ownLeads) : 1 + random.nextInt(settings.seedLeads());
                Lead lead = service.findLead(leadId);
                String want = expected.leadEmails.get(leadId);
                if (lead == null || !want.equals(lead.email())) {
                    stats.wrongAnswer("lead " + leadId + " has e-mail " + (lead == null ? "(no row)" : lead.email()));
                }
            } else if (dice < 50) {
                long leadId = pick(ownLeads);
                String want = expected.leadEmails.get(leadId);
                if (service.findByEmail(want).stream().noneMatch(l -> l.id() == leadId)) {
                    stats.wrongAnswer("lookup by e-mail misses lead " + leadId);
                }
            } else if (dice < 60) {
                long leadId = pick(ownLeads);
                String email = email();
                service.changeEmail(leadId, email);
                expected.leadEmails.put(leadId, email);
            } else if (dice < 72) {
                long leadId = pick(ownLeads);
                long orderId = service.placeOrder(leadId, BigDecimal.valueOf(100 + random.nextInt(90_000), 2));
                ownOrders.add(orderId);
                expected.orderStatuses.put(orderId, OrderStatus.PENDING);
            } else if (dice < 84 && !ownOrders.isEmpty()) {
                long orderId = pick(ownOrders);
                OrderStatus next = random.nextInt(10) == 0 ? OrderStatus.CANCELLED : expected.orderStatuses.get(orderId).next();
                service.setStatus(orderId, next);
                expected.orderStatuses.put(orderId, next);
            } else if (dice < 96) {
                long orderId = ownOrders.isEmpty() || random.nextBoolean() ? 1 + random.nextInt(settings.seedOrders()) : pick(ownOrders);
                Order order = service.findOrder(orderId);
                OrderStatus want = expected.orderStatuses.get(orderId);
                if (order == null || order.status() != want) {
                    stats.wrongAnswer("order " + orderId + " has status " + (order == null ? "(no row)" : order.status()));
                }
            } else {
                service.countByStatus();
            }
        }

        private String email() {
            return service.version() + "-" + name + "-" + id + "-" + (++created) + "@example.com";
        }

        private long pick(List<Long> ids) {
            // Mostly recent rows, like real traffic, with some old ones.
            int n = ids.size();
            return ids.get(random.nextInt(4) == 0 ? random.nextInt(n) : Math.max(0, n - 1 - random.nextInt(Math.min(n, 20))));
        }
    }
}
