package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import dev.bellows.rules.ParamPlan;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.io.PrintWriter;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bellows check}: runs captured statements that use a migration's deprecated column through the rewriter in
 * every phase, and has PostgreSQL check each rewritten form with {@code PREPARE} (parse, analyse and plan without
 * executing) followed by {@code DEALLOCATE}. Parameter types are those PostgreSQL infers for the statement as
 * captured, mapped through the rewrite's parameter plan, as pgjdbc would bind them.
 *
 * <p>When the new column does not exist yet, the check adds it inside a transaction that it rolls back, so the
 * forms PREPARE on the schema they will meet; that takes the table's ACCESS EXCLUSIVE lock for the duration of the
 * check (with a short lock_timeout to get it). Contract forms reference only the new column, so they are checked on
 * the expanded schema too.
 */
public final class Checker {
    /** The name the check PREPAREs each form under (the gate reads entries filed under it by the statement inside). */
    public static final String CHECK_STATEMENT = "bellows_check";

    /** The phases in which a statement must be carried. */
    public static final List<Phase> PHASES = List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT);

    /** One captured statement; {@code calls} is 0 when unknown (a file). */
    public record Input(String sql, long calls) {
    }

    public enum Status {
        /** Understood and sent as written (reads in expand, for example); PostgreSQL accepts it. */
        AS_IS("as is", true),
        /** Rewritten, and PostgreSQL accepts the rewritten form. */
        REWRITTEN("rewritten", true),
        /** Bellows cannot analyse the statement: it would be sent as written. */
        UNANALYSED("NOT ANALYSED", false),
        /** Bellows rewrote it but PostgreSQL rejects the result. */
        REJECTED("REJECTED", false),
        /** Bellows analyses it, but the statement as captured does not PREPARE here, so the rewrite was not checked. */
        UNCHECKED("unchecked", true);

        final String label;
        final boolean carried;

        Status(String label, boolean carried) {
            this.label = label;
            this.carried = carried;
        }

        public String label() { return label; }
    }

    /** The outcome in one phase: what would be sent and why it is or is not carried. */
    public record PhaseResult(Phase phase, Status status, String sent, String detail) {
    }

    public record Entry(Input input, Map<Phase, PhaseResult> phases) {
        /** Carried in every phase (unchecked counts as carried: Bellows understands it). */
        public boolean carried() {
            return phases.values().stream().allMatch(r -> r.status().carried);
        }

        public boolean unchecked() {
            return phases.values().stream().anyMatch(r -> r.status() == Status.UNCHECKED);
        }
    }

    /**
     * {@code problems}: errors that make the check fail whatever the statements (a declaration the data contradicts);
     * {@code warnings}: statements that work but will cost more than they do today.
     */
    public record Report(Migration migration, List<Entry> entries, int notNaming, List<String> notes, List<String> problems,
                         List<String> warnings) {
        public List<Entry> notCarried() {
            return entries.stream().filter(e -> !e.carried()).toList();
        }

        /** Whether every statement is carried and nothing else is wrong. */
        public boolean ok() {
            return notCarried().isEmpty() && problems.isEmpty();
        }

        /** Writes the coverage table, the statements Bellows cannot carry and a summary. */
        public void print(PrintWriter out) {
            Migration m = migration;
            String col = m.isTableRename() ? "table " + m.qualifiedTable() : m.qualifiedTable() + "." + m.from();
            for (String n : notes) out.println("note: " + n);
            out.println("Coverage of " + col + " -> " + (m.isTableRename() ? m.toTable() : m.isNotNull() ? "NOT NULL" : m.isRemoval() ? "(removed)" : m.to()) + " (migration " + m.id() + "): " + entries.size()
                + " statement" + (entries.size() == 1 ? "" : "s") + " use it" + (notNaming > 0 ? " (" + notNaming
                + (notNaming == 1 ? " other statement does not)" : " other statements do not)") : ""));
            if (!entries.isEmpty()) {
                out.println();
                out.printf(Locale.ROOT, "%4s %10s  %-13s %-13s %-13s %s%n", "#", "calls", "expand", "switch", "contract", "statement");
                int i = 0;
                for (Entry e : entries) {
                    i++;
                    out.printf(Locale.ROOT, "%4d %10s  %-13s %-13s %-13s %s%n", i,
                        e.input().calls() > 0 ? String.format(Locale.ROOT, "%,d", e.input().calls()) : "-",
                        e.phases().get(Phase.EXPAND).status().label(), e.phases().get(Phase.SWITCH).status().label(),
                        e.phases().get(Phase.CONTRACT).status().label(), SqlText.oneLine(e.input().sql(), 100));
                }
            }
            List<Entry> bad = notCarried();
            if (!bad.isEmpty()) {
                out.println();
                out.println("Statements Bellows cannot carry (" + bad.size() + "):");
                for (Entry e : bad) {
                    out.println("  " + (entries.indexOf(e) + 1) + ". " + SqlText.oneLine(e.input().sql(), 200));
                    for (PhaseResult r : e.phases().values()) {
                        if (!r.status().carried) out.println("     " + r.phase().label() + ": " + r.detail());
                    }
                }
            }
            List<Entry> unchecked = entries.stream().filter(e -> e.carried() && e.unchecked()).toList();
            if (!unchecked.isEmpty()) {
                out.println();
                out.println("Analysed but not checked by PostgreSQL (" + unchecked.size() + "):");
                for (Entry e : unchecked) {
                    out.println("  " + (entries.indexOf(e) + 1) + ". " + SqlText.oneLine(e.input().sql(), 200));
                    e.phases().values().stream().filter(r -> r.status() == Status.UNCHECKED).findFirst()
                        .ifPresent(r -> out.println("     " + r.detail()));
                }
            }
            for (String w : warnings) {
                out.println();
                out.println("WARNING: " + w);
            }
            for (String p : problems) {
                out.println();
                out.println("ERROR: " + p);
            }
            out.println();
            out.println("Summary: " + entries.size() + " statement" + (entries.size() == 1 ? " uses " : "s use ") + col + ": "
                + (entries.size() - bad.size()) + " carried in every phase" + (unchecked.isEmpty() ? "" : " (" + unchecked.size()
                + " not checked by PostgreSQL)") + ", " + bad.size() + " cannot be carried.");
        }
    }

    private final Connection c;
    private final Migration m;
    private final boolean inTransaction;

    private Checker(Connection c, Migration m, boolean inTransaction) {
        this.c = c;
        this.m = m;
        this.inTransaction = inTransaction;
    }

    /** Statements recorded by {@code pg_stat_statements} for the current database, most called first. */
    public static List<Input> fromPgStatStatements(Connection c) throws SQLException, WorkflowException {
        if (Db.scalar(c, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'") == null) {
            throw new WorkflowException("pg_stat_statements is not installed in this database: it needs"
                + " shared_preload_libraries = 'pg_stat_statements' in postgresql.conf (and a restart), then"
                + " CREATE EXTENSION pg_stat_statements; or capture statements in a file and use --file");
        }
        List<Input> out = new ArrayList<>();
        // An earlier check that could not stop pg_stat_statements tracking it left its PREPARE texts, and PostgreSQL
        // counts later runs of the same statement by the application under them: the statement inside is the input.
        Map<String, Long> calls = new java.util.LinkedHashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT regexp_replace(query, '^\\s*PREPARE\\s+" + CHECK_STATEMENT
                 + "\\s*(\\([^)]*\\))?\\s+AS\\s+', '', 'i'), sum(calls)::bigint FROM pg_stat_statements"
                 + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                 + " AND query !~* '^\\s*DEALLOCATE\\s+" + CHECK_STATEMENT + "'"
                 + " GROUP BY 1 HAVING sum(calls) > 0 ORDER BY 2 DESC, 1")) {
            while (rs.next()) calls.merge(rs.getString(1), rs.getLong(2), Long::sum);
        }
        calls.forEach((q, n) -> out.add(new Input(q, n)));
        return out;
    }

    /** The statements of a file, split at semicolons. */
    public static List<Input> fromScript(String text) {
        return SqlText.statements(text).stream().map(s -> new Input(s, 0)).toList();
    }

    /** Classifies every input that uses {@code m}'s deprecated column. */
    public static Report run(Connection c, RuleSet rules, Migration m, List<Input> inputs) throws SQLException, WorkflowException {
        List<String> notes = new ArrayList<>();
        String qt = SqlText.qualified(m.schema(), m.table());
        String bridge = null; // a table rename checked before its expand step: the view created for the check
        if (m.isTableRename()) {
            String qn = SqlText.qualified(m.schema(), m.toTable());
            boolean oldThere = Db.scalar(c, "SELECT to_regclass(?)::text", qt) != null;
            boolean newThere = Db.scalar(c, "SELECT to_regclass(?)::text", qn) != null;
            if (!oldThere && !newThere) throw new WorkflowException("neither " + qt + " nor " + qn + " exists");
            if (!newThere) {
                bridge = "CREATE VIEW " + qn + " AS SELECT * FROM " + qt;
                notes.add(qn + " does not exist yet: checking with the expand step's view, created in a transaction that"
                    + " is rolled back");
            }
        }
        TableInfo t = m.isTableRename() ? null : TableInfo.load(c, m.schema(), m.table());
        if (t == null && !m.isTableRename()) throw new WorkflowException("table " + qt + " does not exist");
        // a removal or a NOT NULL has no new column to simulate
        if (m.isDerived()) {
            for (String col : m.tos()) {
                if (t.column(col) == null) {
                    throw new WorkflowException(qt + " has no column " + SqlText.ident(col) + " yet: run the expand step of bellows plan "
                        + m.id() + " first (a split or merge is checked on the expanded schema)");
                }
            }
        }
        boolean simulate = !m.isTableRename() && !m.isDerived() && m.to() != null && t.column(m.to()) == null && t.column(m.from()) != null;
        String type = null;
        if (simulate) {
            type = m.type() != null ? m.type() : m.isTypeChange() ? null : t.column(m.from()).type();
            if (type == null) {
                throw new WorkflowException(qt + " has no column " + SqlText.ident(m.to()) + " yet and migration '" + m.id()
                    + "' gives no type for it: add `type:` to the rules file, or run the expand step first");
            }
            notes.add(SqlText.ident(m.to()) + " does not exist yet: checking on the expanded schema by adding it in a"
                + " transaction that is rolled back (the table is locked meanwhile)");
        }
        boolean auto = c.getAutoCommit();
        boolean untracked = auto && StatsOff.apply(c, notes);
        c.setAutoCommit(false);
        try {
            if (bridge != null) {
                Db.exec(c, "SET LOCAL lock_timeout = '2s'");
                Db.exec(c, bridge);
            }
            if (simulate) {
                Db.exec(c, "SET LOCAL lock_timeout = '2s'");
                Db.exec(c, "ALTER TABLE " + qt + " ADD COLUMN " + SqlText.ident(m.to()) + " " + type);
            }
            List<String> problems = m.isTableRename() ? List.of() : new ArrayList<>(InverseCheck.verify(c, m, t, true));
            if (m.isDerived() && m.froms().stream().allMatch(col -> t.column(col) != null)) problems.addAll(DerivedCheck.totality(c, m));
            Map<String, List<String>> cat = Db.catalog(c, rules, simulate ? Map.of(m.qualifiedTable(), m.to()) : null);
            Checker ch = new Checker(c, m, true);
            Map<Phase, Rewriter> rw = new EnumMap<>(Phase.class);
            for (Phase p : PHASES) rw.put(p, Rewriter.create(rules.withPhase(m.id(), p), Db.asCatalog(cat)));
            List<Entry> entries = new ArrayList<>();
            int notNaming = 0;
            int utility = 0;
            for (Input in : inputs) {
                if (isUtility(in.sql())) {
                    utility++;
                    continue;
                }
                Entry e = ch.classify(in, rw);
                if (e == null) notNaming++;
                else entries.add(e);
            }
            if (utility > 0) {
                notes.add(utility + " utility statement" + (utility == 1 ? "" : "s") + " (DDL, SET, transaction control…)"
                    + " skipped: Bellows does not rewrite them");
            }
            List<String> warnings = m.isTableRename() ? List.of() : LostIndexes.find(c, rules, m, t, entries, cat);
            return new Report(m, entries, notNaming, notes, problems, warnings);
        } finally {
            c.rollback();
            c.setAutoCommit(auto);
            if (untracked) StatsOff.reset(c);
        }
    }

    private static final java.util.Set<String> DML = java.util.Set.of("select", "insert", "update", "delete", "merge", "with",
        "values", "table", "copy", "call");

    /** Whether the statement is not DML (nor COPY or CALL): DDL, SET, BEGIN, EXPLAIN, PREPARE… */
    static boolean isUtility(String sql) {
        for (SqlText.Token t : SqlText.lex(sql)) {
            switch (t.kind()) {
                case SPACE, COMMENT -> { }
                case PUNCT -> {
                    if (!t.text(sql).equals("(")) return true;
                }
                case WORD -> {
                    return !DML.contains(SqlText.lower(t.text(sql)));
                }
                default -> {
                    return true;
                }
            }
        }
        return true;
    }

    private boolean usesColumn(Rewrite r) {
        for (UsageFact f : r.facts()) {
            if (f.migrationId().equals(m.id())) return true;
        }
        return false;
    }

    private Entry classify(Input in, Map<Phase, Rewriter> rw) throws SQLException {
        Map<Phase, Rewrite> rewrites = new EnumMap<>(Phase.class);
        boolean uses = false;
        for (Phase p : PHASES) {
            Rewrite r = rw.get(p).rewrite(in.sql());
            rewrites.put(p, r);
            uses |= usesColumn(r);
        }
        if (!uses) return null;
        String original = dollars(in.sql());
        List<String> types = null;
        String baseline = null;
        try {
            types = prepare(original, null);
        } catch (SQLException e) {
            baseline = "the statement as captured does not PREPARE here, so its rewrites were not checked: " + firstLine(e);
        }
        Map<Phase, PhaseResult> out = new EnumMap<>(Phase.class);
        for (Phase p : PHASES) {
            Rewrite r = rewrites.get(p);
            if (r.isUnanalysed()) {
                out.put(p, new PhaseResult(p, Status.UNANALYSED, r.sql(), "not analysed: " + r.unanalysedReason()
                    + " (it would be sent as written" + (m.isTableRename() ? ", so it keeps naming " + m.table()
                    : p == Phase.EXPAND ? ", so writes to " + m.from() + " are not duplicated"
                    : ", so it keeps using " + m.from()) + ")"));
                continue;
            }
            if (baseline != null) {
                out.put(p, new PhaseResult(p, Status.UNCHECKED, r.sql(), baseline));
                continue;
            }
            if (!r.changed()) {
                out.put(p, new PhaseResult(p, Status.AS_IS, r.sql(), "sent as written"));
                continue;
            }
            String problem = null;
            List<String> parts = SqlText.statements(r.sql());
            for (String part : parts) {
                try {
                    prepare(dollars(part), parts.size() == 1 ? serverTypes(r.params(), types, part) : null);
                } catch (SQLException e) {
                    problem = "PostgreSQL rejects the rewritten form: " + firstLine(e) + " — " + SqlText.oneLine(part, 300);
                    break;
                }
            }
            out.put(p, problem == null ? new PhaseResult(p, Status.REWRITTEN, r.sql(), "rewritten")
                : new PhaseResult(p, Status.REJECTED, r.sql(), problem));
        }
        return new Entry(in, out);
    }

    private static String dollars(String sql) {
        // JDBC text (pgjdbc turns each ? into $n); text that already has $n parameters keeps any ? as an operator
        return SqlText.hasQuestionMarks(sql) && !SqlText.hasDollarParams(sql) ? SqlText.jdbcToDollar(sql) : sql;
    }

    /** Types of the rewritten statement's parameters: the client's, through the parameter plan when there is one. */
    private static List<String> serverTypes(ParamPlan plan, List<String> clientTypes, String rewritten) {
        if (clientTypes == null || clientTypes.isEmpty()) return null;
        if (plan == null) {
            int max = maxParam(dollars(rewritten));
            return max <= clientTypes.size() ? clientTypes.subList(0, max) : null;
        }
        List<String> t = new ArrayList<>();
        for (int i = 1; i <= plan.serverCount(); i++) {
            int client = plan.clientFor(i);
            if (client < 1 || client > clientTypes.size()) return null;
            t.add(clientTypes.get(client - 1));
        }
        return t;
    }

    private static int maxParam(String sql) {
        int max = 0;
        java.util.regex.Matcher mm = java.util.regex.Pattern.compile("\\$(\\d+)").matcher(sql);
        while (mm.find()) max = Math.max(max, Integer.parseInt(mm.group(1)));
        return max;
    }

    /** PREPAREs and DEALLOCATEs {@code sql}; returns the parameter types PostgreSQL settled on. */
    private List<String> prepare(String sql, List<String> types) throws SQLException {
        String name = CHECK_STATEMENT;
        Savepoint sp = inTransaction ? c.setSavepoint() : null;
        try (Statement st = c.createStatement()) {
            st.execute("PREPARE " + name + (types == null || types.isEmpty() ? "" : "(" + String.join(", ", types) + ")")
                + " AS " + sql);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = '" + name + "'")) {
                if (rs.next()) {
                    Array a = rs.getArray(1);
                    if (a != null) for (Object o : (Object[]) a.getArray()) out.add((String) o);
                }
            }
            st.execute("DEALLOCATE " + name);
            if (sp != null) c.releaseSavepoint(sp);
            return out;
        } catch (SQLException e) {
            if (sp != null) c.rollback(sp);
            throw e;
        }
    }

    private static String firstLine(SQLException e) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }
}
