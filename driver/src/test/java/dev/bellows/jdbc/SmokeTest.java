package dev.bellows.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void connects() throws Exception {
        TestDb db = TestDb.create("smoke");
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertTrue(c.isWrapperFor(BellowsConnection.class));
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
        }
    }
}
