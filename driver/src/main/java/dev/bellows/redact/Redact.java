package dev.bellows.redact;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place that renders connection details for humans: every URL, property set or message Bellows prints,
 * logs or stores goes through here, with the value of every secret-bearing parameter replaced by {@value #MASK}.
 *
 * <p>A parameter is secret-bearing when its name, URL-decoded and in any case, contains {@code password},
 * {@code passwd}, {@code pwd}, {@code secret}, {@code token} or {@code credential}, or is {@code sslkey} (a key's
 * location is masked too: pgjdbc's callbacks may read key material from it). A user-info part
 * ({@code //user:pw@host}) loses its password. Masking errs on the side of hiding: a harmless value whose name
 * merely looks secret is masked as well.
 */
public final class Redact {
    /** What a secret value is replaced with. */
    public static final String MASK = "***";

    private static final String[] SECRET_WORDS = {"password", "passwd", "pwd", "secret", "token", "credential"};
    /** key=value inside free text: a key made of name characters (or %-escapes), its value up to a delimiter. */
    private static final Pattern PAIR =
        Pattern.compile("([A-Za-z0-9_.%\\-]+)(\\s*=\\s*)('[^']*'|\"[^\"]*\"|[^&;,\\s'\"()\\[\\]{}<>]*)");
    /** A JDBC URL inside free text: up to whitespace or a quote. */
    private static final Pattern JDBC_URL = Pattern.compile("jdbc:[^\\s'\"<>]+");
    /** {@code scheme://user:password@} in any text. */
    private static final Pattern USER_INFO = Pattern.compile("(//[^/@:\\s'\"?&]*):([^/@\\s'\"]*)@");

    private Redact() {
    }

    /** Whether a parameter or property of this name carries a secret (the name may be URL-encoded). */
    public static boolean isSecret(String name) {
        if (name == null) return false;
        String n = decodeLeniently(name).trim().toLowerCase(Locale.ROOT);
        if (n.equals("sslkey")) return true;
        for (String w : SECRET_WORDS) {
            if (n.contains(w)) return true;
        }
        return false;
    }

    /** A JDBC URL (or any URL) with the password of its user-info part and every secret parameter masked. */
    public static String url(String url) {
        if (url == null) return null;
        String s = USER_INFO.matcher(url).replaceAll("$1:" + MASK + "@");
        int q = s.indexOf('?');
        if (q < 0) return s;
        StringBuilder out = new StringBuilder(s.length()).append(s, 0, q + 1);
        String[] params = s.substring(q + 1).split("&", -1);
        for (int i = 0; i < params.length; i++) {
            if (i > 0) out.append('&');
            String p = params[i];
            int eq = p.indexOf('=');
            if (eq >= 0 && isSecret(p.substring(0, eq))) out.append(p, 0, eq + 1).append(MASK);
            else out.append(p);
        }
        return out.toString();
    }

    /** A URL without its query: where a connection goes, for logs that need no parameters at all. */
    public static String location(String url) {
        if (url == null) return null;
        int q = url.indexOf('?');
        return USER_INFO.matcher(q < 0 ? url : url.substring(0, q)).replaceAll("$1:" + MASK + "@");
    }

    /** Connection properties as {@code {k=v, …}}, sorted, secret values masked. */
    public static String properties(Properties p) {
        Map<String, String> sorted = new TreeMap<>();
        if (p != null) {
            for (String k : p.stringPropertyNames()) sorted.put(k, isSecret(k) ? MASK : p.getProperty(k));
        }
        return sorted.toString();
    }

    /** One parameter's value for a message: masked when its name is secret-bearing. */
    public static String value(String name, String value) {
        return isSecret(name) ? MASK : value;
    }

    /**
     * Free text (an exception message, a log line) with every secret it may carry masked: user-info passwords and
     * {@code key=value} pairs whose key is secret-bearing, wherever they appear.
     */
    public static String text(String text) {
        if (text == null) return null;
        Matcher u = JDBC_URL.matcher(text);
        StringBuilder urls = new StringBuilder(text.length());
        while (u.find()) u.appendReplacement(urls, Matcher.quoteReplacement(url(u.group())));
        u.appendTail(urls);
        String s = USER_INFO.matcher(urls).replaceAll("$1:" + MASK + "@");
        Matcher m = PAIR.matcher(s);
        StringBuilder out = null;
        int last = 0;
        while (m.find()) {
            if (!isSecret(m.group(1)) || m.group(3).equals(MASK)) continue;
            if (out == null) out = new StringBuilder(s.length());
            out.append(s, last, m.start(3)).append(MASK);
            last = m.end(3);
        }
        if (out == null) return s;
        return out.append(s, last, s.length()).toString();
    }

    /** {@link #text} of a throwable's message, or of its class name when it has none. */
    public static String message(Throwable t) {
        if (t == null) return null;
        String m = t.getMessage();
        return text(m == null ? t.toString() : m);
    }

    private static String decodeLeniently(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
