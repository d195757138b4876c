package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.rules.Catalog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What {@link CatalogLoader} reads of functions and relations beside the managed tables, against a real server:
 * the shapes the rewriter's case fixture assumes ({@code CaseFixture.routines}) are the server's own, and the
 * assumption {@code FunctionColumns} makes about arrays (no implicit cast turns an array into a non-array or back).
 */
class CatalogRoutinesTest {
    private static TestDb db;
    private static Catalog catalog;

    @BeforeAll
    static void load() throws Exception {
        db = TestDb.create("catalog_routines");
        db.exec("CREATE TABLE leads (id serial PRIMARY KEY, user_email text, contact_email text)",
            "CREATE FUNCTION lead_emails() RETURNS TABLE (lead_id int, user_email text) LANGUAGE sql AS 'SELECT 1, ''x''::text'",
            "CREATE TYPE pair AS (k text, v int)",
            "CREATE FUNCTION pairs() RETURNS SETOF pair LANGUAGE sql AS 'SELECT ''a''::text, 1'",
            "CREATE FUNCTION shape(int) RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "CREATE FUNCTION shape(text) RETURNS TABLE (a int, b int) LANGUAGE sql AS 'SELECT 1, 2'",
            "CREATE FUNCTION plain(int) RETURNS SETOF int LANGUAGE sql AS 'SELECT 1'",
            "CREATE MATERIALIZED VIEW lead_mailings AS SELECT 1 AS mailing_id, 'x'::text AS user_email");
        try (Connection c = db.raw()) {
            CatalogLoader.Needs needs = new CatalogLoader.Needs(Set.of(List.of("public", "leads")), Set.of("user_email", "contact_email"));
            catalog = CatalogLoader.load(c, needs);
            long best = Long.MAX_VALUE, bestFunctions = Long.MAX_VALUE;
            int n = 0;
            for (int i = 0; i < 5; i++) { // warm reads, what a refresh after DDL costs: the fastest of five
                long t0 = System.nanoTime();
                CatalogLoader.load(c, needs);
                best = Math.min(best, System.nanoTime() - t0);
                t0 = System.nanoTime();
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(CatalogLoader.routinesCountQuery())) {
                    rs.next();
                    n = rs.getInt(1);
                }
                bestFunctions = Math.min(bestFunctions, System.nanoTime() - t0);
            }
            System.out.printf("CatalogRoutinesTest: catalog read in %.1f ms (warm, fastest of 5), of which the functions'"
                + " query %.1f ms; %d function overloads read%n", best / 1e6, bestFunctions / 1e6, n);
        }
    }

    @AfterAll
    static void drop() {
        db = null;
    }

    private static Catalog.Routine routine(String result, List<String> columns, String... params) {
        return new Catalog.Routine(List.of(params), 0, false, result, columns);
    }

    @Test
    void functionsWithMoreThanOneScalarColumnAreReadWithEveryOverload() {
        assertTrue(catalog.knowsRoutines());
        assertEquals(Set.of(routine("element", List.of(), "anyarray"),
                routine("columns", List.of("lexeme", "positions", "weights"), "other"), routine("scalar", List.of(), "poly")),
            Set.copyOf(catalog.routines("pg_catalog", "unnest")));
        assertEquals(List.of(routine("record", List.of(), "other")), catalog.routines("pg_catalog", "jsonb_to_recordset"));
        assertEquals(List.of(routine("columns", List.of("key", "value"), "other")), catalog.routines("pg_catalog", "json_each"));
        assertEquals(List.of(routine("columns", List.of("value"), "other")), catalog.routines("pg_catalog", "jsonb_array_elements"));
        assertEquals(List.of(routine("columns", List.of("lead_id", "user_email"))), catalog.routines("public", "lead_emails"));
        assertEquals(List.of(routine("columns", List.of("k", "v"))), catalog.routines("public", "pairs"));
        assertEquals(Set.of(routine("scalar", List.of(), "other"), routine("columns", List.of("a", "b"), "other")),
            Set.copyOf(catalog.routines("public", "shape")));
        assertEquals(List.of(), catalog.routines("pg_catalog", "generate_series"), "every overload is one scalar column");
        assertEquals(List.of(), catalog.routines("public", "plain"));
    }

    @Test
    void materializedViewsWithAManagedNameAreListed() {
        assertEquals(List.of("mailing_id", "user_email"), catalog.columns("public", "lead_mailings"));
        assertEquals(List.of("id", "user_email", "contact_email"), catalog.columns("public", "leads"));
    }

    @Test
    void noImplicitCastBetweenArraysAndOtherTypes() throws Exception {
        try (Connection c = db.raw(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_cast k JOIN pg_type s ON s.oid = k.castsource JOIN pg_type t ON t.oid = k.casttarget"
                    + " WHERE k.castcontext = 'i' AND (s.typcategory = 'A') <> (t.typcategory = 'A')")) {
            rs.next();
            assertEquals(0, rs.getInt(1));
        }
    }
}
