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
