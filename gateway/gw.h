/* The gateway's state: its configuration and the parts it runs (prospect store, dispatcher,
 * events hub, streamed answers, HTTP server), shared by every handler. */
#ifndef GW_H
#define GW_H
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_config.h"
#include "pa_redis.h"

struct MHD_Daemon;
struct gw_route;
typedef struct gw_store gw_store_t;
typedef struct gw_dispatch gw_dispatch_t;
typedef struct gw_events gw_events_t;
typedef struct gw_streams gw_streams_t;

typedef struct gw {
    gw_config_t cfg;
    gw_store_t *store;
    gw_dispatch_t *dispatch; /* NULL when DISPATCH_BIND is empty */
    gw_events_t *events;
    gw_streams_t *streams; /* streamed generate answers; NULL: none (answers are not streamed) */
    uint64_t start_ms;
    pthread_key_t redis_key; /* each HTTP thread's own Redis connection */
    /* the connection health and metrics read the workers' status records with (gw_workers.c):
     * apart from the request threads' ones, so that a read that meets a connection Redis dropped
     * never makes a request wait for the reconnect */
    pa_redis_t *status_redis;
    pthread_mutex_t status_lock;
    /* the HTTP layer's (gw_http.c) */
    struct MHD_Daemon *daemon;
    const struct gw_route *routes;
    size_t nroutes;
    atomic_int inflight;
    struct gw_conns *conns;      /* open connections and their deadlines (gw_http.c) */
    atomic_size_t body_memory;   /* bytes of request bodies held now (HTTP_MAX_BODY_MEMORY) */
    int port;                    /* the bound port */
    struct gw_static *dashboard; /* DASHBOARD_DIR's files; NULL: the "not built" page */
} gw_t;

/* Makes what the handlers share (the per-thread Redis key, the status connection); 0 or -1. */
int gw_init(gw_t *gw);
void gw_fini(gw_t *gw);
/* The calling thread's Redis connection (made on first use). */
pa_redis_t *gw_redis(gw_t *gw);
/* REDIS_DURABILITY=strict: 0 when what the calling thread's connection wrote is on disk, -1 (why
 * says so) when that is not known; always 0 by default. The HTTP layer asks before it sends a
 * 2xx answer to a write (POST, PUT, PATCH, DELETE). */
int gw_durable(gw_t *gw, char *why, size_t whylen);

#endif
