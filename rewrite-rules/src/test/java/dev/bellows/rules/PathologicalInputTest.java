package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Hostile and degenerate input: every call returns within a safety bound, never throws, and sends the statement
 * as written (unchanged, or unanalysed with a reason); input naming the managed table and column leaves an
 * UNANALYSED fact; no fact fingerprint carries a literal from the input.
 *
 * <p>The 2-second bound is a safety net against runaway parsing, not a performance test. It is on the CPU time of the
 * calling thread, so a loaded build machine cannot fail it; a call that does not return at all fails after
 * {@link #HANG_MILLIS} of wall-clock time instead of hanging the build.
 */
class PathologicalInputTest {
    static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** A call still running after this is abandoned (and its thread stopped) so one hang cannot stall the build. */
    static final long HANG_MILLIS = 30_000;
    static final String SECRET = "secret@example.com";
    static final String SECRET_NUMBER = "987654321987";

    /**
     * One hostile input. {@code namesManaged}: it names table {@code leads} and column {@code user_email} as
     * identifiers and is past a limit or not valid SQL, so it must come out unanalysed with an UNANALYSED fact.
     * {@code mayRewrite}: it is valid SQL within every limit, so a rewrite (that parses again) is also right.
     */
    record Input(String name, String sql, boolean namesManaged, boolean mayRewrite) {
        Input(String name, String sql, boolean namesManaged) {
            this(name, sql, namesManaged, false);
        }
    }

    static List<Input> inputs() {
        List<Input> in = new ArrayList<>();
        String where = " WHERE name = '" + SECRET + "' AND id = " + SECRET_NUMBER;

        // deep nesting around a managed column reference
        for (int depth : new int[] {33, 1_000, 9_990, 10_000, 100_000}) {
            in.add(new Input("select list nested " + depth + " parentheses deep",
                "SELECT " + "(".repeat(depth) + "user_email" + ")".repeat(depth) + " FROM leads" + where, true));
        }
        in.add(new Input("where clause nested 10,000 parentheses deep",
            "SELECT id FROM leads WHERE " + "(".repeat(10_000) + "user_email = '" + SECRET + "'" + ")".repeat(10_000), true));
        in.add(new Input("10,000 unbalanced opening parentheses",
            "SELECT " + "(".repeat(10_000) + "user_email FROM leads" + where, true));
        in.add(new Input("10,000 unbalanced closing parentheses",
            "SELECT user_email" + ")".repeat(10_000) + " FROM leads" + where, true));
        StringBuilder sub = new StringBuilder("SELECT user_email FROM leads" + where);
        for (int i = 0; i < 1_000; i++) sub.insert(0, "SELECT * FROM (").append(") s").append(i);
        in.add(new Input("1,000 nested derived tables", sub.toString(), true));

        // a 100,000-element IN list on the managed column: strings, numbers, JDBC parameters
        in.add(new Input("IN list of 100,000 strings", inList(100_000, i -> i == 0 ? "'" + SECRET + "'" : "'v" + i + "'"), true));
        in.add(new Input("IN list of 100,000 numbers", inList(100_000, i -> i == 0 ? SECRET_NUMBER : Integer.toString(i)), true));
        in.add(new Input("IN list of 100,000 parameters", inList(100_000, i -> "?"), true));

        // megabytes of SQL mentioning the managed column
        in.add(new Input("5 MB statement", fiveMegabytes(), true));
        in.add(new Input("5 MB string literal", "SELECT user_email FROM leads WHERE name = '" + SECRET + "x".repeat(5 << 20) + "'", true));
        in.add(new Input("secret literal straddling the 2,048-character fingerprint prefix", straddle(), true));

        // big but within every limit: these reach JSqlParser and may legitimately be rewritten
        // JSqlParser's simple grammar gives up past 16 nested parentheses and its complex one is exponential in them
        for (int depth : new int[] {16, 17, 32}) {
            in.add(new Input("select list nested " + depth + " parentheses deep (within limits)",
                "SELECT " + "(".repeat(depth) + "user_email" + ")".repeat(depth) + " FROM leads" + where, false, true));
        }
        in.add(new Input("12 parentheses deep with a syntax error",
            "SELECT " + "(".repeat(12) + "user_email" + ")".repeat(12) + " FROM leads WHERE name = '" + SECRET + "' AND", true));
        in.add(new Input("IN list of 9,000 strings (within limits)",
            inList(9_000, i -> i == 0 ? "'" + SECRET + "'" : "'v" + i + "'"), false, true));
        in.add(new Input("4,900 ORs on the managed column (within limits)", orChain(4_900), false, true));
        in.add(new Input("2,400 parenthesised comparisons joined by AND and OR (within limits)", andOr(2_400), false, true));

        // a long chain of ORs
        in.add(new Input("5,000 ORs on the managed column", orChain(5_000), true));
        in.add(new Input("20,000 ORs on the managed column", orChain(20_000), true));

        // unterminated constructs (PostgreSQL rejects every one of these)
        in.add(new Input("unterminated string", "SELECT user_email FROM leads WHERE name = '" + SECRET, true));
        in.add(new Input("unterminated escape string", "SELECT user_email FROM leads WHERE name = E'" + SECRET + "\\'", true));
        in.add(new Input("unterminated block comment", "SELECT user_email FROM leads /* " + SECRET, true));
        in.add(new Input("unterminated nested block comment", "SELECT user_email FROM leads /* /* " + SECRET + " */", true));
        in.add(new Input("unterminated dollar quote", "SELECT user_email FROM leads WHERE name = $q$" + SECRET, true));
        in.add(new Input("unterminated quoted identifier", "SELECT user_email FROM leads WHERE \"name = '" + SECRET + "'", true));
        in.add(new Input("unterminated string before the managed column",
            "SELECT id FROM leads WHERE name = '" + SECRET + " AND user_email = 1", false));

        // binary garbage
        Random rnd = new Random(20240611);
        in.add(new Input("64 KiB of random UTF-16 code units", randomChars(rnd, 64 * 1024, 0x10000), false));
        in.add(new Input("64 KiB of random Latin-1 bytes", randomChars(rnd, 64 * 1024, 0x100), false));
        in.add(new Input("random bytes around the managed names",
            randomChars(rnd, 4096, 0x100) + " user_email leads '" + SECRET + "' " + randomChars(rnd, 4096, 0x100), false));
        in.add(new Input("NUL bytes inside a statement",
            "SELECT user_email\0 FROM leads\0" + where + "\0", true));
        in.add(new Input("lone surrogates inside a statement",
            "SELECT user_email, '\uD800" + SECRET + "\uDFFF' FROM leads \uDC00", true));
        in.add(new Input("managed name then 10,000 semicolons (valid, within limits)",
            "SELECT user_email FROM leads" + where + ";".repeat(10_000), false, true));
        in.add(new Input("10,000 statements in one string",
            ("SELECT user_email FROM leads" + where + ";").repeat(10_000), true));

        // nothing much
        in.add(new Input("empty string", "", false));
        in.add(new Input("whitespace only", " \t\r\n ".repeat(1000), false));
        in.add(new Input("a lone semicolon", ";", false));
        in.add(new Input("a comment only", "-- user_email FROM leads '" + SECRET + "'", false));
        in.add(new Input("the bare managed name", "user_email", false));
        in.add(new Input("null", null, false));
        return in;
    }

    @TestFactory
    Stream<DynamicNode> everyHostileInputInEveryPhase() {
        List<Input> inputs = inputs();
        return Stream.of(Phase.values()).map(phase -> DynamicContainer.dynamicContainer(phase.label(),
            inputs.stream().map(in -> DynamicTest.dynamicTest(in.name, () -> check(phase, in)))));
    }

    static Rewriter rewriter(Phase phase) {
        return Rewriter.create(RuleSet.of(Migration.rename("leads-contact-email", "leads", "user_email", "contact_email", phase)),
            Catalog.of(Map.of("leads", List.of("id", "name", "user_email", "created_at", "contact_email"))));
    }

    static void check(Phase phase, Input in) throws Exception {
        Rewriter rw = rewriter(phase);
        String what = in.name + " [" + phase.label() + "]";
        RunResult run = runBounded(() -> rw.rewrite(in.sql), HANG_MILLIS);
        if (run.error != null) throw new AssertionError(what + ": rewrite threw " + run.error, run.error);
        if (run.hung) fail(what + ": rewrite did not return in " + HANG_MILLIS + " ms of wall-clock time; thread stopped");
        Rewrite r = run.value;
        long[] took = {run.nanos};
        String result = what + " took " + took[0] / 1_000_000 + " ms: " + describe(r);
        System.out.println("[pathological] " + result);
        assertTrue(took[0] < BOUND_NANOS, what + ": took " + took[0] / 1_000_000 + " ms of CPU time (bound 2 s)");
        assertNotNull(r, what + ": null Rewrite");
        assertNotNull(r.facts(), what + ": null facts");

        if (in.sql == null) {
            assertNull(r.sql(), what + ": null in, null out");
            assertTrue(r.facts().isEmpty(), what + ": no facts for null");
            return;
        }
        if (in.mayRewrite && !in.sql.equals(r.sql())) {
            assertNull(r.unanalysedReason(), what + ": unanalysed but changed");
            String err = CorpusRobustnessTest.reparseError(r.sql());
            assertNull(err, what + ": rewrite does not parse again: " + err);
        } else {
            assertTrue(in.sql.equals(r.sql()), what + ": must be sent as written (unchanged or unanalysed), but became "
                + CorpusRobustnessTest.abbreviate(r.sql(), 300) + " — " + describe(r));
            assertTrue(!r.changed(), what + ": changed() must be false");
        }
        if (in.namesManaged) {
            assertNotNull(r.unanalysedReason(), what + ": names the managed table and column but was not marked unanalysed");
            assertTrue(r.facts().stream().anyMatch(x -> x.treatment() == UsageFact.Treatment.UNANALYSED
                    && x.migrationId().equals("leads-contact-email")),
                what + ": names leads.user_email but has no UNANALYSED fact: " + r.facts());
        }
        for (UsageFact fact : r.facts()) {
            String fp = fact.fingerprint();
            assertNotNull(fp, what + ": null fingerprint");
            for (String secret : new String[] {SECRET, "secret@", SECRET_NUMBER, "'v1'", "vv1", "xxxxxxxx"}) {
                assertTrue(!fp.contains(secret), what + ": fingerprint carries input literal '" + secret + "': "
                    + CorpusRobustnessTest.abbreviate(fp, 300));
            }
        }
        if (r.unanalysedReason() != null) assertTrue(!r.unanalysedReason().isBlank(), what + ": blank reason");
    }

    record RunResult(Rewrite value, Throwable error, long nanos, boolean hung) {}

    /**
     * Runs {@code call} on a fresh daemon thread and waits at most {@code millis}; a call still running then is
     * stopped ({@link Thread#stop} still works on Java 17 and is the only way to end a runaway parser loop), so it
     * cannot go on burning a core under the rest of the build.
     */
    @SuppressWarnings({"removal", "deprecation"})
    static RunResult runBounded(java.util.function.Supplier<Rewrite> call, long millis) throws InterruptedException {
        Rewrite[] value = {null};
        Throwable[] error = {null};
        long[] nanos = {0};
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean measured = cpu.isCurrentThreadCpuTimeSupported();
        Thread t = new Thread(null, () -> {
            long s = measured ? cpu.getCurrentThreadCpuTime() : System.nanoTime();
            try {
                value[0] = call.get();
            } catch (Throwable e) {
                error[0] = e;
            } finally {
                nanos[0] = (measured ? cpu.getCurrentThreadCpuTime() : System.nanoTime()) - s;
            }
        }, "pathological-input", 0);
        t.setDaemon(true);
        t.start();
        t.join(millis);
        if (t.isAlive()) {
            try {
                t.stop();
            } catch (UnsupportedOperationException ignored) {
                // newer JDKs: the daemon thread is left to finish on its own
            }
            return new RunResult(null, null, TimeUnit.MILLISECONDS.toNanos(millis), true);
        }
        return new RunResult(value[0], error[0], nanos[0], false);
    }

    static String describe(Rewrite r) {
        if (r == null) return "null";
        String sql = r.sql() == null ? "sql=null" : (r.changed() ? "CHANGED" : "as written");
        String reason = r.unanalysedReason() == null ? "analysed" : "unanalysed: " + CorpusRobustnessTest.abbreviate(r.unanalysedReason(), 160);
        return sql + ", " + reason + ", facts=" + r.facts();
    }

    interface Elem {
        String at(int i);
    }

    static String inList(int n, Elem e) {
        StringBuilder sb = new StringBuilder(n * 10);
        sb.append("SELECT id, user_email FROM leads WHERE user_email IN (");
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(", ");
            sb.append(e.at(i));
        }
        return sb.append(')').toString();
    }

    static String orChain(int n) {
        StringBuilder sb = new StringBuilder(n * 30);
        sb.append("SELECT id FROM leads WHERE user_email = '").append(SECRET).append('\'');
        for (int i = 1; i < n; i++) sb.append(" OR user_email = 'v").append(i).append('\'');
        return sb.toString();
    }

    static String andOr(int n) {
        StringBuilder sb = new StringBuilder(n * 40);
        sb.append("SELECT id FROM leads WHERE (user_email = '").append(SECRET).append("')");
        for (int i = 1; i < n; i++) sb.append(i % 2 == 0 ? " AND " : " OR ").append("(user_email <> 'v").append(i).append("')");
        return sb.toString();
    }

    static String fiveMegabytes() {
        StringBuilder sb = new StringBuilder((5 << 20) + 100);
        sb.append("SELECT id, user_email FROM leads WHERE name = '").append(SECRET).append("' AND id = ").append(SECRET_NUMBER);
        int i = 0;
        while (sb.length() < 5 << 20) sb.append(" OR (user_email = 'vv").append(i++).append("' AND id > ").append(i).append(')');
        return sb.toString();
    }

    /** A long statement (past the length limit) whose secret literal starts just before character 2,048. */
    static String straddle() {
        String head = "SELECT id, user_email FROM leads WHERE name = ";
        StringBuilder sb = new StringBuilder(head);
        sb.append("/*").append(" ".repeat(2040 - head.length() - 4)).append("*/");
        sb.append('\'').append(SECRET).append('\'');
        while (sb.length() < 300 * 1024) sb.append(" OR user_email = 'vv").append(sb.length()).append('\'');
        return sb.toString();
    }

    static String randomChars(Random rnd, int n, int bound) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) c[i] = (char) rnd.nextInt(bound);
        return new String(c);
    }

    @org.junit.jupiter.api.Test
    void inputsAreWhatTheyClaim() {
        for (Input in : inputs()) {
            if (in.sql == null) continue;
            if (in.name.startsWith("5 MB")) assertTrue(in.sql.length() >= 5 << 20, in.name + ": " + in.sql.length());
            if (in.name.startsWith("secret literal straddling")) {
                int at = in.sql.indexOf(SECRET);
                assertTrue(at < 2048 && at + SECRET.length() > 2048, "secret at " + at);
            }
        }
        assertEquals(100_000, count(inputs().stream().filter(i -> i.name.equals("IN list of 100,000 parameters"))
            .findFirst().orElseThrow().sql, ", "));
    }

    static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
