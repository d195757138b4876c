package dev.bellows.usage;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

/** A minimal JSON writer: objects, arrays, strings, numbers, booleans and null. No dependency. */
public final class Json {
    private final StringBuilder sb = new StringBuilder();
    private final boolean pretty;
    private int depth;
    private boolean first = true;

    private Json(boolean pretty) {
        this.pretty = pretty;
    }

    /** A writer on one line (for JSON lines). */
    public static Json compact() { return new Json(false); }

    /** A writer with two-space indentation. */
    public static Json pretty() { return new Json(true); }

    public Json beginObject() { value(); sb.append('{'); depth++; first = true; return this; }
    public Json endObject() { depth--; if (!first) newline(); sb.append('}'); first = false; return this; }
    public Json beginArray() { value(); sb.append('['); depth++; first = true; return this; }
    public Json endArray() { depth--; if (!first) newline(); sb.append(']'); first = false; return this; }

    /** Starts a member; follow with a value or a begin. */
    public Json name(String name) {
        separator();
        quote(name);
        sb.append(pretty ? ": " : ":");
        pendingName = true;
        return this;
    }

    private boolean pendingName;

    public Json value(String s) { value(); if (s == null) sb.append("null"); else quote(s); return this; }
    public Json value(long n) { value(); sb.append(n); return this; }
    public Json value(double n) { value(); sb.append(Double.isFinite(n) ? Double.toString(n) : "null"); return this; }
    public Json value(boolean b) { value(); sb.append(b); return this; }
    public Json value(Instant t) { return value(t == null ? null : t.toString()); }

    public Json member(String name, String v) { return name(name).value(v); }
    public Json member(String name, long v) { return name(name).value(v); }
    public Json member(String name, boolean v) { return name(name).value(v); }
    public Json member(String name, Instant v) { return name(name).value(v); }

    /** A member holding an object of string values. */
    public Json member(String name, Map<String, String> map) {
        name(name).beginObject();
        map.forEach(this::member);
        return endObject();
    }

    /** A member holding an array of strings. */
    public Json member(String name, Collection<String> values) {
        name(name).beginArray();
        for (String v : values) value(v);
        return endArray();
    }

    private void value() {
        if (pendingName) {
            pendingName = false;
        } else {
            separator();
        }
        first = false;
    }

    private void separator() {
        if (!first) sb.append(',');
        if (depth > 0) newline();
        first = false;
    }

    private void newline() {
        if (!pretty) return;
        sb.append('\n');
        for (int i = 0; i < depth; i++) sb.append("  ");
    }

    private void quote(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    @Override public String toString() { return sb.toString(); }
}
