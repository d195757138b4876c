package dev.bellows.rules.analysis;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code COPY table [(cols)] FROM|TO …} sent as SQL text, read from the lexer's tokens (JSqlParser does not
 * parse COPY). The column list is what legacy code means: written out in the legacy order when it is left
 * out, renamed in contract for {@code FROM}, and turned into {@code COPY (SELECT …) TO} where a read moves to
 * the new column. COPY cannot write two columns from one input field, so {@code FROM} into the old column
 * while both columns exist is refused.
 */
final class Copies {
    private final Analyzer an;
    private final SqlLexer.Tokens tk;

    Copies(Analyzer an) {
        this.an = an;
        this.tk = an.tok;
    }

    /** Analyses tokens [first, to), a COPY of a table. */
    void copy(int first, int to) {
        int i = first + 1;
        if (tk.isWord(i, "binary")) throw new Refusal("COPY BINARY table (old syntax)");
        if (!isIdent(i, to)) throw new Refusal("COPY of something other than a table");
        int tableStart = tk.start[i];
        String schema = null;
        String table = SqlLexer.identName(tk, i);
        i++;
        if (i + 1 < to && tk.kind[i] == SqlLexer.DOT && isIdent(i + 1, to)) {
            schema = table;
            table = SqlLexer.identName(tk, i + 1);
            i += 2;
        }
        int tableEnd = tk.end[i - 1];
        if (table == null) throw new Refusal("COPY table name");
        String sch = schema == null ? an.path.resolve(table, an.catalog) : schema;
        List<Managed.M> migs = an.managed.table(sch, table);
        List<String> names = null;
        List<Integer> nameTokens = new ArrayList<>();
        int listEnd = tableEnd;
        if (i < to && tk.kind[i] == SqlLexer.LPAREN) {
            names = new ArrayList<>();
            int j = i + 1;
            for (; j < to && tk.kind[j] != SqlLexer.RPAREN; j++) {
                if (tk.kind[j] == SqlLexer.COMMA || tk.kind[j] == SqlLexer.COMMENT) continue;
                if (!isIdent(j, to)) throw new Refusal("COPY column list");
                String n = SqlLexer.identName(tk, j);
                if (an.managed.names.contains(n)) an.accounted++;
                names.add(n);
                nameTokens.add(j);
            }
            if (j >= to) throw new Refusal("COPY column list");
            listEnd = tk.end[j];
            i = j + 1;
        }
        boolean from = tk.isWord(i, "from");
        if (!from && !tk.isWord(i, "to")) throw new Refusal("COPY without FROM or TO");
        for (int j = i; j < to; j++) { // options and file names never name a column
            if ((tk.kind[j] == SqlLexer.IDENT || tk.kind[j] == SqlLexer.QIDENT) && an.managed.names.contains(SqlLexer.identName(tk, j))) {
                throw new Refusal("managed name in COPY options");
            }
        }
        if (migs == null || migs.isEmpty()) return; // not a managed table: its columns are not ours
        for (Managed.M m : migs) {
            if (m.derived()) throw new Refusal("COPY of " + table + ", which has derived migration " + m.mig.id());
            if (m.isRemoval()) throw new Refusal("COPY of " + table + ", which has a column to be removed (" + m.from() + ")");
            if (m.isNotNull() && from && m.mig.phase() != Phase.OFF && (names == null || names.contains(m.from()))) {
                throw new Refusal("COPY FROM into " + table + "." + m.from() + ", which is being made NOT NULL (COPY cannot"
                    + " replace a NULL with its default)");
            }
        }
        List<Managed.M> all = migs;
        migs = new ArrayList<>();
        for (Managed.M m : all) if (!m.isNotNull()) migs.add(m);
        if (migs.isEmpty()) return;

        List<String> cols = an.catalog.columns(sch, table);
        String qual = (schema == null ? "" : Analyzer.quote(schema) + ".") + Analyzer.quote(table);
        Scope.Rel rel = new Scope.Rel(table, sch, table, false, migs, cols, qual);
        boolean positional = names == null;
        boolean live = false; // some migration has its new column: the table no longer has the legacy shape
        for (Managed.M m : migs) if (Analyzer.phase(m, rel) != Phase.OFF) live = true;
        if (positional) {
            if (!live && (cols == null || !an.reordered(rel))) return;
            if (cols == null) throw new Refusal("COPY of a managed table with unknown columns");
            List<String> order = an.legacyOrder(rel);
            if (order == null) {
                throw Refusal.failClosed("COPY " + table + " without a column list after an old column was dropped, and the"
                    + " table's legacy column order was not recorded; give the COPY a column list");
            }
            names = new ArrayList<>(order);
            for (Managed.M m : migs) names.remove(m.to());
        }
        List<String> out = new ArrayList<>(names);
        boolean query = false;
        Parts[] items = new Parts[names.size()];
        for (Managed.M m : migs) {
            Phase p = Analyzer.phase(m, rel);
            int f = names.indexOf(m.from());
            int t = names.indexOf(m.to());
            if (f < 0 && t < 0) continue;
            if (!from) {
                if (f < 0) continue;
                an.fact(m, UsageFact.Kind.READ, p);
                if (!Analyzer.isRead(p)) continue;
                items[f] = m.down.apply(new Parts().text(qual + "." + Analyzer.quote(m.to())))
                    .text(" AS " + Analyzer.quote(m.from()));
                query = true;
                continue;
            }
            if (f >= 0 && (p == Phase.OFF || t >= 0)) {
                an.fact(m, UsageFact.Kind.WRITE, UsageFact.Treatment.PASSED_THROUGH);
                continue;
            }
            if (p == Phase.OFF || f < 0 && p == Phase.CONTRACT) continue;
            if (p != Phase.CONTRACT) {
                throw new Refusal("COPY FROM cannot write " + (f >= 0 ? m.to() : m.from()) + " too (one input field, two columns)");
            }
            if (!m.up.isIdentity()) throw new Refusal("COPY FROM into a type-changed column cannot convert its values");
            an.fact(m, UsageFact.Kind.WRITE, p);
            out.set(f, m.to());
        }
        if (query) {
            Parts sel = new Parts().text("(SELECT ");
            for (int k = 0; k < names.size(); k++) {
                if (k > 0) sel.text(", ");
                sel.add(items[k] != null ? items[k] : new Parts().text(qual + "." + Analyzer.quote(names.get(k))));
            }
            sel.text(" FROM " + qual + ")");
            an.edits.replace(tableStart, listEnd, sel);
        } else if (positional) {
            List<String> q = new ArrayList<>();
            for (String n : out) q.add(Analyzer.quote(n));
            an.edits.insert(tableEnd, " (" + String.join(", ", q) + ")");
        } else {
            for (int k = 0; k < names.size(); k++) {
                if (!out.get(k).equals(names.get(k))) {
                    int tok = nameTokens.get(k);
                    an.edits.replace(tk.start[tok], tk.end[tok], Analyzer.quote(out.get(k)));
                }
            }
        }
    }

    private boolean isIdent(int i, int to) {
        return i < to && (tk.kind[i] == SqlLexer.IDENT || tk.kind[i] == SqlLexer.QIDENT);
    }
}
