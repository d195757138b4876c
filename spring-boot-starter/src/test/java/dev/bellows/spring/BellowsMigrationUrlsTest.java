package dev.bellows.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/** Which driver class BellowsMigrationUrls adds (the Boot contexts are in SpringBootFlywayUrlTest and friends). */
class BellowsMigrationUrlsTest {
    private static StandardEnvironment env(Map<String, Object> props) {
        StandardEnvironment e = new StandardEnvironment();
        e.getPropertySources().addFirst(new MapPropertySource("app", props));
        new BellowsMigrationUrls().postProcessEnvironment(e, null);
        return e;
    }

    @Test
    void aBellowsUrlWithoutADriverGetsTheBellowsDriver() {
        StandardEnvironment e = env(Map.of("spring.flyway.url", "jdbc:bellows:postgresql://db/app",
            "spring.liquibase.url", " JDBC:BELLOWS:postgresql://db/app"));
        assertEquals("dev.bellows.jdbc.BellowsDriver", e.getProperty("spring.flyway.driver-class-name"));
        assertEquals("dev.bellows.jdbc.BellowsDriver", e.getProperty("spring.liquibase.driver-class-name"));
    }

    @Test
    void theApplicationsOwnDriverAndPlainUrlsAreLeftAlone() {
        StandardEnvironment e = env(Map.of("spring.flyway.url", "jdbc:bellows:postgresql://db/app",
            "spring.flyway.driver-class-name", "com.example.Wrapper", "spring.liquibase.url", "jdbc:postgresql://db/app"));
        assertEquals("com.example.Wrapper", e.getProperty("spring.flyway.driver-class-name"));
        assertNull(e.getProperty("spring.liquibase.driver-class-name"));
        assertFalse(env(Map.of()).getPropertySources().contains(BellowsMigrationUrls.SOURCE));
    }
}
