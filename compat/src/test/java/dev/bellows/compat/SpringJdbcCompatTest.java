package dev.bellows.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bellows.rules.Phase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.core.simple.SimpleJdbcInsert;

/**
 * Spring JDBC in every phase, old code and new code: {@code SimpleJdbcInsert} (column list from metadata, compiled
 * once at start-up or compiled in the current phase, and one that lists both columns and binds NULL for the one the
 * bean lacks), {@code JdbcTemplate}, {@code NamedParameterJdbcTemplate} and {@code JdbcClient}. After every write the
 * stored values of both columns are checked on a plain connection.
 */
class SpringJdbcCompatTest {
    private long n;

    private String email(String tag) {
        return tag + "-" + (++n) + "@x.io";
    }

    @Test
    void everyPhaseOldAndNewCode() throws Exception {
        CompatDb db = new CompatDb("compat_spring");
        // old code's SimpleJdbcInsert, compiled at start-up in off: metadata lists user_email (contact_email does not exist)
        SimpleJdbcInsert oldAtStartup = new SimpleJdbcInsert(db.old).withTableName("leads").usingGeneratedKeyColumns("id");
        JdbcTemplate oldJdbc = new JdbcTemplate(db.old);
        NamedParameterJdbcTemplate newNamed = new NamedParameterJdbcTemplate(db.neu);
        JdbcClient newClient = JdbcClient.create(db.neu);

        Phase p = Phase.OFF;
        String e = email("off");
        long id = oldAtStartup.executeAndReturnKey(Map.of("user_email", e, "name", "off")).longValue();
        db.assertStored(id, e, "off", p, "SimpleJdbcInsert (old, compiled at start-up)");
        e = email("off-upd");
        oldJdbc.update("UPDATE leads SET user_email = ? WHERE id = ?", e, id);
        db.assertStored(id, e, "off", p, "JdbcTemplate update (old)");

        db.addColumn();
        SimpleJdbcInsert newAtStartup = null;
        for (Phase ph : List.of(Phase.EXPAND, Phase.SWITCH, Phase.CONTRACT)) {
            if (ph == Phase.SWITCH) db.backfill();
            db.phase(ph);
            writes(db, ph, oldAtStartup, oldJdbc, newNamed, newClient);
            if (newAtStartup == null) { // new code deploys in expand and compiles its insert then
                newAtStartup = new SimpleJdbcInsert(db.neu).withTableName("leads").usingGeneratedKeyColumns("id");
            }
            e = email("new-startup");
            id = newAtStartup.executeAndReturnKey(Map.of("contact_email", e, "name", "new")).longValue();
            db.assertStored(id, e, "new", ph, "SimpleJdbcInsert (new, compiled in expand)");
        }
        db.dropOldColumn();
        writes(db, Phase.CONTRACT, oldAtStartup, oldJdbc, newNamed, newClient);
        e = email("new-startup");
        id = newAtStartup.executeAndReturnKey(Map.of("contact_email", e, "name", "new")).longValue();
        db.assertStored(id, e, "new", Phase.CONTRACT, "SimpleJdbcInsert (new, compiled in expand)");
    }

    private void writes(CompatDb db, Phase p, SimpleJdbcInsert oldAtStartup, JdbcTemplate oldJdbc,
                        NamedParameterJdbcTemplate newNamed, JdbcClient newClient) throws Exception {
        String e = email("old-startup");
        long id = oldAtStartup.executeAndReturnKey(Map.of("user_email", e, "name", "old")).longValue();
        db.assertStored(id, e, "old", p, "SimpleJdbcInsert (old, compiled at start-up)");

        // compiled now: the old view lists user_email and not contact_email (the data-loss case)
        e = email("old-now");
        id = new SimpleJdbcInsert(db.old).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("user_email", e, "name", "old")).longValue();
        db.assertStored(id, e, "old", p, "SimpleJdbcInsert (old, compiled now)");
        e = email("new-now");
        id = new SimpleJdbcInsert(db.neu).withTableName("leads").usingGeneratedKeyColumns("id")
            .executeAndReturnKey(Map.of("contact_email", e, "name", "new")).longValue();
        db.assertStored(id, e, "new", p, "SimpleJdbcInsert (new, compiled now)");

        if (!db.dropped()) {
            // a writer whose column list names both (metadata read elsewhere): NULL bound for the one its bean lacks
            e = email("both-old");
            Map<String, Object> bean = new HashMap<>();
            bean.put("user_email", e);
            bean.put("name", "both");
            id = new SimpleJdbcInsert(db.old).withTableName("leads").usingColumns("user_email", "name", "contact_email")
                .usingGeneratedKeyColumns("id").executeAndReturnKey(bean).longValue();
            db.assertStored(id, e, "both", p, "SimpleJdbcInsert listing both (old bean)");
            e = email("both-new");
            bean = new HashMap<>();
            bean.put("contact_email", e);
            bean.put("name", "both");
            id = new SimpleJdbcInsert(db.neu).withTableName("leads").usingColumns("user_email", "name", "contact_email")
                .usingGeneratedKeyColumns("id").executeAndReturnKey(bean).longValue();
            db.assertStored(id, e, "both", p, "SimpleJdbcInsert listing both (new bean)");
        }

        e = email("old-upd");
        oldJdbc.update("UPDATE leads SET user_email = ? WHERE id = ?", e, id);
        db.assertStored(id, e, id == 0 ? "" : nameOf(db, id), p, "JdbcTemplate update (old)");
        assertEquals(e, oldJdbc.queryForObject("SELECT user_email FROM leads WHERE id = ?", String.class, id));
        e = email("new-upd");
        newNamed.update("UPDATE leads SET contact_email = :e WHERE id = :id", Map.of("e", e, "id", id));
        db.assertStored(id, e, nameOf(db, id), p, "NamedParameterJdbcTemplate update (new)");
        assertEquals(e, newClient.sql("SELECT contact_email FROM leads WHERE id = ?").param(id).query(String.class).single());
        assertEquals(e, oldJdbc.queryForObject("SELECT user_email FROM leads WHERE id = ?", String.class, id));
    }

    private static String nameOf(CompatDb db, long id) throws Exception {
        return db.query("SELECT name FROM leads WHERE id = " + id);
    }
}
