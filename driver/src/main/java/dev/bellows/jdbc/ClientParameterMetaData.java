package dev.bellows.jdbc;

import dev.bellows.rules.ParamPlan;
import java.sql.ParameterMetaData;
import java.sql.SQLException;

/**
 * Parameter metadata in the application's numbering when a dual write duplicated parameters: client
 * parameter i is described by the first server parameter it feeds.
 */
final class ClientParameterMetaData implements ParameterMetaData {
    private final ParameterMetaData delegate;
    private final ParamPlan plan;

    ClientParameterMetaData(ParameterMetaData delegate, ParamPlan plan) {
        this.delegate = delegate;
        this.plan = plan;
    }

    private int server(int param) throws SQLException {
        if (param < 1 || param > plan.clientCount()) {
            throw new SQLException("The parameter index is out of range: " + param + ", number of parameters: "
                + plan.clientCount() + ".", Errors.INVALID_PARAMETER_VALUE);
        }
        int[] servers = plan.serversFor(param);
        // A parameter the rewrite dropped has no server counterpart; describe it as unknown.
        return servers.length == 0 ? -1 : servers[0];
    }

    @Override public int getParameterCount() { return plan.clientCount(); }
    @Override public int isNullable(int param) throws SQLException { int s = server(param); return s < 0 ? parameterNullableUnknown : delegate.isNullable(s); }
    @Override public boolean isSigned(int param) throws SQLException { int s = server(param); return s > 0 && delegate.isSigned(s); }
    @Override public int getPrecision(int param) throws SQLException { int s = server(param); return s < 0 ? 0 : delegate.getPrecision(s); }
    @Override public int getScale(int param) throws SQLException { int s = server(param); return s < 0 ? 0 : delegate.getScale(s); }
    @Override public int getParameterType(int param) throws SQLException { int s = server(param); return s < 0 ? java.sql.Types.OTHER : delegate.getParameterType(s); }
    @Override public String getParameterTypeName(int param) throws SQLException { int s = server(param); return s < 0 ? null : delegate.getParameterTypeName(s); }
    @Override public String getParameterClassName(int param) throws SQLException { int s = server(param); return s < 0 ? Object.class.getName() : delegate.getParameterClassName(s); }
    @Override public int getParameterMode(int param) throws SQLException { int s = server(param); return s < 0 ? parameterModeIn : delegate.getParameterMode(s); }

    @Override public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : delegate.unwrap(iface);
    }

    @Override public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || delegate.isWrapperFor(iface);
    }
}
