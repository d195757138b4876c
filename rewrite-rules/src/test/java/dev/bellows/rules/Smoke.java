package dev.bellows.rules;

public class Smoke {
    public static void main(String[] a) {
        Phase p = Phase.parse(a[0]);
        Rewriter rw = Rewriter.create(CaseFixture.rules(p), CaseFixture.catalog(a.length > 2 ? a[2] : "both"));
        System.out.println(rw.rewrite(a[1]));
    }
}
