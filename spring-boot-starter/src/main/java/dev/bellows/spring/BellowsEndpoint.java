package dev.bellows.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/** {@code /actuator/bellows}: each Bellows DataSource's settings and its migrations' effective phases. */
@Endpoint(id = "bellows")
public class BellowsEndpoint {
    private final BellowsRuntimes runtimes;

    BellowsEndpoint(BellowsRuntimes runtimes) {
        this.runtimes = runtimes;
    }

    @ReadOperation
    public Map<String, Object> bellows() {
        List<Map<String, Object>> out = new ArrayList<>();
        runtimes.runtimes().forEach(r -> out.add(BellowsRuntimes.describe(r)));
        return Map.of("dataSources", out);
    }
}
