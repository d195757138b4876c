package dev.bellows.bench.stub;

import java.util.ArrayList;
import java.util.List;

/** The columns the stub server "has" (schema, table, column), as Bellows' catalog query reads them. */
final class StubCatalog {
    static final String[][] ROWS = rows(
        "leads", "id,name,user_email,created_at,owner_id,contact_email",
        "orders", "id,lead_id,status,amount,created_at,status_code",
        "users", "id,email,name");

    private StubCatalog() {
    }

    private static String[][] rows(String... tableColumns) {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < tableColumns.length; i += 2) {
            for (String c : tableColumns[i + 1].split(",")) out.add(new String[] {"public", tableColumns[i], c});
        }
        return out.toArray(new String[0][]);
    }
}
