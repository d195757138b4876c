package dev.bellows.jdbc;

import java.sql.CallableStatement;
import java.sql.SQLException;
import java.sql.SQLType;

/**
 * A Bellows callable statement. OUT parameter registrations are recorded so a statement prepared again
 * after a phase change keeps them; their indexes are not remapped, since calls are never dual-written.
 */
final class CallableStatementWrapper extends ForwardingCallableStatement<CallableStatement> {
    CallableStatementWrapper(ConnectionWrapper connection, CallableStatement delegate,
                             PrepareRequest<CallableStatement> request, PrepareRequest.Prepared prepared) {
        super(connection, delegate, request, prepared);
    }

    @Override public void registerOutParameter(int parameterIndex, int sqlType) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType));
    }

    @Override public void registerOutParameter(int parameterIndex, int sqlType, int scale) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType, scale));
    }

    @Override public void registerOutParameter(int parameterIndex, int sqlType, String typeName) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType, typeName));
    }

    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType));
    }

    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType, int scale) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType, scale));
    }

    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType, String typeName) throws SQLException {
        registerOut(parameterIndex, (ps, i) -> ((CallableStatement) ps).registerOutParameter(i, sqlType, typeName));
    }
}
