package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Fills {@code to = up(from)} in keyset batches on the table's primary key. Each batch is one short transaction
 * that also records its progress in {@code bellows.backfill_progress}, so a killed backfill resumes after the last
 * committed batch. Idempotent: a batch only touches rows where {@code to IS DISTINCT FROM up(from)}. Batches that
 * hit a lock timeout, a deadlock or a serialization failure are retried. It ends by counting diverging rows.
 */
public final class Backfill {
    /**
     * @param batchSize   keys per batch
     * @param pause       sleep between batches (throttle)
     * @param force       start even if some live instance does not duplicate writes yet
     * @param restart     start a new pass from the first key instead of resuming
     * @param lockTimeout {@code lock_timeout} of each batch (a PostgreSQL interval such as {@code 2s})
     * @param maxRetries  attempts per batch after a retryable failure before giving up
     * @param liveWindow  an instance whose last heartbeat is older is not live (null: as bellows status counts it)
     */
    public record Options(int batchSize, Duration pause, boolean force, boolean restart, String lockTimeout, int maxRetries,
                          Duration liveWindow) {
        public static Options defaults() {
            return new Options(1000, Duration.ofMillis(20), false, false, "2s", 10, null);
        }

        public Options withBatch(int n) {
            return new Options(n, pause, force, restart, lockTimeout, maxRetries, liveWindow);
        }

        public Options withPause(Duration d) {
            return new Options(batchSize, d, force, restart, lockTimeout, maxRetries, liveWindow);
        }

        public Options withForce(boolean b) {
            return new Options(batchSize, pause, b, restart, lockTimeout, maxRetries, liveWindow);
        }

        public Options withRestart(boolean b) {
            return new Options(batchSize, pause, force, b, lockTimeout, maxRetries, liveWindow);
        }
    }

    public enum Outcome {
        /** Every row has {@code to = up(from)}. */
        DONE,
        /** The pass finished but rows still diverge (a writer that bypasses Bellows?). */
        DIVERGED,
        /** Not started: some live instance does not duplicate writes, and no --force. */
        REFUSED,
        /** Stopped by an interrupt; the committed batches are kept and a rerun resumes. */
        INTERRUPTED
    }

    /** Progress after a batch. {@code scanned}/{@code updated}/{@code batches} count the whole pass, earlier runs included. */
    public record Progress(long scanned, long updated, long batches, long total, double rowsPerSecond, String lastKey) {
        /** Seconds left at the current rate, or -1 when unknown. */
        public long etaSeconds() {
            if (rowsPerSecond <= 0 || total <= 0) return -1;
            return (long) Math.ceil(Math.max(0, total - scanned) / rowsPerSecond);
        }
    }

    /** What happened. {@code rowsPerSecond} is this run's rate; {@code diverging} the final count. */
    public record Result(Outcome outcome, long scanned, long updated, long batches, long diverging, Duration elapsed,
                         double rowsPerSecond, List<String> messages) {
    }

    /** Receives messages and progress; the CLI draws its progress bar from it. */
    public interface Listener {
        default void message(String line) {
        }

        default void progress(Progress p) {
        }

        /** After each committed batch; a test may throw here to stop the backfill abruptly. */
        default void batchCommitted(long batches) {
        }
    }

    /**
     * Marks the statements that name the migration's columns as Bellows' own, for the gate's pg_stat_statements
     * check: PostgreSQL keeps the first text it saw of a statement, comments included.
     */
    static final String TAG = "/* bellows:backfill */";

    static final Set<String> RETRYABLE = Set.of("55P03", "40001", "40P01", "57014");

    static final List<String> DDL = List.of(
        "CREATE SCHEMA IF NOT EXISTS bellows",
        "CREATE TABLE IF NOT EXISTS bellows.backfill_progress ("
            + " migration_id text PRIMARY KEY,"
            + " table_name text NOT NULL,"
            + " key_column text NOT NULL,"
            + " target text NOT NULL,"
            + " last_key text,"
            + " rows_scanned bigint NOT NULL DEFAULT 0,"
            + " rows_updated bigint NOT NULL DEFAULT 0,"
            + " batches bigint NOT NULL DEFAULT 0,"
            + " started_at timestamptz NOT NULL DEFAULT now(),"
            + " updated_at timestamptz NOT NULL DEFAULT now(),"
            + " finished_at timestamptz)");

    private final Connection c;
    private final Migration m;
    private final Options o;
    private final Listener l;
    private final List<String> messages = new ArrayList<>();

    private Backfill(Connection c, Migration m, Options o, Listener l) {
        this.c = c;
        this.m = m;
        this.o = o;
        this.l = l == null ? new Listener() { } : l;
    }

    /** Runs (or resumes) the backfill of {@code m} on {@code c}, a plain pgjdbc connection it owns meanwhile. */
    public static Result run(Connection c, Migration m, Options o, Listener l) throws SQLException, WorkflowException {
        return new Backfill(c, m, o, l).run();
    }

    private void say(String line) {
        messages.add(line);
        l.message(line);
    }

    private Result run() throws SQLException, WorkflowException {
        if (o.batchSize() < 1) throw new WorkflowException("--batch must be at least 1");
        if (m.isTableRename()) {
            throw new WorkflowException("migration '" + m.id() + "' renames table " + m.qualifiedTable() + " to " + m.toTable()
                + ": a table rename moves no data, there is nothing to backfill");
        }
        c.setAutoCommit(true);
        TableInfo t = TableInfo.load(c, m.schema(), m.table());
        String qt = SqlText.qualified(m.schema(), m.table());
        if (t == null) throw new WorkflowException("table " + qt + " does not exist");
        if (m.isNotNull()) return NotNullBackfill.run(c, m, o, l, t);
        if (m.isRemoval()) {
            throw new WorkflowException("migration '" + m.id() + "' removes " + qt + "." + SqlText.ident(m.from())
                + ": there is no new column, so nothing to backfill. Its next step is bellows flags set " + m.id() + " switch");
        }
        for (String col : m.tos()) {
            if (t.column(col) == null) {
                throw new WorkflowException(qt + " has no column " + SqlText.ident(col) + " yet: run the plan's expand step first"
                    + " (bellows plan " + m.id() + ")");
            }
        }
        if (m.froms().stream().anyMatch(col -> t.column(col) == null)) {
            throw new WorkflowException(BackfillGuard.contracted(m, qt));
        }
        String inContract = BackfillGuard.refusal(c, m);
        if (inContract != null) {
            say(inContract);
            return new Result(Outcome.REFUSED, 0, 0, 0, -1, Duration.ZERO, 0, messages);
        }
        if (t.primaryKey.isEmpty()) {
            throw new WorkflowException(qt + " has no primary key. The backfill walks the table in batches of primary-key"
                + " ranges so that each batch is short and a restart resumes exactly; without one it cannot tell which rows"
                + " are done. Add a primary key (or a unique NOT NULL column made the primary key), then run it again");
        }
        if (t.primaryKey.size() > 1) {
            throw new WorkflowException(qt + " has a composite primary key (" + String.join(", ", t.primaryKey) + "); this"
                + " version of the backfill needs a single-column primary key");
        }
        FleetCheck.Verdict v = FleetCheck.check(c, m, o.liveWindow());
        for (String e : v.evidence()) say(e);
        if (!v.ok()) {
            if (!o.force()) {
                say("refusing to backfill: rows written by an instance that does not duplicate its writes after the"
                    + " backfill passed them would diverge. Move every instance to expand (bellows flags set " + m.id()
                    + " expand), or use --force");
                return new Result(Outcome.REFUSED, 0, 0, 0, -1, Duration.ZERO, 0, messages);
            }
            say("--force: backfilling anyway");
        }
        for (String ddl : DDL) {
            try {
                Db.exec(c, ddl);
            } catch (SQLException e) {
                // two first runs at once: the other one created it
                if (!"23505".equals(e.getSQLState()) && !"42P06".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) throw e;
            }
        }
        String pk = SqlText.ident(t.primaryKey.get(0));
        String pkType = t.primaryKeyType;
        String to = String.join(", ", m.tos().stream().map(SqlText::ident).toList());
        String up = m.isDerived() ? "up" : Planner.upExpr(m);
        String target = m.upAssignments(SqlText::ident); // a split or merge writes several columns at once
        String differs = m.upDiffers(SqlText::ident);
        String last = null;
        long scanned = 0;
        long updated = 0;
        long batches = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT table_name, key_column, target, last_key, rows_scanned,"
            + " rows_updated, batches, finished_at, started_at FROM bellows.backfill_progress WHERE migration_id = ?")) {
            ps.setString(1, m.id());
            try (ResultSet rs = ps.executeQuery()) {
                boolean resume = false;
                if (rs.next()) {
                    boolean same = rs.getString(1).equals(qt) && rs.getString(2).equals(pk) && rs.getString(3).equals(target);
                    if (o.restart()) {
                        say("--restart: starting a new pass from the first key");
                    } else if (!same) {
                        say("the recorded progress is for another table, key or expression: starting a new pass");
                    } else if (rs.getTimestamp(8) != null) {
                        say("the previous pass finished at " + rs.getTimestamp(8) + ": starting a new pass");
                    } else {
                        resume = true;
                        last = rs.getString(4);
                        scanned = rs.getLong(5);
                        updated = rs.getLong(6);
                        batches = rs.getLong(7);
                        say("resuming the pass started at " + rs.getTimestamp(9) + (last == null ? " from the first key"
                            : " after " + t.primaryKey.get(0) + " = " + last) + " (" + scanned + " rows scanned, " + updated
                            + " updated in " + batches + " batches so far)");
                    }
                }
                if (!resume) {
                    try (PreparedStatement up2 = c.prepareStatement("INSERT INTO bellows.backfill_progress"
                        + " (migration_id, table_name, key_column, target) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (migration_id) DO UPDATE SET table_name = excluded.table_name,"
                        + " key_column = excluded.key_column, target = excluded.target, last_key = NULL, rows_scanned = 0,"
                        + " rows_updated = 0, batches = 0, started_at = now(), updated_at = now(), finished_at = NULL")) {
                        up2.setString(1, m.id());
                        up2.setString(2, qt);
                        up2.setString(3, pk);
                        up2.setString(4, target);
                        up2.executeUpdate();
                    }
                }
            }
        }
        String upper = Db.scalar(c, "SELECT max(" + pk + ")::text FROM " + qt);
        long total = Db.scalarLong(c, "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = ?", t.oid);
        if (total <= 0) total = Db.scalarLong(c, "SELECT count(*) FROM " + qt);
        say("backfilling " + qt + "." + to + " = " + up + " in batches of " + o.batchSize() + " keys on " + pk
            + " (about " + total + " rows), pausing " + o.pause().toMillis() + " ms between batches");

        String cast = "::" + pkType;
        String boundsFirst = "SELECT count(*), max(k)::text FROM (SELECT " + pk + " AS k FROM " + qt
            + " WHERE " + pk + " <= ?" + cast + " ORDER BY " + pk + " LIMIT ?) s";
        String boundsNext = "SELECT count(*), max(k)::text FROM (SELECT " + pk + " AS k FROM " + qt
            + " WHERE " + pk + " > ?" + cast + " AND " + pk + " <= ?" + cast + " ORDER BY " + pk + " LIMIT ?) s";
        String updFirst = "UPDATE " + TAG + " " + qt + " SET " + target + " WHERE " + pk + " <= ?" + cast
            + " AND " + differs;
        String updNext = "UPDATE " + TAG + " " + qt + " SET " + target + " WHERE " + pk + " > ?" + cast + " AND " + pk + " <= ?" + cast
            + " AND " + differs;
        String progress = "UPDATE bellows.backfill_progress SET last_key = ?, rows_scanned = rows_scanned + ?,"
            + " rows_updated = rows_updated + ?, batches = batches + 1, updated_at = now() WHERE migration_id = ?";

        long startNanos = System.nanoTime();
        long scannedThisRun = 0;
        Outcome outcome = null;
        if (upper != null) {
            c.setAutoCommit(false);
            try {
                while (true) {
                    if (Thread.currentThread().isInterrupted()) {
                        outcome = Outcome.INTERRUPTED;
                        break;
                    }
                    long[] counts = null;
                    String end = null;
                    for (int attempt = 1; ; attempt++) {
                        try (PreparedStatement settings = c.prepareStatement(
                            "SELECT set_config('lock_timeout', ?, true), set_config('" + Planner.SYNC_OFF_SETTING + "', 'on', true)")) {
                            settings.setString(1, o.lockTimeout());
                            settings.execute();
                            long keys;
                            try (PreparedStatement b = c.prepareStatement(last == null ? boundsFirst : boundsNext)) {
                                int i = 1;
                                if (last != null) b.setString(i++, last);
                                b.setString(i++, upper);
                                b.setInt(i, o.batchSize());
                                try (ResultSet rs = b.executeQuery()) {
                                    rs.next();
                                    keys = rs.getLong(1);
                                    end = rs.getString(2);
                                }
                            }
                            if (keys == 0) {
                                c.commit();
                                break;
                            }
                            int n;
                            try (PreparedStatement u = c.prepareStatement(last == null ? updFirst : updNext)) {
                                int i = 1;
                                if (last != null) u.setString(i++, last);
                                u.setString(i, end);
                                n = u.executeUpdate();
                            }
                            try (PreparedStatement p = c.prepareStatement(progress)) {
                                p.setString(1, end);
                                p.setLong(2, keys);
                                p.setLong(3, n);
                                p.setString(4, m.id());
                                p.executeUpdate();
                            }
                            c.commit();
                            counts = new long[] {keys, n};
                            break;
                        } catch (SQLException e) {
                            rollbackQuietly();
                            if (!RETRYABLE.contains(e.getSQLState()) || attempt > o.maxRetries()) {
                                throw new SQLException("batch after " + (last == null ? "the first key" : pk + " = " + last)
                                    + " failed" + (attempt > 1 ? " after " + attempt + " attempts" : "") + ": " + e.getMessage()
                                    + " (the batches before it are committed; run the backfill again to resume)", e.getSQLState(), e);
                            }
                            long backoff = Math.min(5000, 50L << Math.min(attempt, 7));
                            say("batch after " + (last == null ? "the first key" : pk + " = " + last) + ": " + e.getMessage().split("\n")[0]
                                + " — retry " + attempt + " of " + o.maxRetries() + " in " + backoff + " ms");
                            if (!sleep(backoff)) {
                                outcome = Outcome.INTERRUPTED;
                                break;
                            }
                        }
                    }
                    if (outcome != null) break;
                    if (counts == null) break; // no keys left
                    last = end;
                    scanned += counts[0];
                    updated += counts[1];
                    batches++;
                    scannedThisRun += counts[0];
                    double secs = (System.nanoTime() - startNanos) / 1e9;
                    l.progress(new Progress(scanned, updated, batches, Math.max(total, scanned), secs > 0 ? scannedThisRun / secs : 0, last));
                    l.batchCommitted(batches);
                    if (!o.pause().isZero() && !sleep(o.pause().toMillis())) {
                        outcome = Outcome.INTERRUPTED;
                        break;
                    }
                }
            } finally {
                rollbackQuietly();
                c.setAutoCommit(true);
            }
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        double rate = elapsed.toNanos() > 0 ? scannedThisRun / (elapsed.toNanos() / 1e9) : 0;
        if (outcome == Outcome.INTERRUPTED) {
            say("interrupted after " + batches + " batches; run the backfill again to resume");
            return new Result(outcome, scanned, updated, batches, -1, elapsed, rate, messages);
        }
        try (PreparedStatement p = c.prepareStatement(
            "UPDATE bellows.backfill_progress SET finished_at = now(), updated_at = now() WHERE migration_id = ?")) {
            p.setString(1, m.id());
            p.executeUpdate();
        }
        l.progress(new Progress(scanned, updated, batches, Math.max(total, scanned), rate, last));
        long diverging = Db.scalarLong(c, "SELECT " + TAG + " count(*) FROM " + qt + " WHERE " + differs);
        if (diverging > 0) {
            List<String> sample = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + TAG + " " + pk + "::text FROM " + qt + " WHERE " + differs
                + " ORDER BY " + pk + " LIMIT 5");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) sample.add(rs.getString(1));
            }
            say("verification FAILED: " + diverging + " rows have " + differs + " (" + pk + " "
                + String.join(", ", sample) + (diverging > sample.size() ? ", …" : "") + "). Something writes "
                + SqlText.ident(m.from()) + " without duplicating the write: an instance in phase off or a client that"
                + " bypasses Bellows (see bellows status / the sync trigger of bellows plan --trigger)");
            return new Result(Outcome.DIVERGED, scanned, updated, batches, diverging, elapsed, rate, messages);
        }
        say(String.format("done: %d rows scanned, %d updated, %d batches in %.1f s (%.0f rows/s); verified: 0 rows diverge",
            scannedThisRun, updated, batches, elapsed.toMillis() / 1000.0, rate));
        return new Result(Outcome.DONE, scanned, updated, batches, 0, elapsed, rate, messages);
    }

    private void rollbackQuietly() {
        try {
            if (!c.getAutoCommit()) c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the caller sees the original failure
        }
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
