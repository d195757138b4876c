package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.rules.Phase;
import dev.bellows.testing.PostgresFixture;
import dev.bellows.workflow.ScriptRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table rename {@code customers -> clients} walked through every phase with {@code bellows plan}'s own files,
 * under concurrent load: legacy code through Bellows naming {@code customers} in every position, new code on plain
 * pgjdbc naming {@code clients} from expand on, legacy code bypassing Bellows until the bridge view goes. Zero errors;
 * each writer's rows end exactly as its own model says; {@code check}, {@code gate} and {@code report} along the way.
 */
class TableRenameWalkTest {
    static final String ID = "customers-clients";
    @TempDir Path dir;

    /** One writer: its own rows (by email prefix), the model of what they hold, and the SQL dialect it speaks. */
    static final class Writer implements Runnable {
        final String name;
        final Connection c;
        final boolean legacy;
        final Map<Integer, String> model = new ConcurrentHashMap<>(); // id -> region; absent once deleted
        final AtomicLong ops = new AtomicLong();
        final List<Throwable> errors;
        volatile boolean stop;
        int seq;

        Writer(String name, Connection c, boolean legacy, List<Throwable> errors) {
            this.name = name;
            this.c = c;
            this.legacy = legacy;
            this.errors = errors;
        }

        @Override public void run() {
            while (!stop) {
                try {
                    step();
                    ops.incrementAndGet();
                } catch (Throwable t) {
                    errors.add(new AssertionError(name + ": " + t, t));
                    return;
                }
            }
        }

        private void step() throws SQLException {
            String t = legacy ? "customers" : "clients";
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int op = model.isEmpty() ? 0 : r.nextInt(6);
            Integer id = model.isEmpty() ? null : List.copyOf(model.keySet()).get(r.nextInt(model.size()));
            String region = "r" + r.nextInt(1000);
            switch (op) {
                case 0 -> { // INSERT ... RETURNING with a qualifier
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (name, email, region) VALUES (?, ?, ?)"
                        + " RETURNING " + t + ".id")) {
                        ps.setString(1, name);
                        ps.setString(2, name + "-" + (++seq) + "@example.com");
                        ps.setString(3, region);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            model.put(rs.getInt(1), region);
                        }
                    }
                }
                case 1 -> { // UPDATE with a qualified WHERE
                    // the client bypassing Bellows writes its own statement text, so pg_stat_statements tells it apart
                    try (PreparedStatement ps = c.prepareStatement("UPDATE " + t + " SET region = ? WHERE " + t + ".id = ? AND "
                        + t + ".name = ?" + (name.equals("bypass") ? " AND " + t + ".email IS NOT NULL" : ""))) {
                        ps.setString(1, region);
                        ps.setInt(2, id);
                        ps.setString(3, name);
                        assertEquals(1, ps.executeUpdate(), name + " update " + id);
                        model.put(id, region);
                    }
                }
                case 2 -> { // upsert: ON CONFLICT on the unique email, qualifier in DO UPDATE's WHERE
                    String email = name + "-up@example.com";
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO public." + t + " AS x (name, email, region)"
                        + " VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET region = EXCLUDED.region WHERE x.name = ?"
                        + " RETURNING id")) {
                        ps.setString(1, name);
                        ps.setString(2, email);
                        ps.setString(3, region);
                        ps.setString(4, name);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            model.put(rs.getInt(1), region);
                        }
                    }
                }
                case 3 -> { // read through a JOIN, quoted and schema-qualified forms
                    try (PreparedStatement ps = c.prepareStatement("SELECT \"" + t + "\".region, count(o.id) FROM public.\"" + t
                        + "\" LEFT JOIN orders o ON o.customer_id = \"" + t + "\".id WHERE \"" + t + "\".id = ? GROUP BY \""
                        + t + "\".region")) {
                        ps.setInt(1, id);
                        try (ResultSet rs = ps.executeQuery()) {
                            assertTrue(rs.next(), name + " row " + id);
                            assertEquals(model.get(id), rs.getString(1), name + " read " + id);
                        }
                    }
                }
                case 4 -> { // an order for one of its rows (the foreign key follows the rename)
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, amount) SELECT c.id, ?"
                        + " FROM " + t + " c WHERE c.id = ?")) {
                        ps.setInt(1, r.nextInt(100));
                        ps.setInt(2, id);
                        assertEquals(1, ps.executeUpdate());
                    }
                }
                default -> { // DELETE with a subquery naming the table again
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + t + " WHERE id = ? AND id IN (SELECT k.id FROM "
                        + t + " k WHERE k.name = ?) AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = " + t + ".id)")) {
                        ps.setInt(1, id);
                        ps.setString(2, name);
                        if (ps.executeUpdate() == 1) model.remove(id);
                    }
                }
            }
        }
    }

    @Test
    void everyPhaseUnderLoadWithPlanCheckGateAndReport() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        boolean pgss = pg.hasPgStatStatements();
        String pgUrl = pg.createDatabase("tblrename");
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, "migrations:\n  - id: " + ID + "\n    table: customers\n    to_table: clients\n    phase: off\n");
        try (Connection admin = pg.connect(pgUrl); Statement s = admin.createStatement()) {
            s.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, region text)");
            s.execute("CREATE INDEX customers_region ON customers (region)");
            s.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers (id), amount int)");
            s.execute("GRANT SELECT, INSERT ON customers TO PUBLIC");
            if (pgss) s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
        BellowsDataSource ds = new BellowsDataSource();
        ds.setUrl(pgUrl);
        if (pg.user() != null) ds.setUser(pg.user());
        if (pg.password() != null) ds.setPassword(pg.password());
        ds.setRules(rules.toString());
        ds.setAppName("legacy");
        ds.setProperty("bellows.flags.poll", "off");
        ds.setProperty("bellows.rules.poll", "off");
        long started = System.currentTimeMillis();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Writer> writers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        Properties creds = new Properties();
        if (pg.user() != null) creds.setProperty("user", pg.user());
        if (pg.password() != null) creds.setProperty("password", pg.password());
        try (Connection admin = pg.connect(pgUrl)) {
            Writer a = start(new Writer("legacy-a", ds.getConnection(), true, errors), writers, threads);
            Writer b = start(new Writer("legacy-b", ds.getConnection(), true, errors), writers, threads);
            Writer bypass = start(new Writer("bypass", DriverManager.getConnection(pgUrl, creds), true, errors), writers, threads);
            progress(writers, errors);

            // plan: three steps, the rename's inventory listed
            UsageDb.Cli plan = UsageDb.Cli.run(args("plan", ID, pgUrl, pg, "--rules", rules.toString(), "--out", dir.resolve("plan").toString(),
                "--flyway"));
            assertEquals(0, plan.code(), plan.toString());
            assertTrue(plan.out().contains("foreign key orders_customer_id_fkey"), plan.out());
            assertTrue(plan.out().contains("sequence public.customers_id_seq"), plan.out());
            assertTrue(plan.out().contains("index public.customers_region keeps its name"), plan.out());
            List<Path> files;
            try (var l = Files.list(dir.resolve("plan"))) {
                files = l.filter(p -> p.getFileName().toString().startsWith("V")).sorted().toList();
            }
            assertEquals(List.of("V1__bellows_customers_clients_expand.sql", "V2__bellows_customers_clients_switch.sql",
                "V3__bellows_customers_clients_contract.sql"), files.stream().map(p -> p.getFileName().toString()).toList());

            String expand = Files.readString(files.get(0));
            assertTrue(expand.contains("GRANT INSERT, SELECT ON public.clients TO PUBLIC;"), expand);
            assertTrue(Files.readString(files.get(1)).contains("GRANT INSERT, SELECT ON public.customers TO PUBLIC;"));

            // check before expand: the view is simulated; legacy statements are carried in switch and contract
            Path stmts = dir.resolve("stmts.sql");
            Files.writeString(stmts, "SELECT customers.id FROM customers JOIN orders o ON o.customer_id = customers.id;\n"
                + "INSERT INTO customers (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING customers.id;\n"
                + "SELECT customers FROM customers;\n");
            UsageDb.Cli check = UsageDb.Cli.run(args("check", ID, pgUrl, pg, "--rules", rules.toString(), "--file", stmts.toString()));
            assertTrue(check.out().contains("3 statements use it"), check.toString());
            assertTrue(check.out().contains("rewritten"), check.toString());
            assertTrue(check.out().contains("unanalysed") || check.out().contains("not analysed"), check.toString());

            // expand: the view clients; new code starts naming it. The flag refuses to move before the view exists.
            UsageDb.Cli early = UsageDb.Cli.run(args("flags", null, pgUrl, pg, "set", ID, "expand", "--rules", rules.toString()));
            assertTrue(early.code() != 0 && (early.out() + early.err()).contains("does not exist; apply the plan's expand step"),
                early.toString());
            ScriptRunner.run(admin, files.get(0));
            UsageDb.Cli flag = UsageDb.Cli.run(args("flags", null, pgUrl, pg, "set", ID, "expand", "--rules", rules.toString()));
            assertEquals(0, flag.code(), flag.toString());
            UsageDb.Cli backfill = UsageDb.Cli.run(args("backfill", ID, pgUrl, pg, "--rules", rules.toString()));
            assertTrue(backfill.code() != 0 && (backfill.out() + backfill.err()).contains("nothing to backfill"), backfill.toString());
            ds.runtime().refreshCatalog();
            ds.runtime().setPhase(ID, Phase.EXPAND);
            Writer fresh = start(new Writer("new", DriverManager.getConnection(pgUrl, creds), false, errors), writers, threads);
            progress(writers, errors);
            UsageDb.recorder(ds).flush();
            Gate.Result red = Gate.evaluate(admin, ID, new Gate.Options(window(started), false, Duration.ofSeconds(60), null));
            assertFalse(red.safe(), "uses passed through in expand keep the gate red");

            // switch: Bellows names clients, then the plan renames the table under the load and leaves the bridge view
            ds.runtime().setPhase(ID, Phase.SWITCH);
            progress(writers, errors);
            ScriptRunner.run(admin, files.get(1));
            ds.runtime().refreshCatalog();
            assertEquals("v", scalar(admin, "SELECT relkind::text FROM pg_class WHERE oid = 'public.customers'::regclass"));
            assertEquals("r", scalar(admin, "SELECT relkind::text FROM pg_class WHERE oid = 'public.clients'::regclass"));
            progress(writers, errors);
            if (pgss) { // the client bypassing Bellows is seen naming the old table
                UsageDb.recorder(ds).flush();
                Gate.Result r = Gate.evaluate(admin, ID, new Gate.Options(window(started), false, Duration.ofSeconds(60), null));
                Gate.Condition bypassed = r.conditions().stream().filter(c -> c.id().equals("bypass")).findFirst().orElseThrow();
                assertEquals(Gate.Status.UNMET, bypassed.status(), GateOutputText.of(r));
                assertTrue(bypassed.evidence().toString().contains("customers"), GateOutputText.of(r));
            }

            // contract: the bypassing client stops; the gate goes green on a window that starts now
            bypass.stop = true;
            threads.get(2).join();
            if (pgss) scalar(admin, "SELECT pg_stat_statements_reset()::text");
            ds.runtime().setPhase(ID, Phase.CONTRACT);
            long contractAt = System.currentTimeMillis();
            progress(writers, errors);
            UsageDb.recorder(ds).flush();
            Gate.Result green = Gate.evaluate(admin, ID, new Gate.Options(window(contractAt), false, Duration.ofSeconds(60), null));
            assertTrue(green.safe(), () -> GateOutputText.of(green));
            UsageDb.Cli report = UsageDb.Cli.run(args("report", null, pgUrl, pg, "--migration", ID));
            assertEquals(0, report.code(), report.toString());
            assertTrue(report.out().contains("public.customers"), report.out());
            assertTrue(report.out().contains("rewritten"), report.out());

            // the bridge view goes; legacy code through Bellows goes on
            ScriptRunner.run(admin, files.get(2));
            ds.runtime().refreshCatalog();
            assertEquals(null, scalar(admin, "SELECT to_regclass('public.customers')::text"));
            progress(writers, errors);
            for (Writer w : writers) w.stop = true;
            for (Thread t : threads) t.join();
            assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.get(0));

            // zero divergent rows: each writer's rows are exactly its model
            int divergent = 0;
            for (Writer w : writers) {
                Map<Integer, String> actual = new java.util.HashMap<>();
                try (PreparedStatement ps = admin.prepareStatement("SELECT id, region FROM clients WHERE name = ?")) {
                    ps.setString(1, w.name);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) actual.put(rs.getInt(1), rs.getString(2));
                    }
                }
                if (!actual.equals(w.model)) divergent++;
                assertTrue(w.ops.get() > 0, w.name);
                w.c.close();
            }
            assertEquals(0, divergent, "divergent writers");
            assertTrue(a.model.size() + b.model.size() + fresh.model.size() > 0);
        } finally {
            for (Writer w : writers) w.stop = true;
            for (Thread t : threads) t.join();
            ds.runtime().close();
        }
    }

    private static Writer start(Writer w, List<Writer> writers, List<Thread> threads) {
        writers.add(w);
        Thread t = new Thread(w, w.name);
        threads.add(t);
        t.start();
        return w;
    }

    /** Waits until every running writer has done at least 15 more operations (or one failed). */
    private static void progress(List<Writer> writers, List<Throwable> errors) throws InterruptedException {
        Map<Writer, Long> at = new java.util.HashMap<>();
        for (Writer w : writers) at.put(w, w.ops.get());
        poll(() -> !errors.isEmpty() || writers.stream().allMatch(w -> w.stop || w.ops.get() >= at.get(w) + 15));
        assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.get(0));
    }

    private static void poll(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("no progress in 60 s");
            Thread.sleep(5);
        }
    }

    private static Duration window(long since) {
        return Duration.ofMillis(System.currentTimeMillis() - since + 1);
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String[] args(String command, String id, String pgUrl, PostgresFixture pg, String... more) {
        List<String> a = new ArrayList<>(List.of(command));
        if (id != null) a.add(id);
        a.addAll(List.of(more));
        a.addAll(List.of("--url", pgUrl));
        if (pg.user() != null) a.addAll(List.of("--user", pg.user()));
        if (pg.password() != null) a.addAll(List.of("--password", pg.password()));
        return a.toArray(new String[0]);
    }

    /** The gate's verdict as text, for a failing assertion. */
    private static final class GateOutputText {
        static String of(Gate.Result r) {
            StringBuilder sb = new StringBuilder();
            for (Gate.Condition c : r.conditions()) sb.append(c.status()).append(' ').append(c.title()).append(' ').append(c.evidence()).append('\n');
            sb.append(r.notes());
            return sb.toString();
        }
    }
}
