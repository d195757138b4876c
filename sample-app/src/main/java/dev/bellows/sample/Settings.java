package dev.bellows.sample;

import java.time.Duration;

/**
 * How long and how hard the demo runs.
 *
 * @param legacyThreads  workers per legacy instance
 * @param newThreads     workers per new instance
 * @param seedLeads      leads in the table before anything starts
 * @param seedOrders     orders in the table before anything starts
 * @param warmUp         load before the first change, in each part
 * @param incidentGap    how long the legacy version keeps running after the plain rename (the write-up's 4 minutes)
 * @param stepLoad       load between two steps of the safe migration
 * @param window         the gate's usage window ({@code bellows gate --window}); the write-up's "days" shrunk
 * @param batch          backfill batch size
 * @param pauseMicros    pause of each worker between two statements (keeps the demo readable, and the machine calm)
 * @param tick           how often the timeline prints a line
 * @param preferCli      use the real {@code bellows} commands where this build has them; false forces the fallbacks
 */
public record Settings(int legacyThreads, int newThreads, int seedLeads, int seedOrders, Duration warmUp,
                       Duration incidentGap, Duration stepLoad, Duration window, int batch, long pauseMicros,
                       Duration tick, boolean preferCli) {

    /** The interactive demo: about a minute and a half. */
    public static Settings defaults() {
        return new Settings(3, 3, 20_000, 20_000, Duration.ofSeconds(3), Duration.ofSeconds(6), Duration.ofSeconds(3),
            Duration.ofSeconds(3), 2_000, 2_000, Duration.ofSeconds(1), true);
    }

    /** Short durations for the test. */
    public static Settings fast() {
        return new Settings(2, 2, 4_000, 4_000, Duration.ofMillis(1500), Duration.ofSeconds(2), Duration.ofMillis(1500),
            Duration.ofSeconds(3), 1_000, 2_000, Duration.ofSeconds(1), true);
    }

    public Settings withPreferCli(boolean prefer) {
        return new Settings(legacyThreads, newThreads, seedLeads, seedOrders, warmUp, incidentGap, stepLoad, window, batch,
            pauseMicros, tick, prefer);
    }

    /** The window as the CLI takes it, e.g. {@code 3s}. */
    public String windowArg() {
        long ms = window.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
