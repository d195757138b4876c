package dev.bellows.flags;

import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
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
    private static final String READ = "SELECT migration_id, phase FROM bellows.flags";
    private static final String EXISTS = "SELECT to_regclass('bellows.flags') IS NOT NULL";

    private final FlagWatcher watcher;
    private final long stalenessNanos;
    /** {@code System.nanoTime()} when the last read of the flags started, on any connection or the fallback poll. */
    private volatile long checkedAt;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile boolean tablePresent;

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
                read = read(raw);
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

    /** The flags, empty when the table does not exist; one query once the table is known to exist. */
    private Map<String, Phase> read(Connection raw) throws SQLException {
        try (Statement s = raw.createStatement()) {
            if (!tablePresent) {
                try (ResultSet rs = s.executeQuery(EXISTS)) {
                    if (!rs.next() || !rs.getBoolean(1)) return Map.of();
                }
                tablePresent = true;
            }
            Map<String, Phase> out = new LinkedHashMap<>();
            try (ResultSet rs = s.executeQuery(READ)) {
                while (rs.next()) {
                    try {
                        out.put(rs.getString(1), Phase.parse(rs.getString(2)));
                    } catch (IllegalArgumentException e) {
                        // the CHECK constraint prevents this unless someone replaced the table; ignore the row
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) { // dropped since: no flags, as when it never existed
                tablePresent = false;
                return Map.of();
            }
            throw e;
        }
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
