package dev.bellows.flags;

import dev.bellows.usage.UsageRecorder;
import java.lang.System.Logger.Level;
import java.util.function.BooleanSupplier;

/**
 * Reports an applied phase change at once (a flush of the usage recorder, whose heartbeat carries the phases), on the
 * watcher thread when an application thread asks; it is also that thread's wake-up call.
 */
final class PhaseReport {
    // FlagWatcher's logger: its messages keep the logger name they always had.
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());

    private final PhaseTarget runtime;
    private final String label;
    private final Object wake = new Object();
    private boolean flushWanted;

    PhaseReport(PhaseTarget runtime, String label) {
        this.runtime = runtime;
        this.label = label;
    }

    /** Wakes the watcher thread; {@code flush}: it reports the phases (flushes) when it wakes. */
    void wakeUp(boolean flush) {
        synchronized (wake) {
            if (flush) flushWanted = true;
            wake.notifyAll();
        }
    }

    /**
     * The watcher thread's wait of up to {@code waitMillis}, cut short by {@link #wakeUp}; none when a report is
     * wanted already. Returns false when interrupted after {@code closed} turned true (the thread ends).
     */
    boolean await(long waitMillis, BooleanSupplier closed) {
        synchronized (wake) {
            if (!flushWanted && !closed.getAsBoolean()) {
                try {
                    wake.wait(waitMillis);
                } catch (InterruptedException e) {
                    if (closed.getAsBoolean()) return false;
                }
            }
        }
        return true;
    }

    /** On the watcher thread: the report an application thread asked for, if any. */
    void flushIfWanted() {
        synchronized (wake) {
            if (!flushWanted) return;
            flushWanted = false;
        }
        flushNow();
    }

    /** Flushes the usage recorder now, so its heartbeat reports the phases in force. */
    void flushNow() {
        UsageRecorder recorder = runtime.usageRecorder();
        if (recorder != null && recorder.isRunning()) {
            try {
                recorder.flush();
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, label + ": could not report the new phases at once (" + PhaseApplier.describe(e) + ")");
            }
        }
    }
}
