package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Phase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.List;
import javax.sql.DataSource;
import org.hibernate.SessionFactory;
import org.hibernate.annotations.DynamicInsert;
import org.hibernate.cfg.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Hibernate with schema validation on (a new SessionFactory per phase: validation at every start-up), old code's
 * entity with and without {@code @DynamicInsert} on the old view, new code's entity on the new view; persist,
 * update and read in every phase and after the drop, stored values of both columns checked after every write.
 */
class HibernateCompatTest {
    @Entity(name = "OldLead")
    @Table(name = "leads")
    public static class OldLead {
        @Id @GeneratedValue(strategy = GenerationType.IDENTITY) Long id;
        @Column(name = "user_email") String email;
        String name;
        Integer score;
    }

    @Entity(name = "OldLeadDynamic")
    @Table(name = "leads")
    @DynamicInsert
    public static class OldLeadDynamic {
        @Id @GeneratedValue(strategy = GenerationType.IDENTITY) Long id;
        @Column(name = "user_email") String email;
        String name;
        Integer score;
    }

    @Entity(name = "NewLead")
    @Table(name = "leads")
    public static class NewLead {
        @Id @GeneratedValue(strategy = GenerationType.IDENTITY) Long id;
        @Column(name = "contact_email") String email;
        String name;
        Integer score;
    }

    private int n;

    private static SessionFactory sessionFactory(DataSource ds, Class<?>... entities) {
        Configuration cfg = new Configuration();
        for (Class<?> e : entities) cfg.addAnnotatedClass(e);
        cfg.getProperties().put("hibernate.connection.datasource", ds);
        cfg.setProperty("hibernate.hbm2ddl.auto", "validate");
        return cfg.buildSessionFactory();
    }

    @Test
    void everyPhaseOldAndNewCodeWithValidation() throws Exception {
        CompatDb db = new CompatDb("compat_hibernate");
        oldWrites(db, Phase.OFF);
        db.addColumn();
        for (Phase p : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            if (p == Phase.SWITCH) db.backfill();
            db.phase(p);
            oldWrites(db, p);
            newWrites(db, p);
        }
        db.dropOldColumn();
        oldWrites(db, Phase.CONTRACT);
        newWrites(db, Phase.CONTRACT);
    }

    private void oldWrites(CompatDb db, Phase p) throws Exception {
        try (SessionFactory sf = sessionFactory(db.old, OldLead.class, OldLeadDynamic.class)) {
            OldLead a = new OldLead();
            a.email = "old-" + (++n) + "@x.io";
            a.name = "old";
            sf.inTransaction(s -> s.persist(a));
            db.assertStored(a.id, a.email, "old", p, "Hibernate persist (old)");
            OldLeadDynamic d = new OldLeadDynamic();
            d.email = "dyn-" + (++n) + "@x.io";
            d.name = "dynamic";
            sf.inTransaction(s -> s.persist(d));
            db.assertStored(d.id, d.email, "dynamic", p, "Hibernate @DynamicInsert persist (old)");
            String updated = "old-upd-" + (++n) + "@x.io";
            sf.inTransaction(s -> s.find(OldLead.class, a.id).email = updated);
            db.assertStored(a.id, updated, "old", p, "Hibernate dirty-checking update (old)");
            assertEquals(updated, sf.fromTransaction(s -> s.find(OldLead.class, a.id).email));
            Long count = sf.fromTransaction(s -> s.createSelectionQuery(
                "select count(*) from OldLead where email = :e", Long.class).setParameter("e", updated).getSingleResult());
            assertEquals(Long.valueOf(1), count);
        }
    }

    private void newWrites(CompatDb db, Phase p) throws Exception {
        try (SessionFactory sf = sessionFactory(db.neu, NewLead.class)) {
            NewLead a = new NewLead();
            a.email = "new-" + (++n) + "@x.io";
            a.name = "new";
            sf.inTransaction(s -> s.persist(a));
            db.assertStored(a.id, a.email, "new", p, "Hibernate persist (new)");
            String updated = "new-upd-" + (++n) + "@x.io";
            sf.inTransaction(s -> s.find(NewLead.class, a.id).email = updated);
            db.assertStored(a.id, updated, "new", p, "Hibernate dirty-checking update (new)");
            assertEquals(updated, sf.fromTransaction(s -> s.find(NewLead.class, a.id).email));
        }
    }
}
