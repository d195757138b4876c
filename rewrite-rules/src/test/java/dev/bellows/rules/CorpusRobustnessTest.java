package dev.bellows.rules;

import dev.bellows.rules.sql.ParseGuard;
import dev.bellows.rules.sql.ParseText;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Wrapped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the rewriter over PostgreSQL 16's regression suite ({@code shared/corpus/pg-regress-16.jsonl}, 40,865
 * statements nobody on this project wrote; see the corpus README): real, varied and often strange SQL.
 *
 * <p>(a) Rules on names the corpus never uses must leave every statement byte for byte as written, without facts.
 * (b) Rules on {@code tenk1.unique1} and {@code onek.stringu1}, names the corpus uses hundreds of times, in each
 * phase: nothing throws, nothing takes long, and every output is untouched, unanalysed (and untouched), or a
 * rewrite that JSqlParser parses again, of a statement that named a managed column.
 *
 * <p>Where the corpus comes from is {@link CorpusLocation}'s job: {@code -Dbellows.corpus=PATH} (or
 * {@code BELLOWS_CORPUS}), or, under {@code CI=true}, {@code ../shared/corpus/} beside the repository. With either,
 * a missing or unreadable corpus fails the build. With neither (a user's clone), the class is aborted with a
 * message saying how to run it: JUnit and Surefire report it as skipped, never as passed.
 */
class CorpusRobustnessTest {
    static final int EXPECTED_STATEMENTS = 40_865;
    /** Safety bound per statement (not a performance target). */
    static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(2);
    // The bound is on this thread's CPU time, not wall-clock time, so a loaded build machine cannot fail it.
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    /** Past this the whole run is abandoned and the statement in flight reported (a hang, not a slow statement). */
    static final long WATCHDOG_SECONDS = 120;
    static final int EXAMPLES = 20;

    static final List<String> REGRESS_COLUMNS = List.of("unique1", "unique2", "two", "four", "ten", "twenty",
        "hundred", "thousand", "twothousand", "fivethous", "tenthous", "odd", "even", "stringu1", "stringu2", "string4");

    static List<Entry> corpus;
    /** Why the corpus tests cannot run here, or null. */
    static String notRun;

    record Entry(int line, String file, String kind, String sql) {}

    @BeforeAll
    static void load() throws IOException {
        CorpusLocation where = CorpusLocation.resolve();
        if (!where.found()) {
            if (where.required()) fail(where.problem());
            // A user's clone has no corpus: each test aborts in @BeforeEach, so every one is reported as skipped
            // with the reason (an abort here in @BeforeAll would make Surefire report no test at all).
            notRun = where.problem();
            // Past Surefire's output redirection, so the reason shows in the build log beside "Skipped: 2".
            new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8)
                .println("[WARNING] " + notRun);
            return;
        }
        Path p = where.path();
        List<Entry> out = new ArrayList<>(EXPECTED_STATEMENTS);
        try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) continue;
                Map<String, String> o = Json.object(line, n);
                String sql = o.get("sql");
                if (sql == null) fail(p + ":" + n + ": no \"sql\" field");
                out.add(new Entry(n, o.get("file"), o.get("kind"), sql));
            }
        } catch (IOException e) {
            fail("robustness corpus " + p + " is unreadable: " + e);
        }
        assertEquals(EXPECTED_STATEMENTS, out.size(), "statements in " + p);
        corpus = out;
        System.out.println("[corpus] " + out.size() + " statements from " + p);
    }

    @BeforeEach
    void corpusPresent() {
        if (notRun != null) Assumptions.abort(notRun);
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void rulesOnNamesTheCorpusNeverUsesLeaveEveryStatementAsWritten() throws Exception {
        Rewriter rw = Rewriter.create(
            RuleSet.of(Migration.rename("zz-none", "zz_bellows_none", "zz_old_col", "zz_new_col", Phase.SWITCH)),
            Catalog.of(Map.of("zz_bellows_none", List.of("id", "zz_old_col", "zz_new_col"))));
        Failures failures = new Failures();
        guarded(() -> {
            for (Entry e : corpus) {
                current = e;
                Rewrite r;
                try {
                    r = rw.rewrite(e.sql);
                } catch (Throwable t) {
                    failures.add("exception", e, null, t.toString());
                    continue;
                }
                // equal, not identical: a statement seen before comes back from the cache with the text first seen
                if (!e.sql.equals(r.sql()) || r.changed()) {
                    failures.add("changed", e, null, "got: " + r.sql());
                } else if (!r.facts().isEmpty()) {
                    failures.add("facts", e, null, r.facts().toString());
                } else if (r.unanalysedReason() != null) {
                    failures.add("unanalysed", e, null, r.unanalysedReason());
                }
            }
            return null;
        });
        failures.assertNone("rules naming nothing in the corpus");
    }

    @Test
    void rulesOnBusyColumnsNeverBreakAStatementInAnyPhase() throws Exception {
        Failures failures = new Failures();
        Map<Phase, int[]> counts = new EnumMap<>(Phase.class);
        Map<Phase, Long> phaseNanos = new EnumMap<>(Phase.class);
        Map<Phase, Map<String, Integer>> reasons = new EnumMap<>(Phase.class);
        long[] slowest = {0};
        Entry[] slowestEntry = {null};
        Phase[] slowestPhase = {null};
        guarded(() -> {
            for (Phase phase : Phase.values()) {
                RuleSet rules = busyRules(phase);
                Rewriter rw = Rewriter.create(rules, regressCatalog());
                int rewritten = 0, unanalysed = 0, untouched = 0;
                Map<String, Integer> why = new TreeMap<>();
                reasons.put(phase, why);
                long t0 = System.nanoTime();
                for (Entry e : corpus) {
                    current = e;
                    currentPhase = phase;
                    Rewrite r;
                    long s = CPU.getCurrentThreadCpuTime();
                    try {
                        r = rw.rewrite(e.sql);
                    } catch (Throwable t) {
                        failures.add("exception", e, phase, t.toString());
                        continue;
                    }
                    long took = CPU.getCurrentThreadCpuTime() - s;
                    if (took > slowest[0]) {
                        slowest[0] = took;
                        slowestEntry[0] = e;
                        slowestPhase[0] = phase;
                    }
                    if (took >= BOUND_NANOS) failures.add("slower than 2 s", e, phase, took / 1_000_000 + " ms");
                    if (r == null || r.facts() == null) {
                        failures.add("null result", e, phase, String.valueOf(r));
                        continue;
                    }
                    boolean identical = e.sql.equals(r.sql());
                    if (!identical && !mentionsManaged(e.sql, rules)) {
                        failures.add("changed without naming a managed column or table", e, phase, "got: " + r.sql());
                    }
                    if (r.isUnanalysed()) {
                        unanalysed++;
                        why.merge(reasonKind(r.unanalysedReason()), 1, Integer::sum);
                        if (!identical) failures.add("unanalysed but changed", e, phase,
                            "reason: " + r.unanalysedReason() + "\n    got: " + r.sql());
                    } else if (identical) {
                        untouched++;
                    } else {
                        rewritten++;
                        String err = reparseError(r.sql());
                        if (err != null) failures.add("rewrite does not parse again", e, phase, "got: " + r.sql() + "\n    " + err);
                    }
                }
                phaseNanos.put(phase, System.nanoTime() - t0);
                counts.put(phase, new int[] {rewritten, unanalysed, untouched});
            }
            return null;
        });

        StringBuilder report = new StringBuilder("[corpus] tenk1.unique1 -> unique1_new, onek.stringu1 -> stringu1_new\n");
        report.append(String.format(Locale.ROOT, "[corpus] %-9s %9s %10s %9s %8s%n", "phase", "rewritten", "unanalysed", "untouched", "time"));
        for (Phase p : Phase.values()) {
            int[] c = counts.get(p);
            report.append(String.format(Locale.ROOT, "[corpus] %-9s %9d %10d %9d %6d ms%n", p.label(), c[0], c[1], c[2],
                phaseNanos.get(p) / 1_000_000));
        }
        for (Phase p : Phase.values()) {
            report.append("[corpus] unanalysed in ").append(p.label()).append(", by reason:\n");
            reasons.get(p).entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(x -> report.append(String.format(Locale.ROOT, "[corpus]   %5d  %s%n", x.getValue(), x.getKey())));
        }
        if (slowestEntry[0] != null) {
            report.append(String.format(Locale.ROOT, "[corpus] slowest statement: %.1f ms (%s, %s line %d, %s): %s%n",
                slowest[0] / 1e6, slowestPhase[0].label(), slowestEntry[0].file, slowestEntry[0].line, slowestEntry[0].kind,
                abbreviate(slowestEntry[0].sql, 200)));
        }
        System.out.print(report);
        failures.assertNone("rules on tenk1.unique1 and onek.stringu1");
        for (Phase p : Phase.values()) {
            int[] c = counts.get(p);
            assertEquals(EXPECTED_STATEMENTS, c[0] + c[1] + c[2], "every statement classified in " + p);
        }
        assertTrue(slowest[0] < BOUND_NANOS, "slowest statement took " + slowest[0] / 1_000_000 + " ms of CPU time");
    }

    /** An unanalysed reason without its statement-specific detail, for counting. */
    static String reasonKind(String reason) {
        String r = reason.replaceAll("\\(\\d+ of \\d+ mentions understood\\)", "(n of m mentions understood)");
        if (r.startsWith("not parsed: ")) return "not parsed by JSqlParser";
        return abbreviate(r, 120);
    }

    static RuleSet busyRules(Phase phase) {
        return RuleSet.of(
            Migration.rename("tenk1-unique1", "tenk1", "unique1", "unique1_new", phase),
            Migration.rename("onek-stringu1", "onek", "stringu1", "stringu1_new", phase));
    }

    /**
     * tenk1 and onek as the regression database has them, each with its new column added at the end; tenk2 and
     * onek2 (copies of them there) are listed too, as the catalog contract asks for every table with such a column.
     */
    static Catalog regressCatalog() {
        Map<String, List<String>> t = new LinkedHashMap<>();
        List<String> tenk1 = new ArrayList<>(REGRESS_COLUMNS);
        tenk1.add("unique1_new");
        List<String> onek = new ArrayList<>(REGRESS_COLUMNS);
        onek.add("stringu1_new");
        t.put("tenk1", tenk1);
        t.put("onek", onek);
        t.put("tenk2", REGRESS_COLUMNS);
        t.put("onek2", REGRESS_COLUMNS);
        return Catalog.of(t);
    }

    /**
     * Whether {@code sql} names, in any case, a managed column (old or new) or a managed table: a table is enough
     * since {@code SELECT *} over it is expanded.
     */
    static boolean mentionsManaged(String sql, RuleSet rules) {
        String l = sql.toLowerCase(Locale.ROOT);
        for (Migration m : rules.migrations()) {
            for (String n : new String[] {m.from(), m.to(), m.table()}) {
                if (l.contains(n.toLowerCase(Locale.ROOT))) return true;
            }
        }
        return false;
    }

    /**
     * Null when every statement of {@code sql} parses with {@link ParseGuard#parse(String)} (as
     * {@code RewriteCasesTest.assertReparses} checks), else the first that does not and why.
     */
    static String reparseError(String sql) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        java.util.Set<String> parsed = new java.util.HashSet<>(); // 10,000 copies of one statement parse once
        int from = 0, depth = 0;
        for (int i = 0; i <= t.count; i++) {
            if (i < t.count) {
                if (t.kind[i] == SqlLexer.LPAREN) depth++;
                if (t.kind[i] == SqlLexer.RPAREN) depth--;
                if (!(t.kind[i] == SqlLexer.SEMI && depth == 0)) continue;
            }
            int first = from;
            while (first < i && t.kind[first] == SqlLexer.COMMENT) first++;
            Wrapped.Inner w = first < i ? Wrapped.of(t, first, i) : null; // JSqlParser reads the carried statement only
            if (first < i && w == null && t.isWord(first, "copy")) first = i; // COPY of a table is read from tokens
            if (first < i) {
                int a = w != null ? w.first() : first, b = w != null ? w.to() : i;
                // Long runs of bare values blanked as the engine does before parsing: they hold no column reference,
                // and JSqlParser's lookahead over 9,000 of them costs minutes on a loaded machine.
                String piece = ParseText.of(sql, t, a, b, new int[1]).substring(t.start[a], t.end[b - 1]);
                if (!parsed.add(piece)) {
                    from = i + 1;
                    continue;
                }
                try {
                    ParseGuard.parse(piece);
                } catch (Exception | StackOverflowError e) {
                    String m = String.valueOf(e.getMessage());
                    int nl = m.indexOf('\n');
                    return "does not parse: " + abbreviate(piece, 300) + " (" + (nl < 0 ? m : m.substring(0, nl)) + ")";
                }
            }
            from = i + 1;
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------

    static volatile Entry current;
    static volatile Phase currentPhase;

    /**
     * Runs {@code body} on a daemon thread so that a hang fails the test naming the statement in flight instead of
     * hanging CI; the runaway thread is then stopped ({@link Thread#stop} still works on Java 17).
     */
    @SuppressWarnings({"removal", "deprecation"})
    static void guarded(Callable<Void> body) throws Exception {
        Throwable[] error = {null};
        Thread th = new Thread(() -> {
            try {
                body.call();
            } catch (Throwable t) {
                error[0] = t;
            }
        }, "corpus-robustness");
        th.setDaemon(true);
        th.start();
        th.join(TimeUnit.SECONDS.toMillis(WATCHDOG_SECONDS));
        if (th.isAlive()) {
            Entry e = current;
            try {
                th.stop();
            } catch (UnsupportedOperationException ignored) {
                // newer JDKs: left to finish on its own
            }
            fail("corpus run did not finish in " + WATCHDOG_SECONDS + " s; in flight"
                + (currentPhase == null ? "" : " (" + currentPhase.label() + ")") + ": "
                + (e == null ? "?" : e.file + " line " + e.line + ": " + abbreviate(e.sql, 500)));
        }
        if (error[0] instanceof Exception) throw (Exception) error[0];
        if (error[0] instanceof Error) throw (Error) error[0];
    }

    /** Failures by category; reports the smallest examples of each. */
    static final class Failures {
        final Map<String, List<String[]>> byCategory = new TreeMap<>();
        int total;

        synchronized void add(String category, Entry e, Phase phase, String detail) {
            total++;
            byCategory.computeIfAbsent(category, k -> new ArrayList<>()).add(new String[] {
                e.sql, (phase == null ? "" : "[" + phase.label() + "] ") + e.file + " line " + e.line + " (" + e.kind + ")", detail});
        }

        void assertNone(String what) {
            if (total == 0) return;
            StringBuilder sb = new StringBuilder(what + ": " + total + " failure(s)\n");
            for (Map.Entry<String, List<String[]>> c : byCategory.entrySet()) {
                List<String[]> l = new ArrayList<>(c.getValue());
                l.sort(Comparator.comparingInt(a -> a[0].length()));
                sb.append("== ").append(c.getKey()).append(": ").append(l.size()).append('\n');
                for (String[] x : l.subList(0, Math.min(EXAMPLES, l.size()))) {
                    sb.append("  ").append(x[1]).append("\n    sql: ").append(abbreviate(x[0], 600).replace("\n", "\n         "))
                      .append("\n    ").append(abbreviate(x[2], 800).replace("\n", "\n    ")).append('\n');
                }
            }
            System.out.println(sb);
            fail(sb.toString());
        }
    }

    static String abbreviate(String s, int max) {
        if (s == null) return "null";
        return s.length() <= max ? s : s.substring(0, max) + "… (" + s.length() + " chars)";
    }

    /** Just enough JSON for one flat object per line whose values are strings (other values are skipped as text). */
    static final class Json {
        static Map<String, String> object(String s, int line) {
            Json j = new Json(s, line);
            return j.obj();
        }

        private final String s;
        private final int line;
        private int i;

        private Json(String s, int line) {
            this.s = s;
            this.line = line;
        }

        private Map<String, String> obj() {
            Map<String, String> m = new LinkedHashMap<>();
            ws();
            expect('{');
            ws();
            if (peek() == '}') return m;
            while (true) {
                ws();
                String k = str();
                ws();
                expect(':');
                ws();
                String v = peek() == '"' ? str() : scalar();
                m.put(k, v);
                ws();
                char c = next();
                if (c == '}') return m;
                if (c != ',') throw error("expected , or }");
            }
        }

        private String scalar() {
            int st = i;
            while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) i++;
            return s.substring(st, i);
        }

        private String str() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') return sb.toString();
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"': case '\\': case '/': sb.append(e); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw error("short \\u escape");
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: throw error("bad escape \\" + e);
                }
            }
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private char peek() {
            if (i >= s.length()) throw error("unexpected end");
            return s.charAt(i);
        }

        private char next() {
            char c = peek();
            i++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) throw error("expected " + c);
        }

        private IllegalArgumentException error(String m) {
            return new IllegalArgumentException("corpus line " + line + ", column " + i + ": " + m);
        }
    }
}
