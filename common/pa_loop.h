/* The event loop every worker daemon runs on: file descriptors watched with epoll (no limit on
 * how many) and timers (a binary heap), dispatched from one thread. Like libuv's loop, in small.
 *
 * Rules:
 * - A callback is never called after the watch or timer it belongs to was removed, even when
 *   the removal happens in another callback of the same turn.
 * - A one-shot timer is freed by the loop after its callback returns; a repeating timer lives
 *   until pa_loop_timer_stop. Stopping a timer inside its own callback is allowed.
 * - Not thread-safe: one loop, one thread. */
#ifndef PA_LOOP_H
#define PA_LOOP_H
#include <stddef.h>
#include <stdint.h>

typedef struct pa_loop pa_loop_t;
typedef struct pa_timer pa_timer_t;

enum { PA_IO_READ = 1u, PA_IO_WRITE = 2u, PA_IO_ERROR = 4u /* reported only: error or hang-up */ };

typedef void (*pa_io_fn)(pa_loop_t *l, int fd, unsigned events, void *ud);
typedef void (*pa_timer_fn)(pa_loop_t *l, pa_timer_t *t, void *ud);

/* NULL when the kernel refuses an epoll instance (err says why). */
pa_loop_t *pa_loop_new(char *err, size_t errlen);
/* Frees the loop and every timer still in it; closes no watched descriptor. */
void pa_loop_destroy(pa_loop_t **l);

/* Watches fd for events (PA_IO_READ | PA_IO_WRITE, level-triggered), replacing an earlier watch
 * of the same fd; events 0 keeps the registration but waits for nothing. 0, or -1 (errno). */
int pa_loop_watch(pa_loop_t *l, int fd, unsigned events, pa_io_fn fn, void *ud);
/* Stops watching fd (no-op when it is not watched). Call it before closing fd. */
void pa_loop_unwatch(pa_loop_t *l, int fd);
/* How many descriptors are watched. */
unsigned pa_loop_watched(const pa_loop_t *l);

/* A timer that fires after after_ms, then every repeat_ms when repeat_ms > 0. Never NULL. */
pa_timer_t *pa_loop_timer(pa_loop_t *l, uint64_t after_ms, uint64_t repeat_ms, pa_timer_fn fn,
                          void *ud);
/* Stops and frees *t and sets it to NULL (no-op when *t is NULL). */
void pa_loop_timer_stop(pa_loop_t *l, pa_timer_t **t);
/* Moves a pending timer to fire after_ms from now. */
void pa_loop_timer_again(pa_loop_t *l, pa_timer_t *t, uint64_t after_ms);

/* One turn: waits for I/O at most max_wait_ms (-1: until the next timer, or for ever), runs the
 * callbacks of what is ready, then the timers that are due. Returns the number of callbacks
 * run, or -1 when epoll failed (EINTR is not a failure: 0). */
int pa_loop_run_once(pa_loop_t *l, long max_wait_ms);
/* The loop's monotonic time in ms, read at the start of the turn. */
uint64_t pa_loop_now(const pa_loop_t *l);
/* Reads the clock again (for a callback that ran long). */
uint64_t pa_loop_update(pa_loop_t *l);
/* ms until the next timer is due (0 when overdue), or -1 when there is none. */
long pa_loop_next_timeout(const pa_loop_t *l);

#endif
