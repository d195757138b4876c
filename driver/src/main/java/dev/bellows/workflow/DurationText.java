package dev.bellows.workflow;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the CLI takes them: {@code 20ms}, {@code 1.5s}, {@code 2min}, {@code 1h}, or {@code 0}. */
public final class DurationText {
    private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|min|h)?");

    private DurationText() {
    }

    public static Duration parse(String text, String option) throws WorkflowException {
        Matcher m = P.matcher(text == null ? "" : text.strip());
        if (!m.matches() || (m.group(2) == null && Double.parseDouble(m.group(1)) != 0)) {
            throw new WorkflowException(option + " must be a duration such as 20ms, 1s, 2min or 0, got '" + text + "'");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        double millis = switch (unit) {
            case "ms" -> v;
            case "s" -> v * 1000;
            case "m", "min" -> v * 60_000;
            default -> v * 3_600_000;
        };
        return Duration.ofMillis(Math.round(millis));
    }
}
