package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testapp.LegacyLeads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Non-parameterised statements carrying e-mail addresses: the addresses reach no bellows table, no usage file,
 * no log line, and no CLI output.
 */
class PrivacyTest {
    static final String SECRET = "secret.person@example.com";
    @TempDir Path dir;

    /** Every log record of the JVM while it is attached, formatted as a handler would print it. */
    static final class Capture extends Handler {
        final List<String> lines = new ArrayList<>();
        final SimpleFormatter f = new SimpleFormatter();

        @Override public synchronized void publish(LogRecord r) {
            lines.add(f.format(r));
        }

        @Override public void flush() {
        }

        @Override public void close() {
        }
    }

    static void workload(BellowsDataSource ds) throws SQLException {
        LegacyLeads app = new LegacyLeads(ds);
        app.findIdByEmail(SECRET);                                                    // passed through (expand)
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO leads (id, name, user_email) VALUES (" + (int) (Math.random() * 1e6) + ", 'Secret Person', '"
                + SECRET + "')");                                                       // rewritten (dual write)
            s.executeUpdate("UPDATE leads SET user_email = '" + SECRET + "' WHERE user_email = E'" + SECRET + "'");
            s.executeQuery("SELECT count(user_email) FROM leads, unnest(ARRAY(SELECT id FROM imports)) AS i(id) WHERE user_email = $$" + SECRET + "$$")
                .close();                                                               // unanalysed
        }
    }

    @Test
    void noLiteralReachesTablesFilesLogsOrOutput() throws Exception {
        Logger root = Logger.getLogger("");
        Capture capture = new Capture();
        capture.setLevel(Level.ALL);
        Logger usageLogger = Logger.getLogger("dev.bellows.usage");
        Level before = usageLogger.getLevel();
        usageLogger.setLevel(Level.ALL);
        root.addHandler(capture);
        UsageDb db = UsageDb.create("usage_privacy", dir, "expand");
        Path file = dir.resolve("usage.jsonl");
        try {
            BellowsDataSource toDb = db.dataSource("privacy-db");
            BellowsDataSource toFile = db.dataSource("privacy-file", "bellows.usage", "file:" + file);
            BellowsDataSource toLog = db.dataSource("privacy-log", "bellows.usage", "log");
            for (BellowsDataSource ds : List.of(toDb, toFile, toLog)) {
                workload(ds);
                assertTrue(UsageDb.recorder(ds).flush());
            }
            db.close(); // final flushes, instances stopped
        } finally {
            root.removeHandler(capture);
            usageLogger.setLevel(before);
        }

        // the database: every row of every bellows table, as text
        int rows = 0;
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet tables = s.executeQuery("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'bellows'")) {
            List<String> names = new ArrayList<>();
            while (tables.next()) names.add(tables.getString(1));
            assertTrue(names.contains("bellows.usage"), names.toString());
            for (String t : names) {
                try (Statement q = c.createStatement(); ResultSet rs = q.executeQuery("SELECT x::text FROM " + t + " x")) {
                    while (rs.next()) {
                        rows++;
                        assertFalse(rs.getString(1).contains("secret"), t + ": " + rs.getString(1));
                    }
                }
            }
        }
        assertTrue(rows > 4, "the workload was recorded");
        assertEquals("5", db.query("SELECT count(*) FROM bellows.usage WHERE app_name = 'privacy-db'"));
        assertEquals("SELECT id FROM leads WHERE user_email = ?",
            db.query("SELECT fingerprint FROM bellows.usage WHERE app_name = 'privacy-db' AND kind = 'read' AND treatment = 'passed_through'"));

        // the file
        String text = Files.readString(file);
        assertTrue(text.contains("\"fingerprint\":\"UPDATE leads SET user_email = ? WHERE user_email = ?\""), text);
        assertFalse(text.contains("secret"), text);

        // the log: the log sink's lines, and everything else Bellows logged meanwhile
        List<String> usageLines = capture.lines.stream().filter(l -> l.contains("bellows usage {")).toList();
        assertTrue(usageLines.size() >= 4, capture.lines.toString());
        for (String line : capture.lines) assertFalse(line.contains("secret"), line);

        // the CLI
        for (UsageDb.Cli out : List.of(db.cli("report"), db.cli("report", "--format", "json"), db.cli("report", "--format", "markdown"),
            db.cli("status"), db.cli("gate", UsageDb.ID, "--window", "1h"))) {
            assertFalse(out.out().contains("secret") || out.err().contains("secret"), out.toString());
        }
    }
}
