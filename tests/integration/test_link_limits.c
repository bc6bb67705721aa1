/* Bounded, end to end (issue 9, the worker link): a result too large to be carried on fails its
 * task and the worker stays; a flood of fake HELLOs (a thousand connections, each its own worker
 * id) cannot fill the worker table against real workers; a peer's credit is clamped to
 * WORKER_MAX_CAPACITY. Real gateway, Redis and test workers; the flood and the greedy peer are
 * DEALERs in the test. */
#include <zmq.h>

#include "link_peer.h"

static hr_redis_t *rd;

TestSuite(link_limits, .fini = jf_cleanup, .timeout = 90);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

Test(link_limits, a_result_too_large_fails_its_task_and_the_worker_stays)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    jf_worker_start(rd, "form", "form-big", jf_endpoint(g),
                    (const char *[]){"WORKER_CAPACITY=1", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    const char *jid =
        jf_run(g, jf_body("[{\"url\":\"big.example\",\"variables\":{\"test\":\"big:600000\"}},"
                          "{\"url\":\"small.example\",\"variables\":{\"test\":\"ok\"}}]",
                          SUBMIT_ONLY));
    json_t *job = jf_wait_status(g, jid, "completed", 10000);
    json_t *tasks = jf_tasks(g, jid, NULL);
    json_t *big = jf_task_by_target(tasks, "https://big.example/");
    json_t *small = jf_task_by_target(tasks, "https://small.example/");
    cr_assert(big && small, "%s", hr_jdump(tasks));
    cr_assert_str_eq(hr_jstr(big, "state"), "failed", "%s", hr_jdump(big));
    cr_assert(hr_jstr(big, "error") && strstr(hr_jstr(big, "error"), "exceeds"), "%s",
              hr_jdump(big));
    cr_assert_str_eq(hr_jstr(small, "state"), "succeeded", "%s", hr_jdump(job));
    jf_wait_workers(g, "form", 1, 1000);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

Test(link_limits, a_hello_flood_cannot_keep_real_workers_out)
{
    rd = hr_redis_start(NULL);
    /* heartbeats of 5 s: the flood's slots stay 15 s (their peers never heartbeat) */
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=5000", NULL});
    /* the flood comes from 127.0.0.2 (another local address), 1320 connections */
    const char *flood_ep = hr_fmt("tcp://127.0.0.2:0;127.0.0.1:%d", g->dispatch_port);
    void *ctx = zmq_ctx_new();
    cr_assert(ctx);
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 4096);
    enum { BATCH = 220, BATCHES = 6 };
    for (int b = 0; b < BATCHES; b++) {
        void *socks[BATCH];
        for (int i = 0; i < BATCH; i++) {
            socks[i] = zmq_socket(ctx, ZMQ_DEALER);
            cr_assert(socks[i]);
            int zero = 0;
            zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
            cr_assert_eq(zmq_connect(socks[i], flood_ep), 0, "%s: %s", flood_ep,
                         zmq_strerror(zmq_errno()));
            pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
            pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, "form");
            pa_msg_set_str(m, PA_FIELD_HELLO_WORKER_ID, hr_fmt("flood-%d", b * BATCH + i));
            pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, 1);
            pa_msg_set_str(m, PA_FIELD_HELLO_VERSION, "x");
            pa_msg_set_str(m, PA_FIELD_HELLO_INSTANCE,
                           hr_fmt("%032x", (unsigned)(b * BATCH + i + 1)));
            pa_proto_send(socks[i], NULL, 0, m);
            pa_msg_destroy(&m);
        }
        hr_sleep_ms(800); /* delivered */
        for (int i = 0; i < BATCH; i++) zmq_close(socks[i]);
    }
    zmq_ctx_term(ctx);
    hr_sleep_ms(500);
    int joined = hr_gateway_count_lines(g, "worker joined", "flood-");
    hr_resp_t *mr = hr_get(g, "/metrics");
    const char *mp = strstr(mr->body, "\npa_workers_connected ");
    int held = mp ? atoi(mp + strlen("\npa_workers_connected ")) : -1;
    /* a real worker joins and works */
    jf_worker_start(rd, "form", "form-real", jf_endpoint(g), NULL);
    uint64_t deadline = hr_now_ms() + 5000;
    while (hr_gateway_count_lines(g, "worker joined", "form-real") == 0 && hr_now_ms() < deadline)
        hr_sleep_ms(50);
    cr_assert_eq(hr_gateway_count_lines(g, "worker joined", "form-real"), 1,
                 "the real worker did not get a slot after %d flood HELLOs joined (%d held)",
                 joined, held);
    const char *jid = jf_run(g, jf_body(jf_targets(3, "f", NULL), SUBMIT_ONLY));
    jf_wait_status(g, jid, "completed", 10000);
    cr_assert_leq(held, 256, "one peer address holds %d slots (%d HELLOs joined)", held, joined);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

Test(link_limits, a_peer_holds_no_more_credit_than_the_capacity_clamp)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=1000", "WORKER_MAX_CAPACITY=2", NULL});
    lp_peer_t *p = lp_connect(jf_endpoint(g), "form-greedy", "77777777777777777777777777777777");
    lp_hello(p, "form", 10000, "");
    lp_credit(p, 10000);
    jf_wait_workers(g, "form", 1, 5000);
    jf_run(g, jf_body(jf_targets(40, "g", NULL), SUBMIT_ONLY));
    int got = 0;
    pa_msg_t *m;
    while ((m = lp_recv(p, PA_CMD_TASK, 1000)) != NULL) {
        got++;
        pa_msg_destroy(&m);
    }
    lp_close(&p);
    cr_assert_leq(got, 8, "a peer that said capacity 10000 got %d tasks (clamp 2)", got);
    cr_assert_gt(got, 0);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
