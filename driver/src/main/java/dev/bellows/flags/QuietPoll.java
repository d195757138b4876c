package dev.bellows.flags;

import dev.bellows.rules.Phase;
import java.lang.System.Logger.Level;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * check mode: reads the flags on a short-lived connection for a quiet instance, one whose statements have not read
 * them for {@code bellows.flags.poll} plus up to 20 % jitter (so a fleet started together does not poll together).
 */
final class QuietPoll {
    // FlagWatcher's logger: its messages keep the logger name they always had.
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());

    private final FlagCheck check;
    private final FlagSourceConnection source;
    private final SourceHealth health;
    private final PhaseApplier phases;
    private final PhaseTarget runtime;
    private final String label;
    private final long pollNanos;
    private long jitter;

    QuietPoll(FlagCheck check, FlagSourceConnection source, SourceHealth health, PhaseApplier phases, PhaseTarget runtime,
              String label, long flagsPollMillis) {
        this.check = check;
        this.source = source;
        this.health = health;
        this.phases = phases;
        this.runtime = runtime;
        this.label = label;
        this.pollNanos = TimeUnit.MILLISECONDS.toNanos(flagsPollMillis);
    }

    /** When the next poll is due ({@code System.nanoTime()}): it moves with every statement's read. */
    long due() {
        return check.checkedAt() + pollNanos + jitter;
    }

    /** Polls once if due and the source may be tried again at {@code now}. */
    void pollIfDue(long now) {
        if (now - due() >= 0 && now - health.nextConnectNanos() >= 0) {
            pollOnce();
            jitter = ThreadLocalRandom.current().nextLong(pollNanos / 5 + 1);
        }
    }

    /** One read of the flags on a short-lived connection, then applies them. */
    private void pollOnce() {
        // No monitor is held while a connection is taken (it may come from the application's pool, whose
        // connections may be held by statements waiting for the monitor in offer()).
        long sent;
        Map<String, Phase> read;
        try {
            source.open();
            sent = System.nanoTime(); // after the wait for a connection: the read sees the flags as of now or later
            read = source.read();
            source.close(true);
        } catch (SQLException | RuntimeException e) {
            synchronized (phases) {
                source.close(false);
                health.failed(e, source.where(), PhaseApplier.format(phases.effective()));
            }
            return;
        }
        // a statement's check may have read the flags since this read was sent: the latest read is applied
        Map<String, Phase> latest = phases.record(read, sent);
        boolean changed = !latest.equals(phases.database());
        if (changed && !phases.catalogReadyFor(latest)) {
            try {
                runtime.refreshCatalog(); // a phase change usually follows DDL: read the catalog first (see apply)
            } catch (SQLException | RuntimeException e) {
                LOG.log(Level.WARNING, label + ": could not read the catalog before changing phases ("
                    + PhaseApplier.describe(e) + "); using the one read last");
            }
        }
        synchronized (phases) {
            phases.countRead();
            health.recovered(source.where());
            phases.polled(changed);
        }
        // Only now: until what this read found is applied, statements go on reading the flags themselves. (Marked
        // before the catalog read, it let them run in the old phase for as long as that read took.)
        check.readElsewhere(sent);
    }
}
