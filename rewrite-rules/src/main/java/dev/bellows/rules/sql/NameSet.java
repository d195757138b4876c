package dev.bellows.rules.sql;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A set of catalog names that an identifier token can be looked up in without building its folded name: names
 * bucketed by first character, compared with the token's characters folded to lower case as they are read.
 */
public final class NameSet {
    private final Set<String> names;
    private final char[][][] byFirst = new char[128][][];

    public NameSet(Set<String> names) {
        this.names = Set.copyOf(names);
        Map<Character, List<char[]>> buckets = new HashMap<>();
        for (String n : names) {
            if (!n.isEmpty() && n.charAt(0) < 128) {
                buckets.computeIfAbsent(n.charAt(0), k -> new java.util.ArrayList<>()).add(n.toCharArray());
            }
        }
        buckets.forEach((c, l) -> byFirst[c] = l.toArray(new char[0][]));
    }

    public Set<String> names() { return names; }

    /** Whether token {@code i} (an identifier, quoted or not) names a member: {@link SqlLexer#identName} in the set. */
    boolean contains(SqlLexer.Tokens t, int i) {
        if (t.kind[i] != SqlLexer.IDENT) {
            String n = SqlLexer.identName(t, i);
            return n != null && names.contains(n);
        }
        String sql = t.sql;
        int s = t.start[i], e = t.end[i];
        for (int k = s; k < e; k++) {
            if (sql.charAt(k) >= 128) return names.contains(SqlLexer.identName(t, i)); // Unicode case folding
        }
        char first = lower(sql.charAt(s));
        char[][] cands = byFirst[first];
        if (cands == null) return false;
        outer:
        for (char[] n : cands) {
            if (n.length != e - s) continue;
            for (int k = 1; k < n.length; k++) {
                if (lower(sql.charAt(s + k)) != n[k]) continue outer;
            }
            return true;
        }
        return false;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }
}
