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
 * wrapped, and {@link #getColumns} keeps showing a renamed column under its legacy name once the legacy
 * column has been dropped, see {@link LegacyColumns}.
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
        List<Migration> legacy = LegacyColumns.candidates(connection.runtime.rules(), schemaPattern, tableNamePattern,
            columnNamePattern);
        ResultSet real = delegate.getColumns(catalog, schemaPattern, tableNamePattern, columnNamePattern);
        return results(legacy.isEmpty() ? real : LegacyColumns.withLegacyRows(delegate, catalog, real, legacy));
    }
}
