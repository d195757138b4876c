package dev.bellows.workflow;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Small, dependency-free helpers for the SQL Bellows generates and inspects: quoting, a PostgreSQL-aware
 * tokenizer (strings, {@code E''} strings, dollar quotes, quoted identifiers, nested comments), splitting a
 * script into statements, replacing a column reference inside an expression, and JDBC {@code ?} → {@code $n}.
 */
public final class SqlText {
    private SqlText() {
    }

    /** Keywords {@code quote_ident} quotes (every category but unreserved), PostgreSQL 12–17. */
    private static final Set<String> KEYWORDS = Set.of(
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
        "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
        "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec",
        "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract",
        "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping",
        "having", "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is",
        "isnull", "join", "json", "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg",
        "json_query", "json_scalar", "json_serialize", "json_table", "json_value", "lateral", "leading", "least",
        "left", "like", "limit", "localtime", "localtimestamp", "merge_action", "national", "natural", "nchar", "none",
        "normalize", "not", "notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out",
        "outer", "overlaps", "overlay", "placing", "position", "precision", "primary", "real", "references",
        "returning", "right", "row", "select", "session_user", "setof", "similar", "smallint", "some", "substring",
        "symmetric", "system_user", "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat",
        "trim", "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose", "when",
        "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest",
        "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable");

    /** An identifier as PostgreSQL's {@code quote_ident} writes it: bare when it can be, double-quoted otherwise. */
    public static String ident(String name) {
        boolean plain = !name.isEmpty() && !KEYWORDS.contains(name);
        for (int i = 0; plain && i < name.length(); i++) {
            char c = name.charAt(i);
            plain = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && ((c >= '0' && c <= '9') || c == '$'));
        }
        return plain ? name : '"' + name.replace("\"", "\"\"") + '"';
    }

    /** {@code schema.table}, each part quoted as needed. */
    public static String qualified(String schema, String name) {
        return ident(schema) + "." + ident(name);
    }

    /** A string literal (standard_conforming_strings on, the default since PostgreSQL 9.1). */
    public static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** {@code name} cut to PostgreSQL's 63-byte identifier limit without splitting a character. */
    public static String truncate(String name) {
        if (name.getBytes(StandardCharsets.UTF_8).length <= 63) return name;
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > 63) break;
            sb.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    // ---- tokenizer ----

    enum Kind { WORD, QUOTED, STRING, NUMBER, QMARK, DOLLAR_PARAM, SEMI, PUNCT, OP, SPACE, COMMENT }

    record Token(Kind kind, int start, int end) {
        String text(String sql) {
            return sql.substring(start, end);
        }
    }

    /** Tokens of {@code sql}; an unterminated quote or comment runs to the end of the text. */
    static List<Token> lex(String sql) {
        List<Token> out = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            int s = i;
            if (Character.isWhitespace(c)) {
                while (i < n && Character.isWhitespace(sql.charAt(i))) i++;
                out.add(new Token(Kind.SPACE, s, i));
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') i++;
                out.add(new Token(Kind.COMMENT, s, i));
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int depth = 0;
                while (i < n) {
                    if (sql.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (sql.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                        if (depth == 0) break;
                    } else {
                        i++;
                    }
                }
                out.add(new Token(Kind.COMMENT, s, i));
            } else if (c == '\'') {
                i = endOfString(sql, i + 1, false);
                out.add(new Token(Kind.STRING, s, i));
            } else if ((c == 'e' || c == 'E') && i + 1 < n && sql.charAt(i + 1) == '\'' && !wordCharBefore(sql, i)) {
                i = endOfString(sql, i + 2, true);
                out.add(new Token(Kind.STRING, s, i));
            } else if (c == '"') {
                i++;
                while (i < n) {
                    if (sql.charAt(i) == '"') {
                        if (i + 1 < n && sql.charAt(i + 1) == '"') i += 2;
                        else {
                            i++;
                            break;
                        }
                    } else {
                        i++;
                    }
                }
                out.add(new Token(Kind.QUOTED, s, i));
            } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
                i++;
                while (i < n && Character.isDigit(sql.charAt(i))) i++;
                out.add(new Token(Kind.DOLLAR_PARAM, s, i));
            } else if (c == '$' && dollarTagEnd(sql, i) > 0) {
                int tagEnd = dollarTagEnd(sql, i);
                String tag = sql.substring(i, tagEnd);
                int close = sql.indexOf(tag, tagEnd);
                i = close < 0 ? n : close + tag.length();
                out.add(new Token(Kind.STRING, s, i));
            } else if (isWordStart(c)) {
                while (i < n && isWordPart(sql.charAt(i))) i++;
                out.add(new Token(Kind.WORD, s, i));
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1)))) {
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '.'
                    || ((sql.charAt(i) == '+' || sql.charAt(i) == '-') && (sql.charAt(i - 1) == 'e' || sql.charAt(i - 1) == 'E')))) i++;
                out.add(new Token(Kind.NUMBER, s, i));
            } else if (c == '?') {
                out.add(new Token(Kind.QMARK, s, ++i));
            } else if (c == ';') {
                out.add(new Token(Kind.SEMI, s, ++i));
            } else if (c == '(' || c == ')' || c == ',' || c == '[' || c == ']') {
                out.add(new Token(Kind.PUNCT, s, ++i));
            } else if (c == '.') {
                out.add(new Token(Kind.PUNCT, s, ++i));
            } else if (c == ':' && i + 1 < n && sql.charAt(i + 1) == ':') {
                i += 2;
                out.add(new Token(Kind.OP, s, i));
            } else {
                out.add(new Token(Kind.OP, s, ++i));
            }
        }
        return out;
    }

    private static boolean wordCharBefore(String sql, int i) {
        return i > 0 && isWordPart(sql.charAt(i - 1));
    }

    private static int endOfString(String sql, int i, boolean backslashes) {
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (backslashes && c == '\\') {
                i += 2;
            } else if (c == '\'') {
                if (i + 1 < n && sql.charAt(i + 1) == '\'') i += 2;
                else return i + 1;
            } else {
                i++;
            }
        }
        return n;
    }

    /** End of a {@code $tag$} opening at {@code i}, or -1. */
    private static int dollarTagEnd(String sql, int i) {
        int j = i + 1;
        if (j < sql.length() && sql.charAt(j) == '$') return j + 1;
        if (j >= sql.length() || !isWordStart(sql.charAt(j))) return -1;
        while (j < sql.length() && (isWordStart(sql.charAt(j)) || Character.isDigit(sql.charAt(j)))) j++;
        return j < sql.length() && sql.charAt(j) == '$' ? j + 1 : -1;
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_' || c >= 0x80;
    }

    private static boolean isWordPart(char c) {
        return isWordStart(c) || Character.isDigit(c) || c == '$';
    }

    /** The catalog name an identifier token stands for: folded when bare, unescaped when quoted; else null. */
    static String identName(String sql, Token t) {
        if (t.kind == Kind.WORD) return fold(t.text(sql));
        if (t.kind == Kind.QUOTED) {
            String s = t.text(sql);
            return s.substring(1, Math.max(1, s.length() - 1)).replace("\"\"", "\"");
        }
        return null;
    }

    private static String fold(String word) {
        StringBuilder sb = new StringBuilder(word.length());
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            sb.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return sb.toString();
    }

    private static int prevSignificant(List<Token> toks, int i) {
        for (int k = i - 1; k >= 0; k--) {
            Kind kind = toks.get(k).kind;
            if (kind != Kind.SPACE && kind != Kind.COMMENT) return k;
        }
        return -1;
    }

    private static int nextSignificant(List<Token> toks, int i) {
        for (int k = i + 1; k < toks.size(); k++) {
            Kind kind = toks.get(k).kind;
            if (kind != Kind.SPACE && kind != Kind.COMMENT) return k;
        }
        return -1;
    }

    /** Whether token {@code i} is a bare reference to column {@code column} (not qualified, not a call, not a type). */
    private static boolean isColumnRef(String sql, List<Token> toks, int i, String column) {
        Token t = toks.get(i);
        if (!column.equals(identName(sql, t))) return false;
        int p = prevSignificant(toks, i);
        if (p >= 0) {
            String pt = toks.get(p).text(sql);
            if (pt.equals(".") || pt.equals("::")) return false;
        }
        int q = nextSignificant(toks, i);
        if (q >= 0) {
            String nt = toks.get(q).text(sql);
            if (nt.equals("(") || nt.equals(".")) return false;
        }
        return true;
    }

    /** {@code expr} with every bare reference to {@code column} replaced by {@code replacement}. */
    public static String replaceColumn(String expr, String column, String replacement) {
        List<Token> toks = lex(expr);
        StringBuilder sb = new StringBuilder(expr.length() + 16);
        int pos = 0;
        for (int i = 0; i < toks.size(); i++) {
            if (isColumnRef(expr, toks, i, column)) {
                sb.append(expr, pos, toks.get(i).start).append(replacement);
                pos = toks.get(i).end;
            }
        }
        return sb.append(expr.substring(pos)).toString();
    }

    /** Names of the functions {@code expr} calls (the word before each opening parenthesis), folded. */
    public static Set<String> calledFunctions(String expr) {
        Set<String> out = new java.util.LinkedHashSet<>();
        List<Token> toks = lex(expr);
        for (int i = 0; i < toks.size(); i++) {
            String name = identName(expr, toks.get(i));
            int q = nextSignificant(toks, i);
            if (name != null && q >= 0 && toks.get(q).text(expr).equals("(")) out.add(name);
        }
        return out;
    }

    /** Whether {@code sql} names {@code column} as an identifier anywhere (qualified or not, outside strings). */
    public static boolean namesIdentifier(String sql, String column) {
        for (Token t : lex(sql)) {
            if (column.equals(identName(sql, t))) return true;
        }
        return false;
    }

    /** The statements of a script, split at top-level semicolons, without leading comments, empty or comment-only ones. */
    public static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        List<Token> toks = lex(script);
        int from = -1; // start of the current statement's first significant token
        for (Token t : toks) {
            if (t.kind == Kind.SEMI) {
                if (from >= 0) out.add(script.substring(from, t.start).strip());
                from = -1;
            } else if (t.kind != Kind.SPACE && t.kind != Kind.COMMENT && from < 0) {
                from = t.start;
            }
        }
        if (from >= 0) out.add(script.substring(from).strip());
        return out;
    }

    /** JDBC text as pgjdbc sends it: each {@code ?} outside quotes becomes {@code $n}, {@code ??} becomes {@code ?}. */
    public static String jdbcToDollar(String sql) {
        List<Token> toks = lex(sql);
        StringBuilder sb = new StringBuilder(sql.length() + 8);
        int pos = 0;
        int n = 0;
        for (int i = 0; i < toks.size(); i++) {
            Token t = toks.get(i);
            if (t.kind != Kind.QMARK) continue;
            sb.append(sql, pos, t.start);
            if (i + 1 < toks.size() && toks.get(i + 1).kind == Kind.QMARK) {
                sb.append('?');
                pos = toks.get(i + 1).end;
                i++;
            } else {
                sb.append('$').append(++n);
                pos = t.end;
            }
        }
        return sb.append(sql.substring(pos)).toString();
    }

    /** Whether the text has a JDBC {@code ?} placeholder outside quotes and comments. */
    public static boolean hasQuestionMarks(String sql) {
        for (Token t : lex(sql)) {
            if (t.kind == Kind.QMARK) return true;
        }
        return false;
    }

    /** Whether the text has a {@code $n} parameter outside quotes and comments. */
    public static boolean hasDollarParams(String sql) {
        for (Token t : lex(sql)) {
            if (t.kind == Kind.DOLLAR_PARAM) return true;
        }
        return false;
    }

    /** One line, spaces collapsed, cut to {@code max} characters with an ellipsis. */
    public static String oneLine(String sql, int max) {
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
