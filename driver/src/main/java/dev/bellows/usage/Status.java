package dev.bellows.usage;

import dev.bellows.rules.Migration;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** {@code bellows status}: migrations with the phases instances report, and the instances' states. */
public final class Status {
    private final Fleet fleet;
    private final List<Migration> migrations;
    private final Duration silentAfter;

    public Status(Fleet fleet, List<Migration> migrations, Duration silentAfter) {
        this.fleet = fleet;
        this.migrations = migrations;
        this.silentAfter = silentAfter;
    }

    /** Migration ids: those with definitions, then any other an instance reports. */
    private Set<String> ids() {
        Set<String> ids = new LinkedHashSet<>();
        for (Migration m : migrations) ids.add(m.id());
        for (Fleet.Instance i : fleet.instances()) ids.addAll(i.phases().keySet());
        return ids;
    }

    /** Phase → number of live (and, separately, silent) instances reporting it for {@code id}. */
    private Map<String, int[]> phases(String id) {
        Map<String, int[]> out = new TreeMap<>();
        for (Fleet.Instance i : fleet.instances()) {
            Fleet.State s = i.state(fleet.now(), silentAfter);
            if (s == Fleet.State.STOPPED) continue;
            String p = i.phase(id);
            if (p == null) p = "(not in rules)";
            out.computeIfAbsent(p, k -> new int[2])[s == Fleet.State.LIVE ? 0 : 1]++;
        }
        return out;
    }

    private Migration def(String id) {
        for (Migration m : migrations) if (m.id().equals(id)) return m;
        return null;
    }

    public String table(boolean all) {
        StringBuilder sb = new StringBuilder();
        if (!fleet.hasSchema()) {
            return "No bellows schema in this database: no instance has recorded usage here yet"
                + " (instances create it on their first flush; or run bellows init).\n";
        }
        sb.append("Migrations (phases as live instances report them)\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "COLUMN", "REPLACED BY", "PHASES"});
        for (String id : ids()) {
            Migration m = def(id);
            List<String> ps = new ArrayList<>();
            phases(id).forEach((p, n) -> ps.add(p + " x" + n[0] + (n[1] > 0 ? " (+" + n[1] + " silent)" : "")));
            rows.add(new String[] {id, m == null ? "?" : m.isTableRename() ? m.qualifiedTable() : m.qualifiedTable() + "." + m.from(),
                m == null ? "?" : m.isTableRename() ? m.qualifiedToTable() : m.isNotNull() ? "(NOT NULL)" : m.isRemoval() ? "(removed)" : m.to(),
                ps.isEmpty() ? "no running instance" : String.join(", ", ps)});
        }
        if (rows.size() == 1) sb.append("  none reported\n");
        else Report.grid(sb, "  ", rows, 2);
        int live = 0;
        int silent = 0;
        int stopped = 0;
        for (Fleet.Instance i : fleet.instances()) {
            switch (i.state(fleet.now(), silentAfter)) {
                case LIVE -> live++;
                case SILENT -> silent++;
                case STOPPED -> stopped++;
            }
        }
        sb.append("\nInstances: ").append(live).append(" live, ").append(silent).append(" silent, ").append(stopped)
            .append(" stopped").append(all || stopped == 0 ? "" : " (--all lists them)").append('\n');
        rows = new ArrayList<>();
        rows.add(new String[] {"STATE", "INSTANCE", "APP", "HOST", "PID", "STARTED", "LAST SEEN", "RULES", "PHASES"});
        for (Fleet.Instance i : fleet.instances()) {
            Fleet.State s = i.state(fleet.now(), silentAfter);
            if (s == Fleet.State.STOPPED && !all) continue;
            List<String> ps = new ArrayList<>();
            i.phases().forEach((k, v) -> ps.add(k + "=" + v));
            rows.add(new String[] {s == Fleet.State.SILENT ? "SILENT" : s.label(), i.instanceId(), i.appName(), i.host(),
                Long.toString(i.pid()), i.startedAt().toString(),
                (s == Fleet.State.STOPPED ? "stopped " + i.stoppedAt() : ago(i.lastSeen())), i.rulesHash(),
                ps.isEmpty() ? "-" : String.join(" ", ps)});
        }
        if (rows.size() > 1) Report.grid(sb, "  ", rows, 2);
        Set<String> hashes = new LinkedHashSet<>();
        for (Fleet.Instance i : fleet.live(silentAfter)) hashes.add(i.rulesHash());
        if (hashes.size() > 1) sb.append("\nnote: live instances run ").append(hashes.size()).append(" different rule sets (").append(String.join(", ", hashes)).append(")\n");
        return sb.toString();
    }

    public String json() {
        Json j = Json.pretty().beginObject().member("at", fleet.now()).name("migrations").beginArray();
        for (String id : ids()) {
            Migration m = def(id);
            j.beginObject().member("id", id)
                .member("column", m == null ? null : m.isTableRename() ? m.qualifiedTable() : m.qualifiedTable() + "." + m.from())
                .member("replacement", m == null ? null : m.isTableRename() ? m.qualifiedToTable() : m.to())
                .name("phases").beginArray();
            for (Map.Entry<String, int[]> e : phases(id).entrySet()) {
                j.beginObject().member("phase", e.getKey()).member("live", e.getValue()[0]).member("silent", e.getValue()[1]).endObject();
            }
            j.endArray().endObject();
        }
        j.endArray().name("instances").beginArray();
        for (Fleet.Instance i : fleet.instances()) {
            j.beginObject().member("id", i.instanceId()).member("app", i.appName()).member("host", i.host()).member("pid", i.pid())
                .member("state", i.state(fleet.now(), silentAfter).label()).member("startedAt", i.startedAt())
                .member("lastSeen", i.lastSeen()).member("stoppedAt", i.stoppedAt()).member("rulesHash", i.rulesHash())
                .member("rulesSource", i.rulesSource()).member("phases", new LinkedHashMap<>(i.phases()))
                .member("overflowed", i.overflowed()).endObject();
        }
        return j.endArray().endObject().toString();
    }

    private String ago(Instant t) {
        Duration d = Duration.between(t, fleet.now());
        return t + (d.isNegative() ? "" : " (" + Durations.format(d) + " ago)");
    }
}
