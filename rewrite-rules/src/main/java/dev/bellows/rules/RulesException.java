package dev.bellows.rules;

/**
 * A rules file that cannot be read or does not validate. The message always names the file and, where
 * known, the line, the migration and the key, e.g.
 * {@code rules.yaml:12: migration 'leads-contact-email', key 'phase': unknown phase 'swich' (expected off,
 * expand, switch or contract)}.
 */
public class RulesException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String key;
    private final String migrationId;
    private final String detail;

    /**
     * @param file        the file or resource name, as given to the loader
     * @param line        1-based line, 0 when unknown
     * @param key         the offending key, or null
     * @param migrationId the offending migration's id, or null
     * @param detail      what is wrong, without the location prefix
     */
    public RulesException(String file, int line, String key, String migrationId, String detail) {
        this(file, line, key, migrationId, detail, null);
    }

    public RulesException(String file, int line, String key, String migrationId, String detail, Throwable cause) {
        this(file, line, key, migrationId, migrationId == null ? null : "migration '" + migrationId + "'", detail, cause);
    }

    /** With an explicit label for the migration, e.g. {@code migration #3} when it has no usable id. */
    public RulesException(String file, int line, String key, String migrationId, String migrationLabel, String detail,
                   Throwable cause) {
        super(format(file, line, key, migrationLabel, detail), cause);
        this.file = file == null ? "<unknown>" : file;
        this.line = Math.max(line, 0);
        this.key = key;
        this.migrationId = migrationId;
        this.detail = detail;
    }

    private static String format(String file, int line, String key, String migrationLabel, String detail) {
        StringBuilder sb = new StringBuilder(file == null ? "<unknown>" : file);
        if (line > 0) sb.append(':').append(line);
        sb.append(": ");
        if (migrationLabel != null) sb.append(migrationLabel);
        if (key != null) {
            if (migrationLabel != null) sb.append(", ");
            sb.append("key '").append(key).append('\'');
        }
        if (migrationLabel != null || key != null) sb.append(": ");
        sb.append(detail);
        return sb.toString();
    }

    /** The file or resource name as given to the loader (e.g. {@code rules.yaml}, {@code classpath:rules.yaml}). */
    public String file() { return file; }

    /** The 1-based line the problem is on, 0 when unknown (e.g. the file could not be read). */
    public int line() { return line; }

    /** The key the problem is about, or null. */
    public String key() { return key; }

    /** The id of the migration the problem is in, or null (top level, or a migration without a usable id). */
    public String migrationId() { return migrationId; }

    /** The problem alone, without the file/line/migration/key prefix. */
    public String detail() { return detail; }
}
