/* Streamed answers of POST /api/llm/generate ("stream": true) as Server-Sent Events.
 *
 * The llm worker publishes the text as it arrives on the Redis channel <prefix>llm:stream:<job>
 * (best effort). One subscriber thread per gateway process holds a PSUBSCRIBE on
 * <prefix>llm:stream:* (reconnecting by itself) and routes each message by job id to the open
 * streaming responses of this process. The end comes through the events hub (gw_events), like
 * the non-streaming call's: the job's final event (or the deadline, or shutdown) makes the
 * response send the final event built from the task's committed result, then end. Deltas and the
 * end travel on different connections, so their order is not guaranteed: deltas that arrive
 * after the final event are dropped; the final event carries the whole output.
 *
 * Each response suspends its connection while there is nothing to send (no thread waits); the
 * subscriber thread wakes it for deltas and every keep-alive interval (a comment line), which
 * also lets a client that went away be noticed. */
#ifndef GW_LLM_STREAM_H
#define GW_LLM_STREAM_H
#include <stddef.h>
#include <stdint.h>

#include "gw_events.h"
#include "gw_http.h"

typedef struct gw_streams gw_streams_t;
typedef struct gw_stream gw_stream_t;

/* Starts the subscriber thread (a Redis that is down is retried). NULL with a message in err. */
gw_streams_t *gw_streams_new(const char *redis_url, const char *prefix, int timeout_ms,
                             long keepalive_ms, char *err, size_t errlen);
/* After the HTTP server stopped (every stream is freed by then). */
void gw_streams_destroy(gw_streams_t **s);
/* Streaming responses open in this process. */
size_t gw_streams_open(gw_streams_t *s);

/* Registers a stream for job (before the job exists, so that no delta is missed). */
gw_stream_t *gw_stream_open(gw_streams_t *s, gw_req_t *r, const char *job);
/* Forgets a stream that will not be answered (the job could not be created). */
void gw_stream_close(gw_streams_t *s, gw_stream_t **st);
/* Answers r with the stream: "start", the deltas as they come, then "done" or "error" once the
 * job ends or at deadline_mono_ms (see gw_llm_outcome.h). The response owns st from here.
 * Returns the watch on the job's end, valid until the handler returns (to poke it when the job
 * turns out to be over already). */
gw_waiter_t *gw_stream_respond(gw_stream_t *st, gw_req_t *r, uint64_t deadline_mono_ms);

#endif
