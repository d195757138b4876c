package dev.bellows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.flags.FlagWatcher;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The arrows inside the driver module: {@code jdbc} depends on {@code usage}, {@code flags} and {@code workflow},
 * never the reverse. Checked on the compiled classes (nested and synthetic ones included), so a fully qualified
 * name, a signature or an annotation counts as much as an import: a class references another when that one's
 * internal name ({@code dev/bellows/jdbc/...}) appears in its constant pool.
 */
class ArchitectureTest {
    private static final Pattern JDBC = Pattern.compile("dev/bellows/jdbc/[A-Za-z0-9_$/]+");

    @Test
    void usageFlagsAndWorkflowNeverReferenceTheJdbcLayer() throws Exception {
        Path classes = classesRoot();
        List<String> offences = new ArrayList<>();
        for (String pkg : List.of("usage", "flags", "workflow")) {
            List<Path> files = classFiles(classes.resolve("dev/bellows").resolve(pkg));
            // an empty scan would pass whatever the code does
            assertTrue(files.size() >= 5, pkg + ": only " + files.size() + " classes found under " + classes);
            for (Path f : files) {
                Set<String> refs = jdbcReferences(Files.readAllBytes(f));
                if (!refs.isEmpty()) offences.add(classes.relativize(f) + " -> " + refs);
            }
        }
        assertEquals(List.of(), offences, "dev.bellows.{usage,flags,workflow} must not depend on dev.bellows.jdbc;"
            + " move the interface to the side that owns it");
    }

    /** The reader finds what it is meant to find: jdbc's Runtimes does reference jdbc and flags types. */
    @Test
    void theReaderSeesClassReferences() throws Exception {
        byte[] runtimes = Files.readAllBytes(classesRoot().resolve("dev/bellows/jdbc/Runtimes.class"));
        assertTrue(referencedNames(runtimes).contains("dev/bellows/flags/FlagWatcher"));
        assertTrue(jdbcReferences(runtimes).contains("dev/bellows/jdbc/BellowsRuntime"), jdbcReferences(runtimes).toString());
        // CallSites names "dev.bellows.jdbc." as text to skip stack frames: that is no dependency
        byte[] callSites = Files.readAllBytes(classesRoot().resolve("dev/bellows/usage/CallSites.class"));
        assertTrue(new String(callSites, java.nio.charset.StandardCharsets.ISO_8859_1).contains("dev.bellows.jdbc."));
        assertEquals(Set.of(), jdbcReferences(callSites));
    }

    private static Path classesRoot() throws URISyntaxException {
        return Path.of(FlagWatcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<Path> classFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".class")).sorted().toList();
        }
    }

    private static Set<String> jdbcReferences(byte[] classFile) throws IOException {
        Set<String> out = new TreeSet<>();
        for (String name : referencedNames(classFile)) {
            Matcher m = JDBC.matcher(name);
            while (m.find()) out.add(m.group());
        }
        return out;
    }

    /**
     * Every UTF-8 entry of the constant pool: class names, field and method descriptors, generic signatures,
     * annotation types. String literals are included too (fail-safe): a literal naming a jdbc class in its
     * internal form {@code dev/bellows/jdbc/...} is reported as well; dotted text such as CallSites' is not.
     */
    static Set<String> referencedNames(byte[] classFile) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
        if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        Set<String> out = new TreeSet<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> out.add(in.readUTF());
                case 7, 8, 16, 19, 20 -> in.readUnsignedShort();                 // Class, String, MethodType, Module, Package
                case 3, 4 -> in.readInt();
                case 5, 6 -> { in.readLong(); i++; }                             // Long and Double take two slots
                case 9, 10, 11, 12, 17, 18 -> in.readInt();
                case 15 -> { in.readUnsignedByte(); in.readUnsignedShort(); }
                default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
            }
        }
        return out;
    }
}
