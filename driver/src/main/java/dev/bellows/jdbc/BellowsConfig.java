package dev.bellows.jdbc;

import dev.bellows.redact.Redact;
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
    /** How often the {@code bellows.flags} table is read besides notifications ({@code 5s}; {@code off}: no database flags). */
    static final String FLAGS_POLL = "bellows.flags.poll";
    /**
     * A plain {@code jdbc:postgresql:} URL straight to the server, for the flag watcher's one listening connection
     * ({@code LISTEN} does not pass a transaction-mode pooler such as pgbouncer); absent: the application's own URL.
     */
    static final String FLAGS_URL = "bellows.flags.url";
    /**
     * How instances learn flag changes: {@code check} (default: the application's own connections read the flags
     * before a statement when they are older than {@link #FLAGS_STALENESS}) or {@code listen} (one dedicated
     * connection in {@code LISTEN}; the default when {@link #FLAGS_URL} is set).
     */
    static final String FLAGS_MODE = "bellows.flags.mode";
    /** check mode: the oldest phases a statement may start on ({@code 500ms}). */
    static final String FLAGS_STALENESS = "bellows.flags.staleness";
    /** How often a rules file given as a path is checked for changes ({@code 2s}; {@code off}: not watched). */
    static final String RULES_POLL = "bellows.rules.poll";
    /** Where usage goes: {@code db} (default), {@code file:<path>}, {@code log} or {@code off}. See {@link dev.bellows.usage.UsageSettings}. */
    static final String USAGE = "bellows.usage";
    /** How often recorded usage is written ({@code 10s}). */
    static final String USAGE_FLUSH_INTERVAL = "bellows.usage.flushInterval";
    /** Distinct statement fingerprints kept in memory (10000). */
    static final String USAGE_MAX_FINGERPRINTS = "bellows.usage.maxFingerprints";
    /** How long the {@code db} sink keeps usage ({@code 35d}); longer than the longest gate window in use. */
    static final String USAGE_RETENTION = "bellows.usage.retention";
    /** Which version of each managed table connections present: {@code old} (default) or {@code new}. See {@link SchemaView}. */
    static final String SCHEMA = "bellows.schema";
    /** Share of reads of an old column in expand that are shadowed ({@code off}; e.g. {@code 0.01}). See {@link ShadowReads}. */
    static final String SHADOW = "bellows.shadow";
    /** Rows a shadow copy may return and still be compared ({@code 1000}). */
    static final String SHADOW_MAX_ROWS = "bellows.shadow.maxRows";
    static final List<String> KEYS = List.of(RULES, CACHE_SIZE, APP_NAME, SCHEMA, FLAGS_POLL, FLAGS_URL, FLAGS_MODE,
        FLAGS_STALENESS, RULES_POLL, USAGE, USAGE_FLUSH_INTERVAL, USAGE_MAX_FINGERPRINTS, USAGE_RETENTION, SHADOW,
        SHADOW_MAX_ROWS);
    static final String URL_PREFIX = "jdbc:bellows:postgresql:";
    static final String APPLICATION_NAME = "ApplicationName";

    final String rules;
    final int cacheSize;
    final String appName;
    /** Milliseconds; 0 is off. See {@link dev.bellows.flags.FlagWatcher}. */
    final long flagsPollMillis;
    final long rulesPollMillis;
    /** {@link #FLAGS_URL}, or null for the application's own connections. */
    String flagsUrl;
    /** {@link #FLAGS_MODE} is {@code listen}. */
    boolean flagsListen;
    /** {@link #FLAGS_STALENESS} in milliseconds (check mode). */
    long flagsStalenessMillis = DEFAULT_FLAGS_STALENESS_MILLIS;
    static final long DEFAULT_FLAGS_STALENESS_MILLIS = 500;
    final SchemaView schema;
    /** Usage recording ({@code bellows.usage*}); set by {@link #resolve}. */
    dev.bellows.usage.UsageSettings usage = dev.bellows.usage.UsageSettings.defaults();
    /** {@link #SHADOW}: 0 is off. */
    double shadowRate;
    int shadowMaxRows = 1_000;

    private BellowsConfig(String rules, int cacheSize, String appName, long flagsPollMillis, long rulesPollMillis,
                          SchemaView schema) {
        this.rules = rules;
        this.schema = schema;
        this.cacheSize = cacheSize;
        this.appName = appName;
        this.flagsPollMillis = flagsPollMillis;
        this.rulesPollMillis = rulesPollMillis;
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
        long flagsPoll = interval(FLAGS_POLL, lookup(FLAGS_POLL, explicit, systemProperties, environment),
            dev.bellows.flags.FlagWatcher.DEFAULT_FLAGS_POLL_MILLIS);
        long rulesPoll = interval(RULES_POLL, lookup(RULES_POLL, explicit, systemProperties, environment),
            dev.bellows.flags.FlagWatcher.DEFAULT_RULES_POLL_MILLIS);
        SchemaView schema;
        try {
            schema = SchemaView.parse(lookup(SCHEMA, explicit, systemProperties, environment));
        } catch (IllegalArgumentException e) {
            throw Errors.config(e.getMessage(), e);
        }
        BellowsConfig config = new BellowsConfig(rules, cacheSize, app, flagsPoll, rulesPoll, schema);
        config.flagsUrl = lookup(FLAGS_URL, explicit, systemProperties, environment);
        if (config.flagsUrl != null && !config.flagsUrl.regionMatches(true, 0, "jdbc:postgresql:", 0, 16)) {
            throw Errors.config("Bellows setting '" + FLAGS_URL + "' must be a plain jdbc:postgresql: URL straight to the"
                + " PostgreSQL server (not through a transaction pooler, not a jdbc:bellows: URL), got "
                + Redact.url(config.flagsUrl), null);
        }
        String mode = lookup(FLAGS_MODE, explicit, systemProperties, environment);
        if (mode == null) {
            config.flagsListen = config.flagsUrl != null;
        } else if (mode.equalsIgnoreCase("listen") || mode.equalsIgnoreCase("check")) {
            config.flagsListen = mode.equalsIgnoreCase("listen");
        } else {
            throw Errors.config("Bellows setting '" + FLAGS_MODE + "' must be check or listen, got '" + mode + "'", null);
        }
        config.flagsStalenessMillis = interval(FLAGS_STALENESS, lookup(FLAGS_STALENESS, explicit, systemProperties,
            environment), DEFAULT_FLAGS_STALENESS_MILLIS);
        if (!config.flagsListen && config.flagsStalenessMillis == 0) {
            throw Errors.config("Bellows setting '" + FLAGS_STALENESS + "' cannot be off in check mode; use "
                + FLAGS_MODE + "=listen, or " + FLAGS_POLL + "=off for no database flags", null);
        }
        try {
            config.usage = dev.bellows.usage.UsageSettings.parse(lookup(USAGE, explicit, systemProperties, environment),
                lookup(USAGE_FLUSH_INTERVAL, explicit, systemProperties, environment),
                lookup(USAGE_MAX_FINGERPRINTS, explicit, systemProperties, environment),
                lookup(USAGE_RETENTION, explicit, systemProperties, environment));
        } catch (IllegalArgumentException e) {
            throw Errors.config(e.getMessage(), e);
        }
        config.shadowRate = shadowRate(lookup(SHADOW, explicit, systemProperties, environment));
        String maxRows = lookup(SHADOW_MAX_ROWS, explicit, systemProperties, environment);
        if (maxRows != null) {
            try {
                config.shadowMaxRows = Integer.parseInt(maxRows.strip());
            } catch (NumberFormatException e) {
                config.shadowMaxRows = 0;
            }
            if (config.shadowMaxRows < 1) {
                throw Errors.config("Bellows setting '" + SHADOW_MAX_ROWS + "' must be a positive integer (rows a shadow"
                    + " read may compare), got '" + maxRows + "'", null);
            }
        }
        return config;
    }

    /** {@code off}, {@code 0} … {@code 1}, or a percentage such as {@code 1%}. */
    static double shadowRate(String value) throws SQLException {
        if (value == null || value.isBlank() || value.strip().equalsIgnoreCase("off")) return 0;
        String v = value.strip();
        double rate;
        try {
            rate = v.endsWith("%") ? Double.parseDouble(v.substring(0, v.length() - 1).strip()) / 100
                : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            rate = Double.NaN;
        }
        if (!(rate >= 0 && rate <= 1)) {
            throw Errors.config("Bellows setting '" + SHADOW + "' must be a sampling rate from 0 to 1 (e.g. 0.01, or 1%),"
                + " or off, got '" + value + "'", null);
        }
        return rate;
    }

    private static long interval(String key, String value, long defaultMillis) throws SQLException {
        if (value == null) return defaultMillis;
        try {
            return dev.bellows.flags.Interval.parseMillis(key, value);
        } catch (IllegalArgumentException e) {
            throw Errors.config(e.getMessage(), e);
        }
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
        return new RuntimeKey(target, user, rules, cacheSize, appName, schema);
    }

    /** Identity of a configuration: where it connects, as whom, and with which Bellows settings. */
    record RuntimeKey(Object target, String user, String rules, int cacheSize, String appName, SchemaView schema) {
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
            String rawKey = eq < 0 ? param : param.substring(0, eq);
            String key = decode(rawKey, rawKey, url);
            String value = eq < 0 ? "" : decode(param.substring(eq + 1), rawKey, url);
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

    /** URL-decodes {@code s}, part of parameter {@code key}; a failure names the parameter, never a secret value. */
    private static String decode(String s, String key, String url) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // URLDecoder's own message quotes the text, so it is not chained: it may be a password.
            String shown = s.equals(key) ? Redact.value(key, s) : key + "=" + Redact.value(key, s);
            throw Errors.config("malformed parameter '" + shown + "' in URL " + Redact.url(url)
                + " (a '%' must start a two-digit hex escape)", null);
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
