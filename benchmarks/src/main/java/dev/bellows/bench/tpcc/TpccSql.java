package dev.bellows.bench.tpcc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * SQL for {@code benchmarks/tpcc/run.sh} where no {@code psql} is installed. Arguments after the URL, in order:
 * <ul>
 *   <li>{@code -f FILE}: the file in one transaction (a plan step marked {@code -- bellows-run: transaction});</li>
 *   <li>{@code -e SQL}: one statement in auto-commit, its rows printed;</li>
 *   <li>{@code -x SQL}: on a {@code jdbc:bellows:} URL, the statement as Bellows sends it ({@code nativeSQL}),
 *       then {@code EXPLAIN (ANALYZE, BUFFERS)} of that text five times on the same server connection, each in a
 *       transaction rolled back, the last plan printed (so a write changes nothing).</li>
 * </ul>
 */
public final class TpccSql {
    private TpccSql() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length % 2 == 0) {
            System.err.println("usage: TpccSql URL (-f FILE | -e SQL | -x SQL)...");
            System.exit(2);
        }
        try (Connection c = DriverManager.getConnection(args[0])) {
            for (int i = 1; i < args.length; i += 2) {
                switch (args[i]) {
                    case "-f" -> file(c, Path.of(args[i + 1]));
                    case "-e" -> statement(c, args[i + 1]);
                    case "-x" -> explain(c, args[i + 1]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
        }
    }

    private static void file(Connection c, Path file) throws Exception {
        String sql = Files.readString(file);
        if (!sql.contains("-- bellows-run: transaction")) {
            throw new IllegalArgumentException(file + " is not marked '-- bellows-run: transaction'");
        }
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute(sql); // pgjdbc splits the statements (dollar quotes included) and sends them in order
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
        System.out.println("applied " + file);
    }

    private static void statement(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            boolean rows = s.execute(sql);
            while (true) {
                if (rows) {
                    print(s.getResultSet());
                } else if (s.getUpdateCount() < 0) {
                    break;
                }
                rows = s.getMoreResults();
            }
        }
    }

    private static void explain(Connection c, String sql) throws SQLException {
        String sent = c.nativeSQL(sql);
        System.out.println("-- application: " + sql);
        System.out.println("-- sent:        " + sent);
        Connection raw = c.isWrapperFor(org.postgresql.PGConnection.class)
            ? c.unwrap(org.postgresql.PGConnection.class) instanceof Connection pg ? pg : c : c;
        raw.setAutoCommit(false);
        try (Statement s = raw.createStatement()) {
            for (int i = 0; i < 5; i++) {
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS) " + sent)) {
                    while (rs.next()) plan.append(rs.getString(1)).append('\n');
                }
                raw.rollback();
                if (i == 4) System.out.print(plan);
            }
        } finally {
            raw.setAutoCommit(true);
        }
    }

    private static void print(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
            StringBuilder line = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                if (i > 1) line.append(" | ");
                line.append(rs.getString(i));
            }
            System.out.println(line);
        }
        rs.close();
    }
}
