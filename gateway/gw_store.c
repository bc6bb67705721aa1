/* The prospect store: Lua writes to Redis, and a sync thread that mirrors Redis into the
 * in-memory index.
 *
 * Every write runs one Lua script that updates the record's hash, the Redis-side indexes an
 * operator reads, increments `prospects:seq` and appends the new document (or a delete) to the
 * capped `prospects:changes` stream with that seq. Each gateway's sync thread applies the stream
 * in order. When the seq it reads is not the next one (the stream was trimmed past it, Redis was
 * flushed or restored from an older file), it reloads everything from the hashes. */
#include "gw_store.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pa_id.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_time.h"

/* The scripts, embedded from gateway/lua/ at build time (the change stream is capped at about
 * 10,000 entries there). */
extern const char gw_lua_prospect_put[], gw_lua_prospect_del[], gw_lua_prospect_mark[];

#define WAIT_MS 2000
#define PIPELINE_BATCH 512

static pa_script_t put_script = PA_SCRIPT(gw_lua_prospect_put);

static pa_script_t del_script = PA_SCRIPT(gw_lua_prospect_del);

/* The position to follow the stream from: the current seq and the last entry's id, read
 * atomically so that a reload misses nothing. */
static pa_script_t mark_script = PA_SCRIPT(gw_lua_prospect_mark);

struct gw_store {
    char *prefix;
    char k_changes[PA_KEY_MAX], k_ids[PA_KEY_MAX], k_seq[PA_KEY_MAX];
    pa_redis_t *sync_redis; /* the sync thread's own connection */
    gw_index_t *ix;
    pthread_rwlock_t lock; /* guards ix */
    pthread_mutex_t seq_lock;
    pthread_cond_t seq_cond;
    long long applied; /* last seq in ix; guarded by seq_lock */
    char last_id[64];  /* stream position; sync thread only */
    atomic_int loaded, redis_up, running;
    pthread_t thread;
    /* REDIS_DURABILITY=strict: how writes are made durable (DUR_*), and why not when DUR_NONE */
    int strict;
    int timeout_ms;
    atomic_int dur_method;
    pthread_mutex_t dur_lock;
    char dur_why[256]; /* guarded by dur_lock */
};

enum { DUR_UNKNOWN, DUR_NONE, DUR_WAITAOF, DUR_FSYNC_ALWAYS };
static const char *const dur_names[] = {"unverified", "none", "waitaof", "appendfsync-always"};

static const char *conf_value(redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                   rep->element[1]->type == REDIS_REPLY_STRING
               ? rep->element[1]->str
               : NULL;
}

/* How this Redis makes a write durable before its answer: DUR_WAITAOF when it has WAITAOF (7.2+)
 * with the AOF on; else DUR_FSYNC_ALWAYS when appendonly is yes and appendfsync always; else
 * DUR_NONE (why says what is missing), DUR_UNKNOWN when Redis did not answer. */
static int durability_check(pa_redis_t *r, char *why, size_t n)
{
    redisReply *ci = pa_redis_cmd(r, "COMMAND INFO WAITAOF");
    if (!ci) {
        snprintf(why, n, "Redis did not answer: %s", pa_redis_errstr(r));
        return DUR_UNKNOWN;
    }
    int has_waitaof = ci->type == REDIS_REPLY_ARRAY && ci->elements == 1 &&
                      ci->element[0]->type == REDIS_REPLY_ARRAY;
    freeReplyObject(ci);
    if (has_waitaof) {
        redisReply *w = pa_redis_cmd(r, "WAITAOF 1 0 %d", 1000);
        int ok = w && w->type == REDIS_REPLY_ARRAY && w->elements >= 1 &&
                 w->element[0]->type == REDIS_REPLY_INTEGER && w->element[0]->integer >= 1;
        if (!ok)
            snprintf(why, n, "WAITAOF 1 0 answered %s (is appendonly yes?)",
                     !w                             ? "nothing"
                     : w->type == REDIS_REPLY_ERROR ? w->str
                                                    : "0 local fsyncs");
        if (w) freeReplyObject(w);
        return w ? (ok ? DUR_WAITAOF : DUR_NONE) : DUR_UNKNOWN;
    }
    redisReply *ao = pa_redis_cmd(r, "CONFIG GET appendonly");
    redisReply *fs = ao ? pa_redis_cmd(r, "CONFIG GET appendfsync") : NULL;
    int rc;
    if (!ao || !fs) {
        snprintf(why, n, "Redis did not answer: %s", pa_redis_errstr(r));
        rc = DUR_UNKNOWN;
    } else if (ao->type == REDIS_REPLY_ERROR || fs->type == REDIS_REPLY_ERROR) {
        snprintf(why, n,
                 "no WAITAOF and CONFIG GET refused (%.40s): the gateway's ACL user needs "
                 "+command|info +waitaof (Redis 7.2+), else +config|get",
                 ao->type == REDIS_REPLY_ERROR ? ao->str : fs->str);
        rc = DUR_NONE;
    } else {
        const char *a = conf_value(ao), *f = conf_value(fs);
        if (a && f && strcmp(a, "yes") == 0 && strcmp(f, "always") == 0) {
            rc = DUR_FSYNC_ALWAYS;
        } else {
            snprintf(why, n,
                     "Redis has no WAITAOF (before 7.2) and runs with appendonly %s, appendfsync "
                     "%s: strict needs appendonly yes and appendfsync always (CONFIG SET and "
                     "redis.conf), or Redis 7.2+",
                     a ? a : "?", f ? f : "?");
            rc = DUR_NONE;
        }
    }
    if (ao) freeReplyObject(ao);
    if (fs) freeReplyObject(fs);
    return rc;
}

/* Re-checks the durability of this Redis (sync thread), logging a change. */
static void durability_update(gw_store_t *s, pa_redis_t *r)
{
    char why[256] = "";
    int m = durability_check(r, why, sizeof why);
    int was = atomic_exchange(&s->dur_method, m);
    pthread_mutex_lock(&s->dur_lock);
    snprintf(s->dur_why, sizeof s->dur_why, "%s", why);
    pthread_mutex_unlock(&s->dur_lock);
    if (m == was) return;
    if (m == DUR_WAITAOF || m == DUR_FSYNC_ALWAYS)
        pa_info("strict durability holds", PA_S("method", dur_names[m]));
    else if (m == DUR_NONE)
        pa_error("strict durability does not hold: writes are refused", PA_S("why", why));
}

static void set_applied(gw_store_t *s, long long seq)
{
    pthread_mutex_lock(&s->seq_lock);
    s->applied = seq;
    pthread_cond_broadcast(&s->seq_cond);
    pthread_mutex_unlock(&s->seq_lock);
}

static long long get_applied(gw_store_t *s)
{
    pthread_mutex_lock(&s->seq_lock);
    long long v = s->applied;
    pthread_mutex_unlock(&s->seq_lock);
    return v;
}

/* Record from a Redis HGETALL reply (field/value pairs). */
static gw_prospect_t *from_hash(const char *id, const redisReply *rep)
{
    const char *vals[GW_F_COUNT] = {0};
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const char *k = rep->element[i]->str;
        for (int f = 0; f < GW_F_COUNT; f++)
            if (k && strcmp(k, gw_field_names[f]) == 0) vals[f] = rep->element[i + 1]->str;
    }
    return gw_prospect_new(id, vals);
}

/* Loads every prospect into a fresh index and swaps it in. */
static int reload(gw_store_t *s)
{
    pa_redis_t *r = s->sync_redis;
    const char *argv[] = {s->prefix};
    redisReply *mark = pa_redis_eval(r, &mark_script, 0, 1, argv, NULL);
    if (!mark || mark->type != REDIS_REPLY_ARRAY || mark->elements != 2) {
        if (mark) freeReplyObject(mark);
        return -1;
    }
    long long seq = atoll(mark->element[0]->str ? mark->element[0]->str : "0");
    char last_id[64];
    snprintf(last_id, sizeof last_id, "%s", mark->element[1]->str ? mark->element[1]->str : "0-0");
    freeReplyObject(mark);

    redisReply *ids = pa_redis_cmd(r, "ZRANGE %s 0 -1", s->k_ids);
    if (!ids || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) freeReplyObject(ids);
        return -1;
    }
    uint64_t t0 = pa_mono_ms();
    gw_index_t *fresh = gw_index_new();
    int rc = 0;
    for (size_t off = 0; off < ids->elements && rc == 0; off += PIPELINE_BATCH) {
        size_t n = ids->elements - off < PIPELINE_BATCH ? ids->elements - off : PIPELINE_BATCH;
        for (size_t i = 0; i < n; i++) {
            const redisReply *id = ids->element[off + i];
            char key[PA_KEY_MAX];
            const char *av[] = {"HGETALL", pa_key_prospect(key, s->prefix, id->str)};
            rc |= pa_redis_append(r, 2, av, NULL);
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            redisReply *h = pa_redis_get_reply(r);
            if (!h) {
                rc = -1;
                break;
            }
            if (h->type == REDIS_REPLY_ARRAY && h->elements) {
                gw_prospect_t *p = from_hash(ids->element[off + i]->str, h);
                if (p) gw_index_put(fresh, p);
                else
                    pa_warn("skipping an invalid prospect in redis",
                            PA_S("id", ids->element[off + i]->str));
            }
            freeReplyObject(h);
        }
    }
    size_t total = ids->elements;
    freeReplyObject(ids);
    if (rc) {
        gw_index_destroy(&fresh);
        return -1;
    }
    gw_index_commit(fresh);
    pthread_rwlock_wrlock(&s->lock);
    gw_index_swap_in(s->ix, &fresh);
    pthread_rwlock_unlock(&s->lock);
    snprintf(s->last_id, sizeof s->last_id, "%s", last_id);
    set_applied(s, seq);
    pa_info("prospects loaded from redis", PA_I("prospects", total), PA_I("seq", seq),
            PA_I("ms", pa_mono_ms() - t0));
    return 0;
}

static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->str && strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1];
    return NULL;
}

typedef struct {
    int del;
    char *id;
    gw_prospect_t *p;
} change_t;

/* Applies one XREAD reply; -1 when the stream is not the continuation of what we have. */
static int apply_entries(gw_store_t *s, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1) return -1;
    const redisReply *entries = rep->element[0]->element[1];
    long long seq = get_applied(s);
    size_t n = entries->elements;
    change_t *ch = pa_calloc(n ? n : 1, sizeof *ch);
    size_t k = 0;
    int rc = 0;
    char last_id[64] = "";
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = entries->element[i];
        const redisReply *fields = e->element[1];
        const redisReply *fs = entry_field(fields, "seq"), *op = entry_field(fields, "op"),
                         *id = entry_field(fields, "id"), *doc = entry_field(fields, "doc");
        if (!fs || !op || !id || atoll(fs->str) != seq + 1) {
            rc = -1;
            break;
        }
        seq++;
        snprintf(last_id, sizeof last_id, "%s", e->element[0]->str);
        if (strcmp(op->str, "del") == 0) {
            ch[k].del = 1;
            ch[k++].id = pa_strdup(id->str);
            continue;
        }
        json_t *j = doc ? json_loadb(doc->str, doc->len, 0, NULL) : NULL;
        gw_prospect_t *p = j ? gw_prospect_from_doc(j) : NULL;
        json_decref(j);
        if (!p) {
            pa_warn("skipping an invalid change", PA_S("id", id->str));
            continue;
        }
        ch[k++].p = p;
    }
    if (k) {
        pthread_rwlock_wrlock(&s->lock);
        for (size_t i = 0; i < k; i++) {
            if (ch[i].del) gw_index_del(s->ix, ch[i].id);
            else gw_index_put(s->ix, ch[i].p);
        }
        gw_index_commit(s->ix);
        pthread_rwlock_unlock(&s->lock);
    }
    for (size_t i = 0; i < k; i++) free(ch[i].id);
    free(ch);
    if (last_id[0]) {
        snprintf(s->last_id, sizeof s->last_id, "%s", last_id);
        set_applied(s, seq);
    }
    return rc;
}

static void *sync_main(void *arg)
{
    gw_store_t *s = arg;
    uint64_t next_check = 0, next_dur = 0;
    while (atomic_load(&s->running)) {
        pa_redis_t *r = s->sync_redis;
        if (s->strict && pa_mono_ms() >= next_dur) {
            next_dur = pa_mono_ms() + 2000;
            durability_update(s, r);
        }
        if (!atomic_load(&s->loaded) || atomic_load(&s->loaded) == 2) {
            if (reload(s) == 0) {
                atomic_store(&s->loaded, 1);
                atomic_store(&s->redis_up, 1);
            } else {
                int up = pa_redis_connected(r);
                if (atomic_exchange(&s->redis_up, up) != 0 && !up)
                    pa_error("redis unreachable", PA_S("redis", pa_redis_url_safe(r)),
                             PA_S("error", pa_redis_errstr(r)));
                pa_sleep_ms(100);
            }
            continue;
        }
        redisReply *rep =
            pa_redis_cmd(r, "XREAD COUNT 2000 BLOCK 100 STREAMS %s %s", s->k_changes, s->last_id);
        if (!rep) {
            if (atomic_exchange(&s->redis_up, 0) == 1)
                pa_error("redis unreachable", PA_S("error", pa_redis_errstr(r)));
            pa_sleep_ms(100);
            continue;
        }
        if (atomic_exchange(&s->redis_up, 1) == 0)
            pa_info("redis reachable again", PA_I("seq", get_applied(s)));
        if (rep->type == REDIS_REPLY_ARRAY) {
            if (apply_entries(s, rep) < 0) {
                pa_warn("change stream does not follow on; reloading", PA_I("seq", get_applied(s)));
                atomic_store(&s->loaded, 2);
            }
        } else if (rep->type == REDIS_REPLY_NIL && pa_mono_ms() >= next_check) {
            /* Quiet stream: make sure Redis was not flushed or restored to an older state. */
            next_check = pa_mono_ms() + 2000;
            redisReply *sq = pa_redis_cmd(r, "GET %s", s->k_seq);
            long long cur = sq && sq->type == REDIS_REPLY_STRING ? atoll(sq->str) : 0;
            if (sq && cur < get_applied(s)) atomic_store(&s->loaded, 2);
            if (sq) freeReplyObject(sq);
        }
        freeReplyObject(rep);
    }
    return NULL;
}

gw_store_t *gw_store_new(const char *redis_url, const char *prefix, int timeout_ms, int durability,
                         char *err, size_t errlen)
{
    /* The sync thread blocks in XREAD for up to 100 ms, on top of the command timeout. */
    pa_redis_t *r = pa_redis_new(redis_url, timeout_ms + 100, err, errlen);
    if (!r) return NULL;
    int method = DUR_UNKNOWN;
    char why[256] = "";
    if (durability == GW_DURABILITY_STRICT) {
        method = durability_check(r, why, sizeof why);
        if (method == DUR_NONE) {
            snprintf(err, errlen, "REDIS_DURABILITY=strict, but Redis at %s cannot: %s",
                     pa_redis_url_safe(r), why);
            pa_redis_destroy(&r);
            return NULL;
        }
        if (method == DUR_UNKNOWN)
            pa_warn("REDIS_DURABILITY=strict: Redis does not answer yet; writes are refused until "
                    "it is checked",
                    PA_S("why", why));
        else pa_info("strict durability holds", PA_S("method", dur_names[method]));
    }
    gw_store_t *s = pa_calloc(1, sizeof *s);
    s->sync_redis = r;
    s->strict = durability == GW_DURABILITY_STRICT;
    s->timeout_ms = timeout_ms;
    atomic_store(&s->dur_method, method);
    pthread_mutex_init(&s->dur_lock, NULL);
    snprintf(s->dur_why, sizeof s->dur_why, "%s", why);
    s->prefix = pa_strdup(prefix);
    pa_key_prospects(s->k_changes, prefix, "changes");
    pa_key_prospects(s->k_ids, prefix, NULL);
    pa_key_prospects(s->k_seq, prefix, "seq");
    s->ix = gw_index_new();
    strcpy(s->last_id, "0-0");
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->seq_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->seq_cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_store(&s->redis_up, -1); /* not tried yet */
    atomic_store(&s->running, 1);
    if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        snprintf(err, errlen, "cannot start the sync thread: %s", strerror(errno));
        atomic_store(&s->running, 0);
        s->thread = 0;
        gw_store_destroy(&s);
        return NULL;
    }
    return s;
}

void gw_store_destroy(gw_store_t **sp)
{
    gw_store_t *s = *sp;
    if (!s) return;
    if (atomic_exchange(&s->running, 0) && s->thread) pthread_join(s->thread, NULL);
    pa_redis_destroy(&s->sync_redis);
    gw_index_destroy(&s->ix);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->seq_lock);
    pthread_cond_destroy(&s->seq_cond);
    pthread_mutex_destroy(&s->dur_lock);
    free(s->prefix);
    free(s);
    *sp = NULL;
}

int gw_store_loaded(gw_store_t *s)
{
    return atomic_load(&s->loaded) != 0;
}

int gw_store_redis_up(gw_store_t *s)
{
    return atomic_load(&s->redis_up);
}

size_t gw_store_count(gw_store_t *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = gw_index_count(s->ix);
    pthread_rwlock_unlock(&s->lock);
    return n;
}

void gw_store_query(gw_store_t *s, const gw_query_t *q, pa_buf_t *out, gw_query_result_t *res)
{
    pthread_rwlock_rdlock(&s->lock);
    gw_index_query(s->ix, q, out, res);
    pthread_rwlock_unlock(&s->lock);
}

char *gw_store_get_json(gw_store_t *s, const char *id, size_t *len)
{
    char *out = NULL;
    pthread_rwlock_rdlock(&s->lock);
    const gw_prospect_t *p = gw_index_get(s->ix, id);
    if (p) {
        out = pa_strndup(p->json, p->json_len);
        *len = p->json_len;
    }
    pthread_rwlock_unlock(&s->lock);
    return out;
}

/* Waits until the index includes seq (bounded: a stalled sync thread must not hang a client). */
static void wait_seq(gw_store_t *s, long long seq)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&s->seq_lock);
    while (s->applied < seq && atomic_load(&s->running)) {
        if (pthread_cond_timedwait(&s->seq_cond, &s->seq_lock, &dl) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&s->seq_lock);
}

static const char *mode_name(gw_write_mode_t m)
{
    return m == GW_MODE_CREATE ? "create" : m == GW_MODE_PATCH ? "patch" : "upsert";
}

static int append_put(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode,
                      const gw_prospect_in_t *in, char *now, char *doc)
{
    char newid[PA_ID_LEN + 3] = "p-";
    pa_id_new(newid + 2);
    char idbuf[GW_ID_MAX + 1] = "";
    if (in->id) memcpy(idbuf, in->id, in->id_len), idbuf[in->id_len] = '\0';
    const char *argv[] = {s->prefix, mode_name(mode), idbuf, newid, now, doc};
    return pa_redis_append_evalsha(r, &put_script, 0, 6, argv, NULL);
}

static void parse_reply(redisReply *rep, gw_write_result_t *res, int want_doc)
{
    memset(res, 0, sizeof *res);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
        res->status = GW_W_UNAVAILABLE;
        return;
    }
    const char *st = rep->element[0]->str;
    snprintf(res->id, sizeof res->id, "%s", rep->element[1]->str);
    if (strcmp(st, "created") == 0 || strcmp(st, "updated") == 0) {
        res->status = st[0] == 'c' ? GW_W_CREATED : GW_W_UPDATED;
        res->seq = atoll(rep->element[2]->str);
        if (!want_doc) return;
        json_t *j = json_loadb(rep->element[3]->str, rep->element[3]->len, 0, NULL);
        gw_prospect_t *p = j ? gw_prospect_from_doc(j) : NULL;
        json_decref(j);
        if (p) {
            res->json = pa_strndup(p->json, p->json_len);
            res->json_len = p->json_len;
            free(p);
        }
    } else if (strcmp(st, "deleted") == 0) {
        res->status = GW_W_DELETED;
        res->seq = atoll(rep->element[2]->str);
    } else if (strcmp(st, "notfound") == 0) {
        res->status = GW_W_NOTFOUND;
    } else if (strcmp(st, "conflict") == 0 && rep->elements == 4) {
        res->status = GW_W_CONFLICT;
        snprintf(res->field, sizeof res->field, "%s", rep->element[2]->str);
        snprintf(res->owner, sizeof res->owner, "%s", rep->element[3]->str);
    } else {
        res->status = GW_W_INVALID;
        snprintf(res->field, sizeof res->field, "%s",
                 rep->elements > 2 ? rep->element[2]->str : "");
    }
}

void gw_store_put_many(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode,
                       const gw_prospect_in_t *in, size_t n, gw_write_result_t *res, int want_doc)
{
    char now[25];
    pa_time_rfc3339(pa_wall_ms(), now);
    long long maxseq = 0;
    for (size_t off = 0; off < n; off += PIPELINE_BATCH) {
        size_t m = n - off < PIPELINE_BATCH ? n - off : PIPELINE_BATCH, sent = 0;
        for (; sent < m; sent++) {
            char *doc = gw_prospect_in_to_json(&in[off + sent]);
            int rc = append_put(s, r, mode, &in[off + sent], now, doc);
            free(doc);
            if (rc < 0) break;
        }
        size_t *redo = pa_malloc(m * sizeof *redo), nredo = 0;
        for (size_t i = 0; i < m; i++) {
            redisReply *rep = i < sent ? pa_redis_get_reply(r) : NULL;
            if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
                redo[nredo++] = off + i; /* Redis lost its script cache mid-batch */
                freeReplyObject(rep);
                continue;
            }
            if (rep && rep->type == REDIS_REPLY_ERROR)
                pa_error("prospect write failed", PA_S("error", rep->str));
            parse_reply(rep, &res[off + i], want_doc);
            if (res[off + i].seq > maxseq) maxseq = res[off + i].seq;
            if (rep) freeReplyObject(rep);
        }
        for (size_t k = 0; k < nredo; k++) {
            size_t i = redo[k];
            char newid[PA_ID_LEN + 3] = "p-", idbuf[GW_ID_MAX + 1] = "";
            pa_id_new(newid + 2);
            if (in[i].id) memcpy(idbuf, in[i].id, in[i].id_len), idbuf[in[i].id_len] = '\0';
            char *doc = gw_prospect_in_to_json(&in[i]);
            const char *argv[] = {s->prefix, mode_name(mode), idbuf, newid, now, doc};
            redisReply *rep = pa_redis_eval(r, &put_script, 0, 6, argv, NULL);
            free(doc);
            parse_reply(rep, &res[i], want_doc);
            if (res[i].seq > maxseq) maxseq = res[i].seq;
            if (rep) freeReplyObject(rep);
        }
        free(redo);
    }
    if (maxseq) wait_seq(s, maxseq);
}

void gw_store_put(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode, const gw_prospect_in_t *in,
                  gw_write_result_t *res)
{
    gw_store_put_many(s, r, mode, in, 1, res, 1);
}

void gw_store_del(gw_store_t *s, pa_redis_t *r, const char *id, gw_write_result_t *res)
{
    const char *argv[] = {s->prefix, id};
    redisReply *rep = pa_redis_eval(r, &del_script, 0, 2, argv, NULL);
    if (rep && rep->type == REDIS_REPLY_ERROR)
        pa_error("prospect delete failed", PA_S("error", rep->str));
    parse_reply(rep, res, 0);
    if (rep) freeReplyObject(rep);
    if (res->seq) wait_seq(s, res->seq);
}

void gw_write_result_free(gw_write_result_t *res)
{
    free(res->json);
    res->json = NULL;
}

int gw_store_durable(gw_store_t *s, pa_redis_t *r, char *why, size_t whylen)
{
    if (!s->strict) return 0;
    int m = atomic_load(&s->dur_method);
    if (m == DUR_FSYNC_ALWAYS) return 0; /* Redis fsynced it before it answered the write */
    if (m == DUR_WAITAOF) {
        /* every write this connection made is fsynced by the local Redis, or the time is up */
        redisReply *w = pa_redis_cmd(r, "WAITAOF 1 0 %d", s->timeout_ms);
        int ok = w && w->type == REDIS_REPLY_ARRAY && w->elements >= 1 &&
                 w->element[0]->type == REDIS_REPLY_INTEGER && w->element[0]->integer >= 1;
        if (!ok)
            snprintf(why, whylen, "WAITAOF 1 0 %d answered %s", s->timeout_ms,
                     !w                             ? "nothing"
                     : w->type == REDIS_REPLY_ERROR ? w->str
                                                    : "0 local fsyncs in time");
        if (w) freeReplyObject(w);
        return ok ? 0 : -1;
    }
    pthread_mutex_lock(&s->dur_lock);
    snprintf(why, whylen, "%s", s->dur_why[0] ? s->dur_why : "not checked yet");
    pthread_mutex_unlock(&s->dur_lock);
    return -1;
}

int gw_store_durability_json(gw_store_t *s, long replicas, pa_buf_t *b)
{
    char rep[48] = "";
    if (replicas > 0) snprintf(rep, sizeof rep, ",\"replicas\":%ld", replicas);
    if (!s->strict) {
        pa_buf_printf(b, ",\"durability\":{\"mode\":\"default\"%s}", rep);
        return 1;
    }
    int m = atomic_load(&s->dur_method);
    int ok = m == DUR_WAITAOF || m == DUR_FSYNC_ALWAYS;
    pa_buf_printf(b, ",\"durability\":{\"mode\":\"strict\",\"method\":\"%s\",\"ok\":%s%s}",
                  dur_names[m], ok ? "true" : "false", rep);
    return ok;
}
