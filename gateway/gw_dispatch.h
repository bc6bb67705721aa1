/* The dispatcher: a thread with a ZeroMQ ROUTER socket that workers connect to. It hands tasks
 * from the Redis queues only to workers with free credit, heartbeats them, requeues the tasks
 * of a worker that goes silent, and runs the periodic maintenance (due retries, expired leases). */
#ifndef GW_DISPATCH_H
#define GW_DISPATCH_H
#include <stddef.h>

#include "pa_jobs.h"

typedef struct gw_dispatch gw_dispatch_t;

typedef struct {
    const char *bind; /* DISPATCH_BIND */
    const char *redis_url;
    const char *prefix;
    int redis_timeout_ms;
    int heartbeat_ms;              /* HEARTBEAT_MS; a worker silent for 3 intervals is dead */
    int lease_ms;                  /* LEASE_MS: how long a dispatched task is leased */
    const char *gateway_id;        /* shown in pa:workers */
    const char *curve_secret;      /* CURVE_SERVER_SECRET (Z85), or NULL for no encryption */
    const char *curve_clients_dir; /* CURVE_CLIENTS_DIR: allowed client certificates */
} gw_dispatch_opts_t;

/* Binds and starts the thread; NULL with a message in err when the socket cannot be bound. */
gw_dispatch_t *gw_dispatch_new(const gw_dispatch_opts_t *o, char *err, size_t errlen);
void gw_dispatch_destroy(gw_dispatch_t **d);
/* Tells the dispatcher that tasks were queued (thread-safe, cheap). */
void gw_dispatch_wake(gw_dispatch_t *d);
/* A worker's credit taken by a request thread, so that the job it creates can lease tasks to
 * that worker in the same script (create.lua): one Redis round trip less from a run's POST to
 * its first task on a worker. */
typedef struct {
    int slot;
    unsigned gen;
    unsigned k; /* credit taken; 0: no worker of the service has room */
    char wid[65];
} gw_reservation_t;

/* Takes up to want of the credit of a worker of service svc ("mcp", "llm", "form"). */
void gw_dispatch_reserve(gw_dispatch_t *d, const char *svc, unsigned want, gw_reservation_t *res);
/* Gives back credit not used (the script leased fewer, or the job was not created). */
void gw_dispatch_unreserve(gw_dispatch_t *d, const gw_reservation_t *res, unsigned unused);
/* Hands the tasks create.lua leased to the reservation's worker to the dispatcher thread, which
 * sends them (or, if that worker left meanwhile, gives them back at once). Takes l (moved from
 * pa_jobs_create_out_t.leased). */
void gw_dispatch_hand_leases(gw_dispatch_t *d, const gw_reservation_t *res, pa_jobs_leases_t *l);
/* After cancel.lua (called with ARGV[4] = '1') cancelled job: tells each of workers (the ids
 * its answer lists after the status) that is connected to this gateway to stop the job's tasks
 * (a CANCEL message, sent by the dispatcher thread). Thread-safe, cheap, copies its arguments.
 * Workers connected elsewhere learn it from their lease check within a second. d may be NULL
 * (no dispatcher here): nothing is sent. */
void gw_dispatch_cancel(gw_dispatch_t *d, const char *job, const char *const *workers, size_t n);
/* The lease time, for create.lua's ARGV. */
int gw_dispatch_lease_ms(const gw_dispatch_t *d);

/* Counters for /metrics. */
typedef struct {
    unsigned long long dispatched, dropped_messages, workers_lost;
    int workers;
} gw_dispatch_stats_t;
void gw_dispatch_stats(gw_dispatch_t *d, gw_dispatch_stats_t *out);

#endif
