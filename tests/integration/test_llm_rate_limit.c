/* The rate limit llm workers of one provider share in Redis (LLM_RPM, LLM_RATE_BURST_S): two
 * real prospect-llm-workers against the Node test server; the times the server received the
 * requests respect the token bucket (a burst, then the rate), both workers took part, and no
 * task spent an attempt waiting. Skipped without node. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_rate_limit, .fini = lf_cleanup, .timeout = 60);

#define N 12
#define RPM 120   /* 2 a second */
#define BURST_S 1 /* a bucket of 2 requests */

Test(llm_rate_limit, two_workers_share_requests_per_minute)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    /* each holds 3 tasks at most, so both get work */
    const char *env[] = {hr_fmt("LLM_RPM=%d", RPM), hr_fmt("LLM_RATE_BURST_S=%d", BURST_S),
                         "WORKER_CAPACITY=3", "LLM_CACHE_TTL_S=0", NULL};
    lf_provider_worker_as("llm-1", rd, gw, srv, "openai", NULL, env);
    lf_provider_worker_as("llm-2", rd, gw, srv, "openai", NULL, env);
    lf_wait_workers(gw, 2);
    const char *jid = lf_compose_run(gw, lf_targets("r", 1, N, NULL));
    lf_wait_completed(gw, jid, 20000);

    json_t *recs = lf_server_requests(srv);
    cr_assert_eq(json_array_size(recs), N, "%s", hr_jdump(recs));
    long long start[N];
    for (int i = 0; i < N; i++) start[i] = hr_jint(json_array_get(recs, (size_t)i), "start", 0);
    /* arrival order is the order of the records; sort to be safe */
    for (int i = 1; i < N; i++)
        for (int k = i; k > 0 && start[k - 1] > start[k]; k--) {
            long long x = start[k];
            start[k] = start[k - 1];
            start[k - 1] = x;
        }
    /* the token bucket: in any window of d seconds at most burst + rate * d requests; 100 ms
     * allowed for the jitter between reserving and arriving */
    double rate = RPM / 60.0, cap = rate * BURST_S;
    for (int i = 0; i < N; i++)
        for (int k = i + 1; k < N; k++) {
            double d = (double)(start[k] - start[i]) / 1000.0;
            cr_assert_leq((double)(k - i + 1), cap + rate * (d + 0.1),
                          "%d requests in %.3f s (requests %d..%d): more than %g + %g/s", k - i + 1,
                          d, i, k, cap, rate);
        }
    double span = (double)(start[N - 1] - start[0]) / 1000.0;
    double least = (N - cap) / rate;
    cr_assert_geq(span, least - 0.3, "%d requests took %.2f s; the limit needs %.2f s", N, span,
                  least);
    cr_assert_leq(span, least + 3.0, "%d requests took %.2f s; the limit needs only %.2f s", N,
                  span, least);
    /* both workers called the provider; nobody spent an attempt waiting */
    int by[2] = {0, 0};
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        json_t *c = lf_compose(task);
        cr_assert(json_is_false(json_object_get(c, "fallback")), "%s", hr_jdump(task));
        cr_assert_eq(hr_jint(task, "attempt", -1), 1, "%s", hr_jdump(task));
        const char *w = hr_jstr(task, "worker");
        by[w && strcmp(w, "llm-2") == 0]++;
    }
    cr_assert(by[0] > 0 && by[1] > 0, "tasks by llm-1: %d, by llm-2: %d", by[0], by[1]);
    lf_finish();
}
