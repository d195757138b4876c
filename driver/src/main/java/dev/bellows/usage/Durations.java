package dev.bellows.usage;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Parses the durations of settings and CLI options: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 8d}, or ISO-8601 ({@code PT10S}). */
public final class Durations {
    private Durations() {
    }

    /**
     * A positive duration. A bare number is seconds. Throws {@link IllegalArgumentException} naming what was
     * expected.
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("empty duration");
        String s = text.trim().toLowerCase(Locale.ROOT);
        Duration d;
        try {
            if (s.startsWith("p")) {
                d = Duration.parse(s.toUpperCase(Locale.ROOT));
            } else {
                int i = 0;
                while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
                if (i == 0) throw new IllegalArgumentException();
                double n = Double.parseDouble(s.substring(0, i));
                String unit = s.substring(i).trim();
                double millis = switch (unit) {
                    case "ms" -> n;
                    case "", "s", "sec", "secs", "second", "seconds" -> n * 1_000;
                    case "m", "min", "mins", "minute", "minutes" -> n * 60_000;
                    case "h", "hour", "hours" -> n * 3_600_000;
                    case "d", "day", "days" -> n * 86_400_000;
                    case "w", "week", "weeks" -> n * 7 * 86_400_000;
                    default -> throw new IllegalArgumentException();
                };
                d = Duration.ofMillis(Math.round(millis));
            }
        } catch (IllegalArgumentException | DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (expected e.g. 500ms, 10s, 5m, 2h, 8d)");
        }
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("'" + text + "' must be a positive duration");
        return d;
    }

    /** {@code 8d}, {@code 2h30m}, {@code 1.5s}: the shortest readable form. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms < 1_000) return ms + "ms";
        if (ms % 1_000 != 0 && ms < 60_000) return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        long s = ms / 1_000;
        StringBuilder sb = new StringBuilder();
        long days = s / 86_400;
        if (days > 0) sb.append(days).append('d');
        long h = s % 86_400 / 3_600;
        if (h > 0) sb.append(h).append('h');
        long m = s % 3_600 / 60;
        if (m > 0) sb.append(m).append('m');
        long sec = s % 60;
        if (sec > 0 || sb.length() == 0) sb.append(sec).append('s');
        return sb.toString();
    }
}
