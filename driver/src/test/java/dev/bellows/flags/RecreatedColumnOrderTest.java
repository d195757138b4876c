package dev.bellows.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.workflow.ScriptRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 22 §5, against the real server: after the DROP, the way back ({@code bellows plan}'s recreate files) adds
 * {@code user_email} again as the table's LAST column, so the table is physically {@code (id, name, contact_email,
 * user_email)}. Legacy code that inserts positionally or reads {@code SELECT *} by position means {@code (id,
 * user_email, name)}: Bellows keeps that order (recorded in {@code bellows.column_order} by the contract step) in
 * contract, and after the flag moves back to switch and expand, with both columns right in every row.
 */
class RecreatedColumnOrderTest {
    private static final String ID = RollbackPathsTest.ID;
    private FlagsDb db;
    private BellowsDataSource legacy;

    @AfterEach
    void tearDown() throws Exception {
        if (legacy != null) legacy.runtime().close();
        if (db != null) db.close();
    }

    @Test
    void positionalStatementsKeepTheLegacyOrderAfterTheDroppedColumnIsRecreated() throws Exception {
        db = FlagsDb.create("recreatedorder", RollbackPathsTest.rulesYaml("off"));
        db.exec("CREATE TABLE leads (id int PRIMARY KEY, user_email text NOT NULL UNIQUE, name text)",
            "CREATE TABLE leads_archive (id int, user_email text, name text)",
            "INSERT INTO leads VALUES (1, 'ann@x.org', 'Ann'), (2, 'bob@x.org', 'Bob')",
            "INSERT INTO leads_archive VALUES (90, 'old@x.org', 'Olga')");
        Path plan = db.dir.resolve("plan");
        assertEquals(0, cli("plan", ID, "--out", plan.toString()), db.err);
        apply(plan, "expand");
        apply(plan, "mirror");
        legacy = db.instance("legacy", "bellows.usage.flushInterval", "200ms");
        try (Connection c = legacy.getConnection()) {
            // the instance starts (and watches the flag) now
        }
        move(Phase.EXPAND);
        db.awaitReported(ID, Phase.EXPAND, 5_000); // the backfill's guard reads what the instances report, too
        assertEquals(0, db.cli("backfill", ID, "--rules", db.rules.toString(), "--progress", "none"), db.err);
        apply(plan, "not_null");
        move(Phase.SWITCH);
        assertEquals(0, cli("flags", "set", ID, "contract", "--force"), db.err); // the gate's window cannot pass in a test
        FlagsDb.awaitPhase(legacy.runtime(), ID, Phase.CONTRACT, 5_000);
        db.awaitReported(ID, Phase.CONTRACT, 5_000); // the contract file's guard checks what the instances report
        apply(plan, "contract"); // records (id, user_email, name, contact_email), then drops user_email
        legacy.runtime().refreshCatalog();
        insertPositionally(3, "cy@x.org", "Cy");

        // the way back after the DROP
        Path back = db.dir.resolve("back");
        assertEquals(0, cli("plan", ID, "--out", back.toString()), db.err);
        apply(back, "recreate");
        apply(back, "recreate_mirror");
        assertEquals(List.of("id", "name", "contact_email", "user_email"), physicalOrder(), "re-created last");
        legacy.runtime().refreshCatalog();
        // still in contract, with the column back: contract writes contact_email only, in user_email's legacy place
        insertPositionally(4, "dee@x.org", "Dee");
        assertEquals(List.of("4|Dee|dee@x.org|null"), raw("SELECT id, name, contact_email, user_email FROM leads WHERE id = 4"));
        assertLegacyRead(4, "dee@x.org", "Dee");

        move(Phase.SWITCH); // copies contact_email back into user_email for the rows contract wrote
        apply(back, "recreate_not_null");
        assertLegacyRead(4, "dee@x.org", "Dee");
        insertPositionally(5, "eve@x.org", "Eve");
        assertLegacyRead(5, "eve@x.org", "Eve");
        try (Connection c = legacy.getConnection(); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("INSERT INTO leads SELECT * FROM leads_archive")); // a legacy-shaped source
            assertEquals(1, s.executeUpdate("INSERT INTO leads SELECT id + 1, user_email || '.m', name FROM leads WHERE id = 90"));
        }
        assertLegacyRead(90, "old@x.org", "Olga");
        assertLegacyRead(91, "old@x.org.m", "Olga");

        move(Phase.EXPAND);
        insertPositionally(6, "fay@x.org", "Fay");
        assertLegacyRead(6, "fay@x.org", "Fay");

        // every row: both columns equal, the name where it belongs
        assertEquals(List.of("1|Ann|ann@x.org|ann@x.org", "2|Bob|bob@x.org|bob@x.org", "3|Cy|cy@x.org|cy@x.org",
                "4|Dee|dee@x.org|dee@x.org", "5|Eve|eve@x.org|eve@x.org", "6|Fay|fay@x.org|fay@x.org",
                "90|Olga|old@x.org|old@x.org", "91|Olga|old@x.org.m|old@x.org.m"),
            raw("SELECT id, name, user_email, contact_email FROM leads ORDER BY id"));
    }

    /** A legacy positional INSERT, as a plain statement for even ids and a prepared one for odd ids. */
    private void insertPositionally(int id, String email, String name) throws SQLException {
        try (Connection c = legacy.getConnection()) {
            if (id % 2 == 0) {
                try (Statement s = c.createStatement()) {
                    assertEquals(1, s.executeUpdate("INSERT INTO leads VALUES (" + id + ", '" + email + "', '" + name + "')"));
                }
            } else {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads VALUES (?, ?, ?)")) {
                    ps.setInt(1, id);
                    ps.setString(2, email);
                    ps.setString(3, name);
                    assertEquals(1, ps.executeUpdate());
                }
            }
        }
    }

    /** The legacy read by position: {@code SELECT *} gives id, user_email, name first, as before the migration. */
    private void assertLegacyRead(int id, String email, String name) throws SQLException {
        try (Connection c = legacy.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT * FROM leads WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                assertEquals("id", md.getColumnLabel(1));
                assertEquals("user_email", md.getColumnLabel(2));
                assertEquals("name", md.getColumnLabel(3));
                assertTrue(rs.next(), "row " + id);
                assertEquals(id, rs.getInt(1));
                assertEquals(email, rs.getString(2));
                assertEquals(name, rs.getString(3));
            }
        }
    }

    private void move(Phase phase) throws SQLException {
        assertEquals(0, cli("flags", "set", ID, phase.label()), db.err);
        FlagsDb.awaitPhase(legacy.runtime(), ID, phase, 5_000);
    }

    private List<String> physicalOrder() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT attname FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attnum > 0"
                 + " AND NOT attisdropped ORDER BY attnum")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    private List<String> raw(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                out.add(String.join("|", row));
            }
        }
        return out;
    }

    private int cli(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--rules", db.rules.toString()));
        return db.cli(a.toArray(new String[0]));
    }

    private void apply(Path dir, String step) throws SQLException, IOException {
        Path file;
        try (Stream<Path> files = Files.list(dir)) {
            file = files.filter(p -> p.getFileName().toString().matches(".*_\\d\\d_" + step + "\\.sql")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + step + " file in " + dir));
        }
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, file);
        }
    }
}
