package dev.bellows.flyway;

import org.flywaydb.database.postgresql.PostgreSQLDatabaseType;

/**
 * Lets Flyway open {@code jdbc:bellows:postgresql:} URLs with the Bellows driver, the way Flyway's own
 * PostgreSQL type handles {@code jdbc:p6spy:postgresql:}. Found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/org.flywaydb.core.extensibility.Plugin}). Only the URL is claimed: once connected,
 * Flyway recognises the database by its metadata (PostgreSQL) and uses its own PostgreSQL support, so SQL
 * parsing, locking and the schema history behave exactly as with a plain URL, and a DataSource keeps working
 * as before.
 */
public final class BellowsDatabaseType extends PostgreSQLDatabaseType {
    static final String URL_PREFIX = "jdbc:bellows:postgresql:";
    static final String DRIVER = "dev.bellows.jdbc.BellowsDriver";

    @Override public String getName() {
        return "Bellows PostgreSQL";
    }

    @Override public boolean handlesJDBCUrl(String url) {
        return url != null && url.regionMatches(true, 0, URL_PREFIX, 0, URL_PREFIX.length());
    }

    @Override public String getDriverClass(String url, ClassLoader classLoader) {
        return DRIVER;
    }

    /** Connections are identified as PostgreSQL by Flyway's own type; this one only opens them. */
    @Override public boolean handlesDatabaseProductNameAndVersion(String databaseProductName, String databaseProductVersion,
                                                                 java.sql.Connection connection) {
        return false;
    }
}
