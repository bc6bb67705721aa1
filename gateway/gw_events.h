/* Live job events for GET /api/jobs/{id}/events (Server-Sent Events).
 *
 * One hub thread follows the Redis stream pa:events and keeps the latest events in a ring. Each
 * SSE response reads its job's events from the ring (or, when resuming from an older
 * Last-Event-ID, from Redis), and suspends its connection while there is nothing to send; the
 * hub resumes it when an event of its job arrives, and every 15 s for a keep-alive comment. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H
#include <microhttpd.h>
#include <stddef.h>

typedef struct gw_events gw_events_t;
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

#endif
