/* prospect-mcp-worker: the "mcp" service. Runs the enrich stage of campaign runs (best effort: the
 * company facts of the target's domain from the configured enrich_company tool, or a recorded
 * reason why there are none) and the mcp_call stage that answers the gateway's /api/mcp/... calls
 * (ops tools, enrich, search_contacts, call). Built on the worker runtime (common/pa_worker.h):
 * one MCP client per configured server (mcp_client.h, connected lazily) on the runtime's loop, a
 * circuit breaker per server, and a result cache in Redis per server, tool and arguments
 * (workers/mcp/README.md). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_breaker.h"
#include "mcp_cache.h"
#include "mcp_client.h"
#include "mcp_config.h"
#include "mcp_oauth.h"
#include "mcp_result.h"
#include "pa_buf.h"
#include "pa_config.h"
#include "pa_http.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_time.h"
#include "pa_worker.h"

#define NO_SERVER_REASON                                                                           \
    "no MCP server configured (MCP_SERVERS, MCP_SERVER_COMMAND or MCP_SERVER_URL)"
#define SEARCH_LIMIT_MAX 100

typedef struct {
    const char *prefix; /* REDIS_PREFIX, as the runtime reads it */
    const char *source; /* where the servers came from: "MCP_SERVERS", ... or NULL */
    long cache_ttl_s;   /* MCP_CACHE_TTL_S; 0: no cache */
    long breaker_failures, breaker_cooldown_ms;
    long tools_ttl_ms; /* a server's tool list is asked again after this */
    long connect_timeout_ms;
    size_t max_response;
} cfg_t;

typedef struct mcpw mcpw_t;

typedef struct {
    mcpw_t *M;
    const mcp_server_conf_t *conf;
    mcp_client_t *client;
    mcp_oauth_t *oauth; /* its authorization provider ("oauth" in MCP_SERVERS), or NULL */
    llm_breaker_t breaker;
    json_t *tools;     /* the last tools/list's "tools" (owned), or NULL */
    uint64_t tools_at; /* when it came (monotonic ms) */
} server_t;

typedef struct job job_t;

struct mcpw {
    cfg_t cfg;
    mcp_config_t *conf; /* NULL: no server configured */
    server_t *servers;
    size_t nservers;
    pa_worker_t *w;
    pa_http_t *http;
    pa_aredis_t *redis;
    job_t *jobs;
    int stopping;
};

typedef enum { OP_STAGE_ENRICH, OP_TOOLS, OP_ENRICH, OP_SEARCH, OP_CALL } op_t;

/* A task in progress. It outlives its task while a cache look-up about it is out (refs). */
struct job {
    mcpw_t *M;
    pa_task_t *t; /* NULL once the task is done */
    char key[140];
    int refs;
    op_t op;
    mcp_tool_t ptool; /* OP_STAGE_ENRICH, OP_ENRICH, OP_SEARCH: the pipeline tool */
    json_t *vars;     /* its template variables: {domain} or {query, limit?} */
    size_t from;      /* the next server index to try (candidates, tool lists) */
    server_t *S;      /* the server asked now */
    char *tool;       /* the tool's name on S */
    json_t *args;     /* the call's arguments */
    long limit;       /* OP_SEARCH: most contacts answered (0: as the tool gives) */
    char cache_key[MCP_CACHE_KEY_MAX];
    mcp_call_t *call;     /* the request out, or NULL */
    int listing;          /* the request out is a tools/list */
    int probe;            /* it is its breaker's half-open probe */
    server_t *named;      /* OP_CALL: the server the caller named, or NULL */
    server_t *listed;     /* OP_CALL: the server whose tools were just asked for */
    json_t *found;        /* OP_TOOLS: the servers' entries so far */
    pa_buf_t why;         /* why earlier servers gave nothing, "; "-separated */
    const char *err_code; /* the last failure's kind (API calls), NULL: none */
    long long retry_ms;   /* circuit_open: when to try again */
    job_t *prev, *next;
};

static void try_next(job_t *j);
static void call_next(job_t *j);
static void tools_next(job_t *j);

/* ---- jobs --------------------------------------------------------------------------------- */

static job_t *job_new(mcpw_t *M, pa_task_t *t, op_t op)
{
    job_t *j = pa_calloc(1, sizeof *j);
    j->M = M;
    j->t = t;
    j->refs = 1;
    j->op = op;
    j->why = (pa_buf_t)PA_BUF_INIT;
    t->user = j;
    snprintf(j->key, sizeof j->key, "%s", t->key);
    j->next = M->jobs;
    if (M->jobs) M->jobs->prev = j;
    M->jobs = j;
    return j;
}

static void job_release(job_t *j)
{
    if (--j->refs > 0) return;
    json_decref(j->vars);
    json_decref(j->args);
    json_decref(j->found);
    free(j->tool);
    pa_buf_free(&j->why);
    free(j);
}

/* Lets go of the task (done, cancelled, or the worker stops): the request out is cancelled. */
static void job_end(job_t *j)
{
    mcpw_t *M = j->M;
    if (!j->t) return;
    j->t->user = NULL;
    j->t = NULL;
    if (j->call) {
        mcp_call_cancel(j->call, "the task ended");
        j->call = NULL;
        if (j->S) llm_breaker_abandon(&j->S->breaker, j->probe);
    }
    if (j->prev) j->prev->next = j->next;
    else M->jobs = j->next;
    if (j->next) j->next->prev = j->prev;
    job_release(j);
}

/* Ends the task with outcome and result (a JSON value, stolen), error (may be NULL). */
static void finish(job_t *j, pa_outcome_t outcome, json_t *result, const char *error)
{
    char *s = result ? json_dumps(result, JSON_COMPACT) : NULL;
    json_decref(result);
    if (result && !s) {
        outcome = PA_OUT_FAILED;
        error = "mcp: cannot encode the result";
    }
    pa_worker_done(j->M->w, j->t, outcome, s, error, 0);
    free(s);
    job_end(j);
}

/* An API call (mcp_call) fails with code (the gateway's problem: unknown_server, unknown_tool,
 * bad_arguments, timeout, tool_error, rpc_error, unavailable, circuit_open, not_configured) and
 * message. */
static void fail_call(job_t *j, const char *code, const char *message)
{
    json_t *r = json_pack("{s:s, s:s}", "error", code, "message", message);
    if (j->S) json_object_set_new(r, "server", json_string(j->S->conf->name));
    if (j->tool) json_object_set_new(r, "tool", json_string(j->tool));
    if (strcmp(code, "circuit_open") == 0)
        json_object_set_new(r, "retry_after_ms",
                            json_integer(j->retry_ms > 0 ? j->retry_ms : 1000));
    char err[700];
    snprintf(err, sizeof err, "mcp: %s", message);
    finish(j, PA_OUT_FAILED, r, err);
}

/* The enrich stage goes on without enrichment: succeeded, with the reason recorded. */
static void skip_enrich(job_t *j, const char *reason)
{
    json_t *r = json_pack("{s:b, s:s}", "skipped", 1, "reason", reason);
    const char *d = json_string_value(json_object_get(j->vars, "domain"));
    if (d) json_object_set_new(r, "domain", json_string(d));
    pa_debug("enrichment skipped", PA_S("task_id", j->key), PA_S("reason", reason));
    char err[700];
    snprintf(err, sizeof err, "mcp: enrichment skipped: %s", reason);
    finish(j, PA_OUT_SUCCEEDED, r, err);
}

static void add_why(job_t *j, const char *fmt, const char *a, const char *b)
{
    if (j->why.len) pa_buf_puts(&j->why, "; ");
    pa_buf_printf(&j->why, fmt, a, b);
}

/* ---- servers and their breakers ----------------------------------------------------------- */

/* The breakers of every server, in the worker's status record (field "mcp_servers"). */
static void publish_servers(mcpw_t *M)
{
    json_t *a = json_array();
    uint64_t now = pa_mono_ms();
    for (size_t i = 0; i < M->nservers; i++) {
        const server_t *S = &M->servers[i];
        long in = llm_breaker_retry_in_ms(&S->breaker, now);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", S->conf->name,
                                           "transport", mcp_transport_name(S->conf->transport),
                                           "breaker_state",
                                           llm_breaker_state_name(S->breaker.state), "failures",
                                           (json_int_t)S->breaker.failures, "open_until_ms",
                                           (json_int_t)(S->breaker.state == LLM_BREAKER_OPEN
                                                            ? pa_wall_ms() + (uint64_t)in
                                                            : 0)));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    pa_worker_set_status(M->w, "mcp_servers", s);
    free(s);
    json_decref(a);
}

/* 1 when a request may go to S now (its breaker lets it); else j->why and j->retry_ms say why. */
static int breaker_allows(job_t *j, server_t *S)
{
    uint64_t now = pa_mono_ms();
    if (llm_breaker_tick(&S->breaker, now)) publish_servers(j->M);
    if (llm_breaker_allows(&S->breaker)) return 1;
    long in = llm_breaker_retry_in_ms(&S->breaker, now);
    j->retry_ms = in > 0 ? in : 1000;
    char msg[200];
    snprintf(msg, sizeof msg,
             "circuit breaker open after %ld consecutive failures; no call for %ld s",
             S->breaker.failures > 0 ? S->breaker.failures : S->breaker.threshold,
             (long)((j->retry_ms + 999) / 1000));
    add_why(j, "%s: %s", S->conf->name, msg);
    j->err_code = "circuit_open";
    return 0;
}

/* The outcome of a request to S for its breaker: the server answered (even with an error) or
 * it did not. */
static void breaker_record(job_t *j, server_t *S, const mcp_answer_t *a)
{
    llm_call_outcome_t o;
    switch (a->status) {
    case MCP_OK:
    case MCP_ERR_TOOL:
    case MCP_ERR_RPC: o = LLM_CALL_OK; break;
    case MCP_ERR_CLOSED: llm_breaker_abandon(&S->breaker, j->probe); return;
    default: o = LLM_CALL_FAILED; break;
    }
    if (!llm_breaker_record(&S->breaker, o, j->probe, pa_mono_ms())) return;
    if (S->breaker.state == LLM_BREAKER_OPEN)
        pa_warn("circuit breaker open: no calls to this MCP server until the cool-down ends",
                PA_S("server", S->conf->name), PA_I("failures", S->breaker.failures),
                PA_I("cooldown_ms", S->breaker.cooldown_ms), PA_S("error", a->message));
    else
        pa_info("circuit breaker closed: the MCP server answers again",
                PA_S("server", S->conf->name));
    publish_servers(j->M);
}

/* The failure kind of an answer, for API calls. */
static const char *answer_code(const mcp_answer_t *a)
{
    switch (a->status) {
    case MCP_ERR_TOOL: return "tool_error";
    case MCP_ERR_RPC: return a->code == -32602 ? "bad_arguments" : "rpc_error";
    case MCP_ERR_TIMEOUT: return "timeout";
    default: return "unavailable";
    }
}

/* ---- pipeline tools: enrich_company, search_contacts ------------------------------------- */

/* What a successful answer (result: the tools/call result) makes of j. */
static void succeed(job_t *j, const json_t *result, int cached)
{
    json_t *value = mcp_result_value(result);
    const char *server = j->S->conf->name;
    json_t *r;
    if (j->op == OP_STAGE_ENRICH || j->op == OP_ENRICH) {
        if (!json_is_object(value)) {
            json_t *v = json_pack("{s:o}", "value", value ? value : json_null());
            value = v;
        }
        r = json_pack("{s:O, s:o, s:s, s:s, s:b}", "domain", json_object_get(j->vars, "domain"),
                      "company_info", value, "server", server, "tool", j->tool, "cached", cached);
    } else if (j->op == OP_SEARCH) {
        json_t *contacts = json_object_get(value, "contacts");
        if (json_is_array(contacts)) json_incref(contacts);
        else if (json_is_array(value)) contacts = json_incref(value);
        else contacts = value ? json_pack("[O]", value) : json_array();
        while (j->limit > 0 && json_array_size(contacts) > (size_t)j->limit)
            json_array_remove(contacts, json_array_size(contacts) - 1);
        r = json_pack("{s:O, s:o, s:s, s:s, s:b}", "query", json_object_get(j->vars, "query"),
                      "contacts", contacts, "server", server, "tool", j->tool, "cached", cached);
        json_decref(value);
    } else { /* OP_CALL */
        r = json_pack("{s:s, s:s, s:O, s:b}", "server", server, "tool", j->tool, "result", result,
                      "cached", cached);
        json_decref(value);
    }
    pa_debug("tool answered", PA_S("task_id", j->key), PA_S("server", server),
             PA_S("tool", j->tool), PA_B("cached", cached));
    finish(j, PA_OUT_SUCCEEDED, r, NULL);
}

static void on_tool_answer(void *ud, const mcp_answer_t *a)
{
    job_t *j = ud;
    mcpw_t *M = j->M;
    j->call = NULL;
    server_t *S = j->S;
    breaker_record(j, S, a);
    if (!j->t) return; /* (cannot happen: a cancelled call is never answered) */
    if (a->status == MCP_OK) {
        long long ttl = M->cfg.cache_ttl_s * 1000LL;
        long long given;
        if (mcp_result_ttl_ms(a->result, &given) && given < ttl) ttl = given;
        if (j->cache_key[0] && ttl > 0) {
            char *s = json_dumps(a->result, JSON_COMPACT);
            if (s) mcp_cache_put(M->redis, j->cache_key, s, ttl);
            free(s);
        }
        succeed(j, a->result, 0);
        return;
    }
    const char *code = answer_code(a);
    pa_info("MCP tool call failed", PA_S("task_id", j->key), PA_S("server", S->conf->name),
            PA_S("tool", j->tool), PA_S("status", mcp_status_name(a->status)),
            PA_S("error", a->message));
    if (j->op == OP_CALL) {
        fail_call(j, code, a->message);
        return;
    }
    /* a definitive answer of the server ends an API call; anything else tries the next server */
    if (j->op != OP_STAGE_ENRICH && a->status != MCP_ERR_TIMEOUT &&
        (a->status == MCP_ERR_TOOL || a->status == MCP_ERR_RPC)) {
        fail_call(j, code, a->message);
        return;
    }
    add_why(j, "%s: %s", S->conf->name, a->message[0] ? a->message : mcp_status_name(a->status));
    j->err_code = code;
    try_next(j);
}

static void send_call(job_t *j)
{
    j->probe = llm_breaker_start(&j->S->breaker);
    j->listing = 0;
    j->call = mcp_client_call_tool(j->S->client, j->tool, j->args, 0, on_tool_answer, j);
}

static void on_cached(const char *v, size_t len, void *ud)
{
    job_t *j = ud;
    if (j->t) {
        json_t *res = v ? json_loadb(v, len, 0, NULL) : NULL;
        if (json_is_object(res)) succeed(j, res, 1);
        else if (!j->M->stopping && breaker_allows(j, j->S)) send_call(j);
        else if (!j->M->stopping) try_next(j);
        json_decref(res);
    }
    job_release(j);
}

/* Asks server S for j's pipeline tool: from the cache when it holds the answer, else a call. */
static void ask(job_t *j, server_t *S)
{
    mcpw_t *M = j->M;
    const mcp_tool_map_t *map = &S->conf->tools[j->ptool];
    char err[300];
    j->S = S;
    free(j->tool);
    j->tool = pa_strdup(map->tool);
    json_decref(j->args);
    j->args = mcp_config_render_args(map->arguments, j->vars, err, sizeof err);
    if (!j->args) {
        add_why(j, "%s: %s", S->conf->name, err);
        j->err_code = "unavailable";
        try_next(j);
        return;
    }
    j->cache_key[0] = '\0';
    if (M->cfg.cache_ttl_s > 0 && M->redis &&
        mcp_cache_key(M->cfg.prefix, S->conf->name, j->tool, j->args, j->cache_key,
                      sizeof j->cache_key) == 0) {
        j->refs++;
        if (mcp_cache_get(M->redis, M->cfg.prefix, j->cache_key, on_cached, j) == 0) return;
        j->refs--;
    }
    if (breaker_allows(j, S)) send_call(j);
    else try_next(j);
}

/* The next server that maps j's pipeline tool, in the configured order; when none is left the
 * task ends with what went wrong. */
static void try_next(job_t *j)
{
    mcpw_t *M = j->M;
    const mcp_server_conf_t *c = M->conf ? mcp_config_find_tool(M->conf, j->ptool, &j->from) : NULL;
    if (c) {
        server_t *S = &M->servers[j->from];
        j->from++;
        if (!S->client) {
            add_why(j, "%s: %s", c->name, "no client (see the worker's start-up log)");
            j->err_code = "unavailable";
            try_next(j);
            return;
        }
        ask(j, S);
        return;
    }
    char reason[900];
    if (j->why.len) snprintf(reason, sizeof reason, "%s", j->why.data);
    else if (!M->conf) snprintf(reason, sizeof reason, "%s", NO_SERVER_REASON);
    else
        snprintf(reason, sizeof reason, "no enabled MCP server maps the tool %s",
                 mcp_tool_name(j->ptool));
    if (j->op == OP_STAGE_ENRICH) {
        skip_enrich(j, reason);
        return;
    }
    j->S = NULL;
    fail_call(j, j->err_code ? j->err_code : "not_configured", reason);
}

/* ---- tool lists --------------------------------------------------------------------------- */

static int tools_fresh(const mcpw_t *M, const server_t *S)
{
    return S->tools && pa_mono_ms() - S->tools_at < (uint64_t)M->cfg.tools_ttl_ms;
}

static const json_t *find_tool(const server_t *S, const char *name)
{
    size_t i;
    const json_t *t;
    json_array_foreach(S->tools, i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0) return t;
    }
    return NULL;
}

static void on_tools(void *ud, const mcp_answer_t *a);

/* Asks S for its tools (for j, whose next step is tools_next or call_next). 0 when asked, -1
 * when its breaker refuses (j->why says so). */
static int list_tools(job_t *j, server_t *S)
{
    j->S = S;
    if (!breaker_allows(j, S)) return -1;
    j->probe = llm_breaker_start(&S->breaker);
    j->listing = 1;
    j->call = mcp_client_list_tools(S->client, 0, on_tools, j);
    return 0;
}

/* A server's entry of the tools answer: name, transport, its breaker's state, and its tools with
 * the pipeline tools it maps (tools NULL: error says why there are none). */
static json_t *server_entry(const server_t *S, const json_t *tools, const char *error)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "name", S->conf->name, "transport",
                          mcp_transport_name(S->conf->transport), "breaker_state",
                          llm_breaker_state_name(S->breaker.state));
    if (tools) json_object_set(e, "tools", (json_t *)tools);
    else json_object_set_new(e, "error", json_string(error ? error : "no tool list"));
    json_t *maps = json_object();
    for (int t = 0; t < MCP_TOOL_COUNT; t++)
        if (S->conf->tools[t].tool)
            json_object_set_new(maps, mcp_tool_name((mcp_tool_t)t),
                                json_string(S->conf->tools[t].tool));
    json_object_set_new(e, "pipeline", maps);
    return e;
}

static void on_tools(void *ud, const mcp_answer_t *a)
{
    job_t *j = ud;
    server_t *S = j->S;
    j->call = NULL;
    breaker_record(j, S, a);
    const json_t *tools = a->status == MCP_OK ? json_object_get(a->result, "tools") : NULL;
    if (json_is_array(tools)) {
        json_decref(S->tools);
        S->tools = json_deep_copy(tools);
        S->tools_at = pa_mono_ms();
    } else {
        const char *m =
            a->status == MCP_OK ? "tools/list answered without a tools array" : a->message;
        add_why(j, "%s: %s", S->conf->name, m[0] ? m : mcp_status_name(a->status));
        j->err_code = a->status == MCP_OK ? "unavailable" : answer_code(a);
        if (j->op == OP_TOOLS) json_array_append_new(j->found, server_entry(S, NULL, m));
    }
    if (j->op == OP_TOOLS) {
        if (json_is_array(tools)) json_array_append_new(j->found, server_entry(S, S->tools, NULL));
        tools_next(j);
    } else {
        j->listed = S;
        call_next(j);
    }
}

/* OP_TOOLS: every enabled server's tools, in order. */
static void tools_next(job_t *j)
{
    mcpw_t *M = j->M;
    while (j->from < M->nservers) {
        server_t *S = &M->servers[j->from++];
        if (!S->conf->enabled) continue;
        if (!S->client || tools_fresh(M, S)) {
            json_array_append_new(j->found,
                                  server_entry(S, S->client ? S->tools : NULL,
                                               "no client (see the worker's start-up log)"));
            continue;
        }
        if (list_tools(j, S) == 0) return;
        json_array_append_new(j->found, server_entry(S, S->tools, "circuit breaker open"));
    }
    j->S = NULL;
    json_t *r = json_pack("{s:O}", "servers", j->found);
    finish(j, PA_OUT_SUCCEEDED, r, NULL);
}

/* OP_CALL: the named server, or the first enabled one that offers the tool; then the tool's
 * arguments are checked against its input schema and the call goes. */
static void call_next(job_t *j)
{
    mcpw_t *M = j->M;
    for (;;) {
        server_t *S = j->named;
        if (!S) {
            while (j->from < M->nservers && !M->servers[j->from].conf->enabled) j->from++;
            if (j->from < M->nservers) S = &M->servers[j->from];
        }
        if (!S) {
            j->S = NULL;
            char m[300];
            snprintf(m, sizeof m, "no configured MCP server offers the tool '%.200s'", j->tool);
            if (j->why.len && j->err_code) pa_buf_printf(&j->why, " (%s)", m);
            fail_call(j, j->why.len && j->err_code ? j->err_code : "unknown_tool",
                      j->why.len && j->err_code ? j->why.data : m);
            return;
        }
        if (j->listed != S && !tools_fresh(M, S)) {
            if (S->client && list_tools(j, S) == 0) return; /* on_tools comes back here */
            if (!S->client) {
                add_why(j, "%s: %s", S->conf->name, "no client (see the worker's start-up log)");
                j->err_code = "unavailable";
            }
            j->listed = S;
        }
        const json_t *tool = S->tools ? find_tool(S, j->tool) : NULL;
        if (!S->tools && j->named) {
            j->S = S;
            fail_call(j, j->err_code ? j->err_code : "unavailable", j->why.data);
            return;
        }
        if (!tool) {
            if (j->named) {
                char m[300];
                snprintf(m, sizeof m, "the MCP server '%s' has no tool '%.200s'", S->conf->name,
                         j->tool);
                j->S = S;
                fail_call(j, "unknown_tool", m);
                return;
            }
            j->from++;
            continue;
        }
        j->S = S;
        char err[300];
        if (mcp_args_check(json_object_get(tool, "inputSchema"), j->args, err, sizeof err) < 0) {
            fail_call(j, "bad_arguments", err);
            return;
        }
        if (!breaker_allows(j, S)) {
            fail_call(j, "circuit_open", j->why.data);
            return;
        }
        send_call(j);
        return;
    }
}

/* ---- tasks -------------------------------------------------------------------------------- */

static void start_pipeline(job_t *j, mcp_tool_t t)
{
    j->ptool = t;
    j->from = 0;
    try_next(j);
}

static void on_stage_enrich(mcpw_t *M, pa_task_t *t)
{
    job_t *j = job_new(M, t, OP_STAGE_ENRICH);
    char domain[256];
    if (mcp_domain_of(t->target, pa_task_input(t), domain, sizeof domain) < 0) {
        skip_enrich(j, "the target has no domain name (its URL's host, website or email)");
        return;
    }
    j->vars = json_pack("{s:s}", "domain", domain);
    if (!M->conf) {
        skip_enrich(j, NO_SERVER_REASON);
        return;
    }
    start_pipeline(j, MCP_TOOL_ENRICH_COMPANY);
}

/* mcp_call: input {op: "tools"} | {op: "enrich", domain} | {op: "search_contacts", query,
 * limit?} | {op: "call", server?, tool, arguments?} (the gateway validated the shapes). */
static void on_call(mcpw_t *M, pa_task_t *t)
{
    const json_t *in = pa_task_input(t);
    const char *op = json_string_value(json_object_get(in, "op"));
    op_t k = !op                                  ? OP_CALL
             : strcmp(op, "tools") == 0           ? OP_TOOLS
             : strcmp(op, "enrich") == 0          ? OP_ENRICH
             : strcmp(op, "search_contacts") == 0 ? OP_SEARCH
                                                  : OP_CALL;
    job_t *j = job_new(M, t, k);
    if (!op || (k == OP_CALL && strcmp(op, "call") != 0)) {
        fail_call(j, "bad_arguments", "the mcp_call task has no known op");
        return;
    }
    const char *named = json_string_value(json_object_get(in, "server"));
    if (!M->conf) {
        char m[300];
        snprintf(m, sizeof m, "no MCP server is named '%.64s': %s", named ? named : "",
                 NO_SERVER_REASON);
        if (k == OP_TOOLS) finish(j, PA_OUT_SUCCEEDED, json_pack("{s:[]}", "servers"), NULL);
        else if (k == OP_CALL && named) fail_call(j, "unknown_server", m);
        else fail_call(j, "not_configured", NO_SERVER_REASON);
        return;
    }
    switch (k) {
    case OP_TOOLS:
        j->found = json_array();
        tools_next(j);
        return;
    case OP_ENRICH: {
        const char *d = json_string_value(json_object_get(in, "domain"));
        if (!d || !mcp_domain_valid(d)) {
            fail_call(j, "bad_arguments", "domain: must be a domain name");
            return;
        }
        char low[256];
        snprintf(low, sizeof low, "%s", d);
        for (char *p = low; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        j->vars = json_pack("{s:s}", "domain", low);
        start_pipeline(j, MCP_TOOL_ENRICH_COMPANY);
        return;
    }
    case OP_SEARCH: {
        const json_t *q = json_object_get(in, "query"), *lim = json_object_get(in, "limit");
        if (!json_is_string(q)) {
            fail_call(j, "bad_arguments", "query: must be a string");
            return;
        }
        j->vars = json_pack("{s:O}", "query", q);
        if (json_is_integer(lim)) {
            j->limit = (long)json_integer_value(lim);
            json_object_set(j->vars, "limit", (json_t *)lim);
        }
        start_pipeline(j, MCP_TOOL_SEARCH_CONTACTS);
        return;
    }
    default: break;
    }
    const char *tool = json_string_value(json_object_get(in, "tool"));
    const char *server = json_string_value(json_object_get(in, "server"));
    const json_t *args = json_object_get(in, "arguments");
    j->tool = pa_strdup(tool ? tool : "");
    j->args = args ? json_deep_copy(args) : json_object();
    if (!tool || !*tool) {
        fail_call(j, "bad_arguments", "tool: is required");
        return;
    }
    if (server) {
        const mcp_server_conf_t *c = mcp_config_server(M->conf, server);
        if (!c || !c->enabled) {
            char m[200];
            snprintf(m, sizeof m, "no %sMCP server is named '%.64s'", c ? "enabled " : "", server);
            fail_call(j, "unknown_server", m);
            return;
        }
        j->named = &M->servers[c - M->conf->servers];
    }
    call_next(j);
}

static void on_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    mcpw_t *M = ud;
    if (strcmp(t->stage, "enrich") == 0) on_stage_enrich(M, t);
    else if (strcmp(t->stage, "mcp_call") == 0) on_call(M, t);
    else {
        char err[200];
        snprintf(err, sizeof err, "mcp: this worker runs the enrich and mcp_call stages, not '%s'",
                 t->stage);
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, err, 0);
    }
}

static void on_cancel(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud)
{
    (void)ud;
    job_t *j = t->user;
    char why[200];
    snprintf(why, sizeof why, "mcp: cancelled (%s)", reason ? reason : "?");
    pa_debug("task cancelled", PA_S("task_id", t->key), PA_S("reason", reason),
             PA_B("call_out", j && j->call));
    pa_worker_done(w, t, PA_OUT_FAILED, NULL, why, 0);
    if (j) job_end(j);
}

/* ---- the runtime's loop ------------------------------------------------------------------- */

/* ---- OAuth tokens: in Redis only, with a TTL (never logged) ------------------------------- */

typedef struct {
    void (*cb)(void *cb_ud, const char *value);
    void *cb_ud;
} token_wait_t;

static void token_store(void *ud, const char *key, const char *value, long ttl_s)
{
    server_t *S = ud;
    char k[MCP_CACHE_KEY_MAX];
    if (!S->M->redis || mcp_oauth_store_key(S->M->cfg.prefix, S->conf->name, key, k, sizeof k) < 0)
        return;
    pa_aredis_cmd(S->M->redis, NULL, NULL, "SET %s %s EX %ld", k, value, ttl_s > 0 ? ttl_s : 3600L);
}

static void on_token(redisReply *rep, void *ud)
{
    token_wait_t *tw = ud;
    tw->cb(tw->cb_ud, rep && rep->type == REDIS_REPLY_STRING ? rep->str : NULL);
    free(tw);
}

static void token_load(void *ud, const char *key, void (*cb)(void *cb_ud, const char *value),
                       void *cb_ud)
{
    server_t *S = ud;
    char k[MCP_CACHE_KEY_MAX];
    token_wait_t *tw = pa_malloc(sizeof *tw);
    tw->cb = cb;
    tw->cb_ud = cb_ud;
    if (mcp_oauth_store_key(S->M->cfg.prefix, S->conf->name, key, k, sizeof k) < 0)
        snprintf(k, sizeof k, "%smcp:oauth:%s:-", S->M->cfg.prefix, S->conf->name);
    if (pa_aredis_cmd(S->M->redis, on_token, tw, "GET %s", k) < 0) free(tw); /* stopping */
}

/* The authorization provider of S when it has "oauth"; 0, or -1 (logged) when it cannot be made. */
static int make_oauth(mcpw_t *M, server_t *S)
{
    const mcp_oauth_conf_t *a = &S->conf->oauth;
    if (!a->on) return 0;
    char *secret = a->client_secret.env ? mcp_env_ref_value(&a->client_secret) : NULL;
    char err[256];
    mcp_oauth_cfg_t oc = {.loop = pa_worker_loop(M->w),
                          .http = M->http,
                          .client_id = a->client_id,
                          .client_secret = secret,
                          .client_metadata_url = a->client_metadata_url,
                          .redirect_uri = a->redirect_uri,
                          .client_credentials = a->client_credentials,
                          .scope = a->scope,
                          .store = token_store,
                          .load = token_load,
                          .store_ud = S};
    S->oauth = mcp_oauth_new(&oc, err, sizeof err);
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    if (S->oauth) return 0;
    pa_error("MCP server left out: its authorization cannot be set up",
             PA_S("server", S->conf->name), PA_S("error", err));
    return -1;
}

static int on_start(pa_worker_t *w, void *ud)
{
    mcpw_t *M = ud;
    char err[256];
    M->redis = pa_worker_aredis(w);
    if (!M->conf) {
        pa_worker_set_status(w, "mcp_enrich", "skipped: " NO_SERVER_REASON);
        return 0;
    }
    pa_http_cfg_t hc = {.connect_timeout_ms = M->cfg.connect_timeout_ms,
                        .timeout_ms = 600000,
                        .max_body = M->cfg.max_response,
                        .max_host_connections = 16};
    M->http = pa_http_new(pa_worker_loop(w), &hc, err, sizeof err);
    if (!M->http) {
        pa_error("cannot initialise libcurl", PA_S("error", err));
        return -1;
    }
    for (size_t i = 0; i < M->nservers; i++) {
        server_t *S = &M->servers[i];
        if (!S->conf->enabled) continue;
        if (make_oauth(M, S) < 0) continue;
        mcp_client_cfg_t cc = {.loop = pa_worker_loop(w),
                               .http = M->http,
                               .server = S->conf,
                               .client_name = "prospect-ai",
                               .auth = S->oauth ? mcp_oauth_ops() : NULL,
                               .auth_self = S->oauth,
                               .max_message = M->cfg.max_response};
        S->client = mcp_client_new(&cc, err, sizeof err);
        if (!S->client)
            pa_error("MCP server left out: its client cannot be made",
                     PA_S("server", S->conf->name), PA_S("error", err));
    }
    pa_worker_set_status(w, "mcp_enrich", "configured");
    publish_servers(M);
    return 0;
}

static void on_stop(pa_worker_t *w, void *ud)
{
    (void)w;
    mcpw_t *M = ud;
    M->stopping = 1;
    for (job_t *j = M->jobs; j; j = j->next) j->call = NULL; /* the clients go, and their calls */
    for (size_t i = 0; i < M->nservers; i++) {
        mcp_client_destroy(&M->servers[i].client);
        mcp_oauth_destroy(&M->servers[i].oauth);
    }
    pa_http_destroy(&M->http);
    while (M->jobs) job_end(M->jobs);
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Splits a command line at blanks, with '...' and "..." quoting (no other shell syntax) into a
 * JSON array of strings; NULL when a quote is not closed or it is empty. */
static json_t *split_command(const char *s)
{
    json_t *a = json_array();
    pa_buf_t b = PA_BUF_INIT;
    int in_word = 0;
    char q = 0;
    for (;; s++) {
        char c = *s;
        if (q) {
            if (!c) goto bad;
            if (c == q) q = 0;
            else pa_buf_putc(&b, c);
            continue;
        }
        if (c == '\'' || c == '"') {
            q = c;
            in_word = 1;
            continue;
        }
        if (!c || c == ' ' || c == '\t' || c == '\n') {
            if (in_word) json_array_append_new(a, json_stringn(b.data ? b.data : "", b.len));
            b.len = 0;
            in_word = 0;
            if (!c) break;
            continue;
        }
        pa_buf_putc(&b, c);
        in_word = 1;
    }
    pa_buf_free(&b);
    if (json_array_size(a) == 0) goto bad_a;
    return a;
bad:
    pa_buf_free(&b);
bad_a:
    json_decref(a);
    return NULL;
}

/* MCP_SERVER_COMMAND or MCP_SERVER_URL as a one-server MCP_SERVERS document. */
static char *single_server(const char *command, const char *url, long timeout_ms, char *err,
                           size_t errlen)
{
    json_t *tools = json_pack("{s:{s:s}, s:{s:s, s:{s:s, s:s}}}", "enrich_company", "tool",
                              "enrich_company", "search_contacts", "tool", "search_contacts",
                              "arguments", "query", "{{query}}", "limit", "{{limit}}");
    json_t *s = json_pack("{s:s, s:I, s:o}", "name", "default", "timeout_ms",
                          (json_int_t)timeout_ms, "tools", tools);
    if (command) {
        json_t *argv = split_command(command);
        if (!argv) {
            snprintf(err, errlen, "MCP_SERVER_COMMAND: empty, or a quote is not closed");
            json_decref(s);
            return NULL;
        }
        json_object_set_new(s, "transport", json_string("stdio"));
        json_object_set(s, "command", json_array_get(argv, 0));
        json_array_remove(argv, 0);
        json_object_set_new(s, "args", argv);
    } else {
        json_object_set_new(s, "transport", json_string("http"));
        json_object_set_new(s, "url", json_string(url));
    }
    json_t *doc = json_pack("{s:[o]}", "servers", s);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static int read_cfg(mcpw_t *M, char *err, size_t errlen)
{
    cfg_t *c = &M->cfg;
    c->prefix = pa_env_str("REDIS_PREFIX", "pa:");
    long timeout_ms;
    if (pa_env_long("MCP_CACHE_TTL_S", 86400, 0, 31536000, &c->cache_ttl_s, err, errlen) < 0 ||
        pa_env_long("MCP_BREAKER_FAILURES", 5, 0, 1000, &c->breaker_failures, err, errlen) < 0 ||
        pa_env_long("MCP_BREAKER_COOLDOWN_MS", 30000, 100, 3600000, &c->breaker_cooldown_ms, err,
                    errlen) < 0 ||
        pa_env_long("MCP_TOOLS_TTL_MS", 60000, 0, 86400000, &c->tools_ttl_ms, err, errlen) < 0 ||
        pa_env_long("MCP_CONNECT_TIMEOUT_MS", 10000, 100, 600000, &c->connect_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("MCP_TIMEOUT_MS", MCP_CONFIG_TIMEOUT_DEFAULT_MS, 1, 600000, &timeout_ms, err,
                    errlen) < 0 ||
        pa_env_size("MCP_MAX_RESPONSE_BYTES", 4u << 20, 1024, 64u << 20, &c->max_response, err,
                    errlen) < 0)
        return -1;
    const char *file = pa_env_str("MCP_SERVERS", NULL);
    const char *command = pa_env_str("MCP_SERVER_COMMAND", NULL);
    const char *url = pa_env_str("MCP_SERVER_URL", NULL);
    if (file && !*file) file = NULL;
    if (command && !*command) command = NULL;
    if (url && !*url) url = NULL;
    if (!!file + !!command + !!url > 1) {
        snprintf(err, errlen,
                 "MCP_SERVERS, MCP_SERVER_COMMAND, MCP_SERVER_URL: set one of them, not several");
        return -1;
    }
    mcp_config_err_t ce;
    if (file) {
        c->source = "MCP_SERVERS";
        if (mcp_config_load_file(file, &M->conf, &ce) < 0) {
            snprintf(err, errlen, "MCP_SERVERS: %s", ce.message);
            return -1;
        }
    } else if (command || url) {
        c->source = command ? "MCP_SERVER_COMMAND" : "MCP_SERVER_URL";
        char *text = single_server(command, url, timeout_ms, err, errlen);
        if (!text) return -1;
        int rc = mcp_config_parse(text, strlen(text), &M->conf, &ce);
        free(text);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", c->source, ce.message);
            return -1;
        }
    }
    if (M->conf && mcp_config_check_env(M->conf, &ce) < 0) {
        snprintf(err, errlen, "%s: %s", c->source, ce.message);
        return -1;
    }
    if (M->conf) {
        M->nservers = M->conf->nservers;
        M->servers = pa_calloc(M->nservers ? M->nservers : 1, sizeof *M->servers);
        for (size_t i = 0; i < M->nservers; i++) {
            M->servers[i].M = M;
            M->servers[i].conf = &M->conf->servers[i];
            llm_breaker_init(&M->servers[i].breaker, c->breaker_failures, c->breaker_cooldown_ms);
        }
    }
    return 0;
}

static void free_cfg(mcpw_t *M)
{
    for (size_t i = 0; i < M->nservers; i++) json_decref(M->servers[i].tools);
    free(M->servers);
    mcp_config_free(&M->conf);
}

/* A URL for logs: without user information, query or fragment (they may hold credentials). */
static void loggable_url(const char *url, char *out, size_t n)
{
    const char *sch = strstr(url, "://");
    int pre = sch ? (int)(sch + 3 - url) : 0;
    const char *s = url + pre, *at = strchr(s, '@'), *slash = strchr(s, '/');
    if (at && (!slash || at < slash)) s = at + 1;
    snprintf(out, n, "%.*s%.*s", pre, url, (int)strcspn(s, "?#"), s);
}

int main(void)
{
    pa_mem_install_hooks();
    char err[700];
    pa_log_level_t lvl = PA_LOG_INFO;
    pa_log_parse_level(pa_env_str("LOG_LEVEL", "info"), &lvl);
    pa_log_init("mcp-worker", lvl, 2);
    mcpw_t M = {0};
    if (read_cfg(&M, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        free_cfg(&M);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pa_error("cannot initialise libcurl", PA_S("error", "curl_global_init failed"));
        free_cfg(&M);
        return 1;
    }
    int rc = 1;
    pa_worker_ops_t ops = {.service = "mcp",
                           .on_start = on_start,
                           .on_task = on_task,
                           .on_cancel = on_cancel,
                           .on_stop = on_stop,
                           .ud = &M};
    M.w = pa_worker_new(&ops, err, sizeof err);
    if (!M.w) {
        pa_error("bad configuration", PA_S("error", err));
        rc = 2;
        goto out;
    }
    if (!M.conf) {
        pa_info("mcp worker configured: enrichment is skipped", PA_S("reason", NO_SERVER_REASON));
    } else {
        for (size_t i = 0; i < M.nservers; i++) {
            const mcp_server_conf_t *s = M.servers[i].conf;
            char where[MCP_CONFIG_MAX_URL + 1] = "";
            if (s->url) loggable_url(s->url, where, sizeof where);
            pa_info("MCP server", PA_S("server", s->name),
                    PA_S("transport", mcp_transport_name(s->transport)),
                    PA_S("url", s->transport == MCP_TRANSPORT_STDIO ? NULL : where),
                    PA_S("command", s->transport == MCP_TRANSPORT_STDIO ? s->command : NULL),
                    PA_B("enabled", s->enabled), PA_B("oauth", s->oauth.on),
                    PA_S("enrich_company", s->tools[MCP_TOOL_ENRICH_COMPANY].tool),
                    PA_S("search_contacts", s->tools[MCP_TOOL_SEARCH_CONTACTS].tool));
        }
        pa_info("mcp worker configured", PA_S("source", M.cfg.source), PA_I("servers", M.nservers),
                PA_I("cache_ttl_s", M.cfg.cache_ttl_s),
                PA_I("breaker_failures", M.cfg.breaker_failures),
                PA_I("breaker_cooldown_ms", M.cfg.breaker_cooldown_ms));
    }
    rc = pa_worker_run(M.w);
out:
    pa_worker_destroy(&M.w);
    for (size_t i = 0; i < M.nservers; i++) {
        mcp_client_destroy(&M.servers[i].client);
        mcp_oauth_destroy(&M.servers[i].oauth);
    }
    pa_http_destroy(&M.http);
    free_cfg(&M);
    curl_global_cleanup();
    return rc;
}
