/* Non-blocking Redis on a pa_loop: hiredis's async API with an adapter onto the loop's watches
 * and a timer (command and connect timeouts, reconnect backoff), Lua scripts by EVALSHA with a
 * NOSCRIPT fallback, reconnecting by itself.
 *
 * Rules:
 * - Every call that returns 0 has its callback called exactly once, later, from the loop: never
 *   re-entrantly inside the call that queued it. A call while Redis is away (between a lost
 *   connection and the next one) fails at once: its callback gets NULL on the next loop turn.
 * - The reply is borrowed: it is freed when the callback returns. An error reply
 *   (REDIS_REPLY_ERROR) is a reply, not NULL; NULL means the command did not get an answer
 *   (not connected, the connection was lost or timed out, or the client is being destroyed).
 * - Commands are sent in the order queued, except a script retried after NOSCRIPT, which goes
 *   after the commands queued since.
 * - While the first connection (or a reconnection) is being made, commands are queued and sent
 *   once it is up (their callbacks get NULL if it fails).
 * - A command not answered within timeout_ms drops the connection (every pending callback gets
 *   NULL) and a new one is made after a backoff (50 ms doubling to 2 s).
 * - Not thread-safe: the loop's thread only. Do not destroy the client from inside one of its
 *   own callbacks. No SUBSCRIBE (replies are matched to commands in order). */
#ifndef PA_AREDIS_H
#define PA_AREDIS_H
#include <hiredis/hiredis.h>
#include <stddef.h>

#include "pa_loop.h"
#include "pa_redis.h" /* pa_script_t */

typedef struct pa_aredis pa_aredis_t;

typedef void (*pa_aredis_fn)(redisReply *reply /* NULL: failed or disconnected */, void *ud);

/* url as pa_redis_new takes it: redis://[:password@]host[:port][/db] or unix:///path. NULL only
 * on a bad URL (err says why); a Redis that is down is retried. */
pa_aredis_t *pa_aredis_new(pa_loop_t *l, const char *url, int timeout_ms, char *err, size_t errlen);
/* Calls every pending callback with NULL (inside this call), then frees the client and sets *a to
 * NULL. Calls made from those callbacks return -1 (their callbacks are never called). */
void pa_aredis_destroy(pa_aredis_t **a);

/* 0: fn will be called once (fn may be NULL: the answer is dropped). -1 only while the client
 * is being destroyed. */
int pa_aredis_argv(pa_aredis_t *a, pa_aredis_fn fn, void *ud, int argc, const char **argv,
                   const size_t *lens);
int pa_aredis_cmd(pa_aredis_t *a, pa_aredis_fn fn, void *ud, const char *fmt, ...);
/* Runs a script: EVALSHA when its SHA is known, else EVAL (and SCRIPT LOAD to learn the SHA);
 * a NOSCRIPT answer (Redis restarted or flushed its scripts) is retried once with EVAL. argv holds
 * nkeys keys then the arguments (lens NULL: NUL-terminated strings); they are copied. */
int pa_aredis_eval(pa_aredis_t *a, pa_script_t *s, pa_aredis_fn fn, void *ud, int nkeys, int argc,
                   const char **argv, const size_t *lens);

/* 1 while connected to Redis. */
int pa_aredis_connected(const pa_aredis_t *a);
/* Why the connection was last lost or refused ("" when it never was). */
const char *pa_aredis_errstr(const pa_aredis_t *a);
/* Commands waiting for an answer (sent or queued). */
size_t pa_aredis_pending(const pa_aredis_t *a);

#endif
