package dev.bellows.jdbc;

import dev.bellows.redact.Redact;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A Bellows {@link DataSource}: either a {@link PGSimpleDataSource} configured through the usual setters
 * ({@link #setUrl}, {@link #setServerNames}, {@link #setDatabaseName}, {@link #setUser}, ...), or any data
 * source handed to it ({@link #setDelegate}). Bellows settings come from {@link #setRules} and friends,
 * from {@code bellows.*} parameters of a {@code jdbc:bellows:postgresql:} URL, then from system properties
 * and the environment. Works with HikariCP's {@code dataSourceClassName=dev.bellows.jdbc.BellowsDataSource}
 * and {@code dataSource.*} properties ({@code url}, {@code user}, {@code password}, {@code rules}).
 */
public class BellowsDataSource implements DataSource {
    private DataSource delegate;
    private PGSimpleDataSource pg;
    /** Settings from the URL; the setters' own values override them. */
    private Map<String, String> urlSettings = Map.of();
    private final Map<String, String> settings = new LinkedHashMap<>();
    private String applicationName;

    /** A data source to configure through setters. */
    public BellowsDataSource() {
    }

    /** Bellows over an existing data source (which must give pgjdbc connections). */
    public BellowsDataSource(DataSource delegate) {
        setDelegate(delegate);
    }

    /** Uses {@code delegate} for physical connections instead of a {@link PGSimpleDataSource}. */
    public synchronized void setDelegate(DataSource delegate) {
        if (pg != null) throw new IllegalStateException("this BellowsDataSource is already configured through its own setters");
        this.delegate = delegate;
    }

    public synchronized DataSource getDelegate() { return delegate; }

    private synchronized PGSimpleDataSource pg() {
        if (delegate != null) {
            throw new IllegalStateException("this BellowsDataSource wraps " + delegate + "; configure that data source instead");
        }
        if (pg == null) pg = new PGSimpleDataSource();
        return pg;
    }

    private synchronized DataSource target() {
        return delegate != null ? delegate : pg();
    }

    // ---- Bellows settings

    /** Rules file: a path or {@code classpath:name.yaml}; null for none. */
    public synchronized void setRules(String rules) { settings.put(BellowsConfig.RULES, rules); }
    public synchronized String getRules() { return settings.get(BellowsConfig.RULES); }
    public synchronized void setCacheSize(int cacheSize) { settings.put(BellowsConfig.CACHE_SIZE, Integer.toString(cacheSize)); }
    public synchronized void setAppName(String appName) { settings.put(BellowsConfig.APP_NAME, appName); }
    public synchronized String getAppName() { return settings.get(BellowsConfig.APP_NAME); }
    /** {@code old} (default) or {@code new}: which version of each managed table connections present, see {@link SchemaView}. */
    public synchronized void setSchemaView(String schema) { settings.put(BellowsConfig.SCHEMA, schema); }
    public synchronized String getSchemaView() { return settings.get(BellowsConfig.SCHEMA); }
    /** {@code bellows.flags.poll}: e.g. {@code 5s}, {@code 500ms}, or {@code off} for no database flags. */
    public synchronized void setFlagsPoll(String interval) { settings.put(BellowsConfig.FLAGS_POLL, interval); }
    /** {@code bellows.flags.url}: a plain {@code jdbc:postgresql:} URL straight to the server for the flag watcher (behind pgbouncer). */
    public synchronized void setFlagsUrl(String url) { settings.put(BellowsConfig.FLAGS_URL, url); }
    /** {@code bellows.flags.mode}: {@code check} (default) or {@code listen}. */
    public synchronized void setFlagsMode(String mode) { settings.put(BellowsConfig.FLAGS_MODE, mode); }
    /** {@code bellows.flags.staleness}: in check mode, the oldest phases a statement may start on ({@code 500ms}). */
    public synchronized void setFlagsStaleness(String interval) { settings.put(BellowsConfig.FLAGS_STALENESS, interval); }
    /** {@code bellows.rules.poll}: e.g. {@code 2s}, or {@code off} to stop watching the rules file. */
    public synchronized void setRulesPoll(String interval) { settings.put(BellowsConfig.RULES_POLL, interval); }
    /** {@code bellows.shadow}: the share of reads of an old column in expand to shadow, e.g. {@code 0.01}; {@code off} by default. */
    public synchronized void setShadow(String rate) { settings.put(BellowsConfig.SHADOW, rate); }

    // ---- pgjdbc settings, forwarded to the PGSimpleDataSource

    /** A {@code jdbc:postgresql:} URL, or a {@code jdbc:bellows:postgresql:} one whose {@code bellows.*} parameters are Bellows settings. */
    public synchronized void setUrl(String url) {
        if (BellowsConfig.accepts(url)) {
            try {
                BellowsConfig.SplitUrl split = BellowsConfig.splitUrl(url);
                urlSettings = split.settings();
                if (split.pgParameters().containsKey(BellowsConfig.APPLICATION_NAME)) {
                    applicationName = split.pgParameters().get(BellowsConfig.APPLICATION_NAME);
                }
                url = split.pgUrl();
            } catch (SQLException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        pg().setUrl(url);
    }

    public void setURL(String url) { setUrl(url); }
    public String getUrl() { return pg().getUrl(); }
    public String getURL() { return getUrl(); }
    public void setServerName(String serverName) { pg().setServerNames(new String[] {serverName}); }
    public void setServerNames(String[] serverNames) { pg().setServerNames(serverNames); }
    public String[] getServerNames() { return pg().getServerNames(); }
    public void setPortNumber(int portNumber) { pg().setPortNumbers(new int[] {portNumber}); }
    public void setPortNumbers(int[] portNumbers) { pg().setPortNumbers(portNumbers); }
    public int[] getPortNumbers() { return pg().getPortNumbers(); }
    public void setDatabaseName(String databaseName) { pg().setDatabaseName(databaseName); }
    public String getDatabaseName() { return pg().getDatabaseName(); }
    public void setUser(String user) { pg().setUser(user); }
    public String getUser() { return pg().getUser(); }
    public void setPassword(String password) { pg().setPassword(password); }
    public void setCurrentSchema(String currentSchema) { pg().setCurrentSchema(currentSchema); }
    public void setSsl(boolean ssl) { pg().setSsl(ssl); }
    public void setSslMode(String sslMode) { pg().setSslMode(sslMode); }
    public void setConnectTimeout(int seconds) { pg().setConnectTimeout(seconds); }
    public void setSocketTimeout(int seconds) { pg().setSocketTimeout(seconds); }
    public void setOptions(String options) { pg().setOptions(options); }

    public synchronized void setApplicationName(String applicationName) {
        pg().setApplicationName(applicationName);
        this.applicationName = applicationName;
    }

    /** Any pgjdbc connection property by name; {@code bellows.*} names are Bellows settings. */
    public synchronized void setProperty(String name, String value) throws SQLException {
        if (name.startsWith(BellowsConfig.PREFIX)) settings.put(name, value);
        else pg().setProperty(name, value);
    }

    // ---- connections

    @Override public Connection getConnection() throws SQLException {
        DataSource target = target();
        return ConnectionWrapper.open(runtime(null, null, target), target.getConnection());
    }

    @Override public Connection getConnection(String username, String password) throws SQLException {
        DataSource target = target();
        return ConnectionWrapper.open(runtime(username, password, target), target.getConnection(username, password));
    }

    /** The runtime of this configuration (rules, phases, catalog), loading the rules file on first use. */
    public BellowsRuntime runtime() throws SQLException {
        return runtime(null, null, target());
    }

    private BellowsRuntime runtime(String username, String password, DataSource target) throws SQLException {
        Map<String, String> explicit = new LinkedHashMap<>();
        String appName;
        Object key;
        String user = username;
        java.util.Properties credentials;
        synchronized (this) {
            explicit.putAll(urlSettings);
            settings.forEach((k, v) -> {
                if (v != null) explicit.put(k, v);
            });
            appName = applicationName;
            // A PGSimpleDataSource is identified by its settings, any other data source by itself.
            key = delegate != null ? delegate : pg.getUrl();
            if (user == null && delegate == null) user = pg.getUser();
            credentials = username != null ? FlagsConnection.credentials(username, password)
                : FlagsConnection.credentials(target);
        }
        BellowsConfig config = BellowsConfig.resolve(explicit, appName);
        return Runtimes.obtain(config, config.key(key, user), target::getConnection, credentials);
    }

    @Override public PrintWriter getLogWriter() throws SQLException { return target().getLogWriter(); }
    @Override public void setLogWriter(PrintWriter out) throws SQLException { target().setLogWriter(out); }
    @Override public void setLoginTimeout(int seconds) throws SQLException { target().setLoginTimeout(seconds); }
    @Override public int getLoginTimeout() throws SQLException { return target().getLoginTimeout(); }

    @Override public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return Logger.getLogger("dev.bellows.jdbc");
    }

    @Override public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : target().unwrap(iface);
    }

    @Override public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || target().isWrapperFor(iface);
    }

    @Override public String toString() {
        return "BellowsDataSource[" + (delegate != null ? Redact.text(String.valueOf(delegate)) : Redact.url(pg == null ? null : pg.getUrl())) + "]";
    }
}
