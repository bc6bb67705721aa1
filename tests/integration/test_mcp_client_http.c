/* The MCP client (workers/mcp/mcp_client.c) over Streamable HTTP against the SDK test server
 * (tests/mcp-server, started per test on 127.0.0.1 and stopped by PID): the revision chosen per
 * path (the modern probe falling back to initialize), paginated tools, progress extending the
 * timeout up to its cap, a timeout that sends notifications/cancelled, an expired session
 * re-initialised, tool and JSON-RPC errors with the server's message, a closed stream resumed
 * with GET and Last-Event-ID, elicitation, ping, unknown server requests, DELETE at close,
 * cancellation, many calls at once, a server killed mid-call. The server's /admin/log shows what
 * went over the wire. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "mcp_client.h"

extern char **environ;

static pid_t srv_pid;
static int srv_port;
static pa_loop_t *loop;
static pa_http_t *http;
static mcp_client_t *client;
static mcp_server_conf_t conf;
static char url[256];

static void start_server(void)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    const char *logpath = hr_fmt("/tmp/test_mcp_client_http.%d.log", (int)getpid());
    posix_spawn_file_actions_addopen(&fa, 2, logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *script = strdup(PA_SOURCE_DIR "/tests/mcp-server/start");
    char *argv[] = {script, NULL};
    cr_assert_eq(posix_spawn(&srv_pid, script, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    free(script);
    close(fds[1]);
    char line[32] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    close(fds[0]);
    srv_port = atoi(line);
    cr_assert_gt(srv_port, 0, "the test server did not start (see %s)", logpath);
}

static void stop_server(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGTERM);
        waitpid(srv_pid, NULL, 0);
        srv_pid = 0;
    }
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server();
    char err[256];
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    pa_http_cfg_t hc = {.max_host_connections = 16};
    http = pa_http_new(loop, &hc, err, sizeof err);
    cr_assert_not_null(http, "%s", err);
}

static void teardown(void)
{
    mcp_client_destroy(&client);
    pa_http_destroy(&http);
    pa_loop_destroy(&loop);
    stop_server();
    hr_cleanup();
    curl_global_cleanup();
}

TestSuite(mcp_client_http, .init = setup, .fini = teardown, .timeout = 90);

/* A client for path (e.g. "/mcp"); version NULL: auto. */
static mcp_client_t *make_client(const char *path, const char *version, long timeout_ms, int elicit,
                                 long cap_ms)
{
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv_port, path);
    memset(&conf, 0, sizeof conf);
    conf.name = "test";
    conf.transport = MCP_TRANSPORT_HTTP;
    conf.url = url;
    conf.protocol_version = (char *)version;
    conf.timeout_ms = timeout_ms;
    conf.enabled = 1;
    mcp_client_cfg_t cfg = {.loop = loop,
                            .http = http,
                            .server = &conf,
                            .elicit_defaults = elicit,
                            .progress_cap_ms = cap_ms};
    char err[256];
    mcp_client_t *c = mcp_client_new(&cfg, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

typedef struct {
    int done;
    mcp_status_t status;
    json_t *result;
    long long code;
    char message[512];
    long http_status;
    uint64_t at;
} answer_t;

static void on_answer(void *ud, const mcp_answer_t *a)
{
    answer_t *w = ud;
    cr_assert_not(w->done, "an answer came twice");
    w->done = 1;
    w->status = a->status;
    w->result = a->result ? hr_jkeep(json_deep_copy(a->result)) : NULL;
    w->code = a->code;
    w->http_status = a->http_status;
    w->at = hr_now_ms();
    snprintf(w->message, sizeof w->message, "%s", a->message);
}

static void run_until(int *flag, long max_ms)
{
    uint64_t end = hr_now_ms() + (uint64_t)max_ms;
    while (!*flag && hr_now_ms() < end) pa_loop_run_once(loop, 50);
}

static void run_for(long ms)
{
    uint64_t end = hr_now_ms() + (uint64_t)ms;
    while (hr_now_ms() < end) pa_loop_run_once(loop, 20);
}

static answer_t *wait_answer(answer_t *w, long max_ms)
{
    run_until(&w->done, max_ms);
    cr_assert(w->done, "no answer within %ld ms", max_ms);
    return w;
}

static answer_t pool[32]; /* the answers of call() (each test is its own process) */
static int npool;

static answer_t *call(const char *tool, const char *args_json, long timeout_ms)
{
    cr_assert_lt(npool, 32);
    answer_t *w = &pool[npool++];
    json_t *args = args_json ? hr_jparse(args_json) : NULL;
    mcp_client_call_tool(client, tool, args, timeout_ms, on_answer, w);
    return wait_answer(w, 30000);
}

static const char *first_text(const json_t *result)
{
    const json_t *c0 = json_array_get(json_object_get(result, "content"), 0);
    return json_string_value(json_object_get(c0, "text"));
}

static json_t *admin_log(void)
{
    hr_resp_t *r = hr_http("GET", hr_fmt("http://127.0.0.1:%d/admin/log", srv_port), NULL, NULL, 0);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_array(j));
    return j;
}

static void admin(const char *method, const char *path)
{
    hr_resp_t *r = hr_http(method, hr_fmt("http://127.0.0.1:%d%s", srv_port, path), NULL, NULL, 0);
    cr_assert_eq(r->status, 200, "%s %s: %s", method, path, hr_describe(r));
}

/* Log entries with that HTTP method and (when rpc is not NULL) that JSON-RPC method. */
static int count_log(const json_t *log, const char *method, const char *rpc)
{
    int n = 0;
    size_t i, k;
    json_t *e, *m;
    json_array_foreach(log, i, e) {
        if (strcmp(hr_jstr(e, "method"), method) != 0) continue;
        if (!rpc) {
            n++;
            continue;
        }
        json_array_foreach(json_object_get(e, "rpc"), k, m)
            if (hr_jstr(m, "method") && strcmp(hr_jstr(m, "method"), rpc) == 0) n++;
    }
    return n;
}

static void on_closed(void *ud)
{
    *(int *)ud = 1;
}

Test(mcp_client_http, paginated_tools_on_a_session)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t w = {0};
    mcp_client_list_tools(client, 0, on_answer, &w);
    wait_answer(&w, 20000);
    cr_assert_eq(w.status, MCP_OK, "%s", w.message);
    json_t *tools = json_object_get(w.result, "tools");
    cr_assert_eq(json_array_size(tools), 20, "%s", hr_jdump(w.result));
    cr_assert_str_eq(mcp_client_protocol(client), "2025-11-25");
    cr_assert_not_null(mcp_client_server_info(client));
    cr_assert(mcp_client_ready(client));
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "POST", "initialize"), 1);
    cr_assert_eq(count_log(log, "POST", "notifications/initialized"), 1);
    /* the modern probe (tools/list with MCP-Protocol-Version 2026-07-28), then 5 pages */
    cr_assert_eq(count_log(log, "POST", "tools/list"), 6, "%s", hr_jdump(log));
    cr_assert_eq(mcp_client_pending(client), 0);
    cr_assert_gt(mcp_client_memory(client), 0);
}

Test(mcp_client_http, each_http_path_and_a_configured_revision)
{
    const char *paths[] = {"/mcp", "/mcp-json", "/stateless", "/stateless-json"};
    for (size_t i = 0; i < 4; i++) {
        client = make_client(paths[i], NULL, 10000, 0, 0);
        answer_t *a = call("add", "{\"a\": 2, \"b\": 40}", 0);
        cr_assert_eq(a->status, MCP_OK, "%s: %s", paths[i], a->message);
        cr_assert_str_eq(first_text(a->result), "42", "%s", paths[i]);
        a = call("enrich_company", "{\"domain\": \"acme.example\"}", 0);
        cr_assert_eq(a->status, MCP_OK, "%s: %s", paths[i], a->message);
        cr_assert_str_eq(hr_jstr(json_object_get(a->result, "structuredContent"), "name"), "Acme");
        mcp_client_destroy(&client);
    }
    admin("DELETE", "/admin/log");
    client = make_client("/mcp", "2025-06-18", 10000, 0, 0);
    answer_t *a = call("echo", "{\"text\": \"hi\"}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(first_text(a->result), "hi");
    cr_assert_str_eq(mcp_client_protocol(client), "2025-06-18");
    json_t *log = admin_log();
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e) /* no probe: the revision is configured */
        if (!hr_jnull(e, "protocolVersion"))
            cr_assert_str_eq(hr_jstr(e, "protocolVersion"), "2025-06-18", "%s", hr_jdump(e));
}

Test(mcp_client_http, tool_and_rpc_errors_carry_the_server_message)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("fail_tool", "{\"message\": \"no such company\"}", 0);
    cr_assert_eq(a->status, MCP_ERR_TOOL);
    cr_assert_str_eq(a->message, "no such company");
    cr_assert_not_null(a->result);
    a = call("fail_rpc", "{\"message\": \"quota exceeded\", \"code\": -32005}", 0);
    cr_assert_eq(a->status, MCP_ERR_RPC);
    cr_assert_eq(a->code, -32005);
    cr_assert_not_null(strstr(a->message, "quota exceeded"), "%s", a->message);
    a = call("no_such_tool", NULL, 0);
    cr_assert(a->status == MCP_ERR_RPC || a->status == MCP_ERR_TOOL, "%s", a->message);
}

Test(mcp_client_http, progress_extends_the_timeout_up_to_the_cap)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    /* 1.5 s in 10 steps with a 600 ms timeout: each progress moves the deadline */
    answer_t *a = call("slow", "{\"ms\": 1500, \"steps\": 10}", 600);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(first_text(a->result), "done after 10 steps");
    mcp_client_destroy(&client);

    client = make_client("/mcp", NULL, 10000, 0, 900); /* the cap: 900 ms from the start */
    uint64_t t0 = hr_now_ms();
    a = call("slow", "{\"ms\": 4000, \"steps\": 40}", 300);
    cr_assert_eq(a->status, MCP_ERR_TIMEOUT, "%s", a->message);
    cr_assert_geq(a->at - t0, 850);
    cr_assert_lt(a->at - t0, 2500);
}

Test(mcp_client_http, a_timeout_sends_notifications_cancelled)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("slow", "{\"ms\": 3000, \"steps\": 1}", 400);
    cr_assert_eq(a->status, MCP_ERR_TIMEOUT, "%s", a->message);
    run_for(300);
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "POST", "notifications/cancelled"), 1, "%s", hr_jdump(log));
    /* the session still works */
    a = call("echo", "{\"text\": \"after\"}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
}

Test(mcp_client_http, cancel_tells_the_server_and_never_answers)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("echo", "{\"text\": \"warm\"}", 0);
    cr_assert_eq(a->status, MCP_OK);
    answer_t w = {0};
    json_t *args = hr_jparse("{\"ms\": 2000, \"steps\": 1}");
    mcp_call_t *k = mcp_client_call_tool(client, "slow", args, 0, on_answer, &w);
    run_for(300);
    mcp_call_cancel(k, "not needed");
    run_for(500);
    cr_assert_not(w.done);
    cr_assert_eq(mcp_client_pending(client), 0);
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "POST", "notifications/cancelled"), 1, "%s", hr_jdump(log));
}

Test(mcp_client_http, an_expired_session_is_initialised_again)
{
    client = make_client("/mcp-json", NULL, 10000, 0, 0);
    answer_t *a = call("echo", "{\"text\": \"one\"}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    admin("POST", "/admin/expire-sessions");
    a = call("echo", "{\"text\": \"two\"}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(first_text(a->result), "two");
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "POST", "initialize"), 2, "%s", hr_jdump(log));
}

Test(mcp_client_http, a_closed_stream_is_resumed_with_last_event_id)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("close_stream", "{\"ms\": 300}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(first_text(a->result), "answered after the stream closed");
    json_t *log = admin_log();
    size_t i;
    json_t *e;
    int resumed = 0;
    json_array_foreach(log, i, e)
        if (strcmp(hr_jstr(e, "method"), "GET") == 0 && !hr_jnull(e, "lastEventId")) resumed++;
    cr_assert_geq(resumed, 1, "%s", hr_jdump(log));
}

Test(mcp_client_http, server_requests_are_answered)
{
    client = make_client("/mcp", NULL, 10000, 1, 0);
    answer_t *a = call("elicit", NULL, 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    json_t *sc = json_object_get(a->result, "structuredContent");
    cr_assert_str_eq(hr_jstr(sc, "action"), "accept", "%s", hr_jdump(a->result));
    json_t *content = json_object_get(sc, "content");
    cr_assert(json_is_true(json_object_get(content, "confirm")));
    cr_assert_str_eq(hr_jstr(content, "region"), "eu");
    cr_assert_eq(hr_jint(content, "limit", 0), 5);

    a = call("ping_client", NULL, 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(first_text(a->result), "pong");

    a = call("server_request", "{\"method\": \"example/unknown\"}", 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_not_null(strstr(hr_jdump(a->result), "-32601"), "%s", hr_jdump(a->result));
    mcp_client_destroy(&client);

    client = make_client("/mcp", NULL, 10000, 0, 0); /* without elicit_defaults: decline */
    a = call("elicit", NULL, 0);
    cr_assert_eq(a->status, MCP_OK, "%s", a->message);
    cr_assert_str_eq(hr_jstr(json_object_get(a->result, "structuredContent"), "action"), "decline");
}

Test(mcp_client_http, close_answers_pending_calls_and_deletes_the_session)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("echo", "{\"text\": \"x\"}", 0);
    cr_assert_eq(a->status, MCP_OK);
    answer_t w = {0};
    mcp_client_call_tool(client, "slow", hr_jparse("{\"ms\": 3000, \"steps\": 1}"), 0, on_answer,
                         &w);
    run_for(200);
    int closed = 0;
    mcp_client_close(client, on_closed, &closed);
    run_until(&closed, 5000);
    cr_assert(closed);
    cr_assert(w.done);
    cr_assert_eq(w.status, MCP_ERR_CLOSED);
    answer_t w2 = {0}; /* a request made after close is answered MCP_ERR_CLOSED */
    mcp_client_call_tool(client, "echo", NULL, 0, on_answer, &w2);
    cr_assert_not(w2.done);
    wait_answer(&w2, 1000);
    cr_assert_eq(w2.status, MCP_ERR_CLOSED);
    mcp_client_destroy(&client);
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "DELETE", NULL), 1, "%s", hr_jdump(log));
}

Test(mcp_client_http, many_calls_at_once_on_a_warm_session)
{
    client = make_client("/mcp-json", NULL, 10000, 0, 0);
    enum { N = 64 };
    answer_t w[N];
    memset(w, 0, sizeof w);
    for (int i = 0; i < N; i++) {
        json_t *args = json_pack("{s:i, s:i}", "a", i, "b", 1);
        mcp_client_call_tool(client, "add", args, 0, on_answer, &w[i]);
        json_decref(args);
    }
    cr_assert_eq(mcp_client_pending(client), N);
    for (int i = 0; i < N; i++) {
        wait_answer(&w[i], 20000);
        cr_assert_eq(w[i].status, MCP_OK, "%d: %s", i, w[i].message);
        cr_assert_eq(atoi(first_text(w[i].result)), i + 1);
    }
    json_t *log = admin_log();
    cr_assert_eq(count_log(log, "POST", "initialize"), 1, "%s", hr_jdump(log));
}

Test(mcp_client_http, a_server_killed_mid_call)
{
    client = make_client("/mcp", NULL, 10000, 0, 0);
    answer_t *a = call("echo", "{\"text\": \"x\"}", 0);
    cr_assert_eq(a->status, MCP_OK);
    answer_t w = {0};
    mcp_client_call_tool(client, "slow", hr_jparse("{\"ms\": 5000, \"steps\": 1}"), 0, on_answer,
                         &w);
    run_for(300);
    uint64_t t0 = hr_now_ms();
    kill(srv_pid, SIGKILL);
    waitpid(srv_pid, NULL, 0);
    srv_pid = 0;
    wait_answer(&w, 8000);
    cr_assert_eq(w.status, MCP_ERR_TRANSPORT, "%s: %s", mcp_status_name(w.status), w.message);
    cr_assert_lt(w.at - t0, 3000);
    /* and a new request fails too, without hanging */
    answer_t w2 = {0};
    mcp_client_call_tool(client, "echo", hr_jparse("{\"text\": \"y\"}"), 2000, on_answer, &w2);
    wait_answer(&w2, 8000);
    cr_assert_neq(w2.status, MCP_OK);
}
