package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.util.List;
import java.util.Map;

/**
 * One flush: the usage counted since the previous one and the instance's heartbeat. Frozen once attempted, so
 * a retry after an unknown outcome writes exactly the same thing under the same sequence number.
 */
record Batch(long seq, List<Row> rows, Heartbeat heartbeat) {

    /** Usage of one key since the previous flush. Kinds and treatments are lower-case labels. */
    record Row(String migrationId, String column, String kind, String treatment, String fingerprint,
               String fingerprintHash, String app, long count, long firstSeen, long lastSeen, String callSite) {
        /** Rows whose fingerprint detail was dropped because the cap was reached have an empty fingerprint. */
        boolean overflow() { return fingerprint.isEmpty(); }
    }

    /** What an instance says about itself at each flush. */
    record Heartbeat(String instanceId, String appName, String host, long pid, long startedAt, long flushIntervalMillis,
                     Map<String, String> phases, String rulesHash, String rulesSource, List<Migration> migrations,
                     long overflowed, boolean stopped) {
    }
}
