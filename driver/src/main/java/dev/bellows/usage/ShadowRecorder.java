package dev.bellows.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts the outcomes of shadow reads ({@code bellows.shadow}) per (migration, statement fingerprint, application)
 * and writes them every flush interval to {@code bellows.shadow_reads}, one row per hour and instance. Counts,
 * fingerprints and call sites only: never a value read, not even of a row that differed. Thread-safe; recording
 * only adds to counters.
 */
public final class ShadowRecorder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ShadowRecorder.class.getName());
    /** Distinct keys held in memory; outcomes of further statements are dropped (and counted as dropped). */
    static final int MAX_KEYS = 10_000;

    /** What one sampled read came to. */
    public enum Outcome {
        /** Both rewrites ran in one snapshot and returned the same labels and rows. */
        SAME("matched"),
        /** Both ran in one snapshot and the results differ, or the switch rewrite failed where the expand one ran. */
        DIFFERED("differed"),
        /** More rows than {@code bellows.shadow.maxRows}: not compared. */
        TOO_LARGE("too_large"),
        /** The shadow could not run (its own error, or the expand rewrite failed the second time). */
        ERROR("errors"),
        /** The statement might have side effects or is not deterministic: never shadowed. */
        UNSAFE("unsafe"),
        /** No shared snapshot was possible (a READ COMMITTED or SERIALIZABLE transaction): not shadowed. */
        NO_SNAPSHOT("no_snapshot");

        final String column;

        Outcome(String column) { this.column = column; }
    }

    record Key(String migrationId, String fingerprint, String app) {
    }

    static final class Counts {
        final LongAdder[] n = new LongAdder[Outcome.values().length];
        volatile String callSite;
        volatile String differedCallSite;

        Counts() {
            for (int i = 0; i < n.length; i++) n[i] = new LongAdder();
        }
    }

    private final String instanceId;
    private final UsageRecorder.ConnectionSource source;
    private final long intervalMillis;
    private final Duration retention;
    private final Map<Key, Counts> counts = new ConcurrentHashMap<>();
    private final LongAdder dropped = new LongAdder();
    private final Object flushLock = new Object();
    private volatile Thread flusher;
    private volatile boolean schemaReady;

    ShadowRecorder(String instanceId, UsageRecorder.ConnectionSource source, long intervalMillis, Duration retention) {
        this.instanceId = instanceId;
        this.source = source;
        this.intervalMillis = intervalMillis;
        this.retention = retention;
    }

    /**
     * A recorder writing through {@code source} every {@code settings}' flush interval, under the usage recorder's
     * instance id when there is one; its daemon flusher starts with the first recorded outcome.
     */
    public static ShadowRecorder create(UsageRecorder usage, UsageSettings settings, UsageRecorder.ConnectionSource source) {
        String id = usage != null ? usage.instanceId()
            : String.format("%012x", java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffffffffffffL);
        return new ShadowRecorder(id, source, settings.flushIntervalMillis(), settings.retention());
    }

    /** Counts one outcome; samples the calling application frame (always for a difference). Never throws. */
    public void record(String migrationId, String fingerprint, String app, Outcome outcome) {
        Key k = new Key(migrationId, fingerprint, app);
        Counts c = counts.get(k);
        if (c == null) {
            if (counts.size() >= MAX_KEYS) {
                dropped.increment();
                return;
            }
            c = counts.computeIfAbsent(k, x -> new Counts());
        }
        c.n[outcome.ordinal()].increment();
        if (c.callSite == null) c.callSite = CallSites.capture();
        if (outcome == Outcome.DIFFERED && c.differedCallSite == null) c.differedCallSite = CallSites.capture();
        if (flusher == null) ensureRunning();
    }

    /** Outcomes not kept because {@link #MAX_KEYS} distinct statements were already held. */
    public long dropped() { return dropped.sum(); }

    private synchronized void ensureRunning() {
        if (flusher != null) return;
        Thread t = new Thread(this::loop, "bellows-shadow-flush");
        t.setDaemon(true);
        flusher = t;
        t.start();
    }

    private void loop() {
        Thread me = Thread.currentThread();
        while (flusher == me) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(intervalMillis);
            long left;
            while (flusher == me && (left = until - System.nanoTime()) > 0) LockSupport.parkNanos(this, left);
            if (flusher == me) flush();
        }
    }

    /** Writes the counts recorded so far; those that cannot be written are kept for the next flush. */
    public boolean flush() {
        synchronized (flushLock) {
            List<Map.Entry<Key, long[]>> batch = new ArrayList<>();
            List<Counts> from = new ArrayList<>();
            for (Map.Entry<Key, Counts> e : counts.entrySet()) {
                long[] d = new long[Outcome.values().length];
                boolean any = false;
                for (int i = 0; i < d.length; i++) {
                    d[i] = e.getValue().n[i].sumThenReset();
                    any |= d[i] != 0;
                }
                if (any) {
                    batch.add(Map.entry(e.getKey(), d));
                    from.add(e.getValue());
                }
            }
            if (batch.isEmpty()) return true;
            try {
                write(batch, from);
                return true;
            } catch (SQLException | RuntimeException e) {
                for (int j = 0; j < batch.size(); j++) { // back into the counters, for the next flush
                    long[] d = batch.get(j).getValue();
                    for (int i = 0; i < d.length; i++) from.get(j).n[i].add(d[i]);
                }
                LOG.log(System.Logger.Level.WARNING, "Bellows could not write shadow-read counts (" + e.getMessage()
                    + "); they are kept and retried");
                return false;
            }
        }
    }

    private void write(List<Map.Entry<Key, long[]>> batch, List<Counts> from) throws SQLException {
        StringBuilder cols = new StringBuilder();
        StringBuilder vals = new StringBuilder();
        StringBuilder adds = new StringBuilder();
        for (Outcome o : Outcome.values()) {
            cols.append(", ").append(o.column);
            vals.append(", ?");
            adds.append(", ").append(o.column).append(" = s.").append(o.column).append(" + excluded.").append(o.column);
        }
        String sql = "/* bellows:shadow */ INSERT INTO bellows.shadow_reads AS s (hour, instance_id, app_name, migration_id,"
            + " fingerprint_hash, fingerprint, first_seen, last_seen, call_site, differed_call_site" + cols + ")"
            + " VALUES (date_trunc('hour', now()), ?, ?, ?, ?, ?, now(), now(), ?, ?" + vals + ")"
            + " ON CONFLICT (migration_id, hour, instance_id, app_name, fingerprint_hash) DO UPDATE SET last_seen = now(),"
            + " call_site = coalesce(s.call_site, excluded.call_site),"
            + " differed_call_site = coalesce(s.differed_call_site, excluded.differed_call_site)" + adds;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) order.add(i);
        // one lock order for every instance's upserts
        order.sort(Comparator.comparing((Integer i) -> batch.get(i).getKey().migrationId())
            .thenComparing(i -> Fingerprints.hash(batch.get(i).getKey().fingerprint()))
            .thenComparing(i -> batch.get(i).getKey().app()));
        try (Connection c = source.open()) {
            c.setAutoCommit(false);
            try {
                if (!schemaReady) {
                    ensureSchema(c);
                    schemaReady = true;
                }
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    for (int i : order) {
                        Key k = batch.get(i).getKey();
                        long[] d = batch.get(i).getValue();
                        Counts src = from.get(i);
                        int p = 1;
                        ps.setString(p++, instanceId);
                        ps.setString(p++, k.app());
                        ps.setString(p++, k.migrationId());
                        ps.setString(p++, Fingerprints.hash(k.fingerprint()));
                        ps.setString(p++, Fingerprints.stored(k.fingerprint()));
                        ps.setString(p++, src.callSite);
                        ps.setString(p++, src.differedCallSite);
                        for (long v : d) ps.setLong(p++, v);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                try (PreparedStatement ps = c.prepareStatement(
                    "/* bellows:shadow */ DELETE FROM bellows.shadow_reads WHERE hour < now() - ? * interval '1 second'")) {
                    ps.setLong(1, retention.toSeconds());
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                schemaReady = false;
                c.rollback();
                throw e;
            }
        }
    }

    /** Creates {@code bellows.shadow_reads} when missing (one creator at a time). */
    public static void ensureSchema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + 0x626c73686477L + ")");
            s.execute("CREATE SCHEMA IF NOT EXISTS bellows");
            s.execute("CREATE TABLE IF NOT EXISTS bellows.shadow_reads ("
                + " hour timestamptz NOT NULL,"
                + " instance_id text NOT NULL,"
                + " app_name text NOT NULL,"
                + " migration_id text NOT NULL,"
                + " fingerprint_hash text NOT NULL,"
                + " fingerprint text NOT NULL,"
                + " matched bigint NOT NULL DEFAULT 0,"
                + " differed bigint NOT NULL DEFAULT 0,"
                + " too_large bigint NOT NULL DEFAULT 0,"
                + " errors bigint NOT NULL DEFAULT 0,"
                + " unsafe bigint NOT NULL DEFAULT 0,"
                + " no_snapshot bigint NOT NULL DEFAULT 0,"
                + " first_seen timestamptz NOT NULL,"
                + " last_seen timestamptz NOT NULL,"
                + " call_site text,"
                + " differed_call_site text,"
                + " PRIMARY KEY (migration_id, hour, instance_id, app_name, fingerprint_hash))");
        }
    }

    /** Stops the flusher and writes what is left. Never throws. */
    @Override public void close() {
        Thread t;
        synchronized (this) {
            t = flusher;
            flusher = null;
        }
        if (t != null) LockSupport.unpark(t);
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "Bellows shadow reads: final flush failed", e);
        }
    }

    @Override public String toString() {
        return "ShadowRecorder[" + instanceId + "]";
    }
}
