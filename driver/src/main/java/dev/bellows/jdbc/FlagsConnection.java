package dev.bellows.jdbc;

import dev.bellows.redact.Redact;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * Where the flag watcher of a configuration connects: the application's own connections, or with
 * {@code bellows.flags.url} a plain pgjdbc connection straight to PostgreSQL, because a transaction-mode pooler
 * (pgbouncer) hands each transaction a different server session and so never delivers a {@code NOTIFY}.
 * The application's user and password are used unless the URL carries its own.
 */
final class FlagsConnection {
    private FlagsConnection() {
    }

    /** The watcher's opener for {@code config}: {@code application} itself when no flags URL is set. */
    static BellowsRuntime.ConnectionSource opener(BellowsConfig config, BellowsRuntime.ConnectionSource application,
                                                  Properties credentials) {
        String url = config.flagsUrl;
        if (url == null) return application;
        Properties props = new Properties();
        props.putAll(credentials);
        return () -> {
            Driver pg = BellowsDriver.pgDriver(url);
            Connection c = pg.connect(url, props);
            if (c == null) throw Errors.config("the PostgreSQL JDBC driver did not accept " + BellowsConfig.FLAGS_URL + " "
                + Redact.url(url), null);
            return c;
        };
    }

    /** {@code user} and {@code password} of the application's connections, where they are known. */
    static Properties credentials(String user, String password) {
        Properties p = new Properties();
        if (user != null) p.setProperty("user", user);
        if (password != null) p.setProperty("password", password);
        return p;
    }

    /**
     * The user and password a data source logs in with, read through its bean getters ({@code getUser} or
     * {@code getUsername}, {@code getPassword}: pgjdbc's data sources, HikariCP and most pools); empty if it has none.
     */
    static Properties credentials(DataSource ds) {
        String user = getter(ds, "getUser");
        if (user == null) user = getter(ds, "getUsername");
        return credentials(user, getter(ds, "getPassword"));
    }

    private static String getter(Object o, String name) {
        try {
            Method m = o.getClass().getMethod(name);
            return m.getReturnType() == String.class ? (String) m.invoke(o) : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
