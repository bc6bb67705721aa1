/* The llm worker's circuit breaker through the real gateway, Redis, prospect-llm-worker and the
 * Node test server: it opens after LLM_BREAKER_FAILURES consecutive provider failures (the
 * server stops receiving requests while compose tasks fall back with the breaker as reason and
 * generate answers 503 with Retry-After), /metrics and /api/health show it, it turns half-open
 * after LLM_BREAKER_COOLDOWN_MS, and one successful probe closes it. Skipped without node. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

/* The worker publishes its breaker in its status record (breaker_* fields) at each heartbeat;
 * the gateway reads it from there. */
static const char *metrics(const hr_gateway_t *gw)
{
    return lf_metrics(gw);
}

static hr_resp_t *get_health(const hr_gateway_t *gw)
{
    return hr_get(gw, "/api/health");
}

TestSuite(llm_circuit_breaker, .fini = lf_cleanup, .timeout = 60);

/* GET /api/health, asserting 200; its llm.breakers[0] in *b (NULL when none). */
static json_t *health(const hr_gateway_t *gw, json_t **b)
{
    hr_resp_t *r = get_health(gw);
    cr_assert_eq(r->status, 200, "GET /api/health: %s", hr_describe(r));
    json_t *j = hr_json(r);
    *b = json_array_get(json_object_get(json_object_get(j, "llm"), "breakers"), 0);
    return j;
}

/* Polls health until the worker's breaker is in state; returns the health answer. */
static json_t *wait_state(const hr_gateway_t *gw, const char *state, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        json_t *b, *h = health(gw, &b);
        const char *st = hr_jstr(b, "state");
        if (st && strcmp(st, state) == 0) return h;
        cr_assert_lt(hr_now_ms(), deadline, "the breaker is not %s after %d ms: %s", state,
                     timeout_ms, hr_jdump(h));
        hr_sleep_ms(50);
    }
}

#define MARKER "503;times=3;id=br"

Test(llm_circuit_breaker, opens_after_failures_fails_fast_and_a_probe_closes_it)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_proc_t *llm = lf_provider_worker(
        rd, gw, srv, "openai", NULL,
        (const char *[]){"LLM_BREAKER_FAILURES=3", "LLM_BREAKER_COOLDOWN_MS=3000",
                         "LLM_CONCURRENCY=1", "LLM_CACHE_TTL_S=0", NULL});
    json_t *h = wait_state(gw, "closed", 5000);
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "%s", hr_jdump(h));
    cr_assert_eq(
        lf_metric(metrics(gw), "pa_llm_breaker_state{worker=\"llm-1\",provider=\"openai\"}"), 0);

    /* six tasks; the server fails the first three requests: the breaker opens, nothing more is
     * sent, and every task falls back to the template with the breaker as reason (the three that
     * failed once were retried by the job engine into the open breaker) */
    const char *jid = lf_compose_run(gw, lf_targets("b", 1, 6, MARKER));
    lf_wait_completed(gw, jid, 15000);
    cr_assert_eq(lf_server_count(srv), 3, "%s", hr_jdump(lf_server_requests(srv)));
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        json_t *c = lf_compose(task);
        cr_assert_str_eq(hr_jstr(task, "state"), "succeeded", "%s", hr_jdump(task));
        cr_assert(json_is_true(json_object_get(c, "fallback")), "%s", hr_jdump(task));
        cr_assert_str_eq(hr_jstr(c, "provider"), "template", "%s", hr_jdump(task));
        const char *fr = hr_jstr(c, "fallback_reason");
        cr_assert(fr && strstr(fr, "openai: circuit breaker open after 3 consecutive failures"),
                  "the reason is the open breaker: %s", hr_jdump(task));
    }

    /* health: degraded (the only llm worker's breaker is open), still 200; the breaker listed */
    json_t *b;
    wait_state(gw, "open", 2000); /* published at the worker's next heartbeat */
    h = health(gw, &b);
    cr_assert_str_eq(hr_jstr(h, "status"), "degraded", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 1, "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(b, "worker"), "llm-1", "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(b, "provider"), "openai", "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(b, "state"), "open", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(b, "failures", -1), 3, "%s", hr_jdump(h));
    long long in = hr_jint(b, "retry_in_ms", -1);
    cr_assert(in > 0 && in <= 3000, "retry_in_ms: %s", hr_jdump(h));
    const char *m = metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_llm_breaker_state{worker=\"llm-1\",provider=\"openai\"}"), 2,
                 "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_breaker_failures{worker=\"llm-1\",provider=\"openai\"}"), 3,
                 "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_breakers_open"), 1, "%s", m);

    /* generate fails fast: 503 with Retry-After, the provider not asked */
    hr_resp_t *r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"Say hello\"}");
    hr_assert_problem(r, 503, "llm-unavailable", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra && atoi(ra) >= 1 && atoi(ra) <= 3, "Retry-After: %s", ra ? ra : "(none)");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "circuit breaker open"), "%s", hr_describe(r));
    cr_assert_eq(lf_server_count(srv), 3, "the provider was asked while the breaker is open");

    /* after the cool-down: half-open; the next call is the probe, it succeeds and closes it */
    wait_state(gw, "half_open", 5000);
    cr_assert_eq(
        lf_metric(metrics(gw), "pa_llm_breaker_state{worker=\"llm-1\",provider=\"openai\"}"), 1);
    jid = lf_compose_run(gw, lf_targets("b", 7, 8, MARKER));
    lf_wait_completed(gw, jid, 15000);
    cr_assert_eq(lf_server_count(srv), 5, "%s", hr_jdump(lf_server_requests(srv)));
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        json_t *c = lf_compose(task);
        cr_assert(json_is_false(json_object_get(c, "fallback")), "%s", hr_jdump(task));
        cr_assert_str_eq(hr_jstr(c, "provider"), "openai", "%s", hr_jdump(task));
    }
    h = wait_state(gw, "closed", 2000);
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "%s", hr_jdump(h));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 0, "%s", hr_jdump(h));
    m = metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_llm_breaker_state{worker=\"llm-1\",provider=\"openai\"}"), 0,
                 "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_breakers_open"), 0, "%s", m);

    /* each transition logged once, without the key */
    const char *out = lf_output(llm);
    static const char *const lines[] = {"\"msg\":\"circuit breaker open",
                                        "\"msg\":\"circuit breaker half-open",
                                        "\"msg\":\"circuit breaker closed"};
    for (int k = 0; k < 3; k++) {
        const char *p = strstr(out, lines[k]);
        cr_assert(p && !strstr(p + 1, lines[k]), "logged once: %s\n%s", lines[k], out);
    }
    cr_assert(!strstr(out, LF_KEY), "the API key reached the log");

    /* a worker that stops takes its breaker off the list */
    lf_stop(llm, SIGTERM, 10000);
    cr_assert(WIFEXITED(llm->status) && WEXITSTATUS(llm->status) == 0, "%s", lf_output(llm));
    h = health(gw, &b);
    cr_assert(!b, "%s", hr_jdump(h));
    lf_finish();
}

/* Two workers: one open breaker of two is not "degraded"; both open is. */
Test(llm_circuit_breaker, health_is_degraded_only_when_every_breaker_is_open)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    const char *env[] = {"LLM_BREAKER_FAILURES=1", "LLM_BREAKER_COOLDOWN_MS=60000",
                         "WORKER_CAPACITY=1", "LLM_CACHE_TTL_S=0", NULL};
    lf_provider_worker_as("llm-1", rd, gw, srv, "openai", NULL, env);
    lf_provider_worker_as("llm-2", rd, gw, srv, "openai", NULL, env);
    uint64_t deadline = hr_now_ms() + 5000;
    json_t *h;
    for (;;) {
        h = hr_json(get_health(gw));
        size_t nw =
            json_array_size(json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers"));
        if (nw == 2 && json_array_size(json_object_get(json_object_get(h, "llm"), "breakers")) == 2)
            break;
        cr_assert_lt(hr_now_ms(), deadline, "two workers and breakers not listed: %s", hr_jdump(h));
        hr_sleep_ms(50);
    }
    /* two tasks, one per worker: one request fails once (that worker's breaker opens, the retry
     * falls back or succeeds elsewhere), the other succeeds */
    const char *jid = lf_compose_run(gw, "[{\"url\":\"x1.example\",\"company\":\"X\",\"variables\":"
                                         "{\"llmfault\":\"500;times=1;id=x\"}},"
                                         "{\"url\":\"x2.example\",\"company\":\"X\"}]");
    lf_wait_completed(gw, jid, 15000);
    h = hr_json(get_health(gw));
    cr_assert_eq(hr_jint(json_object_get(h, "llm"), "breakers_open", -1), 1, "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(h, "status"), "ok", "one of two open: %s", hr_jdump(h));
    /* failing requests until both are open */
    deadline = hr_now_ms() + 15000;
    for (int k = 0; hr_jint(json_object_get(h, "llm"), "breakers_open", -1) < 2; k++) {
        cr_assert_lt(hr_now_ms(), deadline, "the second breaker did not open: %s", hr_jdump(h));
        jid = lf_compose_run(gw, hr_fmt("[{\"url\":\"y%d.example\",\"company\":\"Y\",\"variables\":"
                                        "{\"llmfault\":\"500;id=y\"}},"
                                        "{\"url\":\"z%d.example\",\"company\":\"Z\",\"variables\":{"
                                        "\"llmfault\":\"500;id=y\"}}]",
                                        k, k));
        lf_wait_completed(gw, jid, 15000);
        h = hr_json(get_health(gw));
    }
    cr_assert_str_eq(hr_jstr(h, "status"), "degraded", "%s", hr_jdump(h));
    cr_assert_eq(lf_metric(metrics(gw), "pa_llm_breakers_open"), 2);
    lf_finish();
}
