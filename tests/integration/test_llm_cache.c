/* The llm workers' response cache in Redis (LLM_CACHE_TTL_S) through the real gateway, Redis,
 * prospect-llm-worker and the Node test server: the same campaign twice makes no provider
 * request the second time, its results say cached with 0 tokens, /metrics counts the hits and
 * misses; a message the guardrails refused is not cached; generate is cached too; and
 * LLM_CACHE_TTL_S=0 turns it off. Skipped without node. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_cache, .fini = lf_cleanup, .timeout = 60);

#define TARGETS                                                                                    \
    "[{\"url\":\"c1.example\",\"name\":\"Ann Lee\",\"company\":\"Acme\"},"                         \
    "{\"url\":\"c2.example\",\"name\":\"Bob Ray\",\"company\":\"Beta\"},"                          \
    "{\"url\":\"c3.example\",\"name\":\"Cy Dunn\",\"company\":\"Gamma\"},"                         \
    "{\"url\":\"c4.example\",\"name\":\"Di Fox\",\"company\":\"Delta\","                           \
    "\"variables\":{\"llmfault\":\"placeholder;id=c4\"}}]"

Test(llm_cache, the_same_campaign_twice_asks_the_provider_once)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, "openai", NULL, (const char *[]){"LLM_CACHE_TTL_S=60", NULL});
    lf_wait_workers(gw, 1); /* generate asks for a live worker */

    const char *j1 = lf_compose_run(gw, TARGETS);
    lf_wait_completed(gw, j1, 15000);
    cr_assert_eq(lf_server_count(srv), 4, "%s", hr_jdump(lf_server_requests(srv)));
    json_t *first = lf_tasks(gw, j1);

    const char *j2 = lf_compose_run(gw, TARGETS);
    json_t *job = lf_wait_completed(gw, j2, 15000);
    /* only the message the guardrails refused is asked for again */
    json_t *recs = lf_server_requests(srv);
    cr_assert_eq(json_array_size(recs), 5, "%s", hr_jdump(recs));
    cr_assert_str_eq(hr_jstr(json_array_get(recs, 4), "marker"), "placeholder;id=c4");
    for (int i = 1; i <= 4; i++) {
        const char *url = hr_fmt("https://c%d.example/", i);
        json_t *a = lf_compose(lf_task_by_target(first, url));
        json_t *t = lf_task_by_target(lf_tasks(gw, j2), url);
        json_t *b = lf_compose(t);
        const char *what = hr_fmt("first %s, second %s", hr_jdump(a), hr_jdump(t));
        if (i == 4) { /* fell back both times, never cached */
            cr_assert(json_is_true(json_object_get(b, "fallback")), "%s", what);
            cr_assert(json_is_false(json_object_get(b, "cached")), "%s", what);
            continue;
        }
        cr_assert(json_is_false(json_object_get(a, "cached")), "%s", what);
        cr_assert(json_is_true(json_object_get(b, "cached")), "%s", what);
        cr_assert(json_is_false(json_object_get(b, "fallback")), "%s", what);
        cr_assert_str_eq(hr_jstr(b, "message"), hr_jstr(a, "message"), "%s", what);
        cr_assert_str_eq(hr_jstr(b, "provider"), "openai", "%s", what);
        cr_assert_str_eq(hr_jstr(b, "model"), hr_jstr(a, "model"), "%s", what);
        json_t *u = json_object_get(b, "usage");
        cr_assert(hr_jint(u, "prompt_tokens", -1) == 0 && hr_jint(u, "completion_tokens", -1) == 0,
                  "a cached answer costs no tokens: %s", what);
        cr_assert_gt(hr_jint(json_object_get(a, "usage"), "prompt_tokens", 0), 0, "%s", what);
    }
    /* the second job used no tokens (the fallback has none) */
    cr_assert_eq(hr_jint(json_object_get(job, "usage"), "prompt_tokens", -1), 0, "%s",
                 hr_jdump(job));

    /* generate: the same prompt and params twice, one request */
    const char *body = "{\"prompt\":\"Say hello to Ada\",\"params\":{\"temperature\":0}}";
    hr_resp_t *r1 = hr_post(gw, "/api/llm/generate", body);
    cr_assert_eq(r1->status, 200, "%s", hr_describe(r1));
    hr_resp_t *r2 = hr_post(gw, "/api/llm/generate", body);
    cr_assert_eq(r2->status, 200, "%s", hr_describe(r2));
    cr_assert_eq(lf_server_count(srv), 6, "%s", hr_jdump(lf_server_requests(srv)));
    cr_assert(json_is_false(json_object_get(hr_json(r1), "cached")), "%s", hr_describe(r1));
    cr_assert(json_is_true(json_object_get(hr_json(r2), "cached")), "%s", hr_describe(r2));
    cr_assert_str_eq(hr_jstr(hr_json(r2), "output"), hr_jstr(hr_json(r1), "output"));

    /* misses: 4 + 1 (c4 again) + 1 (generate); hits: 3 + 1 */
    const char *m = lf_metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_llm_cache_hits_total"), 4, "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_cache_misses_total"), 6, "%s", m);
    lf_finish();
}

Test(llm_cache, ttl_zero_turns_it_off)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, "openai", NULL, (const char *[]){"LLM_CACHE_TTL_S=0", NULL});
    const char *t = "[{\"url\":\"c1.example\",\"name\":\"Ann Lee\",\"company\":\"Acme\"}]";
    for (int k = 0; k < 2; k++) {
        const char *jid = lf_compose_run(gw, t);
        lf_wait_completed(gw, jid, 15000);
        json_t *c = lf_compose(json_array_get(lf_tasks(gw, jid), 0));
        cr_assert(json_is_false(json_object_get(c, "cached")), "%s", hr_jdump(c));
    }
    cr_assert_eq(lf_server_count(srv), 2);
    const char *m = lf_metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_llm_cache_hits_total"), 0, "%s", m);
    cr_assert_eq(lf_metric(m, "pa_llm_cache_misses_total"), 0, "not even looked up: %s", m);
    lf_finish();
}
