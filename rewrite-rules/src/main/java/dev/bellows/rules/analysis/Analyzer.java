package dev.bellows.rules.analysis;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.SearchPath;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Edits;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.sql.Keywords;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.WindowDefinition;
import net.sf.jsqlparser.parser.ASTNodeAccess;
import net.sf.jsqlparser.parser.SimpleNode;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.LateralSubSelect;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.update.Update;

/**
 * Walks one parsed statement: builds the scopes, resolves every column reference to a managed
 * table with certainty (or refuses), and records the edits reads need. Writes are {@link Writes}' job.
 * One instance per statement analysis; not thread-safe.
 */
final class Analyzer {
    static final int READ = 0, ORDER = 1, GROUP = 2;

    final Template tpl;
    final SqlLexer.Tokens tok;
    final Managed managed;
    final Catalog catalog;
    final Edits edits;
    final int base;                  // offset of this statement in the template
    int pieceEndToken;               // index just past this statement's last token
    boolean newView;                 // * presents the new table (Rewriter.Options#newView), else the legacy one
    final Set<UsageFact> facts;
    final Map<String, String> labels;
    int accounted;                   // managed-name tokens explained by the analysis
    final SearchPath path;
    private final Writes writes;

    // the select item whose bare column gives the item its label, and where that item ends
    private Column labelColumn;
    private final IndexedPredicates indexed = new IndexedPredicates(this);
    private int labelEnd;

    Analyzer(Template tpl, SqlLexer.Tokens tok, Managed managed, Catalog catalog, SearchPath path, Edits edits, int base,
             Set<UsageFact> facts, Map<String, String> labels) {
        this.path = path;
        this.tpl = tpl;
        this.tok = tok;
        this.managed = managed;
        this.catalog = catalog;
        this.edits = edits;
        this.base = base;
        this.facts = facts;
        this.labels = labels;
        this.writes = new Writes(this);
    }

    void statement(Statement st) {
        if (st instanceof Select) {
            query((Select) st, null, Map.of(), false);
        } else if (st instanceof Insert) {
            writes.insert((Insert) st, null, Map.of());
        } else if (st instanceof Update) {
            writes.update((Update) st, null, Map.of());
        } else if (st instanceof Delete) {
            writes.delete((Delete) st, null, Map.of());
        } else if (st instanceof net.sf.jsqlparser.statement.merge.Merge) {
            new MergeWrites(this, writes).merge((net.sf.jsqlparser.statement.merge.Merge) st);
        } else {
            throw new Refusal(st.getClass().getSimpleName() + " statements are not analysed");
        }
    }

    // ---------------------------------------------------------------- queries

    /** Analyses a query and returns its output column names (null when unknown). */
    List<String> query(Select s, Scope outer, Map<String, List<String>> ctes, boolean exists) {
        ctes = withItems(s.getWithItemsList(), outer, ctes);
        if (s instanceof PlainSelect) return plain((PlainSelect) s, outer, ctes, exists);
        if (s instanceof ParenthesedSelect) {
            List<String> out = query(((ParenthesedSelect) s).getSelect(), outer, ctes, exists);
            orderOnOutputs(s.getOrderByElements(), outer, ctes, out);
            return out;
        }
        if (s instanceof SetOperationList) {
            SetOperationList so = (SetOperationList) s;
            List<String> out = null;
            for (int i = 0; i < so.getSelects().size(); i++) {
                List<String> o = query(so.getSelects().get(i), outer, ctes, exists);
                if (i == 0) out = o;
            }
            orderOnOutputs(so.getOrderByElements(), outer, ctes, out);
            return out;
        }
        if (s instanceof Values) {
            Scope sc = new Scope(outer, ctes);
            visit(((Values) s).getExpressions(), sc, READ);
            return valuesColumns((Values) s);
        }
        throw new Refusal(s.getClass().getSimpleName() + " queries are not analysed");
    }

    /** ORDER BY of a set operation or parenthesised query: names there are output columns. */
    private void orderOnOutputs(List<OrderByElement> order, Scope outer, Map<String, List<String>> ctes, List<String> out) {
        if (order == null) return;
        Scope sc = new Scope(outer, ctes);
        sc.outputs = out == null ? List.of() : out;
        for (OrderByElement o : order) {
            Expression e = o.getExpression();
            if (e instanceof Column && ((Column) e).getTable() == null) {
                String n = name(((Column) e).getColumnName());
                if (managed.names.contains(n)) {
                    position(e);
                    accounted++;
                    continue;
                }
            }
            visit(e, sc, READ);
        }
    }

    Map<String, List<String>> withItems(List<WithItem<?>> items, Scope outer, Map<String, List<String>> ctes) {
        if (items == null || items.isEmpty()) return ctes;
        Map<String, List<String>> m = new HashMap<>(ctes);
        for (WithItem<?> w : items) {
            String n = aliasName(w.getAlias());
            List<String> declared = null;
            if (w.getWithItemList() != null && !w.getWithItemList().isEmpty()) {
                declared = new ArrayList<>();
                for (SelectItem<?> si : w.getWithItemList()) {
                    String c = name(String.valueOf(si.getExpression()));
                    declared.add(c);
                    if (managed.counts(c)) accounted++;
                }
            }
            if (managed.counts(n)) accounted++;
            if (w.isRecursive()) m.put(n, declared);
            List<String> out;
            Object body = w.getParenthesedStatement();
            if (body instanceof ParenthesedSelect) {
                Select sel = ((ParenthesedSelect) body).getSelect();
                if (w.isRecursive() && declared == null && sel instanceof SetOperationList
                        && (sel.getWithItemsList() == null || sel.getWithItemsList().isEmpty())) {
                    out = recursive((SetOperationList) sel, outer, m, n);
                } else {
                    out = query(sel, outer, m, false);
                }
            } else if (body instanceof net.sf.jsqlparser.statement.insert.ParenthesedInsert) {
                out = writes.insert(((net.sf.jsqlparser.statement.insert.ParenthesedInsert) body).getInsert(), outer, m);
            } else if (body instanceof net.sf.jsqlparser.statement.update.ParenthesedUpdate) {
                out = writes.update(((net.sf.jsqlparser.statement.update.ParenthesedUpdate) body).getUpdate(), outer, m);
            } else if (body instanceof net.sf.jsqlparser.statement.delete.ParenthesedDelete) {
                out = writes.delete(((net.sf.jsqlparser.statement.delete.ParenthesedDelete) body).getDelete(), outer, m);
            } else {
                throw new Refusal("unsupported WITH item");
            }
            m.put(n, declared != null ? declared : out);
        }
        return m;
    }

    /**
     * A recursive CTE without a column list: its columns are its first (non-recursive) term's, known before the
     * recursive terms that read the CTE itself are analysed, as in PostgreSQL.
     */
    private List<String> recursive(SetOperationList so, Scope outer, Map<String, List<String>> m, String name) {
        List<String> out = query(so.getSelects().get(0), outer, m, false);
        m.put(name, out);
        for (int i = 1; i < so.getSelects().size(); i++) query(so.getSelects().get(i), outer, m, false);
        orderOnOutputs(so.getOrderByElements(), outer, m, out);
        return out;
    }

    private List<String> plain(PlainSelect ps, Scope outer, Map<String, List<String>> ctes, boolean exists) {
        if (ps.getIntoTables() != null && !ps.getIntoTables().isEmpty()) throw new Refusal("SELECT INTO");
        Scope sc = new Scope(outer, ctes);
        from(ps.getFromItem(), ps.getJoins(), sc);
        List<String> out = selectItems(ps.getSelectItems(), sc, exists);
        sc.outputs = out == null ? List.of() : out;
        if (ps.getDistinct() != null && ps.getDistinct().getOnSelectItems() != null) {
            for (SelectItem<?> si : ps.getDistinct().getOnSelectItems()) visit(si.getExpression(), sc, READ);
        }
        visit(ps.getWhere(), sc, READ);
        if (ps.getGroupBy() != null) {
            for (Object g : ps.getGroupBy().getGroupByExpressionList()) {
                visit((Expression) g, sc, g instanceof Column ? GROUP : READ);
            }
            if (ps.getGroupBy().getGroupingSets() != null) {
                for (Object gs : ps.getGroupBy().getGroupingSets()) {
                    if (gs instanceof Expression) visit((Expression) gs, sc, GROUP);
                }
            }
        }
        visit(ps.getHaving(), sc, READ);
        visit(ps.getQualify(), sc, READ);
        if (ps.getWindowDefinitions() != null) {
            for (WindowDefinition wd : ps.getWindowDefinitions()) {
                visit(wd.getPartitionExpressionList(), sc, READ);
                if (wd.getOrderByElements() != null) {
                    for (OrderByElement o : wd.getOrderByElements()) visit(o.getExpression(), sc, READ);
                }
            }
        }
        if (ps.getOrderByElements() != null) {
            for (OrderByElement o : ps.getOrderByElements()) {
                visit(o.getExpression(), sc, o.getExpression() instanceof Column ? ORDER : READ);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- FROM

    void from(FromItem first, List<Join> joins, Scope sc) {
        if (first != null) fromItem(first, sc);
        if (joins == null) return;
        for (Join j : joins) {
            int left = sc.rels.size();
            fromItem(j.getRightItem(), sc);
            boolean using = j.getUsingColumns() != null && !j.getUsingColumns().isEmpty();
            if ((j.isNatural() || using) && !new Merges(this).toOn(j, sc, left)) { // not one Merges reads
                naturalOrUsing(sc, using ? j.getUsingColumns() : null);
            }
            if (j.getOnExpressions() != null) {
                for (Expression e : j.getOnExpressions()) visit(e, sc, READ);
            }
        }
    }

    /** A USING list or NATURAL join merges columns: fine while reads stay on the old column, refused after. */
    private void naturalOrUsing(Scope sc, List<Column> using) {
        Set<String> cols = new LinkedHashSet<>();
        if (using != null) {
            for (Column c : using) {
                String n = name(c.getColumnName());
                if (managed.names.contains(n)) {
                    position(c);
                    accounted++;
                    cols.add(n);
                }
            }
        }
        for (Scope.Rel r : sc.rels) {
            for (Managed.M m : r.migs) {
                if (m.isNotNull()) continue; // the column stays what it is
                boolean involved = using == null || cols.contains(m.from()) || cols.contains(m.to());
                if (!involved) continue;
                Phase p = phase(m, r);
                if (p == Phase.SWITCH || p == Phase.CONTRACT) {
                    throw new Refusal((using == null ? "NATURAL join" : "JOIN USING") + " on managed table " + r.table);
                }
                if (using == null || cols.contains(m.from())) fact(m, UsageFact.Kind.READ, p);
                r.merged = true;
            }
        }
    }

    void fromItem(FromItem fi, Scope sc) {
        if (fi instanceof Table) {
            sc.rels.add(tableRel((Table) fi, sc));
        } else if (fi instanceof ParenthesedSelect) {
            ParenthesedSelect p = (ParenthesedSelect) fi;
            boolean lateral = fi instanceof LateralSubSelect;
            List<String> out = query(p.getSelect(), lateral ? sc : sc.parent, sc.ctes, false);
            sc.rels.add(derived(p.getAlias(), out));
        } else if (fi instanceof ParenthesedFromItem) {
            ParenthesedFromItem p = (ParenthesedFromItem) fi;
            if (p.getAlias() != null && p.getFromItem() instanceof Values && (p.getJoins() == null || p.getJoins().isEmpty())
                    && p.getFromItem().getAlias() == null) { // (VALUES …) AS v(a, b)
                Values v = (Values) p.getFromItem();
                visit(v.getExpressions(), sc, READ);
                sc.rels.add(derived(p.getAlias(), valuesColumns(v)));
                return;
            }
            if (p.getAlias() != null) throw new Refusal("aliased parenthesised join");
            from(p.getFromItem(), p.getJoins(), sc);
        } else if (fi instanceof TableFunction) {
            TableFunction tf = (TableFunction) fi;
            visit(tf.getFunction(), sc, READ);
            sc.rels.add(new FunctionColumns(this).rel(tf));
        } else if (fi instanceof Values) {
            Values v = (Values) fi;
            visit(v.getExpressions(), sc, READ);
            sc.rels.add(derived(v.getAlias(), valuesColumns(v)));
        } else if (fi != null) {
            throw new Refusal("FROM item " + fi.getClass().getSimpleName());
        }
    }

    /** A table reference: a CTE when an unqualified name matches one, else a base table. */
    Scope.Rel tableRel(Table t, Scope sc) {
        return tableRel(t, sc, UsageFact.Kind.READ);
    }

    /** A table reference read or written ({@code kind}, for a renamed table's usage fact). */
    Scope.Rel tableRel(Table t, Scope sc, UsageFact.Kind kind) {
        String tn = name(t.getName());
        String schema = t.getSchemaName() == null ? null : name(t.getSchemaName());
        if (t.getDatabaseName() != null && !t.getDatabaseName().isEmpty()) throw new Refusal("three-part table name");
        if (managed.oldTables.contains(tn)) accounted++;
        Alias a = t.getAlias();
        if (a != null && managed.counts(name(a.getName()))) accounted++;
        if (a != null && a.getAliasColumns() != null && !a.getAliasColumns().isEmpty()) {
            throw new Refusal("table alias with column list");
        }
        if (schema == null && sc.ctes.containsKey(tn)) {
            return derived(a == null ? null : a, sc.ctes.get(tn), tn);
        }
        if (schema == null) schema = path.resolve(tn, catalog);
        List<Managed.M> migs = managed.table(schema, tn);
        List<String> cols = catalog.columns(schema, tn);
        Migration ren = managed.renames.get(schema + "." + tn);
        String newName = tn;
        if (ren != null) {
            Phase p = renamePhase(ren);
            fact(ren, kind, p);
            if (isRead(p)) {
                newName = ren.toTable();
                cols = catalog.columns(schema, newName);
                int[] span = tableNameToken(t, tn);
                edits.replace(span[0], span[1], quote(newName));
            }
        }
        String qual = a != null ? quote(aliasName(a))
            : (t.getSchemaName() != null ? quote(schema) + "." + quote(newName) : quote(newName));
        Scope.Rel rel = new Scope.Rel(a != null ? aliasName(a) : tn, schema, tn, a != null, migs, cols, qual);
        rel.renamedTo = newName == tn ? null : newName;
        return rel;
    }

    /** The phase a table rename is in: off while the catalog does not list the new name yet. */
    Phase renamePhase(Migration ren) {
        return catalog.columns(ren.schema(), ren.toTable()) == null ? Phase.OFF : ren.phase();
    }

    /** A renamed table's use, with the same treatment rules as a column's. */
    void fact(Migration ren, UsageFact.Kind kind, Phase p) {
        UsageFact.Treatment t = isRead(p) ? UsageFact.Treatment.REWRITTEN : UsageFact.Treatment.PASSED_THROUGH;
        facts.add(new UsageFact(ren.id(), ren.qualifiedTable(), kind, t, tpl.fingerprint()));
    }

    /** Template span {start, end} of the name token of a table reference, checked against the lexer. */
    private int[] tableNameToken(Table t, String tn) {
        int first = tok.indexAt(start(t));
        int i = t.getSchemaName() != null ? first + 2 : first;
        if (first >= tok.count || tok.start[first] != start(t) || i >= tok.count || !tn.equals(SqlLexer.identName(tok, i))
                || t.getSchemaName() != null && tok.kind[first + 1] != SqlLexer.DOT) {
            throw new Refusal("table position mismatch");
        }
        return new int[] {tok.start[i], tok.end[i]};
    }

    /**
     * A column qualified by a renamed table's old name ({@code customers.id}): the qualifier follows the table
     * when the FROM entry it names was renamed; an alias or CTE of that name is left alone.
     */
    private void renamedQualifier(Column c, Table t, Scope sc) {
        String q = name(t.getName());
        String qs = t.getSchemaName() == null ? null : name(t.getSchemaName());
        if (t.getDatabaseName() != null && !t.getDatabaseName().isEmpty()) throw new Refusal("four-part column name");
        int[] p = position(c);
        int first = tok.indexAt(p[0]);
        int i = qs != null ? first + 2 : first;
        if (first >= tok.count || tok.start[first] != p[0] || i >= tok.count || !q.equals(SqlLexer.identName(tok, i))) {
            throw new Refusal("qualifier position mismatch");
        }
        accounted++;
        for (Scope s = sc; s != null; s = s.parent) {
            for (Scope.Rel r : s.rels) {
                if (r.matches(qs, q)) {
                    if (r.renamedTo != null && !r.aliased) edits.replace(tok.start[i], tok.end[i], quote(r.renamedTo));
                    return;
                }
            }
        }
        throw new Refusal("unknown qualifier " + q + "." + c.getColumnName());
    }

    private Scope.Rel derived(Alias a, List<String> out) {
        return derived(a, out, null);
    }

    private Scope.Rel derived(Alias a, List<String> out, String defaultName) {
        String n = a != null ? aliasName(a) : defaultName;
        if (a != null && managed.counts(n)) accounted++;
        if (a != null && a.getAliasColumns() != null && !a.getAliasColumns().isEmpty()) out = renamed(aliasColumns(a), out);
        return new Scope.Rel(n, null, null, a != null, null, out, n == null ? null : quote(n));
    }

    /**
     * Output columns {@code out} under a column alias list: as in PostgreSQL the first ones take the aliases and
     * the rest keep their names. Null when unknown, also when an opaque part ({@link Scope#OPAQUE}) lies under
     * the aliases and a managed name follows it (whether that one was renamed cannot be told).
     */
    List<String> renamed(List<String> names, List<String> out) {
        if (out == null) return null;
        List<String> r = new ArrayList<>(names);
        int op = out.indexOf(Scope.OPAQUE);
        if (op >= 0 && op < names.size()) {
            for (int i = op + 1; i < out.size(); i++) if (managed.names.contains(out.get(i))) return null;
            r.add(Scope.OPAQUE);
            return r;
        }
        if (names.size() < out.size()) r.addAll(out.subList(names.size(), out.size()));
        return r;
    }

    /** {@code column1 … columnN} of a VALUES list, N the width of its first row; null when it cannot be read. */
    private List<String> valuesColumns(Values v) {
        int i;
        try {
            i = tok.indexAt(start(v));
        } catch (Refusal noPosition) {
            return null;
        }
        while (i < tok.count && tok.kind[i] == SqlLexer.LPAREN) i++;
        if (!tok.isWord(i, "values") || i + 1 >= tok.count || tok.kind[i + 1] != SqlLexer.LPAREN) return null;
        int width = 1;
        for (int k = i + 2, depth = 1; k < tok.count; k++) {
            if (tok.kind[k] == SqlLexer.LPAREN) depth++;
            else if (tok.kind[k] == SqlLexer.RPAREN && --depth == 0) {
                List<String> out = new ArrayList<>();
                for (int c = 1; c <= width; c++) out.add("column" + c);
                return out;
            } else if (tok.kind[k] == SqlLexer.COMMA && depth == 1) width++;
        }
        return null;
    }

    private List<String> aliasColumns(Alias a) {
        List<String> cols = new ArrayList<>();
        for (Alias.AliasColumn c : a.getAliasColumns()) {
            String n = name(c.name);
            if (managed.counts(n)) accounted++;
            cols.add(n);
        }
        return cols;
    }

    // ---------------------------------------------------------------- select lists

    /** Analyses a select list (or RETURNING list) and returns its output names, null when unknown. */
    List<String> selectItems(List<? extends SelectItem<?>> items, Scope sc, boolean exists) {
        if (items == null) return List.of();
        List<String> out = new ArrayList<>();
        boolean known = true;
        for (SelectItem<?> si : items) {
            Expression e = si.getExpression();
            Alias a = si.getAlias();
            if (a != null && managed.counts(name(a.getName()))) accounted++;
            if (e instanceof AllTableColumns) {
                List<String> o = star(si, ((AllTableColumns) e).getTable(), sc, exists);
                if (o == null) known = false; else out.addAll(o);
            } else if (e instanceof AllColumns) {
                List<String> o = star(si, null, sc, exists);
                if (o == null) known = false; else out.addAll(o);
            } else {
                Column bare = bareColumn(e);
                if (a == null && bare != null) {
                    labelColumn = bare;
                    labelEnd = end(si);
                }
                visit(e, sc, READ);
                labelColumn = null;
                out.add(a != null ? aliasName(a) : bare != null ? name(bare.getColumnName()) : "?column?");
            }
        }
        return known ? out : null;
    }

    /** The column a select item is named after by PostgreSQL: itself, or under casts. */
    private static Column bareColumn(Expression e) {
        while (e instanceof CastExpression) e = ((CastExpression) e).getLeftExpression();
        return e instanceof Column ? (Column) e : null;
    }

    /** {@code *} or {@code t.*}: expanded from the catalog when a managed table in switch or contract is under it. */
    private List<String> star(SelectItem<?> si, Table t, Scope sc, boolean exists) {
        List<Scope.Rel> under = new ArrayList<>();
        if (t != null) {
            String q = name(t.getName());
            String qs = t.getSchemaName() == null ? null : name(t.getSchemaName());
            if (managed.oldTables.contains(q)) starQualifier(si, t, q, qs, sc);
            for (Scope s = sc; s != null && under.isEmpty(); s = s.parent) {
                for (Scope.Rel r : s.rels) {
                    if (r.matches(qs, q)) {
                        under.add(r);
                        break;
                    }
                }
            }
            if (under.isEmpty()) return null; // a composite-typed column's fields: not a relation we know
        } else if (sc.merged != null && !exists && (!sc.mergedKept || anyRead(sc))) {
            return new Merges(this).star(si, sc);
        } else {
            under.addAll(sc.rels);
        }
        boolean rewrite = false;
        for (Scope.Rel r : under) {
            for (Managed.M m : r.migs) {
                Phase p = phase(m, r);
                if (m.isNotNull()) continue;
                if (m.isRemoval()) {
                    boolean gone = r.cols != null && !r.cols.contains(m.from());
                    if (exists) continue;
                    if (isRead(p) && m.removed == null && gone) throw removedGone(m);
                    boolean mapped = isRead(p) && m.removed != null;
                    fact(m, UsageFact.Kind.READ, mapped ? UsageFact.Treatment.REWRITTEN : UsageFact.Treatment.PASSED_THROUGH);
                    if (mapped) rewrite = true;
                    continue;
                }
                // the new view's * leaves the old column out from expand on: no use of it to record
                if (!exists && !(newView && p != Phase.OFF)) fact(m, UsageFact.Kind.READ, p);
                if (p == Phase.SWITCH || p == Phase.CONTRACT) rewrite = true;
            }
            if (reordered(r)) rewrite = true;
            // from expand on, * shows the view's table even where no read moves: an explicit list
            // (not a bare * over a USING/NATURAL join left as written: its merged columns keep PostgreSQL's shape)
            if (r.cols != null && !r.migs.isEmpty() && !r.merged && !(t == null && sc.merged != null)
                && !viewOrder(r).equals(r.cols)) rewrite = true;
        }
        List<String> out = new ArrayList<>();
        boolean known = true;
        for (Scope.Rel r : under) {
            if (r.cols != null) {
                out.addAll(viewOrder(r));
            } else if (r.partial != null || r.isBase() && r.migs.isEmpty() && r.renamedTo == null) {
                // a table the catalog does not list has no managed name; a derived one may know some of its names
                if (r.partial != null) out.addAll(r.partial);
                out.add(Scope.OPAQUE);
            } else {
                known = false;
            }
        }
        if (!rewrite || exists) return known ? out : null;
        Parts p = new Parts();
        for (int i = 0; i < under.size(); i++) {
            Scope.Rel r = under.get(i);
            if (i > 0) p.text(", ");
            if (r.merged) throw new Refusal("* over a USING or NATURAL join of a managed table");
            if (r.qualText == null) throw new Refusal("* over an unnamed subquery");
            if (r.migs.isEmpty()) {
                p.text(r.qualText + ".*");
            } else if (r.cols != null) {
                expandTable(r, p);
            } else {
                for (Managed.M m : r.migs) {
                    if (m.isNotNull()) continue;
                    if (m.isRemoval()) throw new Refusal("* over a table with a removed column and unknown columns");
                    if (!m.down.isIdentity()) throw new Refusal("* over a type-changed table with unknown columns");
                    labels.put(m.from().toLowerCase(Locale.ROOT), m.to().toLowerCase(Locale.ROOT));
                }
                p.text(r.qualText + ".*");
            }
        }
        edits.replace(start(si), end(si), p);
        return known ? out : null;
    }

    /** {@code customers.*} of a renamed table: the qualifier follows the table, like a column's. */
    private void starQualifier(SelectItem<?> si, Table t, String q, String qs, Scope sc) {
        int first = tok.indexAt(start(si));
        int i = qs != null ? first + 2 : first;
        if (first >= tok.count || tok.start[first] != start(si) || i >= tok.count || !q.equals(SqlLexer.identName(tok, i))) {
            throw new Refusal("qualifier position mismatch");
        }
        accounted++;
        for (Scope s = sc; s != null; s = s.parent) {
            for (Scope.Rel r : s.rels) {
                if (r.matches(qs, q)) {
                    if (r.renamedTo != null && !r.aliased) edits.replace(tok.start[i], tok.end[i], quote(r.renamedTo));
                    return;
                }
            }
        }
        throw new Refusal("unknown qualifier " + q + ".*");
    }

    private void expandTable(Scope.Rel r, Parts p) {
        expandTable(r, p, java.util.Set.of(), true);
    }

    /** Appends {@code r}'s star columns except {@code skip}; returns {@code first} still true when none was. */
    boolean expandTable(Scope.Rel r, Parts p, java.util.Set<String> skip, boolean first) {
        for (String c : viewOrder(r)) {
            if (skip.contains(c)) continue;
            Managed.M m = null;
            for (Managed.M x : r.migs) if (x.from().equals(c)) m = x;
            boolean read = m != null && isRead(phase(m, r)) && !(m.isRemoval() && m.removed == null) && !m.isNotNull();
            if (!read && !r.cols.contains(c)) continue;
            if (!first) p.text(", ");
            first = false;
            if (read && m.isRemoval()) {
                p.text(m.removed + " AS " + quote(c));
            } else if (read && m.derived()) {
                String qual = r.qualText;
                p.add(m.down.apply(h -> new Parts().text(qual + "." + quote(h)))).text(" AS " + quote(c));
            } else if (read) {
                p.add(m.down.apply(new Parts().text(r.qualText + "." + quote(m.to())))).text(" AS " + quote(c));
            } else {
                p.text(r.qualText + "." + quote(c));
            }
        }
        return first;
    }

    /**
     * The columns {@code *} gives this connection's code. The legacy table for the old view: {@link #starOrder}
     * without the new column of each migration at least in expand. For the new view the table as it stands
     * once the migration is over: its current columns without the old column of each migration whose new
     * column exists. A column being removed or made NOT NULL stays in both. A column that is also another migration's old column (a chain) is never left out.
     */
    List<String> viewOrder(Scope.Rel r) {
        List<String> order = newView ? r.cols : starOrder(r);
        if (order == null || r.migs.isEmpty()) return order;
        java.util.Set<String> hide = new java.util.HashSet<>();
        for (Managed.M m : r.migs) {
            // a removal or a NOT NULL shows its column in both views, as the table stands (as ViewedMetaData does)
            if (phase(m, r) == Phase.OFF || m.keepsOne()) continue;
            hide.add(newView ? m.from() : m.to());
        }
        if (hide.isEmpty()) return order;
        for (Managed.M m : r.migs) {
            String keep = newView ? m.to() : m.from();
            if (keep != null) hide.remove(keep);
        }
        List<String> out = new ArrayList<>(order.size());
        for (String c : order) if (!hide.contains(c)) out.add(c);
        return out;
    }

    /**
     * The columns {@code *} gives legacy code, both columns included: the table as it stood before any old column was dropped (the
     * recorded order), else the current columns with each dropped old column appended.
     */
    List<String> starOrder(Scope.Rel r) {
        List<String> order = legacyOrder(r);
        if (order != null) return order;
        List<String> out = new ArrayList<>(r.cols);
        for (Managed.M m : r.migs) if (!r.cols.contains(m.from()) && !out.contains(m.from())) out.add(m.from());
        return out;
    }

    /**
     * The base table's columns in the order of the table before any of its old columns was dropped: the
     * catalog's recorded order when there is one that places an old column (keeping only columns that still
     * exist or are dropped old ones, then any added since), which is also the order once a dropped column was
     * re-created at the end of the table; else the current columns while every old one exists. Null when an
     * old column is gone and its place was not recorded.
     */
    List<String> legacyOrder(Scope.Rel r) {
        if (r.cols == null) return null;
        List<String> dropped = new ArrayList<>();
        for (Managed.M m : r.migs) if (!r.cols.contains(m.from())) dropped.add(m.from());
        List<String> rec = r.migs.isEmpty() ? null : catalog.recordedOrder(r.schema, r.table);
        if (dropped.isEmpty() && (rec == null || !placesOldColumn(rec, r))) return r.cols;
        if (rec == null || !rec.containsAll(dropped)) return null;
        List<String> out = new ArrayList<>();
        for (String c : rec) if ((r.cols.contains(c) || dropped.contains(c)) && !out.contains(c)) out.add(c);
        for (String c : r.cols) if (!out.contains(c)) out.add(c);
        return out;
    }

    private static boolean placesOldColumn(List<String> rec, Scope.Rel r) {
        for (Managed.M m : r.migs) if (rec.contains(m.from())) return true;
        return false;
    }

    /** Whether legacy code's {@code *} over {@code r} differs from the table's own: an old column dropped or re-created last. */
    boolean reordered(Scope.Rel r) {
        return r.cols != null && !r.migs.isEmpty() && !starOrder(r).equals(r.cols);
    }

    // ---------------------------------------------------------------- expressions

    void visit(Expression e, Scope sc, int mode) {
        if (e == null) return;
        e.accept(new Visitor(sc, mode), null);
    }

    void visitAll(List<? extends Expression> l, Scope sc, int mode) {
        if (l != null) for (Expression e : l) visit(e, sc, mode);
    }

    /** Finds every column and subquery in an expression, whatever its shape. */
    private final class Visitor extends ExpressionVisitorAdapter<Void> {
        private final Scope sc;
        private final int mode;

        Visitor(Scope sc, int mode) {
            this.sc = sc;
            this.mode = mode;
        }

        @Override public <S> Void visit(Column c, S ctx) {
            read(c, sc, mode);
            return null;
        }

        @Override public <S> Void visit(ParenthesedSelect s, S ctx) {
            query(s, sc, sc.ctes, false);
            return null;
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.operators.relational.EqualsTo e, S ctx) {
            return mode == READ && indexed.equalsTo(e, sc) ? null : super.visit(e, ctx);
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.operators.relational.InExpression e, S ctx) {
            return mode == READ && indexed.in(e, sc) ? null : super.visit(e, ctx);
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.operators.relational.IsNullExpression e, S ctx) {
            return mode == READ && indexed.isNull(e, sc) ? null : super.visit(e, ctx);
        }

        @Override public <S> Void visit(Select s, S ctx) {
            query(s, sc, sc.ctes, false);
            return null;
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.operators.relational.ExistsExpression e, S ctx) {
            Expression r = e.getRightExpression();
            if (r instanceof Select) query((Select) r, sc, sc.ctes, true);
            else if (r != null) r.accept(this, ctx);
            return null;
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.AnalyticExpression a, S ctx) {
            accept(a.getExpression());
            accept(a.getOffset());
            accept(a.getDefaultValue());
            accept((Expression) a.getPartitionExpressionList());
            orderBy(a.getOrderByElements());
            orderBy(a.getFuncOrderBy());
            accept(a.getFilterExpression());
            if (a.getWindowElement() != null) {
                net.sf.jsqlparser.expression.WindowElement w = a.getWindowElement();
                offset(w.getOffset());
                if (w.getRange() != null) {
                    offset(w.getRange().getStart());
                    offset(w.getRange().getEnd());
                }
            }
            if (a.getKeep() != null) orderBy(a.getKeep().getOrderByElements());
            return null;
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.Function f, S ctx) {
            accept((Expression) f.getParameters());
            if (f.getNamedParameters() != null) acceptAll(f.getNamedParameters().getExpressions());
            orderBy(f.getOrderByElements());
            if (f.getAttribute() instanceof Expression) accept((Expression) f.getAttribute());
            if (f.getKeep() != null) orderBy(f.getKeep().getOrderByElements());
            return null;
        }

        private void accept(Expression e) {
            if (e != null) e.accept(this, null);
        }

        private void acceptAll(List<? extends Expression> l) {
            if (l != null) for (Expression e : l) accept(e);
        }

        private void orderBy(List<OrderByElement> l) {
            if (l != null) for (OrderByElement o : l) accept(o.getExpression());
        }

        private void offset(net.sf.jsqlparser.expression.WindowOffset o) {
            if (o != null) accept(o.getExpression());
        }

        @Override public <S> Void visit(net.sf.jsqlparser.expression.AnyComparisonExpression e, S ctx) {
            if (e.getSelect() != null) query(e.getSelect(), sc, sc.ctes, false);
            return null;
        }

        @Override public <S> Void visit(AllTableColumns c, S ctx) {
            return null; // count(t.*) and friends: no column of ours is named
        }
    }

    /** A column reference in a read position. */
    void read(Column c, Scope sc, int mode) {
        String n = name(c.getColumnName());
        if (c.getTable() != null && c.getTable().getName() != null && managed.oldTables.contains(name(c.getTable().getName()))) {
            renamedQualifier(c, c.getTable(), sc);
        }
        if (c.getTable() == null && sc.anyMerged() && mergedRead(c, n, sc, mode)) return;
        if (!managed.names.contains(n)) return;
        int[] span = columnSpan(c, n);
        accounted++;
        Table t = c.getTable();
        String q = t == null || t.getName() == null ? null : name(t.getName());
        String qs = t == null || t.getSchemaName() == null ? null : name(t.getSchemaName());
        if (t != null && t.getDatabaseName() != null && !t.getDatabaseName().isEmpty()) throw new Refusal("four-part column name");
        if (q == null && mode == ORDER && sc.outputs != null && sc.outputs.contains(n)) return; // an output column
        Scope.Rel r;
        if (q == null && mode == GROUP) {
            try {
                r = sc.resolve(null, null, n);
            } catch (Refusal x) {
                if (sc.outputs != null && sc.outputs.contains(n)) return;
                throw x;
            }
        } else {
            r = sc.resolve(qs, q, n);
        }
        if (r == null) return;
        Managed.M m = r.managing(n);
        if (!m.from().equals(n)) return; // reads of the new column are never rewritten
        Phase p = phase(m, r);
        if (m.isNotNull()) return; // reads of a column made NOT NULL are never rewritten, and cannot break it
        if (m.isRemoval()) {
            removedRead(c, m, r, p, span);
            return;
        }
        fact(m, UsageFact.Kind.READ, p);
        if (!isRead(p)) return;
        if (r.merged) throw new Refusal("reference to a column merged by USING or NATURAL");
        int nameStart = span[2];
        if (m.derived()) { // down may read several columns of the row: each named the way this reference names its relation
            String qual = nameStart > span[0] ? null : qualifierFor(sc, r);
            edits.replace(span[0], span[1], m.down.apply(h -> qual == null
                ? new Parts().copy(span[0], nameStart).text(quote(h)) : new Parts().text(qual + "." + quote(h))));
            if (c == labelColumn) edits.insert(labelEnd, " AS " + quote(m.from()));
            return;
        }
        Parts ref = new Parts().copy(span[0], nameStart).text(quote(m.to()));
        if (m.down.isIdentity()) {
            edits.replace(nameStart, span[1], quote(m.to()));
        } else {
            edits.replace(span[0], span[1], m.down.apply(ref));
        }
        if (c == labelColumn) edits.insert(labelEnd, " AS " + quote(m.from()));
    }

    /**
     * The text that names {@code r} from scope {@code sc} for columns Bellows adds: its alias or table name, unless a
     * nearer relation has the same name (then the added column would be captured by it, and the statement is refused).
     */
    private static String qualifierFor(Scope sc, Scope.Rel r) {
        if (r.qualText == null) throw new Refusal("a derived column of an unnamed relation");
        for (Scope s = sc; s != null; s = s.parent) {
            for (Scope.Rel x : s.rels) {
                if (x == r) return r.qualText;
                if (x.name != null && x.name.equals(r.name)) throw new Refusal("cannot qualify the columns of " + r.name + " unambiguously");
            }
        }
        throw new Refusal("relation of a derived column not in scope");
    }

    /**
     * A read of a column to be removed: from switch on it gives the rule's removed value under the column's name;
     * without one it is read as written while the column exists, and refused (never sent) once it is gone.
     */
    private void removedRead(Column c, Managed.M m, Scope.Rel r, Phase p, int[] span) {
        if (!isRead(p) || m.removed == null) {
            if (isRead(p) && r.cols != null && !r.cols.contains(m.from())) throw removedGone(m);
            fact(m, UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH);
            return;
        }
        if (r.merged) throw new Refusal("reference to a column merged by USING or NATURAL");
        fact(m, UsageFact.Kind.READ, UsageFact.Treatment.REWRITTEN);
        edits.replace(span[0], span[1], m.removed);
        if (c == labelColumn) edits.insert(labelEnd, " AS " + quote(m.from()));
    }

    static Refusal removedGone(Managed.M m) {
        return Refusal.failClosed("reads " + m.column + ", which migration " + m.mig.id() + " removed, and the rule"
            + " gives no removed_value for such reads");
    }

    /** An unqualified reference to a column a rewritten USING/NATURAL join merged: the merged expression. */
    private boolean mergedRead(Column c, String n, Scope sc, int mode) {
        if (mode == ORDER && sc.outputs != null && sc.outputs.contains(n)) return false; // an output column
        Scope at = sc.mergedAt(n);
        if (at == null) return false;
        Parts e = at.merged.get(n);
        boolean ours = managed.names.contains(n);
        if (at.mergedKept && !ours) return true; // a join left as written, a column that is not ours: nothing to do
        int[] span = columnSpan(c, n);
        if (ours) accounted++;
        if (at.mergedKept) { // a join left as written: the merged column reads each side's own column
            for (Scope.Rel r : List.of(at.mergedLeft, at.mergedRight)) {
                Managed.M m = r.managing(n);
                if (m != null && m.from().equals(n)) fact(m, UsageFact.Kind.READ, phase(m, r));
            }
            return true;
        }
        edits.replace(span[0], span[1], e);
        if (c == labelColumn) edits.insert(labelEnd, " AS " + quote(n));
        return true;
    }

    private static boolean anyRead(Scope sc) {
        for (Scope.Rel r : sc.rels) for (Managed.M m : r.migs) if (isRead(phase(m, r))) return true;
        return false;
    }

    /** Template span of a column, validated against the lexer: {start, end, start of the column-name token}. */
    int[] columnSpan(Column c, String n) {
        int[] p = position(c);
        int last = tok.indexAt(p[1]) - 1;
        if (last < 0 || tok.end[last] != p[1] || !n.equals(SqlLexer.identName(tok, last))) {
            throw new Refusal("column position mismatch");
        }
        int first = tok.indexAt(p[0]);
        if (first >= tok.count || tok.start[first] != p[0]) throw new Refusal("column position mismatch");
        return new int[] {p[0], p[1], tok.start[last]};
    }

    int[] position(ASTNodeAccess n) {
        SimpleNode node = n.getASTNode();
        if (node == null || node.jjtGetFirstToken() == null || node.jjtGetLastToken() == null) {
            throw new Refusal("no source position for " + n.getClass().getSimpleName());
        }
        int s = base + node.jjtGetFirstToken().absoluteBegin - 1;
        int e = base + node.jjtGetLastToken().absoluteEnd - 1;
        if (s < base || e < s || e > tpl.text.length()) throw new Refusal("bad source position");
        return new int[] {s, e};
    }

    int start(ASTNodeAccess n) { return position(n)[0]; }

    /** Whether a {@code ?} of the template stands for a literal the statement has there, not a JDBC parameter. */
    boolean isLiteral(ASTNodeAccess n) {
        try {
            return java.util.Arrays.binarySearch(tpl.slotPos, start(n)) >= 0;
        } catch (Refusal noPosition) {
            return false;
        }
    }

    /** Whether {@code c} is the bare column whose output label a rewrite must keep. */
    boolean isLabel(Column c) { return c == labelColumn; }

    int end(ASTNodeAccess n) { return position(n)[1]; }

    // ---------------------------------------------------------------- shared helpers

    /** The phase that applies: off while the new column does not exist yet. */
    static Phase phase(Managed.M m, Scope.Rel r) {
        if (m.keepsOne()) return m.mig.phase();
        if (r.cols != null && !r.cols.contains(m.to())) return Phase.OFF;
        if (m.derived() && r.cols != null && !r.cols.containsAll(m.mig.tos())) return Phase.OFF; // one phase for all its columns
        if (m.mig.keepsFrom() && isRead(m.mig.phase())) return Phase.EXPAND; // no down: the old columns stay the truth
        return m.mig.phase();
    }

    static boolean isRead(Phase p) {
        return p == Phase.SWITCH || p == Phase.CONTRACT;
    }

    void fact(Managed.M m, UsageFact.Kind kind, Phase p) {
        UsageFact.Treatment t = kind == UsageFact.Kind.READ
            ? (isRead(p) ? UsageFact.Treatment.REWRITTEN : UsageFact.Treatment.PASSED_THROUGH)
            : (p == Phase.OFF ? UsageFact.Treatment.PASSED_THROUGH : UsageFact.Treatment.REWRITTEN);
        facts.add(new UsageFact(m.mig.id(), m.column, kind, t, tpl.fingerprint()));
    }

    void fact(Managed.M m, UsageFact.Kind kind, UsageFact.Treatment t) {
        facts.add(new UsageFact(m.mig.id(), m.column, kind, t, tpl.fingerprint()));
    }

    static String aliasName(Alias a) {
        return a == null ? null : name(a.getName());
    }

    /** The catalog name of an identifier as written: quoted keeps case, unquoted folds. */
    static String name(String ident) {
        if (ident == null) return null;
        if (ident.length() >= 2 && ident.charAt(0) == '"' && ident.charAt(ident.length() - 1) == '"') {
            return ident.substring(1, ident.length() - 1).replace("\"\"", "\"");
        }
        return ident.toLowerCase(Locale.ROOT);
    }

    /** An identifier as SQL text, quoted only when it has to be. */
    static String quote(String name) {
        boolean plain = !name.isEmpty() && (name.charAt(0) >= 'a' && name.charAt(0) <= 'z' || name.charAt(0) == '_');
        for (int i = 0; plain && i < name.length(); i++) {
            char c = name.charAt(i);
            plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$';
        }
        if (plain && !Keywords.RESERVED.contains(name)) return name;
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
