package dev.bellows.rules;

/** Thrown inside analysis when a statement cannot be rewritten with certainty; it is then sent as written. */
final class Refusal extends RuntimeException {
    Refusal(String reason) {
        super(reason, null, false, false);
    }
}
