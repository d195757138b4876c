package dev.bellows.flags;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * The three sources of a migration's phase and how they combine. Highest precedence first:
 * <ol>
 *   <li>the database: a row of {@code bellows.flags} (one place for a whole fleet);</li>
 *   <li>the process: system property {@code bellows.phase.<id>}, then environment variable
 *       {@code BELLOWS_PHASE_<ID>};</li>
 *   <li>the rules file's {@code phase}.</li>
 * </ol>
 * Stateless; thread-safe.
 */
public final class PhaseOverrides {
    /** Prefix of the system property that overrides a migration's phase in one process. */
    public static final String SYSTEM_PROPERTY_PREFIX = "bellows.phase.";

    private PhaseOverrides() {
    }

    /** A phase and where it came from, e.g. {@code database flag} or {@code system property bellows.phase.x}. */
    public record Source(Phase phase, String origin) {
        @Override public String toString() {
            return phase.label() + " (" + origin + ")";
        }
    }

    /** {@code bellows.phase.<id>}, the id as written. */
    public static String systemProperty(String id) {
        return SYSTEM_PROPERTY_PREFIX + id;
    }

    /** {@code BELLOWS_PHASE_<ID>}: the id upper-cased, every character other than A-Z and 0-9 replaced by '_'. */
    public static String environmentVariable(String id) {
        StringBuilder sb = new StringBuilder("BELLOWS_PHASE_");
        for (char c : id.toUpperCase(Locale.ROOT).toCharArray()) {
            sb.append((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
        }
        return sb.toString();
    }

    /**
     * The process-level overrides (system property, then environment) of the migrations in {@code rules}.
     * A value that is not a phase is reported to {@code invalid} (name of the setting, message) and ignored.
     */
    public static Map<String, Source> local(RuleSet rules, UnaryOperator<String> systemProperties,
                                            UnaryOperator<String> environment, BiConsumer<String, String> invalid) {
        Map<String, Source> out = new LinkedHashMap<>();
        for (Migration m : rules.migrations()) {
            String prop = systemProperty(m.id());
            Source s = parse(prop, "system property " + prop, systemProperties.apply(prop), invalid);
            if (s == null) {
                String env = environmentVariable(m.id());
                s = parse(env, "environment variable " + env, environment.apply(env), invalid);
            }
            if (s != null) out.put(m.id(), s);
        }
        return out;
    }

    private static Source parse(String name, String origin, String value, BiConsumer<String, String> invalid) {
        if (value == null || value.isBlank()) return null;
        try {
            return new Source(Phase.parse(value), origin);
        } catch (IllegalArgumentException e) {
            invalid.accept(name, origin + ": " + e.getMessage() + "; ignored");
            return null;
        }
    }

    /**
     * The effective phase of every migration of {@code rules}: the database flag if there is one, else the
     * process override, else the file's phase. Keys follow the rules' order.
     */
    public static Map<String, Source> resolve(RuleSet rules, Map<String, Phase> database, Map<String, Source> local) {
        Map<String, Source> out = new LinkedHashMap<>();
        for (Migration m : rules.migrations()) {
            Phase db = database.get(m.id());
            Source s;
            if (db != null) s = new Source(db, "database flag");
            else if (local.containsKey(m.id())) s = local.get(m.id());
            else s = new Source(m.phase(), "rules file");
            out.put(m.id(), s);
        }
        return out;
    }

    /** {@code rules} with the resolved phases applied. */
    public static RuleSet apply(RuleSet rules, Map<String, Source> resolved) {
        Map<String, Phase> phases = new LinkedHashMap<>();
        resolved.forEach((id, s) -> phases.put(id, s.phase()));
        return rules.withPhases(phases);
    }
}
