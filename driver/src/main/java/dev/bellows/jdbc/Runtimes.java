package dev.bellows.jdbc;

import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The one piece of mutable static state besides driver registration: the {@link BellowsRuntime} of each
 * configuration, so every connection made with the same URL, user and Bellows settings shares one rewriter,
 * catalog and phase set, whichever driver instance or data source made it. Entries live as long as the class
 * loader; applications have a handful of configurations, so nothing is evicted.
 */
final class Runtimes {
    private static final ConcurrentMap<BellowsConfig.RuntimeKey, BellowsRuntime> RUNTIMES = new ConcurrentHashMap<>();

    private Runtimes() {
    }

    /**
     * The runtime for {@code key}, creating it (and loading its rules file) on first use. A rules file that
     * fails to load is not remembered, so fixing the file and connecting again works. {@code credentials} (user,
     * password) are for the flag watcher's connection when {@code bellows.flags.url} is set.
     */
    static BellowsRuntime obtain(BellowsConfig config, BellowsConfig.RuntimeKey key, BellowsRuntime.ConnectionSource source,
                                 java.util.Properties credentials) throws SQLException {
        BellowsRuntime existing = RUNTIMES.get(key);
        if (existing != null) return existing;
        BellowsRuntime created = new BellowsRuntime(loadRules(config.rules), config.appName, config.schema, config.options(),
            source);
        // Flags and phase overrides apply before anyone can use the runtime; a runtime that loses the race is dropped.
        dev.bellows.flags.FlagWatcher watcher = dev.bellows.flags.FlagWatcher.start(created, config.rules,
            config.flagsPollMillis, config.flagsListen ? 0 : config.flagsStalenessMillis, config.rulesPollMillis,
            FlagsConnection.opener(config, source, credentials)::open);
        if (watcher != null) created.flagCheck = watcher.check();
        existing = RUNTIMES.putIfAbsent(key, created);
        if (existing != null && watcher != null) watcher.close();
        if (existing == null) {
            created.startUsage(config.usage);
            created.startShadow(config.shadowRate, config.shadowMaxRows, config.usage);
        }
        return existing != null ? existing : created;
    }

    /**
     * After DDL committed through a connection of {@code self}: every other configuration of this JVM on the same
     * database (e.g. Flyway's connections, whose ApplicationName differs, and the application's) reads its catalog
     * again on a connection of its own, so a migration tool's ADD/DROP COLUMN takes effect in the same process.
     */
    static void refreshSameDatabase(BellowsRuntime self) {
        String db = self.database();
        if (db == null) return;
        for (BellowsRuntime r : RUNTIMES.values()) {
            if (r == self || !db.equals(r.database()) || r.rules().isEmpty()) continue;
            try {
                r.refreshCatalog();
            } catch (SQLException | RuntimeException e) {
                System.getLogger(Runtimes.class.getName()).log(System.Logger.Level.WARNING,
                    "Bellows could not refresh the catalog of " + r + " after DDL; it refreshes at its next DDL,"
                        + " phase change or refreshCatalog()", e);
            }
        }
    }

    /** The rules at {@code location}, or no rules when it is null. */
    static RuleSet loadRules(String location) throws SQLException {
        if (location == null) return RuleSet.empty();
        try {
            return RulesFile.load(location, null);
        } catch (RulesException e) {
            throw Errors.config("Bellows could not load its rules: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw Errors.config("Bellows could not load its rules from " + location + ": " + e, e);
        }
    }
}
