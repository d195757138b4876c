package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which statements a shadow read may run twice ({@link ShadowSafety}); no database needed. */
class ShadowSafetyTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SELECT id, status FROM orders WHERE id = ? | false",
        "SELECT lower(status) AS s, count(*) FROM orders GROUP BY 1 ORDER BY 1 | true",
        "select id from orders o where o.status = 'x' order by id limit 10 | true",
        "SELECT id FROM (SELECT id FROM orders ORDER BY id LIMIT 5) t | false",
        "SELECT sum(id) OVER (ORDER BY id) FROM orders | false",
        "SELECT id FROM orders WHERE status = 'nextval(''s'')' | false",
        "SELECT id /* FOR UPDATE */ FROM orders -- nextval(x) | false",
        "WITH t AS (SELECT id FROM orders) SELECT * FROM t ORDER BY id | true",
        "SELECT id FROM orders WHERE status IN (?, ?) AND EXISTS (SELECT 1 FROM leads) | false",
        "SELECT CAST(status AS varchar(20)), status::numeric(10,2) FROM orders | false",
        "SELECT $$a ( b$$, status FROM orders; | false",
    })
    void safe(String sql, boolean ordered) {
        ShadowSafety.Verdict v = ShadowSafety.check(sql);
        assertNull(v.reason(), sql);
        assertEquals(ordered, v.ordered(), sql);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT nextval('s'), status FROM orders",
        "SELECT touch(status) FROM orders",
        "SELECT random(), status FROM orders",
        "SELECT status FROM orders WHERE id = 1 FOR UPDATE",
        "SELECT status FROM orders FOR SHARE",
        "WITH t AS (INSERT INTO log DEFAULT VALUES RETURNING id) SELECT status FROM orders, t",
        "WITH t AS (DELETE FROM log RETURNING id) SELECT status FROM orders",
        "SELECT status INTO copy FROM orders",
        "SELECT status FROM orders LIMIT 10",
        "SELECT status FROM orders OFFSET 3",
        "SELECT status FROM orders; DELETE FROM orders",
        "SELECT public.lower(status) FROM orders",
        "SELECT \"lower\"(status) FROM orders",
        "SELECT status FROM orders TABLESAMPLE SYSTEM (10)",
        "UPDATE orders SET status = 'x'",
        "(SELECT status FROM orders)",
        "SELECT status FROM orders WHERE name = 'unterminated",
    })
    void unsafe(String sql) {
        assertNotNull(ShadowSafety.check(sql).reason(), sql);
    }
}
