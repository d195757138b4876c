package dev.bellows.workflow;

import dev.bellows.cli.BellowsCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code docs/runbook.md} as a test reads it: the {@code bellows} command lines of each numbered section's
 * {@code sh} blocks, in order, and a way to run one of them in-process with the runbook's variables
 * ({@code $URL}, {@code $RULES}, {@code $ID}) set, as a shell would.
 */
final class Runbook {
    private static final Pattern SECTION = Pattern.compile("^## (\\d+)\\. ");
    final Map<String, List<String>> commands = new LinkedHashMap<>();
    final Map<String, String> vars = new LinkedHashMap<>();
    /** Replacements of the runbook's own words, applied before the variables are expanded (e.g. the 8-day window). */
    final Map<String, String> replace = new LinkedHashMap<>();

    static Runbook read(Path file) throws IOException {
        Runbook r = new Runbook();
        String section = null;
        boolean sh = false;
        StringBuilder continued = null;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("## ")) {
                Matcher m = SECTION.matcher(line);
                section = m.find() ? m.group(1) : null;
            }
            String t = line.strip();
            if (t.startsWith("```")) {
                sh = !sh && t.equals("```sh");
                continue;
            }
            if (!sh || section == null) continue;
            if (continued != null) {
                continued.append(' ').append(t.endsWith("\\") ? t.substring(0, t.length() - 1).strip() : t);
                if (!t.endsWith("\\")) {
                    r.commands.computeIfAbsent(section, k -> new ArrayList<>()).add(continued.toString());
                    continued = null;
                }
                continue;
            }
            if (!t.startsWith("bellows ")) continue;
            int hash = t.indexOf("   #");
            if (hash > 0) t = t.substring(0, hash).strip();
            if (t.endsWith("\\")) {
                continued = new StringBuilder(t.substring(0, t.length() - 1).strip());
                continue;
            }
            r.commands.computeIfAbsent(section, k -> new ArrayList<>()).add(t);
        }
        return r;
    }

    List<String> section(String n) {
        return commands.getOrDefault(n, List.of());
    }

    /** The one command of section {@code n} that starts with {@code prefix}. */
    String find(String n, String prefix) {
        List<String> found = section(n).stream().filter(c -> c.startsWith(prefix)).toList();
        if (found.size() != 1) throw new AssertionError("section " + n + " of the runbook has " + found.size() + " commands starting with '"
            + prefix + "': " + section(n));
        return found.get(0);
    }

    /** A command line split as a shell would (double and single quotes, $VAR and "$VAR"). */
    List<String> argv(String line) {
        line = replaced(line);
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                } else if (ch == '$' && quote == '"') {
                    i = variable(line, i, cur);
                } else {
                    cur.append(ch);
                }
                continue;
            }
            if (Character.isWhitespace(ch)) {
                if (cur != null) out.add(cur.toString());
                cur = null;
                continue;
            }
            if (cur == null) cur = new StringBuilder();
            if (ch == '"' || ch == '\'') quote = ch;
            else if (ch == '$') i = variable(line, i, cur);
            else cur.append(ch);
        }
        if (quote != 0) throw new AssertionError("unbalanced quote in runbook command: " + line);
        if (cur != null) out.add(cur.toString());
        return out;
    }

    // One pass over the runbook's own text, before $VAR expansion: a substituted value (a database name with a
    // random "8d" in it, a temporary path) must never be edited by a replacement meant for the runbook's words.
    private String replaced(String line) {
        StringBuilder sb = new StringBuilder(line.length());
        outer:
        for (int i = 0; i < line.length(); ) {
            for (Map.Entry<String, String> e : replace.entrySet()) {
                if (line.startsWith(e.getKey(), i)) {
                    sb.append(e.getValue());
                    i += e.getKey().length();
                    continue outer;
                }
            }
            sb.append(line.charAt(i++));
        }
        return sb.toString();
    }

    private int variable(String line, int i, StringBuilder cur) {
        int j = i + 1;
        while (j < line.length() && (Character.isLetterOrDigit(line.charAt(j)) || line.charAt(j) == '_')) j++;
        String name = line.substring(i + 1, j);
        String value = vars.get(name);
        if (value == null) throw new AssertionError("the runbook uses $" + name + ", which its conventions do not set: " + line);
        cur.append(value);
        return j - 1;
    }

    /** What one run printed and returned. */
    record Run(String command, int exit, String out) {
        @Override public String toString() {
            return "$ " + command + "  => exit " + exit + "\n" + out;
        }
    }

    /** Runs the command line in this JVM (stdout and stderr together, as a terminal shows them). */
    Run run(String line) {
        List<String> a = argv(line);
        if (!a.get(0).equals("bellows")) throw new AssertionError("not a bellows command: " + line);
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int code;
        synchronized (Runbook.class) {
            try (PrintStream p = new PrintStream(o, true, StandardCharsets.UTF_8)) {
                System.setOut(p);
                System.setErr(p);
                code = BellowsCli.run(a.subList(1, a.size()).toArray(new String[0]));
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
        }
        Run r = new Run(line, code, o.toString(StandardCharsets.UTF_8));
        oldOut.println(r);
        return r;
    }
}
