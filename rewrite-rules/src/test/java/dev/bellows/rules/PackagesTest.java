package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module's one entry point is {@code dev.bellows.rules}; its subpackages are internals, layered in pipeline
 * order: {@code sql} (tokens, templates, the guarded parse) under {@code rewriting} (splicing) under
 * {@code analysis}, which the entry package's {@code Rewriter} drives; {@code file} reads rules files for
 * {@code RulesFile}. Java cannot hide a public class of a subpackage without JPMS, so this test does: other
 * modules name no subpackage, and each subpackage names only those below it. Class references are read from
 * the constant pools of compiled classes (as the driver's ArchitectureTest does), so a fully qualified name or a
 * signature counts as much as an import; the other modules' sources are read too, for modules not built yet.
 */
class PackagesTest {
    /** dev/bellows/rules/{package/}Class in a constant-pool entry; group 1 is the subpackage, empty for the entry. */
    private static final Pattern CLASS_REF = Pattern.compile("dev/bellows/rules/((?:[a-z][a-z0-9_]*/)*)[A-Z][A-Za-z0-9_$]*");
    /** A subpackage named in source text: dev.bellows.rules.x..., an import, a wildcard or a fully qualified name. */
    private static final Pattern SOURCE_REF = Pattern.compile("dev\\.bellows\\.rules\\.[a-z][a-z0-9_]*");

    /** The packages of this module (the entry is "") and the other ones each may name. */
    private static final Map<String, Set<String>> MAY_NAME = Map.of(
        "", Set.of("file", "sql", "analysis"),
        "file", Set.of(""),
        "analysis", Set.of("", "rewriting", "sql"),
        "rewriting", Set.of("sql"),
        "sql", Set.of());

    @Test
    void subpackagesNameOnlyThePackagesBelowThem() throws Exception {
        Path classes = classesRoot();
        List<String> offences = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (Path f : classFiles(classes.resolve("dev/bellows/rules"))) {
            String own = packageOf(classes.relativize(f).toString().replace('\\', '/'));
            seen.add(own);
            Set<String> allowed = MAY_NAME.get(own);
            if (allowed == null) {
                offences.add(classes.relativize(f) + ": package '" + own + "' is new: give it its place here and in docs/architecture.md");
                continue;
            }
            for (String pkg : referencedPackages(Files.readAllBytes(f))) {
                if (!pkg.equals(own) && !allowed.contains(pkg)) offences.add(classes.relativize(f) + " -> dev.bellows.rules." + pkg);
            }
        }
        assertEquals(MAY_NAME.keySet(), seen, "every package of the module was scanned");
        assertEquals(List.of(), offences, "a package of rewrite-rules names one it must not (see docs/architecture.md)");
    }

    @Test
    void otherModulesImportOnlyTheEntryPackage() throws Exception {
        Path project = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(project.resolve("driver/pom.xml")), "not run from rewrite-rules/ in the project: " + project);
        List<String> offences = new ArrayList<>();
        int sources = 0;
        int classFiles = 0;
        try (Stream<Path> modules = Files.list(project)) {
            for (Path module : modules.filter(m -> Files.isRegularFile(m.resolve("pom.xml"))).sorted().toList()) {
                if (module.getFileName().toString().equals("rewrite-rules")) continue;
                for (Path f : files(module.resolve("src"), p -> p.matches(".*\\.(java|kt|groovy|xml|properties|imports|factories)"))) {
                    sources++;
                    Matcher m = SOURCE_REF.matcher(Files.readString(f, StandardCharsets.ISO_8859_1));
                    while (m.find()) offences.add(project.relativize(f) + ": " + m.group());
                }
                for (String out : List.of("target/classes", "target/test-classes")) {
                    for (Path f : classFiles(module.resolve(out))) {
                        classFiles++;
                        for (String pkg : referencedPackages(Files.readAllBytes(f))) {
                            if (!pkg.isEmpty()) offences.add(project.relativize(f) + " -> dev.bellows.rules." + pkg);
                        }
                    }
                }
            }
        }
        // an empty scan would pass whatever the code does
        assertTrue(sources > 100, "only " + sources + " source files found outside rewrite-rules under " + project);
        assertEquals(List.of(), offences, "other modules use dev.bellows.rules only, never its internal subpackages ("
            + sources + " source and " + classFiles + " class files read)");
    }

    /** The readers find what they are meant to find. */
    @Test
    void theReadersSeeReferences() throws Exception {
        byte[] rewriter = Files.readAllBytes(classesRoot().resolve("dev/bellows/rules/Rewriter.class"));
        assertTrue(referencedPackages(rewriter).containsAll(Set.of("", "analysis", "sql")), referencedPackages(rewriter).toString());
        Matcher m = SOURCE_REF.matcher("import dev.bellows.rules.analysis.*; import dev.bellows.rules.Rewrite;");
        assertTrue(m.find());
        assertEquals("dev.bellows.rules.analysis", m.group());
        assertTrue(!m.find(), "an entry-package import is no offence");
    }

    private static String packageOf(String classFile) {
        String rest = classFile.substring("dev/bellows/rules/".length());
        int slash = rest.lastIndexOf('/');
        return slash < 0 ? "" : rest.substring(0, slash);
    }

    private static Path classesRoot() throws URISyntaxException {
        return Path.of(Rewriter.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<Path> classFiles(Path dir) throws IOException {
        return files(dir, p -> p.endsWith(".class"));
    }

    private static List<Path> files(Path dir, java.util.function.Predicate<String> name) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && name.test(p.getFileName().toString())).sorted().toList();
        }
    }

    /** The rewrite-rules packages a class file names ("" for the entry package). */
    private static Set<String> referencedPackages(byte[] classFile) {
        Set<String> out = new TreeSet<>();
        for (String name : utf8Constants(classFile)) {
            Matcher m = CLASS_REF.matcher(name);
            while (m.find()) out.add(m.group(1).isEmpty() ? "" : m.group(1).substring(0, m.group(1).length() - 1));
        }
        return out;
    }

    /** Every UTF-8 entry of the constant pool: class names, descriptors, signatures, annotation types, string literals. */
    private static Set<String> utf8Constants(byte[] classFile) {
        try {
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
                    case 7, 8, 16, 19, 20 -> in.readUnsignedShort();             // Class, String, MethodType, Module, Package
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> { in.readLong(); i++; }                         // Long and Double take two slots
                    case 9, 10, 11, 12, 17, 18 -> in.readInt();
                    case 15 -> { in.readUnsignedByte(); in.readUnsignedShort(); }
                    default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
