package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.testapp.LegacyLeads;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A known workload through two data sources with different application names, then {@code bellows report} and
 * {@code bellows status}: counts per kind and treatment, statements with their applications and call sites.
 */
class UsageReportTest {
    @TempDir static Path dir;
    static UsageDb db;
    static BellowsDataSource billing;
    static BellowsDataSource crm;

    static final String READ = "SELECT user_email FROM leads WHERE id = ?";
    static final String WRITE = "UPDATE leads SET user_email = ? WHERE id = ?";
    static final String INSERT = "INSERT INTO leads (id, name, user_email) VALUES (?, ...)";

    @BeforeAll
    static void workload() throws Exception {
        db = UsageDb.create("usage_report", dir, "expand");
        billing = db.dataSource("billing");
        crm = db.dataSource("crm");
        LegacyLeads b = new LegacyLeads(billing);
        LegacyLeads c = new LegacyLeads(crm);
        for (int i = 1; i <= 3; i++) c.create(i, "n" + i, "u" + i + "@example.com");   // crm: 3 inserts (write, rewritten)
        for (int i = 0; i < 5; i++) b.findEmail(1);                                    // billing: 5 reads (passed through in expand)
        for (int i = 0; i < 2; i++) b.changeEmail(2, "x" + i + "@example.com");        // billing: 2 writes (rewritten: dual write)
        for (int i = 0; i < 4; i++) c.findEmail(3);                                    // crm: 4 reads, same statement as billing's
        c.countWithImports();                                                          // crm: 1 unanalysed read
        b.findNewEmail(1);                                                             // names no deprecated column: not recorded
        assertTrue(UsageDb.recorder(billing).flush());
        assertTrue(UsageDb.recorder(crm).flush());
    }

    @AfterAll
    static void close() throws Exception {
        db.close();
    }

    @Test
    void recordsPerKeyWithApplicationsAndCallSites() throws Exception {
        Map<String, Long> counts = new HashMap<>();
        Map<String, String> sites = new HashMap<>();
        try (Connection c = db.raw(); PreparedStatement ps = c.prepareStatement(
            "SELECT app_name, kind, treatment, fingerprint, count, call_site, column_name FROM bellows.usage WHERE migration_id = ?")) {
            ps.setString(1, UsageDb.ID);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String key = rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4);
                    counts.put(key, rs.getLong(5));
                    sites.put(key, rs.getString(6));
                    assertEquals("public.leads.user_email", rs.getString(7));
                }
            }
        }
        assertEquals(Map.of(
            "billing read passed_through " + READ, 5L,
            "billing write rewritten " + WRITE, 2L,
            "crm read passed_through " + READ, 4L,
            "crm write rewritten " + INSERT, 3L,
            "crm read unanalysed SELECT count(user_email) FROM leads, unnest(ARRAY(SELECT id FROM imports)) AS i(id) WHERE i.id = leads.id", 1L), counts);
        assertTrue(sites.get("billing read passed_through " + READ).startsWith("dev.bellows.testapp.LegacyLeads.findEmail(LegacyLeads.java:"),
            sites.toString());
        assertTrue(sites.get("crm write rewritten " + INSERT).startsWith("dev.bellows.testapp.LegacyLeads.create(LegacyLeads.java:"));
    }

    @Test
    void reportGroupsByColumnKindTreatmentAndStatement() throws Exception {
        try (Connection c = db.raw()) {
            Report r = Report.build(c, null, null, 10);
            assertEquals(1, r.columns().size());
            Report.ColumnUsage col = r.columns().get(0);
            assertEquals(UsageDb.ID, col.migrationId());
            assertEquals("public.leads.user_email", col.column());
            assertEquals("email", col.replacement());
            assertEquals(15, col.total());
            Map<String, Long> totals = new HashMap<>();
            for (Report.Totals t : col.totals()) totals.put(t.kind() + " " + t.treatment(), t.count());
            assertEquals(Map.of("read passed_through", 9L, "write rewritten", 5L, "read unanalysed", 1L), totals);
            Report.StatementUse top = col.statements().get(0);
            assertEquals(READ, top.fingerprint());
            assertEquals(9, top.count());
            assertEquals(List.of("billing", "crm"), top.apps().stream().map(Report.AppUse::app).toList());
            assertEquals(List.of(5L, 4L), top.apps().stream().map(Report.AppUse::count).toList());
            assertEquals(4, col.statements().size());
            assertEquals(0, col.statementsOmitted());
            assertEquals(1, Report.build(c, null, null, 1).columns().get(0).statementsOmitted() > 0 ? 1 : 0);
        }
    }

    @Test
    void jsonIsValidAndStable() throws Exception {
        UsageDb.Cli out = db.cli("report", "--format", "json");
        assertEquals(0, out.code(), out.toString());
        try (Connection c = db.raw(); PreparedStatement ps = c.prepareStatement(
            "SELECT j -> 'columns' -> 0 ->> 'migration', (j -> 'columns' -> 0 ->> 'total')::int,"
                + " j -> 'columns' -> 0 -> 'statements' -> 0 ->> 'fingerprint',"
                + " j -> 'columns' -> 0 -> 'statements' -> 0 -> 'apps' -> 0 ->> 'callSite',"
                + " (SELECT sum((t ->> 'count')::int) FROM jsonb_array_elements(j -> 'columns' -> 0 -> 'byKindAndTreatment') t"
                + "   WHERE t ->> 'treatment' = 'passed_through'),"
                + " jsonb_exists(j, 'since'), j -> 'columns' -> 0 -> 'statements' -> 0 ->> 'overflow'"
                + " FROM (SELECT ?::jsonb AS j) x")) {
            ps.setString(1, out.out());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(UsageDb.ID, rs.getString(1));
                assertEquals(15, rs.getInt(2));
                assertEquals(READ, rs.getString(3));
                assertTrue(rs.getString(4).startsWith("dev.bellows.testapp.LegacyLeads.findEmail("));
                assertEquals(9, rs.getInt(5));
                assertTrue(rs.getBoolean(6));
                assertEquals("false", rs.getString(7));
            }
        }
    }

    @Test
    void tableAndMarkdownAreReadable() {
        UsageDb.Cli table = db.cli("report", "--migration", UsageDb.ID);
        assertEquals(0, table.code(), table.toString());
        assertTrue(table.out().contains("public.leads.user_email  (migration leads-email, replaced by email)"), table.out());
        assertTrue(table.out().contains("read   passed_through      9"), table.out());
        assertTrue(table.out().contains("app billing x5 at dev.bellows.testapp.LegacyLeads.findEmail(LegacyLeads.java:"), table.out());
        UsageDb.Cli md = db.cli("report", "--format", "markdown", "--since", "1h");
        assertEquals(0, md.code(), md.toString());
        assertTrue(md.out().contains("| read | passed_through | 9 |"), md.out());
        assertTrue(md.out().contains("`SELECT user_email FROM leads WHERE id = ?`"), md.out());
    }

    @Test
    void statusShowsBothInstancesLiveWithTheirPhase() throws Exception {
        UsageDb.Cli out = db.cli("status");
        assertEquals(0, out.code(), out.toString());
        assertTrue(out.out().contains("leads-email  public.leads.user_email  email        expand x2"), out.out());
        assertTrue(out.out().contains("Instances: 2 live, 0 silent, 0 stopped"), out.out());
        assertTrue(out.out().contains(UsageDb.recorder(billing).instanceId()), out.out());
        try (Connection c = db.raw()) {
            Fleet f = Fleet.load(c);
            assertEquals(2, f.live(null).size());
            Fleet.Instance i = f.instances().stream().filter(x -> x.appName().equals("crm")).findFirst().orElseThrow();
            assertEquals(Map.of(UsageDb.ID, "expand"), i.phases());
            assertEquals(ProcessHandle.current().pid(), i.pid());
            assertNull(i.stoppedAt());
            assertNotNull(i.rulesHash());
        }
    }

    @Test
    void errorsExitWithTwo() {
        UsageDb.Cli unknown = db.cli("report", "--migration", "no-such-id");
        assertEquals(2, unknown.code(), unknown.toString());
        assertTrue(unknown.err().contains("unknown migration id 'no-such-id'"), unknown.toString());
        UsageDb.Cli badUrl = UsageDb.Cli.run("report", "--url", "jdbc:mysql://localhost/x");
        assertEquals(2, badUrl.code(), badUrl.toString());
        assertTrue(badUrl.err().contains("--url must be a jdbc:postgresql: URL"), badUrl.toString());
        UsageDb.Cli badSince = db.cli("report", "--since", "soon");
        assertEquals(2, badSince.code());
        assertFalse(badSince.err().isEmpty());
    }
}
