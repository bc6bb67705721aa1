/* The MCP message channels (workers/mcp/mcp_chan.c) against real servers: the SDK test server and
 * server-everything over stdio (tests/mcp-server/start --stdio, --everything stdio), the SDK
 * server's legacy HTTP+SSE transport (/sse), small shell children (exit at once, a long line,
 * cat), and an event stream of our own on the test's loop (an endpoint naming another origin).
 * Each test speaks initialize and tools/list by hand with the mcp_jsonrpc encoders; each ends
 * with every child reaped (no zombie) and as many open descriptors as it began with. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "mcp_chan.h"
#include "mcp_config.h"
#include "mcp_jsonrpc.h"
#include "pa_buf.h"
#include "pa_log.h"
#include "pa_time.h"

#ifndef PA_SOURCE_DIR
#define PA_SOURCE_DIR "."
#endif
#define START PA_SOURCE_DIR "/tests/mcp-server/start"

/* ---- what the channel reported ------------------------------------------------------------ */

#define MAX_EVENTS 64

typedef struct {
    int opens, closes;
    uint64_t open_at[MAX_EVENTS];
    int open_pid[MAX_EVENTS];
    char why[MAX_EVENTS][256];
    json_t *msgs; /* every message received, parsed (or the string when not JSON) */
    mcp_chan_t *ch;
    int destroy_on_message; /* a callback that destroys the channel */
} obs_t;

static void on_open(void *ud)
{
    obs_t *o = ud;
    cr_assert_eq(o->opens, o->closes, "on_open only when closed");
    if (o->opens < MAX_EVENTS) {
        o->open_at[o->opens] = pa_mono_ms();
        o->open_pid[o->opens] = mcp_chan_pid(o->ch);
    }
    o->opens++;
    cr_assert(mcp_chan_is_open(o->ch));
}

static void on_message(void *ud, const char *json, size_t len)
{
    obs_t *o = ud;
    cr_assert_eq(o->opens, o->closes + 1, "messages only while open");
    json_error_t e;
    json_t *v = json_loadb(json, len, 0, &e);
    json_array_append_new(o->msgs, v ? v : json_stringn(json, len));
    if (o->destroy_on_message) mcp_chan_destroy(&o->ch, 0);
}

static void on_closed(void *ud, const char *why)
{
    obs_t *o = ud;
    cr_assert_eq(o->opens, o->closes + 1, "on_closed only after on_open");
    if (o->closes < MAX_EVENTS) snprintf(o->why[o->closes], sizeof o->why[0], "%s", why);
    o->closes++;
    cr_assert_not(mcp_chan_is_open(o->ch));
}

static const mcp_chan_ops_t ops = {on_open, on_message, on_closed};

/* ---- the fixture -------------------------------------------------------------------------- */

static pa_loop_t *loop;
static pa_http_t *http;
static mcp_config_t *conf;
static int fds_at_start;
static char log_path[] = "/tmp/test_mcp_chan_log_XXXXXX";
static int log_fd = -1;

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

/* Children of this process (any state), and how many of them are zombies. */
static int children(int *zombies, pid_t except)
{
    int n = 0;
    *zombies = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (!rp || sscanf(rp + 2, "%c %d", &state, &ppid) != 2) continue;
        if (ppid != getpid() || atoi(e->d_name) == except) continue;
        n++;
        if (state == 'Z') (*zombies)++;
    }
    if (d) closedir(d);
    return n;
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_fd = mkstemp(log_path);
    cr_assert_geq(log_fd, 0);
    pa_log_init("test_mcp_chan", PA_LOG_INFO, log_fd);
    char err[256];
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    pa_http_cfg_t hc = {0};
    http = pa_http_new(loop, &hc, err, sizeof err);
    cr_assert_not_null(http, "%s", err);
    fds_at_start = count_fds();
}

static void teardown(void)
{
    mcp_config_free(&conf);
    pa_http_destroy(&http);
    pa_loop_destroy(&loop);
    curl_global_cleanup();
    if (log_fd >= 0) close(log_fd);
    unlink(log_path);
}

TestSuite(mcp_chan, .init = setup, .fini = teardown, .timeout = 90);

static const mcp_server_conf_t *server(const char *json)
{
    mcp_config_err_t e;
    mcp_config_free(&conf);
    cr_assert_eq(mcp_config_parse(json, strlen(json), &conf, &e), 0, "%s", e.message);
    return &conf->servers[0];
}

typedef int (*cond_fn)(void *ud);

/* Runs the loop until cond holds (1) or ms pass (0). */
static int run_until(cond_fn cond, void *ud, long ms)
{
    uint64_t end = pa_mono_ms() + (uint64_t)ms;
    while (!cond(ud)) {
        uint64_t now = pa_mono_ms();
        if (now >= end) return 0;
        long w = (long)(end - now);
        pa_loop_run_once(loop, w < 50 ? w : 50);
    }
    return 1;
}

static int want_opens;
static int opened(void *ud)
{
    return ((obs_t *)ud)->opens >= want_opens;
}
static int want_closes;
static int closed(void *ud)
{
    return ((obs_t *)ud)->closes >= want_closes;
}

static obs_t *obs_new(void)
{
    obs_t *o = calloc(1, sizeof *o);
    o->msgs = json_array();
    return o;
}

static void obs_free(obs_t *o)
{
    json_decref(o->msgs);
    free(o);
}

static mcp_chan_t *open_chan(obs_t *o, const mcp_server_conf_t *s, size_t max_message)
{
    mcp_chan_cfg_t cfg = {
        .loop = loop, .http = http, .server = s, .max_message = max_message, .ops = &ops, .ud = o};
    char err[256];
    o->ch = mcp_chan_open(&cfg, err, sizeof err);
    cr_assert_not_null(o->ch, "%s", err);
    return o->ch;
}

/* ---- JSON-RPC by hand --------------------------------------------------------------------- */

static json_int_t find_id;
static json_t *found;
static int answered(void *ud)
{
    obs_t *o = ud;
    size_t i;
    json_t *m;
    json_array_foreach(o->msgs, i, m) {
        json_t *id = json_object_get(m, "id");
        if (json_is_integer(id) && json_integer_value(id) == find_id &&
            !json_object_get(m, "method")) {
            found = m;
            return 1;
        }
    }
    return 0;
}

static void send_msg(obs_t *o, pa_buf_t *b)
{
    cr_assert_eq(mcp_chan_send(o->ch, b->data, b->len), 0, "send %s", b->data);
    pa_buf_free(b);
}

/* Sends a request and waits for its answer (the answer's result, borrowed from o->msgs). */
static json_t *call(obs_t *o, json_int_t id, const char *method, json_t *params, long ms)
{
    pa_buf_t b = PA_BUF_INIT;
    mcp_id_t mid = mcp_id_int(id);
    cr_assert_eq(mcp_jsonrpc_encode_request(&b, &mid, method, params), 0);
    json_decref(params);
    send_msg(o, &b);
    find_id = id;
    found = NULL;
    cr_assert(run_until(answered, o, ms), "no answer to %s in %ld ms", method, ms);
    json_t *res = json_object_get(found, "result");
    cr_assert_not_null(res, "%s answered %s", method, json_dumps(found, JSON_COMPACT));
    return res;
}

static void initialize(obs_t *o, json_int_t id)
{
    json_t *res =
        call(o, id, "initialize",
             json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", "2025-11-25", "capabilities",
                       "clientInfo", "name", "test_mcp_chan", "version", "0"),
             20000);
    cr_assert(json_is_object(json_object_get(res, "serverInfo")));
    cr_assert(json_is_string(json_object_get(res, "protocolVersion")));
    pa_buf_t b = PA_BUF_INIT;
    cr_assert_eq(mcp_jsonrpc_encode_notification(&b, "notifications/initialized", NULL), 0);
    send_msg(o, &b);
}

/* 1 when tools/list's first page names tool. */
static int lists_tool(obs_t *o, json_int_t id, const char *tool)
{
    json_t *res = call(o, id, "tools/list", NULL, 10000);
    json_t *tools = json_object_get(res, "tools");
    cr_assert(json_is_array(tools) && json_array_size(tools) > 0);
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), tool) == 0) return 1;
    }
    return 0;
}

/* After the channel is gone: every child reaped (the loop runs the reapers), no zombie, the
 * descriptors of the start back. except: a child of the test itself (an HTTP server). */
static int no_children_except;
static int reaped(void *ud)
{
    int z;
    return children(&z, no_children_except) == 0;
}

static void check_clean(pid_t except)
{
    no_children_except = except;
    cr_assert(run_until(reaped, NULL, 10000), "every child reaped");
    int z;
    cr_assert_eq(children(&z, except), 0);
    cr_assert_eq(z, 0, "no zombie");
    cr_assert_eq(count_fds(), fds_at_start, "descriptors: %d at the start, %d now", fds_at_start,
                 count_fds());
}

/* ---- stdio -------------------------------------------------------------------------------- */

Test(mcp_chan, stdio_sdk_server_initialize_and_list)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"sdk\",\"transport\":\"stdio\",\"command\":\"" START
                     "\",\"args\":[\"--stdio\"]}]}"),
              0);
    cr_assert_not(mcp_chan_is_open(o->ch), "on_open comes from the loop");
    cr_assert_str_eq(mcp_chan_last_error(o->ch), "", "nothing failed yet");
    cr_assert_eq(mcp_chan_send(o->ch, "{}", 2), -1, "nothing is sent before on_open");
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    cr_assert_gt(o->open_pid[0], 0);
    initialize(o, 1);
    cr_assert(lists_tool(o, 2, "echo"));
    json_t *res =
        call(o, 3, "tools/call",
             json_pack("{s:s, s:{s:s}}", "name", "echo", "arguments", "text", "héllo"), 10000);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(res, "content"), 0), "text")),
                     "héllo");
    cr_assert_eq(mcp_chan_send(o->ch, "{\"a\":\n1}", 8), -1, "a newline inside is refused");
    cr_assert_eq(o->closes, 0);
    mcp_chan_destroy(&o->ch, 2000);
    cr_assert_null(o->ch);
    check_clean(0);
    cr_assert_eq(o->closes, 0, "no callback after destroy");
    obs_free(o);
}

Test(mcp_chan, stdio_server_everything)
{
    obs_t *o = obs_new();
    open_chan(
        o,
        server("{\"servers\":[{\"name\":\"everything\",\"transport\":\"stdio\",\"command\":\"" START
               "\",\"args\":[\"--everything\",\"stdio\"]}]}"),
        0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    initialize(o, 1);
    cr_assert(lists_tool(o, 2, "echo"));
    cr_assert(lists_tool(o, 3, "get-sum"));
    json_t *res = call(
        o, 4, "tools/call",
        json_pack("{s:s, s:{s:i, s:i}}", "name", "get-sum", "arguments", "a", 2, "b", 40), 10000);
    char *text = json_dumps(res, JSON_COMPACT);
    int has42 = strstr(text, "42") != NULL;
    free(text);
    cr_assert(has42);
    mcp_chan_destroy(&o->ch, 2000);
    check_clean(0);
    obs_free(o);
}

Test(mcp_chan, stdio_killed_child_comes_back_with_a_new_pid)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"sdk\",\"transport\":\"stdio\",\"command\":\"" START
                     "\",\"args\":[\"--stdio\"]}]}"),
              0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    initialize(o, 1);
    pid_t first = mcp_chan_pid(o->ch);
    cr_assert_gt(first, 0);
    cr_assert_eq(kill(first, SIGKILL), 0);
    want_closes = 1;
    cr_assert(run_until(closed, o, 5000), "on_closed after the kill");
    cr_assert_eq(mcp_chan_pid(o->ch), 0);
    cr_assert_eq(mcp_chan_send(o->ch, "{}", 2), -1, "nothing is sent while down");
    want_opens = 2;
    cr_assert(run_until(opened, o, 10000), "on_open again");
    cr_assert_geq(o->open_at[1] - o->open_at[0], 400, "after the backoff");
    cr_assert_gt(o->open_pid[1], 0);
    cr_assert_neq(o->open_pid[1], first, "a new child");
    cr_assert_eq(waitpid(first, NULL, WNOHANG), -1, "the old child was reaped");
    cr_assert_eq(errno, ECHILD);
    initialize(o, 2); /* a new session on the new child */
    cr_assert(lists_tool(o, 3, "echo"));
    mcp_chan_destroy(&o->ch, 2000);
    check_clean(0);
    obs_free(o);
}

Test(mcp_chan, stdio_child_that_exits_at_once_is_restarted_with_growing_delays)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"dies\",\"transport\":\"stdio\",\"command\":\"sh\","
                     "\"args\":[\"-c\",\"exit 3\"]}]}"),
              0);
    want_opens = 4;
    cr_assert(run_until(opened, o, 15000));
    want_closes = 3;
    cr_assert(run_until(closed, o, 2000));
    long d1 = (long)(o->open_at[1] - o->open_at[0]);
    long d2 = (long)(o->open_at[2] - o->open_at[1]);
    long d3 = (long)(o->open_at[3] - o->open_at[2]);
    cr_assert(d1 >= 450 && d1 < 1500, "first delay %ld ms", d1);
    cr_assert(d2 >= 900 && d2 > d1 + 300, "second delay %ld ms after %ld", d2, d1);
    cr_assert(d3 >= 1800 && d3 > d2 + 600, "third delay %ld ms after %ld", d3, d2);
    int status3 = 0;
    for (int i = 0; i < o->closes; i++) status3 += strstr(o->why[i], "status 3") != NULL;
    cr_assert_gt(status3, 0, "the exit status is said: %s", o->why[0]);
    cr_assert_neq(o->open_pid[0], o->open_pid[1]);
    mcp_chan_destroy(&o->ch, 1000);
    check_clean(0);
    obs_free(o);
}

Test(mcp_chan, stdio_command_that_cannot_start)
{
    mcp_chan_cfg_t cfg = {.loop = loop,
                          .server =
                              server("{\"servers\":[{\"name\":\"none\",\"transport\":\"stdio\","
                                     "\"command\":\"/nonexistent/mcp-server\"}]}"),
                          .ops = &ops};
    char err[256] = "";
    cr_assert_null(mcp_chan_open(&cfg, err, sizeof err));
    cr_assert_not_null(strstr(err, "cannot start"), "%s", err);
    check_clean(0);
}

Test(mcp_chan, stdio_environment_is_minimal_and_secrets_are_not_logged)
{
    setenv("PA_TEST_MCP_SECRET", "s3cr3t-value-42", 1);
    setenv("PA_TEST_MCP_OTHER", "not-for-the-child", 1);
    obs_t *o = obs_new();
    open_chan(
        o,
        server("{\"servers\":[{\"name\":\"env\",\"transport\":\"stdio\",\"command\":\"sh\","
               "\"args\":[\"-c\",\"printf '{\\\"token\\\":\\\"%s\\\",\\\"other\\\":\\\"%s\\\","
               "\\\"path\\\":\\\"%s\\\"}\\\\n' \\\"$TOKEN\\\" \\\"${PA_TEST_MCP_OTHER:-unset}\\\" "
               "\\\"${PATH:+set}\\\"; echo 'a line on stderr' >&2; exec cat\"],"
               "\"env\":{\"TOKEN\":{\"env\":\"PA_TEST_MCP_SECRET\"}}}]}"),
        0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    for (int i = 0; i < 100 && json_array_size(o->msgs) == 0; i++) pa_loop_run_once(loop, 50);
    json_t *m = json_array_get(o->msgs, 0);
    cr_assert_str_eq(json_string_value(json_object_get(m, "token")), "s3cr3t-value-42");
    cr_assert_str_eq(json_string_value(json_object_get(m, "other")), "unset");
    cr_assert_str_eq(json_string_value(json_object_get(m, "path")), "set");
    /* cat answers what it is sent: many messages, and one larger than a pipe's buffer */
    for (int i = 0; i < 2000; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "{\"n\":%d}", i);
        cr_assert_eq(mcp_chan_send(o->ch, msg, (size_t)n), 0);
    }
    pa_buf_t big = PA_BUF_INIT;
    pa_buf_puts(&big, "{\"big\":\"");
    for (int i = 0; i < 300000; i++) pa_buf_putc(&big, 'x');
    pa_buf_puts(&big, "\"}");
    cr_assert_eq(mcp_chan_send(o->ch, big.data, big.len), 0);
    pa_buf_free(&big);
    for (int i = 0; i < 200 && json_array_size(o->msgs) < 2002; i++) pa_loop_run_once(loop, 50);
    cr_assert_eq(json_array_size(o->msgs), 2002);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(o->msgs, 2000), "n")), 1999,
                 "in order");
    cr_assert_eq(strlen(json_string_value(json_object_get(json_array_get(o->msgs, 2001), "big"))),
                 300000);
    mcp_chan_destroy(&o->ch, 1000);
    check_clean(0);
    char log[65536];
    ssize_t n = pread(log_fd, log, sizeof log - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    cr_assert_not_null(strstr(log, "a line on stderr"), "stderr is logged: %s", log);
    cr_assert_null(strstr(log, "s3cr3t"), "no secret in the log: %s", log);
    obs_free(o);
}

Test(mcp_chan, stdio_line_longer_than_the_bound_closes_the_link)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"long\",\"transport\":\"stdio\",\"command\":\"sh\","
                     "\"args\":[\"-c\",\"echo '{}'; head -c 5000 /dev/zero | tr '\\\\000' x; echo; "
                     "exec sleep 30\"]}]}"),
              1000);
    want_closes = 1;
    cr_assert(run_until(closed, o, 10000));
    cr_assert_eq(json_array_size(o->msgs), 1, "the line before the long one came");
    cr_assert_not_null(strstr(o->why[0], "longer than 1000 bytes"), "%s", o->why[0]);
    /* the child that still runs (sleep) is stopped: stdin closed, SIGTERM after the grace */
    mcp_chan_destroy(&o->ch, 0);
    check_clean(0);
    obs_free(o);
}

Test(mcp_chan, stdio_destroy_inside_a_callback)
{
    obs_t *o = obs_new();
    o->destroy_on_message = 1;
    open_chan(
        o,
        server("{\"servers\":[{\"name\":\"chatty\",\"transport\":\"stdio\",\"command\":\"sh\","
               "\"args\":[\"-c\",\"while :; do echo '{\\\"m\\\":1}'; echo '{\\\"m\\\":2}'; "
               "done\"]}]}"),
        0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    for (int i = 0; i < 100 && o->ch; i++) pa_loop_run_once(loop, 50);
    cr_assert_null(o->ch, "destroyed from on_message");
    cr_assert_eq(json_array_size(o->msgs), 1, "no message after destroy");
    check_clean(0);
    obs_free(o);
}

/* ---- legacy HTTP+SSE ---------------------------------------------------------------------- */

/* Starts tests/mcp-server/start (HTTP) with args; its port in *port. The test stops it. */
static pid_t start_http_server(const char *port_arg, int *port)
{
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) dup2(dn, 2);
        if (port_arg) execl(START, START, "--port", port_arg, (char *)NULL);
        else execl(START, START, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[32] = "";
    size_t n = 0;
    uint64_t end = pa_mono_ms() + 30000;
    while (n < sizeof line - 1 && !memchr(line, '\n', n) && pa_mono_ms() < end) {
        ssize_t k = read(p[0], line + n, sizeof line - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
        line[n] = '\0';
    }
    close(p[0]);
    *port = atoi(line);
    cr_assert_gt(*port, 0, "the server printed its port: '%s'", line);
    return pid;
}

static void stop_http_server(pid_t pid)
{
    kill(pid, SIGTERM);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

static mcp_chan_t *open_sse(obs_t *o, const char *url)
{
    char conf_json[512];
    snprintf(conf_json, sizeof conf_json,
             "{\"servers\":[{\"name\":\"legacy\",\"transport\":\"sse\",\"url\":\"%s\"}]}", url);
    static const char *const headers[] = {"X-Test: chan", NULL};
    mcp_chan_cfg_t cfg = {.loop = loop,
                          .http = http,
                          .server = server(conf_json),
                          .headers = headers,
                          .ops = &ops,
                          .ud = o};
    char err[256];
    o->ch = mcp_chan_open(&cfg, err, sizeof err);
    cr_assert_not_null(o->ch, "%s", err);
    return o->ch;
}

/* After an sse channel is gone: no transfer left, and (the engine destroyed, its cached
 * connections closed) the descriptors of the start back. */
static void check_clean_http(pid_t except)
{
    run_until(reaped, NULL, 0);
    cr_assert_eq(pa_http_running(http), 0, "no transfer left");
    pa_http_destroy(&http);
    pa_http_cfg_t hc = {0};
    char err[256];
    http = pa_http_new(loop, &hc, err, sizeof err); /* as at the start */
    cr_assert_not_null(http, "%s", err);
    check_clean(except);
}

Test(mcp_chan, sse_sdk_server_initialize_and_list)
{
    int port;
    pid_t srv = start_http_server(NULL, &port);
    obs_t *o = obs_new();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sse", port);
    open_sse(o, url);
    cr_assert_eq(mcp_chan_pid(o->ch), 0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    initialize(o, 1);
    cr_assert(lists_tool(o, 2, "echo"));
    json_t *res =
        call(o, 3, "tools/call",
             json_pack("{s:s, s:{s:s}}", "name", "echo", "arguments", "text", "over sse"), 10000);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(res, "content"), 0), "text")),
                     "over sse");
    /* many messages at once: posted in order, answered on the stream */
    for (int i = 0; i < 50; i++) {
        pa_buf_t b = PA_BUF_INIT;
        mcp_id_t id = mcp_id_int(100 + i);
        cr_assert_eq(mcp_jsonrpc_encode_request(&b, &id, "ping", NULL), 0);
        send_msg(o, &b);
    }
    find_id = 149;
    cr_assert(run_until(answered, o, 10000));
    mcp_chan_destroy(&o->ch, 0);
    check_clean_http(srv);
    cr_assert_eq(o->closes, 0);
    stop_http_server(srv);
    obs_free(o);
}

Test(mcp_chan, sse_server_restarted_is_reconnected)
{
    int port, port2;
    pid_t srv = start_http_server(NULL, &port);
    obs_t *o = obs_new();
    char url[64], port_arg[16];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sse", port);
    snprintf(port_arg, sizeof port_arg, "%d", port);
    open_sse(o, url);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    initialize(o, 1);
    kill(srv, SIGKILL);
    cr_assert_eq(waitpid(srv, NULL, 0), srv);
    want_closes = 1;
    cr_assert(run_until(closed, o, 5000), "on_closed when the stream is lost");
    cr_assert_eq(mcp_chan_send(o->ch, "{}", 2), -1);
    cr_assert_str_neq(mcp_chan_last_error(o->ch), "");
    srv = start_http_server(port_arg, &port2);
    cr_assert_eq(port2, port);
    want_opens = 2;
    cr_assert(run_until(opened, o, 40000), "on_open again once the server is back");
    initialize(o, 2); /* a new session: a new endpoint */
    cr_assert(lists_tool(o, 3, "echo"));
    mcp_chan_destroy(&o->ch, 0);
    check_clean_http(srv);
    stop_http_server(srv);
    obs_free(o);
}

/* An event stream of our own on the test's loop: each GET gets the endpoint event `endpoint`
 * and stays open; each POST is kept and answered 202, and its body comes back on the streams
 * as a "message" event. */
typedef struct {
    int lfd, port;
    int fds[32];
    pa_buf_t in[32];
    int is_stream[32];
    int gets, posts;
    uint64_t get_at[32];
    char endpoint[256];
    char post_path[256];
    char post_header[256];
} sse_srv_t;

static void srv_close(sse_srv_t *s, int i)
{
    pa_loop_unwatch(loop, s->fds[i]);
    close(s->fds[i]);
    s->fds[i] = -1;
    pa_buf_free(&s->in[i]);
}

static void srv_write(int fd, const char *p)
{
    size_t n = strlen(p);
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

static void on_srv_conn(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    sse_srv_t *s = ud;
    int i = 0;
    while (i < 32 && s->fds[i] != fd) i++;
    cr_assert_lt(i, 32);
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        srv_close(s, i);
        return;
    }
    pa_buf_put(&s->in[i], buf, (size_t)n);
    if (s->is_stream[i]) return;
    char *head_end = strstr(s->in[i].data, "\r\n\r\n");
    if (!head_end) return;
    if (strncmp(s->in[i].data, "GET ", 4) == 0) {
        if (s->gets < 32) s->get_at[s->gets] = pa_mono_ms();
        s->gets++;
        s->is_stream[i] = 1;
        srv_write(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: "
                      "no-cache\r\n\r\n: a comment first\n\n");
        char ev_text[400];
        snprintf(ev_text, sizeof ev_text, "event: endpoint\ndata: %s\n\n", s->endpoint);
        srv_write(fd, ev_text);
        return;
    }
    const char *cl = strcasestr(s->in[i].data, "\r\nContent-Length:");
    size_t want = cl ? (size_t)atol(cl + 17) : 0;
    size_t have = s->in[i].len - (size_t)(head_end + 4 - s->in[i].data);
    if (have < want) return;
    s->posts++;
    sscanf(s->in[i].data, "POST %255s", s->post_path);
    const char *xt = strcasestr(s->in[i].data, "\r\nX-Test:");
    snprintf(s->post_header, sizeof s->post_header, "%s", xt ? "X-Test" : "");
    char ev_text[600];
    snprintf(ev_text, sizeof ev_text, "event: message\ndata: %.*s\n\n", (int)want, head_end + 4);
    for (int j = 0; j < 32; j++)
        if (s->fds[j] >= 0 && s->is_stream[j]) srv_write(s->fds[j], ev_text);
    srv_write(fd,
              "HTTP/1.1 202 Accepted\r\nContent-Length: 8\r\nConnection: close\r\n\r\nAccepted");
    srv_close(s, i);
}

static void on_srv_accept(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    sse_srv_t *s = ud;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    int i = 0;
    while (i < 32 && s->fds[i] >= 0) i++;
    cr_assert_lt(i, 32, "too many connections");
    s->fds[i] = c;
    s->is_stream[i] = 0;
    pa_loop_watch(loop, c, PA_IO_READ, on_srv_conn, s);
}

static sse_srv_t *srv_start(void)
{
    sse_srv_t *s = calloc(1, sizeof *s);
    for (int i = 0; i < 32; i++) s->fds[i] = -1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->lfd, 16), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pa_loop_watch(loop, s->lfd, PA_IO_READ, on_srv_accept, s);
    return s;
}

static void srv_stop(sse_srv_t *s)
{
    for (int i = 0; i < 32; i++)
        if (s->fds[i] >= 0) srv_close(s, i);
    pa_loop_unwatch(loop, s->lfd);
    close(s->lfd);
    free(s);
}

static int gets_at_least;
static int got_gets(void *ud)
{
    return ((sse_srv_t *)ud)->gets >= gets_at_least;
}

static void endpoint_refused(const char *endpoint_fmt, int other_port)
{
    sse_srv_t *s = srv_start();
    snprintf(s->endpoint, sizeof s->endpoint, endpoint_fmt, other_port ? other_port : s->port);
    obs_t *o = obs_new();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sse", s->port);
    open_sse(o, url);
    gets_at_least = 3;
    cr_assert(run_until(got_gets, s, 10000), "the stream is opened again after a refusal");
    cr_assert_eq(o->opens, 0, "an endpoint %s is refused", s->endpoint);
    cr_assert_str_eq(mcp_chan_last_error(o->ch), "the endpoint event names another origin");
    cr_assert_eq(s->posts, 0);
    long d1 = (long)(s->get_at[1] - s->get_at[0]), d2 = (long)(s->get_at[2] - s->get_at[1]);
    cr_assert(d1 >= 450 && d2 >= 900, "with backoff: %ld ms, then %ld ms", d1, d2);
    mcp_chan_destroy(&o->ch, 0);
    srv_stop(s);
    check_clean_http(0);
    char log[65536];
    ssize_t n = pread(log_fd, log, sizeof log - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    cr_assert_not_null(strstr(log, "another origin"), "%s", log);
    cr_assert_null(strstr(log, "sessionId=secret"), "the refused endpoint is not logged");
    obs_free(o);
}

Test(mcp_chan, sse_endpoint_on_another_host_is_refused)
{
    endpoint_refused("http://127.0.0.2:%d/messages?sessionId=secret", 0);
}

Test(mcp_chan, sse_endpoint_on_another_port_is_refused)
{
    int other = 1;
    endpoint_refused("http://127.0.0.1:%d/messages?sessionId=secret", other);
}

Test(mcp_chan, sse_endpoint_on_another_scheme_is_refused)
{
    endpoint_refused("https://127.0.0.1:%d/messages?sessionId=secret", 0);
}

Test(mcp_chan, sse_relative_endpoint_is_resolved_and_posted_to)
{
    sse_srv_t *s = srv_start();
    snprintf(s->endpoint, sizeof s->endpoint, "../messages?sessionId=abc");
    obs_t *o = obs_new();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/mcp/sse", s->port);
    open_sse(o, url);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    cr_assert_eq(mcp_chan_send(o->ch, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", 36), 0);
    find_id = 7;
    cr_assert(run_until(answered, o, 5000), "the message came back on the stream");
    cr_assert_str_eq(s->post_path, "/messages?sessionId=abc");
    cr_assert_str_eq(s->post_header, "X-Test", "the configured headers are sent");
    cr_assert_eq(s->gets, 1);
    mcp_chan_destroy(&o->ch, 0);
    srv_stop(s);
    check_clean_http(0);
    obs_free(o);
}

Test(mcp_chan, sse_destroy_inside_a_callback)
{
    sse_srv_t *s = srv_start();
    snprintf(s->endpoint, sizeof s->endpoint, "/messages?sessionId=abc");
    obs_t *o = obs_new();
    o->destroy_on_message = 1;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sse", s->port);
    open_sse(o, url);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    cr_assert_eq(mcp_chan_send(o->ch, "{\"a\":1}", 7), 0);
    cr_assert_eq(mcp_chan_send(o->ch, "{\"a\":2}", 7), 0);
    for (int i = 0; i < 100 && o->ch; i++) pa_loop_run_once(loop, 50);
    cr_assert_null(o->ch, "destroyed from on_message");
    for (int i = 0; i < 10; i++) pa_loop_run_once(loop, 20);
    cr_assert_eq(json_array_size(o->msgs), 1, "no message after destroy");
    srv_stop(s);
    check_clean_http(0);
    obs_free(o);
}

Test(mcp_chan, stdio_server_that_closes_its_stdin)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"deaf\",\"transport\":\"stdio\",\"command\":\"sh\","
                     "\"args\":[\"-c\",\"exec 0<&-; exec sleep 30\"]}]}"),
              0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    pa_loop_run_once(loop, 100);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0 && o->closes == 0; i++) {
        rc = mcp_chan_send(o->ch, "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}", 30);
        pa_loop_run_once(loop, 50);
    }
    want_closes = 1;
    cr_assert(run_until(closed, o, 5000));
    cr_assert_not_null(strstr(o->why[0], "stdin"), "%s", o->why[0]);
    mcp_chan_destroy(&o->ch, 0);
    check_clean(0);
    obs_free(o);
}

Test(mcp_chan, stdio_child_ignoring_sigterm_is_killed)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"stubborn\",\"transport\":\"stdio\",\"command\":"
                     "\"sh\",\"args\":[\"-c\",\"trap '' TERM; exec sleep 60\"]}]}"),
              0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    for (int i = 0; i < 6; i++) pa_loop_run_once(loop, 50); /* the trap is set */
    uint64_t t0 = pa_mono_ms();
    mcp_chan_destroy(&o->ch, 0);
    check_clean(0);
    cr_assert_geq(pa_mono_ms() - t0, 1900, "SIGKILL 2 s after SIGTERM");
    obs_free(o);
}

static int log_count(const char *needle, char *log, size_t cap)
{
    ssize_t n = pread(log_fd, log, cap - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    int c = 0;
    for (const char *p = log; (p = strstr(p, needle)); p++) c++;
    return c;
}

static char stderr_log[1 << 20];
static int stderr_logged(void *ud)
{
    return log_count("\"mcp stdio server stderr\"", stderr_log, sizeof stderr_log) >= 50;
}

Test(mcp_chan, stdio_stderr_is_logged_bounded)
{
    obs_t *o = obs_new();
    open_chan(o,
              server("{\"servers\":[{\"name\":\"noisy\",\"transport\":\"stdio\",\"command\":\"sh\","
                     "\"args\":[\"-c\",\"head -c 3000 /dev/zero | tr '\\\\000' y >&2; echo >&2; "
                     "i=0; while [ $i -lt 300 ]; do echo \\\"noise $i\\\" >&2; i=$((i+1)); done; "
                     "exec cat\"]}]}"),
              0);
    want_opens = 1;
    cr_assert(run_until(opened, o, 10000));
    cr_assert(run_until(stderr_logged, NULL, 10000));
    for (int i = 0; i < 10; i++) pa_loop_run_once(loop, 50);
    cr_assert_eq(log_count("\"mcp stdio server stderr\"", stderr_log, sizeof stderr_log), 50,
                 "50 lines per window");
    char cut[1100];
    memset(cut, 'y', 1024);
    cut[1024] = '\0';
    strcat(cut, "\",\"cut\":true");
    cr_assert_eq(log_count(cut, stderr_log, sizeof stderr_log), 1, "a long line is cut at 1 KiB");
    cr_assert(mcp_chan_is_open(o->ch), "stderr is not the link");
    mcp_chan_destroy(&o->ch, 1000);
    check_clean(0);
    obs_free(o);
}

static int has_error(void *ud)
{
    return mcp_chan_last_error(((obs_t *)ud)->ch)[0] != '\0';
}

Test(mcp_chan, sse_stream_refused_by_the_server_is_said)
{
    int port;
    pid_t srv = start_http_server(NULL, &port);
    obs_t *o = obs_new();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stateless", port);
    open_sse(o, url);
    cr_assert(run_until(has_error, o, 5000));
    cr_assert_str_eq(mcp_chan_last_error(o->ch), "GET of the event stream answered 405");
    cr_assert_eq(o->opens, 0);
    cr_assert_not(mcp_chan_is_open(o->ch));
    mcp_chan_destroy(&o->ch, 0);
    check_clean_http(srv);
    stop_http_server(srv);
    obs_free(o);
}
