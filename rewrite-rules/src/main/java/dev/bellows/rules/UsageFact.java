package dev.bellows.rules;

import java.util.Objects;

/** One use of a deprecated column by one statement: which migration, read or write, and what Bellows did with it. */
public final class UsageFact {
    /** Whether the statement read or wrote the deprecated column. */
    public enum Kind { READ, WRITE }

    /** What reached the server for this use. */
    public enum Treatment {
        /** Bellows rewrote the use (mapped or dual-wrote it). */
        REWRITTEN,
        /** The statement was understood and the use deliberately sent as written (phase off, reads in expand). */
        PASSED_THROUGH,
        /** Bellows could not analyse the statement; it was sent as written. */
        UNANALYSED;

        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    private final String migrationId;
    private final String column;
    private final Kind kind;
    private final Treatment treatment;
    private final String fingerprint;
    private final int hash; // facts are map keys on every execution: hash once

    public UsageFact(String migrationId, String column, Kind kind, Treatment treatment, String fingerprint) {
        this.migrationId = Objects.requireNonNull(migrationId);
        this.column = Objects.requireNonNull(column);
        this.kind = Objects.requireNonNull(kind);
        this.treatment = Objects.requireNonNull(treatment);
        this.fingerprint = Objects.requireNonNull(fingerprint);
        this.hash = Objects.hash(migrationId, column, kind, treatment, fingerprint);
    }

    public String migrationId() { return migrationId; }
    /** The deprecated column, {@code schema.table.column}. */
    public String column() { return column; }
    public Kind kind() { return kind; }
    public Treatment treatment() { return treatment; }
    /** The statement with every literal replaced by {@code ?}, comments dropped and spacing collapsed. */
    public String fingerprint() { return fingerprint; }

    @Override public boolean equals(Object o) {
        if (!(o instanceof UsageFact)) return false;
        UsageFact f = (UsageFact) o;
        return hash == f.hash && migrationId.equals(f.migrationId) && column.equals(f.column) && kind == f.kind
            && treatment == f.treatment && fingerprint.equals(f.fingerprint);
    }

    @Override public int hashCode() { return hash; }

    @Override public String toString() {
        return migrationId + ":" + kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + treatment.label();
    }
}
