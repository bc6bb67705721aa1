/* REDIS_SENTINELS and REDIS_MASTER_NAME (common/pa_sentinel.c): the list's forms and errors, the
 * masked URL for logs, the answers that mean "not the master", and both clients refusing what
 * they cannot do with sentinels. The failover itself runs against real sentinels in
 * tests/integration/test_redis_sentinel.c. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "pa_aredis.h"
#include "pa_loop.h"
#include "pa_redis.h"
#include "pa_sentinel.h"

static void env_clear(void)
{
    unsetenv("REDIS_SENTINELS");
    unsetenv("REDIS_MASTER_NAME");
    unsetenv("REDIS_SENTINEL_PASSWORD");
}

TestSuite(sentinel, .init = env_clear, .fini = env_clear);

Test(sentinel, lists_are_parsed_and_shown_without_passwords)
{
    char err[256] = "";
    pa_sentinel_t *s = pa_sentinel_new(" 10.0.0.1:26379, [::1]:26380 ,sentinel-3.internal:26381",
                                       "pa", "sentinel-secret", err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    char *u = pa_sentinel_url_safe(s, "pa-gateway", 1, 2);
    cr_expect_str_eq(u, "redis-sentinel://pa-gateway:***@10.0.0.1:26379,[::1]:26380,"
                        "sentinel-3.internal:26381/2#pa");
    cr_expect_null(strstr(u, "secret"));
    free(u);
    pa_sentinel_free(&s);
    cr_expect_null(s);
}

Test(sentinel, bad_lists_and_a_missing_master_name_are_refused_by_name)
{
    const char *bad[] = {"",         "127.0.0.1",       "127.0.0.1:", "127.0.0.1:0",
                         ":26379",   "127.0.0.1:65536", "[::1:26379", "::1:26379",
                         "a:1,,b:2", "h:26379x",        "h/x:26379",  "h:123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        pa_sentinel_t *s = pa_sentinel_new(bad[i], "pa", NULL, err, sizeof err);
        cr_expect_null(s, "\"%s\" accepted", bad[i]);
        pa_sentinel_free(&s);
        cr_expect_not_null(strstr(err, "REDIS_SENTINELS"), "\"%s\": %s", bad[i], err);
    }
    char err[256] = "";
    pa_sentinel_t *s = pa_sentinel_new("127.0.0.1:26379", NULL, NULL, err, sizeof err);
    cr_expect_null(s);
    cr_expect_not_null(strstr(err, "REDIS_MASTER_NAME"), "%s", err);
    s = pa_sentinel_new("127.0.0.1:26379", "two words", NULL, err, sizeof err);
    cr_expect_null(s);
    cr_expect_not_null(strstr(err, "REDIS_MASTER_NAME"), "%s", err);
}

Test(sentinel, unset_means_no_sentinels)
{
    char err[256] = "";
    pa_sentinel_t *s = (pa_sentinel_t *)1;
    cr_assert_eq(pa_sentinel_from_env(&s, err, sizeof err), 0);
    cr_expect_null(s);
    setenv("REDIS_SENTINELS", "127.0.0.1:26379", 1);
    cr_assert_eq(pa_sentinel_from_env(&s, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "REDIS_MASTER_NAME"), "%s", err);
}

Test(sentinel, both_clients_refuse_tls_and_unix_urls_with_sentinels)
{
    setenv("REDIS_SENTINELS", "127.0.0.1:26379", 1);
    setenv("REDIS_MASTER_NAME", "pa", 1);
    char err[256] = "";
    const char *urls[] = {"rediss://127.0.0.1/0", "unix:///tmp/redis.sock"};
    pa_loop_t *l = pa_loop_new(err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    for (size_t i = 0; i < 2; i++) {
        err[0] = '\0';
        pa_redis_t *r = pa_redis_new(urls[i], 500, err, sizeof err);
        cr_expect_null(r, "%s accepted", urls[i]);
        pa_redis_destroy(&r);
        cr_expect_not_null(strstr(err, "REDIS_SENTINELS"), "%s: %s", urls[i], err);
        err[0] = '\0';
        pa_aredis_t *a = pa_aredis_new(l, urls[i], 500, err, sizeof err);
        cr_expect_null(a, "%s accepted (async)", urls[i]);
        pa_aredis_destroy(&a);
        cr_expect_not_null(strstr(err, "REDIS_SENTINELS"), "%s: %s", urls[i], err);
    }
    pa_loop_destroy(&l);
}

Test(sentinel, no_sentinel_reachable_is_a_null_answer_with_the_reason)
{
    /* port 1 on loopback: nothing listens (connection refused at once) */
    setenv("REDIS_SENTINELS", "127.0.0.1:1,127.0.0.1:2", 1);
    setenv("REDIS_MASTER_NAME", "pa", 1);
    char err[256] = "";
    pa_redis_t *r = pa_redis_new("redis://:pw@ignored-host/3", 500, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_expect_str_eq(pa_redis_url_safe(r), "redis-sentinel://***@127.0.0.1:1,127.0.0.1:2/3#pa");
    redisReply *rep = pa_redis_cmd(r, "PING");
    cr_expect_null(rep);
    if (rep) freeReplyObject(rep);
    cr_expect_not_null(strstr(pa_redis_errstr(r), "no sentinel gave master \"pa\""), "%s",
                       pa_redis_errstr(r));
    cr_expect_not_null(strstr(pa_redis_errstr(r), "127.0.0.1:2"), "%s", pa_redis_errstr(r));
    pa_redis_destroy(&r);
}

Test(sentinel, answers_that_mean_not_the_master)
{
    /* a replica: ask the sentinels at once (2); down or loading: after the backoff (1) */
    cr_expect_eq(pa_redis_err_not_master("READONLY You can't write against a read only replica."),
                 2);
    cr_expect_eq(pa_redis_err_not_master("MASTERDOWN Link with MASTER is down"), 1);
    cr_expect_eq(pa_redis_err_not_master("LOADING Redis is loading the dataset in memory"), 1);
    cr_expect_not(pa_redis_err_not_master("NOSCRIPT No matching script"));
    cr_expect_not(pa_redis_err_not_master("ERR wrong number of arguments"));
    cr_expect_not(pa_redis_err_not_master(NULL));

    redisReply s = {.type = REDIS_REPLY_STRING, .str = "slave", .len = 5};
    redisReply m = {.type = REDIS_REPLY_STRING, .str = "master", .len = 6};
    redisReply *es[] = {&s}, *em[] = {&m};
    redisReply slave = {.type = REDIS_REPLY_ARRAY, .elements = 1, .element = es};
    redisReply master = {.type = REDIS_REPLY_ARRAY, .elements = 1, .element = em};
    redisReply noperm = {.type = REDIS_REPLY_ERROR, .str = "NOPERM", .len = 6};
    char role[32];
    cr_expect_eq(pa_redis_role_is_master(&master, role, sizeof role), 1);
    cr_expect_eq(pa_redis_role_is_master(&slave, role, sizeof role), 0);
    cr_expect_str_eq(role, "slave");
    cr_expect_eq(pa_redis_role_is_master(&noperm, role, sizeof role), -1);
    cr_expect_eq(pa_redis_role_is_master(NULL, role, sizeof role), -1);
}
