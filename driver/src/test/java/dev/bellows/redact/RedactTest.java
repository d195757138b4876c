package dev.bellows.redact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The masking rule, case by case: which names are secret, and what each rendering keeps. */
class RedactTest {
    @ParameterizedTest
    @CsvSource({
        "password, true", "PASSWORD, true", "sslpassword, true", "SSLPassword, true", "pass%77ord, true",
        "sslkey, true", "api_token, true", "clientSecret, true", "aws_credentials, true", "pwd, true",
        "user, false", "ssl, false", "sslmode, false", "ApplicationName, false", "currentSchema, false", "bellows.rules, false"})
    void secretNames(String name, boolean secret) {
        assertEquals(secret, Redact.isSecret(name), name);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "jdbc:postgresql://h/db?user=u&password=s3cr3t&ssl=true | jdbc:postgresql://h/db?user=u&password=***&ssl=true",
        "jdbc:postgresql://h/db?PassWord=s3cr3t | jdbc:postgresql://h/db?PassWord=***",
        "jdbc:postgresql://h/db?pass%77ord=s3cr3t&sslpassword=k3y | jdbc:postgresql://h/db?pass%77ord=***&sslpassword=***",
        "jdbc:postgresql://u:s3cr3t@h:5432/db | jdbc:postgresql://u:***@h:5432/db",
        "jdbc:postgresql://h/db?password=a=b&c=d | jdbc:postgresql://h/db?password=***&c=d",
        "jdbc:postgresql://h/db | jdbc:postgresql://h/db",
        "jdbc:postgresql://h/db?sslkey=/keys/k.pk8&token=t0k | jdbc:postgresql://h/db?sslkey=***&token=***"})
    void urls(String url, String masked) {
        assertEquals(masked, Redact.url(url));
    }

    @Test
    void freeTextMasksUrlsAndPairsWherever_theyAppear() {
        String t = Redact.text("cannot connect to jdbc:postgresql://h/db?password=p,w;x&user=u: refused; retry with"
            + " password='two words' or token = abc, user=bob");
        assertFalse(t.contains("p,w"), t);
        assertFalse(t.contains("two words"), t);
        assertFalse(t.contains("abc"), t);
        assertTrue(t.contains("user=bob"), t);
        assertTrue(t.contains("user=u"), t);
        assertEquals("no secrets here", Redact.text("no secrets here"));
    }

    @Test
    void locationDropsTheQuery() {
        assertEquals("jdbc:postgresql://u:***@h/db", Redact.location("jdbc:postgresql://u:pw@h/db?password=x"));
    }

    @Test
    void propertiesAreSortedAndMasked() {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", "s3cr3t");
        assertEquals("{password=***, user=app}", Redact.properties(p));
    }
}
