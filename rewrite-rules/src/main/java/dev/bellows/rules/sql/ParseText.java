package dev.bellows.rules.sql;

import java.util.Locale;
import java.util.Set;

/**
 * The text handed to the parser: the statement with long runs of bare values blanked out. JSqlParser's
 * lookahead makes long IN lists and multi-row VALUES cost seconds, yet such runs hold no column reference
 * and all edits are placed by the lexer, so blanking them (same length, so every position stays valid)
 * changes nothing the analysis uses.
 */
public final class ParseText {
    /** Runs shorter than this are left for the parser: typical statements parse as written. */
    static final int MIN_RUN = 8;
    private static final Set<String> ATOM_WORDS = Set.of("null", "default", "true", "false");

    private ParseText() {}

    /** Tokens [first, to) of {@code text}, as the parser should see them; {@code tokensLeft[0]} gets what remains. */
    public static String of(String text, SqlLexer.Tokens t, int first, int to, int[] tokensLeft) {
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
        char[] out = unsupported(text, t, first, to, buf);
        return out == null ? text : new String(out);
    }

    /**
     * PostgreSQL syntax JSqlParser 5.3 rejects that holds no column reference, set aside (same length): a window
     * frame's {@code EXCLUDE …} and {@code GROUPS} mode (read as {@code ROWS}: the bounds and their expressions
     * stay), a window name inside {@code OVER (w …)}, {@code ORDER BY x USING <op>}, and {@code WHERE CURRENT OF
     * cursor} (read as {@code WHERE true}). Only the parser sees this text; the statement sent is the original.
     */
    private static char[] unsupported(String text, SqlLexer.Tokens t, int first, int to, char[] buf) {
        for (int i = first; i < to; i++) {
            byte k = t.kind[i];
            if (k == SqlLexer.LPAREN && i > first && t.isWord(i - 1, "over") && i + 2 < to && t.kind[i + 1] == SqlLexer.IDENT
                && !FRAME_WORDS.contains(lower(t, i + 1)) && FRAME_WORDS.contains(lower(t, i + 2))) {
                if (buf == null) buf = text.toCharArray();
                put(buf, t.start[i + 1], t.end[i + 1], "");
                continue;
            }
            if (k != SqlLexer.IDENT) continue;
            String w = lower(t, i);
            if (w.equals("exclude") && inWindow(t, first, i)) {
                int e = i + 1;
                if (t.isWord(e, "current") && t.isWord(e + 1, "row")) e += 2;
                else if (t.isWord(e, "no") && t.isWord(e + 1, "others")) e += 2;
                else if (t.isWord(e, "group") || t.isWord(e, "ties")) e += 1;
                else continue;
                if (e < to && t.kind[e] == SqlLexer.RPAREN) {
                    if (buf == null) buf = text.toCharArray();
                    put(buf, t.start[i], t.end[e - 1], "");
                }
            } else if (w.equals("groups") && i + 1 < to && (t.isWord(i + 1, "between") || t.isWord(i + 1, "unbounded")
                || t.isWord(i + 1, "current")) && afterWindowItem(t, first, i) && inWindow(t, first, i)) {
                if (buf == null) buf = text.toCharArray();
                put(buf, t.start[i], t.end[i], "rows");
            } else if (w.equals("using") && i + 1 < to && t.kind[i + 1] == SqlLexer.OP && i > first
                && (i + 2 >= to || t.kind[i + 2] == SqlLexer.COMMA || t.kind[i + 2] == SqlLexer.RPAREN
                    || t.kind[i + 2] == SqlLexer.SEMI || t.kind[i + 2] == SqlLexer.IDENT && AFTER_ORDER.contains(lower(t, i + 2)))) {
                if (buf == null) buf = text.toCharArray();
                put(buf, t.start[i], t.end[i + 1], "");
            } else if (w.equals("current") && i > first && t.isWord(i - 1, "where") && t.isWord(i + 1, "of")
                && i + 2 < to && (t.kind[i + 2] == SqlLexer.IDENT || t.kind[i + 2] == SqlLexer.QIDENT)
                && (i + 3 >= to || t.isWord(i + 3, "returning") || t.kind[i + 3] == SqlLexer.SEMI)) {
                if (buf == null) buf = text.toCharArray();
                put(buf, t.start[i], t.end[i + 2], "true");
            }
        }
        return buf;
    }

    private static final Set<String> FRAME_WORDS = Set.of("rows", "range", "groups", "order", "partition");
    private static final Set<String> AFTER_ORDER = Set.of("nulls", "limit", "offset", "fetch", "for", "returning");
    /** Words after which {@code groups} would be an operand, not a frame mode. */
    private static final Set<String> OPERAND_BEFORE = Set.of("by", "and", "or", "not", "is", "like", "ilike", "similar",
        "in", "between", "when", "then", "else", "case", "distinct", "all", "any", "some", "select", "where", "on",
        "having", "as", "return", "array", "exists");

    private static String lower(SqlLexer.Tokens t, int i) {
        return t.text(i).toLowerCase(Locale.ROOT);
    }

    /** Whether token {@code i} ends a window's ORDER BY item, a window name or an opening {@code (}. */
    private static boolean afterWindowItem(SqlLexer.Tokens t, int first, int i) {
        if (i <= first) return false;
        byte p = t.kind[i - 1];
        if (p == SqlLexer.LPAREN || p == SqlLexer.RPAREN || p == SqlLexer.QIDENT || p == SqlLexer.NUMBER) return true;
        return p == SqlLexer.IDENT && !OPERAND_BEFORE.contains(lower(t, i - 1));
    }

    /** Whether token {@code i} is directly inside {@code OVER (…)} or {@code WINDOW w AS (…)}. */
    private static boolean inWindow(SqlLexer.Tokens t, int first, int i) {
        int depth = 0;
        for (int j = i - 1; j >= first; j--) {
            byte k = t.kind[j];
            if (k == SqlLexer.RPAREN) depth++;
            else if (k == SqlLexer.LPAREN && depth-- == 0) {
                if (j - 1 < first) return false;
                if (t.isWord(j - 1, "over")) return true;
                return t.isWord(j - 1, "as") && j - 3 >= first && (t.kind[j - 2] == SqlLexer.IDENT || t.kind[j - 2] == SqlLexer.QIDENT)
                    && (t.isWord(j - 3, "window") || t.kind[j - 3] == SqlLexer.COMMA);
            }
        }
        return false;
    }

    /** Writes {@code word} over [from, to) and blanks the rest, keeping line breaks (positions stay valid). */
    private static void put(char[] buf, int from, int to, String word) {
        for (int k = from; k < to; k++) {
            int w = k - from;
            if (w < word.length()) buf[k] = word.charAt(w);
            else if (buf[k] != '\n' && buf[k] != '\r') buf[k] = ' ';
        }
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
