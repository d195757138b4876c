package dev.bellows.rules.rewriting;

import dev.bellows.rules.sql.Template;

import java.util.Arrays;

/**
 * Puts one statement back together from its template's edits: generated text, and the template's own ranges with the
 * statement's literals and comments in their slots. Also reads off which client parameter each output {@code ?} is.
 */
public final class Splice {
    private Splice() {}

    /** The output SQL of {@code parts} for the statement {@code sql}, whose template is {@code t}. */
    public static String text(Parts parts, String sql, Template t) {
        StringBuilder sb = new StringBuilder(sql.length() + 64);
        for (Parts.Part p : parts.list) {
            if (p.text != null) sb.append(p.text);
            else appendTemplate(sb, t, p.start, p.end);
        }
        return sb.toString();
    }

    /** Appends template [s, e) with the statement's own literals and comments in their slots. */
    private static void appendTemplate(StringBuilder sb, Template t, int s, int e) {
        int k = Arrays.binarySearch(t.slotPos, s);
        if (k < 0) k = -k - 1;
        int pos = s;
        while (k < t.slotPos.length && t.slotPos[k] < e) {
            int at = t.slotPos[k];
            sb.append(t.text, pos, at).append(t.slotText[k]);
            pos = at + (t.text.charAt(at) == '?' ? 1 : Template.COMMENT_MARK.length());
            k++;
        }
        sb.append(t.text, pos, e);
    }

    /** Server parameter → client parameter (1-based), read off the copied ranges in output order. */
    public static int[] serverToClient(Parts parts, Template tpl) {
        int[] s2c = new int[8];
        int n = 0;
        for (Parts.Part p : parts.list) {
            if (p.text != null) continue;
            int k = Arrays.binarySearch(tpl.paramPos, p.start);
            if (k < 0) k = -k - 1;
            for (; k < tpl.paramPos.length && tpl.paramPos[k] < p.end; k++) {
                if (n == s2c.length) s2c = Arrays.copyOf(s2c, n * 2);
                s2c[n++] = k + 1;
            }
        }
        return Arrays.copyOf(s2c, n);
    }
}
