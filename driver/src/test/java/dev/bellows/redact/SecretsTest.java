package dev.bellows.redact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testing.PostgresFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A password given in the URL or in {@code Properties} appears in no message, cause chain, log record, CLI output or
 * stored row, on every path that can print a connection: the driver's configuration errors, an unreachable server,
 * each CLI command (wrong scheme, unreachable server, success), the flag watcher and the usage flush during an
 * outage, and everything Bellows writes to the {@code bellows} schema or a usage file. The test logs in as a role
 * whose password is the secret, so the secret really is what opens the connections that succeed.
 */
class SecretsTest {
    static final String SECRET = "S3cretPw" + UUID.randomUUID().toString().substring(0, 8);
    static final String ROLE = "bellows_secret_" + UUID.randomUUID().toString().substring(0, 8);
    static PostgresFixture fx;
    static String dbUrl;
    static Path dir;
    static Path rules;
    static int closedPort;

    @BeforeAll
    static void setUp() throws Exception {
        fx = PostgresFixture.get();
        try (Connection c = fx.connect(fx.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + ROLE + " LOGIN SUPERUSER PASSWORD '" + SECRET + "'");
        }
        dbUrl = fx.createDatabase("secrets");
        try (Connection c = fx.connect(dbUrl); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)");
            s.execute("INSERT INTO leads (name, user_email, email) VALUES ('ann', 'a@x.org', 'a@x.org')");
        }
        dir = Files.createTempDirectory("bellows-secrets");
        rules = dir.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: leads-email\n    table: leads\n    from: user_email\n    to: email\n"
            + "    phase: switch\n");
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    /** The database's URL with the role and its password as parameters. */
    static String withPassword(String url) {
        return url + (url.contains("?") ? "&" : "?") + "user=" + ROLE + "&password=" + SECRET;
    }

    static Properties props() {
        Properties p = new Properties();
        p.setProperty("user", ROLE);
        p.setProperty("password", SECRET);
        return p;
    }

    static String unreachable() {
        return "jdbc:postgresql://127.0.0.1:" + closedPort + "/app";
    }

    // ------------------------------------------------------------------------------------------------ driver

    @Test
    void driverErrorsNameTheProblemButNeverThePassword() {
        String bellows = "jdbc:bellows:" + dbUrl.substring("jdbc:".length());
        String rulesParam = "bellows.rules=" + rules;
        record Case(String what, String url, String expect) {}
        List<Case> cases = List.of(
            new Case("malformed parameter", bellows + "?" + rulesParam + "&bellows.appName=%zz", "malformed parameter"),
            new Case("malformed password", bellows + "?bellows.rules=" + rules + "&password=%zz" + SECRET, "malformed parameter"),
            new Case("unknown Bellows setting", bellows + "?" + rulesParam + "&bellows.nope=1", "unknown Bellows setting"),
            new Case("bad rules location", bellows + "?bellows.rules=" + dir.resolve("missing.yaml"), "rules"),
            new Case("unreachable server", "jdbc:bellows:" + unreachable().substring("jdbc:".length()) + "?" + rulesParam
                + "&connectTimeout=2", "refused"));
        for (Case c : cases) {
            // the password in the URL
            SQLException inUrl = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(c.what.equals("malformed password") ? c.url : withPassword(c.url)).close(),
                c.what);
            assertSecretFree(c.what + " (password in the URL)", inUrl);
            assertTrue(inUrl.getMessage().contains(c.expect), c.what + ": " + inUrl.getMessage());
            // the password in Properties
            SQLException inProps = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(c.url, props()).close(), c.what);
            assertSecretFree(c.what + " (password in Properties)", inProps);
        }

        // The data source path: the password through its setter, and through the URL it is given.
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(withPassword(dbUrl));
        ds.setPassword(SECRET);
        ds.setRules(dir.resolve("missing.yaml").toString());
        assertSecretFree("data source with a bad rules location", assertThrows(SQLException.class, () -> ds.getConnection().close()));
        assertFalse(ds.toString().contains(SECRET), ds.toString());
    }

    // ------------------------------------------------------------------------------------------------ CLI

    @Test
    void everyCliCommandMasksThePasswordOnEveryFailure() {
        String wrongScheme = "jdbc:mysql://db.example/app?user=app&password=" + SECRET;
        String down = unreachable() + "?user=app&password=" + SECRET + "&connectTimeout=2";
        List<String[]> commands = List.of(
            new String[] {"init"}, new String[] {"status"}, new String[] {"report"}, new String[] {"gate", "leads-email"},
            new String[] {"flags", "set", "leads-email", "expand", "--rules", rules.toString()}, new String[] {"flags", "list"},
            new String[] {"flags", "history"}, new String[] {"plan", "leads-email", "--rules", rules.toString()},
            new String[] {"backfill", "leads-email", "--rules", rules.toString()},
            new String[] {"check", "leads-email", "--rules", rules.toString(), "--file", statements().toString()});
        for (String[] command : commands) {
            for (String url : List.of(wrongScheme, down)) {
                Cli r = cli(command, "--url", url);
                assertNotEquals(0, r.code, String.join(" ", command) + " with " + Redact.url(url) + ":\n" + r.err);
                assertFalse(r.all().contains(SECRET), String.join(" ", command) + " printed the password:\n" + r.all());
                assertTrue(r.err.contains(Redact.MASK) || r.err.contains("127.0.0.1"), String.join(" ", command) + ":\n" + r.err);
            }
            // --password on the command line, server unreachable
            Cli r = cli(command, "--url", unreachable() + "?connectTimeout=2", "--password", SECRET);
            assertNotEquals(0, r.code, String.join(" ", command));
            assertFalse(r.all().contains(SECRET), String.join(" ", command) + " printed the password:\n" + r.all());
        }
    }

    // ------------------------------------------------------------------------------ watcher, usage, stored rows

    @Test
    void anOutageLogsAndEverythingStoredHoldNoPasswordNorParameterValue() throws Exception {
        assertEquals(0, cli(new String[] {"init"}, "--url", withPassword(dbUrl)).code);
        Cli set = cli(new String[] {"flags", "set", "leads-email", "switch", "--force", "--reason", "secrets test", "--rules",
            rules.toString()}, "--url", withPassword(dbUrl));
        assertEquals(0, set.code, set.all());
        assertFalse(set.all().contains(SECRET), set.all());

        Path usageFile = dir.resolve("usage.jsonl");
        try (LogCapture log = new LogCapture()) {
            BellowsDataSource db = dataSource("secrets-db", "bellows.usage.flushInterval", "200ms", "bellows.flags.poll", "1s");
            BellowsDataSource file = dataSource("secrets-file", "bellows.usage", "file:" + usageFile);
            for (BellowsDataSource ds : List.of(db, file)) {
                try (Connection c = ds.getConnection()) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)")) {
                        ps.setString(1, "bob");
                        ps.setString(2, SECRET + "@x.org");
                        ps.executeUpdate();
                    }
                    try (Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT user_email FROM leads WHERE user_email = '" + SECRET + "@x.org'")) {
                        assertTrue(rs.next(), "the row written through Bellows is read back through it");
                    }
                }
            }
            await("usage in the bellows schema", 10_000, () -> count("SELECT count(*) FROM bellows.usage") > 0);

            outage(true);
            try {
                await("the flag watcher to log the outage", 15_000, () -> log.has("FlagWatcher", "unreachable"));
                try (Connection c = db.getConnection()) {
                    fail("the server is down, yet a connection opened: " + c);
                } catch (SQLException expected) {
                    assertSecretFree("a connection during the outage", expected);
                }
                await("the usage flush to log its failure", 15_000, () -> log.has("dev.bellows.usage", "could not write usage"));
            } finally {
                outage(false);
            }
            await("the watcher to recover", 20_000, () -> log.has("FlagWatcher", "reachable again"));
            db.runtime().close();
            file.runtime().close();
            for (LogRecord r : log.records) {
                assertFalse(render(r).contains(SECRET), "a log record holds the password: " + render(r));
                assertFalse(render(r).contains(SECRET + "@x.org"), "a log record holds a parameter value: " + render(r));
            }
        }

        // Every row of every table Bellows keeps, and the usage file.
        List<String> tables = new ArrayList<>();
        try (Connection c = fx.connect(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'bellows'")) {
            while (rs.next()) tables.add(rs.getString(1));
        }
        assertTrue(tables.size() >= 3, "bellows tables: " + tables);
        for (String t : tables) {
            assertEquals(0, count("SELECT count(*) FROM bellows." + t + " x WHERE x::text LIKE '%" + SECRET + "%'"),
                "bellows." + t + " holds the password or a parameter value");
        }
        assertTrue(count("SELECT count(*) FROM bellows.usage") > 0);
        String usage = Files.readString(usageFile);
        assertFalse(usage.isBlank(), "the file sink wrote usage");
        assertFalse(usage.contains(SECRET), usage);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static Path statements() {
        try {
            return Files.writeString(dir.resolve("statements.sql"), "SELECT user_email FROM leads WHERE id = ?;\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    BellowsDataSource dataSource(String app, String... settings) throws SQLException {
        StringBuilder url = new StringBuilder(withPassword(dbUrl).replace("jdbc:postgresql:", "jdbc:bellows:postgresql:"))
            .append("&bellows.rules=").append(rules).append("&bellows.appName=").append(app);
        for (int i = 0; i < settings.length; i += 2) url.append('&').append(settings[i]).append('=').append(settings[i + 1]);
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(url.toString());
        ds.setPassword(SECRET);
        return ds;
    }

    static long count(String sql) {
        try (Connection c = fx.connect(dbUrl); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    /** Stops the server (embedded) or refuses this database's connections and ends its sessions (elsewhere). */
    static void outage(boolean down) throws Exception {
        if ("embedded".equals(fx.kind())) {
            if (down) fx.stop();
            else fx.start();
            return;
        }
        String name = dbUrl.substring(dbUrl.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
        try (Connection c = fx.connect(fx.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS " + !down);
            if (down) s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
        }
    }

    static void assertSecretFree(String what, Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause()) {
            assertFalse(String.valueOf(x.getMessage()).contains(SECRET), what + ": the password is in " + x);
            assertFalse(x.toString().contains(SECRET), what + ": the password is in " + x);
            for (Throwable s : x.getSuppressed()) assertSecretFree(what + " (suppressed)", s);
            if (x instanceof SQLException sql && sql.getNextException() != null) assertSecretFree(what + " (next)", sql.getNextException());
        }
    }

    static String render(LogRecord r) {
        StringBuilder sb = new StringBuilder(String.valueOf(r.getMessage()));
        if (r.getParameters() != null) for (Object p : r.getParameters()) sb.append(' ').append(p);
        for (Throwable t = r.getThrown(); t != null; t = t.getCause()) sb.append(" | ").append(t);
        return sb.toString();
    }

    record Cli(int code, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static Cli cli(String[] command, String... more) {
        String[] args = new String[command.length + more.length];
        System.arraycopy(command, 0, args, 0, command.length);
        System.arraycopy(more, 0, args, command.length, more.length);
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = BellowsCli.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Cli(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > end) fail("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    /** Every record of every logger under {@code dev.bellows} (System.Logger goes to java.util.logging). */
    static final class LogCapture implements AutoCloseable {
        private final Logger logger = Logger.getLogger("dev.bellows");
        final List<LogRecord> records = new CopyOnWriteArrayList<>();
        private final Level before = logger.getLevel();
        private final Handler handler = new Handler() {
            @Override public void publish(LogRecord r) {
                records.add(r);
            }

            @Override public void flush() {
            }

            @Override public void close() {
            }
        };

        LogCapture() {
            logger.setLevel(Level.ALL); // every level: DEBUG lines must be as clean as WARNING ones
            logger.addHandler(handler);
        }

        boolean has(String loggerPart, String text) {
            for (LogRecord r : records) {
                if (String.valueOf(r.getLoggerName()).contains(loggerPart) && render(r).contains(text)) return true;
            }
            return false;
        }

        @Override public void close() throws IOException {
            logger.removeHandler(handler);
            logger.setLevel(before);
        }
    }
}
