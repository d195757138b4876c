package dev.bellows.rules.sql;

import java.util.Arrays;

/**
 * A PostgreSQL lexer that knows exactly what the server and pgjdbc treat as strings, quoted
 * identifiers, comments and {@code ?} parameters. It never fails: unterminated constructs run to the end.
 * Token positions are what the splicer edits at, so they must be exact.
 */
public final class SqlLexer {
    public static final byte IDENT = 1;  // unquoted identifier or keyword
    public static final byte QIDENT = 2; // "quoted identifier" (also U&"...")
    public static final byte STRING = 3; // '...', E'...', B'...', X'...', N'...', U&'...', $tag$...$tag$
    public static final byte NUMBER = 4;
    public static final byte PARAM = 5;  // ? (JDBC)
    public static final byte DOLLAR = 6; // $1
    public static final byte LPAREN = 7;
    public static final byte RPAREN = 8;
    public static final byte COMMA = 9;
    public static final byte SEMI = 10;
    public static final byte DOT = 11;
    public static final byte OP = 12;    // any other operator or punctuation run
    public static final byte COMMENT = 13;
    public static final byte LBRACKET = 14;
    public static final byte RBRACKET = 15;

    /** The tokens of one string, in parallel arrays. */
    public static final class Tokens {
        // read by the analysis in other packages; written only while lexing, here
        final String sql;
        public int count;
        public byte[] kind;
        public int[] start;
        public int[] end;
        int maxDepth;
        boolean unterminated; // the last token is a string, identifier or comment that never closes

        Tokens(String sql, int capacity) {
            this.sql = sql;
            kind = new byte[capacity];
            start = new int[capacity];
            end = new int[capacity];
        }

        void add(byte k, int s, int e) {
            if (count == kind.length) {
                int n = count * 2 + 8;
                kind = Arrays.copyOf(kind, n);
                start = Arrays.copyOf(start, n);
                end = Arrays.copyOf(end, n);
            }
            kind[count] = k;
            start[count] = s;
            end[count] = e;
            count++;
        }

        public String text(int i) { return sql.substring(start[i], end[i]); }

        /** Case-insensitive keyword test for an unquoted identifier token. */
        public boolean isWord(int i, String word) {
            return i >= 0 && i < count && kind[i] == IDENT && end[i] - start[i] == word.length()
                && sql.regionMatches(true, start[i], word, 0, word.length());
        }

        /** The index of the first token whose start is at or after {@code pos}. */
        public int indexAt(int pos) {
            int lo = 0, hi = count;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (start[mid] < pos) lo = mid + 1; else hi = mid;
            }
            return lo;
        }

        /** The token index whose span is exactly [s, e), or -1. */
        public int tokenExactly(int s, int e) {
            int i = indexAt(s);
            return i < count && start[i] == s && end[i] == e ? i : -1;
        }
    }

    private SqlLexer() {}

    /**
     * Lexes {@code sql}. Comments are kept as tokens (callers skip them); whitespace is not. Stops early,
     * returning null, when there are more than {@code maxTokens} tokens (pathological input).
     */
    public static Tokens lex(String sql, int maxTokens) {
        int n = sql.length();
        Tokens t = new Tokens(sql, Math.min(16 + n / 5, 1 << 16)); // about a token per 5 characters in typical SQL
        int depth = 0;
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                i++;
                continue;
            }
            if (t.count > maxTokens) return null;
            int s = i;
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                i += 2;
                while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') i++;
                t.add(COMMENT, s, i);
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = close(t, blockComment(sql, i), n);
                t.add(COMMENT, s, i);
            } else if (c == '\'') {
                i = close(t, quoted(sql, i + 1, '\'', false), n);
                t.add(STRING, s, i);
            } else if (c == '"') {
                i = close(t, quoted(sql, i + 1, '"', false), n);
                t.add(QIDENT, s, i);
            } else if (isIdentStart(c)) {
                if (i + 1 < n && sql.charAt(i + 1) == '\'' && "EeBbXxNn".indexOf(c) >= 0) {
                    boolean esc = c == 'E' || c == 'e';
                    i = close(t, quoted(sql, i + 2, '\'', esc), n);
                    t.add(STRING, s, i);
                } else if ((c == 'U' || c == 'u') && i + 2 < n && sql.charAt(i + 1) == '&'
                        && (sql.charAt(i + 2) == '\'' || sql.charAt(i + 2) == '"')) {
                    char q = sql.charAt(i + 2);
                    i = close(t, quoted(sql, i + 3, q, false), n);
                    t.add(q == '\'' ? STRING : QIDENT, s, i);
                } else {
                    i++;
                    while (i < n && isIdentPart(sql.charAt(i))) i++;
                    t.add(IDENT, s, i);
                }
            } else if (c >= '0' && c <= '9' || c == '.' && i + 1 < n && isDigit(sql.charAt(i + 1))) {
                i = number(sql, i);
                t.add(NUMBER, s, i);
            } else if (c == '$') {
                if (i + 1 < n && isDigit(sql.charAt(i + 1))) {
                    i++;
                    while (i < n && isDigit(sql.charAt(i))) i++;
                    t.add(DOLLAR, s, i);
                } else {
                    int close = dollarQuote(sql, i);
                    if (close > 0) {
                        i = close(t, close, n);
                        t.add(STRING, s, i);
                    } else {
                        i++;
                        t.add(OP, s, i);
                    }
                }
            } else if (c == '?') {
                if (i + 1 < n && sql.charAt(i + 1) == '?') {
                    i += 2; // pgjdbc's escape for a literal '?' operator
                    t.add(OP, s, i);
                } else {
                    i++;
                    t.add(PARAM, s, i);
                }
            } else if (c == '(') {
                i++;
                t.add(LPAREN, s, i);
                if (++depth > t.maxDepth) t.maxDepth = depth;
            } else if (c == ')') {
                i++;
                t.add(RPAREN, s, i);
                depth--;
            } else if (c == '[') {
                i++;
                t.add(LBRACKET, s, i);
            } else if (c == ']') {
                i++;
                t.add(RBRACKET, s, i);
            } else if (c == ',') {
                i++;
                t.add(COMMA, s, i);
            } else if (c == ';') {
                i++;
                t.add(SEMI, s, i);
            } else if (c == '.') {
                i++;
                t.add(DOT, s, i);
            } else {
                i++;
                if (isOpChar(c)) {
                    while (i < n && isOpChar(sql.charAt(i)) && !startsComment(sql, i)) i++;
                }
                t.add(OP, s, i);
            }
        }
        return t;
    }

    /** An end past the input means the construct never closed: note it and stop at the end. */
    private static int close(Tokens t, int end, int n) {
        if (end > n) {
            t.unterminated = true;
            return n;
        }
        return end;
    }

    private static boolean startsComment(String sql, int i) {
        char c = sql.charAt(i);
        return i + 1 < sql.length() && (c == '-' && sql.charAt(i + 1) == '-' || c == '/' && sql.charAt(i + 1) == '*');
    }

    // ASCII character classes, looked up rather than compared: the lexer runs on every literal-varying statement
    private static final boolean[] IDENT_START = new boolean[128];
    private static final boolean[] IDENT_PART = new boolean[128];
    private static final boolean[] OP_CHAR = new boolean[128];

    static {
        for (char c = 0; c < 128; c++) {
            IDENT_START[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
            IDENT_PART[c] = IDENT_START[c] || isDigit(c) || c == '$';
            OP_CHAR[c] = "+-*/<>=~!@#%^&|`:".indexOf(c) >= 0;
        }
    }

    public static boolean isIdentStart(char c) {
        return c >= 0x80 || IDENT_START[c];
    }

    public static boolean isIdentPart(char c) {
        return c >= 0x80 || IDENT_PART[c];
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isOpChar(char c) {
        return c < 128 && OP_CHAR[c];
    }

    private static int blockComment(String sql, int i) {
        int n = sql.length();
        int nest = 0;
        while (i < n) {
            if (sql.startsWith("/*", i)) {
                nest++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                i += 2;
                if (--nest == 0) return i;
            } else {
                i++;
            }
        }
        return n + 1;
    }

    private static int quoted(String sql, int i, char q, boolean backslashEscapes) {
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == q) {
                if (i + 1 < n && sql.charAt(i + 1) == q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n + 1;
    }

    private static int number(String sql, int i) {
        int n = sql.length();
        if (sql.charAt(i) == '0' && i + 1 < n && "xXoObB".indexOf(sql.charAt(i + 1)) >= 0) {
            i += 2;
            while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) i++;
            return i;
        }
        while (i < n && (isDigit(sql.charAt(i)) || sql.charAt(i) == '_')) i++;
        if (i < n && sql.charAt(i) == '.' && !(i + 1 < n && sql.charAt(i + 1) == '.')) {
            i++;
            while (i < n && (isDigit(sql.charAt(i)) || sql.charAt(i) == '_')) i++;
        }
        if (i < n && (sql.charAt(i) == 'e' || sql.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < n && (sql.charAt(j) == '+' || sql.charAt(j) == '-')) j++;
            if (j < n && isDigit(sql.charAt(j))) {
                i = j;
                while (i < n && isDigit(sql.charAt(i))) i++;
            }
        }
        return i;
    }

    /** End of a dollar-quoted string starting at {@code i}, or -1 when {@code $} does not open one. */
    private static int dollarQuote(String sql, int i) {
        int n = sql.length();
        int j = i + 1;
        while (j < n && sql.charAt(j) != '$') {
            char c = sql.charAt(j);
            if (!(isIdentStart(c) || j > i + 1 && isDigit(c))) return -1;
            j++;
        }
        if (j >= n) return -1;
        String tag = sql.substring(i, j + 1);
        int close = sql.indexOf(tag, j + 1);
        return close < 0 ? n + 1 : close + tag.length();
    }

    /** The catalog name an identifier token denotes: unquoted folds to lower case, quoted is exact. */
    public static String identName(Tokens t, int i) {
        if (t.kind[i] == IDENT) return t.text(i).toLowerCase(java.util.Locale.ROOT);
        String s = t.text(i);
        if (s.startsWith("U&") || s.startsWith("u&")) return null; // escapes: not worth decoding
        return s.substring(1, s.length() - 1).replace("\"\"", "\"");
    }
}
