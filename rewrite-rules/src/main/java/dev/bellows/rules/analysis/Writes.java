package dev.bellows.rules.analysis;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.rewriting.Transform;
import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * INSERT, UPDATE, DELETE (and ON CONFLICT): dual writes spliced into the statement itself, so both
 * columns are written atomically. Value positions come from the lexer, structure from the parse tree;
 * when the two disagree the statement is refused.
 */
final class Writes {
    /** Functions a duplicated value may call: deterministic within one statement (and SQL keywords before a parenthesis). */
    private static final Set<String> SAFE = Set.of(
        "in", "exists", "any", "all", "some", "values", "cast", "coalesce", "nullif", "greatest", "least", "row",
        "array", "and", "or", "not", "then", "else", "when", "select", "where", "on", "by", "as", "is", "case",
        "between", "like", "ilike", "over", "filter", "extract", "position", "substring", "trim", "overlay",
        "interval", "from", "lower", "upper", "btrim", "ltrim", "rtrim", "concat", "concat_ws", "substr", "replace",
        "length", "char_length", "character_length", "octet_length", "abs", "round", "floor", "ceil", "ceiling",
        "trunc", "now", "date_trunc", "date_part", "to_char", "to_date", "to_timestamp", "to_number", "md5",
        "initcap", "left", "right", "lpad", "rpad", "split_part", "regexp_replace", "strpos", "reverse", "repeat",
        "format", "make_date", "make_timestamp", "make_timestamptz", "to_json", "to_jsonb", "json_build_object",
        "jsonb_build_object", "json_build_array", "jsonb_build_array", "jsonb_set", "array_append", "array_prepend",
        "array_cat", "array_remove", "array_length", "cardinality", "unnest", "numeric", "int", "int4", "int8",
        "integer", "bigint", "smallint", "text", "varchar", "char", "bool", "boolean", "date", "timestamp",
        "timestamptz", "time", "uuid", "jsonb", "json", "decimal", "float4", "float8", "real", "mod", "power",
        "sqrt", "sign", "translate", "quote_ident", "quote_literal", "encode", "decode", "sha256", "age",
        "current_setting", "statement_timestamp", "transaction_timestamp", "timezone", "unaccent", "string_agg");

    private static final String SRC = "bellows_src";

    private final Analyzer an;
    private final DerivedWrites derived;

    Writes(Analyzer an) {
        this.an = an;
        this.derived = new DerivedWrites(an, this);
    }

    // ---------------------------------------------------------------- INSERT

    List<String> insert(Insert ins, Scope outer, Map<String, List<String>> ctes) {
        ctes = an.withItems(ins.getWithItemsList(), outer, ctes);
        Scope target = new Scope(outer, ctes);
        Table t = ins.getTable();
        Scope.Rel rel = an.tableRel(t, target, UsageFact.Kind.WRITE);
        target.rels.add(rel);
        if (!rel.isBase()) throw new Refusal("INSERT into a CTE name");

        List<Column> cols = ins.getColumns();
        List<String> names = null;
        int listClose = -1;
        if (cols != null && !cols.isEmpty()) {
            names = new ArrayList<>();
            for (Column c : cols) {
                String n = Analyzer.name(c.getColumnName());
                if (an.managed.names.contains(n)) {
                    an.columnSpan(c, n);
                    an.accounted++;
                }
                names.add(n);
            }
            listClose = closeAfter(an.end(cols.get(cols.size() - 1)));
        }

        Select sel = ins.getSelect();
        List<Row> rows = null;
        int width;
        if (sel instanceof Values) {
            an.visit(((Values) sel).getExpressions(), outer == null ? new Scope(null, ctes) : outer, Analyzer.READ);
            rows = valuesRows(sel);
            width = rows.get(0).vals.size();
            for (Row r : rows) if (r.vals.size() != width) throw new Refusal("VALUES rows of different widths");
        } else if (sel != null) {
            List<String> out = an.query(sel, outer, ctes, false);
            width = out == null ? (names == null ? -1 : names.size()) : out.size();
        } else {
            width = 0; // DEFAULT VALUES
        }

        if (!rel.migs.isEmpty() && sel != null) {
            boolean positional = names == null;
            if (positional) names = legacyColumns(rel, width);
            if (names.size() != width && width >= 0) throw new Refusal("INSERT column count does not match its values");
            List<String> colText = new ArrayList<>();
            for (String n : names) colText.add(Analyzer.quote(n));
            List<String> addCols = new ArrayList<>();
            List<List<Parts>> rowAdds = new ArrayList<>();
            if (rows != null) for (int i = 0; i < rows.size(); i++) rowAdds.add(new ArrayList<>());
            List<Parts> selAdds = new ArrayList<>();
            Transform[] selWrap = new Transform[names.size()];
            Parts[] selParts = new Parts[names.size()];
            boolean selChanged = false;

            boolean[] dropped = new boolean[names.size()];
            boolean anyDropped = false;
            if (rows == null || positional) DerivedWrites.refuseIfTouched(rel, positional ? null : names, positional ? "positional INSERT" : "INSERT … SELECT");
            for (Managed.M m : rel.migs) {
                if (m.derived()) continue; // DerivedWrites, below
                Phase p = Analyzer.phase(m, rel);
                int f = names.indexOf(m.from());
                if (m.isNotNull()) {
                    if (f < 0) continue; // the column's default (the plan's expand step sets it) fills it
                    if (p == Phase.OFF) {
                        an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                        continue;
                    }
                    an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.REWRITTEN);
                    if (rows != null) {
                        for (Row row : rows) {
                            int[] v = row.vals.get(f);
                            if (!isDefault(v)) filled(m, v);
                        }
                    } else {
                        selParts[f] = new Parts().text("COALESCE(" + SRC + ".c" + (f + 1) + ", " + m.fill + ")");
                        selChanged = true;
                    }
                    continue;
                }
                if (m.isRemoval()) {
                    if (f < 0) continue;
                    boolean drop = Analyzer.isRead(p);
                    an.fact(m, UsageFact.Kind.WRITE, drop ? UsageFact.Treatment.REWRITTEN : UsageFact.Treatment.PASSED_THROUGH);
                    if (drop) dropped[f] = anyDropped = true;
                    continue;
                }
                int to = names.indexOf(m.to());
                if (f < 0 && to < 0) continue;
                if (f >= 0 && to >= 0 && p != Phase.OFF && fromExists(rel, m)) {
                    an.fact(m, UsageFact.Kind.WRITE, p);
                    if (rows != null) {
                        for (Row r : rows) both(m, r.vals.get(f), r.vals.get(to));
                    } else {
                        Parts[] v = bothValues(m, new Parts().text(SRC + ".c" + (f + 1)), new Parts().text(SRC + ".c" + (to + 1)));
                        selParts[f] = v[0];
                        selParts[to] = v[1];
                        selChanged = true;
                    }
                    continue;
                }
                if (f >= 0 && (p == Phase.OFF || to >= 0)) {
                    an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                    continue;
                }
                if (p == Phase.OFF || (f < 0 && p == Phase.CONTRACT)) continue;
                boolean fromWrite = f >= 0;
                int k = fromWrite ? f : to;
                Transform tr = fromWrite ? m.up : m.down;
                if (fromWrite) an.fact(m, UsageFact.Kind.WRITE, p);
                if (p == Phase.CONTRACT) { // write the new column only
                    if (positional) colText.set(f, Analyzer.quote(m.to()));
                    else an.edits.replace(an.columnSpan(cols.get(f), m.from())[2], an.end(cols.get(f)), Analyzer.quote(m.to()));
                    if (tr.isIdentity()) continue;
                    if (rows != null) {
                        for (Row r : rows) {
                            int[] v = r.vals.get(k);
                            if (!isDefault(v)) wrap(v[0], v[1], tr);
                        }
                    } else {
                        selWrap[k] = tr;
                        selChanged = true;
                    }
                    continue;
                }
                addCols.add(Analyzer.quote(fromWrite ? m.to() : m.from()));
                if (rows != null) {
                    for (int i = 0; i < rows.size(); i++) {
                        int[] v = rows.get(i).vals.get(k);
                        if (isDefault(v)) {
                            rowAdds.get(i).add(new Parts().text("DEFAULT"));
                        } else {
                            duplicable(v[0], v[1]);
                            rowAdds.get(i).add(tr.apply(an.edits.span(v[0], v[1])));
                        }
                    }
                } else {
                    selAdds.add(tr.apply(new Parts().text(SRC + ".c" + (k + 1))));
                    selChanged = true;
                }
            }

            if (anyDropped) {
                int kept = 0;
                while (kept < dropped.length && dropped[kept]) kept++;
                if (kept == dropped.length) throw new Refusal("INSERT writes only columns to be removed");
                if (rows != null) {
                    for (Row r : rows) cut(r.vals, dropped, kept);
                } else {
                    selChanged = true;
                }
                if (!positional) {
                    List<int[]> colSpans = new ArrayList<>();
                    for (Column c : cols) colSpans.add(an.position(c));
                    cut(colSpans, dropped, kept);
                }
            }
            // the columns meant differ from the ones the server would fill: the list is needed even when nothing else changes
            boolean shifted = positional && !names.equals(rel.cols.subList(0, Math.min(names.size(), rel.cols.size())));
            if (positional && (anyDropped || !addCols.isEmpty() || !colText.equals(quoted(names)) || selChanged || shifted)) {
                List<String> all = new ArrayList<>();
                for (int i = 0; i < colText.size(); i++) if (!dropped[i]) all.add(colText.get(i));
                all.addAll(addCols);
                an.edits.insert(tableEnd(t), " (" + String.join(", ", all) + ")");
            } else if (!addCols.isEmpty()) {
                an.edits.insert(listClose, ", " + String.join(", ", addCols));
            }
            if (rows != null) {
                for (int i = 0; i < rows.size(); i++) {
                    Parts add = new Parts();
                    for (Parts p : rowAdds.get(i)) add.text(", ").add(p);
                    if (!add.isEmpty()) an.edits.insert(rows.get(i).close, add);
                }
                if (!positional) derived.insert(rel, cols, names, rows, listClose);
            } else if (selChanged) {
                wrapSelect(sel, names.size(), selWrap, selParts, selAdds, dropped);
            }
        } else if (!rel.migs.isEmpty() && names != null) {
            for (Managed.M m : rel.migs) {
                if (names.contains(m.from())) an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
            }
        }

        if (ins.getConflictTarget() != null) {
            conflictTarget(rel, an.end(t));
            an.visit(ins.getConflictTarget().getWhereExpression(), target, Analyzer.READ);
        }
        if (ins.getConflictAction() != null) {
            Scope up = new Scope(outer, ctes);
            up.rels.add(rel);
            up.rels.add(new Scope.Rel("excluded", rel.schema, rel.table, true, rel.migs, rel.cols, "excluded"));
            if (ins.getConflictAction().getUpdateSets() != null) {
                assignments(ins.getConflictAction().getUpdateSets(), up, rel);
            }
            an.visit(ins.getConflictAction().getWhereExpression(), up, Analyzer.READ);
        }
        return an.selectItems(ins.getReturningClause(), target, false);
    }

    private static List<String> quoted(List<String> names) {
        List<String> q = new ArrayList<>();
        for (String n : names) q.add(Analyzer.quote(n));
        return q;
    }

    /**
     * The columns legacy code means by a positional INSERT: the table as it was, without the new columns.
     * After a drop that is the recorded order; without one the server would shift every later value into
     * the wrong column, so the statement is rejected rather than sent.
     */
    private List<String> legacyColumns(Scope.Rel rel, int width) {
        if (rel.cols == null) throw new Refusal("positional INSERT into a managed table with unknown columns");
        if (an.newView) return within(an.viewOrder(rel), width); // new code means the new table, as its * shows it
        List<String> order = an.legacyOrder(rel);
        if (order == null) {
            throw Refusal.failClosed("positional INSERT into " + rel.table + " after an old column was dropped, and the"
                + " table's legacy column order was not recorded; give the INSERT a column list");
        }
        List<String> legacy = new ArrayList<>(order);
        for (Managed.M m : rel.migs) legacy.remove(m.to());
        return within(legacy, width);
    }

    private static List<String> within(List<String> columns, int width) {
        if (width < 0) throw new Refusal("positional INSERT of a query whose width is unknown");
        if (width > columns.size()) throw new Refusal("positional INSERT wider than the table");
        return new ArrayList<>(columns.subList(0, width));
    }

    /** {@code INSERT ... SELECT}: the query becomes a derived table whose columns feed the extra ones. */
    private void wrapSelect(Select sel, int n, Transform[] wrap, Parts[] replaced, List<Parts> adds, boolean[] dropped) {
        int[] p = an.position(sel);
        Parts inner = an.edits.span(p[0], p[1]);
        Parts out = new Parts().text("SELECT ");
        boolean first = true;
        for (int i = 0; i < n; i++) {
            if (dropped[i]) continue;
            if (!first) out.text(", ");
            first = false;
            Parts c = new Parts().text(SRC + ".c" + (i + 1));
            out.add(replaced[i] != null ? replaced[i] : wrap[i] == null ? c : wrap[i].apply(c));
        }
        for (Parts a : adds) out.text(", ").add(a);
        out.text(" FROM (").add(inner).text(") AS " + SRC + "(");
        for (int i = 0; i < n; i++) out.text((i > 0 ? ", c" : "c") + (i + 1));
        out.text(")");
        an.edits.absorb(p[0], p[1], out);
    }

    /**
     * Removes the list elements marked {@code dropped} (template spans, in order) with their commas; {@code kept}
     * is the first element kept. Values inside go too, parameters included: the parameter plan then binds them nowhere.
     */
    private void cut(List<int[]> spans, boolean[] dropped, int kept) {
        if (kept > 0) an.edits.absorb(spans.get(0)[0], spans.get(kept)[0], new Parts());
        for (int i = kept + 1; i < spans.size(); i++) {
            if (dropped[i]) an.edits.absorb(spans.get(i - 1)[1], spans.get(i)[1], new Parts());
        }
    }

    /** {@code ON CONFLICT (col, ...)}: an arbiter on the old column moves to the new one's twin once reads move. */
    private void conflictTarget(Scope.Rel rel, int after) {
        SqlLexer.Tokens tk = an.tok;
        int i = an.tok.indexAt(after); // this INSERT's own clause, not one of a CTE before it
        int end = pieceEnd();
        for (; i + 1 < end; i++) {
            if (tk.isWord(i, "on") && tk.isWord(i + 1, "conflict")) break;
        }
        if (i + 2 >= end || tk.kind[i + 2] != SqlLexer.LPAREN) return; // ON CONSTRAINT name, or no target
        int depth = 0;
        for (int j = i + 2; j < end; j++) {
            byte k = tk.kind[j];
            if (k == SqlLexer.LPAREN) depth++;
            else if (k == SqlLexer.RPAREN && --depth == 0) break;
            else if ((k == SqlLexer.IDENT || k == SqlLexer.QIDENT) && depth == 1) {
                String n = SqlLexer.identName(tk, j);
                if (n == null || !an.managed.names.contains(n)) continue;
                if (j > 0 && tk.kind[j - 1] == SqlLexer.DOT || j + 1 < end && tk.kind[j + 1] == SqlLexer.LPAREN) continue;
                an.accounted++;
                Managed.M m = rel.managing(n);
                if (m != null && m.derived()) throw new Refusal("ON CONFLICT on " + n + ", a column of derived migration " + m.mig.id());
                if (m == null || !m.from().equals(n)) continue;
                if (m.isNotNull()) continue; // reads of a column made NOT NULL are never rewritten
                Phase p = Analyzer.phase(m, rel);
                if (m.isRemoval()) {
                    if (Analyzer.isRead(p)) throw new Refusal("ON CONFLICT on " + n + ", a column to be removed");
                    an.fact(m, UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH);
                    continue;
                }
                an.fact(m, UsageFact.Kind.READ, p);
                if (Analyzer.isRead(p)) an.edits.replace(tk.start[j], tk.end[j], Analyzer.quote(m.to()));
            }
        }
    }

    // ---------------------------------------------------------------- UPDATE / DELETE

    List<String> update(Update up, Scope outer, Map<String, List<String>> ctes) {
        ctes = an.withItems(up.getWithItemsList(), outer, ctes);
        if (up.getStartJoins() != null && !up.getStartJoins().isEmpty()) throw new Refusal("UPDATE with joins before SET");
        Scope sc = new Scope(outer, ctes);
        Scope.Rel rel = an.tableRel(up.getTable(), sc, UsageFact.Kind.WRITE);
        sc.rels.add(rel);
        an.from(up.getFromItem(), up.getJoins(), sc);
        assignments(up.getUpdateSets(), sc, rel);
        an.visit(up.getWhere(), sc, Analyzer.READ);
        return an.selectItems(up.getReturningClause(), sc, false);
    }

    List<String> delete(Delete d, Scope outer, Map<String, List<String>> ctes) {
        ctes = an.withItems(d.getWithItemsList(), outer, ctes);
        Scope sc = new Scope(outer, ctes);
        sc.rels.add(an.tableRel(d.getTable(), sc, UsageFact.Kind.WRITE));
        if (d.getUsingList() != null) for (Table t : d.getUsingList()) sc.rels.add(an.tableRel(t, sc));
        an.from(null, d.getJoins(), sc);
        an.visit(d.getWhere(), sc, Analyzer.READ);
        return an.selectItems(d.getReturningClause(), sc, false);
    }

    /** SET lists of UPDATE and ON CONFLICT DO UPDATE: reads mapped, writes duplicated. */
    void assignments(List<UpdateSet> sets, Scope sc, Scope.Rel rel) {
        for (UpdateSet us : sets) {
            for (Column c : us.getColumns()) {
                String n = Analyzer.name(c.getColumnName());
                if (an.managed.names.contains(n)) {
                    an.columnSpan(c, n);
                    an.accounted++;
                }
            }
            for (Expression e : us.getValues()) an.visit(e, sc, Analyzer.READ);
        }
        for (Managed.M m : rel.migs) {
            if (m.derived()) continue; // DerivedWrites, below
            Phase p = Analyzer.phase(m, rel);
            if (m.isRemoval()) {
                removedAssignment(sets, m, rel, p);
                continue;
            }
            if (m.isNotNull()) {
                for (UpdateSet us : sets) {
                    for (int i = 0; i < us.getColumns().size(); i++) {
                        if (!Analyzer.name(us.getColumns().get(i).getColumnName()).equals(m.from())) continue;
                        an.fact(m, UsageFact.Kind.WRITE, p == Phase.OFF ? UsageFact.Treatment.PASSED_THROUGH : UsageFact.Treatment.REWRITTEN);
                        int[] v = assignment(us).vals.get(i);
                        if (p != Phase.OFF && !isDefault(v)) filled(m, v);
                    }
                }
                continue;
            }
            UpdateSet fs = null, ts = null;
            int fi = -1, ti = -1;
            for (UpdateSet us : sets) {
                for (int i = 0; i < us.getColumns().size(); i++) {
                    String n = Analyzer.name(us.getColumns().get(i).getColumnName());
                    if (n.equals(m.from())) { fs = us; fi = i; }
                    if (n.equals(m.to())) { ts = us; ti = i; }
                }
            }
            if (fs == null && ts == null) continue;
            if (fs != null && ts != null && p != Phase.OFF && fromExists(rel, m)) {
                an.fact(m, UsageFact.Kind.WRITE, p);
                both(m, assignment(fs).vals.get(fi), assignment(ts).vals.get(ti));
                continue;
            }
            if (fs != null && (p == Phase.OFF || ts != null)) {
                an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                continue;
            }
            if (p == Phase.OFF || fs == null && p == Phase.CONTRACT) continue;
            boolean fromWrite = fs != null;
            UpdateSet us = fromWrite ? fs : ts;
            int idx = fromWrite ? fi : ti;
            Transform tr = fromWrite ? m.up : m.down;
            if (fromWrite) an.fact(m, UsageFact.Kind.WRITE, p);
            Assignment a = assignment(us);
            int[] v = a.vals.get(idx);
            if (p == Phase.CONTRACT) {
                Column c = us.getColumns().get(idx);
                an.edits.replace(an.columnSpan(c, m.from())[2], an.end(c), Analyzer.quote(m.to()));
                if (!tr.isIdentity() && !isDefault(v)) wrap(v[0], v[1], tr);
                continue;
            }
            String other = Analyzer.quote(fromWrite ? m.to() : m.from());
            Parts val;
            if (isDefault(v)) {
                val = new Parts().text("DEFAULT");
            } else {
                duplicable(v[0], v[1]);
                val = tr.apply(an.edits.span(v[0], v[1]));
            }
            if (a.colsClose < 0) {
                an.edits.insert(v[1], new Parts().text(", " + other + " = ").add(val));
            } else {
                an.edits.insert(a.colsClose, ", " + other);
                an.edits.insert(a.valsClose, new Parts().text(", ").add(val));
            }
        }
        derived.update(sets, rel);
    }

    /**
     * A value written into a column being made NOT NULL: NULL becomes the migration's default at run time, so a NULL
     * bound to a parameter (known only then) is caught too; the parameter stays a parameter.
     */
    void filled(Managed.M m, int[] v) {
        an.edits.absorb(v[0], v[1], new Parts().text("COALESCE(").add(an.edits.span(v[0], v[1])).text(", " + m.fill + ")"));
    }

    /**
     * {@code SET removed = value}: from switch on the assignment is taken out of the statement; when it was the only
     * one, a column of the table is set to itself instead, so the statement still locks and counts the same rows.
     */
    private void removedAssignment(List<UpdateSet> sets, Managed.M m, Scope.Rel rel, Phase p) {
        int at = -1;
        for (int i = 0; i < sets.size(); i++) {
            for (Column c : sets.get(i).getColumns()) {
                if (Analyzer.name(c.getColumnName()).equals(m.from())) at = i;
            }
        }
        if (at < 0) return;
        if (!Analyzer.isRead(p)) {
            an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
            return;
        }
        UpdateSet us = sets.get(at);
        if (us.getColumns().size() != 1) throw new Refusal("multi-column SET of " + m.from() + ", a column to be removed");
        an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.REWRITTEN);
        int[] span = {an.start(us.getColumns().get(0)), assignment(us).vals.get(0)[1]};
        if (sets.size() == 1) {
            String keep = null;
            if (rel.cols != null) {
                for (String c : rel.cols) {
                    if (rel.managing(c) == null) {
                        keep = c;
                        break;
                    }
                }
            }
            if (keep == null) throw new Refusal("UPDATE setting only " + m.from() + ", a column to be removed, of a table whose columns are unknown");
            an.edits.absorb(span[0], span[1], new Parts().text(Analyzer.quote(keep) + " = " + rel.qualText + "." + Analyzer.quote(keep)));
        } else if (at > 0) {
            UpdateSet prev = sets.get(at - 1);
            Assignment pa = assignment(prev);
            int prevEnd = pa.valsClose >= 0 ? an.tok.end[an.tok.indexAt(pa.valsClose)] : pa.vals.get(0)[1];
            an.edits.absorb(prevEnd, span[1], new Parts());
        } else {
            int next = an.tok.indexAt(an.start(sets.get(1).getColumns().get(0)));
            if (sets.get(1).getColumns().size() > 1) next--; // the target list's '('
            if (next < 0 || sets.get(1).getColumns().size() > 1 && an.tok.kind[next] != SqlLexer.LPAREN) {
                throw new Refusal("cannot locate the SET item after " + m.from());
            }
            an.edits.absorb(span[0], an.tok.start[next], new Parts());
        }
    }

    /** Where one SET item's target list closes (multi-column form) and where each value lies. */
    static final class Assignment {
        int colsClose = -1;
        int valsClose = -1;
        final List<int[]> vals = new ArrayList<>();
    }

    /** Where a multi-column SET item ends: just past its value list's ')'. */
    int setEnd(UpdateSet us) {
        Assignment a = assignment(us);
        return a.valsClose >= 0 ? an.tok.end[an.tok.indexAt(a.valsClose)] : a.vals.get(0)[1];
    }

    Assignment assignment(UpdateSet us) {
        SqlLexer.Tokens tk = an.tok;
        List<Column> cols = us.getColumns();
        int i = tk.indexAt(an.end(cols.get(cols.size() - 1)));
        Assignment a = new Assignment();
        boolean multi = i < tk.count && tk.kind[i] == SqlLexer.RPAREN;
        if (multi) {
            a.colsClose = tk.start[i];
            i++;
        }
        if (i >= tk.count || tk.kind[i] != SqlLexer.OP || !"=".equals(tk.text(i))) throw new Refusal("cannot locate SET value");
        i++;
        if (!multi) {
            int e = valueEnd(i);
            a.vals.add(new int[] {tk.start[i], tk.end[e - 1]});
            return a;
        }
        if (i >= tk.count || tk.kind[i] != SqlLexer.LPAREN || tk.isWord(i + 1, "select") || tk.isWord(i + 1, "with")) {
            throw new Refusal("multi-column SET from a subquery or row expression");
        }
        int close = matching(i);
        a.valsClose = tk.start[close];
        splitList(i + 1, close, a.vals);
        if (a.vals.size() != cols.size()) throw new Refusal("multi-column SET with mismatched widths");
        return a;
    }

    // ---------------------------------------------------------------- lexer-side structure

    /** One row of a VALUES list: its closing parenthesis and its values' spans. */
    static final class Row {
        int close;
        final List<int[]> vals = new ArrayList<>();
    }

    private List<Row> valuesRows(Select values) {
        SqlLexer.Tokens tk = an.tok;
        int i = tk.indexAt(an.start(values));
        if (!tk.isWord(i, "values")) throw new Refusal("cannot locate VALUES");
        i++;
        List<Row> rows = new ArrayList<>();
        while (i < tk.count && tk.kind[i] == SqlLexer.LPAREN) {
            int close = matching(i);
            Row r = new Row();
            r.close = tk.start[close];
            splitList(i + 1, close, r.vals);
            rows.add(r);
            i = close + 1;
            if (i < tk.count && tk.kind[i] == SqlLexer.COMMA) i++;
            else break;
        }
        if (rows.isEmpty()) throw new Refusal("cannot locate VALUES rows");
        return rows;
    }

    /** Splits tokens [from, to) at top-level commas into value spans. */
    void splitList(int from, int to, List<int[]> out) {
        SqlLexer.Tokens tk = an.tok;
        int depth = 0;
        int s = from;
        for (int i = from; i <= to; i++) {
            if (i == to || depth == 0 && tk.kind[i] == SqlLexer.COMMA) {
                int last = i - 1;
                while (last >= s && tk.kind[last] == SqlLexer.COMMENT) last--;
                int first = s;
                while (first < i && tk.kind[first] == SqlLexer.COMMENT) first++;
                if (first > last) throw new Refusal("empty list element");
                out.add(new int[] {tk.start[first], tk.end[last]});
                s = i + 1;
                continue;
            }
            byte k = tk.kind[i];
            if (k == SqlLexer.LPAREN || k == SqlLexer.LBRACKET) depth++;
            else if (k == SqlLexer.RPAREN || k == SqlLexer.RBRACKET) depth--;
        }
    }

    /** The token index just past a SET value that starts at token {@code i}. */
    private int valueEnd(int i) {
        SqlLexer.Tokens tk = an.tok;
        int end = pieceEnd();
        int depth = 0;
        int cases = 0; // open CASE ... END: their WHEN is part of the value, a MERGE's next WHEN is not
        int last = i;
        for (; i < end; i++) {
            byte k = tk.kind[i];
            if (k == SqlLexer.LPAREN || k == SqlLexer.LBRACKET) depth++;
            else if (k == SqlLexer.RPAREN || k == SqlLexer.RBRACKET) {
                if (--depth < 0) break;
            } else if (depth == 0 && (k == SqlLexer.COMMA || k == SqlLexer.SEMI
                || tk.isWord(i, "from") || tk.isWord(i, "where") || tk.isWord(i, "returning")
                || cases == 0 && tk.isWord(i, "when"))) {
                break;
            } else if (depth == 0 && tk.isWord(i, "case")) {
                cases++;
            } else if (depth == 0 && tk.isWord(i, "end") && cases > 0) {
                cases--;
            }
            if (k != SqlLexer.COMMENT) last = i;
        }
        if (last < 0 || last >= end) throw new Refusal("cannot locate SET value end");
        return last + 1;
    }

    int matching(int open) {
        SqlLexer.Tokens tk = an.tok;
        int depth = 0;
        for (int i = open; i < tk.count; i++) {
            if (tk.kind[i] == SqlLexer.LPAREN) depth++;
            else if (tk.kind[i] == SqlLexer.RPAREN && --depth == 0) return i;
        }
        throw new Refusal("unbalanced parentheses");
    }

    /** Position of the ')' closing the list whose last element ends at {@code pos}. */
    private int closeAfter(int pos) {
        int i = an.tok.indexAt(pos);
        while (i < an.tok.count && an.tok.kind[i] == SqlLexer.COMMENT) i++;
        if (i >= an.tok.count || an.tok.kind[i] != SqlLexer.RPAREN) throw new Refusal("cannot locate column list end");
        return an.tok.start[i];
    }

    /** Where a column list can be inserted after the INSERT's table reference and alias. */
    private int tableEnd(Table t) {
        int e = an.end(t);
        SqlLexer.Tokens tk = an.tok;
        int i = tk.indexAt(e);
        if (t.getAlias() != null) {
            if (tk.isWord(i, "as")) i++;
            if (i < tk.count && (tk.kind[i] == SqlLexer.IDENT || tk.kind[i] == SqlLexer.QIDENT)
                && t.getAlias().getName() != null && Analyzer.name(t.getAlias().getName()).equals(SqlLexer.identName(tk, i))) {
                e = tk.end[i];
            }
        }
        return e;
    }

    private int pieceEnd() {
        return an.pieceEndToken;
    }

    // ---------------------------------------------------------------- both columns written

    /**
     * A statement writing both columns (a framework that lists every column of the table, or code that knows
     * both): the two must not diverge. NULL or DEFAULT on one side takes the other side's value; two values
     * are each kept where the other is NULL at run time, and a run where both are non-NULL and differ fails
     * with a Bellows error instead of storing two truths. Both NULL/DEFAULT: as written.
     */
    void both(Managed.M m, int[] vf, int[] vt) {
        boolean nf = isNullOrDefault(vf);
        boolean nt = isNullOrDefault(vt);
        if (nf && nt) return;
        if (!nf) duplicable(vf[0], vf[1]);
        if (!nt) duplicable(vt[0], vt[1]);
        Parts[] v = bothValues(m, nf ? null : an.edits.span(vf[0], vf[1]), nt ? null : an.edits.span(vt[0], vt[1]));
        if (v[0] != null) an.edits.absorb(vf[0], vf[1], v[0]);
        if (v[1] != null) an.edits.absorb(vt[0], vt[1], v[1]);
    }

    /** The from and to values for {@link #both}; a null argument is a NULL/DEFAULT literal, a null result keeps the value. */
    private static Parts[] bothValues(Managed.M m, Parts f, Parts t) {
        if (f == null) return new Parts[] {m.down.apply(t), null};
        if (t == null) return new Parts[] {null, m.up.apply(f)};
        Parts upF = m.up.apply(f);
        Parts from = new Parts().text("COALESCE(").add(f).text(", ").add(m.down.apply(t)).text(")");
        // The cast fails only on the row where both are given and differ; it names columns, never values.
        Parts to = new Parts().text("CASE WHEN CAST(CASE WHEN ").add(t).text(" <> ").add(upF)
            .text(" THEN '" + conflict(m) + "' END AS integer) IS NULL THEN COALESCE(").add(t).text(", ").add(upF)
            .text(") END");
        return new Parts[] {from, to};
    }

    private static String conflict(Managed.M m) {
        String msg = "Bellows: " + m.mig.qualifiedTable() + "." + m.from() + " and " + m.to()
            + " written with different values in one statement (migration " + m.mig.id() + "); write one of them";
        return msg.replace("'", "''").replace("?", "");
    }

    /** Whether the old column still exists (after the drop a statement naming it fails in the database). */
    static boolean fromExists(Scope.Rel rel, Managed.M m) {
        return rel.cols == null || rel.cols.contains(m.from());
    }

    private boolean isNullOrDefault(int[] v) {
        int i = an.tok.tokenExactly(v[0], v[1]);
        return i >= 0 && (an.tok.isWord(i, "default") || an.tok.isWord(i, "null"));
    }

    boolean isDefault(int[] v) {
        int i = an.tok.tokenExactly(v[0], v[1]);
        return i >= 0 && an.tok.isWord(i, "default");
    }

    void wrap(int s, int e, Transform tr) {
        an.edits.absorb(s, e, tr.apply(an.edits.span(s, e)));
    }

    /** A value written into two columns is evaluated twice: refuse anything that could differ between the two. */
    void duplicable(int s, int e) {
        SqlLexer.Tokens tk = an.tok;
        for (int i = tk.indexAt(s); i < tk.count && tk.start[i] < e; i++) {
            if (tk.kind[i] == SqlLexer.IDENT && i + 1 < tk.count && tk.kind[i + 1] == SqlLexer.LPAREN
                && !SAFE.contains(tk.text(i).toLowerCase(Locale.ROOT))) {
                throw new Refusal("duplicated value calls " + tk.text(i) + "(), which may be volatile");
            }
        }
    }
}
