/* pa_aredis against a real redis-server (redis_fixture.h) on a pa_loop: commands answered from
 * the loop and never inside the call, scripts loaded on NOSCRIPT, a killed Redis failing pending
 * calls with NULL and reconnecting after it restarts, a hung Redis timing out, destroy with
 * pending calls, AUTH and SELECT from the URL. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "pa_aredis.h"
#include "pa_loop.h"
#include "redis_fixture.h"

static rf_redis_t srv = RF_REDIS_INIT;
static pa_loop_t *loop;
static pa_aredis_t *cli;

static pa_aredis_t *connect_db(int db, int timeout_ms)
{
    char url[200], err[256] = "";
    rf_redis_url(&srv, db, url, sizeof url);
    pa_aredis_t *a = pa_aredis_new(loop, url, timeout_ms, err, sizeof err);
    cr_assert_not_null(a, "pa_aredis_new(%s): %s", url, err);
    return a;
}

static void setup(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    char err[512];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    cli = connect_db(0, 1000);
}

static void teardown(void)
{
    pa_aredis_destroy(&cli);
    pa_loop_destroy(&loop);
    rf_redis_cleanup(&srv);
}

TestSuite(aredis, .init = setup, .fini = teardown, .timeout = 60);

/* What a callback saw. */
typedef struct {
    int called;
    int null;
    int type;
    long long integer;
    char str[256];
} seen_t;

static void record(redisReply *r, void *ud)
{
    seen_t *s = ud;
    s->called++;
    s->null = r == NULL;
    if (!r) return;
    s->type = r->type;
    s->integer = r->integer;
    if (r->str) snprintf(s->str, sizeof s->str, "%.*s", (int)r->len, r->str);
}

/* Runs the loop until *done is non-zero or ms pass; 1 when done. */
static int run_until(const int *done, int ms)
{
    uint64_t end = rf_now_ms() + (uint64_t)ms;
    while (!*done && rf_now_ms() < end) pa_loop_run_once(loop, 20);
    return *done != 0;
}

static void wait_seen(seen_t *s, int ms)
{
    cr_assert(run_until(&s->called, ms), "no callback within %d ms", ms);
}

/* PINGs until one is answered (the client reconnects by itself, backoff at most 2 s) or ms
 * pass; the last PING's answer. */
static seen_t ping_until_answered(int ms)
{
    uint64_t end = rf_now_ms() + (uint64_t)ms;
    seen_t again = {0};
    while (rf_now_ms() < end) {
        memset(&again, 0, sizeof again);
        pa_aredis_cmd(cli, record, &again, "PING");
        wait_seen(&again, 3000);
        if (!again.null) break;
        run_until(&(int){0}, 100);
    }
    return again;
}

Test(aredis, commands_are_answered_from_the_loop_not_inside_the_call)
{
    seen_t set = {0}, get = {0}, err = {0};
    cr_assert_eq(pa_aredis_cmd(cli, record, &set, "SET %s %s", "greeting", "hello"), 0);
    cr_assert_eq(pa_aredis_cmd(cli, record, &get, "GET %s", "greeting"), 0);
    cr_assert_eq(pa_aredis_cmd(cli, record, &err, "INCR %s", "greeting"), 0);
    cr_assert_eq(set.called + get.called + err.called, 0, "a callback ran inside the call");
    cr_assert_eq(pa_aredis_pending(cli), 3);
    wait_seen(&err, 3000);
    cr_assert_eq(set.called, 1);
    cr_assert_str_eq(set.str, "OK");
    cr_assert_eq(get.type, REDIS_REPLY_STRING);
    cr_assert_str_eq(get.str, "hello");
    cr_assert_eq(err.type, REDIS_REPLY_ERROR, "an error reply is a reply, not NULL");
    cr_assert(pa_aredis_connected(cli));
    cr_assert_eq(pa_aredis_pending(cli), 0);
}

Test(aredis, argv_is_binary_safe)
{
    const char val[] = "a\0b\r\n Müller";
    const char *argv[] = {"SET", "bin", val};
    size_t lens[] = {3, 3, sizeof val - 1};
    seen_t set = {0}, len = {0};
    pa_aredis_argv(cli, record, &set, 3, argv, lens);
    pa_aredis_cmd(cli, record, &len, "STRLEN bin");
    wait_seen(&len, 3000);
    cr_assert_eq(len.integer, (long long)(sizeof val - 1));
}

typedef struct {
    int answered;
    int order_ok;
    int next;
} order_t;

static void count_in_order(redisReply *r, void *ud)
{
    order_t *o = ud;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == o->next + 1) o->next++;
    else o->order_ok = 0;
    o->answered++;
}

Test(aredis, thousands_of_commands_are_answered_in_order_without_blocking)
{
    enum { N = 5000 };
    order_t o = {0, 1, 0};
    for (int i = 0; i < N; i++) pa_aredis_cmd(cli, count_in_order, &o, "INCR n");
    cr_assert_eq(o.answered, 0);
    uint64_t end = rf_now_ms() + 10000;
    while (o.answered < N && rf_now_ms() < end) pa_loop_run_once(loop, 20);
    cr_assert_eq(o.answered, N);
    cr_assert(o.order_ok, "replies out of order");
}

static pa_script_t concat = PA_SCRIPT("return KEYS[1] .. ':' .. ARGV[1] .. ':' .. #ARGV");

static void eval_concat(const char *key, const char *arg, const char *want)
{
    seen_t s = {0};
    const char *argv[] = {key, arg};
    cr_assert_eq(pa_aredis_eval(cli, &concat, record, &s, 1, 2, argv, NULL), 0);
    cr_assert_eq(s.called, 0);
    wait_seen(&s, 3000);
    cr_assert_not(s.null, "eval: NULL (%s)", pa_aredis_errstr(cli));
    cr_assert_eq(s.type, REDIS_REPLY_STRING, "eval: type %d %s", s.type, s.str);
    cr_assert_str_eq(s.str, want);
}

Test(aredis, a_script_is_loaded_on_noscript)
{
    atomic_store(&concat.have_sha, 0);
    eval_concat("k", "v", "k:v:1");
    cr_assert(atomic_load(&concat.have_sha), "the SHA was not learnt");
    eval_concat("k2", "v2", "k2:v2:1"); /* by EVALSHA */
    seen_t fl = {0};
    pa_aredis_cmd(cli, record, &fl, "SCRIPT FLUSH");
    wait_seen(&fl, 3000);
    cr_assert_str_eq(fl.str, "OK");
    /* EVALSHA now answers NOSCRIPT: the client sends the source instead */
    eval_concat("k3", "v3", "k3:v3:1");
    /* a SHA nobody loaded (another client flushed it, or a stale one) */
    memcpy(concat.sha, "0000000000000000000000000000000000000000", 40);
    eval_concat("k4", "v4", "k4:v4:1");
}

Test(aredis, killed_redis_fails_pending_calls_and_later_calls_succeed_after_restart)
{
    seen_t ping = {0};
    pa_aredis_cmd(cli, record, &ping, "PING");
    wait_seen(&ping, 3000);
    cr_assert(pa_aredis_connected(cli));
    /* a call Redis will not answer before it dies */
    seen_t blocked = {0};
    pa_aredis_cmd(cli, record, &blocked, "BLPOP never 0");
    pa_loop_run_once(loop, 50);
    rf_stop_pid(srv.pid, SIGKILL, 1000);
    srv.pid = 0;
    wait_seen(&blocked, 3000);
    cr_assert(blocked.null, "a pending call got a reply from a dead Redis");
    cr_assert_not(pa_aredis_connected(cli));
    /* while it is down, a call fails at once (on the next turn) */
    seen_t down = {0};
    cr_assert_eq(pa_aredis_cmd(cli, record, &down, "PING"), 0);
    cr_assert_eq(down.called, 0, "called inside the call");
    wait_seen(&down, 1000);
    cr_assert(down.null);
    char err[512];
    cr_assert_eq(rf_redis_start(&srv, err, sizeof err), 0, "%s", err);
    /* it reconnects by itself (backoff at most 2 s) */
    seen_t again = ping_until_answered(8000);
    cr_assert_not(again.null, "no answer after the restart (%s)", pa_aredis_errstr(cli));
    cr_assert_str_eq(again.str, "PONG");
    cr_assert(pa_aredis_connected(cli));
}

Test(aredis, a_hung_redis_times_out)
{
    pa_aredis_destroy(&cli);
    cli = connect_db(0, 300);
    seen_t ping = {0};
    pa_aredis_cmd(cli, record, &ping, "PING");
    wait_seen(&ping, 3000);
    kill(srv.pid, SIGSTOP);
    seen_t hung = {0};
    uint64_t t0 = rf_now_ms();
    pa_aredis_cmd(cli, record, &hung, "PING");
    wait_seen(&hung, 3000);
    uint64_t took = rf_now_ms() - t0;
    kill(srv.pid, SIGCONT);
    cr_assert(hung.null);
    cr_assert(took >= 250 && took < 1500, "timed out after %llu ms", (unsigned long long)took);
}

static int destroyed_calls;
static int late_rc = 1;

static void on_destroy_null(redisReply *r, void *ud)
{
    seen_t *s = ud;
    record(r, s);
    /* a call from a callback run by destroy is refused, and its callback never runs */
    late_rc = pa_aredis_cmd(cli, record, s, "PING");
    destroyed_calls++;
}

Test(aredis, destroy_calls_pending_callbacks_with_null)
{
    seen_t s[3] = {{0}};
    pa_aredis_cmd(cli, on_destroy_null, &s[0], "BLPOP never 0");
    pa_loop_run_once(loop, 50);
    pa_aredis_cmd(cli, on_destroy_null, &s[1], "PING");
    pa_aredis_cmd(cli, on_destroy_null, &s[2], "PING");
    pa_aredis_destroy(&cli);
    cr_assert_null(cli);
    cr_assert_eq(destroyed_calls, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s[i].called, 1, "callback %d called %d times", i, s[i].called);
        cr_assert(s[i].null);
    }
    cr_assert_eq(late_rc, -1);
    pa_loop_run_once(loop, 50); /* nothing left to run on the loop */
    cr_assert_eq(pa_loop_watched(loop), 0);
}

Test(aredis, destroy_while_connecting_and_while_down)
{
    char err[256];
    pa_aredis_t *a = pa_aredis_new(loop, "redis://127.0.0.1:1/0", 500, err, sizeof err);
    cr_assert_not_null(a, "a Redis that is down is not an error at creation");
    seen_t s = {0};
    pa_aredis_cmd(a, record, &s, "PING");
    pa_aredis_destroy(&a);
    cr_assert_eq(s.called, 1);
    cr_assert(s.null);
    a = pa_aredis_new(loop, "redis://127.0.0.1:1/0", 500, err, sizeof err);
    seen_t t = {0};
    pa_aredis_cmd(a, record, &t, "PING");
    wait_seen(&t, 2000);
    cr_assert(t.null);
    cr_assert_not(pa_aredis_connected(a));
    cr_assert(strlen(pa_aredis_errstr(a)) > 0);
    seen_t u = {0};
    pa_aredis_cmd(a, record, &u, "PING");
    pa_aredis_destroy(&a);
    cr_assert_eq(u.called, 1, "a failure waiting for its turn is delivered by destroy");
    cr_assert(u.null);
}

Test(aredis, selects_the_database_of_the_url)
{
    pa_aredis_t *db3 = connect_db(3, 1000);
    seen_t set = {0}, in0 = {0}, in3 = {0};
    pa_aredis_cmd(db3, record, &set, "SET only-in-3 yes");
    wait_seen(&set, 3000);
    pa_aredis_cmd(cli, record, &in0, "EXISTS only-in-3");
    pa_aredis_cmd(db3, record, &in3, "EXISTS only-in-3");
    wait_seen(&in0, 3000);
    wait_seen(&in3, 3000);
    cr_assert_eq(in0.integer, 0);
    cr_assert_eq(in3.integer, 1);
    pa_aredis_destroy(&db3);
}

Test(aredis, bad_urls_are_rejected)
{
    char err[256] = "";
    cr_assert_null(pa_aredis_new(loop, "http://x", 100, err, sizeof err));
    cr_assert(strstr(err, "REDIS_URL"), "%s", err);
    cr_assert_null(pa_aredis_new(loop, "redis://h:99999", 100, err, sizeof err));
}

static void auth_setup(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    strcpy(srv.password, "s3cr3t");
    char err[512];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    loop = pa_loop_new(err, sizeof err);
    cli = NULL;
}

TestSuite(aredis_auth, .init = auth_setup, .fini = teardown, .timeout = 30);

Test(aredis_auth, password_and_db_in_url)
{
    cli = connect_db(2, 1000);
    seen_t s = {0};
    pa_aredis_cmd(cli, record, &s, "SET k v");
    wait_seen(&s, 3000);
    cr_assert_str_eq(s.str, "OK", "%s", s.str);
}

/* ---- TLS (rediss://) and ACL users --------------------------------------------------------- */

static char certs[PATH_MAX];

static void setup_tls(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    snprintf(certs, sizeof certs, "%s/pa-certs-XXXXXX", rf_tmpdir());
    cr_assert_not_null(mkdtemp(certs));
    char err[512];
    if (rf_tls_make_certs(certs, err, sizeof err) < 0) cr_assert_fail("%s", err);
    snprintf(srv.tls_dir, sizeof srv.tls_dir, "%s", certs);
    strcpy(srv.password, "adm1n-pw");
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    cli = NULL;
}

static void teardown_tls(void)
{
    teardown();
    if (!getenv("PA_KEEP_TMP")) rf_rm_rf(certs);
}

TestSuite(aredis_tls, .init = setup_tls, .fini = teardown_tls, .timeout = 60);

static pa_aredis_t *tls_client(const char *userinfo, const char *ca, int timeout_ms)
{
    char path[PATH_MAX + 32], url[300], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", certs, ca);
    setenv("REDIS_TLS_CA", path, 1);
    snprintf(url, sizeof url, "rediss://%s@127.0.0.1:%d/2", userinfo, srv.port);
    pa_aredis_t *a = pa_aredis_new(loop, url, timeout_ms, err, sizeof err);
    cr_assert_not_null(a, "pa_aredis_new: %s", err);
    return a;
}

Test(aredis_tls, commands_in_order_over_tls_with_an_acl_user)
{
    cli = tls_client(":adm1n-pw", "ca.crt", 2000);
    seen_t acl = {0};
    pa_aredis_cmd(cli, record, &acl, "ACL SETUSER worker on >w0rker ~* +@all");
    wait_seen(&acl, 5000);
    cr_assert_not(acl.null, "no answer over TLS: %s", pa_aredis_errstr(cli));
    cr_assert_str_eq(acl.str, "OK");
    pa_aredis_destroy(&cli);

    cli = tls_client("worker:w0rker", "ca.crt", 2000);
    seen_t who = {0};
    pa_aredis_cmd(cli, record, &who, "ACL WHOAMI");
    wait_seen(&who, 5000);
    cr_assert_str_eq(who.str, "worker", "%s", pa_aredis_errstr(cli));
    /* thousands of commands queued at once: partial TLS writes and many records to read */
    enum { N = 5000 };
    order_t o = {0, 1, 0};
    for (int i = 0; i < N; i++) pa_aredis_cmd(cli, count_in_order, &o, "INCR n");
    uint64_t end = rf_now_ms() + 10000;
    while (o.answered < N && rf_now_ms() < end) pa_loop_run_once(loop, 20);
    cr_assert_eq(o.answered, N);
    cr_assert(o.order_ok, "replies out of order");
    /* a large value both ways, and a script */
    size_t big = 400000;
    char *v = malloc(big);
    memset(v, 'y', big);
    const char *argv[] = {"SET", "big", v};
    size_t lens[] = {3, 3, big};
    seen_t set = {0}, len = {0}, db = {0};
    pa_aredis_argv(cli, record, &set, 3, argv, lens);
    free(v);
    pa_aredis_cmd(cli, record, &len, "STRLEN big");
    wait_seen(&len, 5000);
    cr_assert_eq(len.integer, (long long)big);
    eval_concat("tk", "tv", "tk:tv:1");
    /* the URL's database was selected */
    pa_aredis_cmd(cli, record, &db, "CLIENT INFO");
    wait_seen(&db, 3000);
    cr_assert_not_null(strstr(db.str, " db=2 "), "%s", db.str);
}

Test(aredis_tls, an_untrusted_server_is_refused_and_calls_fail)
{
    cli = tls_client(":adm1n-pw", "other-ca.crt", 2000);
    seen_t ping = {0};
    pa_aredis_cmd(cli, record, &ping, "PING");
    wait_seen(&ping, 5000);
    cr_assert(ping.null, "a server signed by an untrusted CA answered");
    cr_assert_not(pa_aredis_connected(cli));
    cr_assert_not_null(strstr(pa_aredis_errstr(cli), "certificate"), "%s", pa_aredis_errstr(cli));
}

Test(aredis_tls, reconnects_over_tls_after_a_restart)
{
    cli = tls_client(":adm1n-pw", "ca.crt", 1000);
    seen_t ping = {0};
    pa_aredis_cmd(cli, record, &ping, "PING");
    wait_seen(&ping, 5000);
    cr_assert_str_eq(ping.str, "PONG", "%s", pa_aredis_errstr(cli));
    rf_stop_pid(srv.pid, SIGKILL, 1000);
    srv.pid = 0;
    seen_t lost = {0};
    pa_aredis_cmd(cli, record, &lost, "PING");
    wait_seen(&lost, 3000);
    cr_assert(lost.null);
    char err[512];
    cr_assert_eq(rf_redis_start(&srv, err, sizeof err), 0, "%s", err);
    seen_t again = ping_until_answered(8000);
    cr_assert_str_eq(again.str, "PONG", "no answer after the restart (%s)", pa_aredis_errstr(cli));
}
