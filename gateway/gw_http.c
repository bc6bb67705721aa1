/* The gateway's HTTP layer on libmicrohttpd.
 *
 * MHD calls on_request several times per request: once with the headers, once per chunk of
 * body, and once more at the end. The first call matches the route and refuses early what can
 * be refused from headers alone (auth, 404/405, a declared body over the limit); the last call
 * runs the handler. Every reply goes through queue(), which adds the common headers and writes
 * the access log and metrics, so no handler can forget them. */
#include "gw_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gw_metrics.h"
#include "pa_id.h"
#include "pa_log.h"
#include "pa_time.h"

/* 1 when path matches pattern; copies the {id} segment into id (empty when none). */
static int path_match(const char *pattern, const char *path, char *id, size_t idcap, int *id_bad)
{
    const char *p = pattern, *s = path;
    *id_bad = 0;
    while (*p && *s) {
        if (strncmp(p, "{id}", 4) == 0) {
            const char *e = strchr(s, '/');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n == 0) return 0;
            if (n < idcap && gw_id_valid(s, n)) {
                memcpy(id, s, n);
                id[n] = '\0';
            } else {
                *id_bad = 1;
            }
            p += 4;
            s += n;
            continue;
        }
        if (*p != *s) return 0;
        p++, s++;
    }
    /* a trailing slash is not a different resource */
    if (!*p && *s == '/' && s[1] == '\0') return 1;
    return !*p && !*s;
}

static int origin_allowed(const gw_t *gw, const char *origin)
{
    if (!origin) return 0;
    for (size_t i = 0; i < gw->cfg.norigins; i++)
        if (strcmp(gw->cfg.origins[i], "*") == 0 || strcmp(gw->cfg.origins[i], origin) == 0)
            return 1;
    return 0;
}

/* Compares without leaking, through timing, how much of a key matched. */
static int key_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++) d |= (unsigned char)(a[i % (la ? la : 1)] ^ b[i]);
    return d == 0;
}

/* The index of the key the request carries, -1 when there are no keys, -2 when it is wrong. */
static int key_of(const gw_t *gw, struct MHD_Connection *c)
{
    if (gw->cfg.nkeys == 0) return -1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return -2;
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    int found = -2;
    for (size_t i = 0; i < gw->cfg.nkeys; i++)
        if (key_equal(gw->cfg.keys[i], tok)) found = (int)i;
    return found;
}

static int authorized(const gw_t *gw, struct MHD_Connection *c)
{
    return key_of(gw, c) != -2;
}

int gw_key_index(gw_req_t *r)
{
    int k = key_of(r->gw, r->conn);
    return k < 0 ? -1 : k;
}

static void access_log(gw_req_t *r, double secs)
{
    if (!pa_log_enabled(PA_LOG_INFO)) return;
    pa_info("request", PA_S("request_id", r->request_id), PA_S("method", r->method),
            PA_S("path", r->path), PA_S("route", r->route ? r->route->path : NULL),
            PA_I("status", r->status), PA_F("ms", secs * 1000.0));
}

static void queue(gw_req_t *r)
{
    if (r->queued || !r->resp) return;
    r->queued = 1;
    struct MHD_Response *resp = r->resp;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    if (origin_allowed(r->gw, origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "Link, Location, Retry-After, X-Request-Id, X-Total-Count");
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->resp = NULL;
    double secs = (double)(pa_mono_us() - r->start_us) / 1e6;
    gw_metrics_observe(r->route ? r->route_idx : -1, r->status, secs);
    access_log(r, secs);
}

void gw_reply(gw_req_t *r, int status, const char *ctype, char *body, size_t len)
{
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    r->status = status;
    if (ctype) MHD_add_response_header(r->resp, "Content-Type", ctype);
}

_Static_assert(GW_STREAM_END == MHD_CONTENT_READER_END_OF_STREAM, "the end of a streamed body");

void gw_reply_stream(gw_req_t *r, int status, const char *ctype, gw_stream_read_fn read, void *cls,
                     void (*free_fn)(void *cls))
{
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read, cls, free_fn);
    r->status = status;
    if (ctype) MHD_add_response_header(r->resp, "Content-Type", ctype);
}

void gw_reply_buf(gw_req_t *r, int status, pa_buf_t *b)
{
    size_t len;
    char *s = pa_buf_detach(b, &len);
    gw_reply(r, status, "application/json", s, len);
}

void gw_reply_json(gw_req_t *r, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    gw_reply(r, status, "application/json", s, strlen(s));
}

static const char *problem_title(const char *slug, int status)
{
    static const struct {
        const char *slug, *title;
    } titles[] = {
        {"invalid-json", "Invalid JSON"},
        {"invalid-field", "Invalid field"},
        {"unauthorized", "Unauthorized"},
        {"not-found", "Not found"},
        {"method-not-allowed", "Method not allowed"},
        {"conflict", "Conflict"},
        {"payload-too-large", "Payload too large"},
        {"unsupported-media-type", "Unsupported media type"},
        {"unavailable", "Service unavailable"},
        {"not-durable", "Not known to be on disk"},
        {"rate-limited", "Too many requests"},
        {"queue-full", "Queue full"},
        {"no-llm-worker", "No llm worker"},
        {"llm-failed", "LLM call failed"},
        {"llm-timeout", "LLM call timed out"},
        {"llm-unavailable", "LLM provider unavailable"},
        {"internal", "Internal error"},
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (strcmp(titles[i].slug, slug) == 0) return titles[i].title;
    return status >= 500 ? "Server error" : "Client error";
}

char *gw_problem_doc(int status, const char *slug, const char *field, const char *detail,
                     const char *instance, const char *request_id, size_t *len)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b,
                  "{\"type\":\"https://prospect-ai.example/problems/%s\",\"title\":\"%s\","
                  "\"status\":%d,\"detail\":",
                  slug, problem_title(slug, status), status);
    pa_buf_json_str(&b, detail, strlen(detail));
    if (field) {
        pa_buf_puts(&b, ",\"field\":");
        pa_buf_json_str(&b, field, strlen(field));
    }
    pa_buf_puts(&b, ",\"instance\":");
    pa_buf_json_str(&b, instance, strlen(instance));
    pa_buf_puts(&b, ",\"request_id\":");
    pa_buf_json_str(&b, request_id, strlen(request_id));
    pa_buf_putc(&b, '}');
    return pa_buf_detach(&b, len);
}

void gw_problem(gw_req_t *r, int status, const char *slug, const char *field, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    size_t len;
    char *s = gw_problem_doc(status, slug, field, detail, r->path, r->request_id, &len);
    gw_reply(r, status, "application/problem+json", s, len);
    if (status == 401) gw_header(r, "WWW-Authenticate", "Bearer realm=\"prospect-ai\"");
}

void gw_unavailable(gw_req_t *r)
{
    gw_problem(r, 503, "unavailable", NULL, "the data store (Redis) is unreachable; try again");
    gw_header(r, "Retry-After", "1");
}

void gw_header(gw_req_t *r, const char *name, const char *value)
{
    if (r->resp) MHD_add_response_header(r->resp, name, value);
}

const char *gw_arg(gw_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    const char *const *known;
    const char *bad;
} argcheck_t;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind, (void)value;
    argcheck_t *a = cls;
    for (const char *const *k = a->known; *k; k++)
        if (strcmp(key, *k) == 0) return MHD_YES;
    a->bad = key;
    return MHD_NO;
}

const char *gw_arg_unknown(gw_req_t *r, const char *const *known)
{
    argcheck_t a = {known, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    return a.bad;
}

void gw_conn_suspend(struct MHD_Connection *c)
{
    MHD_suspend_connection(c);
}

void gw_conn_resume(struct MHD_Connection *c)
{
    MHD_resume_connection(c);
}

const char *gw_req_header(gw_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int gw_content_type_is(gw_req_t *r, const char *const *types)
{
    const char *ct = gw_req_header(r, "Content-Type");
    if (!ct) return 0;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ') n--;
    for (; *types; types++)
        if (strlen(*types) == n && strncasecmp(ct, *types, n) == 0) return 1;
    return 0;
}

json_t *gw_json_body(gw_req_t *r)
{
    static const char *const json_types[] = {"application/json", "application/merge-patch+json",
                                             NULL};
    if (!gw_content_type_is(r, json_types)) {
        gw_problem(r, 415, "unsupported-media-type", NULL,
                   "expected Content-Type: application/json");
        return NULL;
    }
    json_error_t e;
    json_t *j =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        gw_problem(r, 400, "invalid-json", NULL, "invalid JSON at line %d, column %d: %s", e.line,
                   e.column, e.text);
        return NULL;
    }
    return j;
}

void gw_url_encode(pa_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            pa_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            pa_buf_put(b, e, 3);
        }
    }
}

static int valid_request_id(const char *s)
{
    return s && gw_token_valid(s, strlen(s), 128);
}

/* Matches the route; answers preflights, 404, 405 and 401 at once. 0 when a handler should run. */
static int route_request(gw_t *gw, gw_req_t *r)
{
    char allow[128] = "";
    int path_known = 0;
    const gw_route_t *routes = gw->routes;
    for (size_t i = 0; i < gw->nroutes; i++) {
        char id[GW_ID_MAX + 1] = "";
        int bad;
        if (!path_match(routes[i].path, r->path, id, sizeof id, &bad)) continue;
        path_known = 1;
        if (!strstr(allow, routes[i].method)) {
            if (allow[0]) strcat(allow, ", ");
            strcat(allow, routes[i].method);
        }
        if (strcmp(routes[i].method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            r->route = &routes[i];
            r->route_idx = (int)i;
            r->id_invalid = bad;
            memcpy(r->id, id, sizeof id);
        }
    }
    if (!path_known) {
        gw_problem(r, 404, "not-found", NULL, "no route for %s", r->path);
        return -1;
    }
    if (strcmp(r->method, "OPTIONS") == 0) {
        strcat(allow, ", OPTIONS");
        gw_reply(r, 204, NULL, NULL, 0);
        gw_header(r, "Allow", allow);
        const char *origin = gw_req_header(r, "Origin");
        if (origin_allowed(gw, origin) && gw_req_header(r, "Access-Control-Request-Method")) {
            gw_header(r, "Access-Control-Allow-Methods", allow);
            gw_header(r, "Access-Control-Allow-Headers",
                      "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id");
            gw_header(r, "Access-Control-Max-Age", "600");
        }
        return -1;
    }
    if (!r->route) {
        gw_problem(r, 405, "method-not-allowed", NULL, "%s is not allowed on %s; allowed: %s",
                   r->method, r->path, allow);
        gw_header(r, "Allow", allow);
        return -1;
    }
    if (!r->route->open && !authorized(gw, r->conn)) {
        gw_problem(r, 401, "unauthorized", NULL,
                   "a valid API key is required: Authorization: Bearer <key>");
        return -1;
    }
    if (r->route->body == GW_BODY_NONE) return 0;
    r->body_limit = r->route->body == GW_BODY_IMPORT ? gw->cfg.import_max_body : gw->cfg.max_body;
    const char *cl = gw_req_header(r, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > r->body_limit) {
        r->too_large = 1;
        gw_problem(r, 413, "payload-too-large", NULL, "the body is larger than %zu bytes",
                   r->body_limit);
        return -1;
    }
    return 0;
}

static int has_body(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > 0) return 1;
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    gw_t *gw = cls;
    gw_req_t *r = *con_cls;
    if (!r) {
        r = pa_calloc(1, sizeof *r);
        *con_cls = r;
        atomic_fetch_add(&gw->inflight, 1);
        r->gw = gw;
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->route_idx = -1;
        r->start_us = pa_mono_us();
        const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
        if (valid_request_id(rid)) snprintf(r->request_id, sizeof r->request_id, "%s", rid);
        else pa_id_new(r->request_id);
        /* An early answer (404, 405, 401, preflight) is sent at once when a body may follow,
         * so no unwanted body is read (MHD then closes the connection); a request without a
         * body is answered at its final call, which keeps the connection alive. */
        if (route_request(gw, r) < 0 && (r->too_large || has_body(conn))) queue(r);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->queued && !r->resp) {
            if (r->too_large || r->body.len + *upload_size > r->body_limit) {
                /* A body without Content-Length grew past the limit: keep reading (without
                 * keeping it) so the 413 can be sent once the client has finished; a client
                 * that sends far more than the limit is cut off. */
                if (!r->too_large) pa_buf_free(&r->body);
                r->too_large = 1;
                r->discarded += *upload_size;
                if (r->discarded > r->body_limit + ((size_t)16 << 20)) return MHD_NO;
            } else {
                pa_buf_put(&r->body, upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->queued) return MHD_YES;
    if (r->too_large && !r->resp)
        gw_problem(r, 413, "payload-too-large", NULL, "the body is larger than %zu bytes",
                   r->body_limit);
    if (r->resp) { /* answered early */
        queue(r);
        return MHD_YES;
    }
    gw_handler_fn fn = r->cont ? r->cont : r->route->fn;
    r->cont = NULL;
    fn(gw, r);
    if (r->cont) return MHD_YES; /* suspended: called again when resumed */
    if (!r->resp) gw_problem(r, 500, "internal", NULL, "the handler gave no answer");
    char why[256];
    if (r->status >= 200 && r->status < 300 && strcmp(r->method, "GET") != 0 &&
        strcmp(r->method, "HEAD") != 0 && gw_durable(gw, why, sizeof why) < 0) {
        /* REDIS_DURABILITY=strict: the write is in Redis, but not known to be on disk */
        pa_error("write not confirmed durable", PA_S("request_id", r->request_id),
                 PA_S("why", why));
        gw_problem(r, 503, "not-durable", NULL,
                   "the change was made in Redis but is not known to be on disk (%s); it may be "
                   "lost if Redis or its host crashes: retry (with the same Idempotency-Key)",
                   why);
        gw_header(r, "Retry-After", "1");
    }
    queue(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_t *gw = cls;
    gw_req_t *r = *con_cls;
    if (!r) return;
    if (r->resp) MHD_destroy_response(r->resp);
    if (r->ctx_free) r->ctx_free(r->ctx);
    pa_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&gw->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    pa_warn("http server", PA_S("detail", msg));
}

int gw_http_start(gw_t *gw, const gw_route_t *routes, size_t n)
{
    gw->routes = routes;
    gw->nroutes = n;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)gw->cfg.port);
    inet_pton(AF_INET, gw->cfg.host, &sa.sin_addr);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    gw->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, gw, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)gw->cfg.threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!gw->daemon) {
        pa_error("cannot listen", PA_S("host", gw->cfg.host), PA_I("port", gw->cfg.port));
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->daemon, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : gw->cfg.port;
    return 0;
}

void gw_http_quiesce(gw_t *gw)
{
    if (!gw->daemon) return;
    MHD_socket ls = MHD_quiesce_daemon(gw->daemon);
    if (ls != MHD_INVALID_SOCKET) close(ls);
}

void gw_http_stop(gw_t *gw)
{
    if (!gw->daemon) return;
    gw_http_quiesce(gw);
    uint64_t deadline = pa_mono_ms() + (uint64_t)gw->cfg.shutdown_timeout_s * 1000u;
    while (atomic_load(&gw->inflight) > 0 && pa_mono_ms() < deadline) pa_sleep_ms(10);
    int left = atomic_load(&gw->inflight);
    MHD_stop_daemon(gw->daemon);
    gw->daemon = NULL;
    pa_info("http server stopped", PA_I("unfinished_requests", left));
}
