package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The rules-file form of derived migrations: splits, merges, and up/down reading other columns of the row. */
class DerivedRulesFileTest {

    static final String SPLIT = "migrations:\n"
        + "  - id: people-split-name\n"
        + "    table: people\n"
        + "    from: name\n"
        + "    to: [first_name, last_name]\n"
        + "    type: text\n"
        + "    up:\n"
        + "      first_name: \"split_part(name, ' ', 1)\"\n"
        + "      last_name: \"CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END\"\n"
        + "    down: \"CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END\"\n"
        + "    phase: expand\n"
        + "  - id: members-merge-name\n"
        + "    table: members\n"
        + "    from: [given_name, family_name]\n"
        + "    to: full_name\n"
        + "    type: {full_name: jsonb}\n"
        + "    up: jsonb_build_array(given_name, family_name)\n"
        + "    down:\n"
        + "      given_name: full_name ->> 0\n"
        + "      family_name: full_name ->> 1\n"
        + "    phase: switch\n"
        + "  - id: items-amount-eur\n"
        + "    table: items\n"
        + "    from: amount_local\n"
        + "    to: amount_eur\n"
        + "    up: amount_local * rate\n"
        + "    down: amount_eur / rate\n"
        + "    phase: contract\n"
        + "  - id: leads-rename\n"
        + "    table: leads\n"
        + "    from: user_email\n"
        + "    to: contact_email\n"
        + "    phase: expand\n";

    @Test
    void splitsMergesAndInputsAreRead() throws RulesException {
        RuleSet rules = RulesFile.parse(SPLIT, "rules.yaml");
        Migration split = rules.migrations().get(0);
        assertTrue(split.isDerived());
        assertEquals(List.of("name"), split.froms());
        assertEquals(List.of("first_name", "last_name"), split.tos());
        assertEquals("split_part(name, ' ', 1)", split.upOf("first_name"));
        assertEquals("text", split.typeOf("last_name"));
        assertEquals(Set.of(), split.inputs());
        assertEquals(2, split.line());

        Migration merge = rules.migrations().get(1);
        assertEquals(List.of("given_name", "family_name"), merge.froms());
        assertEquals(List.of("full_name"), merge.tos());
        assertEquals("full_name ->> 1", merge.downOf("family_name"));
        assertEquals("jsonb", merge.typeOf("full_name"));
        assertEquals(Phase.SWITCH, merge.phase());

        Migration items = rules.migrations().get(2);
        assertTrue(items.isDerived(), "up and down read another column of the row");
        assertEquals(Set.of("rate"), items.inputs());

        Migration plain = rules.migrations().get(3);
        assertFalse(plain.isDerived());
        assertEquals(List.of("user_email"), plain.froms());
    }

    @Test
    void derivedMigrationsChangeTheContentHashAndKeepTheirFormThroughPhases() throws RulesException {
        RuleSet a = RulesFile.parse(SPLIT, "rules.yaml");
        RuleSet b = RulesFile.parse(SPLIT.replace("full_name ->> 1", "full_name ->> 2"), "rules.yaml");
        assertNotEquals(a.contentHash(), b.contentHash());
        Migration split = a.migrations().get(0);
        assertEquals(split.tos(), split.withPhase(Phase.CONTRACT).tos());
        assertEquals(split.upOf("last_name"), split.withPhase(Phase.CONTRACT).upOf("last_name"));
    }

    @Test
    void anotherMigrationMayNotTakeADerivedMigrationsColumnOrInput() {
        RulesException e = assertThrows(RulesException.class, () -> RulesFile.parse(SPLIT
            + "  - id: b\n    table: items\n    from: rate\n    to: rate2\n    phase: expand\n", "rules.yaml"));
        assertTrue(e.getMessage().contains("belongs to derived migration 'items-amount-eur'"), e.getMessage());
        assertEquals("from", e.key());
    }

    static final String KEEP = "migrations:\n  - id: posts-slug\n    table: posts\n    from: title\n    to: slug\n"
        + "    keep_from: true\n    up: lower(title)\n    phase: PHASE\n";

    @Test
    void keepFromHasNoDownAndNeverGoesPastExpand() throws RulesException {
        Migration m = RulesFile.parse(KEEP.replace("PHASE", "expand"), "rules.yaml").migrations().get(0);
        assertTrue(m.isDerived() && m.keepsFrom());
        assertEquals(Phase.EXPAND, m.withPhase(Phase.SWITCH).phase(), "a flag saying switch cannot move it: the old column stays the truth");
        RulesException late = assertThrows(RulesException.class, () -> RulesFile.parse(KEEP.replace("PHASE", "switch"), "rules.yaml"));
        assertEquals("phase", late.key());
        RulesException down = assertThrows(RulesException.class, () -> RulesFile.parse(
            KEEP.replace("PHASE", "expand") + "    down: slug\n", "rules.yaml"));
        assertEquals("down", down.key());
        RulesException odd = assertThrows(RulesException.class, () -> RulesFile.parse(
            KEEP.replace("PHASE", "expand").replace("keep_from: true", "keep_from: yes"), "rules.yaml"));
        assertEquals("keep_from", odd.key());
    }
}
