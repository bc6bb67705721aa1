/* The gateway reads what workers say about themselves only from their status records
 * (<prefix>worker:<id>:status, contract in docs/redis-keys.md), never from a worker's private
 * keys: /api/health, /metrics, /api/workers and generate's 503 follow the llm worker's breaker
 * fields there. A live worker's record is written by the worker alone: the test asks a real
 * prospect-test-worker (service llm) to publish breaker fields with a task (mode "status": it
 * calls pa_worker_set_status, and the runtime publishes at its next heartbeat). Only the record
 * of a worker that is gone is written by the test. */
#include <criterion/criterion.h>
#include <string.h>

#include "../llm-server/llm_fixture.h"
#include "pa_redis.h"
#include "pa_time.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static pa_redis_t *rc;

static void init(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    char err[256];
    rc = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(rc, "%s", err);
}

static void fini(void)
{
    pa_redis_destroy(&rc);
    lf_cleanup();
}

TestSuite(worker_status, .init = init, .fini = fini, .timeout = 60);

static void cmd(const char *fmt, const char *a, const char *b)
{
    redisReply *r = pa_redis_cmd(rc, fmt, a, b);
    cr_assert(r && r->type != REDIS_REPLY_ERROR, "%s failed", fmt);
    freeReplyObject(r);
}

/* A record left by a worker that is gone, with the llm worker's breaker fields. */
static void write_status(const char *id, const char *state, long long open_for_ms)
{
    char until[32], now[32];
    snprintf(until, sizeof until, "%llu",
             (unsigned long long)(pa_wall_ms() + (uint64_t)open_for_ms));
    snprintf(now, sizeof now, "%llu", (unsigned long long)pa_wall_ms());
    redisReply *r = pa_redis_cmd(
        rc,
        "HSET pa:worker:%s:status service llm version test capacity 8 held 0 started_ms %s "
        "updated_ms %s breaker_state %s breaker_provider openai breaker_model gpt-test "
        "breaker_failures 3 breaker_open_until_ms %s",
        id, now, now, state, open_for_ms > 0 ? until : "0");
    cr_assert(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
}

/* The breaker fields the llm worker publishes, as the variables of a "status" task. */
static const char *breaker_vars(const char *state, long long open_for_ms)
{
    unsigned long long until = open_for_ms > 0 ? pa_wall_ms() + (uint64_t)open_for_ms : 0;
    return hr_fmt("{\"test\":\"status\",\"status.breaker_state\":\"%s\","
                  "\"status.breaker_provider\":\"openai\",\"status.breaker_model\":\"gpt-test\","
                  "\"status.breaker_failures\":\"3\",\"status.breaker_open_until_ms\":\"%llu\"}",
                  state, until);
}

/* Has the live test worker publish its breaker in state (a one-task compose run whose task sets
 * the fields), then waits until /api/health shows it. */
static void publish_breaker(const char *state, long long open_for_ms)
{
    const char *jid =
        lf_run(gw, hr_fmt("{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\",\"email\":"
                          "\"s@x.example\"},\"targets\":[{\"url\":\"s.example\",\"variables\":%s}],"
                          "\"options\":{\"enrich\":false,\"stages\":[\"compose\"]}}",
                          breaker_vars(state, open_for_ms)));
    lf_wait_completed(gw, jid, 10000);
    uint64_t deadline = hr_now_ms() + 3000;
    for (;;) {
        json_t *h = hr_json(hr_get(gw, "/api/health"));
        json_t *b = json_array_get(json_object_get(json_object_get(h, "llm"), "breakers"), 0);
        const char *st = hr_jstr(b, "state");
        if (st && strcmp(st, state) == 0) return;
        cr_assert_lt(hr_now_ms(), deadline, "the worker did not publish breaker %s: %s", state,
                     hr_jdump(h));
        hr_sleep_ms(20);
    }
}

static void start_llm_test_worker(void)
{
    lf_worker(LF_TEST_WORKER_BIN, "llm-test", rd, gw,
              (const char *[]){"TEST_WORKER_SERVICE=llm", "TEST_WORKER_MODE=ok", NULL});
    lf_wait_worker(gw);
}

Test(worker_status, health_metrics_and_workers_report_an_open_breaker_from_the_status_record)
{
    start_llm_test_worker();
    json_t *h = hr_json(hr_get(gw, "/api/health"));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 0, "%s", hr_jdump(h));
    publish_breaker("open", 30000);
    hr_resp_t *r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    h = hr_json(r);
    cr_assert_str_eq(hr_jstr(h, "status"), "degraded", "%s", hr_jdump(h));
    json_t *llm = json_object_get(h, "llm");
    cr_assert_eq(hr_jint(llm, "breakers_open", -1), 1, "%s", hr_jdump(h));
    json_t *b = json_array_get(json_object_get(llm, "breakers"), 0);
    cr_assert_str_eq(hr_jstr(b, "worker"), "llm-test");
    cr_assert_str_eq(hr_jstr(b, "provider"), "openai");
    cr_assert_str_eq(hr_jstr(b, "model"), "gpt-test");
    cr_assert_str_eq(hr_jstr(b, "state"), "open");
    cr_assert_eq(hr_jint(b, "failures", -1), 3);
    cr_assert_gt(hr_jint(b, "retry_in_ms", -1), 20000);
    const char *m = lf_metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_llm_breaker_state{worker=\"llm-test\",provider=\"openai\"}"), 2,
                 "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_breaker_failures{worker=\"llm-test\",provider=\"openai\"}"),
                 3);
    cr_assert_eq(lf_metric(m, "pa_llm_breakers_open"), 1);
    json_t *w = json_array_get(json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers"), 0);
    cr_assert_str_eq(hr_jstr(json_object_get(w, "status"), "breaker_state"), "open", "%s",
                     hr_jdump(w));
    /* closed again: health is ok */
    publish_breaker("closed", 0);
    h = hr_json(hr_get(gw, "/api/health"));
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 0);
    lf_finish();
}

Test(worker_status, generate_is_503_at_once_when_every_llm_workers_breaker_is_open)
{
    start_llm_test_worker();
    publish_breaker("open", 7000);
    hr_resp_t *r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"hi\"}");
    hr_assert_problem(r, 503, "llm-unavailable", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra && atoi(ra) >= 5 && atoi(ra) <= 7, "Retry-After %s", ra ? ra : "(none)");
    /* half-open: a probe may go through */
    publish_breaker("half_open", 0);
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"hi\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "output"), "test: hi");
    lf_finish();
}

Test(worker_status, a_workers_private_breaker_keys_are_not_read)
{
    start_llm_test_worker();
    char until[32];
    snprintf(until, sizeof until, "%llu", (unsigned long long)(pa_wall_ms() + 60000));
    cmd("ZADD pa:llm:breakers %s %s", until, "llm-test");
    redisReply *x = pa_redis_cmd(rc,
                                 "HSET pa:llm:breaker:llm-test state open provider openai "
                                 "failures 9 open_until_ms %s",
                                 until);
    freeReplyObject(x);
    json_t *h = hr_json(hr_get(gw, "/api/health"));
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 0, "%s", hr_jdump(h));
    cr_assert_eq(hr_post(gw, "/api/llm/generate", "{\"prompt\":\"hi\"}")->status, 200);
    lf_finish();
}

Test(worker_status, a_record_of_a_worker_that_is_gone_is_not_reported)
{
    write_status("llm-gone", "open", 60000);
    json_t *h = hr_json(hr_get(gw, "/api/health"));
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 0, "%s", hr_jdump(h));
}
