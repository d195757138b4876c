package dev.bellows.usage;

import dev.bellows.rules.UsageFact;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The recorder's hot path: uses counted per (migration, column, kind, treatment, fingerprint, application) in
 * lock-free tables, with at most {@code maxFingerprints} keys and {@link #MAX_FINGERPRINT_CHARS} of text (beyond,
 * a use is counted under its key with an empty fingerprint), and one sampled call site per fingerprint.
 */
final class UsageCounters {
    /** A fingerprint's call site is sampled at most this often. */
    static final long SAMPLE_INTERVAL_MILLIS = 60_000;
    /** Total fingerprint text kept in memory, in characters. */
    static final long MAX_FINGERPRINT_CHARS = 8L << 20;

    private final int maxFingerprints;
    private final ConcurrentHashMap<String, AppTable> apps = new ConcurrentHashMap<>();
    private volatile AppTable lastApp;
    private final AtomicInteger keys = new AtomicInteger();
    private final AtomicLong fingerprintChars = new AtomicLong();
    private final LongAdder overflowed = new LongAdder();
    /** A coarse clock for call-site sampling, advanced by every flush cycle (and on admitting a new key). */
    private volatile long coarseNow = System.currentTimeMillis();

    UsageCounters(int maxFingerprints) {
        this.maxFingerprints = maxFingerprints;
    }

    /** Counts of one application's uses. */
    private static final class AppTable {
        final String app;
        final ConcurrentHashMap<UsageFact, Counter> counters = new ConcurrentHashMap<>();
        final ConcurrentHashMap<String, Sample> samples = new ConcurrentHashMap<>();
        /** Uses whose fingerprint did not fit under the cap: keyed by fact with an empty fingerprint. */
        final ConcurrentHashMap<UsageFact, Counter> overflow = new ConcurrentHashMap<>();

        AppTable(String app) {
            this.app = app;
        }
    }

    /**
     * One key's count since the last flush. Its first use is the time it was admitted; its last use is stamped
     * when a flush finds it used (so it is never earlier than the real last use, and at most one flush interval
     * later): the hot path reads no clock.
     */
    static final class Counter {
        final UsageFact fact;
        final LongAdder count = new LongAdder();
        final long firstSeen;
        final Sample sample;
        String stored; // the stored form of the fingerprint; flusher only
        String hash;   // hash of the full fingerprint; flusher only

        Counter(UsageFact fact, long now, Sample sample) {
            this.fact = fact;
            this.firstSeen = now;
            this.sample = sample;
        }
    }

    /** The sampled call site of one fingerprint. */
    static final class Sample {
        final AtomicLong nextAt = new AtomicLong();
        volatile String site;

        void maybeCapture(long now) {
            long next = nextAt.get();
            if (now >= next && nextAt.compareAndSet(next, now + SAMPLE_INTERVAL_MILLIS)) {
                String s = CallSites.capture();
                if (s != null) site = s;
            }
        }
    }

    /** Counts {@code facts} of {@code appName}: no lock, no clock, no allocation for keys seen before. */
    void count(String appName, List<UsageFact> facts) {
        AppTable t = lastApp;
        if (t == null || !t.app.equals(appName)) t = table(appName);
        Sample sampled = null;
        for (int i = 0, n = facts.size(); i < n; i++) {
            UsageFact f = facts.get(i);
            Counter c = t.counters.get(f);
            if (c == null) c = admit(t, f);
            c.count.increment();
            Sample s = c.sample;
            if (s != null && s != sampled) {
                sampled = s;
                long now = coarseNow;
                if (now >= s.nextAt.get()) s.maybeCapture(now);
            }
        }
    }

    /** Advances the sampling clock (each flush cycle). */
    void tick() {
        coarseNow = System.currentTimeMillis();
    }

    /** Visits every counter with its application, kept keys first. */
    void forEach(BiConsumer<String, Counter> visit) {
        for (AppTable t : apps.values()) {
            for (Counter c : t.counters.values()) visit.accept(t.app, c);
            for (Counter c : t.overflow.values()) visit.accept(t.app, c);
        }
    }

    /** Uses counted and not yet taken by a flush. */
    long uncounted() {
        long[] n = new long[1];
        forEach((app, c) -> n[0] += c.count.sum());
        return n[0];
    }

    /** Uses counted without their fingerprint because a cap was reached, since start. */
    long overflowed() { return overflowed.sum(); }

    /** Distinct keys held. */
    int keys() { return keys.get(); }

    private AppTable table(String app) {
        AppTable t = apps.computeIfAbsent(app == null ? "unknown" : app, AppTable::new);
        lastApp = t;
        return t;
    }

    private Counter admit(AppTable t, UsageFact f) {
        int max = maxFingerprints;
        // once full, stay cheap: no contended increment and decrement per overflowing use
        if (keys.get() >= max) return overflow(t, f);
        if (keys.incrementAndGet() > max) {
            keys.decrementAndGet();
            return overflow(t, f);
        }
        int len = f.fingerprint().length();
        if (fingerprintChars.addAndGet(len) > MAX_FINGERPRINT_CHARS) {
            fingerprintChars.addAndGet(-len);
            keys.decrementAndGet();
            return overflow(t, f);
        }
        long now = System.currentTimeMillis(); // once per key, off the hot path
        coarseNow = now;
        Sample s = t.samples.computeIfAbsent(f.fingerprint(), k -> new Sample());
        Counter c = new Counter(f, now, s);
        Counter prev = t.counters.putIfAbsent(f, c);
        if (prev != null) {
            keys.decrementAndGet();
            fingerprintChars.addAndGet(-len);
            return prev;
        }
        return c;
    }

    private Counter overflow(AppTable t, UsageFact f) {
        overflowed.increment();
        UsageFact k = new UsageFact(f.migrationId(), f.column(), f.kind(), f.treatment(), "");
        Counter c = t.overflow.get(k);
        return c != null ? c : t.overflow.computeIfAbsent(k, x -> new Counter(x, System.currentTimeMillis(), null));
    }
}
