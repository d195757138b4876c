package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bellows plan}: its files, applied in order on a real PostgreSQL, give the new column twins of every index
 * and constraint of the old one; the contract step refuses while a row diverges; every down script restores the
 * previous state; and each file can run twice.
 */
class PlanTest {
    static final String RENAME = """
        migrations:
          - id: leads-contact-email
            table: leads
            from: user_email
            to: contact_email
            phase: expand
        """;

    static final String TYPE_CHANGE = """
        migrations:
          - id: orders-status-code
            table: orders
            from: status
            to: status_code
            type: integer
            up: "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END"
            down: "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' WHEN 4 THEN 'cancelled' END"
            phase: expand
        """;

    @TempDir Path tmp;

    static void leadsSchema(WfDb db) throws SQLException {
        db.exec("CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE)",
            "CREATE TABLE leads (id bigint PRIMARY KEY,"
                + " user_email text NOT NULL DEFAULT 'nobody@example.com' REFERENCES users (email),"
                + " name text,"
                + " CONSTRAINT leads_user_email_key UNIQUE (user_email),"
                + " CONSTRAINT leads_user_email_check CHECK (user_email LIKE '%@%'))",
            "CREATE INDEX leads_email_lower ON leads (lower(user_email))",
            "CREATE INDEX leads_name_idx ON leads (name) WHERE user_email IS NOT NULL",
            "INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 300) g",
            "INSERT INTO users VALUES (0, 'nobody@example.com')",
            "INSERT INTO leads SELECT g, 'u' || g || '@example.com', 'lead ' || g FROM generate_series(1, 200) g");
    }

    /** The plan's files in order: forward scripts, or down scripts. */
    static List<Path> files(Path dir, boolean down) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".sql") && p.toString().endsWith(".down.sql") == down)
                .sorted().toList();
        }
    }

    static Path step(Path dir, String name, boolean down) throws IOException {
        return files(dir, down).stream().filter(p -> p.getFileName().toString().contains("_" + name + "."))
            .findFirst().orElseThrow(() -> new AssertionError("no " + name + " file in " + dir));
    }

    /** Runs a file twice: every script must be idempotent. */
    static void apply(WfDb db, Path file) throws Exception {
        try (Connection c = db.raw()) {
            ScriptRunner.run(c, file);
            ScriptRunner.run(c, file);
        }
    }

    static WfDb.Run plan(WfDb db, Path rules, String... more) {
        List<String> a = new ArrayList<>(List.of("plan"));
        a.addAll(List.of(more));
        a.addAll(db.cliConnection());
        a.addAll(List.of("--rules", rules.toString()));
        return WfDb.cli(a.toArray(new String[0]));
    }

    static WfDb.Run backfill(WfDb db, Path rules, String id, String... more) {
        List<String> a = new ArrayList<>(List.of("backfill", id, "--pause", "0", "--progress", "lines"));
        a.addAll(List.of(more));
        a.addAll(db.cliConnection());
        a.addAll(List.of("--rules", rules.toString()));
        return WfDb.cli(a.toArray(new String[0]));
    }

    @Test
    void appliedInOrderTheFilesMirrorIndexesAndConstraintsAndContractRefusesWhileARowDiverges() throws Exception {
        WfDb db = WfDb.create("plan_rename");
        leadsSchema(db);
        Path rules = WfDb.rules(tmp, RENAME);
        Path out = tmp.resolve("plan");
        WfDb.Run r = plan(db, rules, "leads-contact-email", "--out", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("leads-contact-email_01_expand.sql", "leads-contact-email_02_mirror.sql",
                "leads-contact-email_03_not_null.sql", "leads-contact-email_04_contract.sql"),
            files(out, false).stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(4, files(out, true).size());
        assertTrue(Files.readString(step(out, "mirror", false)).contains("-- bellows-run: autocommit"));
        assertTrue(Files.readString(step(out, "expand", false)).contains("-- bellows-run: transaction"));

        apply(db, step(out, "expand", false));
        assertEquals("text | false | 'nobody@example.com'::text", db.query("SELECT format_type(atttypid, atttypmod) || ' | '"
            + " || attnotnull || ' | ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_attrdef d"
            + " ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = 'leads'::regclass AND attname = 'contact_email'"));
        apply(db, step(out, "mirror", false));
        // every index on the old column has its twin on the new one
        assertEquals(List.of(
                "leads_contact_email_key | CREATE UNIQUE INDEX leads_contact_email_key ON public.leads USING btree (contact_email)",
                "leads_email_lower_contact_email | CREATE INDEX leads_email_lower_contact_email ON public.leads USING btree (lower(contact_email))",
                "leads_name_idx_contact_email | CREATE INDEX leads_name_idx_contact_email ON public.leads USING btree (name) WHERE (contact_email IS NOT NULL)"),
            db.rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads' AND indexdef LIKE '%contact_email%' ORDER BY 1"));
        // and every constraint: unique, check and foreign key, all validated
        assertEquals(List.of(
                "leads_contact_email_check | c | true | CHECK ((contact_email ~~ '%@%'::text))",
                "leads_contact_email_fkey | f | true | FOREIGN KEY (contact_email) REFERENCES users(email)",
                "leads_contact_email_key | u | true | UNIQUE (contact_email)"),
            db.rows("SELECT conname, contype, convalidated::text, pg_get_constraintdef(oid) FROM pg_constraint"
                + " WHERE conrelid = 'leads'::regclass AND conname LIKE '%contact_email%' ORDER BY 1"));

        WfDb.Run b = backfill(db, rules, "leads-contact-email", "--batch", "64");
        assertEquals(0, b.exit(), b.toString());
        assertTrue(b.err().contains("0 rows diverge"), b.toString());

        apply(db, step(out, "not_null", false));
        assertEquals(List.of("contact_email | true", "user_email | false"), db.rows("SELECT attname, attnotnull::text FROM pg_attribute"
            + " WHERE attrelid = 'leads'::regclass AND attname IN ('user_email', 'contact_email') ORDER BY 1"));
        assertEquals("0", db.query("SELECT count(*) FROM pg_constraint WHERE conname LIKE '%not_null%'"));

        // one row diverges: the contract step refuses and drops nothing
        db.exec("UPDATE leads SET contact_email = 'u250@example.com' WHERE id = 7");
        SQLException refused = assertThrows(SQLException.class, () -> {
            try (Connection c = db.raw()) {
                ScriptRunner.run(c, step(out, "contract", false));
            }
        });
        assertTrue(refused.getMessage().contains("refusing to drop public.leads.user_email: 1 rows have contact_email"),
            refused.getMessage());
        assertEquals("1", db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'user_email'"));

        db.exec("UPDATE leads SET contact_email = user_email WHERE id = 7");
        apply(db, step(out, "contract", false));
        assertEquals(List.of("id", "name", "contact_email"),
            db.rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'leads' ORDER BY ordinal_position"));
        // the legacy column order survives the drop, for positional statements
        assertEquals(List.of("public | leads | leads-contact-email | {id,user_email,name,contact_email}"),
            db.rows("SELECT schema_name, table_name, migration_id, columns::text FROM bellows.column_order"));
        assertEquals("4", db.query("SELECT count(*) FROM pg_indexes WHERE tablename = 'leads'"));
        assertEquals("3", db.query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'leads'::regclass AND conname LIKE '%contact_email%'"));
        // the contract has no way back: its down script only refuses
        SQLException irreversible = assertThrows(SQLException.class, () -> {
            try (Connection c = db.raw()) {
                ScriptRunner.run(c, step(out, "contract", true));
            }
        });
        assertTrue(irreversible.getMessage().contains("irreversible"), irreversible.getMessage());
    }

    /** Columns, defaults, indexes, constraints, triggers and functions of the public schema, as comparable text. */
    static List<String> snapshot(WfDb db) throws SQLException {
        List<String> s = new ArrayList<>();
        s.addAll(db.rows("SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            + " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            + " JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            + " WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2"));
        s.addAll(db.rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"));
        s.addAll(db.rows("SELECT conname, contype, convalidated, pg_get_constraintdef(oid) FROM pg_constraint"
            + " WHERE connamespace = 'public'::regnamespace ORDER BY 1"));
        s.addAll(db.rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"));
        s.addAll(db.rows("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1"));
        return s;
    }

    @Test
    void downScriptsAppliedInReverseRestoreThePreviousState() throws Exception {
        WfDb db = WfDb.create("plan_down");
        leadsSchema(db);
        List<String> before = snapshot(db);
        String data = db.query("SELECT md5(string_agg(id || ':' || user_email, ',' ORDER BY id)) FROM leads");
        Path rules = WfDb.rules(tmp, RENAME);
        Path out = tmp.resolve("plan");
        WfDb.Run r = plan(db, rules, "leads-contact-email", "--out", out.toString(), "--trigger");
        assertEquals(0, r.exit(), r.toString());
        List<Path> up = files(out, false);
        assertEquals(5, up.size(), up.toString());
        for (Path f : up) {
            if (f.toString().contains("_not_null")) assertEquals(0, backfill(db, rules, "leads-contact-email").exit());
            if (!f.toString().contains("_contract")) apply(db, f);
        }
        assertNotEquals(before, snapshot(db));
        List<Path> down = new ArrayList<>(files(out, true));
        down.removeIf(p -> p.toString().contains("_contract"));
        java.util.Collections.reverse(down);
        for (Path f : down) apply(db, f);
        assertEquals(before, snapshot(db));
        assertEquals(data, db.query("SELECT md5(string_agg(id || ':' || user_email, ',' ORDER BY id)) FROM leads"));
    }

    @Test
    void aTypeChangeWithTheSyncTriggerInFlywayNaming() throws Exception {
        WfDb db = WfDb.create("plan_type");
        db.exec("CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'pending', amount numeric)",
            "CREATE INDEX orders_status_idx ON orders (status)",
            "INSERT INTO orders (status, amount) SELECT (ARRAY['pending', 'processing', 'completed', 'cancelled'])[1 + g % 4], g"
                + " FROM generate_series(1, 100) g");
        Path rules = WfDb.rules(tmp, TYPE_CHANGE);
        Path out = tmp.resolve("migration");
        Files.createDirectories(out);
        Files.writeString(out.resolve("V6__earlier.sql"), "SELECT 1;\n");
        WfDb.Run r = plan(db, rules, "orders-status-code", "--out", out.toString(), "--flyway", "--trigger");
        assertEquals(0, r.exit(), r.toString());
        List<String> names;
        try (Stream<Path> s = Files.list(out)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of(
            "U10__bellows_orders_status_code_not_null.sql", "U10__bellows_orders_status_code_not_null.sql.conf",
            "U11__bellows_orders_status_code_contract.sql",
            "U7__bellows_orders_status_code_expand.sql",
            "U8__bellows_orders_status_code_sync_trigger.sql",
            "U9__bellows_orders_status_code_mirror.sql", "U9__bellows_orders_status_code_mirror.sql.conf",
            "V10__bellows_orders_status_code_not_null.sql", "V10__bellows_orders_status_code_not_null.sql.conf",
            "V11__bellows_orders_status_code_contract.sql",
            "V6__earlier.sql",
            "V7__bellows_orders_status_code_expand.sql",
            "V8__bellows_orders_status_code_sync_trigger.sql",
            "V9__bellows_orders_status_code_mirror.sql", "V9__bellows_orders_status_code_mirror.sql.conf"), names);
        assertEquals("executeInTransaction=false\n", Files.readString(out.resolve("V9__bellows_orders_status_code_mirror.sql.conf")));
        // planning again keeps the numbers
        assertEquals(0, plan(db, rules, "orders-status-code", "--out", out.toString(), "--flyway", "--trigger").exit());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(names.size(), s.count());
        }

        for (int v = 7; v <= 9; v++) {
            int version = v;
            try (Stream<Path> s = Files.list(out)) {
                apply(db, s.filter(p -> p.getFileName().toString().startsWith("V" + version + "__") && p.toString().endsWith(".sql"))
                    .findFirst().orElseThrow());
            }
        }
        // the new column's default is the old one's, through up
        assertEquals("1", db.query("WITH x AS (INSERT INTO orders DEFAULT VALUES RETURNING status_code) SELECT status_code FROM x"));
        assertEquals("CREATE INDEX orders_status_code_idx ON public.orders USING btree (status_code)",
            db.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'orders_status_code_idx'"));
        // writers that bypass Bellows: the trigger copies whichever side they wrote, through up or down
        db.exec("INSERT INTO orders (id, status) VALUES (1001, 'completed')",
            "INSERT INTO orders (id, status_code) VALUES (1002, 4)",
            "UPDATE orders SET status = 'cancelled' WHERE id = 1",
            "UPDATE orders SET status_code = 2 WHERE id = 2",
            "UPDATE orders SET amount = 0 WHERE id = 3");
        assertEquals(List.of("1 | cancelled | 4", "2 | processing | 2", "3 | cancelled | null", "1001 | completed | 3",
                "1002 | cancelled | 4"),
            db.rows("SELECT id, status, status_code FROM orders WHERE id IN (1, 2, 3, 1001, 1002) ORDER BY id"));

        WfDb.Run b = backfill(db, rules, "orders-status-code", "--batch", "30");
        assertEquals(0, b.exit(), b.toString());
        assertTrue(b.err().contains("the sync trigger bellows_sync_orders_status_code is installed"), b.toString());
        assertEquals("0", db.query("SELECT count(*) FROM orders WHERE status_code IS DISTINCT FROM"
            + " CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END"));
        try (Stream<Path> s = Files.list(out)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".sql") && p.getFileName().toString().matches("V1[01]__.*")).sorted().toList()) {
                apply(db, f);
            }
        }
        assertEquals(List.of("id", "amount", "status_code"),
            db.rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position"));
        assertEquals("true", db.query("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status_code'"));
        assertEquals("0", db.query("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'bellows%'"));
    }

    @Test
    void refusesWhatItCannotPlanWithAClearMessage() throws Exception {
        WfDb db = WfDb.create("plan_refuse");
        db.exec("CREATE TABLE orders (id serial PRIMARY KEY, status text)");
        Path rules = WfDb.rules(tmp, TYPE_CHANGE.replace("    type: integer\n", ""));
        WfDb.Run noType = plan(db, rules, "orders-status-code", "--out", tmp.resolve("x").toString());
        assertEquals(2, noType.exit(), noType.toString());
        assertTrue(noType.err().contains("add `type: integer`"), noType.toString());

        WfDb.Run unknown = plan(db, rules, "nope", "--out", tmp.resolve("x").toString());
        assertEquals(2, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("unknown migration id 'nope'") && unknown.err().contains("orders-status-code"), unknown.toString());

        WfDb.Run noTable = plan(db, WfDb.rules(tmp, RENAME), "leads-contact-email", "--out", tmp.resolve("x").toString());
        assertEquals(2, noTable.exit(), noTable.toString());
        assertTrue(noTable.err().contains("table public.leads does not exist"), noTable.toString());
        assertFalse(Files.exists(tmp.resolve("x")));
    }
}
