package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bellows.rules.Phase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Concurrency (issue 4 §5): 8 threads of legacy code ({@code leads.user_email}, {@code orders.status} text) and 4 of
 * new code ({@code contact_email}, {@code status_code} integer) read and write through Bellows while a controller
 * moves both migrations expand → switch → contract on the shared {@link BellowsRuntime}. Each thread holds its own
 * connection from one HikariCP pool ({@code jdbcUrl=jdbc:bellows:...}) and keeps long-lived prepared statements, so
 * every phase change reaches statements prepared in an earlier phase (re-prepared at execute).
 *
 * <p>Timeline, for a run of D seconds (system property {@value #SECONDS_PROPERTY}, default 30 as the issue asks):
 * expand for D/4, switch for D/4, then contract. <b>The old columns are dropped at 3D/4, through the driver</b> (DDL
 * on a Bellows connection, which refreshes the shared catalog), after every writer has been running in contract for
 * D/4, which is what a real contract step does; the threads keep running for the last D/4 on the dropped schema.
 *
 * <p>Legacy code concatenates values into SQL as often as it binds them (issue 3 §6), so half of the threads' updates
 * are literal SQL of the same shape as a prepared statement they hold; Bellows' rewrite caches are shared by every
 * connection of the configuration, so one thread's literal statement must never change another's prepared one.
 *
 * <p>Every thread owns its rows (unique name markers and unique e-mail values) and remembers the last value it wrote
 * to each, and when the write completed. Asserted:
 * <ul>
 *   <li>zero errors, and every read of a thread's own row returns the value it last wrote (by the name it uses);</li>
 *   <li>while expand and switch are in force, a checker finds {@code to = up(from)} for every row of both tables;</li>
 *   <li>in a snapshot taken just before the drop, every row last written before contract began still has
 *       {@code to = up(from)} (rows written in contract legitimately leave the old column stale);</li>
 *   <li>at the end, no row is lost and none is left over (deleted rows are gone), and every row holds its last
 *       value, read by the legacy names and by the new names through Bellows, and in the new columns directly.</li>
 * </ul>
 */
class ConcurrencyTest {
    static final String SECONDS_PROPERTY = "bellows.concurrency.seconds";
    private static final int LEGACY_THREADS = 8;
    private static final int NEW_THREADS = 4;
    private static final String[] STATUSES = {"pending", "processing", "completed", "cancelled"};

    /** Reported problems: errors, wrong reads, failed checks. */
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    private volatile boolean stop;
    /** Counted down by each thread once it is connected, prepared and has rows; the timeline starts then. */
    private final CountDownLatch ready = new CountDownLatch(LEGACY_THREADS + NEW_THREADS);
    private volatile BellowsRuntime runtime;

    static int code(String status) {
        for (int i = 0; i < STATUSES.length; i++) if (STATUSES[i].equals(status)) return i + 1;
        throw new IllegalArgumentException(status);
    }

    static final class Row {
        String value;
        /** System.nanoTime() when the last write to the row completed (committed). */
        long lastWrite;
        boolean deleted;

        Row(String value, long lastWrite) {
            this.value = value;
            this.lastWrite = lastWrite;
        }
    }

    /** One application thread, legacy or new, with its own connection and long-lived prepared statements. */
    final class Worker implements Runnable {
        final int n;
        final boolean legacy;
        final String email;
        final String status;
        final Random random;
        /** Own rows: lead id → last e-mail, order id → last status (as text). */
        final Map<Integer, Row> leads = new LinkedHashMap<>();
        final Map<Integer, Row> orders = new LinkedHashMap<>();
        final Map<Integer, Integer> orderOfLead = new HashMap<>();
        final Map<Phase, long[]> ops = new EnumMap<>(Phase.class);
        /** Rows this thread still writes; retired rows are only read from then on (so some keep a pre-contract value). */
        final List<Integer> live = new ArrayList<>();
        final List<Integer> retired = new ArrayList<>();
        int seq;
        /** Successful writes (inserted, updated or deleted rows), counted when they are committed. */
        long writes;
        Connection c;
        PreparedStatement insertLead, insertOrder, updateEmail, updateByEmail, readLead, readByEmail, updateStatus,
            readStatus, upsert, deleteByEmail, countOwn, starLead, starOrder, forUpdate, updateOrderOfLead;

        Worker(int n, boolean legacy) {
            this.n = n;
            this.legacy = legacy;
            this.email = legacy ? "user_email" : "contact_email";
            this.status = legacy ? "status" : "status_code";
            this.random = new Random(1000 + n);
        }

        String marker() { return "w" + n + "-"; }

        String nextEmail() { return marker() + (++seq) + "@example.com"; }

        void prepare() throws SQLException {
            insertLead = c.prepareStatement("INSERT INTO leads (name, " + email + ", score) VALUES (?, ?, ?)", new String[] {"id"});
            insertOrder = c.prepareStatement("INSERT INTO orders (lead_id, " + status + ", amount) VALUES (?, ?, ?) RETURNING id");
            updateEmail = c.prepareStatement("UPDATE leads SET " + email + " = ? WHERE id = ?");
            updateByEmail = c.prepareStatement("UPDATE leads SET " + email + " = ? WHERE " + email + " = ?");
            readLead = c.prepareStatement("SELECT id, " + email + " FROM leads WHERE id = ?");
            readByEmail = c.prepareStatement("SELECT id FROM leads WHERE " + email + " = ?");
            updateStatus = c.prepareStatement("UPDATE orders SET " + status + " = ? WHERE id = ?");
            readStatus = c.prepareStatement("SELECT " + status + " FROM orders WHERE id = ?");
            upsert = c.prepareStatement("INSERT INTO leads (id, name, " + email + ") VALUES (?, ?, ?) "
                + "ON CONFLICT (id) DO UPDATE SET " + email + " = EXCLUDED." + email);
            deleteByEmail = c.prepareStatement("DELETE FROM leads WHERE " + email + " = ?");
            countOwn = c.prepareStatement("SELECT count(*) FROM leads WHERE " + email + " LIKE ?");
            starLead = c.prepareStatement("SELECT * FROM leads WHERE id = ?");
            starOrder = c.prepareStatement("SELECT * FROM orders WHERE id = ?");
            forUpdate = c.prepareStatement("SELECT " + email + " FROM leads WHERE id = ? FOR UPDATE");
            updateOrderOfLead = c.prepareStatement("UPDATE orders SET " + status + " = ? WHERE lead_id = ?");
        }

        void setStatus(PreparedStatement ps, int index, String s) throws SQLException {
            if (legacy) ps.setString(index, s);
            else ps.setInt(index, code(s));
        }

        String readStatusValue(ResultSet rs, String label) throws SQLException {
            if (legacy) return rs.getString(label);
            int v = rs.getInt(label);
            return rs.wasNull() ? null : STATUSES[v - 1];
        }

        void check(boolean ok, String what) {
            if (!ok) throw new IllegalStateException(what);
        }

        @Override public void run() {
            String op = "connect";
            try (Connection conn = (legacy ? dataSource : newDataSource).getConnection()) {
                c = conn;
                op = "prepare";
                prepare();
                for (int i = 0; i < 3; i++) insert();
                ready.countDown();
                while (!stop) {
                    Phase phase = runtime.rules().get(DifferentialTest.LEADS_ID).phase();
                    int r = random.nextInt(100);
                    Integer id = live.isEmpty() ? null : live.get(random.nextInt(live.size()));
                    int any = !retired.isEmpty() && random.nextBoolean() ? retired.get(random.nextInt(retired.size())) : id == null ? 0 : id;
                    if (r < 10 || id == null || live.size() < 3) { op = "insert"; insert(); }
                    // Legacy code concatenates values as often as it binds them (issue 3 §6): half of the updates are
                    // literal SQL of the same shape as a prepared statement the thread holds.
                    else if (r < 22) { op = "update e-mail"; if (random.nextBoolean()) updateEmail(id); else literal(id); }
                    else if (r < 28) { op = "update by e-mail"; updateByEmail(id); }
                    else if (r < 42) { op = "read own row"; readLead(any); }
                    else if (r < 48) { op = "read by e-mail"; readByEmail(any); }
                    else if (r < 58) { op = "update status"; if (random.nextBoolean()) updateStatus(id); else literalStatus(id); }
                    else if (r < 66) { op = "read status"; readStatus(any); }
                    else if (r < 70) { op = "upsert"; upsert(id); }
                    else if (r < 74) { op = "transaction"; transaction(id); }
                    else if (r < 77) { op = "delete"; delete(id); }
                    else if (r < 81) { op = "literal statement"; if (random.nextBoolean()) literal(id); else literalStatus(id); }
                    else if (r < 85) { op = "count own rows"; countOwn(); }
                    else if (r < 90) { op = "star read"; starRead(any); }
                    else if (r < 95) { op = "batch"; batch(); }
                    else { op = "prepare per use"; preparePerUse(id); }
                    ops.computeIfAbsent(phase, p -> new long[1])[0]++;
                }
            } catch (Exception e) {
                problems.add((legacy ? "legacy" : "new-code") + " thread " + n + ", " + op + " in "
                    + runtime.rules().get(DifferentialTest.LEADS_ID).phase() + ": " + e);
            }
        }

        void insert() throws SQLException {
            String e = nextEmail();
            insertLead.setString(1, marker() + seq);
            insertLead.setString(2, e);
            insertLead.setInt(3, seq);
            check(insertLead.executeUpdate() == 1, "insert count");
            int id;
            try (ResultSet k = insertLead.getGeneratedKeys()) {
                check(k.next(), "no generated key");
                id = k.getInt("id");
            }
            leads.put(id, new Row(e, System.nanoTime()));
            writes++;
            live.add(id);
            String s = STATUSES[random.nextInt(STATUSES.length)];
            insertOrder.setInt(1, id);
            setStatus(insertOrder, 2, s);
            insertOrder.setBigDecimal(3, BigDecimal.valueOf(seq));
            int orderId;
            try (ResultSet rs = insertOrder.executeQuery()) {
                check(rs.next(), "no order id");
                orderId = rs.getInt(1);
            }
            orders.put(orderId, new Row(s, System.nanoTime()));
            writes++;
            orderOfLead.put(id, orderId);
            if (live.size() > 6) retired.add(live.remove(0));
        }

        void updateEmail(int id) throws SQLException {
            String e = nextEmail();
            updateEmail.setString(1, e);
            updateEmail.setInt(2, id);
            check(updateEmail.executeUpdate() == 1, "update of lead " + id + " matched no row");
            wrote(leads.get(id), e);
        }

        void updateByEmail(int id) throws SQLException {
            Row row = leads.get(id);
            String e = nextEmail();
            updateByEmail.setString(1, e);
            updateByEmail.setString(2, row.value);
            check(updateByEmail.executeUpdate() == 1, "update WHERE " + email + " = '" + row.value + "' matched no row");
            wrote(row, e);
        }

        void readLead(int id) throws SQLException {
            readLead.setInt(1, id);
            try (ResultSet rs = readLead.executeQuery()) {
                check(rs.next(), "lead " + id + " not found");
                String got = rs.getString(email);
                check(leads.get(id).value.equals(got), "lead " + id + " " + email + ": wrote " + leads.get(id).value + ", read " + got);
                check(rs.getMetaData().getColumnLabel(2).equals(email), "label " + rs.getMetaData().getColumnLabel(2));
            }
        }

        void readByEmail(int id) throws SQLException {
            readByEmail.setString(1, leads.get(id).value);
            try (ResultSet rs = readByEmail.executeQuery()) {
                check(rs.next() && rs.getInt(1) == id && !rs.next(), "WHERE " + email + " = '" + leads.get(id).value + "' did not find only " + id);
            }
        }

        void updateStatus(int leadId) throws SQLException {
            int orderId = orderOfLead.get(leadId);
            String s = STATUSES[random.nextInt(STATUSES.length)];
            setStatus(updateStatus, 1, s);
            updateStatus.setInt(2, orderId);
            check(updateStatus.executeUpdate() == 1, "update of order " + orderId);
            wrote(orders.get(orderId), s);
        }

        void readStatus(int leadId) throws SQLException {
            int orderId = orderOfLead.get(leadId);
            readStatus.setInt(1, orderId);
            try (ResultSet rs = readStatus.executeQuery()) {
                check(rs.next(), "order " + orderId + " not found");
                String got = readStatusValue(rs, status);
                check(orders.get(orderId).value.equals(got), "order " + orderId + " " + status + ": wrote "
                    + orders.get(orderId).value + ", read " + got);
            }
        }

        void upsert(int id) throws SQLException {
            String e = nextEmail();
            upsert.setInt(1, id);
            upsert.setString(2, marker() + "upsert");
            upsert.setString(3, e);
            check(upsert.executeUpdate() == 1, "upsert count");
            wrote(leads.get(id), e);
        }

        void transaction(int id) throws SQLException {
            c.setAutoCommit(false);
            try {
                forUpdate.setInt(1, id);
                try (ResultSet rs = forUpdate.executeQuery()) {
                    check(rs.next() && leads.get(id).value.equals(rs.getString(1)), "FOR UPDATE read of " + id);
                }
                String e = nextEmail();
                updateEmail.setString(1, e);
                updateEmail.setInt(2, id);
                check(updateEmail.executeUpdate() == 1, "update in transaction");
                String s = STATUSES[random.nextInt(STATUSES.length)];
                setStatus(updateOrderOfLead, 1, s);
                updateOrderOfLead.setInt(2, id);
                check(updateOrderOfLead.executeUpdate() == 1, "order update in transaction");
                c.commit();
                wrote(leads.get(id), e);
                wrote(orders.get(orderOfLead.get(id)), s);
            } catch (SQLException | RuntimeException ex) {
                c.rollback();
                throw ex;
            } finally {
                c.setAutoCommit(true);
            }
        }

        void delete(int id) throws SQLException {
            deleteByEmail.setString(1, leads.get(id).value);
            check(deleteByEmail.executeUpdate() == 1, "delete of " + id);
            leads.get(id).deleted = true;
            writes++;
            live.remove(Integer.valueOf(id));
        }

        /** The e-mail update of {@link #updateEmail} with the values concatenated into the SQL text. */
        void literal(int id) throws SQLException {
            String e = nextEmail();
            try (Statement st = c.createStatement()) {
                check(st.executeUpdate("UPDATE leads SET " + email + " = '" + e + "' WHERE id = " + id) == 1, "literal update");
            }
            wrote(leads.get(id), e);
        }

        /** The status update of {@link #updateStatus} with the value concatenated into the SQL text. */
        void literalStatus(int leadId) throws SQLException {
            int orderId = orderOfLead.get(leadId);
            String s = STATUSES[random.nextInt(STATUSES.length)];
            String value = legacy ? "'" + s + "'" : Integer.toString(code(s));
            try (Statement st = c.createStatement()) {
                check(st.executeUpdate("UPDATE orders SET " + status + " = " + value + " WHERE id = " + orderId) == 1, "literal status update");
            }
            wrote(orders.get(orderId), s);
        }

        void countOwn() throws SQLException {
            countOwn.setString(1, marker() + "%");
            try (ResultSet rs = countOwn.executeQuery()) {
                rs.next();
                int expected = live.size() + retired.size();
                check(rs.getInt(1) == expected, "count of own rows by " + email + ": " + rs.getInt(1) + ", expected " + expected);
            }
        }

        void starRead(int id) throws SQLException {
            starLead.setInt(1, id);
            try (ResultSet rs = starLead.executeQuery()) {
                check(rs.next(), "star read of " + id);
                check(leads.get(id).value.equals(rs.getString(email)), "star read of " + id + " by " + email + ": "
                    + rs.getString(email) + ", expected " + leads.get(id).value);
            }
            int orderId = orderOfLead.get(id);
            starOrder.setInt(1, orderId);
            try (ResultSet rs = starOrder.executeQuery()) {
                check(rs.next(), "star read of order " + orderId);
                String got = readStatusValue(rs, status);
                check(orders.get(orderId).value.equals(got), "star read of order " + orderId + " by " + status + ": " + got
                    + ", expected " + orders.get(orderId).value);
            }
        }

        void batch() throws SQLException {
            if (live.size() < 2) return;
            int a = live.get(random.nextInt(live.size()));
            int b = live.get(random.nextInt(live.size()));
            if (a == b) return;
            String ea = nextEmail();
            String eb = nextEmail();
            updateEmail.setString(1, ea);
            updateEmail.setInt(2, a);
            updateEmail.addBatch();
            updateEmail.setString(1, eb);
            updateEmail.setInt(2, b);
            updateEmail.addBatch();
            int[] counts = updateEmail.executeBatch();
            check(counts.length == 2 && counts[0] == 1 && counts[1] == 1, "batch counts");
            wrote(leads.get(a), ea);
            wrote(leads.get(b), eb);
        }

        void preparePerUse(int id) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("UPDATE leads SET score = score + 1 WHERE id = ? AND " + email + " = ? "
                + "RETURNING " + email)) {
                ps.setInt(1, id);
                ps.setString(2, leads.get(id).value);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next() && leads.get(id).value.equals(rs.getString(email)), "RETURNING " + email + " of " + id);
                }
                writes++;
            }
        }

        void wrote(Row row, String value) {
            row.value = value;
            row.lastWrite = System.nanoTime();
            writes++;
        }
    }

    private HikariDataSource dataSource;
    /** New code's pool: bellows.schema=new, so its SELECT * has contact_email and status_code (a runtime of its own). */
    private HikariDataSource newDataSource;
    private volatile BellowsRuntime newRuntime;

    private void setPhase(String id, Phase p) {
        runtime.setPhase(id, p);
        newRuntime.setPhase(id, p);
    }

    @Test
    void legacyAndNewCodeRunThroughExpandSwitchContract() throws Exception {
        double seconds = Double.parseDouble(System.getProperty(SECONDS_PROPERTY, "30"));
        long durationNanos = (long) (seconds * 1e9);
        TestDb db = DifferentialTest.migratedDatabase("concurrency", Phase.EXPAND); // seeded old schema, expanded, backfilled

        HikariConfig config = new HikariConfig();
        config.setPoolName("bellows-concurrency");
        config.setJdbcUrl(db.url + "?bellows.rules=" + DifferentialTest.RULES + "&bellows.appName=concurrency");
        config.setUsername(db.fixture.user());
        config.setPassword(db.fixture.password());
        config.setMaximumPoolSize(LEGACY_THREADS + NEW_THREADS + 1);
        config.setConnectionTimeout(10_000);
        dataSource = new HikariDataSource(config);
        HikariConfig newConfig = new HikariConfig();
        config.copyStateTo(newConfig);
        newConfig.setPoolName("bellows-concurrency-new");
        newConfig.setJdbcUrl(config.getJdbcUrl() + "&bellows.schema=new");
        newDataSource = new HikariDataSource(newConfig);
        List<Worker> workers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(LEGACY_THREADS + NEW_THREADS);
        long contractBegan;
        Map<Integer, String[]> leadSnapshot = new HashMap<>();
        Map<Integer, String[]> orderSnapshot = new HashMap<>();
        AtomicLong checks = new AtomicLong();
        try (Connection control = dataSource.getConnection(); Connection newControl = newDataSource.getConnection();
             Connection raw = db.raw()) {
            runtime = control.unwrap(BellowsConnection.class).runtime();
            newRuntime = newControl.unwrap(BellowsConnection.class).runtime();
            setPhase(DifferentialTest.LEADS_ID, Phase.EXPAND);
            setPhase(DifferentialTest.ORDERS_ID, Phase.EXPAND);
            assertEquals(List.of(), DifferentialTest.divergedRows(raw));

            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < LEGACY_THREADS + NEW_THREADS; i++) {
                Worker w = new Worker(i + 1, i < LEGACY_THREADS);
                workers.add(w);
                futures.add(pool.submit(w));
            }
            if (!ready.await(30, TimeUnit.SECONDS)) problems.add("threads did not get ready within 30 s");
            long start = System.nanoTime();

            checkAgreementUntil(raw, start + durationNanos / 4, checks);
            setPhase(DifferentialTest.LEADS_ID, Phase.SWITCH);
            setPhase(DifferentialTest.ORDERS_ID, Phase.SWITCH);
            checkAgreementUntil(raw, start + durationNanos / 2, checks);
            contractBegan = System.nanoTime();
            setPhase(DifferentialTest.LEADS_ID, Phase.CONTRACT);
            setPhase(DifferentialTest.ORDERS_ID, Phase.CONTRACT);
            sleepUntil(start + durationNanos * 3 / 4);

            // Just before the drop: what the old columns hold for rows last written before contract began.
            snapshot(raw, "SELECT id, user_email, contact_email FROM leads", leadSnapshot);
            snapshot(raw, "SELECT id, status, status_code::text FROM orders", orderSnapshot);
            try (Statement st = control.createStatement()) {
                st.execute("ALTER TABLE leads DROP COLUMN user_email");
                st.execute("ALTER TABLE orders DROP COLUMN status");
            }
            assertFalse(runtime.catalog().columns("public", "leads").contains("user_email"), "DDL through the driver refreshes the catalog");
            assertFalse(runtime.catalog().columns("public", "orders").contains("status"));

            sleepUntil(start + durationNanos);
            stop = true;
            for (Future<?> f : futures) f.get(60, TimeUnit.SECONDS);
        } finally {
            stop = true;
            pool.shutdownNow();
        }

        try {
            verify(db, workers, contractBegan, leadSnapshot, orderSnapshot, checks.get());
        } finally {
            dataSource.close();
            newDataSource.close();
        }
    }

    /** While expand or switch is in force, every row of both tables has to = up(from), at every moment. */
    private void checkAgreementUntil(Connection raw, long until, AtomicLong checks) throws Exception {
        while (System.nanoTime() < until && problems.isEmpty()) {
            List<String> diverged = DifferentialTest.divergedRows(raw);
            checks.incrementAndGet();
            if (!diverged.isEmpty()) {
                problems.add("in " + runtime.rules().get(DifferentialTest.LEADS_ID).phase() + " rows diverged: " + diverged);
            }
            Thread.sleep(100);
        }
        sleepUntil(until);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) TimeUnit.NANOSECONDS.sleep(Math.min(left, 50_000_000L));
    }

    private static void snapshot(Connection raw, String sql, Map<Integer, String[]> into) throws SQLException {
        try (Statement st = raw.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) into.put(rs.getInt(1), new String[] {rs.getString(2), rs.getString(3)});
        }
    }

    private void verify(TestDb db, List<Worker> workers, long contractBegan, Map<Integer, String[]> leadSnapshot,
                        Map<Integer, String[]> orderSnapshot, long checks) throws SQLException {
        List<String> failures = new ArrayList<>(problems);
        long liveLeads = 0, deletedLeads = 0, ordersChecked = 0, agreedLeads = 0, agreedOrders = 0, writes = 0;
        Map<Phase, Long> legacyOps = new EnumMap<>(Phase.class);
        Map<Phase, Long> newOps = new EnumMap<>(Phase.class);

        try (Connection legacy = dataSource.getConnection(); Connection raw = db.raw()) {
            // What is in the tables, by owner: raw new columns, and through Bellows by both names.
            Map<Integer, String> rawEmail = query(raw, "SELECT id, contact_email FROM leads");
            Map<Integer, String> rawCode = query(raw, "SELECT id, status_code::text FROM orders");
            Map<Integer, String> legacyEmail = query(legacy, "SELECT id, user_email FROM leads");
            Map<Integer, String> newEmail = query(legacy, "SELECT id, contact_email FROM leads");
            Map<Integer, String> legacyStatus = query(legacy, "SELECT id, status FROM orders");
            Map<Integer, String> newCode = query(legacy, "SELECT id, status_code::text FROM orders");
            Map<Integer, String> names = query(raw, "SELECT id, name FROM leads");

            for (Worker w : workers) {
                for (Map.Entry<Phase, long[]> e : w.ops.entrySet()) {
                    (w.legacy ? legacyOps : newOps).merge(e.getKey(), e.getValue()[0], Long::sum);
                }
                writes += w.writes;
                String who = (w.legacy ? "legacy" : "new-code") + " thread " + w.n;
                for (Map.Entry<Integer, Row> e : w.leads.entrySet()) {
                    int id = e.getKey();
                    Row row = e.getValue();
                    if (row.deleted) {
                        deletedLeads++;
                        if (rawEmail.containsKey(id)) failures.add(who + ": deleted lead " + id + " still exists");
                        continue;
                    }
                    liveLeads++;
                    if (!rawEmail.containsKey(id)) {
                        failures.add(who + ": lead " + id + " is lost");
                        continue;
                    }
                    String lead = who + ": lead " + id;
                    expect(failures, row.value, rawEmail.get(id), lead + " contact_email (plain pgjdbc)");
                    expect(failures, row.value, legacyEmail.get(id), lead + " read as user_email through Bellows");
                    expect(failures, row.value, newEmail.get(id), lead + " read as contact_email through Bellows");
                    if (row.lastWrite < contractBegan) {
                        String[] snap = leadSnapshot.get(id);
                        if (snap == null || !row.value.equals(snap[0]) || !row.value.equals(snap[1])) {
                            failures.add(who + ": lead " + id + " last written before contract: user_email/contact_email were "
                                + (snap == null ? "missing" : snap[0] + "/" + snap[1]) + ", expected " + row.value);
                        } else {
                            agreedLeads++;
                        }
                    }
                }
                for (Map.Entry<Integer, Row> e : w.orders.entrySet()) {
                    int id = e.getKey();
                    Row row = e.getValue();
                    ordersChecked++;
                    String code = Integer.toString(code(row.value));
                    if (!rawCode.containsKey(id)) {
                        failures.add(who + ": order " + id + " is lost");
                        continue;
                    }
                    String order = who + ": order " + id;
                    expect(failures, code, rawCode.get(id), order + " status_code (plain pgjdbc)");
                    expect(failures, row.value, legacyStatus.get(id), order + " read as status through Bellows");
                    expect(failures, code, newCode.get(id), order + " read as status_code through Bellows");
                    if (row.lastWrite < contractBegan) {
                        String[] snap = orderSnapshot.get(id);
                        if (snap == null || !row.value.equals(snap[0]) || !code.equals(snap[1])) {
                            failures.add(who + ": order " + id + " last written before contract: status/status_code were "
                                + (snap == null ? "missing" : snap[0] + "/" + snap[1]) + ", expected " + row.value + "/" + code);
                        } else {
                            agreedOrders++;
                        }
                    }
                }
                // Nothing left over: the rows carrying this thread's marker are exactly the live ones it knows.
                long marked = names.values().stream().filter(nm -> nm.startsWith(w.marker())).count();
                long expected = w.leads.values().stream().filter(r -> !r.deleted).count();
                if (marked != expected) failures.add(who + ": " + marked + " rows carry its marker, " + expected + " expected");
            }
            long ownedOrders = workers.stream().mapToLong(w -> w.orders.size()).sum();
            long seedOrders = 9;
            if (rawCode.size() != ownedOrders + seedOrders) {
                failures.add("orders: " + rawCode.size() + " rows, expected " + (ownedOrders + seedOrders));
            }
        }

        System.out.printf("ConcurrencyTest: %d legacy + %d new-code threads, %.0f s; ops per phase legacy %s, new %s; %d writes; "
                + "%d live + %d deleted leads and %d orders verified by both names; %d leads and %d orders last written "
                + "before contract agreed in both columns; %d whole-table to = up(from) checks in expand/switch; "
                + "%d problems%n",
            LEGACY_THREADS, NEW_THREADS, Double.parseDouble(System.getProperty(SECONDS_PROPERTY, "30")), legacyOps, newOps,
            writes, liveLeads, deletedLeads, ordersChecked, agreedLeads, agreedOrders, checks, failures.size());
        if (!failures.isEmpty()) {
            fail(failures.size() + " problems:\n" + String.join("\n", failures.subList(0, Math.min(50, failures.size()))));
        }
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            assertTrue(legacyOps.getOrDefault(p, 0L) > 0 && newOps.getOrDefault(p, 0L) > 0, "no operations in " + p);
        }
        assertTrue(agreedLeads > 0 && agreedOrders > 0, "no rows were last written before contract");
    }

    private static void expect(List<String> failures, String expected, String actual, String what) {
        if (!expected.equals(actual)) failures.add(what + ": " + actual + ", expected " + expected);
    }

    private static Map<Integer, String> query(Connection c, String sql) throws SQLException {
        Map<Integer, String> out = new HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) out.put(rs.getInt(1), rs.getString(2));
        }
        return out;
    }
}
