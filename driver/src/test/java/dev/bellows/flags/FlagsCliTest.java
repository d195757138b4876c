package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code bellows flags set|list|history}: exit codes, refusals, --force, the record of every change. */
class FlagsCliTest {
    private static final String RULES = FlagsDb.leadsRules("off")
        + "  - id: leads-phone\n"
        + "    table: leads\n"
        + "    from: phone\n"
        + "    to: mobile\n"
        + "    phase: off\n";
    private FlagsDb db;
    private String rules;

    @BeforeEach
    void setUp() throws Exception {
        db = FlagsDb.create("flagscli", RULES);
        rules = db.rules.toString();
        // leads.mobile does not exist yet: leads-phone cannot leave off.
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text, phone text)");
    }

    @AfterEach
    void tearDown() throws Exception {
        db.close();
    }

    @Test
    void badInputIsAnErrorWithExitCode2() throws Exception {
        assertEquals(2, db.cli("flags", "set", "leads-email", "swich", "--rules", rules));
        assertTrue(db.err.contains("unknown phase 'swich' (expected off, expand, switch or contract)"), db.err);

        assertEquals(2, db.cli("flags", "set", "leads-mail", "switch", "--rules", rules));
        assertTrue(db.err.contains("unknown migration id 'leads-mail'") && db.err.contains("(known: leads-email, leads-phone)"),
            db.err);

        assertEquals(2, db.cli("flags", "set", "leads-email", "expand"));
        assertTrue(db.err.contains("no rules file"), db.err);

        Path bad = db.dir.resolve("bad.yaml");
        Files.writeString(bad, FlagsDb.leadsRules("expand").replace("to: email", "to: user_email"));
        assertEquals(2, db.cli("flags", "set", "leads-email", "expand", "--rules", bad.toString()));
        assertTrue(db.err.contains(bad + ":5: migration 'leads-email', key 'to'"), db.err);

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertEquals(2, db.cliRaw("flags", "set", "leads-email", "expand", "--rules", rules,
            "--url", "jdbc:postgresql://127.0.0.1:" + port + "/nowhere"));
        assertTrue(db.err.contains("cannot connect to jdbc:postgresql://127.0.0.1:" + port + "/nowhere"), db.err);
        assertEquals(2, db.cliRaw("flags", "list", "--url", "jdbc:postgresql://127.0.0.1:" + port + "/nowhere"));
        assertEquals(2, db.cliRaw("flags", "history", "--url", "jdbc:postgresql://127.0.0.1:" + port + "/nowhere"));

        // Reading creates nothing: a database without flags simply has none.
        assertEquals(0, db.cli("flags", "list"));
        assertTrue(db.out.contains("(no flags set)"), db.out);
        assertEquals(0, db.cli("flags", "history"));
        assertTrue(db.out.contains("(no changes recorded)"), db.out);
        assertEquals(null, db.query("SELECT to_regclass('bellows.flags')"));
    }

    @Test
    void unsafeMovesAreRefusedWithoutForceAndEveryChangeIsRecorded() throws Exception {
        BellowsRuntime runtime = db.instance("flagscli").runtime();
        String me = System.getProperty("user.name") + "@" + FlagStore.hostName();

        // Skipping a phase.
        assertEquals(1, db.cli("flags", "set", "leads-email", "switch", "--rules", rules));
        assertTrue(db.err.contains("refused to move leads-email from off to switch") && db.err.contains("skips expand")
            && db.err.contains("--force"), db.err);
        // A phase other than off without the new column.
        assertEquals(1, db.cli("flags", "set", "leads-phone", "expand", "--rules", rules));
        assertTrue(db.err.contains("the new column public.leads.mobile does not exist"), db.err);
        assertEquals("0", db.query("SELECT count(*) FROM bellows.flag_history"), "refusals write nothing");

        // One step at a time: each applies to the running instance within a second of the command.
        long start = System.nanoTime();
        assertEquals(0, db.cli("flags", "set", "leads-email", "expand", "--rules", rules, "--reason", "ticket 42: start"));
        assertTrue(db.out.contains("leads-email: off (rules file) -> expand"), db.out);
        FlagsDb.awaitPhase(runtime, "leads-email", Phase.EXPAND, 1_000);
        System.out.printf("flags propagation: bellows flags set (in-process CLI: connect, check, commit) to the"
            + " instance's new phase: %.1f ms%n", (System.nanoTime() - start) / 1e6);
        assertEquals(0, db.cli("flags", "set", "leads-email", "expand", "--rules", rules));
        assertTrue(db.out.contains("already expand"), db.out);
        assertEquals(0, db.cli("flags", "set", "leads-email", "switch", "--rules", rules, "--reason", "backfill done"));
        FlagsDb.awaitPhase(runtime, "leads-email", Phase.SWITCH, 1_000);

        // Contract needs `bellows gate leads-email` to hold; usage tracking has not covered its window yet: refused.
        assertEquals(1, db.cli("flags", "set", "leads-email", "contract", "--rules", rules));
        assertTrue(db.err.contains("bellows gate leads-email does not hold (exit 1)")
            || db.err.contains("bellows gate is not available in this build"), db.err);
        assertEquals(Phase.SWITCH, FlagsDb.phase(runtime, "leads-email"));
        assertEquals(0, db.cli("flags", "set", "leads-email", "contract", "--rules", rules, "--force", "--reason", "gate checked by hand"));
        assertTrue(db.out.contains("forced: bellows gate leads-email was not checked"), db.out);
        FlagsDb.awaitPhase(runtime, "leads-email", Phase.CONTRACT, 1_000);

        // Back from contract once the old column is gone: refused.
        db.exec("ALTER TABLE leads DROP COLUMN user_email");
        assertEquals(1, db.cli("flags", "set", "leads-email", "switch", "--rules", rules));
        assertTrue(db.err.contains("the old column public.leads.user_email is gone"), db.err);
        assertEquals(Phase.CONTRACT, FlagsDb.phase(runtime, "leads-email"));

        // Skipping forward with --force is allowed and recorded as forced.
        db.exec("ALTER TABLE leads ADD COLUMN mobile text");
        assertEquals(0, db.cli("flags", "set", "leads-phone", "switch", "--rules", rules, "--force"));
        assertTrue(db.out.contains("forced: moving leads-phone from off to switch skips expand"), db.out);

        assertEquals(0, db.cli("flags", "history"));
        String[] lines = db.out.strip().split("\n");
        assertEquals(5, lines.length, db.out); // header + 4 changes
        assertTrue(lines[1].contains("leads-email") && lines[1].contains("off -> expand") && lines[1].contains(me)
            && lines[1].contains("ticket 42: start"), lines[1]);
        assertTrue(lines[2].contains("expand -> switch") && lines[2].contains("backfill done"), lines[2]);
        assertTrue(lines[3].contains("switch -> contract (forced)") && lines[3].contains("gate checked by hand"), lines[3]);
        assertTrue(lines[4].contains("leads-phone") && lines[4].contains("off -> switch (forced)"), lines[4]);
        assertEquals(0, db.cli("flags", "history", "leads-phone"));
        assertEquals(2, db.out.strip().split("\n").length, db.out);

        // Who, where, when, why, from and to, straight from the table.
        assertEquals(System.getProperty("user.name") + "|" + FlagStore.hostName() + "|off|expand|ticket 42: start|t",
            db.query("SELECT concat_ws('|', os_user, host, from_phase, to_phase, reason,"
                + " changed_at BETWEEN now() - interval '1 minute' AND now()) FROM bellows.flag_history ORDER BY id LIMIT 1"));

        assertEquals(0, db.cli("flags", "list", "--rules", rules));
        assertTrue(db.out.matches("(?s).*leads-email\\s+contract\\s+flag\\s+\\S+ \\S+\\s+" + java.util.regex.Pattern.quote(me)
            + "\\s+gate checked by hand.*"), db.out);
        assertTrue(db.out.matches("(?s).*leads-phone\\s+switch\\s+flag.*"), db.out);
        assertEquals(0, db.cli("flags", "list"));
        assertTrue(db.out.contains("leads-email"), db.out);
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 30);
    }
}
