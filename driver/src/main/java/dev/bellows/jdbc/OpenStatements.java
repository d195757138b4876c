package dev.bellows.jdbc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The open statements of one connection, so closing it closes them. Lock-free: adding takes a free slot with
 * one compare-and-set, removing clears the slot the statement remembers; no hashing and, once the slots
 * exist, no allocation. Slots live in chunks that are appended, never copied, so no update is ever lost.
 */
final class OpenStatements {
    private static final int CHUNK = 16;
    private final Chunk head = new Chunk();

    /** A fixed run of slots; the next one is appended when all are taken. */
    static final class Chunk {
        final AtomicReferenceArray<AbstractStatementWrapper<?>> slots = new AtomicReferenceArray<>(CHUNK);
        volatile Chunk next;
    }

    void add(AbstractStatementWrapper<?> s) {
        Chunk c = head;
        for (;;) {
            for (int i = 0; i < CHUNK; i++) {
                if (c.slots.get(i) == null && c.slots.compareAndSet(i, null, s)) {
                    s.trackedIn = c;
                    s.trackedAt = i;
                    return;
                }
            }
            Chunk next = c.next;
            if (next == null) {
                synchronized (this) { // only when more than a chunk's worth are open at once
                    if (c.next == null) c.next = new Chunk();
                    next = c.next;
                }
            }
            c = next;
        }
    }

    void remove(AbstractStatementWrapper<?> s) {
        Chunk c = s.trackedIn;
        if (c != null) c.slots.compareAndSet(s.trackedAt, s, null);
    }

    /** Empties the slots and returns what they held. */
    List<AbstractStatementWrapper<?>> drain() {
        List<AbstractStatementWrapper<?>> out = new ArrayList<>();
        for (Chunk c = head; c != null; c = c.next) {
            for (int i = 0; i < CHUNK; i++) {
                AbstractStatementWrapper<?> s = c.slots.getAndSet(i, null);
                if (s != null) out.add(s);
            }
        }
        return out;
    }

    int size() {
        int n = 0;
        for (Chunk c = head; c != null; c = c.next) {
            for (int i = 0; i < CHUNK; i++) {
                if (c.slots.get(i) != null) n++;
            }
        }
        return n;
    }
}
