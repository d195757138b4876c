package dev.bellows.rules.file;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Names in a rules file as PostgreSQL reads them: quoting, case folding and the identifier length limit. */
final class Identifiers {
    /** PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by the server. */
    static final int MAX_IDENTIFIER_BYTES = 63;

    private Identifiers() {}

    /**
     * Splits a possibly qualified name into catalog names: unquoted parts folded to lower case (ASCII, as
     * PostgreSQL does), double-quoted parts kept as written with {@code ""} unescaped.
     */
    static List<String> qualifiedName(String text) {
        List<String> parts = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (true) {
            if (i >= n) throw new IllegalArgumentException("'" + text + "' is not a valid name: empty part");
            StringBuilder part = new StringBuilder();
            if (text.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = text.charAt(i++);
                    if (c == '"') {
                        if (i < n && text.charAt(i) == '"') {
                            part.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        part.append(c);
                    }
                }
                if (!closed) throw new IllegalArgumentException("'" + text + "' has an unterminated quoted identifier");
                if (part.length() == 0) throw new IllegalArgumentException("'" + text + "' has an empty quoted identifier");
            } else {
                int start = i;
                while (i < n && text.charAt(i) != '.') i++;
                part.append(unquoted(text, text.substring(start, i)));
            }
            String name = part.toString();
            if (name.getBytes(StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
                throw new IllegalArgumentException("'" + name + "' is longer than " + MAX_IDENTIFIER_BYTES
                    + " bytes (PostgreSQL would truncate it)");
            }
            parts.add(name);
            if (i == n) return parts;
            if (text.charAt(i) != '.') {
                throw new IllegalArgumentException("'" + text + "' is not a valid name: unexpected '" + text.charAt(i)
                    + "' after a quoted identifier");
            }
            i++;
        }
    }

    /** One identifier, quoted or not, as its catalog name. */
    static String identifier(String text) {
        List<String> parts = qualifiedName(text);
        if (parts.size() != 1) throw new IllegalArgumentException("'" + text + "' is not a single identifier");
        return parts.get(0);
    }

    private static String unquoted(String whole, String s) {
        if (s.isEmpty()) throw new IllegalArgumentException("'" + whole + "' is not a valid name: empty part");
        int first = s.codePointAt(0);
        boolean ok = first == '_' || Character.isLetter(first);
        for (int j = Character.charCount(first); ok && j < s.length(); ) {
            int c = s.codePointAt(j);
            ok = c == '_' || c == '$' || Character.isLetterOrDigit(c);
            j += Character.charCount(c);
        }
        if (!ok) {
            throw new IllegalArgumentException("'" + s + "' is not a valid unquoted identifier (letters, digits, '_' and "
                + "'$', not starting with a digit); write it in double quotes inside the value, e.g. '\"" + s + "\"'");
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int j = 0; j < s.length(); j++) {
            char c = s.charAt(j);
            out.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return out.toString();
    }
}
