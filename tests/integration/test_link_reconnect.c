/* Reconnects lose nothing (issue 9, the worker link). A worker that rebuilds its socket says
 * HELLO again with its instance and what it holds: before the gateway takes any credit, every
 * task it leased to that worker and the worker does not hold (the TASK was lost with the old
 * connection) goes back at once, the attempt not counted, and what it holds stays its own. A new
 * instance of the id (the old process is gone) gets the old one's tasks requeued at once,
 * counted. Real gateway and Redis; the worker is a DEALER in the test (so that a TASK can be
 * "lost"), then a real test worker runs what went back. */
#include "link_peer.h"

static hr_redis_t *rd;

TestSuite(link_reconnect, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"
#define INST "abcdefabcdefabcdefabcdefabcdef01"

Test(link_reconnect, tasks_lost_in_flight_go_back_at_once_uncounted)
{
    rd = hr_redis_start(NULL);
    /* leases of 30 s: a task left to its lease would still be running at the end of the test;
     * heartbeats of 1 s: the scripted worker stays known for 3 s without heartbeating */
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=1000", NULL});
    const char *ep = jf_endpoint(g);
    lp_peer_t *w = lp_connect(ep, "form-r", INST);
    lp_hello(w, "form", 2, "");
    lp_credit(w, 2);
    jf_wait_workers(g, "form", 1, 5000);
    const char *jid = jf_run(g, jf_body(jf_targets(2, "lost", "count"), SUBMIT_ONLY));
    char k1[128], l1[72], k2[128], l2[72];
    lp_task(w, 5000, k1, l1);
    lp_task(w, 5000, k2, l2);
    cr_assert_str_eq(lp_task_field(rd, k2, "state"), "running");
    /* the worker rebuilds its socket; it holds the first task, the second was "lost" */
    lp_close(&w);
    w = lp_connect(ep, "form-r", INST);
    lp_hello(w, "form", 2, hr_fmt("%s %s\n", k1, l1));
    uint64_t t0 = hr_now_ms();
    lp_wait_state(rd, k2, "queued", 2000);
    uint64_t took = hr_now_ms() - t0;
    cr_assert_lt(took, 2000);
    cr_assert_str_eq(lp_task_field(rd, k2, "attempt"), "0", "the lost TASK's attempt counted: %s",
                     hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", k2))));
    /* the task it holds is still its own, under the same lease */
    cr_assert_str_eq(lp_task_field(rd, k1, "state"), "running");
    cr_assert_str_eq(lp_task_field(rd, k1, "lease"), l1);
    cr_assert_geq(hr_gateway_count_lines(g, "worker reconciled", "\"released\":1"), 1, "%s",
                  hr_gateway_output(g));
    /* it commits the task it held */
    char err[256];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    pa_jobs_commit_item_t o = {
        .key = k1, .lease = l1, .outcome = PA_JOBS_OUT_SUCCEEDED, .result = "{\"count\":0}"};
    pa_jobs_commit_in_t in = {.prefix = "pa:", .worker = "form-r", .items = &o, .n = 1};
    bool stale = true;
    pa_jobs_commit_out_t out = {.stale = &stale};
    int rc = pa_jobs_commit_call(c, &in, &out, err, sizeof err);
    pa_redis_destroy(&c);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(!stale, "the held task's commit was refused after the reconnect");
    /* the released one runs once, on a real worker, as its first attempt */
    lp_close(&w);
    jf_worker_start(rd, "form", "form-real", ep, NULL);
    jf_wait_status(g, jid, "completed", 10000);
    cr_assert_eq(jf_rint(rd, -1, "GET pa:test:count:%s", jid), 1);
    cr_assert_str_eq(lp_task_field(rd, k2, "attempt"), "1");
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* The old process took a task through one gateway and is gone; the new one says HELLO to
 * another gateway (which never knew the old one) before the first has noticed anything. */
Test(link_reconnect, a_new_instance_of_a_gone_worker_gets_its_tasks_requeued_counted)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g1 = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=1000", NULL});
    hr_gateway_t *g2 = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=1000", NULL});
    lp_peer_t *w = lp_connect(jf_endpoint(g1), "form-n", INST);
    lp_hello(w, "form", 1, "");
    lp_credit(w, 1);
    jf_wait_workers(g1, "form", 1, 5000);
    jf_run(g1, jf_body(jf_targets(1, "gone", NULL), SUBMIT_ONLY));
    char k[128], l[72];
    lp_task(w, 5000, k, l);
    lp_close(&w);
    w = lp_connect(jf_endpoint(g2), "form-n", "22222222222222222222222222222222");
    lp_hello(w, "form", 1, "");
    lp_wait_state(rd, k, "queued", 1500); /* g1 would notice only after 3 s */
    cr_assert(strstr(lp_task_field(rd, k, "error"), "restarted"), "%s",
              hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", k))));
    cr_assert_str_eq(lp_task_field(rd, k, "attempt"), "1", "the crashed try did not count");
    lp_close(&w);
    jf_finish((hr_gateway_t *const[]){g1, g2, NULL});
}

/* The real runtime: a worker that loses its gateway (SIGSTOP past 3 heartbeats) rebuilds its
 * socket and says HELLO with what it holds; its task goes on and is committed once. */
Test(link_reconnect, a_real_worker_that_reconnects_keeps_its_task)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    jf_worker_t *wk = jf_worker_start(rd, "form", "form-s", jf_endpoint(g),
                                      (const char *[]){"TEST_WORKER_DELAY_MS=2000", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    const char *jid = jf_run(g, jf_body(jf_targets(1, "keep", "count"), SUBMIT_ONLY));
    json_t *held = jf_wait_held(rd, "form-s", 1, 5000);
    const char *key = json_string_value(json_array_get(held, 0));
    kill(g->pid, SIGSTOP);
    hr_sleep_ms(1000); /* the worker misses 3 heartbeats and reconnects */
    kill(g->pid, SIGCONT);
    jf_wait_status(g, jid, "completed", 10000);
    cr_assert_eq(jf_rint(rd, -1, "GET pa:test:count:%s", jid), 1);
    cr_assert_str_eq(lp_task_field(rd, key, "attempt"), "1");
    cr_assert_str_eq(lp_task_field(rd, key, "state"), "succeeded");
    (void)wk;
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
