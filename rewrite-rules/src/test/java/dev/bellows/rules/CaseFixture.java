package dev.bellows.rules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The schema and rules every rewriter case runs against. */
final class CaseFixture {
    static final Migration LEADS = Migration.rename("leads-contact-email", "leads", "user_email", "contact_email", Phase.OFF);
    static final Migration ORDERS = Migration.typeChange("orders-status-code", "orders", "status", "status_code",
        "CASE status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 WHEN 'completed' THEN 3 WHEN 'cancelled' THEN 4 END",
        "CASE status_code WHEN 1 THEN 'pending' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed' WHEN 4 THEN 'cancelled' END",
        Phase.OFF);
    /** A type change whose up and down are declared inverse: legacy predicates use the new column's index. */
    static final Migration TICKETS = Migration.typeChange("tickets-priority-level", "tickets", "priority", "priority_level",
        "CASE priority WHEN 'low' THEN 1 WHEN 'high' THEN 2 END",
        "CASE priority_level WHEN 1 THEN 'low' WHEN 2 THEN 'high' END", Phase.OFF).withInverse(true);
    static final Migration ACCOUNTS = new Migration("sales-accounts-owner", "sales", "accounts", "owner", "owner_email",
        null, null, null, Phase.OFF, 0);

    /** Column removals: one whose reads give a value after the switch, one whose reads are refused once it is gone. */
    static final Migration CARDS_CODE = Migration.removal("cards-legacy-code", "cards", "legacy_code", "'n/a'", Phase.OFF);
    static final Migration CARDS_PRIORITY = Migration.removal("cards-priority", "cards", "priority", null, Phase.OFF);
    /** A column made NOT NULL: NULL writes get ''. */
    static final Migration NOTES_BODY = Migration.notNull("notes-body-not-null", "notes", "body", "''", Phase.OFF);
    static final Migration CUSTOMERS = Migration.tableRename("customers-clients", "customers", "clients", Phase.OFF);
    /** A split: people.name into first_name and last_name, and back (total: 'Ada', 'Ada Lovelace', ' x', NULL). */
    static final Migration PEOPLE = Migration.derived("people-split-name", "public", "people", List.of("name"),
        List.of("first_name", "last_name"),
        Map.of("first_name", "split_part(name, ' ', 1)",
               "last_name", "CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END"),
        Map.of("name", "CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END"),
        Map.of(), java.util.Set.of(), Phase.OFF, 0);
    /** A merge: members.given_name and family_name into one jsonb full_name, and back. */
    static final Migration MEMBERS = Migration.derived("members-merge-name", "public", "members",
        List.of("given_name", "family_name"), List.of("full_name"),
        Map.of("full_name", "jsonb_build_array(given_name, family_name)"),
        Map.of("given_name", "full_name ->> 0", "family_name", "full_name ->> 1"),
        Map.of("full_name", "jsonb"), java.util.Set.of(), Phase.OFF, 0);
    /** keep_from: posts.slug kept computed from title (which stays) and lang; never past expand. */
    static final Migration POSTS = Migration.derived("posts-slug", "public", "posts", List.of("title"), List.of("slug"),
        Map.of("slug", "lower(replace(title, ' ', '-')) || '.' || lang"), Map.of(), Map.of(), java.util.Set.of("lang"), Phase.OFF, 0);
    /** One into one with up and down reading another column of the row, which stays: items.rate. */
    static final Migration ITEMS = Migration.derived("items-amount-eur", "public", "items", List.of("amount_local"),
        List.of("amount_eur"), Map.of("amount_eur", "amount_local * rate"), Map.of("amount_local", "amount_eur / rate"),
        Map.of("amount_eur", "numeric"), java.util.Set.of("rate"), Phase.OFF, 0);

    /** Tables as they stand during the migration (both columns present). */
    static Map<String, List<String>> tables() {
        Map<String, List<String>> t = new LinkedHashMap<>();
        t.put("public.leads", List.of("id", "name", "user_email", "created_at", "contact_email"));
        t.put("public.orders", List.of("id", "lead_id", "status", "amount", "status_code"));
        t.put("public.users", List.of("id", "user_email", "name"));
        t.put("public.tickets", List.of("id", "title", "priority", "priority_level"));
        t.put("sales.accounts", List.of("id", "owner", "region", "owner_email"));
        t.put("public.leads_view", List.of("id", "user_email"));
        t.put("public.cards", List.of("id", "title", "legacy_code", "priority", "body"));
        t.put("public.notes", List.of("id", "title", "body"));
        t.put("public.customers", List.of("id", "name", "email", "region"));
        t.put("public.clients", List.of("id", "name", "email", "region")); // the view over customers, or the renamed table
        t.put("archive.leads", List.of("id", "user_email")); // not managed: found first when the path starts with archive
        t.put("public.people", List.of("id", "name", "age", "first_name", "last_name"));
        t.put("public.members", List.of("id", "given_name", "family_name", "email", "full_name"));
        t.put("public.items", List.of("id", "amount_local", "rate", "amount_eur"));
        t.put("public.posts", List.of("id", "title", "lang", "slug"));
        return t;
    }

    /**
     * The catalog in a given state: "both" (default), "dropped" (old columns gone), "recorded" (old columns
     * gone, the order before the drop recorded), "recreated" (old columns re-created last after the drop, the
     * order recorded), "before" (new ones not added).
     */
    static Catalog catalog(String state) {
        Map<String, List<String>> t = tables();
        if (state == null || state.equals("both")) return Catalog.of(t);
        if (state.equals("recreated")) {
            // after the drop, the way back re-created each old column: it came back last
            Map<String, List<String>> now = new LinkedHashMap<>(t);
            for (Migration m : List.of(LEADS, ORDERS, ACCOUNTS)) {
                List<String> cols = new ArrayList<>(t.get(m.qualifiedTable()));
                cols.remove(m.from());
                cols.add(m.from());
                now.put(m.qualifiedTable(), cols);
            }
            Map<String, List<String>> rec = new LinkedHashMap<>();
            for (Migration m : List.of(LEADS, ORDERS, ACCOUNTS)) rec.put(m.qualifiedTable(), t.get(m.qualifiedTable()));
            return Catalog.of(now, rec);
        }
        if (state.equals("recorded")) {
            Map<String, List<String>> rec = new LinkedHashMap<>();
            for (Migration m : List.of(LEADS, ORDERS, TICKETS, ACCOUNTS, CARDS_CODE)) rec.put(m.qualifiedTable(), t.get(m.qualifiedTable()));
            return Catalog.of(catalogMap("dropped"), rec);
        }
        return Catalog.of(catalogMap(state));
    }

    private static Map<String, List<String>> catalogMap(String state) {
        Map<String, List<String>> t = tables();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : t.entrySet()) {
            if (e.getKey().equals(state.equals("dropped") ? "public.customers" : "public.clients") && !state.equals("both")) continue;
            List<String> cols = new ArrayList<>(e.getValue());
            for (Migration m : List.of(LEADS, ORDERS, TICKETS, ACCOUNTS, CARDS_CODE, CARDS_PRIORITY, NOTES_BODY, PEOPLE, MEMBERS, ITEMS)) {
                if (!e.getKey().equals(m.qualifiedTable()) || m.to() == null && !(m.isRemoval() && state.equals("dropped"))) continue;
                cols.removeAll(state.equals("dropped") ? m.froms() : m.tos());
            }
            out.put(e.getKey(), cols);
        }
        return out;
    }

    static RuleSet rules(Phase p) {
        return RuleSet.of(LEADS.withPhase(p), ORDERS.withPhase(p), TICKETS.withPhase(p), ACCOUNTS.withPhase(p),
            CARDS_CODE.withPhase(p), CARDS_PRIORITY.withPhase(p), NOTES_BODY.withPhase(p), CUSTOMERS.withPhase(p),
            PEOPLE.withPhase(p), MEMBERS.withPhase(p), ITEMS.withPhase(p), POSTS.withPhase(p));
    }

    private CaseFixture() {}
}
