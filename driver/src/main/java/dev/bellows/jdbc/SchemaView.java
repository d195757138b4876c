package dev.bellows.jdbc;

import java.util.Locale;

/**
 * Which version of each managed table a connection presents ({@code bellows.schema}). From expand on, the
 * {@link #OLD} view is the table legacy code was written for: it has the migration's {@code from} column and
 * not its {@code to} column (also after the drop, where {@code from} is shown in {@code to}'s place); the
 * {@link #NEW} view is the mirror image, {@code to} and not {@code from}. In phase off both views show the
 * table as it is. The view shapes what frameworks read from {@code DatabaseMetaData}; SQL naming either column
 * is rewritten the same way in both views.
 */
public enum SchemaView {
    /** Code written before the migration (the default). */
    OLD,
    /** Code written for the replacement column: the new version's deployment sets {@code bellows.schema=new}. */
    NEW;

    /** {@code old} or {@code new}, any case; null or blank is {@link #OLD}. */
    static SchemaView parse(String value) {
        if (value == null || value.isBlank()) return OLD;
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "old": return OLD;
            case "new": return NEW;
            default:
                throw new IllegalArgumentException("Bellows setting 'bellows.schema' must be 'old' or 'new', got '" + value + "'");
        }
    }

    /** The lower-case name used in settings. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
