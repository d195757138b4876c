package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Precedence of the phase sources (database, then system property / environment, then the rules file). */
class PhaseOverridesTest {
    private static final RuleSet RULES = RuleSet.of(
        Migration.rename("leads-email", "leads", "user_email", "email", Phase.EXPAND),
        Migration.rename("orders.v2", "orders", "status", "state", Phase.OFF),
        Migration.rename("plain", "items", "a", "b", Phase.SWITCH));

    @Test
    void environmentVariableNames() {
        assertEquals("BELLOWS_PHASE_LEADS_EMAIL", PhaseOverrides.environmentVariable("leads-email"));
        assertEquals("BELLOWS_PHASE_ORDERS_V2", PhaseOverrides.environmentVariable("orders.v2"));
        assertEquals("bellows.phase.orders.v2", PhaseOverrides.systemProperty("orders.v2"));
    }

    @Test
    void databaseBeatsProcessBeatsFile() {
        Map<String, String> sys = new HashMap<>();
        Map<String, String> env = new HashMap<>();
        sys.put("bellows.phase.leads-email", "switch");
        env.put("BELLOWS_PHASE_LEADS_EMAIL", "contract");
        env.put("BELLOWS_PHASE_ORDERS_V2", "Expand");
        List<String> invalid = new ArrayList<>();
        Map<String, PhaseOverrides.Source> local = PhaseOverrides.local(RULES, sys::get, env::get, (n, m) -> invalid.add(m));
        assertEquals(Phase.SWITCH, local.get("leads-email").phase()); // system property before environment
        assertEquals("system property bellows.phase.leads-email", local.get("leads-email").origin());
        assertEquals(Phase.EXPAND, local.get("orders.v2").phase());
        assertEquals("environment variable BELLOWS_PHASE_ORDERS_V2", local.get("orders.v2").origin());
        assertTrue(invalid.isEmpty());

        Map<String, PhaseOverrides.Source> r = PhaseOverrides.resolve(RULES, Map.of("orders.v2", Phase.SWITCH), local);
        assertEquals(new PhaseOverrides.Source(Phase.SWITCH, "system property bellows.phase.leads-email"), r.get("leads-email"));
        assertEquals(new PhaseOverrides.Source(Phase.SWITCH, "database flag"), r.get("orders.v2"));
        assertEquals(new PhaseOverrides.Source(Phase.SWITCH, "rules file"), r.get("plain"));
        RuleSet applied = PhaseOverrides.apply(RULES, r);
        assertEquals(Phase.SWITCH, applied.get("orders.v2").phase());
    }

    @Test
    void invalidOverridesAreReportedAndFallThrough() {
        Map<String, String> sys = Map.of("bellows.phase.leads-email", "swich");
        Map<String, String> env = Map.of("BELLOWS_PHASE_LEADS_EMAIL", "contract");
        List<String> invalid = new ArrayList<>();
        Map<String, PhaseOverrides.Source> local = PhaseOverrides.local(RULES, sys::get, env::get, (n, m) -> invalid.add(m));
        assertEquals(Phase.CONTRACT, local.get("leads-email").phase());
        assertEquals(1, invalid.size());
        assertTrue(invalid.get(0).contains("bellows.phase.leads-email") && invalid.get(0).contains("expected off, expand,"),
            invalid.get(0));
    }

    @Test
    void intervals() {
        assertEquals(5000, Interval.parseMillis("k", "5s"));
        assertEquals(5000, Interval.parseMillis("k", "5"));
        assertEquals(250, Interval.parseMillis("k", "250ms"));
        assertEquals(60000, Interval.parseMillis("k", "1m"));
        assertEquals(0, Interval.parseMillis("k", "off"));
        assertEquals(0, Interval.parseMillis("k", "0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Interval.parseMillis("bellows.flags.poll", "soon"));
        assertTrue(e.getMessage().contains("bellows.flags.poll"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Interval.parseMillis("k", "1ms"));
    }
}
