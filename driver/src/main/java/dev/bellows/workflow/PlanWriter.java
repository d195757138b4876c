package dev.bellows.workflow;

import dev.bellows.rules.Migration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a {@link Plan} as SQL files. Plain: {@code <id>_<nn>_<step>.sql} and {@code <id>_<nn>_<step>.down.sql}.
 * Flyway: {@code V<n>__bellows_<id>_<step>.sql} and {@code U<n>__bellows_<id>_<step>.sql}, plus a
 * {@code .sql.conf} with {@code executeInTransaction=false} next to each script that must run outside a transaction.
 */
public final class PlanWriter {
    /** The marker line each file carries; {@link ScriptRunner} reads it. */
    public static final String RUN_MARKER = "-- bellows-run: ";

    /** One written step: its forward and down files. */
    public record Written(Plan.Step step, Path up, Path down) {
    }

    private PlanWriter() {
    }

    /**
     * Writes the plan into {@code dir} (created if needed).
     *
     * @param flywayVersion the first Flyway version number, or 0 for plain names
     */
    public static List<Written> write(Plan plan, Path dir, int flywayVersion) throws IOException {
        Files.createDirectories(dir);
        Migration m = plan.migration();
        String id = m.id().replaceAll("[^A-Za-z0-9_]", "_");
        List<Written> out = new ArrayList<>();
        List<Plan.Step> steps = plan.steps();
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step s = steps.get(i);
            String upName;
            String downName;
            if (flywayVersion > 0) {
                upName = "V" + (flywayVersion + i) + "__bellows_" + id + "_" + s.name() + ".sql";
                downName = "U" + (flywayVersion + i) + "__bellows_" + id + "_" + s.name() + ".sql";
            } else {
                String nn = String.format("%02d", i + 1);
                upName = m.id() + "_" + nn + "_" + s.name() + ".sql";
                downName = m.id() + "_" + nn + "_" + s.name() + ".down.sql";
            }
            Path up = dir.resolve(upName);
            Path down = dir.resolve(downName);
            Files.writeString(up, header(plan, s, i, steps.size(), false, downName) + s.up(), StandardCharsets.UTF_8);
            String downBody = s.reversible() ? s.down()
                : "DO $bellows$\nBEGIN\n  RAISE EXCEPTION 'bellows: the " + s.name() + " step of migration "
                    + m.id().replace("'", "''") + " is irreversible';\nEND\n$bellows$;\n";
            Files.writeString(down, header(plan, s, i, steps.size(), true, upName) + downBody, StandardCharsets.UTF_8);
            if (flywayVersion > 0 && !s.transactional()) {
                Files.writeString(dir.resolve(upName + ".conf"), "executeInTransaction=false\n", StandardCharsets.UTF_8);
                Files.writeString(dir.resolve(downName + ".conf"), "executeInTransaction=false\n", StandardCharsets.UTF_8);
            }
            out.add(new Written(s, up, down));
        }
        return out;
    }

    private static String header(Plan plan, Plan.Step s, int index, int count, boolean down, String other) {
        Migration m = plan.migration();
        StringBuilder h = new StringBuilder();
        if (m.isTableRename()) h.append("-- Bellows plan for migration ").append(m.id()).append(": table ").append(m.qualifiedTable())
            .append(" -> ").append(m.toTable()).append(" (table rename)\n");
        else h.append("-- Bellows plan for migration ").append(m.id()).append(": ").append(m.qualifiedTable()).append('.')
            .append(m.from()).append(" -> ").append(m.isNotNull() ? "NOT NULL" : m.isRemoval() ? "(removed)" : m.to())
            .append(m.isNotNull() ? " (default_value = " + oneLine(m.defaultValue()) + ")" : m.isRemoval() ? " (column removal" + (m.removedValue() == null ? "" : ", removed_value = " + oneLine(m.removedValue())) + ")"
                : m.isTypeChange() ? " (type change: up = " + oneLine(m.up()) + ", down = " + oneLine(m.down()) + ")" : " (rename)")
            .append('\n');
        h.append("-- Step ").append(index + 1).append(" of ").append(count).append(", ").append(s.name())
            .append(down ? " (DOWN)" : "").append(": ").append(down ? s.downNote() : s.summary()).append('\n');
        if (!down) h.append("-- When: ").append(s.when()).append('\n');
        if (down && !s.reversible()) {
            h.append("-- IRREVERSIBLE. This file only refuses.\n");
        }
        if (s.transactional()) {
            h.append(RUN_MARKER).append("transaction\n");
            h.append("-- Run the whole file in one transaction: psql -v ON_ERROR_STOP=1 --single-transaction -f FILE\n")
                .append("-- (Flyway does that by default).\n");
        } else {
            h.append(RUN_MARKER).append("autocommit\n");
            h.append("-- Run it OUTSIDE a transaction, one statement at a time: psql -v ON_ERROR_STOP=1 -f FILE (no --single-transaction);\n")
                .append("-- for Flyway the .conf file next to it says executeInTransaction=false.\n");
        }
        h.append("-- Idempotent: it can be run again after a failure or a success.\n");
        h.append("-- ").append(down ? "Forward script: " : "Down script: ").append(other).append('\n');
        h.append('\n');
        return h.toString();
    }

    private static String oneLine(String s) {
        return s == null ? "" : SqlText.oneLine(s, 200);
    }

    private static final Pattern FLYWAY_FILE = Pattern.compile("^[VU](\\d+)__.*\\.sql$");

    /**
     * The first free Flyway version: one more than the highest integer version among {@code V<n>__} files in
     * {@code dir} and rows of {@code flyway_schema_history} (when the table is on the search path); or, when
     * {@code dir} already holds this migration's files, the version of its first one.
     */
    public static int nextFlywayVersion(Path dir, Connection c, String migrationId) throws IOException, SQLException {
        long max = 0;
        long mine = Long.MAX_VALUE;
        String own = "__bellows_" + migrationId.replaceAll("[^A-Za-z0-9_]", "_") + "_";
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    String name = p.getFileName().toString();
                    Matcher mm = FLYWAY_FILE.matcher(name);
                    if (!mm.matches()) continue;
                    long v = Long.parseLong(mm.group(1));
                    max = Math.max(max, v);
                    if (name.startsWith("V") && name.contains(own)) mine = Math.min(mine, v);
                }
            }
        }
        // a plan written before for this migration keeps its numbers, so writing it again replaces its files
        if (mine != Long.MAX_VALUE) return (int) mine;
        if (c != null && Db.scalar(c, "SELECT to_regclass('flyway_schema_history')") != null) {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT max(version::numeric) FROM flyway_schema_history WHERE version ~ '^[0-9]+$'")) {
                if (rs.next() && rs.getBigDecimal(1) != null) max = Math.max(max, rs.getBigDecimal(1).longValue());
            }
        }
        return (int) max + 1;
    }
}
