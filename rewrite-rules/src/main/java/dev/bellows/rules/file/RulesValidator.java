package dev.bellows.rules.file;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.JdbcNamedParameter;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.UserVariable;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.reader.ReaderException;

/**
 * Parses and validates one rules file. Single use, not thread-safe; {@link RulesFile} is the public face.
 * Stops at the first problem, reporting it as a {@link RulesException} with file, line and key.
 */
public final class RulesValidator {
    static final String KEY_MIGRATIONS = "migrations";
    static final List<String> TOP_LEVEL_KEYS = List.of(KEY_MIGRATIONS);
    static final List<String> REQUIRED_KEYS = List.of("id", "table", "from", "to", "phase");
    static final List<String> MIGRATION_KEYS = List.of("id", "table", "from", "to", "phase", "type", "up", "down", "inverse",
        "removed_value", "not_null", "default_value", "to_table", "keep_from");
    /** A table rename names its new table instead of columns. */
    static final List<String> TABLE_RENAME_KEYS = List.of("id", "table", "to_table", "phase");

    /** Flag names: they appear in system properties and environment variable names. */
    static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");


    private final String source;
    private final List<Migration> migrations = new ArrayList<>();
    private final Map<String, Migration> byId = new HashMap<>();
    private final Map<String, Migration> byEnvName = new HashMap<>();

    private RulesValidator(String source) {
        this.source = source;
    }

    public static RuleSet parse(String text, String source) throws RulesException {
        return new RulesValidator(source).run(text);
    }

    // ---------------------------------------------------------------- document

    private RuleSet run(String text) throws RulesException {
        Node root = compose(text);
        if (root == null || isNull(root)) {
            return RuleSet.fromFile(List.of(), source); // empty file, or comments only
        }
        if (!(root instanceof MappingNode)) {
            throw error(line(root), null, null, null,
                "expected a mapping with the key 'migrations' at the top level, found " + describe(root), null);
        }
        Map<String, NodeTuple> top = entries((MappingNode) root, TOP_LEVEL_KEYS, null, null);
        NodeTuple list = top.get(KEY_MIGRATIONS);
        if (list == null) {
            throw error(line(root), KEY_MIGRATIONS, null, null, "missing (the top level must have a 'migrations' list)", null);
        }
        Node value = list.getValueNode();
        if (isNull(value)) {
            return RuleSet.fromFile(List.of(), source); // "migrations:" with every entry commented out
        }
        if (!(value instanceof SequenceNode)) {
            throw error(line(value), KEY_MIGRATIONS, null, null, "expected a list of migrations, found " + describe(value), null);
        }
        int index = 0;
        for (Node item : ((SequenceNode) value).getValue()) {
            migrations.add(migration(item, ++index));
        }
        return RuleSet.fromFile(migrations, source);
    }

    private Node compose(String text) throws RulesException {
        try {
            return new Yaml(new LoaderOptions()).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            String problem = e.getProblem() != null ? e.getProblem() : firstLine(e.getMessage());
            // At the end of the stream the problem mark is past the last line; where the construct began is more useful.
            Mark mark = e.getProblemMark() == null || (e.getContextMark() != null && problem.contains("end of stream"))
                ? e.getContextMark() : e.getProblemMark();
            if (e.getContext() != null) {
                problem = problem.startsWith("but ") ? e.getContext() + ", " + problem : problem + " (" + e.getContext() + ")";
            }
            throw error(mark == null ? 0 : mark.getLine() + 1, null, null, null, "invalid YAML: " + problem, e);
        } catch (ReaderException e) {
            throw error(lineAtCodePoint(text, e.getPosition()), null, null, null,
                "invalid YAML: " + firstLine(e.getMessage()), e);
        } catch (YAMLException e) {
            throw error(0, null, null, null, "invalid YAML: " + firstLine(e.getMessage()), e);
        }
    }

    // ---------------------------------------------------------------- one migration

    private Migration migration(Node node, int index) throws RulesException {
        String label = "migration #" + index;
        if (!(node instanceof MappingNode)) {
            throw error(line(node), null, null, label,
                "expected a mapping with the keys id, table, from, to and phase, found " + describe(node), null);
        }
        MappingNode map = (MappingNode) node;
        int line = line(map);

        // The id labels every later message, so find it before anything else can fail.
        String id = null;
        for (NodeTuple t : map.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode && "id".equals(((ScalarNode) t.getKeyNode()).getValue())
                    && t.getValueNode() instanceof ScalarNode && !isNull(t.getValueNode())) {
                String v = ((ScalarNode) t.getValueNode()).getValue().trim();
                if (!v.isEmpty()) {
                    id = v;
                    label = "migration '" + v + "'";
                }
                break;
            }
        }

        Map<String, NodeTuple> e = entries(map, MIGRATION_KEYS, id, label);
        boolean tableRename = e.containsKey("to_table");
        for (String k : tableRename ? TABLE_RENAME_KEYS : REQUIRED_KEYS) {
            if (tableRename && !e.containsKey(k)) {
                throw error(line, k, id, label, "missing (a table rename needs id, table, to_table and phase)", null);
            }
            if (k.equals("to") && e.containsKey("from")) continue; // no 'to': a column removal or a NOT NULL
            if (!e.containsKey(k)) {
                throw error(line, k, id, label, "missing (every migration needs id, table, from, to and phase)", null);
            }
        }

        // id
        String idText = text(e, "id", id, label);
        if (!ID.matcher(idText).matches()) {
            throw error(valueLine(e, "id"), "id", id, label, "invalid id '" + idText + "': ids are flag names and must be a "
                + "letter or digit followed by letters, digits, '.', '_' or '-'", null);
        }
        Migration sameId = byId.get(idText);
        if (sameId != null) {
            throw error(valueLine(e, "id"), "id", id, label,
                "duplicate id (already used by the migration at line " + sameId.line() + ")", null);
        }
        String envName = envVarName(idText);
        Migration sameEnv = byEnvName.get(envName);
        if (sameEnv != null) {
            throw error(valueLine(e, "id"), "id", id, label, "id clashes with migration '" + sameEnv.id() + "' (line "
                + sameEnv.line() + "): both would be set by the environment variable " + envName, null);
        }

        if (tableRename) return tableRename(e, idText, envName, line, id, label);
        DerivedRules derived = new DerivedRules(this, e, id, label);
        if (derived.applies()) {
            Migration m = derived.migration(idText, line, migrations);
            byId.put(idText, m);
            byEnvName.put(envName, m);
            return m;
        }

        // table, from, to
        String[] schemaTable = tableName(e, id, label);
        String from = columnName(e, "from", id, label);
        String to = e.containsKey("to") ? columnName(e, "to", id, label) : null;
        if (from.equals(to)) {
            throw error(valueLine(e, "to"), "to", id, label, "same column as 'from' ('" + from + "')", null);
        }

        // phase
        Phase phase = phase(e, id, label);

        // type, up, down
        String type = e.containsKey("type") ? text(e, "type", id, label) : null;
        String removedValue = null;
        String defaultValue = null;
        for (String k : List.of("not_null", "default_value")) {
            if (e.containsKey(k) && to != null) {
                throw error(valueLine(e, k), k, id, label, "a rename or type change keeps the nullability of '" + from
                    + "'; to make a column NOT NULL give it alone (no 'to') with not_null and default_value", null);
            }
        }
        if (e.containsKey("not_null") || e.containsKey("default_value")) {
            String k = e.containsKey("not_null") ? "default_value" : "not_null";
            if (!e.containsKey(k)) {
                throw error(line, k, id, label, "missing: NOT NULL needs both not_null: true and default_value (what legacy"
                    + " writes of NULL get instead)", null);
            }
            String nn = text(e, "not_null", id, label);
            if (!nn.equalsIgnoreCase("true")) {
                throw error(valueLine(e, "not_null"), "not_null", id, label, "'" + nn + "': the only value is true (leave the"
                    + " migration out to keep the column nullable)", null);
            }
            if (e.containsKey("removed_value")) {
                throw error(valueLine(e, "removed_value"), "removed_value", id, label, "a NOT NULL migration keeps the column;"
                    + " removed_value is for a column removal", null);
            }
            defaultValue = constant(e, "default_value", id, label);
        }
        if (to == null) {
            for (String k : List.of("up", "down")) {
                if (e.containsKey(k)) {
                    throw error(valueLine(e, k), k, id, label, (defaultValue != null ? "a NOT NULL migration" : "a column removal")
                        + " (no 'to') has no new column for '" + k + "' to convert to or from; give 'to' for a rename or a"
                        + " type change", null);
                }
            }
            if (e.containsKey("removed_value")) removedValue = constant(e, "removed_value", id, label);

        } else if (e.containsKey("removed_value")) {
            throw error(valueLine(e, "removed_value"), "removed_value", id, label, "only a column removal (no 'to') has a"
                + " removed value; this migration replaces '" + from + "' with '" + to + "'", null);
        }
        if (e.containsKey("up") != e.containsKey("down")) {
            String given = e.containsKey("up") ? "up" : "down";
            String other = given.equals("up") ? "down" : "up";
            throw error(valueLine(e, given), given, id, label, "'" + given + "' without '" + other
                + "': a type change needs both (up computes 'to' from 'from', down computes 'from' from 'to')", null);
        }
        String up = null;
        String down = null;
        if (e.containsKey("up")) {
            up = expression(e, "up", from, id, label);
            down = expression(e, "down", to, id, label);
        }

        // No two migrations may manage the same column of the same table, except a chain: this one's old column is
        // the new column of one earlier in the file (a -> b, then b -> c), which nothing else chains from yet.
        // Only a rename or type change chains: a removal or NOT NULL of a column another migration renames to is refused
        // below as a column already managed.
        Migration chainedOnto = null;
        for (Migration m : migrations) {
            if (to != null && !m.isTableRename() && m.schema().equals(schemaTable[0]) && m.table().equals(schemaTable[1])
                    && from.equals(m.to())) {
                chainedOnto = m;
            }
        }
        for (Migration m = chainedOnto; m != null; m = predecessor(m)) {
            if (m.from().equals(to)) {
                throw error(valueLine(e, "to"), "to", id, label, "cycle: column '" + to + "' of table " + m.qualifiedTable()
                    + " is renamed to '" + m.to() + "' by migration '" + m.id() + "' (line " + m.line() + "), and this"
                    + " migration's chain leads back to it", null);
            }
        }
        for (Migration m : migrations) {
            if (!m.isDerived() || !m.schema().equals(schemaTable[0]) || !m.table().equals(schemaTable[1])) continue;
            for (String k : List.of("from", "to")) {
                String col = k.equals("from") ? from : to;
                if (col != null && (m.froms().contains(col) || m.tos().contains(col) || m.inputs().contains(col))) {
                    throw error(valueLine(e, k), k, id, label, "column '" + col + "' of table " + m.qualifiedTable()
                        + " belongs to derived migration '" + m.id() + "' (line " + m.line() + ")", null);
                }
            }
        }
        for (String k : List.of("from", "to")) {
            String col = k.equals("from") ? from : to;
            if (col == null) continue;
            for (Migration m : migrations) {
                if (m.isDerived()) continue;
                if (m == chainedOnto && k.equals("from")) continue;
                if (!m.isTableRename() && m.schema().equals(schemaTable[0]) && m.table().equals(schemaTable[1])
                        && (m.from().equals(col) || col.equals(m.to()))) {
                    if (k.equals("to") && col.equals(m.to())) {
                        throw error(valueLine(e, k), k, id, label, "conflicting targets: column '" + col + "' of table "
                            + m.qualifiedTable() + " is already the target of migration '" + m.id() + "' (line " + m.line() + ")", null);
                    }
                    throw error(valueLine(e, k), k, id, label, "column '" + col + "' of table " + m.qualifiedTable()
                        + " is already managed by migration '" + m.id() + "' (line " + m.line() + ")", null);
                }
            }
        }

        for (Migration r : migrations) {
            if (r.isTableRename() && r.schema().equals(schemaTable[0])
                    && (r.table().equals(schemaTable[1]) || r.toTable().equals(schemaTable[1]))) {
                throw error(valueLine(e, "table"), "table", id, label, "table " + r.qualifiedTable() + " is renamed to "
                    + r.toTable() + " by migration '" + r.id() + "' (line " + r.line() + "); a column migration on a table"
                    + " being renamed is not supported: finish the table rename first", null);
            }
            if (r.isTableRename() && (r.table().equals(from) || r.table().equals(to))) {
                throw error(valueLine(e, r.table().equals(from) ? "from" : "to"), r.table().equals(from) ? "from" : "to", id, label,
                    "column name '" + r.table() + "' is the old name of the table renamed by migration '" + r.id() + "' (line "
                    + r.line() + "): Bellows could not tell the two apart in SQL", null);
            }
        }
        boolean inverse = false;
        if (e.containsKey("inverse")) {
            String v = text(e, "inverse", id, label);
            if (!v.equals("true") && !v.equals("false")) {
                throw error(valueLine(e, "inverse"), "inverse", id, label, "expected true or false, found '" + v + "'", null);
            }
            inverse = v.equals("true");
            if (inverse && up == null) {
                throw error(valueLine(e, "inverse"), "inverse", id, label, "'inverse: true' without 'up' and 'down': only a"
                    + " type change has a pair of expressions to declare inverse", null);
            }
        }

        Migration m = new Migration(idText, schemaTable[0], schemaTable[1], from, to, up, down, type, phase, line, removedValue,
            defaultValue).withInverse(inverse);
        byId.put(idText, m);
        byEnvName.put(envName, m);
        return m;
    }

    /** The migration whose new column {@code m} renames (the link before it in a chain), or null. */
    private Migration predecessor(Migration m) {
        for (Migration p : migrations) {
            if (p != m && !p.isTableRename() && p.schema().equals(m.schema()) && p.table().equals(m.table())
                    && m.from().equals(p.to())) {
                return p;
            }
        }
        return null;
    }

    /** A table rename: {@code table} becomes {@code to_table} in the same schema; no column keys. */
    private Migration tableRename(Map<String, NodeTuple> e, String idText, String envName, int line, String id, String label)
            throws RulesException {
        for (String k : List.of("from", "to", "up", "down", "type", "inverse", "removed_value", "not_null", "default_value")) {
            if (e.containsKey(k)) {
                throw error(valueLine(e, k), k, id, label, "a table rename (to_table) takes no '" + k
                    + "'; rename columns in a migration of their own once the table rename is done", null);
            }
        }
        String[] st = tableName(e, id, label);
        String raw = text(e, "to_table", id, label);
        List<String> parts;
        try {
            parts = Identifiers.qualifiedName(raw);
        } catch (IllegalArgumentException ex) {
            throw error(valueLine(e, "to_table"), "to_table", id, label, ex.getMessage(), ex);
        }
        if (parts.size() > 2 || parts.size() == 2 && !parts.get(0).equals(st[0])) {
            throw error(valueLine(e, "to_table"), "to_table", id, label, "'" + raw + "' is in another schema than '"
                + st[0] + "'; a table rename keeps the schema (give the bare new name)", null);
        }
        String toTable = parts.get(parts.size() - 1);
        if (toTable.equals(st[1])) {
            throw error(valueLine(e, "to_table"), "to_table", id, label, "same table as 'table' ('" + toTable + "')", null);
        }
        Phase phase = phase(e, id, label);
        for (Migration m : migrations) {
            if (!m.schema().equals(st[0])) continue;
            String where = " by migration '" + m.id() + "' (line " + m.line() + ")";
            if (!m.isTableRename()) {
                if (m.table().equals(st[1]) || m.table().equals(toTable)) {
                    throw error(valueLine(e, "table"), "table", id, label, "table " + m.qualifiedTable() + " has a column"
                        + " migration" + where + "; a table rename of a table with a column migration is not supported:"
                        + " finish the column migration first", null);
                }
                if (st[1].equals(m.from()) || st[1].equals(m.to())) {
                    throw error(valueLine(e, "table"), "table", id, label, "'" + st[1] + "' is also a column managed" + where
                        + ": Bellows could not tell the two apart in SQL", null);
                }
            } else if (m.table().equals(st[1])) {
                throw error(valueLine(e, "table"), "table", id, label, "table " + m.qualifiedTable() + " is already renamed"
                    + " (to " + m.toTable() + ")" + where, null);
            } else if (m.toTable().equals(toTable)) {
                throw error(valueLine(e, "to_table"), "to_table", id, label, "conflicting targets: table " + m.qualifiedTable()
                    + " is already renamed to " + toTable + where, null);
            } else if (m.toTable().equals(st[1]) && m.table().equals(toTable)) {
                throw error(valueLine(e, "to_table"), "to_table", id, label, "cycle: migration '" + m.id() + "' (line "
                    + m.line() + ") renames " + toTable + " to " + st[1] + " and this one renames it back", null);
            } else if (m.toTable().equals(st[1]) || m.table().equals(toTable)) {
                throw error(valueLine(e, m.toTable().equals(st[1]) ? "table" : "to_table"),
                    m.toTable().equals(st[1]) ? "table" : "to_table", id, label, "chained table renames ("
                    + (m.toTable().equals(st[1]) ? m.table() + " -> " + st[1] + " -> " + toTable : st[1] + " -> " + toTable
                    + " -> " + m.toTable()) + ") are not supported: contract migration '" + m.id() + "' and drop it from"
                    + " the rules first", null);
            }
        }
        Migration m = Migration.tableRename(idText, st[0], st[1], toTable, phase, line);
        byId.put(idText, m);
        byEnvName.put(envName, m);
        return m;
    }

    /** The mapping's entries by key, checking keys are known, unique scalars and values are scalars. */
    Map<String, NodeTuple> entries(MappingNode map, List<String> allowed, String id, String label)
            throws RulesException {
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : map.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode) || isNull(k)) {
                throw error(line(k), null, id, label, "expected a plain key, found " + describe(k), null);
            }
            String key = ((ScalarNode) k).getValue();
            if (!allowed.contains(key)) {
                String hint = suggestion(key, allowed);
                throw error(line(k), key, id, label, "unknown key" + (hint == null ? "" : " (did you mean '" + hint + "'?)")
                    + "; expected " + orList(allowed), null);
            }
            if (out.containsKey(key)) {
                throw error(line(k), key, id, label, "duplicate key (already given at line "
                    + line(out.get(key).getKeyNode()) + ")", null);
            }
            if (label != null && !(t.getValueNode() instanceof ScalarNode) && !DerivedRules.STRUCTURED.contains(key)) {
                throw error(line(k), key, id, label,
                    "expected a single value, found " + describe(t.getValueNode()), null);
            }
            out.put(key, t);
        }
        return out;
    }

    /** A key's non-empty scalar value, trimmed. */
    String text(Map<String, NodeTuple> e, String key, String id, String label) throws RulesException {
        Node v = e.get(key).getValueNode();
        String s = isNull(v) ? "" : ((ScalarNode) v).getValue().trim();
        if (s.isEmpty()) {
            throw error(line(v), key, id, label, "empty value", null);
        }
        return s;
    }

    /** The migration's phase key, or an error naming its line. */
    Phase phase(Map<String, NodeTuple> e, String id, String label) throws RulesException {
        try {
            return Phase.parse(text(e, "phase", id, label));
        } catch (IllegalArgumentException ex) {
            throw error(valueLine(e, "phase"), "phase", id, label, ex.getMessage(), ex);
        }
    }

    String[] tableName(Map<String, NodeTuple> e, String id, String label) throws RulesException {
        String raw = text(e, "table", id, label);
        List<String> parts;
        try {
            parts = Identifiers.qualifiedName(raw);
        } catch (IllegalArgumentException ex) {
            throw error(valueLine(e, "table"), "table", id, label, ex.getMessage(), ex);
        }
        if (parts.size() > 2) {
            throw error(valueLine(e, "table"), "table", id, label,
                "'" + raw + "' has " + parts.size() + " parts; expected table or schema.table", null);
        }
        return parts.size() == 1 ? new String[] {"public", parts.get(0)} : new String[] {parts.get(0), parts.get(1)};
    }

    String columnName(Map<String, NodeTuple> e, String key, String id, String label) throws RulesException {
        String raw = text(e, key, id, label);
        List<String> parts;
        try {
            parts = Identifiers.qualifiedName(raw);
        } catch (IllegalArgumentException ex) {
            throw error(valueLine(e, key), key, id, label, ex.getMessage(), ex);
        }
        if (parts.size() != 1) {
            throw error(valueLine(e, key), key, id, label,
                "'" + raw + "' is qualified; give the bare column name (the table goes under 'table')", null);
        }
        return parts.get(0);
    }

    /** Validates an {@code up}/{@code down} expression over exactly {@code column}; returns it trimmed. */
    private String expression(Map<String, NodeTuple> e, String key, String column, String id, String label)
            throws RulesException {
        String sql = text(e, key, id, label);
        int line = valueLine(e, key);
        Expression expr;
        try {
            expr = CCJSqlParserUtil.parseExpression(sql, false);
        } catch (JSQLParserException | RuntimeException ex) {
            throw error(line, key, id, label, "not an SQL expression: " + parserMessage(ex), ex);
        }
        if (expr == null) {
            throw error(line, key, id, label, "not an SQL expression", null);
        }
        ExpressionCheck check = new ExpressionCheck();
        try {
            expr.accept(check, null);
        } catch (RuntimeException ex) {
            throw error(line, key, id, label, "cannot analyse the expression: " + firstLine(String.valueOf(ex.getMessage())), ex);
        }
        if (check.problem != null) {
            throw error(line, key, id, label, check.problem + "; '" + key + "' must be an expression of column '"
                + column + "' alone", null);
        }
        boolean found = false;
        for (Column c : check.columns) {
            String name;
            try {
                name = Identifiers.identifier(c.getColumnName());
            } catch (IllegalArgumentException ex) {
                throw error(line, key, id, label, ex.getMessage(), ex);
            }
            if (c.getTable() != null && c.getTable().getFullyQualifiedName() != null
                    && !c.getTable().getFullyQualifiedName().isEmpty()) {
                throw error(line, key, id, label, "refers to '" + c.getFullyQualifiedName()
                    + "'; refer to the column unqualified, as " + column, null);
            }
            if (!name.equals(column)) {
                throw error(line, key, id, label, "refers to column '" + name + "'; '" + key
                    + "' may only refer to '" + column + "'", null);
            }
            found = true;
        }
        if (!found) {
            throw error(line, key, id, label, "does not refer to column '" + column + "' ('" + key + "' computes "
                + (key.equals("up") ? "'to' from 'from'" : "'from' from 'to'") + ")", null);
        }
        return sql;
    }

    /** Validates a removed column's read value: one SQL expression naming no column, parameter or subquery. */
    private String constant(Map<String, NodeTuple> e, String key, String id, String label) throws RulesException {
        String sql = text(e, key, id, label);
        int line = valueLine(e, key);
        Expression expr;
        try {
            expr = CCJSqlParserUtil.parseExpression(sql, false);
        } catch (JSQLParserException | RuntimeException ex) {
            throw error(line, key, id, label, "not an SQL expression: " + parserMessage(ex), ex);
        }
        if (expr == null) throw error(line, key, id, label, "not an SQL expression", null);
        ExpressionCheck check = new ExpressionCheck();
        try {
            expr.accept(check, null);
        } catch (RuntimeException ex) {
            throw error(line, key, id, label, "cannot analyse the expression: " + firstLine(String.valueOf(ex.getMessage())), ex);
        }
        if (check.problem != null) {
            throw error(line, key, id, label, check.problem + "; '" + key + "' must be a constant such as NULL, 0 or 'n/a'"
                + " (usually the column's default)", null);
        }
        if (!check.columns.isEmpty()) {
            throw error(line, key, id, label, "refers to column '" + check.columns.get(0).getFullyQualifiedName()
                + "'; '" + key + "' must be a constant such as NULL, 0 or 'n/a' (usually the column's default); quote a"
                + " text value: \"'" + check.columns.get(0).getFullyQualifiedName() + "'\"", null);
        }
        return sql;
    }

    /** Collects column references and notes the first construct a per-row expression of one column cannot have. */
    static final class ExpressionCheck extends ExpressionVisitorAdapter<Void> {
        final List<Column> columns = new ArrayList<>();
        String problem;

        private void refuse(String what) {
            if (problem == null) problem = what;
        }

        @Override public <S> Void visit(Column column, S context) {
            columns.add(column);
            return null;
        }

        @Override public <S> Void visit(JdbcParameter parameter, S context) {
            refuse("contains a parameter ('" + parameter + "')");
            return null;
        }

        @Override public <S> Void visit(JdbcNamedParameter parameter, S context) {
            refuse("contains a parameter ('" + parameter + "')");
            return null;
        }

        @Override public <S> Void visit(UserVariable variable, S context) {
            refuse("contains a variable ('" + variable + "')");
            return null;
        }

        @Override public <S> Void visit(ParenthesedSelect select, S context) {
            refuse("contains a subquery");
            return null;
        }

        @Override public <S> Void visit(Select select, S context) {
            refuse("contains a subquery");
            return null;
        }

        @Override public <S> Void visit(AnyComparisonExpression any, S context) {
            if (any.getSelect() != null) {
                refuse("contains a subquery");
                return null;
            }
            return super.visit(any, context);
        }
    }

    /** The environment variable that overrides this migration's phase: {@code BELLOWS_PHASE_<ID>}. */
    static String envVarName(String id) {
        StringBuilder sb = new StringBuilder("BELLOWS_PHASE_");
        for (char c : id.toUpperCase(Locale.ROOT).toCharArray()) {
            sb.append((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- helpers

    RulesException error(int line, String key, String id, String label, String detail, Throwable cause) {
        return new RulesException(source, line, key, id, label, detail, cause);
    }

    static boolean isNull(Node n) {
        return n instanceof ScalarNode && Tag.NULL.equals(n.getTag());
    }

    static int line(Node n) {
        return n == null || n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    static int valueLine(Map<String, NodeTuple> e, String key) {
        return line(e.get(key).getValueNode());
    }

    static String describe(Node n) {
        if (n instanceof MappingNode) return "a mapping";
        if (n instanceof SequenceNode) return "a list";
        if (isNull(n)) return "nothing";
        if (n instanceof ScalarNode) return "the value '" + ((ScalarNode) n).getValue() + "'";
        return "a " + n.getNodeId();
    }

    private static String orList(List<String> keys) {
        if (keys.size() == 1) return keys.get(0);
        return String.join(", ", keys.subList(0, keys.size() - 1)) + " or " + keys.get(keys.size() - 1);
    }

    static String firstLine(String s) {
        if (s == null) return "";
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    /** JSqlParser's message, shortened to its first paragraph and made readable. */
    static String parserMessage(Exception ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) return ex.getClass().getSimpleName();
        String partial = "could only parse partial expression ";
        m = m.strip();
        if (m.startsWith(partial)) return "could not parse past '" + firstLine(m.substring(partial.length())) + "'";
        StringBuilder sb = new StringBuilder();
        for (String l : m.split("\\R")) {
            if (l.isBlank()) break;
            if (sb.length() > 0) sb.append(' ');
            sb.append(l.strip());
        }
        String out = sb.toString().replace("token:<", "token <");
        return out.endsWith(".") ? out.substring(0, out.length() - 1) : out;
    }

    private static int lineAtCodePoint(String text, int codePoint) {
        int end;
        try {
            end = text.offsetByCodePoints(0, Math.max(0, Math.min(codePoint, text.codePointCount(0, text.length()))));
        } catch (IndexOutOfBoundsException ex) {
            return 0;
        }
        int line = 1;
        for (int i = 0; i < end; i++) {
            if (text.charAt(i) == '\n') line++;
        }
        return line;
    }

    /** The allowed key closest to a misspelt one (edit distance at most 2), or null. */
    private static String suggestion(String key, List<String> allowed) {
        String best = null;
        int bestDistance = 3;
        String k = key.toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            int d = distance(k, a);
            if (d < bestDistance) {
                best = a;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
