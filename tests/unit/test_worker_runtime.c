/* The worker runtime (common/pa_worker.c) driven for real: pa_worker_run on a thread, against a
 * gateway ROUTER socket made by the test (or the real dispatcher, gw_dispatch) and a real
 * redis-server. HELLO and CREDIT; a TASK reaches the daemon with its attempt numbers and an
 * arena that is released after the commit; a CANCEL message and a lease check (a lost lease, a
 * cancelled job) reach on_cancel, after which nothing is committed; claims; the status record;
 * a capacity of 1024 tasks each watching its own descriptors. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gw_dispatch.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_proto.h"
#include "pa_task.h"
#include "pa_worker.h"
#include "redis_fixture.h"

#define WID "rt-1"

static rf_redis_t srv = RF_REDIS_INIT;
static pa_redis_t *cli;
static zsock_t *router;
static int gw_port;
static char url[200];

/* ---- the daemon: records what the runtime gives it ----------------------------------------- */

typedef enum { HOLD, FINISH, CLAIM, PIPE, STATUS, COMMITTED } behaviour_t;

typedef struct {
    char key[140], reason[64];
    unsigned attempt, max_attempts;
    bool last, arena;
    /* the documents, through the accessors (pa_task_input...) */
    char target[64], name[16], tmpl[16], input_text[64];
    long long fact;
    bool no_compose_result, same_tree;
} seen_t;

static struct {
    pthread_mutex_t mu;
    behaviour_t how;
    seen_t tasks[16];
    int ntasks;
    seen_t cancels[16];
    int ncancels;
    pa_claim_t claims[16];
    int nclaims;
    int claim_inside; /* a claim answered inside pa_worker_claim */
    /* COMMITTED: the task's state in Redis when pa_worker_when_committed called back */
    char committed_state[16][24];
    int ncommitted, committed_inside;
    atomic_int arenas_freed, started, stopped;
    /* PIPE: every task watches a pipe of its own; all are written once `pipe_at` are held */
    int pipe_at, held, peak_watched, pipe_err;
    int (*pipes)[2];
} D;

static pa_worker_t *W;
static gw_dispatch_t *dispatcher;
static pthread_t thread;
static int rc_run;

static void arena_freed(void *p)
{
    (void)p;
    atomic_fetch_add(&D.arenas_freed, 1);
}

static int in_claim_call;

static void on_claimed(pa_worker_t *w, pa_task_t *t, pa_claim_t c, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&D.mu);
    if (in_claim_call) D.claim_inside = 1;
    if (D.nclaims < 16) D.claims[D.nclaims++] = c;
    pthread_mutex_unlock(&D.mu);
    pa_worker_done(w, t, PA_OUT_SUCCEEDED, "{}", NULL, 0);
}

static void on_pipe(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    (void)events;
    pa_task_t *t = ud;
    char c;
    if (read(fd, &c, 1) != 1) return;
    pa_loop_unwatch(l, fd);
    pa_worker_done(W, t, PA_OUT_SUCCEEDED, NULL, NULL, 0);
}

static void close_pair(void *p)
{
    int *fds = p;
    close(fds[0]);
    close(fds[1]);
}

static int in_when_call;

/* COMMITTED: reads the task's state on a connection of its own (not the runtime's). */
static void on_committed(pa_worker_t *w, void *ud)
{
    (void)w;
    char *key = ud;
    char st[24] = "";
    pa_redis_t *c = pa_redis_new(url, 2000, NULL, 0);
    redisReply *r = c ? pa_redis_cmd(c, "HGET pa:task:%s state", key) : NULL;
    if (r && r->type == REDIS_REPLY_STRING) snprintf(st, sizeof st, "%s", r->str);
    if (r) freeReplyObject(r);
    pa_redis_destroy(&c);
    pthread_mutex_lock(&D.mu);
    if (in_when_call) D.committed_inside = 1;
    if (D.ncommitted < 16) snprintf(D.committed_state[D.ncommitted++], 24, "%s", st);
    pthread_mutex_unlock(&D.mu);
    free(key);
}

static void d_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&D.mu);
    if (D.ntasks < 16) {
        seen_t *s = &D.tasks[D.ntasks++];
        snprintf(s->key, sizeof s->key, "%s", t->key);
        s->attempt = t->attempt, s->max_attempts = t->max_attempts, s->last = t->last_attempt;
        s->arena = t->arena != NULL;
        snprintf(s->target, sizeof s->target, "%s", t->target);
        snprintf(s->name, sizeof s->name, "%s",
                 json_string_value(json_object_get(pa_task_input(t), "name")));
        snprintf(s->tmpl, sizeof s->tmpl, "%s",
                 json_string_value(json_object_get(pa_task_context(t), "template")));
        s->fact = json_integer_value(
            json_array_get(json_object_get(pa_task_result(t, "enrich"), "facts"), 0));
        s->no_compose_result =
            !pa_task_result(t, "compose") && !pa_task_result_text(t, "compose", NULL);
        s->same_tree = pa_task_input(t) == pa_task_input(t); /* parsed once */
        snprintf(s->input_text, sizeof s->input_text, "%s", pa_task_input_text(t, NULL));
    }
    behaviour_t how = D.how;
    pthread_mutex_unlock(&D.mu);
    pa_arena_defer(t->arena, arena_freed, NULL);
    if (how == FINISH) {
        pa_worker_done(w, t, PA_OUT_SUCCEEDED, "{\"ok\":true}", NULL, 0);
    } else if (how == CLAIM) {
        in_claim_call = 1;
        pa_worker_claim(w, t, "unit:one", 60, on_claimed, NULL);
        in_claim_call = 0;
    } else if (how == PIPE) {
        /* (no cr_assert on this thread: errors are counted and checked by the test) */
        int *fds = pa_arena_alloc(t->arena, 2 * sizeof(int));
        if (pipe(fds) < 0) {
            D.pipe_err++;
            pa_worker_done(w, t, PA_OUT_FAILED, NULL, "pipe", 0);
            return;
        }
        pa_arena_defer(t->arena, close_pair, fds);
        if (pa_loop_watch(pa_worker_loop(w), fds[0], PA_IO_READ, on_pipe, t) < 0) D.pipe_err++;
        D.pipes[D.held][1] = fds[1];
        if (++D.held == D.pipe_at) {
            D.peak_watched = (int)pa_loop_watched(pa_worker_loop(w));
            for (int i = 0; i < D.held; i++)
                if (write(D.pipes[i][1], "x", 1) != 1) D.pipe_err++;
        }
    } else if (how == COMMITTED) {
        char *key = strdup(t->key);
        pa_worker_done(w, t, PA_OUT_SUCCEEDED, "{\"ok\":true}", NULL, 0);
        in_when_call = 1;
        pa_worker_when_committed(w, on_committed, key);
        in_when_call = 0;
    } else if (how == STATUS) {
        pa_worker_set_status(w, "gone_soon", NULL);
        pa_worker_set_status(w, "last_task", t->key);
        pa_worker_done(w, t, PA_OUT_SUCCEEDED, NULL, NULL, 0);
    }
}

static void d_cancel(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&D.mu);
    if (D.ncancels < 16) {
        seen_t *s = &D.cancels[D.ncancels++];
        snprintf(s->key, sizeof s->key, "%s", t->key);
        snprintf(s->reason, sizeof s->reason, "%s", reason);
    }
    pthread_mutex_unlock(&D.mu);
    /* any outcome: it is not committed */
    pa_worker_done(w, t, PA_OUT_SUCCEEDED, "{\"after\":\"cancel\"}", NULL, 0);
}

static int d_start(pa_worker_t *w, void *ud)
{
    (void)ud;
    pa_worker_set_status(w, "breaker_state", "closed");
    pa_worker_set_status(w, "gone_soon", "yes");
    atomic_store(&D.started, 1);
    return 0;
}

static void d_stop(pa_worker_t *w, void *ud)
{
    (void)w, (void)ud;
    atomic_store(&D.stopped, 1);
}

static void *run_thread(void *p)
{
    rc_run = pa_worker_run(p);
    return NULL;
}

/* Starts the runtime on a thread (its environment: this gateway, this Redis, WID). */
static void start_worker(const char *endpoint, unsigned capacity, int hb_ms)
{
    char ep[64], cap[16], hb[16];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", gw_port);
    snprintf(cap, sizeof cap, "%u", capacity);
    snprintf(hb, sizeof hb, "%d", hb_ms);
    setenv("GATEWAY_ENDPOINTS", endpoint ? endpoint : ep, 1);
    setenv("REDIS_URL", url, 1);
    setenv("WORKER_ID", WID, 1);
    setenv("WORKER_CAPACITY", cap, 1);
    setenv("HEARTBEAT_MS", hb, 1);
    setenv("STOP_TIMEOUT_S", "1", 1);
    pa_worker_ops_t ops = {.service = "form",
                           .on_start = d_start,
                           .on_task = d_task,
                           .on_cancel = d_cancel,
                           .on_stop = d_stop};
    char err[256];
    W = pa_worker_new(&ops, err, sizeof err);
    cr_assert_not_null(W, "%s", err);
    cr_assert_eq(pthread_create(&thread, NULL, run_thread, W), 0);
}

static void stop_worker(void)
{
    if (!W) return;
    pa_worker_stop(W);
    pthread_join(thread, NULL);
    pa_worker_destroy(&W);
}

/* ---- the fake gateway ---------------------------------------------------------------------- */

typedef struct {
    zframe_t *ident;
    pa_msg_t *m;
} in_t;

/* The next message from the worker within timeout_ms (m NULL when none came). */
static in_t gw_recv(int timeout_ms)
{
    in_t in = {0};
    zsock_set_rcvtimeo(router, timeout_ms);
    zmsg_t *msg = zmsg_recv(router);
    if (!msg) return in;
    cr_assert_eq(zmsg_size(msg), 3, "a worker message has 3 frames on the ROUTER");
    in.ident = zmsg_pop(msg);
    zframe_t *h = zmsg_pop(msg), *b = zmsg_pop(msg);
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_decode(zframe_data(h), zframe_size(h), zframe_data(b), zframe_size(b),
                                 &in.m, err, sizeof err),
                 0, "%s", err);
    zframe_destroy(&h);
    zframe_destroy(&b);
    zmsg_destroy(&msg);
    return in;
}

static void in_free(in_t *in)
{
    zframe_destroy(&in->ident);
    pa_msg_destroy(&in->m);
}

/* The next message of command cmd (others, such as heartbeats, are skipped). */
static in_t gw_expect(pa_cmd_t cmd, int timeout_ms)
{
    uint64_t deadline = rf_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        long left = (long)(deadline - rf_now_ms());
        cr_assert_gt(left, 0, "no %s from the worker within %d ms", pa_proto_cmd_name(cmd),
                     timeout_ms);
        in_t in = gw_recv((int)left);
        if (in.m && pa_msg_cmd(in.m) == cmd) return in;
        in_free(&in);
    }
}

static void gw_send(zframe_t *ident, const pa_msg_t *m)
{
    cr_assert_eq(pa_proto_send(zsock_resolve(router), zframe_data(ident), zframe_size(ident), m),
                 0);
}

static void send_task(zframe_t *ident, const char *key, const char *lease, unsigned attempt,
                      unsigned max)
{
    pa_task_msg_t tm = {.task_id = key,
                        .job_id = key,
                        .job_id_len = (size_t)(strrchr(key, ':') - key),
                        .stage = "submit",
                        .lease = lease,
                        .attempt = attempt,
                        .max_attempts = max,
                        .deadline_ms = (uint64_t)time(NULL) * 1000 + 30000,
                        .target = "https://example.test/",
                        .input = "{\"name\":\"Ada\"}",
                        .context = "{\"template\":\"Hi\"}",
                        .nresults = 1,
                        .results = {{"enrich", 0, "{\"facts\":[1]}", 0}}};
    pa_msg_t *m = pa_task_msg_encode(&tm);
    gw_send(ident, m);
    pa_msg_destroy(&m);
}

/* Joins: HELLO, then CREDIT; returns the worker's identity (caller frees) and the credit. */
static zframe_t *gw_join(unsigned *credit)
{
    in_t h = gw_expect(PA_CMD_HELLO, 5000);
    cr_assert_str_eq(pa_msg_str(h.m, PA_FIELD_HELLO_WORKER_ID, NULL), WID);
    cr_assert_str_eq(pa_msg_str(h.m, PA_FIELD_HELLO_SERVICE, NULL), "form");
    in_t c = gw_expect(PA_CMD_CREDIT, 5000);
    *credit = (unsigned)pa_msg_uint(c.m, PA_FIELD_CREDIT_N);
    zframe_t *ident = zframe_dup(h.ident);
    in_free(&h);
    in_free(&c);
    return ident;
}

/* ---- Redis --------------------------------------------------------------------------------- */

static void rdo(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char cmd[1024];
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    /* whitespace-separated words, none with blanks */
    const char *argv[32];
    char *save = NULL;
    int n = 0;
    for (char *p = strtok_r(cmd, " ", &save); p && n < 32; p = strtok_r(NULL, " ", &save))
        argv[n++] = p;
    redisReply *r = pa_redis_argv(cli, n, argv, NULL);
    cr_assert(r && r->type != REDIS_REPLY_ERROR, "%s: %s", argv[0], r ? r->str : "no answer");
    freeReplyObject(r);
}

static char *rget(const char *fmt, const char *a, const char *b)
{
    redisReply *r = pa_redis_cmd(cli, fmt, a, b);
    cr_assert_not_null(r);
    char *s = r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    freeReplyObject(r);
    return s;
}

/* A task running under lease `lease`, leased to WID, of a running one-stage job. */
static void seed_task(const char *job, const char *key, const char *lease)
{
    rdo("HSET pa:job:%s id %s status running total 1 stages submit max_attempts {} running 1 "
        "queued 0 succeeded 0 failed 0 cancelled 0",
        job, job);
    rdo("HSET pa:task:%s state running lease %s worker %s stage submit attempt 1", key, lease, WID);
    rdo("ZADD pa:worker:%s:tasks %llu %s", WID, (unsigned long long)time(NULL) * 1000 + 30000, key);
    rdo("SADD pa:leasing %s", WID);
}

/* ---- fixture ------------------------------------------------------------------------------- */

static void setup(void)
{
    pa_log_init("test", PA_LOG_ERROR, 2);
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    char err[512];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    rf_redis_url(&srv, 0, url, sizeof url);
    cli = pa_redis_new(url, 2000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    zsys_handler_set(NULL);
    router = zsock_new(ZMQ_ROUTER);
    cr_assert_not_null(router);
    zsock_set_linger(router, 0);
    zsock_set_sndhwm(router, 100000);
    zsock_set_rcvhwm(router, 100000);
    gw_port = zsock_bind(router, "tcp://127.0.0.1:*");
    cr_assert_gt(gw_port, 0);
    memset(&D, 0, sizeof D);
    pthread_mutex_init(&D.mu, NULL);
}

static void teardown(void)
{
    stop_worker();
    gw_dispatch_destroy(&dispatcher);
    zsock_destroy(&router);
    pa_redis_destroy(&cli);
    rf_redis_cleanup(&srv);
    free(D.pipes);
}

TestSuite(worker_runtime, .init = setup, .fini = teardown, .timeout = 60);

/* The status record is written without waiting: it may land just after the HELLO. */
static void wait_status_record(void)
{
    uint64_t deadline = rf_now_ms() + 3000;
    for (;;) {
        redisReply *r = pa_redis_cmd(cli, "EXISTS pa:worker:%s:status", WID);
        int have = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        if (r) freeReplyObject(r);
        if (have) return;
        cr_assert_lt(rf_now_ms(), deadline, "no status record within 3 s");
        rf_sleep_ms(5);
    }
}

static int ncancels(void)
{
    pthread_mutex_lock(&D.mu);
    int n = D.ncancels;
    pthread_mutex_unlock(&D.mu);
    return n;
}

static int wait_cancels(int n, int timeout_ms)
{
    uint64_t deadline = rf_now_ms() + (uint64_t)timeout_ms;
    while (ncancels() < n && rf_now_ms() < deadline) rf_sleep_ms(5);
    return ncancels();
}

/* ---- tests --------------------------------------------------------------------------------- */

Test(worker_runtime, hello_credit_and_the_status_record)
{
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    cr_assert_eq(credit, 4, "the free slots are offered as credit");
    cr_assert(atomic_load(&D.started), "on_start ran before the worker joined");
    wait_status_record();
    char *svc = rget("HGET pa:worker:%s:status %s", WID, "service");
    char *cap = rget("HGET pa:worker:%s:status %s", WID, "capacity");
    char *br = rget("HGET pa:worker:%s:status %s", WID, "breaker_state");
    cr_assert(svc && !strcmp(svc, "form"), "status record: service %s", svc ? svc : "(none)");
    cr_assert(cap && !strcmp(cap, "4"));
    cr_assert(br && !strcmp(br, "closed"), "the daemon's own field");
    free(svc), free(cap), free(br);
    redisReply *r = pa_redis_cmd(cli, "PTTL pa:worker:%s:status", WID);
    cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 15000,
              "the record expires after 3 heartbeats");
    freeReplyObject(r);
    zframe_destroy(&ident);
    stop_worker();
    cr_assert(atomic_load(&D.stopped), "on_stop ran");
    cr_assert_eq(rc_run, 0);
    r = pa_redis_cmd(cli, "EXISTS pa:worker:%s:status", WID);
    cr_assert_eq(r->integer, 0, "a worker that stops removes its record");
    freeReplyObject(r);
}

Test(worker_runtime, status_fields_follow_set_status_at_each_heartbeat)
{
    D.how = STATUS;
    seed_task("j-s", "j-s:000001", "5");
    start_worker(NULL, 2, 100);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    wait_status_record();
    char *v = rget("HGET pa:worker:%s:status %s", WID, "gone_soon");
    cr_assert(v && !strcmp(v, "yes"), "set in on_start, published at once");
    free(v);
    send_task(ident, "j-s:000001", "5", 1, 3); /* the daemon removes gone_soon, sets last_task */
    pa_msg_t *hb = pa_msg_new(PA_CMD_HEARTBEAT);
    uint64_t deadline = rf_now_ms() + 3000;
    for (;;) {
        gw_send(ident, hb); /* the gateway's side of the heartbeats */
        char *last = rget("HGET pa:worker:%s:status %s", WID, "last_task");
        char *gone = rget("HGET pa:worker:%s:status %s", WID, "gone_soon");
        int ok = last && !strcmp(last, "j-s:000001") && !gone;
        free(last), free(gone);
        if (ok) break;
        cr_assert_lt(rf_now_ms(), deadline, "the next heartbeats did not publish the change");
        rf_sleep_ms(20);
    }
    pa_msg_destroy(&hb);
    zframe_destroy(&ident);
}

Test(worker_runtime, task_carries_attempt_max_and_last_and_its_arena_ends_after_the_commit)
{
    D.how = FINISH;
    seed_task("j-a", "j-a:000001", "11");
    seed_task("j-b", "j-b:000001", "12");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    send_task(ident, "j-a:000001", "11", 3, 3);
    send_task(ident, "j-b:000001", "12", 1, 3);
    /* both commits answered: their credit comes back */
    unsigned back = 0;
    while (back < 2) {
        in_t c = gw_expect(PA_CMD_CREDIT, 5000);
        back += (unsigned)pa_msg_uint(c.m, PA_FIELD_CREDIT_N);
        in_free(&c);
    }
    pthread_mutex_lock(&D.mu);
    cr_assert_eq(D.ntasks, 2);
    cr_assert_str_eq(D.tasks[0].key, "j-a:000001");
    cr_assert_eq(D.tasks[0].attempt, 3);
    cr_assert_eq(D.tasks[0].max_attempts, 3);
    cr_assert(D.tasks[0].last, "attempt 3 of 3 is the last");
    cr_assert_eq(D.tasks[1].attempt, 1);
    cr_assert_eq(D.tasks[1].max_attempts, 3);
    cr_assert_not(D.tasks[1].last);
    cr_assert(D.tasks[0].arena && D.tasks[1].arena);
    /* the typed documents of the TASK message */
    cr_assert_str_eq(D.tasks[0].target, "https://example.test/");
    cr_assert_str_eq(D.tasks[0].name, "Ada");
    cr_assert_str_eq(D.tasks[0].tmpl, "Hi");
    cr_assert_eq(D.tasks[0].fact, 1);
    cr_assert(D.tasks[0].no_compose_result);
    cr_assert(D.tasks[0].same_tree);
    cr_assert_str_eq(D.tasks[0].input_text, "{\"name\":\"Ada\"}");
    pthread_mutex_unlock(&D.mu);
    cr_assert_eq(atomic_load(&D.arenas_freed), 2, "each task's arena is released after its commit");
    char *st = rget("HGET pa:task:%s %s", "j-a:000001", "state");
    cr_assert(st && !strcmp(st, "succeeded"), "committed: %s", st ? st : "(none)");
    free(st);
    zframe_destroy(&ident);
}

Test(worker_runtime, when_committed_calls_back_once_the_ended_task_is_in_redis)
{
    D.how = COMMITTED;
    seed_task("j-w", "j-w:000001", "21");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    send_task(ident, "j-w:000001", "21", 1, 3);
    uint64_t deadline = rf_now_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&D.mu);
        int n = D.ncommitted;
        pthread_mutex_unlock(&D.mu);
        if (n) break;
        cr_assert_lt(rf_now_ms(), deadline, "pa_worker_when_committed never called back");
        rf_sleep_ms(5);
    }
    pthread_mutex_lock(&D.mu);
    /* the commit is pipelined after the turn: a callback made at once would see "running" */
    cr_assert_str_eq(D.committed_state[0], "succeeded");
    cr_assert_not(D.committed_inside, "called inside pa_worker_when_committed");
    pthread_mutex_unlock(&D.mu);
    zframe_destroy(&ident);
}

Test(worker_runtime, a_task_with_malformed_results_fails_without_reaching_the_daemon)
{
    D.how = FINISH;
    seed_task("j-m", "j-m:000001", "21");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    /* a well-formed TASK whose results is an array: the codec takes it (any), pa_task does not */
    pa_task_msg_t tm = {.task_id = "j-m:000001",
                        .job_id = "j-m",
                        .stage = "submit",
                        .lease = "21",
                        .attempt = 1,
                        .max_attempts = 3,
                        .deadline_ms = (uint64_t)time(NULL) * 1000 + 30000};
    pa_msg_t *m = pa_task_msg_encode(&tm);
    pa_msg_set_any(m, PA_FIELD_TASK_RESULTS, "\x91\x01", 2);
    gw_send(ident, m);
    pa_msg_destroy(&m);
    in_t c = gw_expect(PA_CMD_CREDIT, 5000); /* its slot comes back once the failure is committed */
    cr_assert_eq(pa_msg_uint(c.m, PA_FIELD_CREDIT_N), 1);
    in_free(&c);
    pthread_mutex_lock(&D.mu);
    cr_assert_eq(D.ntasks, 0, "the daemon never saw it");
    pthread_mutex_unlock(&D.mu);
    char *st = rget("HGET pa:task:%s %s", "j-m:000001", "state");
    cr_assert(st && !strcmp(st, "failed"), "committed: %s", st ? st : "(none)");
    free(st);
    char *err = rget("HGET pa:task:%s %s", "j-m:000001", "error");
    cr_assert(err && strstr(err, "results is not a map"), "error: %s", err ? err : "(none)");
    free(err);
    zframe_destroy(&ident);
}

Test(worker_runtime, cancel_message_reaches_on_cancel_and_nothing_is_committed)
{
    D.how = HOLD;
    seed_task("j-c", "j-c:000001", "21");
    seed_task("j-d", "j-d:000001", "22");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    send_task(ident, "j-c:000001", "21", 1, 3);
    send_task(ident, "j-d:000001", "22", 1, 3);
    rf_sleep_ms(100);
    cr_assert_eq(ncancels(), 0);
    pa_msg_t *m = pa_msg_new(PA_CMD_CANCEL);
    pa_msg_set_str(m, PA_FIELD_CANCEL_JOB_ID, "j-c");
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "job cancelled");
    uint64_t t0 = rf_now_ms();
    gw_send(ident, m);
    pa_msg_destroy(&m);
    /* the lease check would say "ok" (the task runs in Redis): only the message tells it */
    cr_assert_eq(wait_cancels(1, 2000), 1);
    cr_assert_lt(rf_now_ms() - t0, 500, "CANCEL took %llu ms to reach on_cancel",
                 (unsigned long long)(rf_now_ms() - t0));
    pthread_mutex_lock(&D.mu);
    cr_assert_str_eq(D.cancels[0].key, "j-c:000001", "only the job's task");
    cr_assert_str_eq(D.cancels[0].reason, "job cancelled");
    pthread_mutex_unlock(&D.mu);
    /* the daemon ended it (in on_cancel): the slot comes back, the outcome is not committed */
    in_t c = gw_expect(PA_CMD_CREDIT, 2000);
    cr_assert_eq(pa_msg_uint(c.m, PA_FIELD_CREDIT_N), 1);
    in_free(&c);
    char *st = rget("HGET pa:task:%s %s", "j-c:000001", "state");
    cr_assert(st && !strcmp(st, "running"), "a cancelled task's outcome was committed: %s", st);
    free(st);
    cr_assert_eq(atomic_load(&D.arenas_freed), 1, "its arena was released");
    cr_assert_eq(wait_cancels(2, 300), 1, "the other job's task goes on");
    zframe_destroy(&ident);
}

Test(worker_runtime, lost_lease_and_cancelled_job_reach_on_cancel_through_the_lease_check)
{
    D.how = HOLD;
    seed_task("j-e", "j-e:000001", "31");
    seed_task("j-f", "j-f:000001", "32");
    seed_task("j-g", "j-g:000001", "33");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    send_task(ident, "j-e:000001", "31", 1, 3);
    send_task(ident, "j-f:000001", "32", 1, 3);
    send_task(ident, "j-g:000001", "33", 1, 3);
    rf_sleep_ms(100);
    /* another worker has j-e now; j-f's job was cancelled (as cancel.lua leaves it) */
    rdo("HSET pa:task:j-e:000001 lease 99 worker other");
    rdo("HSET pa:task:j-f:000001 state cancelled");
    rdo("HSET pa:job:j-f status cancelled");
    uint64_t t0 = rf_now_ms();
    cr_assert_eq(wait_cancels(2, 3000), 2, "no CANCEL was sent: the lease check must find both");
    cr_assert_leq(rf_now_ms() - t0, 1500, "held leases are checked at least every second");
    pthread_mutex_lock(&D.mu);
    for (int i = 0; i < 2; i++) {
        if (!strcmp(D.cancels[i].key, "j-e:000001"))
            cr_assert_str_eq(D.cancels[i].reason, "lease lost");
        else cr_assert_str_eq(D.cancels[i].reason, "job cancelled", "%s", D.cancels[i].key);
    }
    pthread_mutex_unlock(&D.mu);
    cr_assert_eq(wait_cancels(3, 1200), 2, "j-g's lease holds");
    zframe_destroy(&ident);
}

Test(worker_runtime, claim_is_taken_once_and_refused_after_a_cancel)
{
    D.how = CLAIM;
    seed_task("j-h", "j-h:000001", "41");
    seed_task("j-i", "j-i:000001", "42");
    seed_task("j-k", "j-k:000001", "43");
    rdo("HSET pa:job:j-k status cancelled");
    start_worker(NULL, 4, 5000);
    unsigned credit;
    zframe_t *ident = gw_join(&credit);
    send_task(ident, "j-h:000001", "41", 1, 3);
    in_t c = gw_expect(PA_CMD_CREDIT, 3000);
    in_free(&c);
    send_task(ident, "j-i:000001", "42", 1, 3);
    c = gw_expect(PA_CMD_CREDIT, 3000);
    in_free(&c);
    send_task(ident, "j-k:000001", "43", 1, 3);
    c = gw_expect(PA_CMD_CREDIT, 3000);
    in_free(&c);
    pthread_mutex_lock(&D.mu);
    cr_assert_eq(D.nclaims, 3);
    cr_assert_eq(D.claims[0], PA_CLAIM_OK, "got %s", pa_claim_name(D.claims[0]));
    cr_assert_eq(D.claims[1], PA_CLAIM_TAKEN, "got %s", pa_claim_name(D.claims[1]));
    cr_assert_eq(D.claims[2], PA_CLAIM_CANCELLED, "got %s", pa_claim_name(D.claims[2]));
    cr_assert_not(D.claim_inside, "a claim's answer comes from the loop, not inside the call");
    pthread_mutex_unlock(&D.mu);
    char *who = rget("GET %s%s", "pa:claim:", "unit:one");
    cr_assert(who && !strcmp(who, "j-h:000001/41"), "the claim holds %s", who ? who : "(none)");
    free(who);
    zframe_destroy(&ident);
}

Test(worker_runtime, capacity_1024_with_a_descriptor_pair_per_task)
{
    /* a soft limit of 1024 open files would stop this: the runtime raises it to the hard one */
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 4096)
        cr_skip_test("the hard limit of open files is %lu", (unsigned long)rl.rlim_max);
    rlim_t soft = rl.rlim_cur;
    rl.rlim_cur = 1024;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    D.how = PIPE;
    D.pipe_at = 1024;
    D.pipes = calloc(1024, sizeof *D.pipes);
    start_worker(NULL, 1024, 5000);
    unsigned credit = 0;
    zframe_t *ident = gw_join(&credit);
    while (credit < 1024) {
        in_t c = gw_expect(PA_CMD_CREDIT, 3000);
        credit += (unsigned)pa_msg_uint(c.m, PA_FIELD_CREDIT_N);
        in_free(&c);
    }
    cr_assert_eq(credit, 1024);
    for (int i = 1; i <= 1024; i++) {
        char key[64];
        snprintf(key, sizeof key, "j-cap:%06d", i);
        send_task(ident, key, "1", 1, 3);
    }
    unsigned back = 0;
    while (back < 1024) {
        in_t c = gw_expect(PA_CMD_CREDIT, 10000);
        back += (unsigned)pa_msg_uint(c.m, PA_FIELD_CREDIT_N);
        in_free(&c);
    }
    cr_assert_eq(back, 1024, "every task ended and gave its slot back");
    cr_assert_eq(D.pipe_err, 0, "pipes or watches failed");
    cr_assert_geq(D.peak_watched, 1024, "1024 descriptors watched at once (got %d)",
                  D.peak_watched);
    cr_assert_eq(atomic_load(&D.arenas_freed), 1024);
    zframe_destroy(&ident);
    stop_worker();
    rl.rlim_cur = soft;
    setrlimit(RLIMIT_NOFILE, &rl);
}

Test(worker_runtime, dispatcher_cancel_reaches_the_worker_at_once)
{
    /* the real dispatcher thread: gw_dispatch_cancel names the worker, a CANCEL goes out */
    int port = rf_free_port();
    char bind[64];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    gw_dispatch_opts_t o = {.bind = bind,
                            .redis_url = url,
                            .prefix = "pa:",
                            .redis_timeout_ms = 2000,
                            .heartbeat_ms = 200,
                            .lease_ms = 30000,
                            .gateway_id = "unit"};
    char err[256];
    dispatcher = gw_dispatch_new(&o, err, sizeof err);
    gw_dispatch_t *d = dispatcher;
    cr_assert_not_null(d, "%s", err);
    D.how = HOLD;
    seed_task("j-m", "j-m:000001", "51");
    rdo("HSET pa:task:j-m:000001 state queued stage submit attempt 0");
    rdo("HSET pa:job:j-m status queued running 0 queued 1 max_attempts {\"submit\":5}");
    rdo("LPUSH pa:ready:form j-m:000001");
    start_worker(bind, 2, 200);
    /* the dispatcher leases it to the worker, with the stage's limit from the job */
    uint64_t deadline = rf_now_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&D.mu);
        int n = D.ntasks;
        pthread_mutex_unlock(&D.mu);
        if (n) break;
        cr_assert_lt(rf_now_ms(), deadline, "the task never reached the worker");
        rf_sleep_ms(10);
    }
    pthread_mutex_lock(&D.mu);
    cr_assert_eq(D.tasks[0].attempt, 1);
    cr_assert_eq(D.tasks[0].max_attempts, 5, "max_attempts from the job (its per-stage limits)");
    pthread_mutex_unlock(&D.mu);
    const char *ws[] = {WID};
    uint64_t t0 = rf_now_ms();
    gw_dispatch_cancel(d, "j-m", ws, 1);
    cr_assert_eq(wait_cancels(1, 2000), 1);
    cr_assert_lt(rf_now_ms() - t0, 500, "took %llu ms", (unsigned long long)(rf_now_ms() - t0));
    stop_worker();
    gw_dispatch_destroy(&dispatcher);
}

Test(worker_runtime, cancel_answers_the_workers_that_held_running_tasks)
{
    /* cancel.lua with ARGV[4] = '1' (what the cancel handler hands to gw_dispatch_cancel) */
    rdo("HSET pa:job:j-n id j-n status running total 3 stages submit running 2 queued 1 "
        "succeeded 0 failed 0 cancelled 0");
    rdo("HSET pa:task:j-n:000001 state running lease 7 worker w-a stage submit attempt 1");
    rdo("HSET pa:task:j-n:000002 state running lease 8 worker w-b stage submit attempt 1");
    rdo("HSET pa:task:j-n:000003 state queued stage submit");
    rdo("ZADD pa:worker:w-a:tasks 99999999999999 j-n:000001");
    rdo("LPUSH pa:ready:form j-n:000003");
    const char *argv[] = {"pa:", "j-n", "2026-12-06T00:00:00.000Z", "1"};
    redisReply *r = pa_redis_eval(cli, &pa_jobs_cancel, 0, 4, argv, NULL);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3, "answer: %s",
              r && r->type == REDIS_REPLY_ERROR ? r->str : "not {status, w-a, w-b}");
    cr_assert_str_eq(r->element[0]->str, "cancelled");
    int a = 0, b = 0;
    for (size_t i = 1; i < 3; i++) {
        a += !strcmp(r->element[i]->str, "w-a");
        b += !strcmp(r->element[i]->str, "w-b");
    }
    cr_assert(a == 1 && b == 1, "each holder once");
    freeReplyObject(r);
    for (int i = 1; i <= 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "j-n:%06d", i);
        char *st = rget("HGET pa:task:%s %s", key, "state");
        cr_assert(st && !strcmp(st, "cancelled"), "task %d: %s", i, st ? st : "(none)");
        free(st);
    }
    char *c = rget("HGET pa:job:%s %s", "j-n", "cancelled");
    char *run = rget("HGET pa:job:%s %s", "j-n", "running");
    cr_assert(c && !strcmp(c, "3") && run && !strcmp(run, "0"), "counts moved: %s/%s", c, run);
    free(c), free(run);
    r = pa_redis_cmd(cli, "ZCARD pa:worker:w-a:tasks");
    cr_assert_eq(r->integer, 0, "the lease left its worker's lease set");
    freeReplyObject(r);
    /* again: already cancelled, nobody to tell; without ARGV[4] the answer is the status alone */
    r = pa_redis_eval(cli, &pa_jobs_cancel, 0, 4, argv, NULL);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    freeReplyObject(r);
    r = pa_redis_eval(cli, &pa_jobs_cancel, 0, 3, argv, NULL);
    cr_assert(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "cancelled"));
    freeReplyObject(r);
}
