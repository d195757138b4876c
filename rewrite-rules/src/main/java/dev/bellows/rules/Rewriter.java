package dev.bellows.rules;

import dev.bellows.rules.analysis.Analysis;
import dev.bellows.rules.analysis.Managed;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The module's entry point: rewrites application SQL for one rule set (with its phases) and one catalog.
 * Immutable and thread-safe; a phase or catalog change makes a new instance, whose caches start empty.
 *
 * <p>Three paths, cheapest first: a statement seen before is a cache hit (a statement naming no managed
 * column is cached as passed through, up to {@value #MAX_CACHED_PASS_THROUGH} characters; one whose shape was analysed
 * before, or that names nothing managed, is cached the second time it is seen, so one-off literals do not churn the
 * cache); a new one naming no
 * managed column is returned as is after a scan, without being parsed; a statement differing from one seen before only in
 * literals or comments reuses that one's analysis through its {@link Template}.
 *
 * <p>A chain ({@code a -> b}, then {@code b -> c} on the same table) is rewritten in stages, in the rules' order:
 * each stage holds the migrations whose old column is an earlier migration's new one and rewrites the SQL the stage
 * before it produced; parameters, labels and usage facts are composed, so a cached statement is still one lookup.
 */
public final class Rewriter {
    /** Longest pass-through statement kept in the cache, in characters. */
    static final int MAX_CACHED_PASS_THROUGH = 4096;
    /** Characters of cached text that weigh as one statement. */
    static final int WEIGHT_CHARS = 8192;
    /** Distinct search paths kept with one rewriter. */
    static final int MAX_PATHS = 64;
    private final RuleSet rules;
    private final Catalog catalog;
    private final Options options;
    private final Managed managed;
    private final Cache<String, Rewrite> exact;
    private final Cache<String, Analysis> templates;
    private final Shapes shapes = new Shapes(); // the analysed templates seen last, recognised without building a key
    private final Rewriter next; // the next stage of a chain, or null
    private final SearchPath path;
    // one rewriter per search path seen with these rules and this catalog; the first one holds them all
    private final java.util.concurrent.ConcurrentMap<SearchPath, Rewriter> byPath;

    private Rewriter(RuleSet rules, RuleSet stage, Catalog catalog, Options options, Rewriter next) {
        this(rules, catalog, options, new Managed(stage), SearchPath.PUBLIC, new java.util.concurrent.ConcurrentHashMap<>(), next);
    }

    private Rewriter(RuleSet rules, Catalog catalog, Options options, Managed managed, SearchPath path,
                     java.util.concurrent.ConcurrentMap<SearchPath, Rewriter> byPath, Rewriter next) {
        this.rules = rules;
        this.catalog = catalog;
        this.options = options;
        this.managed = managed;
        this.path = path;
        this.byPath = byPath;
        this.next = next;
        // Weighed so that statements of ordinary length count one each (cacheSize is a number of statements) and a
        // long one counts once per WEIGHT_CHARS of text it pins, which bounds the text held at ~cacheSize * WEIGHT_CHARS.
        // Maintenance (eviction, buffer draining) runs on the calling thread: handing it to the common pool woke a
        // worker thread on most writes, which cost the literal-varying path more than the rest of its work.
        this.exact = Caffeine.newBuilder().maximumWeight(options.cacheSize).executor(Runnable::run)
            .<String, Rewrite>weigher((sql, r) -> weight(sql.length() + (r.sql() == sql ? 0 : r.sql().length()))).build();
        this.templates = Caffeine.newBuilder().maximumWeight(options.cacheSize).executor(Runnable::run)
            .<String, Analysis>weigher((key, a) -> weight(2 * key.length())).build();
    }

    /** A rewriter with default options. */
    public static Rewriter create(RuleSet rules, Catalog catalog) {
        return create(rules, catalog, Options.defaults());
    }

    public static Rewriter create(RuleSet rules, Catalog catalog, Options options) {
        List<List<Migration>> stages = stages(rules);
        Rewriter next = null;
        for (int i = stages.size() - 1; i >= 1; i--) {
            RuleSet s = RuleSet.of(stages.get(i));
            next = new Rewriter(s, s, catalog, options, next);
            next.byPath.put(SearchPath.PUBLIC, next);
        }
        Rewriter r = new Rewriter(rules, stages.size() <= 1 ? rules : RuleSet.of(stages.get(0)), catalog, options, next);
        r.byPath.put(SearchPath.PUBLIC, r);
        return r;
    }

    /** Migrations by stage: 0 unless the old column is the new column of an earlier migration on the same table. */
    static List<List<Migration>> stages(RuleSet rules) {
        List<List<Migration>> out = new ArrayList<>();
        Map<String, Integer> stageOfNew = new HashMap<>();
        for (Migration m : rules.migrations()) {
            int s = 0;
            if (!m.isTableRename()) {
                Integer before = stageOfNew.get(m.qualifiedTable() + "\0" + m.from());
                if (before != null) s = before + 1;
                stageOfNew.put(m.qualifiedTable() + "\0" + m.to(), s);
            }
            while (out.size() <= s) out.add(new ArrayList<>());
            out.get(s).add(m);
        }
        return out;
    }

    /**
     * The rewriter for the same rules and catalog that looks unqualified table names up along {@code path}
     * (a session's {@code search_path}). The same instance for an equal path; its caches are its own.
     */
    public Rewriter withSearchPath(SearchPath p) {
        if (p == null || p.equals(path)) return this;
        Rewriter r = byPath.get(p);
        if (r != null) return r;
        if (byPath.size() >= MAX_PATHS) byPath.clear(); // sessions with ever-new paths: start over rather than grow
        return byPath.computeIfAbsent(p, k -> new Rewriter(rules, catalog, options, managed, k, byPath,
            next == null ? null : next.withSearchPath(k)));
    }

    /** The search path unqualified table names are resolved with. */
    public SearchPath searchPath() { return path; }

    public RuleSet rules() { return rules; }
    public Catalog catalog() { return catalog; }
    public Options options() { return options; }

    /** Whether {@code sql} might name a managed column (a case-insensitive scan; no parse). */
    public boolean mayMention(String sql) {
        return sql != null && (!managed.isEmpty() && managed.mentioned(sql) || next != null && next.mayMention(sql));
    }

    /**
     * Rewrites one SQL string (possibly several statements). Never throws for any input. A string seen before,
     * rewritten or passed through, is one cache lookup with no scan and no allocation (from its second sighting
     * when its template was analysed for another statement, or when it names nothing managed).
     */
    public Rewrite rewrite(String sql) {
        if (sql == null) return Rewrite.inert(null);
        return lookup(sql, UNKNOWN);
    }

    /** Where {@link #rewrite(String, Session)} finds the rewriter for a session's search path. */
    public interface Session {
        /** {@code base} (or its {@link #withSearchPath} sibling) for this session's current search path. */
        Rewriter rewriterFor(Rewriter base);
    }

    /**
     * {@link #rewrite(String)} for one session: a statement that may name a managed column or table is rewritten by
     * {@code session}'s rewriter for its search path, one that names none ({@link Rewrite#inert()}) by this one
     * without asking the session. A statement seen before that names nothing managed is one lookup here.
     */
    public Rewrite rewrite(String sql, Session session) {
        if (sql == null) return Rewrite.inert(null);
        Rewrite r = exact.getIfPresent(sql);
        if (r != null) {
            Rewriter s = r.inert() ? this : session.rewriterFor(this);
            if (s != this) return s.rewrite(sql);
            options.stats.lookup();
            return r != ELSEWHERE ? r : miss(sql, UNKNOWN);
        }
        boolean here = !managed.isEmpty() && managed.mentioned(sql);
        Rewriter s = here || next != null && next.mayMention(sql) ? session.rewriterFor(this) : this;
        if (s != this && s != null) {
            // remembered here (from its second sighting, as in miss) so that the next time costs no scan
            if (seenBefore(sql)) exact.asMap().putIfAbsent(sql, ELSEWHERE);
            return s.lookup(sql, here ? MENTIONS : NONE);
        }
        options.stats.lookup();
        return miss(sql, here ? MENTIONS : NONE);
    }

    private static final int UNKNOWN = -1, NONE = 0, MENTIONS = 1;
    /**
     * Cached in place of a statement that names something managed and was rewritten for a session on another search
     * path, by that path's rewriter: never returned, it only spares the next such session the scan.
     */
    private static final Rewrite ELSEWHERE = Rewrite.marker();

    /** A lookup; on a miss, {@code scanned} says what this stage's scan found already, if it ran. */
    private Rewrite lookup(String sql, int scanned) {
        options.stats.lookup();
        Rewrite r = exact.getIfPresent(sql);
        return r != null && r != ELSEWHERE ? r : miss(sql, scanned);
    }

    private Rewrite miss(String sql, int scanned) {
        long start = System.nanoTime();
        boolean mentions = scanned == UNKNOWN ? !managed.isEmpty() && managed.mentioned(sql) : scanned == MENTIONS;
        boolean[] analysed = {false};
        Rewrite r = mentions ? compute(sql, analysed) : Rewrite.inert(sql);
        if (next != null) r = Rewrite.compose(r, next.rewrite(r.sql()));
        options.stats.miss(System.nanoTime() - start);
        // long one-off statements (bulk VALUES lists) would pin their text in the cache; rescanning them is cheap by comparison
        if (!mentions && !r.changed() && sql.length() > MAX_CACHED_PASS_THROUGH) return r;
        // A statement whose shape was just analysed is kept at once. One that was only scanned, or only filled into a
        // known template, is kept the second time it is seen: statements made with ever-new literals would otherwise
        // cost a cache insert and an eviction each (more than filling the template in) and push out the hot ones.
        if (analysed[0] || seenBefore(sql)) exact.put(sql, r);
        return r;
    }

    // The doorkeeper: the hash of a recent statement not kept, in two slots chosen by independent bits of its hash, so
    // two statements sharing one slot cannot evict each other forever (with one slot, two hot statements alternating on
    // it were never kept, and each of their executions paid a miss). Racy on purpose: a lost write only means a
    // statement is kept one sighting later or earlier.
    private final int[] seen = new int[SEEN_SLOTS];
    private static final int SEEN_SLOTS = 1024;

    private boolean seenBefore(String sql) {
        int h = sql.hashCode();
        int i = (h ^ h >>> 16) & (SEEN_SLOTS - 1);
        int j = (h * 0x9E3779B9) >>> (Integer.SIZE - 10); // the top 10 bits of a multiplicative hash: 1,024 slots
        if (seen[i] == h || seen[j] == h) return true;
        seen[i] = h;
        seen[j] = h;
        return false;
    }

    /** What the literal-varying fast path answers for {@code sql} (null: it takes the full way); for tests. */
    Rewrite fromShape(String sql) {
        SqlLexer.Tokens t = SqlLexer.lex(sql, options.maxTokens);
        return t == null ? null : shapes.instantiate(sql, t, managed.mentionableNames);
    }

    /** Statements in the exact cache and their total weight, after pending evictions; for tests. */
    long[] cached() {
        exact.cleanUp();
        return new long[] {exact.estimatedSize(), exact.policy().eviction().orElseThrow().weightedSize().orElseThrow()};
    }

    static int weight(int chars) {
        return 1 + chars / WEIGHT_CHARS;
    }

    private Rewrite compute(String sql, boolean[] analysed) {
        try {
            if (sql.length() > options.maxSqlLength) {
                return Analysis.scanOnly(sql, managed, catalog, "statement longer than " + options.maxSqlLength + " characters");
            }
            SqlLexer.Tokens tokens = SqlLexer.lex(sql, options.maxTokens);
            if (tokens == null) return Analysis.scanOnly(sql, managed, catalog, "statement of more than " + options.maxTokens + " tokens");
            Rewrite known = shapes.instantiate(sql, tokens, managed.mentionableNames);
            if (known != null) return known;
            Template tpl = Template.of(sql, tokens, managed.mentionableNames, true);
            if (!tpl.mentions) return Rewrite.inert(sql);
            if (tpl.unterminated) return Analysis.scanOnly(sql, managed, catalog, "unterminated quote or comment");
            Analysis a = templates.getIfPresent(tpl.key);
            if (a == null) {
                analysed[0] = true;
                a = Analysis.run(tpl, managed, catalog, path, options);
                if (a.templateUnparsable && tpl.slotPos.length > 0) {
                    // typed literals (DATE '...', INTERVAL '...') do not parse as '?': analyse the text itself
                    Template verbatim = Template.of(sql, managed.mentionableNames, options.maxTokens, false);
                    Analysis v = Analysis.run(verbatim, managed, catalog, path, options);
                    if (v.hasEdits() || !v.templateUnparsable) return v.instantiate(sql, verbatim);
                    // neither parses: every literal variant will be passed through the same way, so remember that
                    a = v;
                }
                templates.put(tpl.key, a);
            }
            shapes.remember(tpl, a);
            return a.instantiate(sql, tpl);
        } catch (RuntimeException | StackOverflowError e) {
            return Analysis.scanOnly(sql, managed, catalog, "internal error: " + e);
        }
    }

    /** Limits and cache sizing. */
    public static final class Options {
        final int cacheSize;
        final int maxSqlLength;
        final int maxTokens;
        final int maxDepth;
        final long parseBudgetMillis;
        final int maxParseTokens;
        final RewriteStats stats;

        final boolean newView;

        private Options(int cacheSize, int maxSqlLength, int maxTokens, int maxDepth, long parseBudgetMillis, RewriteStats stats) {
            this(cacheSize, maxSqlLength, maxTokens, maxDepth, parseBudgetMillis, stats, false);
        }

        private Options(int cacheSize, int maxSqlLength, int maxTokens, int maxDepth, long parseBudgetMillis, RewriteStats stats,
                        boolean newView) {
            this.maxParseTokens = 2_000;
            this.stats = stats;
            this.cacheSize = cacheSize;
            this.maxSqlLength = maxSqlLength;
            this.maxTokens = maxTokens;
            this.maxDepth = maxDepth;
            this.parseBudgetMillis = parseBudgetMillis;
            this.newView = newView;
        }

        /**
         * 10,000 cached rewrites. Statements over 256 KiB or 20,000 tokens are refused unparsed, and so
         * are those nested deeper than 32 parentheses or with more than 2,000 tokens left once long value
         * lists are set aside; a parse gets 250 ms.
         */
        public static Options defaults() { return new Options(10_000, 256 * 1024, 20_000, 32, 250, new RewriteStats()); }

        public Options cacheSize(int n) { return new Options(n, maxSqlLength, maxTokens, maxDepth, parseBudgetMillis, stats, newView); }
        public Options maxSqlLength(int n) { return new Options(cacheSize, n, maxTokens, maxDepth, parseBudgetMillis, stats, newView); }
        public Options maxTokens(int n) { return new Options(cacheSize, maxSqlLength, n, maxDepth, parseBudgetMillis, stats, newView); }
        public Options maxDepth(int n) { return new Options(cacheSize, maxSqlLength, maxTokens, n, parseBudgetMillis, stats, newView); }
        public Options parseBudgetMillis(long ms) { return new Options(cacheSize, maxSqlLength, maxTokens, maxDepth, ms, stats, newView); }
        public int cacheSize() { return cacheSize; }
        /** Deepest parenthesis nesting that is parsed. */
        public int maxDepth() { return maxDepth; }
        /** Most tokens left to parse once long value lists are set aside. */
        public int maxParseTokens() { return maxParseTokens; }
        /** Time budget of one parse. */
        public long parseBudgetMillis() { return parseBudgetMillis; }
        /** The counters every rewriter built with these options (and options derived from them) adds to. */
        public RewriteStats stats() { return stats; }

        /**
         * Which table {@code *} (and {@code RETURNING *}) presents from expand on: false (the default) the legacy
         * table, {@code from} and not {@code to}, in the legacy order; true the table once the migration is over,
         * {@code to} and not {@code from}, in the table's own order. Phase off changes nothing in either.
         */
        public Options newView(boolean b) {
            return new Options(cacheSize, maxSqlLength, maxTokens, maxDepth, parseBudgetMillis, stats, b);
        }

        public boolean newView() { return newView; }
    }
}
