package dev.bellows.spring;

import dev.bellows.jdbc.BellowsRuntime;
import dev.bellows.rules.Migration;
import dev.bellows.rules.UsageFact;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Micrometer meters of each Bellows runtime: {@code bellows.statements} (counter; tags app, migration, kind
 * read/write, treatment rewritten/passed_through/unanalysed: one per use of a deprecated column in an executed
 * statement; passed_through and unanalysed are the residual uses), {@code bellows.phase} (gauge per migration: 0 off,
 * 1 expand, 2 switch, 3 contract), {@code bellows.rewrite.cache} (function counter; tag result hit/miss: statements
 * answered from the rewrite cache or analysed) and {@code bellows.rewrite.miss} (function timer: time spent on
 * misses, where all the rewriting cost is; a hit is a cache lookup). The counter
 * is fed through the runtime's usage sink, which this replaces ({@link BellowsRuntime#setUsageSink}); Bellows' own
 * usage recording ({@code bellows.usage}) is independent of it.
 */
final class BellowsMetrics implements MeterBinder {
    private final BellowsRuntimes runtimes;

    BellowsMetrics(BellowsRuntimes runtimes) {
        this.runtimes = runtimes;
    }

    @Override public void bindTo(MeterRegistry registry) {
        for (BellowsRuntime r : runtimes.runtimes()) {
            Map<String, Counter> counters = new ConcurrentHashMap<>();
            r.setUsageSink((app, facts) -> count(registry, counters, app, facts));
            dev.bellows.rules.RewriteStats stats = r.rewriteStats();
            FunctionCounter.builder("bellows.rewrite.cache", stats, dev.bellows.rules.RewriteStats::hits)
                .description("Statements answered from Bellows' rewrite cache (hit) or analysed (miss)")
                .tag("app", r.appName()).tag("result", "hit").register(registry);
            FunctionCounter.builder("bellows.rewrite.cache", stats, dev.bellows.rules.RewriteStats::misses)
                .description("Statements answered from Bellows' rewrite cache (hit) or analysed (miss)")
                .tag("app", r.appName()).tag("result", "miss").register(registry);
            FunctionTimer.builder("bellows.rewrite.miss", stats, dev.bellows.rules.RewriteStats::misses,
                    dev.bellows.rules.RewriteStats::missNanos, java.util.concurrent.TimeUnit.NANOSECONDS)
                .description("Time Bellows spent rewriting statements not in its cache")
                .tag("app", r.appName()).register(registry);
            for (Migration m : r.rules().migrations()) {
                String id = m.id();
                Gauge.builder("bellows.phase", r, rt -> phase(rt, id))
                    .description("Effective phase of a Bellows migration: 0 off, 1 expand, 2 switch, 3 contract")
                    .tag("app", r.appName()).tag("migration", id).register(registry);
            }
        }
    }

    private static double phase(BellowsRuntime r, String id) {
        for (Migration m : r.rules().migrations()) if (m.id().equals(id)) return m.phase().ordinal();
        return Double.NaN;
    }

    private static void count(MeterRegistry registry, Map<String, Counter> counters, String app, List<UsageFact> facts) {
        for (UsageFact f : facts) {
            String key = f.migrationId() + '\u0000' + f.kind() + '\u0000' + f.treatment();
            counters.computeIfAbsent(key, k -> Counter.builder("bellows.statements")
                .description("Uses of deprecated columns in executed statements, by how Bellows treated them")
                .tag("app", app).tag("migration", f.migrationId())
                .tag("kind", f.kind().name().toLowerCase(java.util.Locale.ROOT)).tag("treatment", f.treatment().label())
                .register(registry)).increment();
        }
    }
}
