/* The dispatcher: a thread with a ZeroMQ ROUTER socket that workers connect to. It hands tasks
 * from the Redis queues only to workers with free credit, heartbeats them, requeues the tasks
 * of a worker that goes silent, and runs the periodic maintenance (due retries, expired leases). */
#ifndef GW_DISPATCH_H
#define GW_DISPATCH_H
#include <stddef.h>

typedef struct gw_dispatch gw_dispatch_t;

typedef struct {
    const char *bind;        /* DISPATCH_BIND */
    const char *redis_url;
    const char *prefix;
    int redis_timeout_ms;
    int heartbeat_ms;        /* HEARTBEAT_MS; a worker silent for 3 intervals is dead */
    int lease_ms;            /* LEASE_MS: how long a dispatched task is leased */
    const char *gateway_id;  /* shown in pa:workers */
    const char *curve_secret;      /* CURVE_SERVER_SECRET (Z85), or NULL for no encryption */
    const char *curve_clients_dir; /* CURVE_CLIENTS_DIR: allowed client certificates */
} gw_dispatch_opts_t;

/* Binds and starts the thread; NULL with a message in err when the socket cannot be bound. */
gw_dispatch_t *gw_dispatch_new(const gw_dispatch_opts_t *o, char *err, size_t errlen);
void gw_dispatch_destroy(gw_dispatch_t **d);
/* Tells the dispatcher that tasks were queued (thread-safe, cheap). */
void gw_dispatch_wake(gw_dispatch_t *d);
/* Counters for /metrics. */
typedef struct {
    unsigned long long dispatched, dropped_messages, workers_lost;
    int workers;
} gw_dispatch_stats_t;
void gw_dispatch_stats(gw_dispatch_t *d, gw_dispatch_stats_t *out);

#endif
