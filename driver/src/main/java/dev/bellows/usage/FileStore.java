package dev.bellows.usage;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * {@code bellows.usage=file:<path>}: appends JSON lines, one {@code "type":"usage"} line per key with the count
 * since the previous flush, then one {@code "type":"heartbeat"} line. Sum the counts to get totals.
 */
final class FileStore implements UsageStore {
    private final Path file;

    FileStore(Path file) {
        this.file = file;
    }

    @Override public void write(Batch b) throws IOException {
        StringBuilder out = new StringBuilder();
        for (Batch.Row r : b.rows()) out.append(usageLine(b, r)).append('\n');
        out.append(heartbeatLine(b)).append('\n');
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            w.write(out.toString());
        }
    }

    static String usageLine(Batch b, Batch.Row r) {
        return Json.compact().beginObject()
            .member("type", "usage")
            .member("instance", b.heartbeat().instanceId())
            .member("seq", b.seq())
            .member("app", r.app())
            .member("migration", r.migrationId())
            .member("column", r.column())
            .member("kind", r.kind())
            .member("treatment", r.treatment())
            .member("fingerprint", r.overflow() ? null : r.fingerprint())
            .member("overflow", r.overflow())
            .member("count", r.count())
            .member("firstSeen", Instant.ofEpochMilli(r.firstSeen()))
            .member("lastSeen", Instant.ofEpochMilli(r.lastSeen()))
            .member("callSite", r.callSite())
            .endObject().toString();
    }

    static String heartbeatLine(Batch b) {
        Batch.Heartbeat h = b.heartbeat();
        return Json.compact().beginObject()
            .member("type", "heartbeat")
            .member("instance", h.instanceId())
            .member("seq", b.seq())
            .member("app", h.appName())
            .member("host", h.host())
            .member("pid", h.pid())
            .member("startedAt", Instant.ofEpochMilli(h.startedAt()))
            .member("at", Instant.now())
            .member("stopped", h.stopped())
            .member("phases", h.phases())
            .member("rulesHash", h.rulesHash())
            .member("overflowed", h.overflowed())
            .endObject().toString();
    }

    @Override public String describe() {
        return "file " + file;
    }
}
