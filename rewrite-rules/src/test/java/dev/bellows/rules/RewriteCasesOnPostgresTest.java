package dev.bellows.rules;

import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Wrapped;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.bellows.testing.PostgresFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL itself checks every rewritten case: each output must PREPARE on a real server whose schema
 * is in the case's catalog state. JSqlParser accepting the output is not proof enough.
 */
class RewriteCasesOnPostgresTest {
    private static final Map<String, Connection> DBS = new HashMap<>();

    @BeforeAll
    static void schemas() throws SQLException {
        PostgresFixture pg = PostgresFixture.get();
        for (String state : List.of("both", "dropped", "before")) {
            Connection c = pg.connect(pg.createDatabase("cases_" + state));
            try (Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA sales");
                st.execute("CREATE SCHEMA archive");
                st.execute("CREATE TABLE archive.leads (id int, user_email text)");
                st.execute("CREATE TABLE leads (id serial PRIMARY KEY, name text, user_email text UNIQUE, created_at timestamptz DEFAULT now(), data jsonb)");
                st.execute("CREATE TABLE orders (id serial PRIMARY KEY, lead_id int, status text, amount numeric)");
                st.execute("CREATE TABLE users (id serial PRIMARY KEY, user_email text, name text, banned boolean)");
                st.execute("CREATE TABLE tickets (id serial PRIMARY KEY, title text, priority text)");
                st.execute("CREATE TABLE sales.accounts (id serial PRIMARY KEY, owner text, region text)");
                st.execute("CREATE TABLE imports (id int, n text, e text, ok boolean)");
                st.execute("CREATE TABLE imports_orders (id int, s text, ok boolean)");
                st.execute("CREATE TABLE orders_archive (id int, lead_id int)");
                st.execute("CREATE TABLE bans (e text)");
                st.execute("CREATE TABLE audit (id serial, note text)");
                st.execute("CREATE TABLE events (payload jsonb)");
                st.execute("CREATE TABLE a (e text)");
                st.execute("CREATE TABLE b (e text)");
                st.execute("CREATE TABLE newsletter (user_email text)");
                st.execute("CREATE TABLE notes (id serial PRIMARY KEY, title text, body text)");
                st.execute("CREATE TABLE cards (id serial PRIMARY KEY, title text, legacy_code text DEFAULT 'n/a', priority int, body text)");
                st.execute("CREATE FUNCTION some_function() RETURNS TABLE (x int) LANGUAGE sql AS 'SELECT 1'");
                // derived migrations: a split, a merge, and up/down reading another column
                st.execute("CREATE TABLE people (id serial PRIMARY KEY, name text, age int)");
                st.execute("CREATE TABLE members (id serial PRIMARY KEY, given_name text, family_name text, email text)");
                st.execute("CREATE TABLE items (id serial PRIMARY KEY, amount_local numeric, rate numeric)");
                st.execute("CREATE TABLE posts (id serial PRIMARY KEY, title text, lang text, slug text)");
                String customers = "(id serial PRIMARY KEY, name text, email text UNIQUE, region text)";
                if (state.equals("dropped")) {
                    st.execute("CREATE TABLE clients " + customers);
                } else {
                    st.execute("CREATE TABLE customers " + customers);
                    if (state.equals("both")) st.execute("CREATE VIEW clients AS SELECT * FROM customers");
                }
                if (!state.equals("before")) {
                    st.execute("ALTER TABLE leads ADD COLUMN contact_email text UNIQUE");
                    st.execute("ALTER TABLE orders ADD COLUMN status_code int");
                    st.execute("ALTER TABLE tickets ADD COLUMN priority_level int");
                    st.execute("ALTER TABLE sales.accounts ADD COLUMN owner_email text");
                    st.execute("ALTER TABLE people ADD COLUMN first_name text, ADD COLUMN last_name text");
                    st.execute("ALTER TABLE members ADD COLUMN full_name jsonb");
                    st.execute("ALTER TABLE items ADD COLUMN amount_eur numeric");
                }
                st.execute("CREATE VIEW leads_view AS SELECT id, " + (state.equals("dropped") ? "contact_email AS " : "") + "user_email FROM leads");
                if (state.equals("dropped")) {
                    st.execute("ALTER TABLE leads DROP COLUMN user_email");
                    st.execute("ALTER TABLE orders DROP COLUMN status");
                    st.execute("ALTER TABLE tickets DROP COLUMN priority");
                    st.execute("ALTER TABLE sales.accounts DROP COLUMN owner");
                    st.execute("ALTER TABLE cards DROP COLUMN legacy_code, DROP COLUMN priority");
                    st.execute("ALTER TABLE people DROP COLUMN name");
                    st.execute("ALTER TABLE members DROP COLUMN given_name, DROP COLUMN family_name");
                    st.execute("ALTER TABLE items DROP COLUMN amount_local");
                }
            }
            DBS.put(state, c);
        }
    }

    private static final Map<Connection, List<String>> PATHS = new HashMap<>();

    /** The case's search path on {@code db} (the server default when it has none). */
    private static void usePath(Connection db, List<String> path) throws SQLException {
        if (java.util.Objects.equals(PATHS.get(db), path)) return;
        try (Statement st = db.createStatement()) {
            st.execute(path == null ? "RESET search_path" : "SET search_path TO " + String.join(", ", path));
        }
        PATHS.put(db, path);
    }

    @AfterAll
    static void close() throws SQLException {
        for (Connection c : DBS.values()) c.close();
    }

    @Test
    void everyRewrittenCasePreparesOnPostgres() throws SQLException {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (RewriteCase c : RewriteCase.all()) {
            if (c.expect == null || c.expect.equals("unchanged") || c.expect.equals("unanalysed") || c.expect.equals("rejected")
                || c.reason != null) continue;
            Rewrite r = c.rewriter().rewrite(c.sql);
            Connection db = DBS.get(c.catalog == null ? "both" : c.catalog.equals("recorded") ? "dropped"
                // the same columns in another order: what PREPARE checks is the same
                : c.catalog.equals("recreated") ? "both" : c.catalog);
            usePath(db, c.searchPath);
            // pgjdbc binds typed values: take the types PostgreSQL infers for the application's own statement
            // (new-view code is written for the new table, not the old schema these types come from: the server infers them)
            List<String> clientTypes = split(c.sql).size() == 1 && !c.newView ? originalTypes(c.sql) : null;
            for (String stmt : split(r.sql())) {
                if (stmt.isBlank()) continue;
                SqlLexer.Tokens tk = SqlLexer.lex(stmt, Integer.MAX_VALUE);
                if (tk.isWord(0, "copy") && !stmt.contains("?")) {
                    // COPY cannot be PREPAREd: run it through the COPY protocol, empty input, rolled back
                    try (Statement st = db.createStatement()) {
                        st.execute("BEGIN");
                        try {
                            org.postgresql.copy.CopyManager cm = db.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
                            if (tk.isWord(tk.count - 1, "stdout") || stmt.toLowerCase().contains(" to stdout")) {
                                cm.copyOut(stmt, new java.io.StringWriter());
                            } else {
                                cm.copyIn(stmt, new java.io.StringReader(""));
                            }
                            checked++;
                        } catch (SQLException | java.io.IOException e) {
                            failures.add(c.id() + "\n    " + stmt + "\n    " + e.getMessage());
                        } finally {
                            st.execute("ROLLBACK");
                        }
                    }
                    continue;
                }
                Wrapped.Inner w = tk.count == 0 ? null : Wrapped.of(tk, 0, tk.count);
                if (w != null) {
                    // the statement itself where the server can run it harmlessly: no JDBC parameters, no execution
                    // of a write, rolled back; then the carried statement is PREPAREd like any other
                    boolean runnable = !stmt.contains("?") && !tk.isWord(0, "copy") && !stmt.toLowerCase().contains("analyze");
                    if (runnable) {
                        try (Statement st = db.createStatement()) {
                            st.execute("BEGIN");
                            try {
                                st.execute(stmt);
                                checked++;
                            } catch (SQLException e) {
                                failures.add(c.id() + "\n    " + stmt + "\n    " + e.getMessage());
                            } finally {
                                st.execute("ROLLBACK");
                            }
                        }
                    }
                    stmt = stmt.substring(tk.start[w.first()], tk.end[w.to() - 1]);
                    clientTypes = null;
                }
                String sql = dollarParams(stmt);
                String types = "";
                if (clientTypes != null && r.params() != null) {
                    List<String> t = new ArrayList<>();
                    for (int i = 1; i <= r.params().serverCount(); i++) t.add(clientTypes.get(r.params().clientFor(i) - 1));
                    types = "(" + String.join(", ", t) + ")";
                } else if (clientTypes != null && !clientTypes.isEmpty()) {
                    types = "(" + String.join(", ", clientTypes) + ")";
                }
                try (Statement st = db.createStatement()) {
                    st.execute("PREPARE bellows_case" + types + " AS " + sql);
                    st.execute("DEALLOCATE bellows_case");
                    checked++;
                } catch (SQLException e) {
                    if (isSchemaOnlyProblem(e)) continue;
                    failures.add(c.id() + "\n    " + sql + "\n    " + e.getMessage());
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " rewritten cases PostgreSQL rejects:\n" + String.join("\n", failures));
        assertTrue(checked >= 100, "only " + checked + " statements checked");
    }

    /** Parameter types PostgreSQL infers for a statement on the schema before or during the migration. */
    private static List<String> originalTypes(String sql) {
        for (String state : List.of("before", "both")) {
            try (Statement st = DBS.get(state).createStatement()) {
                st.execute("PREPARE bellows_orig AS " + dollarParams(sql));
                try (java.sql.ResultSet rs = st.executeQuery(
                        "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'bellows_orig'")) {
                    rs.next();
                    List<String> types = List.of((String[]) rs.getArray(1).getArray());
                    st.execute("DEALLOCATE bellows_orig");
                    return types;
                }
            } catch (SQLException e) {
                // not valid on this schema: try the next
            }
        }
        return null;
    }

    /** Cases about unrelated objects (functions, tables) the fixture schema leaves out are not the rewriter's fault. */
    private static boolean isSchemaOnlyProblem(SQLException e) {
        String s = e.getSQLState();
        return "42883".equals(s) && e.getMessage().contains("refresh_leads");
    }

    private static List<String> split(String sql) {
        List<String> out = new ArrayList<>();
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        int from = 0;
        for (int i = 0; i <= t.count; i++) {
            if (i == t.count || t.kind[i] == SqlLexer.SEMI) {
                int s = from < t.count ? t.start[Math.min(from, t.count - 1)] : sql.length();
                int e = i == t.count ? sql.length() : t.start[i];
                if (from < i) out.add(sql.substring(s, e));
                from = i + 1;
            }
        }
        return out;
    }

    /** JDBC '?' parameters become $n, as pgjdbc sends them. */
    private static String dollarParams(String sql) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, Integer.MAX_VALUE);
        StringBuilder sb = new StringBuilder();
        int pos = 0, n = 0;
        for (int i = 0; i < t.count; i++) {
            if (t.kind[i] == SqlLexer.PARAM) {
                sb.append(sql, pos, t.start[i]).append('$').append(++n);
                pos = t.end[i];
            }
        }
        return sb.append(sql.substring(pos)).toString();
    }
}
