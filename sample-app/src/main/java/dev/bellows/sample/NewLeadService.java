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
 * The new version of the leads service: the same features, written for the new schema. It reads and writes
 * {@code leads.contact_email} and stores order statuses as integers in {@code orders.status_code}.
 */
public final class NewLeadService implements LeadService {
    static final String INSERT_LEAD = "INSERT INTO leads (name, contact_email) VALUES (?, ?)";
    static final String SELECT_LEAD = "SELECT id, name, contact_email FROM leads WHERE id = ?";
    static final String SELECT_BY_EMAIL = "SELECT id, name, contact_email FROM leads WHERE contact_email = ? ORDER BY id LIMIT 10";
    static final String UPDATE_EMAIL = "UPDATE leads SET contact_email = ? WHERE id = ?";
    static final String INSERT_ORDER = "INSERT INTO orders (lead_id, status_code, amount) VALUES (?, ?, ?)";
    static final String SELECT_ORDER = "SELECT id, lead_id, status_code, amount FROM orders WHERE id = ?";
    static final String UPDATE_STATUS = "UPDATE orders SET status_code = ? WHERE id = ?";
    static final String COUNT_BY_STATUS = "SELECT status_code, count(*) FROM orders GROUP BY status_code";

    private final DataSource dataSource;

    public NewLeadService(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override public String version() { return "new"; }

    @Override public long createLead(String name, String email) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(INSERT_LEAD, new String[] {"id"})) {
            ps.setString(1, name);
            ps.setString(2, email);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    @Override public Lead findLead(long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SELECT_LEAD)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Lead(rs.getLong("id"), rs.getString("name"), rs.getString("contact_email")) : null;
            }
        }
    }

    @Override public List<Lead> findByEmail(String email) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SELECT_BY_EMAIL)) {
            ps.setString(1, email);
            List<Lead> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Lead(rs.getLong("id"), rs.getString("name"), rs.getString("contact_email")));
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
             PreparedStatement ps = c.prepareStatement(INSERT_ORDER, new String[] {"id"})) {
            ps.setLong(1, leadId);
            ps.setInt(2, OrderStatus.PENDING.code());
            ps.setBigDecimal(3, amount);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    @Override public Order findOrder(long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SELECT_ORDER)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                int code = rs.getInt("status_code");
                if (rs.wasNull()) throw new SQLException("order " + id + " has no status_code", "22004");
                return new Order(rs.getLong("id"), rs.getLong("lead_id"), OrderStatus.ofCode(code), rs.getBigDecimal("amount"));
            }
        }
    }

    @Override public void setStatus(long orderId, OrderStatus status) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(UPDATE_STATUS)) {
            ps.setInt(1, status.code());
            ps.setLong(2, orderId);
            ps.executeUpdate();
        }
    }

    @Override public Map<OrderStatus, Long> countByStatus() throws SQLException {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(COUNT_BY_STATUS)) {
            Map<OrderStatus, Long> out = new EnumMap<>(OrderStatus.class);
            while (rs.next()) {
                int code = rs.getInt(1);
                if (!rs.wasNull()) out.put(OrderStatus.ofCode(code), rs.getLong(2));
            }
            return out;
        }
    }
}
