/* The gateway's shared state: the per-thread Redis connections the handlers use. */
#include "gw.h"

#include <stdio.h>
#include <string.h>

#include "gw_store.h"
#include "pa_keys.h"

static void free_redis(void *p)
{
    pa_redis_t *r = p;
    pa_redis_destroy(&r);
}

int gw_init(gw_t *gw)
{
    if (pthread_key_create(&gw->redis_key, free_redis) != 0) return -1;
    char err[256];
    gw->status_redis = pa_redis_new(gw->cfg.redis_url, gw->cfg.redis_timeout_ms, err, sizeof err);
    pthread_mutex_init(&gw->status_lock, NULL);
    return 0;
}

void gw_fini(gw_t *gw)
{
    pthread_key_delete(gw->redis_key);
    pa_redis_destroy(&gw->status_redis);
    pthread_mutex_destroy(&gw->status_lock);
}

pa_redis_t *gw_redis(gw_t *gw)
{
    pa_redis_t *r = pthread_getspecific(gw->redis_key);
    if (!r) {
        char err[256];
        r = pa_redis_new(gw->cfg.redis_url, gw->cfg.redis_timeout_ms, err, sizeof err);
        pthread_setspecific(gw->redis_key, r);
    }
    return r;
}

int gw_durable(gw_t *gw, char *why, size_t whylen)
{
    if (gw->cfg.durability == GW_DURABILITY_STRICT &&
        gw_store_durable(gw->store, gw_redis(gw), why, whylen) < 0)
        return -1;
    long n = gw->cfg.wait_replicas;
    if (n <= 0) return 0;
    /* REDIS_WAIT_REPLICAS: every write this thread's connection made reached n replicas (so a
     * failover to one of them keeps it), within half the command timeout */
    int ms = gw->cfg.redis_timeout_ms / 2 > 0 ? gw->cfg.redis_timeout_ms / 2 : 1;
    /* WAIT waits for this connection's last write; a handler may have written nothing (a run
     * replayed with its Idempotency-Key answers the job another thread made) or on a connection
     * made since: a write of its own first makes WAIT cover all the master had by then */
    pa_redis_t *rd = gw_redis(gw);
    char tick[PA_KEY_MAX];
    snprintf(tick, sizeof tick, "%swait:tick", gw->cfg.prefix);
    redisReply *t = pa_redis_cmd(rd, "SET %s 1 PX 10000", tick);
    int ticked = t && t->type != REDIS_REPLY_ERROR;
    if (t) freeReplyObject(t);
    redisReply *w = ticked ? pa_redis_cmd(rd, "WAIT %ld %d", n, ms) : NULL;
    long long got = w && w->type == REDIS_REPLY_INTEGER ? w->integer : -1;
    if (got < n)
        snprintf(why, whylen, "WAIT %ld %d: %s", n, ms,
                 !w                             ? pa_redis_errstr(rd)
                 : w->type == REDIS_REPLY_ERROR ? w->str
                                                : "fewer replicas acknowledged it in time");
    if (got >= 0 && got < n)
        snprintf(why + strlen(why), whylen - strlen(why), " (%lld of %ld)", got, n);
    if (w) freeReplyObject(w);
    return got >= n ? 0 : -1;
}
