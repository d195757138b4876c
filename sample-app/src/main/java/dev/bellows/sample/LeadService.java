package dev.bellows.sample;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * What both versions of the leads service offer. The legacy version ({@link LegacyLeadService}) stores
 * e-mail addresses in {@code leads.user_email} and order statuses as text in {@code orders.status}; the new
 * version ({@link NewLeadService}) uses {@code leads.contact_email} and the integer {@code orders.status_code}.
 * Both are plain JDBC on a {@link javax.sql.DataSource}: neither knows about Bellows.
 */
public interface LeadService {
    /** Which version this is, for logs: "legacy" or "new". */
    String version();

    long createLead(String name, String email) throws SQLException;

    /** The lead, or null when there is none with that id. */
    Lead findLead(long id) throws SQLException;

    List<Lead> findByEmail(String email) throws SQLException;

    void changeEmail(long id, String email) throws SQLException;

    long placeOrder(long leadId, BigDecimal amount) throws SQLException;

    /** The order, or null when there is none with that id. */
    Order findOrder(long id) throws SQLException;

    void setStatus(long orderId, OrderStatus status) throws SQLException;

    Map<OrderStatus, Long> countByStatus() throws SQLException;
}
