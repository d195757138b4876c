package dev.bellows.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import net.sf.jsqlparser.JSQLParserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.error.MarkedYAMLException;

class RulesFileTest {

    private static Path resource(String name) {
        try {
            return Path.of(RulesFileTest.class.getResource("/rules/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RulesException fails(String yaml) {
        return assertThrows(RulesException.class, () -> RulesFile.parse(yaml, "rules.yaml"));
    }

    private static Migration only(String yaml) throws RulesException {
        RuleSet rules = RulesFile.parse(yaml, "rules.yaml");
        assertEquals(1, rules.migrations().size());
        return rules.migrations().get(0);
    }

    private static String rename(String table, String from, String to) {
        return "migrations:\n  - id: m\n    table: " + table + "\n    from: " + from + "\n    to: " + to + "\n    phase: expand\n";
    }

    /** The same with every value YAML-single-quoted, so SQL double quotes pass through untouched. */
    private static String renameQuoted(String table, String from, String to) {
        return rename(yamlQuote(table), yamlQuote(from), yamlQuote(to));
    }

    private static String yamlQuote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    // ------------------------------------------------------------------ valid files

    @Test
    void columnRemovalHasNoToAndAnOptionalRemovedValue() throws RulesException {
        RuleSet rules = RulesFile.parse("migrations:\n"
            + "  - id: tickets-legacy-code\n    table: tickets\n    from: Legacy_Code\n    removed_value: \"'n/a'\"\n"
            + "    type: text\n    phase: switch\n"
            + "  - id: tickets-priority\n    table: tickets\n    from: priority\n    phase: off\n", "rules.yaml");
        Migration code = rules.get("tickets-legacy-code");
        assertTrue(code.isRemoval());
        assertNull(code.to());
        assertEquals("legacy_code", code.from());
        assertEquals("'n/a'", code.removedValue());
        assertEquals("text", code.type());
        assertEquals(new Migration("tickets-legacy-code", "public", "tickets", "legacy_code", null, null, null, "text",
            Phase.SWITCH, 2, "'n/a'", null), code);
        Migration priority = rules.get("tickets-priority");
        assertTrue(priority.isRemoval());
        assertNull(priority.removedValue());
        assertEquals(Migration.removal("tickets-priority", "tickets", "priority", null, Phase.OFF), priority.withPhase(Phase.OFF));
        // the removed value is content: changing it changes the hash instances report
        RuleSet other = RulesFile.parse("migrations:\n  - id: tickets-legacy-code\n    table: tickets\n    from: legacy_code\n"
            + "    removed_value: \"NULL\"\n    type: text\n    phase: switch\n"
            + "  - id: tickets-priority\n    table: tickets\n    from: priority\n    phase: off\n", "rules.yaml");
        assertTrue(!rules.contentHash().equals(other.contentHash()));
    }

    @Test
    void notNullHasNoToAndADefaultValue() throws RulesException {
        Migration m = only("migrations:\n  - id: tickets-body\n    table: tickets\n    from: body\n    not_null: true\n"
            + "    default_value: \"''\"\n    phase: expand\n");
        assertTrue(m.isNotNull());
        assertTrue(!m.isRemoval());
        assertNull(m.to());
        assertEquals("''", m.defaultValue());
        assertEquals(Migration.notNull("tickets-body", "tickets", "body", "''", Phase.EXPAND), m);
    }

    @Test
    void validFileRoundTrip() throws RulesException {
        Path file = resource("valid.yaml");
        RuleSet rules = RulesFile.load(file);

        assertEquals(file.toString(), rules.source());
        assertEquals(5, rules.migrations().size());

        Migration leads = rules.get("leads-contact-email");
        assertEquals(new Migration("leads-contact-email", "public", "leads", "user_email", "contact_email",
            null, null, null, Phase.EXPAND, 3), leads);
        assertEquals(3, leads.line());
        assertTrue(!leads.isTypeChange());

        Migration orders = rules.get("orders-status-code");
        assertEquals(9, orders.line());
        assertEquals("public.orders", orders.qualifiedTable());
        assertEquals("status", orders.from());
        assertEquals("status_code", orders.to());
        assertEquals("integer", orders.type());
        assertEquals("CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 "
            + "WHEN 'cancelled' THEN 4 END", orders.up());
        assertEquals("CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' "
            + "WHEN 4 THEN 'cancelled' END", orders.down());
        assertEquals(Phase.EXPAND, orders.phase());
        assertTrue(orders.isTypeChange());

        Migration customers = rules.get("Sales.Customer_Name");
        assertEquals(18, customers.line());
        assertEquals("sales", customers.schema());
        assertEquals("customers", customers.table());
        assertEquals("fullname", customers.from());
        assertEquals("DisplayName", customers.to());
        assertEquals(Phase.SWITCH, customers.phase());

        Migration invoices = rules.get("2");
        assertEquals(24, invoices.line());
        assertEquals("Billing", invoices.schema());
        assertEquals("Invoice Lines", invoices.table());
        assertEquals("round(amount * 100)::bigint", invoices.up(), "folded block scalar, trimmed");
        assertEquals("amount_cents / 100.0", invoices.down());
        assertEquals("bigint", invoices.type());
        assertEquals(Phase.OFF, invoices.phase(), "plain 'off' is a YAML 1.1 boolean; its text still counts");

        Migration phone = rules.get("leads.phone");
        assertEquals(34, phone.line());
        assertEquals(Phase.CONTRACT, phone.phase());

        assertEquals(List.of("leads-contact-email", "orders-status-code", "Sales.Customer_Name", "2", "leads.phone"),
            rules.migrations().stream().map(Migration::id).toList(), "file order is kept");
    }

    @Test
    void parsedRulesEqualRulesBuiltInCode() throws RulesException {
        RuleSet parsed = RulesFile.parse("migrations:\n"
            + "  - {id: a, table: leads, from: user_email, to: contact_email, phase: expand}\n"
            + "  - {id: b, table: orders, from: status, to: status_code, phase: switch, up: 'status::int', down: 'status_code::text'}\n",
            "inline");
        RuleSet code = RuleSet.of(Migration.rename("a", "leads", "user_email", "contact_email", Phase.EXPAND),
            Migration.typeChange("b", "orders", "status", "status_code", "status::int", "status_code::text", Phase.SWITCH));
        assertEquals(code, parsed);
        assertEquals(code.contentHash(), parsed.contentHash());
        assertEquals("inline", parsed.source());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "# nothing yet\n", "---\n", "migrations: []\n", "migrations:\n", "migrations: ~\n",
        "migrations:\n#  - id: a\n#    table: leads\n"})
    void emptyRuleSets(String yaml) throws RulesException {
        RuleSet rules = RulesFile.parse(yaml, "rules.yaml");
        assertTrue(rules.isEmpty());
        assertEquals("rules.yaml", rules.source());
    }

    @Test
    void emptyFiles() throws RulesException {
        assertTrue(RulesFile.load(resource("empty.yaml")).isEmpty());
        assertTrue(RulesFile.load(resource("empty-list.yaml")).isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"off,OFF", "Off,OFF", "EXPAND,EXPAND", "switch,SWITCH", "' contract ',CONTRACT", "'\"expand\"',EXPAND"})
    void phasesAnyCase(String written, Phase expected) throws RulesException {
        String yaml = "migrations:\n  - id: a\n    table: t\n    from: a\n    to: b\n    phase: " + written + "\n";
        assertEquals(expected, only(yaml).phase());
    }

    @Test
    void byteOrderMarkAndUtf8(@TempDir Path dir) throws IOException, RulesException {
        Path file = dir.resolve("bom.yaml");
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] body = rename("kunden", "straße", "strasse_neu").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, all, 0, bom.length);
        System.arraycopy(body, 0, all, bom.length, body.length);
        Files.write(file, all);
        Migration m = RulesFile.load(file).get("m");
        assertEquals("straße", m.from());
        assertEquals(2, m.line());
    }

    // ------------------------------------------------------------------ identifiers

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // table written         | schema | table       | from written | from
        "leads                   | public | leads       | user_email   | user_email",
        "Leads                   | public | leads       | UserEmail    | useremail",
        "sales.orders            | sales  | orders      | USER_EMAIL   | user_email",
        "\"Sales\".Orders         | Sales  | orders      | \"UserEmail\"  | UserEmail",
        "sales.\"Order.Items\"    | sales  | Order.Items | \"user email\" | user email",
        "\"Order Items\"          | public | Order Items | \"a\"\"b\"     | a\"b",
        "\"public\".\"leads\"      | public | leads       | _x$1         | _x$1",
        "ÄRGER                   | public | Ärger       | Übel         | Übel",
    })
    void identifiersAreCatalogNames(String tableText, String schema, String table, String fromText, String from)
            throws RulesException {
        Migration m = only(renameQuoted(tableText, fromText, "replacement"));
        assertEquals(schema, m.schema());
        assertEquals(table, m.table());
        assertEquals(from, m.from());
        assertEquals("replacement", m.to());
    }

    @Test
    void yamlQuotesAloneDoNotQuoteTheIdentifier() throws RulesException {
        // The YAML quotes are YAML syntax; only double quotes inside the value are SQL quotes.
        assertEquals("useremail", only(rename("leads", "\"UserEmail\"", "contact_email")).from());
        assertEquals("UserEmail", only(rename("leads", "'\"UserEmail\"'", "contact_email")).from());
    }

    @Test
    void quotedColumnsInUpAndDown() throws RulesException {
        String yaml = "migrations:\n  - id: a\n    table: orders\n    from: '\"Status\"'\n    to: status_code\n"
            + "    phase: expand\n    up: '\"Status\"::int'\n    down: 'STATUS_CODE::text'\n";
        Migration m = only(yaml);
        assertEquals("Status", m.from());
        assertEquals("\"Status\"::int", m.up());

        RulesException e = fails(yaml.replace("up: '\"Status\"::int'", "up: 'Status::int'"));
        assertEquals("rules.yaml:7: migration 'a', key 'up': refers to column 'status'; 'up' may only refer to 'Status'",
            e.getMessage());
    }

    @Test
    void quotedAndUnquotedNamesOfTheSameTableOverlap() {
        String yaml = "migrations:\n"
            + "  - {id: a, table: '\"leads\"', from: user_email, to: contact_email, phase: expand}\n"
            + "  - {id: b, table: public.LEADS, from: '\"user_email\"', to: email, phase: expand}\n";
        RulesException e = fails(yaml);
        assertEquals(3, e.line());
        assertEquals("from", e.key());
        assertEquals("b", e.migrationId());
    }

    @Test
    void sameColumnNamesOnDifferentTablesAreFine() throws RulesException {
        String yaml = "migrations:\n"
            + "  - {id: a, table: leads, from: user_email, to: contact_email, phase: expand}\n"
            + "  - {id: b, table: archive.leads, from: user_email, to: contact_email, phase: expand}\n"
            + "  - {id: c, table: contacts, from: user_email, to: contact_email, phase: expand}\n";
        assertEquals(3, RulesFile.parse(yaml, "rules.yaml").migrations().size());
    }

    // ------------------------------------------------------------------ invalid files, one per problem

    private static final Pattern EXPECT = Pattern.compile("^# expect: (.*)$");
    private static final Pattern PREFIX = Pattern.compile(
        "^(?<file>[^:]+):(?<line>\\d+): (?:(?:migration '(?<id>[^']*)'|migration #\\d+)(?:, |: ))?(?:key '(?<key>[^']*)': )?");

    static Stream<Arguments> badFiles() throws IOException {
        try (Stream<Path> files = Files.list(resource("bad"))) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertTrue(list.size() >= 60, "bad rule files found: " + list.size());
            return list.stream().map(p -> Arguments.of(p.getFileName().toString(), p));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFileIsRefused(String name, Path file) throws IOException {
        String first = Files.readAllLines(file, StandardCharsets.UTF_8).get(0);
        Matcher expect = EXPECT.matcher(first);
        assertTrue(expect.matches(), name + ": first line must be '# expect: <message fragment>'");
        String fragment = expect.group(1).strip();
        Matcher prefix = PREFIX.matcher(fragment);
        assertTrue(prefix.find(), name + ": the expectation must start with file:line: ...");
        assertEquals(name, prefix.group("file"), "the expectation names its own file");

        RulesException e = assertThrows(RulesException.class, () -> RulesFile.load(file), name);
        assertTrue(e.getMessage().contains(fragment), () -> "message\n  " + e.getMessage() + "\ndoes not contain\n  " + fragment);
        assertTrue(e.getMessage().startsWith(file.toString() + ":" + e.line() + ": "), e.getMessage());
        assertEquals(file.toString(), e.file());
        assertEquals(Integer.parseInt(prefix.group("line")), e.line(), "line");
        assertEquals(prefix.group("key"), e.key(), "key");
        assertEquals(prefix.group("id"), e.migrationId(), "migration id");
        assertTrue(e.getMessage().endsWith(e.detail()), "detail is the message's tail");
    }

    @Test
    void tableRenameNamesItsNewTableAndNoColumn() throws RulesException {
        RuleSet rules = RulesFile.parse("migrations:\n  - id: customers-clients\n    table: sales.Customers\n"
            + "    to_table: sales.\"Clients\"\n    phase: switch\n  - id: leads\n    table: leads\n    from: a\n    to: b\n"
            + "    phase: expand\n", "r.yaml");
        Migration m = rules.get("customers-clients");
        assertTrue(m.isTableRename());
        assertEquals("sales", m.schema());
        assertEquals("customers", m.table());
        assertEquals("Clients", m.toTable());
        assertEquals("sales.Clients", m.qualifiedToTable());
        assertEquals(null, m.from());
        assertEquals(Phase.SWITCH, m.phase());
        assertEquals(2, m.line());
        assertEquals(false, rules.get("leads").isTableRename());
        assertEquals(m, m.withPhase(Phase.OFF).withPhase(Phase.SWITCH));
    }

    private static String typeChange(String up, String down) {
        return "migrations:\n  - id: a\n    table: orders\n    from: status\n    to: status_code\n    phase: expand\n"
            + "    up: " + yamlQuote(up) + "\n    down: " + yamlQuote(down) + "\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"status::int", "CAST(status AS integer)", "nullif(trim(status), '')::int", "lower(status) = 'x'",
        "CASE WHEN status IS NULL THEN 0 ELSE length(status) END", "coalesce(status, 'none') || '?'", "status[1]",
        "(status)", "status AT TIME ZONE 'UTC'", "status = ANY (ARRAY['a', 'b'])", "status + status"})
    void upExpressionsAccepted(String up) throws RulesException {
        Migration m = only(typeChange(up, "status_code::text"));
        assertEquals(up, m.up());
        assertTrue(m.isTypeChange());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ARRAY(SELECT 1)[1] + length(status)          | contains a subquery",
        "(SELECT status)                               | contains a subquery",
        "length(status) + @x                           | contains a variable ('@x')",
        "status COLLATE \"C\"                          | not an SQL expression",
        "SELECT status                                 | not an SQL expression",
        "status, status_code                           | not an SQL expression",
        "42                                            | does not refer to column 'status'",
        "public.orders.status                          | refers to 'public.orders.status'",
        "\"status_code\"                               | refers to column 'status_code'",
    })
    void upExpressionsRefused(String up, String fragment) {
        RulesException e = fails(typeChange(up, "status_code::text"));
        assertEquals(7, e.line());
        assertEquals("up", e.key());
        assertTrue(e.getMessage().startsWith("rules.yaml:7: migration 'a', key 'up': "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    // ------------------------------------------------------------------ messages and causes

    @Test
    void messageFormat() {
        String yaml = "migrations:\n"
            + "  - id: orders-status-code\n"
            + "    table: orders\n"
            + "    from: status\n"
            + "    to: status_code\n"
            + "    phase: expand\n"
            + "\n"
            + "  - id: leads-contact-email\n"
            + "    table: leads\n"
            + "    from: user_email\n"
            + "    to: contact_email\n"
            + "    phase: swich\n";
        RulesException e = fails(yaml);
        assertEquals("rules.yaml:12: migration 'leads-contact-email', key 'phase': unknown phase 'swich' "
            + "(expected off, expand, switch or contract)", e.getMessage());
        assertEquals("rules.yaml", e.file());
        assertEquals(12, e.line());
        assertEquals("phase", e.key());
        assertEquals("leads-contact-email", e.migrationId());
        assertEquals("unknown phase 'swich' (expected off, expand, switch or contract)", e.detail());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
    }

    @Test
    void yamlSyntaxErrorKeepsCauseAndLine() {
        RulesException e = fails("migrations:\n  - id: a\n    table: [leads\n");
        assertInstanceOf(MarkedYAMLException.class, e.getCause());
        assertTrue(e.getMessage().startsWith("rules.yaml:4: invalid YAML: "), e.getMessage());
        assertNull(e.key());
        assertNull(e.migrationId());
    }

    @Test
    void expressionErrorKeepsParserCause() {
        String yaml = "migrations:\n  - id: a\n    table: orders\n    from: status\n    to: status_code\n"
            + "    phase: expand\n    up: 'CASE status WHEN'\n    down: 'status_code::text'\n";
        RulesException e = fails(yaml);
        assertEquals(7, e.line());
        assertEquals("up", e.key());
        assertInstanceOf(JSQLParserException.class, e.getCause());
    }

    @Test
    void theFirstProblemWins() {
        // Both the phase and the up/down pairing are wrong; keys are checked in a fixed order (phase first).
        String yaml = "migrations:\n  - id: a\n    table: orders\n    from: status\n    to: status_code\n"
            + "    up: 'status::int'\n    phase: nope\n";
        assertEquals("phase", fails(yaml).key());
    }

    @Test
    void nonStringKeyIsRefused() {
        RulesException e = fails("migrations:\n  - id: a\n    ? [x, y]\n    : z\n");
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("expected a plain key, found a list"), e.getMessage());
    }

    @Test
    void sourceNameDefaults() {
        RulesException e = assertThrows(RulesException.class, () -> RulesFile.parse("- x", null));
        assertTrue(e.getMessage().startsWith("<string>:1: "), e.getMessage());
    }

    // ------------------------------------------------------------------ loading from places

    @Test
    void classpathLoading() throws RulesException {
        ClassLoader cl = RulesFileTest.class.getClassLoader();
        RuleSet fromClasspath = RulesFile.load("classpath:rules/valid.yaml", cl);
        assertEquals("classpath:rules/valid.yaml", fromClasspath.source());
        assertEquals(RulesFile.load(resource("valid.yaml")), fromClasspath);
        assertEquals(5, fromClasspath.migrations().size());

        assertEquals(fromClasspath, RulesFile.load("classpath:/rules/valid.yaml", cl), "leading slash");
        assertEquals(fromClasspath, RulesFile.load("classpath:rules/valid.yaml", null), "context class loader");
    }

    @Test
    void classpathErrorsNameTheResource() {
        ClassLoader cl = RulesFileTest.class.getClassLoader();
        RulesException missing = assertThrows(RulesException.class, () -> RulesFile.load("classpath:rules/nope.yaml", cl));
        assertEquals("classpath:rules/nope.yaml: classpath resource 'rules/nope.yaml' not found", missing.getMessage());
        assertEquals(0, missing.line());

        RulesException bad = assertThrows(RulesException.class,
            () -> RulesFile.load("classpath:rules/bad/phase-unknown.yaml", cl));
        assertTrue(bad.getMessage().startsWith("classpath:rules/bad/phase-unknown.yaml:7: migration 'leads-contact-email', "
            + "key 'phase': unknown phase 'swich'"), bad.getMessage());
        assertEquals("classpath:rules/bad/phase-unknown.yaml", bad.file());
    }

    @Test
    void locationMayBeAPath() throws RulesException {
        Path file = resource("valid.yaml");
        RuleSet rules = RulesFile.load(file.toString(), null);
        assertEquals(file.toString(), rules.source());
        assertEquals(RulesFile.load(file), rules);
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path file = dir.resolve("rules.yaml");
        RulesException e = assertThrows(RulesException.class, () -> RulesFile.load(file));
        assertEquals(file + ": file not found", e.getMessage());
        assertEquals(file.toString(), e.file());
        assertEquals(0, e.line());
        assertInstanceOf(NoSuchFileException.class, e.getCause());

        RulesException viaLocation = assertThrows(RulesException.class, () -> RulesFile.load(file.toString(), null));
        assertEquals(e.getMessage(), viaLocation.getMessage());
    }

    @Test
    void invalidUtf8(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, rename("kunden", "stra\u00dfe", "neu").getBytes(StandardCharsets.ISO_8859_1));
        RulesException e = assertThrows(RulesException.class, () -> RulesFile.load(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    // ------------------------------------------------------------------ the exception itself

    @Test
    void exceptionFormatting() {
        assertEquals("f.yaml:3: migration 'a', key 'to': bad",
            new RulesException("f.yaml", 3, "to", "a", "bad").getMessage());
        assertEquals("f.yaml:3: key 'migrations': bad", new RulesException("f.yaml", 3, "migrations", null, "bad").getMessage());
        assertEquals("f.yaml:3: migration 'a': bad", new RulesException("f.yaml", 3, null, "a", "bad").getMessage());
        assertEquals("f.yaml: bad", new RulesException("f.yaml", 0, null, null, "bad").getMessage());
        Throwable cause = new IllegalStateException("x");
        assertEquals(cause, new RulesException("f.yaml", 0, null, null, "bad", cause).getCause());
    }
}
