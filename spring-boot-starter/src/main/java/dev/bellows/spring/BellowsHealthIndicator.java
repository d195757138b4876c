package dev.bellows.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** Always UP: a migration's phase is not an outage. The details say which phases are in force. */
final class BellowsHealthIndicator implements HealthIndicator {
    private final BellowsRuntimes runtimes;

    BellowsHealthIndicator(BellowsRuntimes runtimes) {
        this.runtimes = runtimes;
    }

    @Override public Health health() {
        List<Map<String, Object>> out = new ArrayList<>();
        runtimes.runtimes().forEach(r -> out.add(BellowsRuntimes.describe(r)));
        return Health.up().withDetail("dataSources", out).build();
    }
}
