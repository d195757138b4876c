package dev.bellows.workflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Runs a script written by {@link PlanWriter} the way its header says: the whole file in one transaction, or
 * statement by statement with auto-commit (for {@code CREATE INDEX CONCURRENTLY} and lock-by-lock steps).
 */
public final class ScriptRunner {
    private ScriptRunner() {
    }

    /** Runs the file on {@code c}, restoring the connection's auto-commit setting afterwards. */
    public static void run(Connection c, Path file) throws IOException, SQLException {
        String script = Files.readString(file, StandardCharsets.UTF_8);
        boolean transactional = !script.contains(PlanWriter.RUN_MARKER + "autocommit");
        run(c, script, transactional);
    }

    /** Runs {@code script} in one transaction or statement by statement. */
    public static void run(Connection c, String script, boolean transactional) throws SQLException {
        boolean auto = c.getAutoCommit();
        try {
            c.setAutoCommit(!transactional);
            try (Statement st = c.createStatement()) {
                for (String sql : SqlText.statements(script)) {
                    st.execute(sql);
                }
                if (transactional) c.commit();
            } catch (SQLException | RuntimeException e) {
                if (transactional) c.rollback();
                throw e;
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
