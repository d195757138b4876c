package dev.bellows.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.PostgresFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The {@code bellows} endpoint over a real HTTP server, as an operator calls it: {@code /actuator/bellows} answers
 * JSON with each migration's phase and gate verdict, {@code /actuator/bellows/report} the HTML page, any other page
 * is 404, and health is UP.
 */
@SpringBootTest(classes = StarterApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "bellows.rules=classpath:bellows-rules.yaml",
    "bellows.app-name=starter-http",
    "bellows.flags-poll=off",
    "bellows.usage=db",
    "management.endpoints.web.exposure.include=bellows,health",
    "spring.jpa.hibernate.ddl-auto=validate",
    "spring.jpa.open-in-view=false"})
class StarterHttpTest {
    private static final PostgresFixture PG = PostgresFixture.get();
    private static final String URL = PG.createDatabase("starter_http");

    @DynamicPropertySource
    static void datasource(DynamicPropertyRegistry r) {
        r.add("spring.datasource.url", () -> URL);
        r.add("spring.datasource.username", () -> PG.user() == null ? "" : PG.user());
        r.add("spring.datasource.password", () -> PG.password() == null ? "" : PG.password());
    }

    @LocalServerPort int port;

    @Test
    void theEndpointAnswersOverHttp() throws Exception {
        HttpResponse<String> json = get("/actuator/bellows");
        assertEquals(200, json.statusCode(), json.body());
        assertTrue(json.headers().firstValue("Content-Type").orElse("").contains("json"), json.headers().toString());
        assertTrue(json.body().contains("\"leads-contact-email\""), json.body());
        assertTrue(json.body().contains("\"gate\""), json.body());

        HttpResponse<String> page = get("/actuator/bellows/report");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<html") && page.body().contains("leads-contact-email"), page.body());

        assertEquals(404, get("/actuator/bellows/nothing").statusCode());

        HttpResponse<String> health = get("/actuator/health");
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"UP\""), health.body());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    }
}
