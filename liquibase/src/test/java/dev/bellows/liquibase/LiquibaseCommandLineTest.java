package dev.bellows.liquibase;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import liquibase.integration.commandline.LiquibaseCommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Liquibase's own command line ({@code liquibase --url=jdbc:bellows:postgresql:… update}), parsed and run by its
 * {@link LiquibaseCommandLine} in this JVM, with no driver option: update, status and validate; the legacy INSERT
 * of a change set after its own addColumn goes through Bellows in expand and stores both columns.
 */
class LiquibaseCommandLineTest {
    private final PostgresFixture pg = PostgresFixture.get();
    @TempDir Path tmp;

    private static final String CHANGELOG = """
        databaseChangeLog:
          - changeSet:
              id: 1-legacy
              author: bellows
              changes:
                - createTable:
                    tableName: leads
                    columns:
                      - column: {name: id, type: bigint, constraints: {primaryKey: true}}
                      - column: {name: user_email, type: text}
          - changeSet:
              id: 2-expand
              author: bellows
              changes:
                - addColumn:
                    tableName: leads
                    columns:
                      - column: {name: contact_email, type: text}
          - changeSet:
              id: 3-seed
              author: bellows
              changes:
                - sql: {sql: "INSERT INTO leads (id, user_email) VALUES (1, 'a@x.org')"}
        """;

    private int liquibase(String url, String... command) {
        List<String> args = new ArrayList<>(List.of("--url=" + url, "--username=" + pg.user(), "--password=" + pg.password(),
            "--changelog-file=changelog.yaml", "--search-path=" + tmp, "--show-banner=false",
            "--analytics-enabled=false")); // it would post usage data to liquibase.com and wait for the network
        args.addAll(List.of(command));
        return new LiquibaseCommandLine().execute(args.toArray(new String[0]));
    }

    @Test
    void theLiquibaseCommandLineRunsOnTheBellowsUrl() throws Exception {
        Files.writeString(tmp.resolve("changelog.yaml"), CHANGELOG);
        Path rules = tmp.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: leads-contact-email\n    table: leads\n    from: user_email\n"
            + "    to: contact_email\n    phase: expand\n");
        String pgUrl = pg.createDatabase("lb_cli");
        String url = "jdbc:bellows:" + pgUrl.substring("jdbc:".length()) + "?bellows.rules=" + rules
            + "&bellows.flags.poll=off&bellows.usage=off";

        assertEquals(0, liquibase(url, "update"));
        assertEquals(0, liquibase(url, "status"));
        assertEquals(0, liquibase(url, "validate"));
        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT string_agg(id, ',' ORDER BY orderexecuted) FROM databasechangelog),"
                 + " user_email, contact_email FROM leads")) {
            rs.next();
            assertEquals("1-legacy,2-expand,3-seed a@x.org a@x.org", rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3),
                "the change sets ran, and the legacy INSERT went through Bellows");
        }
    }
}
