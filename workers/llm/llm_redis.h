/* What the llm workers share in Redis (docs/redis-keys.md, "LLM workers"): the circuit breaker
 * each one publishes for the gateways, the rate limit of a provider, the response cache, and
 * the token usage of a job. Synchronous calls on the worker runtime's connection
 * (pa_worker_redis); the scripts are in workers/llm/lua/, embedded at build time. Never used by
 * the template provider. */
#ifndef LLM_REDIS_H
#define LLM_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"
#include "pa_redis.h"

/* ---- circuit breaker ---- */

/* Writes the worker's breaker (the hash pa:llm:breaker:<worker> with fields, a NULL-terminated
 * list of name, value pairs, expiring after ttl_ms, and its entry in pa:llm:breakers). ttl_ms 0
 * removes both (the worker is stopping). 0, or -1 when Redis did not take it. */
int llm_breaker_publish(pa_redis_t *r, const char *prefix, const char *worker, uint64_t now_ms,
                        long ttl_ms, const char *const *fields);

/* ---- rate limit ---- */

typedef struct {
    long rpm;     /* requests per minute, 0: no limit */
    long tpm;     /* tokens per minute, 0: no limit */
    long burst_s; /* seconds of each rate a bucket holds */
} llm_rate_cfg_t;

/* The bucket's key: <prefix>llm:rl:<provider>:<host[:port] of the endpoint>:<model>. */
void llm_rate_key(const char *prefix, const char *provider, const char *endpoint,
                  const char *model, pa_buf_t *out);
/* Reserves one request and `tokens` tokens. 0 when granted; > 0, the ms to wait before asking
 * again; -1 when Redis did not answer. */
long llm_rate_take(pa_redis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                   long tokens, uint64_t now_ms);
/* Gives back `tokens` (negative: takes more) once the real usage is known. 0 or -1. */
int llm_rate_adjust(pa_redis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                    long tokens, uint64_t now_ms);

/* ---- response cache ---- */

#define LLM_CACHE_KEY_MAX 160
/* Answers larger than this are not cached. */
#define LLM_CACHE_MAX_VALUE (64 * 1024)

/* <prefix>llm:cache:<SHA-256 hex of provider, endpoint, stage and the request body> in out.
 * 0, or -1 when it does not fit or libcrypto failed (then the call is not cached). */
int llm_cache_key(const char *prefix, const char *provider, const char *endpoint,
                   const char *stage, const char *body, size_t len, char *out, size_t outlen);
/* The cached value (caller frees) or NULL (a miss, or Redis did not answer); counts the hit or
 * the miss in <prefix>llm:cache:hits / :misses. */
char *llm_cache_get(pa_redis_t *r, const char *prefix, const char *key);
/* Stores value for ttl_s seconds (not when larger than LLM_CACHE_MAX_VALUE). 0 or -1. */
int llm_cache_put(pa_redis_t *r, const char *key, const char *value, long ttl_s);

/* ---- jobs ---- */

/* Tokens the job's committed results used (tokens_prompt + tokens_completion of pa:job:{J}),
 * or -1 when Redis did not answer. */
long long llm_job_tokens(pa_redis_t *r, const char *prefix, const char *job);

#endif
