package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * What a framework reading by position sees, per schema view, in every phase and after the drop: the columns and
 * values of {@code SELECT *}, {@code t.*}, {@code RETURNING *} (INSERT, UPDATE, DELETE), their
 * {@code ResultSetMetaData}, generated keys with {@code RETURN_GENERATED_KEYS}, and {@code getColumns}. The old
 * view is the legacy table, {@code id, user_email, name, score}; the new view the table as it is once the
 * migration is over, {@code id, name, score, contact_email}. In off both see the table as it is.
 */
class ColumnShapesCompatTest {
    static final List<String> LEGACY = List.of("id", "user_email", "name", "score");
    static final List<String> NEW = List.of("id", "name", "score", "contact_email");
    static final List<String> BOTH = List.of("id", "user_email", "name", "score", "contact_email");

    private int n;

    @Test
    void oldViewShowsTheLegacyTableNewViewTheNewOneInEveryPhase() throws Exception {
        CompatDb db = new CompatDb("compat_shapes");
        shapes(db, db.old, Phase.OFF, LEGACY, "user_email", "off, before the expand DDL");
        db.addColumn();
        shapes(db, db.old, Phase.OFF, BOTH, "user_email", "off, after the expand DDL: nothing changes");
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            if (p == Phase.SWITCH) db.backfill();
            db.phase(p);
            shapes(db, db.old, p, LEGACY, "user_email", "old view");
            shapes(db, db.neu, p, NEW, "contact_email", "new view");
        }
        db.recordColumnOrder();
        db.dropOldColumn();
        shapes(db, db.old, Phase.CONTRACT, LEGACY, "user_email", "old view after the drop, process lived through it");
        shapes(db, db.neu, Phase.CONTRACT, NEW, "contact_email", "new view after the drop, process lived through it");
        // processes started after the drop: the order recorded by the plan's contract step
        shapes(db, db.freshDataSource("old", "shapes-recorded", Phase.CONTRACT), Phase.CONTRACT, LEGACY, "user_email",
            "old view after the drop, started after it, order recorded");
        shapes(db, db.freshDataSource("new", "shapes-recorded", Phase.CONTRACT), Phase.CONTRACT, NEW, "contact_email",
            "new view after the drop, started after it");
        // without a record the legacy position is unknown: the old column comes last (right by label, not by position)
        db.exec("DELETE FROM bellows.column_order");
        shapes(db, db.freshDataSource("old", "shapes-unrecorded", Phase.CONTRACT), Phase.CONTRACT,
            List.of("id", "name", "score", "user_email"), "user_email", "old view after the drop, no recorded order", false);
        assertEquals(List.of(), differences, differences.size() + " differences");
    }

    private void shapes(CompatDb db, DataSource ds, Phase p, List<String> expected, String emailCol, String what) throws Exception {
        shapes(db, ds, p, expected, emailCol, what, true);
    }

    private void shapes(CompatDb db, DataSource ds, Phase p, List<String> expected, String emailCol, String what,
                        boolean positional) throws Exception {
        String at = what + " (" + p.label() + ")";
        int emailPos = expected.indexOf(emailCol) + 1;
        int namePos = expected.indexOf("name") + 1;
        try (Connection c = ds.getConnection()) {
            String e = "shape-" + (++n) + "@x.io";
            long id;
            // INSERT … RETURNING *: the row as the view has it, by position
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (" + emailCol + ", name, score) VALUES (?, ?, ?) RETURNING *")) {
                ps.setString(1, e);
                ps.setString(2, "ret");
                ps.setInt(3, 5);
                try (ResultSet rs = ps.executeQuery()) {
                    check(expected, labels(rs.getMetaData()), "INSERT RETURNING * labels, " + at);
                    rs.next();
                    check(e, rs.getString(emailPos), "INSERT RETURNING * email by position, " + at);
                    check("ret", rs.getString(namePos), "INSERT RETURNING * name by position, " + at);
                    id = rs.getLong(1);
                }
            }
            db.assertStored(id, e, "ret", p, "INSERT RETURNING *, " + at);

            // positional INSERT (VALUES, and SELECT of the same width): the values in the view's column order
            if (!positional) {
                SQLException refused = assertThrows(SQLException.class, () -> c.prepareStatement("INSERT INTO leads VALUES (?, ?, ?, ?)"),
                    "positional INSERT without a recorded order, " + at);
                check("BW003", refused.getSQLState(), "positional INSERT without a recorded order is refused, " + at);
            } else if (expected.size() == 4) {
                long pid = 100_000 + (++n);
                String pe = "positional-" + n + "@x.io";
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads VALUES (?, ?, ?, ?)")) {
                    for (int i = 0; i < 4; i++) {
                        String col = expected.get(i);
                        if (col.equals("id")) ps.setLong(i + 1, pid);
                        else if (col.equals("score")) ps.setInt(i + 1, 9);
                        else if (col.equals("name")) ps.setString(i + 1, "pos");
                        else ps.setString(i + 1, pe);
                    }
                    check(1, ps.executeUpdate(), "positional INSERT count, " + at);
                }
                db.assertStored(pid, pe, "pos", p, "positional INSERT, " + at);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads SELECT " + (pid + 1) + ", s.* FROM"
                    + " (SELECT " + String.join(", ", expected.subList(1, 4)) + " FROM leads WHERE id = ?) s")) {
                    ps.setLong(1, pid);
                    check(1, ps.executeUpdate(), "positional INSERT … SELECT count, " + at);
                }
                db.assertStored(pid + 1, pe, "pos", p, "positional INSERT … SELECT, " + at);
                n++;
            }

            // SELECT * and t.*, ResultSetMetaData
            for (String sql : List.of("SELECT * FROM leads WHERE id = ?", "SELECT l.* FROM leads l WHERE l.id = ?",
                "SELECT * FROM (SELECT * FROM leads WHERE id = ?) s")) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        ResultSetMetaData md = rs.getMetaData();
                        check(expected, labels(md), sql + " labels, " + at);
                        check(expected, names(md), sql + " getColumnName, " + at);
                        check(java.sql.Types.BIGINT, md.getColumnType(1), sql + " id type, " + at);
                        check(java.sql.Types.VARCHAR, md.getColumnType(emailPos), sql + " email type, " + at);
                        check(java.sql.Types.INTEGER, md.getColumnType(expected.indexOf("score") + 1), sql + " score type, " + at);
                        rs.next();
                        check(e, rs.getString(emailPos), sql + " email by position, " + at);
                        check("ret", rs.getString(namePos), sql + " name by position, " + at);
                    }
                }
            }

            // generated keys, RETURN_GENERATED_KEYS: pgjdbc's RETURNING *
            e = "keys-" + (++n) + "@x.io";
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO leads (" + emailCol + ", name) VALUES (?, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, e);
                ps.setString(2, "keys");
                check(1, ps.executeUpdate(), "RETURN_GENERATED_KEYS insert count, " + at);
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    check(expected, labels(rs.getMetaData()), "generated keys (prepared) labels, " + at);
                    rs.next();
                    check(e, rs.getString(emailPos), "generated keys (prepared) email by position, " + at);
                    id = rs.getLong(1);
                }
            }
            db.assertStored(id, e, "keys", p, "RETURN_GENERATED_KEYS insert, " + at);
            e = "keys-upd-" + (++n) + "@x.io";
            try (Statement s = c.createStatement()) {
                check(1, s.executeUpdate("UPDATE leads SET " + emailCol + " = '" + e + "' WHERE id = " + id,
                    Statement.RETURN_GENERATED_KEYS), "RETURN_GENERATED_KEYS update count, " + at);
                try (ResultSet rs = s.getGeneratedKeys()) {
                    check(expected, labels(rs.getMetaData()), "generated keys (statement, UPDATE) labels, " + at);
                    rs.next();
                    check(e, rs.getString(emailPos), "generated keys (statement, UPDATE) email by position, " + at);
                }
            }
            db.assertStored(id, e, "keys", p, "RETURN_GENERATED_KEYS update, " + at);

            // UPDATE and DELETE … RETURNING *
            e = "upd-" + (++n) + "@x.io";
            try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET " + emailCol + " = ? WHERE id = ? RETURNING *")) {
                ps.setString(1, e);
                ps.setLong(2, id);
                try (ResultSet rs = ps.executeQuery()) {
                    check(expected, labels(rs.getMetaData()), "UPDATE RETURNING * labels, " + at);
                    rs.next();
                    check(e, rs.getString(emailPos), "UPDATE RETURNING * email by position, " + at);
                }
            }
            db.assertStored(id, e, "keys", p, "UPDATE RETURNING *, " + at);
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM leads WHERE id = ? RETURNING *")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    check(expected, labels(rs.getMetaData()), "DELETE RETURNING * labels, " + at);
                    rs.next();
                    check(e, rs.getString(emailPos), "DELETE RETURNING * email by position, " + at);
                }
            }

            // getColumns lists the same columns in the same order
            DatabaseMetaData md = c.getMetaData();
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "public", "leads", null)) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
            }
            check(expected, cols, "getColumns, " + at);
        }
    }

    /** Every difference of one run, reported together: the shapes differ in families, not one at a time. */
    private final List<String> differences = new ArrayList<>();

    private void check(Object expected, Object actual, String what) {
        if (!java.util.Objects.equals(expected, actual)) differences.add(what + ": expected " + expected + ", got " + actual);
    }

    private static List<String> labels(ResultSetMetaData md) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) out.add(md.getColumnLabel(i));
        return out;
    }

    private static List<String> names(ResultSetMetaData md) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) out.add(md.getColumnName(i));
        return out;
    }
}
