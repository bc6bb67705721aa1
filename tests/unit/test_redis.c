/* pa_redis against a real redis-server (started per test on a free port, see redis_fixture.h):
 * commands, error replies, pipelining, Lua scripts with the NOSCRIPT fallback, databases, AUTH,
 * URL parsing, behaviour while Redis is down or hung, and reconnecting by itself. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "pa_redis.h"
#include "redis_fixture.h"

static rf_redis_t srv = RF_REDIS_INIT;
static pa_redis_t *cli;

static void start_server(void)
{
    char err[512];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
}

static pa_redis_t *connect_db(int db, int timeout_ms)
{
    char url[200], err[256] = "";
    rf_redis_url(&srv, db, url, sizeof url);
    pa_redis_t *r = pa_redis_new(url, timeout_ms, err, sizeof err);
    cr_assert_not_null(r, "pa_redis_new(%s): %s", url, err);
    return r;
}

static void setup(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    start_server();
    cli = connect_db(0, 1000);
}

static void setup_auth(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    strcpy(srv.password, "s3cr3t-pw");
    start_server();
    cli = NULL;
}

static void teardown(void)
{
    pa_redis_destroy(&cli);
    rf_redis_cleanup(&srv);
}

TestSuite(redis, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(redis_auth, .init = setup_auth, .fini = teardown, .timeout = 30);
TestSuite(redis_url);

/* Runs a command and asserts a reply of the given type; returns it (caller frees). */
static redisReply *must(redisReply *rep, int type, const char *what)
{
    cr_assert_not_null(rep, "%s: no reply (%s)", what, pa_redis_errstr(cli));
    cr_assert_eq(rep->type, type, "%s: reply type %d, want %d (%s)", what, rep->type, type,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    return rep;
}

static void expect_str(redisReply *rep, const char *want, const char *what)
{
    cr_assert_not_null(rep, "%s: no reply (%s)", what, pa_redis_errstr(cli));
    cr_assert(rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS,
              "%s: reply type %d", what, rep->type);
    cr_assert_str_eq(rep->str, want, "%s", what);
    freeReplyObject(rep);
}

static void expect_int(redisReply *rep, long long want, const char *what)
{
    must(rep, REDIS_REPLY_INTEGER, what);
    cr_assert_eq(rep->integer, want, "%s: %lld, want %lld", what, rep->integer, want);
    freeReplyObject(rep);
}

/* ---- commands ----------------------------------------------------------------------------- */

Test(redis, commands_round_trip)
{
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING");
    cr_assert(pa_redis_connected(cli));
    expect_str(pa_redis_cmd(cli, "SET %s %s", "greeting", "hello world"), "OK", "SET");
    expect_str(pa_redis_cmd(cli, "GET %s", "greeting"), "hello world", "GET");
    expect_int(pa_redis_cmd(cli, "INCRBY counter %d", 41), 41, "INCRBY");
    expect_int(pa_redis_cmd(cli, "INCR counter"), 42, "INCR");
    redisReply *rep = must(pa_redis_cmd(cli, "GET %s", "missing"), REDIS_REPLY_NIL, "GET missing");
    freeReplyObject(rep);
    expect_int(pa_redis_cmd(cli, "DEL greeting counter"), 2, "DEL");
}

Test(redis, argv_is_binary_safe)
{
    const char val[] = "a\0b\r\n\"c\" Müller";
    const char *argv[] = {"SET", "bin key", val};
    size_t lens[] = {3, 7, sizeof val - 1};
    expect_str(pa_redis_argv(cli, 3, argv, lens), "OK", "SET binary");
    const char *get[] = {"GET", "bin key"};
    size_t glens[] = {3, 7};
    redisReply *rep = must(pa_redis_argv(cli, 2, get, glens), REDIS_REPLY_STRING, "GET binary");
    cr_assert_eq(rep->len, sizeof val - 1);
    cr_assert_eq(memcmp(rep->str, val, sizeof val - 1), 0);
    freeReplyObject(rep);
}

Test(redis, error_reply_is_a_reply_not_null)
{
    expect_str(pa_redis_cmd(cli, "SET s notanumber"), "OK", "SET");
    redisReply *rep = must(pa_redis_cmd(cli, "INCR s"), REDIS_REPLY_ERROR, "INCR on a string");
    cr_assert_not_null(strstr(rep->str, "not an integer"), "%s", rep->str);
    freeReplyObject(rep);
    cr_assert(pa_redis_connected(cli), "an error reply must not drop the connection");
    cr_assert(strlen(pa_redis_errstr(cli)) > 0, "errstr does not tell about the error reply");
    rep = must(pa_redis_cmd(cli, "NOSUCHCOMMAND x"), REDIS_REPLY_ERROR, "unknown command");
    freeReplyObject(rep);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING after errors");
}

Test(redis, pipelining_returns_replies_in_order)
{
    enum { N = 500 };
    for (int i = 0; i < N; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        const char *argv[] = {"RPUSH", "list", v};
        cr_assert_eq(pa_redis_append(cli, 3, argv, NULL), 0, "append %d failed", i);
    }
    const char *incr[] = {"INCR", "n"};
    cr_assert_eq(pa_redis_append(cli, 2, incr, NULL), 0);
    for (int i = 0; i < N; i++) {
        redisReply *rep = pa_redis_get_reply(cli);
        expect_int(rep, i + 1, "RPUSH reply");
    }
    expect_int(pa_redis_get_reply(cli), 1, "INCR reply after the RPUSHes");
    expect_int(pa_redis_cmd(cli, "LLEN list"), N, "LLEN");
    redisReply *rep =
        must(pa_redis_cmd(cli, "LINDEX list %d", N - 1), REDIS_REPLY_STRING, "LINDEX");
    cr_assert_str_eq(rep->str, "499");
    freeReplyObject(rep);
}

Test(redis, selects_the_database_of_the_url)
{
    pa_redis_t *db3 = connect_db(3, 1000);
    redisReply *rep = pa_redis_cmd(db3, "SET only-in-3 yes");
    cr_assert_not_null(rep);
    freeReplyObject(rep);
    rep = pa_redis_cmd(cli, "EXISTS only-in-3");
    expect_int(rep, 0, "key of db 3 visible in db 0");
    rep = pa_redis_cmd(db3, "EXISTS only-in-3");
    cr_assert_not_null(rep);
    cr_assert_eq(rep->integer, 1);
    freeReplyObject(rep);
    pa_redis_destroy(&db3);
    cr_assert_null(db3, "destroy does not clear the pointer");
}

/* ---- scripts ------------------------------------------------------------------------------ */

static pa_script_t concat = PA_SCRIPT("return KEYS[1] .. ':' .. ARGV[1] .. ':' .. #ARGV");
static pa_script_t incr_by = PA_SCRIPT("return redis.call('INCRBY', KEYS[1], ARGV[1])");

static void expect_concat(pa_redis_t *r, const char *key, const char *arg, const char *want)
{
    const char *argv[] = {key, arg};
    redisReply *rep = pa_redis_eval(r, &concat, 1, 2, argv, NULL);
    cr_assert_not_null(rep, "eval: no reply (%s)", pa_redis_errstr(r));
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "eval: type %d %s", rep->type,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    cr_assert_str_eq(rep->str, want);
    freeReplyObject(rep);
}

Test(redis, eval_runs_a_script_with_keys_and_args)
{
    expect_concat(cli, "k", "v", "k:v:1");
    cr_assert(atomic_load(&concat.have_sha), "the SHA was not learnt");
    cr_assert_eq(strlen(concat.sha), 40);
    redisReply *rep = pa_redis_cmd(cli, "SCRIPT EXISTS %s", concat.sha);
    cr_assert(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1);
    cr_assert_eq(rep->element[0]->integer, 1, "the learnt SHA is not the script's");
    freeReplyObject(rep);
    expect_concat(cli, "k2", "v2", "k2:v2:1"); /* second run, by EVALSHA */
}

Test(redis, eval_falls_back_after_script_flush)
{
    expect_concat(cli, "a", "1", "a:1:1");
    redisReply *rep = pa_redis_cmd(cli, "SCRIPT FLUSH");
    expect_str(rep, "OK", "SCRIPT FLUSH");
    rep = pa_redis_cmd(cli, "SCRIPT EXISTS %s", concat.sha);
    cr_assert_eq(rep->element[0]->integer, 0, "flush did not flush");
    freeReplyObject(rep);
    /* EVALSHA now answers NOSCRIPT: the client must fall back, not return the error */
    expect_concat(cli, "b", "2", "b:2:1");
    expect_concat(cli, "c", "3", "c:3:1");
    const char *argv[] = {"ctr", "5"};
    for (int i = 1; i <= 3; i++) {
        rep = pa_redis_eval(cli, &incr_by, 1, 2, argv, NULL);
        expect_int(rep, 5 * i, "INCRBY script");
        if (i == 1) freeReplyObject(pa_redis_cmd(cli, "SCRIPT FLUSH"));
    }
}

Test(redis, eval_after_redis_restart_loses_script_cache)
{
    expect_concat(cli, "a", "1", "a:1:1");
    rf_redis_stop(&srv);
    start_server();
    /* the first command may fail (old connection), then it reconnects and NOSCRIPT falls back */
    uint64_t deadline = rf_now_ms() + 3000;
    redisReply *rep = NULL;
    const char *argv[] = {"x", "y"};
    while (!rep && rf_now_ms() < deadline) {
        rep = pa_redis_eval(cli, &concat, 1, 2, argv, NULL);
        if (!rep) rf_sleep_ms(20);
    }
    cr_assert_not_null(rep, "no reply within 3 s of the restart: %s", pa_redis_errstr(cli));
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "type %d: %s", rep->type,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    cr_assert_str_eq(rep->str, "x:y:1");
    freeReplyObject(rep);
}

Test(redis, script_error_is_an_error_reply)
{
    static pa_script_t bad = PA_SCRIPT("return redis.call('INCR', KEYS[1])");
    freeReplyObject(pa_redis_cmd(cli, "SET str abc"));
    const char *argv[] = {"str"};
    redisReply *rep = pa_redis_eval(cli, &bad, 1, 1, argv, NULL);
    must(rep, REDIS_REPLY_ERROR, "script on a non-integer");
    freeReplyObject(rep);
    cr_assert(pa_redis_connected(cli));
}

Test(redis, eval_with_many_args_and_binary_values)
{
    static pa_script_t count = PA_SCRIPT("local n = 0 for i, v in ipairs(ARGV) do n = n + #v end "
                                         "return {#KEYS, #ARGV, n}");
    enum { N = 100 }; /* more than the 32-entry stack argv */
    const char *argv[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) argv[i] = "a\0b", lens[i] = 3;
    redisReply *rep = pa_redis_eval(cli, &count, 2, N, argv, lens);
    must(rep, REDIS_REPLY_ARRAY, "eval");
    cr_assert_eq(rep->elements, 3);
    cr_assert_eq(rep->element[0]->integer, 2);
    cr_assert_eq(rep->element[1]->integer, N - 2);
    cr_assert_eq(rep->element[2]->integer, 3 * (N - 2));
    freeReplyObject(rep);
}

Test(redis, pipelined_evalsha)
{
    static pa_script_t add = PA_SCRIPT("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    cr_assert_eq(pa_redis_script_load(cli, &add), 0);
    cr_assert(atomic_load(&add.have_sha));
    for (int i = 0; i < 50; i++) {
        const char *argv[] = {"sum", "2"};
        cr_assert_eq(pa_redis_append_evalsha(cli, &add, 1, 2, argv, NULL), 0);
    }
    for (int i = 0; i < 50; i++) expect_int(pa_redis_get_reply(cli), 2 * (i + 1), "EVALSHA");
}

typedef struct {
    char url[200];
    int ok;
} thread_arg_t;

static pa_script_t shared = PA_SCRIPT("return redis.call('INCR', KEYS[1])");

static void *script_worker(void *p)
{
    thread_arg_t *a = p;
    char err[256];
    pa_redis_t *r = pa_redis_new(a->url, 1000, err, sizeof err);
    if (!r) return NULL;
    for (int i = 0; i < 200; i++) {
        const char *argv[] = {"shared-counter"};
        redisReply *rep = pa_redis_eval(r, &shared, 1, 1, argv, NULL);
        if (rep && rep->type == REDIS_REPLY_INTEGER) a->ok++;
        if (rep) freeReplyObject(rep);
    }
    pa_redis_destroy(&r);
    return NULL;
}

Test(redis, one_script_shared_by_threads)
{
    enum { T = 4 };
    pthread_t th[T];
    thread_arg_t args[T];
    for (int i = 0; i < T; i++) {
        memset(&args[i], 0, sizeof args[i]);
        rf_redis_url(&srv, 0, args[i].url, sizeof args[i].url);
        pthread_create(&th[i], NULL, script_worker, &args[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < T; i++)
        cr_assert_eq(args[i].ok, 200, "thread %d: %d of 200", i, args[i].ok);
    redisReply *rep = pa_redis_cmd(cli, "GET shared-counter");
    cr_assert_str_eq(rep->str, "800");
    freeReplyObject(rep);
}

/* ---- Redis down, hung, restarted ---------------------------------------------------------- */

Test(redis, command_while_down_returns_null_quickly)
{
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING");
    rf_redis_stop(&srv);
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = rf_now_ms();
        redisReply *rep = pa_redis_cmd(cli, "PING");
        uint64_t dt = rf_now_ms() - t0;
        cr_assert_null(rep, "call %d got a reply from a stopped redis", i);
        cr_assert_lt(dt, 250, "call %d took %llu ms with redis down", i, (unsigned long long)dt);
        cr_assert_not(pa_redis_connected(cli));
        cr_assert(strlen(pa_redis_errstr(cli)) > 0, "no reason given");
        rf_sleep_ms(10);
    }
    /* pipelining too */
    const char *argv[] = {"PING"};
    cr_assert_eq(pa_redis_append(cli, 1, argv, NULL), -1);
    cr_assert_null(pa_redis_get_reply(cli));
}

Test(redis, reconnects_by_itself_after_restart)
{
    expect_str(pa_redis_cmd(cli, "SET before restart"), "OK", "SET");
    rf_redis_stop(&srv);
    /* keep failing for 2.5 s so the backoff reaches its maximum */
    uint64_t until = rf_now_ms() + 2500;
    while (rf_now_ms() < until) {
        redisReply *rep = pa_redis_cmd(cli, "PING");
        cr_assert_null(rep);
        rf_sleep_ms(25);
    }
    start_server(); /* same port */
    uint64_t t0 = rf_now_ms();
    redisReply *rep = NULL;
    while (!rep && rf_now_ms() - t0 < 3000) {
        rep = pa_redis_cmd(cli, "PING");
        if (!rep) rf_sleep_ms(20);
    }
    uint64_t dt = rf_now_ms() - t0;
    cr_assert_not_null(rep, "no reconnect within 3 s of the restart: %s", pa_redis_errstr(cli));
    cr_assert_str_eq(rep->str, "PONG");
    freeReplyObject(rep);
    cr_assert(pa_redis_connected(cli));
    cr_assert_leq(dt, 3000, "reconnect took %llu ms", (unsigned long long)dt);
    /* back to normal: the backoff is reset, commands work at once */
    expect_str(pa_redis_cmd(cli, "SET after restart"), "OK", "SET after reconnect");
}

Test(redis, not_up_at_creation_is_not_an_error)
{
    int port = rf_free_port();
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    pa_redis_t *r = pa_redis_new(url, 500, err, sizeof err);
    cr_assert_not_null(r, "a Redis that is down must not fail pa_redis_new: %s", err);
    cr_assert_null(pa_redis_cmd(r, "PING"));
    cr_assert_not(pa_redis_connected(r));
    /* bring a redis up on that port: the client finds it */
    rf_redis_t late = RF_REDIS_INIT;
    late.port = port;
    if (rf_redis_start(&late, err, sizeof err) < 0) {
        pa_redis_destroy(&r);
        cr_assert_fail("%s", err);
    }
    uint64_t t0 = rf_now_ms();
    redisReply *rep = NULL;
    while (!rep && rf_now_ms() - t0 < 3000) {
        rep = pa_redis_cmd(r, "PING");
        if (!rep) rf_sleep_ms(20);
    }
    int ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep) freeReplyObject(rep);
    pa_redis_destroy(&r);
    rf_redis_cleanup(&late);
    cr_assert(ok, "did not connect within 3 s of redis coming up");
}

Test(redis, hung_redis_times_out)
{
    pa_redis_t *r = connect_db(0, 300);
    redisReply *rep = pa_redis_cmd(r, "PING");
    cr_assert_not_null(rep);
    freeReplyObject(rep);
    kill(srv.pid, SIGSTOP);
    uint64_t t0 = rf_now_ms();
    rep = pa_redis_cmd(r, "PING");
    uint64_t dt = rf_now_ms() - t0;
    kill(srv.pid, SIGCONT);
    if (rep) freeReplyObject(rep);
    cr_assert_null(rep, "got a reply from a stopped process");
    cr_assert_lt(dt, 1500, "a 300 ms timeout took %llu ms", (unsigned long long)dt);
    cr_assert_geq(dt, 250, "returned after %llu ms, before the timeout", (unsigned long long)dt);
    /* once redis runs again the client recovers by itself */
    uint64_t t1 = rf_now_ms();
    rep = NULL;
    while (!rep && rf_now_ms() - t1 < 3000) {
        rep = pa_redis_cmd(r, "PING");
        if (!rep) rf_sleep_ms(20);
    }
    int ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep) freeReplyObject(rep);
    pa_redis_destroy(&r);
    cr_assert(ok, "no recovery within 3 s after SIGCONT");
}

/* ---- AUTH --------------------------------------------------------------------------------- */

Test(redis_auth, password_in_url_authenticates)
{
    char url[200], err[256] = "";
    rf_redis_url(&srv, 0, url, sizeof url);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    expect_str(pa_redis_cmd(cli, "SET k v"), "OK", "SET with AUTH");
    expect_str(pa_redis_cmd(cli, "GET k"), "v", "GET with AUTH");
    const char *safe = pa_redis_url_safe(cli);
    cr_assert_null(strstr(safe, "s3cr3t-pw"), "url_safe shows the password: %s", safe);
    cr_assert_not_null(strstr(safe, "127.0.0.1"), "url_safe lost the host: %s", safe);
}

Test(redis_auth, password_and_db_in_url)
{
    char url[200], err[256] = "";
    rf_redis_url(&srv, 5, url, sizeof url);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    expect_str(pa_redis_cmd(cli, "SET in5 yes"), "OK", "SET");
    redisContext *c = redisConnect("127.0.0.1", srv.port);
    freeReplyObject(redisCommand(c, "AUTH s3cr3t-pw"));
    redisReply *rep = redisCommand(c, "EXISTS in5");
    long long in0 = rep->integer;
    freeReplyObject(rep);
    freeReplyObject(redisCommand(c, "SELECT 5"));
    rep = redisCommand(c, "EXISTS in5");
    long long in5 = rep->integer;
    freeReplyObject(rep);
    redisFree(c);
    cr_assert_eq(in0, 0, "written to db 0 instead of db 5");
    cr_assert_eq(in5, 1, "not written to db 5");
}

Test(redis_auth, wrong_password_fails_with_a_reason)
{
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    uint64_t t0 = rf_now_ms();
    redisReply *rep = pa_redis_cmd(cli, "PING");
    cr_assert_null(rep, "a command with a wrong password got a reply");
    cr_assert_lt(rf_now_ms() - t0, 500);
    cr_assert_not(pa_redis_connected(cli));
    cr_assert_not_null(strstr(pa_redis_errstr(cli), "AUTH"), "reason does not mention AUTH: %s",
                       pa_redis_errstr(cli));
}

Test(redis_auth, user_and_password_url)
{
    /* redis://user:password@host (Redis 6 ACL form): the password is the part after ':' */
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://default:s3cr3t-pw@127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING as default:password");
}

Test(redis_auth, no_password_gets_noauth_reply)
{
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli);
    redisReply *rep = pa_redis_cmd(cli, "GET k");
    must(rep, REDIS_REPLY_ERROR, "GET without AUTH");
    cr_assert_not_null(strstr(rep->str, "NOAUTH"), "%s", rep->str);
    freeReplyObject(rep);
}

/* ---- URLs --------------------------------------------------------------------------------- */

Test(redis_url, bad_urls_are_rejected_with_a_message)
{
    const char *bad[] = {
        "",
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis:/127.0.0.1",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:65536",
        "redis://127.0.0.1:-1",
        "redis://127.0.0.1:12ab",
        "redis://127.0.0.1:",
        "redis://127.0.0.1:6379/abc",
        "redis://127.0.0.1:6379/-1",
        "redis://127.0.0.1:6379/1x",
        "unix://",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        pa_redis_t *r = pa_redis_new(bad[i], 1000, err, sizeof err);
        if (r) pa_redis_destroy(&r);
        cr_expect_null(r, "\"%s\" was accepted", bad[i]);
        cr_expect(strlen(err) > 0, "\"%s\": no message", bad[i]);
        cr_expect_not_null(strstr(err, "REDIS_URL"), "\"%s\": message does not name REDIS_URL: %s",
                           bad[i], err);
    }
}

Test(redis_url, good_urls_are_accepted_and_masked)
{
    struct {
        const char *url;
        const char *safe_has;
    } ok[] = {
        {"redis://localhost", "localhost:6379"},
        {"redis://127.0.0.1:6380", "127.0.0.1:6380"},
        {"redis://127.0.0.1:6380/2", "/2"},
        {"redis://:pw@127.0.0.1:6380/0", "127.0.0.1:6380"},
        {"redis://redis.internal:6379/15", "redis.internal"},
        {"unix:///tmp/redis.sock", "/tmp/redis.sock"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char err[256] = "";
        pa_redis_t *r = pa_redis_new(ok[i].url, 1000, err, sizeof err);
        cr_assert_not_null(r, "\"%s\" rejected: %s", ok[i].url, err);
        const char *safe = pa_redis_url_safe(r);
        int has = strstr(safe, ok[i].safe_has) != NULL;
        int leaks = strstr(safe, ":pw@") != NULL;
        char copy[256];
        snprintf(copy, sizeof copy, "%s", safe);
        pa_redis_destroy(&r);
        cr_assert(has, "url_safe of %s is \"%s\"", ok[i].url, copy);
        cr_assert_not(leaks, "url_safe shows the password: %s", copy);
    }
}

/* ---- ACL users ---------------------------------------------------------------------------- */

/* Runs an admin command on the server (AUTH with the default user's password when it has one). */
static void admin(const char **argv, int argc)
{
    redisContext *c = redisConnect("127.0.0.1", srv.port);
    cr_assert(c && !c->err, "admin connection");
    if (srv.password[0]) freeReplyObject(redisCommand(c, "AUTH %s", srv.password));
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    cr_assert(rep && rep->type != REDIS_REPLY_ERROR, "%s: %s", argv[0], rep ? rep->str : "?");
    freeReplyObject(rep);
    redisFree(c);
}

Test(redis_auth, acl_user_in_url_authenticates_as_that_user)
{
    /* a password with characters that must be percent-encoded in a URL: @ : / % */
    const char *setuser[] = {"ACL", "SETUSER", "app", "on", ">p@ss:w/rd%", "~app:*", "+@all"};
    admin(setuser, 7);
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://app:p%%40ss%%3Aw%%2Frd%%25@127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    expect_str(pa_redis_cmd(cli, "ACL WHOAMI"), "app", "ACL WHOAMI");
    expect_str(pa_redis_cmd(cli, "SET app:k v"), "OK", "SET in the user's keys");
    redisReply *rep = pa_redis_cmd(cli, "SET other:k v");
    must(rep, REDIS_REPLY_ERROR, "SET outside the user's keys");
    cr_assert_not_null(strstr(rep->str, "NOPERM"), "%s", rep->str);
    freeReplyObject(rep);
    const char *safe = pa_redis_url_safe(cli);
    cr_assert_not_null(strstr(safe, "app:***@"), "url_safe: %s", safe);
    cr_assert_null(strstr(safe, "p%40ss"), "url_safe shows the password: %s", safe);
}

Test(redis_auth, acl_user_with_a_wrong_password_is_refused)
{
    const char *setuser[] = {"ACL", "SETUSER", "app", "on", ">right", "~*", "+@all"};
    admin(setuser, 7);
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://app:wrong@127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    cr_assert_null(pa_redis_cmd(cli, "PING"));
    cr_assert_not_null(strstr(pa_redis_errstr(cli), "AUTH failed"), "%s", pa_redis_errstr(cli));
    cr_assert_null(strstr(pa_redis_errstr(cli), "wrong"), "the reason shows the password: %s",
                   pa_redis_errstr(cli));
}

Test(redis_auth, password_file_when_the_url_has_none)
{
    char path[PATH_MAX + 16], url[200], err[256] = "";
    snprintf(path, sizeof path, "%s/pw", srv.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("s3cr3t-pw\n", f);
    fclose(f);
    setenv("REDIS_PASSWORD_FILE", path, 1);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING with the password from the file");
    pa_redis_destroy(&cli);
    setenv("REDIS_PASSWORD_FILE", "/nonexistent/pw", 1);
    cli = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_null(cli, "a missing password file was accepted");
    cr_assert_not_null(strstr(err, "REDIS_PASSWORD_FILE"), "%s", err);
    unsetenv("REDIS_PASSWORD_FILE");
}

/* ---- TLS (rediss://) ---------------------------------------------------------------------- */

static char certs[PATH_MAX];

static void tls_start(const char *auth_clients)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    snprintf(certs, sizeof certs, "%s/pa-certs-XXXXXX", rf_tmpdir());
    cr_assert_not_null(mkdtemp(certs));
    char err[512];
    if (rf_tls_make_certs(certs, err, sizeof err) < 0) cr_assert_fail("%s", err);
    snprintf(srv.tls_dir, sizeof srv.tls_dir, "%s", certs);
    srv.tls_auth_clients = auth_clients;
    start_server();
    cli = NULL;
}

static void setup_tls(void)
{
    tls_start(NULL);
}

static void setup_tls_client_certs(void)
{
    tls_start("yes");
}

static void teardown_tls(void)
{
    teardown();
    if (!getenv("PA_KEEP_TMP")) rf_rm_rf(certs);
}

TestSuite(redis_tls, .init = setup_tls, .fini = teardown_tls, .timeout = 60);
TestSuite(redis_tls_client_cert, .init = setup_tls_client_certs, .fini = teardown_tls,
          .timeout = 60);

static void set_ca(const char *file)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", certs, file);
    setenv("REDIS_TLS_CA", path, 1);
}

static pa_redis_t *tls_connect(const char *host, int timeout_ms)
{
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "rediss://%s:%d/0", host, srv.port);
    pa_redis_t *r = pa_redis_new(url, timeout_ms, err, sizeof err);
    cr_assert_not_null(r, "pa_redis_new(%s): %s", url, err);
    return r;
}

Test(redis_tls, commands_pipelines_and_scripts_over_tls)
{
    set_ca("ca.crt");
    cli = tls_connect("127.0.0.1", 2000);
    expect_str(pa_redis_cmd(cli, "SET k %s", "over tls"), "OK", "SET");
    expect_str(pa_redis_cmd(cli, "GET k"), "over tls", "GET");
    /* a value larger than a TLS record, both ways */
    size_t big = 300000;
    char *v = malloc(big);
    memset(v, 'x', big);
    const char *av[] = {"SET", "big", v};
    size_t al[] = {3, 3, big};
    expect_str(pa_redis_argv(cli, 3, av, al), "OK", "SET big");
    redisReply *rep = must(pa_redis_cmd(cli, "GET big"), REDIS_REPLY_STRING, "GET big");
    cr_assert_eq(rep->len, big);
    cr_assert_eq(memcmp(rep->str, v, big), 0);
    freeReplyObject(rep);
    free(v);
    /* pipelining: 1,000 commands out, then 1,000 replies */
    for (int i = 0; i < 1000; i++) {
        const char *inc[] = {"INCR", "n"};
        cr_assert_eq(pa_redis_append(cli, 2, inc, NULL), 0);
    }
    cr_assert_eq(pa_redis_flush(cli), 0);
    for (int i = 1; i <= 1000; i++) expect_int(pa_redis_get_reply(cli), i, "pipelined INCR");
    expect_concat(cli, "key", "arg", "key:arg:1");
    /* a quiet connection: wait_reply gives nothing, without failing */
    cr_assert_null(pa_redis_wait_reply(cli, 50));
    cr_assert(pa_redis_connected(cli));
    const char *safe = pa_redis_url_safe(cli);
    cr_assert_not_null(strstr(safe, "rediss://"), "%s", safe);
}

Test(redis_tls, a_dns_name_in_the_certificate_is_checked)
{
    set_ca("ca.crt");
    cli = tls_connect("localhost", 2000);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING to localhost");
    pa_redis_destroy(&cli);
    /* the server's certificate does not name elsewhere.example */
    setenv("REDIS_TLS_SERVER_NAME", "elsewhere.example", 1);
    cli = tls_connect("127.0.0.1", 2000);
    cr_assert_null(pa_redis_cmd(cli, "PING"), "a certificate for another name was accepted");
    cr_assert_not_null(strstr(pa_redis_errstr(cli), "certificate"), "%s", pa_redis_errstr(cli));
    unsetenv("REDIS_TLS_SERVER_NAME");
}

Test(redis_tls, a_server_signed_by_another_ca_is_refused)
{
    set_ca("other-ca.crt");
    cli = tls_connect("127.0.0.1", 2000);
    uint64_t t0 = rf_now_ms();
    cr_assert_null(pa_redis_cmd(cli, "PING"), "a server signed by an untrusted CA was accepted");
    cr_assert_lt(rf_now_ms() - t0, 1000);
    cr_assert_not_null(strstr(pa_redis_errstr(cli), "certificate"), "%s", pa_redis_errstr(cli));
}

Test(redis_tls, verification_is_on_without_any_setting)
{
    /* no REDIS_TLS_CA: the system's store, which does not hold the test CA */
    unsetenv("REDIS_TLS_CA");
    cli = tls_connect("127.0.0.1", 2000);
    cr_assert_null(pa_redis_cmd(cli, "PING"), "an unverified server was accepted");
    cr_assert_not_null(strstr(pa_redis_errstr(cli), "certificate"), "%s", pa_redis_errstr(cli));
}

Test(redis_tls, bad_tls_settings_are_refused_at_creation)
{
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", srv.port);
    setenv("REDIS_TLS_CA", "/nonexistent/ca.crt", 1);
    pa_redis_t *r = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_null(r);
    cr_assert_not_null(strstr(err, "REDIS_TLS_CA"), "%s", err);
    set_ca("ca.crt");
    char cert[PATH_MAX + 32];
    snprintf(cert, sizeof cert, "%s/client.crt", certs);
    setenv("REDIS_TLS_CERT", cert, 1);
    r = pa_redis_new(url, 1000, err, sizeof err);
    cr_assert_null(r);
    cr_assert_not_null(strstr(err, "REDIS_TLS_KEY"), "%s", err);
}

Test(redis_tls, plain_redis_to_a_tls_port_fails)
{
    char url[200], err[256] = "";
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv.port);
    cli = pa_redis_new(url, 500, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    cr_assert_null(pa_redis_cmd(cli, "PING"));
}

Test(redis_tls, reconnects_over_tls_after_restart)
{
    set_ca("ca.crt");
    cli = tls_connect("127.0.0.1", 1000);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING");
    rf_redis_stop(&srv);
    cr_assert_null(pa_redis_cmd(cli, "PING"));
    start_server();
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
        redisReply *rep = pa_redis_cmd(cli, "PING");
        ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (rep) freeReplyObject(rep);
        if (!ok) rf_sleep_ms(50);
    }
    cr_assert(ok, "no reconnection over TLS: %s", pa_redis_errstr(cli));
}

Test(redis_tls_client_cert, a_client_certificate_is_sent_when_configured)
{
    set_ca("ca.crt");
    cli = tls_connect("127.0.0.1", 2000);
    cr_assert_null(pa_redis_cmd(cli, "PING"), "accepted without a client certificate");
    pa_redis_destroy(&cli);
    char cert[PATH_MAX + 32], key[PATH_MAX + 32];
    snprintf(cert, sizeof cert, "%s/client.crt", certs);
    snprintf(key, sizeof key, "%s/client.key", certs);
    setenv("REDIS_TLS_CERT", cert, 1);
    setenv("REDIS_TLS_KEY", key, 1);
    cli = tls_connect("127.0.0.1", 2000);
    expect_str(pa_redis_cmd(cli, "PING"), "PONG", "PING with a client certificate");
}

Test(redis_url, tls_user_and_ipv6_urls)
{
    pa_redis_url_t u;
    char err[256] = "";
    cr_assert_eq(pa_redis_url_parse("rediss://gw:p%40ss@[::1]:7000/3", &u, err, sizeof err), 0,
                 "%s", err);
    cr_assert(u.tls);
    cr_assert_str_eq(u.user, "gw");
    cr_assert_str_eq(u.password, "p@ss");
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 7000);
    cr_assert_eq(u.db, 3);
    char *safe = pa_redis_url_safe_str(&u, "");
    cr_assert_str_eq(safe, "rediss://gw:***@[::1]:7000/3");
    free(safe);
    pa_redis_url_free(&u);
    /* redis-cli's reading: no ':' means the whole userinfo is the password */
    cr_assert_eq(pa_redis_url_parse("redis://only-pw@h", &u, err, sizeof err), 0);
    cr_assert_null(u.user);
    cr_assert_str_eq(u.password, "only-pw");
    pa_redis_url_free(&u);
    cr_assert_eq(pa_redis_url_parse("redis://u:%zz@h", &u, err, sizeof err), -1);
    cr_assert_eq(pa_redis_url_parse("redis://u:%00@h", &u, err, sizeof err), -1);
    cr_assert_eq(pa_redis_url_parse("rediss://[::1:7000", &u, err, sizeof err), -1);
}
