package dev.bellows.rules;

import java.util.concurrent.atomic.LongAdder;

/**
 * How a rewriter's cache is doing: lookups, misses (statements analysed or scanned) and the time spent on misses.
 * One instance is shared by every rewriter built with the same {@link Rewriter.Options}, so the counts survive a
 * driver rebuilding its rewriter on a phase change. Thread-safe; a lookup costs one uncontended add.
 */
public final class RewriteStats {
    private final LongAdder lookups = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder missNanos = new LongAdder();

    /** Statements looked up (every {@link Rewriter#rewrite} call with a non-null statement). */
    public long lookups() { return lookups.sum(); }

    /** Lookups that were not in the cache and had to be scanned or analysed. */
    public long misses() { return misses.sum(); }

    /** Lookups answered from the cache. */
    public long hits() { return Math.max(0, lookups() - misses()); }

    /** Total time spent on misses, in nanoseconds. */
    public long missNanos() { return missNanos.sum(); }

    void lookup() { lookups.increment(); }

    void miss(long nanos) {
        misses.increment();
        missNanos.add(nanos);
    }
}
