package dev.bellows.rules;

import dev.bellows.rules.analysis.Analysis;
import dev.bellows.rules.sql.NameSet;
import dev.bellows.rules.sql.Shape;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Template;

/**
 * The literal-varying fast path: recently used templates with their analyses, direct-mapped by the hash of the
 * template text, so that a statement differing from one seen before only in literals or comments is recognised from
 * its tokens (no template string, no key, no cache lookup) and spliced from its own text. A miss here goes the full
 * way ({@link Template}, the template cache), which gives the same result, only slower.
 */
final class Shapes {
    /** Slots; a power of two. */
    static final int SLOTS = 256;
    /** Longest template kept, in characters: bounds the text held at {@code SLOTS * MAX_CHARS}. */
    static final int MAX_CHARS = 1024;

    /** A template and its analysis; immutable (final fields), so a racing reader sees all of it or none. */
    private record Entry(int hash, Shape shape, Analysis analysis) {
    }

    private final Entry[] entries = new Entry[SLOTS];

    /** The rewrite of {@code sql} (lexed as {@code tokens}) when its template was remembered, else null. */
    Rewrite instantiate(String sql, SqlLexer.Tokens tokens, NameSet managedNames) {
        int h = Shape.hash(sql, tokens);
        Entry e = entries[index(h)];
        if (e == null || e.hash() != h) return null;
        int[] spans = e.shape().match(sql, tokens);
        // a remembered template names something managed; the check keeps this path's answer the full way's exactly
        if (spans == null || !Template.mentions(tokens, managedNames)) return null;
        return e.analysis().instantiate(sql, e.shape().text(), e.shape().slotPos(), spans);
    }

    /** Remembers {@code a}, the analysis cached under {@code t}'s key, for the next statement of that template. */
    void remember(Template t, Analysis a) {
        if (t.text.length() > MAX_CHARS || t.unterminated) return;
        int h = t.text.hashCode();
        Entry e = entries[index(h)];
        if (e != null && e.hash() == h && e.analysis() == a && e.shape().text().equals(t.text)) return;
        entries[index(h)] = new Entry(h, new Shape(t), a);
    }

    private static int index(int h) {
        return (h ^ h >>> 16) & (SLOTS - 1);
    }
}
