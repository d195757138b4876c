package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@link Runbook} turns a runbook line into arguments: quotes and variables as a shell does them. */
class RunbookTest {

    @Test
    void replacementsEditTheRunbooksWordsNeverAVariablesValue() {
        Runbook book = new Runbook();
        // a random database name once contained "8d" and the window replacement renamed the database
        book.vars.put("URL", "jdbc:postgresql://h:1/runbook_288def20_78?user=u");
        book.vars.put("ID", "m8d");
        book.replace.put("db/bellows/", "/tmp/x8d/db/bellows/");
        book.replace.put("8d", "4s");
        assertEquals(List.of("bellows", "gate", "m8d", "--url", "jdbc:postgresql://h:1/runbook_288def20_78?user=u",
                "--window", "4s", "--out", "/tmp/x8d/db/bellows/plan", "--reason", "green over 4s"),
            book.argv("bellows gate $ID --url \"$URL\" --window 8d --out db/bellows/plan --reason \"green over 8d\""));
    }
}
