/* One HTTP client engine for every worker: libcurl's multi socket interface on a pa_loop (its
 * sockets are loop watches, its timeouts a loop timer), so thousands of transfers run in one
 * thread beside the worker's other work.
 *
 *   pa_http_req_t *r = pa_http_req_new(h, "POST", "https://example.com/contact");
 *   pa_http_req_form(r, "name", "Ada");
 *   pa_http_req_jar(r, task_jar);               // cookies kept for this task only
 *   pa_http_req_redirects(r, 5, check_hop);     // follow up to 5 hops, each one checked
 *   pa_http_req_on_connect(r, check_address);   // every address connected to, every hop
 *   pa_http_req_owner(r, task);                 // pa_http_cancel_owner(h, task) stops them all
 *   pa_http_start(r, on_done, ud);              // on_done(r, res, ud) once, from the loop
 *
 * Rules:
 * - After pa_http_start, done is called exactly once, from the loop and never inside
 *   pa_http_start, unless the request is cancelled first: a cancelled request's done is never
 *   called. The request (and everything the response points at) is freed when done returns.
 * - pa_http_cancel may be called from anywhere on the loop's thread, also from inside the
 *   request's own hooks; the handle is invalid once it returns. Inside the request's own done
 *   callback it does nothing (the request is ending anyway).
 * - Redirects are followed by the engine, one hop at a time (libcurl's own following is off):
 *   Location is resolved against the hop's URL; 301, 302 and 303 go on with GET (HEAD stays
 *   HEAD) and no body; 307 and 308 keep the method and the body. A hop to another origin drops
 *   the request's Authorization, Cookie and Proxy-Authorization headers (a jar's cookies follow
 *   their own domain rules). The body of a response that is followed is discarded.
 * - A request with a connect hook always opens its own connection (no reuse), so that the hook
 *   sees the address of every connection the request uses, on every hop.
 * - A request started from inside a hook (data, connect) starts on the next loop turn.
 * - Not thread-safe: one engine per loop; curl_global_init is the daemon's. Do not destroy the
 *   engine from inside one of its callbacks. */
#ifndef PA_HTTP_H
#define PA_HTTP_H
#include <stddef.h>
#include <sys/socket.h>

#include "pa_loop.h"

typedef struct pa_http pa_http_t;
typedef struct pa_http_req pa_http_req_t;
typedef struct pa_http_jar pa_http_jar_t;

typedef enum {
    PA_HTTP_OK = 0,     /* a response arrived (any status: look at res->status) */
    PA_HTTP_ETIMEDOUT,  /* the connect or the total timeout passed */
    PA_HTTP_ECONNECT,   /* the name did not resolve, or no address accepted the connection */
    PA_HTTP_EREFUSED,   /* the connect hook refused the address (res->ip says which) */
    PA_HTTP_EREDIRECT,  /* the redirect hook refused a hop, too many hops, or a bad Location */
    PA_HTTP_ETOOLARGE,  /* the body passed max_body (or the headers passed 64 KiB) */
    PA_HTTP_EABORTED,   /* the data callback stopped the transfer */
    PA_HTTP_EURL,       /* a malformed URL or one that is not http:// or https:// */
    PA_HTTP_ETRANSPORT, /* any other failure: TLS, protocol, I/O (res->curl_code says which) */
} pa_http_result_t;

typedef struct {
    const char *user_agent;     /* NULL or "": $HTTP_USER_AGENT, else "prospect-ai/<version>" */
    long max_host_connections;  /* connections to one host at once; 0: no cap */
    long max_total_connections; /* connections at once; 0: no cap */
    long connect_timeout_ms;    /* requests' default; 0: 10000 */
    long timeout_ms;            /* requests' default, all hops together; 0: 60000 */
    size_t max_body;            /* requests' default; 0: 1 MiB */
} pa_http_cfg_t;

/* What a transfer ended with. Every pointer is valid until the callback returns. */
typedef struct {
    pa_http_result_t result;
    const char *error; /* "" for PA_HTTP_OK, else a sentence saying what failed */
    int curl_code;     /* libcurl's CURLcode of the last hop (0: it completed) */
    long status;       /* the last response's status, 0 when none came */
    const char *body;  /* the bytes kept (not those the data callback took), NUL-terminated */
    size_t len;
    const char *url; /* the last hop's URL */
    const char *ip;  /* the address connected to on the last hop ("" when none) */
    long port;
    unsigned hops;                                     /* redirects followed */
    const char *content_type, *location, *retry_after; /* of the last response, or NULL */
    long elapsed_ms;                                   /* from pa_http_start */
    const void *priv_; /* the engine's: pa_http_res_header reads through it */
} pa_http_res_t;

/* The last value of a header of the last response (name without case), or NULL. */
const char *pa_http_res_header(const pa_http_res_t *res, const char *name);
/* The i-th header of the last response (in order): 0, or -1 past the end. */
int pa_http_res_header_at(const pa_http_res_t *res, size_t i, const char **name,
                          const char **value);

typedef void (*pa_http_done_fn)(pa_http_req_t *req, const pa_http_res_t *res, void *ud);
/* Body bytes of the final response as they arrive; head has its status and headers (no body).
 * Returns PA_HTTP_DATA_TAKEN (not kept), PA_HTTP_DATA_KEEP (kept in res->body as without the
 * callback) or PA_HTTP_DATA_ABORT (the transfer ends with PA_HTTP_EABORTED). max_body bounds
 * the total either way. */
typedef int (*pa_http_data_fn)(pa_http_req_t *req, const pa_http_res_t *head, const char *data,
                               size_t len, void *ud);
enum { PA_HTTP_DATA_ABORT = -1, PA_HTTP_DATA_TAKEN = 0, PA_HTTP_DATA_KEEP = 1 };
/* A hop about to be followed (to is absolute, http or https): 0 follows it, -1 ends the transfer
 * with PA_HTTP_EREDIRECT (the 3xx response in res). */
typedef int (*pa_http_redirect_fn)(pa_http_req_t *req, const char *from, const char *to,
                                   long status, void *ud);
/* An address about to be connected to (after the name was resolved, before connect): 0 allows,
 * -1 refuses (libcurl tries the name's other addresses; when none is allowed the transfer ends
 * with PA_HTTP_EREFUSED). Called from inside libcurl, like the data callback: it may start and
 * cancel requests, nothing else of this engine. */
typedef int (*pa_http_connect_fn)(pa_http_req_t *req, const struct sockaddr *addr, const char *ip,
                                  int port, void *ud);

/* NULL when libcurl cannot make a multi handle (err says so). */
pa_http_t *pa_http_new(pa_loop_t *l, const pa_http_cfg_t *cfg, char *err, size_t errlen);
/* Stops every transfer (their done callbacks are not called) and frees the engine. */
void pa_http_destroy(pa_http_t **h);
/* The User-Agent the engine sends. */
const char *pa_http_user_agent(const pa_http_t *h);
/* Transfers started and not yet done or cancelled. */
size_t pa_http_running(const pa_http_t *h);

/* A request (method: any token, e.g. "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"). Set it up
 * with the calls below, then pa_http_start: it belongs to the engine from then on. */
pa_http_req_t *pa_http_req_new(pa_http_t *h, const char *method, const char *url);
/* A header line "Name: value" (copied); "Name:" removes a header libcurl would send. */
void pa_http_req_header(pa_http_req_t *r, const char *line);
/* The body, one kind per request (a later call of another kind replaces it). Raw bytes with
 * their Content-Type (copied): */
void pa_http_req_body(pa_http_req_t *r, const char *content_type, const void *data, size_t len);
/* A JSON document (Content-Type: application/json): */
void pa_http_req_json(pa_http_req_t *r, const char *json);
/* One field of an application/x-www-form-urlencoded body (encoded here), in order: */
void pa_http_req_form(pa_http_req_t *r, const char *name, const char *value);
/* One part of a multipart/form-data body (curl_mime), in order; filename and content_type may
 * be NULL: */
void pa_http_req_part(pa_http_req_t *r, const char *name, const void *data, size_t len,
                      const char *filename, const char *content_type);
/* Per-request limits (0 keeps the engine's default). */
void pa_http_req_timeouts(pa_http_req_t *r, long connect_ms, long total_ms);
void pa_http_req_max_body(pa_http_req_t *r, size_t max);
/* Who the request is for (a task): pa_http_cancel_owner stops every request of an owner. */
void pa_http_req_owner(pa_http_req_t *r, const void *owner);
/* Cookies: received ones are stored in jar and sent back by the requests that use the same
 * jar. Without a jar no cookie is kept. */
void pa_http_req_jar(pa_http_req_t *r, pa_http_jar_t *jar);
/* Follow up to max_hops redirects (0, the default: a 3xx is the answer), each one checked by fn
 * (NULL: each allowed). */
void pa_http_req_redirects(pa_http_req_t *r, unsigned max_hops, pa_http_redirect_fn fn);
void pa_http_req_on_connect(pa_http_req_t *r, pa_http_connect_fn fn);
void pa_http_req_on_data(pa_http_req_t *r, pa_http_data_fn fn);
/* Starts the transfer; done(req, res, ud) is called once, later (see the rules above). ud is
 * passed to the request's hooks too. */
void pa_http_start(pa_http_req_t *r, pa_http_done_fn done, void *ud);
/* Stops a request: its done callback is never called; r is invalid after the call. */
void pa_http_cancel(pa_http_req_t *r);
/* Cancels every request of owner; returns how many. */
size_t pa_http_cancel_owner(pa_http_t *h, const void *owner);
/* The ud given to pa_http_start. */
void *pa_http_req_ud(const pa_http_req_t *r);

/* A cookie jar (one per task). Destroying it while requests use it is allowed: it is freed when
 * the last of them ends. */
pa_http_jar_t *pa_http_jar_new(void);
void pa_http_jar_destroy(pa_http_jar_t **j);

/* ---- pure helpers (unit-tested and fuzzed) ---- */

/* location resolved against base (RFC 3986), or NULL when either is malformed or the result is
 * not an http:// or https:// URL; caller frees. */
char *pa_http_resolve(const char *base, const char *location);
/* Splits one header line ("Name: value\r\n") into its name and its value without the blanks
 * around it: 0, or -1 when it is not a header (no colon, an empty name or one with blanks or
 * controls). */
int pa_http_header_split(const char *line, size_t len, const char **name, size_t *nlen,
                         const char **value, size_t *vlen);

#endif
