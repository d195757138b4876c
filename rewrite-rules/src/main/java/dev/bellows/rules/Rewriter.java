package dev.bellows.rules;

/**
 * The module's entry point: rewrites application SQL for one rule set, one set of phases and one catalog.
 * Immutable and thread-safe; a phase or catalog change makes a new instance (its cache starts empty).
 */
public final class Rewriter {
    private final RuleSet rules;
    private final Catalog catalog;
    private final Options options;

    private Rewriter(RuleSet rules, Catalog catalog, Options options) {
        this.rules = rules;
        this.catalog = catalog;
        this.options = options;
    }

    /** A rewriter with default options. */
    public static Rewriter create(RuleSet rules, Catalog catalog) {
        return create(rules, catalog, Options.defaults());
    }

    public static Rewriter create(RuleSet rules, Catalog catalog, Options options) {
        return new Rewriter(rules, catalog, options);
    }

    public RuleSet rules() { return rules; }
    public Catalog catalog() { return catalog; }
    public Options options() { return options; }

    /** Rewrites one SQL string (possibly several statements). Never throws for any input. */
    public Rewrite rewrite(String sql) {
        return Rewrite.unchanged(sql); // TODO engine
    }

    /** Limits and cache sizing. */
    public static final class Options {
        final int cacheSize;
        final int maxSqlLength;
        final int maxTokens;
        final int maxDepth;

        private Options(int cacheSize, int maxSqlLength, int maxTokens, int maxDepth) {
            this.cacheSize = cacheSize;
            this.maxSqlLength = maxSqlLength;
            this.maxTokens = maxTokens;
            this.maxDepth = maxDepth;
        }

        /** 10,000 cached rewrites; statements over 256 KiB, 20,000 tokens or 64 nested parentheses are not parsed. */
        public static Options defaults() { return new Options(10_000, 256 * 1024, 20_000, 64); }

        public Options cacheSize(int n) { return new Options(n, maxSqlLength, maxTokens, maxDepth); }
        public Options maxSqlLength(int n) { return new Options(cacheSize, n, maxTokens, maxDepth); }
        public Options maxTokens(int n) { return new Options(cacheSize, maxSqlLength, n, maxDepth); }
        public Options maxDepth(int n) { return new Options(cacheSize, maxSqlLength, maxTokens, n); }
        public int cacheSize() { return cacheSize; }
    }
}
