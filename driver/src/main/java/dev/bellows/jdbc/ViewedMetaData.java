package dev.bellows.jdbc;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.Phase;
import dev.bellows.rules.RuleSet;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code getColumns}, {@code getPrimaryKeys} and {@code getIndexInfo} as the connection's {@link SchemaView}
 * presents them, for every migration at least in expand. Columns: the column outside the view is left out,
 * and in the old view a dropped renamed column is still listed (see {@link LegacyColumns}). Keys and indexes
 * naming the column outside the view are left out while the view's own column exists (they are the other
 * version's), and shown under the view's name once it does not (the same index, renamed by the migration).
 */
final class ViewedMetaData {
    private ViewedMetaData() {
    }

    /** Migrations in expand, switch or contract on tables the patterns match. */
    static List<Migration> active(RuleSet rules, String schemaPattern, String tablePattern, boolean exact) {
        if (rules.isEmpty()) return List.of();
        List<Migration> out = new ArrayList<>(0);
        for (Migration m : rules.migrations()) {
            // a removal or a NOT NULL shows the table as it is; a table rename has no column to show otherwise
            if (m.phase() == Phase.OFF || m.isTableRename() || m.to() == null) continue;
            boolean match = exact ? (schemaPattern == null || schemaPattern.equals(m.schema())) && m.table().equals(tablePattern)
                : Sql.like(schemaPattern, m.schema()) && Sql.like(tablePattern, m.table());
            if (match) out.add(m);
        }
        return out;
    }

    static ResultSet columns(DatabaseMetaData md, SchemaView view, Catalog cat, String catalog, String columnPattern,
                             ResultSet real, List<Migration> active) throws SQLException {
        if (view == SchemaView.OLD) {
            List<Migration> legacy = new ArrayList<>(0);
            for (Migration m : active) {
                if (m.phase() == Phase.CONTRACT && !m.isTypeChange() && Sql.like(columnPattern, m.from())) legacy.add(m);
            }
            ResultSet rs = legacy.isEmpty() ? real : LegacyColumns.withLegacyRows(md, catalog, real, legacy);
            rs = drop(rs, active, view, cat);
            return legacy.isEmpty() ? rs : legacyOrder(rs, legacy, cat);
        }
        return drop(real, active, view, cat);
    }

    /**
     * After the drop, the old view's rows of each table with a recorded column order ({@code bellows.column_order},
     * or the order this process saw before the drop) in that order, with the legacy ordinal positions: the
     * table legacy code was written for, as {@code SELECT *} shows it. Without a record the legacy row stays
     * after the new column's.
     */
    private static ResultSet legacyOrder(ResultSet rs, List<Migration> legacy, Catalog cat) throws SQLException {
        int width = rs.getMetaData().getColumnCount();
        int schemaCol = rs.findColumn("TABLE_SCHEM");
        int tableCol = rs.findColumn("TABLE_NAME");
        int nameCol = rs.findColumn("COLUMN_NAME");
        int ordinalCol = rs.findColumn("ORDINAL_POSITION");
        List<Object[]> rows = RowsResultSet.read(rs, width);
        java.util.Map<String, List<String>> orders = new java.util.HashMap<>();
        for (Migration m : legacy) {
            List<String> order = legacyColumns(m, cat);
            if (order == null) continue;
            for (Migration o : legacy) if (o.schema().equals(m.schema()) && o.table().equals(m.table())) order.remove(o.to());
            orders.putIfAbsent(m.schema() + "." + m.table(), order);
        }
        if (orders.isEmpty()) return new RowsResultSet(rs, rows);
        for (Object[] r : rows) {
            List<String> order = orders.get(r[schemaCol - 1] + "." + r[tableCol - 1]);
            int i = order == null ? -1 : order.indexOf(String.valueOf(r[nameCol - 1]));
            if (i >= 0) r[ordinalCol - 1] = i + 1;
        }
        rows.sort(java.util.Comparator.<Object[], String>comparing(r -> String.valueOf(r[schemaCol - 1]))
            .thenComparing(r -> String.valueOf(r[tableCol - 1]))
            .thenComparingLong(r -> ((Number) r[ordinalCol - 1]).longValue()));
        return new RowsResultSet(rs, rows);
    }

    /**
     * The legacy table's columns: the recorded order kept to the columns that exist or are dropped old ones,
     * then any added since; null without a record or when
     * a dropped old column is not in it.
     */
    private static List<String> legacyColumns(Migration m, Catalog cat) {
        List<String> rec = cat.recordedOrder(m.schema(), m.table());
        List<String> cols = cat.columns(m.schema(), m.table());
        if (rec == null || cols == null || !rec.contains(m.from())) return null;
        List<String> out = new ArrayList<>();
        for (String c : rec) if ((cols.contains(c) || c.equals(m.from())) && !out.contains(c)) out.add(c);
        for (String c : cols) if (!out.contains(c)) out.add(c);
        return out;
    }

    /** {@code rs} without the rows of columns outside the view. */
    private static ResultSet drop(ResultSet rs, List<Migration> active, SchemaView view, Catalog cat) throws SQLException {
        int width = rs.getMetaData().getColumnCount();
        int schemaCol = rs.findColumn("TABLE_SCHEM");
        int tableCol = rs.findColumn("TABLE_NAME");
        int nameCol = rs.findColumn("COLUMN_NAME");
        List<Object[]> rows = RowsResultSet.read(rs, width);
        List<Object[]> kept = new ArrayList<>(rows.size());
        for (Object[] r : rows) {
            boolean hidden = false;
            for (Migration m : active) {
                if (!m.schema().equals(r[schemaCol - 1]) || !m.table().equals(r[tableCol - 1])) continue;
                String name = String.valueOf(r[nameCol - 1]);
                if (m.isDerived()) { // each side shows while the other is complete; after the drop the new columns stay
                    if (view == SchemaView.OLD ? m.tos().contains(name) && hasAll(cat, m, m.froms())
                        : m.froms().contains(name) && hasAll(cat, m, m.tos())) {
                        hidden = true;
                    }
                    continue;
                }
                if (view == SchemaView.OLD && name.equals(m.to()) && !(m.isTypeChange() && !has(cat, m, m.from()))) {
                    hidden = true; // a type change's legacy type is unknown after the drop: its new column stays visible
                } else if (view == SchemaView.NEW && name.equals(m.from()) && has(cat, m, m.to())) {
                    hidden = true;
                }
            }
            if (!hidden) kept.add(r);
        }
        return new RowsResultSet(rs, kept);
    }

    /**
     * Primary keys or index rows ({@code groupColumn} names the key or index). A key or index naming the column
     * outside the view is left out while the view's column exists, else shown under the view's name.
     */
    static ResultSet keys(ResultSet real, String groupColumn, SchemaView view, Catalog cat, List<Migration> active)
        throws SQLException {
        int width = real.getMetaData().getColumnCount();
        int schemaCol = real.findColumn("TABLE_SCHEM");
        int tableCol = real.findColumn("TABLE_NAME");
        int nameCol = real.findColumn("COLUMN_NAME");
        int groupCol = real.findColumn(groupColumn);
        List<Object[]> rows = RowsResultSet.read(real, width);
        Set<List<Object>> hiddenGroups = new HashSet<>();
        for (Object[] r : rows) {
            for (Migration m : active) {
                if (!m.schema().equals(r[schemaCol - 1]) || !m.table().equals(r[tableCol - 1])) continue;
                if (m.isDerived()) { // a key over a column outside the view goes while the view's columns exist; never renamed
                    List<String> out = view == SchemaView.OLD ? m.tos() : m.froms();
                    if (out.contains(String.valueOf(r[nameCol - 1])) && hasAll(cat, m, view == SchemaView.OLD ? m.froms() : m.tos())) {
                        hiddenGroups.add(List.of(String.valueOf(r[schemaCol - 1]), String.valueOf(r[tableCol - 1]),
                            String.valueOf(r[groupCol - 1])));
                    }
                    continue;
                }
                String outside = view == SchemaView.OLD ? m.to() : m.from();
                String inside = view == SchemaView.OLD ? m.from() : m.to();
                if (!outside.equals(r[nameCol - 1])) continue;
                if (has(cat, m, inside)) {
                    hiddenGroups.add(List.of(String.valueOf(r[schemaCol - 1]), String.valueOf(r[tableCol - 1]),
                        String.valueOf(r[groupCol - 1])));
                } else if (!m.isTypeChange()) {
                    r[nameCol - 1] = inside;
                }
            }
        }
        if (!hiddenGroups.isEmpty()) {
            rows.removeIf(r -> hiddenGroups.contains(List.of(String.valueOf(r[schemaCol - 1]), String.valueOf(r[tableCol - 1]),
                String.valueOf(r[groupCol - 1]))));
        }
        return new RowsResultSet(real, rows);
    }

    /** Whether the catalog lists {@code column} in the migration's table; an unlisted table counts as having it. */
    private static boolean hasAll(Catalog cat, Migration m, List<String> cols) {
        for (String c : cols) if (!has(cat, m, c)) return false;
        return true;
    }

    private static boolean has(Catalog cat, Migration m, String column) {
        List<String> cols = cat.columns(m.schema(), m.table());
        return cols == null || cols.contains(column);
    }
}
