package dev.bellows.rules.sql;

import java.util.Arrays;
import java.util.Set;

/**
 * A statement with its literals replaced by {@code ?} and its comments by {@code /**}{@code /}: the cache key
 * that lets statements differing only in literal values or trace comments share one analysis. Slots
 * remember where each literal or comment stood so the original text can be put back byte for byte.
 */
public final class Template {
    public static final String COMMENT_MARK = "/**/";

    public final String text;          // the template SQL
    public final String key;           // the cache key: the text plus which '?' are the application's parameters
    public final int[] slotPos;        // template positions of literal/comment placeholders, ascending
    public final String[] slotText;    // the original text of each slot
    public final int[] slotSpan;       // where each slot's text stands in the statement: start, end, start, end ...
    public final int[] paramPos;       // template positions of real JDBC '?' parameters, ascending
    private String fingerprint;        // literal-free, comment-free, single-spaced; made on first use
    private final String sql;
    private final SqlLexer.Tokens tokens;
    public final boolean mentions;     // an identifier token names a managed column
    public final boolean unterminated; // a quote or comment never closes: never analysed

    private Template(String text, String key, int[] slotPos, String[] slotText, int[] slotSpan, int[] paramPos, String sql,
                     SqlLexer.Tokens tokens, boolean mentions, boolean unterminated) {
        this.unterminated = unterminated;
        this.slotSpan = slotSpan;
        this.key = key;
        this.text = text;
        this.slotPos = slotPos;
        this.slotText = slotText;
        this.paramPos = paramPos;
        this.sql = sql;
        this.tokens = tokens;
        this.mentions = mentions;
    }

    /** Builds the template of {@code sql}, or returns null when it has more than {@code maxTokens} tokens. */
    public static Template of(String sql, Set<String> managedNames, int maxTokens) {
        return of(sql, new NameSet(managedNames), maxTokens, true);
    }

    /** As {@link #of(String, Set, int)}. */
    public static Template of(String sql, NameSet managedNames, int maxTokens) {
        return of(sql, managedNames, maxTokens, true);
    }

    /** As {@link #of(String, Set, int)}; with {@code slots} false the template is the statement itself. */
    public static Template of(String sql, NameSet managedNames, int maxTokens, boolean useSlots) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, maxTokens);
        return t == null ? null : of(sql, t, managedNames, useSlots);
    }

    /** As {@link #of(String, NameSet, int, boolean)}, from the statement's tokens ({@link SqlLexer#lex}). */
    public static Template of(String sql, SqlLexer.Tokens t, NameSet managedNames, boolean useSlots) {
        StringBuilder tpl = new StringBuilder(sql.length() + 16);
        int[] slotPos = new int[8];
        String[] slotText = new String[8];
        int[] slotSpan = new int[16];
        int slots = 0;
        int[] params = new int[8];
        int nParams = 0;
        boolean mentions = false;
        int pos = 0;
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            tpl.append(sql, pos, t.start[i]);
            String mark = null;
            if (!useSlots) mark = null;
            else if (k == SqlLexer.STRING || k == SqlLexer.NUMBER) mark = "?";
            else if (k == SqlLexer.COMMENT) mark = COMMENT_MARK;
            if (mark != null) {
                if (slots == slotPos.length) {
                    slotPos = Arrays.copyOf(slotPos, slots * 2);
                    slotText = Arrays.copyOf(slotText, slots * 2);
                    slotSpan = Arrays.copyOf(slotSpan, slots * 4);
                }
                slotPos[slots] = tpl.length();
                slotText[slots] = t.text(i);
                slotSpan[2 * slots] = t.start[i];
                slotSpan[2 * slots + 1] = t.end[i];
                slots++;
                tpl.append(mark);
            } else {
                if (k == SqlLexer.PARAM) {
                    if (nParams == params.length) params = Arrays.copyOf(params, nParams * 2);
                    params[nParams++] = tpl.length();
                } else if ((k == SqlLexer.IDENT || k == SqlLexer.QIDENT) && !mentions) {
                    mentions = managedNames.contains(t, i);
                }
                tpl.append(sql, t.start[i], t.end[i]);
            }
            pos = t.end[i];
        }
        tpl.append(sql, pos, sql.length());
        String text = tpl.toString();
        // literals and parameters both read '?' in the text: without the positions, `a = 'x'` and `a = ?`
        // would share one analysis and one parameter plan
        tpl.append('\0');
        for (int i = 0; i < nParams; i++) tpl.append(params[i]).append(',');
        return new Template(text, tpl.toString(), Arrays.copyOf(slotPos, slots), Arrays.copyOf(slotText, slots),
            Arrays.copyOf(slotSpan, 2 * slots), Arrays.copyOf(params, nParams), sql, t, mentions, t.unterminated);
    }

    /** Whether a token of this kind becomes a slot (a literal or a comment) in a template. */
    static boolean isSlot(byte kind) {
        return kind == SqlLexer.STRING || kind == SqlLexer.NUMBER || kind == SqlLexer.COMMENT;
    }

    /** Whether some identifier token, quoted or not, names a member of {@code names}: {@link #mentions} of a template. */
    public static boolean mentions(SqlLexer.Tokens t, NameSet names) {
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if ((k == SqlLexer.IDENT || k == SqlLexer.QIDENT) && names.contains(t, i)) return true;
        }
        return false;
    }

    /**
     * The statement with its literals as {@code ?}, without comments, single-spaced: what usage records name it by.
     * Made on first use (only an analysis needs it, not a statement whose template was analysed before).
     */
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) fingerprint = f = fingerprint(sql, tokens);
        return f;
    }

    private static String fingerprint(String sql, SqlLexer.Tokens t) {
        StringBuilder fp = new StringBuilder(sql.length());
        byte prev = 0;
        for (int i = 0; i < t.count; i++) {
            byte k = t.kind[i];
            if (k == SqlLexer.COMMENT) continue;
            if (fp.length() > 0 && space(prev, k, t, i)) fp.append(' ');
            if (k == SqlLexer.STRING || k == SqlLexer.NUMBER || k == SqlLexer.PARAM
                || t.unterminated && i == t.count - 1) fp.append('?');
            else fp.append(sql, t.start[i], t.end[i]);
            prev = k;
        }
        return collapseLists(fp.toString());
    }

    private static boolean space(byte prev, byte k, SqlLexer.Tokens t, int i) {
        if (k == SqlLexer.COMMA || k == SqlLexer.RPAREN || k == SqlLexer.DOT || k == SqlLexer.RBRACKET
            || k == SqlLexer.SEMI || k == SqlLexer.LBRACKET) return false;
        if (prev == SqlLexer.LPAREN || prev == SqlLexer.DOT || prev == SqlLexer.LBRACKET) return false;
        if (k == SqlLexer.LPAREN && (prev == SqlLexer.IDENT || prev == SqlLexer.QIDENT)) {
            return t.end[i - 1] != t.start[i]; // a call keeps its parenthesis attached, as written
        }
        return !(k == SqlLexer.OP && "::".equals(t.text(i))) && !(prev == SqlLexer.OP && i > 0 && "::".equals(t.text(i - 1)));
    }

    /** {@code (?, ?, ?)} → {@code (?, ...)} so that IN lists of any length share a fingerprint. */
    static String collapseLists(String fp) {
        if (fp.indexOf("?, ?") >= 0) fp = fp.replaceAll("\\?(, \\?)+", "?, ...");
        return fp.length() <= MAX_FINGERPRINT ? fp : fp.substring(0, MAX_FINGERPRINT) + " …";
    }

    /** Fingerprints are keys in usage tables: a pathological statement must not make a huge one. */
    static final int MAX_FINGERPRINT = 2048;
}
