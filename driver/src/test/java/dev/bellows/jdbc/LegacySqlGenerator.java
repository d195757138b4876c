package dev.bellows.jdbc;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random legacy SQL over DifferentialTest's old schema ({@code leads}, {@code orders}, {@code users}), built
 * from a sequence of choices so a failing statement can be shrunk: every draw's choice 0 is the simplest
 * option, and replaying a choice sequence with some entries lowered gives a simpler statement of the same
 * shape (see {@link GeneratedDifferentialTest#shrink}).
 */
final class LegacySqlGenerator {
    /** Where choices come from: a random source that records them, or a recorded (edited) sequence replayed. */
    static final class Choices {
        private final Random random;
        final List<Integer> drawn = new ArrayList<>();
        private final int[] replay;
        private int pos;

        Choices(Random random) {
            this.random = random;
            this.replay = null;
        }

        Choices(int[] replay) {
            this.random = null;
            this.replay = replay;
        }

        /** A choice in [0, n); past the end of a replayed sequence, 0. */
        int next(int n) {
            int v;
            if (replay != null) v = pos < replay.length ? Math.min(replay[pos], n - 1) : 0;
            else v = random.nextInt(n);
            pos++;
            drawn.add(v);
            return v;
        }

        boolean flip() {
            return next(2) == 1;
        }

        int[] recorded() {
            return drawn.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private static final String[] STATUS = {"'pending'", "'processing'", "'completed'", "'cancelled'", "NULL"};
    private static final String[] EMAIL = {"'ann@example.com'", "'new@example.com'", "NULL", "'bob@example.com'",
        "'shared@example.com'", "'zed@example.com'", "'x@example.org'"};

    private final Choices ch;
    private final int id;
    /** The values of this statement's JDBC {@code ?} parameters, in order (bound through PreparedStatement). */
    final List<Object> params = new ArrayList<>();

    /** {@code id}: a fresh primary key for this statement's inserts (the caller keeps them unique). */
    LegacySqlGenerator(Choices ch, int id) {
        this.ch = ch;
        this.id = id;
    }

    String statement() {
        switch (ch.next(14)) {
            case 0: return select();
            case 1: return joinSelect();
            case 2: return subquerySelect();
            case 3: return aggregate();
            case 4: return cteOrSetOp();
            case 5: return orderSelect();
            case 6: return insert();
            case 7: return update();
            case 8: return delete();
            case 9: return upsert();
            case 10: return orderWrite();
            case 11: return writableCte();
            case 12: return merge();
            default: return besideOthers();
        }
    }

    /** A literal as written, or (when drawn) a {@code ?} bound to the same value. */
    private String lit(String sql) {
        if (!ch.flip()) return sql;
        params.add(sql.equals("NULL") ? null : sql.startsWith("'") ? sql.substring(1, sql.length() - 1).replace("''", "'")
            : (Object) Integer.valueOf(sql));
        return "?";
    }

    // ------------------------------------------------------------------------ pieces

    private String emailExpr(String q) {
        String c = q + "user_email";
        switch (ch.next(6)) {
            case 0: return c;
            case 1: return "lower(" + c + ")";
            case 2: return "coalesce(" + c + ", '-')";
            case 3: return c + " || '!'";
            case 4: return "length(" + c + ")";
            default: return "upper(" + c + ")";
        }
    }

    private String alias() {
        switch (ch.next(3)) {
            case 0: return "";
            case 1: return " AS e";
            default: return " AS user_email";
        }
    }

    private String leadsPred(String q) {
        switch (ch.next(8)) {
            case 0: return "";
            case 1: return " WHERE " + q + "user_email = " + lit(EMAIL[ch.next(EMAIL.length)]);
            case 2: return " WHERE " + q + "user_email LIKE '%example.com'";
            case 3: return " WHERE " + q + "user_email IS NULL";
            case 4: return " WHERE " + q + "id < " + lit(String.valueOf(1 + ch.next(10)));
            case 5: return " WHERE " + q + "user_email IN (SELECT u.user_email FROM users u WHERE u.banned)";
            case 6: return " WHERE lower(" + q + "user_email) > 'c'";
            default: return " WHERE " + q + "score >= " + lit(String.valueOf(ch.next(30))) + " AND " + q + "user_email IS NOT NULL";
        }
    }

    private String statusPred(String q) {
        switch (ch.next(5)) {
            case 0: return "";
            case 1: return " WHERE " + q + "status = " + lit(STATUS[ch.next(4)]);
            case 2: return " WHERE " + q + "status IN ('pending', 'completed')";
            case 3: return " WHERE " + q + "status IS NULL";
            default: return " WHERE " + q + "amount > " + lit(String.valueOf(ch.next(40)));
        }
    }

    // ------------------------------------------------------------------------ reads

    private String select() {
        boolean qualified = ch.flip();
        String q = qualified ? "l." : "";
        String from = qualified ? "leads l" : "leads";
        switch (ch.next(5)) {
            case 0: return "SELECT id, " + emailExpr(q) + alias() + " FROM " + from + leadsPred(q) + " ORDER BY id";
            case 1: return "SELECT * FROM " + from + leadsPred(q) + " ORDER BY id";
            case 2: return "SELECT DISTINCT ON (" + q + "user_email) " + q + "user_email, " + q + "id FROM " + from
                + " ORDER BY " + q + "user_email, " + q + "id";
            case 3: return "SELECT " + q + "id, row_number() OVER (PARTITION BY " + q + "user_email ORDER BY " + q + "id) AS rn FROM "
                + from + " ORDER BY 1";
            default: return "SELECT " + q + "user_email FROM " + from + " ORDER BY " + q + "user_email NULLS FIRST, " + q + "id";
        }
    }

    private String joinSelect() {
        String[] kinds = {"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"};
        String kind = kinds[ch.next(kinds.length)];
        switch (ch.next(5)) {
            case 0: return "SELECT l.id, u.id AS uid, l.user_email FROM leads l " + kind + " users u ON u.user_email = l.user_email ORDER BY 1, 2";
            case 1: return "SELECT user_email, l.id, u.name FROM leads l " + kind + " users u USING (user_email) ORDER BY 1 NULLS FIRST, 2, 3";
            case 2: return "SELECT * FROM leads l " + kind + " users u USING (user_email) ORDER BY l.id, u.id";
            case 3: return "SELECT a.id, b.id AS bid FROM leads a JOIN leads b ON a.user_email = b.user_email AND a.id < b.id ORDER BY 1, 2";
            default: return "SELECT id, user_email FROM leads NATURAL " + kind + " (SELECT id, user_email, name FROM leads WHERE id % 2 = "
                + ch.next(2) + ") x ORDER BY 1";
        }
    }

    private String subquerySelect() {
        switch (ch.next(4)) {
            case 0: return "SELECT l.id, (SELECT count(*) FROM users u WHERE u.user_email = l.user_email) AS n FROM leads l ORDER BY 1";
            case 1: return "SELECT id FROM leads l WHERE EXISTS (SELECT 1 FROM users u WHERE u.user_email = l.user_email AND NOT u.banned) ORDER BY 1";
            case 2: return "SELECT l.id, x.e FROM leads l, LATERAL (SELECT upper(l.user_email) AS e) x ORDER BY 1";
            default: return "SELECT id FROM leads WHERE user_email NOT IN (SELECT user_email FROM users WHERE user_email IS NOT NULL) ORDER BY 1";
        }
    }

    private String aggregate() {
        switch (ch.next(4)) {
            case 0: return "SELECT user_email, count(*) FROM leads GROUP BY user_email ORDER BY 1 NULLS FIRST";
            case 1: return "SELECT user_email AS e, max(score) FROM leads GROUP BY 1 HAVING count(*) >= " + (1 + ch.next(2)) + " ORDER BY e NULLS FIRST";
            case 2: return "SELECT lower(user_email), sum(score) FROM leads GROUP BY lower(user_email) ORDER BY 1 NULLS FIRST";
            default: return "SELECT count(DISTINCT user_email), string_agg(user_email, ',' ORDER BY user_email) FROM leads";
        }
    }

    private String cteOrSetOp() {
        switch (ch.next(4)) {
            case 0: return "WITH x AS (SELECT id, user_email FROM leads" + leadsPred("") + ") SELECT * FROM x ORDER BY id";
            case 1: return "SELECT user_email FROM leads UNION SELECT user_email FROM users ORDER BY 1 NULLS FIRST";
            case 2: return "SELECT user_email FROM leads INTERSECT SELECT user_email FROM users ORDER BY user_email";
            default: return "WITH x (i, e) AS (SELECT id, user_email FROM leads) SELECT e FROM x WHERE i > " + ch.next(5) + " ORDER BY i";
        }
    }

    private String orderSelect() {
        switch (ch.next(4)) {
            case 0: return "SELECT id, status FROM orders" + statusPred("") + " ORDER BY id";
            case 1: return "SELECT * FROM orders o" + statusPred("o.") + " ORDER BY o.id";
            case 2: return "SELECT status, count(*), sum(amount) FROM orders GROUP BY status ORDER BY 1 NULLS FIRST";
            default: return "SELECT l.user_email, o.status FROM leads l JOIN orders o ON o.lead_id = l.id" + statusPred("o.")
                + " ORDER BY l.id, o.id";
        }
    }

    // ------------------------------------------------------------------------ writes

    private String returning() {
        switch (ch.next(4)) {
            case 0: return "";
            case 1: return " RETURNING id, user_email";
            case 2: return " RETURNING *";
            default: return " RETURNING lower(user_email) AS e";
        }
    }

    private String emailValue() {
        switch (ch.next(4)) {
            case 0: return lit("'g" + id + "@example.com'");
            case 1: return lit(EMAIL[ch.next(EMAIL.length)]);
            case 2: return "lower('G" + id + "@Example.com')";
            default: return "'g" + id + "@example.com' || ''";
        }
    }

    private String insert() {
        switch (ch.next(4)) {
            case 0: return "INSERT INTO leads (id, name, user_email) VALUES (" + id + ", 'n" + id + "', " + emailValue() + ")" + returning();
            case 1: return "INSERT INTO leads VALUES (" + id + ", 'p" + id + "', " + emailValue() + ", " + ch.next(9) + ")" + returning();
            case 2: return "INSERT INTO leads (id, user_email, score) SELECT " + id + " + id, 'c' || id || '@copy.org', score FROM leads WHERE id <= "
                + (1 + ch.next(3)) + returning();
            default: return "INSERT INTO leads (id, name, user_email) VALUES (" + id + ", 'a', " + emailValue() + "), ("
                + (id + 50_000) + ", 'b', NULL)";
        }
    }

    private String update() {
        switch (ch.next(4)) {
            case 0: return "UPDATE leads SET user_email = " + emailValue() + " WHERE id = " + lit(String.valueOf(1 + ch.next(12))) + returning();
            case 1: return "UPDATE leads SET user_email = lower(user_email)" + leadsPred("") + returning();
            case 2: return "UPDATE leads l SET score = l.score + 1 FROM users u WHERE u.user_email = l.user_email"
                + (ch.flip() ? " RETURNING l.id, l.user_email, u.name" : "");
            default: return "UPDATE leads SET (name, user_email) = ('m" + id + "', " + emailValue() + ") WHERE user_email IS NULL";
        }
    }

    private String delete() {
        switch (ch.next(3)) {
            case 0: return "DELETE FROM leads WHERE id = " + lit(String.valueOf(1 + ch.next(12))) + returning();
            case 1: return "DELETE FROM leads" + leadsPred("") .replace("WHERE", "WHERE id > 8 AND") + returning();
            default: return "DELETE FROM leads l USING users u WHERE u.user_email = l.user_email AND u.banned AND l.id > " + ch.next(12);
        }
    }

    private String upsert() {
        switch (ch.next(3)) {
            case 0: return "INSERT INTO leads (id, name, user_email) VALUES (" + id + ", 'u', " + emailValue()
                + ") ON CONFLICT (user_email) DO NOTHING" + returning();
            case 1: return "INSERT INTO leads (id, name, user_email) VALUES (" + id + ", 'u', " + emailValue()
                + ") ON CONFLICT (user_email) DO UPDATE SET name = excluded.name || '+'" + returning();
            default: return "INSERT INTO leads (id, name, user_email) VALUES (" + id + ", 'u', " + emailValue()
                + ") ON CONFLICT (id) DO UPDATE SET user_email = excluded.user_email" + returning();
        }
    }

    private String orderWrite() {
        switch (ch.next(4)) {
            case 0: return "INSERT INTO orders (id, lead_id, status, amount) VALUES (" + id + ", " + (1 + ch.next(8)) + ", "
                + lit(STATUS[ch.next(STATUS.length)]) + ", " + lit(String.valueOf(ch.next(50))) + ")";
            case 1: return "UPDATE orders SET status = " + lit(STATUS[ch.next(STATUS.length)]) + statusPred("") + " RETURNING id, status";
            case 2: return "INSERT INTO orders VALUES (" + id + ", 2, " + STATUS[ch.next(4)] + ", 1.5) RETURNING *";
            default: return "DELETE FROM orders WHERE status = " + STATUS[ch.next(4)] + " AND id > 9 RETURNING status";
        }
    }

    private String writableCte() {
        switch (ch.next(2)) {
            case 0: return "WITH u AS (UPDATE leads SET user_email = " + emailValue() + " WHERE id = " + (1 + ch.next(12))
                + " RETURNING id, user_email) SELECT * FROM u";
            default: return "WITH d AS (DELETE FROM leads WHERE id = " + (1 + ch.next(12)) + " RETURNING user_email) "
                + "SELECT count(*) FROM d";
        }
    }

    // ------------------------------------------------------------------------ MERGE (PostgreSQL 16: no RETURNING)

    private String merge() {
        String target = ch.flip() ? String.valueOf(1 + ch.next(12)) : String.valueOf(id); // an existing row, or a new one
        switch (ch.next(5)) {
            case 0: return "MERGE INTO leads l USING (VALUES (" + target + ", " + emailValue() + ")) AS s(id, e) ON l.id = s.id"
                + " WHEN MATCHED THEN UPDATE SET user_email = s.e"
                + " WHEN NOT MATCHED THEN INSERT (id, name, user_email) VALUES (s.id, 'm', s.e)";
            case 1: return "MERGE INTO leads l USING users u ON u.user_email = l.user_email"
                + " WHEN MATCHED AND u.banned THEN " + (ch.flip() ? "DELETE" : "UPDATE SET name = u.name")
                + " WHEN MATCHED THEN UPDATE SET score = l.score + 1"
                + " WHEN NOT MATCHED THEN INSERT (id, name, user_email) VALUES (" + (200_000 + 10 * id) + " + u.id, u.name, u.user_email)";
            case 2: return "MERGE INTO leads l USING (SELECT id, user_email FROM leads WHERE id <= " + lit(String.valueOf(1 + ch.next(12)))
                + ") s ON l.id = s.id WHEN MATCHED AND s.user_email IS NULL THEN DELETE"
                + " WHEN MATCHED THEN UPDATE SET user_email = " + (ch.flip() ? "lower(s.user_email)" : "upper(l.user_email)");
            case 3: return "MERGE INTO orders o USING (SELECT " + target + " AS id, " + lit(STATUS[ch.next(STATUS.length)]) + " AS s) src"
                + " ON o.id = src.id WHEN MATCHED AND o.status IS DISTINCT FROM src.s THEN UPDATE SET status = src.s"
                + " WHEN NOT MATCHED THEN INSERT (id, lead_id, status, amount) VALUES (src.id, 1, src.s, 2)";
            default: return "WITH b AS (SELECT e FROM bans) MERGE INTO leads l USING b ON b.e = l.user_email"
                + " WHEN MATCHED THEN UPDATE SET user_email = " + emailValue() + ", score = 0";
        }
    }

    // ------------------------------------------------------------------------ a view, functions and subqueries beside leads

    private String besideOthers() {
        switch (ch.next(7)) {
            case 0: return "SELECT user_email, b.uname FROM leads JOIN banned_users b ON b.uid = leads.id ORDER BY 1 NULLS FIRST, 2";
            case 1: return "SELECT id, user_email, g FROM leads JOIN generate_series(1, " + lit(String.valueOf(1 + ch.next(8)))
                + ") g ON g = leads.id ORDER BY 1, 3";
            case 2: return "SELECT user_email, x.n FROM leads, (SELECT * FROM imports) x WHERE x.e = user_email ORDER BY 1, 2";
            case 3: return "SELECT user_email, key FROM leads, jsonb_each(coalesce(data, '{}')) ORDER BY 1 NULLS FIRST, 2";
            case 4: return "SELECT user_email, t FROM leads, unnest(ARRAY['a', 'b']) t WHERE leads.id < 4 ORDER BY 1 NULLS FIRST, 2";
            case 5: return "SELECT user_email, tier, lvl FROM leads JOIN lead_tiers() ON lvl = score ORDER BY 1 NULLS FIRST, 2";
            default: return "SELECT user_email, v.id FROM leads JOIN (VALUES (1), (2), (3)) AS v(id) ON v.id = leads.id ORDER BY 2";
        }
    }
}
