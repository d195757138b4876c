package dev.bellows.jdbc;

import java.io.InputStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.NClob;
import java.sql.Ref;
import java.sql.RowId;
import java.sql.SQLException;
import java.sql.SQLType;
import java.sql.SQLXML;
import java.util.Calendar;

/**
 * Forwards every {@link CallableStatement} method to the wrapped statement; subclasses override what Bellows
 * changes. It extends the prepared statement layer so calls share its parameter recording and re-preparing.
 */
abstract class ForwardingCallableStatement<S extends CallableStatement> extends AbstractPreparedStatementWrapper<S> implements CallableStatement {
    ForwardingCallableStatement(ConnectionWrapper connection, S delegate, PrepareRequest<S> request, PrepareRequest.Prepared prepared) {
        super(connection, delegate, request, prepared);
    }

    @Override public void registerOutParameter(int parameterIndex, int sqlType) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType); }
    @Override public void registerOutParameter(int parameterIndex, int sqlType, int scale) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType, scale); }
    @Override public boolean wasNull() throws SQLException { return delegate.wasNull(); }
    @Override public String getString(int parameterIndex) throws SQLException { return delegate.getString(parameterIndex); }
    @Override public boolean getBoolean(int parameterIndex) throws SQLException { return delegate.getBoolean(parameterIndex); }
    @Override public byte getByte(int parameterIndex) throws SQLException { return delegate.getByte(parameterIndex); }
    @Override public short getShort(int parameterIndex) throws SQLException { return delegate.getShort(parameterIndex); }
    @Override public int getInt(int parameterIndex) throws SQLException { return delegate.getInt(parameterIndex); }
    @Override public long getLong(int parameterIndex) throws SQLException { return delegate.getLong(parameterIndex); }
    @Override public float getFloat(int parameterIndex) throws SQLException { return delegate.getFloat(parameterIndex); }
    @Override public double getDouble(int parameterIndex) throws SQLException { return delegate.getDouble(parameterIndex); }
    @Deprecated @Override public BigDecimal getBigDecimal(int parameterIndex, int scale) throws SQLException { return delegate.getBigDecimal(parameterIndex, scale); }
    @Override public byte[] getBytes(int parameterIndex) throws SQLException { return delegate.getBytes(parameterIndex); }
    @Override public java.sql.Date getDate(int parameterIndex) throws SQLException { return delegate.getDate(parameterIndex); }
    @Override public java.sql.Time getTime(int parameterIndex) throws SQLException { return delegate.getTime(parameterIndex); }
    @Override public java.sql.Timestamp getTimestamp(int parameterIndex) throws SQLException { return delegate.getTimestamp(parameterIndex); }
    @Override public Object getObject(int parameterIndex) throws SQLException { return delegate.getObject(parameterIndex); }
    @Override public BigDecimal getBigDecimal(int parameterIndex) throws SQLException { return delegate.getBigDecimal(parameterIndex); }
    @Override public Object getObject(int parameterIndex, java.util.Map<String, Class<?>> map) throws SQLException { return delegate.getObject(parameterIndex, map); }
    @Override public Ref getRef(int parameterIndex) throws SQLException { return delegate.getRef(parameterIndex); }
    @Override public Blob getBlob(int parameterIndex) throws SQLException { return delegate.getBlob(parameterIndex); }
    @Override public Clob getClob(int parameterIndex) throws SQLException { return delegate.getClob(parameterIndex); }
    @Override public Array getArray(int parameterIndex) throws SQLException { return delegate.getArray(parameterIndex); }
    @Override public java.sql.Date getDate(int parameterIndex, Calendar cal) throws SQLException { return delegate.getDate(parameterIndex, cal); }
    @Override public java.sql.Time getTime(int parameterIndex, Calendar cal) throws SQLException { return delegate.getTime(parameterIndex, cal); }
    @Override public java.sql.Timestamp getTimestamp(int parameterIndex, Calendar cal) throws SQLException { return delegate.getTimestamp(parameterIndex, cal); }
    @Override public void registerOutParameter(int parameterIndex, int sqlType, String typeName) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType, typeName); }
    @Override public void registerOutParameter(String parameterName, int sqlType) throws SQLException { delegate.registerOutParameter(parameterName, sqlType); }
    @Override public void registerOutParameter(String parameterName, int sqlType, int scale) throws SQLException { delegate.registerOutParameter(parameterName, sqlType, scale); }
    @Override public void registerOutParameter(String parameterName, int sqlType, String typeName) throws SQLException { delegate.registerOutParameter(parameterName, sqlType, typeName); }
    @Override public java.net.URL getURL(int parameterIndex) throws SQLException { return delegate.getURL(parameterIndex); }
    @Override public void setURL(String parameterName, java.net.URL val) throws SQLException { delegate.setURL(parameterName, val); }
    @Override public void setNull(String parameterName, int sqlType) throws SQLException { delegate.setNull(parameterName, sqlType); }
    @Override public void setBoolean(String parameterName, boolean x) throws SQLException { delegate.setBoolean(parameterName, x); }
    @Override public void setByte(String parameterName, byte x) throws SQLException { delegate.setByte(parameterName, x); }
    @Override public void setShort(String parameterName, short x) throws SQLException { delegate.setShort(parameterName, x); }
    @Override public void setInt(String parameterName, int x) throws SQLException { delegate.setInt(parameterName, x); }
    @Override public void setLong(String parameterName, long x) throws SQLException { delegate.setLong(parameterName, x); }
    @Override public void setFloat(String parameterName, float x) throws SQLException { delegate.setFloat(parameterName, x); }
    @Override public void setDouble(String parameterName, double x) throws SQLException { delegate.setDouble(parameterName, x); }
    @Override public void setBigDecimal(String parameterName, BigDecimal x) throws SQLException { delegate.setBigDecimal(parameterName, x); }
    @Override public void setString(String parameterName, String x) throws SQLException { delegate.setString(parameterName, x); }
    @Override public void setBytes(String parameterName, byte[] x) throws SQLException { delegate.setBytes(parameterName, x); }
    @Override public void setDate(String parameterName, java.sql.Date x) throws SQLException { delegate.setDate(parameterName, x); }
    @Override public void setTime(String parameterName, java.sql.Time x) throws SQLException { delegate.setTime(parameterName, x); }
    @Override public void setTimestamp(String parameterName, java.sql.Timestamp x) throws SQLException { delegate.setTimestamp(parameterName, x); }
    @Override public void setAsciiStream(String parameterName, java.io.InputStream x, int length) throws SQLException { delegate.setAsciiStream(parameterName, x, length); }
    @Override public void setBinaryStream(String parameterName, java.io.InputStream x, int length) throws SQLException { delegate.setBinaryStream(parameterName, x, length); }
    @Override public void setObject(String parameterName, Object x, int targetSqlType, int scale) throws SQLException { delegate.setObject(parameterName, x, targetSqlType, scale); }
    @Override public void setObject(String parameterName, Object x, int targetSqlType) throws SQLException { delegate.setObject(parameterName, x, targetSqlType); }
    @Override public void setObject(String parameterName, Object x) throws SQLException { delegate.setObject(parameterName, x); }
    @Override public void setCharacterStream(String parameterName, java.io.Reader reader, int length) throws SQLException { delegate.setCharacterStream(parameterName, reader, length); }
    @Override public void setDate(String parameterName, java.sql.Date x, Calendar cal) throws SQLException { delegate.setDate(parameterName, x, cal); }
    @Override public void setTime(String parameterName, java.sql.Time x, Calendar cal) throws SQLException { delegate.setTime(parameterName, x, cal); }
    @Override public void setTimestamp(String parameterName, java.sql.Timestamp x, Calendar cal) throws SQLException { delegate.setTimestamp(parameterName, x, cal); }
    @Override public void setNull(String parameterName, int sqlType, String typeName) throws SQLException { delegate.setNull(parameterName, sqlType, typeName); }
    @Override public String getString(String parameterName) throws SQLException { return delegate.getString(parameterName); }
    @Override public boolean getBoolean(String parameterName) throws SQLException { return delegate.getBoolean(parameterName); }
    @Override public byte getByte(String parameterName) throws SQLException { return delegate.getByte(parameterName); }
    @Override public short getShort(String parameterName) throws SQLException { return delegate.getShort(parameterName); }
    @Override public int getInt(String parameterName) throws SQLException { return delegate.getInt(parameterName); }
    @Override public long getLong(String parameterName) throws SQLException { return delegate.getLong(parameterName); }
    @Override public float getFloat(String parameterName) throws SQLException { return delegate.getFloat(parameterName); }
    @Override public double getDouble(String parameterName) throws SQLException { return delegate.getDouble(parameterName); }
    @Override public byte[] getBytes(String parameterName) throws SQLException { return delegate.getBytes(parameterName); }
    @Override public java.sql.Date getDate(String parameterName) throws SQLException { return delegate.getDate(parameterName); }
    @Override public java.sql.Time getTime(String parameterName) throws SQLException { return delegate.getTime(parameterName); }
    @Override public java.sql.Timestamp getTimestamp(String parameterName) throws SQLException { return delegate.getTimestamp(parameterName); }
    @Override public Object getObject(String parameterName) throws SQLException { return delegate.getObject(parameterName); }
    @Override public BigDecimal getBigDecimal(String parameterName) throws SQLException { return delegate.getBigDecimal(parameterName); }
    @Override public Object getObject(String parameterName, java.util.Map<String, Class<?>> map) throws SQLException { return delegate.getObject(parameterName, map); }
    @Override public Ref getRef(String parameterName) throws SQLException { return delegate.getRef(parameterName); }
    @Override public Blob getBlob(String parameterName) throws SQLException { return delegate.getBlob(parameterName); }
    @Override public Clob getClob(String parameterName) throws SQLException { return delegate.getClob(parameterName); }
    @Override public Array getArray(String parameterName) throws SQLException { return delegate.getArray(parameterName); }
    @Override public java.sql.Date getDate(String parameterName, Calendar cal) throws SQLException { return delegate.getDate(parameterName, cal); }
    @Override public java.sql.Time getTime(String parameterName, Calendar cal) throws SQLException { return delegate.getTime(parameterName, cal); }
    @Override public java.sql.Timestamp getTimestamp(String parameterName, Calendar cal) throws SQLException { return delegate.getTimestamp(parameterName, cal); }
    @Override public java.net.URL getURL(String parameterName) throws SQLException { return delegate.getURL(parameterName); }
    @Override public RowId getRowId(int parameterIndex) throws SQLException { return delegate.getRowId(parameterIndex); }
    @Override public RowId getRowId(String parameterName) throws SQLException { return delegate.getRowId(parameterName); }
    @Override public void setRowId(String parameterName, RowId x) throws SQLException { delegate.setRowId(parameterName, x); }
    @Override public void setNString(String parameterName, String value) throws SQLException { delegate.setNString(parameterName, value); }
    @Override public void setNCharacterStream(String parameterName, Reader value, long length) throws SQLException { delegate.setNCharacterStream(parameterName, value, length); }
    @Override public void setNClob(String parameterName, NClob value) throws SQLException { delegate.setNClob(parameterName, value); }
    @Override public void setClob(String parameterName, Reader reader, long length) throws SQLException { delegate.setClob(parameterName, reader, length); }
    @Override public void setBlob(String parameterName, InputStream inputStream, long length) throws SQLException { delegate.setBlob(parameterName, inputStream, length); }
    @Override public void setNClob(String parameterName, Reader reader, long length) throws SQLException { delegate.setNClob(parameterName, reader, length); }
    @Override public NClob getNClob(int parameterIndex) throws SQLException { return delegate.getNClob(parameterIndex); }
    @Override public NClob getNClob(String parameterName) throws SQLException { return delegate.getNClob(parameterName); }
    @Override public void setSQLXML(String parameterName, SQLXML xmlObject) throws SQLException { delegate.setSQLXML(parameterName, xmlObject); }
    @Override public SQLXML getSQLXML(int parameterIndex) throws SQLException { return delegate.getSQLXML(parameterIndex); }
    @Override public SQLXML getSQLXML(String parameterName) throws SQLException { return delegate.getSQLXML(parameterName); }
    @Override public String getNString(int parameterIndex) throws SQLException { return delegate.getNString(parameterIndex); }
    @Override public String getNString(String parameterName) throws SQLException { return delegate.getNString(parameterName); }
    @Override public java.io.Reader getNCharacterStream(int parameterIndex) throws SQLException { return delegate.getNCharacterStream(parameterIndex); }
    @Override public java.io.Reader getNCharacterStream(String parameterName) throws SQLException { return delegate.getNCharacterStream(parameterName); }
    @Override public java.io.Reader getCharacterStream(int parameterIndex) throws SQLException { return delegate.getCharacterStream(parameterIndex); }
    @Override public java.io.Reader getCharacterStream(String parameterName) throws SQLException { return delegate.getCharacterStream(parameterName); }
    @Override public void setBlob(String parameterName, Blob x) throws SQLException { delegate.setBlob(parameterName, x); }
    @Override public void setClob(String parameterName, Clob x) throws SQLException { delegate.setClob(parameterName, x); }
    @Override public void setAsciiStream(String parameterName, java.io.InputStream x, long length) throws SQLException { delegate.setAsciiStream(parameterName, x, length); }
    @Override public void setBinaryStream(String parameterName, java.io.InputStream x, long length) throws SQLException { delegate.setBinaryStream(parameterName, x, length); }
    @Override public void setCharacterStream(String parameterName, java.io.Reader reader, long length) throws SQLException { delegate.setCharacterStream(parameterName, reader, length); }
    @Override public void setAsciiStream(String parameterName, java.io.InputStream x) throws SQLException { delegate.setAsciiStream(parameterName, x); }
    @Override public void setBinaryStream(String parameterName, java.io.InputStream x) throws SQLException { delegate.setBinaryStream(parameterName, x); }
    @Override public void setCharacterStream(String parameterName, java.io.Reader reader) throws SQLException { delegate.setCharacterStream(parameterName, reader); }
    @Override public void setNCharacterStream(String parameterName, Reader value) throws SQLException { delegate.setNCharacterStream(parameterName, value); }
    @Override public void setClob(String parameterName, Reader reader) throws SQLException { delegate.setClob(parameterName, reader); }
    @Override public void setBlob(String parameterName, InputStream inputStream) throws SQLException { delegate.setBlob(parameterName, inputStream); }
    @Override public void setNClob(String parameterName, Reader reader) throws SQLException { delegate.setNClob(parameterName, reader); }
    @Override public <T> T getObject(int parameterIndex, Class<T> type) throws SQLException { return delegate.getObject(parameterIndex, type); }
    @Override public <T> T getObject(String parameterName, Class<T> type) throws SQLException { return delegate.getObject(parameterName, type); }
    @Override public void setObject(String parameterName, Object x, SQLType targetSqlType, int scaleOrLength) throws SQLException { delegate.setObject(parameterName, x, targetSqlType, scaleOrLength); }
    @Override public void setObject(String parameterName, Object x, SQLType targetSqlType) throws SQLException { delegate.setObject(parameterName, x, targetSqlType); }
    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType); }
    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType, int scale) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType, scale); }
    @Override public void registerOutParameter(int parameterIndex, SQLType sqlType, String typeName) throws SQLException { delegate.registerOutParameter(parameterIndex, sqlType, typeName); }
    @Override public void registerOutParameter(String parameterName, SQLType sqlType) throws SQLException { delegate.registerOutParameter(parameterName, sqlType); }
    @Override public void registerOutParameter(String parameterName, SQLType sqlType, int scale) throws SQLException { delegate.registerOutParameter(parameterName, sqlType, scale); }
    @Override public void registerOutParameter(String parameterName, SQLType sqlType, String typeName) throws SQLException { delegate.registerOutParameter(parameterName, sqlType, typeName); }
}
