package dev.bellows.jdbc;

import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;

/**
 * Result metadata as the server describes it, with one exception: generated keys the application asked for
 * by a legacy name report that name, since the application named them and no SQL alias could.
 * Ordinary results keep the server's labels even where legacy labels resolve through
 * {@link ResultSetWrapper}: code written for the new schema that iterates metadata must see the real columns.
 */
final class ResultSetMetaDataWrapper extends ForwardingResultSetMetaData {
    /** Lower-case server label → generated-key name the application asked for. */
    private final Map<String, String> askedNames;

    ResultSetMetaDataWrapper(ResultSetMetaData delegate, Map<String, String> askedNames) {
        super(delegate);
        this.askedNames = askedNames;
    }

    private String asked(String serverName) {
        if (askedNames.isEmpty() || serverName == null) return serverName;
        return askedNames.getOrDefault(serverName.toLowerCase(Locale.ROOT), serverName);
    }

    @Override public String getColumnLabel(int column) throws SQLException {
        return asked(delegate.getColumnLabel(column));
    }

    @Override public String getColumnName(int column) throws SQLException {
        return asked(delegate.getColumnName(column));
    }
}
