package dev.bellows.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.jdbc.BellowsConnection;
import dev.bellows.rules.Migration;
import dev.bellows.testing.PostgresFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.postgresql.PGConnection;

/**
 * A TPC-B-like benchmark: pgbench's default ("tpcb-like") transaction through JDBC prepared statements and
 * HikariCP, run side by side for plain pgjdbc, Bellows without rules, Bellows with a rename of
 * {@code pgbench_accounts.abalance} in expand and in switch, and p6spy with logging off.
 *
 * <p>Each variant has its own pool against the same database and tables. After one warm-up slice per variant, the
 * measured time of each variant is cut into rounds, run in serpentine order (A B C D E, E D C B A, ...), so slow
 * drift of the machine (autovacuum, table growth, other load) falls on every variant alike. Each transaction
 * borrows a connection, prepares its five statements, runs them, commits and returns the connection, as an
 * application on a pool does.
 *
 * <p>Options are system properties {@code bench.*} or {@code key=value} arguments; see {@link Options}.
 */
public final class TpcbBenchmark {

  public static final String UPDATE_ACCOUNT = "UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?";
  public static final String SELECT_ACCOUNT = "SELECT abalance FROM pgbench_accounts WHERE aid = ?";
  static final String UPDATE_TELLER = "UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?";
  static final String UPDATE_BRANCH = "UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?";
  static final String INSERT_HISTORY =
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)";
  static final List<String> SCRIPT = List.of(UPDATE_ACCOUNT, SELECT_ACCOUNT, UPDATE_TELLER, UPDATE_BRANCH, INSERT_HISTORY);

  private static final int ACCOUNTS_PER_SCALE = 100_000;
  private static final int TELLERS_PER_SCALE = 10;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** The variants, in the order they are reported; the first one run is the baseline of the ratios. */
  enum Variant {
    PGJDBC("pgjdbc", "plain pgjdbc", null),
    BELLOWS_NONE("bellows-none", "Bellows, no rules", null),
    BELLOWS_EXPAND("bellows-expand", "Bellows, rename in expand", "classpath:bench-rules-expand.yaml"),
    BELLOWS_SWITCH("bellows-switch", "Bellows, rename in switch", "classpath:bench-rules-switch.yaml"),
    /** pgbench_tellers renamed in switch: Bellows sends pgbench_tellers_renamed, a real table, as after the switch step. */
    BELLOWS_TABLE("bellows-table", "Bellows, table rename in switch", "classpath:bench-rules-table.yaml"),
    P6SPY("p6spy", "p6spy, logging off", null);

    final String id;
    final String label;
    final String rules;

    Variant(String id, String label, String rules) {
      this.id = id;
      this.label = label;
      this.rules = rules;
    }

    static Variant of(String id) {
      for (Variant v : values()) {
        if (v.id.equalsIgnoreCase(id.trim())) {
          return v;
        }
      }
      throw new IllegalArgumentException("unknown variant '" + id + "'; expected one of "
          + Arrays.stream(values()).map(v -> v.id).collect(Collectors.joining(", ")));
    }

    boolean bellows() {
      return this == BELLOWS_NONE || this == BELLOWS_EXPAND || this == BELLOWS_SWITCH || this == BELLOWS_TABLE;
    }

    /** This variant's URL for a plain {@code jdbc:postgresql:} URL. */
    String url(String plain) {
      String rest = plain.substring("jdbc:".length());
      switch (this) {
        case PGJDBC:
          return plain;
        case P6SPY:
          return "jdbc:p6spy:" + rest;
        default:
          String url = "jdbc:bellows:" + rest;
          return rules == null ? url : url + (url.indexOf('?') < 0 ? '?' : '&') + "bellows.rules=" + rules;
      }
    }

    String driverClassName() {
      // Bellows and pgjdbc are found by DriverManager; p6spy's docs have pools name its driver.
      return this == P6SPY ? "com.p6spy.engine.spy.P6SpyDriver" : null;
    }
  }

  /** Settings: system property {@code bench.<name>}, overridden by an argument {@code <name>=value}. */
  static final class Options {
    int scale = 10;
    int threads = 4;
    /** Measured seconds per variant, split over the rounds. */
    double seconds = 60;
    int rounds = 120;
    /** Warm-up seconds per variant, once, before the measured rounds. */
    double warmup = 10;
    List<Variant> variants = List.of(Variant.values());
    /** When set, a JFR recording ("profile" settings) of the measured rounds is written here. */
    Path jfr;
    /** When set, every measured slice is written here as CSV. */
    Path csv;

    static Options parse(String... args) {
      Map<String, String> values = new LinkedHashMap<>();
      for (String name : List.of("scale", "threads", "seconds", "rounds", "warmup", "variants", "jfr", "csv")) {
        String value = System.getProperty("bench." + name);
        if (value != null && !value.isBlank()) {
          values.put(name, value.trim());
        }
      }
      for (String arg : args) {
        String a = arg.startsWith("--") ? arg.substring(2) : arg;
        int eq = a.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("expected name=value, got '" + arg + "'");
        }
        values.put(a.substring(0, eq).trim().replaceFirst("^bench\\.", ""), a.substring(eq + 1).trim());
      }
      Options o = new Options();
      for (Map.Entry<String, String> e : values.entrySet()) {
        String v = e.getValue();
        switch (e.getKey()) {
          case "scale": o.scale = positive(e.getKey(), Integer.parseInt(v)); break;
          case "threads": o.threads = positive(e.getKey(), Integer.parseInt(v)); break;
          case "seconds": o.seconds = Double.parseDouble(v); break;
          case "rounds": o.rounds = positive(e.getKey(), Integer.parseInt(v)); break;
          case "warmup": o.warmup = Double.parseDouble(v); break;
          case "variants":
            o.variants = Arrays.stream(v.split(",")).filter(s -> !s.isBlank()).map(Variant::of).distinct()
                .collect(Collectors.toList());
            break;
          case "jfr": o.jfr = v.isEmpty() ? null : Path.of(v); break;
          case "csv": o.csv = v.isEmpty() ? null : Path.of(v); break;
          default: throw new IllegalArgumentException("unknown option '" + e.getKey()
              + "'; expected scale, threads, seconds, rounds, warmup, variants, jfr or csv");
        }
      }
      if (!(o.seconds > 0) || o.warmup < 0 || o.variants.isEmpty()) {
        throw new IllegalArgumentException("seconds must be > 0, warmup >= 0 and variants non-empty");
      }
      return o;
    }

    private static int positive(String name, int value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "scale=%d threads=%d seconds=%s rounds=%d warmup=%s variants=%s%s", scale,
          threads, fmt(seconds), rounds, fmt(warmup),
          variants.stream().map(v -> v.id).collect(Collectors.joining(",")), jfr == null ? "" : " jfr=" + jfr);
    }
  }

  /** What one slice of one variant did. */
  static final class Slice {
    final long transactions;
    final long errors;
    final long nanos;
    final long latencyNanos;
    /** CPU time of the client threads, and of the whole benchmark JVM (GC and JIT included), during the slice. */
    final long threadCpuNanos;
    final long processCpuNanos;
    /** On-CPU time of the variant's own server backends during the slice; negative when it cannot be read. */
    final long serverCpuNanos;
    /** Bytes the client threads allocated during the slice. */
    final long allocatedBytes;
    final String firstError;

    Slice(long transactions, long errors, long nanos, long latencyNanos, long threadCpuNanos, long processCpuNanos,
        long serverCpuNanos, long allocatedBytes, String firstError) {
      this.transactions = transactions;
      this.errors = errors;
      this.nanos = nanos;
      this.latencyNanos = latencyNanos;
      this.threadCpuNanos = threadCpuNanos;
      this.processCpuNanos = processCpuNanos;
      this.serverCpuNanos = serverCpuNanos;
      this.allocatedBytes = allocatedBytes;
      this.firstError = firstError;
    }

    double tps() {
      return transactions * 1e9 / nanos;
    }

    /** Client JVM plus server backend CPU per transaction, in µs; NaN when the backends' CPU is unknown. */
    double costMicros() {
      return serverCpuNanos < 0 ? Double.NaN : (processCpuNanos + serverCpuNanos) / 1e3 / transactions;
    }
  }

  /** A variant's measured slices, one per round. */
  static final class Result {
    final Variant variant;
    final List<Slice> rounds = new ArrayList<>();

    Result(Variant variant) {
      this.variant = variant;
    }

    long transactions() {
      return rounds.stream().mapToLong(s -> s.transactions).sum();
    }

    long errors() {
      return rounds.stream().mapToLong(s -> s.errors).sum();
    }

    double tps() {
      return transactions() * 1e9 / rounds.stream().mapToLong(s -> s.nanos).sum();
    }

    double meanLatencyMillis() {
      long n = transactions();
      return n == 0 ? Double.NaN : rounds.stream().mapToLong(s -> s.latencyNanos).sum() / 1e6 / n;
    }

    /** Client CPU per transaction in microseconds: the client threads' own, and the whole JVM's. */
    double threadCpuMicros() {
      return rounds.stream().mapToLong(s -> s.threadCpuNanos).sum() / 1e3 / transactions();
    }

    double processCpuMicros() {
      return rounds.stream().mapToLong(s -> s.processCpuNanos).sum() / 1e3 / transactions();
    }

    double allocatedBytesPerTx() {
      return (double) rounds.stream().mapToLong(s -> s.allocatedBytes).sum() / transactions();
    }

    double serverCpuMicros() {
      return rounds.stream().anyMatch(s -> s.serverCpuNanos < 0) ? Double.NaN
          : rounds.stream().mapToLong(s -> s.serverCpuNanos).sum() / 1e3 / transactions();
    }
  }

  private TpcbBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    int status = 0;
    try {
      run(options);
    } catch (Exception | Error e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    // Stops the embedded server through its shutdown hook, and any pool housekeeping thread with it.
    System.exit(status);
  }

  /** Sets up the database, runs every variant and prints the report; returns the results by variant. */
  static Map<Variant, Result> run(Options options) throws SQLException, InterruptedException, IOException,
      ParseException {
    say("TPC-B-like benchmark through JDBC: " + options);
    double loadBefore = OS.getSystemLoadAverage();
    PostgresFixture fixture = PostgresFixture.get();
    String url = fixture.createDatabase("tpcb");
    say("PostgreSQL: " + fixture.kind() + " " + url);
    String serverVersion;
    try (Connection c = fixture.connect(url)) {
      serverVersion = c.getMetaData().getDatabaseProductVersion();
      long t0 = System.nanoTime();
      populate(c, options.scale);
      say(String.format(Locale.ROOT, "populated scale %d (%,d accounts) and backfilled abalance_new in %.1f s",
          options.scale, (long) options.scale * ACCOUNTS_PER_SCALE, (System.nanoTime() - t0) / 1e9));
    }

    Map<Variant, HikariDataSource> pools = new EnumMap<>(Variant.class);
    Map<Variant, int[]> backends = new EnumMap<>(Variant.class);
    Map<Variant, ExecutorService> workers = new EnumMap<>(Variant.class);
    Map<Variant, Result> results = new EnumMap<>(Variant.class);
    long committed = 0;
    try {
      for (Variant v : options.variants) {
        pools.put(v, pool(fixture, url, v, options.threads));
        backends.put(v, backendPids(pools.get(v), options.threads));
        workers.put(v, workers(v, options.threads));
        describe(v, pools.get(v));
        results.put(v, new Result(v));
      }

      if (options.warmup > 0) {
        for (Variant v : options.variants) {
          Slice s = slice(workers.get(v), pools.get(v), backends.get(v), options, options.warmup);
          committed += s.transactions;
          say(String.format(Locale.ROOT, "warm-up %-15s %8.1f TPS%s", v.id, s.tps(), errors(s)));
          if (s.transactions == 0) {
            throw new IllegalStateException(v.id + " committed nothing during warm-up; first error: " + s.firstError);
          }
        }
      }

      Recording recording = startRecording(options.jfr);
      double perSlice = options.seconds / options.rounds;
      for (int round = 0; round < options.rounds; round++) {
        List<Variant> order = new ArrayList<>(options.variants);
        if (round % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d/%d:", round + 1, options.rounds));
        for (Variant v : order) {
          Slice s = slice(workers.get(v), pools.get(v), backends.get(v), options, perSlice);
          committed += s.transactions;
          results.get(v).rounds.add(s);
          line.append(String.format(Locale.ROOT, "  %s %.0f%s", v.id, s.tps(), errors(s)));
        }
        say(line.toString());
      }
      if (recording != null) {
        recording.stop();
        recording.close();
        say("JFR recording of the measured rounds written to " + options.jfr);
      }
    } finally {
      workers.values().forEach(ExecutorService::shutdownNow);
      pools.values().forEach(HikariDataSource::close);
    }

    try (Connection c = fixture.connect(url)) {
      verify(c, committed);
    }
    report(options, fixture, serverVersion, results, loadBefore, OS.getSystemLoadAverage());
    if (options.csv != null) {
      writeCsv(options, results);
    }
    if (!"embedded".equals(fixture.kind())) {
      dropDatabase(fixture, url);
    }
    return results;
  }

  /**
   * pgbench's tables, filled with generate_series as {@code pgbench -i} does server-side, plus the migration's new
   * column {@code abalance_new}, added and backfilled the way expand requires, before the keys are built.
   */
  static void populate(Connection c, int scale) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String sql : List.of(
          "CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88)) WITH (fillfactor = 100)",
          "CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100)",
          "CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100)",
          "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
          "INSERT INTO pgbench_branches (bid, bbalance) SELECT bid, 0 FROM generate_series(1, " + scale + ") AS bid",
          "INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT tid, (tid - 1) / " + TELLERS_PER_SCALE
              + " + 1, 0 FROM generate_series(1, " + TELLERS_PER_SCALE * scale + ") AS tid",
          "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (aid - 1) / " + ACCOUNTS_PER_SCALE
              + " + 1, 0, '' FROM generate_series(1, " + (long) ACCOUNTS_PER_SCALE * scale + ") AS aid",
          // The migration: the new column, backfilled (up is the identity for a rename), then compacted.
          "ALTER TABLE pgbench_accounts ADD COLUMN abalance_new int",
          "UPDATE pgbench_accounts SET abalance_new = abalance",
          "VACUUM FULL pgbench_accounts",
          // The table rename's state after its switch step: the renamed table (a copy, so the other variants keep theirs).
          "CREATE TABLE pgbench_tellers_renamed (LIKE pgbench_tellers) WITH (fillfactor = 100)",
          "INSERT INTO pgbench_tellers_renamed SELECT * FROM pgbench_tellers",
          "ALTER TABLE pgbench_tellers_renamed ADD PRIMARY KEY (tid)",
          "ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)",
          "ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)",
          "ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)",
          "VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_tellers_renamed, pgbench_accounts, pgbench_history",
          "CHECKPOINT")) {
        s.execute(sql);
      }
    }
  }

  static HikariDataSource pool(PostgresFixture fixture, String url, Variant v, int threads) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("tpcb-" + v.id);
    config.setJdbcUrl(v.url(url));
    if (v.driverClassName() != null) {
      config.setDriverClassName(v.driverClassName());
    }
    if (fixture.user() != null) {
      config.setUsername(fixture.user());
    }
    if (fixture.password() != null) {
      config.setPassword(fixture.password());
    }
    config.setMaximumPoolSize(threads);
    config.setMinimumIdle(threads);
    // BEGIN ... END: each transaction is one JDBC transaction, committed explicitly.
    config.setAutoCommit(false);
    // Never retire a connection during the run, so the pool keeps the same server backends (see backendPids).
    config.setMaxLifetime(0);
    return new HikariDataSource(config);
  }

  /**
   * The process ids of the pool's server backends, to measure the server CPU each variant costs; null when the
   * server is not on this machine (or its processes are not visible), in which case that measure is left out.
   */
  static int[] backendPids(HikariDataSource pool, int threads) throws SQLException {
    List<Connection> held = new ArrayList<>();
    int[] pids = new int[threads];
    try {
      for (int i = 0; i < threads; i++) {
        Connection c = pool.getConnection();
        held.add(c);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
          rs.next();
          pids[i] = rs.getInt(1);
        }
        c.rollback();
      }
    } finally {
      for (Connection c : held) {
        c.close();
      }
    }
    return backendCpuNanos(pids) < 0 ? null : pids;
  }

  /** Total on-CPU nanoseconds of the given processes (/proc/pid/schedstat), or -1 if any cannot be read. */
  static long backendCpuNanos(int[] pids) {
    if (pids == null) {
      return -1;
    }
    long sum = 0;
    for (int pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "schedstat")).trim();
        sum += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }
    return sum;
  }

  /** Prints what a variant sends, and checks that the rule variants really rewrite the transaction. */
  private static void describe(Variant v, HikariDataSource pool) throws SQLException {
    try (Connection c = pool.getConnection()) {
      String driver = c.getMetaData().getDriverName();
      if (v.bellows() != c.isWrapperFor(BellowsConnection.class)) {
        throw new IllegalStateException(v.id + ": connection " + (v.bellows() ? "does not go" : "goes")
            + " through Bellows: " + c.unwrap(Connection.class));
      }
      if (!v.bellows()) {
        say(String.format(Locale.ROOT, "%-15s %s via %s", v.id, v.url("jdbc:postgresql://…"), driver));
        return;
      }
      BellowsConnection bc = c.unwrap(BellowsConnection.class);
      String phases = bc.runtime().rules().migrations().stream().map(m -> m.id() + "=" + m.phase())
          .collect(Collectors.joining(", "));
      say(String.format(Locale.ROOT, "%-15s %s (rules: %s)", v.id, v.url("jdbc:postgresql://…"),
          phases.isEmpty() ? "none" : phases));
      // pgjdbc's nativeSQL turns ? into $n; compare with what pgjdbc alone makes of the statement.
      Connection raw = (Connection) c.unwrap(PGConnection.class);
      boolean rewritten = false;
      for (String sql : SCRIPT) {
        String sent = c.nativeSQL(sql);
        if (!sent.equals(raw.nativeSQL(sql))) {
          rewritten = true;
          say("                  " + sql + "\n               -> " + sent);
        }
      }
      List<Migration> migrations = bc.runtime().rules().migrations();
      if (migrations.isEmpty() == rewritten) {
        throw new IllegalStateException(v.id + ": expected " + (migrations.isEmpty() ? "no rewrite" : "a rewrite")
            + " of the transaction; check -Dbellows.* / BELLOWS_* settings in the environment");
      }
      c.rollback();
    }
  }

  /**
   * A variant's client threads, kept for the whole run and named after it, so that a JFR recording can be split by
   * variant (the forked JVM also runs with -XX:+DebugNonSafepoints: without it, samples in HikariCP's call sites,
   * shared by all variants, are placed in another variant's inlined wrapper frames).
   */
  static ExecutorService workers(Variant v, int threads) {
    AtomicInteger next = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "tpcb-" + v.id + "-" + next.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
  }

  /** Runs {@code seconds} of the transaction on {@code threads} threads; counts commits and their latency. */
  static Slice slice(ExecutorService workers, HikariDataSource pool, int[] backends, Options options, double seconds)
      throws InterruptedException {
    long duration = (long) (seconds * 1e9);
    int n = options.threads;
    long[] done = new long[n];
    long[] errors = new long[n];
    long[] latency = new long[n];
    long[] cpu = new long[n];
    long[] allocated = new long[n];
    String[] firstError = new String[n];
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch go = new CountDownLatch(1);
    long[] start = new long[1];
    List<Future<?>> running = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int w = i;
      running.add(workers.submit(() -> {
        ready.countDown();
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        long deadline = start[0] + duration;
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long allocated0 = THREADS.getCurrentThreadAllocatedBytes();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long now = System.nanoTime();
        while (now < deadline) {
          int aid = random.nextInt(ACCOUNTS_PER_SCALE * options.scale) + 1;
          int bid = random.nextInt(options.scale) + 1;
          int tid = random.nextInt(TELLERS_PER_SCALE * options.scale) + 1;
          int delta = random.nextInt(-5000, 5001);
          try {
            transaction(pool, aid, bid, tid, delta);
            long end = System.nanoTime();
            done[w]++;
            latency[w] += end - now;
            now = end;
          } catch (SQLException | RuntimeException e) {
            if (errors[w]++ == 0) {
              firstError[w] = e.toString();
            }
            now = System.nanoTime();
          }
        }
        cpu[w] = THREADS.getCurrentThreadCpuTime() - cpu0;
        allocated[w] = THREADS.getCurrentThreadAllocatedBytes() - allocated0;
      }));
    }
    ready.await();
    long server0 = backendCpuNanos(backends);
    long process0 = OS.getProcessCpuTime();
    start[0] = System.nanoTime();
    go.countDown();
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("benchmark worker failed", e.getCause());
      }
    }
    long nanos = System.nanoTime() - start[0];
    long processCpu = OS.getProcessCpuTime() - process0;
    long server1 = backendCpuNanos(backends);
    long serverCpu = server0 < 0 || server1 < 0 ? -1 : server1 - server0;
    String first = Arrays.stream(firstError).filter(e -> e != null).findFirst().orElse(null);
    return new Slice(Arrays.stream(done).sum(), Arrays.stream(errors).sum(), nanos, Arrays.stream(latency).sum(),
        Arrays.stream(cpu).sum(), processCpu, serverCpu, Arrays.stream(allocated).sum(), first);
  }

  /**
   * pgbench's tpcb-like script: BEGIN; 3 updates, 1 select, 1 insert; END (the pool's connections are not in
   * auto-commit). Returns the account's balance as read. Also the body of {@code jmh.TransactionBenchmark}.
   */
  public static int transaction(javax.sql.DataSource pool, int aid, int bid, int tid, int delta) throws SQLException {
    int balance;
    try (Connection c = pool.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement(UPDATE_ACCOUNT)) {
        ps.setInt(1, delta);
        ps.setInt(2, aid);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(SELECT_ACCOUNT)) {
        ps.setInt(1, aid);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("account " + aid + " not found");
          }
          balance = rs.getInt("abalance"); // by label, as legacy code reads it
        }
      }
      try (PreparedStatement ps = c.prepareStatement(UPDATE_TELLER)) {
        ps.setInt(1, delta);
        ps.setInt(2, tid);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(UPDATE_BRANCH)) {
        ps.setInt(1, delta);
        ps.setInt(2, bid);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(INSERT_HISTORY)) {
        ps.setInt(1, tid);
        ps.setInt(2, bid);
        ps.setInt(3, aid);
        ps.setInt(4, delta);
        ps.executeUpdate();
      }
      c.commit();
      // On an exception the pool rolls the transaction back when the connection is returned.
    }
    return balance;
  }

  /**
   * Every commit the benchmark counted is in the database: one history row each, and the tellers' and branches'
   * balances (no rule touches them) add up to the history's deltas. Account balances are not checked: the plain
   * variants do not know abalance_new, so switch (which reads it) builds on values they did not update.
   */
  static void verify(Connection c, long committed) throws SQLException {
    try (Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pgbench_history),"
             + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history),"
             + " (SELECT sum(tbalance) FROM (SELECT tbalance FROM pgbench_tellers UNION ALL SELECT tbalance FROM pgbench_tellers_renamed) t), (SELECT sum(bbalance) FROM pgbench_branches)")) {
      rs.next();
      long rows = rs.getLong(1);
      long deltas = rs.getLong(2);
      if (rows != committed || rs.getLong(3) != deltas || rs.getLong(4) != deltas) {
        throw new IllegalStateException(String.format(Locale.ROOT, "inconsistent: %d commits counted, %d history rows,"
            + " deltas %d, tellers %d, branches %d", committed, rows, deltas, rs.getLong(3), rs.getLong(4)));
      }
      say(String.format(Locale.ROOT, "verified: %,d commits = %,d history rows; teller and branch balances match",
          committed, rows));
    }
  }

  private static Recording startRecording(Path jfr) throws IOException, ParseException {
    if (jfr == null) {
      return null;
    }
    Map<String, String> settings = new LinkedHashMap<>(Configuration.getConfiguration("profile").getSettings());
    // The clients spend most of their time waiting on the socket; sample the Java part densely enough to see it.
    settings.put("jdk.ExecutionSample#period", "1 ms");
    Recording recording = new Recording(settings);
    recording.setName("tpcb");
    recording.setDestination(jfr);
    recording.start();
    return recording;
  }

  static void report(Options options, PostgresFixture fixture, String serverVersion, Map<Variant, Result> results,
      double loadBefore, double loadAfter) {
    Variant base = options.variants.get(0);
    Result baseline = results.get(base);
    StringBuilder out = new StringBuilder("\n");
    out.append(String.format(Locale.ROOT, "Machine: %d cores (%s), %s %s, Java %s (%s), heap max %d MiB%n",
        Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("os.name"),
        System.getProperty("os.arch"), System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory() >> 20));
    out.append(String.format(Locale.ROOT, "PostgreSQL %s (%s), on the same machine; 1-minute load average %.2f"
        + " before the run, %.2f after%n", serverVersion, fixture.kind(), loadBefore, loadAfter));
    out.append(String.format(Locale.ROOT, "Scale %d, %d client threads, HikariCP pool of %d per variant; "
        + "%s s warm-up, then %s s measured per variant in %d interleaved rounds of %s s%n%n", options.scale,
        options.threads, options.threads, fmt(options.warmup), fmt(options.seconds), options.rounds,
        fmt(options.seconds / options.rounds)));
    out.append("Throughput:\n\n| variant | transactions | TPS | vs ").append(base.id)
        .append(" | paired per-round ratio: mean [95 % CI] | median (min–max) | mean latency | errors |\n");
    out.append("|---|---:|---:|---:|---|---|---:|---:|\n");
    for (Variant v : options.variants) {
      Result r = results.get(v);
      double[] ratios = new double[r.rounds.size()];
      for (int i = 0; i < ratios.length; i++) {
        ratios[i] = r.rounds.get(i).tps() / baseline.rounds.get(i).tps();
      }
      double[] ci = geometricMeanInterval(ratios);
      Arrays.sort(ratios);
      double median = ratios.length % 2 == 1 ? ratios[ratios.length / 2]
          : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
      out.append(String.format(Locale.ROOT,
          "| %s | %,d | %.1f | %.1f %% | %.1f %% [%.1f–%.1f %%] | %.1f %% (%.1f–%.1f %%) | %.2f ms | %d |%n",
          v.label, r.transactions(), r.tps(), 100 * r.tps() / baseline.tps(), 100 * ci[0], 100 * ci[1], 100 * ci[2],
          100 * median, 100 * ratios[0], 100 * ratios[ratios.length - 1], r.meanLatencyMillis(), r.errors()));
    }
    out.append("\nCPU per transaction (client: the benchmark JVM, and its worker threads alone; server: the variant's own"
        + " backends).\nOn a CPU-bound machine throughput goes as 1 / (client + server); the last columns are that"
        + " ratio:\n\n");
    out.append("| variant | client JVM | client threads | server backends | total | throughput implied vs ")
        .append(base.id).append(" | paired per-round: mean [95 % CI] | client allocation |\n");
    out.append("|---|---:|---:|---:|---:|---:|---|---:|\n");
    for (Variant v : options.variants) {
      Result r = results.get(v);
      double total = r.processCpuMicros() + r.serverCpuMicros();
      double baseTotal = baseline.processCpuMicros() + baseline.serverCpuMicros();
      double[] ratios = new double[r.rounds.size()];
      for (int i = 0; i < ratios.length; i++) {
        ratios[i] = baseline.rounds.get(i).costMicros() / r.rounds.get(i).costMicros();
      }
      double[] ci = geometricMeanInterval(ratios);
      out.append(String.format(Locale.ROOT,
          "| %s | %.1f µs | %.1f µs | %.1f µs | %.1f µs | %.1f %% | %.1f %% [%.1f–%.1f %%] | %,.0f B |%n",
          v.label, r.processCpuMicros(), r.threadCpuMicros(), r.serverCpuMicros(), total, 100 * baseTotal / total,
          100 * ci[0], 100 * ci[1], 100 * ci[2], r.allocatedBytesPerTx()));
    }
    int blocks = Math.min(6, options.rounds);
    out.append("\nTPS over the run, in ").append(blocks).append(" consecutive blocks of rounds (drift and load show here):\n\n");
    out.append("| variant |");
    for (int b = 0; b < blocks; b++) {
      out.append(String.format(Locale.ROOT, " rounds %d–%d |", b * options.rounds / blocks + 1,
          (b + 1) * options.rounds / blocks));
    }
    out.append("\n|---|").append("---:|".repeat(blocks)).append('\n');
    for (Variant v : options.variants) {
      out.append("| ").append(v.label).append(" |");
      List<Slice> rounds = results.get(v).rounds;
      for (int b = 0; b < blocks; b++) {
        List<Slice> block = rounds.subList(b * rounds.size() / blocks, (b + 1) * rounds.size() / blocks);
        out.append(String.format(Locale.ROOT, " %.0f |", block.stream().mapToLong(x -> x.transactions).sum() * 1e9
            / block.stream().mapToLong(x -> x.nanos).sum()));
      }
      out.append('\n');
    }
    System.out.print(out);
    System.out.flush();
  }

  /** One line per measured slice, in the order they ran: round, position in the round, variant and its counters. */
  static void writeCsv(Options options, Map<Variant, Result> results) throws IOException {
    StringBuilder csv = new StringBuilder("round,position,variant,transactions,errors,nanos,latency_nanos,"
        + "thread_cpu_nanos,process_cpu_nanos,server_cpu_nanos,allocated_bytes\n");
    for (int round = 0; round < options.rounds; round++) {
      for (int i = 0; i < options.variants.size(); i++) {
        Variant v = options.variants.get(i);
        Slice s = results.get(v).rounds.get(round);
        int position = round % 2 == 0 ? i : options.variants.size() - 1 - i;
        csv.append(round + 1).append(',').append(position + 1).append(',').append(v.id).append(',')
            .append(s.transactions).append(',').append(s.errors).append(',').append(s.nanos).append(',')
            .append(s.latencyNanos).append(',').append(s.threadCpuNanos).append(',').append(s.processCpuNanos)
            .append(',').append(s.serverCpuNanos).append(',').append(s.allocatedBytes).append('\n');
      }
    }
    if (options.csv.getParent() != null) {
      Files.createDirectories(options.csv.getParent());
    }
    Files.writeString(options.csv, csv);
    say("slices written to " + options.csv);
  }

  /**
   * Geometric mean of paired ratios with a 95 % confidence interval (Student's t on the log ratios):
   * {mean, low, high}. With one round the interval is the mean itself.
   */
  static double[] geometricMeanInterval(double[] ratios) {
    int n = ratios.length;
    double mean = 0;
    for (double r : ratios) {
      mean += Math.log(r) / n;
    }
    if (n < 2) {
      return new double[] {Math.exp(mean), Math.exp(mean), Math.exp(mean)};
    }
    double ss = 0;
    for (double r : ratios) {
      ss += (Math.log(r) - mean) * (Math.log(r) - mean);
    }
    double half = T975[Math.min(n - 1, T975.length - 1)] * Math.sqrt(ss / (n - 1) / n);
    return new double[] {Math.exp(mean), Math.exp(mean - half), Math.exp(mean + half)};
  }

  /** Student's t, two-sided 95 %, by degrees of freedom (index 0 unused; 1.96 beyond 30). */
  private static final double[] T975 = {Double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
      2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
      2.056, 2.052, 2.048, 2.045, 2.042, 1.96};

  private static void dropDatabase(PostgresFixture fixture, String url) {
    String name = url.substring(url.lastIndexOf('/') + 1).replaceFirst("\\?.*$", "");
    try (Connection c = fixture.connect(fixture.jdbcUrl()); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\"");
    } catch (SQLException e) {
      say("could not drop the benchmark database " + name + ": " + e.getMessage());
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
    } catch (IOException | UncheckedIOException e) {
      return "unknown CPU";
    }
  }

  private static String errors(Slice s) {
    return s.errors == 0 ? "" : " (" + s.errors + " errors, first: " + s.firstError + ")";
  }

  private static String fmt(double seconds) {
    return seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds);
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
