package dev.bellows.jdbc;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One shadow copy's result, held in memory only while it is compared: labels and rows as the application would
 * read them with {@code getString}. Never logged or stored.
 */
record ShadowResult(String[] labels, List<List<String>> rows, boolean tooLarge) {

    /** Reads at most {@code maxRows} rows; one more marks the result too large to compare. */
    static ShadowResult read(ResultSet rs, int maxRows) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        String[] labels = new String[n];
        for (int i = 0; i < n; i++) labels[i] = md.getColumnLabel(i + 1);
        List<List<String>> rows = new ArrayList<>();
        while (rs.next()) {
            if (rows.size() == maxRows) return new ShadowResult(labels, List.of(), true);
            String[] row = new String[n];
            for (int i = 0; i < n; i++) row[i] = rs.getString(i + 1);
            rows.add(Arrays.asList(row));
        }
        return new ShadowResult(labels, rows, false);
    }

    /**
     * Whether the application would see the same: the same labels (the server's, or the legacy label a rewrite maps
     * to it), the same number of rows and the same values, in order when the statement orders its result, else as
     * multisets.
     */
    boolean sameAs(ShadowResult other, Map<String, String> labelsHere, Map<String, String> labelsThere, boolean ordered) {
        if (labels.length != other.labels.length) return false;
        for (int i = 0; i < labels.length; i++) {
            if (!label(labels[i], labelsHere).equals(label(other.labels[i], labelsThere))) return false;
        }
        if (rows.size() != other.rows.size()) return false;
        if (ordered) return rows.equals(other.rows);
        Map<List<String>, Integer> counts = new HashMap<>();
        for (List<String> r : rows) counts.merge(r, 1, Integer::sum);
        for (List<String> r : other.rows) {
            Integer c = counts.get(r);
            if (c == null) return false;
            if (c == 1) counts.remove(r);
            else counts.put(r, c - 1);
        }
        return counts.isEmpty();
    }

    // the label the application asks for: a server label that a rewrite's map reaches from a legacy one is that legacy one
    private static String label(String server, Map<String, String> legacyToServer) {
        String l = server.toLowerCase(Locale.ROOT);
        for (Map.Entry<String, String> e : legacyToServer.entrySet()) {
            if (e.getValue().equalsIgnoreCase(server)) return e.getKey();
        }
        return l;
    }
}
