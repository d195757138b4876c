package dev.bellows.sample;

import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * The column-removal scenario's weekly job (the write-up's "background job that ran once a week" and still read a
 * dropped column), here in a loop. The legacy version imports leads with a {@code fax}, reads it back by name and
 * by position ({@code SELECT *}) and updates it; the new version never names {@code fax}. Each read of its own rows is
 * checked: before switch {@code fax} is what was last written, from switch on it is the rule's {@code removed_value}
 * (a read that straddles the flip may give either).
 */
final class WeeklyJob implements Instance.Job {
    static final String INSERT = "INSERT INTO leads (name, user_email, fax) VALUES (?, ?, ?)";
    static final String SELECT = "SELECT id, name, user_email, fax FROM leads WHERE id = ?";
    static final String SELECT_STAR = "SELECT * FROM leads WHERE id = ?";
    static final String UPDATE = "UPDATE leads SET fax = ?, user_email = ? WHERE id = ?";
    static final String NEW_INSERT = "INSERT INTO leads (name, user_email) VALUES (?, ?)";
    static final String NEW_SELECT = "SELECT id, name, user_email FROM leads WHERE id = ?";
    static final String NEW_UPDATE = "UPDATE leads SET user_email = ? WHERE id = ?";
    /** fax's position in {@code SELECT *}: leads(id, name, user_email, created_at, fax). */
    static final int FAX_POSITION = 5;

    private final DataSource dataSource;
    private final boolean legacy;
    private final String migration;
    private final String removedValue;
    private final Expectations expected;
    private final String name;
    private final List<Long> own = new ArrayList<>();
    private final Map<Long, String> fax = new ConcurrentHashMap<>();
    private int seq;
    /** Reads of fax that gave what was written (before switch) and that gave the removed value (from switch on). */
    final LongAdder writtenReads = new LongAdder();
    final LongAdder removedReads = new LongAdder();

    WeeklyJob(DataSource dataSource, boolean legacy, String name, String migration, String removedValue, Expectations expected) {
        this.dataSource = dataSource;
        this.legacy = legacy;
        this.name = name;
        this.migration = migration;
        this.removedValue = removedValue;
        this.expected = expected;
    }

    @Override public String version() { return legacy ? "legacy" : "new"; }

    @Override public void step(SplittableRandom random, Stats stats) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Phase before = phase(c);
            int dice = random.nextInt(100);
            if (own.isEmpty() || dice < 25) {
                insert(c);
            } else if (dice < 55) {
                read(c, own.get(random.nextInt(own.size())), false, before, stats);
            } else if (dice < 70 && legacy) {
                read(c, own.get(random.nextInt(own.size())), true, before, stats);
            } else {
                update(c, own.get(random.nextInt(own.size())), stats);
            }
        }
    }

    private void insert(Connection c) throws SQLException {
        String email = name + "-" + (++seq) + "@example.com";
        String f = "+1-555-" + name.hashCode() % 1000 + "-" + seq;
        try (PreparedStatement ps = c.prepareStatement(legacy ? INSERT : NEW_INSERT, new String[] {"id"})) {
            ps.setString(1, "imported by " + name);
            ps.setString(2, email);
            if (legacy) ps.setString(3, f);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                long id = keys.getLong(1);
                own.add(id);
                expected.leadEmails.put(id, email);
                if (legacy) fax.put(id, f);
            }
        }
    }

    private void update(Connection c, long id, Stats stats) throws SQLException {
        String email = name + "-" + (++seq) + "@example.com";
        String f = "+1-555-" + seq;
        try (PreparedStatement ps = c.prepareStatement(legacy ? UPDATE : NEW_UPDATE)) {
            int i = 1;
            if (legacy) ps.setString(i++, f);
            ps.setString(i++, email);
            ps.setLong(i, id);
            if (ps.executeUpdate() != 1) stats.wrongAnswer("update of lead " + id + " matched no row");
            expected.leadEmails.put(id, email);
            if (legacy) fax.put(id, f);
        }
    }

    private void read(Connection c, long id, boolean star, Phase before, Stats stats) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(star ? SELECT_STAR : legacy ? SELECT : NEW_SELECT)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    stats.wrongAnswer("lead " + id + " has no row");
                    return;
                }
                String email = rs.getString(3);
                if (!Objects.equals(email, expected.leadEmails.get(id))) stats.wrongAnswer("lead " + id + " has e-mail " + email);
                if (!legacy) return;
                String got = star ? rs.getString(FAX_POSITION) : rs.getString("fax");
                Phase after = phase(c);
                boolean removedBefore = before.compareTo(Phase.SWITCH) >= 0;
                boolean removedAfter = after.compareTo(Phase.SWITCH) >= 0;
                boolean asWritten = Objects.equals(got, fax.get(id));
                boolean asRemoved = Objects.equals(got, removedValue);
                if (removedBefore && asRemoved || !removedAfter && asWritten || removedBefore != removedAfter && (asWritten || asRemoved)) {
                    (asRemoved ? removedReads : writtenReads).increment();
                } else {
                    stats.wrongAnswer("lead " + id + " has fax " + got + " in " + after.label() + (star ? " (SELECT *)" : ""));
                }
            }
        }
    }

    private Phase phase(Connection c) throws SQLException {
        return c.unwrap(BellowsConnection.class).runtime().rules().get(migration).phase();
    }

    /** For the statements file of {@code bellows check}. */
    static String legacyStatements() {
        return String.join(";\n", INSERT, SELECT, SELECT_STAR, UPDATE) + ";\n";
    }
}
