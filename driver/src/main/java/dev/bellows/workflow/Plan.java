package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import java.util.List;

/** The SQL steps of one migration, in the order they run, with what to do between them. */
public final class Plan {
    /**
     * One step: a forward script and its down script.
     *
     * @param name          short name used in file names ({@code expand}, {@code mirror}, …)
     * @param summary       one line saying what the step does
     * @param when          when to run it in the workflow
     * @param transactional true: run the whole file in one transaction; false: run it statement by statement
     *                      outside any transaction (it holds {@code CREATE INDEX CONCURRENTLY} or wants each
     *                      lock released before the next statement)
     * @param up            the forward SQL (idempotent)
     * @param down          the down SQL (idempotent), or null when the step is irreversible
     * @param downNote      what the down script does or why there is none
     */
    public record Step(String name, String summary, String when, boolean transactional, String up, String down, String downNote) {
        public boolean reversible() {
            return down != null;
        }
    }

    private final Migration migration;
    private final List<Step> steps;
    private final List<String> warnings;

    Plan(Migration migration, List<Step> steps, List<String> warnings) {
        this.migration = migration;
        this.steps = List.copyOf(steps);
        this.warnings = List.copyOf(warnings);
    }

    public Migration migration() { return migration; }
    public List<Step> steps() { return steps; }
    /** Things the plan could not carry over or that need a human look (printed by {@code bellows plan}). */
    public List<String> warnings() { return warnings; }

    /** The step with this name, or null. */
    public Step step(String name) {
        for (Step s : steps) {
            if (s.name().equals(name)) return s;
        }
        return null;
    }
}
