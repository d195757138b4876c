package dev.bellows.jdbc;

import java.sql.Statement;

/** A plain Bellows statement: SQL is rewritten at each execute with the rewriter current then. */
final class StatementWrapper extends AbstractStatementWrapper<Statement> {
    /** @param tracked false for statements pgjdbc made internally (metadata), which the application never closes */
    StatementWrapper(ConnectionWrapper connection, Statement delegate, boolean tracked) {
        super(connection, delegate, tracked);
    }
}
