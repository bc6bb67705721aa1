/* A scripted peer on the worker link, written in the test: a real ZeroMQ DEALER that speaks the
 * protocol with the real codec (pa_proto), for the tests of the link's hardening
 * (test_link_*.c). It plays a worker the way the runtime does, or a hostile process that reaches
 * the dispatch port. Header-only (static functions), on top of jobs_fixture.h. */
#ifndef PA_TESTS_LINK_PEER_H
#define PA_TESTS_LINK_PEER_H

#include <czmq.h>

#include "jobs_fixture.h"
#include "pa_proto.h"

typedef struct {
    zsock_t *s;
    char id[65], inst[33];
} lp_peer_t;

#define LP_FN static __attribute__((unused))

/* A DEALER connected to endpoint, to play worker id with instance inst (32 hex characters). */
LP_FN lp_peer_t *lp_connect(const char *endpoint, const char *id, const char *inst)
{
    zsys_handler_set(NULL);
    lp_peer_t *p = calloc(1, sizeof *p);
    cr_assert(p);
    p->s = zsock_new(ZMQ_DEALER);
    cr_assert(p->s);
    zsock_set_linger(p->s, 0);
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->inst, sizeof p->inst, "%s", inst);
    cr_assert_eq(zsock_connect(p->s, "%s", endpoint), 0);
    return p;
}

LP_FN void lp_close(lp_peer_t **pp)
{
    if (!*pp) return;
    zsock_destroy(&(*pp)->s);
    free(*pp);
    *pp = NULL;
}

LP_FN void lp_send(lp_peer_t *p, pa_msg_t *m)
{
    int rc = pa_proto_send(zsock_resolve(p->s), NULL, 0, m);
    pa_msg_destroy(&m);
    cr_assert_eq(rc, 0, "send: %s", zmq_strerror(zmq_errno()));
}

/* HELLO as the runtime says it; held NULL: the field is absent. */
LP_FN void lp_hello(lp_peer_t *p, const char *service, unsigned capacity, const char *held)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, service);
    pa_msg_set_str(m, PA_FIELD_HELLO_WORKER_ID, p->id);
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, capacity);
    pa_msg_set_str(m, PA_FIELD_HELLO_VERSION, "test");
    pa_msg_set_str(m, PA_FIELD_HELLO_INSTANCE, p->inst);
    if (held) pa_msg_set_str(m, PA_FIELD_HELLO_HELD, held);
    lp_send(p, m);
}

LP_FN void lp_credit(lp_peer_t *p, unsigned n)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_CREDIT);
    pa_msg_set_uint(m, PA_FIELD_CREDIT_N, n);
    lp_send(p, m);
}

LP_FN void lp_heartbeat(lp_peer_t *p)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HEARTBEAT);
    pa_msg_set_str(m, PA_FIELD_HEARTBEAT_WORKER_ID, p->id);
    lp_send(p, m);
}

LP_FN void lp_bye(lp_peer_t *p, const char *id)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(m, PA_FIELD_BYE_WORKER_ID, id);
    lp_send(p, m);
}

/* The next message of command want within timeout_ms (others are read and dropped); NULL when
 * none came. The caller destroys it. */
LP_FN pa_msg_t *lp_recv(lp_peer_t *p, pa_cmd_t want, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    void *raw = zsock_resolve(p->s);
    for (;;) {
        long left = (long)(deadline - hr_now_ms());
        if ((int64_t)(deadline - hr_now_ms()) <= 0) return NULL;
        zmq_pollitem_t it = {raw, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, left) <= 0) continue;
        zmsg_t *zm = zmsg_recv(p->s);
        if (!zm) continue;
        pa_msg_t *m = NULL;
        char err[PA_PROTO_ERRLEN];
        if (zmsg_size(zm) == 2) {
            zframe_t *h = zmsg_first(zm), *b = zmsg_next(zm);
            if (pa_proto_decode(zframe_data(h), zframe_size(h), zframe_data(b), zframe_size(b), &m,
                                err, sizeof err) < 0)
                m = NULL;
        }
        zmsg_destroy(&zm);
        if (m && pa_msg_cmd(m) == want) return m;
        pa_msg_destroy(&m);
    }
}

/* The TASK the gateway sent: its key and lease into key and lease. */
LP_FN void lp_task(lp_peer_t *p, int timeout_ms, char key[128], char lease[72])
{
    pa_msg_t *m = lp_recv(p, PA_CMD_TASK, timeout_ms);
    cr_assert(m, "no TASK reached %s within %d ms", p->id, timeout_ms);
    snprintf(key, 128, "%s", pa_msg_str(m, PA_FIELD_TASK_TASK_ID, NULL));
    snprintf(lease, 72, "%s", pa_msg_str(m, PA_FIELD_TASK_LEASE, NULL));
    pa_msg_destroy(&m);
}

/* A task hash field (harness-owned; "" when absent). */
LP_FN const char *lp_task_field(hr_redis_t *rd, const char *key, const char *field)
{
    const char *v = hr_jstr(jf_hgetall(rd, hr_fmt("pa:task:%s", key)), field);
    return v ? v : "";
}

/* Waits until the task's state is want; fails the test with the task after timeout_ms. */
LP_FN void lp_wait_state(hr_redis_t *rd, const char *key, const char *want, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    while (strcmp(lp_task_field(rd, key, "state"), want) != 0) {
        cr_assert_lt(hr_now_ms(), deadline, "task %s is not %s after %d ms: %s", key, want,
                     timeout_ms, hr_jdump(jf_hgetall(rd, hr_fmt("pa:task:%s", key))));
        hr_sleep_ms(20);
    }
}

#endif
