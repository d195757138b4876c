package dev.bellows.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A connection made by Bellows; reach it through pools with {@code connection.unwrap(BellowsConnection.class)}.
 * {@code unwrap(PGConnection.class)} instead reaches pgjdbc itself, whose own API (COPY, LISTEN/NOTIFY,
 * large objects) then works as usual and bypasses rewriting.
 */
public interface BellowsConnection extends Connection {
    /** The runtime shared by every connection of this configuration: rules, phases, catalog. */
    BellowsRuntime runtime();

    /** Reads the catalog again on this connection, inside its transaction if one is open. */
    void refreshCatalog() throws SQLException;
}
