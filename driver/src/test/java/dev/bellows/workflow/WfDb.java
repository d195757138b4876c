package dev.bellows.workflow;

import dev.bellows.cli.BellowsCli;
import dev.bellows.testing.PostgresFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;

/** A fresh database for one workflow test class, with plain and Bellows connections and an in-process CLI. */
final class WfDb {
    final PostgresFixture fixture = PostgresFixture.get();
    final String url;

    private WfDb(String url) {
        this.url = url;
    }

    static WfDb create(String prefix) {
        return new WfDb(PostgresFixture.get().createDatabase(prefix));
    }

    Connection raw() throws SQLException {
        return fixture.connect(url);
    }

    /** A {@code jdbc:bellows:postgresql:} connection using the given rules file. */
    Connection bellows(Path rules) throws SQLException {
        Properties p = new Properties();
        if (fixture.user() != null) p.setProperty("user", fixture.user());
        if (fixture.password() != null) p.setProperty("password", fixture.password());
        p.setProperty("bellows.rules", rules.toString());
        return DriverManager.getConnection("jdbc:bellows:" + url.substring("jdbc:".length()), p);
    }

    void exec(String... sql) throws SQLException {
        try (Connection c = raw(); Statement s = c.createStatement()) {
            for (String q : sql) s.execute(q);
        }
    }

    String query(String sql) throws SQLException {
        try (Connection c = raw(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    long count(String sql) throws SQLException {
        return Long.parseLong(query(sql));
    }

    List<String> rows(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = raw(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= n; i++) sb.append(i > 1 ? " | " : "").append(rs.getString(i));
                out.add(sb.toString());
            }
        }
        return out;
    }

    /** The connection options of the CLI for this database. */
    List<String> cliConnection() {
        List<String> a = new ArrayList<>(List.of("--url", url));
        if (fixture.user() != null) a.addAll(List.of("--user", fixture.user()));
        if (fixture.password() != null) a.addAll(List.of("--password", fixture.password()));
        return a;
    }

    static Path rules(Path dir, String yaml) throws java.io.IOException {
        Path p = dir.resolve("rules.yaml");
        Files.writeString(p, yaml);
        return p;
    }

    /** What an in-process CLI run printed and returned. */
    record Run(int exit, String out, String err) {
        @Override public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code bellows args…} in this JVM, capturing its output. */
    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BellowsCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("bellows: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return BellowsCli.ERROR;
        });
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code prefix} followed by {@code rest}, as one argument array. */
    static String[] args(List<String> prefix, String... rest) {
        List<String> a = new ArrayList<>(prefix);
        a.addAll(List.of(rest));
        return a.toArray(new String[0]);
    }
}
