package dev.bellows.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The demo's command line, as the README passes it through {@code -Dexec.args}. */
class DemoOptionsTest {

    @Test
    void theRenameIsTheDefault() {
        Demo.Options o = Demo.parse();
        assertEquals("rename", o.scenario());
        assertEquals(Settings.defaults(), o.settings());
        assertFalse(o.help());
    }

    @Test
    void scenarioTakesTheNextArgumentOrAnEqualsSign() {
        assertEquals("table-rename", Demo.parse("--scenario", "table-rename").scenario());
        Demo.Options o = Demo.parse("--scenario=column-removal", "--fast");
        assertEquals("column-removal", o.scenario());
        assertEquals(Settings.fast(), o.settings());
        assertEquals("all", Demo.parse("--fast", "--scenario", "all").scenario());
    }

    @Test
    void noCliAndFastCombineInEitherOrder() {
        assertFalse(Demo.parse("--no-cli", "--fast").settings().preferCli());
        assertEquals(Settings.fast().seedLeads(), Demo.parse("--no-cli", "--fast").settings().seedLeads());
        assertFalse(Demo.parse("--fast", "--no-cli").settings().preferCli());
    }

    @Test
    void badInputIsRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Demo.parse("--scenario", "drop-table"));
        assertTrue(e.getMessage().contains("drop-table") && e.getMessage().contains("table-rename"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Demo.parse("--scenario"));
        assertThrows(IllegalArgumentException.class, () -> Demo.parse("--scenario", "table-rename", "--no-cli"));
        assertThrows(IllegalArgumentException.class, () -> Demo.parse("--sceanrio", "table-rename"));
        assertTrue(Demo.parse("--help").help());
    }
}
