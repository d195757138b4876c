package dev.bellows.rules.analysis;

import dev.bellows.rules.Catalog;
import dev.bellows.rules.Migration;
import dev.bellows.rules.ParamPlan;
import dev.bellows.rules.Rewrite;
import dev.bellows.rules.Rewriter;
import dev.bellows.rules.SearchPath;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Edits;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;
import dev.bellows.rules.rewriting.Splice;
import dev.bellows.rules.sql.ParseGuard;
import dev.bellows.rules.sql.ParseText;
import dev.bellows.rules.sql.SqlLexer;
import dev.bellows.rules.sql.Template;
import dev.bellows.rules.sql.Wrapped;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import net.sf.jsqlparser.statement.Statement;

/**
 * The analysis of one template, cached and shared by every statement with that template: the edits as
 * {@link Parts}, the parameter plan, labels and usage facts. {@link #instantiate} puts a statement's own
 * literals and comments back.
 */
public final class Analysis {
    private static final Set<String> DML = Set.of("select", "with", "insert", "update", "delete", "merge", "values", "table");
    /** Statements that are the migration's business or cannot name a column: passed through without facts. */
    private static final Set<String> SILENT = Set.of("create", "alter", "drop", "comment", "grant", "revoke",
        "truncate", "vacuum", "analyze", "analyse", "reindex", "cluster", "set", "show", "reset", "begin", "start",
        "commit", "rollback", "savepoint", "release", "end", "abort", "lock", "listen", "notify", "unlisten",
        "discard", "deallocate", "security", "refresh", "checkpoint", "load");

    final Parts parts;              // null when nothing changed
    final ParamPlan plan;           // null for the identity
    final Map<String, String> labels;
    final List<UsageFact> facts;
    final String reason;            // why some statement was not analysed, or null
    final String rejection;         // why the string must not be sent at all, or null
    public final boolean templateUnparsable;

    private Analysis(Parts parts, ParamPlan plan, Map<String, String> labels, List<UsageFact> facts, String reason,
                     String rejection, boolean templateUnparsable) {
        this.rejection = rejection;
        this.parts = parts;
        this.plan = plan;
        this.labels = labels;
        this.facts = facts;
        this.reason = reason;
        this.templateUnparsable = templateUnparsable;
    }

    /** Whether the template has edits (false: every statement of it is sent as written). */
    public boolean hasEdits() { return parts != null; }

    public Rewrite instantiate(String sql, Template t) {
        return instantiate(sql, t.text, t.slotPos, t.slotSpan);
    }

    /**
     * {@link #instantiate(String, Template)} for a statement of template text {@code text} whose slots stand at
     * {@code slotPos} in the template and at {@code slotSpan} (start, end, ...) in {@code sql}: what a
     * {@link dev.bellows.rules.sql.Shape} match gives, without the statement's {@link Template}.
     */
    public Rewrite instantiate(String sql, String text, int[] slotPos, int[] slotSpan) {
        String out = parts == null ? sql : Splice.text(parts, sql, text, slotPos, slotSpan);
        int lex = lexical;
        if (lex == 0) lexical = lex = lexical(text);
        // the template's words are the statement's outside its literals and comments; a slot may add a path word
        boolean path = (lex & PATH) != 0 || slotsMayChangePath(sql, slotSpan);
        Rewrite.Kind kind = (lex >>> 2) == 0 ? null : KINDS[(lex >>> 2) - 1];
        return new Rewrite(sql, out, parts == null ? null : plan, labels, facts, reason, rejection, kind, path);
    }

    // What the template's text says of every statement of it, found once: KNOWN | PATH when it may change the search
    // path | (1 + the kind's ordinal) << 2 when its first keyword settles the kind. One int, so a racing reader sees
    // all of it or nothing.
    private int lexical;
    private static final int KNOWN = 1, PATH = 2;
    private static final Rewrite.Kind[] KINDS = Rewrite.Kind.values();

    private static int lexical(String templateText) {
        Rewrite.Kind k = Rewrite.Kind.byFirstKeyword(templateText);
        return KNOWN | (Rewrite.mayChangeSearchPath(templateText) ? PATH : 0) | (k == null ? 0 : (k.ordinal() + 1) << 2);
    }

    private static boolean slotsMayChangePath(String sql, int[] slotSpan) {
        for (int k = 0; k < slotSpan.length; k += 2) {
            if (Rewrite.hasPathWord(sql, slotSpan[k], slotSpan[k + 1])) return Rewrite.mayChangeSearchPath(sql);
        }
        return false;
    }

    /** Analyses every statement of a template. */
    public static Analysis run(Template tpl, Managed managed, Catalog catalog, SearchPath path, Rewriter.Options options) {
        SqlLexer.Tokens tok = SqlLexer.lex(tpl.text, Integer.MAX_VALUE);
        Set<UsageFact> facts = new LinkedHashSet<>();
        Map<String, String> labels = new HashMap<>();
        Edits edits = new Edits();
        List<String> reasons = new ArrayList<>();
        List<String> rejections = new ArrayList<>();
        boolean unparsable = false;
        int from = 0;
        int depth = 0;
        for (int i = 0; i <= tok.count; i++) {
            if (i < tok.count) {
                byte k = tok.kind[i];
                if (k == SqlLexer.LPAREN) depth++;
                else if (k == SqlLexer.RPAREN) depth--;
                if (!(k == SqlLexer.SEMI && depth <= 0)) continue;
            }
            int to = i;
            String r = statement(tpl, tok, from, to, managed, catalog, path, options, facts, labels, edits, rejections);
            if (r != null) {
                reasons.add(r);
                if (r.startsWith(PARSE)) unparsable = true;
            }
            from = i + 1;
        }
        Parts parts = edits.isEmpty() ? null : edits.all(tpl.text.length());
        ParamPlan plan = parts == null ? null : plan(parts, tpl);
        return new Analysis(parts, plan, Map.copyOf(labels), List.copyOf(facts),
            reasons.isEmpty() ? null : String.join("; ", reasons),
            rejections.isEmpty() ? null : String.join("; ", rejections), unparsable);
    }

    private static final String PARSE = "not parsed: ";

    /** Analyses tokens [from, to) as one statement; returns why it was not analysed, or null. */
    private static String statement(Template tpl, SqlLexer.Tokens tok, int from, int to, Managed managed,
                                    Catalog catalog, SearchPath path, Rewriter.Options options, Set<UsageFact> facts,
                                    Map<String, String> labels, Edits edits, List<String> rejections) {
        int first = from;
        while (first < to && tok.kind[first] == SqlLexer.COMMENT) first++;
        if (first >= to) return null;
        int mentions = 0;
        boolean table = false;
        int maxDepth = 0, d = 0;
        for (int i = first; i < to; i++) {
            byte k = tok.kind[i];
            if (k == SqlLexer.LPAREN && ++d > maxDepth) maxDepth = d;
            else if (k == SqlLexer.RPAREN) d--;
            else if (k == SqlLexer.IDENT || k == SqlLexer.QIDENT) {
                String n = SqlLexer.identName(tok, i);
                if (n != null && managed.counts(n)) mentions++;
                else if (n != null && managed.mentionable.contains(n)) table = true;
            }
        }
        if (mentions == 0 && !table) return null;
        String kw = tok.kind[first] == SqlLexer.LPAREN ? "select" : tok.text(first).toLowerCase(Locale.ROOT);
        Wrapped.Inner inner = DML.contains(kw) ? null : Wrapped.of(tok, first, to);
        if (inner != null && mentionsOutside(tok, first, to, inner, managed) == 0) {
            return statement(tpl, tok, inner.first(), inner.to(), managed, catalog, path, options, facts, labels, edits, rejections);
        }
        if (SILENT.contains(kw) && inner == null) return null;
        String reason;
        boolean failClosed = false;
        if (inner != null) {
            reason = "a managed column is named outside the statement " + kw.toUpperCase(Locale.ROOT) + " carries";
        } else if (kw.equals("copy")) {
            Set<UsageFact> local = new LinkedHashSet<>();
            Edits localEdits = new Edits();
            Analyzer an = new Analyzer(tpl, tok, managed, catalog, path, localEdits, tok.start[first], local, new HashMap<>());
            an.pieceEndToken = to;
            try {
                new Copies(an).copy(first, to);
                if (an.accounted != mentions) throw new Refusal("a managed name in COPY is not understood");
                edits.addAll(localEdits);
                facts.addAll(local);
                return null;
            } catch (Refusal r) {
                reason = r.getMessage();
                failClosed = r.failsClosed();
            }
        } else if (!DML.contains(kw)) {
            reason = kw.toUpperCase(Locale.ROOT) + " statements are passed through unanalysed";
        } else if (maxDepth > options.maxDepth()) {
            reason = "nested deeper than " + options.maxDepth() + " parentheses";
        } else {
            int start = tok.start[first];
            int end = tok.end[to - 1];
            int[] left = new int[1];
            String text = ParseText.of(tpl.text, tok, first, to, left).substring(start, end);
            if (left[0] > options.maxParseTokens()) {
                return unanalysed(tpl, tok, first, to, managed, catalog, facts,
                    "more than " + options.maxParseTokens() + " tokens to parse", false, rejections);
            }
            Statement st;
            try {
                st = ParseGuard.parse(text, maxDepth, options.parseBudgetMillis());
            } catch (Exception | StackOverflowError e) {
                return unanalysed(tpl, tok, first, to, managed, catalog, facts, PARSE + firstLine(e), false, rejections);
            }
            Set<UsageFact> local = new LinkedHashSet<>();
            Map<String, String> localLabels = new HashMap<>();
            Edits localEdits = new Edits();
            Analyzer an = new Analyzer(tpl, tok, managed, catalog, path, localEdits, start, local, localLabels);
            an.pieceEndToken = to;
            an.newView = options.newView();
            try {
                an.statement(st);
                if (an.accounted != mentions) {
                    throw new Refusal("a managed name is used in a way Bellows does not analyse (" + an.accounted
                        + " of " + mentions + " mentions understood)");
                }
                edits.addAll(localEdits);
                facts.addAll(local);
                labels.putAll(localLabels);
                return null;
            } catch (Refusal r) {
                reason = r.getMessage();
                failClosed = r.failsClosed();
            }
        }
        return unanalysed(tpl, tok, first, to, managed, catalog, facts, reason, failClosed, rejections);
    }

    /** Managed column names in [first, to) outside the carried statement and the view's own column names. */
    private static int mentionsOutside(SqlLexer.Tokens tok, int first, int to, Wrapped.Inner in, Managed managed) {
        int n = 0;
        for (int i = first; i < to; i++) {
            if (i >= in.first() && i < in.to() || i >= in.namesFrom() && i < in.namesTo()) continue;
            if (tok.kind[i] == SqlLexer.IDENT || tok.kind[i] == SqlLexer.QIDENT) {
                String name = SqlLexer.identName(tok, i);
                if (name != null && managed.counts(name)) n++;
            }
        }
        return n;
    }

    /**
     * Records an unanalysed use for every migration whose table and old column the statement both names
     * (or whose table it writes positionally). When such an old column has been dropped the statement is
     * rejected instead: passed through, the server would read it against a table that no longer has the
     * shape the application means (columns shifted, or a name resolved to another relation).
     */
    private static String unanalysed(Template tpl, SqlLexer.Tokens tok, int first, int to, Managed managed,
                                     Catalog catalog, Set<UsageFact> facts, String reason, boolean failClosed,
                                     List<String> rejections) {
        Set<String> idents = new java.util.HashSet<>();
        for (int i = first; i < to; i++) {
            if (tok.kind[i] == SqlLexer.IDENT || tok.kind[i] == SqlLexer.QIDENT) {
                String n = SqlLexer.identName(tok, i);
                if (n != null) idents.add(n);
            }
        }
        String kw = tok.text(first).toLowerCase(Locale.ROOT);
        boolean copyOut = kw.equals("copy") && idents.contains("to");
        UsageFact.Kind kind = Set.of("insert", "update", "merge", "copy").contains(kw) && !copyOut
            ? UsageFact.Kind.WRITE : UsageFact.Kind.READ;
        String dropped = null;
        for (List<Managed.M> ms : managed.byTable.values()) {
            for (Managed.M m : ms) {
                // a positional INSERT, MERGE or COPY can write (or read) the old column without naming it, a NATURAL join joins on it
                boolean uses = idents.contains(m.from()) || kw.equals("insert") || kw.equals("copy")
                    || kw.equals("merge") || idents.contains("natural");
                if (uses && idents.contains(m.mig.table())) {
                    facts.add(new UsageFact(m.mig.id(), m.column, kind, UsageFact.Treatment.UNANALYSED, tpl.fingerprint()));
                    if (dropped == null && isDropped(m, catalog)) dropped = m.column;
                }
            }
        }
        for (Migration r : managed.renames.values()) {
            if (idents.contains(r.table())) {
                facts.add(new UsageFact(r.id(), r.qualifiedTable(), kind, UsageFact.Treatment.UNANALYSED, tpl.fingerprint()));
            }
        }
        if (failClosed || dropped != null) {
            rejections.add("Bellows refuses to send this statement"
                + (dropped == null ? "" : " (" + dropped + " was dropped)") + ": " + reason);
        }
        return reason;
    }

    /** Whether the migration's old column is gone while its new one exists (a removal: gone). */
    static boolean isDropped(Managed.M m, Catalog catalog) {
        List<String> cols = catalog.columns(m.mig.schema(), m.mig.table());
        return cols != null && !cols.contains(m.from()) && (m.isRemoval() || cols.contains(m.to()));
    }

    /** For input the lexer would not take whole (too long, too many tokens): facts from a plain scan. */
    public static Rewrite scanOnly(String sql, Managed managed, Catalog catalog, String reason) {
        String lower = sql.toLowerCase(Locale.ROOT);
        String prefix = sql.length() > 2048 ? sql.substring(0, 2048) : sql;
        Template t = Template.of(prefix, managed.mentionableNames, Integer.MAX_VALUE);
        String fp = t.fingerprint() + (prefix.length() < sql.length() ? " …" : "");
        List<UsageFact> facts = new ArrayList<>();
        String dropped = null;
        for (List<Managed.M> ms : managed.byTable.values()) {
            for (Managed.M m : ms) {
                boolean positional = lower.stripLeading().startsWith("insert") || lower.stripLeading().startsWith("copy");
                if ((positional || lower.contains(m.from().toLowerCase(Locale.ROOT)))
                    && lower.contains(m.mig.table().toLowerCase(Locale.ROOT))) {
                    if (dropped == null && isDropped(m, catalog)) dropped = m.column;
                    UsageFact.Kind kind = lower.stripLeading().startsWith("insert") || lower.stripLeading().startsWith("update")
                        ? UsageFact.Kind.WRITE : UsageFact.Kind.READ;
                    facts.add(new UsageFact(m.mig.id(), m.column, kind, UsageFact.Treatment.UNANALYSED, fp));
                }
            }
        }
        for (Migration r : managed.renames.values()) {
            if (lower.contains(r.table().toLowerCase(Locale.ROOT))) {
                UsageFact.Kind kind = lower.stripLeading().startsWith("insert") || lower.stripLeading().startsWith("update")
                    || lower.stripLeading().startsWith("delete") ? UsageFact.Kind.WRITE : UsageFact.Kind.READ;
                facts.add(new UsageFact(r.id(), r.qualifiedTable(), kind, UsageFact.Treatment.UNANALYSED, fp));
            }
        }
        return new Rewrite(sql, sql, null, Map.of(), List.copyOf(facts), reason,
            dropped == null ? null : "Bellows refuses to send this statement (" + dropped + " was dropped): " + reason);
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Server parameter → client parameter, read off the copied ranges in output order; null for the identity. */
    private static ParamPlan plan(Parts parts, Template tpl) {
        ParamPlan plan = ParamPlan.of(tpl.paramPos.length, Splice.serverToClient(parts, tpl));
        return plan.isIdentity() ? null : plan;
    }
}
