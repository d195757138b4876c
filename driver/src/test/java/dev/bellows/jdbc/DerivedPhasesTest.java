package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge ({@code members.given_name}, {@code family_name} into jsonb {@code full_name}) and a type change whose up
 * and down read another column ({@code items.amount_local} into {@code amount_eur} through {@code rate}) on the real
 * server in expand, switch, contract and after the drop: what legacy and new code write is stored in every column
 * that exists, and legacy reads return what the last write meant (issue 15 §3).
 */
class DerivedPhasesTest {
    private static final String RULES = "migrations:\n"
        + "  - id: members-merge-name\n    table: members\n    from: [given_name, family_name]\n    to: full_name\n"
        + "    type: jsonb\n    up: jsonb_build_array(given_name, family_name)\n"
        + "    down:\n      given_name: full_name ->> 0\n      family_name: full_name ->> 1\n    phase: PHASE\n"
        + "  - id: items-amount-eur\n    table: items\n    from: amount_local\n    to: amount_eur\n"
        + "    up: amount_local * rate\n    down: amount_eur / rate\n    phase: PHASE\n";

    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"expand", "switch", "contract", "dropped"})
    void mergeAndInputsInEveryPhase(String state) throws Exception {
        boolean dropped = state.equals("dropped");
        Phase phase = Phase.parse(dropped ? "contract" : state);
        TestDb db = TestDb.create("derived");
        db.exec("CREATE TABLE members (id int PRIMARY KEY, given_name text, family_name text, email text, full_name jsonb)",
            "CREATE TABLE items (id int PRIMARY KEY, amount_local numeric, rate numeric, amount_eur numeric)");
        if (dropped) db.exec("ALTER TABLE members DROP COLUMN given_name, DROP COLUMN family_name", "ALTER TABLE items DROP COLUMN amount_local");
        Path rules = tmp.resolve("rules.yaml");
        Files.writeString(rules, RULES.replace("PHASE", phase.label()));
        try (Connection c = db.connect("bellows.rules", rules.toString(), "bellows.appName", "derived-" + state)) {
            // legacy code: writes and reads the old columns
            update(c, "INSERT INTO members (id, given_name, family_name, email) VALUES (?, ?, ?, ?)", 1, "Ada", "Lovelace", "a@x");
            update(c, "UPDATE members SET given_name = ? WHERE id = ?", "Augusta", 1);
            assertEquals("Augusta|Lovelace", read(c, "SELECT given_name, family_name FROM members WHERE id = ?", 1));
            assertEquals("[\"Augusta\", \"Lovelace\"]", db.query("SELECT full_name FROM members WHERE id = 1"));
            if (!dropped && phase != Phase.CONTRACT) {
                assertEquals("Augusta|Lovelace", db.query("SELECT given_name || '|' || family_name FROM members WHERE id = 1"));
            }
            // new code: writes the new column; legacy reads see it, and the old columns follow while they are written
            update(c, "INSERT INTO members (id, full_name, email) VALUES (?, ?::jsonb, ?)", 2, "[\"Grace\", \"Hopper\"]", "g@x");
            if (phase != Phase.EXPAND) assertEquals("Grace|Hopper", read(c, "SELECT given_name, family_name FROM members WHERE id = ?", 2));
            if (!dropped && phase != Phase.CONTRACT) {
                assertEquals("Grace|Hopper", db.query("SELECT given_name || '|' || family_name FROM members WHERE id = 2"));
            }

            update(c, "INSERT INTO items (id, amount_local, rate) VALUES (?, ?, ?)", 1, 100, 2);
            assertEquals("200", db.query("SELECT amount_eur::int FROM items WHERE id = 1"));
            update(c, "UPDATE items SET rate = ? WHERE id = ?", 4, 1);
            // the side that is not the truth yet follows: the new column in expand, the old one from switch on
            String eur = db.query("SELECT amount_eur::int FROM items WHERE id = 1");
            String local = read(c, "SELECT amount_local::int FROM items WHERE id = ?", 1);
            if (phase == Phase.EXPAND) {
                assertEquals("400", eur);
                assertEquals("100", local);
            } else {
                assertEquals("200", eur);
                assertEquals("50", local);
            }
            update(c, "UPDATE items SET amount_local = ? WHERE id = ?", 30, 1);
            assertEquals("120", db.query("SELECT amount_eur::int FROM items WHERE id = 1"));
            assertEquals("30", read(c, "SELECT amount_local::int FROM items WHERE id = ?", 1));
        }
    }

    @org.junit.jupiter.api.Test
    void keepFromKeepsADerivedColumnRightUnderLegacyWrites() throws Exception {
        TestDb db = TestDb.create("derivedkeep");
        db.exec("CREATE TABLE posts (id int PRIMARY KEY, title text, slug text)");
        Path rules = tmp.resolve("keep.yaml");
        Files.writeString(rules, "migrations:\n  - id: posts-slug\n    table: posts\n    from: title\n    to: slug\n"
            + "    keep_from: true\n    up: lower(replace(title, ' ', '-')) || '-' || id\n    phase: expand\n");
        try (Connection c = db.connect("bellows.rules", rules.toString(), "bellows.appName", "derived-keep")) {
            update(c, "INSERT INTO posts (id, title) VALUES (?, ?)", 7, "Hello World");
            assertEquals("hello-world-7", db.query("SELECT slug FROM posts WHERE id = 7"));
            update(c, "UPDATE posts SET title = ? WHERE id = ?", "Second Take", 7);
            assertEquals("second-take-7", db.query("SELECT slug FROM posts WHERE id = 7"));
            update(c, "UPDATE posts SET id = ? WHERE id = ?", 8, 7);
            assertEquals("second-take-8", db.query("SELECT slug FROM posts WHERE id = 8"));
            assertEquals("Second Take", read(c, "SELECT title FROM posts WHERE id = ?", 8));
        }
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            assertEquals(1, ps.executeUpdate(), sql);
        }
    }

    private static String read(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) sb.append(i > 1 ? "|" : "").append(rs.getString(i));
                return sb.toString();
            }
        }
    }
}
