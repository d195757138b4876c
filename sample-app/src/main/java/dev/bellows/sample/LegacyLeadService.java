package dev.bellows.sample;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The legacy leads service, written long before the migration: it reads and writes {@code leads.user_email}
 * and keeps order statuses as text in {@code orders.status}. Plain JDBC; it is never changed during the demo.
 * Only the JDBC URL of its pool decides whether it runs on pgjdbc or through Bellows.
 */
public final class LegacyLeadService implements LeadService {
    static final String INSERT_LEAD = "INSERT INTO leads (name, user_email) VALUES (?, ?)";
    static final String SELECT_LEAD = "SELECT id, name, user_email FROM leads WHERE id = ?";
    static final String SELECT_BY_EMAIL = "SELECT id, name, user_email FROM leads WHERE user_email = ? ORDER BY id LIMIT 10";
    static final String UPDATE_EMAIL = "UPDATE leads SET user_email = ? WHERE id = ?";
    static final String INSERT_ORDER = "INSERT INTO orders (lead_id, status, amount) VALUES (?, ?, ?)";
    static final String SELECT_ORDER = "SELECT id, lead_id, status, amount FROM orders WHERE id = ?";
    static final String UPDATE_STATUS = "UPDATE orders SET status = ? WHERE id = ?";
    static final String COUNT_BY_STATUS = "SELECT status, count(*) FROM orders GROUP BY status";

    private final DataSource dataSource;
    private final String version;
    private final String insertOrder;
    private final String selectOrder;
    private final String updateStatus;
    private final String countByStatus;

    public LegacyLeadService(DataSource dataSource) {
        this(dataSource, "legacy", "orders");
    }

    /**
     * The same code with the orders table under another name: the table-rename scenario's new version
     * ({@code orders -> purchases}), which differs from the legacy one by that name only.
     */
    LegacyLeadService(DataSource dataSource, String version, String ordersTable) {
        this.dataSource = dataSource;
        this.version = version;
        this.insertOrder = INSERT_ORDER.replace(" orders ", " " + ordersTable + " ");
        this.selectOrder = SELECT_ORDER.replace(" orders ", " " + ordersTable + " ");
        this.updateStatus = UPDATE_STATUS.replace(" orders ", " " + ordersTable + " ");
        this.countByStatus = COUNT_BY_STATUS.replace(" orders ", " " + ordersTable + " ");
    }

    @Override public String version() { return version; }

    @Override public long createLead(String name, String email) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(INSERT_LEAD, Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, name);
            ps.setString(2, email);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong("id");
            }
        }
    }

    @Override public Lead findLead(long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SELECT_LEAD)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Lead(rs.getLong("id"), rs.getString("name"), rs.getString("user_email")) : null;
            }
        }
    }

    @Override public List<Lead> findByEmail(String email) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SELECT_BY_EMAIL)) {
            ps.setString(1, email);
            List<Lead> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Lead(rs.getLong("id"), rs.getString("name"), rs.getString("user_email")));
            }
            return out;
        }
    }

    @Override public void changeEmail(long id, String email) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(UPDATE_EMAIL)) {
            ps.setString(1, email);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    @Override public long placeOrder(long leadId, BigDecimal amount) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(insertOrder, new String[] {"id"})) {
            ps.setLong(1, leadId);
            ps.setString(2, OrderStatus.PENDING.text());
            ps.setBigDecimal(3, amount);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong("id");
            }
        }
    }

    @Override public Order findOrder(long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(selectOrder)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                return new Order(rs.getLong("id"), rs.getLong("lead_id"), OrderStatus.ofText(rs.getString("status")),
                    rs.getBigDecimal("amount"));
            }
        }
    }

    @Override public void setStatus(long orderId, OrderStatus status) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(updateStatus)) {
            ps.setString(1, status.text());
            ps.setLong(2, orderId);
            ps.executeUpdate();
        }
    }

    @Override public Map<OrderStatus, Long> countByStatus() throws SQLException {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(countByStatus)) {
            Map<OrderStatus, Long> out = new EnumMap<>(OrderStatus.class);
            while (rs.next()) {
                String status = rs.getString(1);
                if (status != null) out.put(OrderStatus.ofText(status), rs.getLong(2));
            }
            return out;
        }
    }
}
