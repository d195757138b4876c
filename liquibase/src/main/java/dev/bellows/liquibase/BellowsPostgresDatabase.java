package dev.bellows.liquibase;

import liquibase.database.DatabaseConnection;
import liquibase.database.core.PostgresDatabase;

/**
 * Tells Liquibase which driver opens {@code jdbc:bellows:postgresql:} URLs, so {@code --url} (and the API and
 * Spring Boot's {@code spring.liquibase.url}) work without a driver setting. Found by Liquibase's service
 * loading ({@code META-INF/services/liquibase.database.Database}). Only the URL is claimed: once connected,
 * Liquibase recognises the database by its metadata (PostgreSQL) and uses its own PostgreSQL support, exactly
 * as with a plain URL or a DataSource.
 */
public class BellowsPostgresDatabase extends PostgresDatabase {
    static final String URL_PREFIX = "jdbc:bellows:postgresql:";
    static final String DRIVER = "dev.bellows.jdbc.BellowsDriver";

    @Override public String getDefaultDriver(String url) {
        return url != null && url.regionMatches(true, 0, URL_PREFIX, 0, URL_PREFIX.length()) ? DRIVER : null;
    }

    /** Never chosen for a connection: Liquibase's own PostgreSQL support handles it. */
    @Override public boolean isCorrectDatabaseImplementation(DatabaseConnection conn) {
        return false;
    }

    @Override public String getShortName() {
        return "bellows-postgresql";
    }
}
