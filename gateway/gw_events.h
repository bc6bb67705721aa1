/* Live job events for GET /api/jobs/{id}/events (Server-Sent Events).
 *
 * One hub thread follows the Redis stream pa:events and keeps the latest events in a ring. Each
 * SSE response reads its job's events from the ring (or, when resuming from an older
 * Last-Event-ID, from Redis), and suspends its connection while there is nothing to send; the
 * hub resumes it when an event of its job arrives, and every 15 s for a keep-alive comment. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H
#include <stddef.h>
#include <stdint.h>

#include "gw_http.h"

typedef struct gw_events gw_events_t;

gw_events_t *gw_events_new(const char *redis_url, const char *prefix, int timeout_ms, char *err,
                           size_t errlen);
/* Ends every open stream (at shutdown, before the HTTP server stops). */
void gw_events_close_all(gw_events_t *e);
void gw_events_destroy(gw_events_t **e);
size_t gw_events_streams(gw_events_t *e);

/* Answers r with an event stream for job `job`, starting after last_event_id (NULL: from now),
 * preceded by `snapshot` (a JSON object, may be NULL). `finished`: the job is over, so the
 * stream ends after the snapshot and any events already due. */
void gw_events_respond(gw_events_t *e, gw_req_t *r, const char *job, const char *last_event_id,
                       const char *snapshot, int finished);

/* Waiting for a job to end on a suspended request (POST /api/llm/generate): the connection is
 * suspended, and resumed when the job's final event arrives, at the deadline, or at shutdown;
 * MHD then calls the handler again and r->cont runs. */
typedef struct gw_waiter gw_waiter_t;
gw_waiter_t *gw_events_wait_job(gw_events_t *e, gw_req_t *r, const char *job,
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
