package dev.bellows.usage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * How one driver configuration records usage: the {@code bellows.usage} sink ({@code db}, {@code file:<path>},
 * {@code log} or {@code off}), {@code bellows.usage.flushInterval}, {@code bellows.usage.maxFingerprints} and
 * {@code bellows.usage.retention} (how long the {@code db} sink keeps usage; see {@link Rollups}).
 */
public record UsageSettings(Mode mode, Path file, long flushIntervalMillis, int maxFingerprints, Duration retention) {
    /** Where recorded usage goes. */
    public enum Mode {
        /** Tables of the {@code bellows} schema in the application's own database (the default). */
        DB,
        /** JSON lines appended to a file. */
        FILE,
        /** One log line per statement and flush, through {@link System.Logger} {@code dev.bellows.usage}. */
        LOG,
        /** Nothing is recorded. */
        OFF
    }

    public static final long DEFAULT_FLUSH_INTERVAL_MILLIS = 10_000;
    public static final int DEFAULT_MAX_FINGERPRINTS = 10_000;
    /**
     * Usage older than this is deleted from the {@code bellows} schema. Longer than the longest gate window a team
     * is expected to use (a monthly job needs a 31-day window), with room to look back at it.
     */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(35);
    /** The shortest retention: the hourly rollups of the current and the previous day must fit. */
    public static final Duration MIN_RETENTION = Duration.ofDays(2);

    /** Settings with the default retention. */
    public UsageSettings(Mode mode, Path file, long flushIntervalMillis, int maxFingerprints) {
        this(mode, file, flushIntervalMillis, maxFingerprints, DEFAULT_RETENTION);
    }

    public UsageSettings {
        if (retention == null) retention = DEFAULT_RETENTION;
        if (retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("bellows.usage.retention must be at least 2d, got " + Durations.format(retention));
        }
        if (flushIntervalMillis <= 0) throw new IllegalArgumentException("flush interval must be positive");
        if (maxFingerprints < 0) throw new IllegalArgumentException("maxFingerprints must not be negative");
        if (mode == Mode.FILE && file == null) throw new IllegalArgumentException("file mode needs a path");
    }

    /** Database sink, 10 s flushes, 10,000 fingerprints. */
    public static UsageSettings defaults() {
        return new UsageSettings(Mode.DB, null, DEFAULT_FLUSH_INTERVAL_MILLIS, DEFAULT_MAX_FINGERPRINTS);
    }

    /**
     * Parses the three settings; null means the default. Throws {@link IllegalArgumentException} with a message
     * fit for the user.
     */
    public static UsageSettings parse(String usage, String flushInterval, String maxFingerprints) {
        return parse(usage, flushInterval, maxFingerprints, null);
    }

    /** As {@link #parse(String, String, String)}, with {@code bellows.usage.retention} ({@code 35d}). */
    public static UsageSettings parse(String usage, String flushInterval, String maxFingerprints, String retention) {
        Mode mode = Mode.DB;
        Path file = null;
        if (usage != null && !usage.isBlank()) {
            String u = usage.trim();
            String lower = u.toLowerCase(Locale.ROOT);
            if (lower.startsWith("file:")) {
                String p = u.substring("file:".length()).trim();
                if (p.isEmpty()) throw new IllegalArgumentException("bellows.usage=file: needs a path, e.g. file:/var/log/bellows-usage.jsonl");
                mode = Mode.FILE;
                file = Path.of(p);
            } else {
                mode = switch (lower) {
                    case "db" -> Mode.DB;
                    case "log" -> Mode.LOG;
                    case "off" -> Mode.OFF;
                    default -> throw new IllegalArgumentException("bellows.usage must be db, file:<path>, log or off, got '" + u + "'");
                };
            }
        }
        long interval = DEFAULT_FLUSH_INTERVAL_MILLIS;
        if (flushInterval != null && !flushInterval.isBlank()) {
            try {
                interval = Durations.parse(flushInterval).toMillis();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bellows.usage.flushInterval: " + e.getMessage());
            }
        }
        int max = DEFAULT_MAX_FINGERPRINTS;
        if (maxFingerprints != null && !maxFingerprints.isBlank()) {
            try {
                max = Integer.parseInt(maxFingerprints.trim());
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 0) throw new IllegalArgumentException("bellows.usage.maxFingerprints must be a non-negative integer, got '" + maxFingerprints + "'");
        }
        Duration keep = DEFAULT_RETENTION;
        if (retention != null && !retention.isBlank()) {
            try {
                keep = Durations.parse(retention);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bellows.usage.retention: " + e.getMessage());
            }
        }
        return new UsageSettings(mode, file, interval, max, keep);
    }

    @Override public String toString() {
        return (mode == Mode.FILE ? "file:" + file : mode.name().toLowerCase(Locale.ROOT)) + ", every " + flushIntervalMillis + "ms";
    }
}
