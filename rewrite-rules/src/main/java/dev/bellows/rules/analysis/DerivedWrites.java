package dev.bellows.rules.analysis;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.rewriting.Transform;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Writes under a derived migration (a split, a merge, or up/down reading other columns): every column computed from
 * the columns a statement writes is written in the same statement. An UPDATE that sets only some inputs takes the
 * others from the row as it was (SET expressions all see the old row); an INSERT must give every input. Which side
 * is recomputed follows what the statement writes: old columns feed the new ones, new columns the old ones, and a
 * write of an input alone recomputes the side that is not the truth yet (the new columns in expand, the old ones from
 * switch on). In contract the old columns are gone: their writes become writes of the new columns.
 */
final class DerivedWrites {
    private final Analyzer an;
    private final Writes w;

    DerivedWrites(Analyzer an, Writes w) {
        this.an = an;
        this.w = w;
    }

    /** The derived migrations among {@code rel}'s, each once, with one component per migration for facts and phase. */
    static Map<Migration, List<Managed.M>> groups(Scope.Rel rel) {
        Map<Migration, List<Managed.M>> out = new LinkedHashMap<>();
        for (Managed.M m : rel.migs) if (m.derived()) out.computeIfAbsent(m.mig, k -> new ArrayList<>()).add(m);
        return out;
    }

    /** Every column a derived migration reads or writes: what a statement must not touch in a form this class cannot carry. */
    static Set<String> columns(Migration g) {
        Set<String> s = new HashSet<>(g.froms());
        s.addAll(g.tos());
        s.addAll(g.inputs());
        return s;
    }

    /** Refuses a write naming a derived migration's column in a shape other than INSERT … VALUES or UPDATE … SET. */
    static void refuseIfTouched(Scope.Rel rel, List<String> names, String shape) {
        for (Map.Entry<Migration, List<Managed.M>> e : groups(rel).entrySet()) {
            if (Analyzer.phase(e.getValue().get(0), rel) == Phase.OFF) continue; // written as sent, like any column
            Migration g = e.getKey();
            if (names == null) throw new Refusal(shape + " into " + rel.table + ", which has derived migration " + g.id());
            for (String n : names) {
                if (columns(g).contains(n)) throw new Refusal(shape + " writing " + n + " of derived migration " + g.id());
            }
        }
    }

    /** What one statement does for one derived migration: columns it adds (with their expressions) and old columns it removes. */
    private static final class Plan {
        final Map<String, Transform> adds = new LinkedHashMap<>(); // column → expression over the row
        final Set<String> removes = new LinkedHashSet<>();          // old columns whose writes go (contract)
        final Map<String, Transform> downs = new LinkedHashMap<>();  // old column → down, to read it from the row in contract
    }

    private Plan plan(Migration g, List<Managed.M> comps, Set<String> written, Scope.Rel rel, String shape) {
        Phase p = Analyzer.phase(comps.get(0), rel);
        Set<String> af = new LinkedHashSet<>(g.froms());
        af.retainAll(written);
        Set<String> at = new LinkedHashSet<>(g.tos());
        at.retainAll(written);
        Set<String> ax = new LinkedHashSet<>(g.inputs());
        ax.retainAll(written);
        if (af.isEmpty() && at.isEmpty() && ax.isEmpty()) return null;
        Set<String> seen = new HashSet<>();
        for (Managed.M m : comps) {
            if (af.contains(m.from()) && seen.add(m.from())) an.fact(m, UsageFact.Kind.WRITE, p);
        }
        if (p == Phase.OFF) return null;
        if (!af.isEmpty() && !at.isEmpty()) {
            throw new Refusal(shape + " writing old and new columns of derived migration " + g.id() + " at once");
        }
        boolean fromExists = rel.cols == null || rel.cols.containsAll(g.froms());
        boolean contract = p == Phase.CONTRACT || !fromExists;
        Plan plan = new Plan();
        if (contract) {
            if (af.isEmpty()) return null; // new code: the old columns are gone, nothing derives from them
            plan.removes.addAll(af);
            for (Managed.M m : comps) {
                if (plan.adds.containsKey(m.to()) || !intersects(m.up.holes(), af)) continue;
                plan.adds.put(m.to(), m.up);
            }
            for (Managed.M m : comps) plan.downs.putIfAbsent(m.from(), m.down);
            return plan;
        }
        boolean upward = !af.isEmpty() || at.isEmpty() && p == Phase.EXPAND;
        for (Managed.M m : comps) {
            if (upward) {
                if (!written.contains(m.to()) && !plan.adds.containsKey(m.to()) && intersects(m.up.holes(), written)) {
                    plan.adds.put(m.to(), m.up);
                }
            } else if (!written.contains(m.from()) && !plan.adds.containsKey(m.from()) && intersects(m.down.holes(), written)) {
                plan.adds.put(m.from(), m.down);
            }
        }
        return plan;
    }

    private static boolean intersects(Set<String> a, Set<String> b) {
        for (String x : a) if (b.contains(x)) return true;
        return false;
    }

    // ---------------------------------------------------------------- INSERT … VALUES

    /** {@code INSERT INTO rel (names) VALUES rows}: derived columns added to the list and to every row. */
    void insert(Scope.Rel rel, List<Column> cols, List<String> names, List<Writes.Row> rows, int listClose) {
        Map<Migration, List<Managed.M>> groups = groups(rel);
        if (groups.isEmpty()) return;
        Set<String> written = new HashSet<>(names);
        List<Plan> plans = new ArrayList<>();
        for (Map.Entry<Migration, List<Managed.M>> e : groups.entrySet()) {
            Plan pl = plan(e.getKey(), e.getValue(), written, rel, "INSERT");
            if (pl != null && (!pl.adds.isEmpty() || !pl.removes.isEmpty())) plans.add(pl);
        }
        if (plans.isEmpty()) return;
        refuseOthers(rel, written, "INSERT");
        List<String> addCols = new ArrayList<>();
        List<Transform> addExpr = new ArrayList<>();
        Set<String> removes = new HashSet<>();
        for (Plan pl : plans) {
            pl.adds.forEach((c, t) -> { addCols.add(c); addExpr.add(t); });
            removes.addAll(pl.removes);
        }
        for (Transform t : addExpr) {
            for (String h : t.holes()) {
                if (!written.contains(h)) {
                    throw new Refusal("INSERT gives some inputs of a derived column but not " + h + " (its default is not known here)");
                }
            }
        }
        List<Parts> colParts = new ArrayList<>();
        for (String c : addCols) colParts.add(new Parts().text(Analyzer.quote(c)));
        List<int[]> colSpans = new ArrayList<>();
        for (Column c : cols) colSpans.add(an.position(c));
        List<List<Parts>> rowParts = new ArrayList<>();
        for (Writes.Row r : rows) {
            List<Parts> vals = new ArrayList<>();
            for (Transform t : addExpr) {
                vals.add(t.apply(h -> {
                    int[] v = r.vals.get(names.indexOf(h));
                    if (w.isDefault(v)) throw new Refusal("DEFAULT written into " + h + ", an input of a derived column");
                    w.duplicable(v[0], v[1]);
                    return an.edits.span(v[0], v[1]);
                }));
            }
            rowParts.add(vals);
        }
        if (removes.isEmpty()) {
            an.edits.insert(listClose, joined(colParts, ", "));
            for (int i = 0; i < rows.size(); i++) an.edits.insert(rows.get(i).close, joined(rowParts.get(i), ", "));
            return;
        }
        boolean[] removed = new boolean[names.size()];
        for (int i = 0; i < names.size(); i++) removed[i] = removes.contains(names.get(i));
        replaceElements(colSpans, removed, colParts);
        for (int i = 0; i < rows.size(); i++) replaceElements(rows.get(i).vals, removed, rowParts.get(i));
    }

    /**
     * Replaces the list elements marked {@code removed} by {@code added}: the first removed element's span takes the
     * additions, the other removed elements go with their commas; with nothing added every removed element goes.
     */
    private void replaceElements(List<int[]> spans, boolean[] removed, List<Parts> added) {
        int anchor = -1;
        for (int i = 0; i < removed.length; i++) if (removed[i]) { anchor = i; break; }
        boolean[] cut = removed.clone();
        if (!added.isEmpty()) cut[anchor] = false;
        int kept = 0;
        while (kept < cut.length && cut[kept]) kept++;
        if (kept == cut.length) throw new Refusal("INSERT writes only columns that are gone");
        if (kept > 0) an.edits.absorb(spans.get(0)[0], spans.get(kept)[0], new Parts());
        for (int i = kept + 1; i < spans.size(); i++) {
            if (cut[i]) an.edits.absorb(spans.get(i - 1)[1], spans.get(i)[1], new Parts());
        }
        if (!added.isEmpty()) an.edits.absorb(spans.get(anchor)[0], spans.get(anchor)[1], list(added));
    }

    // ---------------------------------------------------------------- UPDATE … SET

    /** The SET list of an UPDATE (or ON CONFLICT DO UPDATE) on {@code rel}: derived columns recomputed. */
    void update(List<UpdateSet> sets, Scope.Rel rel) {
        Map<Migration, List<Managed.M>> groups = groups(rel);
        if (groups.isEmpty()) return;
        Map<String, int[]> values = new LinkedHashMap<>();
        Map<String, Integer> setIndex = new LinkedHashMap<>();
        for (int i = 0; i < sets.size(); i++) {
            UpdateSet us = sets.get(i);
            Writes.Assignment a = w.assignment(us);
            for (int k = 0; k < us.getColumns().size(); k++) {
                String n = Analyzer.name(us.getColumns().get(k).getColumnName());
                values.put(n, a.vals.get(k));
                setIndex.put(n, i);
            }
        }
        Set<String> written = values.keySet();
        List<Plan> plans = new ArrayList<>();
        for (Map.Entry<Migration, List<Managed.M>> e : groups.entrySet()) {
            Plan pl = plan(e.getKey(), e.getValue(), written, rel, "UPDATE");
            if (pl == null || pl.adds.isEmpty() && pl.removes.isEmpty()) continue;
            for (String c : columns(e.getKey())) {
                Integer i = setIndex.get(c);
                if (i != null && sets.get(i).getColumns().size() > 1) {
                    throw new Refusal("multi-column SET of " + c + " of derived migration " + e.getKey().id());
                }
            }
            plans.add(pl);
        }
        if (plans.isEmpty()) return;
        refuseOthers(rel, written, "UPDATE");
        Map<String, Transform> downs = new LinkedHashMap<>();
        for (Plan pl : plans) downs.putAll(pl.downs);
        Function<String, Parts> row = h -> new Parts().text(rel.qualText + "." + Analyzer.quote(h));
        Function<String, Parts> valueOf = h -> {
            int[] v = values.get(h);
            if (v == null) {
                Transform d = downs.get(h);
                return d != null ? d.apply(row) : row.apply(h); // in contract an old column of the row is read through down
            }
            if (w.isDefault(v)) throw new Refusal("DEFAULT written into " + h + ", an input of a derived column");
            w.duplicable(v[0], v[1]);
            return an.edits.span(v[0], v[1]);
        };
        List<Parts> adds = new ArrayList<>();
        Set<String> removes = new LinkedHashSet<>();
        for (Plan pl : plans) {
            pl.adds.forEach((c, t) -> adds.add(new Parts().text(Analyzer.quote(c) + " = ").add(t.apply(valueOf))));
            removes.addAll(pl.removes);
        }
        if (removes.isEmpty()) {
            int[] last = w.assignment(sets.get(sets.size() - 1)).vals.get(0);
            UpdateSet lastSet = sets.get(sets.size() - 1);
            int end = lastSet.getColumns().size() > 1 ? w.setEnd(lastSet) : last[1];
            an.edits.insert(end, joined(adds, ", "));
            return;
        }
        List<int[]> spans = new ArrayList<>();
        boolean[] removed = new boolean[sets.size()];
        for (int i = 0; i < sets.size(); i++) {
            UpdateSet us = sets.get(i);
            int start = an.start(us.getColumns().get(0));
            if (us.getColumns().size() > 1) start = an.tok.start[an.tok.indexAt(start) - 1]; // the target list's '('
            int end = us.getColumns().size() > 1 ? w.setEnd(us) : w.assignment(us).vals.get(0)[1];
            spans.add(new int[] {start, end});
            removed[i] = us.getColumns().size() == 1 && removes.contains(Analyzer.name(us.getColumns().get(0).getColumnName()));
        }
        if (adds.isEmpty()) throw new Refusal("UPDATE of old columns that feed no new column");
        replaceElements(spans, removed, adds);
    }

    /** A statement writing columns of a derived migration and of another migration on the same table is not combined. */
    private static void refuseOthers(Scope.Rel rel, Set<String> written, String shape) {
        for (Managed.M m : rel.migs) {
            if (m.derived()) continue;
            if (written.contains(m.from()) || m.to() != null && written.contains(m.to())) {
                throw new Refusal(shape + " writing columns of a derived migration and of migration " + m.mig.id() + " at once");
            }
        }
    }

    /** The parts separated by commas. */
    private static Parts list(List<Parts> parts) {
        Parts out = new Parts();
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) out.text(", ");
            out.add(parts.get(i));
        }
        return out;
    }

    /** Each part preceded by {@code sep}: to append to a list. */
    private static Parts joined(List<Parts> parts, String sep) {
        Parts out = new Parts();
        for (Parts p : parts) out.text(sep).add(p);
        return out;
    }
}
