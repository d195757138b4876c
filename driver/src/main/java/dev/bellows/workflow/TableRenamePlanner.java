package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Plan} of a table rename: expand creates the new name as a view over the table; switch renames the
 * table and leaves a bridge view under the old name, in one transaction; contract drops the bridge view once the
 * gate is green. Foreign keys, sequences, indexes, triggers and views on the table are listed: they follow the
 * table by OID and keep their names.
 */
final class TableRenamePlanner {
    private final Connection c;
    private final Migration m;
    private final Planner.Options o;
    private final List<String> warnings = new ArrayList<>();
    private final String oldQ;
    private final String newQ;

    private TableRenamePlanner(Connection c, Migration m, Planner.Options o) {
        this.c = c;
        this.m = m;
        this.o = o;
        this.oldQ = SqlText.qualified(m.schema(), m.table());
        this.newQ = SqlText.qualified(m.schema(), m.toTable());
    }

    static Plan plan(Connection c, Migration m, Planner.Options o) throws SQLException, WorkflowException {
        return new TableRenamePlanner(c, m, o).build();
    }

    private Plan build() throws SQLException, WorkflowException {
        String oldKind = relkind(oldQ);
        String newKind = relkind(newQ);
        String table; // the name the real table has now
        if ("r".equals(oldKind) || "p".equals(oldKind)) {
            table = oldQ;
            if (newKind != null && !"v".equals(newKind)) {
                throw new WorkflowException(newQ + " already exists and is not a view: pick another to_table, or drop it");
            }
        } else if ("r".equals(newKind) || "p".equals(newKind)) {
            table = newQ; // switched already: the plan is the same files, each a no-op until its time
        } else {
            throw new WorkflowException("table " + oldQ + " does not exist in this database (migration '" + m.id()
                + "' of the rules file names it)");
        }
        String grantsNew = grants(table, newQ);
        String grantsOld = grants(table, oldQ);
        String lock = "SET LOCAL lock_timeout = " + literal(o.lockTimeout().strip().replace(" ", "")) + ";\n";
        List<Plan.Step> steps = new ArrayList<>();
        steps.add(new Plan.Step("expand", "create " + newQ + " as an updatable view over " + oldQ,
            "now: legacy code keeps naming " + m.table() + ", new code may name " + m.toTable(), true,
            lock + "DO $bellows$\nBEGIN\n  IF to_regclass(" + literal(newQ) + ") IS NULL THEN\n"
                + "    CREATE VIEW " + newQ + " AS SELECT * FROM " + oldQ + ";\n" + indent(grantsNew) + "  END IF;\nEND\n$bellows$;\n",
            lock + "DO $bellows$\nBEGIN\n  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(newQ) + ")) = 'v' THEN\n"
                + "    DROP VIEW " + newQ + ";\n  END IF;\nEND\n$bellows$;\n",
            "drops the view " + newQ + " (refuses nothing: after the switch step " + m.toTable() + " is the table and is kept)"));
        steps.add(new Plan.Step("switch", "rename " + oldQ + " to " + m.toTable() + " and leave the bridge view " + oldQ
                + " over it, in one transaction",
            "once every instance is in switch (bellows flags set " + m.id() + " switch; Bellows then names " + m.toTable()
                + " already); code that bypasses Bellows goes on through the bridge view", true,
            lock + "DO $bellows$\nBEGIN\n  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(oldQ) + ")) IN ('r', 'p') THEN\n"
                + "    DROP VIEW IF EXISTS " + newQ + ";\n"
                + "    ALTER TABLE " + oldQ + " RENAME TO " + ident(m.toTable()) + ";\n"
                + "    CREATE VIEW " + oldQ + " AS SELECT * FROM " + newQ + ";\n" + indent(grantsOld)
                + "  END IF;\nEND\n$bellows$;\n",
            lock + "DO $bellows$\nBEGIN\n  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(oldQ) + ")) = 'v'"
                + " AND (SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(newQ) + ")) IN ('r', 'p') THEN\n"
                + "    DROP VIEW " + oldQ + ";\n"
                + "    ALTER TABLE " + newQ + " RENAME TO " + ident(m.table()) + ";\n"
                + "    CREATE VIEW " + newQ + " AS SELECT * FROM " + oldQ + ";\n" + indent(grantsNew)
                + "  END IF;\nEND\n$bellows$;\n",
            "renames the table back to " + m.table() + " and makes " + m.toTable() + " the view again"));
        steps.add(new Plan.Step("contract", "drop the bridge view " + oldQ,
            "once bellows gate " + m.id() + " passes (every instance in contract, nothing names " + m.table() + " unrewritten)", true,
            lock + "DO $bellows$\nBEGIN\n  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(oldQ) + ")) = 'v' THEN\n"
                + "    DROP VIEW " + oldQ + ";\n  END IF;\nEND\n$bellows$;\n",
            lock + "DO $bellows$\nBEGIN\n  IF to_regclass(" + literal(oldQ) + ") IS NULL THEN\n"
                + "    CREATE VIEW " + oldQ + " AS SELECT * FROM " + newQ + ";\n" + indent(grantsOld) + "  END IF;\nEND\n$bellows$;\n",
            "re-creates the bridge view " + oldQ));
        inventory(table);
        warnings.add("the views select * as the table stands when they are created: a column added to the table later is"
            + " not seen through them (add columns after the contract step, or re-create the view)");
        warnings.add("TRUNCATE, COPY, LOCK TABLE and DDL naming " + m.table() + " are not rewritten: after the switch step they"
            + " reach the bridge view, where PostgreSQL refuses them; move them to " + m.toTable() + " first");
        return new Plan(m, steps, warnings);
    }

    /** Lists what the rename carries along: foreign keys, sequences, indexes, triggers, views and functions. */
    private void inventory(String table) throws SQLException {
        query("SELECT conname, conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
            + " AND (conrelid = to_regclass(?) OR confrelid = to_regclass(?)) ORDER BY 1", table, table, rs ->
            warnings.add("foreign key " + ident(rs.getString(1)) + " (" + rs.getString(2) + " -> " + rs.getString(3)
                + ") follows the table by OID and keeps its name"));
        query("SELECT s.oid::regclass::text, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
            + " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
            + " WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass(?) AND d.deptype IN ('a', 'i') ORDER BY 1",
            new Object[] {table}, rs -> warnings.add("sequence " + rs.getString(1) + " (default of column " + ident(rs.getString(2))
                + ") keeps its name and the column default keeps working (nextval names it by OID); rename it by hand if"
                + " the name matters"));
        query("SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = to_regclass(?) ORDER BY 1",
            new Object[] {table}, rs -> warnings.add("index " + rs.getString(1) + " keeps its name"));
        query("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(?) AND NOT tgisinternal ORDER BY 1",
            new Object[] {table}, rs -> warnings.add("trigger " + ident(rs.getString(1)) + " follows the table (writes through"
                + " the views reach it)"));
        query("SELECT DISTINCT v.oid::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid"
            + " JOIN pg_class v ON v.oid = r.ev_class WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(?)"
            + " AND v.oid NOT IN (to_regclass(?), to_regclass(?)) ORDER BY 1", new Object[] {table, oldQ, newQ},
            rs -> warnings.add("view " + rs.getString(1) + " is built on the table and follows it by OID"));
        query("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
            + " AND p.prosrc ~* ? ORDER BY 1", new Object[] {"(^|[^[:alnum:]_$])" + m.table().replaceAll("[^A-Za-z0-9_]", "\\\\$0") + "($|[^[:alnum:]_$])"},
            rs -> warnings.add("function " + rs.getString(1) + " names " + m.table() + " in its body: it works through the"
                + " bridge view until the contract step drops it; change it to " + m.toTable() + " before (bellows gate"
                + " lists it)"));
    }

    /** GRANT statements giving {@code target} the privileges other roles have on {@code table}. */
    private String grants(String table, String target) throws SQLException {
        StringBuilder sb = new StringBuilder();
        query("SELECT g.grantee, string_agg(g.privilege_type, ', ' ORDER BY g.privilege_type)"
            + " FROM information_schema.role_table_grants g JOIN pg_class c ON c.oid = to_regclass(?)"
            + " WHERE g.table_schema = ? AND g.table_name = c.relname AND g.grantee <> pg_get_userbyid(c.relowner)"
            + " GROUP BY g.grantee ORDER BY 1", new Object[] {table, m.schema()},
            rs -> sb.append("GRANT ").append(rs.getString(2)).append(" ON ").append(target).append(" TO ")
                .append(rs.getString(1).equals("PUBLIC") ? "PUBLIC" : ident(rs.getString(1))).append(";\n"));
        return sb.toString();
    }

    private String relkind(String q) throws SQLException {
        return Db.scalar(c, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass(?)", q);
    }

    private interface Row {
        void accept(ResultSet rs) throws SQLException;
    }

    private void query(String sql, String a, String b, Row row) throws SQLException {
        query(sql, new Object[] {a, b}, row);
    }

    private void query(String sql, Object[] params, Row row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) row.accept(rs);
            }
        }
    }

    private static String indent(String lines) {
        return lines.isEmpty() ? "" : lines.strip().indent(4);
    }
}
