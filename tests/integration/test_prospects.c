/* /api/prospects as docs/api.md describes it: create, get, merge-patch, delete, validation,
 * uniqueness of id and email, and the list with search, industry and status filters, id order,
 * X-Total-Count and Link pagination. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(prospects, .init = setup, .fini = hr_cleanup, .timeout = 40);

static const char *FULL =
    "{\"id\":\"p-000001\",\"name\":\"Zoe Bianchi\",\"company\":\"Blue Learning SA\","
    "\"status\":\"researching\",\"industry\":\"Logistics\",\"lastContactDate\":\"2024-02-29\","
    "\"email\":\"zoe.bianchi@blue-learning-sa-1115.example\",\"title\":\"CTO\","
    "\"website\":\"https://blue-learning-sa-1115.example/\"}";

static const char *OPTIONAL[] = {"industry", "lastContactDate", "email", "title", "website", NULL};

static hr_resp_t *patch(const char *id, const char *body)
{
    return hr_req(gw, "PATCH", hr_fmt("/api/prospects/%s", id), NULL, body);
}

static hr_resp_t *del(const char *id)
{
    return hr_req(gw, "DELETE", hr_fmt("/api/prospects/%s", id), NULL, NULL);
}

static void assert_json_ct(hr_resp_t *r)
{
    const char *ct = hr_header(r, "Content-Type");
    cr_assert(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type is %s",
              ct ? ct : "(none)");
}

/* A ULID: 26 Crockford base32 characters (either case). */
static int is_ulid(const char *s)
{
    if (strlen(s) != 26) return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdefghjkmnpqrstvwxyz", tolower((unsigned char)*p))) return 0;
    return 1;
}

/* ---- create and get ----------------------------------------------------------------------- */

Test(prospects, create_full_returns_201_location_and_the_prospect)
{
    hr_resp_t *r = hr_post(gw, "/api/prospects", FULL);
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    assert_json_ct(r);
    const char *loc = hr_header(r, "Location");
    cr_assert_not_null(loc, "201 without Location");
    cr_assert_str_eq(loc, "/api/prospects/p-000001");
    json_t *want = hr_jparse(FULL);
    cr_assert(json_equal(hr_json(r), want), "created %s\nexpected %s", hr_describe(r), FULL);

    r = hr_get(gw, "/api/prospects/p-000001");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    assert_json_ct(r);
    cr_assert(json_equal(hr_json(r), want), "GET gave %s\nexpected %s", hr_describe(r), FULL);
}

Test(prospects, create_minimal_gets_generated_id_and_defaults)
{
    hr_resp_t *r = hr_post(gw, "/api/prospects", "{\"name\":\"Ada\",\"company\":\"Engines\"}");
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    json_t *p = hr_json(r);
    const char *id = hr_jstr(p, "id");
    cr_assert_not_null(id, "no id: %s", hr_describe(r));
    cr_assert(strncmp(id, "p-", 2) == 0 && is_ulid(id + 2), "id is not p-<ulid>: %s", id);
    cr_assert_str_eq(hr_header(r, "Location") ? hr_header(r, "Location") : "(none)",
                     hr_fmt("/api/prospects/%s", id));
    cr_assert_str_eq(hr_jstr(p, "name"), "Ada");
    cr_assert_str_eq(hr_jstr(p, "company"), "Engines");
    cr_assert_str_eq(hr_jstr(p, "status") ? hr_jstr(p, "status") : "(none)", "new",
                     "default status: %s", hr_describe(r));
    for (int i = 0; OPTIONAL[i]; i++)
        cr_assert(hr_jnull(p, OPTIONAL[i]), "%s should be null: %s", OPTIONAL[i], hr_describe(r));
    r = hr_get(gw, hr_fmt("/api/prospects/%s", id));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_equal(hr_json(r), p), "GET %s differs from the 201 body", hr_describe(r));

    /* generated ids are time-sortable: later ones sort after */
    char prev[64] = "";
    for (int i = 0; i < 20; i++) {
        json_t *q =
            hr_must_create(gw, "/api/prospects", hr_fmt("{\"name\":\"N%d\",\"company\":\"C\"}", i));
        const char *qid = hr_jstr(q, "id");
        cr_assert_not_null(qid);
        if (prev[0])
            cr_assert_lt(strcmp(prev, qid), 0, "id %s made after %s sorts before it", qid, prev);
        snprintf(prev, sizeof prev, "%s", qid);
    }

    /* Content-Type with a charset parameter; non-ASCII text and \\u escapes */
    r = hr_req(gw, "POST", "/api/prospects",
               (const char *[]){"Content-Type: application/json; charset=utf-8", NULL},
               "{\"name\":\"Émile Zoë Müller\",\"company\":\"ΣΟΦΙΑ 東京 \\u00e9\"}");
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "name"), "Émile Zoë Müller");
    cr_assert_str_eq(hr_jstr(hr_json(r), "company"), "ΣΟΦΙΑ 東京 é");

    /* docs/api.md: JSON bodies may also be sent as application/merge-patch+json */
    r = hr_req(gw, "POST", "/api/prospects",
               (const char *[]){"Content-Type: application/merge-patch+json", NULL},
               "{\"name\":\"Merge\",\"company\":\"Patch\"}");
    cr_assert_eq(r->status, 201, "POST as merge-patch+json: %s", hr_describe(r));
}

Test(prospects, duplicate_id_or_email_is_409)
{
    hr_must_create(gw, "/api/prospects", FULL);
    hr_resp_t *r = hr_post(gw, "/api/prospects",
                           "{\"id\":\"p-000001\",\"name\":\"Other\",\"company\":\"Other Co\"}");
    hr_assert_problem(r, 409, "conflict", NULL);
    /* the original is untouched */
    r = hr_get(gw, "/api/prospects/p-000001");
    cr_assert_str_eq(hr_jstr(hr_json(r), "name"), "Zoe Bianchi");

    /* email: unique among prospects, case-insensitively */
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-a\",\"name\":\"A\",\"company\":\"C\",\"email\":\"Ada@Example.COM\"}");
    r = hr_post(gw, "/api/prospects",
                "{\"id\":\"p-b\",\"name\":\"B\",\"company\":\"C\",\"email\":\"ada@example.com\"}");
    hr_assert_problem(r, 409, "conflict", NULL);
    r = hr_get(gw, "/api/prospects/p-b");
    hr_assert_problem(r, 404, "not-found", NULL);
    /* prospects without an email do not collide with each other */
    hr_must_create(gw, "/api/prospects", "{\"name\":\"X\",\"company\":\"C\"}");
    hr_must_create(gw, "/api/prospects", "{\"name\":\"Y\",\"company\":\"C\",\"email\":null}");
}

/* ---- validation --------------------------------------------------------------------------- */

static const char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    for (int i = 0; i < n; i++) memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    const char *out = hr_fmt("%s", s);
    free(s);
    return out;
}

typedef struct {
    const char *body;
    const char *field;
} bad_case_t;

Test(prospects, invalid_fields_are_400_naming_the_field)
{
    const char *n201 = repeat("a", 201), *i101 = repeat("b", 101), *id65 = repeat("x", 65);
    const char *long_email = hr_fmt("%s@example.com", repeat("e", 243));        /* 255 bytes */
    const char *long_url = hr_fmt("https://example.com/%s", repeat("u", 2029)); /* 2049 bytes */
    bad_case_t cases[] = {
        {"{\"company\":\"C\"}", "name"},
        {"{\"name\":\"N\"}", "company"},
        {"{\"name\":\"\",\"company\":\"C\"}", "name"},
        {hr_fmt("{\"name\":\"%s\",\"company\":\"C\"}", n201), "name"},
        {"{\"name\":42,\"company\":\"C\"}", "name"},
        {"{\"name\":{\"first\":\"A\"},\"company\":\"C\"}", "name"},
        {"{\"name\":null,\"company\":\"C\"}", "name"},
        {"{\"name\":\"N\",\"company\":\"\"}", "company"},
        {hr_fmt("{\"name\":\"N\",\"company\":\"%s\"}", n201), "company"},
        {"{\"name\":\"N\",\"company\":\"C\",\"status\":\"bogus\"}", "status"},
        {"{\"name\":\"N\",\"company\":\"C\",\"industry\":\"\"}", "industry"},
        {hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"industry\":\"%s\"}", i101), "industry"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2023-02-29\"}",
         "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2024-13-01\"}",
         "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2024-04-31\"}",
         "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2024-1-5\"}", "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"yesterday\"}", "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2024-01-05T10:00:00Z\"}",
         "lastContactDate"},
        {"{\"name\":\"N\",\"company\":\"C\",\"email\":\"not-an-email\"}", "email"},
        {"{\"name\":\"N\",\"company\":\"C\",\"email\":\"a@\"}", "email"},
        {"{\"name\":\"N\",\"company\":\"C\",\"email\":\"@b.example\"}", "email"},
        {hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"email\":\"%s\"}", long_email), "email"},
        {hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"title\":\"%s\"}", n201), "title"},
        {"{\"name\":\"N\",\"company\":\"C\",\"website\":\"ftp://files.example\"}", "website"},
        {"{\"name\":\"N\",\"company\":\"C\",\"website\":\"example.com\"}", "website"},
        {hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"website\":\"%s\"}", long_url), "website"},
        {"{\"id\":\"has space\",\"name\":\"N\",\"company\":\"C\"}", "id"},
        {"{\"id\":\"\",\"name\":\"N\",\"company\":\"C\"}", "id"},
        {"{\"id\":\"p/1\",\"name\":\"N\",\"company\":\"C\"}", "id"},
        {"{\"id\":\"ümlaut\",\"name\":\"N\",\"company\":\"C\"}", "id"},
        {hr_fmt("{\"id\":\"%s\",\"name\":\"N\",\"company\":\"C\"}", id65), "id"},
        {"{\"id\":7,\"name\":\"N\",\"company\":\"C\"}", "id"},
        {"{\"name\":\"N\",\"company\":\"C\",\"foo\":1}", "foo"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_resp_t *r = hr_post(gw, "/api/prospects", cases[i].body);
        cr_expect_eq(r->status, 400, "case %zu (%.120s): %s", i, cases[i].body, hr_describe(r));
        if (r->status != 400) continue;
        json_t *j = hr_json(r);
        const char *type = hr_jstr(j, "type"), *field = hr_jstr(j, "field");
        cr_expect(type && strstr(type, "/problems/invalid-field"), "case %zu: type %s", i,
                  hr_jdump(j));
        cr_expect(field && strcmp(field, cases[i].field) == 0,
                  "case %zu (%.120s): field should be \"%s\": %s", i, cases[i].body, cases[i].field,
                  hr_jdump(j));
    }
    /* none of them was stored */
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_array_size(hr_json(r)), 0, "rejected prospects were stored: %s",
                 hr_describe(r));
}

Test(prospects, limits_are_inclusive_and_counted_in_characters)
{
    const char *e200 = repeat("é", 200); /* 200 characters, 400 bytes */
    const char *id64 = repeat("Az0._-", 11);
    id64 = hr_fmt("%.64s", id64);
    const char *ok[] = {
        hr_fmt("{\"name\":\"%s\",\"company\":\"%s\"}", e200, e200),
        hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"title\":\"%s\"}", e200),
        hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"industry\":\"%s\"}", repeat("ü", 100)),
        hr_fmt("{\"id\":\"%s\",\"name\":\"N\",\"company\":\"C\"}", id64),
        "{\"name\":\"N\",\"company\":\"C\",\"title\":\"\"}",
        "{\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2024-02-29\"}",
        "{\"name\":\"N\",\"company\":\"C\",\"website\":\"http://plain.example\"}",
        hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"email\":\"%s@example.com\"}",
               repeat("e", 242)), /* 254 bytes */
        hr_fmt("{\"name\":\"N\",\"company\":\"C\",\"website\":\"https://example.com/%s\"}",
               repeat("u", 2028)), /* 2048 bytes */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hr_resp_t *r = hr_post(gw, "/api/prospects", ok[i]);
        cr_expect_eq(r->status, 201, "case %zu (%.100s...): %s", i, ok[i], hr_describe(r));
    }
    hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects/%s", id64));
    cr_assert_eq(r->status, 200, "64-character id: %s", hr_describe(r));
}

/* ---- patch -------------------------------------------------------------------------------- */

Test(prospects, patch_merges_and_null_clears)
{
    hr_must_create(gw, "/api/prospects", FULL);
    hr_resp_t *r = patch("p-000001", "{\"status\":\"contacted\",\"title\":null,"
                                     "\"lastContactDate\":\"2024-03-01\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    assert_json_ct(r);
    json_t *want = hr_jparse(FULL);
    json_object_set_new(want, "status", json_string("contacted"));
    json_object_set_new(want, "lastContactDate", json_string("2024-03-01"));
    json_t *got = hr_json(r);
    cr_assert(hr_jnull(got, "title"), "title not cleared: %s", hr_describe(r));
    json_t *cmp = json_deep_copy(got);
    json_object_del(cmp, "title");
    json_object_del(want, "title");
    int eq = json_equal(cmp, want);
    json_decref(cmp);
    cr_assert(eq, "after patch: %s\nexpected: %s (title null)", hr_describe(r), hr_jdump(want));

    hr_resp_t *g = hr_get(gw, "/api/prospects/p-000001");
    cr_assert(json_equal(hr_json(g), got), "GET after PATCH %s differs from the PATCH answer %s",
              hr_describe(g), hr_describe(r));

    /* docs/api.md: JSON bodies may also be sent as application/merge-patch+json */
    hr_resp_t *mp = hr_req(gw, "PATCH", "/api/prospects/p-000001",
                           (const char *[]){"Content-Type: application/merge-patch+json", NULL},
                           "{\"title\":\"CEO\"}");
    cr_assert_eq(mp->status, 200, "merge-patch+json: %s", hr_describe(mp));
    cr_assert_str_eq(hr_jstr(hr_json(mp), "title"), "CEO");
    mp = hr_req(gw, "PATCH", "/api/prospects/p-000001",
                (const char *[]){"Content-Type: application/merge-patch+json", NULL},
                "{\"title\":null}");
    cr_assert_eq(mp->status, 200, "%s", hr_describe(mp));
    /* an empty merge patch changes nothing */
    hr_resp_t *e = patch("p-000001", "{}");
    cr_assert_eq(e->status, 200, "%s", hr_describe(e));
    cr_assert(json_equal(hr_json(e), got), "PATCH {} changed it: %s", hr_describe(e));
}

Test(prospects, patch_validation_leaves_the_prospect_unchanged)
{
    hr_must_create(gw, "/api/prospects", FULL);
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-2\",\"name\":\"Other\",\"company\":\"C\",\"email\":\"other@x.example\"}");
    hr_assert_problem(patch("p-000001", "{\"status\":\"bogus\"}"), 400, "invalid-field", "status");
    hr_assert_problem(patch("p-000001", "{\"name\":null}"), 400, "invalid-field", "name");
    hr_assert_problem(patch("p-000001", "{\"company\":\"\"}"), 400, "invalid-field", "company");
    hr_assert_problem(patch("p-000001", "{\"lastContactDate\":\"2024-02-30\"}"), 400,
                      "invalid-field", "lastContactDate");
    hr_assert_problem(patch("p-000001", "{\"foo\":\"bar\"}"), 400, "invalid-field", "foo");
    /* a valid change next to an invalid one is not applied either */
    hr_assert_problem(patch("p-000001", "{\"title\":\"CEO\",\"website\":\"gopher://x\"}"), 400,
                      "invalid-field", "website");
    hr_assert_problem(patch("p-000001", "{\"email\":\"OTHER@x.example\"}"), 409, "conflict", NULL);
    /* the id cannot be changed: refused, or ignored; never a prospect moved to another id */
    hr_resp_t *r = patch("p-000001", "{\"id\":\"p-999\"}");
    cr_assert(r->status == 400 || r->status == 200, "%s", hr_describe(r));
    if (r->status == 200)
        cr_assert_str_eq(hr_jstr(hr_json(r), "id"), "p-000001", "PATCH changed the id");
    cr_assert_eq(hr_get(gw, "/api/prospects/p-999")->status, 404);
    r = hr_get(gw, "/api/prospects/p-000001");
    cr_assert(json_equal(hr_json(r), hr_jparse(FULL)), "changed by rejected patches: %s",
              hr_describe(r));
}

Test(prospects, patch_email_moves_the_uniqueness)
{
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"C\",\"email\":\"old@x.example\"}");
    hr_resp_t *r = patch("p-1", "{\"email\":\"new@x.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    /* the old address is free again, the new one is taken */
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-2\",\"name\":\"B\",\"company\":\"C\",\"email\":\"old@x.example\"}");
    r = hr_post(gw, "/api/prospects",
                "{\"id\":\"p-3\",\"name\":\"C\",\"company\":\"C\",\"email\":\"NEW@x.example\"}");
    hr_assert_problem(r, 409, "conflict", NULL);
    /* re-setting one's own email (other case) is not a conflict */
    r = patch("p-1", "{\"email\":\"New@X.example\"}");
    cr_assert_eq(r->status, 200, "own email in another case: %s", hr_describe(r));
    /* clearing it frees it */
    r = patch("p-1", "{\"email\":null}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(hr_jnull(hr_json(r), "email"));
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-4\",\"name\":\"D\",\"company\":\"C\",\"email\":\"new@x.example\"}");
}

/* ---- delete ------------------------------------------------------------------------------- */

Test(prospects, delete_is_204_then_404_and_frees_id_and_email)
{
    hr_must_create(gw, "/api/prospects", FULL);
    hr_resp_t *r = del("p-000001");
    cr_assert_eq(r->status, 204, "%s", hr_describe(r));
    cr_assert_eq(r->len, 0, "204 with a body: %s", r->body);
    hr_assert_problem(hr_get(gw, "/api/prospects/p-000001"), 404, "not-found", NULL);
    hr_assert_problem(del("p-000001"), 404, "not-found", NULL);
    r = hr_get(gw, "/api/prospects");
    cr_assert_eq(json_array_size(hr_json(r)), 0, "deleted prospect still listed: %s",
                 hr_describe(r));
    cr_assert_str_eq(hr_header(r, "X-Total-Count") ? hr_header(r, "X-Total-Count") : "-", "0");
    /* the same id and email can be used again */
    hr_must_create(gw, "/api/prospects", FULL);
    /* unknown ids */
    hr_assert_problem(hr_get(gw, "/api/prospects/p-nope"), 404, "not-found", NULL);
    hr_assert_problem(del("p-nope"), 404, "not-found", NULL);
    hr_assert_problem(patch("p-nope", "{\"status\":\"new\"}"), 404, "not-found", NULL);
}

/* ---- list: filters ------------------------------------------------------------------------ */

static const char *DATASET[] = {
    "{\"id\":\"p-l01\",\"name\":\"Hans Müller\",\"company\":\"Alpen "
    "AG\",\"industry\":\"Logistics\","
    "\"status\":\"new\",\"email\":\"hans@alpen.example\"}",
    "{\"id\":\"p-l02\",\"name\":\"Anna Schmidt\",\"company\":\"MÜLLER Spedition GmbH\","
    "\"industry\":\"LOGISTICS\",\"status\":\"contacted\",\"email\":\"anna@spedition.example\"}",
    "{\"id\":\"p-l03\",\"name\":\"Zoe Bianchi\",\"company\":\"Blue Learning SA\","
    "\"industry\":\"Education\",\"status\":\"researching\",\"email\":\"zoe@blue-learning."
    "example\"}",
    "{\"id\":\"p-l04\",\"name\":\"Émile Zola\",\"company\":\"Éditions Rougon\","
    "\"industry\":\"Publishing\",\"status\":\"contacted\",\"email\":\"emile@rougon.example\"}",
    "{\"id\":\"p-l05\",\"name\":\"Sofia Papadopoulou\",\"company\":\"ΣΟΦΙΑ Analytics\","
    "\"industry\":\"Finance\",\"status\":\"qualified\",\"email\":\"sofia@analytics.example\"}",
    "{\"id\":\"p-l06\",\"name\":\"John Smith\",\"company\":\"Acme Corp\","
    "\"industry\":\"Logistics Services\",\"status\":\"new\",\"email\":\"john@acme.example\"}",
    "{\"id\":\"p-l07\",\"name\":\"Jane Doe\",\"company\":\"Globex\",\"industry\":\"finance\","
    "\"status\":\"replied\",\"email\":\"jane.mueller@globex.example\"}",
    "{\"id\":\"p-l08\",\"name\":\"Max Mustermann\",\"company\":\"Beispiel GmbH\","
    "\"status\":\"disqualified\"}",
    "{\"id\":\"p-l09\",\"name\":\"Lena Müller-Lüdenscheidt\",\"company\":\"Acme Corp\","
    "\"industry\":\"Logistics\",\"status\":\"qualified\",\"email\":\"lena@acme.example\"}",
    NULL,
};

static void load_dataset(void)
{
    /* created out of id order on purpose: the list must come back ordered by id */
    int order[] = {8, 2, 5, 0, 7, 3, 1, 6, 4};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        hr_must_create(gw, "/api/prospects", DATASET[order[i]]);
}

/* GET /api/prospects?<query> must be 200 with exactly the ids in want (space-separated, in
 * order) and X-Total-Count equal to their number. */
static void expect_list(const char *query, const char *want)
{
    const char *path = hr_fmt("/api/prospects%s%s", *query ? "?" : "", query);
    hr_resp_t *r = hr_get(gw, path);
    json_t *arr = hr_json(r);
    if (r->status != 200 || !json_is_array(arr)) {
        cr_expect_fail("GET %s: expected 200 and an array, got %s", path, hr_describe(r));
        return;
    }
    char got[1024] = "";
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) {
        const char *id = hr_jstr(p, "id");
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s%s", l ? " " : "", id ? id : "?");
    }
    cr_expect_str_eq(got, want, "GET %s: got [%s], want [%s]", path, got, want);
    const char *total = hr_header(r, "X-Total-Count");
    const char *n = hr_fmt("%zu", json_array_size(arr));
    cr_expect(total && strcmp(total, n) == 0, "GET %s: X-Total-Count %s for %s items", path,
              total ? total : "(none)", n);
    cr_expect_null(hr_link_next(r), "GET %s: rel=next on the only page", path);
}

Test(prospects, list_everything_in_id_order)
{
    expect_list("", ""); /* empty store */
    load_dataset();
    expect_list("", "p-l01 p-l02 p-l03 p-l04 p-l05 p-l06 p-l07 p-l08 p-l09");
    /* the listed objects are the full prospects */
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    json_t *first = json_array_get(hr_json(r), 0);
    json_t *want = hr_jparse(DATASET[0]);
    json_object_set_new(want, "lastContactDate", json_null());
    json_object_set_new(want, "title", json_null());
    json_object_set_new(want, "website", json_null());
    json_t *cmp = json_deep_copy(first);
    json_t *w2 = json_deep_copy(want);
    for (int i = 0; OPTIONAL[i]; i++) {
        if (hr_jnull(cmp, OPTIONAL[i])) json_object_del(cmp, OPTIONAL[i]);
        if (hr_jnull(w2, OPTIONAL[i])) json_object_del(w2, OPTIONAL[i]);
    }
    int eq = json_equal(cmp, w2);
    json_decref(cmp);
    json_decref(w2);
    cr_assert(eq, "listed %s, expected %s", hr_jdump(first), hr_jdump(want));
}

Test(prospects, search_is_case_insensitive_over_name_company_email)
{
    load_dataset();
    expect_list("search=acme", "p-l06 p-l09");
    expect_list("search=ACME", "p-l06 p-l09");
    expect_list("search=acme.example", "p-l06 p-l09");
    expect_list("search=zoe", "p-l03");
    expect_list("search=BLUE%20LEARNING", "p-l03");
    expect_list("search=globex.example", "p-l07");
    expect_list("search=no-such-thing", "");
    /* Unicode case folding */
    const char *m = hr_urlenc("müller");
    /* name of l01 and l09, company of l02; not "mueller" in l07's email */
    expect_list(hr_fmt("search=%s", m), "p-l01 p-l02 p-l09");
    expect_list(hr_fmt("search=%s", hr_urlenc("MÜLLER")), "p-l01 p-l02 p-l09");
    expect_list(hr_fmt("search=%s", hr_urlenc("Müller")), "p-l01 p-l02 p-l09");
    expect_list(hr_fmt("search=%s", hr_urlenc("émile")), "p-l04");
    expect_list(hr_fmt("search=%s", hr_urlenc("ÉDITIONS")), "p-l04");
    expect_list(hr_fmt("search=%s", hr_urlenc("σοφια")), "p-l05");
    expect_list(hr_fmt("search=%s", hr_urlenc("lüdenscheidt")), "p-l09");
}

Test(prospects, industry_and_status_filters)
{
    load_dataset();
    expect_list("industry=logistics", "p-l01 p-l02 p-l09");
    expect_list("industry=Logistics,FINANCE", "p-l01 p-l02 p-l05 p-l07 p-l09");
    expect_list("industry=Logistic", "");
    expect_list(hr_fmt("industry=%s", hr_urlenc("logistics services")), "p-l06");
    expect_list("industry=education", "p-l03");
    /* status: a set of known statuses */
    expect_list("status=new", "p-l01 p-l06");
    expect_list("status=new,qualified", "p-l01 p-l05 p-l06 p-l09");
    expect_list("status=disqualified", "p-l08");
    expect_list("status=replied,researching,contacted", "p-l02 p-l03 p-l04 p-l07");
    /* filters combine */
    expect_list(hr_fmt("search=%s&industry=logistics&status=qualified", hr_urlenc("müller")),
                "p-l09");
    expect_list("search=acme&status=new", "p-l06");
    expect_list("industry=finance&status=new", "");
    /* an unknown status is an error, not an empty result */
    hr_assert_problem(hr_get(gw, "/api/prospects?status=bogus"), 400, "invalid-field", "status");
    hr_assert_problem(hr_get(gw, "/api/prospects?status=new,bogus"), 400, "invalid-field",
                      "status");
}

Test(prospects, list_follows_changes)
{
    load_dataset();
    expect_list("search=zoe", "p-l03");
    cr_assert_eq(patch("p-l03", "{\"name\":\"Chloe Bianchi\",\"email\":null}")->status, 200);
    expect_list("search=zoe", "");
    expect_list("search=chloe", "p-l03");
    cr_assert_eq(patch("p-l03", "{\"industry\":\"Finance\",\"status\":\"new\"}")->status, 200);
    expect_list("industry=finance&status=new", "p-l03");
    cr_assert_eq(del("p-l03")->status, 204);
    expect_list("search=chloe", "");
    expect_list("industry=finance", "p-l05 p-l07");
}

/* ---- list: pagination --------------------------------------------------------------------- */

/* Creates n prospects p-pg-NNN in a shuffled order; those with i % 3 != 0 are in industry
 * "Paging", the others in "Other". Returns the number in "Paging". */
static int load_pages(int n)
{
    int *order = malloc(sizeof *order * (size_t)n);
    for (int i = 0; i < n; i++) order[i] = i;
    unsigned seed = 12345;
    for (int i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 16) % (unsigned)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int paging = 0;
    for (int k = 0; k < n; k++) {
        int i = order[k];
        hr_must_create(gw, "/api/prospects",
                       hr_fmt("{\"id\":\"p-pg-%03d\",\"name\":\"Page %d\",\"company\":\"C\","
                              "\"industry\":\"%s\"}",
                              i, i, i % 3 ? "Paging" : "Other"));
        paging += i % 3 != 0;
    }
    free(order);
    return paging;
}

static void walk(const char *query, size_t limit, int n, int (*match)(int), int want_pages)
{
    int want = 0;
    for (int i = 0; i < n; i++) want += match(i);
    const char *url = hr_fmt("/api/prospects?%s", query);
    int pages = 0;
    char seen[1000] = {0};
    char prev[64] = "";
    int got = 0;
    while (url) {
        cr_assert_lt(pages, want + 2, "more pages than matches: the Link header loops");
        hr_resp_t *r = hr_get(gw, url);
        cr_assert_eq(r->status, 200, "GET %s: %s", url, hr_describe(r));
        json_t *arr = hr_json(r);
        cr_assert(json_is_array(arr));
        const char *total = hr_header(r, "X-Total-Count");
        cr_assert(total && atoi(total) == want, "GET %s: X-Total-Count %s, want %d", url,
                  total ? total : "(none)", want);
        cr_assert_leq(json_array_size(arr), limit, "GET %s: %zu items, limit %zu", url,
                      json_array_size(arr), limit);
        cr_assert(json_array_size(arr) > 0 || want == 0, "GET %s: an empty page", url);
        size_t i;
        json_t *p;
        json_array_foreach(arr, i, p) {
            const char *id = hr_jstr(p, "id");
            int k = -1;
            cr_assert(id && sscanf(id, "p-pg-%d", &k) == 1 && k >= 0 && k < n, "odd id %s", id);
            cr_assert(match(k), "GET %s returned %s, which does not match", url, id);
            cr_assert_not(seen[k], "%s returned twice (page %d)", id, pages + 1);
            seen[k] = 1;
            cr_assert_lt(strcmp(prev, id), 0, "%s after %s: not in id order", id, prev);
            snprintf(prev, sizeof prev, "%s", id);
            got++;
        }
        pages++;
        const char *next = hr_link_next(r);
        if (next) cr_assert_neq(strcmp(next, url), 0, "rel=next points at the same page");
        url = next;
    }
    cr_assert_eq(got, want, "walked %d matches, want %d", got, want);
    if (want_pages) cr_assert_eq(pages, want_pages, "%d pages, want %d", pages, want_pages);
}

static int is_paging(int i)
{
    return i % 3 != 0;
}

static int is_other(int i)
{
    return i % 3 == 0;
}

static int any(int i)
{
    (void)i;
    return 1;
}

Test(prospects, pagination_walks_every_match_once_in_id_order)
{
    int n = 47;
    int paging = load_pages(n); /* 31 of 47 */
    walk("industry=paging&limit=5", 5, n, is_paging, (paging + 4) / 5);
    walk("limit=10", 10, n, any, 5);
    walk("limit=1&industry=Paging", 1, n, is_paging, paging);
    walk("limit=1000", 1000, n, any, 1);
    /* 16 in "Other": an exact multiple of the limit has no trailing empty page */
    walk("industry=other&limit=4", 4, n, is_other, 4);
    walk("limit=47", 47, n, any, 1);
}

Test(prospects, default_limit_is_100)
{
    /* 105 prospects through the import route would mix features: create them one by one */
    for (int i = 0; i < 105; i++)
        hr_must_create(gw, "/api/prospects",
                       hr_fmt("{\"id\":\"p-d%03d\",\"name\":\"D\",\"company\":\"C\"}", i));
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_array_size(hr_json(r)), 100, "default page of %zu",
                 json_array_size(hr_json(r)));
    cr_assert_str_eq(hr_header(r, "X-Total-Count"), "105");
    const char *next = hr_link_next(r);
    cr_assert_not_null(next, "no rel=next with 5 more to come");
    r = hr_get(gw, next);
    cr_assert_eq(r->status, 200, "following %s: %s", next, hr_describe(r));
    cr_assert_eq(json_array_size(hr_json(r)), 5);
    cr_assert_str_eq(hr_jstr(json_array_get(hr_json(r), 0), "id"), "p-d100");
    cr_assert_null(hr_link_next(r));
}

Test(prospects, pagination_survives_deletes_between_pages)
{
    load_pages(20);
    hr_resp_t *r = hr_get(gw, "/api/prospects?limit=5");
    cr_assert_eq(r->status, 200);
    const char *next = hr_link_next(r);
    cr_assert_not_null(next);
    /* delete the last item of page 1 and the first of page 2 */
    cr_assert_eq(del("p-pg-004")->status, 204);
    cr_assert_eq(del("p-pg-005")->status, 204);
    r = hr_get(gw, next);
    cr_assert_eq(r->status, 200, "following a cursor after deletes: %s", hr_describe(r));
    json_t *arr = hr_json(r);
    cr_assert_gt(json_array_size(arr), 0);
    cr_assert_str_eq(hr_jstr(json_array_get(arr, 0), "id"), "p-pg-006",
                     "page 2 after deletes starts at %s", hr_describe(r));
}

Test(prospects, limit_out_of_bounds_is_400)
{
    const char *bad[] = {"limit=0", "limit=1001", "limit=-1", "limit=abc",
                         "limit=",  "limit=10x",  "limit=1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects?%s", bad[i]));
        cr_expect_eq(r->status, 400, "?%s: %s", bad[i], hr_describe(r));
        if (r->status == 400) hr_assert_problem(r, 400, "invalid-field", "limit");
    }
    cr_assert_eq(hr_get(gw, "/api/prospects?limit=1")->status, 200);
    cr_assert_eq(hr_get(gw, "/api/prospects?limit=1000")->status, 200);
}
