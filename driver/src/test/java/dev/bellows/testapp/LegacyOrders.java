package dev.bellows.testapp;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Legacy code reading {@code orders_*.status} (a type change to {@code status_code}); the call site of ShadowReadsTest. */
public final class LegacyOrders {
    static final String[] STATUSES = {"pending", "processing", "completed", "cancelled"};

    private LegacyOrders() {
    }

    /** The legacy code's reads of {@code table}, as the application sees them (labels and rows). */
    public static List<String> reads(DataSource ds, String table) throws SQLException {
        List<String> seen = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) {
                seen.add(render(s.executeQuery("SELECT id, status FROM " + table + " ORDER BY id")));
                seen.add(render(s.executeQuery("SELECT status, count(*) AS n FROM " + table + " GROUP BY status")));
                seen.add(render(s.executeQuery("SELECT lower(status) AS s FROM " + table + " WHERE id > 50")));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM " + table + " WHERE id = ?")) {
                for (int id = 1; id <= 20; id++) {
                    ps.setInt(1, id);
                    seen.add(render(ps.executeQuery()));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + table + " WHERE status = ? ORDER BY id")) {
                for (String st : STATUSES) {
                    ps.setString(1, st);
                    seen.add(render(ps.executeQuery()));
                }
            }
            // inside the application's REPEATABLE READ transaction: shadowed under a savepoint
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement s = c.createStatement()) {
                seen.add(render(s.executeQuery("SELECT id, status FROM " + table + " WHERE id <= 12 ORDER BY id")));
                seen.add(render(s.executeQuery("SELECT count(*) FROM " + table + " WHERE status = 'completed'")));
            }
            c.commit();
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            c.setAutoCommit(true);
        }
        return seen;
    }

    public static String render(ResultSet rs) throws SQLException {
        StringBuilder b = new StringBuilder();
        int n = rs.getMetaData().getColumnCount();
        for (int i = 1; i <= n; i++) b.append(rs.getMetaData().getColumnLabel(i)).append(i < n ? "," : "|");
        while (rs.next()) {
            for (int i = 1; i <= n; i++) b.append(rs.getString(i)).append(i < n ? "," : ";");
        }
        rs.close();
        return b.toString();
    }

}
