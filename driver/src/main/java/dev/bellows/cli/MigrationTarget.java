package dev.bellows.cli;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;
import dev.bellows.workflow.Db;
import dev.bellows.workflow.WorkflowException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/** The options {@code plan}, {@code backfill} and {@code check} share: the database and the rules file. */
final class MigrationTarget {
    @Option(names = "--url", paramLabel = "URL",
        description = "JDBC URL of the application's database: jdbc:postgresql://host:port/db (a jdbc:bellows:postgresql: URL is accepted too)."
            + " Repeat it for several databases (a sharded application): the command runs on each, in parallel.")
    List<String> urls;

    @Option(names = "--targets", paramLabel = "FILE",
        description = "A file of databases to run on, in parallel: one per line, URL or NAME URL; # starts a comment.")
    java.nio.file.Path targets;

    @Option(names = "--user", description = "Database user (else from the URL).")
    String user;

    @Option(names = "--password", description = "Database password (else from the URL or PGPASSWORD).")
    String password;

    @Option(names = "--rules", paramLabel = "FILE",
        description = "The rules file, a path or classpath:… (default: -Dbellows.rules or BELLOWS_RULES).")
    String rules;

    String rulesLocation() throws WorkflowException {
        if (rules != null && !rules.isBlank()) return rules;
        String p = System.getProperty("bellows.rules");
        if (p != null && !p.isBlank()) return p;
        String e = System.getenv("BELLOWS_RULES");
        if (e != null && !e.isBlank()) return e;
        throw new WorkflowException("no rules file: give --rules FILE (or set bellows.rules / BELLOWS_RULES)");
    }

    RuleSet ruleSet() throws WorkflowException {
        try {
            return RulesFile.load(rulesLocation(), null);
        } catch (RulesException e) {
            throw new WorkflowException(e.getMessage(), e);
        }
    }

    /** The migration {@code id} of the rules file, or an error naming the known ids. */
    static Migration migration(RuleSet rules, String id) throws WorkflowException {
        Migration m = rules.get(id);
        if (m == null) {
            throw new WorkflowException("unknown migration id '" + id + "' in " + rules.source() + " (known: "
                + (rules.isEmpty() ? "none" : rules.migrations().stream().map(Migration::id).collect(Collectors.joining(", ")))
                + ")");
        }
        return m;
    }

    /** The one database's URL, or an error asking for one. */
    String url() throws SQLException {
        if (urls == null || urls.isEmpty()) throw new SQLException("no database: give --url URL (repeatable) or --targets FILE");
        return urls.get(0);
    }

    /** Whether several databases are given (the command then runs through {@link Fanout}). */
    boolean several() {
        return Fanout.several(urls, targets);
    }

    Connection connect() throws SQLException {
        return Db.connect(url(), user, password);
    }
}
