package dev.bellows.jdbc;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;

/**
 * A Bellows result set: {@link #getStatement()} returns the Bellows statement, and every by-label method
 * resolves legacy labels through the rewrite's label map ({@code Rewrite.labels()}: lower-case legacy label
 * → label present in the result). The map only lists labels the result does not carry, so a label found in
 * it is the legacy one and the real label is asked for instead; labels not in it pass through untouched.
 */
final class ResultSetWrapper extends ForwardingResultSet {
    private final ConnectionWrapper connection;
    private final Map<String, String> labels;
    private final Map<String, String> askedNames;
    private Statement statement;

    /**
     * @param statement  the Bellows statement that produced it, or null for metadata results, whose pgjdbc
     *                   statement is wrapped on demand
     * @param askedNames lower-case server label → generated-key name asked for, see {@link ResultSetMetaDataWrapper}
     */
    ResultSetWrapper(ConnectionWrapper connection, Statement statement, ResultSet delegate,
                     Map<String, String> labels, Map<String, String> askedNames) {
        super(delegate);
        this.connection = connection;
        this.statement = statement;
        this.labels = labels;
        this.askedNames = askedNames;
    }

    @Override String label(String columnLabel) {
        if (labels.isEmpty() || columnLabel == null) return columnLabel;
        String real = labels.get(columnLabel.toLowerCase(Locale.ROOT));
        return real == null ? columnLabel : real;
    }

    @Override public Statement getStatement() throws SQLException {
        if (statement == null) {
            Statement raw = delegate.getStatement();
            if (raw == null) return null;
            statement = new StatementWrapper(connection, raw, false);
        }
        return statement;
    }

    @Override public void close() throws SQLException {
        delegate.close();
        if (statement instanceof AbstractStatementWrapper) ((AbstractStatementWrapper<?>) statement).resultClosed();
    }

    @Override public ResultSetMetaData getMetaData() throws SQLException {
        ResultSetMetaData md = delegate.getMetaData();
        return md == null ? null : new ResultSetMetaDataWrapper(md, askedNames);
    }

    @Override public String toString() {
        return delegate.toString();
    }
}
