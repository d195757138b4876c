package dev.bellows.rules.sql;

/**
 * A template's text and slot and parameter positions, kept to recognise another statement of the same template from
 * its tokens alone: {@link #hash} and {@link #match} read the statement's template without building it, so a
 * statement that differs from one seen before only in literals or comments costs no template string and no key.
 */
public final class Shape {
    private static final int COMMENT_HASH = "/**/".hashCode();
    private final String text;
    private final int[] slotPos;
    private final int[] paramPos;

    /** The shape of {@code t}, a template made with slots. */
    public Shape(Template t) {
        this.text = t.text;
        this.slotPos = t.slotPos;
        this.paramPos = t.paramPos;
    }

    /** The template's text, as {@link Template#text}. */
    public String text() { return text; }

    /** The template's slot positions, as {@link Template#slotPos}. */
    public int[] slotPos() { return slotPos; }

    /** {@code text().hashCode()} (of a shape), and of the template text {@code sql}'s tokens would make, without making it. */
    public static int hash(String sql, SqlLexer.Tokens t) {
        int h = 0;
        int pos = 0;
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if (!Template.isSlot(k)) continue;
            for (int j = pos, e = t.start[i]; j < e; j++) h = 31 * h + sql.charAt(j);
            if (k == SqlLexer.COMMENT) {
                h = h * 923521 + COMMENT_HASH; // 31^4: the four characters of the mark
            } else {
                h = 31 * h + '?';
            }
            pos = t.end[i];
        }
        for (int j = pos, n = sql.length(); j < n; j++) h = 31 * h + sql.charAt(j);
        return h;
    }

    /**
     * Where the slots of {@code sql} stand (start, end, start, end ...) when its template, made from tokens {@code t},
     * is this one: the same text, the same slot positions and the same parameter positions, that is the same
     * {@link Template#key} and slots. Null when it is not.
     */
    public int[] match(String sql, SqlLexer.Tokens t) {
        if (t.unterminated) return null;
        int[] spans = new int[2 * slotPos.length];
        int slot = 0, param = 0;
        int tp = 0;  // template position of sql position pos
        int pos = 0; // end of the last slot in sql
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if (k == SqlLexer.PARAM) {
                if (param == paramPos.length || paramPos[param] != tp + t.start[i] - pos) return null;
                param++;
            } else if (Template.isSlot(k)) {
                int gap = t.start[i] - pos;
                if (slot == slotPos.length || slotPos[slot] != tp + gap || !text.regionMatches(tp, sql, pos, gap)) return null;
                tp += gap;
                String mark = k == SqlLexer.COMMENT ? Template.COMMENT_MARK : "?";
                if (!text.startsWith(mark, tp)) return null;
                tp += mark.length();
                spans[2 * slot] = t.start[i];
                spans[2 * slot + 1] = pos = t.end[i];
                slot++;
            }
        }
        int rest = sql.length() - pos;
        if (slot != slotPos.length || param != paramPos.length || tp + rest != text.length()
            || !text.regionMatches(tp, sql, pos, rest)) return null;
        return spans;
    }
}
