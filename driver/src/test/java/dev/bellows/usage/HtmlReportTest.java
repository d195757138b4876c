package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testapp.LegacyLeads;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * {@code bellows report --format html --out FILE} on a known workload from two applications: the page parses as
 * XML, and its chart, statements with call sites, gate conditions and instances match what the database holds.
 */
class HtmlReportTest {
    @TempDir static Path dir;
    static UsageDb db;
    static BellowsDataSource billing;
    static BellowsDataSource crm;

    // a statement whose fingerprint keeps <, & and double quotes (a single quote would start a literal, and
    // fingerprints keep no literal)
    static final String ODD = "SELECT user_email AS \"a<b&c\" FROM leads WHERE id < ? AND (id & ?) = ?";

    @BeforeAll
    static void workload() throws Exception {
        db = UsageDb.create("html_report", dir, "expand");
        billing = db.dataSource("billing");
        crm = db.dataSource("crm<&>");
        LegacyLeads b = new LegacyLeads(billing);
        LegacyLeads c = new LegacyLeads(crm);
        for (int i = 1; i <= 3; i++) c.create(i, "n" + i, "u" + i + "@example.com");   // crm: 3 writes, rewritten
        for (int i = 0; i < 5; i++) b.findEmail(1);                                    // billing: 5 reads, passed through
        c.countWithImports();                                                          // crm: 1 unanalysed read
        try (Connection con = billing.getConnection(); PreparedStatement ps = con.prepareStatement(ODD)) {
            for (int i = 0; i < 2; i++) {                                              // billing: 2 reads, passed through
                ps.setInt(1, 10);
                ps.setInt(2, 1);
                ps.setInt(3, 1);
                ps.executeQuery().close();
            }
        }
        assertTrue(UsageDb.recorder(billing).flush());
        assertTrue(UsageDb.recorder(crm).flush());
    }

    @AfterAll
    static void close() throws Exception {
        db.close();
    }

    static Document page() throws Exception {
        Path out = dir.resolve("report.html");
        Files.deleteIfExists(out);
        UsageDb.Cli cli = db.cli("report", "--format", "html", "--out", out.toString());
        assertEquals(0, cli.code(), cli.toString());
        assertEquals("", cli.out(), "with --out nothing goes to standard output");
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.matches("(?s).*(src|href)=\"https?:.*"), "nothing fetched");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(html)));
    }

    static List<Element> all(Document d, String xpath) throws Exception {
        XPath x = XPathFactory.newInstance().newXPath();
        NodeList nodes = (NodeList) x.evaluate(xpath, d, XPathConstants.NODESET);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) out.add((Element) nodes.item(i));
        return out;
    }

    @Test
    void chartHasABarPerApplicationSplitByTreatment() throws Exception {
        Document d = page();
        List<Element> apps = all(d, "//section[@data-migration='leads-email']//svg[contains(@class,'by-app')]/g[@class='app']");
        Map<String, String> totals = new HashMap<>();
        Map<String, String> segments = new HashMap<>();
        for (Element g : apps) {
            totals.put(g.getAttribute("data-app"), g.getAttribute("data-count"));
            for (Element r : all(d, "//g[@class='app'][@data-app=\"" + g.getAttribute("data-app").replace("\"", "") + "\"]/rect")) {
                segments.put(g.getAttribute("data-app") + " " + r.getAttribute("data-treatment"), r.getAttribute("data-count"));
            }
        }
        assertEquals(Map.of("billing", "7", "crm<&>", "4"), totals);
        assertEquals(Map.of("billing passed_through", "7", "crm<&> rewritten", "3", "crm<&> unanalysed", "1"), segments);
        assertEquals(List.of("billing", "crm<&>"), apps.stream().map(g -> g.getAttribute("data-app")).toList(), "largest first");
        // the timeline: one bar per statement and application, first and last use as stored
        List<Element> spans = all(d, "//svg[contains(@class,'timeline')]/g[@class='span']");
        assertEquals(4, spans.size());
        try (Connection c = db.raw(); PreparedStatement ps = c.prepareStatement(
            "SELECT app_name, count, first_seen, last_seen FROM bellows.usage WHERE fingerprint LIKE 'SELECT user_email FROM leads WHERE id = ?'")) {
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                Element top = spans.get(0);
                assertEquals(rs.getString(1), top.getAttribute("data-app"));
                assertEquals(rs.getString(2), top.getAttribute("data-count"));
                assertEquals(Fleet.instant(rs, 3).toString(), top.getAttribute("data-first"));
                assertEquals(Fleet.instant(rs, 4).toString(), top.getAttribute("data-last"));
            }
        }
        assertTrue(all(d, "//p[@id='what-is-charted']").get(0).getTextContent().contains("uses per day are by UTC day"));
    }

    @Test
    void perDayChartIsTheDailyRollup() throws Exception {
        Document d = page();
        List<Element> days = all(d, "//section[@data-migration='leads-email']//svg[contains(@class,'per-day')]/g[@class='day']");
        Map<String, Map<String, String>> shown = new HashMap<>();
        for (Element g : days) {
            Map<String, String> seg = new HashMap<>();
            long sum = 0;
            for (Element r : all(d, "//svg[contains(@class,'per-day')]/g[@data-day='" + g.getAttribute("data-day") + "']/rect")) {
                seg.put(r.getAttribute("data-treatment"), r.getAttribute("data-count"));
                sum += Long.parseLong(r.getAttribute("data-count"));
            }
            assertEquals(g.getAttribute("data-count"), Long.toString(sum));
            shown.put(g.getAttribute("data-day"), seg);
        }
        // what the rollups hold, per UTC day and treatment, straight from SQL
        Map<String, Map<String, String>> stored = new HashMap<>();
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD'), treatment, sum(count) FROM"
                 + " (SELECT bucket, treatment, count FROM bellows.usage_hourly UNION ALL SELECT bucket, treatment, count FROM"
                 + " bellows.usage_daily) x GROUP BY 1, 2")) {
            while (rs.next()) stored.computeIfAbsent(rs.getString(1), k -> new HashMap<>()).put(rs.getString(2), rs.getString(3));
        }
        assertFalse(stored.isEmpty());
        assertEquals(stored, shown);
        // every use of the period is on some day: the days add up to the column's total
        long total = 0;
        for (Map<String, String> seg : shown.values()) for (String n : seg.values()) total += Long.parseLong(n);
        assertEquals(all(d, "//section[@data-migration='leads-email']//span[@class='total']").get(0).getTextContent(),
            Long.toString(total));
        // each day's applications, in its tooltip
        assertTrue(days.get(days.size() - 1).getTextContent().contains("billing 7"), days.get(days.size() - 1).getTextContent());
    }

    @Test
    void statementsCarryCallSitesAndEscapedFingerprints() throws Exception {
        String stored = db.query("SELECT fingerprint FROM bellows.usage WHERE app_name = 'billing' AND fingerprint LIKE '%a<b%'");
        assertNotNull(stored, "the odd statement was recorded");
        assertTrue(stored.contains("<") && stored.contains("&") && stored.contains("\""), stored);
        assertEquals(ODD, stored);
        Path out = dir.resolve("raw.html");
        assertEquals(0, db.cli("report", "--format", "html", "--out", out.toString()).code());
        String html = Files.readString(out);
        assertFalse(html.contains(stored), "raw SQL text must not appear unescaped");
        assertTrue(html.contains("<code>SELECT user_email AS &quot;a&lt;b&amp;c&quot; FROM leads WHERE id &lt; ? AND (id &amp; ?) = ?</code>"), html);
        assertTrue(html.contains("by &#39;billing&#39;"), "gate evidence quotes escaped");

        Document d = page();
        List<Element> rows = all(d, "//table[@class='statements']/tbody/tr[@class='statement']");
        assertEquals(4, rows.size());
        Map<String, String> sites = new HashMap<>();
        Set<String> fingerprints = new java.util.HashSet<>();
        for (Element tr : rows) {
            String fp = all(d, "//tr[@class='statement'][" + (rows.indexOf(tr) + 1) + "]/td[@class='fingerprint']").get(0).getTextContent();
            fingerprints.add(fp);
            for (Element li : all(d, "//tr[@class='statement'][" + (rows.indexOf(tr) + 1) + "]//li[@class='call']")) {
                sites.put(li.getAttribute("data-app") + " " + fp, li.getElementsByTagName("code").item(0).getTextContent());
            }
        }
        assertTrue(fingerprints.contains(stored), fingerprints.toString());
        assertTrue(fingerprints.contains(UsageReportTest.READ), fingerprints.toString());
        assertTrue(sites.get("billing " + UsageReportTest.READ).startsWith("dev.bellows.testapp.LegacyLeads.findEmail(LegacyLeads.java:"), sites.toString());
        assertEquals(4, sites.size(), sites.toString());
        assertTrue(sites.get("crm<&> " + UsageReportTest.INSERT).startsWith("dev.bellows.testapp.LegacyLeads.create("), sites.toString());
        assertFalse(html.contains("@example.com"), "no literal values");
    }

    @Test
    void gateConditionsAreTheGatesOwn() throws Exception {
        Document d = page();
        Gate.Result expected;
        try (Connection c = db.raw()) {
            expected = Gate.evaluate(c, UsageDb.ID, new Gate.Options(Duration.ofDays(8), false, null, null));
        }
        List<Element> rows = all(d, "//section[@data-migration='leads-email']//table[@class='gate']/tbody/tr[@class='condition']");
        Map<String, String> shown = new java.util.LinkedHashMap<>();
        for (Element tr : rows) shown.put(tr.getAttribute("data-id"), tr.getAttribute("data-state"));
        Map<String, String> want = new java.util.LinkedHashMap<>();
        for (Gate.Condition c : expected.conditions()) want.put(c.id(), c.status().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        assertEquals(want, shown);
        // passed-through reads and tracking younger than the 8-day window: both unmet, so the verdict is unsafe
        assertEquals("unmet", shown.get("usage"));
        assertEquals("unmet", shown.get("tracking"));
        assertTrue(all(d, "//p[contains(@class,'verdict')]").get(0).getAttribute("class").contains("unsafe"));
        String usageEvidence = all(d, "//tr[@data-id='usage']").get(0).getTextContent();
        assertTrue(usageEvidence.contains("read passed through x5 by 'billing'"), usageEvidence);
    }

    @Test
    void instancesWithTheirLastHeartbeat() throws Exception {
        Document d = page();
        Map<String, Element> shown = new HashMap<>();
        for (Element tr : all(d, "//table[@class='instances']/tbody/tr[@class='instance']")) shown.put(tr.getAttribute("data-id"), tr);
        try (Connection c = db.raw()) {
            Fleet f = Fleet.load(c);
            assertEquals(f.instances().size(), shown.size());
            for (Fleet.Instance i : f.instances()) {
                Element tr = shown.get(i.instanceId());
                assertNotNull(tr, i.instanceId());
                assertEquals(i.lastSeen().toString(), tr.getAttribute("data-heartbeat"));
                assertEquals("live", tr.getAttribute("data-state"));
                assertTrue(tr.getTextContent().contains(i.appName()), tr.getTextContent());
            }
        }
        assertTrue(shown.containsKey(UsageDb.recorder(billing).instanceId()));
        assertTrue(shown.containsKey(UsageDb.recorder(crm).instanceId()));
    }

    @Test
    void otherFormatsStillWorkAndBadFormatIsRefused() {
        assertEquals(0, db.cli("report", "--format", "json").code());
        assertTrue(db.cli("report", "--format", "markdown").out().contains("| read | passed_through | 7 |"));
        UsageDb.Cli bad = db.cli("report", "--format", "pdf");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("table, json, markdown or html"), bad.toString());
    }
}
