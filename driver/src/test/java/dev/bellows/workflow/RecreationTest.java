package dev.bellows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * After the DROP, {@code bellows plan} writes the way back: the old column again (for a type change, of the type of
 * {@code down(to)}), filled with {@code down(to)}, twins of the new column's indexes, and NOT NULL once the flag
 * has left contract. Each file is idempotent and has a down file. (The way back under load: RollbackPathsTest.)
 */
class RecreationTest {
    @Test
    void aContractedTypeChangeIsPlannedBackWithTheOldTypeFilledFromDown() throws Exception {
        WfDb db = WfDb.create("recreate");
        db.exec("CREATE TABLE orders (id int PRIMARY KEY, status_code int NOT NULL)",
            "CREATE UNIQUE INDEX orders_status_code_idx ON orders (status_code)",
            "INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g",
            "CREATE SCHEMA bellows",
            "CREATE TABLE bellows.flags (migration_id text PRIMARY KEY, phase text NOT NULL)",
            "INSERT INTO bellows.flags VALUES ('orders-status', 'contract')");
        Path dir = Files.createTempDirectory("bellows-recreate");
        Path rules = WfDb.rules(dir, "migrations:\n  - id: orders-status\n    table: orders\n    from: status\n"
            + "    to: status_code\n    type: integer\n    up: \"substr(status, 2)::int\"\n    down: \"'s' || status_code\"\n"
            + "    phase: contract\n");
        WfDb.Run r = PlanTest.plan(db, rules, "orders-status", "--out", dir.resolve("back").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("_01_recreate.sql") && r.out().contains("_02_recreate_mirror.sql")
            && r.out().contains("_03_recreate_not_null.sql") && r.out().contains("bellows flags set orders-status switch"), r.out());
        Path back = dir.resolve("back");
        PlanTest.apply(db, PlanTest.step(back, "recreate", false));
        assertEquals("text", db.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            + " WHERE attrelid = 'orders'::regclass AND attname = 'status'"));
        assertEquals(0, db.count("SELECT count(*) FROM orders WHERE status IS DISTINCT FROM 's' || status_code"));
        PlanTest.apply(db, PlanTest.step(back, "recreate_mirror", false));
        assertEquals("orders_status_idx", db.query("SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = 'orders'::regclass"
            + " AND a.attname = 'status' AND i.indisunique"));
        SQLException early = assertThrows(SQLException.class, () -> PlanTest.apply(db, PlanTest.step(back, "recreate_not_null", false)));
        assertTrue(early.getMessage().contains("still in phase contract"), early.getMessage());
        db.exec("UPDATE bellows.flags SET phase = 'switch'");
        PlanTest.apply(db, PlanTest.step(back, "recreate_not_null", false));
        assertEquals("t", db.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status'"));
        // and back again: the down files in reverse order
        PlanTest.apply(db, PlanTest.step(back, "recreate_not_null", true));
        PlanTest.apply(db, PlanTest.step(back, "recreate_mirror", true));
        PlanTest.apply(db, PlanTest.step(back, "recreate", true));
        assertEquals(0, db.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status'"
            + " AND NOT attisdropped"));
    }
}
