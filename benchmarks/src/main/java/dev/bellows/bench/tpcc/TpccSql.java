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
 *       transaction rolled back, the last plan printed (so a write changes nothing);</li>
 *   <li>{@code -c SQL}: on a {@code jdbc:bellows:} URL, the statement as written and as Bellows sends it, each run
 *       under {@code EXPLAIN (ANALYZE, BUFFERS)} 200 times in alternation (each in a transaction rolled back); the
 *       median execution and planning times of each.</li>
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
                    case "-c" -> compare(c, args[i + 1]);
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

    private static void compare(Connection c, String sql) throws SQLException {
        String sent = c.nativeSQL(sql);
        Connection raw = c.unwrap(org.postgresql.PGConnection.class) instanceof Connection pg ? pg : c;
        raw.setAutoCommit(false);
        int n = 200;
        double[][] exec = new double[2][n];
        double[][] plan = new double[2][n];
        try (Statement s = raw.createStatement()) {
            for (int i = 0; i < n; i++) {
                for (int v = 0; v < 2; v++) {
                    try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS) " + (v == 0 ? sql : sent))) {
                        while (rs.next()) {
                            String line = rs.getString(1).trim();
                            if (line.startsWith("Execution Time:")) exec[v][i] = ms(line);
                            if (line.startsWith("Planning Time:")) plan[v][i] = ms(line);
                        }
                    }
                    raw.rollback();
                }
            }
        } finally {
            raw.setAutoCommit(true);
        }
        System.out.printf("-- %s%n   as written: execution median %.1f us, planning %.1f us%n", sql, median(exec[0]) * 1000, median(plan[0]) * 1000);
        System.out.printf("-- %s%n   as sent:    execution median %.1f us, planning %.1f us%n", sent, median(exec[1]) * 1000, median(plan[1]) * 1000);
    }

    private static double ms(String line) {
        return Double.parseDouble(line.replaceAll("[^0-9.]", ""));
    }

    private static double median(double[] a) {
        double[] b = a.clone();
        java.util.Arrays.sort(b);
        return b.length % 2 == 1 ? b[b.length / 2] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2;
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
