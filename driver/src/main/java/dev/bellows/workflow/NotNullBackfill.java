package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code bellows backfill} of a NOT NULL migration: rows whose column is NULL get the default, in short batches. */
final class NotNullBackfill {
    private NotNullBackfill() {
    }

    private static long nulls(Connection c, String qt, String f) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("/* bellows:backfill */ SELECT count(*) FROM " + qt + " WHERE " + f + " IS NULL")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Backfill.Result run(Connection c, Migration m, Backfill.Options o, Backfill.Listener l, TableInfo t)
        throws SQLException, WorkflowException {
        String qt = t.qualified();
        String f = ident(m.from());
        if (t.column(m.from()) == null) throw new WorkflowException("column " + f + " does not exist in " + qt);
        List<String> messages = new ArrayList<>();
        long start = System.nanoTime();
        long updated = 0;
        long batches = 0;
        c.setAutoCommit(true);
        String batch = "/* bellows:backfill */ UPDATE " + qt + " SET " + f + " = (" + m.defaultValue().strip() + ") WHERE ctid = ANY"
            + " (ARRAY(SELECT ctid FROM " + qt + " WHERE " + f + " IS NULL LIMIT " + o.batchSize() + "))";
        long total = nulls(c, qt, f);
        try (Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = '" + o.lockTimeout().replace("'", "") + "'");
            while (true) {
                int n = s.executeUpdate(batch);
                if (n == 0) break;
                updated += n;
                batches++;
                l.progress(new Backfill.Progress(updated, updated, batches, total, 0, null));
                if (!o.pause().isZero()) {
                    try {
                        Thread.sleep(o.pause().toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        long nulls = nulls(c, qt, f);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        double rate = took.toMillis() == 0 ? updated : updated * 1000.0 / took.toMillis();
        String line = "done: " + updated + " rows of " + qt + " had " + f + " NULL and got " + m.defaultValue().strip() + ", "
            + batches + " batches; verified: " + nulls + " rows have " + f + " NULL";
        messages.add(line);
        l.message(line);
        if (nulls > 0) {
            String why = "rows with " + f + " NULL remain: a writer that does not go through Bellows (or an instance not yet in"
                + " expand) still writes NULL; bellows gate " + m.id() + " names it. Run this command again once it is fixed";
            messages.add(why);
            l.message(why);
        }
        return new Backfill.Result(nulls == 0 ? Backfill.Outcome.DONE : Backfill.Outcome.DIVERGED, updated, updated, batches,
            nulls, took, rate, List.copyOf(messages));
    }
}
