package dev.bellows.sample;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one {@code --scenario} demo beside the rename (table-rename, column-removal) did: the load, its errors and wrong
 * answers, each gate against what the story expects, the row check at the end and the scenario's own checks.
 */
public record ScenarioResult(String scenario, long statements, long errors, long wrongAnswers, Map<String, Long> messages,
                             List<Demo.Gate> gates, Rows rows, Map<String, Boolean> checks) {

    /** Every row the services wrote (and every seed row), read back at the end through the new code. */
    public record Rows(long checked, long unreadable, long mismatched, long missing) {
        public boolean ok() {
            return checked > 0 && unreadable == 0 && mismatched == 0 && missing == 0;
        }
    }

    /** Load ran, no error, no wrong answer, every gate as expected, every row right, every scenario check true. */
    public boolean asExpected() {
        return statements > 0 && errors == 0 && wrongAnswers == 0 && rows.ok()
            && gates.stream().allMatch(g -> g.green() == g.expectedGreen()) && checks.values().stream().allMatch(b -> b);
    }

    void summary(Timeline t) {
        t.part("Summary (" + scenario + ")");
        t.say(String.format(Locale.ROOT, "with Bellows: %,d statements from legacy and new code, %d errors, %d wrong answers",
            statements, errors, wrongAnswers));
        messages.entrySet().stream().limit(5).forEach(e -> t.say(String.format(Locale.ROOT, "  %,7d x %s", e.getValue(), e.getKey())));
        t.say("gates:");
        for (Demo.Gate g : gates) {
            t.say(String.format(Locale.ROOT, "  %-7s %-20s %-9s %-5s (expected %s)", g.when(), g.migration(), g.strict() ? "--strict" : "",
                g.green() ? "green" : "red", g.expectedGreen() ? "green" : "red"));
        }
        t.say(String.format(Locale.ROOT, "rows: %,d checked through the new code, %d unreadable, %d wrong, %d missing",
            rows.checked(), rows.unreadable(), rows.mismatched(), rows.missing()));
        checks.forEach((what, ok) -> t.say((ok ? "  ok      " : "  FAILED  ") + what));
        t.say(asExpected() ? "RESULT: as expected." : "RESULT: NOT as expected; see above.");
    }
}
