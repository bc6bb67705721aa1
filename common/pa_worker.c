/* The worker runtime: one event loop per worker daemon.
 *
 * Credits: on (re)connecting to a gateway the worker says HELLO and offers its share of free
 * slots as CREDIT; each finished task returns one credit to the gateway it came from. A gateway
 * therefore never sends more than the worker can hold. Outcomes are committed to Redis before
 * the credit goes back, in one script call per loop turn for everything that finished. */
#include "pa_worker.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pa_config.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_proto.h"
#include "pa_redis.h"
#include "pa_time.h"

#define MAX_GW 16
#define RENEW_EVERY_MS 1000
#define MAX_FDS 256

typedef struct {
    char *endpoint;
    zsock_t *sock;
    void *raw;
    uint64_t last_recv;
    unsigned returned; /* credits to send back on the next flush */
} gwconn_t;

typedef struct held {
    pa_task_t t; /* first: the daemon's pa_task_t * is a held_t * */
    char *payload;
    int gw;
    uint64_t deadline_wall; /* lease expiry (ms) */
    uint64_t lease_ms;
    int done;
    int sent; /* in the commit in flight */
    const char *outcome;
    char *result, *error;
    long delay_ms;
    struct held *prev, *next;
} held_t;

struct pa_worker {
    pa_worker_ops_t ops;
    char id[65];
    char *prefix;
    pa_redis_t *redis;
    gwconn_t gws[MAX_GW];
    int ngw;
    unsigned capacity;
    held_t *head;
    size_t nheld, ndone; /* ndone: done, not yet in a commit */
    /* The commit sent and not yet answered (at most one): Redis runs it while the daemon works
     * on the next tasks. Its argv points into the tasks. */
    struct {
        held_t **list;
        size_t n;
        const char **argv;
        char (*delays)[24];
        char now[24], iso[25], n_s[24];
    } pend;
    int hb_ms, stop_timeout_s;
    long retry_base_ms, retry_cap_ms;
    char *curve_server_public, *curve_client_secret;
    int stopping;
    unsigned seed;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char *outcome_names[] = {"succeeded", "retry",     "failed",
                                      "captcha_required", "skipped", "uncertain"};

static int send_msg(gwconn_t *g, const pa_msg_t *m)
{
    return pa_proto_send(g->raw, NULL, 0, m);
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

/* Says HELLO and offers this gateway its share of the free slots. */
static void hello(pa_worker_t *w, int i)
{
    gwconn_t *g = &w->gws[i];
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, w->ops.service);
    pa_msg_set_str(m, PA_FIELD_HELLO_WORKER_ID, w->id);
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, w->capacity);
    pa_msg_set_str(m, PA_FIELD_HELLO_VERSION, PA_VERSION);
    send_msg(g, m);
    pa_msg_destroy(&m);
    g->returned = 0;
    if (w->stopping) return;
    unsigned free_slots = w->capacity > w->nheld ? w->capacity - (unsigned)w->nheld : 0;
    unsigned share = free_slots / (unsigned)w->ngw + ((unsigned)i < free_slots % (unsigned)w->ngw);
    if (share) send_credit(g, share);
}

static int connect_gw(pa_worker_t *w, int i)
{
    gwconn_t *g = &w->gws[i];
    zsock_destroy(&g->sock);
    g->sock = zsock_new(ZMQ_DEALER);
    if (!g->sock) return -1;
    zsock_set_linger(g->sock, 0);
    zsock_set_sndhwm(g->sock, 100000);
    zsock_set_rcvhwm(g->sock, 100000);
    zsock_set_maxmsgsize(g->sock, (int64_t)PA_PROTO_MAX_BODY + 1024);
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
        return -1;
    }
    g->raw = zsock_resolve(g->sock);
    g->last_recv = pa_mono_ms();
    hello(w, i);
    return 0;
}

pa_worker_t *pa_worker_new(const pa_worker_ops_t *ops, char *err, size_t errlen)
{
    pa_worker_t *w = pa_calloc(1, sizeof *w);
    w->ops = *ops;
    long v;
    if (pa_env_long("WORKER_CAPACITY", 64, 1, 10000, &v, err, errlen) < 0) goto fail;
    w->capacity = (unsigned)v;
    if (pa_env_long("HEARTBEAT_MS", 1000, 50, 60000, &v, err, errlen) < 0) goto fail;
    w->hb_ms = (int)v;
    if (pa_env_long("STOP_TIMEOUT_S", 10, 0, 3600, &v, err, errlen) < 0) goto fail;
    w->stop_timeout_s = (int)v;
    if (pa_env_long("RETRY_BASE_MS", 500, 1, 3600000, &w->retry_base_ms, err, errlen) < 0) goto fail;
    if (pa_env_long("RETRY_CAP_MS", 60000, 1, 86400000, &w->retry_cap_ms, err, errlen) < 0) goto fail;
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
    w->redis = pa_redis_new(pa_env_str("REDIS_URL", "redis://127.0.0.1:6379/0"), (int)tmo, err, errlen);
    if (!w->redis) goto fail;
    const char *sp = pa_env_str("CURVE_SERVER_PUBLIC", NULL), *cs = pa_env_str("CURVE_CLIENT_SECRET", NULL);
    if ((sp != NULL) != (cs != NULL) || (sp && (strlen(sp) != 40 || strlen(cs) != 40))) {
        snprintf(err, errlen, "CURVE_SERVER_PUBLIC and CURVE_CLIENT_SECRET: set both, as 40-character Z85 keys");
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
    w->seed = (unsigned)(pa_mono_us() ^ (uint64_t)getpid());
    return w;
fail:
    pa_worker_destroy(&w);
    return NULL;
}

static int collect(pa_worker_t *w, int wait);

static void free_held(held_t *h)
{
    free(h->payload);
    free(h->result);
    free(h->error);
    free(h);
}

void pa_worker_destroy(pa_worker_t **wp)
{
    pa_worker_t *w = *wp;
    if (!w) return;
    for (held_t *h = w->head, *n; h; h = n) {
        n = h->next;
        free_held(h);
    }
    for (int i = 0; i < w->ngw; i++) {
        zsock_destroy(&w->gws[i].sock);
        free(w->gws[i].endpoint);
    }
    free(w->pend.list); /* a commit never answered: its tasks were freed above */
    free(w->pend.argv);
    free(w->pend.delays);
    pa_redis_destroy(&w->redis);
    free(w->prefix);
    free(w->curve_server_public);
    free(w->curve_client_secret);
    free(w);
    *wp = NULL;
}

const char *pa_worker_id(const pa_worker_t *w)
{
    return w->id;
}

pa_redis_t *pa_worker_redis(pa_worker_t *w)
{
    collect(w, 1); /* its answer comes first on the connection */
    return w->redis;
}

size_t pa_worker_held(const pa_worker_t *w)
{
    return w->nheld;
}

void pa_worker_done(pa_worker_t *w, pa_task_t *t, pa_outcome_t outcome, const char *result,
                    const char *error, long retry_after_ms)
{
    held_t *h = (held_t *)t;
    if (h->done) return;
    h->done = 1;
    w->ndone++;
    h->outcome = outcome_names[outcome];
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

static void unlink_held(pa_worker_t *w, held_t *h)
{
    if (h->prev) h->prev->next = h->next;
    else w->head = h->next;
    if (h->next) h->next->prev = h->prev;
    w->nheld--;
}

static void pend_free(pa_worker_t *w)
{
    free(w->pend.list);
    free(w->pend.argv);
    free(w->pend.delays);
    memset(&w->pend, 0, sizeof w->pend);
}

/* Reads the answer of the commit in flight, waiting for it when wait, and ends its tasks (their
 * credits go back). Returns 0 when no commit is in flight any more, 1 when its answer has not
 * come yet (!wait), -1 when it failed: its tasks are sent again with the next commit. Every
 * other use of the connection comes after this (hiredis answers in order). */
static int collect(pa_worker_t *w, int wait)
{
    size_t n = w->pend.n;
    if (!n) return 0;
    redisReply *r = wait ? pa_redis_get_reply(w->redis) : pa_redis_wait_reply(w->redis, 0);
    if (!r && !wait && pa_redis_connected(w->redis)) return 1;
    int rc = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        /* Redis is away (or lost the script): keep the outcomes and try again; a lease that
         * expires meanwhile is refused then, and the task runs again elsewhere. */
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            atomic_store(&pa_jobs_commit.have_sha, 0); /* loaded again before the next try */
        else if (r && r->type == REDIS_REPLY_ERROR) pa_error("commit failed", PA_S("error", r->str));
        else pa_warn("commit deferred: redis unreachable", PA_S("error", pa_redis_errstr(w->redis)));
        for (size_t i = 0; i < n; i++) w->pend.list[i]->sent = 0;
        w->ndone += n;
        rc = -1;
    } else {
        for (size_t i = 0; i < n; i++) {
            held_t *h = w->pend.list[i];
            if (strcmp(r->element[i]->str, "ok") != 0)
                pa_warn("result refused: the lease was no longer ours", PA_S("task_id", h->t.key),
                        PA_S("lease", h->t.lease), PA_S("stage", h->t.stage));
            else
                pa_debug("task committed", PA_S("task_id", h->t.key), PA_S("state", h->outcome));
            if (h->gw >= 0 && h->gw < w->ngw) w->gws[h->gw].returned++;
            unlink_held(w, h);
            free_held(h);
        }
    }
    if (r) freeReplyObject(r);
    pend_free(w);
    if (!w->stopping)
        for (int i = 0; i < w->ngw; i++) {
            send_credit(&w->gws[i], w->gws[i].returned);
            w->gws[i].returned = 0;
        }
    return rc;
}

/* Ends the commit in flight, then sends every task finished since in one script call, without
 * waiting for its answer. Returns -1 when Redis is away (the outcomes are kept). */
static int flush(pa_worker_t *w)
{
    int rc = collect(w, 1) < 0 ? -1 : 0;
    if (!w->ndone) return rc;
    size_t n = w->ndone, k = 0;
    held_t **list = pa_malloc(n * sizeof *list);
    for (held_t *h = w->head; h && k < n; h = h->next)
        if (h->done && !h->sent) list[k++] = h;
    n = k;
    size_t argc = 5 + 6 * n;
    const char **argv = pa_malloc(argc * sizeof *argv);
    char (*delays)[24] = pa_malloc(n * sizeof *delays);
    snprintf(w->pend.now, sizeof w->pend.now, "%llu", (unsigned long long)pa_wall_ms());
    pa_time_rfc3339(pa_wall_ms(), w->pend.iso);
    snprintf(w->pend.n_s, sizeof w->pend.n_s, "%zu", n);
    argv[0] = w->prefix, argv[1] = w->id, argv[2] = w->pend.now, argv[3] = w->pend.iso;
    argv[4] = w->pend.n_s;
    for (size_t i = 0; i < n; i++) {
        held_t *h = list[i];
        snprintf(delays[i], sizeof delays[i], "%ld", h->delay_ms);
        const char **a = argv + 5 + 6 * i;
        a[0] = h->t.key, a[1] = h->t.lease, a[2] = h->outcome;
        a[3] = h->result ? h->result : "", a[4] = h->error ? h->error : "", a[5] = delays[i];
    }
    if (pa_redis_append_evalsha(w->redis, &pa_jobs_commit, 0, (int)argc, argv, NULL) < 0 ||
        pa_redis_flush(w->redis) < 0) {
        pa_warn("commit deferred: redis unreachable", PA_S("error", pa_redis_errstr(w->redis)));
        free(list);
        free(argv);
        free(delays);
        return -1;
    }
    for (size_t i = 0; i < n; i++) list[i]->sent = 1;
    w->ndone -= n;
    w->pend.list = list, w->pend.n = n, w->pend.argv = argv, w->pend.delays = delays;
    return rc;
}

/* Gives back every task not yet finished (SIGTERM deadline); they requeue at once. */
static void release_all(pa_worker_t *w)
{
    collect(w, 1);
    size_t n = 0;
    for (held_t *h = w->head; h; h = h->next) n += !h->done;
    if (!n) return;
    const char **argv = pa_malloc((4 + 2 * n) * sizeof *argv);
    char iso[25], ns[24];
    pa_time_rfc3339(pa_wall_ms(), iso);
    snprintf(ns, sizeof ns, "%zu", n);
    argv[0] = w->prefix, argv[1] = w->id, argv[2] = iso, argv[3] = ns;
    size_t k = 4;
    for (held_t *h = w->head; h; h = h->next)
        if (!h->done) argv[k++] = h->t.key, argv[k++] = h->t.lease;
    redisReply *r = pa_redis_eval(w->redis, &pa_jobs_release, 0, (int)k, argv, NULL);
    pa_info("released unfinished tasks", PA_I("tasks", n),
            PA_I("requeued", r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1));
    if (r) freeReplyObject(r);
    free(argv);
}

/* How often to look at leases: often enough that the shortest lease held is renewed well
 * before it runs out. */
static uint64_t renew_every(const pa_worker_t *w)
{
    uint64_t every = RENEW_EVERY_MS;
    for (const held_t *h = w->head; h; h = h->next)
        if (!h->done && h->lease_ms / 4 < every) every = h->lease_ms / 4;
    return every < 20 ? 20 : every;
}

static void renew_leases(pa_worker_t *w)
{
    collect(w, 1);
    uint64_t now = pa_wall_ms();
    for (held_t *h = w->head; h; h = h->next) {
        if (h->done || h->deadline_wall > now + h->lease_ms / 2) continue;
        uint64_t until = now + h->lease_ms;
        char us[24];
        snprintf(us, sizeof us, "%llu", (unsigned long long)until);
        const char *argv[] = {w->prefix, w->id, us, "1", h->t.key, h->t.lease};
        redisReply *r = pa_redis_eval(w->redis, &pa_jobs_renew, 0, 6, argv, NULL);
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) h->deadline_wall = until;
        else if (r && r->type == REDIS_REPLY_INTEGER)
            pa_warn("lease lost while working", PA_S("task_id", h->t.key));
        if (r) freeReplyObject(r);
    }
}

static void on_task(pa_worker_t *w, int gi, const pa_msg_t *m)
{
    held_t *h = pa_calloc(1, sizeof *h);
    snprintf(h->t.key, sizeof h->t.key, "%s", pa_msg_str(m, PA_FIELD_TASK_TASK_ID, NULL));
    snprintf(h->t.job, sizeof h->t.job, "%s", pa_msg_str(m, PA_FIELD_TASK_JOB_ID, NULL));
    snprintf(h->t.stage, sizeof h->t.stage, "%s", pa_msg_str(m, PA_FIELD_TASK_STAGE, NULL));
    snprintf(h->t.lease, sizeof h->t.lease, "%s", pa_msg_str(m, PA_FIELD_TASK_LEASE, NULL));
    h->t.attempt = (unsigned)pa_msg_uint(m, PA_FIELD_TASK_ATTEMPT);
    size_t len;
    const unsigned char *p = pa_msg_bin(m, PA_FIELD_TASK_PAYLOAD, &len);
    h->payload = pa_strndup((const char *)p, len);
    h->t.payload = h->payload;
    h->t.payload_len = len;
    h->gw = gi;
    h->deadline_wall = pa_msg_uint(m, PA_FIELD_TASK_DEADLINE_MS);
    uint64_t now = pa_wall_ms();
    h->lease_ms = h->deadline_wall > now ? h->deadline_wall - now : 1000;
    h->next = w->head;
    if (w->head) w->head->prev = h;
    w->head = h;
    w->nheld++;
    if (w->stopping) { /* arrived after we stopped taking work: give it straight back */
        collect(w, 1);
        const char *argv[] = {w->prefix, w->id, "", "1", h->t.key, h->t.lease};
        char iso[25];
        pa_time_rfc3339(now, iso);
        argv[2] = iso;
        redisReply *r = pa_redis_eval(w->redis, &pa_jobs_release, 0, 6, argv, NULL);
        if (r) freeReplyObject(r);
        unlink_held(w, h);
        free_held(h);
        return;
    }
    w->ops.on_task(w, &h->t, w->ops.ud);
}

static void receive(pa_worker_t *w, int gi)
{
    gwconn_t *g = &w->gws[gi];
    for (int k = 0; k < 1000; k++) {
        zmq_msg_t f[2];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t tmp;
            zmq_msg_init(&tmp);
            if (zmq_msg_recv(&tmp, g->raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&tmp);
                if (n == 0) return;
                break;
            }
            more = zmq_msg_more(&tmp);
            if (n < 2) f[n] = tmp;
            else zmq_msg_close(&tmp);
            n++;
        }
        g->last_recv = pa_mono_ms();
        pa_msg_t *m = NULL;
        char err[PA_PROTO_ERRLEN];
        if (n != 2 || pa_proto_decode(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), zmq_msg_data(&f[1]),
                                      zmq_msg_size(&f[1]), &m, err, sizeof err) < 0) {
            pa_warn("dropped a malformed message", PA_S("gateway", g->endpoint),
                    PA_S("error", n != 2 ? "wrong number of frames" : err));
        } else {
            switch (pa_msg_cmd(m)) {
            case PA_CMD_TASK: on_task(w, gi, m); break;
            case PA_CMD_BYE: /* the gateway does not know us (it restarted) or is leaving */
                pa_info("gateway asked us to join again", PA_S("gateway", g->endpoint));
                hello(w, gi);
                break;
            default: break;
            }
        }
        pa_msg_destroy(&m);
        for (int i = 0; i < n && i < 2; i++) zmq_msg_close(&f[i]);
    }
}

int pa_worker_run(pa_worker_t *w)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    for (int i = 0; i < w->ngw; i++)
        if (connect_gw(w, i) < 0) return 1;
    pa_info("worker started", PA_S("worker", w->id), PA_S("service", w->ops.service),
            PA_I("capacity", w->capacity), PA_I("gateways", w->ngw));
    uint64_t next_hb = pa_mono_ms() + (uint64_t)w->hb_ms, next_renew = pa_mono_ms() + RENEW_EVERY_MS;
    uint64_t stop_deadline = 0;
    int flush_failed = 0;
    for (;;) {
        uint64_t now = pa_mono_ms();
        if (stop_requested && !w->stopping) {
            w->stopping = 1;
            stop_deadline = now + (uint64_t)w->stop_timeout_s * 1000u;
            pa_info("stopping: finishing held tasks", PA_I("held", w->nheld),
                    PA_I("deadline_s", w->stop_timeout_s));
        }
        flush_failed = flush(w) < 0;
        if (w->stopping && (w->nheld == 0 || now >= stop_deadline)) break;
        if (now >= next_hb) {
            pa_msg_t *hb = pa_msg_new(PA_CMD_HEARTBEAT);
            pa_msg_set_str(hb, PA_FIELD_HEARTBEAT_WORKER_ID, w->id);
            pa_msg_set_uint(hb, PA_FIELD_HEARTBEAT_LOAD, w->nheld > 10000 ? 10000 : w->nheld);
            for (int i = 0; i < w->ngw; i++) {
                if (now - w->gws[i].last_recv > 3u * (uint64_t)w->hb_ms) {
                    pa_warn("gateway silent; reconnecting", PA_S("gateway", w->gws[i].endpoint));
                    connect_gw(w, i);
                } else {
                    send_msg(&w->gws[i], hb);
                }
            }
            pa_msg_destroy(&hb);
            next_hb = now + (uint64_t)w->hb_ms;
        }
        if (now >= next_renew || next_renew > now + renew_every(w)) {
            renew_leases(w);
            next_renew = now + renew_every(w);
        }
        long timeout = w->ops.on_tick ? w->ops.on_tick(w, w->ops.ud) : -1;
        long until_hb = (long)(next_hb - pa_mono_ms());
        if (timeout < 0 || timeout > until_hb) timeout = until_hb < 0 ? 0 : until_hb;
        long until_renew = (long)(next_renew - pa_mono_ms());
        if (w->nheld && timeout > until_renew) timeout = until_renew < 0 ? 0 : until_renew;
        if (w->ndone) timeout = flush_failed ? 100 : 0;
        if (w->stopping && timeout > 50) timeout = 50;
        zmq_pollitem_t items[MAX_GW + MAX_FDS + 1];
        struct pollfd ext[MAX_FDS];
        int next = w->ops.fds ? w->ops.fds(w, ext, MAX_FDS, w->ops.ud) : 0;
        if (next < 0) next = 0;
        for (int i = 0; i < w->ngw; i++) items[i] = (zmq_pollitem_t){w->gws[i].raw, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < next; i++) {
            short ev = (short)(((ext[i].events & POLLIN) ? ZMQ_POLLIN : 0) |
                               ((ext[i].events & POLLOUT) ? ZMQ_POLLOUT : 0));
            items[w->ngw + i] = (zmq_pollitem_t){NULL, ext[i].fd, ev, 0};
        }
        /* the answer of the commit in flight: the next turn's flush takes it */
        int rfd = w->pend.n ? pa_redis_fd(w->redis) : -1, nitems = w->ngw + next;
        if (rfd >= 0) items[nitems++] = (zmq_pollitem_t){NULL, rfd, ZMQ_POLLIN, 0};
        if (zmq_poll(items, nitems, timeout) < 0 && errno != EINTR) break;
        for (int i = 0; i < w->ngw; i++)
            if (items[i].revents & ZMQ_POLLIN) receive(w, i);
        if (next && w->ops.on_fds) {
            for (int i = 0; i < next; i++) {
                short rv = items[w->ngw + i].revents;
                ext[i].revents = (short)(((rv & ZMQ_POLLIN) ? POLLIN : 0) |
                                         ((rv & ZMQ_POLLOUT) ? POLLOUT : 0) |
                                         ((rv & ZMQ_POLLERR) ? POLLERR : 0));
            }
            w->ops.on_fds(w, ext, next, w->ops.ud);
        }
    }
    flush(w);
    collect(w, 1);
    release_all(w);
    pa_msg_t *bye = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(bye, PA_FIELD_BYE_WORKER_ID, w->id);
    for (int i = 0; i < w->ngw; i++) send_msg(&w->gws[i], bye);
    pa_msg_destroy(&bye);
    pa_info("worker stopped", PA_S("worker", w->id));
    return 0;
}
