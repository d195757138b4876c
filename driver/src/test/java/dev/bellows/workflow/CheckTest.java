package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bellows check} classifies a known workload, checked by PostgreSQL, in every phase. */
class CheckTest {
    static final String ID = "leads-contact-email";
    @TempDir Path tmp;

    static WfDb schema(String prefix) throws Exception {
        WfDb db = WfDb.create(prefix);
        db.exec("CREATE TABLE users (id bigint PRIMARY KEY, email text, user_email text)",
            "CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, name text, created_at timestamptz DEFAULT now())",
            "INSERT INTO users SELECT g, 'u' || g || '@example.com', 'u' || g || '@example.com' FROM generate_series(1, 10) g",
            "INSERT INTO leads SELECT g, 'u' || g || '@example.com', 'lead ' || g FROM generate_series(1, 10) g");
        return db;
    }

    /** One row per statement: each phase's status. */
    static List<String> statuses(Checker.Report r) {
        List<String> out = new ArrayList<>();
        for (Checker.Entry e : r.entries()) {
            out.add(e.phases().get(Phase.EXPAND).status() + " " + e.phases().get(Phase.SWITCH).status() + " "
                + e.phases().get(Phase.CONTRACT).status() + " | " + SqlText.oneLine(e.input().sql(), 200));
        }
        return out;
    }

    static final String WORKLOAD = """
        -- what the application sends, JDBC style (?) and PostgreSQL style ($1)
        SELECT user_email FROM leads WHERE id = ?;
        UPDATE leads SET user_email = ? WHERE id = ?;
        INSERT INTO leads (id, user_email, name) VALUES ($1, $2, $3);
        SELECT name FROM leads WHERE id = 1;
        SELECT count(*) FROM leads WHERE user_email LIKE '%@example.com';
        SELECT l.* FROM leads l WHERE l.id = ?;
        SELECT user_email FROM leads JOIN users USING (user_email) JOIN users u2 USING (user_email);
        MERGE INTO leads l USING users u ON u.id = l.id WHEN MATCHED THEN DO NOTHING WHEN NOT MATCHED THEN INSERT (id, user_email) VALUES (u.id, u.email);
        ALTER TABLE leads ALTER COLUMN user_email SET DEFAULT 'x';
        SELECT user_email FROM leads WHERE no_such_column = 1;
        """;

    @Test
    void classifiesAFileWorkloadBeforeTheNewColumnExists() throws Exception {
        WfDb db = schema("check_file");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        RuleSet rs = RulesFile.load(rules);
        Checker.Report r;
        try (Connection c = db.raw()) {
            r = Checker.run(c, rs, rs.get(ID), Checker.fromScript(WORKLOAD));
        }
        assertEquals(List.of(
                "AS_IS REWRITTEN REWRITTEN | SELECT user_email FROM leads WHERE id = ?",
                "REWRITTEN REWRITTEN REWRITTEN | UPDATE leads SET user_email = ? WHERE id = ?",
                "REWRITTEN REWRITTEN REWRITTEN | INSERT INTO leads (id, user_email, name) VALUES ($1, $2, $3)",
                "AS_IS REWRITTEN REWRITTEN | SELECT count(*) FROM leads WHERE user_email LIKE '%@example.com'",
                "REWRITTEN REWRITTEN REWRITTEN | SELECT l.* FROM leads l WHERE l.id = ?", // expand too: the old view's * has no new column
                "UNANALYSED UNANALYSED UNANALYSED | SELECT user_email FROM leads JOIN users USING (user_email) JOIN users u2 USING (user_email)",
                "UNANALYSED UNANALYSED UNANALYSED | MERGE INTO leads l USING users u ON u.id = l.id WHEN MATCHED THEN DO NOTHING WHEN NOT MATCHED THEN INSERT (id, user_email) VALUES (u.id, u.email)",
                "UNCHECKED UNCHECKED UNCHECKED | SELECT user_email FROM leads WHERE no_such_column = 1"),
            statuses(r));
        assertEquals(2, r.notCarried().size());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("contact_email does not exist yet")), r.notes().toString());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("1 utility statement")), r.notes().toString());
        // the check added the column only in a transaction it rolled back
        assertEquals("0", db.query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'contact_email'"));

        Path file = tmp.resolve("statements.sql");
        Files.writeString(file, WORKLOAD);
        List<String> args = new ArrayList<>(List.of("check", ID, "--file", file.toString(), "--rules", rules.toString()));
        args.addAll(db.cliConnection());
        WfDb.Run run = WfDb.cli(args.toArray(new String[0]));
        assertEquals(1, run.exit(), run.toString());
        assertTrue(run.out().contains("Statements Bellows cannot carry (2):"), run.toString());
        assertTrue(run.out().contains("switch: not analysed: JOIN USING on managed table leads"), run.toString());
        assertTrue(run.out().contains("expand: not analysed: not parsed"), run.toString()); // DO NOTHING: JSqlParser 5.3
        assertTrue(run.out().contains("Summary: 8 statements use public.leads.user_email: 6 carried in every phase"
            + " (1 not checked by PostgreSQL), 2 cannot be carried."), run.toString());
    }

    @Test
    void exitsZeroWhenEveryStatementIsCarriedAndCatchesARewriteThatDoesNotPrepare() throws Exception {
        WfDb db = schema("check_ok");
        db.exec("ALTER TABLE leads ADD COLUMN contact_email text");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        Path file = tmp.resolve("ok.sql");
        Files.writeString(file, "SELECT user_email FROM leads WHERE id = ?;\nUPDATE leads SET user_email = lower(user_email) WHERE id = $1;\n");
        List<String> args = new ArrayList<>(List.of("check", ID, "--file", file.toString(), "--rules", rules.toString()));
        args.addAll(db.cliConnection());
        WfDb.Run ok = WfDb.cli(args.toArray(new String[0]));
        assertEquals(0, ok.exit(), ok.toString());
        assertTrue(ok.out().contains("2 carried in every phase, 0 cannot be carried"), ok.toString());

        // a new column of another type than the rules say: the rewritten form no longer type-checks
        db.exec("ALTER TABLE leads DROP COLUMN contact_email", "ALTER TABLE leads ADD COLUMN contact_email integer");
        Files.writeString(file, "UPDATE leads SET user_email = ? WHERE id = ?;\n");
        WfDb.Run rejected = WfDb.cli(args.toArray(new String[0]));
        assertEquals(1, rejected.exit(), rejected.toString());
        assertTrue(rejected.out().contains("REJECTED") && rejected.out().contains("PostgreSQL rejects the rewritten form"),
            rejected.toString());
    }

    @Test
    void classifiesWhatPgStatStatementsRecorded() throws Exception {
        WfDb db = schema("check_pgss");
        assumeTrue(db.fixture.hasPgStatStatements(), "the server does not preload pg_stat_statements");
        db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "ALTER TABLE leads ADD COLUMN contact_email text",
            // forget this database's setup statements (the server's other databases keep theirs)
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        try (Connection c = db.raw()) {
            for (int i = 1; i <= 5; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads WHERE id = ?")) {
                    ps.setLong(1, i);
                    ps.executeQuery().close();
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET user_email = ? WHERE id = ?")) {
                    ps.setString(1, "x" + i + "@example.com");
                    ps.setLong(2, i);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT user_email FROM leads JOIN users USING (user_email) JOIN users u2 USING (user_email) WHERE leads.id = ?")) {
                ps.setLong(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            }
        }
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        List<String> args = new ArrayList<>(List.of("check", ID, "--from-pg-stat-statements", "--rules", rules.toString()));
        args.addAll(db.cliConnection());
        WfDb.Run run = WfDb.cli(args.toArray(new String[0]));
        assertEquals(1, run.exit(), run.toString());
        assertTrue(run.out().matches("(?s).*\\b5\\s+as is\\s+rewritten\\s+rewritten\\s+SELECT user_email FROM leads WHERE id = \\$1.*"),
            run.toString());
        assertTrue(run.out().matches("(?s).*\\b5\\s+rewritten\\s+rewritten\\s+rewritten\\s+UPDATE leads SET user_email = \\$1 WHERE id = \\$2.*"),
            run.toString());
        assertTrue(run.out().contains("Statements Bellows cannot carry (1):"), run.toString());
        assertTrue(run.out().contains("SELECT user_email FROM leads JOIN users USING (user_email) JOIN users u2 USING (user_email) WHERE leads.id = $1"), run.toString());
    }
    /** How many of this database's pg_stat_statements entries carry the check's PREPARE text, and their calls. */
    static String prepareEntries(WfDb db) throws Exception {
        return db.query("SELECT count(*) || ' entries, ' || coalesce(sum(calls), 0) || ' calls' FROM pg_stat_statements"
            + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query ~* '^PREPARE bellows_check'");
    }

    @Test
    void theChecksPreparesStayOutOfPgStatStatements() throws Exception {
        WfDb db = schema("check_untracked");
        assumeTrue(db.fixture.hasPgStatStatements(), "the server does not preload pg_stat_statements");
        db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "ALTER TABLE leads ADD COLUMN contact_email text",
            "CREATE ROLE bellows_checker LOGIN PASSWORD 'checker'", "GRANT ALL ON leads TO bellows_checker",
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        Path rules = WfDb.rules(tmp, PlanTest.RENAME);
        Path file = tmp.resolve("app.sql");
        // with a constant: PostgreSQL records a statement with constants when it parses it (for its normalised text), so a
        // PREPARE of it creates the entry; one with parameters only is recorded when executed
        Files.writeString(file, "SELECT user_email FROM leads WHERE id = 1;\nUPDATE leads SET user_email = ? WHERE id = ?;\n");

        // a superuser's check: pg_stat_statements.track = none for its session, nothing of it is recorded
        List<String> args = new ArrayList<>(List.of("check", ID, "--file", file.toString(), "--rules", rules.toString()));
        args.addAll(db.cliConnection());
        WfDb.Run su = WfDb.cli(args.toArray(new String[0]));
        assertEquals(0, su.exit(), su.toString());
        assertTrue(!su.out().contains("may not set pg_stat_statements.track"), su.toString());
        assertEquals("0 entries, 0 calls", prepareEntries(db));

        // a role that may not set it: the check says so, and its PREPAREs are recorded; the same statement run
        // afterwards by that role is counted under the check's text
        List<String> as = new ArrayList<>(List.of("check", ID, "--file", file.toString(), "--rules", rules.toString(),
            "--url", db.url, "--user", "bellows_checker", "--password", "checker"));
        WfDb.Run role = WfDb.cli(as.toArray(new String[0]));
        assertEquals(0, role.exit(), role.toString());
        assertTrue(role.out().contains("note: this user may not set pg_stat_statements.track"), role.toString());
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "bellows_checker");
        p.setProperty("password", "checker");
        try (Connection c = java.sql.DriverManager.getConnection(db.url, p); java.sql.Statement st = c.createStatement()) {
            st.executeQuery("SELECT user_email FROM leads WHERE id = 2").close();
        }
        String polluted = prepareEntries(db);
        System.out.println("check as a role that may not set pg_stat_statements.track: " + polluted + " under PREPARE bellows_check");
        assertTrue(!polluted.startsWith("0 entries") && polluted.endsWith(", 1 calls"), polluted);
        // the next check reads the statement inside the PREPARE text, with its calls
        try (Connection c = db.raw()) {
            List<Checker.Input> in = Checker.fromPgStatStatements(c);
            assertTrue(in.stream().noneMatch(i -> i.sql().matches("(?is)\\s*PREPARE.*")), in.toString());
            assertTrue(in.contains(new Checker.Input("SELECT user_email FROM leads WHERE id = $1", 1)), in.toString());
        }
    }
}
