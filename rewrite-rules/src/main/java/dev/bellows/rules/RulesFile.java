package dev.bellows.rules;

import dev.bellows.rules.file.RulesValidator;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

import org.yaml.snakeyaml.reader.UnicodeReader;

/**
 * Loads a rules file ({@code rules.yaml}) into a validated {@link RuleSet}. See {@code docs/rules.md} for
 * the format. Every problem is reported as a {@link RulesException} naming the file, line and key; the
 * first problem found stops loading. Thread-safe (stateless).
 *
 * <pre>{@code
 * migrations:
 *   - id: leads-contact-email
 *     table: leads
 *     from: user_email
 *     to: contact_email
 *     phase: expand
 * }</pre>
 */
public final class RulesFile {
    /** Prefix of a {@link #load(String, ClassLoader) location} that names a classpath resource. */
    public static final String CLASSPATH_PREFIX = "classpath:";

    private RulesFile() {
    }

    /** Reads and validates a rules file (UTF-8, or UTF-16 with a byte order mark). */
    public static RuleSet load(Path file) throws RulesException {
        Objects.requireNonNull(file, "file");
        String source = file.toString();
        try (InputStream in = Files.newInputStream(file)) {
            return parse(read(in), source);
        } catch (NoSuchFileException e) {
            throw new RulesException(source, 0, null, null, "file not found", e);
        } catch (AccessDeniedException e) {
            throw new RulesException(source, 0, null, null, "cannot read the file: permission denied", e);
        } catch (CharacterCodingException e) {
            throw new RulesException(source, 0, null, null, "cannot read the file: not valid UTF-8", e);
        } catch (IOException e) {
            throw new RulesException(source, 0, null, null, "cannot read the file: " + e.getMessage(), e);
        }
    }

    /**
     * Reads and validates the rules at {@code location}: a filesystem path, or {@code classpath:name.yaml}
     * for a resource of {@code classLoader} (null: the thread's context class loader, else this class's).
     * The location as given is the rule set's {@link RuleSet#source() source} and the file in error messages.
     */
    public static RuleSet load(String location, ClassLoader classLoader) throws RulesException {
        Objects.requireNonNull(location, "location");
        String trimmed = location.trim();
        if (!trimmed.startsWith(CLASSPATH_PREFIX)) {
            Path path;
            try {
                path = Path.of(trimmed);
            } catch (InvalidPathException e) {
                throw new RulesException(location, 0, null, null, "not a valid path: " + e.getReason(), e);
            }
            return load(path);
        }
        String name = trimmed.substring(CLASSPATH_PREFIX.length());
        while (name.startsWith("/")) name = name.substring(1);
        if (name.isEmpty()) {
            throw new RulesException(location, 0, null, null, "no resource name after 'classpath:'");
        }
        ClassLoader cl = classLoader;
        if (cl == null) cl = Thread.currentThread().getContextClassLoader();
        if (cl == null) cl = RulesFile.class.getClassLoader();
        try (InputStream in = cl == null ? ClassLoader.getSystemResourceAsStream(name) : cl.getResourceAsStream(name)) {
            if (in == null) {
                throw new RulesException(location, 0, null, null, "classpath resource '" + name + "' not found");
            }
            return parse(read(in), trimmed);
        } catch (CharacterCodingException e) {
            throw new RulesException(location, 0, null, null, "cannot read the resource: not valid UTF-8", e);
        } catch (IOException e) {
            throw new RulesException(location, 0, null, null, "cannot read the resource: " + e.getMessage(), e);
        }
    }

    /**
     * Validates rules given as text. {@code sourceName} names them in error messages and becomes the rule
     * set's {@link RuleSet#source() source} (null: {@code <string>}).
     */
    public static RuleSet parse(String yamlText, String sourceName) throws RulesException {
        Objects.requireNonNull(yamlText, "yamlText");
        return RulesValidator.parse(yamlText, sourceName == null ? "<string>" : sourceName);
    }

    private static String read(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Reader r = new UnicodeReader(in)) {
            char[] buf = new char[8192];
            for (int n; (n = r.read(buf)) > 0; ) sb.append(buf, 0, n);
        }
        return sb.toString();
    }
}
