package dev.bellows.rules.rewriting;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Edits spliced into the template text at token positions. Replacements may not overlap; insertions
 * at the same position keep the order they were added in. Everything outside the edits is copied as is.
 */
public final class Edits {
    private static final class Edit {
        final int start;
        final int end;
        final Parts parts;
        final int seq;

        Edit(int start, int end, Parts parts, int seq) {
            this.start = start;
            this.end = end;
            this.parts = parts;
            this.seq = seq;
        }
    }

    private final List<Edit> edits = new ArrayList<>();
    private boolean sorted = true;

    public boolean isEmpty() { return edits.isEmpty(); }

    public void replace(int start, int end, Parts parts) {
        for (Edit e : edits) {
            if (e.end > e.start && start < e.end && e.start < end) {
                if (e.start == start && e.end == end) {
                    throw new Refusal("two rewrites of the same reference");
                }
                throw new Refusal("overlapping rewrites");
            }
        }
        add(new Edit(start, end, parts, edits.size()));
    }

    public void replace(int start, int end, String text) {
        replace(start, end, new Parts().text(text));
    }

    public void insert(int pos, Parts parts) {
        for (Edit e : edits) {
            if (e.end > e.start && pos > e.start && pos < e.end) throw new Refusal("insertion inside a rewrite");
        }
        add(new Edit(pos, pos, parts, edits.size()));
    }

    public void insert(int pos, String text) {
        insert(pos, new Parts().text(text));
    }

    /** Replaces [start, end) with {@code parts}, which already carry the edits inside the range (see {@link #span}). */
    public void absorb(int start, int end, Parts parts) {
        edits.removeIf(e -> e.start >= start && e.end <= end && !(e.start == e.end && (e.start == start || e.start == end)));
        replace(start, end, parts);
    }

    /** Takes over every edit of {@code other} (a statement's edits, once its analysis succeeded). */
    public void addAll(Edits other) {
        for (Edit e : other.edits) add(new Edit(e.start, e.end, e.parts, edits.size()));
    }

    private void add(Edit e) {
        edits.add(e);
        sorted = false;
    }

    /** Template range [start, end) with the edits inside it applied. */
    public Parts span(int start, int end) {
        sort();
        Parts out = new Parts();
        int pos = start;
        for (Edit e : edits) {
            if (e.start < start || e.end > end) continue;
            if (e.start == e.end && (e.start == start || e.start == end)) continue; // boundary inserts belong outside
            out.copy(pos, e.start);
            out.add(e.parts);
            pos = e.end;
        }
        out.copy(pos, end);
        return out;
    }

    /** The whole template [0, length) with every edit applied. */
    public Parts all(int length) {
        sort();
        Parts out = new Parts();
        int pos = 0;
        for (Edit e : edits) {
            out.copy(pos, e.start);
            out.add(e.parts);
            pos = e.end;
        }
        out.copy(pos, length);
        return out;
    }

    private void sort() {
        if (!sorted) {
            edits.sort(Comparator.<Edit>comparingInt(e -> e.start).thenComparingInt(e -> e.end > e.start ? 1 : 0)
                .thenComparingInt(e -> e.seq));
            sorted = true;
        }
    }
}
