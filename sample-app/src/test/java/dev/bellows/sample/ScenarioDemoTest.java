package dev.bellows.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's {@code --scenario table-rename} and {@code --scenario column-removal} demos with short durations, on the
 * embedded server: legacy and new code under load through every phase and the plan's DDL, zero errors, zero wrong
 * answers, each gate as the story says, and every row right at the end.
 */
class ScenarioDemoTest {

    @Test
    @Timeout(value = 120)
    void tableRenameUnderLoad() throws Exception {
        Run run = run("table-rename");
        ScenarioResult r = run.result;
        assertSafe(r, run.text);
        // red in expand (legacy names orders unrewritten), green in switch, --strict red in switch, --strict green at the end
        assertEquals(List.of(false, true, false, true), r.gates().stream().map(Demo.Gate::green).toList(), run.text);
        assertTrue(r.rows().checked() > Settings.fast().seedLeads() + Settings.fast().seedOrders(), "seeded and written rows checked");
        assertTrue(run.text.contains("ALTER TABLE public.orders RENAME TO purchases"), "the switch step ran under load: " + run.text);
        assertTrue(run.text.contains("CREATE VIEW public.purchases AS SELECT * FROM public.orders"), run.text);
    }

    @Test
    @Timeout(value = 120)
    void columnRemovalUnderLoad() throws Exception {
        Run run = run("column-removal");
        ScenarioResult r = run.result;
        assertSafe(r, run.text);
        assertEquals(List.of(false, true, false, true), r.gates().stream().map(Demo.Gate::green).toList(), run.text);
        assertTrue(r.rows().checked() > Settings.fast().seedLeads(), "seeded and written leads checked");
        assertTrue(run.text.contains("DROP COLUMN IF EXISTS fax"), "the contract step ran under load: " + run.text);
        assertTrue(run.text.contains("WeeklyJob"), "the strict gate names the weekly job's call site: " + run.text);
    }

    private static void assertSafe(ScenarioResult r, String text) {
        assertTrue(r.statements() > 1_000, "the load must actually run: " + r.statements());
        assertEquals(0, r.errors(), () -> "errors: " + r.messages() + "\n" + text);
        assertEquals(0, r.wrongAnswers(), () -> "wrong answers: " + r.messages() + "\n" + text);
        for (Demo.Gate g : r.gates()) assertEquals(g.expectedGreen(), g.green(), () -> "gate " + g + "\n" + text);
        ScenarioResult.Rows rows = r.rows();
        assertEquals(0, rows.unreadable(), "rows without a value");
        assertEquals(0, rows.mismatched(), "rows that differ from what was written");
        assertEquals(0, rows.missing(), "rows written but gone");
        r.checks().forEach((what, ok) -> assertTrue(ok, what + "\n" + text));
        assertTrue(r.asExpected());
        assertTrue(text.contains("RESULT: as expected."), "the summary says so too");
    }

    private record Run(ScenarioResult result, String text) {
    }

    private static Run run(String scenario) throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        ScenarioResult r;
        try {
            r = Demo.runScenario(out, Settings.fast(), scenario);
        } finally {
            // The whole story lands in the test's report file (target/surefire-reports/...-output.txt).
            System.out.print(buffer.toString(StandardCharsets.UTF_8));
        }
        return new Run(r, buffer.toString(StandardCharsets.UTF_8));
    }
}
