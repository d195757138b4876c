package dev.bellows.rules.analysis;

import dev.bellows.rules.Catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.ArrayConstructor;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.statement.create.table.ColDataType;
import net.sf.jsqlparser.statement.select.TableFunction;

/**
 * The columns a function call in FROM gives, as PostgreSQL names them: a column definition list as written;
 * else the overloads the catalog knows ({@link Catalog#routines}) that could take the call must all agree —
 * one scalar column named after the alias or the function, a composite type's or OUT parameters' columns
 * (renamed by an alias list), a polymorphic element whose arguments are certainly not composite. Anything
 * else (overloads that disagree, a record without a definition list, arguments of unknown type) is unknown.
 */
final class FunctionColumns {
    private enum Kind { SCALAR, ARRAY, LITERAL, OTHER }

    /** Built-in types a cast can name with certainty that the value is not composite (pg_catalog comes first). */
    private static final Set<String> BUILTIN = Set.of("smallint", "int2", "integer", "int", "int4", "bigint", "int8",
        "numeric", "decimal", "real", "float4", "float8", "double precision", "float", "text", "varchar",
        "character varying", "char", "character", "bpchar", "name", "boolean", "bool", "date", "time", "timetz",
        "time with time zone", "time without time zone", "timestamp", "timestamptz", "timestamp with time zone",
        "timestamp without time zone", "interval", "uuid", "json", "jsonb", "bytea", "inet", "cidr", "macaddr", "money",
        "oid", "xml", "tsvector", "tsquery", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
        "bit", "varbit", "bit varying", "point");

    private final Analyzer an;

    FunctionColumns(Analyzer an) {
        this.an = an;
    }

    /** The relation a function in FROM makes (its arguments are visited by the caller). */
    Scope.Rel rel(TableFunction tf) {
        Function f = tf.getFunction();
        List<String> parts = f.getMultipartName();
        String fname = Analyzer.name(parts.get(parts.size() - 1));
        String fschema = parts.size() >= 2 ? Analyzer.name(parts.get(parts.size() - 2)) : null;
        Alias a = tf.getAlias();
        String relName = a != null ? Analyzer.aliasName(a) : fname;
        if (a != null && an.managed.counts(relName)) an.accounted++;
        List<String> aliasCols = new ArrayList<>();
        boolean definition = false;
        if (a != null && a.getAliasColumns() != null) {
            for (Alias.AliasColumn c : a.getAliasColumns()) {
                String n = Analyzer.name(c.name);
                if (an.managed.counts(n)) an.accounted++;
                aliasCols.add(n);
                if (c.colDataType != null) definition = true;
            }
        }
        boolean ordinality = tf.getWithClause() != null && tf.getWithClause().toLowerCase(Locale.ROOT).contains("ordinality");
        List<String> cols;
        if (definition) {
            cols = new ArrayList<>(aliasCols); // a column definition list: the record's columns, as written
            if (ordinality) cols.add("ordinality");
        } else {
            List<String> own = columns(f, fschema, fname, a);
            if (own != null && ordinality) {
                own = new ArrayList<>(own);
                own.add("ordinality");
            }
            cols = aliasCols.isEmpty() ? own : an.renamed(aliasCols, own);
        }
        return new Scope.Rel(relName, null, null, a != null, null, cols, Analyzer.quote(relName));
    }

    /** The call's own columns before any alias list; null when the catalog cannot tell. */
    private List<String> columns(Function f, String fschema, String fname, Alias a) {
        if (!an.catalog.knowsRoutines()) return null;
        List<Expression> args = new ArrayList<>();
        if (f.getParameters() != null) args.addAll(f.getParameters());
        if (f.getNamedParameters() != null) args.addAll(f.getNamedParameters().getExpressions());
        boolean named = f.getNamedParameters() != null;
        List<Kind> kinds = new ArrayList<>();
        for (Expression e : args) kinds.add(named ? Kind.OTHER : kind(e)); // named arguments may come in any order
        List<String> shape = null;
        boolean any = false;
        for (String s : fschema != null ? List.of(fschema) : functionPath()) {
            for (Catalog.Routine r : an.catalog.routines(s, fname)) {
                if (!r.accepts(args.size()) || excluded(r, kinds)) continue;
                List<String> c = shape(r, kinds, fname, a);
                if (c == null || any && !c.equals(shape)) return null;
                shape = c;
                any = true;
            }
        }
        // no overload the catalog lists could take the call: any that can is a plain scalar (or there is none: an error)
        return any ? shape : scalar(fname, a);
    }

    /** Schemas searched for functions: the path without the temporary schema, pg_catalog first unless placed. */
    private List<String> functionPath() {
        List<String> out = new ArrayList<>();
        if (!an.path.schemas().contains("pg_catalog")) out.add("pg_catalog");
        for (String s : an.path.schemas()) if (!s.startsWith("pg_temp")) out.add(s);
        return out;
    }

    private static List<String> scalar(String fname, Alias a) {
        return List.of(a != null ? Analyzer.aliasName(a) : fname);
    }

    private static List<String> shape(Catalog.Routine r, List<Kind> kinds, String fname, Alias a) {
        switch (r.result()) {
            case "scalar": return scalar(fname, a);
            case "columns": return r.columns();
            case "element": return certain(r, kinds) ? scalar(fname, a) : null;
            default: return null; // record without a definition list (an error), or unknown
        }
    }

    /** Whether the polymorphic parameters are bound to types that are certainly not composite. */
    private static boolean certain(Catalog.Routine r, List<Kind> kinds) {
        List<String> ps = r.params();
        for (int i = kinds.size(); i < ps.size(); i++) if (!ps.get(i).equals("other") && !ps.get(i).equals("array")) return false;
        for (int i = 0; i < kinds.size(); i++) {
            String p = ps.get(Math.min(i, ps.size() - 1));
            Kind k = kinds.get(i);
            if (p.equals("anyarray") && k != Kind.ARRAY && k != Kind.LITERAL) return false;
            if (p.equals("poly") && k == Kind.OTHER) return false;
        }
        return true;
    }

    /** An overload the arguments certainly cannot reach: an array where it takes none, or the reverse. */
    private static boolean excluded(Catalog.Routine r, List<Kind> kinds) {
        if (r.variadic()) return false;
        List<String> ps = r.params();
        for (int i = 0; i < kinds.size() && i < ps.size(); i++) {
            String p = ps.get(i);
            Kind k = kinds.get(i);
            if (k == Kind.ARRAY && p.equals("other")) return true;
            if (k == Kind.SCALAR && (p.equals("array") || p.equals("anyarray"))) return true;
        }
        return false;
    }

    private Kind kind(Expression e) {
        if (e instanceof SignedExpression) e = ((SignedExpression) e).getExpression();
        if (e instanceof LongValue || e instanceof DoubleValue) return Kind.SCALAR;
        if (e instanceof StringValue || e instanceof NullValue) return Kind.LITERAL;
        // in the template a literal reads '?' like a parameter: its slot tells them apart (a number or a string: no type)
        if (e instanceof JdbcParameter) return an.isLiteral((JdbcParameter) e) ? Kind.LITERAL : Kind.OTHER;
        if (e instanceof CastExpression) return castKind(((CastExpression) e).getColDataType());
        if (e instanceof ArrayConstructor) {
            ArrayConstructor ac = (ArrayConstructor) e;
            if (ac.getExpressions() == null || ac.getExpressions().isEmpty()) return Kind.OTHER;
            for (Expression x : ac.getExpressions()) if (kind(x) == Kind.OTHER) return Kind.OTHER;
            return Kind.ARRAY;
        }
        return Kind.OTHER;
    }

    /** A cast to a built-in scalar type or an array of one; OTHER for anything a user type could be. */
    private Kind castKind(ColDataType t) {
        if (t == null || t.getDataType() == null) return Kind.OTHER;
        List<String> path = an.path.schemas();
        int cat = path.indexOf("pg_catalog");
        for (int i = 0; i < cat; i++) if (!path.get(i).startsWith("pg_temp")) return Kind.OTHER; // a schema before pg_catalog may shadow
        String n = t.getDataType().trim().toLowerCase(Locale.ROOT);
        if (n.startsWith("\"")) return Kind.OTHER;
        boolean array = t.getArrayData() != null && !t.getArrayData().isEmpty();
        while (n.endsWith("[]")) {
            n = n.substring(0, n.length() - 2).trim();
            array = true;
        }
        if (n.startsWith("pg_catalog.")) n = n.substring("pg_catalog.".length());
        int paren = n.indexOf('(');
        if (paren >= 0) n = n.substring(0, paren).trim();
        n = n.replaceAll("\\s+", " ");
        if (!BUILTIN.contains(n)) return Kind.OTHER;
        return array ? Kind.ARRAY : Kind.SCALAR;
    }
}
