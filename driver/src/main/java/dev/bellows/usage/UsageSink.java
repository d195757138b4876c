package dev.bellows.usage;

import dev.bellows.rules.UsageFact;
import java.util.List;

/**
 * Receives the uses of deprecated columns that executed statements make. Called on the executing thread
 * once per execution that has facts, so an implementation must be quick and must not block; whatever it
 * throws is logged and ignored. The default records nothing.
 */
@FunctionalInterface
public interface UsageSink {
    /** The sink that records nothing. */
    UsageSink NONE = (appName, facts) -> { };

    /**
     * @param appName the configuration's {@code bellows.appName}
     * @param facts   the statement's facts, never empty; shared and immutable
     */
    void record(String appName, List<UsageFact> facts);
}
