package dev.bellows.jdbc;

import java.sql.SQLException;

/**
 * Bellows' own SQLStates and the exceptions that carry them.
 *
 * <p>Bellows reports its own failures in the class {@code BW}, which no SQL standard or PostgreSQL class
 * uses. Pools treat class {@code 08} (connection exception) and {@code 0A000} (feature not supported) as a
 * broken connection and evict it; a bad rules file or a failed catalog query says nothing about the
 * connection, so it must never look like either. Failures of PostgreSQL itself keep pgjdbc's SQLState.
 */
final class Errors {
    /** Something inside Bellows failed (e.g. a stream parameter could not be read for a dual write). */
    static final String INTERNAL = "BW000";
    /** Bad configuration: a missing or invalid rules file, an unknown or malformed {@code bellows.*} setting. */
    static final String CONFIG = "BW001";
    /** The catalog of managed tables could not be read from the database. */
    static final String CATALOG = "BW002";
    /**
     * A statement Bellows will not send: after an old column was dropped the server would accept it but read
     * it differently from the old schema (see {@code Rewrite.rejection()}).
     */
    static final String REJECTED = "BW003";
    /** pgjdbc's state for a parameter index out of range; kept so callers see what pgjdbc would report. */
    static final String INVALID_PARAMETER_VALUE = "22023";

    private Errors() {
    }

    static SQLException config(String message, Throwable cause) {
        return new SQLException(message, CONFIG, cause);
    }

    static SQLException catalog(String message, Throwable cause) {
        return new SQLException(message, CATALOG, cause);
    }

    static SQLException rejected(String message) {
        return new SQLException(message, REJECTED);
    }

    static SQLException internal(String message, Throwable cause) {
        return new SQLException(message, INTERNAL, cause);
    }
}
