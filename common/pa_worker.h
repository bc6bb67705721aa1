/* The worker runtime every worker daemon is built on: one event loop (pa_loop: epoll and timers)
 * that talks to one or more gateways over ZeroMQ (HELLO, CREDIT, TASK, CANCEL, HEARTBEAT, BYE),
 * hands tasks to the daemon's code, commits outcomes to Redis in batches (one Lua script checks
 * each lease), checks and renews the leases it holds every second, hears of cancelled tasks,
 * publishes a status record, reconnects by itself, and on SIGTERM finishes or gives back what it
 * holds. */
#ifndef PA_WORKER_H
#define PA_WORKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pa_aredis.h"
#include "pa_arena.h"
#include "pa_loop.h"
#include "pa_redis.h"

typedef struct pa_worker pa_worker_t;

typedef struct pa_task {
    char key[140]; /* "job:task", the task's name in Redis */
    char job[72];
    char stage[17];
    char lease[65];
    unsigned attempt;      /* 1 on the first try of this stage */
    unsigned max_attempts; /* the stage's limit from the engine */
    bool last_attempt;     /* attempt >= max_attempts: a transient fault now fails for good */
    const char *target;    /* the normalised target URL, "" when none; valid until done */
    pa_arena_t *arena;     /* per-task memory: destroyed by the runtime after pa_worker_done */
    void *user;            /* the daemon's own state for this task */
} pa_task_t;

/* The task's documents, from its TASK message (proto/pa_task.h). The JSON accessors parse a
 * document the first time they are asked for it, and only then: a task that never asks pays
 * nothing. The trees are the task's (released when it is done): borrow, never decref. */
/* The target's input (a JSON object as the API stored it), or NULL when it is not one. */
const json_t *pa_task_input(pa_task_t *t);
/* The job's context (template, sender, options...), or NULL when it is not a JSON object. */
const json_t *pa_task_context(pa_task_t *t);
/* The result of an earlier stage of this task (any JSON value), or NULL when it has none. */
const json_t *pa_task_result(pa_task_t *t, const char *stage);
/* The same documents as text, not parsed (NULL for a result the task does not have). The input
 * and the context are NUL-terminated; a result's text is not (use len). */
const char *pa_task_input_text(const pa_task_t *t, size_t *len);
const char *pa_task_context_text(const pa_task_t *t, size_t *len);
const char *pa_task_result_text(const pa_task_t *t, const char *stage, size_t *len);

typedef enum {
    PA_OUT_SUCCEEDED,
    PA_OUT_RETRY,  /* transient fault: retried with backoff up to the stage's attempt limit */
    PA_OUT_FAILED, /* permanent fault */
    PA_OUT_CAPTCHA_REQUIRED,
    PA_OUT_SKIPPED,
    PA_OUT_UNCERTAIN
} pa_outcome_t;

typedef struct {
    const char *service; /* "mcp", "llm" or "form" */
    /* Optional: the loop exists (pa_worker_loop); make engines, watch descriptors, set timers.
     * A negative return stops the worker before it joins any gateway (pa_worker_run returns 1). */
    int (*on_start)(pa_worker_t *w, void *ud);
    /* A new task. The daemon must call pa_worker_done for it exactly once, now or later. */
    void (*on_task)(pa_worker_t *w, pa_task_t *t, void *ud);
    /* Optional: the task was cancelled (its job cancelled, its lease lost, or the runtime gave it
     * back at the stop deadline). Abort its work (transfers) and end it with pa_worker_done,
     * now or soon (any outcome: it is not committed). Called at most once per task, never after
     * pa_worker_done. reason: "job cancelled", "lease lost", "released". */
    void (*on_cancel)(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud);
    /* Optional: the loop is about to go (after the stop deadline and the release of what was
     * left). Tasks still not done are freed by the runtime afterwards (their arenas too). */
    void (*on_stop)(pa_worker_t *w, void *ud);
    void *ud;
} pa_worker_ops_t;

/* Reads the configuration from the environment (GATEWAY_ENDPOINTS, REDIS_URL, REDIS_PREFIX,
 * WORKER_ID, WORKER_CAPACITY, HEARTBEAT_MS, STOP_TIMEOUT_S, RETRY_BASE_MS, RETRY_CAP_MS,
 * CURVE_SERVER_PUBLIC, CURVE_CLIENT_SECRET) and makes the loop. Raises the soft limit of open
 * files to the hard limit (a worker may hold thousands of sockets). NULL with a message naming
 * the variable in err. */
pa_worker_t *pa_worker_new(const pa_worker_ops_t *ops, char *err, size_t errlen);
void pa_worker_destroy(pa_worker_t **w);
/* Runs until SIGTERM or SIGINT (or pa_worker_stop); returns the exit status (0 after a clean
 * stop). */
int pa_worker_run(pa_worker_t *w);
/* Asks a running worker to stop as SIGTERM does. Safe from any thread and from a signal handler. */
void pa_worker_stop(pa_worker_t *w);
/* The runtime's loop: watch the daemon's descriptors and set its timers on it. Valid from
 * pa_worker_new to pa_worker_destroy; callbacks run on the thread of pa_worker_run. */
pa_loop_t *pa_worker_loop(pa_worker_t *w);
/* The runtime's non-blocking Redis connection on its loop (pa_aredis: answers by callback from
 * the loop), for the daemon's own calls (rate limits, caches, publishes). Valid from
 * pa_worker_new to pa_worker_destroy; pending callbacks get NULL when the worker is destroyed. */
pa_aredis_t *pa_worker_aredis(pa_worker_t *w);
/* Ends a task. result is a JSON document (or NULL); error says why (or NULL). For
 * PA_OUT_RETRY, retry_after_ms is the least delay (a Retry-After), or 0. After a cancel (see
 * on_cancel) nothing is committed, but the slot is given back all the same. The task's arena is
 * destroyed once the outcome is committed (or at once for a cancelled task): nothing of it may
 * be used after this call. */
void pa_worker_done(pa_worker_t *w, pa_task_t *t, pa_outcome_t outcome, const char *result,
                    const char *error, long retry_after_ms);

/* The answer of a claim (claim.lua). */
typedef enum {
    PA_CLAIM_OK,        /* taken now, or already held by this task's lease: do the side effect */
    PA_CLAIM_TAKEN,     /* another task, or an earlier try, holds it: do not */
    PA_CLAIM_CANCELLED, /* the job was cancelled: do not (on_cancel comes too) */
    PA_CLAIM_STALE,     /* this worker's lease is gone: do not */
    PA_CLAIM_ERROR,     /* Redis did not answer: nothing is known; do not (retry the task) */
    /* REDIS_WAIT_REPLICAS: the replicas did not acknowledge it for PA_CLAIM_WAIT_MS; it was given
     * back (when Redis answered); do not (retry the task later) */
    PA_CLAIM_NOT_REPLICATED
} pa_claim_t;
/* How long a claim waits for REDIS_WAIT_REPLICAS replicas, asking again every 500 ms, with the
 * task held (a failover: the new master has none until the old one returns as a replica). */
#define PA_CLAIM_WAIT_MS 30000
typedef void (*pa_claim_fn)(pa_worker_t *w, pa_task_t *t, pa_claim_t result, void *ud);

/* Takes the claim `name` (e.g. "submit:<campaign>:<target>") for task t in one atomic step with
 * the checks that t's lease is still this worker's and its job is not cancelled: after
 * POST /api/jobs/{id}/cancel has answered, no task of that job gets PA_CLAIM_OK. ttl_s: how long
 * the claim lasts (0: for ever). The answer comes from the loop (on pa_worker_aredis), never
 * inside this call; fn is not called when t is done (pa_worker_done) before the answer, so keep
 * ud in t's arena. With REDIS_WAIT_REPLICAS=N, PA_CLAIM_OK comes only once N replicas have the
 * claim (WAIT; one in flight per connection, covering every claim answered before it): until
 * then the claim is asked again under the same lease (claim.lua is idempotent for it, and takes
 * it again on a new master that lost it) for up to PA_CLAIM_WAIT_MS. */
void pa_worker_claim(pa_worker_t *w, pa_task_t *t, const char *name, long ttl_s, pa_claim_fn fn,
                     void *ud);
/* "ok", "taken", "cancelled", "stale", "error", "not_replicated" */
const char *pa_claim_name(pa_claim_t c);

/* A field of this worker's status record (<prefix>worker:<id>:status, written at every
 * heartbeat), published with the next heartbeat; value NULL removes the field. The runtime
 * writes service, version, capacity, held, started_ms and updated_ms itself. */
void pa_worker_set_status(pa_worker_t *w, const char *field, const char *value);

const char *pa_worker_id(const pa_worker_t *w);
/* The runtime's Redis connection (synchronous hiredis, reconnecting with backoff), for the
 * daemon's own commands. Every call the runtime has in flight on it is answered first, and the
 * outcomes of tasks already done are committed first (so the daemon reads its own results), so
 * this may wait for a round trip or two. Use it only from the loop's callbacks, never from another
 * thread. */
pa_redis_t *pa_worker_redis(pa_worker_t *w);
/* Calls fn(w, ud) from the loop once every task that had ended (pa_worker_done) when this was
 * called is committed to Redis, so that a daemon's own read of what those tasks wrote (a job's
 * token usage, say) sees them. Without such tasks it runs after the current turn. Never called
 * inside this call; not called if the worker is destroyed first. */
typedef void (*pa_worker_fn)(pa_worker_t *w, void *ud);
void pa_worker_when_committed(pa_worker_t *w, pa_worker_fn fn, void *ud);
size_t pa_worker_held(const pa_worker_t *w);

#endif
