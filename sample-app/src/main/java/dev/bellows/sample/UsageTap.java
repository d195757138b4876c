package dev.bellows.sample;

import dev.bellows.usage.UsageSink;
import dev.bellows.rules.UsageFact;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo's own view of the usage facts Bellows reports for each executed statement: how many uses of a
 * deprecated column reached the server as written ("physical": passed through or unanalysed) and how many
 * Bellows rewrote, per second for the timeline, and per statement with one call site for the fallback report
 * and gate (used only where this build has no {@code bellows report}/{@code gate}).
 */
public final class UsageTap implements UsageSink {
    private static final Set<String> SKIP = Set.of("java.", "javax.", "jdk.", "sun.", "com.zaxxer.", "org.postgresql.",
        "dev.bellows.jdbc.", "dev.bellows.rules.", "dev.bellows.sample.UsageTap", "dev.bellows.sample.Instance$Worker");

    private final long started = System.currentTimeMillis();
    private final LongAdder physical = new LongAdder();
    private final LongAdder mapped = new LongAdder();
    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();

    /** One statement's use of one deprecated column by one application. */
    record Key(String app, String migration, String column, UsageFact.Kind kind, UsageFact.Treatment treatment, String fingerprint) {
    }

    /** Counts and last use of a {@link Key}, with the first call site seen. */
    static final class Entry {
        final LongAdder count = new LongAdder();
        final AtomicLong lastSeen = new AtomicLong();
        volatile String callSite;
    }

    @Override public void record(String appName, List<UsageFact> facts) {
        long now = System.currentTimeMillis();
        for (UsageFact f : facts) {
            if (f.treatment() == UsageFact.Treatment.REWRITTEN) mapped.increment();
            else physical.increment();
            Entry e = entries.computeIfAbsent(new Key(appName, f.migrationId(), f.column(), f.kind(), f.treatment(), f.fingerprint()),
                k -> new Entry());
            e.count.increment();
            e.lastSeen.set(now);
            if (e.callSite == null) e.callSite = callSite();
        }
    }

    /** Uses that reached the server as written (passed through or unanalysed), since the start. */
    public long physical() { return physical.sum(); }

    /** Uses Bellows rewrote, since the start. */
    public long mapped() { return mapped.sum(); }

    long started() { return started; }

    Map<Key, Entry> entries() { return entries; }

    // The first frame outside the JDK, the pool, pgjdbc, Bellows and the demo's load loop: the service method.
    private static String callSite() {
        return StackWalker.getInstance().walk(frames -> frames
            .filter(f -> SKIP.stream().noneMatch(p -> f.getClassName().startsWith(p)))
            .findFirst()
            .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName()
                + "(" + f.getFileName() + ":" + f.getLineNumber() + ")")
            .orElse("(unknown)"));
    }
}
