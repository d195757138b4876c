package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Differential test (issue 4 §5): one legacy workload, written against the OLD schema, runs
 * <ol>
 *   <li>on the old schema through plain pgjdbc (the baseline), and</li>
 *   <li>through Bellows on three databases that went through the migration: in expand (new columns added and
 *       backfilled with {@code up(from)}), in switch (same), and in contract with the old columns dropped and the
 *       catalog refreshed.</li>
 * </ol>
 * Every database starts from the same seed. Every statement's outcome must be identical in all four runs: result
 * rows (in order where the statement orders them), {@code ResultSetMetaData} labels and type names, values read by
 * label, update counts (also of batches and multi-statement strings) and generated keys. After every statement of
 * the expand and switch runs, every row satisfies {@code to = up(from)}. The unmanaged {@code users.user_email}
 * must come out byte-for-byte as in the baseline, and no statement of the workload may be left unanalysed.
 *
 * <p>One deliberate, documented difference is allowed and nothing else: {@code *} (and {@code RETURNING *}, and
 * keys asked for with {@code RETURN_GENERATED_KEYS}) over a managed table also returns the new column, since it
 * physically exists. Such steps are marked {@code star()}: the result minus the new columns must carry exactly the
 * baseline's labels in the baseline's order (after the drop too: the runtime keeps the column order it read while
 * the old column existed), and every baseline label must read the baseline's values by label. Positional
 * {@code INSERT}s run unchanged in contract too, read in that recorded order.
 */
class DifferentialTest {
    static final String RULES = "classpath:differential/rules.yaml";
    static final String LEADS_ID = "leads-contact-email";
    static final String ORDERS_ID = "orders-status-code";
    static final String UP = "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 "
        + "WHEN 'cancelled' THEN 4 END";
    static final String DOWN = "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' "
        + "WHEN 4 THEN 'cancelled' END";
    /** Columns that exist only after the expand step; a star over a managed table may add them. */
    private static final List<String> NEW_COLUMNS = List.of("contact_email", "status_code");

    /** The legacy schema. orders.status has a default, so status_code gets the mirrored one (docs/limitations.md). */
    static final String[] SCHEMA = {
        "CREATE TABLE leads (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'anon', user_email text UNIQUE,"
            + " score int DEFAULT 0, data jsonb)",
        "CREATE TABLE orders (id serial PRIMARY KEY, lead_id int, status text DEFAULT 'pending', amount numeric(10,2) DEFAULT 0)",
        "CREATE TABLE users (id serial PRIMARY KEY, user_email text, name text, banned boolean NOT NULL DEFAULT false)",
        "CREATE TABLE bans (e text)",
        "CREATE TABLE imports (id int, n text, e text, ok boolean)",
        // beside the managed tables: a view, a materialized view and a function (none depends on an old column)
        "CREATE VIEW banned_users AS SELECT id AS uid, name AS uname FROM users WHERE banned",
        "CREATE FUNCTION lead_tiers() RETURNS TABLE (tier text, lvl int) LANGUAGE sql IMMUTABLE"
            + " AS $$ VALUES ('low', 1), ('mid', 2), ('high', 3) $$",
        "CREATE MATERIALIZED VIEW tier_levels AS SELECT * FROM lead_tiers()",
    };

    static final String[] SEED = {
        "INSERT INTO leads (name, user_email, score, data) VALUES"
            + " ('ann', 'ann@example.com', 10, '{\"tier\":\"gold\",\"tags\":[\"a\",\"b\"]}'),"
            + " ('bob', 'bob@example.com', 20, '{\"tier\":\"silver\"}'),"
            + " ('cy', 'CY@Example.com', 20, '{\"tier\":\"gold\"}'),"
            + " ('dee', NULL, 5, NULL),"
            + " ('eve', 'eve@example.com', 30, '{\"tier\":\"bronze\"}'),"
            + " ('fay', 'fay@example.org', 15, '{}'),"
            + " ('gus', 'gus@example.org', 25, '{\"tier\":\"silver\"}'),"
            + " ('hal', 'shared@example.com', 0, NULL)",
        "INSERT INTO users (user_email, name, banned) VALUES"
            + " ('ann@example.com', 'Ann U', false), ('bob@example.com', 'Bob U', true),"
            + " ('shared@example.com', 'Hal U', false), ('zed@example.com', 'Zed U', false),"
            + " ('eve@example.com', 'Eve U', true), ('fay@example.org', 'Fay U', false)",
        "INSERT INTO orders (lead_id, status, amount) VALUES"
            + " (1, 'pending', 10), (1, 'completed', 20), (2, 'processing', 30), (3, 'cancelled', 5), (3, 'pending', 7),"
            + " (5, 'completed', 100), (6, NULL, 1), (7, 'processing', 12), (8, 'cancelled', 3)",
        "INSERT INTO bans (e) VALUES ('eve@example.com'), ('nobody@example.com')",
        "INSERT INTO imports (id, n, e, ok) VALUES (100, 'imp1', 'imp1@example.com', true),"
            + " (101, 'imp2', 'imp2@example.com', false), (102, 'imp3', 'ann@example.com', true)",
    };

    /** What a migration tool does in its expand step: add the new columns (twin unique index, mirrored default), backfill. */
    static final String[] EXPAND_DDL = {
        "ALTER TABLE leads ADD COLUMN contact_email text UNIQUE",
        "ALTER TABLE orders ADD COLUMN status_code int DEFAULT 1",
        "UPDATE leads SET contact_email = user_email",
        "UPDATE orders SET status_code = " + UP,
    };

    // ------------------------------------------------------------------------------------------------ the workload

    enum Api { STATEMENT, PREPARED }

    /** Which JDBC call runs the step. */
    enum Call { EXECUTE, QUERY, UPDATE, LARGE_UPDATE, KEYS_ALL, KEYS_NAMED, BATCH }

    /** A text[] parameter, bound with createArrayOf. */
    record TextArray(String... values) {
        @Override public String toString() { return Arrays.toString(values); }
    }

    static final class Step {
        final String name;
        final String sql;
        final Api api;
        Object[] params = {};
        Call call = Call.EXECUTE;
        String[] keyNames;
        List<Object[]> batchRows;
        List<String> batchSql;
        boolean star;
        boolean unordered;
        boolean mayBeEmpty;

        Step(String name, Api api, String sql) {
            this.name = name;
            this.api = api;
            this.sql = sql;
        }

        Step query() { call = Call.QUERY; return this; }
        Step update() { call = Call.UPDATE; return this; }
        Step largeUpdate() { call = Call.LARGE_UPDATE; return this; }
        Step keysAll() { call = Call.KEYS_ALL; star = true; return this; }
        Step keys(String... names) { call = Call.KEYS_NAMED; keyNames = names; return this; }
        Step batch(Object[]... rows) { call = Call.BATCH; batchRows = List.of(rows); return this; }
        Step star() { star = true; return this; }
        Step unordered() { unordered = true; return this; }
        Step mayBeEmpty() { mayBeEmpty = true; return this; }

        @Override public String toString() { return name + ": " + sql + (params.length > 0 ? " " + Arrays.toString(params) : ""); }
    }

    static Step s(String name, String sql) {
        return new Step(name, Api.STATEMENT, sql);
    }

    static Step p(String name, String sql, Object... params) {
        Step st = new Step(name, Api.PREPARED, sql);
        st.params = params;
        return st;
    }

    /** A Statement batch of several SQL strings (addBatch(String)). */
    static Step sbatch(String name, String... sql) {
        Step st = new Step(name, Api.STATEMENT, String.join(";\n", sql));
        st.call = Call.BATCH;
        st.batchSql = List.of(sql);
        return st;
    }

    /** Reads: run once on the seed and once more after all the writes. Every shape of issue 3 §4 appears. */
    static List<Step> reads() {
        return List.of(
            s("select list", "SELECT id, name, user_email FROM leads ORDER BY id"),
            p("where by parameter", "SELECT user_email FROM leads WHERE id = ?", 3).query(),
            s("star", "SELECT * FROM leads ORDER BY id").star(),
            s("JOIN USING the old column", "SELECT user_email, l.name, u.name FROM leads l JOIN users u USING (user_email) "
                + "WHERE user_email LIKE '%@example.com' ORDER BY user_email"),
            s("LEFT JOIN USING, star", "SELECT * FROM leads l LEFT JOIN users u USING (user_email) ORDER BY l.id").star(),
            s("RIGHT JOIN USING", "SELECT user_email, l.id FROM leads l RIGHT JOIN users u USING (user_email) ORDER BY u.id"),
            s("FULL JOIN USING, grouped by the merged column", "SELECT user_email, count(*) FROM users u FULL JOIN leads l "
                + "USING (user_email) GROUP BY user_email ORDER BY user_email NULLS FIRST"),
            s("NATURAL JOIN", "SELECT id, user_email FROM leads NATURAL JOIN (SELECT id, user_email, name FROM leads) x ORDER BY id"),
            s("NATURAL JOIN on the other columns of a managed table", "SELECT * FROM orders o NATURAL JOIN orders p ORDER BY id").star(),
            p("table star", "SELECT l.* FROM leads l WHERE l.id < ? ORDER BY l.id", 4).star().query(),
            s("star over the type-changed table", "SELECT * FROM orders ORDER BY id").star(),
            p("where equals", "SELECT id, name FROM leads WHERE user_email = ?", "bob@example.com").mayBeEmpty(),
            s("alias and LIKE", "SELECT name, user_email AS email FROM leads WHERE user_email LIKE '%@example.org' ORDER BY name"),
            s("quoted and schema-qualified", "SELECT \"user_email\" FROM public.\"leads\" WHERE id = 2"),
            s("literal and comment naming the column",
                "SELECT 'user_email' AS lit, /* user_email */ user_email FROM leads WHERE id = 1 -- user_email"),
            s("column alias equal to the managed name", "SELECT name AS user_email FROM leads ORDER BY id"),
            s("JOIN ON", "SELECT l.id, u.name FROM leads l JOIN users u ON u.user_email = l.user_email ORDER BY l.id"),
            s("LEFT JOIN ON functions",
                "SELECT l.id, u.id AS uid FROM leads l LEFT JOIN users u ON lower(u.user_email) = lower(l.user_email) ORDER BY l.id"),
            s("JOIN USING a non-managed column",
                "SELECT leads.user_email, orders.status FROM leads JOIN orders USING (id) ORDER BY id"),
            s("unqualified name in a join",
                "SELECT user_email, amount FROM leads JOIN orders ON orders.lead_id = leads.id ORDER BY orders.id"),
            s("two managed tables",
                "SELECT l.user_email, o.status FROM leads l JOIN orders o ON o.lead_id = l.id ORDER BY o.id"),
            s("comma join with the same column name",
                "SELECT l.user_email, u.user_email FROM leads l, users u WHERE l.id = u.id ORDER BY l.id"),
            s("self join", "SELECT a.id, b.id FROM leads a JOIN leads b ON split_part(a.user_email, '@', 2) = "
                + "split_part(b.user_email, '@', 2) AND a.id < b.id ORDER BY 1, 2"),
            s("GROUP BY and HAVING",
                "SELECT user_email, count(*) FROM leads GROUP BY user_email HAVING count(*) >= 1 ORDER BY user_email NULLS FIRST"),
            s("GROUP BY the type-changed column",
                "SELECT status, count(*), sum(amount) FROM orders GROUP BY status ORDER BY status NULLS LAST"),
            p("HAVING with a parameter",
                "SELECT score FROM leads GROUP BY score HAVING count(DISTINCT user_email) > ? ORDER BY score", 0),
            s("ORDER BY an expression", "SELECT id FROM leads ORDER BY lower(user_email) NULLS LAST, id"),
            s("ORDER BY the type-changed column", "SELECT id FROM orders ORDER BY status, id"),
            s("window PARTITION BY / ORDER BY", "SELECT id, row_number() OVER (PARTITION BY split_part(user_email, '@', 2) "
                + "ORDER BY user_email) AS rn FROM leads ORDER BY id"),
            s("window over the type-changed column",
                "SELECT id, rank() OVER (PARTITION BY status ORDER BY amount DESC) FROM orders ORDER BY id"),
            s("DISTINCT ON", "SELECT DISTINCT ON (score) score, user_email FROM leads ORDER BY score, user_email"),
            s("DISTINCT ON the type-changed column", "SELECT DISTINCT ON (status) status, id FROM orders ORDER BY status, id DESC"),
            s("aggregate ORDER BY and FILTER", "SELECT string_agg(user_email, ',' ORDER BY user_email) "
                + "FILTER (WHERE user_email <> '') AS emails FROM leads"),
            s("aggregates over the type-changed column", "SELECT array_agg(status ORDER BY id) FILTER (WHERE amount > 5) AS sts,"
                + " count(*) FILTER (WHERE status = 'pending') AS pend FROM orders"),
            s("CASE", "SELECT id, CASE WHEN user_email IS NULL THEN 'none' WHEN user_email LIKE '%.org' THEN 'org' "
                + "ELSE user_email END AS kind FROM leads ORDER BY id"),
            s("CASE over the type-changed column", "SELECT id, CASE status WHEN 'pending' THEN 'P' WHEN 'completed' THEN 'C' "
                + "ELSE 'other' END FROM orders ORDER BY id"),
            s("casts", "SELECT user_email::text, CAST(user_email AS varchar(200)) AS e FROM leads ORDER BY id"),
            s("casts of the type-changed column", "SELECT id, status::varchar AS s, length(status) FROM orders ORDER BY id"),
            s("function arguments", "SELECT upper(user_email), coalesce(user_email, name), split_part(user_email, '@', 2) AS dom "
                + "FROM leads ORDER BY id"),
            s("JSON operators", "SELECT data->>'tier' AS tier, user_email FROM leads WHERE data @> '{\"tier\":\"gold\"}' ORDER BY id"),
            p("JSON with a parameter", "SELECT jsonb_build_object('email', user_email, 'id', id) AS j FROM leads "
                + "WHERE data ->> 'tier' = ? ORDER BY id", "silver"),
            p("= ANY(?)", "SELECT id FROM leads WHERE user_email = ANY(?) ORDER BY id",
                new TextArray("ann@example.com", "eve@example.com", "nobody@example.com")).mayBeEmpty(),
            p("= ANY(?) on the type-changed column", "SELECT id, status FROM orders WHERE status = ANY(?) ORDER BY id",
                new TextArray("pending", "cancelled")),
            s("IN list on the type-changed column", "SELECT id FROM orders WHERE status IN ('pending', 'completed') ORDER BY id"),
            p("concatenation and LIKE ESCAPE", "SELECT name || ' <' || user_email || '>' AS display FROM leads "
                + "WHERE user_email LIKE ? ESCAPE '!' ORDER BY id", "%!@example.com"),
            s("IS NULL and BETWEEN", "SELECT id, user_email IS NULL AS missing FROM leads WHERE id BETWEEN 2 AND 6 ORDER BY id")
                .mayBeEmpty(),
            s("scalar subquery", "SELECT o.id, (SELECT l.user_email FROM leads l WHERE l.id = o.lead_id) FROM orders o ORDER BY o.id"),
            p("IN subquery", "SELECT id, amount FROM orders WHERE lead_id IN (SELECT id FROM leads WHERE user_email LIKE ?) "
                + "ORDER BY id", "%example.com"),
            s("EXISTS", "SELECT id, name FROM users u WHERE EXISTS (SELECT 1 FROM leads l WHERE l.user_email = u.user_email) "
                + "ORDER BY id"),
            s("correlated NOT EXISTS", "SELECT l.id FROM leads l WHERE NOT EXISTS (SELECT 1 FROM users u "
                + "WHERE u.user_email = l.user_email) ORDER BY l.id"),
            s("unqualified name of the outer table", "SELECT id FROM leads WHERE EXISTS (SELECT 1 FROM orders o "
                + "WHERE o.lead_id = leads.id AND user_email IS NOT NULL) ORDER BY id"),
            s("LATERAL", "SELECT l.id, x.n FROM leads l, LATERAL (SELECT count(*) AS n FROM users u "
                + "WHERE u.user_email = l.user_email) x ORDER BY l.id"),
            s("LEFT JOIN LATERAL over both tables", "SELECT u.id, x.status FROM users u LEFT JOIN LATERAL (SELECT o.status "
                + "FROM orders o JOIN leads l ON l.id = o.lead_id WHERE l.user_email = u.user_email ORDER BY o.id LIMIT 1) x "
                + "ON true ORDER BY u.id"),
            s("derived table", "SELECT s.user_email FROM (SELECT user_email FROM leads WHERE id > 2) s ORDER BY 1 NULLS FIRST"),
            s("= ANY(subquery)", "SELECT id FROM users WHERE user_email = ANY (SELECT user_email FROM leads) ORDER BY id"),
            s("NOT IN subquery", "SELECT id FROM leads l WHERE l.user_email NOT IN (SELECT e FROM bans) ORDER BY id"),
            s("CTE", "WITH x AS (SELECT id, user_email FROM leads) SELECT user_email FROM x WHERE id = 2"),
            s("CTE shadowing the table", "WITH leads AS (SELECT 1 AS id, 'x@cte' AS user_email) SELECT id, user_email FROM leads"),
            s("CTE shadowing, schema-qualified table", "WITH leads AS (SELECT 2 AS id) SELECT l.user_email FROM public.leads l "
                + "JOIN leads c ON c.id = l.id"),
            s("CTE with a column list", "WITH x(i, e) AS (SELECT id, user_email FROM leads) SELECT e FROM x ORDER BY i"),
            s("CTE over the type-changed table", "WITH s AS (SELECT status, amount FROM orders) SELECT status, sum(amount) "
                + "FROM s GROUP BY status ORDER BY 1 NULLS FIRST"),
            s("recursive CTE", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
                + "SELECT l.user_email FROM leads l JOIN r ON r.n = l.id ORDER BY l.id"),
            s("UNION", "SELECT user_email FROM leads UNION SELECT user_email FROM users ORDER BY user_email NULLS FIRST"),
            s("INTERSECT and EXCEPT", "SELECT user_email FROM leads INTERSECT SELECT user_email FROM users "
                + "EXCEPT SELECT e FROM bans ORDER BY 1"),
            s("UNION ALL over the type-changed column", "SELECT status AS s FROM orders WHERE amount > 10 UNION ALL SELECT 'x' ORDER BY 1"),
            p("FOR UPDATE", "SELECT id, user_email FROM leads WHERE user_email = ? FOR UPDATE", "gus@example.org").mayBeEmpty(),
            s("FOR UPDATE SKIP LOCKED", "SELECT id, status FROM orders WHERE status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED"),
            p("LIMIT and OFFSET parameters", "SELECT user_email FROM leads ORDER BY id LIMIT ? OFFSET ?", 3, 2).query(),
            p("type-changed column = ?", "SELECT o.id FROM orders o WHERE o.status = ? ORDER BY o.id", "processing").mayBeEmpty(),
            s("the other table's column", "SELECT id, user_email FROM users WHERE user_email LIKE '%example.com' ORDER BY id"),
            s("multi-statement read", "SELECT user_email FROM leads WHERE id = 1; SELECT user_email FROM users WHERE id = 1"),
            p("row comparison", "SELECT id FROM leads WHERE (user_email, name) = (?, ?)", "bob@example.com", "bob").mayBeEmpty(),
            p("IS NOT DISTINCT FROM a parameter", "SELECT id, name FROM leads WHERE user_email IS NOT DISTINCT FROM ? ORDER BY id",
                (Object) null),
            s("DISTINCT and count of the column", "SELECT DISTINCT user_email, count(user_email) OVER () AS n FROM leads "
                + "ORDER BY user_email NULLS FIRST"),
            s("scalar subquery aggregating the type-changed column", "SELECT l.id, (SELECT max(o.status) FROM orders o "
                + "WHERE o.lead_id = l.id) FROM leads l ORDER BY l.id"),
            s("EXISTS with a star", "SELECT id FROM users u WHERE EXISTS (SELECT * FROM leads l WHERE l.user_email = u.user_email) "
                + "ORDER BY id"),
            s("GROUP BY position, quoted alias", "SELECT status AS \"Status\", count(*) FROM orders GROUP BY 1 ORDER BY 1 NULLS FIRST"),
            s("JSON built from the type-changed column", "SELECT jsonb_build_object('s', status, 'e', (SELECT l.user_email "
                + "FROM leads l WHERE l.id = o.lead_id)) AS j FROM orders o ORDER BY o.id"),
            p("FETCH FIRST", "SELECT user_email FROM leads WHERE user_email IS NOT NULL ORDER BY user_email DESC "
                + "FETCH FIRST 2 ROWS ONLY"),
            s("upper-case names", "SELECT ID, USER_EMAIL FROM LEADS WHERE User_Email IS NOT NULL ORDER BY Id"),
            s("ORDER BY the column, not selected", "SELECT id FROM leads ORDER BY user_email NULLS FIRST, id"),
            s("star next to the other table's column", "SELECT l.*, u.user_email FROM leads l JOIN users u ON u.id = l.id "
                + "ORDER BY l.id").star(),
            s("derived table over a star of the type-changed table", "SELECT s.id, s.status FROM (SELECT * FROM orders) s "
                + "ORDER BY s.id"),
            p("count WHERE IS NULL", "SELECT count(*) AS n FROM leads WHERE user_email IS NULL AND id > ?", 0).query(),
            // unqualified old names beside a view, a materialized view, set-returning functions and a subquery
            // over a table the catalog does not list: their columns come from the catalog (issue 13)
            s("beside a view", "SELECT user_email, b.uname FROM leads JOIN banned_users b ON b.uid = leads.id "
                + "ORDER BY 1 NULLS FIRST, 2"),
            s("beside a materialized view", "SELECT user_email, lvl FROM leads JOIN tier_levels ON lvl * 10 = score "
                + "ORDER BY 1 NULLS FIRST, 2"),
            p("beside generate_series", "SELECT user_email, generate_series FROM leads, generate_series(1, ?) "
                + "WHERE generate_series = leads.id ORDER BY 2", 4).query().mayBeEmpty(),
            p("beside unnest of a typed array", "SELECT user_email, u FROM leads JOIN unnest(?::int[]) AS u ON u = leads.id "
                + "ORDER BY 2", new TextArray("2", "3", "5")).query().mayBeEmpty(),
            s("beside a record function with a column definition list", "SELECT user_email, x.a FROM leads, "
                + "jsonb_to_recordset('[{\"a\": 1}, {\"a\": 2}]') AS x(a int) WHERE x.a = leads.id ORDER BY 2").mayBeEmpty(),
            s("beside a function with OUT parameters", "SELECT user_email, key, value FROM leads, jsonb_each(data) "
                + "ORDER BY 1, 2"),
            s("beside a user function RETURNS TABLE", "SELECT user_email, tier, lvl FROM leads JOIN lead_tiers() ON lvl * 10 = score "
                + "ORDER BY 1 NULLS FIRST, 2"),
            s("beside a subquery over an unlisted table", "SELECT user_email, i.n FROM leads, (SELECT * FROM imports) i "
                + "WHERE i.e = user_email ORDER BY 1").mayBeEmpty(),
            s("beside VALUES", "SELECT user_email, v.id, v.column2 FROM leads JOIN (VALUES (1, 'a'), (2, 'b')) AS v(id) "
                + "ON v.id = leads.id ORDER BY 2").mayBeEmpty());
    }

    /** Writes, each followed in the run by nothing but the next statement; their effects are read back later. */
    static List<Step> writes() {
        return List.of(
            p("INSERT column list", "INSERT INTO leads (name, user_email, score) VALUES (?, ?, ?)", "ivy", "ivy@example.com", 3)
                .update(),
            p("INSERT, keys by name", "INSERT INTO leads (name, user_email) VALUES (?, ?)", "jo", "jo@example.com")
                .keys("id", "user_email"),
            p("INSERT, RETURN_GENERATED_KEYS", "INSERT INTO leads (name, user_email, data) VALUES (?, lower(?), ?::jsonb)",
                "kay", "KAY@Example.com", "{\"tier\":\"gold\"}").keysAll(),
            s("multi-row VALUES", "INSERT INTO leads (name, user_email) VALUES ('kim', 'kim@example.com'), ('lee', NULL), "
                + "('max', 'max@example.org')").update(),
            s("INSERT ... SELECT", "INSERT INTO leads (name, user_email) SELECT n, e FROM imports WHERE ok "
                + "AND e NOT IN (SELECT user_email FROM leads WHERE user_email IS NOT NULL)"),
            s("DEFAULT VALUES", "INSERT INTO leads DEFAULT VALUES").update(),
            s("DEFAULT VALUES, type-changed table", "INSERT INTO orders DEFAULT VALUES"),
            p("positional INSERT", "INSERT INTO leads VALUES (?, ?, ?, ?, ?::jsonb)", 100, "pos", "pos@example.com", 7,
                "{\"tier\":\"gold\"}").update(),
            p("positional INSERT, type-changed table", "INSERT INTO orders VALUES (?, ?, ?, ?)", 100, 100, "processing",
                new BigDecimal("9.50")),
            p("INSERT with the type-changed column", "INSERT INTO orders (lead_id, status, amount) VALUES (?, ?, ?)", 2, "pending",
                new BigDecimal("11.50")).update(),
            s("multi-row VALUES, type-changed literals", "INSERT INTO orders (lead_id, status) VALUES (2, 'cancelled'), (3, 'completed')"),
            p("INSERT RETURNING", "INSERT INTO leads (name, user_email) VALUES (?, ?) RETURNING id, user_email",
                "liz", "liz@example.com").query(),
            p("INSERT RETURNING the type-changed column", "INSERT INTO orders (lead_id, status) VALUES (?, ?) RETURNING id, status",
                4, "processing").query(),
            p("INSERT RETURNING *", "INSERT INTO leads (name, user_email) VALUES (?, ?) RETURNING *", "mo", "mo@example.com")
                .star(),
            p("INSERT ... SELECT over the type-changed column", "INSERT INTO orders (lead_id, status) SELECT l.id, o.status "
                + "FROM leads l JOIN orders o ON o.lead_id = l.id WHERE o.id = ?", 3).update(),
            p("ON CONFLICT (old column) DO UPDATE", "INSERT INTO leads (name, user_email) VALUES (?, ?) "
                + "ON CONFLICT (user_email) DO UPDATE SET name = EXCLUDED.name", "ann2", "ann@example.com").update(),
            p("ON CONFLICT DO UPDATE SET col = EXCLUDED.col", "INSERT INTO leads (id, user_email) VALUES (?, ?) "
                + "ON CONFLICT (id) DO UPDATE SET user_email = EXCLUDED.user_email", 2, "bob2@example.com"),
            p("ON CONFLICT DO UPDATE ... WHERE (false)", "INSERT INTO leads (id, user_email) VALUES (?, ?) ON CONFLICT (id) "
                + "DO UPDATE SET name = ? WHERE leads.user_email <> EXCLUDED.user_email", 5, "eve@example.com", "eve-same").update(),
            p("ON CONFLICT DO UPDATE ... WHERE (true)", "INSERT INTO leads (id, user_email) VALUES (?, ?) ON CONFLICT (id) "
                + "DO UPDATE SET name = ? WHERE leads.user_email <> EXCLUDED.user_email", 6, "fay2@example.org", "fay-changed")
                .update(),
            s("ON CONFLICT (old column) DO NOTHING", "INSERT INTO leads (name, user_email) VALUES ('dup', 'eve@example.com') "
                + "ON CONFLICT (user_email) DO NOTHING").update(),
            p("ON CONFLICT with EXCLUDED of the type-changed column", "INSERT INTO orders (id, lead_id, status) VALUES (?, ?, ?) "
                + "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status RETURNING id, status", 1, 1, "completed").query(),
            p("ON CONFLICT assigning a parameter", "INSERT INTO leads (id, name) VALUES (?, ?) ON CONFLICT (id) "
                + "DO UPDATE SET user_email = ?", 4, "dee", "dee@example.com"),
            p("ON CONFLICT target WHERE", "INSERT INTO leads (id, user_email) VALUES (?, ?) ON CONFLICT (id) "
                + "WHERE user_email IS NOT NULL DO NOTHING", 1, "never@example.com").update(),
            p("UPDATE SET old = ?", "UPDATE leads SET user_email = ? WHERE id = ?", "gus2@example.org", 7).update(),
            s("UPDATE SET old = f(old)", "UPDATE leads SET user_email = lower(user_email) WHERE user_email <> lower(user_email)")
                .update(),
            p("UPDATE row assignment", "UPDATE leads SET (name, user_email) = (?, ?) WHERE id = ?", "hal", "hal@example.com", 8),
            s("UPDATE ... FROM", "UPDATE leads l SET score = l.score + 1 FROM users u WHERE u.user_email = l.user_email "
                + "AND NOT u.banned").update(),
            s("UPDATE ... FROM writing the old column", "UPDATE leads l SET user_email = u.user_email || '.x' FROM users u "
                + "WHERE u.id = l.id AND u.name = 'Zed U'"),
            p("UPDATE the type-changed column", "UPDATE orders SET status = ? WHERE id = ?", "cancelled", 2).update(),
            s("UPDATE the type-changed column WHERE it", "UPDATE orders SET status = 'completed' WHERE status = 'processing'"),
            s("UPDATE the type-changed column over itself", "UPDATE orders SET status = CASE WHEN status = 'pending' "
                + "THEN 'processing' ELSE status END WHERE lead_id = 1").update(),
            p("UPDATE ... RETURNING", "UPDATE leads SET score = score + ? WHERE user_email LIKE ? RETURNING id, user_email, score",
                5, "%.org").query().unordered(),
            p("UPDATE with a correlated EXISTS", "UPDATE orders o SET amount = amount + 1 WHERE EXISTS (SELECT 1 FROM leads l "
                + "WHERE l.id = o.lead_id AND l.user_email = ?)", "ann@example.com").update(),
            s("UPDATE with a scalar subquery value", "UPDATE orders SET amount = (SELECT count(*) FROM leads "
                + "WHERE user_email LIKE '%.org') WHERE id = 8"),
            p("UPDATE SET DEFAULT", "UPDATE orders SET status = DEFAULT WHERE id = ?", 7).update(),
            p("UPDATE row assignment, type-changed", "UPDATE orders SET (status, amount) = (?, ?) WHERE id = ?", "processing",
                42, 9).update(),
            s("UPDATE RETURNING the type-changed column", "UPDATE orders SET amount = amount * 2 WHERE status = 'completed' "
                + "RETURNING id, status, amount").unordered(),
            p("PreparedStatement batch", "UPDATE leads SET user_email = ? WHERE name = ?")
                .batch(new Object[] {"kim2@example.com", "kim"}, new Object[] {"lee@example.com", "lee"}),
            sbatch("Statement batch", "UPDATE leads SET score = score + 100 WHERE user_email = 'max@example.org'",
                "UPDATE orders SET status = 'pending' WHERE status = 'cancelled' AND lead_id = 3"),
            s("Statement keys by name", "INSERT INTO leads (name, user_email) VALUES ('ned', 'ned@example.com')")
                .keys("id", "user_email"),
            s("Statement keys by name, type-changed", "INSERT INTO orders (lead_id, status) VALUES (9, 'completed')")
                .keys("id", "status"),
            p("DELETE WHERE old = ?", "DELETE FROM leads WHERE user_email = ?", "lee@example.com").update(),
            s("DELETE ... USING", "DELETE FROM orders o USING leads l WHERE l.id = o.lead_id AND l.user_email LIKE '%.org' "
                + "AND o.status = 'pending'").update(),
            s("DELETE ... USING ... RETURNING", "DELETE FROM leads l USING users u WHERE u.user_email = l.user_email AND u.banned "
                + "RETURNING l.id, l.user_email").unordered(),
            p("DELETE RETURNING the type-changed column", "DELETE FROM orders WHERE status = ? RETURNING id, status", "cancelled")
                .query().unordered(),
            p("writable CTE: UPDATE", "WITH u AS (UPDATE leads SET user_email = ? WHERE id = ? RETURNING id) "
                + "SELECT count(*) FROM u", "ann.new@example.com", 1).query(),
            p("writable CTE: INSERT RETURNING", "WITH ins AS (INSERT INTO leads (name, user_email) VALUES (?, ?) "
                + "RETURNING id, user_email) SELECT user_email FROM ins", "oz", "oz@example.com").query(),
            s("writable CTE: DELETE RETURNING *", "WITH d AS (DELETE FROM orders WHERE status = 'completed' AND amount > 150 "
                + "RETURNING *) SELECT count(*), min(status) FROM d"),
            p("INSERT fed by a CTE", "WITH src AS (SELECT ?::text AS e, ?::text AS n) INSERT INTO leads (user_email, name) "
                + "SELECT e, n FROM src", "pia@example.com", "pia").update(),
            s("multi-statement write and read", "UPDATE leads SET score = score * 2 WHERE user_email LIKE '%.org'; "
                + "SELECT id, user_email, score FROM leads WHERE user_email LIKE '%.org' ORDER BY id"),
            p("multi-statement prepared", "UPDATE orders SET status = ? WHERE id = ?; SELECT status FROM orders WHERE id = ?",
                "completed", 5, 5),
            p("the other table: UPDATE", "UPDATE users SET user_email = upper(user_email) WHERE id = ?", 4).update(),
            p("the other table: INSERT", "INSERT INTO users (user_email, name) VALUES (?, ?)", "new@example.com", "New U")
                .keys("id", "user_email"),
            s("the other table: positional INSERT", "INSERT INTO users VALUES (50, 'pos@users.example', 'Pos U', false)"),
            s("both tables in one string", "UPDATE users SET name = name || '!' WHERE user_email = 'ann@example.com'; "
                + "UPDATE leads SET name = name || '!' WHERE user_email = 'ann.new@example.com'"),
            p("UPDATE with an alias, RETURNING", "UPDATE leads AS l SET name = ? WHERE l.user_email = ? RETURNING l.user_email",
                "oz2", "oz@example.com").query(),
            p("upsert RETURNING the old column", "INSERT INTO leads (id, user_email) VALUES (?, ?) ON CONFLICT (id) "
                + "DO UPDATE SET user_email = EXCLUDED.user_email RETURNING id, user_email", 3, "cy.new@example.com").query(),
            p("multi-row VALUES with parameters", "INSERT INTO leads (name, user_email) VALUES (?, ?), (?, ?)",
                "qa", "qa@example.com", "qb", null).update(),
            p("multi-row VALUES with parameters, type-changed", "INSERT INTO orders (lead_id, status, amount) VALUES (?, ?, ?), "
                + "(?, ?, ?)", 1, "cancelled", new BigDecimal("1.25"), 2, null, new BigDecimal("2.50")).update(),
            p("UPDATE SET the type-changed column = CASE with parameters", "UPDATE orders SET status = CASE WHEN ? THEN ? "
                + "ELSE status END WHERE id = ?", true, "cancelled", 3).update(),
            p("UPDATE SET old = NULL", "UPDATE leads SET user_email = ? WHERE name = ?", null, "qa").update(),
            p("UPDATE with RETURN_GENERATED_KEYS", "UPDATE leads SET user_email = ? WHERE name = ?", "qa2@example.com", "qa")
                .keysAll(),
            // The same shape as "Statement keys by name, type-changed" above, which ran it with literals. The
            // rewriter caches analyses by a template in which literals and '?' parameters both read '?', so this
            // prepared statement inherits the literal statement's rewrite without a parameter plan (expand and
            // switch fail with "No value specified for parameter 3"). Reported as a rewrite-rules bug.
            p("INSERT, type-changed keys by name", "INSERT INTO orders (lead_id, status) VALUES (?, ?)", 2, "processing")
                .keys("id", "status"),
            // Two prepared statements whose literals and parameters sit in different places but share that template:
            // the second inherits the first's plan [1, 2, 2] instead of [1, 2, 1] and, in expand and switch, silently
            // writes the score into contact_email. Same rewrite-rules bug as above.
            p("INSERT with a literal score", "INSERT INTO leads AS r (name, user_email, score) VALUES (?, ?, 5)", "ra",
                "ra@example.com").update(),
            p("INSERT with a literal name", "INSERT INTO leads AS r (name, user_email, score) VALUES ('rb', ?, ?)",
                "rb@example.com", 6).update(),
            p("PreparedStatement batch, type-changed", "INSERT INTO orders (lead_id, status, amount) VALUES (?, ?, ?)")
                .batch(new Object[] {5, "pending", new BigDecimal("5.00")}, new Object[] {6, "completed", new BigDecimal("6.00")},
                    new Object[] {7, null, new BigDecimal("7.00")}),
            p("UPDATE ... FROM across both migrations", "UPDATE orders o SET status = 'completed' FROM leads l "
                + "WHERE l.id = o.lead_id AND l.user_email = ? AND o.status <> 'completed'", "max@example.org").update(),
            p("UPDATE SET old = correlated subquery", "UPDATE leads SET user_email = (SELECT lower(u.name) || '@users.example' "
                + "FROM users u WHERE u.id = leads.id) WHERE id = ?", 6).update(),
            p("INSERT VALUES with a scalar subquery", "INSERT INTO leads (name, user_email) VALUES (?, (SELECT u.user_email || '.copy' "
                + "FROM users u WHERE u.id = ?))", "copy", 3).update(),
            s("INSERT ... SELECT of a UNION, type-changed", "INSERT INTO orders (lead_id, status) SELECT 1, 'pending' "
                + "UNION ALL SELECT 2, 'cancelled'").update(),
            p("UPDATE ... RETURNING *", "UPDATE leads SET score = score - 1 WHERE id = ? RETURNING *", 2).star().query(),
            p("DELETE ... RETURNING *, type-changed", "DELETE FROM orders WHERE lead_id IN (SELECT id FROM leads "
                + "WHERE user_email LIKE ?) AND amount < 10 RETURNING *", "%@users.example").star().unordered(),
            p("upsert of the type-changed column DO NOTHING", "INSERT INTO orders (id, lead_id, status) VALUES (?, ?, ?) "
                + "ON CONFLICT (id) DO NOTHING", 1, 1, "cancelled").update(),
            p("ON CONFLICT (old column) DO UPDATE SET old = f(EXCLUDED.old)", "INSERT INTO leads (name, user_email) VALUES (?, ?) "
                + "ON CONFLICT (user_email) DO UPDATE SET user_email = lower(EXCLUDED.user_email), name = EXCLUDED.name "
                + "RETURNING id, user_email, name", "kim3", "kim2@example.com").query(),
            p("INSERT, RETURN_GENERATED_KEYS, type-changed", "INSERT INTO orders (lead_id, status, amount) VALUES (?, ?, ?)", 3,
                "completed", new BigDecimal("3.30")).keysAll(),
            p("executeLargeUpdate", "UPDATE orders SET status = ? WHERE status = ? AND lead_id = ?", "cancelled", "completed", 3)
                .largeUpdate(),
            p("writable CTE on the type-changed table", "WITH u AS (UPDATE orders SET status = ? WHERE lead_id = ? "
                + "RETURNING id, status) SELECT id, status FROM u ORDER BY id", "processing", 2).query());
    }

    /** The whole state, read back by the legacy application at the end. */
    static List<Step> finalReads() {
        return List.of(
            s("final leads", "SELECT id, name, user_email, score, data FROM leads ORDER BY id"),
            s("final orders", "SELECT id, lead_id, status, amount FROM orders ORDER BY id"),
            s("final users", "SELECT * FROM users ORDER BY id"),
            s("final leads, star", "SELECT * FROM leads ORDER BY id").star(),
            s("final orders, star", "SELECT * FROM orders ORDER BY id").star());
    }

    static List<Step> workload() {
        List<Step> all = new ArrayList<>(reads());
        all.addAll(writes());
        for (Step r : reads()) {
            Step again = copyOf(r, "after writes: " + r.name);
            again.mayBeEmpty = true;
            all.add(again);
        }
        all.addAll(finalReads());
        return all;
    }

    private static Step copyOf(Step r, String name) {
        Step c = new Step(name, r.api, r.sql);
        c.params = r.params;
        c.call = r.call;
        c.keyNames = r.keyNames;
        c.batchRows = r.batchRows;
        c.batchSql = r.batchSql;
        c.star = r.star;
        c.unordered = r.unordered;
        c.mayBeEmpty = r.mayBeEmpty;
        return c;
    }

    // ------------------------------------------------------------------------------------------------ outcomes

    /** One result of a step: an update count or a table (rows or generated keys). */
    interface Part {}

    record Count(String kind, long n) implements Part {
        @Override public String toString() { return kind + " count " + n; }
    }

    static final class Table implements Part {
        final String kind;
        final List<String> labels = new ArrayList<>();
        final List<String> types = new ArrayList<>();
        final List<List<String>> rows = new ArrayList<>();
        /** Per row: probe label → value read with getString(label). */
        final List<Map<String, String>> byLabel = new ArrayList<>();

        Table(String kind) { this.kind = kind; }

        @Override public String toString() { return kind + " " + labels + " " + rows; }
    }

    static final class Outcome {
        final List<Part> parts = new ArrayList<>();
        String error;

        List<Table> tables() {
            List<Table> t = new ArrayList<>();
            for (Part p : parts) if (p instanceof Table) t.add((Table) p);
            return t;
        }

        @Override public String toString() { return error != null ? "ERROR " + error : parts.toString(); }
    }

    /** Runs a step on {@code c}; {@code baseline} (null for the baseline run) says which labels to read by label. */
    static Outcome run(Connection c, Step step, String sql, Outcome baseline) {
        Outcome out = new Outcome();
        Probe probe = new Probe(baseline);
        try {
            if (step.api == Api.STATEMENT) {
                try (Statement st = c.createStatement()) {
                    switch (step.call) {
                        case EXECUTE -> drain(st, st.execute(sql), out, probe);
                        case QUERY -> {
                            try (ResultSet rs = st.executeQuery(sql)) { out.parts.add(table("rows", rs, probe)); }
                        }
                        case UPDATE -> out.parts.add(new Count("update", st.executeUpdate(sql)));
                        case LARGE_UPDATE -> out.parts.add(new Count("update", st.executeLargeUpdate(sql)));
                        case KEYS_NAMED -> {
                            out.parts.add(new Count("update", st.executeUpdate(sql, step.keyNames)));
                            try (ResultSet k = st.getGeneratedKeys()) { out.parts.add(table("keys", k, probe)); }
                        }
                        case KEYS_ALL -> {
                            out.parts.add(new Count("update", st.executeUpdate(sql, Statement.RETURN_GENERATED_KEYS)));
                            try (ResultSet k = st.getGeneratedKeys()) { out.parts.add(table("keys", k, probe)); }
                        }
                        case BATCH -> {
                            for (String b : step.batchSql) st.addBatch(b);
                            for (int n : st.executeBatch()) out.parts.add(new Count("batch", n));
                        }
                    }
                }
            } else {
                PreparedStatement ps = switch (step.call) {
                    case KEYS_ALL -> c.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS);
                    case KEYS_NAMED -> c.prepareStatement(sql, step.keyNames);
                    default -> c.prepareStatement(sql);
                };
                try (ps) {
                    switch (step.call) {
                        case EXECUTE -> {
                            bind(c, ps, step.params);
                            drain(ps, ps.execute(), out, probe);
                        }
                        case QUERY -> {
                            bind(c, ps, step.params);
                            try (ResultSet rs = ps.executeQuery()) { out.parts.add(table("rows", rs, probe)); }
                        }
                        case UPDATE -> {
                            bind(c, ps, step.params);
                            out.parts.add(new Count("update", ps.executeUpdate()));
                        }
                        case LARGE_UPDATE -> {
                            bind(c, ps, step.params);
                            out.parts.add(new Count("update", ps.executeLargeUpdate()));
                        }
                        case KEYS_ALL, KEYS_NAMED -> {
                            bind(c, ps, step.params);
                            out.parts.add(new Count("update", ps.executeUpdate()));
                            try (ResultSet k = ps.getGeneratedKeys()) { out.parts.add(table("keys", k, probe)); }
                        }
                        case BATCH -> {
                            for (Object[] row : step.batchRows) {
                                bind(c, ps, row);
                                ps.addBatch();
                            }
                            for (int n : ps.executeBatch()) out.parts.add(new Count("batch", n));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            out.error = e.getSQLState() + " " + e.getMessage();
        }
        return out;
    }

    /** Which labels to read by label in the n-th table: the baseline's (all of them, so legacy labels are probed). */
    static final class Probe {
        private final List<Table> baseline;
        private int next;

        Probe(Outcome baseline) { this.baseline = baseline == null ? null : baseline.tables(); }

        List<String> labels(Table own) {
            int i = next++;
            if (baseline == null) return distinct(own.labels);
            return i < baseline.size() ? distinct(baseline.get(i).labels) : distinct(own.labels);
        }

        private static List<String> distinct(List<String> labels) { return new ArrayList<>(new LinkedHashSet<>(labels)); }
    }

    private static void drain(Statement st, boolean isResult, Outcome out, Probe probe) throws SQLException {
        while (true) {
            if (isResult) {
                try (ResultSet rs = st.getResultSet()) { out.parts.add(table("rows", rs, probe)); }
            } else {
                int n = st.getUpdateCount();
                if (n == -1) break;
                out.parts.add(new Count("update", n));
            }
            isResult = st.getMoreResults();
        }
    }

    private static Table table(String kind, ResultSet rs, Probe probe) throws SQLException {
        Table t = new Table(kind);
        ResultSetMetaData md = rs.getMetaData();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            t.labels.add(md.getColumnLabel(i));
            t.types.add(md.getColumnTypeName(i));
        }
        List<String> probeLabels = probe.labels(t);
        while (rs.next()) {
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= t.labels.size(); i++) row.add(rs.getString(i));
            t.rows.add(row);
            Map<String, String> byLabel = new LinkedHashMap<>();
            for (String label : probeLabels) {
                String v;
                try {
                    v = rs.getString(label);
                } catch (SQLException e) {
                    v = "<no column " + label + ": " + e.getSQLState() + ">";
                }
                byLabel.put(label, v);
            }
            t.byLabel.add(byLabel);
        }
        return t;
    }

    private static void bind(Connection c, PreparedStatement ps, Object[] params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object v = params[i];
            int n = i + 1;
            if (v == null) ps.setNull(n, Types.VARCHAR);
            else if (v instanceof String x) ps.setString(n, x);
            else if (v instanceof Integer x) ps.setInt(n, x);
            else if (v instanceof BigDecimal x) ps.setBigDecimal(n, x);
            else if (v instanceof Boolean x) ps.setBoolean(n, x);
            else if (v instanceof TextArray x) {
                Array a = c.createArrayOf("text", x.values());
                ps.setArray(n, a);
            } else throw new IllegalArgumentException("parameter type " + v.getClass());
        }
    }

    // ------------------------------------------------------------------------------------------------ comparing

    /** Differences between a Bellows outcome and the baseline's, empty when they agree. */
    static List<String> compare(Step step, Outcome base, Outcome other, Phase phase) {
        List<String> diffs = new ArrayList<>();
        if (!Objects.equals(base.error, other.error)) {
            diffs.add("error: expected " + base.error + ", got " + other.error);
            return diffs;
        }
        if (base.parts.size() != other.parts.size()) {
            diffs.add("results: expected " + base.parts + ", got " + other.parts);
            return diffs;
        }
        for (int i = 0; i < base.parts.size(); i++) {
            Part b = base.parts.get(i);
            Part o = other.parts.get(i);
            if (b instanceof Count || o instanceof Count) {
                if (!b.equals(o)) diffs.add("result " + (i + 1) + ": expected " + b + ", got " + o);
                continue;
            }
            compareTables(step, (Table) b, (Table) o, phase, "result " + (i + 1) + " (" + ((Table) b).kind + ")", diffs);
        }
        return diffs;
    }

    private static void compareTables(Step step, Table b, Table o, Phase phase, String where, List<String> diffs) {
        if (!b.kind.equals(o.kind)) diffs.add(where + ": kind " + b.kind + " vs " + o.kind);
        if (!step.star) {
            if (!b.labels.equals(o.labels)) diffs.add(where + ": labels expected " + b.labels + ", got " + o.labels);
            if (!b.types.equals(o.types)) diffs.add(where + ": types expected " + b.types + ", got " + o.types);
            List<List<String>> br = sorted(b.rows, step.unordered);
            List<List<String>> or = sorted(o.rows, step.unordered);
            if (!br.equals(or)) diffs.add(where + ": rows expected\n      " + br + "\n    got\n      " + or);
        } else {
            // The new columns physically exist: a star returns them too. Without them, the labels are the baseline's
            // in the baseline's order, also after the drop.
            List<Integer> keep = new ArrayList<>();
            for (int i = 0; i < o.labels.size(); i++) {
                String l = o.labels.get(i).toLowerCase(Locale.ROOT);
                if (!NEW_COLUMNS.contains(l) || b.labels.contains(o.labels.get(i))) keep.add(i);
            }
            List<String> kept = keep.stream().map(o.labels::get).toList();
            if (!kept.equals(b.labels)) diffs.add(where + ": star labels expected " + b.labels + " + new columns, got " + o.labels);
            List<String> keptTypes = keep.stream().map(o.types::get).toList();
            if (!keptTypes.equals(b.types)) diffs.add(where + ": star types expected " + b.types + ", got " + keptTypes);
            List<List<String>> projected = new ArrayList<>();
            for (List<String> row : o.rows) projected.add(keep.stream().map(row::get).toList());
            if (!sorted(b.rows, step.unordered).equals(sorted(projected, step.unordered))) {
                diffs.add(where + ": star rows expected\n      " + b.rows + "\n    got\n      " + o.rows);
            }
            for (int i = 0; i < b.labels.size(); i++) {
                int j = indexOfIgnoreCase(o.labels, b.labels.get(i));
                if (j >= 0 && !b.types.get(i).equals(o.types.get(j))) {
                    diffs.add(where + ": type of " + b.labels.get(i) + " expected " + b.types.get(i) + ", got " + o.types.get(j));
                }
            }
            if (b.rows.size() != o.rows.size()) diffs.add(where + ": " + b.rows.size() + " rows expected, got " + o.rows.size());
        }
        List<String> bl = sortedMaps(b.byLabel, step.unordered);
        List<String> ol = sortedMaps(o.byLabel, step.unordered);
        if (!bl.equals(ol)) diffs.add(where + ": values by label expected\n      " + bl + "\n    got\n      " + ol);
    }

    private static int indexOfIgnoreCase(List<String> labels, String label) {
        for (int i = 0; i < labels.size(); i++) if (labels.get(i).equalsIgnoreCase(label)) return i;
        return -1;
    }


    private static List<List<String>> sorted(List<List<String>> rows, boolean unordered) {
        if (!unordered) return rows;
        List<List<String>> c = new ArrayList<>(rows);
        c.sort(Comparator.comparing(Object::toString));
        return c;
    }

    private static List<String> sortedMaps(List<Map<String, String>> rows, boolean unordered) {
        List<String> c = new ArrayList<>();
        for (Map<String, String> m : rows) c.add(m.toString());
        if (unordered) c.sort(Comparator.naturalOrder());
        return c;
    }

    /** Differences by workload step, reported in step order: a step's first difference names the cause, later ones often follow from it. */
    static final class Failures {
        private final TreeMap<Integer, List<String>> byStep = new TreeMap<>();
        private int size;

        void add(int step, String message) {
            byStep.computeIfAbsent(step, k -> new ArrayList<>()).add(message);
            size++;
        }

        int size() { return size; }

        boolean isEmpty() { return size == 0; }

        List<String> first(int n) {
            List<String> out = new ArrayList<>();
            for (List<String> l : byStep.values()) for (String m : l) if (out.size() < n) out.add(m);
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------------ the runs

    /** A database brought to the state a real migration would be in at {@code phase}. */
    static TestDb migratedDatabase(String prefix, Phase phase) throws SQLException {
        return migratedDatabase(prefix, phase, UnaryOperator.identity());
    }

    /** The same, reached through {@code via} (e.g. {@link TestDb#behind} a pgbouncer). */
    static TestDb migratedDatabase(String prefix, Phase phase, UnaryOperator<TestDb> via) throws SQLException {
        TestDb db = via.apply(TestDb.create(prefix));
        db.exec(SCHEMA);
        db.exec(SEED);
        if (phase != null) db.exec(EXPAND_DDL);
        return db;
    }

    /** Diverged rows, as text; empty while every row has {@code to = up(from)}. */
    static List<String> divergedRows(Connection raw) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = raw.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT id, user_email, contact_email FROM leads "
                + "WHERE contact_email IS DISTINCT FROM user_email ORDER BY id")) {
                while (rs.next()) out.add("leads " + rs.getInt(1) + ": user_email=" + rs.getString(2) + " contact_email=" + rs.getString(3));
            }
            try (ResultSet rs = st.executeQuery("SELECT id, status, status_code FROM orders "
                + "WHERE status_code IS DISTINCT FROM (" + UP + ") ORDER BY id")) {
                while (rs.next()) out.add("orders " + rs.getInt(1) + ": status=" + rs.getString(2) + " status_code=" + rs.getString(3));
            }
        }
        return out;
    }

    /** The data as the truth of each phase holds it, read with plain pgjdbc, comparable with the baseline's. */
    static List<String> rawState(TestDb db, Phase phase) throws SQLException {
        String email = phase == null || phase == Phase.EXPAND ? "user_email" : "contact_email";
        String status = phase == null || phase == Phase.EXPAND ? "status" : "(" + DOWN + ")";
        List<String> out = new ArrayList<>();
        try (Connection c = db.raw(); Statement st = c.createStatement()) {
            for (String q : List.of(
                "SELECT id, name, " + email + ", score, data::text FROM leads ORDER BY id",
                "SELECT id, lead_id, " + status + ", amount FROM orders ORDER BY id",
                "SELECT id, user_email, name, banned FROM users ORDER BY id")) {
                try (ResultSet rs = st.executeQuery(q)) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        StringBuilder sb = new StringBuilder(q.substring(q.indexOf("FROM ") + 5, q.indexOf(" ORDER"))).append(':');
                        for (int i = 1; i <= n; i++) sb.append(' ').append(rs.getString(i));
                        out.add(sb.toString());
                    }
                }
            }
        }
        return out;
    }

    @Test
    void legacyWorkloadHasTheSameOutcomesInEveryPhase() throws SQLException {
        assertSameOutcomesInEveryPhase("DifferentialTest", UnaryOperator.identity());
    }

    /**
     * The whole comparison, with every database reached through {@code via}: the baseline's plain pgjdbc
     * connection, the Bellows one and every check (TransactionPoolingTest runs it through pgbouncer).
     */
    static void assertSameOutcomesInEveryPhase(String label, UnaryOperator<TestDb> via) throws SQLException {
        long started = System.nanoTime();
        List<Step> workload = workload();
        assertTrue(workload.size() >= 80, "workload too small: " + workload.size());

        // (a) the old schema, plain pgjdbc
        TestDb baseDb = migratedDatabase("diff_base", null, via);
        List<Outcome> baseline = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        try (Connection c = baseDb.raw()) {
            for (Step step : workload) {
                Outcome o = run(c, step, step.sql, null);
                baseline.add(o);
                if (o.error != null) problems.add(step + "\n    fails on the old schema itself: " + o.error);
                else if (!step.mayBeEmpty) {
                    for (Table t : o.tables()) {
                        if (t.rows.isEmpty()) problems.add(step + "\n    returns no rows on the seed; the comparison would prove little");
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), "the workload itself is broken:\n  " + String.join("\n  ", problems));
        List<String> baseState = rawState(baseDb, null);

        // (b) through Bellows in expand, switch and contract (old columns dropped)
        Failures failures = new Failures();
        int compared = 0;
        Map<Phase, Long> millis = new LinkedHashMap<>();
        Map<Phase, Map<String, Integer>> factCounts = new LinkedHashMap<>();
        for (Phase phase : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            long t0 = System.nanoTime();
            TestDb db = migratedDatabase("diff_" + phase.name().toLowerCase(Locale.ROOT), phase, via);
            List<UsageFact> facts = new CopyOnWriteArrayList<>();
            try (Connection c = db.connect("bellows.rules", RULES); Connection raw = db.raw()) {
                BellowsRuntime runtime = c.unwrap(BellowsConnection.class).runtime();
                runtime.setUsageSink((app, recorded) -> facts.addAll(recorded));
                runtime.setPhase(LEADS_ID, phase);
                runtime.setPhase(ORDERS_ID, phase);
                if (phase == Phase.CONTRACT) {
                    // The contract step drops the old columns outside the application, then the catalog is refreshed.
                    db.exec("ALTER TABLE leads DROP COLUMN user_email", "ALTER TABLE orders DROP COLUMN status");
                    runtime.refreshCatalog();
                    assertEquals(List.of("id", "name", "score", "data", "contact_email"), runtime.catalog().columns("public", "leads"));
                    assertEquals(List.of("id", "lead_id", "amount", "status_code"), runtime.catalog().columns("public", "orders"));
                } else {
                    assertEquals(List.of(), divergedRows(raw), "backfill left diverged rows");
                }
                assertEquals(phase, runtime.rules().get(LEADS_ID).phase());
                assertEquals(phase, runtime.rules().get(ORDERS_ID).phase());

                for (int i = 0; i < workload.size(); i++) {
                    Step step = workload.get(i);
                    String sql = step.sql;
                    int factsBefore = facts.size();
                    Outcome o = run(c, step, sql, baseline.get(i));
                    compared++;
                    for (UsageFact f : facts.subList(factsBefore, facts.size())) {
                        // The engine must have acted on every use: nothing unanalysed in any phase; in expand writes
                        // are dual-written (reads stay on the old column), in switch and contract every use is mapped.
                        boolean expected = f.treatment() == UsageFact.Treatment.REWRITTEN
                            || phase == Phase.EXPAND && f.treatment() == UsageFact.Treatment.PASSED_THROUGH
                                && f.kind() == UsageFact.Kind.READ;
                        if (!expected) failures.add(i, phase + " #" + (i + 1) + " " + step + "\n    usage fact " + f);
                    }
                    for (String d : compare(step, baseline.get(i), o, phase)) {
                        failures.add(i, phase + " #" + (i + 1) + " " + step + "\n    " + d);
                    }
                    if (phase != Phase.CONTRACT) {
                        List<String> diverged = divergedRows(raw);
                        if (!diverged.isEmpty()) {
                            failures.add(i, phase + " #" + (i + 1) + " " + step + "\n    left rows with to <> up(from): " + diverged);
                            // Restore the invariant so later steps report their own divergence, not this one's.
                            try (Statement st = raw.createStatement()) {
                                st.executeUpdate("UPDATE leads SET contact_email = user_email "
                                    + "WHERE contact_email IS DISTINCT FROM user_email");
                                st.executeUpdate("UPDATE orders SET status_code = " + UP
                                    + " WHERE status_code IS DISTINCT FROM (" + UP + ")");
                            }
                        }
                    }
                }
            }
            Map<String, Integer> treatments = new TreeMap<>();
            for (UsageFact f : facts) {
                treatments.merge(f.kind().name().toLowerCase(Locale.ROOT) + ":" + f.treatment().label(), 1, Integer::sum);
            }
            factCounts.put(phase, treatments);
            List<String> state = rawState(db, phase);
            if (!state.equals(baseState)) {
                List<String> missing = new ArrayList<>(baseState);
                missing.removeAll(state);
                List<String> extra = new ArrayList<>(state);
                extra.removeAll(baseState);
                failures.add(workload.size(), phase + ": final data differs from the baseline; baseline only: " + missing + "; "
                    + phase + " only: " + extra);
            }
            try (Connection raw = db.raw(); ResultSet rs = raw.getMetaData().getColumns(null, "public", "users", null)) {
                List<String> cols = new ArrayList<>();
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
                if (!cols.equals(List.of("id", "user_email", "name", "banned"))) {
                    failures.add(workload.size(), phase + ": users columns changed: " + cols);
                }
            }
            millis.put(phase, (System.nanoTime() - t0) / 1_000_000);
        }

        long total = (System.nanoTime() - started) / 1_000_000;
        System.out.printf(label + ": %d statements (%d distinct) x 4 runs (plain pgjdbc on the old schema; Bellows in "
                + "expand, switch, contract+drop): %d Bellows outcomes compared with the baseline, %d differences; %s ms per "
                + "Bellows run, %d ms in all; usage facts %s%n",
            workload.size(), reads().size() + writes().size() + finalReads().size(), compared, failures.size(), millis, total,
            factCounts);
        if (!failures.isEmpty()) {
            fail(failures.size() + " differences from plain pgjdbc on the old schema" + (failures.size() > 60 ? " (first 60)" : "")
                + ":\n" + String.join("\n", failures.first(60)));
        }
    }
}
