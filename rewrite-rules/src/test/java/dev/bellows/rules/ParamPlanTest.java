package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The client → server parameter mapping both ways. */
class ParamPlanTest {
    @Test
    void mapsBothWays() {
        ParamPlan p = ParamPlan.of(3, 1, 2, 2, 3, 2);
        assertEquals(5, p.serverCount());
        assertEquals(3, p.clientCount());
        assertArrayEquals(new int[] {2, 3, 5}, p.serversFor(2));
        assertArrayEquals(new int[] {1}, p.serversFor(1));
        assertEquals(2, p.clientFor(5));
        assertTrue(p.hasDuplicates());
        assertFalse(p.isIdentity());
        assertEquals("[1, 2, 2, 3, 2]", p.toString());
    }

    @Test
    void identity() {
        assertTrue(ParamPlan.identity(4).isIdentity());
        assertFalse(ParamPlan.identity(4).hasDuplicates());
    }

    @Test
    void rejectsOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> ParamPlan.of(2, 1, 3));
    }

    @Test
    void typeChangeInsideUpDuplicatesEachUse() {
        Migration m = Migration.typeChange("m", "t", "a", "b", "CASE WHEN a = 'x' THEN 1 WHEN a = 'y' THEN 2 END",
            "CASE b WHEN 1 THEN 'x' WHEN 2 THEN 'y' END", Phase.EXPAND);
        Rewriter rw = Rewriter.create(RuleSet.of(m), Catalog.of(java.util.Map.of("t", java.util.List.of("id", "a", "b"))));
        Rewrite r = rw.rewrite("UPDATE t SET a = ? WHERE id = ?");
        assertEquals("UPDATE t SET a = ?, b = (CASE WHEN (?) = 'x' THEN 1 WHEN (?) = 'y' THEN 2 END) WHERE id = ?", r.sql());
        assertEquals("[1, 1, 1, 2]", r.params().toString());
    }
}
