package dev.bellows.sample;

/** A sales lead as both versions of the service see it; only the column behind {@code email} differs. */
public record Lead(long id, String name, String email) {
}
