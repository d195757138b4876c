package dev.bellows.liquibase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import liquibase.Scope;
import liquibase.command.CommandScope;
import liquibase.command.CommandResults;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.DirectoryResourceAccessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Liquibase given a {@code jdbc:bellows:postgresql:} URL with no driver: update, status, validate and
 * history through its command API (what {@code liquibase --url} runs); its ADD/DROP COLUMN change sets run
 * through the driver refresh the catalog in the same process; a DataSource connection keeps working.
 */
class LiquibaseOnBellowsUrlTest {
    private static final String ID = "leads-contact-email";
    private final PostgresFixture pg = PostgresFixture.get();
    @TempDir Path tmp;

    private static String bellows(String pgUrl) {
        return "jdbc:bellows:" + pgUrl.substring("jdbc:".length());
    }

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
                      - column: {name: name, type: text}
          - changeSet:
              id: 2-expand
              author: bellows
              changes:
                - addColumn:
                    tableName: leads
                    columns:
                      - column: {name: contact_email, type: text}
          - changeSet:
              id: 3-contract
              author: bellows
              changes:
                - dropColumn: {tableName: leads, columnName: user_email}
        """;

    private void run(String command, String url, Path dir, Map<String, Object> more) throws Exception {
        Scope.child(Map.of(Scope.Attr.resourceAccessor.name(), new DirectoryResourceAccessor(dir)), () -> {
            CommandScope c = new CommandScope(command)
                .addArgumentValue("url", url)
                .addArgumentValue("username", pg.user() == null ? "" : pg.user())
                .addArgumentValue("password", pg.password() == null ? "" : pg.password())
                .addArgumentValue("changelogFile", "changelog.yaml");
            more.forEach(c::addArgumentValue);
            CommandResults r = c.execute();
            assertTrue(r != null);
        });
    }

    @Test
    void updateStatusValidateOnTheBellowsUrlAndCatalogRefreshInTheSameProcess() throws Exception {
        Files.writeString(tmp.resolve("changelog.yaml"), CHANGELOG);
        Path rules = tmp.resolve("rules.yaml");
        Files.writeString(rules, """
            migrations:
              - id: leads-contact-email
                table: leads
                from: user_email
                to: contact_email
                phase: expand
            """);
        String pgUrl = pg.createDatabase("lb_url");
        String url = bellows(pgUrl) + "?bellows.rules=" + rules + "&bellows.flags.poll=off&bellows.usage=off";
        assertEquals("dev.bellows.jdbc.BellowsDriver", DatabaseFactory.getInstance().findDefaultDriver(url));

        run("updateCount", url, tmp, Map.of("count", 1)); // the legacy table only
        try (Connection app = DriverManager.getConnection(url, credentials())) {
            BellowsRuntime rt = app.unwrap(BellowsConnection.class).runtime();
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (1, 'before@x.io', 'before')");
            run("updateCount", url, tmp, Map.of("count", 1)); // ADD COLUMN through the driver
            assertTrue(rt.catalog().columns("public", "leads").contains("contact_email"));
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (2, 'expand@x.io', 'expand')");
            assertEquals(List.of("1 before@x.io null", "2 expand@x.io expand@x.io"),
                rows(pgUrl, "SELECT id, user_email, contact_email FROM leads ORDER BY id"));
            exec(app, "UPDATE leads SET contact_email = user_email WHERE contact_email IS NULL"); // the backfill
            rt.setPhase(ID, Phase.CONTRACT);
            run("update", url, tmp, Map.of()); // DROP COLUMN through the driver
            assertTrue(!rt.catalog().columns("public", "leads").contains("user_email"));
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (3, 'contract@x.io', 'contract')");
            assertEquals(List.of("1 before@x.io", "2 expand@x.io", "3 contract@x.io"),
                rows(pgUrl, "SELECT id, contact_email FROM leads ORDER BY id"));
        }
        run("status", url, tmp, Map.of());
        run("validate", url, tmp, Map.of());
        run("history", url, tmp, Map.of());
        assertEquals(List.of("1-legacy EXECUTED", "2-expand EXECUTED", "3-contract EXECUTED"),
            rows(pgUrl, "SELECT id, exectype FROM databasechangelog ORDER BY orderexecuted"));
    }

    @Test
    void aBellowsDataSourceConnectionKeepsWorking() throws Exception {
        Files.writeString(tmp.resolve("changelog.yaml"), CHANGELOG);
        String pgUrl = pg.createDatabase("lb_ds");
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(bellows(pgUrl) + "?bellows.flags.poll=off&bellows.usage=off");
        ds.setUser(pg.user());
        ds.setPassword(pg.password());
        try (Connection c = ds.getConnection()) {
            Database db = DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(c));
            assertEquals("postgresql", db.getShortName());
            Scope.child(Map.of(Scope.Attr.resourceAccessor.name(), new DirectoryResourceAccessor(tmp)), () -> {
                new CommandScope("update").addArgumentValue("database", db).addArgumentValue("changelogFile", "changelog.yaml")
                    .execute();
            });
        }
        assertEquals(List.of("id", "name", "contact_email"),
            rows(pgUrl, "SELECT attname FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"));
    }

    private Properties credentials() {
        Properties p = new Properties();
        if (pg.user() != null) p.setProperty("user", pg.user());
        if (pg.password() != null) p.setProperty("password", pg.password());
        return p;
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private List<String> rows(String pgUrl, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> v = new ArrayList<>();
                for (int i = 1; i <= n; i++) v.add(rs.getString(i));
                out.add(String.join(" ", v));
            }
        }
        return out;
    }
}
