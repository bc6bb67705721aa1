/* A run's token budget (options.token_budget) through the real gateway, Redis,
 * prospect-llm-worker and the Node test server: the gateway validates it with a problem naming
 * the field and keeps it in the job; the worker calls the provider only while the job's
 * committed usage is under it, and the other tasks take the template's message with the budget
 * as reason. Skipped without node. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_budget, .fini = lf_cleanup, .timeout = 60);

static const char *run_body(const char *targets, const char *budget)
{
    return hr_fmt("{\"message_template\":\"" LF_TEMPLATE "\",\"sender\":{\"name\":\"Sam\","
                  "\"email\":\"sam@us.example\"},\"targets\":%s,\"options\":{\"enrich\":false,"
                  "\"stages\":[\"compose\"]%s%s}}",
                  targets, budget ? ",\"token_budget\":" : "", budget ? budget : "");
}

Test(llm_budget, a_bad_token_budget_is_a_problem_naming_the_field)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, NULL);
    static const char *const bad[] = {"0",    "-5",   "1.5", "\"100\"",
                                      "true", "null", "{}",  "1000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_resp_t *r = hr_post(gw, LF_RUN, run_body(lf_targets("k", 1, 1, NULL), bad[i]));
        hr_assert_problem(r, 400, "invalid-field", "options.token_budget");
        const char *d = hr_jstr(hr_json(r), "detail");
        cr_assert(d && strstr(d, "options.token_budget: must be an integer from 1"),
                  "token_budget %s: %s", bad[i], hr_describe(r));
    }
    const char *jid = lf_run(gw, run_body(lf_targets("k", 1, 1, NULL), "1"));
    json_t *job = hr_json(hr_get(gw, hr_fmt("/api/jobs/%s", jid)));
    cr_assert_eq(hr_jint(json_object_get(job, "options"), "token_budget", -1), 1, "%s",
                 hr_jdump(job));
}

Test(llm_budget, calls_stop_once_the_job_has_used_its_budget)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    /* one call at a time, so that each result is committed before the next call is decided */
    lf_provider_worker(rd, gw, srv, "openai", NULL,
                       (const char *[]){"LLM_CONCURRENCY=1", "LLM_CACHE_TTL_S=0", NULL});
    /* what one call costs, from a job without a budget */
    const char *jid = lf_run(gw, run_body(lf_targets("k", 0, 0, NULL), NULL));
    json_t *job = lf_wait_completed(gw, jid, 15000);
    json_t *u = json_object_get(job, "usage");
    long long one = hr_jint(u, "prompt_tokens", 0) + hr_jint(u, "completion_tokens", 0);
    cr_assert_gt(one, 50, "%s", hr_jdump(job));

    /* a budget of two and a half calls: three calls (the third starts under it), then none */
    long long budget = one * 5 / 2;
    jid = lf_run(gw, run_body(lf_targets("k", 1, 6, NULL), hr_fmt("%lld", budget)));
    job = lf_wait_completed(gw, jid, 15000);
    cr_assert_eq(lf_server_count(srv), 1 + 3, "%s", hr_jdump(lf_server_requests(srv)));
    int called = 0, saved = 0;
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        json_t *c = lf_compose(task);
        cr_assert_str_eq(hr_jstr(task, "state"), "succeeded", "%s", hr_jdump(task));
        if (json_is_false(json_object_get(c, "fallback"))) {
            called++;
            cr_assert_str_eq(hr_jstr(c, "provider"), "openai", "%s", hr_jdump(task));
            continue;
        }
        saved++;
        cr_assert_str_eq(hr_jstr(c, "provider"), "template", "%s", hr_jdump(task));
        const char *fr = hr_jstr(c, "fallback_reason");
        cr_assert(fr && strstr(fr, "token budget is spent") &&
                      strstr(fr, hr_fmt("of %lld tokens used", budget)),
                  "the reason is the budget: %s", hr_jdump(task));
        cr_assert_eq(hr_jint(task, "attempt", -1), 1, "%s", hr_jdump(task));
    }
    cr_assert(called == 3 && saved == 3, "called %d, fell back %d", called, saved);
    u = json_object_get(job, "usage");
    long long used = hr_jint(u, "prompt_tokens", 0) + hr_jint(u, "completion_tokens", 0);
    cr_assert(used >= budget && used < budget + one, "used %lld of %lld (a call is %lld)", used,
              budget, one);
    lf_finish();
}
