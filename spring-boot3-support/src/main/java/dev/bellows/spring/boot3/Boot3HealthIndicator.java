package dev.bellows.spring.boot3;

import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/** The starter's health contributor on Spring Boot 3.5: always UP, with the details the starter supplies. */
public final class Boot3HealthIndicator implements HealthIndicator {
    private final Supplier<Map<String, Object>> details;

    public Boot3HealthIndicator(Supplier<Map<String, Object>> details) {
        this.details = details;
    }

    @Override public Health health() {
        return Health.up().withDetails(details.get()).build();
    }
}
