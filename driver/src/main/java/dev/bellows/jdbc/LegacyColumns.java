package dev.bellows.jdbc;

import dev.bellows.rules.Migration;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code DatabaseMetaData.getColumns} for renamed columns in phase contract. Legacy code and ORM schema
 * validation (e.g. Hibernate's {@code validate}) look the old column up by name; while it exists nothing
 * changes, but once contract has dropped it, the rewriter maps every use to the new column, so the metadata
 * reports it too: a synthetic row for the legacy name, copied from the new column's row (same type, same
 * ordinal position, listed right after it, REMARKS saying what it is). Type changes get no synthetic row,
 * since the legacy type is no longer known.
 */
final class LegacyColumns {
    private LegacyColumns() {
    }

    /** {@code real}'s rows plus a synthetic row for each candidate whose legacy column is gone. */
    static ResultSet withLegacyRows(DatabaseMetaData md, String catalog, ResultSet real, List<Migration> candidates)
        throws SQLException {
        ResultSetMetaData rsmd = real.getMetaData();
        int schemaCol = real.findColumn("TABLE_SCHEM");
        int tableCol = real.findColumn("TABLE_NAME");
        int nameCol = real.findColumn("COLUMN_NAME");
        int ordinalCol = real.findColumn("ORDINAL_POSITION");
        int remarksCol = real.findColumn("REMARKS");
        List<Object[]> rows = RowsResultSet.read(real, rsmd.getColumnCount());
        boolean added = false;
        for (Migration m : candidates) {
            if (find(rows, schemaCol, tableCol, nameCol, m, m.from()) != null) continue; // legacy column still there
            Object[] source = find(rows, schemaCol, tableCol, nameCol, m, m.to());
            if (source == null) source = newColumnRow(md, catalog, m, rsmd.getColumnCount());
            if (source == null) continue; // neither column exists: nothing to describe
            Object[] legacy = source.clone();
            legacy[nameCol - 1] = m.from();
            legacy[remarksCol - 1] = "Bellows: legacy name of " + m.to() + " (migration " + m.id() + ")";
            rows.add(legacy);
            added = true;
        }
        if (added) {
            // The JDBC order; stable, so a legacy row stays right after its new column's row.
            rows.sort(Comparator.<Object[], String>comparing(r -> String.valueOf(r[schemaCol - 1]))
                .thenComparing(r -> String.valueOf(r[tableCol - 1]))
                .thenComparingLong(r -> ((Number) r[ordinalCol - 1]).longValue()));
        }
        return new RowsResultSet(real, rows);
    }

    private static Object[] find(List<Object[]> rows, int schemaCol, int tableCol, int nameCol, Migration m, String column) {
        for (Object[] r : rows) {
            if (m.schema().equals(r[schemaCol - 1]) && m.table().equals(r[tableCol - 1]) && column.equals(r[nameCol - 1])) {
                return r;
            }
        }
        return null;
    }

    private static Object[] newColumnRow(DatabaseMetaData md, String catalog, Migration m, int width) throws SQLException {
        try (ResultSet rs = md.getColumns(catalog, Sql.escapePattern(m.schema()), Sql.escapePattern(m.table()),
            Sql.escapePattern(m.to()))) {
            List<Object[]> rows = RowsResultSet.read(rs, width);
            return rows.isEmpty() ? null : rows.get(0);
        }
    }
}
