package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rules file caught while it is being written is never installed: a changed file is read only after its stamp held
 * still for one poll, and an empty one is rejected (read half-written, it would drop every migration and with them the
 * dual writes). Each {@code check} is one poll of the watcher thread.
 */
class RulesFileStabilityTest {
    @TempDir Path dir;

    @Test
    void aChangedFileIsInstalledOnlyOnceItHeldStillForOnePoll() throws Exception {
        Path file = dir.resolve("rules.yaml");
        write(file, FlagsDb.leadsRules("expand"), 1);
        RuleSet base = RulesFile.load(file.toString(), null);
        RulesFileWatch watch = RulesFileWatch.of(file.toString(), "test");
        assertNull(watch.check(base), "first sight of the file");
        assertNull(watch.check(base), "unchanged rules");

        write(file, FlagsDb.leadsRules("switch"), 2);
        assertNull(watch.check(base), "changed since the last poll: not read yet");
        RuleSet loaded = watch.check(base);
        assertNotNull(loaded, "held still for one poll: installed");
        assertEquals(Phase.SWITCH, loaded.get("leads-email").phase());
        assertNull(watch.check(loaded));

        // the first half of a truncate-then-write: the rules stay
        write(file, "", 3);
        assertNull(watch.check(loaded));
        assertNull(watch.check(loaded), "an empty file is rejected, not installed as no migrations");
        assertNull(watch.check(loaded));
        // the second half lands between two polls: still read only once it held still
        write(file, FlagsDb.leadsRules("contract"), 4);
        assertNull(watch.check(loaded));
        RuleSet after = watch.check(loaded);
        assertNotNull(after);
        assertEquals(Phase.CONTRACT, after.get("leads-email").phase());

        // a file that keeps changing between polls is never read
        for (int i = 5; i < 10; i++) {
            write(file, FlagsDb.leadsRules(i % 2 == 0 ? "expand" : "switch"), i);
            assertNull(watch.check(after), "still being written at poll " + i);
        }
    }

    private static void write(Path file, String text, int second) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_700_000_000_000L + second * 1000L));
    }
}
