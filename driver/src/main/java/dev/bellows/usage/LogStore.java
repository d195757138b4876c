package dev.bellows.usage;

/**
 * {@code bellows.usage=log}: each flush logs one line per key (count since the previous flush) and one heartbeat
 * line, as JSON after the prefix {@code bellows usage }, at INFO through {@link System.Logger}
 * {@code dev.bellows.usage}.
 */
final class LogStore implements UsageStore {
    static final System.Logger LOG = System.getLogger("dev.bellows.usage");

    @Override public void write(Batch b) {
        for (Batch.Row r : b.rows()) LOG.log(System.Logger.Level.INFO, "bellows usage " + FileStore.usageLine(b, r));
        LOG.log(System.Logger.Level.INFO, "bellows usage " + FileStore.heartbeatLine(b));
    }

    @Override public String describe() {
        return "the log";
    }
}
