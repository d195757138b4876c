package dev.bellows.usage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What may be stored of a statement fingerprint: literal-free, bounded, and keyed by a hash. */
final class Fingerprints {
    /** Longest fingerprint text stored; longer ones are cut and marked with {@code …}. */
    static final int MAX_STORED_CHARS = 8_192;

    private Fingerprints() {
    }

    /**
     * The fingerprint as stored. The rewriter already replaces every literal with {@code ?}; this replaces any
     * quoted string or dollar-quoted body that is still there anyway (belt and braces: no value may reach a
     * table, file or log), then bounds the length.
     */
    static String stored(String fingerprint) {
        String s = scrub(fingerprint);
        return s.length() <= MAX_STORED_CHARS ? s : s.substring(0, MAX_STORED_CHARS) + " …";
    }

    static String scrub(String s) {
        if (s.indexOf('\'') < 0 && s.indexOf('$') < 0) return s;
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '\'') {
                int j = i + 1;
                while (j < n) {
                    if (s.charAt(j) == '\'') {
                        if (j + 1 < n && s.charAt(j + 1) == '\'') { j += 2; continue; }
                        break;
                    }
                    j++;
                }
                // drop an E/B/X/U& prefix that belonged to the literal
                int len = out.length();
                if (len > 0 && "eEbBxX".indexOf(out.charAt(len - 1)) >= 0 && (len == 1 || !Character.isLetterOrDigit(out.charAt(len - 2)))) {
                    out.setLength(len - 1);
                }
                out.append('?');
                i = Math.min(n, j + 1);
            } else if (c == '$' && (i == 0 || !Character.isLetterOrDigit(s.charAt(i - 1)))) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                if (j < n && s.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(s.charAt(i + 1)))) {
                    String tag = s.substring(i, j + 1);
                    int end = s.indexOf(tag, j + 1);
                    out.append('?');
                    i = end < 0 ? n : end + tag.length();
                } else {
                    out.append(c);
                    i++;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** 32 hex characters of SHA-256 over the full fingerprint: the key column, since text may be long. */
    static String hash(String fingerprint) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(fingerprint.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
