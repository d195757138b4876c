package dev.bellows.jdbc;

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.SearchPath;

/**
 * A Bellows connection: every statement it makes rewrites SQL with its configuration's runtime, and it
 * tracks them so closing it closes them. DDL run through it refreshes the catalog once it is committed.
 * {@code unwrap(PGConnection.class)} reaches pgjdbc (COPY, LISTEN/NOTIFY, large objects) without rewriting.
 */
final class ConnectionWrapper extends ForwardingConnection implements BellowsConnection, Rewriter.Session {
    private static final System.Logger LOG = System.getLogger(ConnectionWrapper.class.getName());

    final BellowsRuntime runtime;
    // Statements remove themselves on close, so only open ones are held.
    private final OpenStatements statements = new OpenStatements();
    private volatile boolean closed;
    /** DDL ran inside a transaction not yet committed; refresh the catalog after commit. */
    private boolean ddlPending;
    private DatabaseMetaData rawMetaData;
    private DatabaseMetaDataWrapper metaData;
    private final SessionPath path = new SessionPath();
    // A closed statement's recorded-parameter arrays, for the next statement (see Parameters).
    private final AtomicReference<Parameters> spareParameters = new AtomicReference<>();
    // Recent prepareStatement(sql) requests by the SQL's hash: an application preparing the same statements over
    // and over reuses the request and its plan instead of making them again (both are immutable but for the plan).
    @SuppressWarnings("unchecked")
    private final PrepareRequest<PreparedStatement>[] recentRequests = new PrepareRequest[32];
    // the last rewriter chosen for a path, so that an unchanged path costs two comparisons
    private Rewriter lastBase;
    private SearchPath lastPath;
    private Rewriter lastRewriter;

    private ConnectionWrapper(BellowsRuntime runtime, Connection delegate) {
        super(delegate);
        this.runtime = runtime;
    }

    /** Wraps a new physical connection, reading the catalog first if this configuration never has. */
    static ConnectionWrapper open(BellowsRuntime runtime, Connection raw) throws SQLException {
        try {
            runtime.ensureCatalog(raw);
        } catch (SQLException | RuntimeException e) {
            try {
                raw.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        ConnectionWrapper c = new ConnectionWrapper(runtime, raw);
        if (!runtime.rules().isEmpty()) c.path.get(raw); // now, outside any transaction of the application's
        return c;
    }

    /**
     * The rewriter for {@code sql} on this connection: {@code state}'s, looking unqualified table names up along
     * this session's search path when {@code sql} may name a managed column or table.
     */
    Rewriter rewriter(BellowsRuntime.State state, String sql) {
        Rewriter r = state.rewriter;
        if (sql == null || !r.mayMention(sql)) return r;
        return pathRewriter(state);
    }

    /** {@code state}'s rewriter for this session's search path (its own when the path cannot be read). */
    Rewriter pathRewriter(BellowsRuntime.State state) {
        return rewriterFor(state.rewriter);
    }

    /** {@code sql} rewritten under {@code state}: a statement naming nothing managed costs no look at the search path. */
    Rewrite rewrite(BellowsRuntime.State state, String sql) throws SQLException {
        return BellowsRuntime.rewrite(state.rewriter, sql, this);
    }

    @Override public Rewriter rewriterFor(Rewriter base) {
        SearchPath p = path.get(delegate);
        if (base == lastBase && p == lastPath) return lastRewriter;
        Rewriter r = base.withSearchPath(p);
        lastBase = base;
        lastPath = p;
        lastRewriter = r;
        return r;
    }

    /** Before a statement: with bellows.flags.mode=check, stale phases are read again on this connection first. */
    void followFlags() {
        dev.bellows.flags.FlagCheck c = runtime.flagCheck;
        if (c != null) c.beforeStatement(delegate);
    }

    /** A statement ran: DDL refreshes the catalog; anything that may change the search path has it read again. */
    void executed(Rewrite r) throws SQLException {
        executed(r.kind() == Rewrite.Kind.DDL, r.mayChangeSearchPath());
    }

    void executed(boolean ddl, boolean mayChangePath) throws SQLException {
        path.executed(mayChangePath, delegate);
        if (ddl) ddlExecuted();
    }

    @Override public BellowsRuntime runtime() {
        return runtime;
    }

    @Override public void refreshCatalog() throws SQLException {
        runtime.refresh(delegate);
    }

    private <T extends AbstractStatementWrapper<?>> T track(T statement) throws SQLException {
        statements.add(statement);
        if (closed) { // closed meanwhile by another thread, whose drain may have missed this one
            statements.remove(statement);
            statement.closeByConnection();
            throw new SQLException("This connection has been closed.", "08003");
        }
        return statement;
    }

    void forget(AbstractStatementWrapper<?> statement) {
        statements.remove(statement);
    }

    @Override public Statement createStatement() throws SQLException {
        return track(new StatementWrapper(this, delegate.createStatement(), true));
    }

    @Override public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return track(new StatementWrapper(this, delegate.createStatement(resultSetType, resultSetConcurrency), true));
    }

    @Override public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability)
        throws SQLException {
        return track(new StatementWrapper(this, delegate.createStatement(resultSetType, resultSetConcurrency,
            resultSetHoldability), true));
    }

    @Override public PreparedStatement prepareStatement(String sql) throws SQLException {
        if (sql == null) throw new NullPointerException("sql");
        int slot = sql.hashCode() & (recentRequests.length - 1);
        PrepareRequest<PreparedStatement> q = recentRequests[slot];
        if (q == null || !q.sql.equals(sql)) recentRequests[slot] = q = new PrepareRequest<>(sql, null, PREPARE);
        return prepare(q);
    }

    private static final PrepareRequest.Preparer<PreparedStatement> PREPARE = Connection::prepareStatement;

    /** Recorded-parameter arrays for a statement's first setter: a closed statement's, or new ones. */
    Parameters takeParameters() {
        Parameters p = spareParameters.getAndSet(null);
        return p != null ? p : new Parameters();
    }

    void giveBack(Parameters p) {
        p.clear();
        spareParameters.lazySet(p);
    }

    @Override public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
        throws SQLException {
        return prepare(new PrepareRequest<>(sql, null, (c, s) -> c.prepareStatement(s, resultSetType, resultSetConcurrency)));
    }

    @Override public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
                                                        int resultSetHoldability) throws SQLException {
        return prepare(new PrepareRequest<>(sql, null,
            (c, s) -> c.prepareStatement(s, resultSetType, resultSetConcurrency, resultSetHoldability)));
    }

    @Override public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        String[] keys = autoGeneratedKeys == Statement.RETURN_GENERATED_KEYS ? GeneratedKeys.ALL : null;
        return prepare(new PrepareRequest<>(sql, keys, (c, s) -> c.prepareStatement(s, autoGeneratedKeys)));
    }

    @Override public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return prepare(new PrepareRequest<>(sql, null, (c, s) -> c.prepareStatement(s, columnIndexes)));
    }

    @Override public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        String[] keys = columnNames == null || columnNames.length == 0 ? null : columnNames.clone();
        return prepare(new PrepareRequest<>(sql, keys, (c, s) -> c.prepareStatement(s, columnNames)));
    }

    @Override public CallableStatement prepareCall(String sql) throws SQLException {
        return prepareCall(new PrepareRequest<>(sql, null, Connection::prepareCall));
    }

    @Override public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency)
        throws SQLException {
        return prepareCall(new PrepareRequest<>(sql, null, (c, s) -> c.prepareCall(s, resultSetType, resultSetConcurrency)));
    }

    @Override public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency,
                                                   int resultSetHoldability) throws SQLException {
        return prepareCall(new PrepareRequest<>(sql, null,
            (c, s) -> c.prepareCall(s, resultSetType, resultSetConcurrency, resultSetHoldability)));
    }

    private PreparedStatement prepare(PrepareRequest<PreparedStatement> request) throws SQLException {
        PrepareRequest.Prepared plan = request.plan(runtime.state(), this);
        return track(new PreparedStatementWrapper(this, request.open(delegate, plan), request, plan));
    }

    private CallableStatement prepareCall(PrepareRequest<CallableStatement> request) throws SQLException {
        PrepareRequest.Prepared plan = request.plan(runtime.state(), this);
        return track(new CallableStatementWrapper(this, request.open(delegate, plan), request, plan));
    }

    @Override public String nativeSQL(String sql) throws SQLException {
        return delegate.nativeSQL(rewrite(runtime.state(), sql).sql());
    }

    @Override public DatabaseMetaData getMetaData() throws SQLException {
        DatabaseMetaData raw = delegate.getMetaData();
        if (raw != rawMetaData) {
            rawMetaData = raw;
            metaData = new DatabaseMetaDataWrapper(this, raw);
        }
        return metaData;
    }

    /**
     * DDL ran successfully. With auto-commit it is visible now, so the catalog is read again at once;
     * inside a transaction the read waits for commit, since a rollback would undo the change.
     */
    void ddlExecuted() throws SQLException {
        if (delegate.getAutoCommit()) {
            refreshAfterDdl();
        } else {
            ddlPending = true;
        }
    }

    // The DDL itself succeeded, so a failed refresh is logged, not thrown: the application must not think
    // its change failed. The catalog stays as it was until the next DDL or refreshCatalog().
    private void refreshAfterDdl() {
        try {
            runtime.refresh(delegate);
            if (!delegate.getAutoCommit()) delegate.rollback(); // end the transaction the catalog read opened
            Runtimes.refreshSameDatabase(runtime);
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.WARNING, "Bellows could not refresh its catalog after DDL; "
                + "call BellowsConnection.refreshCatalog() once the database is reachable", e);
        }
    }

    @Override public void commit() throws SQLException {
        delegate.commit();
        path.transactionChanged(delegate);
        if (ddlPending) {
            ddlPending = false;
            refreshAfterDdl();
        }
    }

    @Override public void rollback() throws SQLException {
        ddlPending = false;
        delegate.rollback();
        path.transactionChanged(delegate);
    }

    @Override public void rollback(Savepoint savepoint) throws SQLException {
        // The DDL may have run before the savepoint; keep the refresh pending, a spare read is harmless.
        delegate.rollback(savepoint);
        path.transactionChanged(delegate);
    }

    @Override public void setAutoCommit(boolean autoCommit) throws SQLException {
        boolean committing = autoCommit && !delegate.getAutoCommit();
        delegate.setAutoCommit(autoCommit);
        if (committing) path.transactionChanged(delegate);
        if (committing && ddlPending) {
            ddlPending = false;
            refreshAfterDdl();
        }
    }

    /** Idempotent: closes this connection's open statements, then the physical connection. */
    @Override public void close() throws SQLException {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        List<AbstractStatementWrapper<?>> open = statements.drain();
        SQLException failure = null;
        for (AbstractStatementWrapper<?> s : open) {
            try {
                s.closeByConnection();
            } catch (SQLException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        try {
            delegate.close();
        } catch (SQLException e) {
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure != null) throw failure;
    }

    /** Number of open statements; for tests. */
    int openStatements() {
        return statements.size();
    }

    @Override public String toString() {
        return "Bellows:" + delegate;
    }
}
