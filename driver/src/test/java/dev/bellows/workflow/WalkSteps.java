package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/** The steps the walk tests take: the CLI against one database, and waiting for the fleet or the load. */
final class WalkSteps {
    private WalkSteps() {
    }

    /** {@code bellows args… conn…} in this JVM. */
    static WfDb.Run cli(List<String> conn, String... args) {
        String[] all = new String[args.length + conn.size()];
        System.arraycopy(args, 0, all, 0, args.length);
        for (int i = 0; i < conn.size(); i++) all[args.length + i] = conn.get(i);
        return WfDb.cli(all);
    }

    static WfDb.Run ok(WfDb.Run r) {
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    /** Runs the command every 500 ms until {@code done} holds (40 s at most). */
    static WfDb.Run await(List<String> conn, String[] args, Predicate<WfDb.Run> done) throws InterruptedException {
        long deadline = System.nanoTime() + 40_000_000_000L;
        while (true) {
            WfDb.Run r = cli(conn, args);
            if (done.test(r)) return r;
            if (System.nanoTime() > deadline) fail("never satisfied within 40 s: " + r);
            Thread.sleep(500);
        }
    }

    /** Waits until {@code statements} more statements ran (30 s at most). */
    static void awaitLoad(AtomicLong ops, Collection<String> problems, long statements) throws InterruptedException {
        long target = ops.get() + statements;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (ops.get() < target) {
            if (System.nanoTime() > deadline) fail("the load stalled at " + ops.get() + " statements: " + problems);
            Thread.sleep(20);
        }
    }
}
