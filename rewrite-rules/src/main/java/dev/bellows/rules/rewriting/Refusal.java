package dev.bellows.rules.rewriting;

/**
 * Thrown inside analysis when a statement cannot be rewritten with certainty; it is then sent as written,
 * unless the refusal {@link #failsClosed() fails closed}: then the statement must not be sent at all.
 */
public final class Refusal extends RuntimeException {
    private final boolean failsClosed;

    public Refusal(String reason) {
        this(reason, false);
    }

    private Refusal(String reason, boolean failsClosed) {
        super(reason, null, false, false);
        this.failsClosed = failsClosed;
    }

    /** A refusal for a statement the server would accept but misread: it is rejected, never sent. */
    public static Refusal failClosed(String reason) {
        return new Refusal(reason, true);
    }

    public boolean failsClosed() { return failsClosed; }
}
