package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** URL handling, registration, configuration and its errors. */
class DriverTest {
    private static TestDb db;
    private final BellowsDriver driver = new BellowsDriver();

    @BeforeAll
    static void database() {
        db = TestDb.create("driver");
    }

    @Test
    void acceptsOnlyBellowsPostgresUrls() throws SQLException {
        assertTrue(driver.acceptsURL("jdbc:bellows:postgresql://localhost/db"));
        assertTrue(driver.acceptsURL("jdbc:bellows:postgresql:db"));
        assertFalse(driver.acceptsURL("jdbc:postgresql://localhost/db"));
        assertFalse(driver.acceptsURL("jdbc:bellows:mysql://localhost/db"));
        assertFalse(driver.acceptsURL("jdbc:h2:mem:x"));
        assertThrows(SQLException.class, () -> driver.acceptsURL(null));
    }

    @Test
    void connectReturnsNullForForeignUrls() throws SQLException {
        assertNull(driver.connect(db.pgUrl, db.credentials()));
        assertNull(driver.connect("jdbc:mysql://localhost/x", new Properties()));
        assertEquals(0, driver.getPropertyInfo("jdbc:mysql://localhost/x", new Properties()).length);
    }

    @Test
    void registeredWithDriverManagerAndServiceLoader() throws SQLException {
        assertInstanceOf(BellowsDriver.class, DriverManager.getDriver(db.url));
        assertInstanceOf(org.postgresql.Driver.class, DriverManager.getDriver(db.pgUrl));
        assertTrue(StreamSupport.stream(ServiceLoader.load(Driver.class).spliterator(), false)
            .anyMatch(d -> d instanceof BellowsDriver));
    }

    @Test
    void connectsThroughPgjdbcWithTheBellowsPrefixStripped() throws SQLException {
        try (Connection c = db.connect()) {
            assertTrue(c.isWrapperFor(BellowsConnection.class));
            assertEquals(db.pgUrl, c.getMetaData().getURL());
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_database()")) {
                assertTrue(rs.next());
                assertTrue(db.pgUrl.endsWith("/" + rs.getString(1)));
            }
        }
    }

    @Test
    void bellowsUrlParametersAreRemovedBeforePgjdbc() throws SQLException {
        String url = db.url + "?bellows.appName=urlapp&ApplicationName=probe&bellows.cacheSize=7";
        try (Connection c = DriverManager.getConnection(url, db.credentials())) {
            String seen = c.getMetaData().getURL();
            assertFalse(seen.contains("bellows"), seen);
            assertTrue(seen.endsWith("?ApplicationName=probe"), seen);
            assertEquals("urlapp", c.unwrap(BellowsConnection.class).runtime().appName());
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW application_name")) {
                rs.next();
                assertEquals("probe", rs.getString(1));
            }
        }
    }

    @Test
    void bellowsPropertiesAreRemovedAndAppNameDefaultsToApplicationName() throws SQLException {
        try (Connection c = db.connect("ApplicationName", "fromprops", "bellows.cacheSize", "5")) {
            assertEquals("fromprops", c.unwrap(BellowsConnection.class).runtime().appName());
        }
        try (Connection c = db.connect("bellows.cacheSize", "6")) {
            assertEquals("unknown", c.unwrap(BellowsConnection.class).runtime().appName());
        }
    }

    @Test
    void splitUrlKeepsOtherParametersVerbatim() throws SQLException {
        BellowsConfig.SplitUrl s = BellowsConfig.splitUrl(
            "jdbc:bellows:postgresql://h:5432/d?ssl=true&bellows.rules=classpath%3Ar.yaml&options=-c%20x%3Dy");
        assertEquals("jdbc:postgresql://h:5432/d?ssl=true&options=-c%20x%3Dy", s.pgUrl());
        assertEquals(Map.of("bellows.rules", "classpath:r.yaml"), s.settings());
        assertEquals("jdbc:postgresql://h/d", BellowsConfig.splitUrl("jdbc:bellows:postgresql://h/d?bellows.appName=a").pgUrl());
        assertEquals("jdbc:postgresql:d", BellowsConfig.splitUrl("jdbc:bellows:postgresql:d").pgUrl());
    }

    @Test
    void settingsFallBackToSystemPropertiesThenEnvironment() throws SQLException {
        Map<String, String> sys = new HashMap<>();
        Map<String, String> env = new HashMap<>();
        env.put("BELLOWS_RULES", "/env/rules.yaml");
        env.put("BELLOWS_CACHE_SIZE", "12");
        env.put("BELLOWS_APP_NAME", "envapp");
        BellowsConfig c = BellowsConfig.resolve(Map.of(), null, sys::get, env::get);
        assertEquals("/env/rules.yaml", c.rules);
        assertEquals(12, c.cacheSize);
        assertEquals("envapp", c.appName);
        sys.put("bellows.rules", "/sys/rules.yaml");
        assertEquals("/sys/rules.yaml", BellowsConfig.resolve(Map.of(), null, sys::get, env::get).rules);
        assertEquals("/url.yaml", BellowsConfig.resolve(Map.of("bellows.rules", "/url.yaml"), null, sys::get, env::get).rules);
        BellowsConfig none = BellowsConfig.resolve(Map.of(), "pgapp", k -> null, k -> null);
        assertNull(none.rules);
        assertEquals("pgapp", none.appName);
    }

    @Test
    void flagsModeDefaultsToCheckWithAHalfSecondBoundAndListensOnlyWhenAskedOrGivenAFlagsUrl() throws SQLException {
        BellowsConfig d = BellowsConfig.resolve(Map.of(), null, k -> null, k -> null);
        assertFalse(d.flagsListen, "no connection per instance unless asked");
        assertEquals(500, d.flagsStalenessMillis);
        assertTrue(BellowsConfig.resolve(Map.of("bellows.flags.url", "jdbc:postgresql://db/app"), null, k -> null,
            k -> null).flagsListen, "bellows.flags.url exists for the listening connection");
        assertTrue(BellowsConfig.resolve(Map.of(), null, k -> k.equals("bellows.flags.mode") ? "listen" : null,
            k -> null).flagsListen);
        assertEquals(200, BellowsConfig.resolve(Map.of("bellows.flags.staleness", "200ms"), null, k -> null, k -> null)
            .flagsStalenessMillis);
        SQLException bad = assertThrows(SQLException.class,
            () -> BellowsConfig.resolve(Map.of("bellows.flags.mode", "notify"), null, k -> null, k -> null));
        assertEquals(Errors.CONFIG, bad.getSQLState());
        assertThrows(SQLException.class,
            () -> BellowsConfig.resolve(Map.of("bellows.flags.staleness", "off"), null, k -> null, k -> null));
    }

    @Test
    void badSettingsFailWithConfigurationState() {
        SQLException unknown = assertThrows(SQLException.class, () -> db.connect("bellows.rule", "x.yaml"));
        assertEquals(Errors.CONFIG, unknown.getSQLState());
        assertTrue(unknown.getMessage().contains("bellows.rule"), unknown.getMessage());
        SQLException cache = assertThrows(SQLException.class, () -> db.connect("bellows.cacheSize", "lots"));
        assertEquals(Errors.CONFIG, cache.getSQLState());
        assertNotPoolEvicting(cache);
        // the flag watcher's direct URL must be a plain pgjdbc one; the message names the key, never the password
        SQLException flagsUrl = assertThrows(SQLException.class,
            () -> db.connect("bellows.flags.url", "jdbc:bellows:postgresql://db:5432/app?password=hunter2"));
        assertEquals(Errors.CONFIG, flagsUrl.getSQLState());
        assertTrue(flagsUrl.getMessage().contains("bellows.flags.url") && !flagsUrl.getMessage().contains("hunter2"),
            flagsUrl.getMessage());
    }

    @Test
    void theFlagsUrlComesFromSettingsOrTheEnvironment() throws SQLException {
        assertNull(BellowsConfig.resolve(Map.of(), null, k -> null, k -> null).flagsUrl);
        Map<String, String> env = Map.of("BELLOWS_FLAGS_URL", "jdbc:postgresql://db-direct:5432/app");
        assertEquals("jdbc:postgresql://db-direct:5432/app", BellowsConfig.resolve(Map.of(), null, k -> null, env::get).flagsUrl);
        assertEquals("jdbc:postgresql://other/app", BellowsConfig.resolve(Map.of("bellows.flags.url", "jdbc:postgresql://other/app"),
            null, k -> null, env::get).flagsUrl);
    }

    @Test
    void missingRulesFileNamesTheFile(@TempDir Path dir) {
        String missing = dir.resolve("nope.yaml").toString();
        SQLException e = assertThrows(SQLException.class, () -> db.connect("bellows.rules", missing));
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertEquals(Errors.CONFIG, e.getSQLState());
        assertNotPoolEvicting(e);
        assertNotNull(e.getCause());
    }

    @Test
    void invalidRulesFileNamesFileLineAndKey(@TempDir Path dir) throws Exception {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: leads-email\n    table: leads\n    from: user_email\n"
            + "    to: email\n    phase: sideways\n");
        SQLException e = assertThrows(SQLException.class, () -> db.connect("bellows.rules", rules.toString()));
        assertTrue(e.getMessage().contains(rules + ":6"), e.getMessage());
        assertTrue(e.getMessage().contains("phase"), e.getMessage());
        assertTrue(e.getMessage().contains("sideways"), e.getMessage());
        assertEquals(Errors.CONFIG, e.getSQLState());
        assertNotPoolEvicting(e);
        // Not remembered: once the file is fixed, connecting works.
        Files.writeString(rules, Files.readString(rules).replace("sideways", "expand"));
        db.exec("CREATE TABLE IF NOT EXISTS leads (id serial PRIMARY KEY, user_email text, email text)");
        try (Connection c = db.connect("bellows.rules", rules.toString())) {
            assertEquals(Phase.EXPAND, c.unwrap(BellowsConnection.class).runtime().rules().get("leads-email").phase());
        }
    }

    @Test
    void rulesFromTheClasspath() throws SQLException {
        db.exec("CREATE TABLE IF NOT EXISTS leads (id serial PRIMARY KEY, user_email text, email text)");
        try (Connection c = db.connect("bellows.rules", "classpath:rules/leads.yaml")) {
            BellowsRuntime rt = c.unwrap(BellowsConnection.class).runtime();
            assertEquals(Phase.EXPAND, rt.rules().get("leads-email").phase());
            assertEquals(java.util.List.of("id", "user_email", "email"), rt.catalog().columns("public", "leads"));
        }
    }

    @Test
    void propertyInfoForwardsPgjdbcAndAddsBellowsKeys() throws SQLException {
        DriverPropertyInfo[] info = driver.getPropertyInfo(db.url + "?bellows.rules=/x.yaml", new Properties());
        assertTrue(Arrays.stream(info).anyMatch(p -> p.name.equals("user")));
        assertTrue(Arrays.stream(info).anyMatch(p -> p.name.equals("ApplicationName")));
        DriverPropertyInfo rules = Arrays.stream(info).filter(p -> p.name.equals("bellows.rules")).findFirst().orElseThrow();
        assertEquals("/x.yaml", rules.value);
        assertTrue(rules.description.contains("BELLOWS_RULES"));
    }

    @Test
    void connectionsOfOneConfigurationShareTheirRuntime() throws SQLException {
        try (Connection a = db.connect("bellows.appName", "shared"); Connection b = db.connect("bellows.appName", "shared");
             Connection other = db.connect("bellows.appName", "other")) {
            BellowsRuntime ra = a.unwrap(BellowsConnection.class).runtime();
            assertTrue(ra == b.unwrap(BellowsConnection.class).runtime());
            assertFalse(ra == other.unwrap(BellowsConnection.class).runtime());
        }
    }

    @Test
    void serverErrorsKeepTheirStateAndCause() throws SQLException {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT no_such_column FROM pg_class"));
            assertEquals("42703", e.getSQLState());
            assertInstanceOf(org.postgresql.util.PSQLException.class, e);
        }
    }

    static void assertNotPoolEvicting(SQLException e) {
        String state = e.getSQLState();
        assertNotNull(state);
        assertFalse(state.startsWith("08"), state);
        assertFalse(state.equals("0A000"), state);
    }
}
