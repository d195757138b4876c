package dev.bellows.cli;

import dev.bellows.usage.Durations;
import dev.bellows.usage.Gate;
import dev.bellows.usage.Json;
import java.util.ArrayList;
import java.util.List;

/** How {@code bellows gate} prints its verdict. */
final class GateOutput {
    private GateOutput() {
    }

    static String text(Gate.Result r) {
        StringBuilder sb = new StringBuilder();
        dev.bellows.rules.Migration m = r.migration();
        String col = Gate.subject(m);
        sb.append("bellows gate ").append(m.id()).append(": may ").append(col)
            .append(m.isNotNull() ? " be made NOT NULL?\n" : " be dropped ("
                + (m.isRemoval() ? "a column removal: nothing replaces it" : "replaced by " + Gate.replacement(m)) + ")?\n")
            .append("window: ").append(Durations.format(r.window())).append(", from ").append(r.windowStart()).append(" to ")
            .append(r.now()).append(r.strict() ? ", strict" : "").append("\n\n");
        for (Gate.Condition c : r.conditions()) {
            String mark = switch (c.status()) {
                case MET -> "[ok]     ";
                case UNMET -> "[UNMET]  ";
                case NOT_CHECKED -> "[not checked] ";
            };
            sb.append(mark).append(c.title()).append('\n');
            for (String e : c.evidence()) sb.append("           - ").append(e).append('\n');
        }
        if (!r.notes().isEmpty()) {
            sb.append("\nnotes:\n");
            for (String n : r.notes()) sb.append("  - ").append(n).append('\n');
        }
        sb.append('\n');
        if (r.safe()) {
            sb.append("SAFE: every condition holds; dropping ").append(col).append(" is safe on this evidence.\n");
        } else {
            List<String> ids = new ArrayList<>();
            for (Gate.Condition c : r.unmet()) ids.add(c.id());
            sb.append("NOT SAFE: ").append(ids.size()).append(ids.size() == 1 ? " condition is" : " conditions are")
                .append(" unmet (").append(String.join(", ", ids)).append("); do not drop ").append(col).append(".\n");
        }
        return sb.toString();
    }

    static String json(Gate.Result r) {
        Json j = Json.pretty().beginObject()
            .member("migration", r.migration().id())
            .member("column", r.migration().isTableRename() ? r.migration().qualifiedTable()
                : r.migration().qualifiedTable() + "." + r.migration().from())
            .member("replacement", Gate.replacement(r.migration()))
            .member("safe", r.safe())
            .member("strict", r.strict())
            .member("window", Durations.format(r.window()))
            .member("windowStart", r.windowStart())
            .member("evaluatedAt", r.now())
            .name("conditions").beginArray();
        for (Gate.Condition c : r.conditions()) {
            j.beginObject().member("id", c.id()).member("title", c.title())
                .member("status", c.status().name().toLowerCase(java.util.Locale.ROOT))
                .member("evidence", c.evidence()).endObject();
        }
        return j.endArray().member("notes", r.notes()).endObject().toString();
    }
}
