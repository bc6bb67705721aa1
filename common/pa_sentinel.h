/* Redis Sentinel: where the master is, asked of the sentinels (REDIS_SENTINELS,
 * REDIS_MASTER_NAME, REDIS_SENTINEL_PASSWORD), for pa_redis and pa_aredis. Each client holds its
 * own pa_sentinel_t (not shared between threads). */
#ifndef PA_SENTINEL_H
#define PA_SENTINEL_H
#include <stddef.h>

typedef struct pa_sentinel pa_sentinel_t;

/* From the environment: 0 with *out NULL when REDIS_SENTINELS is unset or empty, 0 with *out set,
 * or -1 with a message naming the variable in err (a malformed list, no REDIS_MASTER_NAME). */
int pa_sentinel_from_env(pa_sentinel_t **out, char *err, size_t errlen);
/* The same from explicit values (password may be NULL). */
pa_sentinel_t *pa_sentinel_new(const char *list, const char *master, const char *password,
                               char *err, size_t errlen);
void pa_sentinel_free(pa_sentinel_t **s);

/* Asks the sentinels in turn (each connect and answer within timeout_ms) for the master's address
 * (SENTINEL get-master-addr-by-name), for at most budget_ms in all (a sentinel is not started
 * after that). 0 with *host (caller frees) and *port; the sentinel that answered is asked first
 * next time. -1 with why when none knew. Blocking (name a sentinel by address: a host name is
 * resolved without a timeout). */
int pa_sentinel_master(pa_sentinel_t *s, int timeout_ms, int budget_ms, char **host, int *port,
                       char *why, size_t whylen);

/* "redis-sentinel://[user:]***@h1:p1,h2:p2/db#name" for logs (caller frees); user and
 * has_password say what the URL had. */
char *pa_sentinel_url_safe(const pa_sentinel_t *s, const char *user, int has_password, int db);

/* 1 when an error reply means the server is not (or no longer) a writable master: READONLY (a
 * replica: 2, ask the sentinels at once), MASTERDOWN or LOADING (1: again after the backoff). */
int pa_redis_err_not_master(const char *err);

/* 1 when a ROLE answer says master; 0 when it names another role; -1 when it is not a ROLE answer
 * (an ACL that does not allow ROLE: nothing to go by). role gets the role's name. */
struct redisReply;
int pa_redis_role_is_master(const struct redisReply *rep, char *role, size_t rolelen);

#endif
