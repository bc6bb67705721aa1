/* The gateway's shared state: the per-thread Redis connections the handlers use. */
#include "gw.h"

#include "gw_store.h"

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
    if (gw->cfg.durability != GW_DURABILITY_STRICT) return 0;
    return gw_store_durable(gw->store, gw_redis(gw), why, whylen);
}
