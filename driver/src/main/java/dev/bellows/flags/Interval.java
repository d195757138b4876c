package dev.bellows.flags;

import java.util.Locale;

/**
 * Poll intervals written as {@code 500ms}, {@code 5s}, {@code 1m} or a bare number of seconds; {@code off}
 * or {@code 0} turns the poll off.
 */
public final class Interval {
    /** Shortest accepted interval, so a typo cannot turn the poll into a busy loop. */
    public static final long MIN_MILLIS = 50;

    private Interval() {
    }

    /**
     * Milliseconds, 0 for off. Throws {@link IllegalArgumentException} naming {@code key} for anything else.
     */
    public static long parseMillis(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("off") || v.equals("false") || v.equals("0")) return 0;
        long unit = 1000;
        String digits = v;
        if (v.endsWith("ms")) {
            unit = 1;
            digits = v.substring(0, v.length() - 2);
        } else if (v.endsWith("s")) {
            digits = v.substring(0, v.length() - 1);
        } else if (v.endsWith("m")) {
            unit = 60_000;
            digits = v.substring(0, v.length() - 1);
        }
        long millis;
        try {
            millis = Math.multiplyExact(Long.parseLong(digits.trim()), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            millis = -1;
        }
        if (millis == 0) return 0;
        if (millis < MIN_MILLIS) {
            throw new IllegalArgumentException("Bellows setting '" + key + "' must be an interval such as 500ms, 5s or 1m"
                + " (at least " + MIN_MILLIS + "ms), or off; got '" + value + "'");
        }
        return millis;
    }

    /** {@code 1.5 s}, {@code 250 ms}. */
    static String format(long millis) {
        return millis < 1000 ? millis + " ms" : (millis % 1000 == 0 ? millis / 1000 + " s" : millis / 1000.0 + " s");
    }
}
