package dev.bellows.flags;

import dev.bellows.redact.Redact;
import dev.bellows.rules.Phase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The watcher's own connection to the flag table. Listen mode: opened, named {@code bellows-flags <appName>}, in
 * {@code LISTEN}, held. Check mode: borrowed for one statement (a quiet instance's poll runs N times a second across
 * a fleet, so it costs one query and nothing else: no naming, no reset). Used by the watcher thread (and its start) only.
 */
final class FlagSourceConnection {
    private final FlagWatcher.ConnectionOpener opener;
    private final String appName;
    private final boolean listen;
    private Connection conn;
    private PGConnection pg;
    private String where = "the bellows.flags table";
    private final FlagTableRead table = new FlagTableRead(); // check mode

    FlagSourceConnection(FlagWatcher.ConnectionOpener opener, String appName, boolean listen) {
        this.opener = opener;
        this.appName = appName;
        this.listen = listen;
    }

    /** Whether a connection is open (in listen mode: listening). */
    boolean isOpen() {
        return conn != null;
    }

    /** The flag table's place, for log lines: {@code bellows.flags in <redacted URL>} once connected. */
    String where() {
        return where;
    }

    void open() throws SQLException {
        Connection c = opener.open();
        if (c == null) throw new SQLException("the PostgreSQL driver returned no connection");
        try {
            PGConnection p = c.unwrap(PGConnection.class);
            c.setAutoCommit(true);
            try {
                c.setNetworkTimeout(Runnable::run, FlagWatcher.NETWORK_TIMEOUT_MILLIS);
            } catch (SQLException | UnsupportedOperationException e) {
                // a pool proxy may refuse; the poll then relies on the driver's own socket timeout
            }
            if (listen) {
                try (Statement s = c.createStatement()) {
                    String app = ("bellows-flags " + appName).replace("'", "''");
                    s.execute("SET application_name = '" + (app.length() > 60 ? app.substring(0, 60) : app) + "'");
                    s.execute("LISTEN " + FlagStore.CHANNEL);
                }
            }
            where = describe(c);
            conn = c;
            pg = p;
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // already failing
            }
            throw e;
        }
    }

    /** The flags on the open connection; in check mode one query once the table is known to exist. */
    Map<String, Phase> read() throws SQLException {
        return listen ? FlagStore.phases(conn) : table.read(conn);
    }

    /** Waits up to {@code timeoutMillis} for notifications on the listening connection. */
    PGNotification[] notifications(int timeoutMillis) throws SQLException {
        return pg.getNotifications(timeoutMillis);
    }

    /**
     * Drops the connection. On a clean stop it first stops listening, in case the connection goes back to a pool;
     * a failed connection is just closed (it may not answer).
     */
    void close(boolean clean) {
        Connection c = conn;
        conn = null;
        pg = null;
        if (c != null) {
            if (clean && listen) {
                try (Statement s = c.createStatement()) {
                    s.execute("UNLISTEN *");
                    s.execute("RESET application_name");
                } catch (SQLException | RuntimeException e) {
                    // closing anyway
                }
            }
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                // it is being dropped because it failed
            }
        }
    }

    private static String describe(Connection c) {
        try {
            return "bellows.flags in " + Redact.location(c.getMetaData().getURL());
        } catch (SQLException | RuntimeException e) {
            return "the bellows.flags table";
        }
    }
}
