package dev.bellows.jdbc;

import dev.bellows.rules.Rewriter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * The Bellows settings of one connection configuration. Each {@code bellows.*} key is looked up in the URL,
 * then the connection properties (or data source setters), then system properties, then the environment
 * ({@code bellows.cacheSize} → {@code BELLOWS_CACHE_SIZE}). Keys given in the URL or properties are removed
 * before pgjdbc sees them, and unknown ones are refused there so a typo cannot silently disable rewriting.
 */
final class BellowsConfig {
    static final String PREFIX = "bellows.";
    /** Path or {@code classpath:name.yaml} of the rules file; absent means no rules (pure pass-through). */
    static final String RULES = "bellows.rules";
    /** How many rewrites each rewriter caches. */
    static final String CACHE_SIZE = "bellows.cacheSize";
    /** The application name reported with usage facts; defaults to pgjdbc's ApplicationName, else "unknown". */
    static final String APP_NAME = "bellows.appName";
    static final List<String> KEYS = List.of(RULES, CACHE_SIZE, APP_NAME);
    static final String URL_PREFIX = "jdbc:bellows:postgresql:";
    static final String APPLICATION_NAME = "ApplicationName";

    final String rules;
    final int cacheSize;
    final String appName;

    private BellowsConfig(String rules, int cacheSize, String appName) {
        this.rules = rules;
        this.cacheSize = cacheSize;
        this.appName = appName;
    }

    /** Settings from explicit values with system property and environment fallbacks. */
    static BellowsConfig resolve(Map<String, String> explicit, String defaultAppName) throws SQLException {
        return resolve(explicit, defaultAppName, System::getProperty, System::getenv);
    }

    static BellowsConfig resolve(Map<String, String> explicit, String defaultAppName,
                                 UnaryOperator<String> systemProperties, UnaryOperator<String> environment)
        throws SQLException {
        for (String key : explicit.keySet()) {
            if (!KEYS.contains(key)) {
                throw Errors.config("unknown Bellows setting '" + key + "' (known: " + String.join(", ", KEYS) + ")", null);
            }
        }
        String rules = lookup(RULES, explicit, systemProperties, environment);
        String cache = lookup(CACHE_SIZE, explicit, systemProperties, environment);
        String app = lookup(APP_NAME, explicit, systemProperties, environment);
        int cacheSize = Rewriter.Options.defaults().cacheSize();
        if (cache != null) {
            try {
                cacheSize = Integer.parseInt(cache);
            } catch (NumberFormatException e) {
                cacheSize = -1;
            }
            if (cacheSize < 0) {
                throw Errors.config("Bellows setting '" + CACHE_SIZE + "' must be a non-negative integer, got '" + cache + "'", null);
            }
        }
        if (app == null) app = defaultAppName == null || defaultAppName.isBlank() ? "unknown" : defaultAppName;
        return new BellowsConfig(rules, cacheSize, app);
    }

    private static String lookup(String key, Map<String, String> explicit, UnaryOperator<String> systemProperties,
                                 UnaryOperator<String> environment) {
        String v = explicit.get(key);
        if (isBlank(v)) v = systemProperties.apply(key);
        if (isBlank(v)) v = environment.apply(envName(key));
        return isBlank(v) ? null : v.trim();
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    /** {@code bellows.cacheSize} → {@code BELLOWS_CACHE_SIZE}. */
    static String envName(String key) {
        StringBuilder sb = new StringBuilder(key.length() + 4);
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '.') sb.append('_');
            else if (Character.isUpperCase(c)) sb.append('_').append(c);
            else sb.append(Character.toUpperCase(c));
        }
        return sb.toString();
    }

    Rewriter.Options options() {
        return Rewriter.Options.defaults().cacheSize(cacheSize);
    }

    /** The key of the runtime shared by every connection of this configuration to {@code target}. */
    RuntimeKey key(Object target, String user) {
        return new RuntimeKey(target, user, rules, cacheSize, appName);
    }

    /** Identity of a configuration: where it connects, as whom, and with which Bellows settings. */
    record RuntimeKey(Object target, String user, String rules, int cacheSize, String appName) {
    }

    /** A Bellows URL split into the pgjdbc URL and the {@code bellows.*} parameters it carried. */
    record SplitUrl(String pgUrl, Map<String, String> settings, Map<String, String> pgParameters) {
    }

    /** Whether {@code url} is a Bellows PostgreSQL URL. */
    static boolean accepts(String url) {
        return url != null && url.regionMatches(true, 0, URL_PREFIX, 0, URL_PREFIX.length());
    }

    /**
     * Strips the leading {@code bellows:} and every {@code bellows.*} query parameter; other parameters stay
     * byte for byte as written.
     */
    static SplitUrl splitUrl(String url) throws SQLException {
        String pgUrl = "jdbc:" + url.substring("jdbc:bellows:".length());
        Map<String, String> settings = new LinkedHashMap<>();
        Map<String, String> pgParameters = new LinkedHashMap<>();
        int q = pgUrl.indexOf('?');
        if (q < 0) return new SplitUrl(pgUrl, settings, pgParameters);
        StringBuilder kept = new StringBuilder(pgUrl.length());
        kept.append(pgUrl, 0, q);
        char sep = '?';
        for (String param : pgUrl.substring(q + 1).split("&")) {
            if (param.isEmpty()) continue;
            int eq = param.indexOf('=');
            String key = decode(eq < 0 ? param : param.substring(0, eq), url);
            String value = eq < 0 ? "" : decode(param.substring(eq + 1), url);
            if (key.startsWith(PREFIX)) {
                settings.put(key, value);
            } else {
                pgParameters.put(key, value);
                kept.append(sep).append(param);
                sep = '&';
            }
        }
        return new SplitUrl(kept.toString(), settings, pgParameters);
    }

    private static String decode(String s, String url) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw Errors.config("malformed parameter '" + s + "' in URL " + url, e);
        }
    }

    /** A copy of {@code info} without {@code bellows.*} keys, which go to {@code settings} instead. */
    static Properties splitProperties(Properties info, Map<String, String> settings) {
        Properties out = new Properties();
        if (info == null) return out;
        for (String name : info.stringPropertyNames()) {
            String value = info.getProperty(name);
            if (name.startsWith(PREFIX)) settings.put(name, value);
            else out.setProperty(name, value);
        }
        return out;
    }

    /** The application name pgjdbc will report, from properties or URL, or null. */
    static String applicationName(Properties pgProperties, Map<String, String> pgParameters) {
        String fromUrl = pgParameters.get(APPLICATION_NAME);
        return fromUrl != null ? fromUrl : pgProperties.getProperty(APPLICATION_NAME);
    }
}
