package dev.bellows.bench.tpcc;

import dev.bellows.testing.PostgresFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The embedded PostgreSQL of the test fixture, kept running for a BenchBase run ({@code benchmarks/tpcc/run.sh}):
 * starts it, creates a fresh database, prints its URL and writes a shell-sourceable file with the URL, the
 * credentials, the postmaster's pid (its children's CPU time is the server CPU of backends that ended) and the
 * server log; then waits until killed, when the fixture's shutdown hook stops the server and deletes its data.
 *
 * <pre>./mvnw -q -B -pl benchmarks exec:exec@pg -Dpg.env=/tmp/tpcc-pg.env</pre>
 */
public final class TpccServer {
    private TpccServer() {
    }

    public static void main(String[] args) throws Exception {
        String envFile = args.length > 0 ? args[0] : System.getProperty("pg.env", "tpcc-pg.env");
        PostgresFixture f = PostgresFixture.get();
        String url = f.createDatabase("tpcc");
        String postmaster;
        String log;
        try (Connection c = f.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), current_setting('data_directory'), version()")) {
            rs.next();
            postmaster = parentOf(rs.getLong(1));
            log = rs.getString(2) + ".log";
            System.out.println("server: " + rs.getString(3));
        }
        String env = "PG_URL='" + url + "'\n"
            + "PG_USER='" + f.user() + "'\n"
            + "PG_PASSWORD='" + f.password() + "'\n"
            + "PG_POSTMASTER_PID=" + postmaster + "\n"
            + "PG_LOG='" + log + "'\n"
            + "PG_SERVER_PID=" + ProcessHandle.current().pid() + "\n";
        Path target = Path.of(envFile).toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, env);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("url: " + url + " (user " + f.user() + ")");
        System.out.println("environment in " + target + "; stop with kill " + ProcessHandle.current().pid());
        Thread.currentThread().join(); // until SIGTERM: the fixture's shutdown hook stops the server
    }

    private static String parentOf(long pid) throws IOException, SQLException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("PPid:")) return line.substring(5).trim();
        }
        throw new SQLException("no PPid in /proc/" + pid + "/status");
    }
}
