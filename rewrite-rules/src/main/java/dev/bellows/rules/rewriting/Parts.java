package dev.bellows.rules.rewriting;

import java.util.ArrayList;
import java.util.List;

/**
 * A piece of output SQL: literal text and copied ranges of the template, so that every {@code ?} in
 * the output can be traced back to the client parameter it came from.
 */
public final class Parts {
    /** Either {@code text} (generated) or a copy of template range [start, end). */
    static final class Part {
        final String text;
        final int start;
        final int end;

        Part(String text, int start, int end) {
            this.text = text;
            this.start = start;
            this.end = end;
        }
    }

    final List<Part> list = new ArrayList<>();

    public boolean isEmpty() { return list.isEmpty(); }

    public Parts text(String s) {
        if (!s.isEmpty()) list.add(new Part(s, 0, 0));
        return this;
    }

    public Parts copy(int start, int end) {
        if (end > start) list.add(new Part(null, start, end));
        return this;
    }

    public Parts add(Parts other) {
        list.addAll(other.list);
        return this;
    }

    /** The text with template ranges resolved against {@code template}: for tests and diagnostics. */
    String render(String template) {
        StringBuilder sb = new StringBuilder();
        for (Part p : list) sb.append(p.text != null ? p.text : template.substring(p.start, p.end));
        return sb.toString();
    }
}
