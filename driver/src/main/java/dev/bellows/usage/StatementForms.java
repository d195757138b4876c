package dev.bellows.usage;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Tells, for one migration, whether a statement text seen by the server ({@code pg_stat_statements}, where
 * constants and parameters read {@code $n}) physically uses the deprecated column, and if it does, whether
 * Bellows sent it:
 * <ul>
 *   <li>a statement Bellows passed through or could not analyse is sent as the application wrote it; its
 *       fingerprint is in {@code bellows.usage}, and the usage condition of the gate judges it;</li>
 *   <li>a dual write is the rewrite of an application statement that wrote one of the two columns: removing
 *       either column's write target from the text and rewriting the rest in phase expand or switch gives the
 *       text back;</li>
 *   <li>{@code bellows backfill} sets the new column from {@code up(old)}; and Bellows' tools mark their own
 *       statements with a leading {@code /* bellows:<tool> *}{@code /} comment.</li>
 * </ul>
 * Anything else that names the old column came from a client that bypasses Bellows. A client sending text
 * identical to one of Bellows' statements cannot be told apart: pg_stat_statements keeps one entry for both.
 */
final class StatementForms {
    /** The comment Bellows' own tools put on their SQL. */
    static final String TAG = OwnStatements.TAG;
    private static final Set<String> DML = Set.of("select", "insert", "update", "delete", "merge", "with", "values", "table", "copy");

    /** What a statement text is, for one migration. */
    enum Kind {
        /** Not a data statement (DDL, utility, EXPLAIN, ...): the dependency check covers schema objects. */
        NOT_DML,
        /** Does not name the old column of the migration's table (aliases and other tables do not count). */
        NO_USE,
        /** Marked by a Bellows tool. */
        BELLOWS_TOOL,
        /** A statement Bellows sent as the application wrote it (recorded in bellows.usage). */
        SENT_AS_WRITTEN,
        /** One of Bellows' dual writes. */
        DUAL_WRITE,
        /** {@code bellows backfill}'s update. */
        BACKFILL,
        /** Uses the old column and Bellows did not send it. */
        BYPASS
    }

    private final Migration m;
    private final Rewriter detect;
    private final List<Rewriter> dualWriters = new ArrayList<>();
    private final Set<String> sentAsWritten = new HashSet<>();
    private final String upNormalized;

    StatementForms(Migration m, RuleSet known, Catalog catalog, Collection<String> sentAsWrittenFingerprints) {
        this.m = m;
        this.detect = Rewriter.create(allIn(known, Phase.SWITCH), catalog);
        dualWriters.add(Rewriter.create(allIn(known, Phase.EXPAND), catalog));
        dualWriters.add(detect);
        for (String fp : sentAsWrittenFingerprints) {
            sentAsWritten.add(normalize(fp));
            // a read Bellows passes through in expand still reaches the server with its * spelled out for the old
            // schema view (issue 12 §1): that text is Bellows' own too
            Rewrite sent = dualWriters.get(0).rewrite(fp);
            if (sent.changed() && !sent.isUnanalysed()) sentAsWritten.add(normalize(sent.sql()));
        }
        this.upNormalized = m.isTableRename() ? "" : stripParens(normalize(m.up() == null ? quote(m.from()) : m.up()));
    }

    private static RuleSet allIn(RuleSet rules, Phase p) {
        Map<String, Phase> phases = new HashMap<>();
        for (Migration x : rules.migrations()) phases.put(x.id(), p);
        return rules.withPhases(phases);
    }

    Kind classify(String serverText) {
        if (OwnStatements.tagged(serverText)) return Kind.BELLOWS_TOOL;
        String prepared = OwnStatements.checkPrepareBody(serverText);
        if (prepared != null) return classify(prepared);
        Kind k = classifyData(serverText);
        if (k == Kind.BYPASS) {
            // what the application sent may have reached the server with pgjdbc's RETURNING for generated keys
            String body = OwnStatements.withoutAppendedReturning(serverText);
            if (body != null) {
                Kind without = classifyData(body);
                if (without != Kind.BYPASS && without != Kind.NO_USE) return without;
            }
        }
        return k;
    }

    private Kind classifyData(String serverText) {
        if (!DML.contains(firstKeyword(serverText))) return Kind.NOT_DML;
        String sql = toJdbc(serverText);
        Rewrite r = detect.rewrite(sql);
        boolean uses = false;
        for (UsageFact f : r.facts()) uses |= f.migrationId().equals(m.id());
        if (!uses) return Kind.NO_USE;
        String norm = normalize(sql);
        if (sentAsWritten.contains(norm)) return Kind.SENT_AS_WRITTEN;
        Statement st = parse(sql);
        if (st == null) return Kind.BYPASS;
        if (m.isTableRename()) return Kind.BYPASS; // a table rename has no dual write or backfill of its own
        if (isBackfill(st)) return Kind.BACKFILL;
        for (String column : m.to() == null ? List.of(m.from()) : List.of(m.from(), m.to())) {
            String candidate = withoutTarget(parse(sql), column);
            if (candidate == null) continue;
            for (Rewriter w : dualWriters) {
                Rewrite out = w.rewrite(candidate);
                if (!normalize(out.sql()).equals(norm)) continue;
                // Bellows would send this text; if it still uses the old column physically beyond the dual write
                // (a read passed through in expand), it is Bellows' only when that pass-through was recorded
                boolean physical = false;
                for (UsageFact f : out.facts()) {
                    physical |= f.migrationId().equals(m.id()) && f.treatment() != UsageFact.Treatment.REWRITTEN;
                }
                if (!physical) return Kind.DUAL_WRITE;
                if (sentAsWritten.contains(normalize(candidate))) return Kind.SENT_AS_WRITTEN;
            }
        }
        return Kind.BYPASS;
    }

    // ------------------------------------------------------------------ shapes

    private boolean isBackfill(Statement st) {
        if (!(st instanceof Update u) || !sameTable(u.getTable())) return false;
        if (u.getUpdateSets() == null || u.getUpdateSets().size() != 1) return false;
        UpdateSet set = u.getUpdateSets().get(0);
        if (set.getColumns().size() != 1 || set.getValues().size() != 1) return false;
        if (!name(set.getColumns().get(0).getColumnName()).equals(m.to())) return false;
        if (!stripParens(normalize(set.getValues().get(0).toString())).equals(upNormalized)) return false;
        String where = u.getWhere() == null ? "" : normalize(u.getWhere().toString());
        if (!List.of(where.split(" ")).contains(normalize(quote(m.from())))) return true;
        return backfillWhere().matcher(where).matches();
    }

    /** The backfill's batch condition: a key range, then {@code to IS DISTINCT FROM up(from)}. */
    private java.util.regex.Pattern backfillWhere() {
        String key = "(?!" + java.util.regex.Pattern.quote(normalize(quote(m.from()))) + " )\\S+";
        String cast = "(?: : : \\S+)?";
        return java.util.regex.Pattern.compile("(?:" + key + " > \\?" + cast + " and )?" + key + " < = \\?" + cast + " and "
            + java.util.regex.Pattern.quote(normalize(quote(m.to()))) + " is distinct from (?:\\( )*"
            + java.util.regex.Pattern.quote(upNormalized) + "(?: \\))*");
    }

    /** The statement without {@code column} as a write target (INSERT column and values, UPDATE SET item), or null. */
    private String withoutTarget(Statement st, String column) {
        boolean removed = false;
        if (st instanceof Insert ins && sameTable(ins.getTable()) && ins.getColumns() != null) {
            int idx = -1;
            for (int i = 0; i < ins.getColumns().size(); i++) {
                if (name(ins.getColumns().get(i).getColumnName()).equals(column)) idx = i;
            }
            if (idx >= 0) {
                int width = ins.getColumns().size();
                Object src = ins.getSelect();
                if (src instanceof Values v) {
                    ExpressionList<?> rows = v.getExpressions();
                    if (rows instanceof ParenthesedExpressionList<?> && rows.size() == width) {
                        rows.remove(idx);
                    } else {
                        for (Expression row : rows) {
                            if (!(row instanceof ExpressionList<?> l) || l.size() != width) return null;
                            l.remove(idx);
                        }
                    }
                } else if (src instanceof PlainSelect ps && ps.getSelectItems() != null && ps.getSelectItems().size() == width) {
                    ps.getSelectItems().remove(idx);
                } else {
                    return null;
                }
                ins.getColumns().remove(idx);
                removed = true;
            }
            if (ins.getConflictAction() != null && ins.getConflictAction().getUpdateSets() != null) {
                removed |= removeSet(ins.getConflictAction().getUpdateSets(), column);
            }
        } else if (st instanceof Update u && sameTable(u.getTable()) && u.getUpdateSets() != null) {
            removed = removeSet(u.getUpdateSets(), column);
        }
        return removed ? st.toString() : null;
    }

    private static boolean removeSet(List<UpdateSet> sets, String column) {
        for (int i = 0; i < sets.size(); i++) {
            UpdateSet s = sets.get(i);
            if (s.getColumns().size() == 1 && name(s.getColumns().get(0).getColumnName()).equals(column)) {
                sets.remove(i);
                return true;
            }
        }
        return false;
    }

    private boolean sameTable(Table t) {
        if (t == null || !name(t.getName()).equals(m.table())) return false;
        return t.getSchemaName() == null || name(t.getSchemaName()).equals(m.schema());
    }

    private static Statement parse(String sql) {
        try {
            return CCJSqlParserUtil.parse(sql);
        } catch (Exception | StackOverflowError e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ text

    /** The catalog name of an identifier as written. */
    static String name(String ident) {
        if (ident.length() >= 2 && ident.startsWith("\"") && ident.endsWith("\"")) {
            return ident.substring(1, ident.length() - 1).replace("\"\"", "\"");
        }
        return ident.toLowerCase(Locale.ROOT);
    }

    static String quote(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** The first keyword, after leading comments, parentheses and spaces, lower case. */
    static String firstKeyword(String sql) {
        int i = skipNoise(sql, 0);
        int j = i;
        while (j < sql.length() && Character.isLetter(sql.charAt(j))) j++;
        return sql.substring(i, j).toLowerCase(Locale.ROOT);
    }

    private static int skipNoise(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else if (s.startsWith("--", i)) {
                int e = s.indexOf('\n', i);
                i = e < 0 ? n : e + 1;
            } else if (s.startsWith("/*", i)) {
                i = endOfBlockComment(s, i);
            } else {
                break;
            }
        }
        return i;
    }

    private static int endOfBlockComment(String s, int i) {
        int depth = 0;
        int n = s.length();
        while (i < n) {
            if (s.startsWith("/*", i)) { depth++; i += 2; }
            else if (s.startsWith("*/", i)) { depth--; i += 2; if (depth == 0) return i; }
            else i++;
        }
        return n;
    }

    /** pg_stat_statements' {@code $1} placeholders as JDBC {@code ?}, outside quotes and comments. */
    static String toJdbc(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int j = endOfQuoted(sql, i, c);
                out.append(sql, i, j);
                i = j;
            } else if (sql.startsWith("--", i) || sql.startsWith("/*", i)) {
                int j = sql.startsWith("--", i) ? (sql.indexOf('\n', i) < 0 ? n : sql.indexOf('\n', i)) : endOfBlockComment(sql, i);
                out.append(sql, i, j);
                i = j;
            } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))
                && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)) && sql.charAt(i - 1) != '_')) {
                int j = i + 1;
                while (j < n && Character.isDigit(sql.charAt(j))) j++;
                out.append('?');
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int endOfQuoted(String s, int i, char q) {
        int j = i + 1;
        int n = s.length();
        while (j < n) {
            if (s.charAt(j) == q) {
                if (j + 1 < n && s.charAt(j + 1) == q) { j += 2; continue; }
                return j + 1;
            }
            j++;
        }
        return n;
    }

    /**
     * Tokens joined by single spaces, comments dropped, unquoted words in lower case, every literal and
     * parameter ({@code 'x'}, {@code 42}, {@code $1}, {@code ?}, dollar quotes) as {@code ?}, and lists of them
     * as {@code ? , ...} (as fingerprints write them). Equal for texts that differ only in those respects.
     */
    static String normalize(String sql) {
        List<String> t = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) { i++; continue; }
            if (sql.startsWith("--", i)) { int e = sql.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
            if (sql.startsWith("/*", i)) { i = endOfBlockComment(sql, i); continue; }
            if (sql.startsWith("...", i)) { t.add("..."); i += 3; continue; }
            if (c == '…') { i++; continue; }
            if (c == '\'') { i = endOfQuoted(sql, i, '\''); placeholder(t); continue; }
            if (c == '"') {
                int j = endOfQuoted(sql, i, '"');
                String inner = sql.substring(i + 1, Math.max(i + 1, j - 1)).replace("\"\"", "\"");
                t.add(inner.matches("[a-z_][a-z0-9_$]*") ? inner : sql.substring(i, j));
                i = j;
                continue;
            }
            if (c == '$') {
                int j = i + 1;
                while (j < n && Character.isDigit(sql.charAt(j))) j++;
                if (j > i + 1) { placeholder(t); i = j; continue; }
                j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) j++;
                if (j < n && sql.charAt(j) == '$') {
                    String tag = sql.substring(i, j + 1);
                    int end = sql.indexOf(tag, j + 1);
                    i = end < 0 ? n : end + tag.length();
                    placeholder(t);
                    continue;
                }
            }
            if (c == '?') { placeholder(t); i++; continue; }
            if (Character.isDigit(c) || c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.'
                    || (sql.charAt(j) == '+' || sql.charAt(j) == '-') && (sql.charAt(j - 1) == 'e' || sql.charAt(j - 1) == 'E'))) j++;
                placeholder(t);
                i = j;
                continue;
            }
            if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) j++;
                String word = sql.substring(i, j).toLowerCase(Locale.ROOT);
                // E'..', B'..', X'..': one literal
                if (j < n && sql.charAt(j) == '\'' && (word.equals("e") || word.equals("b") || word.equals("x") || word.equals("n"))) {
                    i = endOfQuoted(sql, j, '\'');
                    placeholder(t);
                    continue;
                }
                t.add(word);
                i = j;
                continue;
            }
            t.add(String.valueOf(c));
            i++;
        }
        // "? , ? , ?" → "? , ..." as fingerprints collapse lists
        List<String> out = new ArrayList<>(t.size());
        for (int k = 0; k < t.size(); k++) {
            out.add(t.get(k));
            if (t.get(k).equals("?") && k + 2 < t.size() && t.get(k + 1).equals(",") && t.get(k + 2).equals("?")) {
                int e = k + 2;
                while (e + 2 < t.size() && t.get(e + 1).equals(",") && t.get(e + 2).equals("?")) e += 2;
                out.add(",");
                out.add("...");
                k = e;
            }
        }
        return String.join(" ", out);
    }

    private static final Set<String> BEFORE_UNARY = Set.of("select", "where", "and", "or", "not", "when", "then", "else",
        "values", "in", "by", "between", "set", "return", "returning", "limit", "offset", "like", "is", "case");

    private static void placeholder(List<String> t) {
        // PostgreSQL folds a negative constant into one literal ($1 in pg_stat_statements): "- 1" after an
        // operator, "(", "," or a keyword is one placeholder.
        int n = t.size();
        if (n >= 1 && t.get(n - 1).equals("-")) {
            String before = n >= 2 ? t.get(n - 2) : "(";
            boolean unary = before.length() == 1 && "(,=<>+-*/%^|&!~".indexOf(before.charAt(0)) >= 0
                || BEFORE_UNARY.contains(before);
            if (unary) t.remove(n - 1);
        }
        t.add("?");
    }

    private static String stripParens(String norm) {
        String s = norm.trim();
        while (s.startsWith("( ") && s.endsWith(" )") && balanced(s.substring(2, s.length() - 2))) s = s.substring(2, s.length() - 2).trim();
        return s;
    }

    private static boolean balanced(String s) {
        int d = 0;
        for (String tok : s.split(" ")) {
            if (tok.equals("(")) d++;
            else if (tok.equals(")") && --d < 0) return false;
        }
        return d == 0;
    }

    // ------------------------------------------------------------------ catalog

    /** The catalog the rewriter needs for {@code rules}, read as the driver reads it. */
    static Catalog catalog(Connection c, RuleSet rules) throws SQLException {
        if (rules.isEmpty()) return Catalog.empty();
        Set<String> schemas = new LinkedHashSet<>();
        List<String> s = new ArrayList<>();
        List<String> t = new ArrayList<>();
        Set<String> cols = new LinkedHashSet<>();
        for (Migration x : rules.migrations()) {
            s.add(x.schema());
            t.add(x.table());
            schemas.add(x.schema());
            if (x.isTableRename()) {
                s.add(x.schema());
                t.add(x.toTable());
                continue;
            }
            cols.add(x.from());
            if (x.to() != null) cols.add(x.to());
        }
        Map<String, List<String>> out = new HashMap<>();
        String q = "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c"
            + " WHERE (c.table_schema::text, c.table_name::text) IN ("
            + "SELECT m.s, m.t FROM unnest(?::text[], ?::text[]) AS m(s, t)"
            + " UNION SELECT d.table_schema::text, d.table_name::text FROM information_schema.columns d"
            + " WHERE d.column_name::text = ANY (?::text[]))"
            + " ORDER BY c.table_schema, c.table_name, c.ordinal_position";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            Array a1 = c.createArrayOf("text", s.toArray());
            Array a2 = c.createArrayOf("text", t.toArray());
            Array a3 = c.createArrayOf("text", cols.toArray());
            ps.setArray(1, a1);
            ps.setArray(2, a2);
            ps.setArray(3, a3);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.computeIfAbsent(rs.getString(1) + "\u0000" + rs.getString(2), k -> new ArrayList<>()).add(rs.getString(3));
            }
        }
        Map<String, List<String>> frozen = new HashMap<>();
        out.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return (schema, table) -> frozen.get(schema + "\u0000" + table);
    }
}
