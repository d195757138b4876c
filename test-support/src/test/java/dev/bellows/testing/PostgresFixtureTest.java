package dev.bellows.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runs the fixture against a real server: queries, database isolation, stop/start and pg_stat_statements. */
class PostgresFixtureTest {

  private static PostgresFixture fixture;

  @BeforeAll
  static void startServer() {
    long start = System.nanoTime();
    fixture = PostgresFixture.get();
    System.out.printf("fixture %s ready in %d ms%n", fixture, (System.nanoTime() - start) / 1_000_000);
  }

  @Test
  void getReturnsOneServerPerJvm() {
    assertTrue(fixture == PostgresFixture.get());
    assertTrue(fixture.jdbcUrl().startsWith("jdbc:postgresql://"), fixture.jdbcUrl());
  }

  @Test
  void runsARealQuery() throws SQLException {
    try (Connection c = fixture.connect(fixture.jdbcUrl())) {
      assertEquals("42", queryOne(c, "SELECT (6 * 7)::text"));
      assertTrue(Integer.parseInt(queryOne(c, "SHOW server_version_num")) >= 120000);
    }
  }

  @Test
  void databasesAreIsolated() throws SQLException {
    String first = fixture.createDatabase("Isolation-Test");
    String second = fixture.createDatabase("Isolation-Test");
    assertNotEquals(first, second);

    try (Connection c = fixture.connect(first); Statement s = c.createStatement()) {
      assertTrue(queryOne(c, "SELECT current_database()").startsWith("isolation_test_"));
      s.execute("CREATE TABLE only_here (id int)");
      s.execute("INSERT INTO only_here VALUES (1)");
    }
    try (Connection c = fixture.dataSource(second).getConnection()) {
      assertNotEquals(queryOne(c, "SELECT current_database()"), databaseOf(first));
      assertNull(queryOne(c, "SELECT to_regclass('only_here')::text"));
    }
  }

  @Test
  void stopMakesTheServerUnreachableAndStartBringsItBackWithItsData() throws SQLException {
    assumeTrue(fixture.kind().equals("embedded"), "stop/start needs the embedded server");
    String url = fixture.createDatabase("restart");
    try (Connection c = fixture.connect(url); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE kept (v text)");
      s.execute("INSERT INTO kept VALUES ('survives')");
    }

    fixture.stop();
    try {
      SQLException refused = assertThrows(SQLException.class, () -> fixture.connect(url).close());
      assertEquals("08001", refused.getSQLState());
    } finally {
      fixture.start();
    }

    try (Connection c = fixture.connect(url)) {
      assertEquals("survives", queryOne(c, "SELECT v FROM kept"));
    }
  }

  @Test
  void pgStatStatementsIsPreloadedWhenAvailable() throws SQLException {
    // The bundled 16.x binaries ship it, so with them a missing library is a regression, not a skip.
    if (fixture.kind().equals("embedded")) {
      assertTrue(fixture.hasPgStatStatements());
    }
    assumeTrue(fixture.hasPgStatStatements());
    String url = fixture.createDatabase("stats");
    try (Connection c = fixture.connect(url); Statement s = c.createStatement()) {
      s.execute("CREATE EXTENSION pg_stat_statements");
      assertEquals("pg_stat_statements", queryOne(c, "SHOW shared_preload_libraries"));
      // room for every module's statements, so no test's entry is evicted by another's
      assertEquals("20000", queryOne(c, "SHOW pg_stat_statements.max"));
      queryOne(c, "SELECT count(*) FROM pg_stat_statements");
    }
  }

  @Test
  void stopAndStartAreRefusedForServersTheFixtureDoesNotOwn() {
    assumeTrue(!fixture.kind().equals("embedded"));
    assertThrows(UnsupportedOperationException.class, fixture::stop);
    assertThrows(UnsupportedOperationException.class, fixture::start);
  }

  @Test
  void databaseUrlsKeepHostAndParameters() {
    assertEquals("jdbc:postgresql://db:5433/other?sslmode=disable",
        PostgresFixture.withDatabase("jdbc:postgresql://db:5433/postgres?sslmode=disable", "other"));
    assertEquals("jdbc:postgresql://db/other", PostgresFixture.withDatabase("jdbc:postgresql://db", "other"));
    assertFalse(PostgresFixture.withDatabase("jdbc:postgresql://a:1/b", "c").contains("/b"));
  }

  private static String databaseOf(String url) {
    String path = url.substring(url.lastIndexOf('/') + 1);
    int query = path.indexOf('?');
    return query < 0 ? path : path.substring(0, query);
  }

  private static String queryOne(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next(), sql);
      return rs.getString(1);
    }
  }
}
