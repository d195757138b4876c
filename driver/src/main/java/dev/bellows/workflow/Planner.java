package dev.bellows.workflow;

import static dev.bellows.workflow.SqlText.ident;
import static dev.bellows.workflow.SqlText.literal;
import static dev.bellows.workflow.SqlText.truncate;

import dev.bellows.rules.Migration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a migration's {@link Plan} from the live catalog and the rules: expand (new column), an optional
 * sync trigger, mirror (twin indexes and constraints), NOT NULL after the backfill, and contract (guarded
 * drop). Every script is idempotent; each has a down script or says it is irreversible.
 */
public final class Planner {
    /** Options of {@code bellows plan}. */
    public record Options(boolean trigger, String lockTimeout) {
        public static Options defaults() {
            return new Options(false, "3s");
        }
    }

    private static final Pattern TIMEOUT = Pattern.compile("\\d+\\s*(ms|s|min)?");
    /** The session setting that makes the sync trigger stand aside (the backfill sets it). */
    public static final String SYNC_OFF_SETTING = "bellows.sync_off";
    /** The session setting that turns the contract guard's refusal into a warning. */
    public static final String ALLOW_DIVERGENCE_SETTING = "bellows.allow_divergence";

    private final Connection c;
    private final Migration m;
    private final Options o;
    private final List<String> warnings = new ArrayList<>();
    private TableInfo t;
    private TableInfo.Column from;
    private TableInfo.Column existingTo;
    private String qt; // qualified table
    private String f;  // quoted from
    private String to; // quoted to
    private Set<String> taken;
    private Set<String> ours;

    private Planner(Connection c, Migration m, Options o) {
        this.c = c;
        this.m = m;
        this.o = o;
    }

    /** The plan for {@code m} on the database behind {@code c} (read only: the catalog is only queried). */
    public static Plan plan(Connection c, Migration m, Options o) throws SQLException, WorkflowException {
        if (m.isTableRename() && !TIMEOUT.matcher(o.lockTimeout().strip()).matches()) {
            throw new WorkflowException("--lock-timeout must look like 3s, 500ms or 1min, got '" + o.lockTimeout() + "'");
        }
        // with an empty search path the catalog's deparsed definitions name every object with its schema, so the
        // scripts mean the same whatever search path they later run with
        String original = Db.scalar(c, "SELECT current_setting('search_path')");
        Db.scalar(c, "SELECT set_config('search_path', 'pg_catalog', false)");
        try {
            return m.isTableRename() ? TableRenamePlanner.plan(c, m, o) : new Planner(c, m, o).build();
        } finally {
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT set_config('search_path', ?, false)")) {
                ps.setString(1, original);
                ps.execute();
            }
        }
    }

    /** The name of the sync trigger and of its function. */
    public static String triggerName(Migration m) {
        return truncate("bellows_sync_" + m.id().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_"));
    }

    /** {@code up(from)} as SQL over the table's columns (the bare {@code from} column for a rename). */
    static String upExpr(Migration m) {
        return m.up() == null ? ident(m.from()) : "(" + m.up().strip() + ")";
    }

    /** {@code down(to)} as SQL over the table's columns. */
    static String downExpr(Migration m) {
        return m.down() == null ? ident(m.to()) : "(" + m.down().strip() + ")";
    }

    private Plan build() throws SQLException, WorkflowException {
        if (!TIMEOUT.matcher(o.lockTimeout().strip()).matches()) {
            throw new WorkflowException("--lock-timeout must look like 3s, 500ms or 1min, got '" + o.lockTimeout() + "'");
        }
        t = TableInfo.load(c, m.schema(), m.table());
        if (t == null) {
            throw new WorkflowException("table " + SqlText.qualified(m.schema(), m.table()) + " does not exist in this database"
                + " (migration '" + m.id() + "' of the rules file names it)");
        }
        if (m.isRemoval()) return RemovalPlanner.plan(c, m, o, t);
        if (m.isNotNull()) return NotNullPlanner.plan(c, m, o, t);
        if (m.isDerived()) return DerivedPlanner.plan(c, m, o, t);
        qt = t.qualified();
        f = ident(m.from());
        to = ident(m.to());
        from = t.column(m.from());
        existingTo = t.column(m.to());
        if (from == null) {
            // contracted: the only plan left is the way back (re-creating the old column)
            if (existingTo != null) return Recreation.plan(c, m, o, t);
            throw new WorkflowException("column " + f + " does not exist in " + qt);
        }
        if (from.generated()) {
            throw new WorkflowException(qt + "." + f + " is a generated column: Bellows cannot write it, so it cannot"
                + " rename or retype it; add the new column as a generated column by hand");
        }
        taken = t.takenNames(c);
        ours = new HashSet<>();
        if (existingTo != null) {
            for (TableInfo.Index i : t.indexesOn(c, existingTo)) {
                ours.add(i.name());
                if (i.constraintName() != null) ours.add(i.constraintName());
            }
            for (TableInfo.Constraint k : t.constraintsOn(c, existingTo)) ours.add(k.name());
            ours.add(notNullCheckName());
        }
        String type = newType();
        List<Plan.Step> steps = new ArrayList<>();
        steps.add(expand(type));
        if (o.trigger()) steps.add(trigger());
        Plan.Step mirror = mirror();
        if (mirror != null) steps.add(mirror);
        if (from.notNull()) steps.add(notNull());
        else if (afterBackfill.length() > 0) steps.add(validateChecks());
        steps.add(contract());
        if (from.identity()) {
            warnings.add(qt + "." + f + " is an identity column: " + to + " gets no identity; after contract, add one with"
                + " ALTER TABLE " + qt + " ALTER COLUMN " + to + " ADD GENERATED BY DEFAULT AS IDENTITY (START WITH <max + 1>)");
        }
        for (TableInfo.Incoming in : t.referencing(c, from)) {
            warnings.add("foreign key " + ident(in.name()) + " of " + in.table() + " references " + qt + "." + f
                + ": it is not carried over (it needs its own migration on " + in.table() + "), and the contract step"
                + " fails until it is moved or dropped");
        }
        String trig = triggerName(m);
        for (String d : t.dependents(c, from)) {
            if (d.contains(trig)) continue;
            warnings.add(d + " depends on " + qt + "." + f + ": the contract step's DROP COLUMN fails until it is changed");
        }
        if (from.defaultVolatile() && !o.trigger()) {
            warnings.add("the default of " + f + " (" + from.defaultExpr() + ") is volatile, so " + to + " cannot share it"
                + " without drawing a different value; rows inserted without naming either column get " + to + " = NULL"
                + " until contract. Use --trigger, which fills " + to + " from " + f + " on such inserts");
        }
        return new Plan(m, steps, warnings);
    }

    private String newType() throws SQLException, WorkflowException {
        if (m.type() != null) return m.type().strip();
        if (m.isTypeChange()) {
            String inferred = null;
            try {
                inferred = Db.scalar(c, "SELECT pg_typeof(" + upExpr(m) + ")::text FROM (SELECT NULL::" + from.type()
                    + " AS " + f + ") s");
            } catch (SQLException e) {
                // not inferable: say so below
            }
            throw new WorkflowException("migration '" + m.id() + "' is a type change (up/down), so the plan needs the new"
                + " column's SQL type: add `type: " + (inferred == null ? "<type>" : inferred) + "` to it in the rules file"
                + (inferred == null ? "" : " (" + inferred + " is the type of its up expression)"));
        }
        return from.type() + (from.collation() == null ? "" : " COLLATE " + from.collation());
    }

    private String regclass() {
        return literal(qt) + "::regclass";
    }

    private String lockTimeout() {
        return "SET lock_timeout = " + literal(o.lockTimeout().strip()) + ";\n";
    }

    private static String dollar(String body) {
        return "DO $bellows$\n" + body + "$bellows$;\n";
    }

    /** The new column's default: the old one's, translated through up for a type change; null when none or volatile. */
    private String mirroredDefault() {
        if (from.defaultExpr() == null || from.defaultVolatile() || from.identity()) return null;
        if (!m.isTypeChange()) return from.defaultExpr();
        return SqlText.replaceColumn(m.up().strip(), m.from(), "(" + from.defaultExpr() + ")");
    }

    private Plan.Step expand(String type) {
        StringBuilder up = new StringBuilder();
        up.append(lockTimeout());
        up.append("-- the new column, nullable: a catalog-only change (no table rewrite, ACCESS EXCLUSIVE for a moment)\n");
        up.append("ALTER TABLE ").append(qt).append(" ADD COLUMN IF NOT EXISTS ").append(to).append(' ').append(type).append(";\n");
        up.append("-- a column of that name that already existed must have the planned type\n");
        String bareType = type.replaceAll("(?i)\\s+COLLATE\\s+.*$", "");
        up.append(dollar("BEGIN\n"
            + "  IF (SELECT atttypid FROM pg_attribute WHERE attrelid = " + regclass() + " AND attname = " + literal(m.to())
            + " AND NOT attisdropped) <> " + literal(bareType) + "::regtype THEN\n"
            + "    RAISE EXCEPTION 'bellows: " + esc(qt + "." + to) + " exists with another type than " + esc(bareType) + "';\n"
            + "  END IF;\nEND\n"));
        String def = mirroredDefault();
        if (def != null) {
            up.append("-- the old column's default").append(m.isTypeChange() ? ", translated through up" : "")
                .append(", so rows inserted without naming either column agree\n");
            up.append("ALTER TABLE ").append(qt).append(" ALTER COLUMN ").append(to).append(" SET DEFAULT ").append(def).append(";\n");
        } else if (from.defaultExpr() != null) {
            up.append("-- the old default (").append(from.defaultExpr().replace("\n", " "))
                .append(") is not copied: it is volatile or an identity, so the two columns would draw different values\n");
        }
        up.append("RESET lock_timeout;\n");
        String down = lockTimeout()
            + "ALTER TABLE " + qt + " DROP COLUMN IF EXISTS " + to + ";\n"
            + "RESET lock_timeout;\n";
        return new Plan.Step("expand", "adds " + to + " " + type + " next to " + f + (def == null ? "" : ", with the same default"),
            "first; then set the migration's phase to expand (bellows flags set " + m.id() + " expand) so every write"
                + " through Bellows fills both columns",
            true, up.toString(),
            down, "drops " + to + " and everything written into it; only while every instance is in phase off or expand"
                + " (reads still come from " + f + ")");
    }

    private Plan.Step trigger() {
        String fn = SqlText.qualified(m.schema(), triggerName(m));
        String trig = ident(triggerName(m));
        String upNew = m.up() == null ? "NEW." + f : "(" + SqlText.replaceColumn(m.up().strip(), m.from(), "NEW." + f) + ")";
        String downNew = m.down() == null ? "NEW." + to : "(" + SqlText.replaceColumn(m.down().strip(), m.to(), "NEW." + to) + ")";
        String fromDefault = from.defaultExpr() == null || from.defaultVolatile() ? null : from.defaultExpr();
        String toDefault = mirroredDefault();
        String body = "CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $bellows$\n"
            + "-- Keeps " + qt + "." + f + " and " + to + " equal (" + to + " = up(" + f + ")) for writers that do not go\n"
            + "-- through Bellows. A BEFORE ROW trigger that only assigns NEW issues no statement, so it cannot fire itself.\n"
            + "BEGIN\n"
            + "  -- bellows backfill (and any session that sets " + SYNC_OFF_SETTING + ") writes both columns itself\n"
            + "  IF current_setting('" + SYNC_OFF_SETTING + "', true) = 'on' THEN\n"
            + "    RETURN NEW;\n"
            + "  END IF;\n"
            + "  IF TG_OP = 'INSERT' THEN\n"
            + "    IF NEW." + to + " IS NOT DISTINCT FROM " + upNew + " THEN\n"
            + "      RETURN NEW;  -- both given (Bellows' dual write) or both defaulted: they agree\n"
            + "    ELSIF NEW." + to + " IS NULL" + (toDefault == null ? "" : " OR NEW." + to + " IS NOT DISTINCT FROM (" + toDefault + ")") + " THEN\n"
            + "      NEW." + to + " := " + upNew + ";  -- old code wrote " + f + " only\n"
            + "    ELSIF NEW." + f + " IS NULL" + (fromDefault == null ? "" : " OR NEW." + f + " IS NOT DISTINCT FROM (" + fromDefault + ")") + " THEN\n"
            + "      NEW." + f + " := " + downNew + ";  -- new code wrote " + to + " only\n"
            + "    END IF;\n"
            + "  ELSIF NEW." + f + " IS DISTINCT FROM OLD." + f + " AND NEW." + to + " IS NOT DISTINCT FROM OLD." + to + " THEN\n"
            + "    NEW." + to + " := " + upNew + ";\n"
            + "  ELSIF NEW." + to + " IS DISTINCT FROM OLD." + to + " AND NEW." + f + " IS NOT DISTINCT FROM OLD." + f + " THEN\n"
            + "    NEW." + f + " := " + downNew + ";\n"
            + "  END IF;\n"
            + "  RETURN NEW;\n"
            + "END\n$bellows$;\n";
        String up = lockTimeout() + body
            + "DROP TRIGGER IF EXISTS " + trig + " ON " + qt + ";\n"
            + "CREATE TRIGGER " + trig + " BEFORE INSERT OR UPDATE OF " + f + ", " + to + " ON " + qt
            + " FOR EACH ROW EXECUTE FUNCTION " + fn + "();\n"
            + "RESET lock_timeout;\n";
        String down = lockTimeout()
            + "DROP TRIGGER IF EXISTS " + trig + " ON " + qt + ";\n"
            + "DROP FUNCTION IF EXISTS " + fn + "();\n"
            + "RESET lock_timeout;\n";
        return new Plan.Step("sync_trigger", "a BEFORE INSERT OR UPDATE trigger that copies whichever column a writer changed"
            + " into the other (through up/down), for writers that bypass Bellows",
            "right after expand, before any writer that bypasses Bellows runs against the new column", true, up, down,
            "drops the trigger and its function");
    }

    private String twinName(String old) {
        String base = old.contains(m.from()) ? old.replace(m.from(), m.to()) : old + "_" + m.to();
        base = truncate(base);
        if (base.equals(old)) base = truncate(old + "_" + m.to());
        String name = base;
        for (int k = 2; taken.contains(name) && !ours.contains(name); k++) {
            String suffix = "_" + k;
            name = truncate(base.substring(0, Math.max(1, base.length() - suffix.length()))) + suffix;
        }
        taken.add(name);
        ours.add(name);
        return name;
    }

    private String notNullCheckName() {
        return truncate(m.table() + "_" + m.to() + "_not_null");
    }

    private Plan.Step mirror() throws SQLException, WorkflowException {
        List<TableInfo.Index> indexes = t.indexesOn(c, from);
        List<TableInfo.Constraint> constraints = t.constraintsOn(c, from);
        StringBuilder idx = new StringBuilder();
        StringBuilder attach = new StringBuilder();
        StringBuilder validate = new StringBuilder();
        StringBuilder downCons = new StringBuilder();
        StringBuilder downIdx = new StringBuilder();
        List<String> summary = new ArrayList<>();
        boolean expressionIndexes = false;
        for (TableInfo.Index i : indexes) {
            if (!i.valid()) {
                warnings.add("index " + ident(i.name()) + " on " + f + " is INVALID (a failed CREATE INDEX CONCURRENTLY);"
                    + " it gets no twin");
                continue;
            }
            if ("x".equals(i.constraintType())) {
                warnings.add("exclusion constraint " + ident(i.constraintName()) + " uses " + f + ": it is not mirrored;"
                    + " add its twin on " + to + " by hand");
                continue;
            }
            String def = i.definition();
            int on = def.indexOf(" ON ");
            int using = on < 0 ? -1 : def.indexOf(" USING " + i.method() + " ", on);
            if (using < 0) {
                warnings.add("index " + ident(i.name()) + ": could not read its definition (" + def + "); it is not mirrored");
                continue;
            }
            String tail = SqlText.replaceColumn(def.substring(using), m.from(), to);
            expressionIndexes |= i.expression();
            String baseName = i.constraintName() != null ? i.constraintName() : i.name();
            String name = twinName(baseName);
            String qname = SqlText.qualified(t.schema, name);
            idx.append("CREATE ").append(i.unique() ? "UNIQUE " : "").append("INDEX CONCURRENTLY IF NOT EXISTS ")
                .append(ident(name)).append(" ON ").append(qt).append(tail).append(";\n");
            idx.append(dollar("BEGIN\n"
                + "  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(" + literal(qname) + ") AND NOT indisvalid) THEN\n"
                + "    RAISE EXCEPTION 'bellows: index " + esc(qname) + " is INVALID (an interrupted CREATE INDEX CONCURRENTLY);"
                + " run DROP INDEX CONCURRENTLY " + esc(qname) + "; then this file again';\n"
                + "  END IF;\nEND\n"));
            downIdx.append("DROP INDEX CONCURRENTLY IF EXISTS ").append(qname).append(";\n");
            if ("u".equals(i.constraintType())) {
                String deferral = i.deferrable() ? (i.deferred() ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE") : "";
                attach.append(dollar("BEGIN\n"
                    + "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(name) + ") THEN\n"
                    + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(name) + " UNIQUE USING INDEX " + ident(name) + deferral + ";\n"
                    + "  END IF;\nEND\n"));
                downCons.append("ALTER TABLE ").append(qt).append(" DROP CONSTRAINT IF EXISTS ").append(ident(name)).append(";\n");
                summary.add("unique constraint " + name);
            } else if ("p".equals(i.constraintType())) {
                summary.add("unique index " + name + " (becomes the primary key at contract)");
                pkTwin = name;
                pkName = i.constraintName();
            } else {
                summary.add((i.unique() ? "unique index " : "index ") + name);
            }
        }
        if (expressionIndexes && m.isTypeChange()) {
            warnings.add("some indexes on " + f + " use an expression, operator class or predicate: their twins replace " + f
                + " by " + to + " (" + m.type() + ") and may not fit the new type; review the mirror step");
        }
        for (TableInfo.Constraint k : constraints) {
            String kind = k.type() == 'f' ? "foreign key" : "check constraint";
            if (m.isTypeChange()) {
                String twin = k.type() == 'f' ? null : CheckTwins.twin(m, k.definition());
                if (twin == null) {
                    warnings.add(kind + " " + ident(k.name()) + " (" + k.definition() + ") is not mirrored: "
                        + (k.type() == 'f' ? "a foreign key needs the referenced column's type, and " + to + " has another one"
                            : "it already names " + to)
                        + "; add its equivalent on " + to + " by hand");
                    continue;
                }
                String name = twinName(k.name());
                attach.append(CheckTwins.add(regclass(), qt, name, twin));
                afterBackfill.append(CheckTwins.validate(regclass(), qt, name));
                downCons.append("ALTER TABLE ").append(qt).append(" DROP CONSTRAINT IF EXISTS ").append(ident(name)).append(";\n");
                summary.add(kind + " " + name + " (through down, validated after the backfill)");
                continue;
            }
            String def = k.definition().replaceAll("\\s+NOT VALID$", "");
            String twinDef;
            if (k.type() == 'f') {
                int ref = def.indexOf(" REFERENCES ");
                twinDef = SqlText.replaceColumn(def.substring(0, ref), m.from(), to) + def.substring(ref);
            } else {
                twinDef = SqlText.replaceColumn(def, m.from(), to);
            }
            String name = twinName(k.name());
            attach.append(dollar("BEGIN\n"
                + "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(name) + ") THEN\n"
                + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(name) + " " + twinDef + " NOT VALID;\n"
                + "  END IF;\nEND\n"));
            if (k.validated()) {
                validate.append("ALTER TABLE ").append(qt).append(" VALIDATE CONSTRAINT ").append(ident(name)).append(";\n");
            }
            downCons.append("ALTER TABLE ").append(qt).append(" DROP CONSTRAINT IF EXISTS ").append(ident(name)).append(";\n");
            summary.add(kind + " " + name);
        }
        if (m.isTypeChange() && m.down() != null) {
            // a new value down cannot map would read as NULL in the legacy code: refused in every phase
            String name = CheckTwins.mappingName(m);
            if (taken.contains(name) && !ours.contains(name)) {
                throw new WorkflowException(qt + " already has a constraint or index named " + ident(name) + ", the name of the"
                    + " type change's mapping constraint: rename it first");
            }
            attach.append(CheckTwins.add(regclass(), qt, name, CheckTwins.mapping(m)));
            afterBackfill.append(CheckTwins.validate(regclass(), qt, name));
            downCons.append("ALTER TABLE ").append(qt).append(" DROP CONSTRAINT IF EXISTS ").append(ident(name)).append(";\n");
            summary.add("check constraint " + name + " (every " + m.to() + " has a value through down)");
        }
        if (summary.isEmpty()) return null;
        StringBuilder up = new StringBuilder();
        if (idx.length() > 0) {
            up.append("-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block. It does not block reads or writes, but\n"
                + "-- it waits for every older transaction to finish, so it runs without lock_timeout (a timeout would\n"
                + "-- cancel it halfway and leave an INVALID index, which the check after each one reports).\n");
            up.append("SET lock_timeout = 0;\n").append(idx);
        }
        if (attach.length() > 0) {
            up.append("-- constraints: added NOT VALID (a brief lock, no scan), each in its own transaction\n");
            up.append(lockTimeout()).append(attach);
        }
        if (validate.length() > 0) {
            up.append("-- VALIDATE scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on\n");
            up.append(validate);
        }
        up.append("RESET lock_timeout;\n");
        String down = lockTimeout() + downCons + "RESET lock_timeout;\n" + downIdx;
        return new Plan.Step("mirror", "twins on " + to + " of what " + f + " has: " + String.join(", ", summary),
            "after expand (before or after the backfill: the twins are enforced for every row written from now on,"
                + " and the backfill's writes are checked as they happen)",
            false, up.toString(), down, "drops the twin constraints and indexes");
    }

    private String pkTwin;
    private String pkName;
    /** VALIDATE of the type change's CHECK twins, run after the backfill (in not_null, or a validate step of its own). */
    private final StringBuilder afterBackfill = new StringBuilder();

    private Plan.Step validateChecks() {
        return new Plan.Step("validate", "validates the CHECK twins on " + to + " (VALIDATE scans under SHARE UPDATE EXCLUSIVE;"
            + " reads and writes go on)", "after bellows backfill has finished with zero divergence", false,
            lockTimeout() + afterBackfill + "RESET lock_timeout;\n",
            "-- nothing to undo: the constraints stay (the mirror step's down file drops them)\nSELECT 1;\n",
            "nothing: validation only proves the rows hold");
    }

    private Plan.Step notNull() {
        String chk = notNullCheckName();
        String fromInPk = t.primaryKey.contains(m.from()) ? "yes" : null;
        String attnotnull = "SELECT attnotnull FROM pg_attribute WHERE attrelid = " + regclass() + " AND attname = ";
        StringBuilder up = new StringBuilder(lockTimeout());
        if (afterBackfill.length() > 0) {
            up.append("-- 0. the CHECK twins of the mirror step, now that the backfill has filled ").append(to)
                .append(" (VALIDATE scans under SHARE UPDATE EXCLUSIVE: reads and writes go on)\n").append(afterBackfill);
        }
        up.append("-- 1. CHECK (").append(to).append(" IS NOT NULL) NOT VALID: a brief lock, no scan\n");
        up.append(dollar("BEGIN\n"
            + "  IF NOT (" + attnotnull + literal(m.to()) + ")\n"
            + "     AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(chk) + ") THEN\n"
            + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(chk) + " CHECK (" + to + " IS NOT NULL) NOT VALID;\n"
            + "  END IF;\nEND\n"));
        up.append("-- 2. VALIDATE scans the table under SHARE UPDATE EXCLUSIVE (reads and writes go on); it fails if the\n"
            + "--    backfill left a row without " + to + "\n");
        up.append(dollar("BEGIN\n"
            + "  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(chk) + " AND NOT convalidated) THEN\n"
            + "    ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + ident(chk) + ";\n"
            + "  END IF;\nEND\n"));
        up.append("-- 3. SET NOT NULL uses the valid check instead of scanning (PostgreSQL 12+); then the check goes\n");
        up.append(dollar("BEGIN\n"
            + "  IF NOT (" + attnotnull + literal(m.to()) + ") THEN\n"
            + "    ALTER TABLE " + qt + " ALTER COLUMN " + to + " SET NOT NULL;\n"
            + "  END IF;\n"
            + "  ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + ident(chk) + ";\nEND\n"));
        if (fromInPk == null) {
            up.append("-- 4. the old column may be NULL from now on: in phase contract Bellows writes only ").append(to).append('\n');
            up.append(dollar("BEGIN\n"
                + "  IF (" + attnotnull + literal(m.from()) + " AND NOT attisdropped) THEN\n"
                + "    ALTER TABLE " + qt + " ALTER COLUMN " + f + " DROP NOT NULL;\n"
                + "  END IF;\nEND\n"));
        } else {
            warnings.add(f + " is part of the primary key, so it stays NOT NULL until contract: inserts made in phase contract"
                + " (which write only " + to + ") fail until the contract step has run");
        }
        up.append("RESET lock_timeout;\n");
        StringBuilder down = new StringBuilder(lockTimeout());
        String fchk = truncate(m.table() + "_" + m.from() + "_not_null");
        if (fromInPk == null) {
            down.append("-- ").append(f).append(" NOT NULL again, the same way (it is filled while phases are before contract)\n");
            down.append(dollar("BEGIN\n"
                + "  IF NOT (" + attnotnull + literal(m.from()) + ")\n"
                + "     AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(fchk) + ") THEN\n"
                + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(fchk) + " CHECK (" + f + " IS NOT NULL) NOT VALID;\n"
                + "  END IF;\nEND\n"));
            down.append(dollar("BEGIN\n"
                + "  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND conname = " + literal(fchk) + " AND NOT convalidated) THEN\n"
                + "    ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + ident(fchk) + ";\n"
                + "  END IF;\nEND\n"));
            down.append(dollar("BEGIN\n"
                + "  IF NOT (" + attnotnull + literal(m.from()) + ") THEN\n"
                + "    ALTER TABLE " + qt + " ALTER COLUMN " + f + " SET NOT NULL;\n"
                + "  END IF;\n"
                + "  ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + ident(fchk) + ";\nEND\n"));
        }
        down.append("-- ").append(to).append(" nullable again\n");
        down.append(dollar("BEGIN\n"
            + "  IF (" + attnotnull + literal(m.to()) + ") THEN\n"
            + "    ALTER TABLE " + qt + " ALTER COLUMN " + to + " DROP NOT NULL;\n"
            + "  END IF;\n"
            + "  ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + ident(chk) + ";\nEND\n"));
        down.append("RESET lock_timeout;\n");
        return new Plan.Step("not_null", (afterBackfill.length() > 0 ? "validates the CHECK twins on " + to + ", " : "")
            + "makes " + to + " NOT NULL like " + f + " (check NOT VALID, VALIDATE, SET NOT NULL)"
            + (fromInPk == null ? " and lets " + f + " be NULL" : ""),
            "after bellows backfill has finished with zero divergence, before the phase moves to contract",
            false, up.toString(), down.toString(),
            "makes " + to + " nullable again" + (fromInPk == null ? " and " + f + " NOT NULL again (run it only before contract)" : ""));
    }

    private Plan.Step contract() {
        String trig = ident(triggerName(m));
        String fn = SqlText.qualified(m.schema(), triggerName(m));
        StringBuilder up = new StringBuilder(lockTimeout());
        String id = literal(m.id());
        String col = esc(qt + "." + f);
        up.append("-- The guard. It refuses while the fleet is not in contract: the flag in bellows.flags must be contract\n")
            .append("-- and every live instance in bellows.instances must report contract, or statements still naming ").append(f).append("\n")
            .append("-- fail once it is gone. Then, SHARE mode blocks writes (not reads) while it counts the rows that would lose\n")
            .append("-- data: in contract those with a value only in ").append(f).append(" (rows written in contract have only ").append(to)
            .append(", as\n-- expected); before contract, or with no flag and no instance reporting, those where ").append(to)
            .append(" IS DISTINCT FROM up(").append(f).append(").\n")
            .append("-- SET ").append(ALLOW_DIVERGENCE_SETTING).append(" = on in this session turns the count's refusal into a warning.\n");
        String live = "FROM bellows.instances WHERE stopped_at IS NULL"
            + " AND last_seen > now() - greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')"
            + " AND phases ? " + id;
        up.append(dollar("DECLARE\n  bellows_diverging bigint;\n  bellows_flag text;\n  bellows_behind text;\n"
            + "  bellows_contract boolean := false;\nBEGIN\n"
            + "  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " + regclass() + " AND attname = " + literal(m.from())
            + " AND NOT attisdropped) THEN\n"
            + "    RAISE NOTICE 'bellows: " + col + " is already dropped';\n"
            + "    RETURN;\n"
            + "  END IF;\n"
            + "  IF to_regclass('bellows.flags') IS NOT NULL THEN\n"
            + "    SELECT phase INTO bellows_flag FROM bellows.flags WHERE migration_id = " + id + ";\n"
            + "  END IF;\n"
            + "  IF bellows_flag IS NOT NULL AND bellows_flag <> 'contract' THEN\n"
            + "    RAISE EXCEPTION 'bellows: refusing to drop " + col + ": the flag of " + esc(m.id()) + " is %, not contract;"
            + " statements that name " + esc(f) + " would fail (42703) once it is gone', bellows_flag\n"
            + "      USING HINT = 'move the fleet forward one phase at a time (bellows flags set " + esc(m.id()) + " <next phase>)"
            + " up to contract, wait until bellows status shows every live instance in contract, then apply this file again';\n"
            + "  END IF;\n"
            + "  IF to_regclass('bellows.instances') IS NOT NULL THEN\n"
            + "    SELECT string_agg(app_name || ' (' || instance_id || ') in ' || (phases ->> " + id + "), ', ' ORDER BY app_name, instance_id)\n"
            + "      INTO bellows_behind " + live + " AND phases ->> " + id + " <> 'contract';\n"
            + "    IF bellows_behind IS NOT NULL THEN\n"
            + "      RAISE EXCEPTION 'bellows: refusing to drop " + col + ": live instances are not in contract: %', bellows_behind\n"
            + "        USING HINT = '" + (esc("bellows flags set " + m.id() + " contract")) + " moves them (each reports its phase with its next"
            + " heartbeat); when bellows status shows every live instance in contract, apply this file again';\n"
            + "    END IF;\n"
            + "    bellows_contract := bellows_flag = 'contract' OR EXISTS (SELECT 1 " + live + ");\n"
            + "  ELSE\n"
            + "    bellows_contract := bellows_flag = 'contract';\n"
            + "  END IF;\n"
            + "  LOCK TABLE " + qt + " IN SHARE MODE;\n"
            + "  IF bellows_contract THEN\n"
            + "    SELECT count(*) INTO bellows_diverging FROM " + qt + " WHERE " + to + " IS NULL AND " + upExpr(m) + " IS NOT NULL;\n"
            + "  ELSE\n"
            + "    SELECT count(*) INTO bellows_diverging FROM " + qt + " WHERE " + to + " IS DISTINCT FROM " + upExpr(m) + ";\n"
            + "  END IF;\n"
            + "  IF bellows_diverging > 0 THEN\n"
            + "    IF current_setting('" + ALLOW_DIVERGENCE_SETTING + "', true) = 'on' THEN\n"
            + "      RAISE WARNING 'bellows: % rows of " + esc(qt) + " would lose a value of " + esc(f) + "; dropping anyway ("
            + ALLOW_DIVERGENCE_SETTING + " = on)', bellows_diverging;\n"
            + "    ELSIF bellows_contract THEN\n"
            + "      RAISE EXCEPTION 'bellows: refusing to drop " + col + ": % rows have a value in " + esc(f) + " and none in "
            + esc(to) + " (written without Bellows since contract began)', bellows_diverging\n"
            + "        USING HINT = 'bellows gate " + esc(m.id()) + " lists clients that bypass Bellows. Do not backfill in contract"
            + " (it would overwrite newer values): bellows flags set " + esc(m.id()) + " switch copies " + esc(to) + " back, then"
            + " bellows backfill " + esc(m.id()) + " fills these rows; move to contract again and apply this file again';\n"
            + "    ELSE\n"
            + "      RAISE EXCEPTION 'bellows: refusing to drop " + col + ": % rows have " + esc(to)
            + " IS DISTINCT FROM up(" + esc(f) + ")', bellows_diverging\n"
            + "        USING HINT = " + literal(contractHint()) + ";\n"
            + "    END IF;\n"
            + "  END IF;\nEND\n"));
        up.append("DROP TRIGGER IF EXISTS ").append(trig).append(" ON ").append(qt).append(";\n");
        up.append("DROP FUNCTION IF EXISTS ").append(fn).append("();\n");
        if (from.ownedSequence() != null && !from.identity()) {
            up.append("-- the sequence behind ").append(f).append(" would be dropped with it: hand it to ").append(to).append('\n');
            up.append(dollar("BEGIN\n"
                + "  IF to_regclass(" + literal(from.ownedSequence()) + ") IS NOT NULL THEN\n"
                + "    ALTER SEQUENCE " + from.ownedSequence() + " OWNED BY " + qt + "." + to + ";\n"
                + "  END IF;\nEND\n"));
        }
        up.append(recordColumnOrder());
        up.append("ALTER TABLE ").append(qt).append(" DROP COLUMN IF EXISTS ").append(f).append(";\n");
        if (pkTwin != null) {
            up.append("-- the primary key went with ").append(f).append(": its twin on ").append(to).append(" takes over\n");
            up.append(dollar("BEGIN\n"
                + "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + regclass() + " AND contype = 'p') THEN\n"
                + "    ALTER TABLE " + qt + " ADD CONSTRAINT " + ident(pkName) + " PRIMARY KEY USING INDEX " + ident(pkTwin) + ";\n"
                + "  END IF;\nEND\n"));
        }
        if (from.defaultExpr() != null && (from.defaultVolatile()) && !from.identity()) {
            String def = m.isTypeChange() ? SqlText.replaceColumn(m.up().strip(), m.from(), "(" + from.defaultExpr() + ")")
                : from.defaultExpr();
            up.append("-- the old column's volatile default, now that only one column draws it\n");
            up.append("ALTER TABLE ").append(qt).append(" ALTER COLUMN ").append(to).append(" SET DEFAULT ").append(def).append(";\n");
        }
        up.append("RESET lock_timeout;\n");
        return new Plan.Step("contract", "drops the sync trigger and " + f + ", after a guard that refuses while any row has "
            + to + " IS DISTINCT FROM up(" + f + ")",
            "last: once every instance is in phase contract and bellows gate " + m.id() + " passes",
            true, up.toString(), null,
            "irreversible: the data of " + f + " is gone. To get the column back, restore it from a backup, or re-create it"
                + " and fill it from " + to + " with down(" + to + ") = " + downExpr(m));
    }

    /**
     * Records the table's columns in order while the old one still exists: after the drop, Bellows reads
     * legacy positional statements ({@code INSERT INTO t VALUES (...)}, {@code SELECT *}) in this order
     * instead of refusing them. A no-op once the column is gone.
     */
    private String recordColumnOrder() {
        return recordColumnOrder(m, regclass());
    }

    /**
     * The statements inside a contract guard's DO block that return when {@code m}'s old column is already gone and
     * refuse unless its flag and every live instance are in contract ({@code cols}: the columns, for messages).
     */
    static String fleetInContract(Migration m, String regclass, String cols, String hint) {
        String id = literal(m.id());
        String live = "FROM bellows.instances WHERE stopped_at IS NULL"
            + " AND last_seen > now() - greatest(interval '60 seconds', flush_interval_ms * interval '3 milliseconds')"
            + " AND phases ? " + id;
        return "  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " + regclass + " AND attname = " + literal(m.from())
            + " AND NOT attisdropped) THEN\n"
            + "    RAISE NOTICE 'bellows: " + cols + " is already dropped';\n    RETURN;\n  END IF;\n"
            + "  IF to_regclass('bellows.flags') IS NOT NULL THEN\n"
            + "    SELECT phase INTO bellows_flag FROM bellows.flags WHERE migration_id = " + id + ";\n  END IF;\n"
            + "  IF bellows_flag IS DISTINCT FROM 'contract' THEN\n"
            + "    RAISE EXCEPTION 'bellows: refusing to drop " + cols + ": the flag of " + esc(m.id()) + " is %, not contract',"
            + " coalesce(bellows_flag, 'not set')\n"
            + "      USING HINT = '" + hint + "';\n  END IF;\n"
            + "  IF to_regclass('bellows.instances') IS NOT NULL THEN\n"
            + "    SELECT string_agg(app_name || ' (' || instance_id || ') in ' || (phases ->> " + id + "), ', ' ORDER BY app_name, instance_id)\n"
            + "      INTO bellows_behind " + live + " AND phases ->> " + id + " <> 'contract';\n"
            + "    IF bellows_behind IS NOT NULL THEN\n"
            + "      RAISE EXCEPTION 'bellows: refusing to drop " + cols + ": live instances are not in contract: %', bellows_behind;\n"
            + "    END IF;\n  END IF;\n";
    }

    /** The contract step's record of the table's column order while {@code m}'s old column exists (shared by every plan). */
    static String recordColumnOrder(Migration m, String regclass) {
        return "-- the column order legacy code knows, for positional INSERTs and SELECT * after the drop\n"
            + "CREATE SCHEMA IF NOT EXISTS bellows;\n"
            + "CREATE TABLE IF NOT EXISTS bellows.column_order (schema_name text NOT NULL, table_name text NOT NULL,"
            + " migration_id text NOT NULL, columns text[] NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            + " PRIMARY KEY (schema_name, table_name, migration_id));\n"
            + "INSERT INTO bellows.column_order (schema_name, table_name, migration_id, columns)\n"
            + "  SELECT " + literal(m.schema()) + ", " + literal(m.table()) + ", " + literal(m.id())
            + ", array_agg(attname::text ORDER BY attnum) FROM pg_attribute\n"
            + "  WHERE attrelid = " + regclass + " AND attnum > 0 AND NOT attisdropped\n"
            + "  HAVING bool_or(attname = " + literal(m.from()) + ")\n"
            + "  ON CONFLICT DO NOTHING;\n";
    }

    /** The contract guard's hint: never the backfill, which in phase contract would revert newer writes. */
    private String contractHint() {
        return "run bellows backfill " + m.id() + " (in phase expand or switch), then this file again. In phase contract"
            + " bellows backfill refuses: it would copy stale values of " + m.from() + " over newer writes";
    }

    /** Text for inside a single-quoted string in a RAISE message ({@code %} is RAISE's placeholder). */
    private static String esc(String s) {
        return s.replace("'", "''").replace("%", "%%");
    }
}
