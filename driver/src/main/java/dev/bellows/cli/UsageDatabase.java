package dev.bellows.cli;

import dev.bellows.redact.Redact;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Option;

/** {@code --url} (repeatable), {@code --targets}, {@code --user}, {@code --password} of {@code bellows init/status/report/gate}. */
final class UsageDatabase {
    @Option(names = "--url", paramLabel = "URL",
        description = "JDBC URL of the application's database: jdbc:postgresql://host:port/db (a jdbc:bellows:postgresql: URL is accepted too)."
            + " Repeat it for several databases (a sharded application): the command runs on each, in parallel.")
    List<String> urls;

    @Option(names = "--targets", paramLabel = "FILE",
        description = "A file of databases to run on, in parallel: one per line, URL or NAME URL; # starts a comment.")
    java.nio.file.Path targets;

    @Option(names = "--user", paramLabel = "USER", description = "Database user (else from the URL).")
    String user;

    @Option(names = "--password", paramLabel = "PASSWORD", description = "Database password (else from the URL or PGPASSWORD).")
    String password;

    /** The pgjdbc URL: without {@code bellows:} and without {@code bellows.*} parameters. */
    String pgUrl() throws SQLException {
        String given = url();
        String u = given.trim();
        if (u.regionMatches(true, 0, "jdbc:bellows:", 0, "jdbc:bellows:".length())) u = "jdbc:" + u.substring("jdbc:bellows:".length());
        if (!u.startsWith("jdbc:postgresql:")) {
            throw new SQLException("--url must be a jdbc:postgresql: URL (e.g. jdbc:postgresql://localhost:5432/app), got '" + Redact.url(given) + "'");
        }
        int q = u.indexOf('?');
        if (q < 0) return u;
        StringBuilder kept = new StringBuilder(u.substring(0, q));
        char sep = '?';
        for (String p : u.substring(q + 1).split("&")) {
            if (p.isEmpty() || p.startsWith("bellows.")) continue;
            kept.append(sep).append(p);
            sep = '&';
        }
        return kept.toString();
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

    /** An auto-commit pgjdbc connection; the message of a failure never shows the password. */
    Connection open(String command) throws SQLException {
        String pg = pgUrl();
        try {
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new SQLException("pgjdbc (org.postgresql.Driver) is not on the class path", e);
        }
        Properties p = new Properties();
        if (user != null) p.setProperty("user", user);
        String pw = password != null ? password : System.getenv("PGPASSWORD");
        if (pw != null && !pg.contains("password=")) p.setProperty("password", pw);
        if (!pg.contains("connectTimeout=")) p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", "bellows " + command);
        try {
            Connection c = DriverManager.getConnection(pg, p);
            if (c == null) throw new SQLException("no driver accepted " + Redact.url(pg));
            return c;
        } catch (SQLException e) {
            throw new SQLException("cannot connect to " + Redact.url(pg) + ": " + Redact.message(e), e.getSQLState(), e);
        }
    }
}
