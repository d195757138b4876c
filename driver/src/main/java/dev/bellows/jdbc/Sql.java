package dev.bellows.jdbc;

/**
 * Cheap lexical checks on SQL text that the driver needs without parsing (a statement's kind, DDL or not,
 * comes with its rewrite: {@code Rewrite.kind()}): the first keyword for generated keys, whether
 * {@code RETURNING} is already there, identifier quoting and JDBC metadata patterns. Allocation-free where
 * it runs per statement.
 */
final class Sql {
    /** Statement kinds pgjdbc appends {@code RETURNING} to when generated keys are asked for. */
    private static final String[] RETURNING_KINDS = {"INSERT", "UPDATE", "DELETE", "WITH"};

    private Sql() {
    }

    /** Whether pgjdbc would add a {@code RETURNING} clause to this statement for generated keys. */
    static boolean isReturningKind(String sql) {
        return startsWithAny(sql, RETURNING_KINDS);
    }

    private static boolean startsWithAny(String sql, String[] keywords) {
        int start = skipIgnorable(sql, 0);
        for (String k : keywords) {
            if (sql.regionMatches(true, start, k, 0, k.length())
                && (start + k.length() == sql.length() || !isIdentifierPart(sql.charAt(start + k.length())))) {
                return true;
            }
        }
        return false;
    }

    /** Index of the first character at or after {@code i} that is not whitespace, a comment or {@code (}. */
    static int skipIgnorable(String sql, int i) {
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') i++;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                // PostgreSQL block comments nest.
                int depth = 1;
                i += 2;
                while (i < n && depth > 0) {
                    if (sql.startsWith("/*", i)) { depth++; i += 2; }
                    else if (sql.startsWith("*/", i)) { depth--; i += 2; }
                    else i++;
                }
            } else {
                return i;
            }
        }
        return n;
    }

    /**
     * Whether the word {@code RETURNING} appears anywhere. It may be inside a literal or comment; callers
     * then fall back to pgjdbc's own handling, which is the safe side.
     */
    static boolean mentionsReturning(String sql) {
        String word = "returning";
        for (int i = 0; i + word.length() <= sql.length(); i++) {
            if (sql.regionMatches(true, i, word, 0, word.length())
                && (i == 0 || !isIdentifierPart(sql.charAt(i - 1)))
                && (i + word.length() == sql.length() || !isIdentifierPart(sql.charAt(i + word.length())))) {
                return true;
            }
        }
        return false;
    }

    /** The statement without trailing whitespace and semicolons, or null when a semicolon remains inside. */
    static String singleStatementBody(String sql) {
        int end = sql.length();
        while (end > 0 && (Character.isWhitespace(sql.charAt(end - 1)) || sql.charAt(end - 1) == ';')) end--;
        String body = sql.substring(0, end);
        return body.indexOf(';') >= 0 ? null : body;
    }

    /** A double-quoted identifier, exactly as pgjdbc quotes generated-key column names. */
    static String quoteIdentifier(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** JDBC metadata pattern match ({@code %}, {@code _}, {@code \} escape); a null pattern matches anything. */
    static boolean like(String pattern, String value) {
        return pattern == null || like(pattern, 0, value, 0);
    }

    private static boolean like(String p, int pi, String v, int vi) {
        while (pi < p.length()) {
            char c = p.charAt(pi);
            if (c == '%') {
                for (int k = vi; k <= v.length(); k++) {
                    if (like(p, pi + 1, v, k)) return true;
                }
                return false;
            }
            if (vi >= v.length()) return false;
            if (c == '\\' && pi + 1 < p.length()) {
                if (p.charAt(pi + 1) != v.charAt(vi)) return false;
                pi += 2;
            } else {
                if (c != '_' && c != v.charAt(vi)) return false;
                pi++;
            }
            vi++;
        }
        return vi == v.length();
    }

    /** A metadata pattern matching exactly {@code name}. */
    static String escapePattern(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 4);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' || c == '_' || c == '\\') sb.append('\\');
            sb.append(c);
        }
        return sb.toString();
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
