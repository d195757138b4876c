package dev.bellows.jdbc;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * The client parameter setters a prepared statement received, by index, kept so they can be applied again: to a
 * second server parameter (dual writes), to a statement prepared again after a phase change, to a shadow copy.
 * The common setters are kept as a kind and a value, not as a {@link Binding}, so recording them allocates nothing
 * once the arrays exist; a connection hands a closed statement's instance to its next statement.
 */
final class Parameters {
    static final byte UNSET = 0, BINDING = 1, STRING = 2, OBJECT = 3, INT = 4, LONG = 5, NULL = 6, BOOLEAN = 7,
        DOUBLE = 8, BIG_DECIMAL = 9, TIMESTAMP = 10, DATE = 11, SHORT = 12, FLOAT = 13, BYTES = 14, TIME = 15, BYTE = 16;

    private byte[] kinds = new byte[8];
    private Object[] refs = new Object[8];
    private long[] prims = new long[8];
    /** Highest client index set, 0 when none. */
    private int size;

    int size() { return size; }

    boolean isSet(int index) { return index <= size && kinds[index - 1] != UNSET; }

    void set(int index, byte kind, Object ref, long prim) {
        if (index > kinds.length) {
            int n = Math.max(index, kinds.length * 2);
            kinds = Arrays.copyOf(kinds, n);
            refs = Arrays.copyOf(refs, n);
            prims = Arrays.copyOf(prims, n);
        }
        kinds[index - 1] = kind;
        refs[index - 1] = ref;
        prims[index - 1] = prim;
        if (index > size) size = index;
    }

    /** The recorded binding at {@code index} when it is one (streams and rarer setters), else null. */
    Binding binding(int index) {
        return kinds[index - 1] == BINDING ? (Binding) refs[index - 1] : null;
    }

    void clear() {
        Arrays.fill(kinds, 0, size, UNSET);
        Arrays.fill(refs, 0, size, null); // hold no application value past its statement
        size = 0;
    }

    Parameters copy() {
        Parameters p = new Parameters();
        p.kinds = Arrays.copyOf(kinds, Math.max(size, 1));
        p.refs = Arrays.copyOf(refs, Math.max(size, 1));
        p.prims = Arrays.copyOf(prims, Math.max(size, 1));
        p.size = size;
        return p;
    }

    /** Applies client parameter {@code index}'s setter to server parameter {@code server} of {@code ps}. */
    void apply(PreparedStatement ps, int index, int server) throws SQLException {
        apply(ps, server, kinds[index - 1], refs[index - 1], prims[index - 1]);
    }

    /** One setter call: {@code kind} with its value, on parameter {@code i} of {@code ps}. */
    static void apply(PreparedStatement ps, int i, byte kind, Object ref, long prim) throws SQLException {
        switch (kind) {
            case STRING: ps.setString(i, (String) ref); break;
            case OBJECT: ps.setObject(i, ref); break;
            case INT: ps.setInt(i, (int) prim); break;
            case LONG: ps.setLong(i, prim); break;
            case NULL: ps.setNull(i, (int) prim); break;
            case BOOLEAN: ps.setBoolean(i, prim != 0); break;
            case DOUBLE: ps.setDouble(i, Double.longBitsToDouble(prim)); break;
            case BIG_DECIMAL: ps.setBigDecimal(i, (BigDecimal) ref); break;
            case TIMESTAMP: ps.setTimestamp(i, (java.sql.Timestamp) ref); break;
            case DATE: ps.setDate(i, (java.sql.Date) ref); break;
            case SHORT: ps.setShort(i, (short) prim); break;
            case FLOAT: ps.setFloat(i, Float.intBitsToFloat((int) prim)); break;
            case BYTES: ps.setBytes(i, (byte[]) ref); break;
            case TIME: ps.setTime(i, (java.sql.Time) ref); break;
            case BYTE: ps.setByte(i, (byte) prim); break;
            case BINDING: ((Binding) ref).apply(ps, i); break;
            default: throw new SQLException("No value specified for parameter " + i + ".", "22023");
        }
    }
}
