/* The worker runtime every worker daemon is built on: one event loop that talks to one or more
 * gateways over ZeroMQ (HELLO, CREDIT, TASK, HEARTBEAT, BYE), hands tasks to the daemon's code,
 * commits outcomes to Redis in batches (one Lua script checks each lease), renews the leases of
 * long tasks, reconnects by itself, and on SIGTERM finishes or gives back what it holds. */
#ifndef PA_WORKER_H
#define PA_WORKER_H
#include <stddef.h>
#include <poll.h>
#include <stdint.h>

#include "pa_redis.h"

typedef struct pa_worker pa_worker_t;

typedef struct pa_task {
    char key[140]; /* "job:task", the task's name in Redis */
    char job[72];
    char stage[17];
    char lease[65];
    unsigned attempt;
    const char *payload; /* JSON given by the dispatcher; valid until the task is done */
    size_t payload_len;
    void *user; /* the daemon's own state for this task */
} pa_task_t;

typedef enum {
    PA_OUT_SUCCEEDED,
    PA_OUT_RETRY, /* transient fault: retried with backoff up to the stage's attempt limit */
    PA_OUT_FAILED, /* permanent fault */
    PA_OUT_CAPTCHA_REQUIRED,
    PA_OUT_SKIPPED,
    PA_OUT_UNCERTAIN
} pa_outcome_t;

typedef struct {
    const char *service; /* "mcp", "llm" or "form" */
    /* A new task. The daemon must call pa_worker_done for it exactly once, now or later. */
    void (*on_task)(pa_worker_t *w, pa_task_t *t, void *ud);
    /* Called on every loop turn; returns the longest the loop may sleep (ms), or -1 for no limit. */
    long (*on_tick)(pa_worker_t *w, void *ud);
    /* Optional: the daemon's own file descriptors (e.g. libcurl's sockets) to wait on in the
     * same poll. fds fills at most max entries (fd, events as POLLIN/POLLOUT) and returns how
     * many; on_fds then gets them back with revents set. Either may be NULL. */
    int (*fds)(pa_worker_t *w, struct pollfd *out, int max, void *ud);
    void (*on_fds)(pa_worker_t *w, const struct pollfd *fds, int n, void *ud);
    void *ud;
} pa_worker_ops_t;

/* Reads the configuration from the environment (GATEWAY_ENDPOINTS, REDIS_URL, REDIS_PREFIX,
 * WORKER_ID, WORKER_CAPACITY, HEARTBEAT_MS, STOP_TIMEOUT_S, RETRY_BASE_MS, RETRY_CAP_MS,
 * CURVE_SERVER_PUBLIC, CURVE_CLIENT_SECRET). NULL with a message naming the variable in err. */
pa_worker_t *pa_worker_new(const pa_worker_ops_t *ops, char *err, size_t errlen);
void pa_worker_destroy(pa_worker_t **w);
/* Runs until SIGTERM or SIGINT; returns the exit status (0 after a clean stop). */
int pa_worker_run(pa_worker_t *w);
/* Ends a task. result is a JSON document (or NULL); error says why (or NULL). For
 * PA_OUT_RETRY, retry_after_ms is the least delay (a Retry-After), or 0. */
void pa_worker_done(pa_worker_t *w, pa_task_t *t, pa_outcome_t outcome, const char *result,
                    const char *error, long retry_after_ms);
const char *pa_worker_id(const pa_worker_t *w);
size_t pa_worker_held(const pa_worker_t *w);
/* The runtime's Redis connection (REDIS_URL), for a daemon's own synchronous pa_redis_* calls
 * from its callbacks (the runtime is single-threaded; never from another thread). */
pa_redis_t *pa_worker_redis(pa_worker_t *w);

#endif
