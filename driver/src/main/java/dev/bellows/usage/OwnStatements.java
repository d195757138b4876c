package dev.bellows.usage;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises, in a text as {@code pg_stat_statements} shows it, what Bellows and pgjdbc added to a statement:
 * the marker comment of Bellows' own tools, the {@code RETURNING} clause pgjdbc appends for generated keys, and
 * the {@code PREPARE bellows_check} wrapper under which PostgreSQL may file other clients' identical statements.
 */
final class OwnStatements {
    /** The comment Bellows' tools put into every statement they send that names a migration's column. */
    static final String TAG = "/* bellows:";
    /** The statement name {@code bellows check} prepares under. */
    static final String CHECK_STATEMENT = "bellows_check";

    // pgjdbc: "\nRETURNING *" for RETURN_GENERATED_KEYS, "\nRETURNING \"a\", \"b\"" for column names (always quoted)
    private static final String NAME = "(?:[A-Za-z_][A-Za-z0-9_$]*|\"(?:[^\"]|\"\")*\")";
    // Bellows spells pgjdbc's "\nRETURNING *" out for the schema view in place, so the newline stays and every column
    // is qualified ("leads.id, leads.contact_email AS user_email"); a client's own RETURNING rarely looks like that
    private static final String COLUMN = NAME + "(?:\\." + NAME + ")+(?:\\s+AS\\s+" + NAME + ")?";
    private static final Pattern APPENDED_RETURNING = Pattern.compile(
        "(?s)^(.*\\S)(?:\\s+RETURNING\\s+(?:\\*|\"(?:[^\"]|\"\")*\"(?:\\s*,\\s*\"(?:[^\"]|\"\")*\")*)"
            + "|[ \\t]*\\r?\\n\\s*RETURNING\\s+" + COLUMN + "(?:\\s*,\\s*" + COLUMN + ")*)\\s*;?\\s*$",
        Pattern.CASE_INSENSITIVE);
    private static final Pattern CHECK_PREPARE = Pattern.compile(
        "(?s)^\\s*PREPARE\\s+" + CHECK_STATEMENT + "\\s*(?:\\([^)]*\\))?\\s+AS\\s+(.*)$", Pattern.CASE_INSENSITIVE);

    private OwnStatements() {
    }

    /** Whether one of Bellows' tools marked the statement. */
    static boolean tagged(String serverText) {
        return serverText.contains(TAG);
    }

    /**
     * The statement inside {@code PREPARE bellows_check … AS …}, or null. PostgreSQL keys pg_stat_statements on the
     * statement's structure, so when {@code bellows check} prepared a statement first, later executions of the same
     * statement by any client are counted under the check's text: what matters is the statement inside.
     */
    static String checkPrepareBody(String serverText) {
        Matcher mm = CHECK_PREPARE.matcher(serverText);
        return mm.matches() ? mm.group(1) : null;
    }

    /**
     * The statement without the {@code RETURNING} clause pgjdbc appends for generated keys, or null when it does
     * not end with one that pgjdbc could have added (pgjdbc adds none to a statement that already has one).
     */
    static String withoutAppendedReturning(String serverText) {
        String kw = StatementForms.firstKeyword(serverText);
        if (!(kw.equals("insert") || kw.equals("update") || kw.equals("delete") || kw.equals("with"))) return null;
        Matcher mm = APPENDED_RETURNING.matcher(serverText);
        if (!mm.matches()) return null;
        String body = mm.group(1);
        for (String token : StatementForms.normalize(body).split(" ")) {
            if (token.equals("returning")) return null;
        }
        return body;
    }

    /** A marker comment for {@code tool}'s statements, to put right after the statement's first keyword. */
    static String tag(String tool) {
        return TAG + tool.toLowerCase(Locale.ROOT) + " */";
    }
}
