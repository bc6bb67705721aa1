/* Two gateways on one Redis: what one writes, the other serves within 1 s (get, list, search,
 * counts), deletes too, and uniqueness of ids and emails holds across both, also under races. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *ga, *gb;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    ga = hr_gateway_start(rd, NULL);
    gb = hr_gateway_start(rd, NULL);
}

TestSuite(two_gateways, .init = setup, .fini = hr_cleanup, .timeout = 40);

/* Polls GET path on g until it answers want_status (and, when body_has is given, the body contains
 * it); returns the ms it took or -1 after timeout_ms. */
static long until(const hr_gateway_t *g, const char *path, long want_status, const char *body_has,
                  int timeout_ms, hr_resp_t **last)
{
    uint64_t t0 = hr_now_ms();
    for (;;) {
        hr_resp_t *r = hr_get(g, path);
        if (last) *last = r;
        if (r->status == want_status && (!body_has || strstr(r->body, body_has)))
            return (long)(hr_now_ms() - t0);
        if (hr_now_ms() - t0 > (uint64_t)timeout_ms) return -1;
        hr_sleep_ms(10);
    }
}

/* Polls path on g until X-Total-Count is want; returns the last value seen ("(none)" if none). */
static const char *wait_total(const hr_gateway_t *g, const char *path, const char *want,
                              int timeout_ms)
{
    uint64_t t0 = hr_now_ms();
    const char *total = "(none)";
    do {
        hr_resp_t *r = hr_get(g, path);
        const char *t = hr_header(r, "X-Total-Count");
        total = t ? t : "(none)";
        if (strcmp(total, want) == 0) break;
        hr_sleep_ms(10);
    } while (hr_now_ms() - t0 < (uint64_t)timeout_ms);
    return total;
}

Test(two_gateways, create_on_one_is_served_by_the_other_within_1s)
{
    hr_must_create(ga, "/api/prospects",
                   "{\"id\":\"p-x1\",\"name\":\"Hans Müller\",\"company\":\"Alpen AG\","
                   "\"industry\":\"Logistics\",\"email\":\"hans@alpen.example\"}");
    hr_resp_t *r = NULL;
    long ms = until(gb, "/api/prospects/p-x1", 200, NULL, 1000, &r);
    cr_assert_geq(ms, 0, "B does not serve p-x1 within 1 s: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "name"), "Hans Müller");
    /* list, search and filters on B know it too */
    ms = until(gb, hr_fmt("/api/prospects?search=%s", hr_urlenc("müller")), 200, "p-x1", 1000, &r);
    cr_assert_geq(ms, 0, "B's search does not find p-x1 within 1 s: %s", hr_describe(r));
    ms = until(gb, "/api/prospects?industry=logistics", 200, "p-x1", 1000, &r);
    cr_assert_geq(ms, 0, "B's industry filter: %s", hr_describe(r));
    ms = until(gb, "/api/health", 200, "\"prospects\":1", 1000, &r);
    cr_assert_geq(ms, 0, "B's health count: %s", hr_describe(r));
}

Test(two_gateways, patch_on_one_is_served_by_the_other_within_1s)
{
    hr_must_create(ga, "/api/prospects",
                   "{\"id\":\"p-x2\",\"name\":\"Zoe\",\"company\":\"Blue\",\"status\":\"new\"}");
    cr_assert_geq(until(gb, "/api/prospects/p-x2", 200, NULL, 1000, NULL), 0);
    hr_resp_t *r = hr_req(ga, "PATCH", "/api/prospects/p-x2", NULL,
                          "{\"name\":\"Chloe\",\"status\":\"qualified\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    long ms = until(gb, "/api/prospects/p-x2", 200, "\"Chloe\"", 1000, &r);
    cr_assert_geq(ms, 0, "B still serves the old version after 1 s: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "status"), "qualified");
    ms = until(gb, "/api/prospects?status=qualified&search=chloe", 200, "p-x2", 1000, &r);
    cr_assert_geq(ms, 0, "B's filters after the patch: %s", hr_describe(r));
    r = hr_get(gb, "/api/prospects?search=zoe");
    cr_assert_eq(json_array_size(hr_json(r)), 0, "B's search still finds the old name: %s",
                 hr_describe(r));
}

Test(two_gateways, delete_on_one_is_gone_from_the_other_within_1s)
{
    hr_must_create(
        ga, "/api/prospects",
        "{\"id\":\"p-x3\",\"name\":\"Ada\",\"company\":\"Engines\",\"email\":\"ada@e.example\"}");
    cr_assert_geq(until(gb, "/api/prospects/p-x3", 200, NULL, 1000, NULL), 0);
    hr_resp_t *r = hr_req(gb, "DELETE", "/api/prospects/p-x3", NULL, NULL);
    cr_assert_eq(r->status, 204, "%s", hr_describe(r));
    long ms = until(ga, "/api/prospects/p-x3", 404, NULL, 1000, &r);
    cr_assert_geq(ms, 0, "A still serves p-x3 1 s after B deleted it: %s", hr_describe(r));
    ms = until(ga, "/api/prospects?search=ada", 200, "[]", 1000, &r);
    cr_assert_geq(ms, 0, "A's search still finds it: %s", hr_describe(r));
    /* the email is free again on both */
    hr_must_create(
        ga, "/api/prospects",
        "{\"id\":\"p-x4\",\"name\":\"Ada 2\",\"company\":\"E\",\"email\":\"ada@e.example\"}");
}

Test(two_gateways, uniqueness_holds_across_gateways)
{
    hr_must_create(ga, "/api/prospects",
                   "{\"id\":\"p-u1\",\"name\":\"A\",\"company\":\"C\",\"email\":\"u1@x.example\"}");
    /* immediately, without waiting for B to catch up */
    hr_assert_problem(
        hr_post(gb, "/api/prospects", "{\"id\":\"p-u1\",\"name\":\"B\",\"company\":\"C\"}"), 409,
        "conflict", NULL);
    hr_assert_problem(
        hr_post(gb, "/api/prospects",
                "{\"id\":\"p-u2\",\"name\":\"B\",\"company\":\"C\",\"email\":\"U1@x.example\"}"),
        409, "conflict", NULL);
}

typedef struct {
    const hr_gateway_t *g;
    const char *body;
    pthread_barrier_t *bar;
    long status;
} racer_t;

static void *race(void *p)
{
    racer_t *r = p;
    pthread_barrier_wait(r->bar);
    r->status = hr_post(r->g, "/api/prospects", r->body)->status;
    return NULL;
}

/* Posts body_a to A and body_b to B at the same instant; returns the two statuses. */
static void race_pair(const char *body_a, const char *body_b, long *sa, long *sb)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    racer_t a = {ga, body_a, &bar, 0}, b = {gb, body_b, &bar, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    *sa = a.status;
    *sb = b.status;
}

Test(two_gateways, racing_creates_of_one_id_make_one_prospect)
{
    for (int i = 0; i < 20; i++) {
        long sa, sb;
        race_pair(hr_fmt("{\"id\":\"p-race-%d\",\"name\":\"From A\",\"company\":\"C\"}", i),
                  hr_fmt("{\"id\":\"p-race-%d\",\"name\":\"From B\",\"company\":\"C\"}", i), &sa,
                  &sb);
        cr_assert((sa == 201 && sb == 409) || (sa == 409 && sb == 201),
                  "round %d: A answered %ld, B answered %ld (want one 201 and one 409)", i, sa, sb);
    }
    const char *t = wait_total(ga, "/api/prospects?limit=1", "20", 1000);
    cr_assert_str_eq(t, "20", "A counts %s prospects after 20 races", t);
}

Test(two_gateways, racing_creates_of_one_email_make_one_prospect)
{
    for (int i = 0; i < 20; i++) {
        long sa, sb;
        race_pair(
            hr_fmt(
                "{\"id\":\"p-ea-%d\",\"name\":\"A\",\"company\":\"C\",\"email\":\"r%d@x.example\"}",
                i, i),
            hr_fmt(
                "{\"id\":\"p-eb-%d\",\"name\":\"B\",\"company\":\"C\",\"email\":\"R%d@X.example\"}",
                i, i),
            &sa, &sb);
        cr_assert((sa == 201 && sb == 409) || (sa == 409 && sb == 201),
                  "round %d: A answered %ld, B answered %ld (want one 201 and one 409)", i, sa, sb);
    }
    const char *t = wait_total(gb, "/api/prospects?limit=1", "20", 1000);
    cr_assert_str_eq(t, "20", "B counts %s prospects after 20 races (two share an email?)", t);
}

Test(two_gateways, import_on_one_is_listed_by_the_other)
{
    const char *body = "";
    for (int i = 0; i < 50; i++)
        body = hr_fmt("%s{\"id\":\"p-imp-%02d\",\"name\":\"Imported %d\",\"company\":\"Bulk\"}\n",
                      body, i, i);
    hr_resp_t *r = hr_req(ga, "POST", "/api/prospects/import",
                          (const char *[]){"Content-Type: application/x-ndjson", NULL}, body);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    const char *total = wait_total(gb, "/api/prospects?search=bulk&limit=1", "50", 1000);
    cr_assert_str_eq(total, "50", "B counts %s of 50 after 1 s", total);
}

Test(two_gateways, campaigns_are_shared)
{
    hr_must_create(ga, "/api/campaigns", "{\"id\":\"c-shared\",\"name\":\"Shared\"}");
    hr_resp_t *r = NULL;
    cr_assert_geq(until(gb, "/api/campaigns/c-shared", 200, NULL, 1000, &r), 0,
                  "B does not serve the campaign: %s", hr_describe(r));
    cr_assert_geq(until(gb, "/api/campaigns", 200, "c-shared", 1000, &r), 0, "%s", hr_describe(r));
    hr_assert_problem(hr_post(gb, "/api/campaigns", "{\"id\":\"c-shared\",\"name\":\"Again\"}"),
                      409, "conflict", NULL);
}

Test(two_gateways, a_gateway_started_later_loads_existing_data)
{
    for (int i = 0; i < 30; i++)
        hr_must_create(ga, "/api/prospects",
                       hr_fmt("{\"id\":\"p-old-%02d\",\"name\":\"Old %d\",\"company\":\"C\","
                              "\"email\":\"old%d@x.example\"}",
                              i, i, i));
    hr_gateway_t *gc = hr_gateway_start(rd, NULL);
    hr_resp_t *r = hr_get(gc, "/api/prospects?search=old&limit=1000");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(hr_header(r, "X-Total-Count") ? hr_header(r, "X-Total-Count") : "-", "30",
                     "a new gateway serves %zu of 30 existing prospects",
                     json_array_size(hr_json(r)));
    hr_assert_problem(hr_post(gc, "/api/prospects",
                              "{\"name\":\"N\",\"company\":\"C\",\"email\":\"OLD7@x.example\"}"),
                      409, "conflict", NULL);
}
