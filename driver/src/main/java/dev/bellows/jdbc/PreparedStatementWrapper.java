package dev.bellows.jdbc;

import java.sql.PreparedStatement;

/** A Bellows prepared statement; all behaviour is in {@link AbstractPreparedStatementWrapper}. */
final class PreparedStatementWrapper extends AbstractPreparedStatementWrapper<PreparedStatement> {
    PreparedStatementWrapper(ConnectionWrapper connection, PreparedStatement delegate,
                             PrepareRequest<PreparedStatement> request, PrepareRequest.Prepared prepared) {
        super(connection, delegate, request, prepared);
    }
}
