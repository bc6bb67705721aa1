/* Live job events for GET /api/jobs/{id}/events (Server-Sent Events).
 *
 * One hub thread follows the Redis stream pa:events and keeps the latest events in a ring. Each
 * SSE response reads its job's events from the ring (or, when resuming from an older
 * Last-Event-ID, from Redis), and suspends its connection while there is nothing to send; the
 * hub resumes it when an event of its job arrives, and every 15 s for a keep-alive comment. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H
#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"

typedef struct gw_events gw_events_t;

/* A response's connection that sleeps (MHD suspend) while it has nothing to send, woken from other
 * threads, even while it is falling asleep (SUSPENDING records such a wake-up). Both calls are made
 * with the owner's lock held; gw_sleeper_sleep releases it around the suspension. */
typedef struct {
    struct MHD_Connection *conn;
    int state, pending;
} gw_sleeper_t;
void gw_sleeper_wake(gw_sleeper_t *s);
void gw_sleeper_sleep(gw_sleeper_t *s, pthread_mutex_t *lock);
/* An SSE content reader's step: copies what is left of out from *off into buf (at most max) and
 * returns how much (0: nothing left); out is emptied once all of it is sent. */
size_t gw_sse_take(pa_buf_t *out, size_t *off, char *buf, size_t max);
/* An SSE reader with nothing to send, called with lock held (and releases it): queues a
 * keep-alive comment when *ka asks for one and returns 1 (read again), else suspends the
 * connection until a wake-up and returns 0 (the reader returns 0 to libmicrohttpd). */
int gw_sse_idle(gw_sleeper_t *sl, int *ka, pa_buf_t *out, pthread_mutex_t *lock);
struct gw;
struct gw_req;

gw_events_t *gw_events_new(const char *redis_url, const char *prefix, int timeout_ms, char *err,
                           size_t errlen);
/* Ends every open stream (at shutdown, before the HTTP server stops). */
void gw_events_close_all(gw_events_t *e);
void gw_events_destroy(gw_events_t **e);
size_t gw_events_streams(gw_events_t *e);

/* Answers r with an event stream for job `job`, starting after last_event_id (NULL: from now),
 * preceded by `snapshot` (a JSON object, may be NULL). `finished`: the job is over, so the
 * stream ends after the snapshot and any events already due. */
void gw_events_respond(gw_events_t *e, struct gw_req *r, const char *job, const char *last_event_id,
                       const char *snapshot, int finished);

/* Waiting for a job to end on a suspended request (POST /api/llm/generate): the connection is
 * suspended, and resumed when the job's final event arrives, at the deadline, or at shutdown;
 * MHD then calls the handler again and r->cont runs. */
typedef struct gw_waiter gw_waiter_t;
gw_waiter_t *gw_events_wait_job(gw_events_t *e, struct gw_req *r, const char *job,
                                uint64_t deadline_mono_ms);
/* The same without suspending anything: fn(ud, timed_out) is called once, when the job's final
 * event arrives, at the deadline or at shutdown. It runs on the hub's thread (or in
 * gw_events_poke's caller) with the hub's lock held: it must be short and must not call into the
 * hub. gw_events_unwait stops it; once that returns, fn is not running and will not run. */
typedef void (*gw_job_end_fn)(void *ud, int timed_out);
gw_waiter_t *gw_events_watch_job(gw_events_t *e, const char *job, uint64_t deadline_mono_ms,
                                 gw_job_end_fn fn, void *ud);
/* Wakes the waiter now (the job was found over right after the wait began). */
void gw_events_poke(gw_events_t *e, gw_waiter_t *w);
/* 1 when the wait ended at the deadline (or at shutdown), not with the job's end. */
int gw_waiter_timed_out(const gw_waiter_t *w);
/* Unregisters and frees a waiter (when the request completes). */
void gw_events_unwait(gw_events_t *e, gw_waiter_t **w);

#endif
