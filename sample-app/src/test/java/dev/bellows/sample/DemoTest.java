package dev.bellows.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's demo, scripted with short durations: the incident replay without Bellows produces errors, the same
 * change through Bellows produces none, every gate says what the story says, and every row is right at the end.
 */
class DemoTest {

    @Test
    @Timeout(value = 150)
    void theIncidentFailsAndTheSafeMigrationDoesNot() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        Demo.Result r;
        long start = System.nanoTime();
        try {
            r = Demo.run(out, Settings.fast());
        } finally {
            // The whole story lands in the test's report file (target/surefire-reports/...-output.txt).
            System.out.print(buffer.toString(StandardCharsets.UTF_8));
        }
        String text = buffer.toString(StandardCharsets.UTF_8);
        System.out.printf("demo took %.1f s%n", Duration.ofNanos(System.nanoTime() - start).toMillis() / 1000.0);

        // Part 1, without Bellows: the legacy version fails once the column is renamed under it.
        Demo.Incident incident = r.incident();
        assertTrue(incident.legacyErrors() > 0, "the plain rename must break the legacy version");
        assertTrue(incident.legacyMessages().keySet().stream().anyMatch(m -> m.contains("\"user_email\" does not exist")),
            () -> "expected PostgreSQL's missing-column error, got " + incident.legacyMessages());
        assertEquals(0, incident.newErrors(), () -> "the new version runs on the renamed column: " + text);

        // Part 2, with Bellows: zero errors and zero wrong answers from both versions, throughout.
        Demo.Safe safe = r.safe();
        assertTrue(safe.statements() > 1_000, "the load must actually run: " + safe.statements());
        assertEquals(0, safe.errors(), () -> "errors under Bellows: " + safe.messages());
        assertEquals(0, safe.wrongAnswers(), () -> "wrong answers under Bellows: " + safe.messages());

        // The gates: red while the old column is read, green (and --strict red) after switch, --strict green at the end.
        assertEquals(6, safe.gates().size(), safe.gates()::toString);
        for (Demo.Gate g : safe.gates()) {
            assertEquals(g.expectedGreen(), g.green(), () -> "gate " + g + "\n" + text);
        }

        // Every row: new = up(old) while both existed; after the drop, every row read by the new code as written.
        Demo.RowCheck rows = safe.rows();
        assertEquals(0, rows.leadsDiverged(), "leads with contact_email <> user_email before the drop");
        assertEquals(0, rows.ordersDiverged(), "orders with status_code <> up(status) before the drop");
        assertTrue(rows.leadsChecked() > Settings.fast().seedLeads(), "every seeded and written lead is checked");
        assertTrue(rows.ordersChecked() > Settings.fast().seedOrders(), "every seeded and written order is checked");
        assertEquals(0, rows.unreadable(), "rows the new code cannot read after the drop");
        assertEquals(0, rows.mismatched(), "rows that differ from what the services wrote");
        assertEquals(0, rows.missing(), "rows the services wrote that are gone");
        assertTrue(r.asExpected());
        assertTrue(text.contains("RESULT: as expected."), "the summary says so too");
    }
}
