package dev.bellows.flags;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * Whether the flag source answered its last read, the reconnect backoff (250 ms doubling up to the poll interval), and
 * the one warning per outage and the line when it ends. Guarded by the watcher's {@link PhaseApplier} monitor, except
 * at start.
 */
final class SourceHealth {
    // FlagWatcher's logger: its messages keep the logger name they always had.
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());

    private final String label;
    private final long maxBackoffMillis;
    private long backoffMillis;
    private long nextConnectNanos;
    private long downSinceNanos;
    private boolean outageReported;
    private volatile boolean reachable;

    SourceHealth(String label, long flagsPollMillis) {
        this.label = label;
        this.maxBackoffMillis = Math.max(flagsPollMillis, 100);
        this.backoffMillis = Math.min(FlagWatcher.INITIAL_BACKOFF_MILLIS, maxBackoffMillis);
    }

    boolean reachable() {
        return reachable;
    }

    /** The start-up read succeeded. */
    void readAtStart() {
        reachable = true;
    }

    /** {@code System.nanoTime()} before which the source is not tried again. */
    long nextConnectNanos() {
        return nextConnectNanos;
    }

    /** The start-up read failed: phases come from the process and the file ({@code phases}) until it answers. */
    void unreachableAtStart(Throwable e, String phases) {
        outageReported = true;
        downSinceNanos = System.nanoTime();
        nextConnectNanos = downSinceNanos + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        LOG.log(Level.WARNING, label + ": the flag source is unreachable at start (" + PhaseApplier.describe(e)
            + "); until it is reachable, phases come from system properties, the environment and the"
            + " rules file: " + phases + ". Reconnecting with backoff.");
    }

    /** A read on the watcher's connection failed (already closed): backs off, warns once per outage. */
    void failed(Throwable e, String where, String phases) {
        reachable = false;
        nextConnectNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        long delay = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, maxBackoffMillis);
        if (!outageReported) {
            outageReported = true;
            downSinceNanos = System.nanoTime();
            LOG.log(Level.WARNING, label + ": the flag source " + where + " is unreachable (" + PhaseApplier.describe(e)
                + "); keeping the last known phases: " + phases + ". Reconnecting with backoff"
                + " (" + Interval.format(delay) + " doubling up to " + Interval.format(maxBackoffMillis) + ").");
        } else {
            LOG.log(Level.DEBUG, label + ": the flag source is still unreachable (" + PhaseApplier.describe(e) + ")");
        }
    }

    /** check mode: a statement's read failed; the first failure of an outage is logged. */
    void checkFailed(Throwable e, String phases) {
        reachable = false;
        if (!outageReported) {
            outageReported = true;
            downSinceNanos = System.nanoTime();
            LOG.log(Level.WARNING, label + ": could not read bellows.flags on an application connection ("
                + PhaseApplier.describe(e) + "); keeping the last known phases: " + phases
                + ". Reading again after the staleness interval.");
        }
    }

    /** A read succeeded: resets the backoff, and says how long an outage lasted. */
    void recovered(String where) {
        reachable = true;
        backoffMillis = Math.min(FlagWatcher.INITIAL_BACKOFF_MILLIS, maxBackoffMillis);
        if (outageReported) {
            outageReported = false;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSinceNanos);
            LOG.log(Level.INFO, label + ": the flag source " + where + " is reachable again after "
                + Interval.format(ms) + "; flags read again");
        }
    }
}
