package dev.bellows.rules;

import java.util.Locale;
import java.util.Set;

/**
 * The text handed to the parser: the statement with long runs of bare values blanked out. JSqlParser's
 * lookahead makes long IN lists and multi-row VALUES cost seconds, yet such runs hold no column reference
 * and all edits are placed by the lexer, so blanking them (same length, so every position stays valid)
 * changes nothing the analysis uses.
 */
final class ParseText {
    /** Runs shorter than this are left for the parser: typical statements parse as written. */
    static final int MIN_RUN = 8;
    private static final Set<String> ATOM_WORDS = Set.of("null", "default", "true", "false");

    private ParseText() {}

    /** Tokens [first, to) of {@code text}, as the parser should see them; {@code tokensLeft[0]} gets what remains. */
    static String of(String text, SqlLexer.Tokens t, int first, int to, int[] tokensLeft) {
        char[] buf = null;
        int blanked = 0;
        for (int i = first; i < to; i++) {
            if (t.kind[i] != SqlLexer.LPAREN) continue;
            // ( atom, atom, ... ): keep the first atom
            int j = i + 1;
            if (j < to && atom(t, j)) {
                int last = j, n = 1;
                while (last + 2 < to && t.kind[last + 1] == SqlLexer.COMMA && atom(t, last + 2)) {
                    last += 2;
                    n++;
                }
                if (n >= MIN_RUN && last + 1 < to && t.kind[last + 1] == SqlLexer.RPAREN) {
                    if (buf == null) buf = text.toCharArray();
                    blank(buf, t.end[j], t.end[last]);
                    blanked += last - j;
                }
            }
            // VALUES (row), (row), ...: keep the first row
            if (i > first && t.isWord(i - 1, "values")) {
                int end = row(t, i, to);
                int n = 1;
                int lastEnd = end;
                while (lastEnd > 0 && lastEnd + 1 < to && t.kind[lastEnd + 1] == SqlLexer.COMMA) {
                    int e = row(t, lastEnd + 2, to);
                    if (e < 0) break;
                    lastEnd = e;
                    n++;
                }
                if (end > 0 && n >= MIN_RUN) {
                    if (buf == null) buf = text.toCharArray();
                    blank(buf, t.end[end], t.end[lastEnd]);
                    blanked += lastEnd - end;
                }
            }
        }
        tokensLeft[0] = to - first - blanked;
        return buf == null ? text : new String(buf);
    }

    /** The index of the ')' closing a row of atoms starting at {@code open}, or -1. */
    private static int row(SqlLexer.Tokens t, int open, int to) {
        if (open >= to || t.kind[open] != SqlLexer.LPAREN) return -1;
        int i = open + 1;
        while (i < to && atom(t, i)) {
            if (i + 1 < to && t.kind[i + 1] == SqlLexer.RPAREN) return i + 1;
            if (i + 1 < to && t.kind[i + 1] == SqlLexer.COMMA) i += 2;
            else return -1;
        }
        return -1;
    }

    private static boolean atom(SqlLexer.Tokens t, int i) {
        byte k = t.kind[i];
        return k == SqlLexer.PARAM || k == SqlLexer.DOLLAR
            || k == SqlLexer.IDENT && ATOM_WORDS.contains(t.text(i).toLowerCase(Locale.ROOT));
    }

    private static void blank(char[] buf, int from, int to) {
        for (int k = from; k < to; k++) {
            char c = buf[k];
            if (c != '\n' && c != '\r') buf[k] = ' ';
        }
    }
}
