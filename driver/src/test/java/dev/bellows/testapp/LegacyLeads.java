package dev.bellows.testapp;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Stands in for application code that still uses the deprecated column {@code leads.user_email}. It lives
 * outside Bellows' packages so usage recording attributes call sites to it, as it would to real code.
 */
public final class LegacyLeads {
    private final DataSource ds;

    public LegacyLeads(DataSource ds) {
        this.ds = ds;
    }

    /** A read of the old column. */
    public String findEmail(int id) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** A write of the old column. */
    public void changeEmail(int id, String email) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ?")) {
            ps.setString(1, email);
            ps.setInt(2, id);
            ps.executeUpdate();
        }
    }

    /** An insert naming the old column. */
    public void create(int id, String name, String email) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO leads (id, name, user_email) VALUES (?, ?, ?)")) {
            ps.setInt(1, id);
            ps.setString(2, name);
            ps.setString(3, email);
            ps.executeUpdate();
        }
    }

    /** A statement Bellows cannot analyse (a polymorphic function of an argument of unknown type beside leads) that names the old column. */
    public int countWithImports() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(user_email) FROM leads, unnest(ARRAY(SELECT id FROM imports)) AS i(id) WHERE i.id = leads.id")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** A non-parameterised statement with a literal e-mail address in it. */
    public String findIdByEmail(String literalEmail) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM leads WHERE user_email = '" + literalEmail.replace("'", "''") + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A read written for the new schema: names no deprecated column. */
    public String findNewEmail(int id) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT email FROM leads WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
