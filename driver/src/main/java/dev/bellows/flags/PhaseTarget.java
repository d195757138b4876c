package dev.bellows.flags;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.usage.UsageRecorder;
import java.sql.SQLException;

/**
 * What a {@link FlagWatcher} keeps in line with the flag sources: the rules and phases of one driver
 * configuration. Implemented by the JDBC layer's runtime, so that {@code flags} never depends on {@code jdbc}.
 */
public interface PhaseTarget {
    /** The configuration's {@code bellows.appName}, for log lines and the listening connection's name. */
    String appName();

    /** The rules in force, with their current phases. */
    RuleSet rules();

    /** Replaces the rules; may read the catalog first, and throws when it cannot. */
    void setRules(RuleSet rules) throws SQLException;

    /** Moves one migration to another phase; throws {@link IllegalArgumentException} for an unknown id. */
    void setPhase(String migrationId, Phase phase);

    /** Reads the catalog again, e.g. after DDL run elsewhere before a phase change. */
    void refreshCatalog() throws SQLException;

    /** Reads the catalog again on {@code connection} (an application connection, in auto-commit). */
    default void refreshCatalog(java.sql.Connection connection) throws SQLException {
        refreshCatalog();
    }

    /**
     * Whether the catalog held already has every table and column {@code phases} presume (each new column, a renamed
     * table's new name, once its migration is past off), so a phase change need not read it again. The default
     * says no: the catalog is read before every phase change.
     */
    default boolean catalogReadyFor(java.util.Map<String, Phase> phases) {
        return false;
    }

    /** The usage recorder to flush after a phase change (so heartbeats report it at once), or null. */
    UsageRecorder usageRecorder();
}
