package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Phase;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.FilterType;
import org.springframework.data.annotation.Id;
import org.springframework.data.jdbc.repository.config.AbstractJdbcConfiguration;
import org.springframework.data.jdbc.repository.config.EnableJdbcRepositories;
import org.springframework.data.relational.core.mapping.Column;
import org.springframework.data.relational.core.mapping.Table;
import org.springframework.data.repository.CrudRepository;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcOperations;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Spring Data JDBC repositories in every phase: old code's entity (user_email) on the old view, new code's
 * entity (contact_email) on the new view, each application context started once and living through the
 * migration. Spring Data JDBC builds its INSERT and UPDATE column lists from the entity mapping, not from
 * {@code DatabaseMetaData} (which it reads only for the dialect), and asks for the id by name as generated key;
 * its SQL quotes every identifier. Save (INSERT), save (UPDATE), findById, a derived query and a
 * {@code @Query} method; stored values of both columns checked on a plain connection after every write.
 */
class SpringDataJdbcCompatTest {
    @Table("leads")
    public static class OldLead {
        @Id public Long id;
        @Column("user_email") public String email;
        public String name;
        public Integer score;
    }

    @Table("leads")
    public static class NewLead {
        @Id public Long id;
        @Column("contact_email") public String email;
        public String name;
        public Integer score;
    }

    public interface OldLeads extends CrudRepository<OldLead, Long> {
        List<OldLead> findByEmail(String email);

        @org.springframework.data.jdbc.repository.query.Query("SELECT * FROM leads WHERE user_email = :email")
        List<OldLead> byEmailStar(@org.springframework.data.repository.query.Param("email") String email);
    }

    public interface NewLeads extends CrudRepository<NewLead, Long> {
        List<NewLead> findByEmail(String email);

        @org.springframework.data.jdbc.repository.query.Query("SELECT * FROM leads WHERE contact_email = :email")
        List<NewLead> byEmailStar(@org.springframework.data.repository.query.Param("email") String email);
    }

    /** What both application versions share; the DataSource bean is registered per context. */
    abstract static class Common extends AbstractJdbcConfiguration {
        @Bean NamedParameterJdbcOperations namedParameterJdbcOperations(DataSource ds) {
            return new NamedParameterJdbcTemplate(ds);
        }

        @Bean PlatformTransactionManager transactionManager(DataSource ds) {
            return new DataSourceTransactionManager(ds);
        }
    }

    @Configuration
    @EnableJdbcRepositories(considerNestedRepositories = true, basePackageClasses = SpringDataJdbcCompatTest.class,
        includeFilters = @ComponentScan.Filter(type = FilterType.ASSIGNABLE_TYPE, classes = OldLeads.class))
    static class OldApp extends Common {
    }

    @Configuration
    @EnableJdbcRepositories(considerNestedRepositories = true, basePackageClasses = SpringDataJdbcCompatTest.class,
        includeFilters = @ComponentScan.Filter(type = FilterType.ASSIGNABLE_TYPE, classes = NewLeads.class))
    static class NewApp extends Common {
    }

    static AnnotationConfigApplicationContext context(DataSource ds, Class<?> app) {
        AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext();
        ctx.registerBean("dataSource", DataSource.class, () -> ds);
        ctx.register(app);
        ctx.refresh();
        return ctx;
    }

    private int n;

    @Test
    void repositoriesInEveryPhaseOldAndNewCode() throws Exception {
        CompatDb db = new CompatDb("compat_data_jdbc");
        try (AnnotationConfigApplicationContext oldCtx = context(db.old, OldApp.class)) {
            OldLeads oldRepo = oldCtx.getBean(OldLeads.class);
            AnnotationConfigApplicationContext[] newCtx = new AnnotationConfigApplicationContext[1];
            try {
                db.everyPhase(p -> oldWrites(db, oldRepo, p), p -> {
                    if (newCtx[0] == null) newCtx[0] = context(db.neu, NewApp.class); // new code deploys in expand
                    newWrites(db, newCtx[0].getBean(NewLeads.class), p);
                });
            } finally {
                if (newCtx[0] != null) newCtx[0].close();
            }
        }
    }

    static void oldWrites(CompatDb db, OldLeads repo, Phase p, String email, String changed) throws Exception {
        OldLead a = new OldLead();
        a.email = email;
        a.name = "old";
        a.score = 1;
        a = repo.save(a);
        db.assertStored(a.id, email, "old", p, "Spring Data JDBC save/INSERT (old entity)");
        a.email = changed;
        a.score = 2;
        repo.save(a);
        db.assertStored(a.id, changed, "old", p, "Spring Data JDBC save/UPDATE (old entity)");
        OldLead found = repo.findById(a.id).orElseThrow();
        assertEquals(changed, found.email, "findById (old) in " + p.label());
        assertEquals(Integer.valueOf(2), found.score);
        assertEquals(List.of(a.id), repo.findByEmail(changed).stream().map(l -> l.id).toList(), "derived query (old)");
        List<OldLead> star = repo.byEmailStar(changed);
        assertEquals(1, star.size(), "@Query SELECT * (old)");
        assertEquals(changed, star.get(0).email, "@Query SELECT * (old) maps user_email");
    }

    static void newWrites(CompatDb db, NewLeads repo, Phase p, String email, String changed) throws Exception {
        NewLead a = new NewLead();
        a.email = email;
        a.name = "new";
        a.score = 1;
        a = repo.save(a);
        db.assertStored(a.id, email, "new", p, "Spring Data JDBC save/INSERT (new entity)");
        a.email = changed;
        repo.save(a);
        db.assertStored(a.id, changed, "new", p, "Spring Data JDBC save/UPDATE (new entity)");
        assertEquals(changed, repo.findById(a.id).orElseThrow().email, "findById (new) in " + p.label());
        assertEquals(List.of(a.id), repo.findByEmail(changed).stream().map(l -> l.id).toList(), "derived query (new)");
        List<NewLead> star = repo.byEmailStar(changed);
        assertEquals(1, star.size(), "@Query SELECT * (new)");
        assertEquals(changed, star.get(0).email, "@Query SELECT * (new) maps contact_email");
    }

    private void oldWrites(CompatDb db, OldLeads repo, Phase p) throws Exception {
        oldWrites(db, repo, p, "old-" + (++n) + "@x.io", "old-upd-" + (++n) + "@x.io");
    }

    private void newWrites(CompatDb db, NewLeads repo, Phase p) throws Exception {
        newWrites(db, repo, p, "new-" + (++n) + "@x.io", "new-upd-" + (++n) + "@x.io");
    }
}
