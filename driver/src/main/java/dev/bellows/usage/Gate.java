package dev.bellows.usage;

import dev.bellows.rules.Migration;
import dev.bellows.rules.RuleSet;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code bellows gate}: whether dropping a migration's old column is safe, on evidence only. Each condition is
 * judged over the window ending now (database time):
 * <ol>
 *   <li><b>tracking</b>: usage tracking of the migration covered the whole window (instances that know it were
 *       recording from before the window began, without gaps), and no instance reported during the window
 *       without the migration in its rules;</li>
 *   <li><b>silence</b>: no instance that reported during the window went silent (stopped reporting without an
 *       orderly shutdown);</li>
 *   <li><b>usage</b>: no read or write of the old column was passed through unrewritten or unanalysed;</li>
 *   <li><b>bypass</b>: where {@code pg_stat_statements} is installed, no statement from a client that bypasses
 *       Bellows names the old column (see {@link StatementForms}); otherwise the condition says it was not
 *       checked;</li>
 *   <li><b>backfill</b>: every row has {@code to = up(from)};</li>
 *   <li><b>dependencies</b>: no view, rule, trigger, function, index, constraint, foreign key, policy or other
 *       object depends on the old column;</li>
 *   <li><b>strict</b> (with {@code --strict}): no statement named the old column at all, even where Bellows
 *       rewrote it.</li>
 * </ol>
 */
public final class Gate {
    /** A condition's outcome. */
    public enum Status {
        MET, UNMET,
        /** Could not be checked (said plainly); does not by itself fail the gate. */
        NOT_CHECKED;

        public String label() { return name().toLowerCase(Locale.ROOT).replace('_', ' '); }
    }

    /** One condition with its evidence, each line readable on its own. */
    public record Condition(String id, String title, Status status, List<String> evidence) {
    }

    /** The verdict. */
    public record Result(Migration migration, Instant now, Instant windowStart, Duration window, boolean strict,
                         List<Condition> conditions, List<String> notes) {
        /** Whether dropping the old column is safe: no condition unmet. */
        public boolean safe() {
            return conditions.stream().noneMatch(c -> c.status() == Status.UNMET);
        }

        public List<Condition> unmet() {
            return conditions.stream().filter(c -> c.status() == Status.UNMET).toList();
        }
    }

    /**
     * @param window      how far back the evidence must reach
     * @param strict      also refuse legacy-name references Bellows rewrote
     * @param silentAfter silence threshold; null: max(60 s, three flush intervals) per instance
     * @param rules       rules file, or null to use the definitions instances reported
     */
    public record Options(Duration window, boolean strict, Duration silentAfter, RuleSet rules) {
    }

    /** An error that is no verdict (exit code 2): unknown migration, missing table or column. */
    public static final class GateException extends Exception {
        public GateException(String message) {
            super(message);
        }
    }

    private final Connection c;
    private final Migration m;
    private final RuleSet known;
    private final Options o;
    private final Fleet fleet;
    private final Instant now;
    private final Instant from;
    private final List<String> notes = new ArrayList<>();

    private Gate(Connection c, Migration m, RuleSet known, Options o, Fleet fleet) {
        this.c = c;
        this.m = m;
        this.known = known;
        this.o = o;
        this.fleet = fleet;
        this.now = fleet.now();
        this.from = now.minus(o.window());
    }

    /** Evaluates the gate for {@code migrationId} on the database behind {@code c}. */
    public static Result evaluate(Connection c, String migrationId, Options o) throws GateException, SQLException {
        RuleSet known = Fleet.known(c, o.rules());
        Migration m = known.get(migrationId);
        if (m == null) {
            throw new GateException("unknown migration id '" + migrationId + "': "
                + (known.isEmpty() ? "no rules file given and no instance has reported any migration"
                    : "known ids are " + String.join(", ", known.migrations().stream().map(Migration::id).toList())));
        }
        Gate g = new Gate(c, m, known, o, Fleet.load(c));
        g.requireColumn();
        List<Condition> conditions = new ArrayList<>();
        conditions.add(g.tracking());
        conditions.add(g.silence());
        conditions.add(g.usage());
        conditions.add(g.bypass());
        if (m.isTableRename()) {
            conditions.add(new Condition("backfill", "the backfill is complete", Status.MET,
                List.of("a table rename moves no data: the renamed table holds every row")));
            conditions.add(g.dropped ? g.moot("dependencies", "nothing depends on the bridge view " + g.column())
                : g.bridgeDependencies());
            if (g.dropped) g.notes.add("the bridge view " + g.column() + " has been dropped already: the gate judges the usage evidence only");
        } else if (g.dropped) {
            // After the drop the question is whether anything still misses the old column: the usage conditions
            // answer that; there is nothing left to backfill and nothing can depend on a column that is gone.
            conditions.add(g.moot("backfill", "the backfill is complete"));
            conditions.add(g.moot("dependencies", "no view, rule, trigger, function, index, constraint or foreign key depends on "
                + g.column()));
            g.notes.add(g.column() + " has been dropped already: the gate judges the usage evidence only");
        } else {
            if (m.isNotNull()) {
                conditions.add(g.noNulls());
                conditions.add(g.moot("dependencies", "nothing depends on the column's nullability", "the column stays"));
            } else {
                conditions.add(m.isRemoval() ? g.moot("backfill", "the backfill is complete", "a column removal has nothing to"
                    + " backfill") : g.backfill());
                conditions.add(g.dependencies());
            }
        }
        if (o.strict()) conditions.add(g.strict());
        g.phaseNotes();
        return new Result(m, g.now, g.from, o.window(), o.strict(), List.copyOf(conditions), List.copyOf(g.notes));
    }

    private String column() {
        return m.isTableRename() ? m.qualifiedTable() : m.qualifiedTable() + "." + m.from();
    }

    /** The old name the usage evidence is about: the deprecated column, or a renamed table's old name. */
    private String oldName() {
        return m.isTableRename() ? m.table() : m.from();
    }

    /** What the contract step drops: the old column, or a table rename's bridge view. */
    public static String subject(Migration m) {
        return m.isTableRename() ? "the bridge view " + m.qualifiedTable() : m.qualifiedTable() + "." + m.from();
    }

    /** What replaces {@link #subject}: the new column, or the renamed table. */
    public static String replacement(Migration m) {
        return m.isTableRename() ? m.qualifiedToTable() : m.to();
    }

    private String table() {
        return StatementForms.quote(m.schema()) + "." + StatementForms.quote(m.table());
    }

    private int attnum;
    private boolean dropped; // the old column is gone (contract done)

    private Condition moot(String id, String title) {
        return moot(id, title, column() + " no longer exists");
    }

    private Condition moot(String id, String title, String why) {
        return new Condition(id, title, Status.MET, List.of(why));
    }

    private void requireColumn() throws GateException, SQLException {
        if (m.isTableRename()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL, to_regclass(?) IS NOT NULL")) {
                ps.setString(1, table());
                ps.setString(2, StatementForms.quote(m.schema()) + "." + StatementForms.quote(m.toTable()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    dropped = !rs.getBoolean(1);
                    if (!rs.getBoolean(2)) {
                        throw new GateException("table " + m.qualifiedToTable() + " of migration " + m.id()
                            + " does not exist yet: run the expand step first (it creates the view " + m.toTable() + ")");
                    }
                }
            }
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL,"
            + " (SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped AND attnum > 0)")) {
            ps.setString(1, table());
            ps.setString(2, table());
            ps.setString(3, m.from());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) throw new GateException("table " + m.qualifiedTable() + " of migration " + m.id() + " does not exist");
                attnum = rs.getInt(2);
                dropped = rs.wasNull();
            }
        }
        if (m.isNotNull() && dropped) throw new GateException("column " + column() + " does not exist");
        if (m.to() == null) return; // nothing replaces the column
        boolean to = false;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ?"
            + " AND NOT attisdropped AND attnum > 0")) {
            ps.setString(1, table());
            ps.setString(2, m.to());
            try (ResultSet rs = ps.executeQuery()) {
                to = rs.next();
            }
        }
        if (!to) throw new GateException("column " + m.qualifiedTable() + "." + m.to() + " does not exist yet: run the expand step first");
    }

    // ------------------------------------------------------------------ tracking

    private Condition tracking() {
        String title = "usage tracking of " + m.id() + " covered the whole window";
        List<String> ev = new ArrayList<>();
        if (!fleet.hasSchema()) {
            ev.add("there is no bellows schema in this database: no instance has ever recorded usage here (is"
                + " bellows.usage set to db?)");
            return new Condition("tracking", title, Status.UNMET, ev);
        }
        List<Fleet.Instance> knowing = fleet.instances().stream().filter(i -> i.phases().containsKey(m.id())).toList();
        if (knowing.isEmpty()) {
            ev.add("no instance has ever reported migration " + m.id() + " in its rules");
            return new Condition("tracking", title, Status.UNMET, ev);
        }
        Duration slack = slack(knowing);
        List<Fleet.Instance> sorted = new ArrayList<>(knowing);
        sorted.sort(Comparator.comparing(Fleet.Instance::startedAt));
        Instant earliest = sorted.get(0).startedAt();
        if (earliest.isAfter(from)) {
            ev.add("tracking of " + m.id() + " began at " + earliest + " (" + ago(earliest) + "), after the window began at "
                + from + ": " + Durations.format(Duration.between(from, earliest)) + " of the window are not covered");
        }
        Instant covered = earliest;
        for (Fleet.Instance i : sorted) {
            if (i.startedAt().isAfter(covered.plus(slack)) && i.startedAt().isAfter(from)) {
                Instant gapFrom = covered.isBefore(from) ? from : covered;
                ev.add("no instance tracked " + m.id() + " from " + gapFrom + " to " + i.startedAt() + " ("
                    + Durations.format(Duration.between(gapFrom, i.startedAt())) + ")");
            }
            if (i.trackedUntil().isAfter(covered)) covered = i.trackedUntil();
        }
        if (covered.isBefore(now.minus(slack))) {
            ev.add("no instance has tracked " + m.id() + " since " + covered + " (" + ago(covered) + ")");
        }
        for (Fleet.Instance i : fleet.reportedSince(from)) {
            if (!i.phases().containsKey(m.id())) {
                ev.add("instance " + who(i) + " reported during the window without " + m.id() + " in its rules (rules "
                    + i.rulesSource() + ", hash " + i.rulesHash() + "): its uses of " + column() + " are not tracked");
            }
        }
        if (ev.isEmpty()) {
            ev.add(knowing.size() + " instance(s) tracked " + m.id() + " from " + earliest + " on, with no gap longer than "
                + Durations.format(slack));
            return new Condition("tracking", title, Status.MET, ev);
        }
        return new Condition("tracking", title, Status.UNMET, ev);
    }

    private Duration slack(List<Fleet.Instance> instances) {
        Duration d = Duration.ZERO;
        for (Fleet.Instance i : instances) {
            Duration t = i.silenceThreshold(o.silentAfter());
            if (t.compareTo(d) > 0) d = t;
        }
        return d;
    }

    // ------------------------------------------------------------------ silence

    private Condition silence() {
        String title = "no instance that reported during the window has gone silent";
        List<String> ev = new ArrayList<>();
        int reported = 0;
        for (Fleet.Instance i : fleet.reportedSince(from)) {
            reported++;
            if (i.state(now, o.silentAfter()) == Fleet.State.SILENT) {
                ev.add("instance " + who(i) + " last reported at " + i.lastSeen() + " (" + ago(i.lastSeen())
                    + ", silent after " + Durations.format(i.silenceThreshold(o.silentAfter())) + ") without an orderly"
                    + " stop: what it did since its last flush is unknown");
            }
        }
        if (ev.isEmpty()) {
            ev.add(reported + " instance(s) reported during the window; each is live or stopped in order");
            return new Condition("silence", title, Status.MET, ev);
        }
        return new Condition("silence", title, Status.UNMET, ev);
    }

    // ------------------------------------------------------------------ usage

    private Condition usage() throws SQLException {
        String title = "no read or write of " + column() + " passed through unrewritten or unanalysed";
        List<String> ev = new ArrayList<>();
        for (Fleet.Usage u : Fleet.usage(c, m.id(), from)) {
            if (!u.treatment().equals("rewritten")) ev.add(describe(u));
        }
        Duration kept = fleet.hasSchema() ? Rollups.shortestRetention(c) : null;
        if (kept != null && o.window().compareTo(kept) > 0) {
            // uses older than the retention were deleted: their absence proves nothing
            ev.add("the window (" + Durations.format(o.window()) + ") is longer than the usage retention ("
                + Durations.format(kept) + ", bellows.usage.retention of the instances): uses before " + now.minus(kept)
                + " have been deleted");
        }
        if (ev.isEmpty()) {
            ev.add("every recorded use of " + oldName() + " during the window was rewritten by Bellows");
            return new Condition("usage", title, Status.MET, ev);
        }
        return new Condition("usage", title, Status.UNMET, ev);
    }

    private Condition strict() throws SQLException {
        String title = "no statement names " + oldName() + " any more, even where Bellows rewrote it (--strict)";
        List<String> ev = new ArrayList<>();
        long starOnly = 0;
        for (Fleet.Usage u : Fleet.usage(c, m.id(), from)) {
            if (!u.treatment().equals("rewritten")) continue;
            // `*` reads every column without naming one: code that only selects * has nothing left to change
            if (!u.overflow() && !names(u.fingerprint(), oldName())) {
                starOnly += u.count();
                continue;
            }
            ev.add(describe(u));
        }
        if (starOnly > 0) {
            notes.add(starOnly + " use(s) of " + oldName() + " came only through * (the statement does not name it);"
                + " --strict does not count them");
        }
        if (ev.isEmpty()) {
            ev.add("no statement named " + oldName() + " during the window");
            return new Condition("strict", title, Status.MET, ev);
        }
        return new Condition("strict", title, Status.UNMET, ev);
    }

    static String describe(Fleet.Usage u) {
        return u.kind() + " " + u.treatment().replace('_', ' ') + " x" + u.count() + " by '" + u.appName() + "', last "
            + u.lastSeen() + (u.callSite() == null ? "" : ", at " + u.callSite()) + ": "
            + (u.overflow() ? "(statements not kept: the instance's fingerprint cap was reached)" : shorten(u.fingerprint(), 200));
    }

    // ------------------------------------------------------------------ bypass

    private Condition bypass() throws SQLException {
        String title = "no client that bypasses Bellows uses " + column() + " (pg_stat_statements)";
        List<String> ev = new ArrayList<>();
        String schema;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'")) {
            schema = rs.next() ? rs.getString(1) : null;
        }
        if (schema == null) {
            ev.add("NOT CHECKED: the pg_stat_statements extension is not installed in this database, so statements from"
                + " clients that bypass Bellows could not be looked for (CREATE EXTENSION pg_stat_statements, with it in"
                + " shared_preload_libraries, to have them checked)");
            return new Condition("bypass", title, Status.NOT_CHECKED, ev);
        }
        String db = " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";
        String q = "SELECT queryid, calls, query, userid::regrole::text FROM " + schema + ".pg_stat_statements" + db
            // calls = 0: only parsed or planned (bellows check's PREPARE, a Parse never executed), never run
            + " AND calls > 0 AND strpos(lower(query), ?) > 0 ORDER BY calls DESC, queryid";
        StatementForms forms = new StatementForms(m, known, StatementForms.catalog(c, known), Fleet.sentAsWritten(c));
        long hidden;
        int examined = 0;
        Set<String> bellows = new TreeSet<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + schema + ".pg_stat_statements" + db
                 + " AND query = '<insufficient privilege>'")) {
            rs.next();
            hidden = rs.getLong(1);
            try (PreparedStatement ps = c.prepareStatement(q)) {
                ps.setString(1, oldName().toLowerCase(Locale.ROOT));
                try (ResultSet r2 = ps.executeQuery()) {
                    while (r2.next()) {
                        String text = r2.getString(3);
                        examined++;
                        StatementForms.Kind k = forms.classify(text);
                        switch (k) {
                            case BYPASS -> ev.add("queryid " + r2.getLong(1) + ", " + r2.getLong(2) + " calls, user " + r2.getString(4)
                                + ": " + shorten(Fingerprints.scrub(oneLine(text)), 300));
                            case SENT_AS_WRITTEN, DUAL_WRITE, BACKFILL, BELLOWS_TOOL -> bellows.add(k.name().toLowerCase(Locale.ROOT).replace('_', ' '));
                            default -> { }
                        }
                    }
                }
            }
        } catch (SQLException e) {
            // not preloaded (shared_preload_libraries), or not readable by this user
            ev.add("NOT CHECKED: pg_stat_statements could not be read (" + e.getMessage().lines().findFirst().orElse("")
                + "), so statements from clients that bypass Bellows could not be looked for");
            return new Condition("bypass", title, Status.NOT_CHECKED, ev);
        }
        statsNotes(schema);
        if (hidden > 0) {
            notes.add("pg_stat_statements hides the text of " + hidden + " statement(s) of other users from this user; grant it"
                + " pg_read_all_stats to have them checked too");
        }
        if (!ev.isEmpty()) {
            ev.add("these statements name " + oldName() + " and are not Bellows' own; if they only ran before the window,"
                + " reset them with SELECT pg_stat_statements_reset(0, 0, <queryid>) and check again");
            return new Condition("bypass", title, Status.UNMET, ev);
        }
        ev.add("none of " + examined + " pg_stat_statements entries naming " + oldName() + " came from a client that"
            + " bypasses Bellows" + (bellows.isEmpty() ? "" : " (Bellows' own: " + String.join(", ", bellows) + ")"));
        return new Condition("bypass", title, Status.MET, ev);
    }

    private void statsNotes(String schema) {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT stats_reset, dealloc FROM " + schema + ".pg_stat_statements_info")) {
            if (rs.next()) {
                Instant reset = Fleet.instant(rs, 1);
                if (reset != null && reset.isAfter(from)) {
                    notes.add("pg_stat_statements was reset at " + reset + ", after the window began: statements that bypassed"
                        + " Bellows before then would not show");
                }
                if (rs.getLong(2) > 0) {
                    notes.add("pg_stat_statements has evicted " + rs.getLong(2) + " entries since its last reset"
                        + " (pg_stat_statements.max): an evicted statement that bypassed Bellows would not show");
                }
            }
        } catch (SQLException e) {
            // pg_stat_statements_info needs PostgreSQL 14; nothing to add
        }
    }

    // ------------------------------------------------------------------ backfill

    private Condition backfill() throws SQLException {
        String up = m.up() == null ? StatementForms.quote(m.from()) : "(" + m.up().strip() + ")";
        String to = StatementForms.quote(m.to());
        List<Fleet.Instance> inWindow = fleet.reportedSince(from).stream().filter(i -> i.phases().containsKey(m.id())).toList();
        boolean contract = !inWindow.isEmpty() && inWindow.stream().allMatch(i -> "contract".equals(i.phase(m.id())));
        // Once the whole fleet writes only the new column, the old one goes stale by design: what must hold then is
        // that no value exists only in the old column.
        // Before contract every row must hold to = up(from), rows written before the fleet dual-wrote (which got the
        // new column's default) included; a value of the old column that up cannot map (up gives NULL) must not
        // hide behind NULL = NULL.
        String where = contract ? to + " IS NULL AND " + up + " IS NOT NULL"
            : to + " IS DISTINCT FROM " + up + (m.up() == null ? ""
                : " OR (" + StatementForms.quote(m.from()) + " IS NOT NULL AND " + to + " IS NULL)");
        if (m.isDerived()) { // every new column, each from its own up
            List<String> only = new ArrayList<>();
            for (String t : m.tos()) only.add("(" + StatementForms.quote(t) + " IS NULL AND " + m.upSql(t, StatementForms::quote) + " IS NOT NULL)");
            where = contract ? String.join(" OR ", only) : m.upDiffers(StatementForms::quote);
        }
        String title = contract ? "no row has a value only in " + m.from() + " (the backfill is complete)"
            : "every row has " + m.to() + " = " + (m.up() == null ? m.from() : "up(" + m.from() + ")") + " (the backfill is complete)";
        long bad;
        long total;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("/* bellows:gate */ SELECT count(*) FILTER (WHERE " + where + "), count(*) FROM " + table())) {
            rs.next();
            bad = rs.getLong(1);
            total = rs.getLong(2);
        }
        List<String> ev = new ArrayList<>();
        if (bad == 0) {
            ev.add("all " + total + " rows of " + m.qualifiedTable() + " hold (" + where + " matches none)");
            return new Condition("backfill", title, Status.MET, ev);
        }
        ev.add(bad + " of " + total + " rows of " + m.qualifiedTable() + " match " + where + " (bellows backfill " + m.id() + " fills them"
            + (m.up() == null || contract ? "" : "; a row whose " + m.from() + " up cannot map stays until up and down map its value")
            + ")");
        return new Condition("backfill", title, Status.UNMET, ev);
    }

    /** A NOT NULL migration: SET NOT NULL would succeed now (no row holds NULL). */
    private Condition noNulls() throws SQLException {
        String f = StatementForms.quote(m.from());
        long nulls;
        long total;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("/* bellows:gate */ SELECT count(*) FILTER (WHERE " + f + " IS NULL), count(*) FROM " + table())) {
            rs.next();
            nulls = rs.getLong(1);
            total = rs.getLong(2);
        }
        String title = "no row has " + m.from() + " NULL (the backfill is complete)";
        if (nulls == 0) return new Condition("backfill", title, Status.MET, List.of("all " + total + " rows of " + m.qualifiedTable() + " hold"));
        return new Condition("backfill", title, Status.UNMET, List.of(nulls + " of " + total + " rows of " + m.qualifiedTable()
            + " have " + m.from() + " NULL (bellows backfill " + m.id() + " gives them " + m.defaultValue() + ")"));
    }

    // ------------------------------------------------------------------ dependencies

    private Condition dependencies() throws SQLException {
        String title = "no view, rule, trigger, function, index, constraint or foreign key depends on " + column();
        List<String> ev = new ArrayList<>();
        String sync = syncTriggerName();
        String q = "SELECT d.classid::regclass::text, d.objid, pg_describe_object(d.classid, d.objid, d.objsubid),"
            + " CASE WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT r.ev_class::regclass::text || CASE"
            + "   (SELECT relkind FROM pg_class WHERE oid = r.ev_class) WHEN 'v' THEN ' (view)' WHEN 'm' THEN ' (materialized view)'"
            + "   ELSE ' (rule ' || r.rulename || ')' END FROM pg_rewrite r WHERE r.oid = d.objid) END,"
            + " CASE WHEN d.classid = 'pg_trigger'::regclass THEN (SELECT t.tgname FROM pg_trigger t WHERE t.oid = d.objid) END"
            + " FROM pg_depend d"
            + " WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(?) AND d.refobjsubid = ?"
            + " AND NOT (d.classid = 'pg_attrdef'::regclass AND EXISTS (SELECT 1 FROM pg_attrdef a WHERE a.oid = d.objid"
            + "   AND a.adrelid = d.refobjid AND a.adnum = d.refobjsubid))"
            + " AND d.deptype IN ('n', 'a')"
            + " ORDER BY 3";
        Set<String> seen = new TreeSet<>();
        List<String> twinned = new ArrayList<>();
        List<long[]> candidates = new ArrayList<>();
        List<String> candidateNames = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, table());
            ps.setInt(2, attnum);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String trigger = rs.getString(5);
                    if (trigger != null && trigger.equals(sync)) continue;
                    String what = rs.getString(4) != null ? rs.getString(4) : rs.getString(3);
                    if (!seen.add(what)) continue;
                    String cls = rs.getString(1);
                    if (cls.equals("pg_class") || cls.equals("pg_constraint")) {
                        candidates.add(new long[] {cls.equals("pg_class") ? 0 : 1, rs.getLong(2)});
                        candidateNames.add(what);
                    } else {
                        ev.add(what);
                    }
                }
            }
        }
        if (m.isRemoval()) { // nothing takes over: the index or constraint goes, which is what removing the column means
            for (String n : candidateNames) twinned.add(n + " (goes with the column: DROP COLUMN drops it)");
            candidates.clear();
        }
        Twins twins = m.isRemoval() ? null : new Twins(c, table(), m.from(), m.to());
        for (int i = 0; i < candidates.size(); i++) {
            long[] k = candidates.get(i);
            String twin = k[0] == 0 ? twins.ofIndex(k[1]) : twins.ofConstraint(k[1]);
            if (twin == null && k[0] == 1) twin = TypeChangeTwins.ofCheck(c, table(), m, k[1]);
            if (twin == null) ev.add(candidateNames.get(i));
            else twinned.add(candidateNames.get(i) + " (goes with the column: its valid twin " + twin + " on " + m.to()
                + " takes over, and DROP COLUMN drops it)");
        }
        // Function bodies are not tracked by pg_depend (except SQL-standard ones): search their text.
        String fq = "SELECT p.oid::regprocedure::text, n.nspname, p.proname,"
            + " (SELECT string_agg(t.tgname || ' on ' || t.tgrelid::regclass::text, ', ' ORDER BY t.tgname) FROM pg_trigger t"
            + "   WHERE t.tgfoid = p.oid AND NOT t.tgisinternal)"
            + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
            + " AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')"
            + " AND p.prosrc ~* ?"
            + " ORDER BY 1";
        boolean syncInstalled = false;
        try (PreparedStatement ps = c.prepareStatement(fq)) {
            ps.setString(1, "(^|[^[:alnum:]_$])" + regexQuote(m.from()) + "($|[^[:alnum:]_$])");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(3).equals(sync) && rs.getString(2).equals(m.schema())) {
                        syncInstalled = true;
                        continue;
                    }
                    String triggers = rs.getString(4);
                    String what = "function " + rs.getString(1) + " mentions " + m.from() + " in its body"
                        + (triggers == null ? "" : " (trigger function of " + triggers + ")");
                    if (seen.add(what)) ev.add(what);
                }
            }
        }
        if (syncInstalled) {
            notes.add("Bellows' sync trigger " + sync + " is installed on " + m.qualifiedTable() + "; it is Bellows' own and"
                + " the contract step drops it together with " + m.from());
        }
        if (ev.isEmpty()) {
            ev.add(twinned.isEmpty() ? "pg_depend lists nothing that depends on " + column() + " and no function body names it"
                : "nothing else depends on " + column() + " and no function body names it");
            ev.addAll(twinned);
            return new Condition("dependencies", title, Status.MET, ev);
        }
        ev.addAll(twinned);
        return new Condition("dependencies", title, Status.UNMET, ev);
    }

    /**
     * A table rename's dependencies: views and rules built on the bridge view (DROP VIEW would fail or cascade), and
     * function bodies naming the old table (they are not tracked by pg_depend and break once the bridge is gone).
     */
    private Condition bridgeDependencies() throws SQLException {
        String title = "nothing depends on the bridge view " + column() + " and no function body names " + m.table();
        List<String> ev = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT v.oid::regclass::text FROM pg_depend d"
            + " JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class"
            + " WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(?) AND v.oid <> to_regclass(?) ORDER BY 1")) {
            ps.setString(1, table());
            ps.setString(2, table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ev.add("view " + rs.getString(1) + " is built on " + column());
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT p.oid::regprocedure::text FROM pg_proc p"
            + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            + " AND n.nspname NOT LIKE 'pg\\_%' AND p.prosrc ~* ? ORDER BY 1")) {
            ps.setString(1, "(^|[^[:alnum:]_$])" + regexQuote(m.table()) + "($|[^[:alnum:]_$])");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ev.add("function " + rs.getString(1) + " mentions " + m.table() + " in its body");
            }
        }
        if (ev.isEmpty()) {
            ev.add("no view is built on " + column() + " and no function body names " + m.table());
            return new Condition("dependencies", title, Status.MET, ev);
        }
        return new Condition("dependencies", title, Status.UNMET, ev);
    }

    private String syncTriggerName() {
        try {
            return dev.bellows.workflow.Planner.triggerName(m);
        } catch (RuntimeException | LinkageError e) {
            return "bellows_sync_" + m.id().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        }
    }

    /** Whether {@code sql} names {@code column} as an identifier (not only inside a longer name). */
    static boolean names(String sql, String column) {
        String lower = sql.toLowerCase(Locale.ROOT);
        String col = column.toLowerCase(Locale.ROOT);
        for (int i = lower.indexOf(col); i >= 0; i = lower.indexOf(col, i + 1)) {
            boolean before = i == 0 || !identChar(lower.charAt(i - 1));
            int e = i + col.length();
            boolean after = e == lower.length() || !identChar(lower.charAt(e));
            if (before && after) return true;
        }
        return false;
    }

    private static boolean identChar(char ch) {
        return Character.isLetterOrDigit(ch) || ch == '_' || ch == '$';
    }

    // ------------------------------------------------------------------ notes

    private void phaseNotes() {
        List<String> behind = new ArrayList<>();
        long overflowed = 0;
        for (Fleet.Instance i : fleet.live(o.silentAfter())) {
            String p = i.phase(m.id());
            if (p != null && !p.equals("contract")) behind.add(who(i) + " in " + p);
            overflowed += i.overflowed();
        }
        if (m.isNotNull()) {
            behind.removeIf(b -> !b.endsWith(" in off"));
            if (!behind.isEmpty()) {
                notes.add("live instances write NULL into " + m.from() + " as written until they leave off: " + String.join("; ", behind));
            }
        } else if (!behind.isEmpty() && m.isRemoval()) {
            behind.removeIf(b -> b.endsWith(" in switch"));
            if (!behind.isEmpty()) {
                notes.add("live instances still write " + m.from() + " as written until they run " + m.id() + " in switch or"
                    + " contract: " + String.join("; ", behind) + ". Move them on (bellows flags set " + m.id() + " switch)"
                    + " before dropping the column");
            }
        } else if (!behind.isEmpty()) {
            notes.add("live instances still " + (m.isTableRename() ? "name " + m.table() + " (through the bridge view)"
                : "dual-write " + m.from()) + " until they run " + m.id() + " in contract: "
                + String.join("; ", behind) + ". Move them to contract (bellows flags set " + m.id() + " contract) before"
                + (m.isTableRename() ? " dropping the bridge view" : " dropping the column"));
        }
        if (overflowed > 0) {
            notes.add(overflowed + " uses were counted without their statement because an instance's fingerprint cap was"
                + " reached (bellows.usage.maxFingerprints); their kind and treatment are still counted");
        }
    }

    // ------------------------------------------------------------------ helpers

    static String who(Fleet.Instance i) {
        return i.instanceId() + " ('" + i.appName() + "' on " + i.host() + ", pid " + i.pid() + ")";
    }

    private String ago(Instant t) {
        Duration d = Duration.between(t, now);
        return d.isNegative() ? "just now" : Durations.format(d) + " ago";
    }

    static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + " …";
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }

    private static String regexQuote(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if ("\\.^$|?*+()[]{}".indexOf(ch) >= 0) sb.append('\\');
            sb.append(ch);
        }
        return sb.toString();
    }
}
