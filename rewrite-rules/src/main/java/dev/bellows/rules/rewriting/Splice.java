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
        return text(parts, sql, t.text, t.slotPos, t.slotSpan);
    }

    /**
     * The output SQL of {@code parts} for the statement {@code sql} of template {@code text}, whose slots stand at
     * {@code slotPos} in the template and at {@code slotSpan} (start, end, ...) in the statement. Built in a buffer of
     * the exact length.
     */
    public static String text(Parts parts, String sql, String text, int[] slotPos, int[] slotSpan) {
        int len = 0;
        for (Parts.Part p : parts.list) {
            len += p.text != null ? p.text.length() : templateLength(text, slotPos, slotSpan, p.start, p.end);
        }
        StringBuilder sb = new StringBuilder(len);
        for (Parts.Part p : parts.list) {
            if (p.text != null) sb.append(p.text);
            else appendTemplate(sb, sql, text, slotPos, slotSpan, p.start, p.end);
        }
        return sb.toString();
    }

    private static int firstSlot(int[] slotPos, int s) {
        int k = Arrays.binarySearch(slotPos, s);
        return k < 0 ? -k - 1 : k;
    }

    private static int markLength(String text, int at) {
        return text.charAt(at) == '?' ? 1 : Template.COMMENT_MARK.length();
    }

    /** The length of template [s, e) with the statement's own literals and comments in their slots. */
    private static int templateLength(String text, int[] slotPos, int[] slotSpan, int s, int e) {
        int len = e - s;
        for (int k = firstSlot(slotPos, s); k < slotPos.length && slotPos[k] < e; k++) {
            len += slotSpan[2 * k + 1] - slotSpan[2 * k] - markLength(text, slotPos[k]);
        }
        return len;
    }

    /** Appends template [s, e) with the statement's own literals and comments in their slots. */
    private static void appendTemplate(StringBuilder sb, String sql, String text, int[] slotPos, int[] slotSpan, int s, int e) {
        int k = firstSlot(slotPos, s);
        int pos = s;
        while (k < slotPos.length && slotPos[k] < e) {
            int at = slotPos[k];
            sb.append(text, pos, at).append(sql, slotSpan[2 * k], slotSpan[2 * k + 1]);
            pos = at + markLength(text, at);
            k++;
        }
        sb.append(text, pos, e);
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
