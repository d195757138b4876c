package dev.bellows.usage;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How one driver configuration records usage: the {@code bellows.usage} sink ({@code db}, {@code file:<path>},
 * {@code log} or {@code off}), {@code bellows.usage.flushInterval} and {@code bellows.usage.maxFingerprints}.
 */
public record UsageSettings(Mode mode, Path file, long flushIntervalMillis, int maxFingerprints) {
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

    public UsageSettings {
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
        return new UsageSettings(mode, file, interval, max);
    }

    @Override public String toString() {
        return (mode == Mode.FILE ? "file:" + file : mode.name().toLowerCase(Locale.ROOT)) + ", every " + flushIntervalMillis + "ms";
    }
}
