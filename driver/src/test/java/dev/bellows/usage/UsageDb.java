package dev.bellows.usage;

import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.testing.PostgresFixture;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * A fresh database with the table of a rename {@code leads.user_email -> email} (migration {@code leads-email}),
 * its rules file, Bellows data sources on it, and the CLI run in-process against it.
 */
final class UsageDb implements AutoCloseable {
    static final String ID = "leads-email";

    final PostgresFixture fixture = PostgresFixture.get();
    final String pgUrl;
    final Path rules;
    private final List<BellowsDataSource> sources = new ArrayList<>();

    private UsageDb(String pgUrl, Path rules) {
        this.pgUrl = pgUrl;
        this.rules = rules;
    }

    /** A database with {@code leads(id, name, user_email, email)} and {@code imports(id)}, rules in {@code phase}. */
    static UsageDb create(String prefix, Path dir, String phase) throws SQLException, IOException {
        UsageDb db = new UsageDb(PostgresFixture.get().createDatabase(prefix), Files.createTempFile(dir, prefix, ".yaml"));
        db.writeRules(phase);
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, name text, user_email text, email text)",
            "CREATE TABLE imports (id int PRIMARY KEY)");
        return db;
    }

    void writeRules(String phase) throws IOException {
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: leads\n    from: user_email\n    to: email\n"
            + "    phase: " + phase + "\n");
    }

    /** A Bellows data source for application {@code app}; extra {@code bellows.*} settings as key, value pairs. */
    BellowsDataSource dataSource(String app, String... settings) throws SQLException {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(pgUrl);
        if (fixture.user() != null) ds.setUser(fixture.user());
        if (fixture.password() != null) ds.setPassword(fixture.password());
        ds.setRules(rules.toString());
        ds.setAppName(app);
        // no flag polling or rules watching in these tests: phases are set on the runtime
        ds.setProperty("bellows.flags.poll", "off");
        ds.setProperty("bellows.rules.poll", "off");
        for (int i = 0; i < settings.length; i += 2) ds.setProperty(settings[i], settings[i + 1]);
        sources.add(ds);
        return ds;
    }

    static UsageRecorder recorder(BellowsDataSource ds) throws SQLException {
        return ds.runtime().usageRecorder();
    }

    Connection raw() throws SQLException {
        return fixture.connect(pgUrl);
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

    /** {@code --url … --user … --password …} for the CLI. */
    List<String> urlArgs() {
        List<String> a = new ArrayList<>(List.of("--url", pgUrl));
        if (fixture.user() != null) a.addAll(List.of("--user", fixture.user()));
        if (fixture.password() != null) a.addAll(List.of("--password", fixture.password()));
        return a;
    }

    /** Runs {@code bellows <command> <args> --url …} in-process. */
    Cli cli(String command, String... args) {
        List<String> all = new ArrayList<>();
        all.add(command);
        all.addAll(List.of(args));
        all.addAll(urlArgs());
        return Cli.run(all.toArray(new String[0]));
    }

    /** The CLI's exit code and output. */
    record Cli(int code, String out, String err) {
        static Cli run(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cl = new CommandLine(new BellowsCli());
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
                cmd.getErr().println("bellows: " + ex);
                return BellowsCli.ERROR;
            });
            cl.setParameterExceptionHandler((ex, a) -> {
                ex.getCommandLine().getErr().println("bellows: " + ex.getMessage());
                return BellowsCli.ERROR;
            });
            int code = cl.execute(args);
            return new Cli(code, out.toString(), err.toString());
        }

        @Override public String toString() {
            return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    /** Closes every runtime made here: final flush, instance marked stopped, flusher stopped. */
    @Override public void close() throws SQLException {
        for (BellowsDataSource ds : sources) {
            BellowsRuntime r = ds.runtime();
            r.close();
        }
    }
}
