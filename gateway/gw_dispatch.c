/* The dispatcher thread: ZeroMQ ROUTER, credit-based dispatch, heartbeats, maintenance.
 *
 * Workers connect DEALER sockets and say HELLO; they then send CREDIT for each free slot.
 * A TASK goes only to a worker with credit, so no task waits behind a busy worker. Tasks are
 * leased in Redis by the dispatch script before they are sent: if this process dies with tasks
 * on the wire, their leases expire and any gateway requeues them.
 *
 * A request thread that creates a job may take a worker's credit first (gw_dispatch_reserve),
 * so that create.lua leases the first tasks in the same call; the thread hands them here to be
 * sent. Credit is therefore taken atomically by both sides (credit_take), and the worker table's
 * slots change only under wlock. */
#include "gw_dispatch.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pa_config.h"
#include "pa_jobs.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_proto.h"
#include "pa_redis.h"
#include "pa_task.h"
#include "pa_time.h"

/* What a lease records of where it went (the task's `via` field): the first VIA_INST hex digits
 * of the worker process's instance (48 of its 128 random bits), '@', and 8 hex digits of a hash
 * of this gateway's id. Short on purpose: every byte of a task hash costs Redis time on each
 * lease and commit, and "<instance>@<gateway id>" in full cost the pipeline 5 % of its
 * throughput (scripts/bench/pipeline (a)). Scripts compare instances by the same prefix. */
#define VIA_INST 12
#define VIA_LEN (VIA_INST + 1 + 8)
#define MAX_WORKERS 1024
#define NSVC PA_NSERVICES
#define DISPATCH_BATCH 128
#define POLL_IDLE_MS 25
#define MAINTAIN_MS 200
#define MAX_MSGS_PER_ROUND 1000

#define services pa_services /* pa_stages.h */

typedef struct {
    int used;
    unsigned gen; /* which worker a slot holds (reservations name it) */
    unsigned char ident[256];
    size_t ident_len;
    char id[65];
    int svc;
    unsigned capacity;
    atomic_uint credit;
    uint64_t last_seen;
    uint64_t joined;             /* mono ms of its HELLO: the oldest idle slot is evicted first */
    char inst[33];               /* its HELLO's instance */
    char via_inst[VIA_INST + 1]; /* the instance as leases record it */
    char via[VIA_LEN + 1];       /* recorded on the tasks leased to it: via_of() */
    char peer[64];               /* who it is: its CURVE key (Z85), else its IP address */
    unsigned long taken;         /* tasks sent to it: a slot that took none may be evicted */
    int suspect;                 /* missed 3 heartbeats but alive in Redis: looked at again later */
    uint64_t recheck_at;         /* mono ms */
} worker_t;

/* Tasks a request thread leased to a reserved worker, to be sent by the dispatcher thread. */
typedef struct hand {
    gw_reservation_t res;
    pa_jobs_leases_t leases;
    struct hand *next;
} hand_t;

/* A cancelled job whose running tasks some workers held: each of those connected here hears it. */
typedef struct cancel_req {
    char job[72];
    size_t n;
    char (*workers)[65];
    struct cancel_req *next;
} cancel_req_t;

struct gw_dispatch {
    gw_dispatch_opts_t o;
    char *bind, *prefix, *gateway_id;
    char gateway_tag[9]; /* 8 hex digits of a hash of gateway_id (via_of) */
    zsock_t *router;
    zactor_t *auth;
    void *rs;
    int wake_fd;
    pa_redis_t *redis;
    worker_t workers[MAX_WORKERS];
    pthread_mutex_t wlock; /* slot changes (used, gen, id, svc) and the hand-over queue */
    unsigned gen_seq;
    hand_t *hand_head, *hand_tail;
    cancel_req_t *cancels; /* under wlock, like the hand-over queue */
    int dirty[NSVC];
    uint64_t next_poll[NSVC];
    atomic_int running, kicked;
    pthread_t thread;
    atomic_ullong dispatched, dropped, lost;
    atomic_int nworkers;
    long peer_slots;   /* WORKER_SLOTS_PER_PEER */
    long max_capacity; /* WORKER_MAX_CAPACITY: a HELLO's capacity is clamped to it */
};

static int svc_index(const char *s)
{
    return pa_service_find(s);
}

/* The via a lease to instance inst records, and the instance prefix the scripts compare. */
static void via_of(const gw_dispatch_t *d, const char *inst, char via[VIA_LEN + 1],
                   char via_inst[VIA_INST + 1])
{
    snprintf(via_inst, VIA_INST + 1, "%s", inst);
    snprintf(via, VIA_LEN + 1, "%s@%s", via_inst, d->gateway_tag);
}

static worker_t *find_worker(gw_dispatch_t *d, const void *ident, size_t len)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        worker_t *w = &d->workers[i];
        if (w->used && w->ident_len == len && memcmp(w->ident, ident, len) == 0) return w;
    }
    return NULL;
}

static int send_to(gw_dispatch_t *d, const unsigned char *ident, size_t ident_len,
                   const pa_msg_t *m)
{
    return pa_proto_send(d->rs, ident, ident_len, m);
}

/* Takes up to want of a worker's credit; returns how much. */
static unsigned credit_take(worker_t *w, unsigned want)
{
    unsigned c = atomic_load(&w->credit), k;
    do {
        k = c < want ? c : want;
    } while (k && !atomic_compare_exchange_weak(&w->credit, &c, c - k));
    return k;
}

/* Frees a slot (the dispatcher thread, under wlock). */
static void slot_clear(gw_dispatch_t *d, worker_t *w)
{
    pthread_mutex_lock(&d->wlock);
    memset(w, 0, sizeof *w);
    atomic_store(&w->credit, 0);
    pthread_mutex_unlock(&d->wlock);
    atomic_fetch_sub(&d->nworkers, 1);
}

/* Forgets a worker; when lost, its leased tasks go back to the queue at once. */
static void drop_worker(gw_dispatch_t *d, worker_t *w, const char *why, int lost)
{
    /* A worker that says BYE has released its tasks, but tasks leased to it while its BYE was
     * on the way are still its: they go back too, without counting an attempt. */
    pa_jobs_worker_lost_in_t in = {
        .prefix = d->prefix, .worker = w->id, .counted = lost, .instance = w->via_inst};
    pa_jobs_worker_lost_out_t out;
    char err[256];
    long long n =
        pa_jobs_worker_lost_call(d->redis, &in, &out, err, sizeof err) == 0 ? out.requeued : -1;
    if (n != 0)
        for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
    if (lost) {
        atomic_fetch_add(&d->lost, 1);
        pa_warn("worker lost; its tasks are requeued", PA_S("worker", w->id),
                PA_S("service", services[w->svc]), PA_S("reason", why), PA_I("requeued", n));
    } else {
        pa_info("worker left", PA_S("worker", w->id), PA_S("service", services[w->svc]),
                PA_I("requeued", n));
    }
    char key[PA_KEY_MAX];
    redisReply *r = pa_redis_cmd(d->redis, "HDEL %s %s", pa_key_workers(key, d->prefix), w->id);
    if (r) freeReplyObject(r);
    slot_clear(d, w);
}

/* <prefix>worker:<id>:<what> */
static const char *worker_key(const gw_dispatch_t *d, const char *id, const char *what,
                              char out[PA_KEY_MAX])
{
    snprintf(out, PA_KEY_MAX, "%sworker:%s:%s", d->prefix, id, what);
    return out;
}

/* The instance <prefix>worker:<id>:alive names (written by the worker's lease check), with its
 * time to live in *pttl; "" when there is none (or Redis did not answer: -1). */
static int alive_instance(gw_dispatch_t *d, const char *id, char out[33], long long *pttl)
{
    char key[PA_KEY_MAX];
    worker_key(d, id, "alive", key);
    out[0] = '\0';
    redisReply *r = pa_redis_cmd(d->redis, "GET %s", key);
    if (!r) return -1;
    if (r->type == REDIS_REPLY_STRING) snprintf(out, 33, "%s", r->str);
    freeReplyObject(r);
    if (pttl) {
        *pttl = 0;
        r = pa_redis_cmd(d->redis, "PTTL %s", key);
        if (r && r->type == REDIS_REPLY_INTEGER) *pttl = r->integer;
        if (r) freeReplyObject(r);
    }
    return 0;
}

/* Says no to a HELLO: the peer hears why (BYE with a reason; the worker waits 3 heartbeats
 * before it says HELLO again) and the log says who. */
static void refuse(gw_dispatch_t *d, const unsigned char *ident, size_t ilen, const char *id,
                   const char *peer, const char *why)
{
    pa_warn("HELLO refused", PA_S("worker", id), PA_S("peer", peer), PA_S("reason", why));
    pa_msg_t *bye = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(bye, PA_FIELD_BYE_WORKER_ID, id);
    pa_msg_set_str(bye, PA_FIELD_BYE_REASON, why);
    send_to(d, ident, ilen, bye);
    pa_msg_destroy(&bye);
}

/* A worker that missed 3 heartbeats here, or that a TASK could not reach. When its instance is
 * alive in Redis (its lease check renews <prefix>worker:<id>:alive, whichever gateway it talks
 * to) it is not lost: it is looked at again once that record would have expired, and forgotten
 * if it is still alive then (its leases run on; its next HELLO reconciles them). Otherwise its
 * tasks go back at once, the attempt counted. */
static void worker_gone(gw_dispatch_t *d, worker_t *w, const char *why)
{
    char alive[33];
    long long pttl = 0;
    int rc = alive_instance(d, w->id, alive, &pttl);
    if (rc == 0 && alive[0] && strcmp(alive, w->inst) == 0) {
        if (w->suspect) {
            pa_info("worker silent here but alive in Redis; forgotten here, its leases run on",
                    PA_S("worker", w->id), PA_S("reason", why));
            slot_clear(d, w);
            return;
        }
        w->suspect = 1;
        atomic_store(&w->credit, 0);
        w->recheck_at = pa_mono_ms() + (uint64_t)(pttl > 0 ? pttl : 0) + 50;
        pa_info("worker silent here but alive in Redis; looked at again later",
                PA_S("worker", w->id), PA_S("reason", why), PA_I("recheck_ms", pttl + 50));
        return;
    }
    drop_worker(d, w, why, 1);
}

/* A slot for a new connection of peer: a free one, unless the peer holds its share already
 * (WORKER_SLOTS_PER_PEER) or the table is full; then the oldest slot (of that peer, or of anyone
 * when the table is full) that never took a task is taken over. NULL: none. */
static worker_t *slot_for(gw_dispatch_t *d, const char *peer)
{
    long mine = 0;
    worker_t *free_slot = NULL, *old_mine = NULL, *old_any = NULL;
    for (int i = 0; i < MAX_WORKERS; i++) {
        worker_t *o = &d->workers[i];
        if (!o->used) {
            if (!free_slot) free_slot = o;
            continue;
        }
        int same = strcmp(o->peer, peer) == 0;
        mine += same;
        if (o->taken) continue;
        if (same && (!old_mine || o->joined < old_mine->joined)) old_mine = o;
        if (!old_any || o->joined < old_any->joined) old_any = o;
    }
    worker_t *victim = mine >= d->peer_slots ? old_mine : free_slot ? NULL : old_any;
    if (mine >= d->peer_slots && !victim) return NULL;
    if (!victim && free_slot) {
        atomic_fetch_add(&d->nworkers, 1);
        return free_slot;
    }
    if (!victim) return NULL;
    pa_warn("worker slot taken over: it never took a task", PA_S("worker", victim->id),
            PA_S("peer", victim->peer), PA_S("by", peer));
    pthread_mutex_lock(&d->wlock);
    memset(victim, 0, sizeof *victim);
    atomic_store(&victim->credit, 0);
    pthread_mutex_unlock(&d->wlock);
    return victim;
}

/* The held list of a HELLO ("<key> <lease>\n" lines): refs point into a copy (*buf, freed by
 * the caller). Returns the count, or -1 when a line is malformed. */
static long parse_held(const char *s, size_t len, char **buf, pa_jobs_lease_ref_t **refs)
{
    *buf = pa_strndup(s, len);
    *refs = NULL;
    size_t n = 0, cap = 0;
    for (char *p = *buf; *p;) {
        char *nl = strchr(p, '\n');
        if (!nl) goto bad;
        *nl = '\0';
        char *sp = strchr(p, ' ');
        if (!sp || sp == p || !sp[1] || strchr(sp + 1, ' ')) goto bad;
        *sp = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            *refs = pa_realloc(*refs, cap * sizeof **refs);
        }
        (*refs)[n++] = (pa_jobs_lease_ref_t){p, sp + 1};
        p = nl + 1;
    }
    return (long)n;
bad:
    free(*refs);
    *refs = NULL;
    return -1;
}

static void on_hello(gw_dispatch_t *d, const unsigned char *ident, size_t ilen, const pa_msg_t *m,
                     const char *peer)
{
    const char *svc = pa_msg_str(m, PA_FIELD_HELLO_SERVICE, NULL);
    const char *id = pa_msg_str(m, PA_FIELD_HELLO_WORKER_ID, NULL);
    const char *inst = pa_msg_str(m, PA_FIELD_HELLO_INSTANCE, NULL);
    int si = svc_index(svc);
    if (si < 0) {
        pa_warn("HELLO from a worker of an unknown service; ignored", PA_S("service", svc),
                PA_S("worker", id));
        return;
    }
    if (strpbrk(id, " :\t\r\n")) {
        refuse(d, ident, ilen, id, peer, "worker id with a blank or ':'");
        return;
    }
    char key[PA_KEY_MAX];
    if (d->auth) {
        /* the id belongs to the first CURVE key that said HELLO with it, on every gateway */
        worker_key(d, id, "key", key);
        redisReply *r = pa_redis_cmd(d->redis, "SET %s %s NX", key, peer);
        int taken = r && r->type == REDIS_REPLY_NIL;
        if (r) freeReplyObject(r);
        if (!r) return; /* Redis away: the worker says HELLO again */
        if (taken) {
            r = pa_redis_cmd(d->redis, "GET %s", key);
            int other = !r || r->type != REDIS_REPLY_STRING || strcmp(r->str, peer) != 0;
            if (r) freeReplyObject(r);
            if (other) {
                refuse(d, ident, ilen, id, peer, "worker id bound to another CURVE key");
                return;
            }
        }
    }
    worker_t *w = find_worker(d, ident, ilen);
    if (w && (strcmp(w->id, id) != 0 || strcmp(w->inst, inst) != 0)) {
        refuse(d, ident, ilen, id, peer, "this connection said HELLO as another worker");
        return;
    }
    uint64_t now = pa_mono_ms();
    for (int i = 0; i < MAX_WORKERS; i++) {
        worker_t *o = &d->workers[i];
        if (!o->used || o == w || strcmp(o->id, id) != 0) continue;
        if (strcmp(o->inst, inst) == 0) {
            /* the same process on a new connection (it reconnected): the new one takes the
             * slot; its tasks are reconciled below, nothing else is released */
            slot_clear(d, o);
        } else if (!o->suspect && now - o->last_seen <= 3u * (uint64_t)d->o.heartbeat_ms) {
            refuse(d, ident, ilen, id, peer, "worker id held by another live instance");
            return;
        } else {
            slot_clear(d, o); /* that instance is gone: reconcile requeues its tasks */
        }
    }
    char alive[33];
    if (alive_instance(d, id, alive, NULL) < 0) return; /* Redis away: it says HELLO again */
    if (alive[0] && strcmp(alive, inst) != 0) {
        refuse(d, ident, ilen, id, peer, "worker id held by another live instance");
        return;
    }
    if (!w) {
        w = slot_for(d, peer);
        if (!w) {
            refuse(d, ident, ilen, id, peer, "too many worker slots for this peer");
            return;
        }
    }
    /* before any credit: what the worker does not hold goes back (uncounted), and what another
     * instance of the id held (it is gone) goes back counted */
    size_t hlen = 0;
    const char *hs =
        pa_msg_has(m, PA_FIELD_HELLO_HELD) ? pa_msg_str(m, PA_FIELD_HELLO_HELD, &hlen) : NULL;
    char *hbuf = NULL;
    pa_jobs_lease_ref_t *refs = NULL;
    long nheld = hs ? parse_held(hs, hlen, &hbuf, &refs) : -1;
    if (nheld > (long)pa_msg_uint(m, PA_FIELD_HELLO_CAPACITY)) nheld = -1; /* more than it runs */
    if (hs && nheld < 0)
        pa_warn("HELLO with a malformed held list; nothing released", PA_S("worker", id));
    char via[sizeof w->via], via_inst[VIA_INST + 1];
    via_of(d, inst, via, via_inst);
    pa_jobs_reconcile_in_t rin = {.prefix = d->prefix,
                                  .worker = id,
                                  .via = via,
                                  .instance = via_inst,
                                  .with_held = nheld >= 0,
                                  .held = refs,
                                  .n = nheld > 0 ? (size_t)nheld : 0};
    pa_jobs_reconcile_out_t rout;
    char err[256];
    if (pa_jobs_reconcile_call(d->redis, &rin, &rout, err, sizeof err) < 0) {
        pa_warn("reconcile failed; leases the worker does not hold expire", PA_S("worker", id),
                PA_S("error", err));
    } else if (rout.released || rout.requeued) {
        pa_info("worker reconciled", PA_S("worker", id), PA_I("released", rout.released),
                PA_I("requeued", rout.requeued));
        for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
    }
    free(refs);
    free(hbuf);
    unsigned cap = (unsigned)pa_msg_uint(m, PA_FIELD_HELLO_CAPACITY);
    pthread_mutex_lock(&d->wlock);
    memset(w, 0, sizeof *w);
    atomic_store(&w->credit, 0);
    w->used = 1;
    w->gen = ++d->gen_seq;
    memcpy(w->ident, ident, ilen);
    w->ident_len = ilen;
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->inst, sizeof w->inst, "%s", inst);
    memcpy(w->via, via, sizeof w->via);
    memcpy(w->via_inst, via_inst, sizeof w->via_inst);
    snprintf(w->peer, sizeof w->peer, "%s", peer);
    w->svc = si;
    w->capacity = cap > (unsigned)d->max_capacity ? (unsigned)d->max_capacity : cap;
    w->last_seen = w->joined = now;
    pthread_mutex_unlock(&d->wlock);
    pa_info("worker joined", PA_S("worker", w->id), PA_S("service", svc),
            PA_I("capacity", w->capacity), PA_S("peer", peer),
            PA_S("version", pa_msg_str(m, PA_FIELD_HELLO_VERSION, NULL)));
}

/* The ROUTER identity of a peer, in hex (at most 64 bytes), for log lines. */
static const char *peer_hex(const unsigned char *ident, size_t len, char out[130])
{
    static const char hx[] = "0123456789abcdef";
    size_t n = len > 64 ? 64 : len;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[ident[i] >> 4];
        out[2 * i + 1] = hx[ident[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static void handle(gw_dispatch_t *d, zmq_msg_t *f, int nframes)
{
    const unsigned char *ident = zmq_msg_data(&f[0]);
    size_t ilen = zmq_msg_size(&f[0]);
    char peer[130];
    peer_hex(ident, ilen, peer);
    if (nframes != 3 || ilen == 0 || ilen > sizeof d->workers[0].ident) {
        atomic_fetch_add(&d->dropped, 1);
        pa_warn("dropped a message with the wrong number of frames", PA_S("peer", peer),
                PA_I("frames", nframes - 1));
        return;
    }
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    if (pa_proto_decode(zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), zmq_msg_data(&f[2]),
                        zmq_msg_size(&f[2]), &m, err, sizeof err) < 0) {
        atomic_fetch_add(&d->dropped, 1);
        pa_warn("dropped a malformed message", PA_S("peer", peer), PA_S("error", err),
                PA_I("bytes", zmq_msg_size(&f[1]) + zmq_msg_size(&f[2])));
        return;
    }
    worker_t *w = find_worker(d, ident, ilen);
    if (w && w->suspect && pa_msg_cmd(m) != PA_CMD_HELLO && pa_msg_cmd(m) != PA_CMD_BYE) {
        /* it speaks again after it was given up here: it says HELLO anew (BYE "unknown" below),
         * which gives it back its credit and reconciles what it holds */
        slot_clear(d, w);
        w = NULL;
    }
    switch (pa_msg_cmd(m)) {
    case PA_CMD_HELLO: {
        /* who the peer is: its CURVE key (ZAP's User-Id) or, without CURVE, its address */
        const char *uid = d->auth ? zmq_msg_gets(&f[2], "User-Id") : NULL;
        const char *addr = zmq_msg_gets(&f[2], "Peer-Address");
        if (d->auth && (!uid || !*uid)) {
            pa_warn("HELLO without an authenticated key; ignored", PA_S("peer", peer));
            break;
        }
        on_hello(d, ident, ilen, m, uid ? uid : addr && *addr ? addr : "local");
        break;
    }
    case PA_CMD_CREDIT:
        if (w) {
            unsigned add = (unsigned)pa_msg_uint(m, PA_FIELD_CREDIT_N), c, n;
            c = atomic_load(&w->credit);
            do {
                n = c + add > 4 * w->capacity ? 4 * w->capacity : c + add;
            } while (!atomic_compare_exchange_weak(&w->credit, &c, n));
            /* a worker frees a slot when it committed a task, which may have queued the next
             * stage for another service */
            for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
        }
        break;
    case PA_CMD_HEARTBEAT: break;
    case PA_CMD_BYE:
        /* only the connection that said HELLO for that id may take it away */
        if (w && strcmp(w->id, pa_msg_str(m, PA_FIELD_BYE_WORKER_ID, NULL)) == 0) {
            drop_worker(d, w, "bye", 0);
        } else {
            atomic_fetch_add(&d->dropped, 1);
            pa_warn("BYE not from the connection that said HELLO for that worker; ignored",
                    PA_S("peer", peer),
                    PA_S("worker", pa_msg_str(m, PA_FIELD_BYE_WORKER_ID, NULL)));
        }
        w = NULL;
        break;
    default:
        atomic_fetch_add(&d->dropped, 1);
        pa_warn("dropped a message a worker must not send", PA_S("peer", peer),
                PA_S("command", pa_msg_name(m)));
    }
    if (w && w->used) {
        w->last_seen = pa_mono_ms();
    } else if (!w && pa_msg_cmd(m) != PA_CMD_HELLO && pa_msg_cmd(m) != PA_CMD_BYE) {
        /* A worker this gateway does not know (it restarted): BYE asks it to say HELLO again. */
        pa_msg_t *bye = pa_msg_new(PA_CMD_BYE);
        pa_msg_set_str(bye, PA_FIELD_BYE_WORKER_ID, "unknown");
        send_to(d, ident, ilen, bye);
        pa_msg_destroy(&bye);
    }
    pa_msg_destroy(&m);
}

static void receive_all(gw_dispatch_t *d)
{
    for (int k = 0; k < MAX_MSGS_PER_ROUND; k++) {
        zmq_msg_t f[4];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t tmp;
            zmq_msg_init(&tmp);
            if (zmq_msg_recv(&tmp, d->rs, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&tmp);
                if (n == 0) return;
                break; /* cannot happen mid-message: ZeroMQ delivers whole messages */
            }
            more = zmq_msg_more(&tmp);
            if (n < 4) f[n] = tmp;
            else zmq_msg_close(&tmp);
            n++;
        }
        handle(d, f, n);
        for (int i = 0; i < n && i < 4; i++) zmq_msg_close(&f[i]);
    }
}

_Static_assert(PA_NRESULTS <= PA_TASK_MAX_RESULTS, "a TASK carries every earlier stage's result");

/* A leased task whose documents a TASK cannot carry would fail to encode at every try (and the
 * worker would look unreachable): it fails for good here, under the lease it was given, and the
 * worker's credit for it comes back. */
static void fail_unsendable(gw_dispatch_t *d, worker_t *w, const pa_jobs_task_t *t, const char *why)
{
    pa_warn("task cannot be sent; it fails", PA_S("task_id", t->key), PA_S("error", why));
    pa_jobs_commit_item_t it = {
        .key = t->key, .lease = t->lease, .outcome = PA_JOBS_OUT_FAILED, .error = why};
    pa_jobs_commit_in_t in = {
        .prefix = d->prefix, .worker = w->id, .now_ms = pa_wall_ms(), .items = &it, .n = 1};
    bool stale = false;
    pa_jobs_commit_out_t out = {.stale = &stale};
    char err[256];
    if (pa_jobs_commit_call(d->redis, &in, &out, err, sizeof err) < 0)
        pa_warn("the failure could not be committed; the lease expires", PA_S("task_id", t->key),
                PA_S("error", err));
    atomic_fetch_add(&w->credit, 1);
}

/* Sends the tasks a script leased to worker w. Returns how many were sent; -1 when the worker
 * could not be reached (it is dropped: its leases go back). Frees l. */
static int send_leased(gw_dispatch_t *d, worker_t *w, pa_jobs_leases_t *l)
{
    int got = 0;
    for (size_t i = 0; i < l->n; i++) {
        const pa_jobs_task_t *t = &l->tasks[i];
        /* input, context and results are JSON stored by the gateway and the workers: they are
         * passed on as they are */
        pa_task_msg_t tm = {.task_id = t->key,
                            .job_id = t->key,
                            .job_id_len = t->job_len,
                            .stage = t->stage,
                            .lease = t->lease,
                            .attempt = t->attempt,
                            .max_attempts = t->max_attempts ? t->max_attempts : 1,
                            .deadline_ms = t->lease_until_ms,
                            .target = t->target ? t->target : "",
                            .target_len = t->target ? t->target_len : 0,
                            .input = t->input,
                            .input_len = t->input_len,
                            .context = t->ctx,
                            .context_len = t->ctx_len};
        for (int k = 0; k < PA_NRESULTS; k++) {
            if (!t->results[k]) continue;
            tm.results[tm.nresults++] =
                (pa_task_result_t){pa_stages[k], 0, t->results[k], t->results_len[k]};
        }
        char why[PA_PROTO_ERRLEN];
        if (pa_task_msg_check(&tm, why, sizeof why) < 0) {
            fail_unsendable(d, w, t, why);
            continue;
        }
        pa_msg_t *m = pa_task_msg_encode(&tm);
        int rc = send_to(d, w->ident, w->ident_len, m);
        pa_msg_destroy(&m);
        if (rc < 0) {
            /* The connection is gone: this task and the rest of the batch never reached it, so
             * they go back at once, uncounted. What it got before follows worker_gone. */
            size_t k = l->n - i;
            pa_jobs_lease_ref_t *refs = pa_malloc(k * sizeof *refs);
            for (size_t j = 0; j < k; j++)
                refs[j] = (pa_jobs_lease_ref_t){l->tasks[i + j].key, l->tasks[i + j].lease};
            pa_jobs_release_in_t in = {.prefix = d->prefix, .worker = w->id, .tasks = refs, .n = k};
            pa_jobs_release_out_t out;
            char err[256];
            if (pa_jobs_release_call(d->redis, &in, &out, err, sizeof err) < 0)
                pa_warn("tasks that could not be sent could not be given back; their leases expire",
                        PA_S("worker", w->id), PA_I("tasks", k), PA_S("error", err));
            free(refs);
            pa_jobs_leases_free(l);
            atomic_fetch_add(&d->dispatched, (unsigned long long)got);
            for (int s = 0; s < NSVC; s++) d->dirty[s] = 1;
            worker_gone(d, w, "unreachable");
            return -1;
        }
        w->taken++;
        got++;
    }
    pa_jobs_leases_free(l);
    atomic_fetch_add(&d->dispatched, (unsigned long long)got);
    return got;
}

/* Leases up to the worker's credit of queued tasks and sends them. Returns how many it got, or
 * -1 when Redis is unreachable. */
static int dispatch_to(gw_dispatch_t *d, worker_t *w)
{
    unsigned n = credit_take(w, DISPATCH_BATCH);
    if (!n) return 0;
    pa_jobs_dispatch_in_t in = {.prefix = d->prefix,
                                .service = services[w->svc],
                                .n = n,
                                .worker = w->id,
                                .lease_ms = d->o.lease_ms,
                                .via = w->via};
    pa_jobs_leases_t l;
    char err[256];
    if (pa_jobs_dispatch_call(d->redis, &in, &l, err, sizeof err) < 0) {
        if (pa_redis_connected(d->redis)) pa_error("dispatch failed", PA_S("error", err));
        atomic_fetch_add(&w->credit, n);
        return -1;
    }
    unsigned leased = (unsigned)l.n;
    int got = send_leased(d, w, &l);
    if (got < 0) return (int)leased; /* the worker is gone or suspect: no credit left */
    atomic_fetch_add(&w->credit, n - leased);
    return got;
}

/* create.lua leased these tasks to w without saying via which gateway and to which instance:
 * recorded here, in one round trip, before they are sent (reconcile.lua releases only tasks
 * that name this gateway; a task handed but not sent when the worker says HELLO again is
 * released by send_handed, its reservation being of the old connection). */
static void mark_handed(gw_dispatch_t *d, const worker_t *w, const pa_jobs_leases_t *l)
{
    size_t sent = 0;
    for (size_t i = 0; i < l->n; i++) {
        char key[PA_KEY_MAX];
        const char *argv[] = {"HSET", pa_key_task(key, d->prefix, l->tasks[i].key), "via", w->via};
        if (pa_redis_append(d->redis, 4, argv, NULL) < 0) break;
        sent++;
    }
    if (!sent || pa_redis_flush(d->redis) < 0) return;
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = pa_redis_get_reply(d->redis);
        if (!r) break;
        freeReplyObject(r);
    }
}

/* Sends what request threads leased to reserved workers (gw_dispatch_hand_leases). */
static void send_handed(gw_dispatch_t *d)
{
    pthread_mutex_lock(&d->wlock);
    hand_t *h = d->hand_head;
    d->hand_head = d->hand_tail = NULL;
    pthread_mutex_unlock(&d->wlock);
    while (h) {
        hand_t *next = h->next;
        worker_t *w = &d->workers[h->res.slot];
        size_t n = h->leases.n;
        if (w->used && w->gen == h->res.gen) {
            mark_handed(d, w, &h->leases);
            send_leased(d, w, &h->leases);
        } else {
            /* the worker left after its credit was taken: the tasks go back at once, their
             * attempt not counted */
            pa_jobs_lease_ref_t *refs = pa_malloc(n * sizeof *refs);
            for (size_t i = 0; i < n; i++)
                refs[i].key = h->leases.tasks[i].key, refs[i].lease = h->leases.tasks[i].lease;
            pa_jobs_release_in_t in = {
                .prefix = d->prefix, .worker = h->res.wid, .tasks = refs, .n = n};
            pa_jobs_release_out_t out;
            char err[256];
            if (pa_jobs_release_call(d->redis, &in, &out, err, sizeof err) < 0)
                pa_warn("tasks leased to a worker that left could not be given back; their "
                        "leases expire",
                        PA_S("worker", h->res.wid), PA_I("tasks", n), PA_S("error", err));
            free(refs);
            pa_jobs_leases_free(&h->leases);
            for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
        }
        free(h);
        h = next;
    }
}

/* Sends CANCEL to the workers of each cancelled job (gw_dispatch_cancel) connected here; the
 * others hear of it from their next lease check. */
static void send_cancels(gw_dispatch_t *d)
{
    pthread_mutex_lock(&d->wlock);
    cancel_req_t *c = d->cancels;
    d->cancels = NULL;
    pthread_mutex_unlock(&d->wlock);
    while (c) {
        cancel_req_t *next = c->next;
        pa_msg_t *m = pa_msg_new(PA_CMD_CANCEL);
        pa_msg_set_str(m, PA_FIELD_CANCEL_JOB_ID, c->job);
        pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "job cancelled");
        for (size_t k = 0; k < c->n; k++)
            for (int i = 0; i < MAX_WORKERS; i++) {
                worker_t *w = &d->workers[i];
                if (!w->used || strcmp(w->id, c->workers[k]) != 0) continue;
                if (send_to(d, w->ident, w->ident_len, m) == 0)
                    pa_debug("cancel sent", PA_S("job_id", c->job), PA_S("worker", w->id));
            }
        pa_msg_destroy(&m);
        free(c->workers);
        free(c);
        c = next;
    }
}

static void dispatch_round(gw_dispatch_t *d, uint64_t now)
{
    for (int s = 0; s < NSVC; s++) {
        if (!d->dirty[s] && now < d->next_poll[s]) continue;
        int empty = 0, any = 0;
        for (int i = 0; i < MAX_WORKERS && !empty; i++) {
            worker_t *w = &d->workers[i];
            unsigned c = atomic_load(&w->credit);
            if (!w->used || w->svc != s || c == 0) continue;
            any = 1;
            unsigned want = c < DISPATCH_BATCH ? c : DISPATCH_BATCH;
            int got = dispatch_to(d, w);
            if (got < 0 || (unsigned)got < want) empty = 1;
        }
        if (empty || !any) {
            d->dirty[s] = 0;
            d->next_poll[s] = now + POLL_IDLE_MS;
        }
    }
}

static void heartbeat_round(gw_dispatch_t *d)
{
    uint64_t now = pa_mono_ms(), wall = pa_wall_ms();
    pa_msg_t *hb = pa_msg_new(PA_CMD_HEARTBEAT);
    for (int i = 0; i < MAX_WORKERS; i++) {
        worker_t *w = &d->workers[i];
        if (!w->used) continue;
        if (w->suspect) {
            if (now >= w->recheck_at) worker_gone(d, w, "missed 3 heartbeats");
            continue;
        }
        if (now - w->last_seen > 3u * (uint64_t)d->o.heartbeat_ms) {
            worker_gone(d, w, "missed 3 heartbeats");
            continue;
        }
        send_to(d, w->ident, w->ident_len, hb);
        char json[512];
        snprintf(json, sizeof json,
                 "{\"service\":\"%s\",\"capacity\":%u,\"credit\":%u,\"gateway\":\"%s\","
                 "\"last_seen_ms\":%llu}",
                 services[w->svc], w->capacity, atomic_load(&w->credit), d->gateway_id,
                 (unsigned long long)(wall - (now - w->last_seen)));
        char key[PA_KEY_MAX];
        const char *argv[] = {"HSET", pa_key_workers(key, d->prefix), w->id, json};
        redisReply *r = pa_redis_argv(d->redis, 4, argv, NULL);
        if (r) freeReplyObject(r);
    }
    pa_msg_destroy(&hb);
}

static void maintain(gw_dispatch_t *d)
{
    pa_jobs_maintain_in_t in = {.prefix = d->prefix, .limit = 1000};
    pa_jobs_maintain_out_t out;
    char err[256];
    if (pa_jobs_maintain_call(d->redis, &in, &out, err, sizeof err) == 0) {
        if (out.promoted || out.requeued)
            for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
        if (out.requeued)
            pa_warn("requeued tasks whose lease expired", PA_I("tasks", out.requeued));
    } else if (pa_redis_connected(d->redis)) {
        pa_error("maintenance failed", PA_S("error", err));
    }
}

static void *dispatch_main(void *arg)
{
    gw_dispatch_t *d = arg;
    uint64_t next_hb = 0, next_maint = 0;
    while (atomic_load(&d->running)) {
        uint64_t now = pa_mono_ms();
        if (now >= next_hb) {
            heartbeat_round(d);
            next_hb = now + (uint64_t)d->o.heartbeat_ms;
        }
        if (now >= next_maint) {
            maintain(d);
            next_maint = now + MAINTAIN_MS;
        }
        dispatch_round(d, now);
        long timeout = 100;
        for (int s = 0; s < NSVC; s++) {
            int credit = 0;
            for (int i = 0; i < MAX_WORKERS && !credit; i++)
                credit = d->workers[i].used && d->workers[i].svc == s &&
                         atomic_load(&d->workers[i].credit);
            if (!credit) continue;
            if (d->dirty[s]) timeout = 0;
            else if ((long)(d->next_poll[s] - now) < timeout)
                timeout = (long)(d->next_poll[s] - now);
        }
        if (timeout < 0) timeout = 0;
        zmq_pollitem_t items[2] = {{d->rs, 0, ZMQ_POLLIN, 0}, {NULL, d->wake_fd, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, timeout) < 0 && errno != EINTR) break;
        if (items[1].revents & ZMQ_POLLIN) {
            uint64_t v;
            if (read(d->wake_fd, &v, sizeof v) > 0 && atomic_exchange(&d->kicked, 0))
                for (int i = 0; i < NSVC; i++) d->dirty[i] = 1;
            send_handed(d);
            send_cancels(d);
        }
        if (items[0].revents & ZMQ_POLLIN) receive_all(d);
    }
    send_handed(d); /* tasks already leased go out: workers keep what they hold */
    send_cancels(d);
    /* Tell workers this gateway is going; they keep their tasks and join another or this
     * one again. */
    pa_msg_t *bye = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(bye, PA_FIELD_BYE_WORKER_ID, "gateway");
    for (int i = 0; i < MAX_WORKERS; i++)
        if (d->workers[i].used) send_to(d, d->workers[i].ident, d->workers[i].ident_len, bye);
    pa_msg_destroy(&bye);
    return NULL;
}

gw_dispatch_t *gw_dispatch_new(const gw_dispatch_opts_t *o, char *err, size_t errlen)
{
    gw_dispatch_t *d = pa_calloc(1, sizeof *d);
    d->o = *o;
    d->bind = pa_strdup(o->bind);
    d->prefix = pa_strdup(o->prefix);
    d->gateway_id = pa_strdup(o->gateway_id);
    uint32_t h = 2166136261u; /* FNV-1a: gateways with one id share leases' via, as they should */
    for (const unsigned char *p = (const unsigned char *)d->gateway_id; *p; p++)
        h = (h ^ *p) * 16777619u;
    snprintf(d->gateway_tag, sizeof d->gateway_tag, "%08x", (unsigned)h);
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&d->wlock, NULL);
    if (pa_env_long("WORKER_SLOTS_PER_PEER", 256, 1, MAX_WORKERS, &d->peer_slots, err, errlen) <
            0 ||
        pa_env_long("WORKER_MAX_CAPACITY", 1024, 1, 10000, &d->max_capacity, err, errlen) < 0)
        goto fail;
    d->redis = pa_redis_new(o->redis_url, o->redis_timeout_ms, err, errlen);
    if (!d->redis || d->wake_fd < 0) goto fail;
    zsys_handler_set(NULL); /* the gateway handles signals itself */
    zsys_set_linger(0);
    d->router = zsock_new(ZMQ_ROUTER);
    if (!d->router) {
        snprintf(err, errlen, "cannot create a ZeroMQ socket");
        goto fail;
    }
    zsock_set_router_mandatory(d->router, 1);
    zsock_set_sndhwm(d->router, 100000);
    zsock_set_rcvhwm(d->router, 100000);
    /* the decoder's bound: libzmq cuts off a peer whose frame is larger before it is held */
    zsock_set_maxmsgsize(d->router, (int64_t)PA_PROTO_MAX_BODY);
    if (o->curve_secret) {
        char pub[41];
        if (strlen(o->curve_secret) != 40 || zmq_curve_public(pub, o->curve_secret) != 0) {
            snprintf(err, errlen, "CURVE_SERVER_SECRET: expected a 40-character Z85 secret key");
            goto fail;
        }
        if (!o->curve_clients_dir || !*o->curve_clients_dir) {
            snprintf(err, errlen,
                     "CURVE_CLIENTS_DIR: required with CURVE_SERVER_SECRET (the "
                     "directory of allowed client certificates)");
            goto fail;
        }
        d->auth = zactor_new(zauth, NULL);
        zstr_sendx(d->auth, "CURVE", o->curve_clients_dir, NULL);
        zsock_wait(d->auth);
        zsock_set_zap_domain(d->router, "prospect");
        zsock_set_curve_server(d->router, 1);
        zsock_set_curve_secretkey(d->router, o->curve_secret);
        pa_info("dispatcher uses CURVE", PA_S("public_key", pub),
                PA_S("clients", o->curve_clients_dir));
    }
    if (zsock_bind(d->router, "%s", o->bind) < 0) {
        snprintf(err, errlen, "DISPATCH_BIND: cannot bind %s: %s", o->bind,
                 zmq_strerror(zmq_errno()));
        goto fail;
    }
    d->rs = zsock_resolve(d->router);
    atomic_store(&d->running, 1);
    if (pthread_create(&d->thread, NULL, dispatch_main, d) != 0) {
        snprintf(err, errlen, "cannot start the dispatcher thread");
        atomic_store(&d->running, 0);
        goto fail;
    }
    return d;
fail:
    gw_dispatch_destroy(&d);
    return NULL;
}

void gw_dispatch_destroy(gw_dispatch_t **dp)
{
    gw_dispatch_t *d = *dp;
    if (!d) return;
    if (atomic_exchange(&d->running, 0)) {
        gw_dispatch_wake(d);
        pthread_join(d->thread, NULL);
    }
    while (d->hand_head) { /* handed after the thread's last look: their leases expire */
        hand_t *h = d->hand_head;
        d->hand_head = h->next;
        pa_jobs_leases_free(&h->leases);
        free(h);
    }
    while (d->cancels) { /* after the thread's last look: those workers learn it from Redis */
        cancel_req_t *c = d->cancels;
        d->cancels = c->next;
        free(c->workers);
        free(c);
    }
    pthread_mutex_destroy(&d->wlock);
    zsock_destroy(&d->router);
    zactor_destroy(&d->auth);
    if (d->wake_fd >= 0) close(d->wake_fd);
    pa_redis_destroy(&d->redis);
    free(d->bind);
    free(d->prefix);
    free(d->gateway_id);
    free(d);
    *dp = NULL;
}

static void wake_thread(gw_dispatch_t *d)
{
    uint64_t one = 1;
    if (write(d->wake_fd, &one, sizeof one) < 0) {
        /* the counter is saturated: a wake-up is already pending */
    }
}

void gw_dispatch_reserve(gw_dispatch_t *d, const char *svc, unsigned want, gw_reservation_t *res)
{
    memset(res, 0, sizeof *res);
    res->slot = -1;
    int si = svc_index(svc);
    if (si < 0 || !want) return;
    pthread_mutex_lock(&d->wlock);
    for (int i = 0; i < MAX_WORKERS && !res->k; i++) {
        worker_t *w = &d->workers[i];
        if (!w->used || w->svc != si) continue;
        res->k = credit_take(w, want);
        if (!res->k) continue;
        res->slot = i;
        res->gen = w->gen;
        snprintf(res->wid, sizeof res->wid, "%s", w->id);
    }
    pthread_mutex_unlock(&d->wlock);
}

void gw_dispatch_unreserve(gw_dispatch_t *d, const gw_reservation_t *res, unsigned unused)
{
    if (res->slot < 0 || !unused) return;
    pthread_mutex_lock(&d->wlock);
    worker_t *w = &d->workers[res->slot];
    if (w->used && w->gen == res->gen) atomic_fetch_add(&w->credit, unused);
    pthread_mutex_unlock(&d->wlock);
}

void gw_dispatch_hand_leases(gw_dispatch_t *d, const gw_reservation_t *res, pa_jobs_leases_t *l)
{
    hand_t *h = pa_calloc(1, sizeof *h);
    h->res = *res;
    pa_jobs_leases_move(&h->leases, l);
    pthread_mutex_lock(&d->wlock);
    if (d->hand_tail) d->hand_tail->next = h;
    else d->hand_head = h;
    d->hand_tail = h;
    pthread_mutex_unlock(&d->wlock);
    wake_thread(d);
}

void gw_dispatch_cancel(gw_dispatch_t *d, const char *job, const char *const *workers, size_t n)
{
    if (!d || !n || !job || strlen(job) > 64) return;
    cancel_req_t *c = pa_calloc(1, sizeof *c);
    snprintf(c->job, sizeof c->job, "%s", job);
    c->workers = pa_calloc(n, sizeof *c->workers);
    for (size_t i = 0; i < n; i++)
        snprintf(c->workers[c->n++], sizeof c->workers[0], "%s", workers[i]);
    pthread_mutex_lock(&d->wlock);
    c->next = d->cancels;
    d->cancels = c;
    pthread_mutex_unlock(&d->wlock);
    wake_thread(d);
}

int gw_dispatch_lease_ms(const gw_dispatch_t *d)
{
    return d->o.lease_ms;
}

void gw_dispatch_wake(gw_dispatch_t *d)
{
    atomic_store(&d->kicked, 1);
    uint64_t one = 1;
    if (write(d->wake_fd, &one, sizeof one) < 0) {
        /* the counter is saturated: a wake-up is already pending */
    }
}

void gw_dispatch_stats(gw_dispatch_t *d, gw_dispatch_stats_t *out)
{
    out->dispatched = atomic_load(&d->dispatched);
    out->dropped_messages = atomic_load(&d->dropped);
    out->workers_lost = atomic_load(&d->lost);
    out->workers = atomic_load(&d->nworkers);
}
