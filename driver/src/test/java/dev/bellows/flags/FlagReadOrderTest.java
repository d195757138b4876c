package dev.bellows.flags;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * check mode: a read of the flags that was sent earlier but arrives later never replaces a later one. The
 * quiet-instance poll reads {@code expand} and is held up before applying it (here in the catalog read that precedes
 * a phase change; on a loaded machine by the CPU or the wait for a pooled connection); meanwhile the flag goes back
 * to {@code off} and a statement's check reads that. The instance must not then move to {@code expand}: its
 * statements would run, for up to the staleness bound, in a phase the fleet has left. (Seen in the fleet simulation
 * at 1,000 instances on a saturated machine: old-phase statements seconds after {@code flags set} returned.)
 */
class FlagReadOrderTest {
    private static final String ID = "leads-email";

    @Test
    void aQuietPollReadOvertakenByAStatementsReadIsDropped() throws Exception {
        try (FlagsDb db = FlagsDb.create("flag_read_order", FlagsDb.leadsRules("off"))) {
            db.setFlag(ID, Phase.OFF);
            Target target = new Target(RulesFile.parse(FlagsDb.leadsRules("off"), "rules.yaml"));
            // check mode, staleness 100 ms, a quiet poll every 100 ms (+ jitter); no rules-file watch, no overrides
            FlagWatcher w = FlagWatcher.start(target, db.rules.toString(), 100, 100, 0, db::raw, k -> null, k -> null);
            try (Connection app = db.raw()) {
                db.setFlag(ID, Phase.EXPAND);
                assertTrue(target.pollHeld.await(10, SECONDS), "the quiet poll read expand and reads the catalog first");
                db.setFlag(ID, Phase.OFF);
                FlagsDb.await("the phases to be stale", 5_000, w.check()::stale);
                long reads = w.flagReads();
                w.check().beforeStatement(app); // a statement's check, on an application connection: reads off
                assertEquals(reads + 1, w.flagReads(), "the statement's check read the flags");
                target.release.countDown();
                // the held poll applies (or drops) its read, then the same thread polls again
                FlagsDb.await("the next quiet poll", 10_000, () -> w.flagReads() >= reads + 3);
                assertEquals(List.of(), target.moves, "the instance moved to the phase of the older read");
                assertEquals(Phase.OFF, w.effectivePhases().get(ID).phase());
            } finally {
                target.release.countDown();
                w.close();
            }
        }
    }

    /**
     * While the quiet poll has read a change but not applied it yet (held here in the catalog read before the change),
     * the phases in force are those of the read before; once those are older than the staleness bound, a statement
     * must read the flags itself and run in the new phase. (When the poll counted as a read from the moment it was
     * sent, statements skipped their read for a staleness interval and ran in the old phase meanwhile.)
     */
    @Test
    void aStatementDoesNotWaitForAQuietPollStillApplyingItsRead() throws Exception {
        try (FlagsDb db = FlagsDb.create("flag_read_order_wait", FlagsDb.leadsRules("off"))) {
            db.setFlag(ID, Phase.OFF);
            Target target = new Target(RulesFile.parse(FlagsDb.leadsRules("off"), "rules.yaml"));
            // a quiet poll every 1 s (+ jitter), staleness 200 ms
            FlagWatcher w = FlagWatcher.start(target, db.rules.toString(), 1000, 200, 0, db::raw, k -> null, k -> null);
            try (Connection app = db.raw()) {
                db.setFlag(ID, Phase.EXPAND);
                assertTrue(target.pollHeld.await(10, SECONDS), "the quiet poll read expand and reads the catalog first");
                assertTrue(w.check().stale(), "the phases in force are from the poll a second before: stale");
                w.check().beforeStatement(app);
                assertEquals(List.of(ID + " -> expand"), target.moves, "the statement read the flags and moved to expand");
            } finally {
                target.release.countDown();
                w.close();
            }
        }
    }

    /** Records every phase move; holds the watcher thread's first catalog read until released. */
    private static final class Target extends RecordingTarget {
        final CountDownLatch pollHeld = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final AtomicBoolean held = new AtomicBoolean();

        Target(RuleSet rules) {
            super("read-order", rules);
        }

        @Override public void refreshCatalog() {
            if (Thread.currentThread().getName().startsWith("bellows-flags") && held.compareAndSet(false, true)) {
                pollHeld.countDown();
                try {
                    release.await(10, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
