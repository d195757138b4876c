package dev.bellows.rules.analysis;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.rewriting.Transform;
import dev.bellows.rules.sql.NameSet;
import dev.bellows.rules.sql.SqlLexer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The rules compiled for lookup: migrations by table and by column name, with their transforms. */
public final class Managed {
    /** One migration with its compiled up/down. */
    static final class M {
        final Migration mig;
        private final String from; // this component's old column (a derived migration has one component per old/new pair)
        private final String to;
        final Transform up;
        final Transform down;
        final String column; // schema.table.from, as facts name it
        final String removed; // a removal's read value as SQL text, null when not a removal or none given
        final String fill;    // a NOT NULL migration's value for NULL writes as SQL text, else null

        M(Migration mig) {
            this(mig, mig.from(), mig.to());
        }

        M(Migration mig, String from, String to) {
            this.mig = mig;
            this.from = from;
            this.to = to;
            if (mig.isDerived()) {
                Set<String> cols = new HashSet<>(mig.froms());
                cols.addAll(mig.tos());
                cols.addAll(mig.inputs());
                this.up = Transform.compile(mig.upOf(to), cols);
                this.down = Transform.compile(mig.downOf(from), cols);
            } else {
                this.up = Transform.compile(mig.up(), from);
                this.down = Transform.compile(mig.down(), to);
            }
            this.column = mig.qualifiedTable() + "." + from;
            String v = mig.removedValue();
            this.removed = v == null ? null : mig.type() == null ? "(" + v + ")" : "CAST((" + v + ") AS " + mig.type() + ")";
            this.fill = mig.defaultValue() == null ? null : "(" + mig.defaultValue() + ")";
        }

        /** The old column (the migration's {@code from}, or one of a merge's). */
        String from() { return from; }
        /** The new column (the migration's {@code to}, or one of a split's), null for a removal or NOT NULL. */
        String to() { return to; }
        /** Part of a derived migration: writes and reads go through {@link DerivedWrites} and multi-column transforms. */
        boolean derived() { return mig.isDerived(); }

        boolean isRemoval() { return mig.isRemoval(); }
        boolean isNotNull() { return mig.isNotNull(); }
        /** No new column: a removal or a NOT NULL migration. */
        boolean keepsOne() { return mig.isRemoval() || mig.isNotNull(); }
    }

    private static final boolean[] PART = new boolean[128];
    private static final char[] LOWER = new char[128];

    static {
        for (char c = 0; c < 128; c++) {
            PART[c] = SqlLexer.isIdentPart(c);
            LOWER[c] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
        }
    }

    final Map<String, List<M>> byTable = new HashMap<>();
    final Set<String> names = new HashSet<>();       // every from and to
    public final Set<String> mentionable = new HashSet<>(); // names plus managed table names: what makes a statement worth a look
    final Map<String, Migration> renames = new HashMap<>(); // table renames by schema.old_table
    final Set<String> oldTables = new HashSet<>();          // old names of renamed tables: every use must be accounted for
    private final char[][][] byFirst = new char[128][][]; // lower-case mentionable names by first character
    /** {@link #mentionable} for looking identifier tokens up without folding them into new strings. */
    public final NameSet mentionableNames;
    private final boolean nonAscii;

    public Managed(RuleSet rules) {
        Set<String> lower = new HashSet<>();
        for (Migration m : rules.migrations()) {
            if (m.isTableRename()) {
                renames.put(m.qualifiedTable(), m);
                oldTables.add(m.table());
                mentionable.add(m.table());
                lower.add(m.table().toLowerCase(Locale.ROOT));
                continue;
            }
            List<M> ms = byTable.computeIfAbsent(m.qualifiedTable(), k -> new ArrayList<>());
            if (m.isDerived()) {
                for (String f : m.froms()) for (String t : m.tos()) ms.add(new M(m, f, t));
                names.addAll(m.froms());
                names.addAll(m.tos());
                for (String n : m.froms()) { mentionable.add(n); lower.add(n.toLowerCase(Locale.ROOT)); }
                for (String n : m.tos()) { mentionable.add(n); lower.add(n.toLowerCase(Locale.ROOT)); }
                // a write of an input alone changes a derived column: such statements must be looked at too
                for (String n : m.inputs()) { mentionable.add(n); lower.add(n.toLowerCase(Locale.ROOT)); }
                mentionable.add(m.table());
                lower.add(m.table().toLowerCase(Locale.ROOT));
                continue;
            }
            ms.add(new M(m));
            names.add(m.from());
            if (m.to() != null) names.add(m.to());
            for (String n : m.to() == null ? new String[] {m.from(), m.table()} : new String[] {m.from(), m.to(), m.table()}) {
                mentionable.add(n);
                lower.add(n.toLowerCase(Locale.ROOT));
            }
        }
        boolean na = false;
        Map<Character, List<char[]>> buckets = new HashMap<>();
        for (String l : lower) {
            char c = l.charAt(0);
            if (c >= 128 || !SqlLexer.isIdentStart(c)) na = true;
            else buckets.computeIfAbsent(c, k -> new ArrayList<>()).add(l.toCharArray());
        }
        buckets.forEach((c, l) -> byFirst[c] = l.toArray(new char[0][]));
        nonAscii = na;
        mentionableNames = new NameSet(mentionable);
    }

    List<M> table(String schema, String table) {
        return byTable.get(schema + "." + table);
    }

    public boolean isEmpty() { return names.isEmpty() && renames.isEmpty(); }

    /** Whether {@code n} is a managed column name or the old name of a renamed table: a mention to account for. */
    boolean counts(String n) {
        return names.contains(n) || oldTables.contains(n);
    }

    /**
     * Whether some word of {@code sql} is a managed name, ignoring case: the no-parse fast path. Only word
     * starts are looked at and only whole words count; a hit inside a string or comment is settled later by
     * the lexer.
     */
    public boolean mentioned(String sql) {
        if (nonAscii) return true;
        int n = sql.length();
        boolean inWord = false;
        for (int i = 0; i < n; i++) {
            char c = sql.charAt(i);
            if (c >= 128) {
                inWord = true;
                continue;
            }
            boolean part = PART[c];
            if (part && !inWord) {
                char[][] cands = byFirst[LOWER[c]];
                if (cands != null && matchesAt(sql, i, cands)) return true;
            }
            inWord = part;
        }
        return false;
    }

    private static boolean matchesAt(String sql, int i, char[][] cands) {
        int n = sql.length();
        outer:
        for (char[] name : cands) {
            int end = i + name.length;
            if (end > n) continue;
            for (int k = 1; k < name.length; k++) {
                char c = sql.charAt(i + k);
                if ((c < 128 ? LOWER[c] : c) != name[k]) continue outer;
            }
            if (end == n) return true;
            char next = sql.charAt(end);
            if (next < 128 && !PART[next]) return true;
        }
        return false;
    }
}
