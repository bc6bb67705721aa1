/* The worker runtime: one pa_loop per worker daemon.
 *
 * Credits: on (re)connecting to a gateway the worker says HELLO and offers its share of free
 * slots as CREDIT; each finished task returns one credit to the gateway it came from. A gateway
 * therefore never sends more than the worker can hold.
 *
 * Redis, without blocking the loop, on two connections. The commits and lease checks go on the
 * pa_redis connection, appended and flushed at once and their answers read in order when the
 * socket is readable (a FIFO of callbacks, `calls`); it stays synchronous for the daemon's own
 * calls (pa_worker_redis), which first take those answers and commit what finished. Claims, the
 * status record and late releases go on pa_aredis (pa_worker_aredis), the daemon's own
 * non-blocking connection too.
 * Outcomes are committed in one script call for everything that finished while the previous
 * commit was in flight (at most one in flight, so outcomes batch while Redis works), and their
 * credits go back when it answers. Leases are checked (and renewed near their end) in one call
 * for every held task at least once a second: that is how a task whose job was cancelled, or
 * whose lease was lost, is heard of even without a CANCEL message.
 *
 * ZeroMQ: each DEALER's ZMQ_FD is watched on the loop. That descriptor only signals that the
 * socket's state changed, and a send may consume the signal, so after every turn ZMQ_EVENTS is
 * read and the socket drained until it says nothing is left. */
#include "pa_worker.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pa_aredis.h"
#include "pa_config.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_proto.h"
#include "pa_redis.h"
#include "pa_task.h"
#include "pa_time.h"

#define MAX_GW 16
#define CHECK_EVERY_MS 1000 /* every held lease is checked at least this often */
#define MSGS_PER_TURN 1000  /* messages taken from one gateway before the loop turns */
#define COMMIT_RETRY_MS 100

typedef struct pa_worker pa_worker_t;

typedef struct {
    pa_worker_t *w;
    char *endpoint;
    zsock_t *sock;
    void *raw;
    int fd; /* ZMQ_FD, watched on the loop; -1 without a socket */
    uint64_t last_recv;
    unsigned returned; /* credits to send back */
    int refused;       /* its HELLO was refused: silent until the reconnect 3 heartbeats on */
} gwconn_t;

typedef struct held {
    pa_task_t t;   /* first: the daemon's pa_task_t * is a held_t * */
    pa_msg_t *msg; /* the TASK message: tm's strings point into it */
    pa_task_msg_t tm;
    json_t *input, *context;              /* parsed on demand (pa_task_input...) */
    json_t *results[PA_TASK_MAX_RESULTS]; /* parsed on demand, tm.results[i] */
    int gw;
    uint64_t deadline_wall; /* lease expiry (ms) */
    uint64_t lease_ms;
    int done;            /* pa_worker_done was called */
    int sent;            /* in the commit in flight */
    int voided;          /* cancelled, lost or released: never committed */
    int finished;        /* out of the held list, arena gone; freed once refs is 0 */
    unsigned refs;       /* calls in flight that point at it (lease checks, claims) */
    const char *outcome; /* its name, for logs */
    pa_jobs_outcome_t jout;
    char *result, *error;
    long delay_ms;
    struct held *prev, *next;
} held_t;

/* A Redis call in flight: its answer goes to fn (NULL: failed or the connection was lost; fn
 * NULL: the answer is not needed). */
typedef void (*reply_fn)(pa_worker_t *w, redisReply *r, void *ud);
typedef struct {
    reply_fn fn;
    void *ud;
} call_t;

typedef struct {
    char *k, *v;
} field_t;

typedef struct waiter {
    pa_worker_fn fn;
    void *ud;
    uint64_t target; /* runs once commit_ok >= target */
    struct waiter *next;
} waiter_t;

struct pa_worker {
    pa_worker_ops_t ops;
    char id[65];
    char instance[33]; /* 128 random bits in hex, this process's: HELLO and the alive record */
    char *prefix;
    pa_redis_t *redis;
    int redis_timeout_ms;
    long wait_replicas; /* REDIS_WAIT_REPLICAS: replicas a claim must reach before its effect */
    int wait_inflight;  /* a WAIT is out (one at a time) */
    struct claim *claims_pending, *claims_retry; /* for the next WAIT; to ask again (timers) */
    pa_loop_t *loop;
    gwconn_t gws[MAX_GW];
    int ngw;
    unsigned capacity;
    held_t *head;
    size_t nheld, ndone; /* ndone: done, not yet in a commit */
    struct {
        call_t *q;
        size_t head, n, cap;
        int fd; /* the connection's socket while watched, else -1 */
    } calls;
    int commit_inflight, check_inflight;
    /* commits numbered as sent; the last one answered without failing; and the daemon's
     * callbacks waiting for the commit of what had finished when they asked
     * (pa_worker_when_committed), in the order asked */
    uint64_t commits_sent, commit_ok;
    struct waiter *waiters, **waiters_tail;
    uint64_t commit_not_before; /* after a failed commit (mono ms) */
    pa_timer_t *hb_timer, *check_timer, *retry_timer, *deadline_timer;
    pa_aredis_t *aredis; /* non-blocking Redis on the loop: claims, the status record, releases */
    field_t *status;
    size_t nstatus;
    uint64_t started_wall;
    int hb_ms, stop_timeout_s;
    long retry_base_ms, retry_cap_ms;
    char *curve_server_public, *curve_client_secret;
    int wake_fd;
    atomic_int stop_flag;
    int stopping, destroying;
    uint64_t stop_deadline;
    unsigned seed;
};

static volatile sig_atomic_t stop_requested;
static volatile int signal_wake_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    int fd = signal_wake_fd;
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof one);
        (void)n;
    }
}

static const char *outcome_names[] = {"succeeded",        "retry",   "failed",
                                      "captcha_required", "skipped", "uncertain"};
/* pa_outcome_t is the daemon's name for the engine's outcomes: the same list, in the same order */
_Static_assert((int)PA_OUT_SUCCEEDED == (int)PA_JOBS_OUT_SUCCEEDED &&
                   (int)PA_OUT_RETRY == (int)PA_JOBS_OUT_RETRY &&
                   (int)PA_OUT_FAILED == (int)PA_JOBS_OUT_FAILED &&
                   (int)PA_OUT_CAPTCHA_REQUIRED == (int)PA_JOBS_OUT_CAPTCHA_REQUIRED &&
                   (int)PA_OUT_SKIPPED == (int)PA_JOBS_OUT_SKIPPED &&
                   (int)PA_OUT_UNCERTAIN == (int)PA_JOBS_OUT_UNCERTAIN,
               "pa_outcome_t and pa_jobs_outcome_t differ");

/* ---- Redis calls without blocking the loop ------------------------------------------------- */

static void on_redis_readable(pa_loop_t *l, int fd, unsigned events, void *ud);

static void calls_watch(pa_worker_t *w)
{
    int fd = w->calls.n ? pa_redis_fd(w->redis) : -1;
    if (fd == w->calls.fd) return;
    if (w->calls.fd >= 0) pa_loop_unwatch(w->loop, w->calls.fd);
    w->calls.fd = -1;
    if (fd >= 0 && pa_loop_watch(w->loop, fd, PA_IO_READ, on_redis_readable, w) == 0)
        w->calls.fd = fd;
}

static void calls_push(pa_worker_t *w, reply_fn fn, void *ud)
{
    if (w->calls.n == w->calls.cap) {
        size_t cap = w->calls.cap ? 2 * w->calls.cap : 16;
        call_t *q = pa_malloc(cap * sizeof *q);
        for (size_t i = 0; i < w->calls.n; i++)
            q[i] = w->calls.q[(w->calls.head + i) % w->calls.cap];
        free(w->calls.q);
        w->calls.q = q, w->calls.cap = cap, w->calls.head = 0;
    }
    w->calls.q[(w->calls.head + w->calls.n) % w->calls.cap] = (call_t){fn, ud};
    w->calls.n++;
}

static call_t calls_pop(pa_worker_t *w)
{
    call_t c = w->calls.q[w->calls.head];
    w->calls.head = (w->calls.head + 1) % w->calls.cap;
    /* Nothing in flight: the socket is not watched. It is watched afresh with the next call, so
     * a connection made again (perhaps on the same descriptor number) is always registered. */
    if (--w->calls.n == 0 && w->calls.fd >= 0) {
        pa_loop_unwatch(w->loop, w->calls.fd);
        w->calls.fd = -1;
    }
    return c;
}

/* The connection was lost: every call in flight fails (its answer will never come). */
static void calls_fail_all(pa_worker_t *w)
{
    while (w->calls.n) {
        call_t c = calls_pop(w);
        if (c.fn) c.fn(w, NULL, c.ud);
    }
}

/* Reads the answers that arrived (all of them, waiting, when wait) and hands them out. */
static void calls_read(pa_worker_t *w, int wait)
{
    while (w->calls.n) {
        redisReply *r = wait ? pa_redis_get_reply(w->redis) : pa_redis_wait_reply(w->redis, 0);
        if (!r) {
            if (wait || !pa_redis_connected(w->redis)) {
                pa_warn("redis connection lost with calls in flight",
                        PA_S("error", pa_redis_errstr(w->redis)), PA_I("calls", w->calls.n));
                calls_fail_all(w);
            }
            break;
        }
        call_t c = calls_pop(w);
        if (c.fn) c.fn(w, r, c.ud);
        freeReplyObject(r);
    }
}

static void on_redis_readable(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    (void)l, (void)fd, (void)events;
    calls_read(ud, 0);
}

/* A script call, sent at once. -1 when Redis is unreachable: fn is not called. */
static int call_script(pa_worker_t *w, pa_script_t *s, int argc, const char **argv, reply_fn fn,
                       void *ud)
{
    if (!atomic_load(&s->have_sha)) {
        /* SCRIPT LOAD is a plain round trip: the answers in flight come first */
        calls_read(w, 1);
        if (pa_redis_script_load(w->redis, s) < 0) return -1;
    }
    if (pa_redis_append_evalsha(w->redis, s, 0, argc, argv, NULL) < 0) {
        calls_fail_all(w);
        return -1;
    }
    calls_push(w, fn, ud);
    if (pa_redis_flush(w->redis) < 0) {
        w->calls.n--; /* this call's fn is not called: the caller hears -1 */
        calls_fail_all(w);
        return -1;
    }
    calls_watch(w);
    return 0;
}

/* ---- the gateways -------------------------------------------------------------------------- */

static int send_msg(gwconn_t *g, const pa_msg_t *m)
{
    return g->raw ? pa_proto_send(g->raw, NULL, 0, m) : -1;
}

static void send_credit(gwconn_t *g, unsigned n)
{
    while (n) {
        unsigned k = n > 10000 ? 10000 : n;
        pa_msg_t *m = pa_msg_new(PA_CMD_CREDIT);
        pa_msg_set_uint(m, PA_FIELD_CREDIT_N, k);
        send_msg(g, m);
        pa_msg_destroy(&m);
        n -= k;
    }
}

static void send_credits(pa_worker_t *w)
{
    for (int i = 0; i < w->ngw; i++) {
        if (!w->stopping && w->gws[i].returned) send_credit(&w->gws[i], w->gws[i].returned);
        w->gws[i].returned = 0;
    }
}

/* Says HELLO and offers this gateway its share of the free slots. */
static void hello(pa_worker_t *w, int i)
{
    gwconn_t *g = &w->gws[i];
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, w->ops.service);
    pa_msg_set_str(m, PA_FIELD_HELLO_WORKER_ID, w->id);
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, w->capacity);
    pa_msg_set_str(m, PA_FIELD_HELLO_VERSION, PA_VERSION);
    pa_msg_set_str(m, PA_FIELD_HELLO_INSTANCE, w->instance);
    /* what it holds, so that the gateway releases at once what never reached it */
    pa_buf_t b = PA_BUF_INIT;
    for (held_t *h = w->head; h && b.len <= PA_PROTO_MAX_HELD; h = h->next) {
        if (h->voided) continue;
        pa_buf_puts(&b, h->t.key);
        pa_buf_putc(&b, ' ');
        pa_buf_puts(&b, h->t.lease);
        pa_buf_putc(&b, '\n');
    }
    if (b.len <= PA_PROTO_MAX_HELD)
        pa_msg_set_strn(m, PA_FIELD_HELLO_HELD, b.data ? b.data : "", b.len);
    else
        pa_warn("held list too long for HELLO; leases the gateway lost expire",
                PA_I("held", w->nheld));
    pa_buf_free(&b);
    send_msg(g, m);
    pa_msg_destroy(&m);
    g->returned = 0;
    g->refused = 0;
    if (w->stopping) return;
    unsigned free_slots = w->capacity > w->nheld ? w->capacity - (unsigned)w->nheld : 0;
    unsigned share = free_slots / (unsigned)w->ngw + ((unsigned)i < free_slots % (unsigned)w->ngw);
    if (share) send_credit(g, share);
}

static int drain(pa_worker_t *w, int gi);

static void on_gw_readable(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    (void)l, (void)fd, (void)events;
    gwconn_t *g = ud;
    drain(g->w, (int)(g - g->w->gws));
}

static void close_gw(pa_worker_t *w, gwconn_t *g)
{
    if (g->fd >= 0) pa_loop_unwatch(w->loop, g->fd);
    g->fd = -1;
    g->raw = NULL;
    zsock_destroy(&g->sock);
}

static int connect_gw(pa_worker_t *w, int i)
{
    gwconn_t *g = &w->gws[i];
    close_gw(w, g);
    g->sock = zsock_new(ZMQ_DEALER);
    if (!g->sock) return -1;
    zsock_set_linger(g->sock, 0);
    zsock_set_sndhwm(g->sock, 100000);
    zsock_set_rcvhwm(g->sock, 100000);
    zsock_set_maxmsgsize(g->sock, (int64_t)PA_PROTO_MAX_BODY); /* the decoder's bound */
    zsock_set_reconnect_ivl(g->sock, 100);
    zsock_set_reconnect_ivl_max(g->sock, 2000);
    if (w->curve_server_public) {
        char pub[41];
        zmq_curve_public(pub, w->curve_client_secret);
        zsock_set_curve_serverkey(g->sock, w->curve_server_public);
        zsock_set_curve_secretkey(g->sock, w->curve_client_secret);
        zsock_set_curve_publickey(g->sock, pub);
    }
    if (zsock_connect(g->sock, "%s", g->endpoint) < 0) {
        pa_error("cannot connect", PA_S("gateway", g->endpoint));
        zsock_destroy(&g->sock);
        return -1;
    }
    g->raw = zsock_resolve(g->sock);
    g->fd = zsock_fd(g->sock);
    if (pa_loop_watch(w->loop, g->fd, PA_IO_READ, on_gw_readable, g) < 0) {
        pa_error("cannot watch the gateway socket", PA_S("gateway", g->endpoint),
                 PA_S("error", strerror(errno)));
        close_gw(w, g);
        return -1;
    }
    g->last_recv = pa_mono_ms();
    hello(w, i);
    return 0;
}

/* ---- tasks --------------------------------------------------------------------------------- */

static void held_unpin(held_t *h)
{
    if (--h->refs == 0 && h->finished) free(h);
}

/* The task leaves this worker: out of the held list, its memory released, its credit counted
 * to go back. The struct itself stays while calls in flight point at it. */
static void finish_task(pa_worker_t *w, held_t *h)
{
    if (h->finished) return;
    if (h->prev) h->prev->next = h->next;
    else w->head = h->next;
    if (h->next) h->next->prev = h->prev;
    w->nheld--;
    if (h->gw >= 0 && h->gw < w->ngw) w->gws[h->gw].returned++;
    pa_arena_destroy(&h->t.arena);
    json_decref(h->input);
    json_decref(h->context);
    for (size_t i = 0; i < h->tm.nresults; i++) json_decref(h->results[i]);
    h->input = h->context = NULL;
    memset(h->results, 0, sizeof h->results);
    memset(&h->tm, 0, sizeof h->tm);
    pa_msg_destroy(&h->msg);
    free(h->result);
    free(h->error);
    h->result = h->error = NULL;
    h->t.target = NULL;
    h->finished = 1;
    h->refs++;
    held_unpin(h);
}

/* The task's lease is void (its job cancelled, its lease lost, or given back): nothing of it
 * will be committed, and the daemon is told to stop it. */
static void void_task(pa_worker_t *w, held_t *h, const char *reason)
{
    if (h->done || h->voided || h->finished) return;
    h->voided = 1;
    pa_info("task cancelled while running", PA_S("task_id", h->t.key), PA_S("reason", reason));
    if (w->ops.on_cancel) w->ops.on_cancel(w, &h->t, reason, w->ops.ud);
}

void pa_worker_done(pa_worker_t *w, pa_task_t *t, pa_outcome_t outcome, const char *result,
                    const char *error, long retry_after_ms)
{
    held_t *h = (held_t *)t;
    if (h->done || h->finished) return;
    h->done = 1;
    if (h->voided) { /* nothing to commit: the slot is free at once */
        pa_debug("cancelled task ended", PA_S("task_id", t->key),
                 PA_S("outcome", outcome_names[outcome]));
        finish_task(w, h);
        return;
    }
    w->ndone++;
    size_t rlen = result ? strlen(result) : 0;
    char why[160]; /* outlives the branch: error points at it */
    if (rlen > PA_PROTO_MAX_RESULTS) {
        /* a result no TASK could carry to the next stage: the task fails, not the worker */
        snprintf(why, sizeof why, "result of %zu bytes exceeds the %d-byte limit", rlen,
                 PA_PROTO_MAX_RESULTS);
        pa_warn("result too large; the task fails", PA_S("task_id", t->key), PA_S("error", why));
        outcome = PA_OUT_FAILED;
        result = NULL;
        error = why;
    }
    h->outcome = outcome_names[outcome];
    h->jout = (pa_jobs_outcome_t)outcome;
    h->result = result ? pa_strdup(result) : NULL;
    h->error = error ? pa_strndup(error, strnlen(error, 1000)) : NULL;
    if (outcome == PA_OUT_RETRY) {
        /* exponential backoff with full jitter, never sooner than the server asked */
        long ceiling = w->retry_base_ms;
        for (unsigned a = 1; a < t->attempt && ceiling < w->retry_cap_ms; a++) ceiling *= 2;
        if (ceiling > w->retry_cap_ms) ceiling = w->retry_cap_ms;
        long delay = (long)(rand_r(&w->seed) % (unsigned)(ceiling + 1));
        h->delay_ms = delay > retry_after_ms ? delay : retry_after_ms;
    }
}

/* ---- commits ------------------------------------------------------------------------------- */

typedef struct {
    held_t **list;
    size_t n;
    uint64_t no; /* its number (commits_sent when it was sent) */
} commit_t;

static void commit_free(commit_t *c)
{
    free(c->list);
    free(c);
}

static void on_retry_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    pa_worker_t *w = ud;
    w->retry_timer = NULL; /* one-shot: the loop frees it */
}

static void commit_failed_later(pa_worker_t *w)
{
    w->commit_not_before = pa_mono_ms() + COMMIT_RETRY_MS;
    if (!w->retry_timer && !w->destroying)
        w->retry_timer = pa_loop_timer(w->loop, COMMIT_RETRY_MS, 0, on_retry_timer, w);
}

/* The commit's answer: its tasks end and their credits go back; when it failed they are sent
 * again with the next commit (a lease that expires meanwhile is refused then, and the task runs
 * again elsewhere). */
static void commit_answered(pa_worker_t *w, redisReply *r, void *ud)
{
    commit_t *c = ud;
    w->commit_inflight = 0;
    bool *stale = pa_calloc(c->n ? c->n : 1, sizeof *stale);
    pa_jobs_commit_out_t out = {.stale = stale};
    char err[256];
    if (pa_jobs_commit_parse(r, c->n, &out, err, sizeof err) < 0) {
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            atomic_store(&pa_jobs_commit.have_sha, 0); /* loaded again before the next try */
        else if (r) pa_error("commit failed", PA_S("error", err));
        else
            pa_warn("commit deferred: redis unreachable", PA_S("error", pa_redis_errstr(w->redis)));
        for (size_t i = 0; i < c->n; i++) c->list[i]->sent = 0;
        w->ndone += c->n;
        commit_failed_later(w);
    } else {
        w->commit_ok = c->no;
        for (size_t i = 0; i < c->n; i++) {
            held_t *h = c->list[i];
            if (stale[i])
                pa_warn("result refused: the lease was no longer ours", PA_S("task_id", h->t.key),
                        PA_S("lease", h->t.lease), PA_S("stage", h->t.stage));
            else pa_debug("task committed", PA_S("task_id", h->t.key), PA_S("state", h->outcome));
            finish_task(w, h);
        }
    }
    free(stale);
    commit_free(c);
}

/* Sends every task finished since the last commit in one script call, unless a commit is in
 * flight (its answer sends the next). */
static void commit_send(pa_worker_t *w)
{
    if (w->commit_inflight || !w->ndone || pa_mono_ms() < w->commit_not_before) return;
    commit_t *c = pa_calloc(1, sizeof *c);
    size_t n = w->ndone, k = 0;
    c->list = pa_malloc(n * sizeof *c->list);
    for (held_t *h = w->head; h && k < n; h = h->next)
        if (h->done && !h->sent && !h->voided) c->list[k++] = h;
    c->n = n = k;
    pa_jobs_commit_item_t *items = pa_malloc((n ? n : 1) * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        held_t *h = c->list[i];
        items[i] = (pa_jobs_commit_item_t){h->t.key,  h->t.lease, h->jout,
                                           h->result, h->error,   h->delay_ms};
        h->sent = 1;
    }
    pa_jobs_commit_in_t in = {.prefix = w->prefix, .worker = w->id, .items = items, .n = n};
    pa_jobs_args_t a;
    pa_jobs_commit_args(&in, &a);
    w->ndone -= n;
    w->commit_inflight = 1;
    c->no = ++w->commits_sent;
    /* the arguments are copied into the connection's output as the call is appended */
    int rc = call_script(w, &pa_jobs_commit, a.argc, a.argv, commit_answered, c);
    pa_jobs_args_free(&a);
    free(items);
    if (rc < 0) {
        w->commit_inflight = 0;
        for (size_t i = 0; i < n; i++) c->list[i]->sent = 0;
        w->ndone += n;
        pa_warn("commit deferred: redis unreachable", PA_S("error", pa_redis_errstr(w->redis)));
        commit_free(c);
        commit_failed_later(w);
    }
}

/* ---- lease checks -------------------------------------------------------------------------- */

typedef struct {
    held_t **list;
    uint64_t *until; /* 0: only checked */
    size_t n;
} check_t;

static void check_free(check_t *c)
{
    for (size_t i = 0; i < c->n; i++) held_unpin(c->list[i]);
    free(c->list);
    free(c->until);
    free(c);
}

static void check_answered(pa_worker_t *w, redisReply *r, void *ud)
{
    check_t *c = ud;
    w->check_inflight = 0;
    pa_jobs_lease_state_t *st = pa_calloc(c->n ? c->n : 1, sizeof *st);
    pa_jobs_renew_out_t out = {.state = st};
    char err[256];
    if (pa_jobs_renew_parse(r, c->n, &out, err, sizeof err) == 0) {
        for (size_t i = 0; i < c->n; i++) {
            held_t *h = c->list[i];
            if (st[i] == PA_LEASE_HELD) {
                if (c->until[i]) h->deadline_wall = c->until[i];
            } else if (w->destroying) {
                continue;
            } else if (st[i] == PA_LEASE_CANCELLED) {
                void_task(w, h, "job cancelled");
            } else {
                pa_warn("lease lost while working", PA_S("task_id", h->t.key));
                void_task(w, h, "lease lost");
            }
        }
    } else if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        atomic_store(&pa_jobs_renew.have_sha, 0);
    } else if (r) {
        pa_error("lease check failed", PA_S("error", err));
    }
    free(st);
    check_free(c);
}

/* One script call for every task held: each lease is checked (a cancelled job or a lost lease
 * reaches on_cancel) and those past half their time are extended. */
static void check_leases(pa_worker_t *w)
{
    if (w->check_inflight) return;
    size_t n = 0;
    for (held_t *h = w->head; h; h = h->next) n += !h->done && !h->voided;
    /* made with no task too: it also says that this instance is alive (liveness is global) */
    check_t *c = pa_calloc(1, sizeof *c);
    c->list = pa_malloc((n ? n : 1) * sizeof *c->list);
    c->until = pa_calloc(n ? n : 1, sizeof *c->until);
    pa_jobs_renew_item_t *items = pa_malloc((n ? n : 1) * sizeof *items);
    uint64_t now = pa_wall_ms();
    size_t k = 0;
    for (held_t *h = w->head; h && k < n; h = h->next) {
        if (h->done || h->voided) continue;
        c->list[k] = h;
        h->refs++;
        if (h->deadline_wall <= now + h->lease_ms / 2) c->until[k] = now + h->lease_ms;
        items[k] = (pa_jobs_renew_item_t){h->t.key, h->t.lease, c->until[k]};
        k++;
    }
    c->n = k;
    pa_jobs_renew_in_t in = {.prefix = w->prefix,
                             .worker = w->id,
                             .tasks = items,
                             .n = k,
                             .instance = w->instance,
                             .alive_ms = 3L * w->hb_ms};
    pa_jobs_args_t a;
    pa_jobs_renew_args(&in, &a);
    w->check_inflight = 1;
    int rc = call_script(w, &pa_jobs_renew, a.argc, a.argv, check_answered, c);
    pa_jobs_args_free(&a);
    free(items);
    if (rc < 0) {
        w->check_inflight = 0;
        check_free(c);
    }
}

/* How often to look at leases: every second, and often enough that the shortest lease held is
 * renewed well before it runs out. */
static uint64_t check_every(const pa_worker_t *w)
{
    uint64_t every = CHECK_EVERY_MS < (uint64_t)w->hb_ms ? CHECK_EVERY_MS : (uint64_t)w->hb_ms;
    for (const held_t *h = w->head; h; h = h->next)
        if (!h->done && h->lease_ms / 4 < every) every = h->lease_ms / 4;
    return every < 20 ? 20 : every;
}

static void on_check_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pa_worker_t *w = ud;
    check_leases(w);
    pa_loop_timer_again(l, t, check_every(w));
}

/* ---- claims -------------------------------------------------------------------------------- */

#define CLAIM_RETRY_MS 500

typedef struct claim {
    pa_worker_t *w;
    held_t *h;
    pa_claim_fn fn;
    void *ud;
    /* REDIS_WAIT_REPLICAS: what to ask claim.lua again, until when, and the retry's timer */
    char *name;
    long ttl_s;
    uint64_t give_up_ms;
    int retrying, warned;
    pa_timer_t *timer;
    struct claim *next, *prev; /* in w->claims_pending, a WAIT's batch, or w->claims_retry */
} claim_t;

const char *pa_claim_name(pa_claim_t c)
{
    static const char *const names[] = {"ok",    "taken", "cancelled",
                                        "stale", "error", "not_replicated"};
    return c <= PA_CLAIM_NOT_REPLICATED ? names[c] : "?";
}

static void claim_done(claim_t *c, pa_claim_t result)
{
    pa_worker_t *w = c->w;
    held_t *h = c->h;
    if (!w->destroying && !h->done && !h->finished) {
        c->fn(w, &h->t, result, c->ud);
        if (result == PA_CLAIM_CANCELLED) void_task(w, h, "job cancelled");
    }
    held_unpin(h);
    free(c->name);
    free(c);
}

static void send_claim(claim_t *c);
static void send_wait(pa_worker_t *w);

static void on_claim_retry(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    claim_t *c = ud;
    pa_worker_t *w = c->w;
    c->timer = NULL; /* one-shot: the loop frees it */
    if (c->prev) c->prev->next = c->next;
    else w->claims_retry = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = c->prev = NULL;
    if (c->h->done || c->h->finished) claim_done(c, PA_CLAIM_ERROR);
    else send_claim(c);
}

/* The replicas did not have it (or Redis did not answer while waiting for them): asked again after
 * CLAIM_RETRY_MS, under the same lease; past give_up_ms, given back. */
static void claim_not_acked(claim_t *c, long long got, const char *why)
{
    pa_worker_t *w = c->w;
    held_t *h = c->h;
    if (w->destroying || h->done || h->finished) {
        claim_done(c, PA_CLAIM_ERROR);
        return;
    }
    if (pa_loop_now(w->loop) >= c->give_up_ms) {
        pa_warn("claim not acknowledged by the replicas in time: given back, not posted",
                PA_S("task_id", h->t.key), PA_I("replicas", got < 0 ? 0 : got),
                PA_I("wanted", w->wait_replicas), PA_I("waited_ms", PA_CLAIM_WAIT_MS),
                PA_S("error", why));
        pa_jobs_unclaim_in_t in = {w->prefix, h->t.key, h->t.lease, c->name};
        pa_jobs_args_t a;
        pa_jobs_unclaim_args(&in, &a);
        pa_aredis_eval(w->aredis, &pa_jobs_unclaim, NULL, NULL, 0, a.argc, a.argv, NULL);
        pa_jobs_args_free(&a);
        claim_done(c, PA_CLAIM_NOT_REPLICATED);
        return;
    }
    if (!c->warned) {
        c->warned = 1;
        pa_warn("claim waits for the replicas: not posted yet", PA_S("task_id", h->t.key),
                PA_I("replicas", got < 0 ? 0 : got), PA_I("wanted", w->wait_replicas),
                PA_S("error", why));
    }
    c->retrying = 1;
    c->next = w->claims_retry, c->prev = NULL;
    if (c->next) c->next->prev = c;
    w->claims_retry = c;
    c->timer = pa_loop_timer(w->loop, CLAIM_RETRY_MS, 0, on_claim_retry, c);
}

/* WAIT's answer for the batch of claims answered before it was sent: each holds once that many
 * replicas have it, so that a failover to one of them cannot forget it and let a later try post
 * again. */
static void wait_answered(redisReply *r, void *ud)
{
    claim_t *c = ud;
    pa_worker_t *w = c->w;
    w->wait_inflight = 0;
    long long got = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    const char *why = !r                             ? pa_aredis_errstr(w->aredis)
                      : r->type == REDIS_REPLY_ERROR ? r->str
                                                     : "fewer replicas in time";
    while (c) {
        claim_t *next = c->next;
        c->next = NULL;
        if (got >= w->wait_replicas) claim_done(c, PA_CLAIM_OK);
        else claim_not_acked(c, got, why);
        c = next;
    }
    if (w->claims_pending && !w->destroying) send_wait(w);
}

/* One WAIT in flight per connection: it holds the connection's later commands back, so WAITs in
 * a row would pass the command timeout; it covers every write the connection made before it. Half
 * the command timeout. */
static void send_wait(pa_worker_t *w)
{
    claim_t *batch = w->claims_pending;
    w->claims_pending = NULL;
    w->wait_inflight = 1;
    char n[24], ms[24];
    snprintf(n, sizeof n, "%ld", w->wait_replicas);
    snprintf(ms, sizeof ms, "%d", w->redis_timeout_ms / 2 > 0 ? w->redis_timeout_ms / 2 : 1);
    const char *av[] = {"WAIT", n, ms};
    if (pa_aredis_argv(w->aredis, wait_answered, batch, 3, av, NULL) != 0)
        wait_answered(NULL, batch); /* only while the client is being destroyed */
}

/* claim.lua's answer, from the loop (pa_aredis never calls back inside the call). */
static void claim_answered(redisReply *r, void *ud)
{
    claim_t *c = ud;
    pa_worker_t *w = c->w;
    held_t *h = c->h;
    pa_claim_t result = PA_CLAIM_ERROR;
    pa_jobs_claim_out_t out;
    char err[256];
    if (r && pa_jobs_claim_parse(r, &out, err, sizeof err) == 0) {
        result = out.status == PA_JOBS_CLAIM_OK          ? PA_CLAIM_OK
                 : out.status == PA_JOBS_CLAIM_TAKEN     ? PA_CLAIM_TAKEN
                 : out.status == PA_JOBS_CLAIM_CANCELLED ? PA_CLAIM_CANCELLED
                                                         : PA_CLAIM_STALE;
    } else if (r) {
        pa_error("claim failed", PA_S("task_id", h->t.key), PA_S("error", err));
    } else if (!w->destroying && !c->retrying) {
        pa_warn("claim not answered: redis unreachable", PA_S("task_id", h->t.key),
                PA_S("error", pa_aredis_errstr(w->aredis)));
    }
    int alive = !w->destroying && !h->done && !h->finished;
    if (alive && w->wait_replicas > 0 && result == PA_CLAIM_OK) {
        /* queued after the claim's answer, so that the WAIT sent next covers it */
        c->next = w->claims_pending;
        w->claims_pending = c;
        if (!w->wait_inflight) send_wait(w);
        return;
    }
    if (alive && c->retrying && result == PA_CLAIM_ERROR && !r) {
        claim_not_acked(c, -1, pa_aredis_errstr(w->aredis)); /* a failover under way */
        return;
    }
    claim_done(c, result);
}

static void send_claim(claim_t *c)
{
    pa_worker_t *w = c->w;
    held_t *h = c->h;
    pa_jobs_claim_in_t in = {w->prefix, w->id, h->t.key, h->t.lease, c->name, c->ttl_s};
    pa_jobs_args_t a;
    pa_jobs_claim_args(&in, &a);
    if (pa_aredis_eval(w->aredis, &pa_jobs_claim, claim_answered, c, 0, a.argc, a.argv, NULL) < 0)
        claim_done(c, PA_CLAIM_ERROR); /* only while the client is being destroyed */
    pa_jobs_args_free(&a);
}

void pa_worker_claim(pa_worker_t *w, pa_task_t *t, const char *name, long ttl_s, pa_claim_fn fn,
                     void *ud)
{
    claim_t *c = pa_calloc(1, sizeof *c);
    c->w = w, c->h = (held_t *)t, c->fn = fn, c->ud = ud;
    c->name = pa_strdup(name);
    c->ttl_s = ttl_s > 0 ? ttl_s : 0;
    c->give_up_ms = pa_loop_now(w->loop) + PA_CLAIM_WAIT_MS;
    c->h->refs++;
    send_claim(c);
}

/* At destroy: the claims waiting for a WAIT or to be asked again. */
static void claims_free(pa_worker_t *w)
{
    while (w->claims_pending) {
        claim_t *c = w->claims_pending;
        w->claims_pending = c->next;
        claim_done(c, PA_CLAIM_ERROR);
    }
    while (w->claims_retry) {
        claim_t *c = w->claims_retry;
        w->claims_retry = c->next;
        pa_loop_timer_stop(w->loop, &c->timer);
        claim_done(c, PA_CLAIM_ERROR);
    }
}

/* ---- the status record --------------------------------------------------------------------- */

void pa_worker_set_status(pa_worker_t *w, const char *field, const char *value)
{
    for (size_t i = 0; i < w->nstatus; i++) {
        if (strcmp(w->status[i].k, field) != 0) continue;
        free(w->status[i].v);
        if (value) {
            w->status[i].v = pa_strdup(value);
        } else {
            free(w->status[i].k);
            w->status[i] = w->status[--w->nstatus];
        }
        return;
    }
    if (!value) return;
    w->status = pa_realloc(w->status, (w->nstatus + 1) * sizeof *w->status);
    w->status[w->nstatus++] = (field_t){pa_strdup(field), pa_strdup(value)};
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)r, (void)ud;
}

/* <prefix>worker:<id>:status, written whole (MULTI, DEL, HSET, PEXPIRE, EXEC) so that a reader
 * never sees a field the daemon removed, nor half a record. Lives 3 heartbeats. */
static void write_status(pa_worker_t *w)
{
    char key[160], cap[24], held[24], started[24], updated[24], ttl[24];
    snprintf(key, sizeof key, "%sworker:%s:status", w->prefix, w->id);
    snprintf(cap, sizeof cap, "%u", w->capacity);
    snprintf(held, sizeof held, "%zu", w->nheld);
    snprintf(started, sizeof started, "%llu", (unsigned long long)w->started_wall);
    snprintf(updated, sizeof updated, "%llu", (unsigned long long)pa_wall_ms());
    snprintf(ttl, sizeof ttl, "%d", 3 * w->hb_ms);
    size_t argc = 2 + 2 * (6 + w->nstatus);
    const char **argv = pa_malloc(argc * sizeof *argv);
    size_t k = 0;
    argv[k++] = "HSET", argv[k++] = key;
    argv[k++] = "service", argv[k++] = w->ops.service;
    argv[k++] = "version", argv[k++] = PA_VERSION;
    argv[k++] = "capacity", argv[k++] = cap;
    argv[k++] = "held", argv[k++] = held;
    argv[k++] = "started_ms", argv[k++] = started;
    argv[k++] = "updated_ms", argv[k++] = updated;
    for (size_t i = 0; i < w->nstatus; i++) argv[k++] = w->status[i].k, argv[k++] = w->status[i].v;
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"}, *del[] = {"DEL", key},
               *pexp[] = {"PEXPIRE", key, ttl};
    /* fire and forget: the next heartbeat writes it again */
    pa_aredis_argv(w->aredis, ignore_reply, NULL, 1, multi, NULL);
    pa_aredis_argv(w->aredis, ignore_reply, NULL, 2, del, NULL);
    pa_aredis_argv(w->aredis, ignore_reply, NULL, (int)k, argv, NULL);
    pa_aredis_argv(w->aredis, ignore_reply, NULL, 3, pexp, NULL);
    pa_aredis_argv(w->aredis, ignore_reply, NULL, 1, exec, NULL);
    free(argv);
}

/* ---- messages from the gateways ------------------------------------------------------------ */

static void release_one(pa_worker_t *w, const char *key, const char *lease);

/* Takes the message (*m is then NULL): the task's strings point into it. */
static void on_task(pa_worker_t *w, int gi, pa_msg_t **m)
{
    held_t *h = pa_calloc(1, sizeof *h);
    char err[PA_PROTO_ERRLEN];
    int bad = pa_task_msg_decode(*m, &h->tm, err, sizeof err);
    h->msg = *m;
    *m = NULL;
    const pa_task_msg_t *tm = &h->tm;
    /* the codec checked every field of the table, so only results can be wrong here */
    snprintf(h->t.key, sizeof h->t.key, "%s", pa_msg_str(h->msg, PA_FIELD_TASK_TASK_ID, NULL));
    snprintf(h->t.job, sizeof h->t.job, "%s", pa_msg_str(h->msg, PA_FIELD_TASK_JOB_ID, NULL));
    snprintf(h->t.stage, sizeof h->t.stage, "%s", pa_msg_str(h->msg, PA_FIELD_TASK_STAGE, NULL));
    snprintf(h->t.lease, sizeof h->t.lease, "%s", pa_msg_str(h->msg, PA_FIELD_TASK_LEASE, NULL));
    h->t.attempt = (unsigned)pa_msg_uint(h->msg, PA_FIELD_TASK_ATTEMPT);
    h->t.max_attempts = (unsigned)pa_msg_uint(h->msg, PA_FIELD_TASK_MAX_ATTEMPTS);
    h->t.last_attempt = h->t.attempt >= h->t.max_attempts;
    h->t.target = bad ? "" : tm->target;
    h->t.arena = pa_arena_new();
    h->gw = gi;
    h->deadline_wall = pa_msg_uint(h->msg, PA_FIELD_TASK_DEADLINE_MS);
    uint64_t now = pa_wall_ms();
    h->lease_ms = h->deadline_wall > now ? h->deadline_wall - now : 1000;
    h->next = w->head;
    if (w->head) w->head->prev = h;
    w->head = h;
    w->nheld++;
    if (w->stopping) { /* arrived after we stopped taking work: give it straight back */
        h->voided = 1;
        release_one(w, h->t.key, h->t.lease);
        finish_task(w, h);
        return;
    }
    if (h->lease_ms / 4 < CHECK_EVERY_MS && w->check_timer)
        pa_loop_timer_again(w->loop, w->check_timer, check_every(w));
    if (bad) { /* the daemon never sees it; trying again would not make it better */
        pa_warn("malformed task", PA_S("task_id", h->t.key), PA_S("error", err));
        pa_worker_done(w, &h->t, PA_OUT_FAILED, NULL, err, 0);
        return;
    }
    w->ops.on_task(w, &h->t, w->ops.ud);
}

/* CANCEL: the held tasks of the job (or the one task) stop. */
static void on_cancel_msg(pa_worker_t *w, const pa_msg_t *m)
{
    const char *job = pa_msg_str(m, PA_FIELD_CANCEL_JOB_ID, NULL);
    const char *task = pa_msg_str(m, PA_FIELD_CANCEL_TASK_ID, NULL);
    const char *reason = pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL);
    size_t n = 0, k = 0;
    for (held_t *h = w->head; h; h = h->next)
        n += !h->done && !h->voided && strcmp(h->t.job, job) == 0 &&
             (!task || strcmp(h->t.key, task) == 0);
    if (!n) return;
    /* on_cancel may end tasks (and free them): take them out of the list's way first */
    held_t **list = pa_malloc(n * sizeof *list);
    for (held_t *h = w->head; h && k < n; h = h->next)
        if (!h->done && !h->voided && strcmp(h->t.job, job) == 0 &&
            (!task || strcmp(h->t.key, task) == 0)) {
            h->refs++;
            list[k++] = h;
        }
    for (size_t i = 0; i < k; i++) {
        void_task(w, list[i], reason && *reason ? reason : "job cancelled");
        held_unpin(list[i]);
    }
    free(list);
}

static void handle(pa_worker_t *w, int gi, pa_msg_t **mp)
{
    const pa_msg_t *m = *mp;
    switch (pa_msg_cmd(m)) {
    case PA_CMD_TASK: on_task(w, gi, mp); break;
    case PA_CMD_CANCEL: on_cancel_msg(w, m); break;
    case PA_CMD_BYE:
        if (pa_msg_has(m, PA_FIELD_BYE_REASON)) {
            /* our HELLO was refused: say it again only after the reconnect 3 heartbeats on */
            pa_warn("the gateway refused us; trying again later",
                    PA_S("gateway", w->gws[gi].endpoint),
                    PA_S("reason", pa_msg_str(m, PA_FIELD_BYE_REASON, NULL)));
            w->gws[gi].refused = 1;
            break;
        }
        if (w->gws[gi].refused) break; /* silent until the reconnect */
        /* the gateway does not know us (it restarted) or is leaving */
        pa_info("gateway asked us to join again", PA_S("gateway", w->gws[gi].endpoint));
        hello(w, gi);
        break;
    default: break;
    }
}

/* Takes what a gateway sent until the socket has nothing more (EAGAIN), at most MSGS_PER_TURN
 * messages. Returns how many it took (MSGS_PER_TURN: there may be more). A receive processes
 * the socket's pending commands itself, so no ZMQ_EVENTS call is needed per message. */
static int drain(pa_worker_t *w, int gi)
{
    gwconn_t *g = &w->gws[gi];
    int got = 0;
    while (g->raw && got < MSGS_PER_TURN) {
        zmq_msg_t f[2];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t tmp;
            zmq_msg_init(&tmp);
            if (zmq_msg_recv(&tmp, g->raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&tmp);
                break; /* mid-message cannot happen: ZeroMQ delivers whole messages */
            }
            more = zmq_msg_more(&tmp);
            if (n < 2) f[n] = tmp;
            else zmq_msg_close(&tmp);
            n++;
        }
        if (n == 0) break;
        got++;
        g->last_recv = pa_mono_ms();
        pa_msg_t *m = NULL;
        char err[PA_PROTO_ERRLEN];
        if (n != 2 || pa_proto_decode(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), zmq_msg_data(&f[1]),
                                      zmq_msg_size(&f[1]), &m, err, sizeof err) < 0) {
            pa_warn("dropped a malformed message", PA_S("gateway", g->endpoint),
                    PA_S("error", n != 2 ? "wrong number of frames" : err));
        } else {
            handle(w, gi, &m);
        }
        pa_msg_destroy(&m);
        for (int i = 0; i < n && i < 2; i++) zmq_msg_close(&f[i]);
        g = &w->gws[gi];
    }
    return got;
}

/* 1 when ZMQ_EVENTS says a message waits on a gateway's socket: ZMQ_FD only signals changes,
 * and a send may have consumed the signal of a message that arrived meanwhile. */
static int readable(const gwconn_t *g)
{
    int ev = 0;
    size_t evlen = sizeof ev;
    return g->raw && zmq_getsockopt(g->raw, ZMQ_EVENTS, &ev, &evlen) == 0 && (ev & ZMQ_POLLIN);
}

/* ---- timers -------------------------------------------------------------------------------- */

static void on_heartbeat(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)t;
    pa_worker_t *w = ud;
    uint64_t now = pa_loop_now(l);
    pa_msg_t *hb = pa_msg_new(PA_CMD_HEARTBEAT);
    pa_msg_set_str(hb, PA_FIELD_HEARTBEAT_WORKER_ID, w->id);
    pa_msg_set_uint(hb, PA_FIELD_HEARTBEAT_LOAD, w->nheld > 10000 ? 10000 : w->nheld);
    for (int i = 0; i < w->ngw; i++) {
        /* last_recv comes from pa_mono_ms() in this loop turn's handlers, which may be later
         * than the turn's cached clock: no wrap-around into "silent" */
        uint64_t last = w->gws[i].last_recv;
        if (!w->gws[i].raw || (now > last && now - last > 3u * (uint64_t)w->hb_ms)) {
            pa_warn("gateway silent; reconnecting", PA_S("gateway", w->gws[i].endpoint));
            connect_gw(w, i);
        } else if (!w->gws[i].refused) {
            send_msg(&w->gws[i], hb);
        }
    }
    pa_msg_destroy(&hb);
    write_status(w);
}

static void on_deadline(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    pa_worker_t *w = ud;
    w->deadline_timer = NULL; /* one-shot: the loop frees it; the run loop sees the time */
}

static void on_wake(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    (void)l, (void)events, (void)ud;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    (void)n;
}

/* ---- giving tasks back --------------------------------------------------------------------- */

static void release_answered(redisReply *r, void *ud)
{
    char *key = ud;
    if (!r || r->type != REDIS_REPLY_INTEGER)
        pa_warn("a task that came after the stop could not be given back; its lease expires",
                PA_S("task_id", key));
    free(key);
}

static void release_one(pa_worker_t *w, const char *key, const char *lease)
{
    pa_jobs_lease_ref_t ref = {key, lease};
    pa_jobs_release_in_t in = {.prefix = w->prefix, .worker = w->id, .tasks = &ref, .n = 1};
    pa_jobs_args_t a;
    pa_jobs_release_args(&in, &a);
    char *k = pa_strdup(key);
    if (pa_aredis_eval(w->aredis, &pa_jobs_release, release_answered, k, 0, a.argc, a.argv, NULL) <
        0)
        free(k);
    pa_jobs_args_free(&a);
}

/* Gives back every task not yet finished (the stop deadline); they requeue at once. Then the
 * daemon is told to drop them (on_cancel, "released"). */
static void release_all(pa_worker_t *w)
{
    calls_read(w, 1);
    size_t n = 0;
    for (held_t *h = w->head; h; h = h->next) n += !h->done && !h->voided;
    if (!n) return;
    pa_jobs_lease_ref_t *refs = pa_malloc(n * sizeof *refs);
    held_t **list = pa_malloc(n * sizeof *list);
    size_t j = 0;
    for (held_t *h = w->head; h; h = h->next)
        if (!h->done && !h->voided) {
            refs[j] = (pa_jobs_lease_ref_t){h->t.key, h->t.lease};
            list[j++] = h;
            h->refs++;
        }
    pa_jobs_release_in_t in = {.prefix = w->prefix, .worker = w->id, .tasks = refs, .n = j};
    pa_jobs_release_out_t out = {0};
    char err[256];
    if (pa_jobs_release_call(w->redis, &in, &out, err, sizeof err) < 0)
        pa_warn("unfinished tasks could not be given back; their leases expire", PA_I("tasks", n),
                PA_S("error", err));
    else pa_info("released unfinished tasks", PA_I("tasks", n), PA_I("requeued", out.released));
    free(refs);
    for (size_t i = 0; i < j; i++) {
        void_task(w, list[i], "released");
        held_unpin(list[i]);
    }
    free(list);
}

/* ---- waiting for commits ------------------------------------------------------------------ */

void pa_worker_when_committed(pa_worker_t *w, pa_worker_fn fn, void *ud)
{
    waiter_t *x = pa_calloc(1, sizeof *x);
    x->fn = fn, x->ud = ud;
    /* what finished and is not sent yet goes with the next commit; what is in flight is the
     * current one; with neither, nothing is owed and it runs after this turn */
    x->target = w->ndone ? w->commits_sent + 1 : w->commit_inflight ? w->commits_sent : 0;
    if (!w->waiters_tail) w->waiters_tail = &w->waiters;
    *w->waiters_tail = x;
    w->waiters_tail = &x->next;
}

/* Runs the callbacks whose commit was answered, in the order they were asked for (never inside
 * the daemon's own call: from the loop, after a turn). */
static void run_waiters(pa_worker_t *w)
{
    while (w->waiters && w->waiters->target <= w->commit_ok) {
        waiter_t *x = w->waiters;
        w->waiters = x->next;
        if (!w->waiters) w->waiters_tail = &w->waiters;
        x->fn(w, x->ud);
        free(x);
    }
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* After every turn: the commit of what finished, credits back,
 * and the gateways drained until ZMQ_EVENTS says nothing is left (a send may have taken the
 * signal of ZMQ_FD). Returns the longest the next turn may sleep (ms, -1: until a timer). */
static long after_turn(pa_worker_t *w)
{
    run_waiters(w);
    for (int round = 0; round < 16; round++) {
        commit_send(w);
        send_credits(w);
        int got = 0, full = 0;
        for (int i = 0; i < w->ngw; i++) {
            int n = readable(&w->gws[i]) ? drain(w, i) : 0;
            got += n;
            full |= n >= MSGS_PER_TURN;
        }
        if (full) {
            commit_send(w);
            send_credits(w);
            calls_watch(w);
            return 0; /* more is waiting: turn again at once (timers and Redis get their turn) */
        }
        if (!got) break;
    }
    calls_watch(w);
    return -1;
}

/* The status record goes with the worker: deleted on the connection that writes it, after the
 * last write (so it does not come back), the loop turning until Redis answered (at most 1 s). */
static void remove_status(pa_worker_t *w)
{
    pa_loop_timer_stop(w->loop, &w->hb_timer);
    pa_loop_timer_stop(w->loop, &w->check_timer);
    char key[160];
    snprintf(key, sizeof key, "%sworker:%s:status", w->prefix, w->id);
    const char *argv[] = {"DEL", key};
    pa_aredis_argv(w->aredis, ignore_reply, NULL, 2, argv, NULL);
    uint64_t deadline = pa_mono_ms() + 1000;
    while (pa_aredis_pending(w->aredis) && pa_mono_ms() < deadline)
        if (pa_loop_run_once(w->loop, 50) < 0) break;
}

static int stop_wanted(pa_worker_t *w)
{
    return stop_requested || atomic_load(&w->stop_flag);
}

int pa_worker_run(pa_worker_t *w)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    signal_wake_fd = w->wake_fd;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    int rc = 0;
    w->started_wall = pa_wall_ms();
    pa_loop_watch(w->loop, w->wake_fd, PA_IO_READ, on_wake, w);
    if (w->ops.on_start && w->ops.on_start(w, w->ops.ud) < 0) {
        pa_error("the worker could not start", PA_S("worker", w->id));
        rc = 1;
        goto out;
    }
    write_status(w); /* the record exists by the time a gateway hears of the worker */
    for (int i = 0; i < w->ngw; i++)
        if (connect_gw(w, i) < 0) {
            rc = 1;
            goto stop;
        }
    pa_info("worker started", PA_S("worker", w->id), PA_S("service", w->ops.service),
            PA_I("capacity", w->capacity), PA_I("gateways", w->ngw));
    w->hb_timer = pa_loop_timer(w->loop, (uint64_t)w->hb_ms, (uint64_t)w->hb_ms, on_heartbeat, w);
    w->check_timer = pa_loop_timer(w->loop, CHECK_EVERY_MS, 0, on_check_timer, w);
    for (;;) {
        long wait = after_turn(w);
        if (stop_wanted(w) && !w->stopping) {
            w->stopping = 1;
            w->stop_deadline = pa_mono_ms() + (uint64_t)w->stop_timeout_s * 1000u;
            w->deadline_timer =
                pa_loop_timer(w->loop, (uint64_t)w->stop_timeout_s * 1000u, 0, on_deadline, w);
            pa_info("stopping: finishing held tasks", PA_I("held", w->nheld),
                    PA_I("deadline_s", w->stop_timeout_s));
            continue;
        }
        if (w->stopping && (w->nheld == 0 || pa_mono_ms() >= w->stop_deadline)) break;
        if (w->ndone && !w->commit_inflight && wait < 0) {
            /* a commit waits for its retry time */
            uint64_t now = pa_mono_ms();
            wait = w->commit_not_before > now ? (long)(w->commit_not_before - now) : 0;
        }
        if (pa_loop_run_once(w->loop, wait) < 0) {
            pa_error("the event loop failed", PA_S("error", strerror(errno)));
            rc = 1;
            break;
        }
    }
    commit_send(w);
    calls_read(w, 1);
    release_all(w);
stop:
    remove_status(w);
    if (w->ops.on_stop) w->ops.on_stop(w, w->ops.ud);
    pa_msg_t *bye = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(bye, PA_FIELD_BYE_WORKER_ID, w->id);
    for (int i = 0; i < w->ngw; i++) send_msg(&w->gws[i], bye);
    pa_msg_destroy(&bye);
    calls_read(w, 1);
    pa_info("worker stopped", PA_S("worker", w->id));
out:
    pa_loop_timer_stop(w->loop, &w->hb_timer);
    pa_loop_timer_stop(w->loop, &w->check_timer);
    pa_loop_timer_stop(w->loop, &w->deadline_timer);
    pa_loop_timer_stop(w->loop, &w->retry_timer);
    pa_loop_unwatch(w->loop, w->wake_fd);
    signal_wake_fd = -1;
    return rc;
}

void pa_worker_stop(pa_worker_t *w)
{
    atomic_store(&w->stop_flag, 1);
    uint64_t one = 1;
    ssize_t n = write(w->wake_fd, &one, sizeof one);
    (void)n;
}

/* ---- making and destroying ----------------------------------------------------------------- */

/* A worker may hold thousands of sockets (WORKER_CAPACITY transfers and more). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            pa_warn("cannot raise the open files limit", PA_S("error", strerror(errno)));
    }
}

pa_worker_t *pa_worker_new(const pa_worker_ops_t *ops, char *err, size_t errlen)
{
    pa_worker_t *w = pa_calloc(1, sizeof *w);
    w->ops = *ops;
    w->wake_fd = -1;
    w->calls.fd = -1;
    for (int i = 0; i < MAX_GW; i++) w->gws[i].w = w, w->gws[i].fd = -1;
    long v;
    if (pa_env_long("WORKER_CAPACITY", 64, 1, 10000, &v, err, errlen) < 0) goto fail;
    w->capacity = (unsigned)v;
    if (pa_env_long("HEARTBEAT_MS", 1000, 50, 60000, &v, err, errlen) < 0) goto fail;
    w->hb_ms = (int)v;
    if (pa_env_long("STOP_TIMEOUT_S", 10, 0, 3600, &v, err, errlen) < 0) goto fail;
    w->stop_timeout_s = (int)v;
    if (pa_env_long("RETRY_BASE_MS", 500, 1, 3600000, &w->retry_base_ms, err, errlen) < 0)
        goto fail;
    if (pa_env_long("RETRY_CAP_MS", 60000, 1, 86400000, &w->retry_cap_ms, err, errlen) < 0)
        goto fail;
    const char *id = pa_env_str("WORKER_ID", NULL);
    if (id) {
        if (strlen(id) > 64 || strpbrk(id, " :\t\r\n")) {
            snprintf(err, errlen, "WORKER_ID: at most 64 characters, without blanks or ':'");
            goto fail;
        }
        snprintf(w->id, sizeof w->id, "%s", id);
    } else {
        char host[40] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(w->id, sizeof w->id, "%s-%.40s-%d", ops->service, host, (int)getpid());
    }
    w->prefix = pa_strdup(pa_env_str("REDIS_PREFIX", "pa:"));
    long tmo;
    if (pa_env_long("REDIS_TIMEOUT_MS", 3000, 50, 60000, &tmo, err, errlen) < 0) goto fail;
    w->redis_timeout_ms = (int)tmo;
    if (pa_env_long("REDIS_WAIT_REPLICAS", 0, 0, 16, &w->wait_replicas, err, errlen) < 0) goto fail;
    w->redis =
        pa_redis_new(pa_env_str("REDIS_URL", "redis://127.0.0.1:6379/0"), (int)tmo, err, errlen);
    if (!w->redis) goto fail;
    const char *sp = pa_env_str("CURVE_SERVER_PUBLIC", NULL),
               *cs = pa_env_str("CURVE_CLIENT_SECRET", NULL);
    if ((sp != NULL) != (cs != NULL) || (sp && (strlen(sp) != 40 || strlen(cs) != 40))) {
        snprintf(err, errlen,
                 "CURVE_SERVER_PUBLIC and CURVE_CLIENT_SECRET: set both, as 40-character Z85 keys");
        goto fail;
    }
    if (sp) {
        w->curve_server_public = pa_strdup(sp);
        w->curve_client_secret = pa_strdup(cs);
    }
    const char *eps = pa_env_str("GATEWAY_ENDPOINTS", "tcp://127.0.0.1:5555");
    for (const char *p = eps; *p;) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        if (w->ngw == MAX_GW) {
            snprintf(err, errlen, "GATEWAY_ENDPOINTS: at most %d endpoints", MAX_GW);
            goto fail;
        }
        w->gws[w->ngw++].endpoint = pa_strndup(p, n);
        p += n;
    }
    if (!w->ngw) {
        snprintf(err, errlen, "GATEWAY_ENDPOINTS: no endpoint given");
        goto fail;
    }
    w->loop = pa_loop_new(err, errlen);
    if (!w->loop) goto fail;
    w->aredis = pa_aredis_new(w->loop, pa_env_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
                              (int)tmo, err, errlen);
    if (!w->aredis) goto fail;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    raise_nofile();
    w->seed = (unsigned)(pa_mono_us() ^ (uint64_t)getpid());
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        snprintf(err, errlen, "getrandom: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(w->instance + 2 * i, 3, "%02x", rnd[i]);
    return w;
fail:
    pa_worker_destroy(&w);
    return NULL;
}

void pa_worker_destroy(pa_worker_t **wp)
{
    pa_worker_t *w = *wp;
    if (!w) return;
    w->destroying = 1;
    calls_fail_all(w); /* their callbacks free what they hold; no daemon code runs now */
    pa_aredis_destroy(&w->aredis); /* the same for its calls (claims, releases) */
    claims_free(w);
    while (w->head) finish_task(w, w->head);
    for (int i = 0; i < w->ngw; i++) {
        if (w->loop) close_gw(w, &w->gws[i]);
        else zsock_destroy(&w->gws[i].sock);
        free(w->gws[i].endpoint);
    }
    if (w->loop && w->calls.fd >= 0) pa_loop_unwatch(w->loop, w->calls.fd);
    free(w->calls.q);
    for (size_t i = 0; i < w->nstatus; i++) {
        free(w->status[i].k);
        free(w->status[i].v);
    }
    free(w->status);
    for (waiter_t *x = w->waiters, *n; x; x = n) { /* not called: the daemon is gone */
        n = x->next;
        free(x);
    }
    pa_loop_destroy(&w->loop); /* frees the timers still in it */
    if (w->wake_fd >= 0) close(w->wake_fd);
    pa_redis_destroy(&w->redis);
    free(w->prefix);
    free(w->curve_server_public);
    free(w->curve_client_secret);
    free(w);
    *wp = NULL;
}

pa_loop_t *pa_worker_loop(pa_worker_t *w)
{
    return w->loop;
}

pa_aredis_t *pa_worker_aredis(pa_worker_t *w)
{
    return w->aredis;
}

const char *pa_worker_id(const pa_worker_t *w)
{
    return w->id;
}

pa_redis_t *pa_worker_redis(pa_worker_t *w)
{
    calls_read(w, 1); /* their answers come first on the connection */
    if (w->ndone) {
        /* what finished is committed first, so that the daemon reads its own outcomes (a job's
         * token usage, say) as the old per-turn commit let it */
        commit_send(w);
        calls_read(w, 1);
    }
    calls_watch(w);
    return w->redis;
}

size_t pa_worker_held(const pa_worker_t *w)
{
    return w->nheld;
}

/* ---- the task's documents ------------------------------------------------------------------ */

static held_t *held_of(const pa_task_t *t)
{
    return (held_t *)t; /* pa_task_t is the first member of held_t */
}

/* Parses text once into *slot; a document that does not parse stays NULL (and is parsed again
 * if asked again: only a broken document costs twice). */
static const json_t *parsed(json_t **slot, const char *text, size_t len, size_t flags)
{
    if (!*slot && text) *slot = json_loadb(text, len, flags, NULL);
    return *slot;
}

const json_t *pa_task_input(pa_task_t *t)
{
    held_t *h = held_of(t);
    const json_t *j = parsed(&h->input, h->tm.input, h->tm.input_len, 0);
    return json_is_object(j) ? j : NULL;
}

const json_t *pa_task_context(pa_task_t *t)
{
    held_t *h = held_of(t);
    const json_t *j = parsed(&h->context, h->tm.context, h->tm.context_len, 0);
    return json_is_object(j) ? j : NULL;
}

const json_t *pa_task_result(pa_task_t *t, const char *stage)
{
    held_t *h = held_of(t);
    const pa_task_result_t *r = pa_task_msg_result(&h->tm, stage);
    if (!r) return NULL;
    return parsed(&h->results[r - h->tm.results], r->json, r->json_len, JSON_DECODE_ANY);
}

const char *pa_task_input_text(const pa_task_t *t, size_t *len)
{
    const held_t *h = held_of(t);
    if (len) *len = h->tm.input_len;
    return h->tm.input;
}

const char *pa_task_context_text(const pa_task_t *t, size_t *len)
{
    const held_t *h = held_of(t);
    if (len) *len = h->tm.context_len;
    return h->tm.context;
}

const char *pa_task_result_text(const pa_task_t *t, const char *stage, size_t *len)
{
    const pa_task_result_t *r = pa_task_msg_result(&held_of(t)->tm, stage);
    if (len) *len = r ? r->json_len : 0;
    return r ? r->json : NULL;
}
