package dev.bellows.flags;

import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounded-staleness flags on the application's own connections ({@code bellows.flags.mode=check}, the default):
 * before a statement, when the phases were last read more than {@code bellows.flags.staleness} ago, the
 * connection it runs on reads {@code bellows.flags} first (one query, in auto-commit, never inside the
 * application's transaction), so a statement never starts on phases older than the bound and no server
 * connection is held for flags. One check per runtime at a time; while fresh, a statement pays one
 * {@code System.nanoTime()} and one volatile read.
 */
public final class FlagCheck {

    private final FlagWatcher watcher;
    private final long stalenessNanos;
    /** {@code System.nanoTime()} when the last read of the flags started, on any connection or the fallback poll. */
    private volatile long checkedAt;
    private final AtomicBoolean checking = new AtomicBoolean();
    private final FlagTableRead table = new FlagTableRead();

    FlagCheck(FlagWatcher watcher, long stalenessMillis) {
        this.watcher = watcher;
        this.stalenessNanos = TimeUnit.MILLISECONDS.toNanos(stalenessMillis);
        this.checkedAt = System.nanoTime();
    }

    /** The staleness bound in milliseconds. */
    public long stalenessMillis() {
        return TimeUnit.NANOSECONDS.toMillis(stalenessNanos);
    }

    /**
     * Called before each statement with the physical connection it runs on; reads the flags there first when
     * they are stale and the connection is outside a transaction. Never throws: a failed read keeps the phases.
     */
    public void beforeStatement(Connection raw) {
        if (System.nanoTime() - checkedAt < stalenessNanos) return;
        check(raw);
    }

    private void check(Connection raw) {
        if (!checking.compareAndSet(false, true)) return; // another connection is reading them right now
        try {
            long started = System.nanoTime();
            if (started - checkedAt < stalenessNanos || !idle(raw)) return;
            checkedAt = started;
            Map<String, Phase> read;
            boolean flip = false;
            try {
                // outside a transaction the read must not open one (the application may still set its isolation level)
                flip = !raw.getAutoCommit();
                if (flip) raw.setAutoCommit(true);
                read = table.read(raw);
            } catch (SQLException | RuntimeException e) {
                watcher.checkFailed(e);
                return;
            } finally {
                if (flip) {
                    try {
                        raw.setAutoCommit(false);
                    } catch (SQLException ignored) {
                        // the connection failed; the application's next call says so
                    }
                }
            }
            watcher.offer(read, raw, started);
        } finally {
            checking.set(false);
        }
    }

    /** Whether the next statement on an idle connection reads the flags first. */
    boolean stale() {
        return System.nanoTime() - checkedAt >= stalenessNanos;
    }

    /** When the flags were last read ({@code System.nanoTime()}), for the fallback poll of a quiet instance. */
    long checkedAt() {
        return checkedAt;
    }

    /** The watcher read the flags itself (at start or by the fallback poll). */
    void readElsewhere(long startedNanos) {
        if (startedNanos - checkedAt > 0) checkedAt = startedNanos;
    }

    /** Outside a transaction (pgjdbc's own state; a connection that is not pgjdbc's: in auto-commit). */
    private static boolean idle(Connection raw) {
        try {
            return raw.unwrap(org.postgresql.core.BaseConnection.class).getTransactionState()
                == org.postgresql.core.TransactionState.IDLE;
        } catch (SQLException | RuntimeException | LinkageError e) {
            try {
                return raw.getAutoCommit();
            } catch (SQLException closed) {
                return false;
            }
        }
    }
}
