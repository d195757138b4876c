package dev.bellows.testing;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** The one PostgreSQL server a test JVM uses (external, Testcontainers or embedded); tests isolate by database. */
public final class PostgresFixture {

  private static final String URL_PREFIX = "jdbc:postgresql://";

  private static PostgresFixture instance;
  private static RuntimeException failure;

  private final String kind;
  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final Embedded embedded;
  private final String runId = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicInteger databases = new AtomicInteger();

  private PostgresFixture(String kind, String jdbcUrl, String user, String password, Embedded embedded) {
    this.kind = kind;
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.embedded = embedded;
  }

  /** Returns this JVM's server, starting it on first use. */
  public static synchronized PostgresFixture get() {
    if (instance == null) {
      // A failed start is remembered so every later test fails fast with the original cause, not a new timeout.
      if (failure != null) {
        throw new IllegalStateException("PostgreSQL test fixture failed to start earlier in this JVM", failure);
      }
      try {
        instance = create();
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
    return instance;
  }

  // An explicit server wins so CI or a developer can pin one; Docker next because a stock image needs no root trick;
  // embedded last because it needs nothing but this jar.
  private static PostgresFixture create() {
    String url = setting("BELLOWS_TEST_JDBC_URL");
    if (url != null) {
      if (!url.startsWith(URL_PREFIX)) {
        throw new IllegalArgumentException("BELLOWS_TEST_JDBC_URL must start with " + URL_PREFIX + ": " + url);
      }
      return new PostgresFixture("external", url, setting("BELLOWS_TEST_USER"), setting("BELLOWS_TEST_PASSWORD"), null);
    }
    if (Containers.available()) {
      return Containers.start();
    }
    Embedded embedded = Embedded.launch();
    return new PostgresFixture("embedded", embedded.jdbcUrl(), Embedded.USER, Embedded.PASSWORD, embedded);
  }

  private static String setting(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      value = System.getenv(name);
    }
    return value == null || value.isBlank() ? null : value.trim();
  }

  /** "external", "testcontainers" or "embedded". */
  public String kind() {
    return kind;
  }

  /** Plain {@code jdbc:postgresql://} URL of the server's default database. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** User to connect as; null for an external server whose URL carries its own. */
  public String user() {
    return user;
  }

  /** Password to connect with; may be null for an external server. */
  public String password() {
    return password;
  }

  /** Creates a fresh, uniquely named database and returns its JDBC URL. */
  public String createDatabase(String prefix) {
    String name = databaseName(prefix);
    try (Connection c = connect(jdbcUrl); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("could not create database " + name + " on " + jdbcUrl, e);
    }
    return withDatabase(jdbcUrl, name);
  }

  // Names stay unique across JVMs too, since an external server may be shared by parallel builds.
  private String databaseName(String prefix) {
    String clean = (prefix == null ? "" : prefix).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (clean.isEmpty() || !Character.isLetter(clean.charAt(0))) {
      clean = "t_" + clean;
    }
    if (clean.length() > 40) {
      clean = clean.substring(0, 40);
    }
    return clean + "_" + runId + "_" + databases.incrementAndGet();
  }

  static String withDatabase(String url, String database) {
    int query = url.indexOf('?');
    String head = query < 0 ? url : url.substring(0, query);
    String tail = query < 0 ? "" : url.substring(query);
    int slash = head.indexOf('/', URL_PREFIX.length());
    return (slash < 0 ? head : head.substring(0, slash)) + "/" + database + tail;
  }

  /** Opens a connection to the given URL with the fixture's credentials. */
  public Connection connect(String jdbcUrl) throws SQLException {
    Properties props = new Properties();
    if (user != null) {
      props.setProperty("user", user);
    }
    if (password != null) {
      props.setProperty("password", password);
    }
    return DriverManager.getConnection(jdbcUrl, props);
  }

  /** A non-pooling DataSource for the given URL with the fixture's credentials. */
  public DataSource dataSource(String jdbcUrl) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(jdbcUrl);
    if (user != null) {
      ds.setUser(user);
    }
    if (password != null) {
      ds.setPassword(password);
    }
    return ds;
  }

  /** Stops the embedded server, keeping its port and data, so tests can see the database unreachable. */
  public void stop() {
    requireEmbedded("stop()").stop();
  }

  /** Starts the embedded server again on the same port and data directory after {@link #stop()}. */
  public void start() {
    requireEmbedded("start()").start();
  }

  /** Whether the server preloads pg_stat_statements, so tests can CREATE EXTENSION it. */
  public boolean hasPgStatStatements() {
    try (Connection c = connect(jdbcUrl);
         Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT current_setting('shared_preload_libraries')")) {
      rs.next();
      return rs.getString(1).contains("pg_stat_statements");
    } catch (SQLException e) {
      throw new IllegalStateException("could not read shared_preload_libraries from " + jdbcUrl, e);
    }
  }

  private Embedded requireEmbedded(String operation) {
    if (embedded == null) {
      throw new UnsupportedOperationException(operation + " needs the embedded server, but this JVM uses the "
          + kind + " one (" + jdbcUrl + "); unset BELLOWS_TEST_JDBC_URL and stop Docker to get the embedded server,"
          + " or skip the test with Assumptions.assumeTrue(fixture.kind().equals(\"embedded\"))");
    }
    return embedded;
  }

  @Override
  public String toString() {
    return "PostgresFixture[" + kind + " " + jdbcUrl + "]";
  }

  /** Starts a throwaway postgres container; Testcontainers classes load only once a Docker engine looks configured. */
  private static final class Containers {

    static boolean available() {
      if (!dockerConfigured()) {
        return false;
      }
      try {
        return DockerClientFactory.instance().isDockerAvailable();
      } catch (RuntimeException | LinkageError e) {
        return false;
      }
    }

    // Without this, isDockerAvailable() walks every provider strategy and logs a wall of errors on machines that
    // have no engine at all (CI here); every strategy needs one of these to exist, so checking them is enough.
    private static boolean dockerConfigured() {
      if (System.getProperty("os.name", "").startsWith("Windows") || System.getenv("DOCKER_HOST") != null) {
        return true;
      }
      String home = System.getProperty("user.home");
      String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
      List<Path> candidates = List.of(
          Path.of("/var/run/docker.sock"),
          Path.of(home, ".docker", "run", "docker.sock"),
          Path.of(home, ".docker", "desktop", "docker.sock"),
          Path.of(home, ".testcontainers.properties"),
          Path.of(runtimeDir == null ? "/nonexistent" : runtimeDir, "docker.sock"));
      return candidates.stream().anyMatch(Files::exists);
    }

    static PostgresFixture start() {
      PostgreSQLContainer container = new PostgreSQLContainer(DockerImageName.parse("postgres:16-alpine"))
          .withDatabaseName("postgres")
          .withUsername(Embedded.USER)
          .withPassword(Embedded.PASSWORD)
          .withCommand("postgres", "-c", "fsync=off", "-c", "max_connections=300",
              "-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.max=" + Embedded.PGSS_MAX);
      container.start();
      // Ryuk reaps it too; stopping here just frees it sooner.
      Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "bellows-postgres-container-stop"));
      String url = URL_PREFIX + container.getHost() + ":" + container.getMappedPort(5432) + "/postgres";
      return new PostgresFixture("testcontainers", url, Embedded.USER, Embedded.PASSWORD, null);
    }
  }

  /** An embedded server this JVM owns, restartable on the same port and data directory. */
  private static final class Embedded {

    static final String USER = "postgres";
    static final String PASSWORD = "postgres";
    static final int PGSS_MAX = 20_000;
    private static final int PORT_ATTEMPTS = 3;

    private final File workDir;
    private final File dataDir;
    private final File log;
    private final DigestingResolver binaries = new DigestingResolver();
    private int port;
    private EmbeddedPostgres server;

    private Embedded(File workDir, String id) {
      this.workDir = workDir;
      this.dataDir = new File(workDir, "bellows-" + id);
      this.log = new File(workDir, "bellows-" + id + ".log");
    }

    // PostgreSQL refuses to run as root. zonky 2.2.2 handles that itself: running as uid 0, when `unshare -U id -u`
    // prints a non-zero uid it prefixes initdb, pg_ctl and postgres with `unshare -U`. In that unmapped user namespace
    // postgres sees itself as the overflow uid (nobody) and root-owned files as owned by that same uid, so its
    // ownership checks pass, while the kernel still checks file access as the real root. Nothing is installed and no
    // user created; only a machine without user namespaces is left out, so that case gets a clear message.
    static Embedded launch() {
      if (isRoot() && !LinuxUtils.isUnshareAvailable()) {
        throw new IllegalStateException("Running as root, and PostgreSQL refuses to run as root; the embedded server"
            + " needs user namespaces ('unshare -U id -u' must work) to drop root, and they are unavailable here."
            + " Run the build as a non-root user, or point BELLOWS_TEST_JDBC_URL at a server.");
      }
      // zonky's own working dir: it reaps data dirs there that a killed JVM left behind (unlocked, >10 min old).
      File workDir = new File(System.getProperty("ot.epg.working-dir",
          new File(System.getProperty("java.io.tmpdir"), "embedded-pg").getPath()));
      workDir.mkdirs();
      Embedded embedded = new Embedded(workDir, UUID.randomUUID().toString());
      Runtime.getRuntime().addShutdownHook(new Thread(embedded::shutdown, "bellows-postgres-stop"));
      IllegalStateException last = null;
      // Another fork can grab the free port between our probe and postmaster's bind; a fresh port fixes that.
      for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
        embedded.port = freePort();
        try {
          embedded.start();
          return embedded;
        } catch (IllegalStateException e) {
          last = e;
        }
      }
      throw last;
    }

    String jdbcUrl() {
      return URL_PREFIX + "127.0.0.1:" + port + "/postgres";
    }

    synchronized void start() {
      if (server != null) {
        return;
      }
      EmbeddedPostgres started = null;
      try {
        started = EmbeddedPostgres.builder()
            .setPgBinaryResolver(binaries)
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setRegisterShutdownHook(false)
            .setPort(port)
            .setPGStartupWait(Duration.ofSeconds(30))
            .setLocaleConfig("locale", "C")
            .setServerConfig("fsync", "off")
            .setServerConfig("full_page_writes", "off")
            // Nothing here connects over a unix socket; skipping it keeps postgres out of the shared /tmp.
            .setServerConfig("unix_socket_directories", "")
            // the flag propagation benchmark's LISTEN comparison holds one connection per simulated instance
            .setServerConfig("max_connections", System.getProperty("bellows.test.maxConnections", "100"))
            .setDataDirectoryCustomizer(this::customize)
            .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log))
            .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log))
            .start();
        verifyOwnServer(started);
        server = started;
      } catch (IOException | SQLException | RuntimeException e) {
        closeQuietly(started);
        if (started == null) {
          killLeftoverPostmaster();
        }
        throw new IllegalStateException("embedded PostgreSQL failed to start on port " + port + " with data in "
            + dataDir + "; server log " + log + ":\n" + tail(log), e);
      }
    }

    synchronized void stop() {
      if (server == null) {
        return;
      }
      EmbeddedPostgres stopping = server;
      server = null;
      // zonky in another JVM deletes unlocked data dirs whose lock file is over 10 minutes old; while stopped ours is
      // unlocked, so freshen it.
      new File(dataDir, "epg-lock").setLastModified(System.currentTimeMillis());
      try {
        stopping.close();
      } catch (IOException e) {
        throw new UncheckedIOException("could not stop embedded PostgreSQL", e);
      }
    }

    private void shutdown() {
      try {
        stop();
      } finally {
        killLeftoverPostmaster();
        deleteRecursively(dataDir);
        log.delete();
      }
    }

    // zonky runs this after initdb and before every postmaster start, so it must be idempotent.
    private void customize(File data) {
      if (!new File(binaries.directory(workDir), "lib/postgresql/pg_stat_statements.so").isFile()) {
        return;
      }
      Path conf = data.toPath().resolve("postgresql.conf");
      String line = "shared_preload_libraries = 'pg_stat_statements'";
      // Every test class of a module shares this server; the default 5,000 entries fill up with the differential
      // suites' statements, and an evicted entry is one a gate test can no longer find.
      String max = "pg_stat_statements.max = " + PGSS_MAX;
      try {
        if (!Files.readString(conf).contains(line)) {
          Files.writeString(conf, "\n" + line + "\n" + max + "\n", StandardOpenOption.APPEND);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    // zonky's readiness probe connects to whatever answers on the port, possibly another fork's server that won a
    // port race, so confirm the server is the one using our data directory.
    private void verifyOwnServer(EmbeddedPostgres started) throws SQLException, IOException {
      try (Connection c = started.getPostgresDatabase().getConnection();
           Statement s = c.createStatement();
           ResultSet rs = s.executeQuery("SHOW data_directory")) {
        rs.next();
        if (!new File(rs.getString(1)).getCanonicalFile().equals(dataDir.getCanonicalFile())) {
          throw new IllegalStateException("port " + port + " is served by another PostgreSQL (" + rs.getString(1) + ")");
        }
      }
    }

    // A start that timed out throws from zonky's constructor with postgres possibly still coming up, and nothing
    // would ever stop it; its pid is in postmaster.pid. Checking the command guards against a recycled pid, and
    // waiting lets a retry reuse the data directory.
    private void killLeftoverPostmaster() {
      try {
        String pid = Files.readAllLines(new File(dataDir, "postmaster.pid").toPath()).get(0).trim();
        ProcessHandle postmaster = ProcessHandle.of(Long.parseLong(pid))
            .filter(p -> p.info().command().orElse("").endsWith("/postgres"))
            .orElse(null);
        if (postmaster != null && postmaster.destroy()) {
          postmaster.onExit().get(10, TimeUnit.SECONDS);
        }
      } catch (IOException | RuntimeException | ExecutionException | TimeoutException ignored) {
        // No pid file, nothing left running.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private static boolean isRoot() {
      if (!System.getProperty("os.name", "").startsWith("Linux")) {
        return false;
      }
      return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    private static int freePort() {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static void closeQuietly(EmbeddedPostgres server) {
      if (server != null) {
        try {
          server.close();
        } catch (IOException | RuntimeException ignored) {
          // The start failure is what matters.
        }
      }
    }

    private static String tail(File file) {
      try {
        List<String> lines = Files.readAllLines(file.toPath(), StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    private static void deleteRecursively(File file) {
      File[] children = file.listFiles();
      if (children != null) {
        for (File child : children) {
          deleteRecursively(child);
        }
      }
      file.delete();
    }
  }

  /** Hands zonky its bundled archive while noting the archive's MD5, which names the directory zonky unpacks to. */
  private static final class DigestingResolver implements PgBinaryResolver {

    private volatile String digest;

    @Override
    public InputStream getPgBinary(String system, String machineHardware) throws IOException {
      InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware);
      if (in == null) {
        return null;
      }
      byte[] archive;
      try (in) {
        archive = in.readAllBytes();
      }
      try {
        digest = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(archive));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      return new ByteArrayInputStream(archive);
    }

    File directory(File workDir) {
      return new File(workDir, "PG-" + digest);
    }
  }
}
