package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Generated differential test (issue 13 §2): random legacy statements ({@link LegacySqlGenerator}) run on the
 * old schema through plain pgjdbc and through Bellows on the migrated schema, in expand, switch and contract
 * (old columns dropped), over a rename and a type change. Each statement runs in a transaction on both sides;
 * compared are success or failure, result labels and values (rows as a multiset; {@code *} may add the new
 * columns, which are set aside), update counts, and after every write the stored content of both columns
 * (the old schema's columns against the new ones, and {@code to = up(from)} while both exist). A statement
 * Bellows rejects (BW003) is a documented refusal, counted, not a difference. A difference is shrunk to a
 * minimal statement by lowering the generator's choices, then both transactions roll back and the run goes on.
 *
 * <p>CI runs a fixed seed; {@code -Pgenerated} (driver/pom.xml) runs 100,000 statements per phase with a random
 * seed. {@code -Dbellows.gen.count=N -Dbellows.gen.seed=S} set both (docs/testing.md).
 */
class GeneratedDifferentialTest {
    private static final String UP = DifferentialTest.UP;
    private static final String DOWN = DifferentialTest.DOWN;
    private static final List<String> NEW_COLUMNS = List.of("contact_email", "status_code");

    @Test
    void generatedLegacyStatementsHaveTheSameOutcomesInEveryPhase() throws Exception {
        assertSameOutcomesInEveryPhase("GeneratedDifferentialTest", Integer.getInteger("bellows.gen.count", 1500),
            UnaryOperator.identity());
    }

    /** {@code count} generated statements per phase, every database reached through {@code via}. */
    static void assertSameOutcomesInEveryPhase(String label, int count, UnaryOperator<TestDb> via) throws Exception {
        String seedText = System.getProperty("bellows.gen.seed", "20261207");
        long seed = seedText.equals("random") ? new Random().nextLong() : Long.parseLong(seedText);
        List<String> failures = new ArrayList<>();
        Map<String, String> summary = new LinkedHashMap<>();
        long started = System.nanoTime();
        System.out.printf(label + ": seed %d, %d statements per phase%n", seed, count); // first, for a run cut short
        for (Phase phase : phases()) {
            Run run = new Run(phase, phase, seed, count, via);
            run.execute(failures, 40);
            summary.put(phase.label(), run.stats());
        }
        System.out.printf(label + ": seed %d, %d statements per phase, %d ms; %s%n",
            seed, count, (System.nanoTime() - started) / 1_000_000, summary);
        assertTrue(failures.isEmpty(), failures.size() + " differences (seed " + seed + "):\n" + String.join("\n", failures));
    }

    /** The phases to run: all three, or those {@code -Dbellows.gen.phases=expand,switch} names (long runs side by side). */
    static List<Phase> phases() {
        String p = System.getProperty("bellows.gen.phases", "");
        if (p.isBlank()) return List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT);
        List<Phase> out = new ArrayList<>();
        for (String s : p.split(",")) out.add(Phase.valueOf(s.trim().toUpperCase(Locale.ROOT)));
        return out;
    }

    /**
     * The same with the type change's up/down declared inverse (issue 23 §4): legacy predicates on {@code status}
     * are answered from {@code status_code} ({@code (status_code = up(?) AND down(status_code) = ?)}), with the same
     * outcomes as the old schema. Half the statements, in the phases that read the new column.
     */
    @Test
    void anInverseTypeChangeHasTheSameOutcomes() throws Exception {
        int count = Math.max(200, Integer.getInteger("bellows.gen.count", 1500) / 2);
        long seed = Long.parseLong(System.getProperty("bellows.gen.seed", "20261207").replace("random",
            String.valueOf(new Random().nextLong())));
        List<String> failures = new ArrayList<>();
        Map<String, String> summary = new LinkedHashMap<>();
        for (Phase phase : List.of(Phase.SWITCH, Phase.CONTRACT)) {
            Run run = new Run(phase, phase, seed, count, UnaryOperator.identity());
            run.rules = "classpath:differential/rules-inverse.yaml";
            run.execute(failures, 40);
            summary.put(phase.label(), run.stats());
        }
        System.out.printf("GeneratedDifferentialTest (inverse): seed %d, %d statements per phase; %s%n", seed, count, summary);
        assertTrue(failures.isEmpty(), failures.size() + " differences (seed " + seed + "):\n" + String.join("\n", failures));
    }

    /** The harness can fail: Bellows left in expand after the drop is caught, and its failure shrinks. */
    @Test
    void aWrongPhaseIsCaughtAndShrunk() throws Exception {
        List<String> failures = new ArrayList<>();
        new Run(Phase.CONTRACT, Phase.EXPAND, 7, 40, UnaryOperator.identity()).execute(failures, 1);
        assertTrue(!failures.isEmpty(), "no difference found");
        assertTrue(failures.get(0).contains("minimal: "), failures.get(0));
        String minimal = failures.get(0).substring(failures.get(0).indexOf("minimal: ") + 9);
        String original = failures.get(0).substring(failures.get(0).indexOf(": ") + 2, failures.get(0).indexOf('\n'));
        assertTrue(minimal.length() <= original.length(), failures.get(0));
    }

    /** One phase: a baseline database on the old schema and a migrated one behind Bellows, in lockstep. */
    private static final class Run {
        final Phase phase;
        final Phase bellowsPhase;
        final long seed;
        final int count;
        final UnaryOperator<TestDb> via;
        int baselineErrors, rejected, compared, writes, unanalysed, parameterized, merges;
        final List<UsageFact> facts = new java.util.concurrent.CopyOnWriteArrayList<>();
        String rules = DifferentialTest.RULES;

        /** {@code phase}: the migrated database's state; {@code bellowsPhase}: the phase Bellows is told (the same, but for the harness's own test). */
        Run(Phase phase, Phase bellowsPhase, long seed, int count, UnaryOperator<TestDb> via) {
            this.via = via;
            this.phase = phase;
            this.bellowsPhase = bellowsPhase;
            this.seed = seed;
            this.count = count;
        }

        String stats() {
            return String.format(Locale.ROOT, "%d compared, %d writes, %d MERGE, %d with parameters, baseline errors %.1f%%,"
                    + " %d rejected (BW003), %d unanalysed",
                compared, writes, merges, parameterized, 100.0 * baselineErrors / Math.max(1, compared + rejected), rejected, unanalysed);
        }

        void execute(List<String> failures, int maxFailures) throws Exception {
            String name = phase.label();
            TestDb baseDb = DifferentialTest.migratedDatabase("gen_base_" + name, null, via);
            TestDb migDb = DifferentialTest.migratedDatabase("gen_" + name, phase, via);
            try (Connection base = baseDb.raw(); Connection bellows = migDb.connect("bellows.rules", rules)) {
                BellowsRuntime runtime = bellows.unwrap(BellowsConnection.class).runtime();
                runtime.setPhase(DifferentialTest.LEADS_ID, bellowsPhase);
                runtime.setPhase(DifferentialTest.ORDERS_ID, bellowsPhase);
                runtime.setUsageSink((app, recorded) -> facts.addAll(recorded));
                runtime.refreshCatalog();
                if (phase == Phase.CONTRACT) {
                    migDb.exec("ALTER TABLE leads DROP COLUMN user_email", "ALTER TABLE orders DROP COLUMN status");
                    runtime.refreshCatalog();
                }
                Connection mig = (Connection) bellows.unwrap(org.postgresql.PGConnection.class); // same session, no rewriting
                base.setAutoCommit(false);
                bellows.setAutoCommit(false);
                Random random = new Random(seed * 31 + phase.ordinal());
                for (int i = 0; i < count; i++) {
                    LegacySqlGenerator.Choices ch = new LegacySqlGenerator.Choices(random);
                    int id = 1000 + i;
                    LegacySqlGenerator gen = new LegacySqlGenerator(ch, id);
                    String sql = gen.statement();
                    List<Object> params = gen.params;
                    if (!params.isEmpty()) parameterized++;
                    if (sql.contains("MERGE INTO")) merges++;
                    int factsBefore = facts.size();
                    String diff = attempt(sql, params, base, bellows, mig, true);
                    for (UsageFact f : facts.subList(factsBefore, facts.size())) {
                        if (f.treatment() == UsageFact.Treatment.UNANALYSED) unanalysed++;
                    }
                    if ((i + 1) % 10_000 == 0) { // progress of a long run, readable while it goes on
                        System.out.printf("  %s: %d of %d, %s, %d differences so far%n", phase.label(), i + 1, count, stats(),
                            failures.size());
                    }
                    if (diff == null) { // keep the statement's effect on both sides (an error rolled both back)
                        base.commit();
                        bellows.commit();
                        continue;
                    }
                    base.rollback();
                    bellows.rollback();
                    String minimal = shrink(ch.recorded(), id, base, bellows, mig);
                    failures.add(phase + " #" + i + ": " + sql + (params.isEmpty() ? "" : " " + params) + "\n    " + diff
                        + "\n    minimal: " + minimal);
                    System.out.println("  difference: " + failures.get(failures.size() - 1));
                    if (failures.size() >= maxFailures) return;
                }
            }
        }

        /** Runs {@code sql} on both sides (inside their open transactions); the difference, or null. */
        String attempt(String sql, List<Object> params, Connection base, Connection bellows, Connection mig, boolean count)
                throws SQLException {
            Outcome b = Outcome.of(base, sql, params, false);
            Outcome o = Outcome.of(bellows, sql, params, true);
            if (o.error != null && o.error.startsWith("BW003")) {
                if (count) rejected++;
                base.rollback(); // the application saw an error: nothing of it is kept on either side
                bellows.rollback();
                return null;
            }
            if (b.error != null && count) baselineErrors++;
            if (count) compared++;
            if ((b.error == null) != (o.error == null)) return "baseline " + (b.error == null ? "succeeded" : b.error) + "; Bellows " + (o.error == null ? "succeeded" : o.error);
            if (b.error != null) {
                base.rollback();
                bellows.rollback();
                return null;
            }
            String d = b.differs(o);
            if (d != null) return d;
            String upper = sql.toUpperCase(Locale.ROOT);
            if (upper.contains("INSERT") || upper.contains("UPDATE") || upper.contains("DELETE") || upper.contains("MERGE")) {
                writes++;
                List<String> bs = state(base, null);
                List<String> ms = state(mig, phase);
                if (!bs.equals(ms)) return "stored content differs:\n      baseline " + bs + "\n      migrated " + ms;
            }
            return null;
        }

        /** Lowers choices one at a time while the statement still differs; the simplest failing statement. */
        String shrink(int[] choices, int id, Connection base, Connection bellows, Connection mig) throws SQLException {
            int[] best = choices.clone();
            LegacySqlGenerator first = new LegacySqlGenerator(new LegacySqlGenerator.Choices(best), id);
            String bestSql = first.statement() + (first.params.isEmpty() ? "" : " " + first.params);
            int tries = 0;
            boolean improved = true;
            while (improved && tries < 200) {
                improved = false;
                for (int k = 0; k < best.length && tries < 200; k++) {
                    for (int v = 0; v < best[k]; v++) {
                        int[] cand = best.clone();
                        cand[k] = v;
                        LegacySqlGenerator gen = new LegacySqlGenerator(new LegacySqlGenerator.Choices(cand), id);
                        String sql = gen.statement();
                        tries++;
                        String diff;
                        try {
                            diff = attempt(sql, gen.params, base, bellows, mig, false);
                        } finally {
                            base.rollback();
                            bellows.rollback();
                        }
                        if (diff != null) {
                            best = cand;
                            bestSql = sql + (gen.params.isEmpty() ? "" : " " + gen.params);
                            improved = true;
                            break;
                        }
                    }
                }
            }
            return bestSql;
        }

        /** The stored content as the old schema has it: old columns from the new ones, checking both while both exist. */
        static List<String> state(Connection c, Phase phase) throws SQLException {
            String email = phase == null || phase != Phase.CONTRACT ? "user_email" : "contact_email";
            String status = phase == null || phase != Phase.CONTRACT ? "status" : "(" + DOWN + ")";
            // one round trip: the rows as the old schema has them, then any row whose two columns disagree
            String q = "SELECT x FROM (SELECT 1 AS k, id, concat_ws('|', 'lead', id, name, " + email + ", score) AS x FROM leads"
                + " UNION ALL SELECT 2, id, concat_ws('|', 'order', id, lead_id, " + status + ", amount) FROM orders";
            if (phase != null && phase != Phase.CONTRACT) {
                q += " UNION ALL SELECT 3, id, 'diverged lead ' || id FROM leads WHERE contact_email IS DISTINCT FROM user_email"
                    + " UNION ALL SELECT 4, id, 'diverged order ' || id FROM orders WHERE status_code IS DISTINCT FROM (" + UP + ")";
            }
            q += ") s ORDER BY k, id";
            List<String> out = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q)) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        }
    }

    /** What one statement did: an error (SQLState and message), or its results in order. */
    private static final class Outcome {
        String error;
        final List<String> results = new ArrayList<>();

        /** Runs {@code sql} as a Statement, or as a PreparedStatement with {@code params} bound the same way on both sides. */
        static Outcome of(Connection c, String sql, List<Object> params, boolean bellows) {
            Outcome o = new Outcome();
            try (Statement st = params.isEmpty() ? c.createStatement() : c.prepareStatement(sql)) {
                boolean rs;
                if (params.isEmpty()) {
                    rs = st.execute(sql);
                } else {
                    java.sql.PreparedStatement ps = (java.sql.PreparedStatement) st;
                    for (int i = 0; i < params.size(); i++) {
                        Object v = params.get(i);
                        if (v == null) ps.setNull(i + 1, java.sql.Types.VARCHAR);
                        else if (v instanceof Integer n) ps.setInt(i + 1, n);
                        else ps.setString(i + 1, (String) v);
                    }
                    rs = ps.execute();
                }
                while (true) {
                    if (rs) {
                        try (ResultSet r = st.getResultSet()) {
                            o.results.add(table(r, bellows));
                        }
                    } else {
                        int n = st.getUpdateCount();
                        if (n < 0) break;
                        o.results.add("count " + n);
                    }
                    rs = st.getMoreResults();
                }
            } catch (SQLException e) {
                o.error = e.getSQLState() + " " + e.getMessage();
            }
            return o;
        }

        /** Labels then sorted rows; new columns a star added (not in the legacy labels) are set aside by the caller. */
        private static String table(ResultSet r, boolean bellows) throws SQLException {
            ResultSetMetaData md = r.getMetaData();
            List<Integer> keep = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                String l = md.getColumnLabel(i).toLowerCase(Locale.ROOT);
                if (bellows && NEW_COLUMNS.contains(l)) continue; // the old schema has none: only a star brings them
                keep.add(i);
                labels.add(l);
            }
            List<String> rows = new ArrayList<>();
            while (r.next()) {
                StringBuilder sb = new StringBuilder();
                for (int i : keep) sb.append(Objects.toString(r.getString(i))).append('|');
                rows.add(sb.toString());
            }
            rows.sort(null);
            return labels + " " + rows;
        }

        String differs(Outcome o) {
            if (results.size() != o.results.size()) return "results " + results + " vs " + o.results;
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).equals(o.results.get(i))) {
                    return "result " + (i + 1) + ":\n      baseline " + results.get(i) + "\n      Bellows  " + o.results.get(i);
                }
            }
            return null;
        }
    }
}
