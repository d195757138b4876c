package dev.bellows.usage;

/** Where flushed usage goes. Called from one flusher thread at a time. */
interface UsageStore {
    /**
     * Stores the batch durably, or throws. Storing the same sequence number twice must not count twice where
     * the store can tell (the database can).
     */
    void write(Batch batch) throws Exception;

    /** For messages: where the usage goes. */
    String describe();
}
