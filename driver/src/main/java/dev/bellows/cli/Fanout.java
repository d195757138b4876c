package dev.bellows.cli;

import dev.bellows.redact.Redact;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;

/**
 * One command over several databases (a sharded application runs one migration on each): {@code --url} given
 * more than once, or {@code --targets FILE}. The command runs once per database, in parallel, exactly as it
 * would with that database's {@code --url} alone; its output is printed database by database, every line
 * prefixed with the database's name, its error lines as they come, and a summary names each database whose
 * command did not succeed. The exit code is the worst of them: an error anywhere is 2, else a refusal or an
 * unmet gate anywhere is 1, so {@code gate} is green only when every database is.
 */
final class Fanout {
    /** Databases handled at once. */
    static final int PARALLEL = 8;

    /** A database: the name the output uses and its URL (never printed). */
    record Target(String name, String url) {
    }

    private Fanout() {
    }

    /** Whether these options name more than one database. */
    static boolean several(List<String> urls, Path targets) {
        return targets != null || (urls != null && urls.size() > 1);
    }

    /**
     * The databases of {@code --url} (each) and {@code --targets FILE}: one per line, {@code URL} or
     * {@code NAME URL}; blank lines and lines starting with {@code #} are skipped. A database without a name is
     * named by its host, port and database (never its parameters: they may hold a password).
     */
    static List<Target> targets(List<String> urls, Path file) {
        List<Target> out = new ArrayList<>();
        if (urls != null) for (String u : urls) out.add(new Target(nameOf(u), u));
        if (file != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("--targets " + file + ": cannot read it (" + e.getClass().getSimpleName() + ")");
            }
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i).strip();
                if (l.isEmpty() || l.startsWith("#")) continue;
                String[] p = l.split("\\s+");
                if (p.length > 2 || !p[p.length - 1].startsWith("jdbc:")) {
                    throw new IllegalArgumentException("--targets " + file + " line " + (i + 1)
                        + ": expected 'URL' or 'NAME URL' with a jdbc:postgresql: URL, got " + p.length + " field(s): "
                        + Redact.text(l));
                }
                out.add(new Target(p.length == 2 ? p[0] : nameOf(p[0]), p[p.length - 1]));
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no database: give --url URL (repeatable) or --targets FILE");
        Set<String> names = new LinkedHashSet<>();
        for (Target t : out) {
            if (!names.add(t.name())) throw new IllegalArgumentException("database " + t.name() + " is given twice");
        }
        return out;
    }

    static String nameOf(String url) {
        String s = Redact.location(url.strip());
        for (String p : List.of("jdbc:bellows:postgresql://", "jdbc:postgresql://", "jdbc:bellows:postgresql:", "jdbc:postgresql:")) {
            if (s.regionMatches(true, 0, p, 0, p.length())) return s.substring(p.length());
        }
        return s;
    }

    /**
     * Runs the command of {@code spec} once per target with the original arguments, {@code --url}/{@code --targets}
     * replaced by the target's {@code --url}, and prints as described above. Returns the exit code.
     */
    static int run(CommandLine.Model.CommandSpec spec, List<String> urls, Path targetsFile) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String command = spec.qualifiedName(" ");
        List<Target> targets;
        try {
            targets = targets(urls, targetsFile);
        } catch (IllegalArgumentException e) {
            err.println(command + ": " + e.getMessage());
            err.flush();
            return BellowsCli.ERROR;
        }
        List<String> base = withoutTargets(spec.root().commandLine().getParseResult().originalArgs());
        if (base.contains("--out") || base.stream().anyMatch(a -> a.startsWith("--out="))) {
            err.println(command + ": --out writes one file: give one database per run, not " + targets.size());
            err.flush();
            return BellowsCli.ERROR;
        }
        boolean json = "json".equals(option(base, "--format"));
        int width = targets.stream().mapToInt(t -> t.name().length()).max().orElse(0);
        Object errLock = new Object();
        List<StringWriter> outs = new ArrayList<>();
        List<Future<Integer>> runs = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL, targets.size()), r -> {
            Thread t = new Thread(r, "bellows-fanout");
            t.setDaemon(true);
            return t;
        });
        try {
            for (Target t : targets) {
                StringWriter o = new StringWriter();
                outs.add(o);
                List<String> args = new ArrayList<>(base);
                args.add("--url");
                args.add(t.url());
                PrintWriter e = new PrintWriter(new Prefixing(err, label(t.name(), width), errLock), true);
                runs.add(pool.submit(() -> runOne(args, new PrintWriter(o, true), e)));
            }
            int worst = 0;
            List<String> failed = new ArrayList<>();
            List<Integer> codes = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                int code;
                try {
                    code = runs.get(i).get();
                } catch (Exception e) {
                    code = BellowsCli.ERROR;
                }
                codes.add(code);
                worst = code == BellowsCli.ERROR || worst == BellowsCli.ERROR ? BellowsCli.ERROR : Math.max(worst, code);
                if (code != 0) failed.add(targets.get(i).name() + " (" + outcome(command, code) + ")");
            }
            if (json) {
                out.print(json(targets, outs, codes, worst));
            } else {
                for (int i = 0; i < targets.size(); i++) {
                    String lbl = label(targets.get(i).name(), width);
                    for (String line : outs.get(i).toString().split("\n", -1)) {
                        if (!line.isEmpty()) out.println(lbl + line);
                    }
                }
                out.println(summary(command, targets.size(), failed));
            }
            out.flush();
            return worst;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String summary(String command, int n, List<String> failed) {
        String verdict = failed.isEmpty() ? "every database succeeded" : failed.size() + " of " + n + " did not: " + String.join(", ", failed);
        if (command.endsWith("gate")) {
            verdict = failed.isEmpty() ? "SAFE on every database" : "NOT SAFE: " + verdict;
        } else if (command.endsWith("flags set")) {
            verdict = failed.isEmpty() ? "every database followed" : "NOT every database followed: " + failed.size() + " of " + n
                + " did not move: " + String.join(", ", failed) + " (the others moved; run it again once fixed, or move them back)";
        }
        return command + " on " + n + " databases: " + verdict;
    }

    private static String outcome(String command, int code) {
        if (code == BellowsCli.ERROR) return "error";
        if (command.endsWith("gate")) return "not safe";
        if (command.endsWith("flags set")) return "refused";
        return "exit " + code;
    }

    private static String json(List<Target> targets, List<StringWriter> outs, List<Integer> codes, int worst) {
        StringBuilder sb = new StringBuilder("{\n  \"exitCode\": ").append(worst).append(",\n  \"databases\": [");
        for (int i = 0; i < targets.size(); i++) {
            String o = outs.get(i).toString().strip();
            boolean isJson = o.startsWith("{") || o.startsWith("[");
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"database\": ").append(quote(targets.get(i).name()))
                .append(", \"exitCode\": ").append(codes.get(i)).append(", \"result\": ")
                .append(isJson ? o.replace("\n", "\n    ") : o.isEmpty() ? "null" : quote(o)).append('}');
        }
        return sb.append("\n  ]\n}\n").toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    else sb.append(ch);
                }
            }
        }
        return sb.append('"').toString();
    }

    private static String label(String name, int width) {
        return "[" + name + "]" + " ".repeat(width - name.length() + 1);
    }

    private static int runOne(List<String> args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new BellowsCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("bellows: " + Redact.message(ex));
            return BellowsCli.ERROR;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("bellows: " + Redact.text(ex.getMessage()));
            return BellowsCli.ERROR;
        });
        int code = cl.execute(args.toArray(new String[0]));
        out.flush();
        err.close(); // emits a last line without its newline
        return code;
    }

    /** The arguments without any {@code --url} or {@code --targets} and their values. */
    static List<String> withoutTargets(List<String> args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--url") || a.equals("--targets")) {
                i++;
                continue;
            }
            if (a.startsWith("--url=") || a.startsWith("--targets=")) continue;
            out.add(a);
        }
        return out;
    }

    private static String option(List<String> args, String name) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals(name) && i + 1 < args.size()) return args.get(i + 1).toLowerCase(Locale.ROOT);
            if (a.startsWith(name + "=")) return a.substring(name.length() + 1).toLowerCase(Locale.ROOT);
        }
        return null;
    }

    /** Writes whole lines to {@code to}, each prefixed, one database's line at a time. */
    private static final class Prefixing extends Writer {
        private final PrintWriter to;
        private final String prefix;
        private final Object lock;
        private final StringBuilder line = new StringBuilder();

        Prefixing(PrintWriter to, String prefix, Object lock) {
            this.to = to;
            this.prefix = prefix;
            this.lock = lock;
        }

        @Override public void write(char[] buf, int off, int len) {
            for (int i = off; i < off + len; i++) {
                char ch = buf[i];
                if (ch == '\n') emit();
                else if (ch != '\r') line.append(ch);
            }
        }

        private void emit() {
            synchronized (lock) {
                to.println(prefix + line);
                to.flush();
            }
            line.setLength(0);
        }

        @Override public void flush() {
        }

        @Override public void close() {
            if (line.length() > 0) emit();
        }
    }
}
