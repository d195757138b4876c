package dev.bellows.jdbc;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * Bellows database metadata: {@link #getConnection()} is the Bellows connection, every result set is
 * wrapped, and columns, primary keys and indexes of managed tables are presented as the connection's
 * {@link SchemaView} sees them, see {@link ViewedMetaData}.
 */
final class DatabaseMetaDataWrapper extends ForwardingDatabaseMetaData {
    private final ConnectionWrapper connection;

    DatabaseMetaDataWrapper(ConnectionWrapper connection, DatabaseMetaData delegate) {
        super(delegate);
        this.connection = connection;
    }

    @Override ResultSet results(ResultSet rs) {
        return rs == null ? null : new ResultSetWrapper(connection, null, rs, Map.of(), Map.of());
    }

    @Override public Connection getConnection() throws SQLException {
        return connection;
    }

    @Override public ResultSet getColumns(String catalog, String schemaPattern, String tableNamePattern,
                                          String columnNamePattern) throws SQLException {
        BellowsRuntime rt = connection.runtime;
        List<Migration> active = ViewedMetaData.active(rt.rules(), schemaPattern, tableNamePattern, false);
        ResultSet real = delegate.getColumns(catalog, schemaPattern, tableNamePattern, columnNamePattern);
        return results(active.isEmpty() ? real
            : ViewedMetaData.columns(delegate, rt.schemaView(), rt.catalog(), catalog, columnNamePattern, real, active));
    }

    @Override public ResultSet getPrimaryKeys(String catalog, String schema, String table) throws SQLException {
        BellowsRuntime rt = connection.runtime;
        List<Migration> active = ViewedMetaData.active(rt.rules(), schema, table, true);
        ResultSet real = delegate.getPrimaryKeys(catalog, schema, table);
        return results(active.isEmpty() ? real : ViewedMetaData.keys(real, "PK_NAME", rt.schemaView(), rt.catalog(), active));
    }

    @Override public ResultSet getIndexInfo(String catalog, String schema, String table, boolean unique, boolean approximate)
        throws SQLException {
        BellowsRuntime rt = connection.runtime;
        List<Migration> active = ViewedMetaData.active(rt.rules(), schema, table, true);
        ResultSet real = delegate.getIndexInfo(catalog, schema, table, unique, approximate);
        return results(active.isEmpty() ? real : ViewedMetaData.keys(real, "INDEX_NAME", rt.schemaView(), rt.catalog(), active));
    }
}
