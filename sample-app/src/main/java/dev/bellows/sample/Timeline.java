package dev.bellows.sample;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The demo's terminal output: step headings, commands with their output, and once a second while load runs a
 * timeline line with the phases, each instance's statements per second and errors, the uses of the deprecated
 * columns per second, and the progress of whatever step is under way (a bar), e.g.
 * <pre>
 *    41s  leads=switch orders=switch | legacy-1 610/s err 0  new-1 590/s err 0 | old columns/s: 0 direct, 402 mapped | window [####......] 1.2/3s
 * </pre>
 * Plain ASCII, one line per tick, so it reads the same in a terminal, a CI log and a test's captured output.
 */
public final class Timeline implements AutoCloseable {
    private final PrintStream out;
    private final Settings settings;
    private final long t0 = System.nanoTime();
    private final List<Instance> fleet = new CopyOnWriteArrayList<>();
    private final Map<String, Long> lastStatements = new HashMap<>();
    private volatile Supplier<String> phases = () -> "";
    private volatile UsageTap tap;
    private volatile String usageLabel = "old columns/s";
    private volatile Supplier<String> activity;
    private long lastPhysical;
    private long lastMapped;
    private long lastTick = System.nanoTime();
    private final Thread ticker;
    private volatile boolean ticking;
    private volatile boolean closed;

    Timeline(PrintStream out, Settings settings) {
        this.out = out;
        this.settings = settings;
        this.ticker = new Thread(this::tickLoop, "demo-timeline");
        ticker.setDaemon(true);
        ticker.start();
    }

    PrintStream out() { return out; }

    String elapsed() {
        return String.format(Locale.ROOT, "%5.1fs", (System.nanoTime() - t0) / 1e9);
    }

    // ------------------------------------------------------------------ headings and text

    void part(String title) {
        synchronized (out) {
            out.println();
            out.println("=".repeat(100));
            out.println(title);
            out.println("=".repeat(100));
        }
    }

    void step(String title) {
        synchronized (out) {
            out.println();
            out.println(elapsed() + "  >> " + title);
        }
    }

    void say(String text) {
        synchronized (out) {
            for (String line : text.split("\n", -1)) out.println("          " + line);
        }
    }

    void command(String commandLine) {
        synchronized (out) {
            out.println("          $ " + commandLine);
        }
    }

    /** A stream that prints each line it receives, indented, as it arrives (for the CLI's own output). */
    PrintStream indented() {
        return new PrintStream(new LineStream("          | "), true, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ the live timeline

    /** Instances whose load the timeline shows; removed ones disappear from the next line. */
    void track(Instance instance) { fleet.add(instance); }

    void untrack(Instance instance) { fleet.remove(instance); }

    void phases(Supplier<String> phases) { this.phases = phases; }

    void usage(UsageTap tap) {
        usage(tap, "old columns/s");
    }

    /** Like {@link #usage(UsageTap)}, naming what the uses are of (e.g. {@code "uses of orders/s"}). */
    void usage(UsageTap tap, String label) {
        this.usageLabel = label;
        this.tap = tap;
        if (tap != null) {
            lastPhysical = tap.physical();
            lastMapped = tap.mapped();
        }
    }

    /** Starts printing a line every tick. */
    void live(boolean on) {
        if (on && !ticking) {
            synchronized (this) {
                lastTick = System.nanoTime();
                for (Instance i : fleet) lastStatements.put(i.name(), i.stats().statements());
                if (tap != null) {
                    lastPhysical = tap.physical();
                    lastMapped = tap.mapped();
                }
            }
        }
        ticking = on;
    }

    /** What the next lines show as the step under way (a progress bar, say); null for nothing. */
    void activity(Supplier<String> activity) { this.activity = activity; }

    /** Lets the load run for {@code d}, with a progress bar labelled {@code label}. */
    void run(Duration d, String label) throws InterruptedException {
        long start = System.nanoTime();
        long total = d.toNanos();
        activity(() -> label + " " + bar((System.nanoTime() - start) / (double) total)
            + String.format(Locale.ROOT, " %.1f/%.0fs", Math.min(total, System.nanoTime() - start) / 1e9, total / 1e9));
        try {
            Thread.sleep(d.toMillis());
        } finally {
            activity(null);
        }
    }

    static String bar(double fraction) {
        double f = Math.max(0, Math.min(1, fraction));
        int n = (int) Math.round(f * 20);
        return "[" + "#".repeat(n) + ".".repeat(20 - n) + "]";
    }

    private void tickLoop() {
        long period = settings.tick().toNanos();
        long next = System.nanoTime() + period;
        while (!closed) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
            next += period;
            if (ticking && !closed) {
                String line = tickLine();
                synchronized (out) {
                    out.println(line);
                }
            }
        }
    }

    synchronized String tickLine() {
        long now = System.nanoTime();
        double secs = Math.max(1e-3, (now - lastTick) / 1e9);
        lastTick = now;
        StringBuilder sb = new StringBuilder();
        sb.append(elapsed()).append("  ");
        String p = phases.get();
        if (!p.isEmpty()) sb.append(p).append(" | ");
        if (fleet.isEmpty()) sb.append("(no instance running)");
        for (Instance i : fleet) {
            long st = i.stats().statements();
            long before = lastStatements.getOrDefault(i.name(), st);
            lastStatements.put(i.name(), st);
            sb.append(String.format(Locale.ROOT, "%s %4.0f/s err %d  ", i.name(), (st - before) / secs,
                i.stats().errors() + i.stats().wrongAnswers()));
        }
        UsageTap t = tap;
        if (t != null) {
            long ph = t.physical();
            long ma = t.mapped();
            sb.append(String.format(Locale.ROOT, "| %s: %.0f direct, %.0f mapped ", usageLabel, (ph - lastPhysical) / secs,
                (ma - lastMapped) / secs));
            lastPhysical = ph;
            lastMapped = ma;
        }
        Supplier<String> a = activity;
        if (a != null) sb.append("| ").append(a.get());
        return sb.toString().stripTrailing();
    }

    @Override public void close() {
        closed = true;
        ticker.interrupt();
    }

    /** Buffers bytes until a line ends, then prints the line with a prefix; a carriage return also ends a line. */
    private final class LineStream extends OutputStream {
        private final String prefix;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private long lastRedraw;

        LineStream(String prefix) {
            this.prefix = prefix;
        }

        @Override public synchronized void write(int b) {
            if (b == '\n' || b == '\r') {
                flushLine(b == '\r');
            } else {
                buf.write(b);
            }
        }

        private void flushLine(boolean carriageReturn) {
            String line = buf.toString(StandardCharsets.UTF_8);
            buf.reset();
            if (line.isBlank()) return;
            // A progress bar redrawn with \r in place: print at most one of its states a second.
            if (carriageReturn) {
                long now = System.nanoTime();
                if (now - lastRedraw < 1_000_000_000L) return;
                lastRedraw = now;
            }
            synchronized (out) {
                out.println(prefix + line);
            }
        }

        @Override public synchronized void flush() {
        }

        @Override public synchronized void close() {
            if (buf.size() > 0) flushLine(false);
        }
    }
}
