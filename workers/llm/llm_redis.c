/* The llm workers' shared state in Redis (llm_redis.h). */
#include "llm_redis.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char llm_lua_ratelimit[];
extern const char llm_lua_cache_get[];
extern const char llm_lua_breaker[];
static pa_script_t ratelimit_script = PA_SCRIPT(llm_lua_ratelimit);
static pa_script_t cache_get_script = PA_SCRIPT(llm_lua_cache_get);
static pa_script_t breaker_script = PA_SCRIPT(llm_lua_breaker);

/* Runs a script whose answer is an integer; the integer, or -1 (logged by the caller). */
static long long eval_int(pa_redis_t *r, pa_script_t *s, int argc, const char **argv)
{
    redisReply *rep = pa_redis_eval(r, s, 0, argc, argv, NULL);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep) freeReplyObject(rep);
    return v;
}

int llm_breaker_publish(pa_redis_t *r, const char *prefix, const char *worker, uint64_t now_ms,
                        long ttl_ms, const char *const *fields)
{
    const char *argv[32];
    char now[24], ttl[24];
    snprintf(now, sizeof now, "%llu", (unsigned long long)now_ms);
    snprintf(ttl, sizeof ttl, "%ld", ttl_ms > 0 ? ttl_ms : 0);
    int n = 0;
    argv[n++] = prefix, argv[n++] = worker, argv[n++] = now, argv[n++] = ttl;
    for (size_t i = 0; ttl_ms > 0 && fields && fields[i] && fields[i + 1] && n + 2 <= 32; i += 2)
        argv[n++] = fields[i], argv[n++] = fields[i + 1];
    return eval_int(r, &breaker_script, n, argv) < 0 ? -1 : 0;
}

/* host[:port] of a URL, without user information. */
static void url_host(const char *url, pa_buf_t *out)
{
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t n = strcspn(s, "/?#");
    const char *at = memchr(s, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    pa_buf_put(out, s, n);
}

void llm_rate_key(const char *prefix, const char *provider, const char *endpoint,
                  const char *model, pa_buf_t *out)
{
    pa_buf_printf(out, "%sllm:rl:%s:", prefix, provider);
    url_host(endpoint, out);
    pa_buf_printf(out, ":%s", model);
}

static long long rate_call(pa_redis_t *r, const char *prefix, const char *key,
                           const llm_rate_cfg_t *c, const char *mode, long tokens, uint64_t now_ms)
{
    char now[24], rpm[24], tpm[24], burst[24], n[24];
    snprintf(now, sizeof now, "%llu", (unsigned long long)now_ms);
    snprintf(rpm, sizeof rpm, "%ld", c->rpm);
    snprintf(tpm, sizeof tpm, "%ld", c->tpm);
    snprintf(burst, sizeof burst, "%ld", c->burst_s);
    snprintf(n, sizeof n, "%ld", tokens);
    const char *argv[] = {prefix, key, now, rpm, tpm, burst, mode, n};
    return eval_int(r, &ratelimit_script, 8, argv);
}

long llm_rate_take(pa_redis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                   long tokens, uint64_t now_ms)
{
    return (long)rate_call(r, prefix, key, c, "take", tokens, now_ms);
}

int llm_rate_adjust(pa_redis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                    long tokens, uint64_t now_ms)
{
    return rate_call(r, prefix, key, c, "adjust", tokens, now_ms) < 0 ? -1 : 0;
}

int llm_cache_key(const char *prefix, const char *provider, const char *endpoint,
                   const char *stage, const char *body, size_t len, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* each part ends with a NUL byte, so that no two different lists hash the same bytes */
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, provider, strlen(provider) + 1) == 1 &&
             EVP_DigestUpdate(ctx, endpoint, strlen(endpoint) + 1) == 1 &&
             EVP_DigestUpdate(ctx, stage, strlen(stage) + 1) == 1 &&
             EVP_DigestUpdate(ctx, body, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    int k = snprintf(out, outlen, "%sllm:cache:", prefix);
    if (!ok || k < 0 || (size_t)k + 2 * mdlen >= outlen) return -1;
    for (unsigned i = 0; i < mdlen; i++)
        k += snprintf(out + k, outlen - (size_t)k, "%02x", md[i]);
    return 0;
}

char *llm_cache_get(pa_redis_t *r, const char *prefix, const char *key)
{
    const char *argv[] = {prefix, key};
    redisReply *rep = pa_redis_eval(r, &cache_get_script, 0, 2, argv, NULL);
    char *v = rep && rep->type == REDIS_REPLY_STRING ? pa_strndup(rep->str, rep->len) : NULL;
    if (rep) freeReplyObject(rep);
    return v;
}

int llm_cache_put(pa_redis_t *r, const char *key, const char *value, long ttl_s)
{
    size_t len = strlen(value);
    if (ttl_s <= 0 || len > LLM_CACHE_MAX_VALUE) return 0;
    redisReply *rep = pa_redis_cmd(r, "SET %s %b EX %ld", key, value, len, ttl_s);
    int ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep) freeReplyObject(rep);
    return ok ? 0 : -1;
}

long long llm_job_tokens(pa_redis_t *r, const char *prefix, const char *job)
{
    redisReply *rep =
        pa_redis_cmd(r, "HMGET %sjob:%s tokens_prompt tokens_completion", prefix, job);
    long long v = -1;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        v = 0;
        for (size_t i = 0; i < 2; i++)
            if (rep->element[i]->type == REDIS_REPLY_STRING) v += atoll(rep->element[i]->str);
    }
    if (rep) freeReplyObject(rep);
    return v;
}
