package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.fail;

import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Phase;
import dev.bellows.testing.PostgresFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** A fresh database with a rules file, Bellows data sources ("instances") on it, and the CLI pointed at it. */
final class FlagsDb implements AutoCloseable {
    final PostgresFixture fixture = PostgresFixture.get();
    final String pgUrl;
    final Path dir;
    final Path rules;
    private final List<BellowsDataSource> sources = new ArrayList<>();
    String out = "";
    String err = "";

    private FlagsDb(String pgUrl, Path dir) {
        this.pgUrl = pgUrl;
        this.dir = dir;
        this.rules = dir.resolve("rules.yaml");
    }

    static FlagsDb create(String prefix, String rulesYaml) throws IOException {
        FlagsDb db = new FlagsDb(PostgresFixture.get().createDatabase(prefix), Files.createTempDirectory("bellows-" + prefix));
        db.writeRules(rulesYaml);
        return db;
    }

    /** The rules file with a rename {@code leads.user_email -> email} in {@code phase}. */
    static String leadsRules(String phase) {
        return leadsRules("leads-email", phase);
    }

    static String leadsRules(String id, String phase) {
        return "migrations:\n"
            + "  - id: " + id + "\n"
            + "    table: leads\n"
            + "    from: user_email\n"
            + "    to: email\n"
            + "    phase: " + phase + "\n";
    }

    /** Writes the rules file and moves its modification time forward, so a watcher sees a change. */
    void writeRules(String yaml) throws IOException {
        FileTime before = Files.exists(rules) ? Files.getLastModifiedTime(rules) : FileTime.fromMillis(0);
        Files.writeString(rules, yaml, StandardCharsets.UTF_8);
        long next = Math.max(System.currentTimeMillis(), before.toMillis() + 1000);
        Files.setLastModifiedTime(rules, FileTime.fromMillis(next));
    }

    /** An instance: its own configuration (so its own runtime and watcher) on this database. */
    BellowsDataSource instance(String appName, String... settings) throws SQLException {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(pgUrl);
        if (fixture.user() != null) ds.setUser(fixture.user());
        if (fixture.password() != null) ds.setPassword(fixture.password());
        ds.setRules(rules.toString());
        ds.setAppName(appName);
        for (int i = 0; i < settings.length; i += 2) ds.setProperty(settings[i], settings[i + 1]);
        sources.add(ds);
        return ds;
    }

    /** An instance configured elsewhere (e.g. through pgbouncer), whose watcher {@link #close} stops too. */
    void track(BellowsDataSource ds) {
        sources.add(ds);
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

    /**
     * Until every live instance's heartbeat reports {@code phase} for {@code id}: acting on a flip and reporting it
     * are two steps, and {@code bellows status}, the backfill's fleet check and the contract guard read the report.
     */
    void awaitReported(String id, Phase phase, long millis) {
        await("every live instance to report " + phase.label(), millis, () -> {
            try {
                return "0".equals(query("SELECT count(*) FROM bellows.instances WHERE stopped_at IS NULL"
                    + " AND phases ->> '" + id + "' IS DISTINCT FROM '" + phase.label() + "'"));
            } catch (SQLException e) {
                return false;
            }
        });
    }

    /** Sets a flag the way the CLI does (one transaction: row, history, NOTIFY), without its checks. */
    void setFlag(String id, Phase phase) throws SQLException {
        try (Connection c = raw()) {
            FlagStore.set(c, id, phase, new FlagStore.Actor("test", "localhost"), "test");
        }
    }

    String[] db(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--url", pgUrl));
        if (fixture.user() != null) a.addAll(List.of("--user", fixture.user()));
        if (fixture.password() != null) a.addAll(List.of("--password", fixture.password()));
        return a.toArray(new String[0]);
    }

    /** Runs the CLI with this database's URL and credentials appended; keeps what it printed. */
    int cli(String... args) {
        return cliRaw(db(args));
    }

    /** Runs the CLI with exactly {@code args}. */
    synchronized int cliRaw(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            code = BellowsCli.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        oldOut.println("$ bellows " + String.join(" ", args).replaceAll("--password \\S+", "--password ***") + "  => " + code);
        if (!out.isEmpty()) oldOut.print(out);
        if (!err.isEmpty()) oldOut.print("[stderr] " + err);
        return code;
    }

    static Phase phase(BellowsRuntime runtime, String id) {
        return runtime.rules().get(id).phase();
    }

    /** Waits until {@code condition} holds, failing after {@code millis}. */
    static void await(String what, long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail("timed out after " + millis + " ms waiting for " + what);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    static void awaitPhase(BellowsRuntime runtime, String id, Phase phase, long millis) {
        await(runtime.appName() + " to reach " + phase.label() + " (now " + phase(runtime, id).label() + ")", millis,
            () -> phase(runtime, id) == phase);
    }

    /** Stops the watchers of this database's instances, freeing their listening connections; removes the rules file. */
    @Override public void close() throws SQLException {
        for (BellowsDataSource ds : sources) {
            FlagWatcher w = FlagWatcher.of(ds.runtime());
            if (w != null) w.close();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }

    /** Records what {@link FlagWatcher} logs (System.Logger goes to java.util.logging by default). */
    static final class LogCapture implements AutoCloseable {
        // A strong reference: java.util.logging forgets loggers nobody holds, and their handlers with them.
        private final Logger logger = Logger.getLogger(FlagWatcher.class.getName());
        final List<LogRecord> records = new CopyOnWriteArrayList<>();
        private final Handler handler = new Handler() {
            @Override public void publish(LogRecord r) {
                records.add(r);
            }

            @Override public void flush() {
            }

            @Override public void close() {
            }
        };

        LogCapture() {
            logger.addHandler(handler);
        }

        boolean has(Level level, String... parts) {
            for (LogRecord r : records) {
                if (r.getLevel() != level) continue;
                String m = r.getMessage();
                boolean all = true;
                for (String p : parts) all &= m.contains(p);
                if (all) return true;
            }
            return false;
        }

        String dump() {
            StringBuilder sb = new StringBuilder();
            for (LogRecord r : records) sb.append(r.getLevel()).append(": ").append(r.getMessage()).append('\n');
            return sb.toString();
        }

        @Override public void close() {
            logger.removeHandler(handler);
        }
    }
}
