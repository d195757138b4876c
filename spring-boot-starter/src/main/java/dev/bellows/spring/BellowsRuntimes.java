package dev.bellows.spring;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Migration;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;

/** The Bellows runtimes behind the context's DataSource beans, for metrics, the endpoint and health. */
public final class BellowsRuntimes {
    private final ObjectProvider<DataSource> dataSources;

    BellowsRuntimes(ObjectProvider<DataSource> dataSources) {
        this.dataSources = dataSources;
    }

    /** One runtime per Bellows DataSource bean, in bean order. */
    public List<BellowsRuntime> runtimes() {
        return List.copyOf(pools().keySet());
    }

    /** Each runtime with the DataSource under its Bellows DataSource (the pool: plain pgjdbc connections). */
    Map<BellowsRuntime, DataSource> pools() {
        Map<BellowsRuntime, DataSource> out = new LinkedHashMap<>();
        dataSources.orderedStream().forEach(ds -> {
            try {
                if (ds.isWrapperFor(BellowsDataSource.class)) {
                    BellowsDataSource b = ds.unwrap(BellowsDataSource.class);
                    out.putIfAbsent(b.runtime(), b.getDelegate());
                }
            } catch (SQLException e) {
                // a DataSource whose Bellows configuration cannot load reports nothing here; its connections fail loudly
            }
        });
        return out;
    }

    /** The health contributor's details: each runtime's settings and phases (no database access). */
    static Map<String, Object> health(BellowsRuntimes runtimes) {
        List<Map<String, Object>> out = new ArrayList<>();
        runtimes.runtimes().forEach(r -> out.add(describe(r)));
        return Map.of("dataSources", out);
    }

    /** What the endpoint and health show for one runtime: settings and each migration's effective phase. */
    static Map<String, Object> describe(BellowsRuntime r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("appName", r.appName());
        m.put("schema", r.schemaView().label());
        m.put("version", r.version());
        List<Map<String, Object>> migs = new ArrayList<>();
        for (Migration mig : r.rules().migrations()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("id", mig.id());
            d.put("table", mig.qualifiedTable());
            d.put("from", mig.from());
            d.put("to", mig.to());
            d.put("phase", mig.phase().label());
            List<String> cols = r.catalog().columns(mig.schema(), mig.table());
            d.put("newColumnExists", cols != null && cols.contains(mig.to()));
            d.put("oldColumnExists", cols != null && cols.contains(mig.from()));
            migs.add(d);
        }
        m.put("migrations", migs);
        return m;
    }
}
