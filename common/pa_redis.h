/* Redis client: one connection per thread, connect and command timeouts, reconnect with
 * exponential backoff, Lua scripts by EVALSHA with a NOSCRIPT fallback. */
#ifndef PA_REDIS_H
#define PA_REDIS_H
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct pa_redis pa_redis_t;

typedef struct {
    const char *src; /* the script's Lua source; its SHA1 is learnt from Redis on first use */
    char sha[41];
    atomic_int have_sha;
    pthread_mutex_t lock; /* guards the first load; scripts are shared by threads */
} pa_script_t;

#define PA_SCRIPT(src_)                                                                            \
    {                                                                                              \
        (src_), {0}, 0, PTHREAD_MUTEX_INITIALIZER                                                  \
    }

/* url: redis[s]://[[user]:password@]host[:port][/db] or unix:///path/to/socket (user and password
 * percent-decoded, as redis-cli does; a user names an ACL user: AUTH user password). rediss:// is
 * TLS (pa_tls.h: REDIS_TLS_* from the environment). With no password in the URL,
 * REDIS_PASSWORD_FILE (a file holding it) is read. NULL on a bad URL or TLS setting (with a message
 * in err); a Redis that is down is not an error here, it is retried on use. */
pa_redis_t *pa_redis_new(const char *url, int timeout_ms, char *err, size_t errlen);

/* A Redis URL taken apart (shared by the blocking and the non-blocking client). */
typedef struct {
    char *host; /* or the unix socket's path */
    int port;   /* 0 for a unix socket */
    char *user; /* NULL: AUTH with the password alone (the default user) */
    char *password;
    int db;
    int tls; /* rediss:// */
} pa_redis_url_t;
/* 0, or -1 with a message naming REDIS_URL's forms in err (out then holds nothing). Pure: reads
 * nothing but url. */
int pa_redis_url_parse(const char *url, pa_redis_url_t *out, char *err, size_t errlen);
/* When u has no password and REDIS_PASSWORD_FILE is set, reads the password from that file (its
 * first line). 0, or -1 with a message naming the variable. */
int pa_redis_url_password_file(pa_redis_url_t *u, char *err, size_t errlen);
/* REDIS_SENTINELS and REDIS_MASTER_NAME from the environment for the URL u: 0 with *out NULL
 * (none) or set, or -1 with a message (a bad list, no master name, a rediss:// or unix:// URL,
 * which the sentinels' TCP addresses cannot serve). */
struct pa_sentinel;
int pa_redis_url_sentinel(const pa_redis_url_t *u, struct pa_sentinel **out, char *err,
                          size_t errlen);
/* The URL without its password ("redis://user:***@host:port/db"), for logs; caller frees. */
char *pa_redis_url_safe_str(const pa_redis_url_t *u, const char *url);
void pa_redis_url_free(pa_redis_url_t *u);
void pa_redis_destroy(pa_redis_t **r);

/* 1 when the last command reached Redis. */
int pa_redis_connected(const pa_redis_t *r);
/* Why the last call failed (I/O, connect, or an error reply). */
const char *pa_redis_errstr(const pa_redis_t *r);
/* The URL with any password masked, for logs. */
const char *pa_redis_url_safe(const pa_redis_t *r);

/* A command; NULL when Redis is unreachable (the connection is dropped and re-made later, with
 * backoff). An error reply is returned as a REDIS_REPLY_ERROR reply, which the caller frees. */
redisReply *pa_redis_cmd(pa_redis_t *r, const char *fmt, ...);
redisReply *pa_redis_argv(pa_redis_t *r, int argc, const char **argv, const size_t *lens);

/* Pipelining: append commands, then read one reply per command. Append returns -1 when not
 * connected; get_reply returns NULL on I/O failure. */
int pa_redis_append(pa_redis_t *r, int argc, const char **argv, const size_t *lens);
redisReply *pa_redis_get_reply(pa_redis_t *r);
/* Writes out what was appended, without waiting for the replies (read them later with
 * pa_redis_get_reply or pa_redis_wait_reply). -1 when the connection failed (dropped). */
int pa_redis_flush(pa_redis_t *r);
/* The connection's socket (to poll for a reply), or -1. */
int pa_redis_fd(const pa_redis_t *r);

/* The next reply the connection holds or receives within wait_ms (pushes of a SUBSCRIBE or
 * PSUBSCRIBE, which pa_redis_cmd started); NULL when none came in time (still connected) or the
 * connection is lost (pa_redis_connected then says 0, and the next command reconnects). Waits with
 * poll, so a quiet connection is not taken for a broken one. */
redisReply *pa_redis_wait_reply(pa_redis_t *r, int wait_ms);

/* Runs a script by EVALSHA, loading it on NOSCRIPT. argv holds keys then args. */
redisReply *pa_redis_eval(pa_redis_t *r, pa_script_t *s, int nkeys, int argc, const char **argv,
                          const size_t *lens);
/* Makes sure the script is in Redis's cache and its SHA is known (before pipelining EVALSHA). */
int pa_redis_script_load(pa_redis_t *r, pa_script_t *s);
int pa_redis_append_evalsha(pa_redis_t *r, pa_script_t *s, int nkeys, int argc, const char **argv,
                            const size_t *lens);

#endif
