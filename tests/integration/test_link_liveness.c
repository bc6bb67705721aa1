/* Liveness is global (issue 9, the worker link): a worker that stops answering one gateway is
 * not declared lost (its tasks requeued while it runs them) as long as it keeps renewing its
 * leases in Redis, as it does through another gateway. Two real gateways and Redis; the worker is
 * a DEALER in the test that does what the runtime does: heartbeats to the gateway it still
 * reaches and lease renewals (renew.lua, with its instance) every 200 ms. */
#include "link_peer.h"
#include "pa_redis.h"
#include "pa_time.h"

static hr_redis_t *rd;

TestSuite(link_liveness, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"
#define INST "5151515151515151515151515151515a"

Test(link_liveness, a_worker_silent_to_one_gateway_but_renewing_keeps_its_task)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g1 = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    hr_gateway_t *g2 = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lp_peer_t *a = lp_connect(jf_endpoint(g1), "form-l", INST);
    lp_peer_t *b = lp_connect(jf_endpoint(g2), "form-l", INST);
    lp_hello(a, "form", 1, "");
    lp_hello(b, "form", 1, "");
    lp_credit(a, 1);
    jf_wait_workers(g1, "form", 1, 5000);
    jf_wait_workers(g2, "form", 1, 5000);
    const char *jid = jf_run(g1, jf_body(jf_targets(1, "live", NULL), SUBMIT_ONLY));
    char k[128], l[72];
    lp_task(a, 5000, k, l);
    /* from now on g1 hears nothing from it; g2 does, and the leases are renewed in Redis */
    char err[256];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    uint64_t end = hr_now_ms() + 2500;
    int renew_failed = 0;
    while (hr_now_ms() < end) {
        lp_heartbeat(b);
        pa_jobs_renew_item_t it = {k, l, pa_wall_ms() + 30000};
        pa_jobs_renew_in_t in = {.prefix = "pa:",
                                 .worker = "form-l",
                                 .tasks = &it,
                                 .n = 1,
                                 .instance = INST,
                                 .alive_ms = 600};
        pa_jobs_lease_state_t st;
        pa_jobs_renew_out_t out = {.state = &st};
        if (pa_jobs_renew_call(c, &in, &out, err, sizeof err) < 0 || st != PA_LEASE_HELD)
            renew_failed = 1;
        if (renew_failed) break;
        hr_sleep_ms(200);
    }
    const char *state = hr_fmt("%s", lp_task_field(rd, k, "state"));
    const char *lease = hr_fmt("%s", lp_task_field(rd, k, "lease"));
    pa_jobs_commit_item_t o = {
        .key = k, .lease = l, .outcome = PA_JOBS_OUT_SUCCEEDED, .result = "{\"ok\":true}"};
    pa_jobs_commit_in_t cin = {.prefix = "pa:", .worker = "form-l", .items = &o, .n = 1};
    bool stale = true;
    pa_jobs_commit_out_t cout = {.stale = &stale};
    int rc = pa_jobs_commit_call(c, &cin, &cout, err, sizeof err);
    pa_redis_destroy(&c);
    cr_assert(!renew_failed, "the lease was lost while the worker renewed it: %s",
              hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", k))));
    cr_assert_str_eq(state, "running", "%s", hr_gateway_output(g1));
    cr_assert_str_eq(lease, l);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(!stale, "the worker's commit was refused");
    jf_wait_status(g1, jid, "completed", 5000);
    cr_assert_eq(hr_gateway_count_lines(g1, "worker lost", "form-l"), 0, "%s",
                 hr_gateway_output(g1));
    cr_assert_geq(hr_gateway_count_lines(g1, "alive in Redis", "form-l"), 1, "%s",
                  hr_gateway_output(g1));
    lp_close(&a);
    lp_close(&b);
    jf_finish((hr_gateway_t *const[]){g1, g2, NULL});
}

/* The other side of the rule: a worker that neither answers nor renews is lost, and its task
 * goes back at once (the attempt counted), not after its lease. */
Test(link_liveness, a_worker_neither_seen_nor_renewing_is_lost_at_once)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lp_peer_t *a = lp_connect(jf_endpoint(g), "form-d", INST);
    lp_hello(a, "form", 1, "");
    lp_credit(a, 1);
    jf_wait_workers(g, "form", 1, 5000);
    jf_run(g, jf_body(jf_targets(1, "dead", NULL), SUBMIT_ONLY));
    char k[128], l[72];
    lp_task(a, 5000, k, l);
    lp_wait_state(rd, k, "queued", 3000); /* leases are 30 s */
    cr_assert(strstr(lp_task_field(rd, k, "error"), "lost"), "%s",
              hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", k))));
    lp_close(&a);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
