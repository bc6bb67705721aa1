/* Streamed answers of POST /api/llm/generate; see gw_llm_stream.h for the design. */
#include "gw_llm_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_llm_outcome.h"
#include "gw_sse.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_redis.h"
#include "pa_time.h"

#define BUCKETS 256
/* Events waiting for a slow client beyond this are dropped (the final event has everything). */
#define MAX_PENDING ((size_t)1 << 20)

struct gw_stream {
    gw_streams_t *hub;
    gw_t *gw;
    char job[72];
    char instance[128];
    char request_id[129];
    gw_waiter_t *watch; /* the job's end, from the events hub */
    /* under hub->lock */
    pa_buf_t pend;    /* events for the client, not yet taken by the reader */
    unsigned attempt; /* the attempt whose deltas are relayed */
    size_t deltas;    /* deltas relayed of that attempt */
    gw_sleeper_t sl;
    int ka; /* a keep-alive comment is due */
    int final_due, timed_out;
    int finalized; /* the final event is made: later deltas are dropped */
    int dropped;   /* deltas were dropped for a slow client */
    /* the reader's own */
    pa_buf_t out;
    size_t off;
    int ended;
    struct gw_stream *next; /* bucket chain */
};

struct gw_streams {
    pthread_mutex_t lock;
    gw_stream_t *buckets[BUCKETS];
    size_t n;
    pa_redis_t *redis;
    char pattern[PA_KEY_MAX]; /* every job's channel (pa_key_llm_stream) */
    size_t plen;              /* the length of a channel's name before its job id */
    long keepalive_ms;
    atomic_int running;
    pthread_t thread;
};

static unsigned bucket(const char *job)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *job; job++) h = (h ^ (unsigned char)*job) * 16777619u;
    return h % BUCKETS;
}

static gw_stream_t *find(gw_streams_t *h, const char *job)
{
    for (gw_stream_t *s = h->buckets[bucket(job)]; s; s = s->next)
        if (strcmp(s->job, job) == 0) return s;
    return NULL;
}

/* Wakes a response whose connection sleeps. Called with the lock held. */
static void wake(gw_stream_t *s)
{
    gw_sleeper_wake(&s->sl);
}

/* ---- deltas from Redis -------------------------------------------------------------------- */

/* One message of the worker: {"attempt":n,"text":"..."} or {"attempt":n,"restart":true}. */
static void route(gw_streams_t *h, const char *job, const char *msg, size_t len)
{
    json_t *j = json_loadb(msg, len, 0, NULL);
    json_t *a = json_object_get(j, "attempt"), *t = json_object_get(j, "text");
    if (!json_is_integer(a) || json_integer_value(a) < 1 || json_integer_value(a) > 100000 ||
        (t && !json_is_string(t))) {
        json_decref(j);
        return; /* not ours to understand: ignored */
    }
    unsigned attempt = (unsigned)json_integer_value(a);
    pthread_mutex_lock(&h->lock);
    gw_stream_t *s = find(h, job);
    if (s && !s->finalized && attempt >= s->attempt) {
        if (attempt > s->attempt) { /* a new attempt: what the client has is void */
            if (s->deltas)
                pa_buf_printf(&s->pend, "event: restart\ndata: {\"attempt\":%u}\n\n", attempt);
            s->attempt = attempt;
            s->deltas = 0;
        }
        if (t && json_string_length(t)) {
            if (s->pend.len + json_string_length(t) > MAX_PENDING) {
                s->dropped = 1;
            } else {
                pa_buf_puts(&s->pend, "event: delta\ndata: {\"text\":");
                pa_buf_json_str(&s->pend, json_string_value(t), json_string_length(t));
                pa_buf_puts(&s->pend, "}\n\n");
                s->deltas++;
            }
        }
        wake(s);
    }
    pthread_mutex_unlock(&h->lock);
    json_decref(j);
}

static void *sub_main(void *arg)
{
    gw_streams_t *h = arg;
    int subscribed = 0, warned = 0;
    size_t plen = h->plen;
    uint64_t next_ka = pa_mono_ms() + (uint64_t)h->keepalive_ms;
    while (atomic_load(&h->running)) {
        if (!subscribed) {
            redisReply *r = pa_redis_cmd(h->redis, "PSUBSCRIBE %s", h->pattern);
            subscribed = r && r->type == REDIS_REPLY_ARRAY;
            if (subscribed && warned) pa_info("llm stream deltas: subscribed again");
            if (subscribed) warned = 0;
            if (r) freeReplyObject(r);
            if (!subscribed) pa_sleep_ms(100);
        } else {
            redisReply *m = pa_redis_wait_reply(h->redis, 100);
            if (m && m->type == REDIS_REPLY_ARRAY && m->elements == 4 &&
                m->element[0]->type == REDIS_REPLY_STRING &&
                strcmp(m->element[0]->str, "pmessage") == 0 &&
                m->element[2]->type == REDIS_REPLY_STRING && m->element[2]->len > plen &&
                m->element[3]->type == REDIS_REPLY_STRING)
                route(h, m->element[2]->str + plen, m->element[3]->str, m->element[3]->len);
            if (m) freeReplyObject(m);
            if (!m && !pa_redis_connected(h->redis)) {
                subscribed = 0;
                if (!warned)
                    pa_warn(
                        "llm stream deltas: redis unreachable; streams get their final events only",
                        PA_S("error", pa_redis_errstr(h->redis)));
                warned = 1;
            }
        }
        if (pa_mono_ms() >= next_ka) {
            pthread_mutex_lock(&h->lock);
            for (size_t b = 0; b < BUCKETS; b++)
                for (gw_stream_t *s = h->buckets[b]; s; s = s->next) {
                    s->ka = 1;
                    wake(s);
                }
            pthread_mutex_unlock(&h->lock);
            next_ka = pa_mono_ms() + (uint64_t)h->keepalive_ms;
        }
    }
    return NULL;
}

gw_streams_t *gw_streams_new(const char *redis_url, const char *prefix, int timeout_ms,
                             long keepalive_ms, char *err, size_t errlen)
{
    pa_redis_t *r = pa_redis_new(redis_url, timeout_ms, err, errlen);
    if (!r) return NULL;
    gw_streams_t *h = pa_calloc(1, sizeof *h);
    h->redis = r;
    h->keepalive_ms = keepalive_ms > 0 ? keepalive_ms : 15000;
    h->plen = strlen(pa_key_llm_stream(h->pattern, prefix, ""));
    pa_key_llm_stream(h->pattern, prefix, "*");
    pthread_mutex_init(&h->lock, NULL);
    atomic_store(&h->running, 1);
    if (pthread_create(&h->thread, NULL, sub_main, h) != 0) {
        snprintf(err, errlen, "cannot start the llm stream thread");
        atomic_store(&h->running, 0);
        gw_streams_destroy(&h);
        return NULL;
    }
    return h;
}

void gw_streams_destroy(gw_streams_t **hp)
{
    gw_streams_t *h = *hp;
    if (!h) return;
    if (atomic_exchange(&h->running, 0)) pthread_join(h->thread, NULL);
    pa_redis_destroy(&h->redis);
    pthread_mutex_destroy(&h->lock);
    free(h);
    *hp = NULL;
}

size_t gw_streams_open(gw_streams_t *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* ---- one response ------------------------------------------------------------------------- */

gw_stream_t *gw_stream_open(gw_streams_t *h, gw_req_t *r, const char *job)
{
    gw_stream_t *s = pa_calloc(1, sizeof *s);
    s->hub = h;
    s->gw = r->gw;
    snprintf(s->job, sizeof s->job, "%s", job);
    snprintf(s->instance, sizeof s->instance, "%s", r->path);
    snprintf(s->request_id, sizeof s->request_id, "%s", r->request_id);
    s->attempt = 1;
    pthread_mutex_lock(&h->lock);
    unsigned b = bucket(s->job);
    s->next = h->buckets[b];
    h->buckets[b] = s;
    h->n++;
    pthread_mutex_unlock(&h->lock);
    return s;
}

void gw_stream_close(gw_streams_t *h, gw_stream_t **sp)
{
    gw_stream_t *s = *sp;
    if (!s) return;
    if (s->watch) gw_events_unwait(s->gw->events, &s->watch); /* first: it may call on_end */
    pthread_mutex_lock(&h->lock);
    for (gw_stream_t **p = &h->buckets[bucket(s->job)]; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            h->n--;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    pa_buf_free(&s->pend);
    pa_buf_free(&s->out);
    free(s);
    *sp = NULL;
}

/* The events hub: the job ended, or the deadline passed, or the gateway stops. */
static void on_end(void *ud, int timed_out)
{
    gw_stream_t *s = ud;
    pthread_mutex_lock(&s->hub->lock);
    s->final_due = 1;
    s->timed_out = timed_out;
    wake(s);
    pthread_mutex_unlock(&s->hub->lock);
}

/* The final event: "done" with the result, or "error" with the problem. */
static void finalize(gw_stream_t *s, int timed_out)
{
    int status;
    long retry_after;
    char *body = gw_generate_outcome(s->gw, s->job, timed_out, s->instance, s->request_id, &status,
                                     &retry_after);
    pa_buf_printf(&s->out, "event: %s\ndata: %s\n\n", status == 200 ? "done" : "error", body);
    free(body);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    gw_stream_t *s = cls;
    gw_streams_t *h = s->hub;
    for (;;) {
        size_t n = gw_sse_take(&s->out, &s->off, buf, max);
        if (n) return (ssize_t)n;
        if (s->ended) return GW_STREAM_END;
        pthread_mutex_lock(&h->lock);
        if (s->pend.len) { /* deltas (and restarts) first: they came before the end */
            pa_buf_t t = s->out;
            s->out = s->pend;
            s->pend = t;
            s->off = 0;
            pthread_mutex_unlock(&h->lock);
            continue;
        }
        if (s->final_due) {
            s->finalized = 1;
            int timed_out = s->timed_out;
            pthread_mutex_unlock(&h->lock);
            finalize(s, timed_out);
            s->ended = 1;
            continue;
        }
        if (gw_sse_idle(&s->sl, &s->ka, &s->out, &h->lock)) continue;
        return 0; /* asleep until a delta, the end or a keep-alive */
    }
}

static void stream_free(void *cls)
{
    gw_stream_t *s = cls;
    if (s->dropped)
        pa_warn("llm stream: deltas dropped for a slow client", PA_S("job_id", s->job),
                PA_S("request_id", s->request_id));
    gw_stream_close(s->hub, &s);
}

gw_waiter_t *gw_stream_respond(gw_stream_t *s, gw_req_t *r, uint64_t deadline_mono_ms)
{
    pa_buf_printf(&s->out, "event: start\ndata: {\"job_id\":\"%s\"}\n\n", s->job);
    gw_sse_respond(r, &s->sl, stream_read, s, stream_free);
    s->watch = gw_events_watch_job(r->gw->events, s->job, deadline_mono_ms, on_end, s);
    return s->watch;
}
