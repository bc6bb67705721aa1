/* The gateway's HTTP layer on libmicrohttpd: routing, bodies, auth, CORS, request ids, problem
 * responses (RFC 9457), access logs and metrics. Handlers see a gw_req_t and answer with gw_reply*
 * or gw_problem; streamed answers (Server-Sent Events, gw_sse.h) come through gw_reply_stream. */
#ifndef GW_HTTP_H
#define GW_HTTP_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gw.h"
#include "pa_buf.h"

#include "gw_text.h"

struct MHD_Connection;
struct MHD_Response;
typedef struct gw_req gw_req_t;
typedef void (*gw_handler_fn)(gw_t *gw, gw_req_t *req);

enum { GW_BODY_NONE = 0, GW_BODY_JSON, GW_BODY_IMPORT };

typedef struct gw_route {
    const char *method;
    const char *path; /* a pattern: a segment "{id}" matches any one segment */
    gw_handler_fn fn;
    int body;
    int open; /* served without an API key */
} gw_route_t;

struct gw_req {
    gw_t *gw;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const gw_route_t *route; /* NULL when no route matched */
    int route_idx;
    char id[GW_ID_MAX + 1]; /* the {id} segment, when the route has one and it is a valid id */
    int id_invalid;
    char request_id[129];
    uint64_t start_us;
    pa_buf_t body;
    size_t body_limit;
    int too_large;
    size_t discarded; /* bytes of an over-limit body read and dropped */
    size_t body_held; /* bytes counted in gw->body_memory for this request */
    int no_memory;    /* the body would pass HTTP_MAX_BODY_MEMORY: 503 */
    /* the HTTP edge's checks (gw_http.c) */
    int started;          /* the handler saw this request (counted in gw->inflight) */
    const char *raw_uri;  /* the request target as received (MHD's read buffer), and */
    size_t raw_uri_len;   /* its length up to the first NUL */
    int nul_escape;       /* the target has %00 (1), or a space or control character (2) */
    struct gw_conn *edge; /* the connection's entry in gw->conns */
    uint64_t body_start_ms;
    size_t received; /* body bytes received */
    int queued;
    int status;
    struct MHD_Response *resp;
    /* A handler that suspends the connection sets cont (run when it is resumed) and may keep
     * state in ctx, which ctx_free releases when the request completes. */
    gw_handler_fn cont;
    void *ctx;
    void (*ctx_free)(void *ctx);
};

/* Starts the HTTP daemon serving routes[0..n); 0 or -1 (logged). */
int gw_http_start(gw_t *gw, const gw_route_t *routes, size_t n);
/* The HTTP edge's counters: connections open, closed past their header or body deadline,
 * evicted to keep room, refused past HTTP_MAX_CONNECTIONS; request body bytes held now. */
typedef struct {
    size_t open;
    uint64_t timed_out, evicted, refused;
    size_t body_memory;
} gw_http_conn_stats_t;
void gw_http_conn_stats(gw_t *gw, gw_http_conn_stats_t *st);
/* Stops accepting new connections (requests in flight go on). */
void gw_http_quiesce(gw_t *gw);
/* Stops accepting, lets requests in flight finish (bounded by SHUTDOWN_TIMEOUT_S), stops. Open
 * event streams never end by themselves and suspended requests must be resumed first: the
 * caller ends them (gw_events_close_all) between gw_http_quiesce and this. */
void gw_http_stop(gw_t *gw);

/* Replies; each takes ownership of the body it is given. */
void gw_reply(gw_req_t *r, int status, const char *ctype, char *body, size_t len);
void gw_reply_buf(gw_req_t *r, int status, pa_buf_t *b); /* application/json */
/* body is not copied nor freed: it must outlive the response (the dashboard's files) */
void gw_reply_static(gw_req_t *r, int status, const char *ctype, const void *body, size_t len);
void gw_reply_json(gw_req_t *r, int status, json_t *j); /* steals the reference */
/* A body of unknown length produced by read (libmicrohttpd's content reader contract: bytes
 * written, 0 to be called again after a resume, or GW_STREAM_END); free_fn(cls) runs when the
 * response is done. */
#define GW_STREAM_END ((ssize_t)-1)
typedef ssize_t (*gw_stream_read_fn)(void *cls, uint64_t pos, char *buf, size_t max);
void gw_reply_stream(gw_req_t *r, int status, const char *ctype, gw_stream_read_fn read, void *cls,
                     void (*free_fn)(void *cls));
/* Suspends a connection (libmicrohttpd stops calling its reader) and resumes it, from any thread
 * (gw_sse.h keeps the state that makes this safe). */
void gw_conn_suspend(struct MHD_Connection *c);
void gw_conn_resume(struct MHD_Connection *c);
/* An RFC 9457 problem document: status, a type slug, the field at fault (or NULL), detail. */
void gw_problem(gw_req_t *r, int status, const char *slug, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void gw_unavailable(gw_req_t *r);
/* The RFC 9457 document gw_problem answers with (caller frees; *len its length). */
char *gw_problem_doc(int status, const char *slug, const char *field, const char *detail,
                     const char *instance, const char *request_id, size_t *len);
/* Adds a header to the reply already made. */
void gw_header(gw_req_t *r, const char *name, const char *value);

const char *gw_arg(gw_req_t *r, const char *name);
/* The first query parameter whose name is not in known (NULL-terminated), or NULL. */
const char *gw_arg_unknown(gw_req_t *r, const char *const *known);
const char *gw_req_header(gw_req_t *r, const char *name);
/* Checks Content-Type is JSON and parses the body; on failure replies 415/400 and gives NULL. */
json_t *gw_json_body(gw_req_t *r);
/* 1 when the request's Content-Type media type is one of the given (NULL-terminated). */
int gw_content_type_is(gw_req_t *r, const char *const *types);
/* Which API key the request used (index into API_KEYS), or -1 without keys. */
int gw_key_index(gw_req_t *r);

/* Appends s percent-encoded for a query string. */
void gw_url_encode(pa_buf_t *b, const char *s);

#endif
