package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * One database of the shared embedded server with the legacy {@code leads} table, an old-code and a new-code
 * Bellows DataSource ({@code bellows.schema} old and new) sharing the rename user_email → contact_email, and
 * the steps of the migration: expand DDL, backfill, drop.
 */
final class CompatDb {
    static final String ID = "leads-contact-email";
    final PostgresFixture pg = PostgresFixture.get();
    final String url;
    final BellowsDataSource old;
    final BellowsDataSource neu;

    CompatDb(String prefix) throws SQLException {
        url = pg.createDatabase(prefix);
        exec("CREATE TABLE leads (id bigserial PRIMARY KEY, user_email text, name text, score int)");
        old = dataSource("old");
        neu = dataSource("new");
        for (BellowsDataSource ds : List.of(old, neu)) {
            ds.runtime().setRules(RuleSet.of(Migration.rename(ID, "leads", "user_email", "contact_email", Phase.OFF)));
        }
    }

    /**
     * A DataSource of another application (its own runtime, so its own catalog read now) with the migration in
     * {@code phase}: a process started after the others, e.g. after the drop.
     */
    BellowsDataSource freshDataSource(String schema, String appName, Phase phase) throws SQLException {
        BellowsDataSource ds = dataSource(schema);
        ds.setAppName(appName);
        ds.runtime().setRules(RuleSet.of(Migration.rename(ID, "leads", "user_email", "contact_email", phase)));
        return ds;
    }

    /** What the contract step of {@code bellows plan} runs just before its DROP COLUMN: the legacy column order. */
    void recordColumnOrder() throws SQLException {
        exec("CREATE SCHEMA IF NOT EXISTS bellows");
        exec("CREATE TABLE IF NOT EXISTS bellows.column_order (schema_name text NOT NULL, table_name text NOT NULL,"
            + " migration_id text NOT NULL, columns text[] NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            + " PRIMARY KEY (schema_name, table_name, migration_id))");
        exec("INSERT INTO bellows.column_order (schema_name, table_name, migration_id, columns)"
            + " SELECT 'public', 'leads', '" + ID + "', array_agg(attname::text ORDER BY attnum) FROM pg_attribute"
            + " WHERE attrelid = 'public.leads'::regclass AND attnum > 0 AND NOT attisdropped"
            + " HAVING bool_or(attname = 'user_email') ON CONFLICT DO NOTHING");
    }

    private BellowsDataSource dataSource(String schema) {
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl("jdbc:bellows:" + url.substring("jdbc:".length()));
        if (pg.user() != null) ds.setUser(pg.user());
        if (pg.password() != null) ds.setPassword(pg.password());
        ds.setSchemaView(schema);
        ds.setFlagsPoll("off");
        try {
            ds.setProperty("bellows.usage", "off");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return ds;
    }

    void phase(Phase p) throws SQLException {
        for (BellowsDataSource ds : List.of(old, neu)) ds.runtime().setPhase(ID, p);
    }

    /** The expand DDL, run through Bellows (old code's DataSource): every configuration's catalog follows. */
    void addColumn() throws SQLException {
        bellowsExec("ALTER TABLE leads ADD COLUMN contact_email text");
    }

    void backfill() throws SQLException {
        exec("UPDATE leads SET contact_email = user_email WHERE contact_email IS DISTINCT FROM user_email");
    }

    void dropOldColumn() throws SQLException {
        bellowsExec("ALTER TABLE leads DROP COLUMN user_email");
    }

    boolean dropped() throws SQLException {
        return query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'user_email'")
            .equals("0");
    }

    private void bellowsExec(String sql) throws SQLException {
        try (Connection c = old.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private Connection plain;

    /** One plain pgjdbc connection (autocommit) for every check: connecting per check would dominate run time. */
    private Connection plain() throws SQLException {
        if (plain == null || plain.isClosed()) plain = pg.connect(url);
        return plain;
    }

    void exec(String sql) throws SQLException {
        try (Statement s = plain().createStatement()) {
            s.execute(sql);
        }
    }

    String query(String sql) throws SQLException {
        try (Statement s = plain().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /**
     * Asserts what the server stored for row {@code id}: {@code email} in user_email up to switch and, from
     * expand on, in contact_email too.
     */
    void assertStored(long id, String email, String name, Phase p, String what) throws SQLException {
        boolean hasOld = !dropped();
        boolean hasNew = query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'leads'"
            + " AND column_name = 'contact_email'").equals("1");
        String sql = "SELECT " + (hasOld ? "user_email" : "NULL") + ", " + (hasNew ? "contact_email" : "NULL") + ", name"
            + " FROM leads WHERE id = " + id;
        try (Statement s = plain().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) throw new AssertionError(what + " in " + p.label() + ": row " + id + " not stored");
            String label = what + " in " + p.label() + (hasOld ? "" : " after the drop");
            // contract writes the new column only: user_email, about to be dropped, is no longer kept up to date
            if (hasOld && p != Phase.CONTRACT) assertEquals(email, rs.getString(1), label + ": user_email");
            if (hasNew && p != Phase.OFF) assertEquals(email, rs.getString(2), label + ": contact_email");
            assertEquals(name, rs.getString(3), label + ": name");
        }
    }

    /** Writes and checks of one code version in one phase. */
    interface Step {
        void run(Phase p) throws Exception;
    }

    /**
     * The migration as a fleet lives it: old code alone in off; the expand DDL; old and new code side by side in
     * expand, switch (after the backfill) and contract; both again after the drop (phase contract).
     */
    void everyPhase(Step oldCode, Step newCode) throws Exception {
        oldCode.run(Phase.OFF);
        addColumn();
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            if (p == Phase.SWITCH) backfill();
            phase(p);
            oldCode.run(p);
            newCode.run(p);
        }
        dropOldColumn();
        oldCode.run(Phase.CONTRACT);
        newCode.run(Phase.CONTRACT);
    }

    BellowsRuntime runtime() {
        try {
            return old.runtime();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
