/* A worker's id can't be taken over (issue 9, the worker link): a process that reaches the
 * dispatch port and says HELLO, then BYE, naming a live worker's id must not make that worker's
 * running task go back to the queue (where another worker would run it a second time). Real
 * gateway, real Redis, real test workers and a hostile DEALER in the test. */
#include "link_peer.h"

static hr_redis_t *rd;

TestSuite(link_takeover, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

Test(link_takeover, hello_then_bye_naming_a_live_worker_do_not_run_its_task_twice)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    const char *ep = jf_endpoint(g);
    jf_worker_start(rd, "form", "form-1", ep,
                    (const char *[]){"WORKER_CAPACITY=1", "TEST_WORKER_DELAY_MS=2500", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    /* mode count_first: the side effect (INCR pa:test:count:<job>) happens at once, each time
     * the task runs, as a form's POST would */
    const char *jid = jf_run(g, jf_body(jf_targets(1, "once", "count_first"), SUBMIT_ONLY));
    json_t *held = jf_wait_held(rd, "form-1", 1, 5000);
    const char *key = json_string_value(json_array_get(held, 0));
    const char *lease = hr_fmt("%s", lp_task_field(rd, key, "lease"));
    /* a second worker, ready to take at once whatever goes back to the queue */
    jf_worker_start(rd, "form", "form-2", ep, (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(g, "form", 2, 5000);

    /* the attack: HELLO with form-1's id (another instance), then BYE form-1 */
    lp_peer_t *evil = lp_connect(ep, "form-1", "0badc0de0badc0de0badc0de0badc0de");
    lp_hello(evil, "form", 8, "");
    pa_msg_t *bye = lp_recv(evil, PA_CMD_BYE, 2000);
    cr_assert(bye && pa_msg_has(bye, PA_FIELD_BYE_REASON),
              "a HELLO naming a live worker's id was not refused");
    cr_assert(strstr(pa_msg_str(bye, PA_FIELD_BYE_REASON, NULL), "another live instance"), "%s",
              pa_msg_str(bye, PA_FIELD_BYE_REASON, NULL));
    pa_msg_destroy(&bye);
    lp_bye(evil, "form-1");
    /* and a BYE from a connection that never said HELLO */
    lp_peer_t *stranger = lp_connect(ep, "stranger", "0123456789abcdef0123456789abcdef");
    lp_bye(stranger, "form-1");
    hr_sleep_ms(400);
    /* form-1 still holds its task under the same lease: nothing went back to the queue */
    cr_assert_str_eq(lp_task_field(rd, key, "state"), "running", "%s",
                     hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", key))));
    cr_assert_str_eq(lp_task_field(rd, key, "worker"), "form-1");
    cr_assert_str_eq(lp_task_field(rd, key, "lease"), lease);

    jf_wait_status(g, jid, "completed", 10000);
    cr_assert_eq(jf_rint(rd, -1, "GET pa:test:count:%s", jid), 1,
                 "the task ran %lld times (the side effect happened more than once)",
                 jf_rint(rd, -1, "GET pa:test:count:%s", jid));
    cr_assert_str_eq(lp_task_field(rd, key, "attempt"), "1");
    cr_assert_geq(hr_gateway_count_lines(g, "HELLO refused", "form-1"), 1, "%s",
                  hr_gateway_output(g));
    cr_assert_geq(hr_gateway_count_lines(g, "BYE not from the connection", "form-1"), 2, "%s",
                  hr_gateway_output(g));
    lp_close(&evil);
    lp_close(&stranger);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

Test(link_takeover, a_connection_cannot_change_its_worker_id)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    const char *ep = jf_endpoint(g);
    lp_peer_t *p = lp_connect(ep, "form-a", "11111111111111111111111111111111");
    lp_hello(p, "form", 1, "");
    jf_wait_workers(g, "form", 1, 5000);
    snprintf(p->id, sizeof p->id, "form-b");
    lp_hello(p, "form", 1, "");
    pa_msg_t *bye = lp_recv(p, PA_CMD_BYE, 2000);
    cr_assert(bye && pa_msg_has(bye, PA_FIELD_BYE_REASON), "a second id on one connection");
    pa_msg_destroy(&bye);
    lp_close(&p);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
