package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 23 §4 against the real server: {@code tickets.ref text} becomes {@code ref_num bigint} with {@code up}/{@code
 * down} declared inverse. In switch and contract a legacy lookup {@code WHERE ref = ?} is answered by the index on
 * {@code ref_num} (EXPLAIN shows it; without the declaration it is a sequential scan), and it returns exactly what
 * the legacy column returns, including values {@code up} folds ({@code '007'}), values it cannot convert and NULL.
 */
class InversePredicateTest {
    private static final String UP = "CASE WHEN ref ~ '^-?[0-9]{1,18}$' THEN ref::bigint END";
    private static final String DOWN = "ref_num::text";
    private static final Migration INVERSE = Migration.typeChange("tickets-ref-num", "tickets", "ref", "ref_num", UP, DOWN,
        Phase.SWITCH).withInverse(true);
    private static TestDb db;

    @BeforeAll
    static void database() throws SQLException {
        db = TestDb.create("inverse");
        // The switch-phase state: both columns, kept equal (ref is down(ref_num)), ref_num indexed, ref not.
        db.exec("CREATE TABLE tickets (id int PRIMARY KEY, title text, ref text, ref_num bigint)",
            "INSERT INTO tickets SELECT g, 't' || g, g::text, g FROM generate_series(1, 20000) g",
            "INSERT INTO tickets VALUES (20001, 'no ref', NULL, NULL)",
            "CREATE INDEX tickets_ref_num_idx ON tickets (ref_num)",
            "ANALYZE tickets");
    }

    private static Connection open(Migration m) throws SQLException {
        Connection c = db.connect();
        c.unwrap(BellowsConnection.class).runtime().setRules(RuleSet.of(m));
        return c;
    }

    private static String plan(Connection c, String sql, String value) throws SQLException {
        StringBuilder sb = new StringBuilder();
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) sb.append(rs.getString(1)).append('\n');
            }
        }
        return sb.toString();
    }

    private static List<Integer> ids(Connection c, String sql, String... values) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) ps.setString(i + 1, values[i]);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getInt(1));
            }
        }
        return out;
    }

    @Test
    void anInverseDeclarationLetsTheNewColumnsIndexAnswerLegacyLookups() throws SQLException {
        for (Phase p : List.of(Phase.SWITCH, Phase.CONTRACT)) {
            try (Connection c = open(INVERSE.withPhase(p))) {
                String explain = plan(c, "SELECT id FROM tickets WHERE ref = ?", "4711");
                assertTrue(explain.contains("tickets_ref_num_idx"), p + ": the lookup should use the index on ref_num:\n" + explain);
                assertFalse(explain.contains("Seq Scan"), p + ":\n" + explain);
                String in = plan(c, "SELECT id FROM tickets WHERE (ref IN (?, '12'))", "4711");
                assertTrue(in.contains("tickets_ref_num_idx"), p + ": IN should use the index too:\n" + in);
            }
        }
        try (Connection c = open(Migration.typeChange("tickets-ref-num", "tickets", "ref", "ref_num", UP, DOWN, Phase.SWITCH))) {
            String explain = plan(c, "SELECT id FROM tickets WHERE ref = ?", "4711");
            assertTrue(explain.contains("Seq Scan"), "without the declaration the predicate is down(ref_num) = ?:\n" + explain);
        }
    }

    @Test
    void theRewrittenPredicatesReturnWhatTheLegacyColumnReturns() throws SQLException {
        String[] probes = {"4711", "007", "7", "-3", "abc", "", "99999999999999999999", "20000", null};
        try (Connection plain = db.raw(); Connection bellows = open(INVERSE)) {
            for (String v : probes) {
                for (String sql : List.of("SELECT id FROM tickets WHERE ref = ? ORDER BY id",
                        "SELECT id FROM tickets WHERE ? = ref ORDER BY id",
                        "SELECT id FROM tickets WHERE (ref IN (?, '12', '0012')) ORDER BY id",
                        "SELECT id FROM tickets WHERE NOT (ref = ?) AND id < 5 ORDER BY id")) {
                    assertEquals(ids(plain, sql, v), ids(bellows, sql, v), sql + " with " + v);
                }
            }
            for (String sql : List.of("SELECT id FROM tickets WHERE ref IS NULL ORDER BY id",
                    "SELECT count(*) FROM tickets WHERE ref IS NOT NULL")) {
                assertEquals(ids(plain, sql), ids(bellows, sql), sql);
            }
            // the update guard: a legacy UPDATE by ref touches the same row, and both columns stay equal
            try (PreparedStatement ps = bellows.prepareStatement("UPDATE tickets SET title = ? WHERE ref = ?")) {
                ps.setString(1, "renamed");
                ps.setString(2, "0042");
                assertEquals(0, ps.executeUpdate(), "'0042' is not the legacy value '42'");
                ps.setString(2, "42");
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(List.of(42), ids(plain, "SELECT id FROM tickets WHERE title = ?", "renamed"));
            try (Statement s = plain.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT count(*) FROM tickets WHERE ref IS DISTINCT FROM ref_num::text")) {
                rs.next();
                assertEquals(0, rs.getInt(1));
            }
        }
    }
}
