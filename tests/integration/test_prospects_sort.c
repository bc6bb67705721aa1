/* GET /api/prospects?sort=: every sort key, ascending and descending, followed page by page
 * through the Link header, against a real gateway and Redis: the rows come in the documented order
 * (the value case-insensitively, nulls last in both directions, ties by id), every match exactly
 * once across pages, with filters and search too; a bad sort or a cursor of another sort is a 400
 * naming the field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

#define N 40

static hr_redis_t *rd;
static hr_gateway_t *gw;

static const char *names[] = {"ada", "Bob", "carla", "Dmitri", "eve", "Ada", "zoe", "Émile"};
static const char *companies[] = {"Acme", "acme", "Globex", "Initech", "Umbrella"};
static const char *industries[] = {"SaaS", "Retail", NULL, "Finance"};
static const char *statuses[] = {"new", "contacted", "qualified", "disqualified"};

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
    for (int i = 0; i < N; i++) {
        const char *ind = industries[i % 4];
        const char *last = i % 3 == 0 ? NULL : hr_fmt("2026-0%d-1%d", 1 + i % 9, i % 10);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", hr_fmt("p-%03d", (i * 17) % N),
                              "name", names[i % 8], "company", companies[i % 5], "status",
                              statuses[i % 4], "email", hr_fmt("p%d@example.com", i));
        json_object_set_new(p, "industry", ind ? json_string(ind) : json_null());
        json_object_set_new(p, "lastContactDate", last ? json_string(last) : json_null());
        hr_must_create(gw, "/api/prospects", hr_jdump(hr_jkeep(p)));
    }
}

TestSuite(prospects_sort, .init = setup, .fini = hr_cleanup, .timeout = 60);

static const char *field;
static int desc;

/* The documented order, computed here. */
static int cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *vx = hr_jstr(x, field), *vy = hr_jstr(y, field);
    if (!vx != !vy) return vx ? -1 : 1; /* nulls last, whatever the direction */
    int c = 0;
    if (vx) {
        c = strcasecmp(vx, vy);
        if (!c) c = strcmp(vx, vy);
    }
    if (!c) c = strcmp(hr_jstr(x, "id"), hr_jstr(y, "id"));
    return desc ? -c : c;
}

static void check(const char *query, const char *f, int d)
{
    field = f, desc = d;
    int pages = 0;
    json_t *got = hr_get_all_pages(
        gw, hr_fmt("/api/prospects?limit=7&sort=%s%s%s", d ? "-" : "", f, query), 7, &pages);
    /* what the same filters match, in id order, sorted here */
    json_t *want = hr_get_all_pages(gw, hr_fmt("/api/prospects?limit=1000%s", query), 0, NULL);
    size_t n = json_array_size(want);
    cr_assert_eq(json_array_size(got), n, "sort=%s%s%s: %zu rows, %zu match", d ? "-" : "", f,
                 query, json_array_size(got), n);
    json_t **v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = json_array_get(want, i);
    qsort(v, n, sizeof *v, cmp);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(hr_jstr(json_array_get(got, i), "id"), hr_jstr(v[i], "id"),
                         "sort=%s%s%s: row %zu", d ? "-" : "", f, query, i);
    free(v);
    cr_expect_eq(pages, (int)((n + 6) / 7) + (n == 0), "pages for %zu rows", n);
}

Test(prospects_sort, every_key_both_ways_across_pages)
{
    const char *keys[] = {"name", "company", "status", "industry", "lastContactDate", "id"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        check("", keys[k], 0);
        check("", keys[k], 1);
    }
}

Test(prospects_sort, with_filters_and_search)
{
    check("&status=new,disqualified", "name", 0);
    check("&industry=saas,finance", "lastContactDate", 1);
    check("&search=acme", "industry", 0);
    check("&search=acme&status=contacted", "name", 1);
    check("&search=nothing-matches-this", "name", 0);
}

Test(prospects_sort, bad_sorts_and_foreign_cursors_are_400)
{
    hr_assert_problem(hr_get(gw, "/api/prospects?sort=email"), 400, "invalid-field", "sort");
    hr_assert_problem(hr_get(gw, "/api/prospects?sort=--name"), 400, "invalid-field", "sort");
    cr_expect_eq(hr_get(gw, "/api/prospects?sort=")->status, 200); /* empty: the default */
    /* a sorted page's cursor carries its sort value: not usable without that sort, and an
     * id-order cursor is not usable with a sort */
    hr_resp_t *r = hr_get(gw, "/api/prospects?limit=5&sort=name");
    const char *next = hr_link_next(r);
    cr_assert_not_null(next, "%s", hr_describe(r));
    const char *c = strstr(next, "cursor=");
    cr_assert_not_null(c, "%s", next);
    const char *cur = hr_fmt("%.*s", (int)strcspn(c + 7, "&>"), c + 7);
    hr_assert_problem(hr_get(gw, hr_fmt("/api/prospects?limit=5&cursor=%s", cur)), 400,
                      "invalid-field", "cursor");
    cr_expect_eq(hr_get(gw, hr_fmt("/api/prospects?limit=5&sort=name&cursor=%s", cur))->status,
                 200);
    r = hr_get(gw, "/api/prospects?limit=5");
    c = strstr(hr_link_next(r), "cursor=");
    cur = hr_fmt("%.*s", (int)strcspn(c + 7, "&>"), c + 7);
    hr_assert_problem(hr_get(gw, hr_fmt("/api/prospects?limit=5&sort=-company&cursor=%s", cur)),
                      400, "invalid-field", "cursor");
}
