/* The llm workers' shared state in Redis (llm_redis.h), on pa_aredis. */
#include "llm_redis.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_keys.h"

extern const char llm_lua_ratelimit[];
extern const char llm_lua_cache_get[];
static pa_script_t ratelimit_script = PA_SCRIPT(llm_lua_ratelimit);
static pa_script_t cache_get_script = PA_SCRIPT(llm_lua_cache_get);

/* What a call waits for: the caller's callback, typed. */
typedef struct {
    llm_int_fn ifn;
    llm_str_fn sfn;
    void *ud;
} wait_t;

static wait_t *wait_new(llm_int_fn ifn, llm_str_fn sfn, void *ud)
{
    wait_t *w = pa_malloc(sizeof *w);
    w->ifn = ifn, w->sfn = sfn, w->ud = ud;
    return w;
}

static void on_int(redisReply *rep, void *ud)
{
    wait_t *w = ud;
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    w->ifn(v, w->ud);
    free(w);
}

static void on_str(redisReply *rep, void *ud)
{
    wait_t *w = ud;
    if (rep && rep->type == REDIS_REPLY_STRING) w->sfn(rep->str, rep->len, w->ud);
    else w->sfn(NULL, 0, w->ud);
    free(w);
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

void llm_rate_key(const char *prefix, const char *provider, const char *endpoint, const char *model,
                  pa_buf_t *out)
{
    pa_buf_printf(out, "%sllm:rl:%s:", prefix, provider);
    url_host(endpoint, out);
    pa_buf_printf(out, ":%s", model);
}

static void rate_call(pa_aredis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                      const char *mode, long tokens, uint64_t now_ms, llm_int_fn fn, void *ud)
{
    char now[24], rpm[24], tpm[24], burst[24], n[24];
    snprintf(now, sizeof now, "%llu", (unsigned long long)now_ms);
    snprintf(rpm, sizeof rpm, "%ld", c->rpm);
    snprintf(tpm, sizeof tpm, "%ld", c->tpm);
    snprintf(burst, sizeof burst, "%ld", c->burst_s);
    snprintf(n, sizeof n, "%ld", tokens);
    const char *argv[] = {prefix, key, now, rpm, tpm, burst, mode, n};
    if (fn) pa_aredis_eval(r, &ratelimit_script, on_int, wait_new(fn, NULL, ud), 0, 8, argv, NULL);
    else pa_aredis_eval(r, &ratelimit_script, NULL, NULL, 0, 8, argv, NULL);
}

void llm_rate_take(pa_aredis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                   long tokens, uint64_t now_ms, llm_int_fn fn, void *ud)
{
    rate_call(r, prefix, key, c, "take", tokens, now_ms, fn, ud);
}

void llm_rate_adjust(pa_aredis_t *r, const char *prefix, const char *key, const llm_rate_cfg_t *c,
                     long tokens, uint64_t now_ms)
{
    rate_call(r, prefix, key, c, "adjust", tokens, now_ms, NULL, NULL);
}

int llm_cache_key(const char *prefix, const char *provider, const char *endpoint, const char *stage,
                  const char *body, size_t len, char *out, size_t outlen)
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
    char base[PA_KEY_MAX];
    int k = snprintf(out, outlen, "%s", pa_key_llm_cache(base, prefix, ""));
    if (!ok || k < 0 || (size_t)k + 2 * mdlen >= outlen) return -1;
    for (unsigned i = 0; i < mdlen; i++) k += snprintf(out + k, outlen - (size_t)k, "%02x", md[i]);
    return 0;
}

void llm_cache_get(pa_aredis_t *r, const char *prefix, const char *key, llm_str_fn fn, void *ud)
{
    const char *argv[] = {prefix, key};
    pa_aredis_eval(r, &cache_get_script, on_str, wait_new(NULL, fn, ud), 0, 2, argv, NULL);
}

void llm_cache_put(pa_aredis_t *r, const char *key, const char *value, long ttl_s)
{
    size_t len = strlen(value);
    if (ttl_s <= 0 || len > LLM_CACHE_MAX_VALUE) return;
    pa_aredis_cmd(r, NULL, NULL, "SET %s %b EX %ld", key, value, len, ttl_s);
}

static void on_tokens(redisReply *rep, void *ud)
{
    wait_t *w = ud;
    long long v = -1;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        v = 0;
        for (size_t i = 0; i < 2; i++)
            if (rep->element[i]->type == REDIS_REPLY_STRING) v += atoll(rep->element[i]->str);
    }
    w->ifn(v, w->ud);
    free(w);
}

void llm_job_tokens(pa_aredis_t *r, const char *prefix, const char *job, llm_int_fn fn, void *ud)
{
    pa_aredis_cmd(r, on_tokens, wait_new(fn, NULL, ud),
                  "HMGET %sjob:%s tokens_prompt tokens_completion", prefix, job);
}
