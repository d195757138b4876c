package dev.bellows.bench.stub;

import java.util.ArrayList;
import java.util.List;

/** The columns the stub server "has" (schema, table, column), as Bellows' catalog query reads them. */
final class StubCatalog {
    static final String[][] ROWS = rows(
        "leads", "id,name,user_email,created_at,owner_id,contact_email",
        "orders", "id,lead_id,status,amount,created_at,status_code",
        "users", "id,email,name",
        // TransactionBenchmark: pgbench's tables, with the renamed column of bench-rules-switch.yaml added
        "pgbench_accounts", "aid,bid,abalance,filler,abalance_new",
        "pgbench_tellers", "tid,bid,tbalance,filler",
        "pgbench_branches", "bid,bbalance,filler",
        "pgbench_history", "tid,bid,aid,delta,mtime,filler");

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
