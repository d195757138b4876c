package dev.bellows.compat;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Phase;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.TableField;
import org.jooq.UniqueKey;
import org.jooq.impl.DSL;
import org.jooq.impl.Internal;
import org.jooq.impl.SQLDataType;
import org.jooq.impl.TableImpl;
import org.jooq.impl.UpdatableRecordImpl;
import org.junit.jupiter.api.Test;

/**
 * jOOQ in every phase, old code on the old view and new code on the new view: plain SQL with bind values, the
 * DSL over names only ({@code table(name("leads"))}), and the DSL over table classes shaped like jOOQ's code
 * generator's output (schema-qualified, quoted, {@code UpdatableRecord.store()} with the identity returned through
 * {@code RETURNING}). Stored values of both columns checked on a plain connection after every write.
 */
class JooqCompatTest {
    /** What jOOQ's generator writes for {@code public.leads} as the legacy schema had it, or as the new one has it. */
    static final class Leads<R extends UpdatableRecordImpl<R>> extends TableImpl<R> {
        static final Leads<OldLeadsRecord> OLD = new Leads<>("user_email", OldLeadsRecord.class);
        static final Leads<NewLeadsRecord> NEW = new Leads<>("contact_email", NewLeadsRecord.class);

        private final Class<R> recordType;
        final TableField<R, Long> ID = createField(name("id"), SQLDataType.BIGINT.nullable(false).identity(true), this, "");
        final TableField<R, String> EMAIL;
        final TableField<R, String> NAME = createField(name("name"), SQLDataType.CLOB, this, "");
        final TableField<R, Integer> SCORE = createField(name("score"), SQLDataType.INTEGER, this, "");

        private Leads(String emailColumn, Class<R> recordType) {
            super(name("public", "leads"));
            this.recordType = recordType;
            EMAIL = createField(name(emailColumn), SQLDataType.CLOB, this, "");
        }

        @Override public Class<R> getRecordType() { return recordType; }
        @Override public UniqueKey<R> getPrimaryKey() {
            return Internal.createUniqueKey(this, name("leads_pkey"), new TableField[] {ID}, true);
        }
    }

    /** The generated record class of the legacy table. */
    public static final class OldLeadsRecord extends UpdatableRecordImpl<OldLeadsRecord> {
        public OldLeadsRecord() {
            super(Leads.OLD);
        }
    }

    /** The generated record class of the new table. */
    public static final class NewLeadsRecord extends UpdatableRecordImpl<NewLeadsRecord> {
        public NewLeadsRecord() {
            super(Leads.NEW);
        }
    }

    private int n;

    private static DSLContext dsl(DataSource ds) {
        return DSL.using(ds, SQLDialect.POSTGRES);
    }

    @Test
    void plainSqlAndDslInEveryPhaseOldAndNewCode() throws Exception {
        CompatDb db = new CompatDb("compat_jooq");
        db.everyPhase(p -> writes(db, dsl(db.old), Leads.OLD, p), p -> writes(db, dsl(db.neu), Leads.NEW, p));
    }

    private <R extends UpdatableRecordImpl<R>> void writes(CompatDb db, DSLContext ctx, Leads<R> leads, Phase p) throws Exception {
        String col = leads.EMAIL.getName();
        String who = col.equals("user_email") ? "old" : "new";
        // plain SQL with bind values
        String e = who + "-plain-" + (++n) + "@x.io";
        long id = ctx.fetchOne("INSERT INTO leads (" + col + ", name) VALUES (?, ?) RETURNING id", e, "plain").get(0, Long.class);
        db.assertStored(id, e, "plain", p, "jOOQ plain SQL insert (" + who + ")");
        e = who + "-plain-upd-" + (++n) + "@x.io";
        assertEquals(1, ctx.execute("UPDATE leads SET " + col + " = ? WHERE id = ?", e, id));
        db.assertStored(id, e, "plain", p, "jOOQ plain SQL update (" + who + ")");
        assertEquals(e, ctx.fetchOne("SELECT " + col + " FROM leads WHERE id = ?", id).get(0, String.class));
        Record star = ctx.fetchOne("SELECT * FROM leads WHERE id = ?", id);
        assertEquals(e, star.get(col, String.class), "jOOQ plain SQL SELECT * (" + who + ") in " + p.label());

        // DSL over names, no table classes
        Field<Long> fid = field(name("id"), Long.class);
        Field<String> femail = field(name(col), String.class);
        Field<String> fname = field(name("name"), String.class);
        e = who + "-dsl-" + (++n) + "@x.io";
        id = ctx.insertInto(table(name("leads")), femail, fname).values(e, "dsl").returningResult(fid).fetchOne().value1();
        db.assertStored(id, e, "dsl", p, "jOOQ DSL insert (" + who + ")");
        e = who + "-dsl-upd-" + (++n) + "@x.io";
        assertEquals(1, ctx.update(table(name("leads"))).set(femail, e).where(fid.eq(id)).execute());
        db.assertStored(id, e, "dsl", p, "jOOQ DSL update (" + who + ")");
        assertEquals(e, ctx.select(femail).from(table(name("leads"))).where(fid.eq(id)).fetchOne().value1());

        // DSL over generated-style table classes: UpdatableRecord.store() inserts, then updates
        e = who + "-gen-" + (++n) + "@x.io";
        R r = ctx.newRecord(leads);
        r.set(leads.EMAIL, e);
        r.set(leads.NAME, "gen");
        r.store();
        id = r.get(leads.ID);
        db.assertStored(id, e, "gen", p, "jOOQ UpdatableRecord.store() insert (" + who + ")");
        e = who + "-gen-upd-" + (++n) + "@x.io";
        r.set(leads.EMAIL, e);
        r.store();
        db.assertStored(id, e, "gen", p, "jOOQ UpdatableRecord.store() update (" + who + ")");
        R back = ctx.selectFrom(leads).where(leads.ID.eq(id)).fetchOne();
        assertEquals(e, back.get(leads.EMAIL), "jOOQ selectFrom (" + who + ") in " + p.label());
        e = who + "-gen-set-" + (++n) + "@x.io";
        assertEquals(1, ctx.update(leads).set(leads.EMAIL, e).set(leads.SCORE, 3).where(leads.ID.eq(id)).execute());
        db.assertStored(id, e, "gen", p, "jOOQ DSL update on the table class (" + who + ")");
        e = who + "-gen-ins-" + (++n) + "@x.io";
        id = ctx.insertInto(leads).set(leads.EMAIL, e).set(leads.NAME, "gen").returning(leads.ID).fetchOne().get(leads.ID);
        db.assertStored(id, e, "gen", p, "jOOQ DSL insert on the table class (" + who + ")");
    }
}
