/* What the llm workers share in Redis (workers/llm/llm_redis.h), against a real redis-server
 * (redis_fixture.h) with the clock given explicitly: the rate limit's two token buckets (burst,
 * refill, the wait it names, a large call in debt, usage corrections, expiry), the response
 * cache, the job's token usage. The calls are non-blocking (pa_aredis on a pa_loop); a blocking
 * connection looks at what they wrote. */
#include <criterion/criterion.h>
#include <string.h>

#include "llm_redis.h"
#include "pa_loop.h"
#include "pa_redis.h"
#include "redis_fixture.h"

static rf_redis_t srv = RF_REDIS_INIT;
static pa_redis_t *cli;
static pa_loop_t *loop;
static pa_aredis_t *acli;

static void setup(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    char err[512], url[200];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    rf_redis_url(&srv, 0, url, sizeof url);
    cli = pa_redis_new(url, 2000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    acli = pa_aredis_new(loop, url, 2000, err, sizeof err);
    cr_assert_not_null(acli, "%s", err);
}

static void teardown(void)
{
    pa_aredis_destroy(&acli);
    pa_loop_destroy(&loop);
    pa_redis_destroy(&cli);
    rf_redis_cleanup(&srv);
}

TestSuite(llm_redis, .init = setup, .fini = teardown, .timeout = 30);

static long long int_cmd(const char *fmt, const char *arg)
{
    redisReply *r = pa_redis_cmd(cli, fmt, arg);
    cr_assert(r && (r->type == REDIS_REPLY_INTEGER || r->type == REDIS_REPLY_STRING), "%s %s: %s",
              fmt, arg, r && r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
    long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : r->integer;
    freeReplyObject(r);
    return v;
}

#define KEY "pa:llm:rl:openai:127.0.0.1:9:m"
#define T0 1700000000000ull

/* Waits are whole ms, rounded up from floating-point arithmetic: equal within 1 ms. */
#define near(got, want, ...)                                                                       \
    do {                                                                                           \
        long g_ = (got), w_ = (want);                                                              \
        cr_assert(g_ >= w_ && g_ <= w_ + 1, "got %ld, want %ld: " __VA_ARGS__, g_, w_);            \
    } while (0)

/* An answer of a non-blocking call. */
typedef struct {
    int called;
    long long v;
    char *s; /* NULL: none */
} got_t;

static void got_int(long long v, void *ud)
{
    got_t *g = ud;
    g->called++;
    g->v = v;
}

static void got_str(const char *v, size_t len, void *ud)
{
    got_t *g = ud;
    g->called++;
    g->s = v ? strndup(v, len) : NULL;
}

static void got_reply(redisReply *r, void *ud)
{
    got_t *g = ud;
    g->called++;
    g->v = r != NULL;
}

static void wait_for(got_t *g)
{
    cr_assert_eq(g->called, 0, "answered inside the call");
    uint64_t end = rf_now_ms() + 5000;
    while (!g->called && rf_now_ms() < end) pa_loop_run_once(loop, 20);
    cr_assert_eq(g->called, 1, "no answer");
}

/* Waits until what was sent before on the non-blocking connection has been done. */
static void settle(void)
{
    got_t g = {0};
    pa_aredis_cmd(acli, got_reply, &g, "PING");
    wait_for(&g);
    cr_assert(g.v, "redis: %s", pa_aredis_errstr(acli));
}

static long take(const llm_rate_cfg_t *c, long tokens, uint64_t at)
{
    got_t g = {0};
    llm_rate_take(acli, "pa:", KEY, c, tokens, T0 + at, got_int, &g);
    wait_for(&g);
    cr_assert_geq(g.v, 0, "redis: %s", pa_aredis_errstr(acli));
    return (long)g.v;
}

static void adjust(const llm_rate_cfg_t *c, long tokens, uint64_t at)
{
    llm_rate_adjust(acli, "pa:", KEY, c, tokens, T0 + at);
    settle();
}

/* The cached value (caller frees) or NULL. */
static char *cache_get(const char *key)
{
    got_t g = {0};
    llm_cache_get(acli, "pa:", key, got_str, &g);
    wait_for(&g);
    return g.s;
}

static void cache_put(const char *key, const char *value, long ttl_s)
{
    llm_cache_put(acli, key, value, ttl_s);
    settle();
}

static long long job_tokens(const char *job)
{
    got_t g = {0};
    llm_job_tokens(acli, "pa:", job, got_int, &g);
    wait_for(&g);
    return g.v;
}

Test(llm_redis, rate_key_names_provider_host_and_model)
{
    pa_buf_t b = PA_BUF_INIT;
    llm_rate_key("pa:", "openai", "https://user:pw@api.example.com:8443/v1/chat/completions",
                 "gpt-4o-mini", &b);
    cr_assert_str_eq(b.data, "pa:llm:rl:openai:api.example.com:8443:gpt-4o-mini");
    pa_buf_free(&b);
}

Test(llm_redis, requests_per_minute_burst_then_refill)
{
    llm_rate_cfg_t c = {.rpm = 60, .tpm = 0, .burst_s = 2}; /* 1 a second, 2 at once */
    cr_assert_eq(take(&c, 100, 0), 0);
    cr_assert_eq(take(&c, 100, 0), 0);
    near(take(&c, 100, 0), 1000, "empty: one request refills in 1 s");
    near(take(&c, 100, 400), 600, "the wait shrinks as time passes");
    cr_assert_eq(take(&c, 100, 1000), 0);
    near(take(&c, 100, 1000), 1000, "");
    /* a long pause refills to the burst, not more */
    cr_assert_eq(take(&c, 100, 60000), 0);
    cr_assert_eq(take(&c, 100, 60000), 0);
    cr_assert_gt(take(&c, 100, 60000), 0);
    long long ttl = int_cmd("PTTL %s", KEY);
    cr_assert(ttl > 1000 && ttl <= 3000, "expires once full again: %lld ms", ttl);
}

Test(llm_redis, a_small_rate_still_allows_one_request)
{
    llm_rate_cfg_t c = {.rpm = 6, .tpm = 0, .burst_s = 1}; /* 0.1 a second: bucket of 1 */
    cr_assert_eq(take(&c, 1, 0), 0);
    near(take(&c, 1, 0), 10000, "");
}

Test(llm_redis, tokens_per_minute_with_corrections)
{
    llm_rate_cfg_t c = {.rpm = 0, .tpm = 600, .burst_s = 1}; /* 10 tokens a second, 10 at once */
    cr_assert_eq(take(&c, 4, 0), 0);
    cr_assert_eq(take(&c, 4, 0), 0);
    near(take(&c, 4, 0), 200, "2 left, 4 wanted: 200 ms");
    /* the first call used 1 token, not 4: 3 back */
    adjust(&c, 3, 0);
    cr_assert_eq(take(&c, 4, 0), 0);
    /* a call that used 5 more than it reserved */
    adjust(&c, -5, 0);
    near(take(&c, 1, 0), 500, "-4 left: 5 tokens to wait for");
    /* corrections never fill past the bucket */
    adjust(&c, 1000, 1000);
    cr_assert_eq(take(&c, 10, 1000), 0);
    near(take(&c, 1, 1000), 100, "");
}

Test(llm_redis, a_call_larger_than_the_bucket_goes_when_it_is_full)
{
    llm_rate_cfg_t c = {.rpm = 0, .tpm = 600, .burst_s = 1}; /* bucket of 10 tokens */
    cr_assert_eq(take(&c, 5, 0), 0);
    near(take(&c, 25, 0), 500, "waits for a full bucket, not for 25 tokens");
    cr_assert_eq(take(&c, 25, 500), 0, "full: goes, leaving the bucket 15 in debt");
    near(take(&c, 1, 500), 1600, "");
}

Test(llm_redis, both_limits_the_longer_wait_wins)
{
    llm_rate_cfg_t c = {.rpm = 120, .tpm = 600, .burst_s = 1}; /* 2 requests, 10 tokens */
    cr_assert_eq(take(&c, 8, 0), 0);
    near(take(&c, 8, 0), 600, "a request left, 2 tokens: the tokens' wait");
    cr_assert_eq(take(&c, 1, 0), 0);
    near(take(&c, 1, 0), 500, "no request left, 1 token: the requests' wait");
}

Test(llm_redis, cache_hits_and_misses_are_counted_and_values_bounded)
{
    char k1[LLM_CACHE_KEY_MAX], k2[LLM_CACHE_KEY_MAX], k3[LLM_CACHE_KEY_MAX];
    cr_assert_eq(llm_cache_key("pa:", "openai", "http://h/v1/chat/completions", "compose",
                               "{\"a\":1}", 7, k1, sizeof k1),
                 0);
    cr_assert_eq(strlen(k1), strlen("pa:llm:cache:") + 64, "%s", k1);
    cr_assert_eq(strncmp(k1, "pa:llm:cache:", 13), 0, "%s", k1);
    llm_cache_key("pa:", "openai", "http://h/v1/chat/completions", "compose", "{\"a\":1}", 7, k2,
                  sizeof k2);
    cr_assert_str_eq(k1, k2, "the same request, the same key");
    llm_cache_key("pa:", "anthropic", "http://h/v1/chat/completions", "compose", "{\"a\":1}", 7, k3,
                  sizeof k3);
    cr_assert_str_neq(k1, k3, "another provider, another key");
    llm_cache_key("pa:", "openai", "http://h/v1/chat/completions", "generate", "{\"a\":1}", 7, k3,
                  sizeof k3);
    cr_assert_str_neq(k1, k3, "another stage, another key");
    llm_cache_key("pa:", "openai", "http://h/v1/chat/completions", "compose", "{\"a\":2}", 7, k3,
                  sizeof k3);
    cr_assert_str_neq(k1, k3, "another body, another key");
    char small[20];
    cr_assert_eq(llm_cache_key("pa:", "o", "e", "s", "b", 1, small, sizeof small), -1);

    char *none = cache_get(k1);
    cr_assert_null(none);
    cache_put(k1, "{\"text\":\"hi\"}", 60);
    char *v = cache_get(k1);
    cr_assert_str_eq(v ? v : "(null)", "{\"text\":\"hi\"}");
    free(v);
    long long ttl = int_cmd("TTL %s", k1);
    cr_assert(ttl > 50 && ttl <= 60, "TTL %lld", ttl);
    cr_assert_eq(int_cmd("GET %s", "pa:llm:cache:hits"), 1);
    cr_assert_eq(int_cmd("GET %s", "pa:llm:cache:misses"), 1);
    /* too large: not stored; ttl 0: not stored */
    char *big = malloc(LLM_CACHE_MAX_VALUE + 2);
    memset(big, 'x', LLM_CACHE_MAX_VALUE + 1);
    big[LLM_CACHE_MAX_VALUE + 1] = '\0';
    cache_put(k2 /* same as k1 */, big, 60);
    free(big);
    v = cache_get(k1);
    cr_assert_str_eq(v ? v : "(null)", "{\"text\":\"hi\"}", "the large value did not replace it");
    free(v);
    cache_put(k3, "x", 0);
    cr_assert_eq(int_cmd("EXISTS %s", k3), 0);
}

Test(llm_redis, job_tokens_sum_prompt_and_completion)
{
    cr_assert_eq(job_tokens("j-1"), 0, "no job: nothing used");
    freeReplyObject(pa_redis_cmd(cli, "HSET pa:job:j-1 tokens_prompt 120 tokens_completion 30"));
    cr_assert_eq(job_tokens("j-1"), 150);
}
