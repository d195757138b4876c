package dev.bellows.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.cli.BellowsCli;
import dev.bellows.jdbc.BellowsRuntime;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import picocli.CommandLine;

/** What the {@code bellows} endpoint must show, checked against the CLI on the same database. */
final class EndpointChecks {
    private EndpointChecks() {
    }

    /**
     * Runs a legacy read (passed through in expand: a residual use), flushes usage, and checks the endpoint's
     * residual use and gate verdict against {@code bellows report} and {@code bellows gate} on the same database.
     */
    @SuppressWarnings("unchecked")
    static void assertFleetView(BellowsEndpoint endpoint, DataSource dataSource, BellowsRuntime rt, String url, String user,
                                String password) {
        String id = "leads-contact-email";
        Map<String, Object> before = migration(endpoint.bellows());
        long residualBefore = ((Number) ((Map<String, Object>) before.get("residual")).get("residualUses")).longValue();

        new JdbcTemplate(dataSource).queryForList("SELECT user_email FROM leads WHERE name = ?", String.class, "jpa");
        assertTrue(rt.usageRecorder().flush(), "usage flushed to the bellows schema");

        Map<String, Object> m = migration(endpoint.bellows());
        assertEquals("expand", m.get("phase"));
        assertEquals(true, m.get("newColumnExists"));
        assertEquals(true, m.get("oldColumnExists"));
        Map<String, Object> residual = (Map<String, Object>) m.get("residual");
        assertNull(residual.get("error"), String.valueOf(residual));
        long residualUses = ((Number) residual.get("residualUses")).longValue();
        assertTrue(residualUses > residualBefore, "the legacy read is a residual use: " + residualBefore + " -> " + residual);
        // the same numbers as `bellows report --migration ID --since 8d --format json`
        Cli report = Cli.run("report", "--url", url, "--user", user, "--password", password, "--migration", id, "--since", "8d", "--top", "0",
            "--format", "json");
        assertEquals(0, report.code, report.toString());
        List<String> cliTotals = new ArrayList<>();
        Matcher t = Pattern.compile("\"kind\": \"(\\w+)\",\\s*\"treatment\": \"(\\w+)\",\\s*\"count\": (\\d+)").matcher(report.out);
        while (t.find()) cliTotals.add(t.group(1) + " " + t.group(2) + " " + t.group(3));
        List<String> endpointTotals = new ArrayList<>();
        for (Map<String, Object> row : (List<Map<String, Object>>) residual.get("byKindAndTreatment")) {
            endpointTotals.add(row.get("kind") + " " + row.get("treatment") + " " + row.get("count"));
        }
        assertFalse(cliTotals.isEmpty(), report.out);
        assertEquals(cliTotals, endpointTotals, report.out);
        assertTrue(endpointTotals.stream().anyMatch(s -> s.startsWith("read passed_through ")), endpointTotals.toString());

        // the gate: the same verdict and conditions as `bellows gate ID --window 8d --rules RULES`
        Map<String, Object> gate = (Map<String, Object>) m.get("gate");
        assertNull(gate.get("error"), String.valueOf(gate));
        Cli cli = Cli.run("gate", id, "--url", url, "--user", user, "--password", password, "--window", "8d",
            "--rules", "classpath:bellows-rules.yaml", "--format", "json");
        assertEquals(1, cli.code, "not safe in expand with a passed-through read: " + cli);
        assertEquals(false, gate.get("safe"));
        assertEquals("8d", gate.get("window"));
        List<String> cliConditions = new ArrayList<>();
        Matcher c = Pattern.compile("\"id\": \"(\\w+)\",\\s*\"title\": \"[^\"]*\",\\s*\"status\": \"(\\w+)\"").matcher(cli.out);
        while (c.find()) cliConditions.add(c.group(1) + " " + c.group(2));
        List<String> endpointConditions = new ArrayList<>();
        for (Map<String, Object> d : (List<Map<String, Object>>) gate.get("conditions")) {
            endpointConditions.add(d.get("id") + " " + d.get("status"));
        }
        assertFalse(cliConditions.isEmpty(), cli.out);
        assertEquals(cliConditions, endpointConditions, cli.out);
        assertTrue(endpointConditions.contains("usage unmet"), endpointConditions.toString());

        // the HTML page of `bellows report --format html`; anything else under the endpoint is not found
        String page = endpoint.page("report");
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains(id), page.substring(0, Math.min(200, page.length())));
        assertNull(endpoint.page("other"));

        // a database the endpoint cannot read: reported in the payload, the endpoint does not fail
        PGSimpleDataSource broken = new PGSimpleDataSource();
        broken.setUrl(url.replaceFirst("/[^/?]+(\\?|$)", "/bellows_no_such_database$1"));
        broken.setUser(user);
        broken.setPassword(password);
        Map<String, Object> failed = FleetView.describe(rt, broken, Duration.ofDays(8));
        assertNotNull(failed.get("fleetError"), String.valueOf(failed));
        assertTrue(String.valueOf(failed.get("fleetError")).contains("bellows_no_such_database"), String.valueOf(failed));
        assertEquals("expand", ((List<Map<String, Object>>) failed.get("migrations")).get(0).get("phase"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> migration(Map<String, Object> payload) {
        List<Map<String, Object>> sources = (List<Map<String, Object>>) payload.get("dataSources");
        assertEquals(1, sources.size(), String.valueOf(payload));
        assertNull(sources.get(0).get("fleetError"), String.valueOf(sources.get(0)));
        return ((List<Map<String, Object>>) sources.get(0).get("migrations")).get(0);
    }

    /** The CLI in-process: exit code and output. */
    record Cli(int code, String out, String err) {
        static Cli run(String... args) {
            List<String> a = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                if ((args[i].equals("--user") || args[i].equals("--password")) && args[i + 1] == null) {
                    i++;
                    continue;
                }
                a.add(args[i]);
            }
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cl = new CommandLine(new BellowsCli());
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(a.toArray(new String[0]));
            return new Cli(code, out.toString(), err.toString());
        }

        @Override public String toString() {
            return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
        }
    }
}
