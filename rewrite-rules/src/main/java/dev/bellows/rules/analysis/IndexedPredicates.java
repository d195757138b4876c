package dev.bellows.rules.analysis;

import dev.bellows.rules.Phase;
import dev.bellows.rules.UsageFact;
import dev.bellows.rules.rewriting.Parts;
import dev.bellows.rules.rewriting.Refusal;

import java.util.List;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.IsNullExpression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.ASTNodeAccess;
import net.sf.jsqlparser.parser.SimpleNode;
import net.sf.jsqlparser.schema.Column;

/**
 * Legacy predicates on a type-changed column whose {@code up}/{@code down} are declared inverse, rewritten so the
 * new column's index can answer them: {@code old = x} becomes {@code (new = up(x) AND down(new) = x)}, {@code old IN
 * (x, y)} likewise, {@code old IS [NOT] NULL} becomes {@code new IS [NOT] NULL}.
 *
 * <p>Why this is exact, NULLs included, given the declaration ({@code up(down(v)) = v} for every value the new
 * column holds, and {@code up(NULL)}, {@code down(NULL)} both NULL): a row with {@code down(new) = x} has {@code new
 * = up(down(new)) = up(x)}, so the first conjunct only narrows the search; the second keeps the legacy meaning
 * where {@code up} folds several legacy values into one. {@code down(new)} is NULL exactly when {@code new} is, so
 * both forms are NULL for the same rows. Only plain operands ({@code ?}, a literal, a cast of one) are copied
 * twice: an expression with side effects or volatility never is.
 */
final class IndexedPredicates {
    private final Analyzer an;

    IndexedPredicates(Analyzer an) {
        this.an = an;
    }

    /** Rewrites {@code e} when it is {@code old = operand} (either side) for an inverse migration; false otherwise. */
    boolean equalsTo(EqualsTo e, Scope sc) {
        Column c;
        Expression x;
        if (e.getLeftExpression() instanceof Column && plain(e.getRightExpression())) {
            c = (Column) e.getLeftExpression();
            x = e.getRightExpression();
        } else if (e.getRightExpression() instanceof Column && plain(e.getLeftExpression())) {
            c = (Column) e.getRightExpression();
            x = e.getLeftExpression();
        } else {
            return false;
        }
        Target t = target(c, sc);
        int[] operand = span(x);
        if (t == null || operand == null) return false;
        int start = Math.min(t.span[0], operand[0]);
        int end = Math.max(t.span[1], operand[1]);
        String between = c == e.getLeftExpression()
            ? an.tpl.text.substring(t.span[1], operand[0]) : an.tpl.text.substring(operand[1], t.span[0]);
        if (!between.trim().equals("=")) return false;
        Parts value = new Parts().copy(operand[0], operand[1]);
        Parts out = new Parts().text("(").add(t.column()).text(" = ").add(t.m.up.apply(value))
            .text(" AND ").add(t.m.down.apply(t.column())).text(" = ").copy(operand[0], operand[1]).text(")");
        t.record();
        an.edits.replace(start, end, out);
        return true;
    }

    /** Rewrites {@code old IN (operands)} for an inverse migration; false otherwise (NOT IN, subqueries, expressions). */
    boolean in(InExpression e, Scope sc) {
        if (e.isNot() || e.isGlobal() || !(e.getLeftExpression() instanceof Column)
                || !(e.getRightExpression() instanceof ParenthesedExpressionList)) {
            return false;
        }
        List<?> items = (ParenthesedExpressionList<?>) e.getRightExpression();
        if (items.isEmpty()) return false;
        for (Object o : items) if (!(o instanceof Expression) || !plain((Expression) o)) return false;
        Target t = target((Column) e.getLeftExpression(), sc);
        int[] whole = span(e);
        int[] list = span((Expression) e.getRightExpression());
        // The parser's node for IN may start at the column or at the keyword; what lies between must be IN alone.
        if (t == null || whole == null || list == null || whole[1] != list[1]
                || !an.tpl.text.substring(t.span[1], list[0]).trim().equalsIgnoreCase("IN")) {
            return false;
        }
        Parts ups = new Parts().text("(");
        for (int i = 0; i < items.size(); i++) {
            int[] s = span((Expression) items.get(i));
            if (s == null) return false;
            if (i > 0) ups.text(", ");
            ups.add(t.m.up.apply(new Parts().copy(s[0], s[1])));
        }
        ups.text(")");
        Parts out = new Parts().text("(").add(t.column()).text(" IN ").add(ups)
            .text(" AND ").add(t.m.down.apply(t.column())).text(" IN ").copy(list[0], list[1]).text(")");
        t.record();
        an.edits.replace(t.span[0], list[1], out);
        return true;
    }

    /** Rewrites {@code old IS [NOT] NULL} to test the new column; false when it does not apply. */
    boolean isNull(IsNullExpression e, Scope sc) {
        if (!(e.getLeftExpression() instanceof Column)) return false;
        Target t = target((Column) e.getLeftExpression(), sc);
        if (t == null) return false;
        t.record();
        an.edits.replace(t.span[2], t.span[1], Analyzer.quote(t.m.to()));
        return true;
    }

    /** The reference, when it reads an inverse migration's old column in a phase that reads the new one. */
    private Target target(Column c, Scope sc) {
        String n = Analyzer.name(c.getColumnName());
        if (!an.managed.names.contains(n) || an.isLabel(c)) return null;
        if (c.getTable() == null && sc.anyMerged()) return null;
        net.sf.jsqlparser.schema.Table tab = c.getTable();
        if (tab != null && tab.getDatabaseName() != null && !tab.getDatabaseName().isEmpty()) return null;
        String q = tab == null || tab.getName() == null ? null : Analyzer.name(tab.getName());
        String qs = tab == null || tab.getSchemaName() == null ? null : Analyzer.name(tab.getSchemaName());
        Scope.Rel r;
        try {
            r = sc.resolve(qs, q, n);
        } catch (Refusal x) {
            return null; // the ordinary path refuses it with its reason
        }
        if (r == null || r.merged) return null;
        Managed.M m = r.managing(n);
        if (m == null || !m.mig.inverse() || !m.from().equals(n)) return null;
        Phase p = Analyzer.phase(m, r);
        if (!Analyzer.isRead(p)) return null;
        int[] span = an.columnSpan(c, n);
        return new Target(m, p, span);
    }

    private final class Target {
        final Managed.M m;
        final Phase p;
        final int[] span; // {start, end, start of the column name}

        Target(Managed.M m, Phase p, int[] span) {
            this.m = m;
            this.p = p;
            this.span = span;
        }

        /** The new column, qualified as the reference was. */
        Parts column() {
            return new Parts().copy(span[0], span[2]).text(Analyzer.quote(m.to()));
        }

        void record() {
            an.accounted++;
            an.fact(m, UsageFact.Kind.READ, p);
        }
    }

    /** A value that may be copied twice without changing what the statement does. */
    private static boolean plain(Expression x) {
        if (x instanceof CastExpression) x = ((CastExpression) x).getLeftExpression();
        return x instanceof JdbcParameter || x instanceof StringValue || x instanceof LongValue || x instanceof DoubleValue;
    }

    /** The source span of a node, or null when the parser kept none (then the predicate is left to the usual path). */
    private int[] span(Expression e) {
        if (!(e instanceof ASTNodeAccess)) return null;
        SimpleNode node = ((ASTNodeAccess) e).getASTNode();
        if (node == null || node.jjtGetFirstToken() == null || node.jjtGetLastToken() == null) return null;
        return an.position((ASTNodeAccess) e);
    }
}
