package dev.bellows.jdbc;

import dev.bellows.redact.Redact;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The Bellows JDBC driver for {@code jdbc:bellows:postgresql:...} URLs: the URL without {@code bellows:}
 * goes to pgjdbc, and the connection that comes back rewrites SQL for the rules configured with
 * {@code bellows.*} settings (see {@link BellowsConfig}). Other URLs are not accepted.
 *
 * <p>Registered with {@link DriverManager} when loaded, and through {@code META-INF/services}. It holds no
 * state of its own: everything shared by the connections of one configuration lives in that
 * configuration's {@link BellowsRuntime}, kept in the static registry of {@link Runtimes}.
 */
public final class BellowsDriver implements Driver {
    private static final String PG_DRIVER = "org.postgresql.Driver";

    static {
        try {
            DriverManager.registerDriver(new BellowsDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** For {@link java.util.ServiceLoader} and pools that instantiate drivers by class name. */
    public BellowsDriver() {
    }

    @Override public boolean acceptsURL(String url) throws SQLException {
        if (url == null) throw Errors.config("url is null", null);
        return BellowsConfig.accepts(url);
    }

    /** Null for URLs that are not Bellows ones, as {@link DriverManager} expects. */
    @Override public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return null;
        Target t = target(url, info);
        Driver pg = pgDriver(t.pgUrl);
        String user = t.split.pgParameters().getOrDefault("user", t.pgProperties.getProperty("user"));
        String password = t.split.pgParameters().getOrDefault("password", t.pgProperties.getProperty("password"));
        BellowsRuntime runtime = Runtimes.obtain(t.config, t.config.key(t.pgUrl, user),
            () -> pg.connect(t.pgUrl, t.pgProperties), FlagsConnection.credentials(user, password));
        Connection raw = pg.connect(t.pgUrl, t.pgProperties);
        if (raw == null) throw Errors.config("the PostgreSQL JDBC driver did not accept the URL " + Redact.url(t.pgUrl), null);
        return ConnectionWrapper.open(runtime, raw);
    }

    /** pgjdbc's properties for the URL, then Bellows' own settings. */
    @Override public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return new DriverPropertyInfo[0];
        Map<String, String> settings = new LinkedHashMap<>();
        Properties pgProperties = BellowsConfig.splitProperties(info, settings);
        BellowsConfig.SplitUrl split = BellowsConfig.splitUrl(url);
        settings.putAll(split.settings());
        DriverPropertyInfo[] pg = pgDriver(split.pgUrl()).getPropertyInfo(split.pgUrl(), pgProperties);
        DriverPropertyInfo[] out = Arrays.copyOf(pg, pg.length + 3);
        out[pg.length] = info(BellowsConfig.RULES, settings,
            "Rules file: a path or classpath:name.yaml. Absent: no rules, statements pass through unchanged.");
        out[pg.length + 1] = info(BellowsConfig.CACHE_SIZE, settings, "Rewrites cached per rewriter (default 10000).");
        out[pg.length + 2] = info(BellowsConfig.APP_NAME, settings,
            "Application name reported with usage facts (default: ApplicationName, else 'unknown').");
        return out;
    }

    private static DriverPropertyInfo info(String key, Map<String, String> settings, String description) {
        DriverPropertyInfo p = new DriverPropertyInfo(key, settings.get(key));
        p.description = description + " Also system property " + key + " or environment variable "
            + BellowsConfig.envName(key) + ".";
        return p;
    }

    /** Version of the Bellows driver, not of pgjdbc. */
    @Override public int getMajorVersion() { return 0; }
    @Override public int getMinorVersion() { return 1; }
    /** As pgjdbc, which it delegates to, reports. */
    @Override public boolean jdbcCompliant() { return false; }
    @Override public Logger getParentLogger() { return Logger.getLogger("dev.bellows.jdbc"); }

    /** A URL and properties split into what pgjdbc gets and the Bellows configuration. */
    private record Target(BellowsConfig.SplitUrl split, String pgUrl, Properties pgProperties, BellowsConfig config) {
    }

    private static Target target(String url, Properties info) throws SQLException {
        Map<String, String> settings = new LinkedHashMap<>();
        Properties pgProperties = BellowsConfig.splitProperties(info, settings);
        BellowsConfig.SplitUrl split = BellowsConfig.splitUrl(url);
        settings.putAll(split.settings()); // URL parameters win, as they do in pgjdbc
        String appName = BellowsConfig.applicationName(pgProperties, split.pgParameters());
        return new Target(split, split.pgUrl(), pgProperties, BellowsConfig.resolve(settings, appName));
    }

    /**
     * pgjdbc's driver: the first registered driver other than Bellows that accepts the URL; failing that,
     * {@code org.postgresql.Driver} loaded through Bellows' own class loader (which registers it).
     */
    static Driver pgDriver(String pgUrl) throws SQLException {
        Driver d = registered(pgUrl);
        if (d != null) return d;
        try {
            Class<?> c = Class.forName(PG_DRIVER, true, BellowsDriver.class.getClassLoader());
            d = registered(pgUrl);
            return d != null ? d : (Driver) c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            throw Errors.config("Bellows needs the PostgreSQL JDBC driver (org.postgresql:postgresql) on the class path: "
                + e, e);
        }
    }

    private static Driver registered(String pgUrl) {
        return DriverManager.drivers()
            .filter(d -> !(d instanceof BellowsDriver) && accepts(d, pgUrl))
            .findFirst().orElse(null);
    }

    private static boolean accepts(Driver d, String url) {
        try {
            return d.acceptsURL(url);
        } catch (SQLException e) {
            return false;
        }
    }

    @Override public String toString() {
        return "BellowsDriver " + getMajorVersion() + "." + getMinorVersion();
    }
}
