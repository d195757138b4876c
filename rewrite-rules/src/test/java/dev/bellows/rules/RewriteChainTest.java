package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Chains ({@code a -> b}, then {@code b -> c}) and several migrations on one table: stages composed in order. */
class RewriteChainTest {
    static final Catalog CATALOG = Catalog.of(Map.of("leads",
        List.of("id", "name", "user_email", "contact_email", "email", "full_name")));

    static Rewriter rw(Phase first, Phase second, Phase other) {
        return Rewriter.create(RuleSet.of(
            Migration.rename("m1", "leads", "user_email", "contact_email", first),
            Migration.rename("m2", "leads", "contact_email", "email", second),
            Migration.rename("m3", "leads", "name", "full_name", other)), CATALOG);
    }

    @Test
    void stagesFollowTheRulesOrder() {
        List<List<Migration>> s = Rewriter.stages(rw(Phase.OFF, Phase.OFF, Phase.OFF).rules());
        assertEquals(2, s.size());
        assertEquals(List.of("m1", "m3"), s.get(0).stream().map(Migration::id).toList());
        assertEquals(List.of("m2"), s.get(1).stream().map(Migration::id).toList());
    }

    @Test
    void readsComposeThroughBothLinks() {
        Rewrite r = rw(Phase.CONTRACT, Phase.SWITCH, Phase.SWITCH).rewrite("SELECT user_email, name FROM leads WHERE user_email = ?");
        assertEquals("SELECT email AS user_email, full_name AS name FROM leads WHERE email = ?", r.sql());
        assertEquals("[m1:read:rewritten, m3:read:rewritten, m2:read:rewritten]", r.facts().toString());
        assertEquals("SELECT user_email, name FROM leads WHERE user_email = ?", r.facts().get(2).fingerprint(),
            "the second link's facts name the application's statement");
    }

    @Test
    void writesReachEveryColumnOfTheChain() {
        Rewrite r = rw(Phase.SWITCH, Phase.EXPAND, Phase.OFF).rewrite("INSERT INTO leads (name, user_email) VALUES (?, ?)");
        assertEquals("INSERT INTO leads (name, user_email, contact_email, email) VALUES (?, ?, ?, ?)", r.sql());
        assertEquals("[1, 2, 2, 2]", String.valueOf(r.params()));
        Rewrite u = rw(Phase.SWITCH, Phase.EXPAND, Phase.OFF).rewrite("UPDATE leads SET user_email = ? WHERE id = ?");
        assertEquals("[1, 1, 1, 2]", String.valueOf(u.params()), u.sql());
    }

    @Test
    void theMiddleColumnIsItselfMigrated() {
        Rewrite r = rw(Phase.CONTRACT, Phase.SWITCH, Phase.OFF).rewrite("SELECT contact_email FROM leads");
        assertEquals("SELECT email AS contact_email FROM leads", r.sql());
        assertEquals("[m2:read:rewritten]", r.facts().toString());
    }

    @Test
    void offAndExpandLeaveReadsAlone() {
        Rewrite r = rw(Phase.EXPAND, Phase.OFF, Phase.OFF).rewrite("SELECT user_email FROM leads");
        assertEquals("SELECT user_email FROM leads", r.sql());
        assertNull(r.params());
    }
}
