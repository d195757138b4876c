package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the corpus test must run, may be skipped, or must fail: the rules of {@link CorpusLocation}. */
class CorpusLocationTest {
    @TempDir Path tmp;

    Path userClone() throws IOException {
        Path repo = Files.createDirectories(tmp.resolve("clone"));
        Files.createDirectories(repo.resolve(".mvn"));
        Files.writeString(repo.resolve("pom.xml"), "<project/>");
        return Files.createDirectories(repo.resolve("rewrite-rules"));
    }

    Path sharedCorpus() throws IOException {
        Path f = Files.createDirectories(tmp.resolve("shared/corpus")).resolve(CorpusLocation.FILE);
        Files.writeString(f, "{}\n");
        return f;
    }

    @Test
    void aUsersCloneWithoutTheCorpusSkipsAndSaysHowToRunIt() throws IOException {
        sharedCorpus(); // even when a shared/ happens to lie beside the clone, nothing outside it is read unasked
        CorpusLocation l = CorpusLocation.resolve(null, null, null, userClone());
        assertFalse(l.found());
        assertFalse(l.required());
        assertNull(l.path());
        assertTrue(l.problem().contains("-Dbellows.corpus="), l.problem());
        assertTrue(l.problem().contains(CorpusLocation.FILE), l.problem());
    }

    @Test
    void underCiTheCorpusBesideTheRepositoryIsRequired() throws IOException {
        Path module = userClone();
        CorpusLocation missing = CorpusLocation.resolve(null, null, "true", module);
        assertFalse(missing.found());
        assertTrue(missing.required());
        assertTrue(missing.problem().contains("not a file"), missing.problem());

        Path f = sharedCorpus();
        CorpusLocation present = CorpusLocation.resolve(null, null, "true", module);
        assertTrue(present.found(), present.problem());
        assertEquals(f.toAbsolutePath().normalize(), present.path());
    }

    @Test
    void anExplicitPathIsRequiredWhereverItIsGiven() throws IOException {
        Path module = userClone();
        CorpusLocation bad = CorpusLocation.resolve(tmp.resolve("nope.jsonl").toString(), null, null, module);
        assertTrue(bad.required());
        assertFalse(bad.found());
        assertTrue(bad.problem().contains("-Dbellows.corpus="), bad.problem());

        Path f = sharedCorpus();
        assertEquals(f.toAbsolutePath().normalize(), CorpusLocation.resolve(null, f.toString(), null, module).path());
        // the property wins over the environment
        CorpusLocation both = CorpusLocation.resolve(tmp.resolve("nope.jsonl").toString(), f.toString(), null, module);
        assertFalse(both.found());
    }
}
