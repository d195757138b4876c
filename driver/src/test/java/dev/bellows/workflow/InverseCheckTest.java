package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bellows check} and {@code inverse: true}: the declaration is verified on the data (an error, exit 1, when
 * the data contradicts it), and without it a lookup on the indexed legacy column gets a warning naming the statement.
 */
class InverseCheckTest {
    @TempDir Path tmp;

    private static final String WORKLOAD = """
        SELECT id FROM tickets WHERE ref = ?;
        SELECT title FROM tickets WHERE id = ?;
        """;

    private Path rules(boolean inverse, String down) throws Exception {
        Path p = tmp.resolve("rules-" + inverse + "-" + down.length() + ".yaml");
        Files.writeString(p, """
            migrations:
              - id: tickets-ref-num
                table: tickets
                from: ref
                to: ref_num
                up: "CASE WHEN ref ~ '^-?[0-9]{1,18}$' THEN ref::bigint END"
                down: "%s"
                %s
                phase: expand
            """.formatted(down, inverse ? "inverse: true" : ""));
        return p;
    }

    private static WfDb.Run check(WfDb db, Path workload, Path rules) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("check", "tickets-ref-num"));
        a.addAll(db.cliConnection());
        a.addAll(java.util.List.of("--rules", rules.toString(), "--file", workload.toString()));
        return WfDb.cli(a.toArray(new String[0]));
    }

    @Test
    void theDeclarationIsVerifiedOnTheDataAndItsAbsenceWarnedAbout() throws Exception {
        WfDb db = WfDb.create("inverse_check");
        db.exec("CREATE TABLE tickets (id int PRIMARY KEY, title text, ref text)",
            "CREATE INDEX tickets_ref_idx ON tickets (ref)",
            "INSERT INTO tickets SELECT g, 't' || g, g::text FROM generate_series(1, 50) g",
            "ALTER TABLE tickets ADD COLUMN ref_num bigint",
            "UPDATE tickets SET ref_num = ref::bigint");
        Path file = tmp.resolve("workload.sql");
        Files.writeString(file, WORKLOAD);

        // not declared: the indexed lookup is named, the check still passes
        WfDb.Run plain = check(db, file, rules(false, "ref_num::text"));
        assertEquals(0, plain.exit(), plain.toString());
        assertTrue(plain.out().contains("WARNING: statement 1 filters on ref, which tickets_ref_idx serves today"), plain.toString());
        assertTrue(plain.out().contains("add `inverse: true`"), plain.toString());
        assertFalse(plain.out().contains("statement 2 filters"), plain.toString());

        // declared and true on the data: no warning, no error
        WfDb.Run good = check(db, file, rules(true, "ref_num::text"));
        assertEquals(0, good.exit(), good.toString());
        assertFalse(good.out().contains("WARNING"), good.toString());
        assertFalse(good.out().contains("ERROR"), good.toString());

        // declared but false: a down that adds a suffix never comes back through up; the check fails with the count
        WfDb.Run bad = check(db, file, rules(true, "ref_num::text || 'x'"));
        System.out.println(plain.out() + "\n" + bad.out());
        assertEquals(1, bad.exit(), bad.toString());
        assertTrue(bad.out().contains("ERROR: migration 'tickets-ref-num' declares inverse: true, but up(down(v)) differs"
            + " from v for 50 distinct values"), bad.toString());
    }
}
