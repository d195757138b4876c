package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import dev.bellows.rules.UsageFact;
import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The recorder on its own: counting under concurrency, the cap, call sites, failures and retries. */
class UsageRecorderTest {
    static final RuleSet RULES = RuleSet.of(Migration.rename("leads-email", "leads", "user_email", "email", Phase.EXPAND));

    static UsageFact fact(String fingerprint, UsageFact.Kind kind, UsageFact.Treatment t) {
        return new UsageFact("leads-email", "public.leads.user_email", kind, t, fingerprint);
    }

    static UsageFact read(String fingerprint) {
        return fact(fingerprint, UsageFact.Kind.READ, UsageFact.Treatment.PASSED_THROUGH);
    }

    /** Keeps what it is given; fails while {@link #failing} is set. */
    static final class MemoryStore implements UsageStore {
        final List<Batch> batches = new ArrayList<>();
        final AtomicBoolean failing = new AtomicBoolean();

        @Override public synchronized void write(Batch b) throws Exception {
            if (failing.get()) throw new java.io.IOException("store down");
            batches.add(b);
        }

        @Override public String describe() {
            return "memory";
        }

        synchronized long total() {
            return batches.stream().flatMap(b -> b.rows().stream()).mapToLong(Batch.Row::count).sum();
        }

        synchronized Map<String, Long> byFingerprint() {
            Map<String, Long> m = new HashMap<>();
            for (Batch b : batches) for (Batch.Row r : b.rows()) m.merge(r.app() + ":" + r.fingerprint(), r.count(), Long::sum);
            return m;
        }
    }

    static UsageRecorder recorder(MemoryStore store, int maxFingerprints) {
        return new UsageRecorder("app", new UsageSettings(UsageSettings.Mode.DB, null, 60_000, maxFingerprints), () -> RULES, store)
            .manual();
    }

    @Test
    void concurrentRecordsAreAllCounted() throws Exception {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 10_000);
        List<UsageFact> a = List.of(read("SELECT user_email FROM leads WHERE id = ?"));
        List<UsageFact> b = List.of(read("SELECT user_email FROM leads"), fact("UPDATE leads SET user_email = ?",
            UsageFact.Kind.WRITE, UsageFact.Treatment.REWRITTEN));
        int threads = 4;
        int each = 50_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String app = t % 2 == 0 ? "even" : "odd";
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) r.record(app, i % 3 == 0 ? b : a);
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        // flush while recording: nothing may be lost or counted twice between drains
        for (int i = 0; i < 20; i++) {
            assertTrue(r.flush());
            Thread.sleep(5);
        }
        for (Thread th : ts) th.join();
        assertTrue(r.flush());
        long perThread = each + (each + 2) / 3; // every third call records two facts
        assertEquals(threads * perThread, store.total());
        assertEquals(0, r.pendingUses());
        assertEquals(6, r.keys()); // 3 facts x 2 apps
        r.close();
    }

    @Test
    void capCountsOverflowWithoutItsFingerprint() {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 3);
        for (int i = 0; i < 10; i++) r.record("app", List.of(read("SELECT user_email FROM t" + i)));
        r.record("app", List.of(read("SELECT user_email FROM t0"))); // admitted before the cap: still detailed
        r.record("app", List.of(read("SELECT user_email FROM t9"))); // over the cap
        assertTrue(r.flush());
        assertEquals(3, r.keys());
        assertEquals(8, r.overflowed());
        Map<String, Long> m = store.byFingerprint();
        assertEquals(2L, m.get("app:SELECT user_email FROM t0"));
        assertEquals(8L, m.get("app:"), m.toString());
        assertEquals(12, store.total());
        assertEquals(8, store.batches.get(store.batches.size() - 1).heartbeat().overflowed());
    }

    @Test
    void callSiteIsTheApplicationFrameSampledOncePerFingerprint() {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 100);
        UsageFact f = read("SELECT user_email FROM leads");
        firstCaller(r, f);
        secondCaller(r, f);
        assertTrue(r.flush());
        Batch.Row row = store.batches.get(0).rows().get(0);
        assertEquals(2, row.count());
        assertNotNull(row.callSite());
        assertTrue(row.callSite().startsWith("dev.bellows.testapp.Caller.first(Caller.java:"), row.callSite());
    }

    // Test code lives in dev.bellows.usage, a Bellows package call sites skip; Caller's frames stand for the
    // application. The second call comes within the minute, so the first call site stays.
    private static void firstCaller(UsageRecorder r, UsageFact f) {
        dev.bellows.testapp.Caller.first(() -> r.record("app", List.of(f)));
    }

    private static void secondCaller(UsageRecorder r, UsageFact f) {
        dev.bellows.testapp.Caller.second(() -> r.record("app", List.of(f)));
    }

    @Test
    void callSitesSkipBellowsDriverPoolAndOrmFrames() {
        assertFalse(CallSites.isApplication("dev.bellows.jdbc.StatementWrapper"));
        assertFalse(CallSites.isApplication("com.zaxxer.hikari.pool.ProxyStatement"));
        assertFalse(CallSites.isApplication("org.hibernate.engine.jdbc.internal.ResultSetReturnImpl"));
        assertFalse(CallSites.isApplication("org.springframework.jdbc.core.JdbcTemplate"));
        assertFalse(CallSites.isApplication("org.postgresql.jdbc.PgStatement"));
        assertTrue(CallSites.isApplication("com.acme.billing.InvoiceRepository"));
        assertTrue(CallSites.isApplication("dev.bellows.sample.LegacyLeadService"));
    }

    @Test
    void aFailingStoreKeepsCountsAndRetriesTheSameBatch() {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 100);
        store.failing.set(true);
        r.record("app", List.of(read("A")));
        assertFalse(r.flush());
        r.record("app", List.of(read("A"), read("B")));
        assertFalse(r.flush());
        assertEquals(3, r.pendingUses());
        store.failing.set(false);
        assertTrue(r.flush());
        // the first frozen batch (seq 1) is written as it was, then what came after it
        assertEquals(List.of(1L, 2L), store.batches.stream().map(Batch::seq).toList());
        assertEquals(3, store.total());
        assertEquals(0, r.pendingUses());
    }

    @Test
    void recordingNeverThrows() {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 100);
        r.record("app", null);
        List<UsageFact> broken = new java.util.AbstractList<>() {
            @Override public UsageFact get(int i) { throw new IllegalStateException("boom"); }
            @Override public int size() { return 1; }
        };
        r.record("app", broken);
        r.record(null, List.of(read("A")));
        assertTrue(r.flush());
        assertEquals(1, store.total());
    }

    @Test
    void closeFlushesAndMarksStopped() {
        MemoryStore store = new MemoryStore();
        UsageRecorder r = recorder(store, 100);
        r.record("app", List.of(read("A")));
        r.close();
        Batch last = store.batches.get(store.batches.size() - 1);
        assertTrue(last.heartbeat().stopped());
        assertEquals(1, store.total());
        assertFalse(r.isRunning());
        r.record("app", List.of(read("A"))); // used again: the flusher starts again
        assertTrue(r.isRunning());
        r.close();
        assertEquals(2, store.total());
    }

    @Test
    void settingsParse() {
        UsageSettings d = UsageSettings.parse(null, null, null);
        assertEquals(UsageSettings.Mode.DB, d.mode());
        assertEquals(10_000, d.flushIntervalMillis());
        assertEquals(10_000, d.maxFingerprints());
        UsageSettings f = UsageSettings.parse("file:/tmp/u.jsonl", "500ms", "5");
        assertEquals(UsageSettings.Mode.FILE, f.mode());
        assertEquals("/tmp/u.jsonl", f.file().toString());
        assertEquals(500, f.flushIntervalMillis());
        assertEquals(UsageSettings.Mode.OFF, UsageSettings.parse("OFF", "2m", null).mode());
        assertEquals(120_000, UsageSettings.parse("log", "2m", null).flushIntervalMillis());
        for (String[] bad : new String[][] {{"kafka", null, null}, {"file:", null, null}, {null, "soon", null}, {null, "0s", null}, {null, null, "-1"}}) {
            try {
                UsageSettings.parse(bad[0], bad[1], bad[2]);
                throw new AssertionError("accepted " + String.join(",", String.valueOf(bad[0]), bad[1], bad[2]));
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().contains("bellows.usage"), expected.getMessage());
            }
        }
        assertNull(UsageRecorder.create("x", UsageSettings.parse("off", null, null), () -> RULES, () -> null));
    }

    @Test
    void fingerprintsAreScrubbedAndNormalised() {
        assertEquals("SELECT ? FROM t WHERE a = ? AND b = ?", Fingerprints.scrub("SELECT 'x' FROM t WHERE a = E'y''z' AND b = $q$w$q$"));
        assertEquals("SELECT a FROM t WHERE id = ?", Fingerprints.scrub("SELECT a FROM t WHERE id = ?"));
        assertEquals(StatementForms.normalize("INSERT INTO leads (id, name, user_email) VALUES (?, ...)"),
            StatementForms.normalize("insert into leads(id,name,user_email) values ($1, $2, $3)"));
        assertEquals(StatementForms.normalize("SELECT a FROM t WHERE x = ? /* c */"), StatementForms.normalize("select a from t where x = -1"));
        assertEquals("select", StatementForms.firstKeyword("/* x */ ( SELECT 1)"));
    }

    @Test
    void theDatabaseCountsARetriedBatchOnce() throws Exception {
        PostgresFixture fx = PostgresFixture.get();
        String url = fx.createDatabase("usage_seq");
        DbStore store = new DbStore(() -> fx.connect(url));
        // host times: the store places them on the database's clock by their age, so they must be recent ones
        long t = System.currentTimeMillis();
        Batch.Row row = new Batch.Row("leads-email", "public.leads.user_email", "read", "passed_through", "SELECT 1",
            Fingerprints.hash("SELECT 1"), "app", 7, t - 2_000, t - 1_000, null);
        Batch.Heartbeat hb = new Batch.Heartbeat("i1", "app", "host", 1, t - 2_000, 1_000, Map.of("leads-email", "expand"),
            RULES.contentHash(), "<code>", RULES.migrations(), 0, false);
        Batch b = new Batch(1, List.of(row), hb);
        store.write(b);
        store.write(b); // the first attempt committed but the client never heard back: the retry must not count again
        store.write(new Batch(2, List.of(row), hb));
        try (Connection c = fx.connect(url)) {
            assertEquals(List.of(14L), Fleet.usage(c, "leads-email", null).stream().map(Fleet.Usage::count).toList());
            assertEquals(1, Fleet.load(c).instances().size());
            assertEquals("user_email", Fleet.migrations(c).get(0).from());
        }
    }
}
