/* Live job events over Server-Sent Events; see gw_events.h for the design. */
#include "gw_events.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sse.h"
#include "pa_events.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_redis.h"
#include "pa_time.h"

#define RING 8192
#define KEEPALIVE_MS 15000
#define REPLAY_BATCH 1000

/* A change's id: its stream entry's id and its place in the entry (entries hold a batch of
 * task changes). As an SSE id: "ms-seq" for the first change of an entry, "ms-seq.idx" after. */
typedef struct {
    uint64_t ms, seq, idx;
} evid_t;

#define IDX_ALL UINT64_MAX /* after every change of the entry */

typedef struct {
    evid_t id;
    char job[72];
    char *text; /* the whole SSE event, "id: ...\nevent: ...\ndata: ...\n\n" */
    int final;  /* a job-level completed/cancelled event */
} ev_t;

typedef struct sub {
    gw_events_t *hub;
    gw_t *gw;
    int ka; /* the hub asks for a keep-alive comment */
    gw_sleeper_t sl;
    char job[72];
    evid_t last;
    pa_buf_t out;
    size_t off;
    int ending, ended;
    int finished; /* the job was over when the client resumed with Last-Event-ID */
    struct sub *prev, *next;
} sub_t;

struct gw_waiter {
    gw_sleeper_t sl; /* conn NULL for a watch (fn) */
    gw_job_end_fn fn;
    void *ud;
    char job[72];
    uint64_t deadline;
    int woken, timed_out;
    struct gw_waiter *prev, *next;
};

struct gw_events {
    gw_waiter_t *waiters;
    char *prefix;
    char key[PA_KEY_MAX];
    pa_redis_t *redis;
    pthread_mutex_t lock;
    ev_t ring[RING];
    size_t head, count; /* oldest at head */
    evid_t last;        /* newest event seen */
    evid_t covered;     /* every event after this one is in the ring (or yet to come) */
    sub_t *subs;
    size_t nsubs;
    int closing;
    atomic_int running;
    pthread_t thread;
};

static int parse_id(const char *s, evid_t *id)
{
    char *e;
    if (!s || !*s || *s < '0' || *s > '9') return -1;
    id->ms = strtoull(s, &e, 10);
    if (*e != '-' || e[1] < '0' || e[1] > '9') return -1;
    id->seq = strtoull(e + 1, &e, 10);
    id->idx = 0;
    if (*e == '.' && e[1] >= '0' && e[1] <= '9') id->idx = strtoull(e + 1, &e, 10);
    return *e ? -1 : 0;
}

static int id_after(evid_t a, evid_t b)
{
    return a.ms > b.ms || (a.ms == b.ms && (a.seq > b.seq || (a.seq == b.seq && a.idx > b.idx)));
}

/* Formats one change as an SSE event (ev->text, ev->job, ev->final). */
static void format(const pa_event_t *c, ev_t *ev)
{
    pa_buf_t data = PA_BUF_INIT;
    const char *state = pa_event_get(c, "state"), *task = pa_event_get(c, "task");
    const char *job = pa_event_get(c, "job");
    snprintf(ev->job, sizeof ev->job, "%s", job ? job : "");
    pa_buf_putc(&data, '{');
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->k[i], *v = c->v[i];
        if (data.len > 1) pa_buf_putc(&data, ',');
        pa_buf_json_str(&data, k, strlen(k));
        pa_buf_putc(&data, ':');
        int num = (strcmp(k, "attempt") == 0 || strcmp(k, "total") == 0) && *v &&
                  strspn(v, "0123456789") == strlen(v);
        if (num) pa_buf_puts(&data, v);
        else pa_buf_json_str(&data, v, strlen(v));
    }
    pa_buf_putc(&data, '}');
    ev->final =
        !task && state && (strcmp(state, "completed") == 0 || strcmp(state, "cancelled") == 0);
    pa_buf_t out = PA_BUF_INIT;
    if (ev->id.idx)
        pa_buf_printf(&out, "id: %" PRIu64 "-%" PRIu64 ".%" PRIu64 "\n", ev->id.ms, ev->id.seq,
                      ev->id.idx);
    else pa_buf_printf(&out, "id: %" PRIu64 "-%" PRIu64 "\n", ev->id.ms, ev->id.seq);
    pa_buf_printf(&out, "event: %s\ndata: %s\n\n", task ? "task" : "job", data.data);
    pa_buf_free(&data);
    ev->text = pa_buf_detach(&out, NULL);
}

typedef struct {
    evid_t id;
    void (*fn)(ev_t *ev, void *ud); /* takes ev->text */
    void *ud;
} expand_t;

static void expand_one(const pa_event_t *c, void *p)
{
    expand_t *x = p;
    ev_t ev = {0};
    ev.id = x->id;
    ev.id.idx = c->index;
    format(c, &ev);
    x->fn(&ev, x->ud);
}

/* Calls fn with every change of a stream entry, formatted. Sets *entry to the entry's id with
 * idx IDX_ALL (after all its changes); -1 when the entry has no id. */
static int expand(const redisReply *en, void (*fn)(ev_t *ev, void *ud), void *ud, evid_t *entry)
{
    if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
        en->element[0]->type != REDIS_REPLY_STRING || parse_id(en->element[0]->str, entry) < 0)
        return -1;
    expand_t x = {*entry, fn, ud};
    pa_events_each(en->element[1], expand_one, &x);
    entry->idx = IDX_ALL;
    return 0;
}

/* Wakes a subscriber whose connection sleeps. Called with the lock held. */
static void wake(sub_t *s)
{
    gw_sleeper_wake(&s->sl);
}

/* Resumes a waiting request once. Called with the lock held. */
static void wake_waiter(gw_waiter_t *w, int timed_out)
{
    w->woken = 1;
    w->timed_out = timed_out;
    if (w->fn) w->fn(w->ud, timed_out);
    else gw_sleeper_wake(&w->sl);
}

/* Adds a change to the ring and wakes who waits for its job. Called with the lock held. */
static void ring_push(ev_t *ev, void *ud)
{
    gw_events_t *e = ud;
    size_t slot = (e->head + e->count) % RING;
    if (e->count == RING) {
        e->covered = e->ring[e->head].id;
        free(e->ring[e->head].text);
        e->head = (e->head + 1) % RING;
        slot = (e->head + e->count - 1) % RING;
    } else {
        e->count++;
    }
    e->ring[slot] = *ev;
    e->last = ev->id;
    for (sub_t *s = e->subs; s; s = s->next)
        if (strcmp(s->job, ev->job) == 0) wake(s);
    if (ev->final)
        for (gw_waiter_t *w = e->waiters; w; w = w->next)
            if (!w->woken && strcmp(w->job, ev->job) == 0) wake_waiter(w, 0);
}

/* Empties the ring. Called with the lock held. */
static void ring_clear(gw_events_t *e)
{
    for (size_t i = 0; i < e->count; i++) free(e->ring[(e->head + i) % RING].text);
    e->head = e->count = 0;
}

static void *hub_main(void *arg)
{
    gw_events_t *e = arg;
    uint64_t next_keepalive = pa_mono_ms() + KEEPALIVE_MS;
    char last[48];
    snprintf(last, sizeof last, "%" PRIu64 "-%" PRIu64, e->last.ms, e->last.seq);
    while (atomic_load(&e->running)) {
        redisReply *r =
            pa_redis_cmd(e->redis, "XREAD COUNT 500 BLOCK 100 STREAMS %s %s", e->key, last);
        if (!r) {
            pa_sleep_ms(200);
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            const redisReply *entries = r->element[0]->element[1];
            pthread_mutex_lock(&e->lock);
            if (!e->subs && !e->waiters) {
                /* Nobody here follows a job: the entries are only counted past, not formatted,
                 * and the ring covers nothing before them (a stream that resumes from earlier
                 * is replayed from Redis). This spares the gateway's CPU under load. */
                for (size_t i = 0; i < entries->elements; i++) {
                    const redisReply *en = entries->element[i];
                    evid_t entry;
                    if (en->type == REDIS_REPLY_ARRAY && en->elements == 2 &&
                        en->element[0]->type == REDIS_REPLY_STRING &&
                        parse_id(en->element[0]->str, &entry) == 0) {
                        entry.idx = IDX_ALL;
                        e->last = entry;
                    }
                }
                ring_clear(e);
                e->covered = e->last;
            } else {
                for (size_t i = 0; i < entries->elements; i++) {
                    evid_t entry;
                    if (expand(entries->element[i], ring_push, e, &entry) == 0) e->last = entry;
                }
            }
            pthread_mutex_unlock(&e->lock);
            snprintf(last, sizeof last, "%" PRIu64 "-%" PRIu64, e->last.ms, e->last.seq);
        }
        if (r) freeReplyObject(r);
        pthread_mutex_lock(&e->lock);
        uint64_t now = pa_mono_ms();
        for (gw_waiter_t *w = e->waiters; w; w = w->next)
            if (!w->woken && now >= w->deadline) wake_waiter(w, 1);
        pthread_mutex_unlock(&e->lock);
        if (pa_mono_ms() >= next_keepalive) {
            pthread_mutex_lock(&e->lock);
            for (sub_t *s = e->subs; s; s = s->next) {
                s->ka = 1;
                wake(s);
            }
            pthread_mutex_unlock(&e->lock);
            next_keepalive = pa_mono_ms() + KEEPALIVE_MS;
        }
    }
    return NULL;
}

gw_events_t *gw_events_new(const char *redis_url, const char *prefix, int timeout_ms, char *err,
                           size_t errlen)
{
    pa_redis_t *r = pa_redis_new(redis_url, timeout_ms + 100, err, errlen);
    if (!r) return NULL;
    gw_events_t *e = pa_calloc(1, sizeof *e);
    e->redis = r;
    e->prefix = pa_strdup(prefix);
    pa_key_events(e->key, prefix);
    pthread_mutex_init(&e->lock, NULL);
    /* start from the stream's end; if Redis is down, from now */
    redisReply *last = pa_redis_cmd(r, "XREVRANGE %s + - COUNT 1", e->key);
    if (last && last->type == REDIS_REPLY_ARRAY && last->elements == 1 &&
        parse_id(last->element[0]->element[0]->str, &e->last) == 0)
        e->last.idx = IDX_ALL;
    else e->last.ms = pa_wall_ms();
    if (last) freeReplyObject(last);
    e->covered = e->last;
    atomic_store(&e->running, 1);
    if (pthread_create(&e->thread, NULL, hub_main, e) != 0) {
        snprintf(err, errlen, "cannot start the events thread");
        atomic_store(&e->running, 0);
        gw_events_destroy(&e);
        return NULL;
    }
    return e;
}

void gw_events_close_all(gw_events_t *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->lock);
    e->closing = 1;
    for (sub_t *s = e->subs; s; s = s->next) wake(s);
    for (gw_waiter_t *w = e->waiters; w; w = w->next)
        if (!w->woken) wake_waiter(w, 1);
    pthread_mutex_unlock(&e->lock);
}

void gw_events_destroy(gw_events_t **ep)
{
    gw_events_t *e = *ep;
    if (!e) return;
    if (atomic_exchange(&e->running, 0)) pthread_join(e->thread, NULL);
    ring_clear(e);
    pa_redis_destroy(&e->redis);
    pthread_mutex_destroy(&e->lock);
    free(e->prefix);
    free(e);
    *ep = NULL;
}

size_t gw_events_streams(gw_events_t *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->nsubs;
    pthread_mutex_unlock(&e->lock);
    return n;
}

/* Reads events after s->last from Redis (a client resuming from before the ring); returns
 * how many entries were read, -1 when Redis did not answer. */
static void replay_one(ev_t *ev, void *ud)
{
    sub_t *s = ud;
    if (id_after(ev->id, s->last) && strcmp(ev->job, s->job) == 0) {
        pa_buf_puts(&s->out, ev->text);
        s->ending |= ev->final;
    }
    free(ev->text);
}

static long replay_from_redis(sub_t *s, pa_redis_t *rd)
{
    /* from the entry s->last is in (inclusive: its later changes may not be sent yet) */
    char from[48];
    if (s->last.idx == IDX_ALL)
        snprintf(from, sizeof from, "(%" PRIu64 "-%" PRIu64, s->last.ms, s->last.seq);
    else snprintf(from, sizeof from, "%" PRIu64 "-%" PRIu64, s->last.ms, s->last.seq);
    redisReply *r = pa_redis_cmd(rd, "XRANGE %s %s + COUNT %d", s->hub->key, from, REPLAY_BATCH);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return -1;
    }
    long n = (long)r->elements;
    for (size_t i = 0; i < r->elements; i++) {
        evid_t entry;
        if (expand(r->element[i], replay_one, s, &entry) == 0) s->last = entry;
    }
    freeReplyObject(r);
    return n;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sub_t *s = cls;
    gw_events_t *e = s->hub;
    for (;;) {
        size_t n = gw_sse_take(&s->out, &s->off, buf, max);
        if (n) return (ssize_t)n;
        if (s->ended) return GW_STREAM_END;
        if (s->ending) { /* the job is over: say so, then end */
            pa_buf_puts(&s->out, "event: end\ndata: {}\n\n");
            s->ended = 1;
            continue;
        }
        pthread_mutex_lock(&e->lock);
        if (id_after(e->covered, s->last)) {
            evid_t cov = e->covered;
            pthread_mutex_unlock(&e->lock);
            long got = replay_from_redis(s, gw_redis(s->gw));
            if (got < REPLAY_BATCH && !id_after(s->last, cov)) s->last = cov;
            continue;
        }
        for (size_t i = 0; i < e->count; i++) {
            ev_t *ev = &e->ring[(e->head + i) % RING];
            if (!id_after(ev->id, s->last)) continue;
            s->last = ev->id;
            if (strcmp(ev->job, s->job) != 0) continue;
            pa_buf_puts(&s->out, ev->text);
            s->ending |= ev->final;
        }
        if (!s->out.len && e->closing) s->ended = 1;
        if (s->out.len || s->ended || s->ending) {
            pthread_mutex_unlock(&e->lock);
            continue;
        }
        if (s->finished) { /* resumed after the job ended: the rest is in Redis, then end */
            pthread_mutex_unlock(&e->lock);
            while (replay_from_redis(s, gw_redis(s->gw)) == REPLAY_BATCH) {
            }
            s->ending = 1;
            continue;
        }
        if (gw_sse_idle(&s->sl, &s->ka, &s->out, &e->lock)) continue;
        return 0; /* asleep until the hub wakes us */
    }
}

static void sse_free(void *cls)
{
    sub_t *s = cls;
    gw_events_t *e = s->hub;
    pthread_mutex_lock(&e->lock);
    if (s->prev) s->prev->next = s->next;
    else e->subs = s->next;
    if (s->next) s->next->prev = s->prev;
    e->nsubs--;
    pthread_mutex_unlock(&e->lock);
    pa_buf_free(&s->out);
    free(s);
}

void gw_events_respond(gw_events_t *e, gw_req_t *r, const char *job, const char *last_event_id,
                       const char *snapshot, int finished)
{
    sub_t *s = pa_calloc(1, sizeof *s);
    s->hub = e;
    s->gw = r->gw;
    snprintf(s->job, sizeof s->job, "%s", job);
    pa_buf_puts(&s->out, "retry: 2000\n\n");
    pthread_mutex_lock(&e->lock);
    if (!last_event_id || parse_id(last_event_id, &s->last) < 0) s->last = e->last;
    s->next = e->subs;
    if (e->subs) e->subs->prev = s;
    e->subs = s;
    e->nsubs++;
    pthread_mutex_unlock(&e->lock);
    if (snapshot && !last_event_id)
        pa_buf_printf(&s->out, "event: snapshot\ndata: %s\n\n", snapshot);
    if (finished && !last_event_id) s->ending = 1;
    if (finished && last_event_id) s->finished = 1;
    gw_sse_respond(r, &s->sl, sse_read, s, sse_free);
}

gw_waiter_t *gw_events_wait_job(gw_events_t *e, gw_req_t *r, const char *job,
                                uint64_t deadline_mono_ms)
{
    gw_waiter_t *w = pa_calloc(1, sizeof *w);
    w->sl.conn = r->conn;
    snprintf(w->job, sizeof w->job, "%s", job);
    w->deadline = deadline_mono_ms;
    pthread_mutex_lock(&e->lock);
    w->sl.state = GW_SLEEPER_SUSPENDING; /* a wake-up from here on is recorded */
    w->next = e->waiters;
    if (e->waiters) e->waiters->prev = w;
    e->waiters = w;
    if (e->closing) wake_waiter(w, 1);
    gw_sleeper_sleep(&w->sl, &e->lock);
    pthread_mutex_unlock(&e->lock);
    return w;
}

gw_waiter_t *gw_events_watch_job(gw_events_t *e, const char *job, uint64_t deadline_mono_ms,
                                 gw_job_end_fn fn, void *ud)
{
    gw_waiter_t *w = pa_calloc(1, sizeof *w);
    w->fn = fn;
    w->ud = ud;
    snprintf(w->job, sizeof w->job, "%s", job);
    w->deadline = deadline_mono_ms;
    pthread_mutex_lock(&e->lock);
    w->next = e->waiters;
    if (e->waiters) e->waiters->prev = w;
    e->waiters = w;
    if (e->closing) wake_waiter(w, 1);
    pthread_mutex_unlock(&e->lock);
    return w;
}

int gw_waiter_timed_out(const gw_waiter_t *w)
{
    return w->timed_out;
}

void gw_events_unwait(gw_events_t *e, gw_waiter_t **wp)
{
    gw_waiter_t *w = *wp;
    if (!w) return;
    pthread_mutex_lock(&e->lock);
    if (w->prev) w->prev->next = w->next;
    else e->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    pthread_mutex_unlock(&e->lock);
    free(w);
    *wp = NULL;
}

void gw_events_poke(gw_events_t *e, gw_waiter_t *w)
{
    pthread_mutex_lock(&e->lock);
    if (!w->woken) wake_waiter(w, 0);
    pthread_mutex_unlock(&e->lock);
}
