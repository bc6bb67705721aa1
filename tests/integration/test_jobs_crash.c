/* The job engine when things break, with real processes: a worker killed with tasks in hand, a
 * gateway killed and restarted, Redis killed and restarted (AOF, appendfsync always), one of two
 * gateways killed, a stale lease, garbage on the ZeroMQ link, and a worker stopped with SIGTERM.
 * What is checked is what an operator would check: the job completes, every task ends exactly once
 * (its transitions in pa:events), tasks come back when they should, logs say what happened. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <string.h>

#include "jobs_fixture.h"
#include "pa_buf.h"
#include "pa_jobs.h"
#include "pa_proto.h"
#include "pa_task.h"
#include "pa_redis.h"
#include "pa_time.h"

static hr_redis_t *rd;

TestSuite(jobs_crash, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static hr_gateway_t *gateway(const char *const *env)
{
    const char *e[16];
    size_t n = 0;
    e[n++] = "HEARTBEAT_MS=200";
    for (size_t i = 0; env && env[i] && n < 15; i++) e[n++] = env[i];
    e[n] = NULL;
    return hr_gateway_start(rd, e);
}

/* Every task 1..total of job ended in succeeded exactly once according to pa:events. */
static void assert_each_succeeded_once(const char *jid, int total)
{
    json_t *ev = jf_events(rd, jid);
    for (int k = 1; k <= total; k++) {
        const char *tid = hr_fmt("%06d", k);
        int n = jf_count_events(ev, tid, "succeeded");
        cr_assert_eq(n, 1, "task %s reached succeeded %d times; its events: %s", tid, n,
                     hr_jdump(ev));
    }
}

/* Polls the job (in Redis) until it has at least n succeeded tasks. */
static void wait_succeeded(const char *jid, long long n, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        long long s = jf_rint(rd, -1, "HGET pa:job:%s succeeded", jid);
        if (s >= n) return;
        cr_assert_lt(hr_now_ms(), deadline, "job %s: %lld succeeded, not %lld, after %d ms", jid, s,
                     n, timeout_ms);
        hr_sleep_ms(20);
    }
}

/* The stream-id time (ms) of the first event of task tid in state after `after_ms`, or -1. */
static long long first_event_ms(const json_t *ev, const char *tid, const char *state,
                                uint64_t after_ms)
{
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e) {
        const char *t = hr_jstr(e, "task"), *s = hr_jstr(e, "state");
        long long ms = hr_jint(e, "ms", 0);
        if (t && s && !strcmp(t, tid) && !strcmp(s, state) && (uint64_t)ms >= after_ms) return ms;
    }
    return -1;
}

/* ---- a worker killed with tasks in hand ---------------------------------------------------- */

Test(jobs_crash, killed_worker_tasks_requeue_and_every_task_ends_once)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway(NULL);
    jf_worker_t *w1 = jf_worker_start(rd, "form", "form-1", jf_endpoint(g),
                                      (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    jf_worker_start(rd, "form", "form-2", jf_endpoint(g),
                    (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(g, "form", 2, 5000);
    const char *jid = jf_run(g, jf_body(jf_targets(8, "k", "slow:2000"), SUBMIT_ONLY));
    json_t *held = jf_wait_held(rd, "form-1", 4, 5000);
    jf_wait_started(rd, "form-1", 4, 5000); /* they reached it: the lost try counts */
    uint64_t t_kill = jf_wall_ms();
    jf_worker_kill9(w1);
    json_t *job = jf_wait_status(g, jid, "completed", 25000);
    cr_assert_eq(jf_count(job, "succeeded"), 8, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    assert_each_succeeded_once(jid, 8);
    /* the killed worker's tasks were taken back within 5 s of the kill, then done by form-2 */
    json_t *ev = jf_events(rd, jid);
    size_t i;
    json_t *k;
    json_array_foreach(held, i, k) {
        const char *key = json_string_value(k);
        const char *tid = strrchr(key, ':') + 1;
        long long ms = first_event_ms(ev, tid, "queued", t_kill);
        cr_assert_geq(ms, 0, "task %s of the killed worker was never requeued: %s", tid,
                      hr_jdump(ev));
        cr_assert_leq((uint64_t)ms - t_kill, 5000, "task %s requeued %llu ms after the kill", tid,
                      (unsigned long long)((uint64_t)ms - t_kill));
        json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s", key));
        cr_assert_str_eq(hr_jstr(t, "state"), "succeeded", "%s", hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "worker"), "form-2", "%s", hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "attempt"), "2", "the lost try counts: %s", hr_jdump(t));
    }
    /* the gateway says why */
    const char *out = hr_gateway_output(g);
    cr_assert(strstr(out, "worker lost") && strstr(out, "form-1"), "no 'worker lost' log line:\n%s",
              out);
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:worker:form-1:tasks"), 0);
    cr_assert_eq(jf_leased(rd), 0);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* ---- the gateway killed mid-job and started again ------------------------------------------ */

Test(jobs_crash, gateway_killed_and_restarted_on_the_same_ports_finishes_the_job)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g1 = gateway((const char *[]){"LEASE_MS=3000", NULL});
    int port = g1->port, dport = g1->dispatch_port;
    jf_worker_start(rd, "form", "form-1", jf_endpoint(g1),
                    (const char *[]){"WORKER_CAPACITY=3", NULL});
    jf_wait_workers(g1, "form", 1, 5000);
    const char *jid = jf_run(g1, jf_body(jf_targets(12, "g", "slow:400"), SUBMIT_ONLY));
    wait_succeeded(jid, 3, 10000);
    hr_gateway_stop(g1, SIGKILL, 2000);
    cr_assert(WIFSIGNALED(g1->status) && WTERMSIG(g1->status) == SIGKILL);
    long long done_at_kill = jf_rint(rd, -1, "HGET pa:job:%s succeeded", jid);
    cr_assert_lt(done_at_kill, 12, "the job was over before the kill; make it longer");
    hr_sleep_ms(300);
    hr_gateway_t *g2 =
        gateway((const char *[]){"LEASE_MS=3000", hr_fmt("PORT=%d", port),
                                 hr_fmt("DISPATCH_BIND=tcp://127.0.0.1:%d", dport), NULL});
    cr_assert_eq(g2->port, port);
    json_t *job = jf_wait_status(g2, jid, "completed", 30000);
    cr_assert_eq(jf_count(job, "succeeded"), 12, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    assert_each_succeeded_once(jid, 12);
    /* the worker found the new gateway (it did not need a restart) */
    jf_wait_workers(g2, "form", 1, 5000);
    jf_finish((hr_gateway_t *const[]){g2, NULL});
}

/* ---- Redis killed and restarted ------------------------------------------------------------ */

Test(jobs_crash, redis_restart_mid_job_keeps_every_accepted_job_and_task)
{
    rd = hr_redis_start(&(hr_redis_opts_t){.appendonly = 1});
    jf_redis_fsync_always(rd);
    hr_gateway_t *g = gateway(NULL);
    jf_worker_start(rd, "form", "form-1", jf_endpoint(g),
                    (const char *[]){"WORKER_CAPACITY=2", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    const char *ja = jf_run(g, jf_body(jf_targets(10, "ra", "slow:250"), SUBMIT_ONLY));
    const char *jb = jf_run(g, jf_body(jf_targets(4, "rb", NULL), SUBMIT_ONLY));
    wait_succeeded(ja, 2, 10000);
    cr_assert_lt(jf_rint(rd, -1, "HGET pa:job:%s succeeded", ja), 10, "job A ended too soon");
    /* kill -9: only what was fsynced survives */
    kill(hr_redis_pid(rd), SIGKILL);
    hr_redis_stop(rd); /* reaps it */
    /* while Redis is away, a run is refused, not accepted and lost */
    hr_resp_t *r = hr_post(g, JF_RUN, jf_body("[\"during.example\"]", SUBMIT_ONLY));
    cr_assert_eq(r->status, 503, "a run while Redis is down: %s", hr_describe(r));
    cr_assert_not_null(hr_header(r, "Retry-After"));
    hr_sleep_ms(700);
    hr_redis_restart(rd);
    jf_redis_wait_loaded(rd);
    jf_redis_fsync_always(rd);
    /* every accepted job and task is there */
    const char *jobs[] = {ja, jb};
    int totals[] = {10, 4};
    for (int j = 0; j < 2; j++) {
        json_t *h = jf_hgetall(rd, hr_fmt("pa:job:%s", jobs[j]));
        cr_assert_str_eq(hr_jstr(h, "total") ? hr_jstr(h, "total") : "(none)",
                         hr_fmt("%d", totals[j]), "job %s after the restart: %s", jobs[j],
                         hr_jdump(h));
        for (int k = 1; k <= totals[j]; k++)
            cr_assert_eq(jf_rint(rd, -1, "EXISTS pa:task:%s:%06d", jobs[j], k), 1,
                         "task %06d of %s is gone", k, jobs[j]);
    }
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:jobs"), 2, "the refused run left a job");
    json_t *a = jf_wait_status(g, ja, "completed", 30000);
    json_t *b = jf_wait_status(g, jb, "completed", 10000);
    cr_assert_eq(jf_count(a, "succeeded"), 10, "%s", hr_jdump(a));
    cr_assert_eq(jf_count(b, "succeeded"), 4, "%s", hr_jdump(b));
    jf_assert_counts_add_up(a);
    jf_assert_counts_add_up(b);
    assert_each_succeeded_once(ja, 10);
    assert_each_succeeded_once(jb, 4);
    /* the API serves again */
    cr_assert_eq(hr_get(g, "/api/health")->status, 200);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* ---- one of two gateways killed ------------------------------------------------------------ */

Test(jobs_crash, other_gateway_finishes_the_job_when_one_is_killed)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *ga = gateway((const char *[]){"LEASE_MS=2000", NULL});
    hr_gateway_t *gb = gateway((const char *[]){"LEASE_MS=2000", NULL});
    const char *eps = hr_fmt("%s,%s", jf_endpoint(ga), jf_endpoint(gb));
    jf_worker_start(rd, "form", "form-1", eps, (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_worker_start(rd, "form", "form-2", eps, (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(gb, "form", 2, 5000);
    const char *jid = jf_run(ga, jf_body(jf_targets(16, "two", "slow:400"), SUBMIT_ONLY));
    wait_succeeded(jid, 3, 10000);
    hr_gateway_stop(ga, SIGKILL, 2000);
    cr_assert_lt(jf_rint(rd, -1, "HGET pa:job:%s succeeded", jid), 16, "the job ended too soon");
    json_t *job = jf_wait_status(gb, jid, "completed", 30000);
    cr_assert_eq(jf_count(job, "succeeded"), 16, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    assert_each_succeeded_once(jid, 16);
    /* B still serves new work */
    const char *j2 = jf_run(gb, jf_body(jf_targets(3, "after", NULL), SUBMIT_ONLY));
    json_t *job2 = jf_wait_status(gb, j2, "completed", 10000);
    cr_assert_eq(jf_count(job2, "succeeded"), 3, "%s", hr_jdump(job2));
    jf_finish((hr_gateway_t *const[]){gb, NULL});
}

/* ---- a stale lease is refused -------------------------------------------------------------- */

typedef struct {
    char key[128], lease[32];
    long attempt;
} leased_t;

/* Leases one task of service "form" by hand to worker wid, as a gateway would. */
static leased_t lease_by_hand(pa_redis_t *c, const char *wid, long lease_ms)
{
    leased_t l = {0};
    pa_jobs_dispatch_in_t in = {
        .prefix = "pa:", .service = "form", .n = 1, .worker = wid, .lease_ms = lease_ms};
    pa_jobs_leases_t out;
    char err[256];
    cr_assert_eq(pa_jobs_dispatch_call(c, &in, &out, err, sizeof err), 0, "dispatch: %s", err);
    cr_assert_eq(out.n, 1, "the dispatch script leased nothing");
    snprintf(l.key, sizeof l.key, "%s", out.tasks[0].key);
    snprintf(l.lease, sizeof l.lease, "%s", out.tasks[0].lease);
    l.attempt = (long)out.tasks[0].attempt;
    pa_jobs_leases_free(&out);
    return l;
}

/* Commits outcome "succeeded" for key under lease as worker wid; returns "ok" or "stale". */
static const char *commit_by_hand(pa_redis_t *c, const char *wid, const char *key,
                                  const char *lease)
{
    pa_jobs_commit_item_t o = {.key = key,
                               .lease = lease,
                               .outcome = PA_JOBS_OUT_SUCCEEDED,
                               .result = "{\"by\":\"hand\"}"};
    pa_jobs_commit_in_t in = {.prefix = "pa:", .worker = wid, .items = &o, .n = 1};
    bool stale = false;
    pa_jobs_commit_out_t out = {.stale = &stale};
    char err[256];
    cr_assert_eq(pa_jobs_commit_call(c, &in, &out, err, sizeof err), 0, "commit: %s", err);
    return stale ? "stale" : "ok";
}

Test(jobs_crash, stale_lease_commit_is_refused_and_changes_nothing)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway((const char *[]){"LEASE_MS=500", NULL});
    hr_must_create(g, "/api/campaigns", "{\"id\":\"c-stale\",\"name\":\"Stale\",\"sent\":0}");
    const char *jid = jf_run(
        g, hr_fmt("{\"campaign_id\":\"c-stale\",\"message_template\":\"Hi\",\"sender\":{\"name\":"
                  "\"S\",\"email\":\"s@x.example\"},\"targets\":[\"stale.example\"],"
                  "\"options\":" SUBMIT_ONLY "}"));
    char err[256];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    leased_t l1 = lease_by_hand(c, "ghost-1", 500);
    cr_assert_str_eq(l1.key, hr_fmt("%s:000001", jid));
    cr_assert_eq(l1.attempt, 1);
    /* the gateway's maintenance takes the expired lease back */
    uint64_t deadline = hr_now_ms() + 5000;
    json_t *t;
    for (;;) {
        t = jf_hgetall(rd, hr_fmt("pa:task:%s", l1.key));
        if (hr_jstr(t, "state") && !strcmp(hr_jstr(t, "state"), "queued")) break;
        if (hr_now_ms() >= deadline) {
            pa_redis_destroy(&c);
            cr_assert_fail("the expired lease was not requeued within 5 s: %s", hr_jdump(t));
        }
        hr_sleep_ms(50);
    }
    cr_assert(hr_jstr(t, "error") && strstr(hr_jstr(t, "error"), "lease expired"), "%s",
              hr_jdump(t));
    json_t *job_before = jf_hgetall(rd, hr_fmt("pa:job:%s", jid));
    long long events_before = jf_rint(rd, -1, "XLEN pa:events");
    /* the late commit under the old lease */
    const char *res = commit_by_hand(c, "ghost-1", l1.key, l1.lease);
    json_t *t_after = jf_hgetall(rd, hr_fmt("pa:task:%s", l1.key));
    json_t *job_after = jf_hgetall(rd, hr_fmt("pa:job:%s", jid));
    long long events_after = jf_rint(rd, -1, "XLEN pa:events");
    /* leased again (to another worker), the old lease is still refused */
    leased_t l2 = lease_by_hand(c, "ghost-2", 30000);
    const char *res2 = commit_by_hand(c, "ghost-1", l2.key, l1.lease);
    json_t *t_running = jf_hgetall(rd, hr_fmt("pa:task:%s", l2.key));
    const char *res3 = commit_by_hand(c, "ghost-2", l2.key, l2.lease);
    pa_redis_destroy(&c);
    cr_assert_str_eq(res, "stale", "a commit under an expired lease was accepted");
    cr_assert(json_equal(t, t_after), "a stale commit changed the task:\nbefore %s\nafter  %s",
              hr_jdump(t), hr_jdump(t_after));
    cr_assert(json_equal(job_before, job_after), "a stale commit changed the job:\n%s\n%s",
              hr_jdump(job_before), hr_jdump(job_after));
    cr_assert_eq(events_after, events_before, "a stale commit wrote an event");
    cr_assert_str_neq(l2.lease, l1.lease, "the same lease token twice");
    cr_assert_eq(l2.attempt, 2, "the expired lease counts as an attempt");
    cr_assert_str_eq(res2, "stale",
                     "the old lease was accepted while another worker holds the task");
    cr_assert_str_eq(hr_jstr(t_running, "state"), "running", "%s", hr_jdump(t_running));
    cr_assert_str_eq(hr_jstr(t_running, "worker"), "ghost-2", "%s", hr_jdump(t_running));
    cr_assert(!json_object_get(t_running, "result_submit"), "%s", hr_jdump(t_running));
    cr_assert_str_eq(res3, "ok", "the current lease was refused");
    json_t *job = jf_wait_status(g, jid, "completed", 3000);
    cr_assert_eq(jf_count(job, "succeeded"), 1);
    assert_each_succeeded_once(jid, 1);
    cr_assert_eq(hr_jint(hr_json(hr_get(g, "/api/campaigns/c-stale")), "sent", -1), 1,
                 "sent counts the one accepted submit only");
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* A task that runs longer than LEASE_MS keeps its lease: the worker renews it, so the task is
 * neither requeued nor run twice. LEASE_MS=500 is the smallest value the gateway accepts
 * (docs/configuration.md); the task runs 1.5 s. */
Test(jobs_crash, long_task_keeps_its_lease)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway((const char *[]){"LEASE_MS=500", NULL});
    jf_worker_start(rd, "form", "form-1", jf_endpoint(g),
                    (const char *[]){"WORKER_CAPACITY=2", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    const char *jid = jf_run(g, jf_body(jf_targets(2, "long", "slow:1500"), SUBMIT_ONLY));
    json_t *job = jf_wait_status(g, jid, "completed", 20000);
    json_t *ev = jf_events(rd, jid);
    for (int k = 1; k <= 2; k++) {
        const char *tid = hr_fmt("%06d", k);
        cr_assert_eq(jf_count_events(ev, tid, "running"), 1,
                     "task %s was started %d times: its lease ran out while the worker still "
                     "worked on it; job %s; events: %s",
                     tid, jf_count_events(ev, tid, "running"), hr_jdump(job), hr_jdump(ev));
    }
    cr_assert_eq(jf_count(job, "succeeded"), 2, "%s", hr_jdump(job));
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* ---- garbage on the worker link ------------------------------------------------------------ */

static void send_frames(zsock_t *s, int n, const void *const *data, const size_t *len)
{
    void *raw = zsock_resolve(s);
    for (int i = 0; i < n; i++) {
        int rc = zmq_send(raw, data[i], len[i], i + 1 < n ? ZMQ_SNDMORE : 0);
        cr_assert_geq(rc, 0, "zmq_send: %s", zmq_strerror(zmq_errno()));
    }
}

static zsock_t *dealer(const hr_gateway_t *g)
{
    zsys_handler_set(NULL);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    cr_assert(s);
    zsock_set_linger(s, 0);
    cr_assert_eq(zsock_connect(s, "%s", jf_endpoint(g)), 0);
    return s;
}

static long long metric(const hr_gateway_t *g, const char *name)
{
    hr_resp_t *r = hr_get(g, "/metrics");
    const char *p = strstr(r->body, hr_fmt("\n%s ", name));
    return p ? atoll(p + strlen(name) + 2) : -1;
}

Test(jobs_crash, garbage_on_the_worker_link_is_logged_and_dropped)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway(NULL);
    zsock_t *s = dealer(g);
    hr_sleep_ms(200);
    /* 1. one frame */
    send_frames(s, 1, (const void *[]){"hello"}, (size_t[]){5});
    /* 2. a bad header (magic), a header of 3 bytes, an unknown version, an unknown command */
    send_frames(s, 2, (const void *[]){"XA\x01\x01", "\x80"}, (size_t[]){4, 1});
    send_frames(s, 2, (const void *[]){"PA\x01", "\x80"}, (size_t[]){3, 1});
    send_frames(s, 2, (const void *[]){"PA\x09\x01", "\x80"}, (size_t[]){4, 1});
    send_frames(s, 2, (const void *[]){(const char[]){'P', 'A', PA_PROTO_VERSION, 0x7f}, "\x80"},
                (size_t[]){4, 1});
    /* 3. random bytes: as header and body, and as the body of a HELLO */
    unsigned char rnd[4096];
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)(rand_r(&seed) >> 7);
    rnd[0] = 0xde; /* never the magic */
    send_frames(s, 2, (const void *[]){rnd, rnd + 4}, (size_t[]){4, 512});
    send_frames(s, 2,
                (const void *[]){(const char[]){'P', 'A', PA_PROTO_VERSION, 0x01}, rnd + 1000},
                (size_t[]){4, 2000});
    /* 4. a TASK: valid, but only a gateway sends it */
    pa_task_msg_t tm = {.task_id = "j-x:000001",
                        .job_id = "j-x",
                        .stage = "submit",
                        .lease = "1",
                        .attempt = 1,
                        .max_attempts = 3,
                        .deadline_ms = 1};
    pa_msg_t *m = pa_task_msg_encode(&tm);
    unsigned char hdr[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "%s", err);
    pa_msg_destroy(&m);
    send_frames(s, 2, (const void *[]){hdr, body.data}, (size_t[]){sizeof hdr, body.len});
    pa_buf_free(&body);
    /* every one of them is logged as dropped */
    uint64_t deadline = hr_now_ms() + 5000;
    int frames, malformed, task;
    do {
        hr_sleep_ms(50);
        frames = hr_gateway_count_lines(g, "dropped", "wrong number of frames");
        malformed = hr_gateway_count_lines(g, "dropped a malformed message", NULL);
        task = hr_gateway_count_lines(g, "dropped", "TASK");
    } while ((frames < 1 || malformed < 6 || task < 1) && hr_now_ms() < deadline);
    cr_assert_eq(frames, 1, "1-frame message: %d log lines\n%s", frames, hr_gateway_output(g));
    cr_assert_eq(malformed, 6, "6 malformed messages, %d logged:\n%s", malformed,
                 hr_gateway_output(g));
    cr_assert_eq(task, 1, "a TASK from a worker: %d log lines\n%s", task, hr_gateway_output(g));
    cr_assert_eq(hr_gateway_count_lines(g, "dropped", "bad magic"), 2, "%s", hr_gateway_output(g));
    cr_assert_eq(hr_gateway_count_lines(g, "dropped", "expected 4"), 1, "%s", hr_gateway_output(g));
    cr_assert_eq(hr_gateway_count_lines(g, "dropped", "unsupported version 9"), 1, "%s",
                 hr_gateway_output(g));
    cr_assert_eq(metric(g, "pa_dispatch_dropped_messages_total"), 8, "metrics: %s",
                 hr_get(g, "/metrics")->body);
    /* 5. an oversized body (2 MiB) on its own connection */
    zsock_t *big = dealer(g);
    size_t blen = 2u << 20;
    char *b = malloc(blen);
    cr_assert(b);
    memset(b, 0xa5, blen);
    send_frames(big, 2, (const void *[]){(const char[]){'P', 'A', PA_PROTO_VERSION, 0x01}, b},
                (size_t[]){4, blen});
    free(b);
    hr_sleep_ms(500);
    zsock_destroy(&big);
    zsock_destroy(&s);
    /* the gateway serves on, and a normal job completes */
    cr_assert_eq(hr_get(g, "/api/health")->status, 200, "health after the garbage");
    cr_assert(!jf_sanitizer_report(hr_gateway_output(g)), "%s", hr_gateway_output(g));
    jf_worker_start(rd, "form", "form-1", jf_endpoint(g), NULL);
    const char *jid = jf_run(g, jf_body(jf_targets(3, "clean", NULL), SUBMIT_ONLY));
    json_t *job = jf_wait_status(g, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 3, "%s", hr_jdump(job));
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* docs/protocol.md: every dropped message is logged "with the peer (ROUTER identity or
 * endpoint)", so that an operator can find the process that sends garbage. */
Test(jobs_crash, dropped_message_log_line_names_the_peer)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway(NULL);
    zsys_handler_set(NULL);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    cr_assert(s);
    zsock_set_linger(s, 0);
    zsock_set_identity(s, "garbage-peer-7");
    cr_assert_eq(zsock_connect(s, "%s", jf_endpoint(g)), 0);
    hr_sleep_ms(200);
    send_frames(s, 2, (const void *[]){"XA\x01\x01", "\x80"}, (size_t[]){4, 1});
    uint64_t deadline = hr_now_ms() + 3000;
    while (hr_gateway_count_lines(g, "dropped", NULL) < 1 && hr_now_ms() < deadline)
        hr_sleep_ms(50);
    zsock_destroy(&s);
    cr_assert_eq(hr_gateway_count_lines(g, "dropped", NULL), 1, "%s", hr_gateway_output(g));
    /* the identity as text, or hex-encoded */
    int named = hr_gateway_count_lines(g, "dropped", "garbage-peer-7") +
                hr_gateway_count_lines(g, "dropped", "676172626167652d706565722d37");
    cr_assert_eq(named, 1,
                 "the dropped-message line does not name the peer (identity "
                 "garbage-peer-7):\n%s",
                 hr_gateway_output(g));
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* docs/protocol.md: a body frame over 1 052 672 bytes is refused, and, like every malformed
 * message, logged ("body frame of N bytes exceeds the 1052672-byte limit") and counted. */
/* A frame over the decoder's bound is never held: ZMQ_MAXMSGSIZE (the same bound) makes libzmq
 * cut the peer off as the frame's length arrives (the peer sees its connection dropped), and
 * the gateway carries on. It used to take frames up to 16 MiB into memory before the decoder
 * refused them. */
Test(jobs_crash, oversized_frame_cuts_the_peer_off_before_it_is_held)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway(NULL);
    zsock_t *big = dealer(g);
    zactor_t *mon = zactor_new(zmonitor, big);
    zstr_sendx(mon, "LISTEN", "DISCONNECTED", NULL);
    zstr_sendx(mon, "START", NULL);
    zsock_wait(mon);
    hr_sleep_ms(200);
    size_t blen = PA_PROTO_MAX_BODY + 1;
    char *b = malloc(blen);
    cr_assert(b);
    memset(b, 0xa5, blen);
    send_frames(big, 2, (const void *[]){(const char[]){'P', 'A', PA_PROTO_VERSION, 0x01}, b},
                (size_t[]){4, blen});
    free(b);
    zsock_set_rcvtimeo(mon, 3000);
    char *event = zstr_recv(mon); /* "DISCONNECTED", or NULL after 3 s */
    int cut = event && strcmp(event, "DISCONNECTED") == 0;
    zstr_free(&event);
    zactor_destroy(&mon);
    zsock_destroy(&big);
    cr_assert(cut, "a frame over the decoder's bound did not cut the peer off");
    cr_assert_eq(hr_get(g, "/api/health")->status, 200);
    cr_assert_eq(hr_gateway_count_lines(g, "dropped", "exceeds"), 0,
                 "the gateway took the oversized frame in:\n%s", hr_gateway_output(g));
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

/* ---- a worker stopped with SIGTERM ---------------------------------------------------------- */

Test(jobs_crash, sigterm_worker_releases_unfinished_tasks_at_once)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = gateway(NULL); /* LEASE_MS stays 30 s: a requeue by lease would be late */
    jf_worker_t *w1 =
        jf_worker_start(rd, "form", "form-1", jf_endpoint(g),
                        (const char *[]){"WORKER_CAPACITY=4", "TEST_WORKER_DELAY_MS=20000",
                                         "STOP_TIMEOUT_S=1", NULL});
    jf_wait_workers(g, "form", 1, 5000);
    const char *jid = jf_run(g, jf_body(jf_targets(4, "term", NULL), SUBMIT_ONLY));
    jf_wait_held(rd, "form-1", 4, 5000);
    jf_wait_started(rd, "form-1", 4, 5000);
    jf_worker_start(rd, "form", "form-2", jf_endpoint(g),
                    (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(g, "form", 2, 5000);
    uint64_t t0 = jf_wall_ms(), m0 = hr_now_ms();
    jf_worker_signal(w1, SIGTERM);
    int exited = jf_worker_wait_exit(w1, 5000);
    uint64_t took = hr_now_ms() - m0;
    cr_assert(exited, "the worker still runs 5 s after SIGTERM with STOP_TIMEOUT_S=1:\n%s",
              jf_worker_output(w1));
    cr_assert(WIFEXITED(w1->status) && WEXITSTATUS(w1->status) == 0,
              "exit status 0x%x after SIGTERM:\n%s", w1->status, jf_worker_output(w1));
    cr_assert_leq(took, 2500, "took %llu ms to stop with STOP_TIMEOUT_S=1",
                  (unsigned long long)took);
    json_t *job = jf_wait_status(g, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 4, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    assert_each_succeeded_once(jid, 4);
    json_t *ev = jf_events(rd, jid);
    for (int k = 1; k <= 4; k++) {
        const char *tid = hr_fmt("%06d", k);
        long long ms = first_event_ms(ev, tid, "queued", t0);
        cr_assert_geq(ms, 0, "task %s was not requeued: %s", tid, hr_jdump(ev));
        cr_assert_leq((uint64_t)ms - t0, 2500, "task %s requeued %llu ms after SIGTERM", tid,
                      (unsigned long long)((uint64_t)ms - t0));
        json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:%s", jid, tid));
        cr_assert_str_eq(hr_jstr(t, "worker"), "form-2", "%s", hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "attempt"), "1", "a released try must not count: %s",
                         hr_jdump(t));
    }
    cr_assert(strstr(jf_worker_output(w1), "released unfinished tasks"), "%s",
              jf_worker_output(w1));
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
