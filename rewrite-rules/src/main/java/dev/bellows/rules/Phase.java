package dev.bellows.rules;

import java.util.Locale;

/** A migration's phase: what the rewriter does with the deprecated and the replacement column. */
public enum Phase {
    /** Bellows observes but rewrites nothing. */
    OFF,
    /** The old column is the truth; every write is duplicated into the new one. */
    EXPAND,
    /** The new column is the truth for reads; writes still go to both. */
    SWITCH,
    /** Only the new column is read and written; the old one may be dropped. */
    CONTRACT;

    /** The phase's name as written in rules files and flags. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code off|expand|switch|contract} (any case); throws with the allowed values otherwise. */
    public static Phase parse(String text) {
        if (text != null) {
            for (Phase p : values()) {
                if (p.label().equalsIgnoreCase(text.trim())) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("unknown phase '" + text + "' (expected off, expand, switch or contract)");
    }

    /** The previous phase in the sequence, or this one for {@link #OFF}. */
    public Phase previous() {
        return this == OFF ? OFF : values()[ordinal() - 1];
    }
}
