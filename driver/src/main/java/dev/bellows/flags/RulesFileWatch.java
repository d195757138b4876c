package dev.bellows.flags;

import dev.bellows.rules.RuleSet;
import dev.bellows.rules.RulesException;
import dev.bellows.rules.RulesFile;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

/**
 * The rules-file part of a {@link FlagWatcher}: notices a changed file (modification time, size, file key) and
 * loads it once it held still for one poll, keeping the last good rules when the new file does not load. Used by the
 * watcher thread only.
 */
final class RulesFileWatch {
    // FlagWatcher's logger: its messages keep the logger name they always had.
    private static final System.Logger LOG = System.getLogger(FlagWatcher.class.getName());

    private final String location;
    private final Path path;
    private final String label;
    private Instant baseLoadedAt = Instant.now();
    private FileStamp stamp;
    private FileStamp pending;
    private boolean rejectedStamp;

    private RulesFileWatch(String location, Path path, String label) {
        this.location = location;
        this.path = path;
        this.label = label;
    }

    /** A watch of {@code location}, or null when it is no file path ({@code classpath:}, or not a valid path). */
    static RulesFileWatch of(String location, String label) {
        Path p = path(location);
        return p == null ? null : new RulesFileWatch(location, p, label);
    }

    private static Path path(String location) {
        if (location == null || location.trim().startsWith(RulesFile.CLASSPATH_PREFIX)) return null;
        try {
            return Path.of(location.trim());
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private record FileStamp(FileTime modified, long size, Object key) {
        static final FileStamp MISSING = new FileStamp(FileTime.fromMillis(0), -1, null);

        static FileStamp of(Path p) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                return new FileStamp(a.lastModifiedTime(), a.size(), a.fileKey());
            } catch (NoSuchFileException e) {
                return MISSING;
            } catch (IOException | RuntimeException e) {
                return MISSING;
            }
        }
    }

    /**
     * The rules of the file when it changed since the last check and loads to rules other than {@code base};
     * null otherwise (unchanged, rejected with an error naming file and line, or loaded to the same rules).
     */
    RuleSet check(RuleSet base) {
        FileStamp now = FileStamp.of(path);
        if (now.equals(stamp)) return null;
        // A file being written (truncated, then filled) must never be installed half-way: read as empty or cut short
        // it can still parse, and losing a migration in expand or switch stops the dual writes. So a changed file is
        // read only when its stamp held still since the previous poll, and is kept only if it still holds after.
        if (!now.equals(pending)) {
            pending = now;
            return null;
        }
        if (now.size() == 0) {
            stamp = now;
            rejectedStamp = true;
            LOG.log(Level.ERROR, label + ": rejected the changed rules file " + location + ": it is empty. The last"
                + " good rules (loaded " + baseLoadedAt + ", " + base.migrations().size() + " migrations) stay in force.");
            return null;
        }
        RuleSet loaded;
        try {
            loaded = RulesFile.load(location, null);
        } catch (RulesException e) {
            stamp = now;
            rejectedStamp = true;
            LOG.log(Level.ERROR, label + ": rejected the changed rules file: " + e.getMessage()
                + ". The last good rules (loaded " + baseLoadedAt + ", " + base.migrations().size()
                + " migrations) stay in force.");
            return null;
        } catch (RuntimeException e) {
            stamp = now;
            rejectedStamp = true;
            LOG.log(Level.ERROR, label + ": rejected the changed rules file " + location + ": " + e
                + ". The last good rules stay in force.");
            return null;
        }
        if (!FileStamp.of(path).equals(now)) {
            pending = null; // written again while it was read: the next polls decide
            return null;
        }
        boolean wasRejected = rejectedStamp;
        stamp = now;
        rejectedStamp = false;
        if (loaded.equals(base)) {
            if (wasRejected) LOG.log(Level.INFO, label + ": the rules file is valid again and unchanged");
            return null;
        }
        baseLoadedAt = Instant.now();
        LOG.log(Level.INFO, label + ": the rules file changed; loaded " + loaded.migrations().size() + " migrations");
        return loaded;
    }
}
