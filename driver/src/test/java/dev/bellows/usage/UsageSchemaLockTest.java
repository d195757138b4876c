package dev.bellows.usage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Upgrading the usage schema under running flushes takes no lock on a table whose index or column is there already:
 * {@code IF NOT EXISTS} alone would (CREATE INDEX takes a share lock before it looks), and against a flush's row
 * locks that deadlocked (40P01) in the fleet simulation.
 */
class UsageSchemaLockTest {
    private static final PostgresFixture PG = PostgresFixture.get();

    @Test
    void anUpgradeDoesNotWaitForFlushesOnTablesItDoesNotChange() throws Exception {
        String url = PG.createDatabase("usage_schema_lock");
        try (Connection setup = PG.connect(url); Statement s = setup.createStatement()) {
            UsageSchema.ensure(setup);
            // an older schema: the daily rollup is missing, everything else is there
            s.execute("DROP TABLE bellows.usage_daily");
            assertFalse(UsageSchema.exists(setup));
        }
        try (Connection flush = PG.connect(url); Statement f = flush.createStatement();
             Connection upgrade = PG.connect(url); Statement u = upgrade.createStatement()) {
            flush.setAutoCommit(false);
            // a flush in progress: row-exclusive locks on the usage and instances tables until it commits
            f.execute("LOCK TABLE bellows.usage, bellows.instances IN ROW EXCLUSIVE MODE");
            u.execute("SET lock_timeout = '3s'");
            UsageSchema.ensure(upgrade); // without the presence checks: 55P03 lock timeout on bellows.usage
            assertTrue(UsageSchema.exists(upgrade));
            flush.commit();
        }
    }
}
