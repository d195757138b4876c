package dev.bellows.jdbc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * One recorded parameter setter call. Applying it to server parameter {@code index} repeats the call, so a
 * client parameter can feed several server parameters (dual writes) and be replayed on a statement
 * prepared again after a phase change. Streams can be read once, so those bound twice are read into
 * memory first; see the factories for which are read when.
 */
@FunctionalInterface
interface Binding {
    void apply(PreparedStatement ps, int index) throws SQLException;

    /** A stream setter; a stream can be read once, so a stream bound twice is read into memory first. */
    @FunctionalInterface
    interface StreamSetter<T> {
        void set(PreparedStatement ps, int index, T stream) throws SQLException;
    }

    /**
     * A byte stream pgjdbc reads only at execute ({@code setBinaryStream} with a length): passed through
     * untouched, so a statement prepared again before executing can be handed the same, still unread, stream.
     */
    static Binding bytes(InputStream in, long length, StreamSetter<InputStream> setter) {
        return in == null ? (ps, i) -> setter.set(ps, i, null) : new Bytes(in, length, setter);
    }

    /**
     * A byte stream pgjdbc reads as soon as it is set (ASCII streams, {@code setBlob}, binary streams without
     * a length): read into memory now, about what pgjdbc's own copy costs, so it can be replayed after a
     * phase change.
     */
    static Binding bytesNow(InputStream in, long length, StreamSetter<InputStream> setter) throws SQLException {
        if (in == null) return (ps, i) -> setter.set(ps, i, null);
        Bytes b = new Bytes(in, length, setter);
        b.buffer();
        return b;
    }

    /** A character stream; pgjdbc reads every kind as soon as it is set, so this reads it into memory now. */
    static Binding chars(Reader in, long length, StreamSetter<Reader> setter) throws SQLException {
        if (in == null) return (ps, i) -> setter.set(ps, i, null);
        Chars c = new Chars(in, length, setter);
        c.buffer();
        return c;
    }

    /** A binding whose value can be consumed only once until {@link #buffer()} reads it into memory. */
    interface Buffered extends Binding {
        void buffer() throws SQLException;
    }

    /** A byte stream parameter; passed through untouched unless it must be sent more than once. */
    final class Bytes implements Buffered {
        private final InputStream in;
        private final long length;
        private final StreamSetter<InputStream> setter;
        private byte[] data;

        Bytes(InputStream in, long length, StreamSetter<InputStream> setter) {
            this.in = in;
            this.length = length;
            this.setter = setter;
        }

        @Override public void buffer() throws SQLException {
            if (data != null) return;
            try {
                data = length < 0 ? in.readAllBytes() : in.readNBytes((int) Math.min(length, Integer.MAX_VALUE - 8));
            } catch (IOException e) {
                throw Errors.internal("Bellows could not read a stream parameter it must send twice: " + e.getMessage(), e);
            }
        }

        @Override public void apply(PreparedStatement ps, int index) throws SQLException {
            setter.set(ps, index, data == null ? in : new ByteArrayInputStream(data));
        }
    }

    /** A character stream parameter; passed through untouched unless it must be sent more than once. */
    final class Chars implements Buffered {
        private final Reader in;
        private final long length;
        private final StreamSetter<Reader> setter;
        private String data;

        Chars(Reader in, long length, StreamSetter<Reader> setter) {
            this.in = in;
            this.length = length;
            this.setter = setter;
        }

        @Override public void buffer() throws SQLException {
            if (data != null) return;
            StringBuilder sb = new StringBuilder();
            char[] buf = new char[8192];
            long remaining = length < 0 ? Long.MAX_VALUE : length;
            try {
                for (int n; remaining > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, remaining))) > 0; ) {
                    sb.append(buf, 0, n);
                    remaining -= n;
                }
            } catch (IOException e) {
                throw Errors.internal("Bellows could not read a stream parameter it must send twice: " + e.getMessage(), e);
            }
            data = sb.toString();
        }

        @Override public void apply(PreparedStatement ps, int index) throws SQLException {
            setter.set(ps, index, data == null ? in : new StringReader(data));
        }
    }
}
