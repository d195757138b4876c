package dev.bellows.jdbc;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A forward-only, read-only result set over rows held in memory, with the columns (metadata, statement,
 * labels) of the pgjdbc result set they were read from. Used for metadata results Bellows adds rows to;
 * supports what metadata readers use: navigation forward and the common getters by index or label.
 */
final class RowsResultSet extends ForwardingResultSet {
    private final List<Object[]> rows;
    private int position; // 0 before first, rows.size() + 1 after last
    private boolean wasNull;
    private boolean closed;

    /** @param source the (fully read) result set the rows came from; closed with this one */
    RowsResultSet(ResultSet source, List<Object[]> rows) {
        super(source);
        this.rows = rows;
    }

    /** Reads every remaining row of {@code rs} as objects. */
    static List<Object[]> read(ResultSet rs, int width) throws SQLException {
        List<Object[]> out = new ArrayList<>();
        while (rs.next()) {
            Object[] row = new Object[width];
            for (int i = 0; i < width; i++) row[i] = rs.getObject(i + 1);
            out.add(row);
        }
        return out;
    }

    private Object value(int column) throws SQLException {
        if (closed) throw new SQLException("This ResultSet is closed.", "55000");
        if (position < 1 || position > rows.size()) {
            throw new SQLException("ResultSet not positioned properly, perhaps you need to call next.", "24000");
        }
        Object[] row = rows.get(position - 1);
        if (column < 1 || column > row.length) {
            throw new SQLException("The column index is out of range: " + column + ", number of columns: "
                + row.length + ".", Errors.INVALID_PARAMETER_VALUE);
        }
        Object v = row[column - 1];
        wasNull = v == null;
        return v;
    }

    private Number number(int column) throws SQLException {
        Object v = value(column);
        if (v == null) return 0;
        if (v instanceof Number) return (Number) v;
        if (v instanceof Boolean) return (Boolean) v ? 1 : 0;
        try {
            return new BigDecimal(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new SQLException("Bad value for a number: " + v, "22003", e);
        }
    }

    @Override public boolean next() throws SQLException {
        if (closed) throw new SQLException("This ResultSet is closed.", "55000");
        if (position <= rows.size()) position++;
        return position <= rows.size();
    }

    @Override public void close() throws SQLException {
        closed = true;
        delegate.close();
    }

    @Override public boolean isClosed() { return closed; }
    @Override public boolean wasNull() { return wasNull; }
    @Override public int getRow() { return position >= 1 && position <= rows.size() ? position : 0; }
    @Override public boolean isBeforeFirst() { return position == 0 && !rows.isEmpty(); }
    @Override public boolean isAfterLast() { return position > rows.size() && !rows.isEmpty(); }
    @Override public boolean isFirst() { return position == 1 && !rows.isEmpty(); }
    @Override public boolean isLast() { return position == rows.size() && !rows.isEmpty(); }
    @Override public int getType() { return TYPE_FORWARD_ONLY; }
    @Override public int getConcurrency() { return CONCUR_READ_ONLY; }

    @Override public Object getObject(int columnIndex) throws SQLException { return value(columnIndex); }
    @Override public String getString(int columnIndex) throws SQLException { Object v = value(columnIndex); return v == null ? null : v.toString(); }
    @Override public byte getByte(int columnIndex) throws SQLException { return number(columnIndex).byteValue(); }
    @Override public short getShort(int columnIndex) throws SQLException { return number(columnIndex).shortValue(); }
    @Override public int getInt(int columnIndex) throws SQLException { return number(columnIndex).intValue(); }
    @Override public long getLong(int columnIndex) throws SQLException { return number(columnIndex).longValue(); }
    @Override public float getFloat(int columnIndex) throws SQLException { return number(columnIndex).floatValue(); }
    @Override public double getDouble(int columnIndex) throws SQLException { return number(columnIndex).doubleValue(); }

    @Override public BigDecimal getBigDecimal(int columnIndex) throws SQLException {
        Number n = number(columnIndex);
        return wasNull ? null : n instanceof BigDecimal ? (BigDecimal) n : new BigDecimal(n.toString());
    }

    @Override public boolean getBoolean(int columnIndex) throws SQLException {
        Object v = value(columnIndex);
        if (v == null) return false;
        if (v instanceof Boolean) return (Boolean) v;
        if (v instanceof Number) return ((Number) v).intValue() != 0;
        String s = v.toString().trim();
        return s.equalsIgnoreCase("t") || s.equalsIgnoreCase("true") || s.equals("1") || s.equalsIgnoreCase("yes");
    }

    @Override public <T> T getObject(int columnIndex, Class<T> type) throws SQLException {
        Object v = value(columnIndex);
        if (v == null || type.isInstance(v)) return type.cast(v);
        if (type == String.class) return type.cast(v.toString());
        if (type == Integer.class) return type.cast(getInt(columnIndex));
        if (type == Long.class) return type.cast(getLong(columnIndex));
        if (type == Short.class) return type.cast(getShort(columnIndex));
        if (type == Boolean.class) return type.cast(getBoolean(columnIndex));
        if (type == BigDecimal.class) return type.cast(getBigDecimal(columnIndex));
        throw new SQLException("Cannot convert the column of type " + v.getClass().getName() + " to " + type.getName() + ".", "22023");
    }

    @Override public Object getObject(String columnLabel) throws SQLException { return getObject(findColumn(columnLabel)); }
    @Override public String getString(String columnLabel) throws SQLException { return getString(findColumn(columnLabel)); }
    @Override public byte getByte(String columnLabel) throws SQLException { return getByte(findColumn(columnLabel)); }
    @Override public short getShort(String columnLabel) throws SQLException { return getShort(findColumn(columnLabel)); }
    @Override public int getInt(String columnLabel) throws SQLException { return getInt(findColumn(columnLabel)); }
    @Override public long getLong(String columnLabel) throws SQLException { return getLong(findColumn(columnLabel)); }
    @Override public float getFloat(String columnLabel) throws SQLException { return getFloat(findColumn(columnLabel)); }
    @Override public double getDouble(String columnLabel) throws SQLException { return getDouble(findColumn(columnLabel)); }
    @Override public BigDecimal getBigDecimal(String columnLabel) throws SQLException { return getBigDecimal(findColumn(columnLabel)); }
    @Override public boolean getBoolean(String columnLabel) throws SQLException { return getBoolean(findColumn(columnLabel)); }
    @Override public <T> T getObject(String columnLabel, Class<T> type) throws SQLException { return getObject(findColumn(columnLabel), type); }
}
