package dev.bellows.rules;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the robustness corpus ({@value #FILE}) is, and whether its absence is an error.
 *
 * <p>The corpus is not part of the repository, so a user's clone has none, and the build reads no path outside the
 * repository unless told to. It is told by {@code -Dbellows.corpus=PATH} or {@code BELLOWS_CORPUS=PATH} (any
 * machine), or by {@code CI=true} (the project's CI, which always lays {@code shared/} beside the clone): then the
 * corpus is required, and a missing or unreadable file fails the build. Otherwise it is optional and the test
 * reports that it did not run.
 */
record CorpusLocation(Path path, boolean required, String problem) {
    static final String FILE = "pg-regress-16.jsonl";
    static final String PROPERTY = "bellows.corpus";
    static final String ENV = "BELLOWS_CORPUS";

    boolean found() {
        return problem == null;
    }

    static CorpusLocation resolve() {
        return resolve(System.getProperty(PROPERTY), System.getenv(ENV), System.getenv("CI"), Path.of("").toAbsolutePath());
    }

    static CorpusLocation resolve(String property, String env, String ci, Path workingDir) {
        String given = notBlank(property) ? property : notBlank(env) ? env : null;
        if (given != null) {
            String source = notBlank(property) ? "-D" + PROPERTY : ENV;
            return check(Path.of(given), true, source + "=" + given);
        }
        if ("true".equalsIgnoreCase(ci)) {
            Path root = repositoryRoot(workingDir);
            if (root == null) {
                return new CorpusLocation(null, true, "CI=true but no repository root (a directory with .mvn/) above "
                    + workingDir + ", so shared/corpus/" + FILE + " beside it cannot be found; set -D" + PROPERTY + "=PATH");
            }
            return check(root.resolveSibling("shared").resolve("corpus").resolve(FILE), true,
                "CI=true (shared/ beside the repository)");
        }
        return new CorpusLocation(null, false, "CorpusRobustnessTest did not run: the corpus " + FILE + " (PostgreSQL 16's"
            + " regression statements) is not part of the repository. To run it: ./mvnw -B -pl rewrite-rules -am test"
            + " -Dtest=CorpusRobustnessTest -Dsurefire.failIfNoSpecifiedTests=false -D" + PROPERTY + "=/path/to/" + FILE + " (or BELLOWS_CORPUS=...). Under CI=true"
            + " it is required and read from ../shared/corpus/ beside the repository.");
    }

    private static CorpusLocation check(Path p, boolean required, String how) {
        if (!Files.isRegularFile(p)) {
            return new CorpusLocation(p, required, "robustness corpus not found: " + p.toAbsolutePath().normalize()
                + " (from " + how + ") is not a file");
        }
        if (!Files.isReadable(p)) {
            return new CorpusLocation(p, required, "robustness corpus " + p.toAbsolutePath().normalize() + " (from " + how
                + ") is not readable");
        }
        return new CorpusLocation(p.toAbsolutePath().normalize(), required, null);
    }

    /** The nearest directory at or above {@code dir} holding the Maven wrapper's {@code .mvn/}: the repository's root. */
    static Path repositoryRoot(Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve(".mvn")) && Files.isRegularFile(d.resolve("pom.xml"))) return d;
        }
        return null;
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}
