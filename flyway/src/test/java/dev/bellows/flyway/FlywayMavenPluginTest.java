package dev.bellows.flyway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.bellows.testing.PostgresFixture;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flyway's own Maven plugin (the way most teams run migrations) pointed at a {@code jdbc:bellows:postgresql:} URL,
 * with the driver jar and bellows-flyway as plugin dependencies and no driver setting: {@code flyway:migrate} and
 * {@code flyway:info} in a real nested Maven build (this project's wrapper, the build's own local repository).
 * The jars are this build's: the driver's shaded {@code -all} jar from driver/target, and bellows-flyway's classes
 * packed into a jar here, since this module is tested before it is packaged.
 */
class FlywayMavenPluginTest {
    private static final String FLYWAY = "13.12.2";
    private static final String PGJDBC = "42.7.14";

    @TempDir Path tmp;
    private final PostgresFixture pg = PostgresFixture.get();

    @Test
    void theFlywayMavenPluginMigratesThroughTheBellowsUrl() throws Exception {
        Path root = Path.of(System.getProperty("bellows.root", "..")).toAbsolutePath().normalize();
        Path driverJar = driverJar(root);
        Path pluginJar = jar(root.resolve("flyway/target/classes"), tmp.resolve("bellows-flyway.jar"));
        Path sql = Files.createDirectories(tmp.resolve("sql"));
        Files.writeString(sql.resolve("V1__legacy.sql"), "CREATE TABLE leads (id bigint PRIMARY KEY, user_email text);\n");
        Files.writeString(sql.resolve("V2__expand.sql"), "ALTER TABLE leads ADD COLUMN contact_email text;\n");
        // run by Flyway through Bellows in expand, after V2 added the new column in the same process: a dual write
        Files.writeString(sql.resolve("V3__seed.sql"), "INSERT INTO leads (id, user_email) VALUES (1, 'a@x.org');\n");
        Path rules = tmp.resolve("bellows-rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: leads-contact-email\n    table: leads\n    from: user_email\n"
            + "    to: contact_email\n    phase: expand\n");
        Files.writeString(tmp.resolve("pom.xml"), pom(driverJar, pluginJar));

        String pgUrl = pg.createDatabase("flyway_plugin");
        String url = "jdbc:bellows:" + pgUrl.substring("jdbc:".length());
        Run run = maven(root, url, sql, rules, "migrate", "info");
        assertEquals(0, run.exit, run.out);
        assertTrue(!run.out.contains("No Flyway database plugin found"), run.out);
        assertTrue(run.out.contains("Successfully applied 3 migrations"), run.out);
        assertTrue(run.out.contains("| seed") && run.out.contains("Success"), run.out);

        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT string_agg(version || ':' || success, ',' ORDER BY installed_rank)"
                 + " FROM flyway_schema_history")) {
            rs.next();
            assertEquals("1:true,2:true,3:true", rs.getString(1));
        }
        try (Connection c = pg.connect(pgUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT user_email, contact_email FROM leads")) {
            assertTrue(rs.next());
            assertEquals("a@x.org|a@x.org", rs.getString(1) + "|" + rs.getString(2), "Flyway's INSERT went through Bellows");
        }
    }

    private record Run(int exit, String out) {}

    private Run maven(Path root, String url, Path sql, Path rules, String... goals) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("mvnw").toString(), "-B", "-f", tmp.resolve("pom.xml").toString()));
        String repo = System.getProperty("bellows.maven.repo");
        if (repo != null && !repo.isBlank()) cmd.add("-Dmaven.repo.local=" + repo);
        for (String g : goals) cmd.add("org.flywaydb:flyway-maven-plugin:" + FLYWAY + ":" + g);
        cmd.addAll(List.of("-Dflyway.url=" + url, "-Dflyway.user=" + pg.user(), "-Dflyway.password=" + pg.password(),
            "-Dflyway.locations=filesystem:" + sql, "-Dflyway.postgresql.transactional.lock=false",
            "-Dbellows.rules=" + rules, "-Dbellows.usage=off"));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("nested Maven did not finish:\n" + out);
        }
        System.out.println("$ mvn " + String.join(" ", goals) + "\n" + out);
        return new Run(p.exitValue(), out);
    }

    private static Path driverJar(Path root) throws IOException {
        Path target = root.resolve("driver/target");
        try (Stream<Path> s = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            return s.filter(f -> f.getFileName().toString().matches("bellows-driver-.*-all\\.jar")).findFirst()
                .orElseThrow(() -> new AssertionError("no driver/target/bellows-driver-*-all.jar: package the driver first"
                    + " (./mvnw -B -pl driver -am package -DskipTests), or run the whole build"));
        }
    }

    /** A jar of {@code dir}'s files, services included. */
    private static Path jar(Path dir, Path out) throws IOException {
        try (OutputStream o = Files.newOutputStream(out); JarOutputStream j = new JarOutputStream(o);
             Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                j.putNextEntry(new JarEntry(dir.relativize(f).toString().replace(File.separatorChar, '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
        return out;
    }

    private static String pom(Path driverJar, Path pluginJar) {
        return """
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <groupId>dev.bellows.test</groupId><artifactId>flyway-plugin-check</artifactId><version>1</version>
              <packaging>pom</packaging>
              <build><plugins><plugin>
                <groupId>org.flywaydb</groupId><artifactId>flyway-maven-plugin</artifactId><version>%1$s</version>
                <dependencies>
                  <dependency><groupId>org.flywaydb</groupId><artifactId>flyway-database-postgresql</artifactId><version>%1$s</version></dependency>
                  <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>%2$s</version></dependency>
                  <dependency><groupId>dev.bellows</groupId><artifactId>bellows-driver-all</artifactId><version>local</version>
                    <scope>system</scope><systemPath>%3$s</systemPath></dependency>
                  <dependency><groupId>dev.bellows</groupId><artifactId>bellows-flyway</artifactId><version>local</version>
                    <scope>system</scope><systemPath>%4$s</systemPath></dependency>
                </dependencies>
              </plugin></plugins></build>
            </project>
            """.formatted(FLYWAY, PGJDBC, driverJar, pluginJar);
    }
}
