/* The gateway's HTTP layer on libmicrohttpd: routing, bodies, auth, CORS, request ids, problem
 * responses, access logs and metrics. Handlers see a gw_req_t and answer with gw_reply*. */
#ifndef GW_HTTP_H
#define GW_HTTP_H
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gw_config.h"
#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_llm_stream.h"
#include "gw_prospect.h"
#include "gw_store.h"
#include "pa_buf.h"
#include "pa_redis.h"

typedef struct gw gw_t;
typedef struct gw_req gw_req_t;
typedef void (*gw_handler_fn)(gw_t *gw, gw_req_t *req);

enum { GW_BODY_NONE = 0, GW_BODY_JSON, GW_BODY_IMPORT };

typedef struct {
    const char *method;
    const char *path; /* a pattern: a segment "{id}" matches any one segment */
    gw_handler_fn fn;
    int body;
    int open; /* served without an API key */
} gw_route_t;

struct gw {
    gw_config_t cfg;
    gw_store_t *store;
    gw_dispatch_t *dispatch; /* NULL when DISPATCH_BIND is empty */
    gw_events_t *events;
    gw_streams_t *streams; /* streamed generate answers; NULL: none (answers are not streamed) */
    struct MHD_Daemon *daemon;
    uint64_t start_ms;
    pthread_key_t redis_key;
    /* the connection health and metrics read the llm workers' state with (gw_health.c): apart
     * from the request threads' ones, so that a read that meets a connection Redis dropped
     * never makes a request wait for the reconnect */
    pa_redis_t *llm_redis;
    pthread_mutex_t llm_lock;
    atomic_int inflight;
    int port; /* the bound port */
};

#define GW_MAX_HEADERS 8

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
    int queued;
    int status;
    struct MHD_Response *resp;
    gw_handler_fn cont;     /* runs when a suspended request is resumed */
    gw_waiter_t *waiter;    /* while waiting for a job (gw_events) */
    char job[72];           /* the job a suspended request waits for */
};

const gw_route_t *gw_routes(size_t *n);

/* Starts the HTTP daemon; 0 or -1 (logged). */
int gw_http_start(gw_t *gw);
/* Stops accepting, lets requests in flight finish (bounded by SHUTDOWN_TIMEOUT_S), stops. */
void gw_http_stop(gw_t *gw);

/* Replies; each takes ownership of the body it is given. */
void gw_reply(gw_req_t *r, int status, const char *ctype, char *body, size_t len);
void gw_reply_buf(gw_req_t *r, int status, pa_buf_t *b); /* application/json */
void gw_reply_json(gw_req_t *r, int status, json_t *j);   /* steals the reference */
void gw_problem(gw_req_t *r, int status, const char *slug, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void gw_unavailable(gw_req_t *r);
/* The RFC 9457 document gw_problem answers with (caller frees; *len its length). */
char *gw_problem_doc(int status, const char *slug, const char *field, const char *detail,
                     const char *instance, const char *request_id, size_t *len);
/* Adds a header to the reply already made. */
void gw_header(gw_req_t *r, const char *name, const char *value);

const char *gw_arg(gw_req_t *r, const char *name);
const char *gw_req_header(gw_req_t *r, const char *name);
/* The calling thread's Redis connection (made on first use). */
pa_redis_t *gw_redis(gw_t *gw);
/* Checks Content-Type is JSON and parses the body; on failure replies 415/400 and gives NULL. */
json_t *gw_json_body(gw_req_t *r);
/* 1 when the request's Content-Type media type is one of the given (NULL-terminated). */
int gw_content_type_is(gw_req_t *r, const char *const *types);

/* Appends s percent-encoded for a query string. */
void gw_url_encode(pa_buf_t *b, const char *s);

/* Handlers (one file per resource). */
void gw_h_health(gw_t *gw, gw_req_t *r);
void gw_h_metrics(gw_t *gw, gw_req_t *r);
void gw_h_openapi(gw_t *gw, gw_req_t *r);
void gw_h_prospects_list(gw_t *gw, gw_req_t *r);
void gw_h_prospects_create(gw_t *gw, gw_req_t *r);
void gw_h_prospects_import(gw_t *gw, gw_req_t *r);
void gw_h_prospect_get(gw_t *gw, gw_req_t *r);
void gw_h_prospect_patch(gw_t *gw, gw_req_t *r);
void gw_h_prospect_delete(gw_t *gw, gw_req_t *r);
void gw_h_campaigns_list(gw_t *gw, gw_req_t *r);
void gw_h_campaigns_create(gw_t *gw, gw_req_t *r);
void gw_h_campaign_get(gw_t *gw, gw_req_t *r);
void gw_h_run(gw_t *gw, gw_req_t *r);
void gw_h_jobs_list(gw_t *gw, gw_req_t *r);
void gw_h_job_get(gw_t *gw, gw_req_t *r);
void gw_h_job_tasks(gw_t *gw, gw_req_t *r);
void gw_h_job_cancel(gw_t *gw, gw_req_t *r);
void gw_h_job_events(gw_t *gw, gw_req_t *r);
void gw_h_workers(gw_t *gw, gw_req_t *r);
void gw_h_llm_generate(gw_t *gw, gw_req_t *r);
/* The answer of the generate call `job` once it ended (or timed_out): the status (200, 502, 503,
 * 504; at 504 the job is cancelled) and its body (caller frees): the task's result for 200, else
 * a problem document for instance and request_id. For 503 (Redis away, or the worker's circuit
 * breaker open), *retry_after_s says when to try again. */
char *gw_generate_outcome(gw_t *gw, const char *job, int timed_out, const char *instance,
                          const char *request_id, int *status, long *retry_after_s);
/* Checks LLM params (temperature, top_p, max_tokens, stop, seed); answers 400 and returns -1
 * when they are wrong. */
int gw_check_llm_params(gw_req_t *r, json_t *p, const char *path);
/* The workers some gateway heard from within 3 heartbeats (pa:workers), as a JSON array of their
 * entries with "id" added; NULL when Redis is away. Caller decrefs. */
json_t *gw_live_workers(gw_t *gw);
/* Which API key the request used (index into API_KEYS), or -1 without keys. */
int gw_key_index(gw_req_t *r);

#endif
