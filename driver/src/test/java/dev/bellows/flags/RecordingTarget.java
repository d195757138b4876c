package dev.bellows.flags;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.usage.UsageRecorder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The runtime side of a watcher under test: records every phase move; no catalog to read, no rules file watched. */
class RecordingTarget implements PhaseTarget {
    final RuleSet rules;
    final List<String> moves = new CopyOnWriteArrayList<>();
    private final String appName;

    RecordingTarget(String appName, RuleSet rules) {
        this.appName = appName;
        this.rules = rules;
    }

    @Override public String appName() {
        return appName;
    }

    @Override public RuleSet rules() {
        return rules;
    }

    @Override public void setRules(RuleSet rules) {
        throw new UnsupportedOperationException("the rules file is not watched here");
    }

    @Override public void setPhase(String migrationId, Phase phase) {
        moves.add(migrationId + " -> " + phase.label());
    }

    @Override public void refreshCatalog() {
    }

    @Override public UsageRecorder usageRecorder() {
        return null;
    }
}
