package dev.bellows.rules.file;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RulesException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The rules-file form of a derived migration: {@code to: [a, b]} with one {@code up} per new column (a split),
 * {@code from: [a, b]} with one {@code down} per old column (a merge), or up/down reading other columns of the row.
 */
final class DerivedRules {
    /** Keys whose value may be a list or a mapping. */
    static final Set<String> STRUCTURED = Set.of("from", "to", "up", "down", "type");
    /** Words the expression parser may read as columns but which are not. */
    private static final Set<String> NOT_COLUMNS = Set.of("current_date", "current_time", "current_timestamp", "localtime",
        "localtimestamp", "current_user", "session_user", "user", "current_role", "current_catalog", "current_schema",
        "true", "false", "null", "default");

    private final RulesValidator v;
    private final Map<String, NodeTuple> e;
    private final String id;
    private final String label;

    DerivedRules(RulesValidator v, Map<String, NodeTuple> e, String id, String label) {
        this.v = v;
        this.e = e;
        this.id = id;
        this.label = label;
    }

    /** Whether this migration is written in the derived form (or its up/down read columns besides from/to). */
    boolean applies() throws RulesException {
        if (e.containsKey("keep_from")) return true;
        for (String k : STRUCTURED) {
            if (e.containsKey(k) && !(e.get(k).getValueNode() instanceof ScalarNode)) return true;
        }
        if (!e.containsKey("to") || !e.containsKey("up") || !e.containsKey("down")) return false;
        // one old and one new column: derived only when an expression reads its own column and another one that
        // stays; anything else gets the ordinary checks and their messages
        try {
            String from = v.columnName(e, "from", id, label);
            String to = v.columnName(e, "to", id, label);
            Set<String> up = columns("up", scalar("up"));
            Set<String> down = columns("down", scalar("down"));
            boolean upOthers = up.remove(from) && !up.isEmpty() && !up.contains(to);
            boolean downOthers = down.remove(to) && !down.isEmpty() && !down.contains(from);
            return upOthers || downOthers;
        } catch (RulesException ex) {
            return false;
        }
    }

    Migration migration(String idText, int line, List<Migration> others) throws RulesException {
        if (!e.containsKey("to")) {
            throw v.error(line, "to", id, label, "missing: a list under 'from' merges old columns into the new column 'to'", null);
        }
        for (String k : List.of("not_null", "default_value", "removed_value", "inverse", "to_table")) {
            if (e.containsKey(k)) {
                throw v.error(RulesValidator.valueLine(e, k), k, id, label, "not supported with a split, a merge or up/down"
                    + " reading other columns", null);
            }
        }
        String[] st = v.tableName(e, id, label);
        List<String> froms = columnList("from");
        List<String> tos = columnList("to");
        if (froms.size() > 1 && tos.size() > 1) {
            throw v.error(RulesValidator.valueLine(e, "to"), "to", id, label, "several old columns into several new ones:"
                + " give it as two migrations (merge, then split)", null);
        }
        for (String t : tos) {
            if (froms.contains(t)) {
                throw v.error(RulesValidator.valueLine(e, "to"), "to", id, label, "column '" + t + "' is both old and new", null);
            }
        }
        boolean keep = false;
        if (e.containsKey("keep_from")) {
            String k = v.text(e, "keep_from", id, label);
            if (!k.equals("true")) {
                throw v.error(RulesValidator.valueLine(e, "keep_from"), "keep_from", id, label, "the only value is true (leave it out"
                    + " and give down to move reads to the new columns)", null);
            }
            if (e.containsKey("down")) {
                throw v.error(RulesValidator.valueLine(e, "down"), "down", id, label, "keep_from: true keeps the old columns: there"
                    + " is nothing for down to compute", null);
            }
            keep = true;
        }
        for (String k : keep ? List.of("up") : List.of("up", "down")) {
            if (!e.containsKey(k)) {
                throw v.error(line, k, id, label, "missing: a split or merge needs 'up' (each new column from the old"
                    + " ones) and 'down' (each old column from the new ones)", null);
            }
        }
        Phase phase = v.phase(e, id, label);
        Set<String> upInputs = new LinkedHashSet<>();
        Set<String> downInputs = new LinkedHashSet<>();
        Map<String, String> ups = perColumn("up", tos, froms, tos, upInputs);
        Map<String, String> downs = keep ? Map.of() : perColumn("down", froms, tos, froms, downInputs);
        if (keep && (phase == Phase.SWITCH || phase == Phase.CONTRACT)) {
            throw v.error(RulesValidator.valueLine(e, "phase"), "phase", id, label, "with keep_from: true the old columns stay"
                + " and are read as they are: the phase is off or expand", null);
        }
        Set<String> inputs = new LinkedHashSet<>(upInputs);
        inputs.addAll(downInputs);
        Map<String, String> types = new LinkedHashMap<>();
        if (e.containsKey("type")) {
            Node n = e.get("type").getValueNode();
            if (n instanceof MappingNode) {
                for (Map.Entry<String, Entry> t : mapping("type").entrySet()) {
                    if (!tos.contains(t.getKey())) {
                        throw v.error(t.getValue().line, "type", id, label, "'" + t.getKey() + "' is not a new column; expected one of " + tos, null);
                    }
                    types.put(t.getKey(), t.getValue().text);
                }
            } else {
                String t = v.text(e, "type", id, label);
                for (String c : tos) types.put(c, t);
            }
        }
        Set<String> mine = new LinkedHashSet<>(froms);
        mine.addAll(tos);
        for (Migration m : others) {
            if (m.isTableRename()) {
                if (m.schema().equals(st[0]) && (m.table().equals(st[1]) || m.toTable().equals(st[1]))) {
                    throw v.error(RulesValidator.valueLine(e, "table"), "table", id, label, "table " + m.qualifiedTable()
                        + " is renamed by migration '" + m.id() + "' (line " + m.line() + "); finish the table rename first", null);
                }
                continue;
            }
            if (!m.schema().equals(st[0]) || !m.table().equals(st[1])) continue;
            Set<String> theirs = new LinkedHashSet<>(m.froms());
            theirs.addAll(m.tos());
            for (String c : theirs) {
                if (mine.contains(c) || inputs.contains(c)) {
                    String key = mine.contains(c) ? (froms.contains(c) ? "from" : "to") : upInputs.contains(c) ? "up" : "down";
                    throw v.error(RulesValidator.valueLine(e, key), key, id, label, "column '" + c + "' of table "
                        + m.qualifiedTable() + " is already managed by migration '" + m.id() + "' (line " + m.line()
                        + "); a derived migration's columns and inputs belong to it alone", null);
                }
            }
            for (String c : m.inputs()) {
                if (mine.contains(c)) {
                    throw v.error(RulesValidator.valueLine(e, "from"), "from", id, label, "column '" + c + "' is read by"
                        + " migration '" + m.id() + "' (line " + m.line() + ")", null);
                }
            }
        }
        return Migration.derived(idText, st[0], st[1], froms, tos, ups, downs, types, inputs, phase, line);
    }

    /**
     * One expression per column of {@code targets} under {@code key} (a mapping, or a scalar when there is one target),
     * each reading at least one of {@code sources}, none of {@code forbidden}; other columns read go to {@code inputs}.
     */
    private Map<String, String> perColumn(String key, List<String> targets, List<String> sources, List<String> forbidden,
                                          Set<String> inputs) throws RulesException {
        Map<String, Entry> given = new LinkedHashMap<>();
        Node n = e.get(key).getValueNode();
        if (n instanceof MappingNode) {
            given = mapping(key);
        } else if (targets.size() == 1) {
            given.put(targets.get(0), new Entry(v.text(e, key, id, label), RulesValidator.valueLine(e, key)));
        } else {
            throw v.error(RulesValidator.valueLine(e, key), key, id, label, "one expression per column of " + targets
                + ": give a mapping (column: expression)", null);
        }
        for (String t : targets) {
            if (!given.containsKey(t)) {
                throw v.error(RulesValidator.valueLine(e, key), key, id, label, "missing an expression for '" + t + "'", null);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> g : given.entrySet()) {
            if (!targets.contains(g.getKey())) {
                throw v.error(g.getValue().line, key, id, label, "'" + g.getKey() + "' is not one of " + targets, null);
            }
            Set<String> cols = columnsAt(key, g.getValue().text, g.getValue().line);
            boolean readsSource = false;
            for (String c : cols) {
                if (forbidden.contains(c)) {
                    throw v.error(g.getValue().line, key, id, label, "the expression for '" + g.getKey() + "' reads '" + c
                        + "', a column it computes with the others (" + key + " reads the " + (key.equals("up") ? "old" : "new")
                        + " columns)", null);
                }
                if (sources.contains(c)) readsSource = true;
                else inputs.add(c);
            }
            if (!readsSource) {
                throw v.error(g.getValue().line, key, id, label, "the expression for '" + g.getKey() + "' reads none of "
                    + sources, null);
            }
            out.put(g.getKey(), g.getValue().text);
        }
        return out;
    }

    private record Entry(String text, int line) {}

    private Map<String, Entry> mapping(String key) throws RulesException {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) e.get(key).getValueNode()).getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode) || !(t.getValueNode() instanceof ScalarNode)
                    || RulesValidator.isNull(t.getValueNode())) {
                throw v.error(RulesValidator.line(t.getKeyNode()), key, id, label, "expected column: value pairs, found "
                    + RulesValidator.describe(t.getValueNode()), null);
            }
            String col = identifier(((ScalarNode) t.getKeyNode()).getValue(), key, RulesValidator.line(t.getKeyNode()));
            if (out.containsKey(col)) {
                throw v.error(RulesValidator.line(t.getKeyNode()), key, id, label, "'" + col + "' given twice", null);
            }
            String text = ((ScalarNode) t.getValueNode()).getValue().trim();
            if (text.isEmpty()) throw v.error(RulesValidator.line(t.getValueNode()), key, id, label, "empty value", null);
            out.put(col, new Entry(text, RulesValidator.line(t.getValueNode())));
        }
        return out;
    }

    private List<String> columnList(String key) throws RulesException {
        Node n = e.get(key).getValueNode();
        if (!(n instanceof SequenceNode)) return List.of(v.columnName(e, key, id, label));
        List<String> out = new ArrayList<>();
        for (Node item : ((SequenceNode) n).getValue()) {
            if (!(item instanceof ScalarNode) || RulesValidator.isNull(item)) {
                throw v.error(RulesValidator.line(item), key, id, label, "expected column names, found " + RulesValidator.describe(item), null);
            }
            String c = identifier(((ScalarNode) item).getValue(), key, RulesValidator.line(item));
            if (out.contains(c)) throw v.error(RulesValidator.line(item), key, id, label, "'" + c + "' listed twice", null);
            out.add(c);
        }
        if (out.isEmpty()) throw v.error(RulesValidator.valueLine(e, key), key, id, label, "empty list", null);
        return out;
    }

    private String identifier(String raw, String key, int line) throws RulesException {
        List<String> parts;
        try {
            parts = Identifiers.qualifiedName(raw.trim());
        } catch (IllegalArgumentException ex) {
            throw v.error(line, key, id, label, ex.getMessage(), ex);
        }
        if (parts.size() != 1) throw v.error(line, key, id, label, "'" + raw + "' is qualified; give the bare column name", null);
        return parts.get(0);
    }

    private String scalar(String key) throws RulesException {
        return v.text(e, key, id, label);
    }

    private Set<String> columns(String key, String sql) throws RulesException {
        return columnsAt(key, sql, RulesValidator.valueLine(e, key));
    }

    /** The unqualified columns an expression reads; refuses parameters, subqueries and qualified names. */
    private Set<String> columnsAt(String key, String sql, int line) throws RulesException {
        Expression expr;
        try {
            expr = CCJSqlParserUtil.parseExpression(sql, false);
        } catch (JSQLParserException | RuntimeException ex) {
            throw v.error(line, key, id, label, "not an SQL expression: " + RulesValidator.parserMessage(ex), ex);
        }
        if (expr == null) throw v.error(line, key, id, label, "not an SQL expression", null);
        RulesValidator.ExpressionCheck check = new RulesValidator.ExpressionCheck();
        try {
            expr.accept(check, null);
        } catch (RuntimeException ex) {
            throw v.error(line, key, id, label, "cannot analyse the expression: " + ex.getMessage(), ex);
        }
        if (check.problem != null) throw v.error(line, key, id, label, check.problem, null);
        Set<String> out = new LinkedHashSet<>();
        for (Column c : check.columns) {
            if (c.getTable() != null && c.getTable().getFullyQualifiedName() != null && !c.getTable().getFullyQualifiedName().isEmpty()) {
                throw v.error(line, key, id, label, "refers to '" + c.getFullyQualifiedName() + "'; refer to columns unqualified", null);
            }
            String n;
            try {
                n = Identifiers.identifier(c.getColumnName());
            } catch (IllegalArgumentException ex) {
                throw v.error(line, key, id, label, ex.getMessage(), ex);
            }
            if (!NOT_COLUMNS.contains(n)) out.add(n);
        }
        return out;
    }
}
