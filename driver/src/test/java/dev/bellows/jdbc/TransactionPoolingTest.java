package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.testing.Pgbouncer;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 §4: Bellows keeps no session state on the server, so the differential suites give the same outcomes
 * behind a real pgbouncer in {@code pool_mode=transaction} (pgjdbc with {@code prepareThreshold=0}): every
 * connection of the comparison, the baseline's plain pgjdbc one, the Bellows one and the checks, goes through it.
 * Skipped with a warning where pgbouncer is not installed; a failure under {@code CI=true} ({@link Pgbouncer}).
 */
class TransactionPoolingTest {
    private Pgbouncer bouncer;

    @BeforeEach
    void bouncer() {
        bouncer = Pgbouncer.get();
    }

    @Test
    void theDifferentialWorkloadHasTheSameOutcomesThroughPgbouncer() throws SQLException {
        TestDb db = TestDb.create("pool_probe").behind(bouncer);
        try (Connection c = db.connect("bellows.rules", DifferentialTest.RULES)) {
            String url = c.getMetaData().getURL();
            assertTrue(url.contains(":" + bouncer.port() + "/") && url.contains("prepareThreshold=0"), url);
            assertEquals(0, c.unwrap(org.postgresql.PGConnection.class).getPrepareThreshold());
        }
        DifferentialTest.assertSameOutcomesInEveryPhase("TransactionPoolingTest (differential, pgbouncer)", d -> d.behind(bouncer));
    }

    @Test
    void generatedStatementsHaveTheSameOutcomesThroughPgbouncer() throws Exception {
        GeneratedDifferentialTest.assertSameOutcomesInEveryPhase("TransactionPoolingTest (generated, pgbouncer)",
            Integer.getInteger("bellows.gen.pgbouncer.count", 250), d -> d.behind(bouncer));
    }
}
