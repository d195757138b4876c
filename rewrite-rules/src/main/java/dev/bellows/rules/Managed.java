package dev.bellows.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The rules compiled for lookup: migrations by table and by column name, with their transforms. */
final class Managed {
    /** One migration with its compiled up/down. */
    static final class M {
        final Migration mig;
        final Transform up;
        final Transform down;
        final String column; // schema.table.from, as facts name it

        M(Migration mig) {
            this.mig = mig;
            this.up = Transform.compile(mig.up(), mig.from());
            this.down = Transform.compile(mig.down(), mig.to());
            this.column = mig.qualifiedTable() + "." + mig.from();
        }
    }

    final Map<String, List<M>> byTable = new HashMap<>();
    final Set<String> names = new HashSet<>();       // every from and to
    final Set<String> mentionable = new HashSet<>(); // names plus managed table names: what makes a statement worth a look
    final char[][] lowerNames;
    private final long[] firstChars = new long[2];
    private final boolean nonAscii;

    Managed(RuleSet rules) {
        Set<String> lower = new HashSet<>();
        boolean na = false;
        for (Migration m : rules.migrations()) {
            byTable.computeIfAbsent(m.qualifiedTable(), k -> new ArrayList<>()).add(new M(m));
            names.add(m.from());
            names.add(m.to());
            for (String n : new String[] {m.from(), m.to(), m.table()}) {
                mentionable.add(n);
                String l = n.toLowerCase(Locale.ROOT);
                lower.add(l);
                char c = l.charAt(0);
                if (c >= 128) na = true;
                else {
                    mark(c);
                    mark(Character.toUpperCase(c));
                }
            }
        }
        lowerNames = new char[lower.size()][];
        int i = 0;
        for (String l : lower) lowerNames[i++] = l.toCharArray();
        nonAscii = na;
    }

    private void mark(char c) {
        firstChars[c >> 6] |= 1L << (c & 63);
    }

    List<M> table(String schema, String table) {
        return byTable.get(schema + "." + table);
    }

    boolean isEmpty() { return names.isEmpty(); }

    /** Whether {@code sql} contains any managed name, ignoring case: the no-parse fast path. */
    boolean mentioned(String sql) {
        if (nonAscii) return true;
        int n = sql.length();
        for (int i = 0; i < n; i++) {
            char c = sql.charAt(i);
            if (c < 128 && (firstChars[c >> 6] & (1L << (c & 63))) != 0 && matchesAt(sql, i)) return true;
        }
        return false;
    }

    private boolean matchesAt(String sql, int i) {
        char first = Character.toLowerCase(sql.charAt(i));
        for (char[] name : lowerNames) {
            if (name[0] != first || i + name.length > sql.length()) continue;
            int k = 1;
            while (k < name.length) {
                char c = sql.charAt(i + k);
                if (c != name[k] && Character.toLowerCase(c) != name[k]) break;
                k++;
            }
            if (k == name.length) return true;
        }
        return false;
    }
}
