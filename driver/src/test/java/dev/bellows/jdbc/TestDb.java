package dev.bellows.jdbc;

import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** A fresh database on the fixture's server, reachable through pgjdbc directly or through Bellows. */
final class TestDb {
    final PostgresFixture fixture = PostgresFixture.get();
    /** Plain {@code jdbc:postgresql:} URL. */
    final String pgUrl;
    /** The same database as a {@code jdbc:bellows:postgresql:} URL. */
    final String url;

    private TestDb(String pgUrl) {
        this.pgUrl = pgUrl;
        this.url = "jdbc:bellows:" + pgUrl.substring("jdbc:".length());
    }

    static TestDb create(String prefix) {
        return new TestDb(PostgresFixture.get().createDatabase(prefix));
    }

    /** The same database reached through {@code bouncer}: every connection, plain and Bellows, goes through it. */
    TestDb behind(dev.bellows.testing.Pgbouncer bouncer) {
        return new TestDb(bouncer.behind(pgUrl));
    }

    Properties credentials() {
        Properties p = new Properties();
        if (fixture.user() != null) p.setProperty("user", fixture.user());
        if (fixture.password() != null) p.setProperty("password", fixture.password());
        return p;
    }

    /** A Bellows connection with the given extra properties (e.g. bellows.rules). */
    Connection connect(String... keyValues) throws SQLException {
        Properties p = credentials();
        for (int i = 0; i < keyValues.length; i += 2) p.setProperty(keyValues[i], keyValues[i + 1]);
        return DriverManager.getConnection(url, p);
    }

    /** A plain pgjdbc connection, for setting up and checking what really reached the server. */
    Connection raw() throws SQLException {
        return fixture.connect(pgUrl);
    }

    void exec(String... sql) throws SQLException {
        try (Connection c = raw(); Statement s = c.createStatement()) {
            for (String q : sql) s.execute(q);
        }
    }

    /** The first column of the first row of {@code sql}, run through plain pgjdbc. */
    String query(String sql) throws SQLException {
        try (Connection c = raw(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
