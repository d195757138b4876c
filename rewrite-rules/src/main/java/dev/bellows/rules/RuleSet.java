package dev.bellows.rules;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An immutable, validated set of migrations, each with its effective phase. */
public final class RuleSet {
    private final List<Migration> migrations;
    private final Map<String, Migration> byId;
    private final String source;

    private RuleSet(List<Migration> migrations, String source) {
        this.migrations = List.copyOf(migrations);
        Map<String, Migration> m = new LinkedHashMap<>();
        for (Migration mig : this.migrations) {
            if (m.put(mig.id(), mig) != null) {
                throw new IllegalArgumentException("duplicate migration id '" + mig.id() + "'");
            }
        }
        this.byId = Collections.unmodifiableMap(m);
        this.source = source;
    }

    /** Rules built in code (tests, embedding); ids must be unique. */
    public static RuleSet of(List<Migration> migrations) {
        return new RuleSet(migrations, "<code>");
    }

    public static RuleSet of(Migration... migrations) {
        return of(List.of(migrations));
    }

    /** The migrations read from {@code source} (a file name), as {@link #source()} reports it. */
    public static RuleSet fromFile(List<Migration> migrations, String source) {
        return new RuleSet(migrations, source);
    }

    public static RuleSet empty() {
        return of(List.of());
    }

    public List<Migration> migrations() { return migrations; }

    /** The migration with this id, or null. */
    public Migration get(String id) { return byId.get(id); }

    /** Where these rules came from (a file name, a classpath resource, or {@code <code>}). */
    public String source() { return source; }

    public boolean isEmpty() { return migrations.isEmpty(); }

    /** The same rules with one migration moved to another phase. */
    public RuleSet withPhase(String id, Phase phase) {
        List<Migration> out = new ArrayList<>(migrations.size());
        boolean found = false;
        for (Migration m : migrations) {
            if (m.id().equals(id)) {
                out.add(m.withPhase(phase));
                found = true;
            } else {
                out.add(m);
            }
        }
        if (!found) throw new IllegalArgumentException("unknown migration id '" + id + "'");
        return new RuleSet(out, source);
    }

    /** The same rules with phases taken from the map where it has one (unknown ids are ignored). */
    public RuleSet withPhases(Map<String, Phase> phases) {
        List<Migration> out = new ArrayList<>(migrations.size());
        for (Migration m : migrations) {
            Phase p = phases.get(m.id());
            out.add(p == null ? m : m.withPhase(p));
        }
        return new RuleSet(out, source);
    }

    /** A stable hash of the rules' content (phases excluded), reported in heartbeats. */
    public String contentHash() {
        StringBuilder sb = new StringBuilder();
        for (Migration m : migrations) {
            sb.append(m.id()).append('\0').append(m.qualifiedTable()).append('\0').append(m.from()).append('\0')
              .append(m.to()).append('\0').append(m.up()).append('\0').append(m.down()).append(m.inverse() ? "\0inverse" : "");
            if (m.isRemoval()) sb.append('\0').append("removed:").append(m.removedValue());
            if (m.isNotNull()) sb.append('\0').append("not_null:").append(m.defaultValue());
            if (m.isTableRename()) sb.append('\0').append(m.toTable());
            if (m.isDerived()) {
                for (String t : m.tos()) sb.append("\0up:").append(t).append('=').append(m.upOf(t));
                for (String f : m.froms()) sb.append("\0down:").append(f).append('=').append(m.downOf(f));
            }
            sb.append('\n');
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override public boolean equals(Object o) {
        return o instanceof RuleSet && ((RuleSet) o).migrations.equals(migrations);
    }

    @Override public int hashCode() { return migrations.hashCode(); }

    @Override public String toString() { return "RuleSet" + migrations; }
}
