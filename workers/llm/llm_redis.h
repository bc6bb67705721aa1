/* What the llm workers share in Redis (docs/redis-keys.md, "LLM workers"): the rate limit of a
 * provider, the response cache, and the token usage of a job. Non-blocking calls on a pa_aredis
 * connection (the worker runtime's, pa_worker_aredis): every answer comes from the loop, never
 * inside the call. The scripts are in workers/llm/lua/, embedded at build time. Never used by the
 * template provider. */
#ifndef LLM_REDIS_H
#define LLM_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "pa_aredis.h"
#include "pa_buf.h"

/* An integer answer: the value, or -1 when Redis did not answer. */
typedef void (*llm_int_fn)(long long v, void *ud);
/* A string answer (borrowed for the call), or NULL: none, or Redis did not answer. */
typedef void (*llm_str_fn)(const char *v, size_t len, void *ud);

/* ---- rate limit ---- */

typedef struct {
    long rpm;     /* requests per minute, 0: no limit */
    long tpm;     /* tokens per minute, 0: no limit */
    long burst_s; /* seconds of each rate a bucket holds */
} llm_rate_cfg_t;

/* The bucket's key: <prefix>llm:rl:<provider>:<host[:port] of the endpoint>:<model>. */
void llm_rate_key(const char *prefix, const char *provider, const char *endpoint, const char *model,
                  pa_buf_t *out);
/* Reserves one request and `tokens` tokens. fn gets 0 when granted; > 0, the ms to wait before
 * asking again; -1 when Redis did not answer. */
void llm_rate_take(pa_aredis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                   long tokens, uint64_t now_ms, llm_int_fn fn, void *ud);
/* Gives back `tokens` (negative: takes more) once the real usage is known (best effort). */
void llm_rate_adjust(pa_aredis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                     long tokens, uint64_t now_ms);

/* ---- response cache ---- */

#define LLM_CACHE_KEY_MAX 160
/* Answers larger than this are not cached. */
#define LLM_CACHE_MAX_VALUE (64 * 1024)

/* <prefix>llm:cache:<SHA-256 hex of provider, endpoint, stage and the request body> in out.
 * 0, or -1 when it does not fit or libcrypto failed (then the call is not cached). */
int llm_cache_key(const char *prefix, const char *provider, const char *endpoint, const char *stage,
                  const char *body, size_t len, char *out, size_t outlen);
/* The cached value to fn (NULL: a miss, or Redis did not answer); counts the hit or the miss in
 * <prefix>llm:cache:hits / :misses. */
void llm_cache_get(pa_aredis_t *r, const char *prefix, const char *key, llm_str_fn fn, void *ud);
/* Stores value for ttl_s seconds (not when larger than LLM_CACHE_MAX_VALUE); best effort. */
void llm_cache_put(pa_aredis_t *r, const char *key, const char *value, long ttl_s);

/* ---- jobs ---- */

/* Tokens the job's committed results used (tokens_prompt + tokens_completion of pa:job:{J}) to fn,
 * or -1 when Redis did not answer. */
void llm_job_tokens(pa_aredis_t *r, const char *prefix, const char *job, llm_int_fn fn, void *ud);

#endif
