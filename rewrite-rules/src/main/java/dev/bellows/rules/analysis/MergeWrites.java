package dev.bellows.rules.analysis;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.rewriting.Transform;
import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.merge.MergeDelete;
import net.sf.jsqlparser.statement.merge.MergeInsert;
import net.sf.jsqlparser.statement.merge.MergeOperation;
import net.sf.jsqlparser.statement.merge.MergeUpdate;

/**
 * {@code MERGE INTO t USING source ON cond WHEN [NOT] MATCHED [AND cond] THEN UPDATE SET … | INSERT (cols) VALUES (…)
 * | DELETE}: the condition, the source and every action's reads mapped like any read, each action's writes
 * dual-written (or renamed in contract) like UPDATE and INSERT. Forms JSqlParser 5.3 cannot parse never get here.
 */
final class MergeWrites {
    private final Analyzer an;
    private final Writes writes;

    MergeWrites(Analyzer an, Writes writes) {
        this.an = an;
        this.writes = writes;
    }

    void merge(Merge mg) {
        if (mg.getOutputClause() != null || mg.getOracleHint() != null) throw new Refusal("MERGE with OUTPUT or a hint");
        Map<String, List<String>> ctes = an.withItems(mg.getWithItemsList(), null, Map.of());
        Scope sc = new Scope(null, ctes);
        Scope.Rel rel = an.tableRel(mg.getTable(), sc);
        if (!rel.isBase()) throw new Refusal("MERGE into a CTE name");
        sc.rels.add(rel);
        if (mg.getFromItem() == null) throw new Refusal("MERGE without a source");
        an.from(mg.getFromItem(), null, sc);
        // WHEN NOT MATCHED ... INSERT sees the source only
        Scope source = new Scope(null, ctes);
        source.rels.addAll(sc.rels.subList(1, sc.rels.size()));
        an.visit(mg.getOnCondition(), sc, Analyzer.READ);
        List<MergeOperation> ops = mg.getOperations();
        if (ops == null || ops.isEmpty()) throw new Refusal("MERGE without actions");
        for (MergeOperation op : ops) {
            if (op instanceof MergeUpdate) {
                MergeUpdate u = (MergeUpdate) op;
                if (u.getWhereCondition() != null || u.getDeleteWhereCondition() != null) throw new Refusal("MERGE UPDATE ... WHERE");
                an.visit(u.getAndPredicate(), sc, Analyzer.READ);
                writes.assignments(u.getUpdateSets(), sc, rel);
            } else if (op instanceof MergeDelete) {
                an.visit(((MergeDelete) op).getAndPredicate(), sc, Analyzer.READ);
            } else if (op instanceof MergeInsert) {
                MergeInsert in = (MergeInsert) op;
                if (in.getWhereCondition() != null) throw new Refusal("MERGE INSERT ... WHERE");
                an.visit(in.getAndPredicate(), source, Analyzer.READ);
                insert(in, source, rel);
            } else {
                throw new Refusal("MERGE action " + op.getClass().getSimpleName());
            }
        }
    }

    /** {@code INSERT (cols) VALUES (vals)} of one action: one row, dual-written like a plain INSERT's. */
    private void insert(MergeInsert in, Scope source, Scope.Rel rel) {
        if (in.getColumns() == null || in.getColumns().isEmpty()) {
            // positional: passed through while the old column exists, rejected after the drop (Analysis.unanalysed)
            throw new Refusal("MERGE ... INSERT without a column list into " + rel.table + "; give it a column list");
        }
        List<String> names = new ArrayList<>();
        for (Column c : in.getColumns()) {
            String n = Analyzer.name(c.getColumnName());
            if (an.managed.names.contains(n)) {
                an.columnSpan(c, n);
                an.accounted++;
            }
            names.add(n);
        }
        if (in.getValues() == null) throw new Refusal("MERGE INSERT without VALUES");
        an.visitAll(in.getValues(), source, Analyzer.READ);
        SqlLexer.Tokens tk = an.tok;
        int colsClose = tk.indexAt(an.end(in.getColumns().get(in.getColumns().size() - 1)));
        while (colsClose < tk.count && tk.kind[colsClose] == SqlLexer.COMMENT) colsClose++;
        if (colsClose >= tk.count || tk.kind[colsClose] != SqlLexer.RPAREN) throw new Refusal("cannot locate MERGE INSERT columns");
        int i = colsClose + 1;
        while (i < tk.count && tk.kind[i] == SqlLexer.COMMENT) i++;
        if (!tk.isWord(i, "values") || i + 1 >= tk.count || tk.kind[i + 1] != SqlLexer.LPAREN) {
            throw new Refusal("cannot locate MERGE INSERT VALUES");
        }
        int valsClose = writes.matching(i + 1);
        List<int[]> vals = new ArrayList<>();
        writes.splitList(i + 2, valsClose, vals);
        if (vals.size() != names.size()) throw new Refusal("MERGE INSERT column count does not match its values");
        List<String> addCols = new ArrayList<>();
        Parts addVals = new Parts();
        DerivedWrites.refuseIfTouched(rel, names, "MERGE INSERT");
        for (Managed.M m : rel.migs) {
            Phase p = Analyzer.phase(m, rel);
            int f = names.indexOf(m.from());
            if (m.keepsOne()) { // a removal or a NOT NULL: one column, no dual write
                if (f < 0) continue;
                if (p == Phase.OFF) {
                    an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                } else if (m.isNotNull()) {
                    an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.REWRITTEN);
                    if (!writes.isDefault(vals.get(f))) writes.filled(m, vals.get(f));
                } else if (Analyzer.isRead(p)) {
                    throw new Refusal("MERGE INSERT writes " + m.column + ", which is being removed; use INSERT");
                } else {
                    an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                }
                continue;
            }
            int t = names.indexOf(m.to());
            if (f < 0 && t < 0) continue;
            if (f >= 0 && t >= 0 && p != Phase.OFF && Writes.fromExists(rel, m)) {
                an.fact(m, UsageFact.Kind.WRITE, p);
                writes.both(m, vals.get(f), vals.get(t));
                continue;
            }
            if (f >= 0 && (p == Phase.OFF || t >= 0)) {
                an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                continue;
            }
            if (p == Phase.OFF || f < 0 && p == Phase.CONTRACT) continue;
            boolean fromWrite = f >= 0;
            int k = fromWrite ? f : t;
            Transform tr = fromWrite ? m.up : m.down;
            if (fromWrite) an.fact(m, UsageFact.Kind.WRITE, p);
            int[] v = vals.get(k);
            if (p == Phase.CONTRACT) {
                Column c = in.getColumns().get(f);
                an.edits.replace(an.columnSpan(c, m.from())[2], an.end(c), Analyzer.quote(m.to()));
                if (!tr.isIdentity() && !writes.isDefault(v)) writes.wrap(v[0], v[1], tr);
                continue;
            }
            addCols.add(Analyzer.quote(fromWrite ? m.to() : m.from()));
            if (writes.isDefault(v)) {
                addVals.text(", DEFAULT");
            } else {
                writes.duplicable(v[0], v[1]);
                addVals.text(", ").add(tr.apply(an.edits.span(v[0], v[1])));
            }
        }
        if (addCols.isEmpty()) return;
        an.edits.insert(tk.start[colsClose], ", " + String.join(", ", addCols));
        an.edits.insert(tk.start[valsClose], addVals);
    }
}
