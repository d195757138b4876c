package dev.bellows.spring;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** Always UP (Spring Boot 4; on 3.5 {@code Boot3HealthIndicator} does the same): a migration's phase is not an outage. The details say which phases are in force. */
final class BellowsHealthIndicator implements HealthIndicator {
    private final BellowsRuntimes runtimes;

    BellowsHealthIndicator(BellowsRuntimes runtimes) {
        this.runtimes = runtimes;
    }

    @Override public Health health() {
        return Health.up().withDetails(BellowsRuntimes.health(runtimes)).build();
    }
}
