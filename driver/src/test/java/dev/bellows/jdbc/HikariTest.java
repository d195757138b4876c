package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/** HikariCP over Bellows, by jdbcUrl (the driver) and by dataSourceClassName (BellowsDataSource). */
class HikariTest {
    private static TestDb db;

    @BeforeAll
    static void database() throws SQLException {
        db = TestDb.create("hikari");
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text, email text)");
    }

    private static HikariConfig base(String poolName) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(poolName);
        config.setMaximumPoolSize(2);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(1);
        return config;
    }

    /** The pool's connection reaches Bellows and pgjdbc, and the rules from the configuration apply. */
    private static void exercise(HikariDataSource ds, String name) throws SQLException {
        try (Connection c = ds.getConnection()) {
            BellowsConnection bellows = c.unwrap(BellowsConnection.class);
            assertTrue(c.isWrapperFor(PGConnection.class));
            BellowsRuntime rt = bellows.runtime();
            assertEquals(Phase.EXPAND, rt.rules().get("leads-email").phase());
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (name, user_email) VALUES (?, ?)")) {
                ps.setString(1, name);
                ps.setString(2, name + "@example.com");
                assertEquals(1, ps.executeUpdate());
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 40 + 2")) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
        }
        // engine: the dual write reached both columns
        assertEquals(name + "@example.com", db.query("SELECT email FROM leads WHERE name = '" + name + "'"));
    }

    @Test
    void byJdbcUrl() throws SQLException {
        HikariConfig config = base("bellows-url");
        config.setJdbcUrl(db.url + "?bellows.rules=classpath:rules/leads.yaml&bellows.appName=hikari-url");
        config.setUsername(db.fixture.user());
        config.setPassword(db.fixture.password());
        try (HikariDataSource ds = new HikariDataSource(config)) {
            exercise(ds, "url");
        }
    }

    @Test
    void byDriverClassName() throws SQLException {
        HikariConfig config = base("bellows-driver-class");
        config.setDriverClassName(BellowsDriver.class.getName());
        config.setJdbcUrl(db.url);
        config.addDataSourceProperty("bellows.rules", "classpath:rules/leads.yaml");
        config.addDataSourceProperty("bellows.appName", "hikari-driver");
        config.setUsername(db.fixture.user());
        config.setPassword(db.fixture.password());
        try (HikariDataSource ds = new HikariDataSource(config)) {
            exercise(ds, "driverclass");
        }
    }

    @Test
    void byDataSourceClassName() throws SQLException {
        HikariConfig config = base("bellows-datasource");
        config.setDataSourceClassName(BellowsDataSource.class.getName());
        config.addDataSourceProperty("url", db.pgUrl);
        config.addDataSourceProperty("user", db.fixture.user());
        config.addDataSourceProperty("password", db.fixture.password());
        config.addDataSourceProperty("rules", "classpath:rules/leads.yaml");
        config.addDataSourceProperty("appName", "hikari-ds");
        try (HikariDataSource ds = new HikariDataSource(config)) {
            exercise(ds, "datasource");
        }
    }

    @Test
    void byDataSourceClassNameWithABellowsUrl() throws SQLException {
        HikariConfig config = base("bellows-datasource-url");
        config.setDataSourceClassName(BellowsDataSource.class.getName());
        config.addDataSourceProperty("url", db.url + "?bellows.rules=classpath:rules/leads.yaml&bellows.appName=hikari-ds-url");
        config.setUsername(db.fixture.user());
        config.setPassword(db.fixture.password());
        try (HikariDataSource ds = new HikariDataSource(config)) {
            exercise(ds, "datasourceurl");
        }
    }

    @Test
    void bellowsDataSourceOverAnotherDataSource() throws SQLException {
        BellowsDataSource bellows = new BellowsDataSource(db.fixture.dataSource(db.pgUrl));
        bellows.setRules("classpath:rules/leads.yaml");
        bellows.setAppName("delegate");
        try (Connection c = bellows.getConnection()) {
            assertTrue(c.isWrapperFor(BellowsConnection.class));
            assertEquals(bellows.runtime(), c.unwrap(BellowsConnection.class).runtime());
            assertEquals("delegate", bellows.runtime().appName());
        }
    }

    @Test
    void aBadRulesFileFailsPoolStartWithoutAConnectionState() {
        HikariConfig config = base("bellows-bad");
        config.setJdbcUrl(db.url + "?bellows.rules=classpath:rules/missing.yaml");
        config.setUsername(db.fixture.user());
        config.setPassword(db.fixture.password());
        HikariPool.PoolInitializationException e =
            assertThrows(HikariPool.PoolInitializationException.class, () -> new HikariDataSource(config).close());
        SQLException cause = (SQLException) e.getCause();
        assertEquals(Errors.CONFIG, cause.getSQLState());
        assertTrue(cause.getMessage().contains("classpath:rules/missing.yaml"), cause.getMessage());
    }
}
