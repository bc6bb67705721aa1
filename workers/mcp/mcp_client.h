/* The MCP client: one connection to one MCP server (an mcp_server_conf_t of MCP_SERVERS), on a
 * pa_loop, speaking both current revisions of the specification:
 *
 *   2026-07-28 (stateless)   no initialize; every request carries _meta {protocolVersion,
 *                            clientCapabilities, clientInfo}; headers MCP-Protocol-Version,
 *                            Mcp-Method, Mcp-Name, Mcp-Param-* (x-mcp-header tool parameters);
 *                            -32022 retried with a supported version; input_required results
 *                            answered by re-sending with the inputs and the unchanged
 *                            requestState; cancellation by closing the response stream.
 *   2025-11-25 .. 2025-03-26 initialize + notifications/initialized, Mcp-Session-Id and
 *                            MCP-Protocol-Version on every request, JSON or SSE answers, a stream
 *                            closed early resumed with GET + Last-Event-ID after retry:, a 404 on
 *                            the session re-initialises once, server requests (ping,
 *                            elicitation/create, others -32601) answered, notifications/cancelled
 *                            on timeout, progress extending the timeout up to a cap, DELETE of the
 *                            session at close.
 *
 * Transports: "http" (Streamable HTTP on the engine pa_http; the revision is chosen per server
 * as the specification says: the modern form first unless configured, a 400 that is not a
 * modern error falls back to initialize, 400/404/405 there to the legacy HTTP+SSE transport; the
 * decision is kept for the client's life), "sse" (legacy HTTP+SSE) and "stdio" (a child process)
 * through a message channel (mcp_chan.h). The legacy fallback's event stream is the configured
 * URL when a GET there answers 200 with text/event-stream, else the origin's /sse (each probed
 * once by its head; when neither is, the waiting requests fail MCP_ERR_TRANSPORT naming both).
 *
 * The connection is made lazily: the first request connects (and negotiates); requests made
 * meanwhile wait for it. Many requests may be in flight at once.
 *
 * Rules (as pa_http's):
 * - An answer callback is called exactly once per request, from the loop, never inside the call
 *   that made the request, unless the request is cancelled first (then never).
 * - Everything an answer points at is valid during the callback only.
 * - Not thread-safe: one loop, one thread. Do not destroy the client inside its callbacks
 *   (mcp_client_close may be called there). */
#ifndef MCP_CLIENT_H
#define MCP_CLIENT_H
#include <jansson.h>
#include <stddef.h>

#include "mcp_config.h"
#include "pa_http.h"
#include "pa_loop.h"

typedef struct mcp_client mcp_client_t;
typedef struct mcp_call mcp_call_t;

/* ---- authorization (implemented by mcp_oauth.h; NULL: none) ---- */

/* ok 1: credentials are ready (retry the request with header()); 0: they could not be had (error
 * says why, never holding a secret). */
typedef void (*mcp_auth_done_fn)(void *ud, int ok, const char *error);
typedef struct {
    /* The value of the Authorization header for a request to url ("Bearer ..."), or NULL when
     * there are no credentials yet (the request goes without). */
    const char *(*header)(void *self, const char *url);
    /* The server answered status (401 or 403) with www_authenticate (the header's value, NULL
     * when absent) to a request for url: get credentials (discovery, token request, refresh,
     * step-up), then call done(ud, ...) exactly once, from the loop, never inside this call. The
     * client gives up after a few challenges of the same request (MCP_ERR_AUTH). */
    void (*challenge)(void *self, const char *url, long status, const char *www_authenticate,
                      mcp_auth_done_fn done, void *ud);
    /* The client no longer waits for the challenge whose done has ud (it is closing): done must
     * not be called for it. */
    void (*abandon)(void *self, void *ud);
    /* Optional (NULL: none), for DPoP (RFC 9449). One more header line ("DPoP: <proof>") for a
     * request (method, url) that carries header()'s value, or NULL; valid until the next call. */
    const char *(*extra_header)(void *self, const char *method, const char *url);
    /* Optional: every HTTP response of the server, before challenge() is called for it (its
     * DPoP-Nonce header is kept for the next proofs). */
    void (*response)(void *self, const pa_http_res_t *res);
} mcp_auth_ops_t;

/* ---- configuration ---- */

typedef struct {
    pa_loop_t *loop;
    pa_http_t *http;                 /* transports http and sse */
    const mcp_server_conf_t *server; /* borrowed: outlives the client */
    const char *client_name;         /* clientInfo.name (NULL: "prospect-ai") */
    const char *client_version;      /* clientInfo.version (NULL: the suite's version) */
    const mcp_auth_ops_t *auth;      /* NULL: no authorization */
    void *auth_self;
    /* elicitation/create (and 2026-07-28 elicitation input requests): 1 accepts with the
     * requested schema's defaults; 0 declines. */
    int elicit_defaults;
    /* 1: never open a session's GET stream (messages the server sends outside the answer of a
     * request are then not received). Each such stream holds one of the engine's connections to
     * the host for the session's life; a worker with many sessions on one host sets it. */
    int no_listen;
    /* Progress notifications extend a request's timeout, but never past this many ms from the
     * start (0: 10 x the request's timeout). */
    long progress_cap_ms;
    /* Checks every address an HTTP transfer connects to (the workers' private-address rule);
     * NULL: none. */
    pa_http_connect_fn on_connect;
    size_t max_message; /* bytes of one received message; 0: MCP_JSONRPC_MAX_BYTES_DEFAULT */
} mcp_client_cfg_t;

/* ---- answers ---- */

typedef enum {
    MCP_OK = 0,
    MCP_ERR_RPC,       /* the server answered a JSON-RPC error: code, message, data */
    MCP_ERR_TOOL,      /* tools/call answered isError: true; message is the tool's text */
    MCP_ERR_TIMEOUT,   /* the request's timeout (or the progress cap) passed */
    MCP_ERR_TRANSPORT, /* unreachable, refused, reset, an unexpected HTTP status, a stream that
                        * ended without the answer and could not be resumed, a child that died */
    MCP_ERR_PROTOCOL,  /* the server broke the protocol: not JSON-RPC, no common revision... */
    MCP_ERR_AUTH,      /* authorization failed or was refused */
    MCP_ERR_CLOSED,    /* the client closed before the answer came */
} mcp_status_t;
const char *mcp_status_name(mcp_status_t s); /* "ok", "rpc_error", "tool_error", "timeout", ... */

typedef struct {
    mcp_status_t status;
    const json_t *result; /* MCP_OK, MCP_ERR_TOOL: the result object; else NULL */
    long long code;       /* MCP_ERR_RPC: the JSON-RPC code */
    const char *message;  /* never NULL: "" for MCP_OK, else a sentence (the server's message
                           * for MCP_ERR_RPC and MCP_ERR_TOOL) */
    const json_t *data;   /* MCP_ERR_RPC: error.data, or NULL */
    long http_status;     /* the last HTTP status seen for this request, 0 when none */
} mcp_answer_t;
typedef void (*mcp_answer_fn)(void *ud, const mcp_answer_t *a);

/* ---- the client ---- */

/* NULL with err when the configuration cannot work (a transport without its url or command). */
mcp_client_t *mcp_client_new(const mcp_client_cfg_t *cfg, char *err, size_t errlen);
/* Stops at once: no callback is called any more, the child (stdio) is signalled, nothing is
 * sent. Sets *c to NULL. */
void mcp_client_destroy(mcp_client_t **c);
/* Ends politely: requests in flight are answered MCP_ERR_CLOSED, the session is ended (DELETE
 * with Mcp-Session-Id; a stdio child gets its stdin closed, then SIGTERM), then done(ud) is
 * called once from the loop (NULL: none); destroy the client after it. */
void mcp_client_close(mcp_client_t *c, void (*done)(void *ud), void *ud);

/* The revision in use ("2026-07-28", "2025-11-25", ...), or NULL before one was agreed. */
const char *mcp_client_protocol(const mcp_client_t *c);
/* What initialize answered (serverInfo, capabilities, instructions), or NULL (not connected, or
 * a stateless revision). */
const json_t *mcp_client_server_info(const mcp_client_t *c);
/* 1 when connected (a session or a chosen revision) and nothing is known to be wrong. */
int mcp_client_ready(const mcp_client_t *c);

/* One request: method with params (an object, copied; NULL: none). timeout_ms 0 takes the
 * server's timeout_ms. Never NULL. */
mcp_call_t *mcp_client_request(mcp_client_t *c, const char *method, const json_t *params,
                               long timeout_ms, mcp_answer_fn fn, void *ud);
/* tools/list, every page (nextCursor followed, at most 100 pages): the result is
 * {"tools": [...]} with the tools whose x-mcp-header annotations are invalid left out. The list
 * is also kept by the client (for Mcp-Param-* headers of later calls). */
mcp_call_t *mcp_client_list_tools(mcp_client_t *c, long timeout_ms, mcp_answer_fn fn, void *ud);
/* tools/call name(arguments): MCP_OK with the result, or MCP_ERR_TOOL when the result has
 * isError: true. With 2026-07-28 the tool's x-mcp-header parameters go into Mcp-Param-* headers
 * (the tool list is fetched first when the client has none). */
mcp_call_t *mcp_client_call_tool(mcp_client_t *c, const char *name, const json_t *arguments,
                                 long timeout_ms, mcp_answer_fn fn, void *ud);
/* Stops waiting for a request: its callback is never called; the server is told
 * (notifications/cancelled with reason, or the response stream closed). call is invalid after.
 * Inside the call's own callback it does nothing. */
void mcp_call_cancel(mcp_call_t *call, const char *reason);

/* Requests in flight, and an estimate of the bytes the client holds (for BENCHMARKS.md). */
size_t mcp_client_pending(const mcp_client_t *c);
size_t mcp_client_memory(const mcp_client_t *c);

#endif
