package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.bellows.rules.Phase;
import java.io.InputStream;
import javax.sql.DataSource;
import org.apache.ibatis.annotations.Insert;
import org.apache.ibatis.annotations.Options;
import org.apache.ibatis.annotations.Param;
import org.apache.ibatis.annotations.Select;
import org.apache.ibatis.annotations.Update;
import org.apache.ibatis.builder.xml.XMLMapperBuilder;
import org.apache.ibatis.mapping.Environment;
import org.apache.ibatis.session.Configuration;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;
import org.apache.ibatis.session.SqlSessionFactoryBuilder;
import org.apache.ibatis.transaction.jdbc.JdbcTransactionFactory;
import org.junit.jupiter.api.Test;

/**
 * MyBatis in every phase, old code on the old view and new code on the new view: annotation mappers with
 * {@code useGeneratedKeys} and the key column named ({@code prepareStatement(sql, new String[] {"id"})}), XML
 * mappers with {@code useGeneratedKeys} and no key column ({@code RETURN_GENERATED_KEYS}: pgjdbc's
 * {@code RETURNING *}, the key taken by position) and a {@code SELECT *} result map, auto-mapping with
 * {@code mapUnderscoreToCamelCase}. Stored values of both columns checked on a plain connection after every write.
 */
class MyBatisCompatTest {
    /** A row as old code's bean has it (no contactEmail) or as new code's has it (no userEmail). */
    public static class Lead {
        public Long id;
        public String userEmail;
        public String contactEmail;
        public String name;
        public Integer score;

        String email(boolean neu) {
            return neu ? contactEmail : userEmail;
        }
    }

    public interface OldAnnotated {
        @Insert("INSERT INTO leads (user_email, name, score) VALUES (#{userEmail}, #{name}, #{score})")
        @Options(useGeneratedKeys = true, keyProperty = "id", keyColumn = "id")
        int insert(Lead l);

        @Update("UPDATE leads SET user_email = #{email} WHERE id = #{id}")
        int update(@Param("id") long id, @Param("email") String email);

        @Select("SELECT id, user_email, name, score FROM leads WHERE id = #{id}")
        Lead find(long id);
    }

    public interface NewAnnotated {
        @Insert("INSERT INTO leads (contact_email, name, score) VALUES (#{contactEmail}, #{name}, #{score})")
        @Options(useGeneratedKeys = true, keyProperty = "id", keyColumn = "id")
        int insert(Lead l);

        @Update("UPDATE leads SET contact_email = #{email} WHERE id = #{id}")
        int update(@Param("id") long id, @Param("email") String email);

        @Select("SELECT id, contact_email, name, score FROM leads WHERE id = #{id}")
        Lead find(long id);
    }

    /** Bound to OldLeadMapper.xml / NewLeadMapper.xml. */
    public interface OldXml {
        int insert(Lead l);

        int update(Lead l);

        Lead find(long id);
    }

    public interface NewXml {
        int insert(Lead l);

        int update(Lead l);

        Lead find(long id);
    }

    static SqlSessionFactory factory(DataSource ds, Class<?> annotated, String xml) throws Exception {
        Configuration c = new Configuration(new Environment("compat", new JdbcTransactionFactory(), ds));
        c.setMapUnderscoreToCamelCase(true);
        c.addMapper(annotated);
        try (InputStream in = MyBatisCompatTest.class.getResourceAsStream(xml)) {
            assertNotNull(in, xml);
            new XMLMapperBuilder(in, c, xml, c.getSqlFragments()).parse();
        }
        return new SqlSessionFactoryBuilder().build(c);
    }

    private int n;

    @Test
    void annotationAndXmlMappersInEveryPhaseOldAndNewCode() throws Exception {
        CompatDb db = new CompatDb("compat_mybatis");
        SqlSessionFactory old = factory(db.old, OldAnnotated.class, "OldLeadMapper.xml");
        SqlSessionFactory[] neu = new SqlSessionFactory[1];
        db.everyPhase(p -> writes(db, old, false, p), p -> {
            if (neu[0] == null) neu[0] = factory(db.neu, NewAnnotated.class, "NewLeadMapper.xml");
            writes(db, neu[0], true, p);
        });
    }

    private void writes(CompatDb db, SqlSessionFactory f, boolean neu, Phase p) throws Exception {
        String who = neu ? "new" : "old";
        try (SqlSession s = f.openSession(true)) {
            // annotations, generated key by column name
            Lead l = lead(neu, who + "-ann-" + (++n) + "@x.io", "ann");
            if (neu) s.getMapper(NewAnnotated.class).insert(l); else s.getMapper(OldAnnotated.class).insert(l);
            assertNotNull(l.id, "useGeneratedKeys (annotation, keyColumn) set the id");
            db.assertStored(l.id, l.email(neu), "ann", p, "MyBatis @Insert useGeneratedKeys (" + who + ")");
            String e = who + "-ann-upd-" + (++n) + "@x.io";
            assertEquals(1, neu ? s.getMapper(NewAnnotated.class).update(l.id, e) : s.getMapper(OldAnnotated.class).update(l.id, e));
            db.assertStored(l.id, e, "ann", p, "MyBatis @Update (" + who + ")");
            Lead back = neu ? s.getMapper(NewAnnotated.class).find(l.id) : s.getMapper(OldAnnotated.class).find(l.id);
            assertEquals(e, back.email(neu), "MyBatis @Select (" + who + ") in " + p.label());

            // XML, generated keys through RETURN_GENERATED_KEYS (RETURNING *), SELECT * into a result map
            l = lead(neu, who + "-xml-" + (++n) + "@x.io", "xml");
            if (neu) s.getMapper(NewXml.class).insert(l); else s.getMapper(OldXml.class).insert(l);
            assertNotNull(l.id, "useGeneratedKeys (XML, no keyColumn) set the id");
            db.assertStored(l.id, l.email(neu), "xml", p, "MyBatis XML insert useGeneratedKeys (" + who + ")");
            Lead upd = lead(neu, who + "-xml-upd-" + (++n) + "@x.io", "xml");
            upd.id = l.id;
            assertEquals(1, neu ? s.getMapper(NewXml.class).update(upd) : s.getMapper(OldXml.class).update(upd));
            db.assertStored(l.id, upd.email(neu), "xml", p, "MyBatis XML update (" + who + ")");
            back = neu ? s.getMapper(NewXml.class).find(l.id) : s.getMapper(OldXml.class).find(l.id);
            assertEquals(upd.email(neu), back.email(neu), "MyBatis XML SELECT * result map (" + who + ") in " + p.label());
            assertEquals(Integer.valueOf(7), back.score);
        }
    }

    private static Lead lead(boolean neu, String email, String name) {
        Lead l = new Lead();
        if (neu) l.contactEmail = email; else l.userEmail = email;
        l.name = name;
        l.score = 7;
        return l;
    }
}
