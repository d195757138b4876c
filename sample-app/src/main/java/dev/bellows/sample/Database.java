package dev.bellows.sample;

import dev.bellows.testing.PostgresFixture;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * One database of the demo on the embedded PostgreSQL: its URLs for plain pgjdbc, for Bellows and for the CLI,
 * and the leads/orders schema as the legacy version knows it.
 */
public record Database(String url, String user, String password) {
    /** The rules file inside the sample app's jar. */
    public static final String RULES = "classpath:bellows-rules.yaml";

    /** A fresh database on the fixture's server. */
    static Database create(PostgresFixture pg, String prefix) {
        return new Database(pg.createDatabase(prefix), pg.user(), pg.password());
    }

    /**
     * What an application changes to adopt Bellows: {@code jdbc:postgresql:} becomes {@code jdbc:bellows:postgresql:},
     * plus the rules file and a name for the usage report. The demo also flushes recorded usage every 500 ms
     * (default 10 s) so that its gate window can be seconds rather than days.
     */
    String bellowsUrl(String appName) {
        String u = bellowsUrl();
        return u + (u.endsWith("?") ? "" : "&") + "bellows.rules=" + RULES + "&bellows.appName=" + appName;
    }

    /** The Bellows URL with only the demo's usage flush interval, for data sources that take the rest as properties. */
    String bellowsUrl() {
        String base = "jdbc:bellows:" + url.substring("jdbc:".length());
        return USAGE_RECORDING ? base + (url.contains("?") ? "&" : "?") + "bellows.usage.flushInterval=500ms"
            : base + (url.contains("?") ? "" : "?");
    }

    /** Whether this build of the driver records usage (and so knows bellows.usage.* settings). */
    private static final boolean USAGE_RECORDING = classExists("dev.bellows.usage.UsageSettings");

    private static boolean classExists(String name) {
        try {
            Class.forName(name, false, Database.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** A plain pgjdbc URL with the credentials in it, as {@code bellows ... --url} takes it. */
    String cliUrl() {
        StringBuilder sb = new StringBuilder(url).append(url.contains("?") ? '&' : '?');
        sb.append("user=").append(URLEncoder.encode(user == null ? "" : user, StandardCharsets.UTF_8));
        if (password != null) sb.append("&password=").append(URLEncoder.encode(password, StandardCharsets.UTF_8));
        return sb.toString();
    }

    /** A plain pgjdbc connection: the migration tool's, outside Bellows. */
    Connection connect() throws SQLException {
        java.util.Properties p = new java.util.Properties();
        if (user != null) p.setProperty("user", user);
        if (password != null) p.setProperty("password", password);
        p.setProperty("ApplicationName", "demo-migrations");
        return new org.postgresql.Driver().connect(url, p);
    }

    void execute(String... statements) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
        }
    }

    long count(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    boolean hasColumn(String table, String column) throws SQLException {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.columns"
                 + " WHERE table_schema = 'public' AND table_name = ? AND column_name = ?")) {
            ps.setString(1, table);
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The schema before the migration, as the write-up has it, with seed rows the demo's checks know. */
    void createLegacySchema(Settings s, Expectations expected) throws SQLException {
        execute(
            "CREATE TABLE leads (id bigserial PRIMARY KEY, name text NOT NULL, user_email text,"
                + " created_at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE orders (id bigserial PRIMARY KEY, lead_id bigint NOT NULL REFERENCES leads (id), status text,"
                + " amount numeric(12,2) NOT NULL)",
            "CREATE INDEX orders_lead_id ON orders (lead_id)",
            "INSERT INTO leads (name, user_email) SELECT 'seed lead ' || g, 'seed-' || g || '@example.com'"
                + " FROM generate_series(1, " + s.seedLeads() + ") g",
            "INSERT INTO orders (lead_id, status, amount) SELECT 1 + (g % " + s.seedLeads() + "),"
                + " (ARRAY['pending','processing','completed','cancelled'])[1 + g % 4], (g % 1000) + 0.99"
                + " FROM generate_series(1, " + s.seedOrders() + ") g",
            "ANALYZE leads",
            "ANALYZE orders");
        List<OrderStatus> cycle = List.of(OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.CANCELLED);
        for (long i = 1; i <= s.seedLeads(); i++) expected.leadEmails.put(i, "seed-" + i + "@example.com");
        for (long i = 1; i <= s.seedOrders(); i++) expected.orderStatuses.put(i, cycle.get((int) (i % 4)));
    }
}
