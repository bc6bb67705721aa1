/* GET /api/health: 200 ok while Redis is up, 503 degraded (redis down, Retry-After) within 3 s
 * of Redis going away while the gateway keeps answering, 200 again within 5 s of Redis coming
 * back; API routes answer 503 unavailable meanwhile. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(health, .init = setup, .fini = hr_cleanup, .timeout = 40);

static void assert_healthy(hr_resp_t *r)
{
    cr_assert_eq(r->status, 200, "GET /api/health: %s", hr_describe(r));
    const char *ct = hr_header(r, "Content-Type");
    cr_assert(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type %s", ct ? ct : "-");
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "not a JSON object: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "status") ? hr_jstr(j, "status") : "(none)", "ok", "%s",
                     hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "redis") ? hr_jstr(j, "redis") : "(none)", "up", "%s",
                     hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "store") ? hr_jstr(j, "store") : "(none)", "loaded", "%s",
                     hr_describe(r));
}

Test(health, ok_with_redis_up_version_and_uptime)
{
    hr_resp_t *r = hr_get(gw, "/api/health");
    assert_healthy(r);
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "version") ? hr_jstr(j, "version") : "(none)", PA_VERSION,
                     "version: %s", hr_describe(r));
    json_t *up = json_object_get(j, "uptime_s");
    cr_assert(json_is_integer(up), "uptime_s is not an integer: %s", hr_describe(r));
    cr_assert(json_integer_value(up) >= 0 && json_integer_value(up) <= 60,
              "uptime_s of a gateway started just now is %lld", (long long)json_integer_value(up));
}

Test(health, uptime_advances)
{
    long long u0 = hr_jint(hr_json(hr_get(gw, "/api/health")), "uptime_s", -1);
    hr_sleep_ms(2100);
    long long u1 = hr_jint(hr_json(hr_get(gw, "/api/health")), "uptime_s", -1);
    cr_assert_geq(u0, 0);
    cr_assert(u1 >= u0 + 1 && u1 <= u0 + 4, "uptime_s went from %lld to %lld in 2.1 s", u0, u1);
}

Test(health, counts_prospects)
{
    hr_resp_t *r = hr_get(gw, "/api/health");
    assert_healthy(r);
    cr_assert_eq(hr_jint(hr_json(r), "prospects", -1), 0, "empty store: %s", hr_describe(r));
    hr_must_create(gw, "/api/prospects", "{\"name\":\"Ada Lovelace\",\"company\":\"Engines Ltd\"}");
    hr_must_create(gw, "/api/prospects", "{\"name\":\"Alan Turing\",\"company\":\"Bletchley\"}");
    r = hr_get(gw, "/api/health");
    cr_assert_eq(hr_jint(hr_json(r), "prospects", -1), 2, "after 2 creates: %s", hr_describe(r));
}

Test(health, ignores_a_query_string)
{
    /* monitoring probes often add a cache-busting query string */
    hr_resp_t *r = hr_get(gw, "/api/health?probe=1");
    assert_healthy(r);
}

/* Polls health until it has the given status; returns ms waited, or -1. Asserts every poll gets
 * an answer quickly (the gateway keeps serving while Redis is away). */
static long wait_health(long status, int timeout_ms, hr_resp_t **last)
{
    uint64_t t0 = hr_now_ms();
    for (;;) {
        hr_resp_t *r = hr_get(gw, "/api/health");
        *last = r;
        cr_assert_gt(r->status, 0, "the gateway stopped answering: %s", r->err);
        cr_assert_lt(r->seconds, 2.5, "GET /api/health took %.2f s", r->seconds);
        if (r->status == status) return (long)(hr_now_ms() - t0);
        if (hr_now_ms() - t0 > (uint64_t)timeout_ms) return -1;
        hr_sleep_ms(50);
    }
}

Test(health, degraded_while_redis_is_down_then_recovers)
{
    assert_healthy(hr_get(gw, "/api/health"));
    hr_redis_stop(rd);

    hr_resp_t *r = NULL;
    long waited = wait_health(503, 3000, &r);
    cr_assert_geq(waited, 0, "not 503 within 3 s of redis stopping; last: %s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "503 body is not JSON: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "status") ? hr_jstr(j, "status") : "(none)", "degraded", "%s",
                     hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "redis") ? hr_jstr(j, "redis") : "(none)", "down", "%s",
                     hr_describe(r));
    cr_assert_not_null(hr_header(r, "Retry-After"), "503 health without Retry-After");

    /* it keeps answering, and keeps saying so, for a while */
    for (int i = 0; i < 10; i++) {
        r = hr_get(gw, "/api/health");
        cr_assert_eq(r->status, 503, "poll %d with redis down: %s", i, hr_describe(r));
        cr_assert_lt(r->seconds, 2.5);
        hr_sleep_ms(100);
    }

    hr_redis_restart(rd);
    waited = wait_health(200, 5000, &r);
    cr_assert_geq(waited, 0, "not 200 within 5 s of redis restarting; last: %s", hr_describe(r));
    assert_healthy(r);
}

static void stop_redis_and_wait_degraded(void)
{
    hr_redis_stop(rd);
    hr_resp_t *r = NULL;
    cr_assert_geq(wait_health(503, 3000, &r), 0, "health never went 503: %s", hr_describe(r));
}

static void assert_unavailable(hr_resp_t *r, const char *what)
{
    cr_assert_eq(r->status, 503, "%s with redis down: expected 503, got %s", what, hr_describe(r));
    hr_assert_problem(r, 503, "unavailable", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert_not_null(ra, "%s: 503 without Retry-After", what);
    cr_assert(strspn(ra, "0123456789") == strlen(ra) && strlen(ra) > 0,
              "%s: Retry-After is not delay-seconds: %s", what, ra);
    cr_assert_lt(r->seconds, 2.5, "%s took %.2f s with redis down", what, r->seconds);
}

Test(health, writes_answer_503_unavailable_while_redis_is_down)
{
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    stop_redis_and_wait_degraded();
    assert_unavailable(hr_post(gw, "/api/prospects", "{\"name\":\"A\",\"company\":\"B\"}"),
                       "POST /api/prospects");
    assert_unavailable(hr_req(gw, "PATCH", "/api/prospects/p-1", NULL, "{\"status\":\"replied\"}"),
                       "PATCH /api/prospects/p-1");
    assert_unavailable(hr_req(gw, "DELETE", "/api/prospects/p-1", NULL, NULL),
                       "DELETE /api/prospects/p-1");
    assert_unavailable(hr_req(gw, "POST", "/api/prospects/import",
                              (const char *[]){"Content-Type: application/x-ndjson", NULL},
                              "{\"name\":\"A\",\"company\":\"B\"}\n"),
                       "POST /api/prospects/import");
    assert_unavailable(hr_post(gw, "/api/campaigns", "{\"name\":\"Q1\"}"), "POST /api/campaigns");
}

Test(health, prospect_reads_are_served_from_memory_while_redis_is_down)
{
    /* docs/api.md and docs/architecture.md: while Redis is down the gateway answers prospect
     * reads from its mirror, and everything that needs Redis (writes, campaigns) is 503 with
     * Retry-After. */
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    stop_redis_and_wait_degraded();
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    cr_assert_eq(r->status, 200, "GET /api/prospects with redis down: %s", hr_describe(r));
    cr_assert_eq(json_array_size(hr_json(r)), 1, "the mirror lost the prospect: %s",
                 hr_describe(r));
    r = hr_get(gw, "/api/prospects/p-1");
    cr_assert_eq(r->status, 200, "GET /api/prospects/p-1 with redis down: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "name"), "A");
    assert_unavailable(hr_post(gw, "/api/prospects", "{\"name\":\"B\",\"company\":\"C\"}"),
                       "POST /api/prospects");
    assert_unavailable(hr_get(gw, "/api/campaigns"), "GET /api/campaigns");
}

Test(health, writes_work_again_after_redis_returns)
{
    stop_redis_and_wait_degraded();
    hr_redis_restart(rd);
    hr_resp_t *r = NULL;
    cr_assert_geq(wait_health(200, 5000, &r), 0, "not healthy within 5 s: %s", hr_describe(r));
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-after\",\"name\":\"A\",\"company\":\"B\"}");
    r = hr_get(gw, "/api/prospects/p-after");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
}

Test(health, never_says_redis_down_while_redis_is_up)
{
    /* docs/api.md: 503 while Redis is unreachable ("redis":"down") or the index is still loading
     * ("store":"loading"). With Redis up the whole time, a loading gateway may be 503 but must
     * not report "redis":"down". */
    hr_cleanup();
    rd = hr_redis_start(NULL);
    gw = hr_gateway_spawn(rd, NULL);
    uint64_t t0 = hr_now_ms();
    int answers = 0;
    while (hr_now_ms() - t0 < 1500) {
        hr_resp_t *r = hr_get(gw, "/api/health");
        if (r->status == 0) { /* not listening yet */
            cr_assert_not(hr_gateway_wait_exit(gw, 0), "the gateway exited: %s",
                          hr_gateway_output(gw));
            hr_sleep_ms(2);
            continue;
        }
        answers++;
        const char *redis = hr_jstr(hr_json(r), "redis");
        /* "starting" before the gateway's first contact with Redis (a loaded machine can
         * answer HTTP first), "up" after; never "down" */
        cr_assert(redis && (strcmp(redis, "up") == 0 || strcmp(redis, "starting") == 0),
                  "redis is up but health answer %d says: %s", answers, hr_describe(r));
        hr_sleep_ms(2);
    }
    cr_assert_gt(answers, 0, "no answer within 1.5 s");
}

Test(health, data_survives_redis_restart_with_aof)
{
    /* with AOF on, a prospect created before a redis restart is served after it */
    hr_cleanup();
    hr_redis_opts_t o = {.appendonly = 1};
    rd = hr_redis_start(&o);
    gw = hr_gateway_start(rd, NULL);
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-aof-1\",\"name\":\"Grace Hopper\",\"company\":\"Navy\"}");
    hr_sleep_ms(1100); /* appendfsync everysec */
    hr_redis_stop(rd);
    hr_redis_restart(rd);
    hr_resp_t *r = NULL;
    uint64_t t0 = hr_now_ms();
    do {
        r = hr_get(gw, "/api/prospects/p-aof-1");
        if (r->status == 200) break;
        hr_sleep_ms(50);
    } while (hr_now_ms() - t0 < 5000);
    cr_assert_eq(r->status, 200, "not served within 5 s of the restart: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "name"), "Grace Hopper");
}
