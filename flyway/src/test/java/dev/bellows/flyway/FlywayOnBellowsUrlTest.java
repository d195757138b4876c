package dev.bellows.flyway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.cli.BellowsCli;
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
import java.util.Properties;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flyway given a {@code jdbc:bellows:postgresql:} URL, with no driver setting: migrate, info, validate and
 * repair; DDL it runs through the driver refreshes the catalog in the same process; and the files of
 * {@code bellows plan --flyway} applied by Flyway end to end. The DataSource path keeps working.
 */
class FlywayOnBellowsUrlTest {
    private static final String ID = "leads-contact-email";
    private static final String RULES = """
        migrations:
          - id: leads-contact-email
            table: leads
            from: user_email
            to: contact_email
            phase: off
        """;

    @TempDir Path tmp;
    private final PostgresFixture pg = PostgresFixture.get();

    private static String bellows(String pgUrl) {
        return "jdbc:bellows:" + pgUrl.substring("jdbc:".length());
    }

    private Flyway flyway(String url, Path dir, String target) {
        // Flyway's transaction-level advisory lock keeps a transaction open that CREATE INDEX CONCURRENTLY (the plan's
        // mirror file) waits for forever; a session-level lock does not. Same with a plain jdbc:postgresql: URL.
        org.flywaydb.core.api.configuration.FluentConfiguration c = Flyway.configure()
            .dataSource(url, pg.user(), pg.password()).locations("filesystem:" + dir).target(target);
        c.getConfigurationExtension(org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension.class)
            .setTransactionalLock(false);
        return c.load();
    }

    @Test
    void migrateInfoValidateRepairOnTheBellowsUrlAndTheDataSource() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("sql"));
        Files.writeString(dir.resolve("V1__items.sql"), "CREATE TABLE items (id bigint PRIMARY KEY, name text);\n");
        Files.writeString(dir.resolve("V2__more.sql"), "ALTER TABLE items ADD COLUMN price numeric;\n");
        String url = bellows(pg.createDatabase("fw_url")) + "?bellows.flags.poll=off&bellows.usage=off";
        Flyway f = flyway(url, dir, "latest");
        MigrateResult r = f.migrate();
        assertEquals(2, r.migrationsExecuted);
        assertEquals(2, Stream.of(f.info().all()).filter(i -> i.getState() == MigrationState.SUCCESS).count());
        f.validate();
        assertTrue(f.validateWithResult().validationSuccessful);
        assertTrue(f.repair().repairActions.isEmpty() || f.validateWithResult().validationSuccessful);
        assertEquals(0, f.migrate().migrationsExecuted, "nothing pending the second time");

        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(bellows(pg.createDatabase("fw_ds")) + "?bellows.flags.poll=off&bellows.usage=off");
        ds.setUser(pg.user());
        ds.setPassword(pg.password());
        Flyway viaDs = Flyway.configure().dataSource(ds).locations("filesystem:" + dir).load();
        assertEquals(2, viaDs.migrate().migrationsExecuted);
        assertTrue(viaDs.validateWithResult().validationSuccessful);
    }

    @Test
    void planFilesAppliedByFlywayThroughTheBellowsUrlEndToEnd() throws Exception {
        String pgUrl = pg.createDatabase("fw_plan");
        Path rules = tmp.resolve("rules.yaml");
        Files.writeString(rules, RULES);
        String url = bellows(pgUrl) + "?bellows.rules=" + rules + "&bellows.flags.poll=off&bellows.usage=off";
        Path dir = Files.createDirectories(tmp.resolve("db"));
        Files.writeString(dir.resolve("V1__legacy.sql"),
            "CREATE TABLE leads (id bigint PRIMARY KEY, user_email text NOT NULL, name text);\n"
                + "CREATE UNIQUE INDEX leads_user_email_key ON leads (user_email);\n");
        assertEquals(1, flyway(url, dir, "1").migrate().migrationsExecuted);

        assertEquals(0, cli("plan", ID, "--url", pgUrl, "--rules", rules.toString(), "--out", dir.toString(),
            "--flyway", "--flyway-version", "2"));
        List<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("V")).sorted().toList();
        }
        assertEquals(List.of("V1__legacy.sql", "V2__bellows_leads_contact_email_expand.sql",
            "V3__bellows_leads_contact_email_mirror.sql", "V4__bellows_leads_contact_email_not_null.sql",
            "V5__bellows_leads_contact_email_contract.sql"), files.stream().filter(n -> n.endsWith(".sql")).toList());

        try (Connection app = DriverManager.getConnection(url, credentials())) {
            BellowsRuntime rt = app.unwrap(BellowsConnection.class).runtime();
            rt.setPhase(ID, Phase.EXPAND); // before the column exists: the catalog says the migration cannot apply yet
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (1, 'before@x.io', 'before')");

            // Flyway's ADD COLUMN runs through the driver: the catalog is read again at its commit, so the very
            // next statement of the application dual-writes, without a restart or refreshCatalog()
            assertEquals(2, flyway(url, dir, "3").migrate().migrationsExecuted);
            assertTrue(rt.catalog().columns("public", "leads").contains("contact_email"));
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (2, 'expand@x.io', 'expand')");
            assertEquals(List.of("1 before@x.io null", "2 expand@x.io expand@x.io"), rows(pgUrl));

            // --force: this test sets phases in-process (no bellows.flags table), so the CLI cannot see the fleet
            assertEquals(0, cli("backfill", ID, "--url", pgUrl, "--rules", rules.toString(), "--pause", "0",
                "--progress", "lines", "--force"));
            assertEquals(List.of("1 before@x.io before@x.io", "2 expand@x.io expand@x.io"), rows(pgUrl));

            rt.setPhase(ID, Phase.SWITCH);
            assertEquals(1, flyway(url, dir, "4").migrate().migrationsExecuted);
            exec(app, "UPDATE leads SET user_email = 'switch@x.io' WHERE id = 1");
            rt.setPhase(ID, Phase.CONTRACT);
            // the contract file drops user_email through the driver: the catalog no longer lists it
            assertEquals(1, flyway(url, dir, "latest").migrate().migrationsExecuted);
            assertTrue(!rt.catalog().columns("public", "leads").contains("user_email"));
            exec(app, "INSERT INTO leads (id, user_email, name) VALUES (3, 'contract@x.io', 'contract')");
            try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT user_email FROM leads ORDER BY id")) {
                List<String> got = new ArrayList<>();
                while (rs.next()) got.add(rs.getString(1));
                assertEquals(List.of("switch@x.io", "expand@x.io", "contract@x.io"), got);
            }
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = app.getMetaData().getColumns(null, "public", "leads", null)) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
            }
            // the old view keeps user_email where V1 created it, not in contact_email's place at the end
            assertEquals(List.of("id", "user_email", "name"), cols, "the old view after the drop");
        }
        Flyway f = flyway(url, dir, "latest");
        assertTrue(f.validateWithResult().validationSuccessful);
        for (MigrationInfo i : f.info().all()) assertEquals(MigrationState.SUCCESS, i.getState(), i.getScript());
        assertEquals(List.of("id bigint", "name text", "contact_email text"), columnTypes(pgUrl));
    }

    private Properties credentials() {
        Properties p = new Properties();
        if (pg.user() != null) p.setProperty("user", pg.user());
        if (pg.password() != null) p.setProperty("password", pg.password());
        return p;
    }

    private int cli(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        if (pg.user() != null) a.addAll(List.of("--user", pg.user()));
        if (pg.password() != null) a.addAll(List.of("--password", pg.password()));
        return BellowsCli.run(a.toArray(new String[0]));
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private List<String> rows(String pgUrl) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, user_email, contact_email FROM leads ORDER BY id")) {
            while (rs.next()) out.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3));
        }
        return out;
    }

    private List<String> columnTypes(String pgUrl) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute"
                 + " WHERE attrelid = 'leads'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }
}
