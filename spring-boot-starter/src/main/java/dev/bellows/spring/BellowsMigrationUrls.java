package dev.bellows.spring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Lets {@code spring.flyway.url} and {@code spring.liquibase.url} be {@code jdbc:bellows:postgresql:} URLs with no
 * driver setting. Spring Boot opens the migration tool's own connection with a driver it derives from the URL, and
 * it knows no {@code jdbc:bellows:} URLs ("Driver has not been set"); so where such a URL has no
 * {@code driver-class-name}, this adds {@code dev.bellows.jdbc.BellowsDriver} as a default, below every other
 * property source (a setting of the application's own still wins). Spring Boot 3.5 and 4.0 both load it from
 * {@code META-INF/spring.factories} under the {@code org.springframework.boot.env} name (deprecated in 4.0, still
 * honoured).
 */
@SuppressWarnings("deprecation")
public final class BellowsMigrationUrls implements org.springframework.boot.env.EnvironmentPostProcessor, Ordered {
    static final String DRIVER = "dev.bellows.jdbc.BellowsDriver";
    static final String SOURCE = "bellowsMigrationDrivers";

    @Override public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        Map<String, Object> defaults = new LinkedHashMap<>();
        for (String tool : List.of("spring.flyway", "spring.liquibase")) {
            String url = environment.getProperty(tool + ".url");
            if (url != null && url.trim().regionMatches(true, 0, "jdbc:bellows:", 0, "jdbc:bellows:".length())
                && environment.getProperty(tool + ".driver-class-name") == null) {
                defaults.put(tool + ".driver-class-name", DRIVER);
            }
        }
        if (!defaults.isEmpty() && !environment.getPropertySources().contains(SOURCE)) {
            environment.getPropertySources().addLast(new MapPropertySource(SOURCE, defaults));
        }
    }

    @Override public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the application's configuration files have been read
    }
}
