/* prospect-mcp-conformance: the client command of the official MCP conformance suite
 * (tests/mcp-conformance/run), on the worker's client library (mcp_client.h).
 *
 *   prospect-mcp-conformance [-v] URL
 *
 * The suite passes the mock server's URL as the last argument and the scenario in
 * MCP_CONFORMANCE_SCENARIO (with MCP_CONFORMANCE_PROTOCOL_VERSION, the revision the run is at,
 * and MCP_CONFORMANCE_CONTEXT, a JSON object, for scenarios that give the client data). The
 * driver does what the scenario expects (docs/mcp-testing.md): mostly list the tools and call
 * them; the checks are the suite's. Exit status 0 when every step succeeded, 1 otherwise. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_client.h"
#include "mcp_conformance_auth.h"
#include "mcp_config.h"
#include "pa_http.h"
#include "pa_loop.h"

#define STEP_TIMEOUT_MS 20000

typedef struct {
    int done;
    mcp_status_t status;
    json_t *result;
    char message[512];
    const char *what;
} waiter_t;

static pa_loop_t *g_loop;
static mcp_client_t *g_client;
static int g_verbose;
static int g_failed;

static void on_answer(void *ud, const mcp_answer_t *a)
{
    waiter_t *w = ud;
    w->done = 1;
    w->status = a->status;
    w->result = a->result ? json_deep_copy(a->result) : NULL;
    snprintf(w->message, sizeof w->message, "%s", a->message);
}

static void wait_all(waiter_t *w, size_t n)
{
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < n; i++) left += !w[i].done;
        if (!left) break;
        pa_loop_run_once(g_loop, 200);
    }
    for (size_t i = 0; i < n; i++) {
        if (w[i].status != MCP_OK) g_failed = 1;
        if (g_verbose || w[i].status != MCP_OK)
            fprintf(stderr, "%s: %s%s%s\n", w[i].what, mcp_status_name(w[i].status),
                    w[i].message[0] ? ": " : "", w[i].message);
    }
}

static void waiter_free(waiter_t *w)
{
    json_decref(w->result);
    w->result = NULL;
}

/* tools/list (every page); the tools, or NULL. */
static json_t *list_tools(void)
{
    waiter_t w = {.what = "tools/list"};
    mcp_client_list_tools(g_client, STEP_TIMEOUT_MS, on_answer, &w);
    wait_all(&w, 1);
    json_t *tools = w.result ? json_incref(json_object_get(w.result, "tools")) : NULL;
    waiter_free(&w);
    return tools;
}

static json_t *request(const char *what, const char *method, json_t *params)
{
    waiter_t w = {.what = what};
    mcp_client_request(g_client, method, params, STEP_TIMEOUT_MS, on_answer, &w);
    wait_all(&w, 1);
    json_decref(params);
    return w.result;
}

/* Arguments for a tool from its schema: a plain value for each required property. */
static json_t *sample_args(const json_t *tool)
{
    json_t *args = json_object();
    const json_t *schema = json_object_get(tool, "inputSchema");
    const json_t *props = json_object_get(schema, "properties");
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(schema, "required"), i, req) {
        const char *k = json_string_value(req);
        if (!k) continue;
        const char *type = json_string_value(json_object_get(json_object_get(props, k), "type"));
        json_t *v = !type                          ? json_string("value")
                    : strcmp(type, "integer") == 0 ? json_integer(1)
                    : strcmp(type, "number") == 0  ? json_real(1.5)
                    : strcmp(type, "boolean") == 0 ? json_true()
                    : strcmp(type, "object") == 0  ? json_object()
                    : strcmp(type, "array") == 0   ? json_array()
                                                   : json_string("us-west1");
        json_object_set_new(args, k, v);
    }
    return args;
}

/* Calls tools at once (names[i] with args[i], which are taken), then waits for them all. */
static void call_tools(const char *const *names, json_t **args, size_t n)
{
    waiter_t *w = calloc(n ? n : 1, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        w[i].what = names[i];
        mcp_client_call_tool(g_client, names[i], args[i], STEP_TIMEOUT_MS, on_answer, &w[i]);
        json_decref(args[i]);
    }
    wait_all(w, n);
    for (size_t i = 0; i < n; i++) waiter_free(&w[i]);
    free(w);
}

static void call_tool(const char *name, json_t *args)
{
    call_tools(&name, &args, 1);
}

static const json_t *tool_named(const json_t *tools, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0) return t;
    }
    return NULL;
}

/* Lists the tools and calls each (at most max) with sample arguments. */
static void list_and_call_all(size_t max)
{
    json_t *tools = list_tools();
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        if (i >= max) break;
        const char *name = json_string_value(json_object_get(t, "name"));
        if (name) call_tool(name, sample_args(t));
    }
    json_decref(tools);
}

static void scenario_mrtr(void)
{
    json_decref(list_tools());
    const char *first[] = {"test_mrtr_echo_state", "test_mrtr_unrelated"};
    json_t *a1[] = {json_object(), json_object()};
    call_tools(first, a1, 2);
    call_tool("test_mrtr_no_state", json_object());
    call_tool("test_mrtr_no_result_type", json_object());
}

static void scenario_standard_headers(void)
{
    list_and_call_all(16);
    json_t *res = request("resources/list", "resources/list", json_object());
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "resources"), i, r) {
        const char *uri = json_string_value(json_object_get(r, "uri"));
        if (uri)
            json_decref(
                request("resources/read", "resources/read", json_pack("{s:s}", "uri", uri)));
    }
    json_decref(res);
    res = request("prompts/list", "prompts/list", json_object());
    json_array_foreach(json_object_get(res, "prompts"), i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name)
            json_decref(request("prompts/get", "prompts/get", json_pack("{s:s}", "name", name)));
    }
    json_decref(res);
}

static void scenario_custom_headers(const char *context)
{
    json_error_t e;
    json_t *ctx = context ? json_loads(context, 0, &e) : NULL;
    json_decref(list_tools());
    size_t i;
    json_t *tc;
    json_array_foreach(json_object_get(ctx, "toolCalls"), i, tc) {
        const char *name = json_string_value(json_object_get(tc, "name"));
        json_t *args = json_object_get(tc, "arguments");
        if (name) call_tool(name, args ? json_incref(args) : json_object());
    }
    if (!ctx) {
        fprintf(stderr, "http-custom-headers: no MCP_CONFORMANCE_CONTEXT\n");
        g_failed = 1;
    }
    json_decref(ctx);
}

static void scenario_schema_echo(void)
{
    json_t *tools = list_tools();
    const json_t *focal = tool_named(tools, "json_schema_2020_12_tool");
    const json_t *schema = json_object_get(focal, "inputSchema");
    if (schema) call_tool("json_schema_echo", json_pack("{s:O}", "schema", schema));
    else g_failed = 1;
    json_decref(tools);
}

static void closed(void *ud)
{
    *(int *)ud = 1;
}

int main(int argc, char **argv)
{
    int argi = 1;
    if (argi < argc && strcmp(argv[argi], "-v") == 0) {
        g_verbose = 1;
        argi++;
    }
    if (argi >= argc) {
        fprintf(stderr, "usage: prospect-mcp-conformance [-v] URL\n");
        return 2;
    }
    const char *url = argv[argc - 1];
    const char *scenario = getenv("MCP_CONFORMANCE_SCENARIO");
    const char *version = getenv("MCP_CONFORMANCE_PROTOCOL_VERSION");
    const char *context = getenv("MCP_CONFORMANCE_CONTEXT");
    if (!scenario) scenario = "";
    if (getenv("MCP_CONFORMANCE_VERBOSE")) g_verbose = 1;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[512];
    g_loop = pa_loop_new(err, sizeof err);
    if (!g_loop) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pa_http_cfg_t hc = {.max_host_connections = 8, .timeout_ms = 60000};
    pa_http_t *http = pa_http_new(g_loop, &hc, err, sizeof err);
    if (!http) {
        fprintf(stderr, "%s\n", err);
        pa_loop_destroy(&g_loop);
        return 1;
    }
    mcp_server_conf_t server = {
        .name = "conformance",
        .transport = MCP_TRANSPORT_HTTP,
        .url = (char *)url,
        .protocol_version = version && mcp_protocol_version_known(version) ? (char *)version : NULL,
        .timeout_ms = STEP_TIMEOUT_MS,
        .enabled = 1};
    mcp_client_cfg_t cfg = {.loop = g_loop,
                            .http = http,
                            .server = &server,
                            .client_name = "prospect-mcp-conformance",
                            .elicit_defaults = 1};

    /* ---- the authorization hook: OAUTH's provider for auth scenarios ---- */
    mcp_oauth_t *oauth = NULL;
    if (mcp_conformance_auth(g_loop, http, scenario, context, &oauth, err, sizeof err) != 0) {
        fprintf(stderr, "authorization: %s\n", err);
        pa_http_destroy(&http);
        pa_loop_destroy(&g_loop);
        return 1;
    }
    if (oauth) {
        cfg.auth = mcp_oauth_ops();
        cfg.auth_self = oauth;
    }

    g_client = mcp_client_new(&cfg, err, sizeof err);
    if (!g_client) {
        fprintf(stderr, "%s\n", err);
        mcp_oauth_destroy(&oauth);
        pa_http_destroy(&http);
        pa_loop_destroy(&g_loop);
        return 1;
    }
    if (g_verbose) fprintf(stderr, "scenario %s, revision %s, %s\n", scenario, version, url);

    if (strcmp(scenario, "sep-2322-client-request-state") == 0) scenario_mrtr();
    else if (strcmp(scenario, "http-standard-headers") == 0) scenario_standard_headers();
    else if (strcmp(scenario, "http-custom-headers") == 0) scenario_custom_headers(context);
    else if (strcmp(scenario, "json-schema-2020-12-preservation") == 0) scenario_schema_echo();
    else if (strcmp(scenario, "initialize") == 0 || strcmp(scenario, "request-metadata") == 0 ||
             strcmp(scenario, "json-schema-ref-no-deref") == 0)
        json_decref(list_tools());
    else list_and_call_all(16);

    int done = 0;
    mcp_client_close(g_client, closed, &done);
    while (!done) pa_loop_run_once(g_loop, 200);
    mcp_client_destroy(&g_client);
    mcp_oauth_destroy(&oauth);
    pa_http_destroy(&http);
    pa_loop_destroy(&g_loop);
    curl_global_cleanup();
    if (g_verbose) fprintf(stderr, "%s\n", g_failed ? "FAILED" : "ok");
    return g_failed ? 1 : 0;
}
