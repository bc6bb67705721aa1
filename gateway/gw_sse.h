/* Server-Sent Events plumbing shared by the gateway's event streams (job events, gw_events.c;
 * streamed generate answers, gw_llm_stream.c) and by requests that wait for a job on a suspended
 * connection: a connection that sleeps while there is nothing to send, a reader's steps, and
 * the text/event-stream response (made through the HTTP layer).
 *
 * A stream's producer (another thread) appends events to a buffer under its own lock and wakes
 * the sleeper; the response's reader (a gw_stream_read_fn) takes the buffer out with gw_sse_take
 * and goes to sleep with gw_sse_idle when it is empty. */
#ifndef GW_SSE_H
#define GW_SSE_H
#include <pthread.h>
#include <stddef.h>

#include "gw_http.h"
#include "pa_buf.h"

/* A response's connection that sleeps (MHD suspend) while it has nothing to send, woken from other
 * threads, even while it is falling asleep (SUSPENDING records such a wake-up). Both calls are made
 * with the owner's lock held; gw_sleeper_sleep releases it around the suspension. */
enum { GW_SLEEPER_RUNNING, GW_SLEEPER_SUSPENDING, GW_SLEEPER_SUSPENDED };
typedef struct {
    struct MHD_Connection *conn;
    int state, pending;
} gw_sleeper_t;
void gw_sleeper_wake(gw_sleeper_t *s);
void gw_sleeper_sleep(gw_sleeper_t *s, pthread_mutex_t *lock);

/* A reader's step: copies what is left of out from *off into buf (at most max) and returns how
 * much (0: nothing left); out is emptied once all of it is sent. */
size_t gw_sse_take(pa_buf_t *out, size_t *off, char *buf, size_t max);
/* A reader with nothing to send, called with lock held (and releases it): queues a keep-alive
 * comment when *ka asks for one and returns 1 (read again), else suspends the connection until a
 * wake-up and returns 0 (the reader returns 0 to libmicrohttpd). */
int gw_sse_idle(gw_sleeper_t *sl, int *ka, pa_buf_t *out, pthread_mutex_t *lock);
/* Answers r with 200 text/event-stream (no caching, no proxy buffering) read by read(cls); sl's
 * connection is r's from here; free_fn(cls) runs when the response is done. */
void gw_sse_respond(gw_req_t *r, gw_sleeper_t *sl, gw_stream_read_fn read, void *cls,
                    void (*free_fn)(void *cls));

#endif
