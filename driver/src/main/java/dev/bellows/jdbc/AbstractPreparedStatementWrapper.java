package dev.bellows.jdbc;

import dev.bellows.jdbc.PrepareRequest.Prepared;
import dev.bellows.rules.ParamPlan;
import java.io.InputStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.NClob;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.Ref;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.RowId;
import java.sql.SQLException;
import java.sql.SQLType;
import java.sql.SQLXML;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.List;
import org.postgresql.PGStatement;

/**
 * What prepared and callable statements add: each client parameter setter is recorded and applied to every
 * server parameter the rewrite's {@link ParamPlan} says it feeds (dual writes), and at execute the statement
 * is prepared again with the new rewrite if the rewriter changed since, its parameters (and pending batch)
 * replayed. The check is one int comparison; a changed rewriter whose rewrite of this SQL is unchanged keeps
 * the server statement.
 */
abstract class AbstractPreparedStatementWrapper<S extends PreparedStatement> extends ForwardingPreparedStatement<S> {
    private static final Binding[] NONE = new Binding[0];
    private static final Parameters NO_PARAMETERS = new Parameters();

    private final PrepareRequest<S> request;
    private Prepared prepared;
    /** Client parameters' last setters; the shared empty instance until the first one (never written to). */
    private Parameters bindings = NO_PARAMETERS;
    /** Callable OUT parameter registrations, by server index. */
    private Binding[] outs = NONE;
    /** Parameter snapshots of the pending batch, for replay; null while no batch is pending. */
    private List<Parameters> batch;
    private Boolean escapeProcessing;

    AbstractPreparedStatementWrapper(ConnectionWrapper connection, S delegate, PrepareRequest<S> request, Prepared prepared) {
        super(connection, delegate);
        this.request = request;
        adopt(prepared);
    }

    private void adopt(Prepared p) {
        prepared = p;
        current = p.rewrite;
        askedNames = p.askedNames;
    }

    /**
     * The server statement to execute, prepared again first if the rewriter changed since; also restores
     * this statement's result labels and records its usage facts.
     */
    private S executing() throws SQLException {
        connection.followFlags();
        BellowsRuntime.State state = connection.runtime.state();
        if (state.version != prepared.version || prepared.mentions && prepared.rewriter != connection.pathRewriter(state)) {
            reprepare(state);
        }
        current = prepared.rewrite;
        askedNames = prepared.askedNames;
        connection.runtime.record(prepared.rewrite);
        return delegate;
    }

    private void reprepare(BellowsRuntime.State state) throws SQLException {
        Prepared next = request.plan(state, connection);
        if (next.sameStatement(prepared)) {
            adopt(next);
            return;
        }
        S fresh = request.open(connection.delegate, next);
        try {
            copySettings(delegate, fresh);
            ParamPlan plan = next.rewrite.params();
            if (batch != null) {
                for (Parameters row : batch) {
                    fresh.clearParameters();
                    applyAll(fresh, plan, row);
                    fresh.addBatch();
                }
                fresh.clearParameters();
            }
            applyAll(fresh, plan, bindings);
            for (int i = 0; i < outs.length; i++) {
                if (outs[i] != null) outs[i].apply(fresh, i + 1);
            }
        } catch (SQLException | RuntimeException e) {
            try {
                fresh.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        S old = delegate;
        delegate = fresh;
        adopt(next);
        old.close();
    }

    private void copySettings(S from, S to) throws SQLException {
        to.setFetchDirection(from.getFetchDirection());
        to.setFetchSize(from.getFetchSize());
        to.setMaxRows(from.getMaxRows());
        to.setMaxFieldSize(from.getMaxFieldSize());
        to.setQueryTimeout(from.getQueryTimeout());
        to.setPoolable(from.isPoolable());
        if (from.isCloseOnCompletion()) to.closeOnCompletion();
        if (escapeProcessing != null) to.setEscapeProcessing(escapeProcessing);
        // Applications tune server-side preparing through pgjdbc's own interface; keep their choice.
        if (from.isWrapperFor(PGStatement.class) && to.isWrapperFor(PGStatement.class)) {
            to.unwrap(PGStatement.class).setPrepareThreshold(from.unwrap(PGStatement.class).getPrepareThreshold());
        }
    }

    private static void applyAll(PreparedStatement ps, ParamPlan plan, Parameters row) throws SQLException {
        for (int i = 1; i <= row.size(); i++) {
            if (row.isSet(i)) applyTo(ps, plan, i, row);
        }
    }

    // A recorded parameter applied again: to each server parameter its client parameter feeds.
    private static void applyTo(PreparedStatement ps, ParamPlan plan, int index, Parameters row) throws SQLException {
        if (plan == null) {
            row.apply(ps, index, index);
            return;
        }
        checkIndex(plan, index);
        int[] servers = plan.serversFor(index);
        Binding b = row.binding(index);
        if (servers.length > 1 && b instanceof Binding.Buffered) ((Binding.Buffered) b).buffer();
        for (int s : servers) row.apply(ps, index, s);
    }

    private static void checkIndex(ParamPlan plan, int index) throws SQLException {
        if (index < 1 || index > plan.clientCount()) {
            throw new SQLException("The column index is out of range: " + index + ", number of columns: "
                + plan.clientCount() + ".", Errors.INVALID_PARAMETER_VALUE);
        }
    }

    private static void bindTo(PreparedStatement ps, ParamPlan plan, int index, Binding b) throws SQLException {
        if (plan == null) {
            b.apply(ps, index);
            return;
        }
        checkIndex(plan, index);
        int[] servers = plan.serversFor(index);
        if (servers.length > 1 && b instanceof Binding.Buffered) ((Binding.Buffered) b).buffer();
        for (int s : servers) b.apply(ps, s);
    }

    /** Applies a client setter call to the current server statement and records it for replay. */
    final void bind(int parameterIndex, Binding b) throws SQLException {
        bindTo(delegate, prepared.rewrite.params(), parameterIndex, b);
        recorded().set(parameterIndex, Parameters.BINDING, b, 0);
    }

    /** {@link #bind} for the common setters: a kind and a value, recorded without allocating. */
    private void put(int index, byte kind, Object ref, long prim) throws SQLException {
        ParamPlan plan = prepared.rewrite.params();
        if (plan == null) {
            Parameters.apply(delegate, index, kind, ref, prim);
        } else {
            checkIndex(plan, index);
            for (int s : plan.serversFor(index)) Parameters.apply(delegate, s, kind, ref, prim);
        }
        if (index >= 1) recorded().set(index, kind, ref, prim);
    }

    private Parameters recorded() {
        Parameters p = bindings;
        if (p == NO_PARAMETERS) bindings = p = connection.takeParameters();
        return p;
    }

    /** An OUT parameter registration; indexes are not remapped (calls are not dual-written). */
    final void registerOut(int parameterIndex, Binding b) throws SQLException {
        b.apply(delegate, parameterIndex);
        outs = record(outs, parameterIndex, b);
    }

    private static Binding[] record(Binding[] array, int index, Binding b) {
        // sized once for typical statements rather than grown 1, 2, 4, ... on the first executions' setters
        Binding[] a = index > array.length ? Arrays.copyOf(array, Math.max(index, Math.max(8, array.length * 2))) : array;
        a[index - 1] = b;
        return a;
    }

    @Override public ResultSet executeQuery() throws SQLException {
        try {
            ResultSet rs = executing().executeQuery();
            connection.executed(prepared.rewrite);
            ShadowReads shadow = connection.runtime.shadow;
            if (shadow != null && outs.length == 0) shadow.after(connection, prepared.rewrite, this::bindCopy);
            return wrapResult(rs);
        } catch (SQLException e) {
            throw explain(e);
        }
    }

    /** Binds this statement's parameters to a shadow copy; false when one of them is a stream read once. */
    private boolean bindCopy(PreparedStatement copy, ParamPlan plan) throws SQLException {
        for (int i = 1; i <= bindings.size(); i++) {
            if (bindings.isSet(i) && bindings.binding(i) instanceof Binding.Buffered) return false;
        }
        applyAll(copy, plan, bindings);
        return true;
    }

    /** A NOT NULL violation of a type change's unmapped value, in the writer's terms (see {@link UnmappedValues}). */
    private SQLException explain(SQLException e) {
        return UnmappedValues.explain(e, prepared.rewrite, connection.runtime.rules());
    }

    @Override public int executeUpdate() throws SQLException {
        int n;
        try {
            n = executing().executeUpdate();
        } catch (SQLException e) {
            throw explain(e);
        }
        connection.executed(prepared.rewrite);
        return n;
    }

    @Override public long executeLargeUpdate() throws SQLException {
        long n;
        try {
            n = executing().executeLargeUpdate();
        } catch (SQLException e) {
            throw explain(e);
        }
        connection.executed(prepared.rewrite);
        return n;
    }

    @Override public boolean execute() throws SQLException {
        boolean r;
        try {
            r = executing().execute();
        } catch (SQLException e) {
            throw explain(e);
        }
        connection.executed(prepared.rewrite);
        return r;
    }

    @Override public void addBatch() throws SQLException {
        delegate.addBatch();
        if (batch == null) batch = new ArrayList<>();
        batch.add(bindings.copy());
    }

    @Override public void clearBatch() throws SQLException {
        batch = null;
        delegate.clearBatch();
    }

    @Override public int[] executeBatch() throws SQLException {
        try {
            int[] counts = executing().executeBatch();
            connection.executed(prepared.rewrite);
            return counts;
        } catch (SQLException e) {
            throw explain(e);
        } finally {
            batch = null;
        }
    }

    @Override public long[] executeLargeBatch() throws SQLException {
        try {
            long[] counts = executing().executeLargeBatch();
            connection.executed(prepared.rewrite);
            return counts;
        } catch (SQLException e) {
            throw explain(e);
        } finally {
            batch = null;
        }
    }

    @Override public void clearParameters() throws SQLException {
        if (bindings != NO_PARAMETERS) bindings.clear();
        delegate.clearParameters();
    }

    /** Closing hands the recorded-parameter arrays to the connection's next statement. */
    @Override public void close() throws SQLException {
        try {
            super.close();
        } finally {
            Parameters p = bindings;
            if (p != NO_PARAMETERS) {
                bindings = NO_PARAMETERS;
                connection.giveBack(p);
            }
        }
    }

    @Override public void setEscapeProcessing(boolean enable) throws SQLException {
        delegate.setEscapeProcessing(enable);
        escapeProcessing = enable;
    }

    // Metadata describes the statement as last prepared: preparing it again here would close a result the
    // application may still be reading. The next execute picks up a newer rewrite.
    @Override public ResultSetMetaData getMetaData() throws SQLException {
        ResultSetMetaData md = delegate.getMetaData();
        return md == null ? null : new ResultSetMetaDataWrapper(md, prepared.askedNames);
    }

    @Override public ParameterMetaData getParameterMetaData() throws SQLException {
        ParameterMetaData md = delegate.getParameterMetaData();
        ParamPlan plan = prepared.rewrite.params();
        return plan == null || md == null ? md : new ClientParameterMetaData(md, plan);
    }

    // Every setter below records itself as a Binding; generated from java.sql.PreparedStatement. Streams pgjdbc
    // reads at set time are read into memory here (Binding.bytesNow/chars); only length-bounded binary
    // streams, which pgjdbc reads at execute, pass through unread unless they must be sent twice.
    @Override public void setNull(int parameterIndex, int sqlType) throws SQLException { put(parameterIndex, Parameters.NULL, null, sqlType); }
    @Override public void setBoolean(int parameterIndex, boolean x) throws SQLException { put(parameterIndex, Parameters.BOOLEAN, null, x ? 1 : 0); }
    @Override public void setByte(int parameterIndex, byte x) throws SQLException { put(parameterIndex, Parameters.BYTE, null, x); }
    @Override public void setShort(int parameterIndex, short x) throws SQLException { put(parameterIndex, Parameters.SHORT, null, x); }
    @Override public void setInt(int parameterIndex, int x) throws SQLException { put(parameterIndex, Parameters.INT, null, x); }
    @Override public void setLong(int parameterIndex, long x) throws SQLException { put(parameterIndex, Parameters.LONG, null, x); }
    @Override public void setFloat(int parameterIndex, float x) throws SQLException { put(parameterIndex, Parameters.FLOAT, null, Float.floatToRawIntBits(x)); }
    @Override public void setDouble(int parameterIndex, double x) throws SQLException { put(parameterIndex, Parameters.DOUBLE, null, Double.doubleToRawLongBits(x)); }
    @Override public void setBigDecimal(int parameterIndex, BigDecimal x) throws SQLException { put(parameterIndex, Parameters.BIG_DECIMAL, x, 0); }
    @Override public void setString(int parameterIndex, String x) throws SQLException { put(parameterIndex, Parameters.STRING, x, 0); }
    @Override public void setBytes(int parameterIndex, byte[] x) throws SQLException { put(parameterIndex, Parameters.BYTES, x, 0); }
    @Override public void setDate(int parameterIndex, java.sql.Date x) throws SQLException { put(parameterIndex, Parameters.DATE, x, 0); }
    @Override public void setTime(int parameterIndex, java.sql.Time x) throws SQLException { put(parameterIndex, Parameters.TIME, x, 0); }
    @Override public void setTimestamp(int parameterIndex, java.sql.Timestamp x) throws SQLException { put(parameterIndex, Parameters.TIMESTAMP, x, 0); }
    @Override public void setAsciiStream(int parameterIndex, InputStream x, int length) throws SQLException { bind(parameterIndex, Binding.bytesNow(x, length, (ps, i, in) -> ps.setAsciiStream(i, in, length))); }
    @Deprecated @Override public void setUnicodeStream(int parameterIndex, InputStream x, int length) throws SQLException { bind(parameterIndex, Binding.bytesNow(x, length, (ps, i, in) -> ps.setUnicodeStream(i, in, length))); }
    @Override public void setBinaryStream(int parameterIndex, InputStream x, int length) throws SQLException { bind(parameterIndex, Binding.bytes(x, length, (ps, i, in) -> ps.setBinaryStream(i, in, length))); }
    @Override public void setObject(int parameterIndex, Object x, int targetSqlType) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setObject(i, x, targetSqlType)); }
    @Override public void setObject(int parameterIndex, Object x) throws SQLException {
        // pgjdbc takes streams here too; they must be bound as streams to be sent twice or replayed.
        if (x instanceof InputStream) bind(parameterIndex, Binding.bytesNow((InputStream) x, -1, (ps, i, in) -> ps.setObject(i, in)));
        else if (x instanceof Reader) bind(parameterIndex, Binding.chars((Reader) x, -1, (ps, i, r) -> ps.setObject(i, r)));
        else put(parameterIndex, Parameters.OBJECT, x, 0);
    }
    @Override public void setCharacterStream(int parameterIndex, Reader reader, int length) throws SQLException { bind(parameterIndex, Binding.chars(reader, length, (ps, i, r) -> ps.setCharacterStream(i, r, length))); }
    @Override public void setRef(int parameterIndex, Ref x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setRef(i, x)); }
    @Override public void setBlob(int parameterIndex, Blob x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setBlob(i, x)); }
    @Override public void setClob(int parameterIndex, Clob x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setClob(i, x)); }
    @Override public void setArray(int parameterIndex, Array x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setArray(i, x)); }
    @Override public void setDate(int parameterIndex, java.sql.Date x, Calendar cal) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setDate(i, x, cal)); }
    @Override public void setTime(int parameterIndex, java.sql.Time x, Calendar cal) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setTime(i, x, cal)); }
    @Override public void setTimestamp(int parameterIndex, java.sql.Timestamp x, Calendar cal) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setTimestamp(i, x, cal)); }
    @Override public void setNull(int parameterIndex, int sqlType, String typeName) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setNull(i, sqlType, typeName)); }
    @Override public void setURL(int parameterIndex, java.net.URL x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setURL(i, x)); }
    @Override public void setRowId(int parameterIndex, RowId x) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setRowId(i, x)); }
    @Override public void setNString(int parameterIndex, String value) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setNString(i, value)); }
    @Override public void setNCharacterStream(int parameterIndex, Reader value, long length) throws SQLException { bind(parameterIndex, Binding.chars(value, length, (ps, i, r) -> ps.setNCharacterStream(i, r, length))); }
    @Override public void setNClob(int parameterIndex, NClob value) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setNClob(i, value)); }
    @Override public void setClob(int parameterIndex, Reader reader, long length) throws SQLException { bind(parameterIndex, Binding.chars(reader, length, (ps, i, r) -> ps.setClob(i, r, length))); }
    @Override public void setBlob(int parameterIndex, InputStream inputStream, long length) throws SQLException { bind(parameterIndex, Binding.bytesNow(inputStream, length, (ps, i, in) -> ps.setBlob(i, in, length))); }
    @Override public void setNClob(int parameterIndex, Reader reader, long length) throws SQLException { bind(parameterIndex, Binding.chars(reader, length, (ps, i, r) -> ps.setNClob(i, r, length))); }
    @Override public void setSQLXML(int parameterIndex, SQLXML xmlObject) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setSQLXML(i, xmlObject)); }
    @Override public void setObject(int parameterIndex, Object x, int targetSqlType, int scaleOrLength) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setObject(i, x, targetSqlType, scaleOrLength)); }
    @Override public void setAsciiStream(int parameterIndex, InputStream x, long length) throws SQLException { bind(parameterIndex, Binding.bytesNow(x, length, (ps, i, in) -> ps.setAsciiStream(i, in, length))); }
    @Override public void setBinaryStream(int parameterIndex, InputStream x, long length) throws SQLException { bind(parameterIndex, Binding.bytes(x, length, (ps, i, in) -> ps.setBinaryStream(i, in, length))); }
    @Override public void setCharacterStream(int parameterIndex, Reader reader, long length) throws SQLException { bind(parameterIndex, Binding.chars(reader, length, (ps, i, r) -> ps.setCharacterStream(i, r, length))); }
    @Override public void setAsciiStream(int parameterIndex, InputStream x) throws SQLException { bind(parameterIndex, Binding.bytesNow(x, -1, (ps, i, in) -> ps.setAsciiStream(i, in))); }
    @Override public void setBinaryStream(int parameterIndex, InputStream x) throws SQLException { bind(parameterIndex, Binding.bytesNow(x, -1, (ps, i, in) -> ps.setBinaryStream(i, in))); }
    @Override public void setCharacterStream(int parameterIndex, Reader reader) throws SQLException { bind(parameterIndex, Binding.chars(reader, -1, (ps, i, r) -> ps.setCharacterStream(i, r))); }
    @Override public void setNCharacterStream(int parameterIndex, Reader value) throws SQLException { bind(parameterIndex, Binding.chars(value, -1, (ps, i, r) -> ps.setNCharacterStream(i, r))); }
    @Override public void setClob(int parameterIndex, Reader reader) throws SQLException { bind(parameterIndex, Binding.chars(reader, -1, (ps, i, r) -> ps.setClob(i, r))); }
    @Override public void setBlob(int parameterIndex, InputStream inputStream) throws SQLException { bind(parameterIndex, Binding.bytesNow(inputStream, -1, (ps, i, in) -> ps.setBlob(i, in))); }
    @Override public void setNClob(int parameterIndex, Reader reader) throws SQLException { bind(parameterIndex, Binding.chars(reader, -1, (ps, i, r) -> ps.setNClob(i, r))); }
    @Override public void setObject(int parameterIndex, Object x, SQLType targetSqlType, int scaleOrLength) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setObject(i, x, targetSqlType, scaleOrLength)); }
    @Override public void setObject(int parameterIndex, Object x, SQLType targetSqlType) throws SQLException { bind(parameterIndex, (ps, i) -> ps.setObject(i, x, targetSqlType)); }
}
