package dev.bellows.workflow;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The backfill's progress on stderr: on a terminal one line redrawn in place with a carriage return (at most five
 * times a second); otherwise, for logs and CI, a full line every {@code interval}. Messages always get their own line.
 */
public final class ProgressBar implements Backfill.Listener {
    private static final int WIDTH = 30;
    private final PrintWriter out;
    private final boolean tty;
    private final long intervalNanos;
    private long lastDraw;
    private boolean drawn;
    private Backfill.Progress latest;
    private boolean drawnLatest;

    public ProgressBar(PrintWriter out, boolean tty, long intervalMillis) {
        this.out = out;
        this.tty = tty;
        this.intervalNanos = (tty ? 200 : intervalMillis) * 1_000_000L;
        this.lastDraw = System.nanoTime();
    }

    @Override public synchronized void message(String line) {
        if (tty && drawn) out.print("\r\033[K");
        out.println(line);
        if (tty && drawn && latest != null) out.print(render(latest));
        out.flush();
    }

    @Override public synchronized void progress(Backfill.Progress p) {
        if (latest != null && latest.scanned() == p.scanned() && latest.batches() == p.batches() && drawnLatest) return;
        latest = p;
        drawnLatest = false;
        long now = System.nanoTime();
        // (scanned reaching total is no sign of the end: total is an estimate, raised to scanned as the pass goes on;
        // close() draws the last state)
        if (now - lastDraw < intervalNanos) return;
        drawnLatest = true;
        lastDraw = now;
        if (tty) {
            out.print("\r" + render(p) + "\033[K");
            drawn = true;
        } else {
            out.println(render(p));
        }
        out.flush();
    }

    /** Draws the last progress not yet shown and ends the redrawn line so what follows starts on its own. */
    public synchronized void close() {
        if (latest != null && !drawnLatest) {
            drawnLatest = true;
            if (tty) {
                out.print("\r" + render(latest) + "\033[K");
                drawn = true;
            } else {
                out.println(render(latest));
            }
        }
        if (tty && drawn) {
            out.println();
        }
        out.flush();
        drawn = false;
    }

    static String render(Backfill.Progress p) {
        double frac = p.total() <= 0 ? 0 : Math.min(1.0, (double) p.scanned() / p.total());
        int filled = (int) Math.round(frac * WIDTH);
        long eta = p.etaSeconds();
        return String.format(Locale.ROOT, "[%s%s] %3.0f%%  %,d / %,d rows  (%,d updated)  %,.0f rows/s  ETA %s",
            "#".repeat(filled), "-".repeat(WIDTH - filled), frac * 100, p.scanned(), p.total(), p.updated(),
            p.rowsPerSecond(), eta < 0 ? "?" : String.format(Locale.ROOT, "%d:%02d:%02d", eta / 3600, eta / 60 % 60, eta % 60));
    }
}
