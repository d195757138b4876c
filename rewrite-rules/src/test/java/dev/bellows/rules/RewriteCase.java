package dev.bellows.rules;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.yaml.snakeyaml.Yaml;

/**
 * One rewriter case from a case file. A case file is a YAML list of entries:
 * <pre>
 * - name: a plain read is mapped, keeping its label
 *   phase: switch                 # off | expand | switch | contract (all migrations)
 *   catalog: both                 # both (default) | dropped (old columns gone) | recorded (dropped, with the
 *                                 #   order before the drop recorded) | recreated (dropped, then re-created last
 *                                 #   by the way back; order recorded) | before (new not added)
 *   view: new                     # optional: old (default) | new, the bellows.schema of the connection
 *   sql: SELECT user_email FROM leads
 *   expect: SELECT contact_email AS user_email FROM leads   # or: unchanged | unanalysed | rejected
 *   params: "[1, 2, 2]"           # optional: server → client plan; "null" for one to one
 *   facts: [leads-contact-email:read:rewritten]            # optional: exact list
 *   labels: "{user_email=contact_email}"                   # optional
 *   fingerprint: "SELECT user_email FROM leads WHERE id = ?" # optional: of the first fact
 *   reason: cannot tell          # optional: some statement was not analysed, for this reason
 *   search_path: [sales, public]  # optional: the session's search path (default: public)
 * </pre>
 * An entry may list several phases ({@code phases: [off, expand]}) when the expectation is the same.
 */
final class RewriteCase {
    final String file;
    final int index;
    final String name;
    final Phase phase;
    final String catalog;
    final boolean newView;
    final String sql;
    final String expect;
    final String params;
    final List<String> facts;
    final String labels;
    final String fingerprint;
    final String reason;
    /** The session's search path, or null for the default ({@code public}). */
    final List<String> searchPath;

    private RewriteCase(String file, int index, Map<String, Object> m, Phase phase) {
        this.file = file;
        this.index = index;
        this.name = str(m.get("name"));
        this.phase = phase;
        this.catalog = str(m.get("catalog"));
        this.newView = "new".equals(str(m.get("view")));
        this.sql = str(m.get("sql"));
        this.expect = str(m.get("expect"));
        this.params = str(m.get("params"));
        @SuppressWarnings("unchecked") List<Object> f = (List<Object>) m.get("facts");
        this.facts = f == null ? null : f.stream().map(String::valueOf).toList();
        this.labels = str(m.get("labels"));
        this.fingerprint = str(m.get("fingerprint"));
        this.reason = str(m.get("reason"));
        @SuppressWarnings("unchecked") List<Object> sp = (List<Object>) m.get("search_path");
        this.searchPath = sp == null ? null : sp.stream().map(String::valueOf).toList();
    }

    /** The rewriter this case runs with. */
    Rewriter rewriter() {
        Rewriter rw = Rewriter.create(CaseFixture.rules(phase), CaseFixture.catalog(catalog),
            Rewriter.Options.defaults().newView(newView));
        return searchPath == null ? rw : rw.withSearchPath(SearchPath.of(searchPath));
    }

    private static String str(Object o) {
        if (o == null) return null;
        String s = String.valueOf(o);
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    String id() {
        return file + "#" + index + " [" + phase.label() + (newView ? ", new view" : "") + "] " + name;
    }

    static List<RewriteCase> all() {
        try {
            Path dir = Path.of(RewriteCase.class.getResource("/cases").toURI());
            List<RewriteCase> out = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                    out.addAll(load(p));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<RewriteCase> load(Path p) throws IOException {
        List<RewriteCase> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(p)) {
            List<Map<String, Object>> entries = new Yaml().load(in);
            if (entries == null) return out;
            int i = 0;
            for (Map<String, Object> m : entries) {
                i++;
                List<Object> phases = m.containsKey("phases") ? (List<Object>) m.get("phases") : List.of(m.get("phase"));
                for (Object ph : phases) {
                    String phase = Boolean.FALSE.equals(ph) ? "off" : String.valueOf(ph); // YAML 1.1 reads 'off' as false
                    out.add(new RewriteCase(p.getFileName().toString(), i, m, Phase.parse(phase)));
                }
            }
        }
        return out;
    }
}
