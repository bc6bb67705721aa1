/* pa_http against a real HTTP server on 127.0.0.1 (tests/http-server/server.mjs, started per
 * suite): methods, each body kind as the server received it, the size cap, redirects (method
 * rules, a refused hop, too many hops), cookies per jar, timeouts, cancel, the per-host cap, the
 * connect hook, 1,000 transfers at once on one loop; and the pure helpers (Location resolution,
 * header lines). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "pa_http.h"
#include "pa_loop.h"
#include "redis_fixture.h" /* rf_child_prepare, rf_now_ms, rf_stop_pid, rf_free_port */
#include "../http-server/http_server.h"

static pid_t srv_pid;
static int srv_port;
static pa_loop_t *loop;
static pa_http_t *http;

static void start_server(void)
{
    srv_pid = hs_start(getenv("PA_SOURCE_DIR"), &srv_port);
}

static void engine(const pa_http_cfg_t *cfg)
{
    char err[256];
    pa_http_destroy(&http);
    http = pa_http_new(loop, cfg, err, sizeof err);
    cr_assert_not_null(http, "%s", err);
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server();
    char err[256];
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop);
    pa_http_cfg_t cfg = {.user_agent = "pa-test/1"};
    engine(&cfg);
}

static void teardown(void)
{
    pa_http_destroy(&http);
    if (loop) cr_assert_eq(pa_loop_watched(loop), 0, "the engine left watches behind");
    pa_loop_destroy(&loop);
    if (srv_pid > 0) rf_stop_pid(srv_pid, SIGTERM, 2000);
    srv_pid = 0;
    curl_global_cleanup();
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(http_pure);

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct {
    int called;
    pa_http_result_t result;
    long status;
    char error[512];
    char *body;
    size_t len;
    char url[512], ip[64], ctype[128], location[512], retry_after[32], multi[32];
    unsigned hops;
    long elapsed;
} got_t;

static void got_free(got_t *g)
{
    free(g->body);
    memset(g, 0, sizeof *g);
}

static void on_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    got_t *g = ud;
    g->called++;
    g->result = res->result;
    g->status = res->status;
    snprintf(g->error, sizeof g->error, "%s", res->error);
    g->body = malloc(res->len + 1);
    memcpy(g->body, res->body, res->len + 1);
    g->len = res->len;
    snprintf(g->url, sizeof g->url, "%s", res->url);
    snprintf(g->ip, sizeof g->ip, "%s", res->ip);
    snprintf(g->ctype, sizeof g->ctype, "%s", res->content_type ? res->content_type : "");
    snprintf(g->location, sizeof g->location, "%s", res->location ? res->location : "");
    snprintf(g->retry_after, sizeof g->retry_after, "%s", res->retry_after ? res->retry_after : "");
    const char *m = pa_http_res_header(res, "x-MULTI");
    snprintf(g->multi, sizeof g->multi, "%s", m ? m : "");
    g->hops = res->hops;
    g->elapsed = res->elapsed_ms;
}

static int run_until(const int *flag, int ms)
{
    uint64_t end = rf_now_ms() + (uint64_t)ms;
    while (!*flag && rf_now_ms() < end) pa_loop_run_once(loop, 20);
    return *flag != 0;
}

static void run_for(int ms)
{
    uint64_t end = rf_now_ms() + (uint64_t)ms;
    while (rf_now_ms() < end) pa_loop_run_once(loop, 10);
}

static char *url(const char *path)
{
    static char buf[4][600];
    static int i;
    char *b = buf[i++ & 3];
    snprintf(b, 600, "http://127.0.0.1:%d%s", srv_port, path);
    return b;
}

/* Starts req, waits for its done callback, asserts it came exactly once. */
static void run_req(pa_http_req_t *r, got_t *g)
{
    memset(g, 0, sizeof *g);
    pa_http_start(r, on_done, g);
    cr_assert_eq(g->called, 0, "done called inside pa_http_start");
    cr_assert(run_until(&g->called, 10000), "no answer");
    run_for(20);
    cr_assert_eq(g->called, 1);
}

static json_t *echo_json(const got_t *g)
{
    cr_assert_eq(g->result, PA_HTTP_OK, "%s", g->error);
    cr_assert_eq(g->status, 200, "status %ld", g->status);
    json_error_t je;
    json_t *j = json_loads(g->body, 0, &je);
    cr_assert_not_null(j, "not JSON: %s", g->body);
    return j;
}

static const char *jstr(json_t *j, const char *path1, const char *path2)
{
    json_t *v = json_object_get(j, path1);
    if (path2) v = json_object_get(v, path2);
    return json_string_value(v);
}

/* ---- methods and bodies ------------------------------------------------------------------- */

Test(http, any_method_reaches_the_server)
{
    const char *methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        got_t g;
        run_req(pa_http_req_new(http, methods[i], url("/echo?x=1")), &g);
        json_t *j = echo_json(&g);
        cr_assert_str_eq(jstr(j, "method", NULL), methods[i]);
        cr_assert_str_eq(jstr(j, "url", NULL), "/echo?x=1");
        cr_assert_str_eq(jstr(j, "headers", "user-agent"), "pa-test/1");
        cr_assert_str_eq(g.ip, "127.0.0.1");
        cr_assert_str_eq(g.ctype, "application/json");
        json_decref(j);
        got_free(&g);
    }
    got_t g;
    run_req(pa_http_req_new(http, "HEAD", url("/echo")), &g);
    cr_assert_eq(g.result, PA_HTTP_OK, "%s", g.error);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(g.len, 0);
    got_free(&g);
}

Test(http, json_body_and_headers_as_received)
{
    pa_http_req_t *r = pa_http_req_new(http, "POST", url("/echo"));
    pa_http_req_json(r, "{\"a\":1,\"b\":\"é\"}");
    pa_http_req_header(r, "X-Token: t1");
    pa_http_req_header(r, "User-Agent: custom/2");
    got_t g;
    run_req(r, &g);
    json_t *j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "body", NULL), "{\"a\":1,\"b\":\"é\"}");
    cr_assert_str_eq(jstr(j, "headers", "content-type"), "application/json");
    cr_assert_str_eq(jstr(j, "headers", "x-token"), "t1");
    cr_assert_str_eq(jstr(j, "headers", "user-agent"), "custom/2", "a request's header wins");
    cr_assert_null(jstr(j, "headers", "expect"), "Expect: 100-continue is not sent");
    json_decref(j);
    got_free(&g);
}

Test(http, urlencoded_body_as_received)
{
    pa_http_req_t *r = pa_http_req_new(http, "POST", url("/echo"));
    pa_http_req_form(r, "name", "Ada Lovelace");
    pa_http_req_form(r, "msg", "a&b=c/ü");
    pa_http_req_form(r, "empty", "");
    got_t g;
    run_req(r, &g);
    json_t *j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "body", NULL), "name=Ada+Lovelace&msg=a%26b%3Dc%2F%C3%BC&empty=");
    cr_assert_str_eq(jstr(j, "headers", "content-type"), "application/x-www-form-urlencoded");
    json_decref(j);
    got_free(&g);
}

Test(http, multipart_body_as_received)
{
    pa_http_req_t *r = pa_http_req_new(http, "POST", url("/echo"));
    pa_http_req_part(r, "name", "Ada", 3, NULL, NULL);
    pa_http_req_part(r, "cv", "%PDF-1\n", 7, "cv.pdf", "application/pdf");
    got_t g;
    run_req(r, &g);
    json_t *j = echo_json(&g);
    const char *ct = jstr(j, "headers", "content-type");
    cr_assert(ct && strncmp(ct, "multipart/form-data; boundary=", 30) == 0, "%s", ct);
    const char *body = jstr(j, "body", NULL);
    cr_assert(strstr(body, "Content-Disposition: form-data; name=\"name\"\r\n\r\nAda\r\n"), "%s",
              body);
    cr_assert(strstr(body, "Content-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\n"
                           "Content-Type: application/pdf\r\n\r\n%PDF-1\n\r\n"),
              "%s", body);
    json_decref(j);
    got_free(&g);
}

Test(http, response_headers_are_looked_up)
{
    got_t g;
    run_req(pa_http_req_new(http, "GET", url("/headers")), &g);
    cr_assert_eq(g.result, PA_HTTP_OK);
    cr_assert_eq(g.status, 429);
    cr_assert_str_eq(g.retry_after, "7");
    cr_assert_str_eq(g.ctype, "text/plain; charset=utf-8");
    cr_assert_str_eq(g.multi, "b", "the last value of a repeated header");
    cr_assert_str_eq(g.body, "slow down");
    got_free(&g);
}

/* ---- the size cap ------------------------------------------------------------------------- */

Test(http, a_body_over_the_cap_fails_clearly)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/big?bytes=200000"));
    pa_http_req_max_body(r, 100000);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_ETOOLARGE, "%d %s", g.result, g.error);
    cr_assert(strstr(g.error, "larger than 100000 bytes"), "%s", g.error);
    got_free(&g);
    r = pa_http_req_new(http, "GET", url("/big?bytes=100000"));
    pa_http_req_max_body(r, 100000);
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_OK, "exactly the cap is allowed: %s", g.error);
    cr_assert_eq(g.len, 100000);
    got_free(&g);
}

typedef struct {
    size_t taken;
    int calls;
    long status;
} stream_t;

static stream_t streamed;

static int take_all(pa_http_req_t *req, const pa_http_res_t *head, const char *d, size_t n,
                    void *ud)
{
    stream_t *s = &streamed;
    s->taken += n;
    s->calls++;
    s->status = head->status;
    return PA_HTTP_DATA_TAKEN;
}

Test(http, streamed_reads_go_to_the_callback_and_are_capped)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/drip?chunks=5&ms=20"));
    pa_http_req_on_data(r, take_all);
    got_t g;
    run_req(r, &g);
    stream_t seen = streamed;
    cr_assert_eq(g.result, PA_HTTP_OK, "%s", g.error);
    cr_assert_eq(g.len, 0, "taken bytes are not kept");
    cr_assert_geq(seen.taken, 400);
    cr_assert_eq(seen.status, 200);
    got_free(&g);
    r = pa_http_req_new(http, "GET", url("/drip?chunks=50&ms=5"));
    pa_http_req_on_data(r, take_all);
    pa_http_req_max_body(r, 1000);
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_ETOOLARGE, "%s", g.error);
    got_free(&g);
}

/* ---- redirects ---------------------------------------------------------------------------- */

Test(http, redirects_303_becomes_get_and_307_keeps_method_and_body)
{
    pa_http_req_t *r = pa_http_req_new(http, "POST", url("/redirect?code=303&to=/echo%3Fafter"));
    pa_http_req_json(r, "{\"x\":1}");
    pa_http_req_redirects(r, 5, NULL);
    got_t g;
    run_req(r, &g);
    json_t *j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "method", NULL), "GET");
    cr_assert_str_eq(jstr(j, "body", NULL), "");
    cr_assert_null(jstr(j, "headers", "content-type"));
    cr_assert_eq(g.hops, 1);
    cr_assert_str_eq(g.url, url("/echo?after"));
    json_decref(j);
    got_free(&g);

    r = pa_http_req_new(http, "POST", url("/redirect?code=307&to=echo"));
    pa_http_req_json(r, "{\"x\":2}");
    pa_http_req_redirects(r, 5, NULL);
    run_req(r, &g);
    j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "method", NULL), "POST");
    cr_assert_str_eq(jstr(j, "body", NULL), "{\"x\":2}");
    cr_assert_str_eq(jstr(j, "headers", "content-type"), "application/json");
    json_decref(j);
    got_free(&g);

    r = pa_http_req_new(http, "PUT", url("/redirect?code=308&to=/echo"));
    pa_http_req_form(r, "a", "b");
    pa_http_req_redirects(r, 5, NULL);
    run_req(r, &g);
    j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "method", NULL), "PUT");
    cr_assert_str_eq(jstr(j, "body", NULL), "a=b");
    json_decref(j);
    got_free(&g);
}

Test(http, without_redirects_a_3xx_is_the_answer)
{
    got_t g;
    run_req(pa_http_req_new(http, "GET", url("/redirect?code=302&to=/echo")), &g);
    cr_assert_eq(g.result, PA_HTTP_OK);
    cr_assert_eq(g.status, 302);
    cr_assert_str_eq(g.location, "/echo");
    cr_assert_str_eq(g.body, "moved");
    got_free(&g);
}

Test(http, hops_are_counted_and_capped)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/chain?n=3"));
    pa_http_req_redirects(r, 3, NULL);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_OK, "%s", g.error);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(g.hops, 3);
    got_free(&g);
    r = pa_http_req_new(http, "GET", url("/chain?n=3"));
    pa_http_req_redirects(r, 2, NULL);
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_EREDIRECT);
    cr_assert(strstr(g.error, "more than 2 redirects"), "%s", g.error);
    cr_assert_eq(g.status, 302);
    got_free(&g);
}

static int hook_calls;
static char hook_to[600];

static int refuse_echo(pa_http_req_t *req, const char *from, const char *to, long status, void *ud)
{
    hook_calls++;
    snprintf(hook_to, sizeof hook_to, "%s", to);
    return strstr(to, "/echo") ? -1 : 0;
}

Test(http, the_redirect_hook_sees_each_hop_and_may_refuse_one)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/chain?n=2"));
    pa_http_req_redirects(r, 10, refuse_echo);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_EREDIRECT, "%d %s", g.result, g.error);
    cr_assert_eq(hook_calls, 2);
    cr_assert_str_eq(hook_to, url("/echo"));
    cr_assert(strstr(g.error, "refused"), "%s", g.error);
    cr_assert_eq(g.hops, 1);
    cr_assert_eq(g.status, 302);
    got_free(&g);
}

Test(http, a_redirect_to_another_scheme_is_refused)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/redirect?to=file:///etc/passwd"));
    pa_http_req_redirects(r, 3, NULL);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_EREDIRECT);
    got_free(&g);
}

/* ---- cookies ------------------------------------------------------------------------------ */

static const char *cookie_seen(pa_http_jar_t *jar, got_t *g)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/echo"));
    if (jar) pa_http_req_jar(r, jar);
    run_req(r, g);
    json_t *j = echo_json(g);
    static char out[256];
    const char *c = jstr(j, "headers", "cookie");
    snprintf(out, sizeof out, "%s", c ? c : "");
    json_decref(j);
    got_free(g);
    return out;
}

Test(http, cookies_are_kept_per_jar_and_not_across_jars)
{
    pa_http_jar_t *a = pa_http_jar_new(), *b = pa_http_jar_new();
    got_t g;
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/cookie/set?name=sid&value=task-a"));
    pa_http_req_jar(r, a);
    run_req(r, &g);
    got_free(&g);
    /* a redirect's Set-Cookie reaches the next hop */
    r = pa_http_req_new(http, "GET", url("/redirect?to=/echo&cookie=hop%3D1"));
    pa_http_req_jar(r, b);
    pa_http_req_redirects(r, 2, NULL);
    run_req(r, &g);
    json_t *j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "headers", "cookie"), "hop=1");
    json_decref(j);
    got_free(&g);
    cr_assert_str_eq(cookie_seen(a, &g), "sid=task-a");
    cr_assert_str_eq(cookie_seen(b, &g), "hop=1");
    cr_assert_str_eq(cookie_seen(NULL, &g), "", "no jar, no cookie");
    /* destroying a jar while a request uses it is allowed */
    r = pa_http_req_new(http, "GET", url("/echo"));
    pa_http_req_jar(r, a);
    pa_http_jar_destroy(&a);
    cr_assert_null(a);
    run_req(r, &g);
    j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "headers", "cookie"), "sid=task-a");
    json_decref(j);
    got_free(&g);
    pa_http_jar_destroy(&b);
}

Test(http, authorization_is_dropped_on_a_hop_to_another_origin)
{
    char to[300];
    snprintf(to, sizeof to, "/redirect?to=http://localhost:%d/echo", srv_port);
    pa_http_req_t *r = pa_http_req_new(http, "GET", url(to));
    pa_http_req_header(r, "Authorization: Bearer secret");
    pa_http_req_redirects(r, 2, NULL);
    got_t g;
    run_req(r, &g);
    json_t *j = echo_json(&g);
    cr_assert_null(jstr(j, "headers", "authorization"));
    json_decref(j);
    got_free(&g);
    r = pa_http_req_new(http, "GET", url("/redirect?to=/echo"));
    pa_http_req_header(r, "Authorization: Bearer secret");
    pa_http_req_redirects(r, 2, NULL);
    run_req(r, &g);
    j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "headers", "authorization"), "Bearer secret", "same origin keeps it");
    json_decref(j);
    got_free(&g);
}

/* ---- timeouts ----------------------------------------------------------------------------- */

Test(http, the_total_timeout_ends_a_slow_answer)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/slow?ms=3000"));
    pa_http_req_timeouts(r, 0, 300);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_ETIMEDOUT, "%d %s", g.result, g.error);
    cr_assert(g.elapsed >= 250 && g.elapsed < 1500, "%ld ms", g.elapsed);
    got_free(&g);
}

Test(http, the_connect_timeout_ends_a_connect_nobody_accepts)
{
    /* a listener whose accept queue is full: the kernel drops further SYNs */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    cr_assert_eq(listen(lfd, 0), 0);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    rf_sleep_ms(50);
    char u[100];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    pa_http_req_t *r = pa_http_req_new(http, "GET", u);
    pa_http_req_timeouts(r, 300, 5000);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_ETIMEDOUT, "%d %s", g.result, g.error);
    cr_assert_lt(g.elapsed, 2000);
    got_free(&g);
    for (int i = 0; i < 4; i++) close(fill[i]);
    close(lfd);
}

Test(http, a_bad_url_fails_from_the_loop)
{
    got_t g;
    run_req(pa_http_req_new(http, "GET", "ftp://127.0.0.1/x"), &g);
    cr_assert_eq(g.result, PA_HTTP_EURL);
    got_free(&g);
    run_req(pa_http_req_new(http, "GET", "not a url"), &g);
    cr_assert_eq(g.result, PA_HTTP_EURL);
    got_free(&g);
    run_req(pa_http_req_new(http, "GET", "http://127.0.0.1:1/"), &g);
    cr_assert_eq(g.result, PA_HTTP_ECONNECT, "%d %s", g.result, g.error);
    got_free(&g);
}

/* ---- cancel ------------------------------------------------------------------------------- */

static long server_stat(const char *key, const char *field)
{
    char path[100];
    snprintf(path, sizeof path, "/stats?key=%s", key);
    got_t g;
    run_req(pa_http_req_new(http, "GET", url(path)), &g);
    json_t *j = echo_json(&g);
    long v = (long)json_integer_value(json_object_get(j, field));
    json_decref(j);
    got_free(&g);
    return v;
}

static int data_calls;

static int count_data(pa_http_req_t *req, const pa_http_res_t *head, const char *d, size_t n,
                      void *ud)
{
    data_calls++;
    return PA_HTTP_DATA_TAKEN;
}

static int cancel_in_data(pa_http_req_t *req, const pa_http_res_t *head, const char *d, size_t n,
                          void *ud)
{
    data_calls++;
    pa_http_cancel(req);
    return PA_HTTP_DATA_TAKEN;
}

Test(http, cancel_mid_transfer_never_calls_done_and_closes_the_connection)
{
    got_t g;
    memset(&g, 0, sizeof g);
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/drip?chunks=100&ms=30&key=c1"));
    pa_http_req_on_data(r, count_data);
    pa_http_start(r, on_done, &g);
    while (data_calls < 2) pa_loop_run_once(loop, 20);
    cr_assert_eq(pa_http_running(http), 1);
    pa_http_cancel(r);
    cr_assert_eq(pa_http_running(http), 0);
    run_for(300);
    cr_assert_eq(g.called, 0, "done called after cancel");
    cr_assert_eq(server_stat("c1", "aborted"), 1, "the server did not see the connection close");

    /* from inside the request's own data callback */
    data_calls = 0;
    r = pa_http_req_new(http, "GET", url("/drip?chunks=100&ms=30&key=c2"));
    pa_http_req_on_data(r, cancel_in_data);
    pa_http_start(r, on_done, &g);
    run_for(400);
    cr_assert_eq(data_calls, 1);
    cr_assert_eq(g.called, 0);
    cr_assert_eq(pa_http_running(http), 0);
    cr_assert_eq(server_stat("c2", "aborted"), 1);
}

Test(http, cancel_owner_stops_every_transfer_of_one_task)
{
    int task_a, task_b;
    got_t ga[3], gb;
    memset(ga, 0, sizeof ga);
    memset(&gb, 0, sizeof gb);
    for (int i = 0; i < 3; i++) {
        pa_http_req_t *r = pa_http_req_new(http, "GET", url("/slow?ms=300"));
        pa_http_req_owner(r, &task_a);
        pa_http_start(r, on_done, &ga[i]);
    }
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/slow?ms=300"));
    pa_http_req_owner(r, &task_b);
    pa_http_start(r, on_done, &gb);
    run_for(50);
    cr_assert_eq(pa_http_cancel_owner(http, &task_a), 3);
    cr_assert(run_until(&gb.called, 3000));
    run_for(100);
    for (int i = 0; i < 3; i++) cr_assert_eq(ga[i].called, 0);
    cr_assert_eq(gb.result, PA_HTTP_OK);
    got_free(&gb);
    /* a request cancelled before its failure was delivered is never called either */
    r = pa_http_req_new(http, "GET", "bad");
    pa_http_start(r, on_done, &gb);
    pa_http_cancel(r);
    run_for(50);
    cr_assert_eq(gb.called, 0);
}

/* ---- connections ---------------------------------------------------------------------------- */

Test(http, the_per_host_cap_holds)
{
    pa_http_cfg_t cfg = {.max_host_connections = 2};
    engine(&cfg);
    enum { N = 8 };
    got_t g[N];
    memset(g, 0, sizeof g);
    for (int i = 0; i < N; i++)
        pa_http_start(pa_http_req_new(http, "GET", url("/hold?ms=150&key=cap")), on_done, &g[i]);
    uint64_t end = rf_now_ms() + 10000;
    int done = 0;
    while (done < N && rf_now_ms() < end) {
        pa_loop_run_once(loop, 20);
        done = 0;
        for (int i = 0; i < N; i++) done += g[i].called;
    }
    cr_assert_eq(done, N);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(g[i].result, PA_HTTP_OK, "%s", g[i].error);
        got_free(&g[i]);
    }
    cr_assert_eq(server_stat("cap", "max"), 2);
}

static int connects;

static int refuse_loopback(pa_http_req_t *req, const struct sockaddr *a, const char *ip, int port,
                           void *ud)
{
    connects++;
    return strcmp(ip, "127.0.0.1") == 0 ? -1 : 0;
}

static int allow_first(pa_http_req_t *req, const struct sockaddr *a, const char *ip, int port,
                       void *ud)
{
    cr_assert_eq(a->sa_family, AF_INET);
    return connects++ == 0 ? 0 : -1;
}

Test(http, the_connect_hook_refuses_an_address_on_every_hop)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/echo"));
    pa_http_req_on_connect(r, refuse_loopback);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_EREFUSED, "%d %s", g.result, g.error);
    cr_assert_eq(connects, 1);
    cr_assert_str_eq(g.ip, "127.0.0.1");
    cr_assert(strstr(g.error, "127.0.0.1"), "%s", g.error);
    got_free(&g);
    /* allowed first, refused on the hop: a checked request never reuses a connection */
    connects = 0;
    r = pa_http_req_new(http, "GET", url("/redirect?to=/echo"));
    pa_http_req_on_connect(r, allow_first);
    pa_http_req_redirects(r, 3, NULL);
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_EREFUSED, "%d %s", g.result, g.error);
    cr_assert_eq(connects, 2);
    cr_assert_eq(g.hops, 1);
    got_free(&g);
}

Test(http, a_thousand_transfers_at_once_on_one_loop)
{
    enum { N = 1000 };
    got_t *g = calloc(N, sizeof *g);
    for (int i = 0; i < N; i++) {
        char p[64];
        snprintf(p, sizeof p, "/hold?ms=300&key=k1000&i=%d", i);
        pa_http_start(pa_http_req_new(http, "GET", url(p)), on_done, &g[i]);
    }
    cr_assert_eq(pa_http_running(http), N);
    uint64_t end = rf_now_ms() + 30000;
    int done = 0;
    while (done < N && rf_now_ms() < end) {
        pa_loop_run_once(loop, 50);
        done = 0;
        for (int i = 0; i < N; i++) done += g[i].called;
    }
    cr_assert_eq(done, N);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += g[i].result == PA_HTTP_OK && g[i].status == 200;
        got_free(&g[i]);
    }
    free(g);
    cr_assert_eq(ok, N);
    cr_assert_gt(server_stat("k1000", "max"), 500, "they did not run at once");
}

Test(http, user_agent_from_the_environment)
{
    setenv("HTTP_USER_AGENT", "from-env/3", 1);
    engine(NULL);
    unsetenv("HTTP_USER_AGENT");
    cr_assert_str_eq(pa_http_user_agent(http), "from-env/3");
    got_t g;
    run_req(pa_http_req_new(http, "GET", url("/echo")), &g);
    json_t *j = echo_json(&g);
    cr_assert_str_eq(jstr(j, "headers", "user-agent"), "from-env/3");
    json_decref(j);
    got_free(&g);
}

/* ---- pure helpers --------------------------------------------------------------------------- */

static void resolves(const char *base, const char *loc, const char *want)
{
    char *got = pa_http_resolve(base, loc);
    if (!want) {
        cr_assert_null(got, "%s + %s gave %s", base, loc, got);
        return;
    }
    cr_assert_not_null(got, "%s + %s: NULL", base, loc);
    cr_assert_str_eq(got, want, "%s + %s", base, loc);
    free(got);
}

Test(http_pure, locations_resolve_against_the_url)
{
    const char *b = "http://a.example/b/c/d?q=1";
    resolves(b, "e", "http://a.example/b/c/e");
    resolves(b, "../e?x", "http://a.example/b/e?x");
    resolves(b, "/e", "http://a.example/e");
    resolves(b, "?z=2", "http://a.example/b/c/d?z=2");
    resolves(b, "//other.example:8080/p", "http://other.example:8080/p");
    resolves(b, "https://x.example/", "https://x.example/");
    resolves(b, "HTTPS://X.example/y", "https://X.example/y");
    resolves(b, "ftp://x/", NULL);
    resolves(b, "javascript:alert(1)", NULL);
    resolves(b, "file:///etc/passwd", NULL);
    resolves("not a url", "/x", NULL);
}

Test(http_pure, header_lines_split_into_name_and_value)
{
    const char *n, *v;
    size_t nl, vl;
    const char *l = "Content-Type:  text/html; charset=x \t\r\n";
    cr_assert_eq(pa_http_header_split(l, strlen(l), &n, &nl, &v, &vl), 0);
    cr_assert_eq(nl, 12);
    cr_assert_eq(strncmp(n, "Content-Type", nl), 0);
    cr_assert_eq(vl, strlen("text/html; charset=x"));
    cr_assert_eq(strncmp(v, "text/html; charset=x", vl), 0);
    l = "X-Empty:\r\n";
    cr_assert_eq(pa_http_header_split(l, strlen(l), &n, &nl, &v, &vl), 0);
    cr_assert_eq(vl, 0);
    const char *bad[] = {"no colon\r\n", ": no name\r\n", "bad name: x\r\n", "\r\n", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(pa_http_header_split(bad[i], strlen(bad[i]), &n, &nl, &v, &vl), -1, "%s",
                     bad[i]);
}

static got_t chained;
static int chain_started;

static int start_from_data(pa_http_req_t *req, const pa_http_res_t *head, const char *d, size_t n,
                           void *ud)
{
    if (!chain_started++) {
        /* inside libcurl: the engine starts it on the next turn */
        pa_http_start(pa_http_req_new(http, "GET", url("/echo?chained")), on_done, &chained);
        cr_assert_eq(chained.called, 0);
    }
    return PA_HTTP_DATA_KEEP;
}

Test(http, a_request_started_from_a_hook_runs)
{
    pa_http_req_t *r = pa_http_req_new(http, "GET", url("/echo?first"));
    pa_http_req_on_data(r, start_from_data);
    got_t g;
    run_req(r, &g);
    cr_assert_eq(g.result, PA_HTTP_OK);
    cr_assert(run_until(&chained.called, 5000));
    json_t *j = echo_json(&chained);
    cr_assert_str_eq(jstr(j, "url", NULL), "/echo?chained");
    json_decref(j);
    got_free(&chained);
    got_free(&g);
}

Test(http, destroy_with_transfers_out_calls_nothing)
{
    got_t g[5];
    memset(g, 0, sizeof g);
    pa_http_jar_t *jar = pa_http_jar_new();
    for (int i = 0; i < 5; i++) {
        pa_http_req_t *r = pa_http_req_new(http, "GET", url(i == 4 ? "bad url" : "/slow?ms=2000"));
        pa_http_req_jar(r, jar);
        pa_http_start(r, on_done, &g[i]);
    }
    pa_http_req_new(http, "GET", url("/echo")); /* never started */
    pa_http_jar_destroy(&jar);                  /* still used: freed with the last request */
    run_for(100);
    pa_http_destroy(&http);
    for (int i = 0; i < 4; i++) cr_assert_eq(g[i].called, 0);
    cr_assert_eq(g[4].called, 1, "the bad URL failed on the first turn");
    got_free(&g[4]);
    cr_assert_eq(pa_loop_watched(loop), 0);
}
