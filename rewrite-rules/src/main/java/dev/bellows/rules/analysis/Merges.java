package dev.bellows.rules.analysis;

import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * {@code JOIN … USING (old)} and {@code NATURAL JOIN} of a managed table once reads move: the join becomes
 * {@code ON left.c = right.c} for each merged column, and an unqualified reference to a merged column becomes
 * the column PostgreSQL defines for it (the left side's for inner and left joins, the right side's for right
 * joins, {@code COALESCE(left, right)} for full joins). {@code *} lists the merged columns first, then the
 * rest of each side, as PostgreSQL does. Only a join of one relation with one more is rewritten.
 */
final class Merges {
    private final Analyzer an;

    Merges(Analyzer an) {
        this.an = an;
    }

    /**
     * Rewrites the join {@code j} (whose right item is the last relation of {@code sc}) when a merged column
     * moves, else records its merged columns; false when the join is not one this class reads.
     */
    boolean toOn(Join j, Scope sc, int leftCount) {
        if (leftCount != 1 || sc.rels.size() != 2 || sc.merged != null) return false;
        Scope.Rel left = sc.rels.get(0), right = sc.rels.get(1);
        for (Scope.Rel r : List.of(left, right)) {
            for (Managed.M m : r.migs) if (m.keepsOne() || m.derived()) return false; // left to naturalOrUsing: kept as written, refused once reads move
        }
        List<String> cols = new ArrayList<>();
        List<Column> using = j.getUsingColumns();
        if (using != null && !using.isEmpty()) {
            for (Column c : using) cols.add(Analyzer.name(c.getColumnName()));
        } else {
            List<String> l = legacy(left), r = legacy(right);
            if (l == null || r == null) return false;
            for (String c : l) if (r.contains(c)) cols.add(c);
        }
        boolean needed = false;
        for (String c : cols) if (moves(left, c) || moves(right, c)) needed = true;
        if (using == null || using.isEmpty()) { // the server joins on the columns the tables have now
            Set<String> now = new LinkedHashSet<>(left.cols);
            now.retainAll(right.cols);
            if (!now.equals(new LinkedHashSet<>(cols))) needed = true;
        }
        if (j.isCross() || j.isSimple() || j.isApply() || j.isSemi() || j.isStraight() || j.isWindowJoin()) {
            throw new Refusal("USING or NATURAL in an unusual join");
        }
        if (left.qualText == null || right.qualText == null) throw new Refusal("USING or NATURAL join of an unnamed subquery");

        for (Scope.Rel r : List.of(left, right)) {
            for (String c : cols) {
                Managed.M m = r.managing(c);
                if (m != null && m.from().equals(c)) an.fact(m, UsageFact.Kind.READ, Analyzer.phase(m, r));
            }
        }
        if (using != null) {
            for (Column c : using) {
                if (an.managed.names.contains(Analyzer.name(c.getColumnName()))) {
                    an.position(c);
                    an.accounted++;
                }
            }
        }
        Parts on = new Parts();
        LinkedHashMap<String, Parts> merged = new LinkedHashMap<>();
        for (String c : cols) {
            if (!on.isEmpty()) on.text(" AND ");
            on.add(side(left, c)).text(" = ").add(side(right, c));
            Parts m;
            if (j.isFull()) m = new Parts().text("COALESCE(").add(side(left, c)).text(", ").add(side(right, c)).text(")");
            else if (j.isRight()) m = side(right, c);
            else m = side(left, c);
            merged.put(c, m);
        }
        if (cols.isEmpty()) on.text("TRUE");
        sc.merged = merged;
        sc.mergedLeft = left;
        sc.mergedRight = right;
        sc.mergedKept = !needed;
        if (!needed) return true; // left as written; unqualified references to merged columns are still understood
        for (String c : cols) {
            if (left.has(c) == 0 || right.has(c) == 0) throw new Refusal("USING column " + c + " missing on one side");
        }

        SqlLexer.Tokens tk = an.tok;
        if (using != null && !using.isEmpty()) {
            int from = an.position(using.get(0))[0];
            int u = tk.indexAt(from) - 1;
            while (u >= 0 && tk.kind[u] == SqlLexer.COMMENT) u--;
            if (u < 1 || tk.kind[u] != SqlLexer.LPAREN || !tk.isWord(u - 1, "using")) throw new Refusal("cannot locate USING");
            int close = u;
            for (int depth = 0; close < tk.count; close++) {
                if (tk.kind[close] == SqlLexer.LPAREN) depth++;
                else if (tk.kind[close] == SqlLexer.RPAREN && --depth == 0) break;
            }
            if (close >= tk.count) throw new Refusal("cannot locate USING");
            if (close + 1 < an.pieceEndToken && tk.isWord(close + 1, "as")) throw new Refusal("JOIN USING with an alias");
            an.edits.replace(tk.start[u - 1], tk.end[close], new Parts().text("ON ").add(on));
        } else {
            int rs = an.start(j.getRightItem());
            int k = tk.indexAt(rs) - 1;
            int nat = -1;
            for (int steps = 0; k >= 0 && steps < 5; k--, steps++) {
                if (tk.isWord(k, "natural")) {
                    nat = k;
                    break;
                }
            }
            if (nat < 0) throw new Refusal("cannot locate NATURAL");
            an.edits.replace(tk.start[nat], tk.start[nat + 1], "");
            an.edits.insert(itemEnd(j.getRightItem()), new Parts().text(" ON ").add(on));
        }
        return true;
    }

    /** {@code *} over the rewritten join: merged columns, then each side's others, with the old labels. */
    List<String> star(SelectItem<?> si, Scope sc) {
        if (sc.rels.size() != 2) throw new Refusal("* over a USING or NATURAL join with more relations");
        Scope.Rel left = sc.mergedLeft, right = sc.mergedRight;
        if (left.cols == null || right.cols == null) throw new Refusal("* over a USING or NATURAL join with unknown columns");
        Parts p = new Parts();
        List<String> out = new ArrayList<>();
        boolean first = true;
        for (var e : sc.merged.entrySet()) {
            if (!first) p.text(", ");
            first = false;
            p.add(e.getValue()).text(" AS " + Analyzer.quote(e.getKey()));
            out.add(e.getKey());
        }
        Set<String> skip = sc.merged.keySet();
        for (Scope.Rel r : List.of(left, right)) {
            for (Managed.M m : r.migs) an.fact(m, UsageFact.Kind.READ, Analyzer.phase(m, r));
            first = an.expandTable(r, p, skip, first);
            for (String c : an.viewOrder(r)) if (!skip.contains(c)) out.add(c);
        }
        an.edits.replace(an.start(si), an.end(si), p);
        return out;
    }

    /** Whether {@code c} is an old column of {@code r} whose reads go to the new one. */
    private static boolean moves(Scope.Rel r, String c) {
        Managed.M m = r.managing(c);
        return m != null && m.from().equals(c) && Analyzer.isRead(Analyzer.phase(m, r));
    }

    /** The relation's column {@code c} as legacy code sees it. */
    private static Parts side(Scope.Rel r, String c) {
        Managed.M m = r.managing(c);
        if (m != null && m.from().equals(c) && Analyzer.isRead(Analyzer.phase(m, r))) {
            return m.down.apply(new Parts().text(r.qualText + "." + Analyzer.quote(m.to())));
        }
        return new Parts().text(r.qualText + "." + Analyzer.quote(c));
    }

    /** The columns legacy code sees on {@code r}: no new columns; null when unknown. */
    private List<String> legacy(Scope.Rel r) {
        if (r.cols == null) return null;
        List<String> order = r.isBase() ? an.legacyOrder(r) : r.cols;
        if (order == null) return null;
        Set<String> out = new LinkedHashSet<>(order);
        for (Managed.M m : r.migs) out.remove(m.to());
        return new ArrayList<>(out);
    }

    /** Where text can follow a FROM item and its alias. */
    private int itemEnd(FromItem t) {
        int e = an.end(t);
        SqlLexer.Tokens tk = an.tok;
        int i = tk.indexAt(e);
        if (t.getAlias() != null) {
            if (tk.isWord(i, "as")) i++;
            if (i < tk.count && (tk.kind[i] == SqlLexer.IDENT || tk.kind[i] == SqlLexer.QIDENT)
                && Analyzer.name(t.getAlias().getName()).equals(SqlLexer.identName(tk, i))) {
                e = tk.end[i];
            }
            if (t.getAlias().getAliasColumns() != null && !t.getAlias().getAliasColumns().isEmpty()) {
                throw new Refusal("NATURAL join of an item with a column alias list");
            }
        }
        return e;
    }
}
