package dev.bellows.sample;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every row should hold, as the services wrote it. Each row is written by one worker only (seed rows by
 * nobody after seeding), so the last value a worker saw committed is the value the row must have: a lost or
 * diverged write shows up as a mismatch at the end.
 */
public final class Expectations {
    final Map<Long, String> leadEmails = new ConcurrentHashMap<>();
    final Map<Long, OrderStatus> orderStatuses = new ConcurrentHashMap<>();

    public int leads() { return leadEmails.size(); }

    public int orders() { return orderStatuses.size(); }
}
