package dev.bellows.workflow;

/** A condition the user must fix (unknown migration, missing column, table without primary key…); the message says how. */
public class WorkflowException extends Exception {
    private static final long serialVersionUID = 1L;

    public WorkflowException(String message) {
        super(message);
    }

    public WorkflowException(String message, Throwable cause) {
        super(message, cause);
    }
}
