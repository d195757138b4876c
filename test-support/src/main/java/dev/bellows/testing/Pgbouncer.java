package dev.bellows.testing;

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.opentest4j.TestAbortedException;

/**
 * A real pgbouncer in {@code pool_mode=transaction} in front of this JVM's {@link PostgresFixture} server, started on
 * a free loopback port on first use and stopped at JVM exit. Every database of the server is reachable through it
 * (a {@code *} entry), with the fixture's user and password.
 *
 * <p>The binary is {@code -Dbellows.pgbouncer=PATH} or {@code BELLOWS_PGBOUNCER}, else {@code pgbouncer} on the
 * {@code PATH} or in {@code /usr/sbin} (Debian's package). Without one, {@link #get()} aborts the calling test with
 * a warning on the build's stderr, so it is reported as skipped, never as passed; under {@code CI=true}, or when the
 * path was given, its absence is a failure ({@code .ci/run} installs the package).
 */
public final class Pgbouncer {
    static final String PROPERTY = "bellows.pgbouncer";
    static final String ENV = "BELLOWS_PGBOUNCER";
    /** Server connections per database and user: small, so a concurrent load really shares them. */
    public static final int POOL_SIZE = 4;
    /** Searched after the PATH: a non-root user's PATH often lacks Debian's /usr/sbin. */
    static final List<Path> SYSTEM_DIRS = List.of(Path.of("/usr/sbin"));
    private static final int PORT_ATTEMPTS = 3;
    private static final long START_MILLIS = 15_000;

    private static Pgbouncer instance;
    private static RuntimeException failure;
    private static boolean warned;

    private final PostgresFixture server;
    private final Path dir;
    private final Path log;
    private final int port;
    private final Process process;

    private Pgbouncer(PostgresFixture server, Path dir, int port, Process process) {
        this.server = server;
        this.dir = dir;
        this.log = dir.resolve("pgbouncer.log");
        this.port = port;
        this.process = process;
    }

    /**
     * This JVM's pgbouncer, starting it (and the PostgreSQL fixture) on first use. Aborts the calling test when no
     * binary is installed and none is required; fails when one is required (CI) or when it does not start.
     */
    public static synchronized Pgbouncer get() {
        if (instance != null) return instance;
        if (failure != null) throw new IllegalStateException("pgbouncer failed to start earlier in this JVM", failure);
        Location where = Location.resolve(System.getProperty(PROPERTY), System.getenv(ENV), System.getenv("CI"),
            System.getenv("PATH"), SYSTEM_DIRS);
        if (where.problem() != null) {
            if (where.required()) throw new IllegalStateException(where.problem());
            if (!warned) {
                warned = true;
                // Past Surefire's output redirection, so the reason shows in the build log beside "Skipped".
                new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8)
                    .println("[WARNING] " + where.problem());
            }
            throw new TestAbortedException(where.problem());
        }
        try {
            instance = start(where.binary(), PostgresFixture.get());
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
        return instance;
    }

    /** Where the binary is, whether its absence is an error, and if absent what to tell the developer. */
    record Location(Path binary, boolean required, String problem) {
        static Location resolve(String property, String env, String ci, String path, List<Path> systemDirs) {
            String given = notBlank(property) ? property : notBlank(env) ? env : null;
            if (given != null) {
                Path p = Path.of(given.trim());
                return Files.isExecutable(p) ? new Location(p, true, null) : new Location(null, true,
                    "pgbouncer not found: " + p + " (from " + (notBlank(property) ? "-D" + PROPERTY : ENV) + ") is not executable");
            }
            List<Path> candidates = new ArrayList<>();
            if (path != null) {
                for (String d : path.split(File.pathSeparator)) if (!d.isBlank()) candidates.add(Path.of(d, "pgbouncer"));
            }
            for (Path d : systemDirs) candidates.add(d.resolve("pgbouncer"));
            for (Path p : candidates) if (Files.isExecutable(p)) return new Location(p, false, null);
            boolean onCi = ci != null && "true".equalsIgnoreCase(ci.trim());
            return new Location(null, onCi, (onCi ? "CI=true but " : "") + "pgbouncer is not installed (not on the PATH nor in"
                + " /usr/sbin), so the transaction-pooling tests did not run. Install it (Debian: apt-get install -y pgbouncer;"
                + " .ci/run does that) or point -D" + PROPERTY + "=PATH / " + ENV + " at the binary.");
        }

        private static boolean notBlank(String s) {
            return s != null && !s.isBlank();
        }
    }

    private static Pgbouncer start(Path binary, PostgresFixture server) {
        if (server.user() == null || server.password() == null) {
            throw new IllegalStateException("pgbouncer needs the server's user and password for its auth file, but "
                + server + " has none (BELLOWS_TEST_USER / BELLOWS_TEST_PASSWORD)");
        }
        URI target = URI.create(server.jdbcUrl().substring("jdbc:".length()));
        IllegalStateException last = null;
        // Another process can take the probed port before pgbouncer binds it; a fresh port fixes that.
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            Path dir;
            try {
                dir = Files.createTempDirectory("bellows-pgbouncer", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int port = freePort();
            Pgbouncer b = launch(binary, server, target, dir, port);
            try {
                b.awaitReady();
                Runtime.getRuntime().addShutdownHook(new Thread(b::stop, "bellows-pgbouncer-stop"));
                return b;
            } catch (IllegalStateException e) {
                b.stop();
                last = e;
            }
        }
        throw last;
    }

    private static Pgbouncer launch(Path binary, PostgresFixture server, URI target, Path dir, int port) {
        Path ini = dir.resolve("pgbouncer.ini");
        Path users = dir.resolve("userlist.txt");
        try {
            Files.writeString(users, quoted(server.user()) + " " + quoted(server.password()) + "\n");
            Files.writeString(ini, String.join("\n",
                "[databases]",
                "* = host=" + target.getHost() + " port=" + target.getPort(),
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                // No unix socket: nothing here uses one, and it would land in the shared /tmp.
                "unix_socket_dir =",
                "auth_type = scram-sha-256",
                "auth_file = " + users,
                "pool_mode = transaction",
                "default_pool_size = " + POOL_SIZE,
                "max_client_conn = 500",
                // pgjdbc sends extra_float_digits at start-up; pgbouncer refuses unknown start-up parameters.
                "ignore_startup_parameters = extra_float_digits",
                "server_login_retry = 1",
                // A client waiting this long for a server connection fails instead of hanging a test.
                "query_wait_timeout = 20",
                "log_connections = 0",
                "log_disconnections = 0",
                ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>();
        // pgbouncer refuses to run as root. As with the embedded server, an unmapped user namespace makes it see
        // itself as nobody while the kernel still checks file access as the real user; nothing is installed.
        if (isRoot()) command.addAll(List.of("unshare", "-U"));
        command.add(binary.toString());
        command.add(ini.toString());
        try {
            Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("pgbouncer.log").toFile()))
                .start();
            return new Pgbouncer(server, dir, port, p);
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }

    // A login through pgbouncer to the server's default database proves the whole path: listener, auth file, server.
    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
        SQLException last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgbouncer exited with " + process.exitValue() + " on port " + port
                    + "; its log " + log + ":\n" + tail());
            }
            Properties p = new Properties();
            p.setProperty("user", server.user());
            p.setProperty("password", server.password());
            p.setProperty("connectTimeout", "2");
            try (Connection c = DriverManager.getConnection(url("postgres"), p)) {
                c.createStatement().execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for pgbouncer", e);
            }
        }
        throw new IllegalStateException("pgbouncer on port " + port + " accepted no login within " + START_MILLIS
            + " ms (" + (last == null ? "no attempt" : last.getMessage()) + "); its log " + log + ":\n" + tail(), last);
    }

    /** The loopback port pgbouncer listens on. */
    public int port() {
        return port;
    }

    /**
     * A plain {@code jdbc:postgresql:} URL of {@code database} through pgbouncer, with {@code prepareThreshold=0}
     * (pgbouncer 1.18 in transaction mode cannot keep named server-side prepared statements).
     */
    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?prepareThreshold=0";
    }

    /** The same database as {@code directUrl} (a URL of the fixture's server, as createDatabase returns), through pgbouncer. */
    public String behind(String directUrl) {
        String head = directUrl.contains("?") ? directUrl.substring(0, directUrl.indexOf('?')) : directUrl;
        return url(head.substring(head.lastIndexOf('/') + 1));
    }

    /** The last lines of pgbouncer's log, for failure messages. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temporary directory is harmless
        }
    }

    @Override
    public String toString() {
        return "Pgbouncer[127.0.0.1:" + port + " -> " + server + "]";
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static boolean isRoot() {
        return System.getProperty("os.name", "").startsWith("Linux")
            && new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
