/* The MCP client: see mcp_client.h. Streamable HTTP on pa_http (both the stateless 2026-07-28
 * form and the 2025-11-25 .. 2025-03-26 sessions).
 *
 * Objects: a call (one request of the user, or the internal initialize) lives from
 * mcp_client_request to its answer; it is re-sent with a new JSON-RPC id when the protocol asks
 * (a -32022 retry, an input_required round, the next page of tools/list, a re-initialised
 * session, credentials obtained). A transfer (xfer) is one HTTP exchange: a call's POST or its
 * resumption GET, or a message the client sends without waiting (notifications, answers to
 * server requests, the DELETE at close). A transfer whose call has been answered goes on
 * detached until it ends.
 *
 * Over a channel (transports stdio and sse, or the fallback of an http server whose initialize is
 * refused with 400/404/405 to the legacy HTTP+SSE transport at the same URL or, when that URL
 * serves no event stream, at the origin's /sse) a session runs on mcp_chan: the messages go through
 * mcp_chan_send, the server's come through on_message, and no transfer is involved. */
#include "mcp_client.h"
#include "mcp_chan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_headers.h"
#include "mcp_jsonrpc.h"
#include "pa_buf.h"
#include "pa_mem.h"
#include "pa_sse.h"

#ifndef PA_VERSION
#define PA_VERSION "0.0.0"
#endif

#define MODERN_VERSION "2026-07-28"
#define SESSION_VERSION "2025-11-25" /* the newest revision with sessions */
#define MAX_PAGES 100
#define MAX_ROUNDS 8     /* input_required rounds of one request */
#define MAX_RESUMES 5    /* GETs resuming one request's stream */
#define MAX_AUTH_TRIES 3 /* challenges of one request */
#define RESUME_DEFAULT_MS 1000
#define CLOSE_DELETE_MS 3000 /* the DELETE at close waits at most this */

typedef enum { MODE_AUTO = 0, MODE_MODERN, MODE_SESSION } mode_t_;
typedef enum { CONN_IDLE = 0, CONN_PROBING, CONN_INIT, CONN_READY } conn_t;
typedef enum { K_REQUEST = 0, K_LIST_TOOLS, K_CALL_TOOL, K_INIT } kind_t;
typedef enum { S_WAITING = 0, S_SENT, S_RESUME_WAIT, S_AUTH_WAIT, S_DONE } cstate_t;
typedef enum { X_CALL = 0, X_RESUME, X_SEND, X_DELETE, X_LISTEN } xkind_t;

typedef struct xfer xfer_t;

struct mcp_call {
    mcp_client_t *c;
    mcp_call_t *prev, *next;
    kind_t kind;
    cstate_t state;
    char *method;
    json_t *params; /* the request's own params (an object) */
    long timeout_ms;
    uint64_t start, deadline, cap;
    pa_timer_t *timer; /* the deadline */
    pa_timer_t *later; /* a deferred step: resumption, a failure answered from the loop */
    mcp_answer_fn fn;
    void *ud;
    json_int_t id;    /* the JSON-RPC id of the last send (0: none yet) */
    json_int_t token; /* progressToken */
    xfer_t *xfer;     /* the running transfer of this call, or NULL */
    long http_status;
    int in_callback;
    /* resumption */
    char *last_event_id;
    long long retry_ms;
    int resumes;
    /* retries */
    int reinit_done, version_retry, auth_tries, rounds;
    /* tools/list pages */
    json_t *acc;
    /* tools/call: the tool list is fetched first (2026-07-28, none kept yet); pending holds
     * the call's params meanwhile */
    int need_tools;
    json_t *pending;
    /* input_required: what the next round sends */
    json_t *input_responses;
    json_t *request_state;
    /* a failure answered from the loop */
    mcp_status_t fail_status;
    char *fail_message;
};

struct xfer {
    mcp_client_t *c;
    mcp_call_t *call; /* NULL once detached */
    xfer_t *prev, *next;
    xkind_t kind;
    pa_http_req_t *req;
    const char *method; /* a literal: the request's method (for a DPoP proof) */
    pa_sse_t sse;
    int sse_on;
    int head_seen;
    int in_data;
    int cancel_pending;
    int had_session; /* the request carried Mcp-Session-Id */
    uint64_t started;
};

struct mcp_client {
    pa_loop_t *loop;
    pa_http_t *http;
    const mcp_server_conf_t *server;
    char *client_name, *client_version;
    const mcp_auth_ops_t *auth;
    void *auth_self;
    int elicit_defaults;
    int no_listen;
    long progress_cap_ms;
    pa_http_connect_fn on_connect;
    size_t max_message;

    mode_t_ mode;
    int configured; /* a revision was configured (no negotiation across forms) */
    conn_t conn;
    char proto[16];
    char *session;
    json_t *server_info;
    json_t *tools; /* the valid tools of the last full list, or NULL */
    json_int_t next_id;
    mcp_call_t *calls; /* every call not yet answered */
    size_t ncalls;
    xfer_t *xfers;
    size_t nxfers;
    mcp_call_t *init;  /* the initialize in flight */
    mcp_call_t *probe; /* auto: the first request, sent in the modern form */
    int closing;
    void (*close_done)(void *);
    void *close_ud;
    pa_timer_t *close_timer;
    pa_timer_t *close_guard;
    /* the session's own stream (GET): the server's requests and notifications outside calls */
    xfer_t *listen;
    pa_timer_t *listen_timer;
    char *listen_last_id;
    long long listen_retry;
    int listen_fails;
    /* a message channel (stdio, sse, or the legacy fallback of http) */
    int use_chan;
    mcp_chan_t *chan;
    mcp_server_conf_t chan_conf; /* the fallback's: the server's, with transport sse and url
                                  * sse_url (NULL until the probe found the event stream) */
    int chan_waiting;            /* initialize when the channel opens */
    /* the fallback's probe: one GET of the configured url, then of the origin's /sse, judged by
     * its head (200, text/event-stream) before the channel opens on the first that works */
    pa_http_req_t *sse_probe; /* the GET in flight, or NULL */
    char *sse_url;            /* the url probed now, then the channel's */
    int sse_step;             /* 0: the configured url, 1: the origin's /sse */
    int sse_seen, sse_ok;     /* the head came (in the data hook), and it was an event stream */
    long sse_status;
    long sse_init_status; /* what initialize answered (the fallback's cause) */
    char sse_first[400];  /* what the configured url answered */
};

/* ---- small helpers ---- */

const char *mcp_status_name(mcp_status_t s)
{
    switch (s) {
    case MCP_OK: return "ok";
    case MCP_ERR_RPC: return "rpc_error";
    case MCP_ERR_TOOL: return "tool_error";
    case MCP_ERR_TIMEOUT: return "timeout";
    case MCP_ERR_TRANSPORT: return "transport_error";
    case MCP_ERR_PROTOCOL: return "protocol_error";
    case MCP_ERR_AUTH: return "auth_error";
    case MCP_ERR_CLOSED: return "closed";
    }
    return "unknown";
}

static int is_modern(const char *v)
{
    return v && strcmp(v, MODERN_VERSION) == 0;
}

static void set_proto(mcp_client_t *c, const char *v)
{
    snprintf(c->proto, sizeof c->proto, "%s", v ? v : "");
}

/* The clock read now, not the loop's time of the turn: a request made after the loop was held up
 * (a blocking start-up, a synchronous Redis call) must not start with its deadline already past
 * (its timer is set from the loop's time, which this refreshes too). */
static uint64_t now_ms(mcp_client_t *c)
{
    return pa_loop_update(c->loop);
}

static void call_link(mcp_client_t *c, mcp_call_t *call)
{
    call->next = c->calls;
    if (c->calls) c->calls->prev = call;
    c->calls = call;
    c->ncalls++;
}

static void call_unlink(mcp_client_t *c, mcp_call_t *call)
{
    if (call->prev) call->prev->next = call->next;
    else if (c->calls == call) c->calls = call->next;
    else return;
    if (call->next) call->next->prev = call->prev;
    call->prev = call->next = NULL;
    c->ncalls--;
}

static void xfer_unlink(mcp_client_t *c, xfer_t *x)
{
    if (x->prev) x->prev->next = x->next;
    else if (c->xfers == x) c->xfers = x->next;
    else return;
    if (x->next) x->next->prev = x->prev;
    x->prev = x->next = NULL;
    c->nxfers--;
}

static void xfer_free(xfer_t *x)
{
    if (x->sse_on) pa_sse_free(&x->sse);
    free(x);
}

/* Stops a transfer (its done is never called). Safe inside the transfer's own data hook. */
static void xfer_cancel(xfer_t *x)
{
    if (!x) return;
    if (x->call && x->call->xfer == x) x->call->xfer = NULL;
    x->call = NULL;
    if (x->in_data) {
        x->cancel_pending = 1;
        return;
    }
    xfer_unlink(x->c, x);
    pa_http_cancel(x->req);
    xfer_free(x);
}

static void call_free(mcp_call_t *call)
{
    mcp_client_t *c = call->c;
    pa_loop_timer_stop(c->loop, &call->timer);
    pa_loop_timer_stop(c->loop, &call->later);
    if (call->state == S_AUTH_WAIT && c->auth && c->auth->abandon)
        c->auth->abandon(c->auth_self, call);
    if (call->xfer) {
        xfer_t *x = call->xfer;
        call->xfer = NULL;
        x->call = NULL;
        if (x->kind == X_RESUME) xfer_cancel(x); /* a GET stream may stay open for ever */
    }
    if (c->init == call) c->init = NULL;
    if (c->probe == call) {
        c->probe = NULL;
        if (c->mode == MODE_AUTO && c->conn == CONN_PROBING) c->conn = CONN_IDLE;
    }
    free(call->method);
    json_decref(call->params);
    json_decref(call->acc);
    json_decref(call->pending);
    json_decref(call->input_responses);
    json_decref(call->request_state);
    free(call->last_event_id);
    free(call->fail_message);
    free(call);
}

/* auto: after a probe that decided nothing (it failed), the next waiting call probes. */
static void call_send(mcp_call_t *call);
static void kick_probe(mcp_client_t *c)
{
    if (c->mode != MODE_AUTO || c->conn != CONN_IDLE || c->closing) return;
    mcp_call_t *first = NULL;
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->state == S_WAITING && k->kind != K_INIT) first = k; /* the oldest */
    if (!first) return;
    c->conn = CONN_PROBING;
    c->probe = first;
    call_send(first);
}

/* Answers a call (once) and frees it. */
static void call_answer(mcp_call_t *call, mcp_status_t st, const json_t *result, long long code,
                        const char *message, const json_t *data)
{
    mcp_client_t *c = call->c;
    call_unlink(c, call);
    call->state = S_DONE;
    pa_loop_timer_stop(c->loop, &call->timer);
    pa_loop_timer_stop(c->loop, &call->later);
    if (call->fn) {
        mcp_answer_t a = {.status = st,
                          .result = result,
                          .code = code,
                          .message = message ? message : "",
                          .data = data,
                          .http_status = call->http_status};
        call->in_callback = 1;
        call->fn(call->ud, &a);
        call->in_callback = 0;
    }
    call_free(call);
    kick_probe(c);
}

static void call_fail(mcp_call_t *call, mcp_status_t st, const char *message)
{
    call_answer(call, st, NULL, 0, message, NULL);
}

static void later_fail_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_call_t *call = ud;
    call->later = NULL;
    char *msg = call->fail_message;
    call->fail_message = NULL;
    call_fail(call, call->fail_status, msg ? msg : "");
    free(msg);
}

/* Answers a failure from the loop (never inside the caller's own call). */
static void call_fail_later(mcp_call_t *call, mcp_status_t st, const char *message)
{
    mcp_client_t *c = call->c;
    if (call->xfer) xfer_cancel(call->xfer);
    pa_loop_timer_stop(c->loop, &call->later);
    pa_loop_timer_stop(c->loop, &call->timer);
    call->fail_status = st;
    free(call->fail_message);
    call->fail_message = pa_strdup(message ? message : "");
    call->state = S_DONE;
    call->later = pa_loop_timer(c->loop, 0, 0, later_fail_cb, call);
}

static mcp_call_t *find_call(mcp_client_t *c, json_int_t id)
{
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->id == id && k->state != S_DONE) return k;
    return NULL;
}

/* ---- building requests ---- */

static json_t *client_info(mcp_client_t *c)
{
    return json_pack("{s:s, s:s}", "name", c->client_name, "version", c->client_version);
}

static json_t *client_caps(mcp_client_t *c)
{
    return json_pack("{s:{}}", "elicitation");
}

/* The params a call sends now: its own, plus _meta (progressToken; with 2026-07-28 the
 * protocol version, capabilities and client info), plus an input_required round's inputs. */
static json_t *call_params(mcp_call_t *call)
{
    mcp_client_t *c = call->c;
    json_t *p = call->params ? json_deep_copy(call->params) : json_object();
    if (call->kind == K_INIT) return p;
    json_t *meta = json_object_get(p, "_meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(p, "_meta", meta);
    }
    if (strcmp(call->method, "tools/call") == 0 && !json_object_get(meta, "progressToken"))
        json_object_set_new(meta, "progressToken", json_integer(call->token));
    if (c->mode == MODE_MODERN || (c->mode == MODE_AUTO && c->conn == CONN_PROBING)) {
        json_object_set_new(meta, "io.modelcontextprotocol/protocolVersion",
                            json_string(c->proto[0] ? c->proto : MODERN_VERSION));
        json_object_set_new(meta, "io.modelcontextprotocol/clientCapabilities", client_caps(c));
        json_object_set_new(meta, "io.modelcontextprotocol/clientInfo", client_info(c));
    }
    if (json_object_size(meta) == 0) json_object_del(p, "_meta");
    if (call->input_responses) json_object_set(p, "inputResponses", call->input_responses);
    if (call->request_state) json_object_set(p, "requestState", call->request_state);
    return p;
}

static const char *sending_version(mcp_client_t *c)
{
    if (c->proto[0]) return c->proto;
    if (c->mode == MODE_AUTO && c->conn == CONN_PROBING) return MODERN_VERSION;
    return NULL;
}

/* The headers every request of the client carries: configured ones, Authorization, the
 * session and the revision. */
static void common_headers(mcp_client_t *c, xfer_t *x, int with_session)
{
    pa_http_req_t *r = x->req;
    const char *url = c->server->url;
    const mcp_server_conf_t *s = c->server;
    for (size_t i = 0; i < s->nheaders; i++) {
        char *v = mcp_env_ref_value(&s->headers[i]);
        if (!v) continue;
        pa_buf_t line = PA_BUF_INIT;
        pa_buf_printf(&line, "%s: %s", s->headers[i].name, v);
        pa_http_req_header(r, line.data);
        pa_buf_free(&line);
        free(v);
    }
    if (c->auth && c->auth->header) {
        const char *v = c->auth->header(c->auth_self, url);
        if (v && *v) {
            pa_buf_t line = PA_BUF_INIT;
            pa_buf_printf(&line, "Authorization: %s", v);
            pa_http_req_header(r, line.data);
            pa_buf_free(&line);
            /* a DPoP proof (RFC 9449) beside it, when the provider binds its tokens */
            const char *extra =
                c->auth->extra_header ? c->auth->extra_header(c->auth_self, x->method, url) : NULL;
            if (extra && *extra) pa_http_req_header(r, extra);
        }
    }
    if (with_session && c->session) {
        x->had_session = 1;
        pa_buf_t line = PA_BUF_INIT;
        pa_buf_printf(&line, "Mcp-Session-Id: %s", c->session);
        pa_http_req_header(r, line.data);
        pa_buf_free(&line);
    }
    const char *v = sending_version(c);
    if (v) {
        pa_buf_t line = PA_BUF_INIT;
        pa_buf_printf(&line, "MCP-Protocol-Version: %s", v);
        pa_http_req_header(r, line.data);
        pa_buf_free(&line);
    }
    if (c->on_connect) pa_http_req_on_connect(r, c->on_connect);
}

static void name_header(pa_http_req_t *r, const char *header, const char *value)
{
    if (!value) return;
    pa_buf_t v = PA_BUF_INIT;
    mcp_header_value_encode(&v, value, strlen(value));
    pa_buf_t line = PA_BUF_INIT;
    if (v.len == 0) pa_buf_printf(&line, "%s;", header);
    else pa_buf_printf(&line, "%s: %s", header, v.data);
    pa_http_req_header(r, line.data);
    pa_buf_free(&line);
    pa_buf_free(&v);
}

static const json_t *find_tool(mcp_client_t *c, const char *name)
{
    size_t i;
    json_t *t;
    if (!c->tools || !name) return NULL;
    json_array_foreach(c->tools, i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0) return t;
    }
    return NULL;
}

/* Mcp-Method, Mcp-Name and, for a tools/call, Mcp-Param-* (SEP-2243). */
static void method_headers(mcp_client_t *c, pa_http_req_t *r, const char *method,
                           const json_t *params)
{
    name_header(r, "Mcp-Method", method);
    if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0)
        name_header(r, "Mcp-Name", json_string_value(json_object_get(params, "name")));
    else if (strcmp(method, "resources/read") == 0)
        name_header(r, "Mcp-Name", json_string_value(json_object_get(params, "uri")));
    if (strcmp(method, "tools/call") == 0 && c->mode == MODE_MODERN) {
        const json_t *tool = find_tool(c, json_string_value(json_object_get(params, "name")));
        if (tool) {
            char **lines = mcp_tool_param_headers(tool, json_object_get(params, "arguments"), NULL);
            for (size_t i = 0; lines[i]; i++) pa_http_req_header(r, lines[i]);
            mcp_header_lines_free(lines);
        }
    }
}

static size_t max_body(mcp_client_t *c)
{
    return c->max_message * 2 + ((size_t)1 << 20);
}

/* ---- transfers ---- */

static void on_message(mcp_client_t *c, xfer_t *x, const char *s, size_t n);
static void xfer_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud);
static int xfer_data(pa_http_req_t *req, const pa_http_res_t *head, const char *data, size_t len,
                     void *ud);

static xfer_t *xfer_new(mcp_client_t *c, mcp_call_t *call, xkind_t kind, const char *method)
{
    xfer_t *x = pa_calloc(1, sizeof *x);
    x->c = c;
    x->call = call;
    x->kind = kind;
    x->req = pa_http_req_new(c->http, method, c->server->url);
    x->method = method;
    x->next = c->xfers;
    if (c->xfers) c->xfers->prev = x;
    c->xfers = x;
    c->nxfers++;
    return x;
}

static void xfer_start(xfer_t *x, long total_ms)
{
    pa_http_req_max_body(x->req, max_body(x->c));
    if (total_ms > 0) pa_http_req_timeouts(x->req, 0, total_ms);
    pa_http_req_on_data(x->req, xfer_data);
    x->started = now_ms(x->c);
    pa_http_start(x->req, xfer_done, x);
}

/* POSTs a message the client does not wait for (a notification, an answer). */
static void post_message(mcp_client_t *c, const char *json, const char *method)
{
    if (c->use_chan) {
        if (c->chan) mcp_chan_send(c->chan, json, strlen(json));
        return;
    }
    xfer_t *x = xfer_new(c, NULL, X_SEND, "POST");
    pa_http_req_header(x->req, "Accept: application/json, text/event-stream");
    common_headers(c, x, 1);
    if (method) name_header(x->req, "Mcp-Method", method);
    pa_http_req_json(x->req, json);
    xfer_start(x, 30000);
}

static void send_cancelled(mcp_client_t *c, json_int_t id, const char *reason)
{
    if (c->mode != MODE_SESSION || (!c->session && !c->use_chan)) return;
    pa_buf_t b = PA_BUF_INIT;
    mcp_id_t rid = mcp_id_int(id);
    if (mcp_jsonrpc_encode_cancelled(&b, &rid, reason) == 0)
        post_message(c, b.data, "notifications/cancelled");
    pa_buf_free(&b);
}

static long call_http_timeout(mcp_call_t *call)
{
    uint64_t now = now_ms(call->c);
    return call->cap > now ? (long)(call->cap - now) + 5000 : 5000;
}

/* Sends a call now (state S_SENT), with a new id. */
static void call_send(mcp_call_t *call)
{
    mcp_client_t *c = call->c;
    if (call->xfer) { /* an earlier round's stream: it goes on without us */
        xfer_t *old = call->xfer;
        call->xfer = NULL;
        old->call = NULL;
        if (old->kind == X_RESUME) xfer_cancel(old);
    }
    call->id = c->next_id++;
    call->state = S_SENT;
    free(call->last_event_id);
    call->last_event_id = NULL;
    call->retry_ms = -1;
    json_t *params = call_params(call);
    pa_buf_t body = PA_BUF_INIT;
    mcp_id_t id = mcp_id_int(call->id);
    if (mcp_jsonrpc_encode_request(&body, &id, call->method, params) != 0) {
        json_decref(params);
        pa_buf_free(&body);
        call_fail_later(call, MCP_ERR_PROTOCOL, "the request could not be encoded");
        return;
    }
    if (c->use_chan) {
        int rc = c->chan ? mcp_chan_send(c->chan, body.data, body.len) : -1;
        json_decref(params);
        pa_buf_free(&body);
        if (rc != 0) {
            const char *why = c->chan ? mcp_chan_last_error(c->chan) : "";
            char msg[400];
            snprintf(msg, sizeof msg, "the link to the server is down%s%s", *why ? ": " : "", why);
            call_fail_later(call, MCP_ERR_TRANSPORT, msg);
        }
        return;
    }
    xfer_t *x = xfer_new(c, call, X_CALL, "POST");
    call->xfer = x;
    pa_http_req_header(x->req, "Accept: application/json, text/event-stream");
    common_headers(c, x, call->kind != K_INIT);
    method_headers(c, x->req, call->method, params);
    pa_http_req_json(x->req, body.data);
    json_decref(params);
    pa_buf_free(&body);
    xfer_start(x, call_http_timeout(call));
}

/* GET with Last-Event-ID: resumes the call's stream. */
static void resume_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_call_t *call = ud;
    mcp_client_t *c = call->c;
    call->later = NULL;
    call->state = S_SENT;
    xfer_t *x = xfer_new(c, call, X_RESUME, "GET");
    call->xfer = x;
    pa_http_req_header(x->req, "Accept: text/event-stream");
    common_headers(c, x, 1);
    pa_buf_t line = PA_BUF_INIT;
    pa_buf_printf(&line, "Last-Event-ID: %s", call->last_event_id);
    pa_http_req_header(x->req, line.data);
    pa_buf_free(&line);
    xfer_start(x, call_http_timeout(call));
}

static int call_resume(mcp_call_t *call)
{
    if (!call->last_event_id || !call->last_event_id[0] || call->resumes >= MAX_RESUMES) return -1;
    call->resumes++;
    call->state = S_RESUME_WAIT;
    long long wait = call->retry_ms >= 0 ? call->retry_ms : RESUME_DEFAULT_MS;
    if (wait > 60000) wait = 60000;
    pa_loop_timer_stop(call->c->loop, &call->later);
    call->later = pa_loop_timer(call->c->loop, (uint64_t)wait, 0, resume_cb, call);
    return 0;
}

/* ---- connection ---- */

static void start_init(mcp_client_t *c);
static void arm_timer(mcp_call_t *call);

/* Sends the waiting calls, the oldest first (the list is newest first). */
static void flush_waiting(mcp_client_t *c)
{
    mcp_call_t *k = c->calls;
    while (k && k->next) k = k->next;
    for (; k; k = k->prev)
        if (k->state == S_WAITING && k->kind != K_INIT) call_send(k);
}

static void fail_waiting(mcp_client_t *c, mcp_status_t st, const char *msg)
{
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->state == S_WAITING && k->kind != K_INIT) call_fail_later(k, st, msg);
}

static void call_enqueue(mcp_call_t *call);

/* A call whose turn comes (new, or sent again): sent now, or waiting for the connection. */
static void call_enqueue(mcp_call_t *call)
{
    mcp_client_t *c = call->c;
    call->state = S_WAITING;
    if (c->closing) {
        call_fail_later(call, MCP_ERR_CLOSED, "the client is closing");
        return;
    }
    switch (c->mode) {
    case MODE_MODERN:
        if (c->conn == CONN_READY) call_send(call);
        break;
    case MODE_SESSION:
        if (c->conn == CONN_READY) call_send(call);
        else if (c->conn == CONN_IDLE) start_init(c);
        break;
    case MODE_AUTO:
        if (c->conn == CONN_IDLE) {
            c->conn = CONN_PROBING;
            c->probe = call;
            call_send(call);
        }
        break;
    }
}

/* The probe (auto) tells the modern form works: every waiting call goes. */
static void modern_decided(mcp_client_t *c)
{
    c->mode = MODE_MODERN;
    c->conn = CONN_READY;
    c->probe = NULL;
    if (!c->proto[0]) set_proto(c, MODERN_VERSION);
    flush_waiting(c);
}

/* The server speaks sessions only: initialize (the probe waits with the others). */
static void session_decided(mcp_client_t *c, mcp_call_t *probe)
{
    c->mode = MODE_SESSION;
    c->conn = CONN_IDLE;
    c->probe = NULL;
    c->proto[0] = 0;
    if (probe) {
        if (probe->xfer) xfer_cancel(probe->xfer);
        probe->state = S_WAITING;
        probe->version_retry = 0;
    }
    start_init(c);
}

static void init_answer(void *ud, const mcp_answer_t *a);

/* ---- the session's stream ---- */

static void listen_stop(mcp_client_t *c)
{
    pa_loop_timer_stop(c->loop, &c->listen_timer);
    if (c->listen) {
        xfer_t *x = c->listen;
        c->listen = NULL;
        xfer_cancel(x);
    }
    free(c->listen_last_id);
    c->listen_last_id = NULL;
    c->listen_retry = -1;
    c->listen_fails = 0;
}

static void listen_open(mcp_client_t *c)
{
    if (c->no_listen || c->listen || c->closing || c->use_chan || c->mode != MODE_SESSION ||
        !c->session)
        return;
    xfer_t *x = xfer_new(c, NULL, X_LISTEN, "GET");
    c->listen = x;
    pa_http_req_header(x->req, "Accept: text/event-stream");
    common_headers(c, x, 1);
    if (c->listen_last_id && c->listen_last_id[0]) {
        pa_buf_t line = PA_BUF_INIT;
        pa_buf_printf(&line, "Last-Event-ID: %s", c->listen_last_id);
        pa_http_req_header(x->req, line.data);
        pa_buf_free(&line);
    }
    xfer_start(x, 300000);
}

static void listen_timer_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_client_t *c = ud;
    c->listen_timer = NULL;
    listen_open(c);
}

/* The session's stream ended: opened again (after the server's retry, backing off while it
 * keeps failing), unless the server does not offer one. */
static void listen_ended(mcp_client_t *c, const pa_http_res_t *res, uint64_t lived_ms)
{
    c->listen = NULL;
    if (c->closing || c->mode != MODE_SESSION || !c->session) return;
    if (res->result == PA_HTTP_OK && (res->status < 200 || res->status >= 300)) return;
    c->listen_fails = lived_ms > 10000 ? 0 : c->listen_fails + 1;
    long long wait = c->listen_retry >= 0 ? c->listen_retry : RESUME_DEFAULT_MS;
    for (int i = 1; i < c->listen_fails && wait < 30000; i++) wait *= 2;
    if (wait > 30000) wait = 30000;
    if (c->listen_fails > 20) return;
    c->listen_timer = pa_loop_timer(c->loop, (uint64_t)wait, 0, listen_timer_cb, c);
}

static int chan_start(mcp_client_t *c);
static void sse_probe_begin(mcp_client_t *c);

static void start_init(mcp_client_t *c)
{
    if (c->init || c->closing) return;
    if (c->use_chan && (!c->chan || !mcp_chan_is_open(c->chan))) {
        c->conn = CONN_INIT; /* initialize goes when the channel opens */
        c->chan_waiting = 1;
        if (c->chan || c->sse_probe) return;
        if (c->server->transport == MCP_TRANSPORT_HTTP && !c->chan_conf.url) {
            sse_probe_begin(c); /* the fallback: where the event stream is, first */
        } else if (chan_start(c) != 0) {
            c->conn = CONN_IDLE;
            c->chan_waiting = 0;
        }
        return;
    }
    c->chan_waiting = 0;
    c->conn = CONN_INIT;
    c->proto[0] = 0;
    listen_stop(c);
    free(c->session);
    c->session = NULL;
    const char *v = c->server->protocol_version && !is_modern(c->server->protocol_version)
                        ? c->server->protocol_version
                        : SESSION_VERSION;
    mcp_call_t *call = pa_calloc(1, sizeof *call);
    call->c = c;
    call->kind = K_INIT;
    call->method = pa_strdup("initialize");
    call->params = json_pack("{s:s, s:o, s:o}", "protocolVersion", v, "capabilities",
                             client_caps(c), "clientInfo", client_info(c));
    call->timeout_ms = c->server->timeout_ms > 0 ? c->server->timeout_ms : 30000;
    call->fn = init_answer;
    call->ud = c;
    call->retry_ms = -1;
    call->start = now_ms(c);
    call->deadline = call->start + (uint64_t)call->timeout_ms;
    call->cap = call->deadline;
    call->token = c->next_id;
    call_link(c, call);
    c->init = call;
    arm_timer(call);
    call_send(call);
}

static void init_answer(void *ud, const mcp_answer_t *a)
{
    mcp_client_t *c = ud;
    c->init = NULL;
    if (a->status != MCP_OK) {
        c->conn = CONN_IDLE;
        if (!c->use_chan && !c->closing && c->server->transport == MCP_TRANSPORT_HTTP &&
            (a->status == MCP_ERR_TRANSPORT || a->status == MCP_ERR_RPC) &&
            (a->http_status == 400 || a->http_status == 404 || a->http_status == 405)) {
            /* no Streamable HTTP here: the legacy HTTP+SSE transport at the same URL, else at
             * the origin's /sse (probed first: sse_probe_begin) */
            c->chan_conf = *c->server;
            c->chan_conf.transport = MCP_TRANSPORT_SSE;
            c->chan_conf.url = NULL;
            c->sse_init_status = a->http_status;
            c->use_chan = 1;
            start_init(c);
            if (c->conn != CONN_IDLE) return;
        }
        char msg[512];
        snprintf(msg, sizeof msg, "initialize failed: %s", a->message);
        mcp_status_t st = a->status == MCP_ERR_CLOSED ? MCP_ERR_CLOSED : a->status;
        if (st == MCP_ERR_RPC) st = MCP_ERR_PROTOCOL;
        fail_waiting(c, st, msg);
        return;
    }
    const char *v = json_string_value(json_object_get(a->result, "protocolVersion"));
    if (!v || !mcp_protocol_version_known(v) || is_modern(v)) {
        c->conn = CONN_IDLE;
        fail_waiting(c, MCP_ERR_PROTOCOL, "initialize: the server offers no revision we speak");
        return;
    }
    set_proto(c, v);
    json_decref(c->server_info);
    c->server_info = json_deep_copy(a->result);
    c->conn = CONN_READY;
    pa_buf_t b = PA_BUF_INIT;
    if (mcp_jsonrpc_encode_notification(&b, "notifications/initialized", NULL) == 0)
        post_message(c, b.data, "notifications/initialized");
    pa_buf_free(&b);
    listen_stop(c);
    listen_open(c);
    flush_waiting(c);
}

/* ---- timeouts ---- */

static void deadline_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_call_t *call = ud;
    mcp_client_t *c = call->c;
    call->timer = NULL;
    if (call->id && call->state == S_SENT) send_cancelled(c, call->id, "timeout");
    if (call->xfer) xfer_cancel(call->xfer);
    const char *why =
        c->use_chan && c->chan && !mcp_chan_is_open(c->chan) ? mcp_chan_last_error(c->chan) : "";
    char msg[400];
    snprintf(msg, sizeof msg, "the request timed out%s%s%s", *why ? " (the link is down: " : "",
             why, *why ? ")" : "");
    call_fail(call, MCP_ERR_TIMEOUT, msg);
}

static void arm_timer(mcp_call_t *call)
{
    mcp_client_t *c = call->c;
    uint64_t now = now_ms(c);
    uint64_t wait = call->deadline > now ? call->deadline - now : 0;
    if (call->timer) pa_loop_timer_again(c->loop, call->timer, wait);
    else call->timer = pa_loop_timer(c->loop, wait, 0, deadline_cb, call);
}

static void on_progress(mcp_client_t *c, const json_t *params)
{
    const json_t *tok = json_object_get(params, "progressToken");
    if (!json_is_integer(tok)) return;
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->token == json_integer_value(tok) && k->state != S_DONE) {
            uint64_t d = now_ms(c) + (uint64_t)k->timeout_ms;
            k->deadline = d < k->cap ? d : k->cap;
            arm_timer(k);
            return;
        }
}

/* ---- server requests ---- */

/* The answer to elicitation/create: accept with the requested schema's defaults, or decline. */
static json_t *elicit_result(mcp_client_t *c, const json_t *params)
{
    const char *mode = json_string_value(json_object_get(params, "mode"));
    if (!c->elicit_defaults || (mode && strcmp(mode, "form") != 0))
        return json_pack("{s:s}", "action", "decline");
    json_t *content = json_object();
    const json_t *schema = json_object_get(params, "requestedSchema");
    const json_t *props = json_object_get(schema, "properties");
    const char *key;
    json_t *prop;
    if (json_is_object(props))
        json_object_foreach((json_t *)props, key, prop) {
            json_t *d = json_object_get(prop, "default");
            if (d) json_object_set(content, key, d);
        }
    return json_pack("{s:s, s:o}", "action", "accept", "content", content);
}

/* The result for a server request, or NULL for -32601. */
static json_t *server_request_result(mcp_client_t *c, const char *method, const json_t *params)
{
    if (strcmp(method, "ping") == 0) return json_object();
    if (strcmp(method, "elicitation/create") == 0) return elicit_result(c, params);
    return NULL;
}

static void server_request(mcp_client_t *c, const mcp_msg_t *m)
{
    pa_buf_t b = PA_BUF_INIT;
    json_t *res = server_request_result(c, m->method, m->params);
    int rc = res ? mcp_jsonrpc_encode_result(&b, &m->id, res)
                 : mcp_jsonrpc_encode_method_not_found(&b, m);
    json_decref(res);
    if (rc == 0) post_message(c, b.data, NULL);
    pa_buf_free(&b);
}

/* ---- answers ---- */

static const char *tool_error_text(const json_t *result)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(result, "content"), i, item) {
        const char *t = json_string_value(json_object_get(item, "type"));
        const char *s = json_string_value(json_object_get(item, "text"));
        if (t && strcmp(t, "text") == 0 && s) return s;
    }
    return "the tool failed";
}

/* Keeps the tools whose x-mcp-header annotations are valid. */
static json_t *valid_tools(const json_t *tools)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        char err[160];
        if (json_is_object(t) && json_is_string(json_object_get(t, "name")) &&
            mcp_tool_headers_check(t, err, sizeof err) == 0)
            json_array_append(out, t);
    }
    return out;
}

static void call_tool_go(mcp_call_t *call);

/* input_required (2026-07-28): the inputs answered, the request sent again. */
static int input_round(mcp_call_t *call, const json_t *result)
{
    mcp_client_t *c = call->c;
    if (++call->rounds > MAX_ROUNDS) {
        call_fail(call, MCP_ERR_PROTOCOL, "too many input_required rounds");
        return -1;
    }
    json_t *responses = json_object();
    const json_t *reqs = json_object_get(result, "inputRequests");
    const char *key;
    json_t *r;
    if (json_is_object(reqs))
        json_object_foreach((json_t *)reqs, key, r) {
            const char *method = json_string_value(json_object_get(r, "method"));
            json_t *res =
                method ? server_request_result(c, method, json_object_get(r, "params")) : NULL;
            if (!res) {
                json_decref(responses);
                char msg[256];
                snprintf(msg, sizeof msg, "input request %.64s (%.64s) is not supported", key,
                         method ? method : "?");
                call_fail(call, MCP_ERR_PROTOCOL, msg);
                return -1;
            }
            json_object_set_new(responses, key, res);
        }
    json_decref(call->input_responses);
    call->input_responses = responses;
    json_decref(call->request_state);
    json_t *st = json_object_get(result, "requestState");
    call->request_state = st ? json_incref(st) : NULL;
    call_send(call);
    return 0;
}

static void call_result(mcp_call_t *call, json_t *result)
{
    mcp_client_t *c = call->c;
    if (c->mode == MODE_AUTO && c->conn == CONN_PROBING) modern_decided(c);
    const char *rt = json_string_value(json_object_get(result, "resultType"));
    if (rt && strcmp(rt, "input_required") == 0 && call->kind != K_INIT) {
        input_round(call, result);
        return;
    }
    /* a completed round: what it sent does not go with later requests */
    json_decref(call->input_responses);
    call->input_responses = NULL;
    json_decref(call->request_state);
    call->request_state = NULL;
    switch (call->kind) {
    case K_LIST_TOOLS: {
        if (!call->acc) call->acc = json_array();
        json_t *page = json_object_get(result, "tools");
        if (json_is_array(page)) json_array_extend(call->acc, page);
        const char *next = json_string_value(json_object_get(result, "nextCursor"));
        if (next && *next && json_array_size(call->acc) < 100000 && ++call->rounds < MAX_PAGES) {
            json_object_set_new(call->params, "cursor", json_string(next));
            call_send(call);
            return;
        }
        json_t *tools = valid_tools(call->acc);
        json_decref(c->tools);
        c->tools = json_incref(tools);
        if (call->need_tools) { /* the list was for a tools/call */
            json_decref(tools);
            call_tool_go(call);
            return;
        }
        json_t *res = json_pack("{s:o}", "tools", tools);
        call_answer(call, MCP_OK, res, 0, "", NULL);
        json_decref(res);
        return;
    }
    case K_CALL_TOOL:
        if (json_is_true(json_object_get(result, "isError"))) {
            call_answer(call, MCP_ERR_TOOL, result, 0, tool_error_text(result), NULL);
            return;
        }
        break;
    default: break;
    }
    call_answer(call, MCP_OK, result, 0, "", NULL);
}

static int modern_error(long long code)
{
    return code == MCP_RPC_UNSUPPORTED_PROTOCOL_VERSION || code == MCP_RPC_HEADER_MISMATCH ||
           code == MCP_RPC_MISSING_CLIENT_CAPABILITY;
}

/* A JSON-RPC error for the call (from a stream, or an HTTP error's body). */
static void call_error(mcp_call_t *call, const mcp_rpc_error_t *e)
{
    mcp_client_t *c = call->c;
    int probing = c->mode == MODE_AUTO && c->conn == CONN_PROBING;
    if (e->code == MCP_RPC_UNSUPPORTED_PROTOCOL_VERSION && call->kind != K_INIT &&
        (c->mode == MODE_MODERN || probing) && !call->version_retry) {
        const char *sup[16], *req = NULL;
        size_t n = 0;
        if (mcp_rpc_error_supported_versions(e, sup, 16, &n, &req) == 0) {
            const char *modern = NULL, *session = NULL;
            for (size_t i = 0; i < n; i++) {
                if (is_modern(sup[i]) && !modern) modern = sup[i];
                if (!is_modern(sup[i]) && mcp_protocol_version_known(sup[i]) &&
                    (!session || strcmp(sup[i], session) > 0))
                    session = sup[i];
            }
            call->version_retry = 1;
            if (modern) {
                set_proto(c, modern);
                if (probing) modern_decided(c);
                call_send(call);
                return;
            }
            if (session && !c->configured) {
                session_decided(c, call);
                return;
            }
        }
    }
    if (probing && modern_error(e->code)) modern_decided(c);
    call_answer(call, MCP_ERR_RPC, NULL, e->code, e->message, e->data);
}

static void dispatch(mcp_client_t *c, xfer_t *x, mcp_msg_t *m)
{
    switch (m->kind) {
    case MCP_MSG_RESULT:
    case MCP_MSG_ERROR: {
        mcp_call_t *call = NULL;
        if (m->id.kind == MCP_ID_INT) call = find_call(c, m->id.num);
        else if (m->id.kind == MCP_ID_NONE && m->kind == MCP_MSG_ERROR && x) call = x->call;
        if (!call || call->state == S_DONE) return;
        if (m->kind == MCP_MSG_RESULT) call_result(call, m->result);
        else call_error(call, &m->error);
        return;
    }
    case MCP_MSG_REQUEST: server_request(c, m); return;
    case MCP_MSG_NOTIFICATION:
        if (strcmp(m->method, "notifications/progress") == 0) on_progress(c, m->params);
        return;
    default: return;
    }
}

static void on_message(mcp_client_t *c, xfer_t *x, const char *s, size_t n)
{
    mcp_msg_t m;
    char err[160];
    unsigned flags = strcmp(c->proto, "2025-03-26") == 0 ? MCP_JSONRPC_ALLOW_BATCH : 0;
    if (mcp_jsonrpc_parse(s, n, c->max_message, 0, flags, &m, err, sizeof err) != 0) {
        mcp_msg_free(&m);
        if (x && x->call) {
            char msg[256];
            snprintf(msg, sizeof msg, "the server sent an invalid message: %s", err);
            call_fail(x->call, MCP_ERR_PROTOCOL, msg);
        }
        return;
    }
    if (m.kind == MCP_MSG_BATCH) {
        size_t i;
        json_t *el;
        json_array_foreach(m.root, i, el) {
            mcp_msg_t e;
            if (mcp_jsonrpc_classify(el, &e, err, sizeof err) == 0) dispatch(c, x, &e);
        }
    } else {
        dispatch(c, x, &m);
    }
    mcp_msg_free(&m);
}

static int sse_event(void *ud, const pa_sse_event_t *ev)
{
    xfer_t *x = ud;
    mcp_call_t *call = x->call;
    if (x->kind == X_LISTEN) {
        if (ev->id_len > 0) {
            free(x->c->listen_last_id);
            x->c->listen_last_id = pa_strndup(ev->id, ev->id_len);
        }
        if (x->sse.retry >= 0) x->c->listen_retry = x->sse.retry;
    } else if (call) {
        if (ev->id_len > 0) {
            free(call->last_event_id);
            call->last_event_id = pa_strndup(ev->id, ev->id_len);
        }
        if (x->sse.retry >= 0) call->retry_ms = x->sse.retry;
    }
    if (!ev->has_data || strcmp(ev->type, "message") != 0) return 0;
    size_t i = 0;
    while (i < ev->data_len && strchr(" \t\r\n", ev->data[i])) i++;
    if (i == ev->data_len) return 0; /* a priming event */
    on_message(x->c, x, ev->data, ev->data_len);
    return x->cancel_pending ? -1 : 0;
}

static void capture_session(mcp_client_t *c, xfer_t *x, const pa_http_res_t *res)
{
    if (!x->call || x->call->kind != K_INIT || res->status < 200 || res->status >= 300) return;
    const char *sid = pa_http_res_header(res, "Mcp-Session-Id");
    if (sid && *sid && (!c->session || strcmp(c->session, sid) != 0)) {
        free(c->session);
        c->session = pa_strdup(sid);
    }
}

static int is_sse(const char *ct)
{
    return ct && strncasecmp(ct, "text/event-stream", 17) == 0;
}

static int xfer_data(pa_http_req_t *req, const pa_http_res_t *head, const char *data, size_t len,
                     void *ud)
{
    xfer_t *x = ud;
    mcp_client_t *c = x->c;
    if (!x->head_seen) {
        x->head_seen = 1;
        capture_session(c, x, head);
        if (head->status >= 200 && head->status < 300 && is_sse(head->content_type)) {
            pa_sse_init(&x->sse, 0, c->max_message, sse_event, x);
            x->sse_on = 1;
        }
    }
    if (!x->sse_on) return PA_HTTP_DATA_KEEP;
    x->in_data = 1;
    int rc = pa_sse_feed(&x->sse, data, len);
    x->in_data = 0;
    if (x->cancel_pending) {
        xfer_unlink(c, x);
        pa_http_cancel(req);
        xfer_free(x);
        return PA_HTTP_DATA_ABORT;
    }
    if (rc != 0) {
        if (x->call) {
            char msg[160];
            snprintf(msg, sizeof msg, "the event stream broke: %s", x->sse.err);
            call_fail(x->call, MCP_ERR_PROTOCOL, msg);
        }
        return PA_HTTP_DATA_ABORT;
    }
    return PA_HTTP_DATA_TAKEN;
}

static void auth_done(void *ud, int ok, const char *error)
{
    mcp_call_t *call = ud;
    if (call->state != S_AUTH_WAIT) return;
    if (!ok) {
        call->state = S_SENT;
        char msg[320];
        snprintf(msg, sizeof msg, "authorization failed: %s", error ? error : "refused");
        call_fail(call, MCP_ERR_AUTH, msg);
        return;
    }
    call->state = S_SENT;
    call_send(call);
}

/* 1 when the error body holds a JSON-RPC error (handled), else 0. */
static int body_error(mcp_call_t *call, const pa_http_res_t *res)
{
    if (!res->body || res->len == 0) return 0;
    mcp_msg_t m;
    char err[64];
    if (mcp_jsonrpc_parse(res->body, res->len, call->c->max_message, 0, 0, &m, err, sizeof err) !=
            0 ||
        m.kind != MCP_MSG_ERROR) {
        mcp_msg_free(&m);
        return 0;
    }
    call_error(call, &m.error);
    mcp_msg_free(&m);
    return 1;
}

static int body_modern_error(const pa_http_res_t *res)
{
    if (!res->body || res->len == 0) return 0;
    mcp_msg_t m;
    char err[64];
    int modern = mcp_jsonrpc_parse(res->body, res->len, 0, 0, 0, &m, err, sizeof err) == 0 &&
                 m.kind == MCP_MSG_ERROR && modern_error(m.error.code);
    mcp_msg_free(&m);
    return modern;
}

static void call_http_failed(mcp_call_t *call, const pa_http_res_t *res)
{
    char msg[512];
    if (res->result != PA_HTTP_OK) snprintf(msg, sizeof msg, "%s", res->error);
    else snprintf(msg, sizeof msg, "the server answered HTTP %ld", res->status);
    call_fail(call, MCP_ERR_TRANSPORT, msg);
}

static void xfer_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    xfer_t *x = ud;
    mcp_client_t *c = x->c;
    xfer_unlink(c, x);
    mcp_call_t *call = x->call;
    if (!x->head_seen && res->result == PA_HTTP_OK) capture_session(c, x, res);
    if (x->kind == X_LISTEN) {
        uint64_t lived = now_ms(c) - x->started;
        int current = c->listen == x;
        xfer_free(x);
        if (current) listen_ended(c, res, lived);
        return;
    }
    if (x->kind == X_DELETE) {
        xfer_free(x);
        if (c->closing && c->close_guard) {
            pa_loop_timer_stop(c->loop, &c->close_guard);
            if (c->close_done) c->close_done(c->close_ud);
        }
        return;
    }
    if (!call || call->xfer != x) {
        xfer_free(x);
        return;
    }
    call->xfer = NULL;
    if (res->status) call->http_status = res->status;
    int was_sse = x->sse_on, had_session = x->had_session;
    xfer_free(x);
    int probing = c->mode == MODE_AUTO && c->conn == CONN_PROBING && call->kind != K_INIT;

    if (res->result != PA_HTTP_OK) {
        if (was_sse && res->status >= 200 && res->status < 300 && call_resume(call) == 0) return;
        call_http_failed(call, res);
        return;
    }
    long st = res->status;
    if (c->auth && c->auth->response) c->auth->response(c->auth_self, res);
    if ((st == 401 || st == 403) && c->auth && c->auth->challenge &&
        call->auth_tries < MAX_AUTH_TRIES) {
        call->auth_tries++;
        call->state = S_AUTH_WAIT;
        c->auth->challenge(c->auth_self, c->server->url, st,
                           pa_http_res_header(res, "WWW-Authenticate"), auth_done, call);
        return;
    }
    if (st == 401 || st == 403) {
        char msg[128];
        snprintf(msg, sizeof msg, "the server refused the request (HTTP %ld)", st);
        call_fail(call, MCP_ERR_AUTH, msg);
        return;
    }
    if (probing && (st == 404 || st == 405 || (st == 400 && !body_modern_error(res)))) {
        session_decided(c, call);
        return;
    }
    if (st == 404 && c->mode == MODE_SESSION && had_session && call->kind != K_INIT &&
        !call->reinit_done) { /* the session expired: initialise again, once */
        call->reinit_done = 1;
        if (c->conn == CONN_READY) {
            c->conn = CONN_IDLE;
            free(c->session);
            c->session = NULL;
        }
        call_enqueue(call);
        return;
    }
    if (st >= 200 && st < 300) {
        if (was_sse) {
            if (call_resume(call) == 0) return;
            call_fail(call, MCP_ERR_TRANSPORT, "the event stream ended without the answer");
            return;
        }
        if (res->len == 0) {
            call_fail(call, MCP_ERR_PROTOCOL, "the server answered without a message");
            return;
        }
        xfer_t tmp = {.c = c, .call = call};
        json_int_t id = call->id;
        on_message(c, &tmp, res->body, res->len);
        mcp_call_t *still = find_call(c, id);
        if (still == call && call->state == S_SENT && call->xfer == NULL)
            call_fail(call, MCP_ERR_PROTOCOL, "the answer did not answer the request");
        return;
    }
    if (body_error(call, res)) return;
    call_http_failed(call, res);
}

/* ---- message channels ---- */

static void chan_on_open(void *ud)
{
    mcp_client_t *c = ud;
    int waiting = c->chan_waiting;
    for (mcp_call_t *k = c->calls; k && !waiting; k = k->next)
        if (k->state == S_WAITING) waiting = 1;
    if (waiting && !c->closing) {
        c->conn = CONN_IDLE;
        start_init(c);
    }
}

static void chan_on_message(void *ud, const char *json, size_t len)
{
    on_message(ud, NULL, json, len);
}

static void chan_on_closed(void *ud, const char *why)
{
    mcp_client_t *c = ud;
    char msg[320];
    snprintf(msg, sizeof msg, "the link to the server closed: %s", why ? why : "");
    int waiting = 0;
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->state == S_WAITING) waiting = 1;
    c->conn = CONN_IDLE;
    c->proto[0] = 0;
    json_decref(c->server_info);
    c->server_info = NULL;
    /* what was sent is lost */
    for (mcp_call_t *k = c->calls; k; k = k->next)
        if (k->state == S_SENT) call_fail_later(k, MCP_ERR_TRANSPORT, msg);
    if (c->init) c->init = NULL; /* failed above, from the loop */
    c->chan_waiting = waiting;
    if (waiting) c->conn = CONN_INIT;
}

static const mcp_chan_ops_t chan_ops = {chan_on_open, chan_on_message, chan_on_closed};

/* The header lines a channel's requests to url carry: the server's configured headers and
 * Authorization. NULL-terminated; free with lines_free. */
static char **chan_header_lines(mcp_client_t *c, const mcp_server_conf_t *s, const char *url)
{
    size_t n = 0;
    char **lines = pa_calloc(s->nheaders + 2, sizeof *lines);
    for (size_t i = 0; i < s->nheaders; i++) {
        char *v = mcp_env_ref_value(&s->headers[i]);
        if (!v) continue;
        pa_buf_t line = PA_BUF_INIT;
        pa_buf_printf(&line, "%s: %s", s->headers[i].name, v);
        free(v);
        lines[n++] = pa_buf_detach(&line, NULL);
    }
    if (c->auth && c->auth->header && url) {
        const char *v = c->auth->header(c->auth_self, url);
        if (v && *v) {
            pa_buf_t line = PA_BUF_INIT;
            pa_buf_printf(&line, "Authorization: %s", v);
            lines[n++] = pa_buf_detach(&line, NULL);
        }
    }
    return lines;
}

static void lines_free(char **lines)
{
    for (size_t i = 0; lines && lines[i]; i++) free(lines[i]);
    free(lines);
}

/* Opens the channel: 0, or -1 (the waiting calls fail). */
static int chan_start(mcp_client_t *c)
{
    const mcp_server_conf_t *s =
        c->server->transport == MCP_TRANSPORT_HTTP ? &c->chan_conf : c->server;
    char **lines = chan_header_lines(c, s, s->url);
    mcp_chan_cfg_t cc = {.loop = c->loop,
                         .http = c->http,
                         .server = s,
                         .headers = (const char *const *)lines,
                         .on_connect = c->on_connect,
                         .max_message = c->max_message,
                         .ops = &chan_ops,
                         .ud = c};
    char err[256];
    c->chan = mcp_chan_open(&cc, err, sizeof err);
    lines_free(lines);
    if (!c->chan) {
        char msg[320];
        snprintf(msg, sizeof msg, "the channel could not open: %s", err);
        fail_waiting(c, MCP_ERR_TRANSPORT, msg);
        return -1;
    }
    return 0;
}

/* ---- the legacy fallback's probe ---- */

/* The specification puts the legacy event stream at the configured URL; a server configured by
 * its base URL usually has it at /sse. Before the channel opens (it would retry a wrong URL for
 * ever without a word), one GET of each, judged by its head and not held open, tells which. */

static void sse_probe_stop(mcp_client_t *c)
{
    if (c->sse_probe) pa_http_cancel(c->sse_probe);
    c->sse_probe = NULL;
}

/* The fallback found no event stream: back to the state before it (the next request tries
 * initialize again), the waiting requests failed with msg. */
static void sse_fallback_failed(mcp_client_t *c, const char *msg)
{
    sse_probe_stop(c);
    free(c->sse_url);
    c->sse_url = NULL;
    c->chan_conf.url = NULL;
    c->use_chan = 0;
    c->chan_waiting = 0;
    c->conn = CONN_IDLE;
    fail_waiting(c, MCP_ERR_TRANSPORT, msg);
}

static int sse_probe_data(pa_http_req_t *req, const pa_http_res_t *head, const char *data,
                          size_t len, void *ud)
{
    mcp_client_t *c = ud;
    c->sse_seen = 1;
    c->sse_status = head->status;
    c->sse_ok = head->status == 200 && is_sse(head->content_type);
    return PA_HTTP_DATA_ABORT; /* the head is all we need: the stream is not held */
}

static void sse_probe_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud);

static void sse_probe_send(mcp_client_t *c)
{
    c->sse_seen = c->sse_ok = 0;
    c->sse_status = 0;
    pa_http_req_t *r = pa_http_req_new(c->http, "GET", c->sse_url);
    pa_http_req_header(r, "Accept: text/event-stream");
    pa_http_req_header(r, "Cache-Control: no-cache");
    char **lines = chan_header_lines(c, &c->chan_conf, c->sse_url);
    for (size_t i = 0; lines[i]; i++) pa_http_req_header(r, lines[i]);
    lines_free(lines);
    if (c->on_connect) pa_http_req_on_connect(r, c->on_connect);
    pa_http_req_on_data(r, sse_probe_data);
    pa_http_req_timeouts(r, 0, c->server->timeout_ms > 0 ? c->server->timeout_ms : 30000);
    c->sse_probe = r;
    pa_http_start(r, sse_probe_done, c);
}

/* What a probe's GET got, for the error: "GET url answered 404", "GET url failed: why". */
static void sse_probe_describe(mcp_client_t *c, const pa_http_res_t *res, char *out, size_t n)
{
    if (c->sse_seen || (res->result == PA_HTTP_OK && res->status)) {
        long st = c->sse_seen ? c->sse_status : res->status;
        const char *why = st == 200 ? " (not an event stream)" : "";
        snprintf(out, n, "GET %.160s answered %ld%s", c->sse_url, st, why);
    } else {
        snprintf(out, n, "GET %.160s failed: %.160s", c->sse_url, res->error);
    }
}

static void sse_probe_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_client_t *c = ud;
    c->sse_probe = NULL;
    int ok = c->sse_seen
                 ? c->sse_ok
                 : res->result == PA_HTTP_OK && res->status == 200 && is_sse(res->content_type);
    if (ok) { /* the channel opens on it; initialize goes when it is up */
        c->chan_conf.url = c->sse_url;
        c->conn = CONN_IDLE;
        start_init(c);
        return;
    }
    char what[400];
    sse_probe_describe(c, res, what, sizeof what);
    if (c->sse_step == 0) { /* then the origin's /sse, unless that was the url */
        char *next = pa_http_resolve(c->sse_url, "/sse");
        char *here = pa_http_resolve(c->sse_url, c->sse_url);
        int same = !next || (here && strcmp(next, here) == 0);
        free(here);
        if (!same) {
            snprintf(c->sse_first, sizeof c->sse_first, "%s", what);
            free(c->sse_url);
            c->sse_url = next;
            c->sse_step = 1;
            sse_probe_send(c);
            return;
        }
        free(next);
    }
    char msg[900];
    snprintf(msg, sizeof msg,
             "initialize answered HTTP %ld and no legacy HTTP+SSE event stream was found: %s%s%s",
             c->sse_init_status, c->sse_step ? c->sse_first : "", c->sse_step ? "; " : "", what);
    sse_fallback_failed(c, msg);
}

/* The fallback starts (start_init, the channel not yet configured): the configured url first. */
static void sse_probe_begin(mcp_client_t *c)
{
    free(c->sse_url);
    c->sse_url = pa_strdup(c->server->url);
    c->sse_step = 0;
    c->sse_first[0] = 0;
    sse_probe_send(c);
}

/* ---- the client ---- */

mcp_client_t *mcp_client_new(const mcp_client_cfg_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->loop || !cfg->server) {
        snprintf(err, errlen, "mcp client: loop and server are required");
        return NULL;
    }
    const mcp_server_conf_t *s = cfg->server;
    if (s->transport == MCP_TRANSPORT_STDIO && (!s->command || !*s->command)) {
        snprintf(err, errlen, "mcp client: server %s: transport stdio needs a command",
                 s->name ? s->name : "?");
        return NULL;
    }
    if (s->transport != MCP_TRANSPORT_STDIO && (!s->url || !*s->url || !cfg->http)) {
        snprintf(err, errlen, "mcp client: server %s: transport http needs a url and an engine",
                 s->name ? s->name : "?");
        return NULL;
    }
    if (s->protocol_version && !mcp_protocol_version_known(s->protocol_version)) {
        snprintf(err, errlen, "mcp client: server %s: unknown protocol version %s",
                 s->name ? s->name : "?", s->protocol_version);
        return NULL;
    }
    mcp_client_t *c = pa_calloc(1, sizeof *c);
    c->loop = cfg->loop;
    c->http = cfg->http;
    c->server = s;
    c->client_name = pa_strdup(cfg->client_name ? cfg->client_name : "prospect-ai");
    c->client_version = pa_strdup(cfg->client_version ? cfg->client_version : PA_VERSION);
    c->auth = cfg->auth;
    c->auth_self = cfg->auth_self;
    c->elicit_defaults = cfg->elicit_defaults;
    c->no_listen = cfg->no_listen;
    c->progress_cap_ms = cfg->progress_cap_ms;
    c->on_connect = cfg->on_connect;
    c->max_message = cfg->max_message ? cfg->max_message : MCP_JSONRPC_MAX_BYTES_DEFAULT;
    c->next_id = 1;
    c->listen_retry = -1;
    if (s->transport != MCP_TRANSPORT_HTTP) { /* a session over a channel */
        c->use_chan = 1;
        c->mode = MODE_SESSION;
        c->configured = 1;
    } else if (s->protocol_version) {
        c->configured = 1;
        if (is_modern(s->protocol_version)) {
            c->mode = MODE_MODERN;
            c->conn = CONN_READY;
            set_proto(c, s->protocol_version);
        } else {
            c->mode = MODE_SESSION;
        }
    }
    return c;
}

static void free_all(mcp_client_t *c)
{
    while (c->calls) {
        mcp_call_t *k = c->calls;
        call_unlink(c, k);
        if (k->xfer) xfer_cancel(k->xfer);
        call_free(k);
    }
    while (c->xfers) xfer_cancel(c->xfers);
}

void mcp_client_destroy(mcp_client_t **cp)
{
    if (!cp || !*cp) return;
    mcp_client_t *c = *cp;
    *cp = NULL;
    listen_stop(c);
    sse_probe_stop(c);
    free_all(c);
    mcp_chan_destroy(&c->chan, 0);
    free(c->sse_url); /* after the channel, which was opened with it */
    pa_loop_timer_stop(c->loop, &c->close_timer);
    pa_loop_timer_stop(c->loop, &c->close_guard);
    free(c->client_name);
    free(c->client_version);
    free(c->session);
    json_decref(c->server_info);
    json_decref(c->tools);
    free(c);
}

static void close_guard_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_client_t *c = ud;
    c->close_guard = NULL;
    for (xfer_t *x = c->xfers, *next; x; x = next) {
        next = x->next;
        if (x->kind == X_DELETE) xfer_cancel(x);
    }
    if (c->close_done) c->close_done(c->close_ud);
}

static void close_step_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_client_t *c = ud;
    c->close_timer = NULL;
    listen_stop(c);
    sse_probe_stop(c);
    /* every request in flight: MCP_ERR_CLOSED */
    while (c->calls) {
        mcp_call_t *k = c->calls;
        if (k->xfer) xfer_cancel(k->xfer);
        if (k->state == S_SENT && k->id) send_cancelled(c, k->id, "the client is closing");
        call_fail(k, MCP_ERR_CLOSED, "the client closed");
    }
    for (xfer_t *x = c->xfers, *next; x; x = next) { /* detached streams */
        next = x->next;
        if (x->kind == X_RESUME || x->kind == X_CALL) xfer_cancel(x);
    }
    c->close_guard = pa_loop_timer(c->loop, CLOSE_DELETE_MS, 0, close_guard_cb, c);
    if (c->chan) { /* stdio: stdin closed, then SIGTERM (reaped on the loop) */
        mcp_chan_destroy(&c->chan, 2000);
        c->conn = CONN_IDLE;
    }
    if (c->mode == MODE_SESSION && c->session && !c->use_chan) {
        xfer_t *x = xfer_new(c, NULL, X_DELETE, "DELETE");
        common_headers(c, x, 1);
        xfer_start(x, CLOSE_DELETE_MS);
        free(c->session);
        c->session = NULL;
        c->conn = CONN_IDLE;
        return;
    }
    pa_loop_timer_again(c->loop, c->close_guard, 0);
}

void mcp_client_close(mcp_client_t *c, void (*done)(void *ud), void *ud)
{
    if (!c || c->closing) return;
    c->closing = 1;
    c->close_done = done;
    c->close_ud = ud;
    c->close_timer = pa_loop_timer(c->loop, 0, 0, close_step_cb, c);
}

const char *mcp_client_protocol(const mcp_client_t *c)
{
    return c && c->proto[0] ? c->proto : NULL;
}

const json_t *mcp_client_server_info(const mcp_client_t *c)
{
    return c ? c->server_info : NULL;
}

int mcp_client_ready(const mcp_client_t *c)
{
    return c && !c->closing && c->conn == CONN_READY;
}

static mcp_call_t *call_new(mcp_client_t *c, kind_t kind, const char *method, const json_t *params,
                            long timeout_ms, mcp_answer_fn fn, void *ud)
{
    mcp_call_t *call = pa_calloc(1, sizeof *call);
    call->c = c;
    call->kind = kind;
    call->method = pa_strdup(method ? method : "");
    call->params = json_is_object(params) ? json_deep_copy(params) : json_object();
    call->timeout_ms = timeout_ms > 0              ? timeout_ms
                       : c->server->timeout_ms > 0 ? c->server->timeout_ms
                                                   : MCP_CONFIG_TIMEOUT_DEFAULT_MS;
    call->fn = fn;
    call->ud = ud;
    call->retry_ms = -1;
    call->start = now_ms(c);
    call->deadline = call->start + (uint64_t)call->timeout_ms;
    long cap = c->progress_cap_ms > 0 ? c->progress_cap_ms : call->timeout_ms * 10;
    if (cap < call->timeout_ms) cap = call->timeout_ms;
    call->cap = call->start + (uint64_t)cap;
    call->token = c->next_id++;
    call_link(c, call);
    arm_timer(call);
    return call;
}

mcp_call_t *mcp_client_request(mcp_client_t *c, const char *method, const json_t *params,
                               long timeout_ms, mcp_answer_fn fn, void *ud)
{
    mcp_call_t *call = call_new(c, K_REQUEST, method, params, timeout_ms, fn, ud);
    if (!method || !*method || strlen(method) > MCP_JSONRPC_MAX_METHOD) {
        call_fail_later(call, MCP_ERR_PROTOCOL, "invalid method name");
        return call;
    }
    call_enqueue(call);
    return call;
}

mcp_call_t *mcp_client_list_tools(mcp_client_t *c, long timeout_ms, mcp_answer_fn fn, void *ud)
{
    mcp_call_t *call = call_new(c, K_LIST_TOOLS, "tools/list", NULL, timeout_ms, fn, ud);
    call_enqueue(call);
    return call;
}

/* A tools/call whose tool list is there (or not needed): the call itself. */
static void call_tool_go(mcp_call_t *call)
{
    call->need_tools = 0;
    call->rounds = 0;
    free(call->method);
    call->method = pa_strdup("tools/call");
    json_decref(call->params);
    call->params = call->pending;
    call->pending = NULL;
    call->kind = K_CALL_TOOL;
    call_send(call);
}

mcp_call_t *mcp_client_call_tool(mcp_client_t *c, const char *name, const json_t *arguments,
                                 long timeout_ms, mcp_answer_fn fn, void *ud)
{
    json_t *params = json_pack("{s:s}", "name", name ? name : "");
    if (arguments) json_object_set_new(params, "arguments", json_deep_copy(arguments));
    /* 2026-07-28 needs the tool's definition for its Mcp-Param-* headers */
    int need_tools = (c->mode == MODE_MODERN || c->mode == MODE_AUTO) && !c->use_chan &&
                     (c->tools == NULL || (name && !find_tool(c, name)));
    mcp_call_t *call;
    if (need_tools) {
        call = call_new(c, K_LIST_TOOLS, "tools/list", NULL, timeout_ms, fn, ud);
        call->need_tools = 1;
        call->pending = params;
    } else {
        call = call_new(c, K_CALL_TOOL, "tools/call", params, timeout_ms, fn, ud);
        json_decref(params);
    }
    if (!name || !*name) {
        call_fail_later(call, MCP_ERR_PROTOCOL, "a tool name is required");
        return call;
    }
    call_enqueue(call);
    return call;
}

void mcp_call_cancel(mcp_call_t *call, const char *reason)
{
    /* S_DONE outside the callback: a failure waiting to be answered from the loop */
    if (!call || call->in_callback || (call->state == S_DONE && !call->later)) return;
    mcp_client_t *c = call->c;
    if (call->state == S_SENT && call->id) send_cancelled(c, call->id, reason);
    if (call->xfer) xfer_cancel(call->xfer);
    call_unlink(c, call);
    if (c->init == call) { /* nobody waits for this initialize any more */
        c->init = NULL;
        c->conn = CONN_IDLE;
    }
    call_free(call);
}

size_t mcp_client_pending(const mcp_client_t *c)
{
    size_t n = 0;
    for (const mcp_call_t *k = c ? c->calls : NULL; k; k = k->next)
        if (k->kind != K_INIT) n++;
    return n;
}

size_t mcp_client_memory(const mcp_client_t *c)
{
    if (!c) return 0;
    size_t n = sizeof *c + c->ncalls * sizeof(mcp_call_t) + c->nxfers * sizeof(xfer_t);
    if (c->session) n += strlen(c->session) + 1;
    if (c->tools) {
        char *s = json_dumps(c->tools, JSON_COMPACT);
        if (s) n += strlen(s) * 2; /* jansson's objects take about twice their text */
        free(s);
    }
    if (c->server_info) {
        char *s = json_dumps(c->server_info, JSON_COMPACT);
        if (s) n += strlen(s) * 2;
        free(s);
    }
    return n;
}
