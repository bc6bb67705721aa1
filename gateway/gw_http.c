/* The gateway's HTTP layer on libmicrohttpd.
 *
 * MHD calls on_request several times per request: once with the headers, once per chunk of
 * body, and once more at the end. The first call matches the route and refuses early what can
 * be refused from headers alone (auth, 404/405, a declared body over the limit); the last call
 * runs the handler. Every reply goes through queue(), which adds the common headers and writes
 * the access log and metrics, so no handler can forget them. */
#include "gw_http.h"
#include "gw_static.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_host.h"
#include "gw_metrics.h"
#include "pa_id.h"
#include "pa_log.h"
#include "pa_redis.h"
#include "pa_time.h"
#include "pa_utf8.h"

/* Appends s[0..n) to out with every byte that is not part of well-formed UTF-8 (or is NUL)
 * replaced by U+FFFD. */
static void utf8_clean(pa_buf_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = pa_utf8_decode(s + i, n - i, &cp);
        if (k == 0 || cp == 0) {
            pa_buf_puts(out, "\xef\xbf\xbd");
            i++;
        } else {
            pa_buf_put(out, s + i, k);
            i += k;
        }
    }
    pa_buf_putc(out, '\0');
    out->len--;
}

/* Appends s[0..n) as a JSON string, valid whatever the request held (see utf8_clean). */
static void json_text(pa_buf_t *b, const char *s, size_t n)
{
    if (pa_utf8_valid(s, n)) {
        pa_buf_json_str(b, s, n);
        return;
    }
    pa_buf_t t = PA_BUF_INIT;
    utf8_clean(&t, s, n);
    pa_buf_json_str(b, t.data, t.len);
    pa_buf_free(&t);
}

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
    /* the log line is JSON: a path or method that is not UTF-8 is logged with U+FFFD */
    pa_buf_t p = PA_BUF_INIT, m = PA_BUF_INIT;
    const char *path = r->path, *method = r->method;
    if (!pa_utf8_valid(path, strlen(path))) {
        utf8_clean(&p, path, strlen(path));
        path = p.data;
    }
    if (!pa_utf8_valid(method, strlen(method))) {
        utf8_clean(&m, method, strlen(method));
        method = m.data;
    }
    pa_info("request", PA_S("request_id", r->request_id), PA_S("method", method),
            PA_S("path", path), PA_S("route", r->route ? r->route->path : NULL),
            PA_I("status", r->status), PA_F("ms", secs * 1000.0));
    pa_buf_free(&p);
    pa_buf_free(&m);
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
    }
    /* every answer depends on Origin (CORS headers or none), so that no cache serves one
     * origin's answer to another; a preflight's also on what it asks for */
    MHD_add_response_header(resp, "Vary",
                            strcmp(r->method, "OPTIONS") == 0
                                ? "Origin, Access-Control-Request-Method, "
                                  "Access-Control-Request-Headers"
                                : "Origin");
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

void gw_reply_static(gw_req_t *r, int status, const char *ctype, const void *body, size_t len)
{
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
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
        {"bad-request", "Bad request"},
        {"misdirected-request", "Misdirected request"},
        {"not-implemented", "Not implemented"},
        {"invalid-json", "Invalid JSON"},
        {"invalid-field", "Invalid field"},
        {"unauthorized", "Unauthorized"},
        {"not-found", "Not found"},
        {"method-not-allowed", "Method not allowed"},
        {"conflict", "Conflict"},
        {"payload-too-large", "Payload too large"},
        {"unsupported-media-type", "Unsupported media type"},
        {"unavailable", "Service unavailable"},
        {"not-durable", "Not known to be durable"},
        {"rate-limited", "Too many requests"},
        {"queue-full", "Queue full"},
        {"no-llm-worker", "No llm worker"},
        {"llm-failed", "LLM call failed"},
        {"llm-timeout", "LLM call timed out"},
        {"llm-unavailable", "LLM provider unavailable"},
        {"no-mcp-worker", "No mcp worker"},
        {"mcp-not-configured", "No MCP server configured"},
        {"mcp-unknown-server", "Unknown MCP server"},
        {"mcp-unknown-tool", "Unknown MCP tool"},
        {"mcp-bad-arguments", "Invalid tool arguments"},
        {"mcp-tool-error", "MCP tool failed"},
        {"mcp-failed", "MCP call failed"},
        {"mcp-timeout", "MCP call timed out"},
        {"mcp-unavailable", "MCP server unavailable"},
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
    json_text(&b, detail, strlen(detail));
    if (field) {
        pa_buf_puts(&b, ",\"field\":");
        json_text(&b, field, strlen(field));
    }
    pa_buf_puts(&b, ",\"instance\":");
    json_text(&b, instance, strlen(instance));
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
    /* the thread's connection (never made here) says why, when Redis answered with a refusal */
    pa_redis_t *rd = r->gw ? pthread_getspecific(r->gw->redis_key) : NULL;
    const char *e = rd ? pa_redis_errstr(rd) : "";
    if (strncmp(e, "OOM", 3) == 0)
        gw_problem(r, 503, "unavailable", NULL,
                   "the data store (Redis) is out of memory (maxmemory, with the noeviction "
                   "policy): the change was not made; free memory or raise maxmemory, then try "
                   "again");
    else
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

/* Counts n more bytes of r's body in gw->body_memory; -1 (nothing counted) when that would pass
 * HTTP_MAX_BODY_MEMORY. */
static int body_reserve(gw_t *gw, gw_req_t *r, size_t n)
{
    size_t now = atomic_fetch_add(&gw->body_memory, n) + n;
    if (now > gw->cfg.max_body_memory) {
        atomic_fetch_sub(&gw->body_memory, n);
        return -1;
    }
    r->body_held += n;
    return 0;
}

/* Drops the body read so far and what it counted. */
static void body_drop(gw_t *gw, gw_req_t *r)
{
    pa_buf_free(&r->body);
    atomic_fetch_sub(&gw->body_memory, r->body_held);
    r->body_held = 0;
}

static void no_memory_problem(gw_req_t *r)
{
    gw_problem(r, 503, "unavailable", NULL,
               "the gateway holds too many request bodies at once (HTTP_MAX_BODY_MEMORY); try "
               "again");
    gw_header(r, "Retry-After", "1");
}

static void gw_h_dashboard(gw_t *gw, gw_req_t *r)
{
    gw_static_serve(gw->dashboard, r);
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
    if (!path_known && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) &&
        strncmp(r->path, "/api/", 5) != 0 && strcmp(r->path, "/api") != 0) {
        /* the dashboard's files, and its pages (served without a key: the API asks for it) */
        static const gw_route_t dashboard = {"GET", "/", gw_h_dashboard, GW_BODY_NONE, 1};
        r->route = &dashboard;
        r->route_idx = -1;
        return 0;
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
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > r->body_limit) {
        r->too_large = 1;
        gw_problem(r, 413, "payload-too-large", NULL, "the body is larger than %zu bytes",
                   r->body_limit);
        return -1;
    }
    if (declared && body_reserve(gw, r, (size_t)declared) < 0) {
        r->no_memory = 1;
        no_memory_problem(r);
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

/* ---- the connections: deadlines, caps, eviction ------------------------------------------ */

/* One open connection. A connection waiting for a request's header (a new one, or one kept
 * alive between requests) must get it within HTTP_HEADER_TIMEOUT_MS; a body must arrive within
 * HTTP_BODY_TIMEOUT_MS plus one second per HTTP_BODY_MIN_RATE bytes received; while a handler
 * runs, or an answer is sent, there is no deadline (MHD's idle timeout applies). A watchdog
 * thread shuts down (shutdown(2)) the socket of a connection past its deadline, which MHD then
 * closes: trickling a byte now and then keeps MHD's idle timeout from firing, not this. */
typedef struct gw_conn {
    int fd;
    _Atomic uint64_t deadline_ms; /* 0: none */
    atomic_int in_request;        /* the handler has its request: never evicted */
    int shut;                     /* shut down by the gateway (under the lock) */
    struct gw_conn *prev, *next;
} gw_conn_t;

struct gw_conns {
    pthread_mutex_t lock;
    gw_conn_t *head, *tail; /* oldest first */
    size_t n;
    size_t high; /* above this many, a new connection evicts the oldest idle one */
    size_t max;  /* HTTP_MAX_CONNECTIONS */
    uint64_t header_ms;
    pthread_t thread;
    atomic_int stop;
    unsigned tick_ms;
    uint64_t timed_out, evicted, refused; /* connections closed by the gateway (under the lock) */
};

static void conn_shut(gw_conn_t *c)
{
    if (c->shut || c->fd < 0) return;
    c->shut = 1;
    shutdown(c->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    gw_t *gw = cls;
    struct gw_conns *cs = gw->conns;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        gw_conn_t *c = pa_calloc(1, sizeof *c);
        c->fd = ci ? ci->connect_fd : -1;
        atomic_store(&c->deadline_ms, pa_mono_ms() + cs->header_ms);
        size_t evicted = 0;
        pthread_mutex_lock(&cs->lock);
        c->prev = cs->tail;
        if (cs->tail) cs->tail->next = c;
        else cs->head = c;
        cs->tail = c;
        if (++cs->n > cs->high) {
            /* near the bound: the oldest connection that holds no request in the handler
             * (idle, or still sending its header) goes, so that new requests (health checks)
             * always find room */
            for (gw_conn_t *o = cs->head; o && o != c; o = o->next) {
                if (o->shut || atomic_load(&o->in_request)) continue;
                conn_shut(o);
                evicted = 1;
                cs->evicted++;
                break;
            }
            /* past the bound with every other one busy: the new one is refused */
            if (!evicted && cs->n > cs->max) {
                conn_shut(c);
                cs->refused++;
            }
        }
        pthread_mutex_unlock(&cs->lock);
        if (evicted)
            pa_info("http connection evicted: too many open connections",
                    PA_I("open", (long long)cs->n));
        *socket_context = c;
        return;
    }
    gw_conn_t *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev) c->prev->next = c->next;
    else cs->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else cs->tail = c->prev;
    cs->n--;
    pthread_mutex_unlock(&cs->lock);
    free(c);
    *socket_context = NULL;
}

static void *watchdog(void *arg)
{
    struct gw_conns *cs = arg;
    while (!atomic_load(&cs->stop)) {
        pa_sleep_ms(cs->tick_ms);
        uint64_t now = pa_mono_ms();
        size_t closed = 0;
        pthread_mutex_lock(&cs->lock);
        for (gw_conn_t *c = cs->head; c; c = c->next) {
            uint64_t d = atomic_load(&c->deadline_ms);
            if (d && now >= d && !c->shut) {
                conn_shut(c);
                closed++;
            }
        }
        cs->timed_out += closed;
        pthread_mutex_unlock(&cs->lock);
        if (closed)
            pa_info("http connections closed: header or body not received in time",
                    PA_I("connections", (long long)closed));
    }
    return NULL;
}

static gw_conn_t *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* ---- the request line and header, checked before routing --------------------------------- */

static _Thread_local gw_req_t *parsing; /* the request whose line MHD is parsing (this thread) */

/* MHD's URI log callback: called with the request target as received (up to a NUL), before it
 * is split or unescaped; the request's state is made here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    gw_req_t *r = pa_calloc(1, sizeof *r);
    r->raw_uri = uri;
    r->raw_uri_len = uri ? strlen(uri) : 0;
    for (size_t i = 0; i < r->raw_uri_len; i++)
        if ((unsigned char)uri[i] <= 0x20 || uri[i] == 0x7f) r->nul_escape = 2;
    parsing = r;
    return r;
}

/* MHD's unescape callback (path and query): %00 is noted, so that the request is refused. */
static size_t on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    if (parsing && !parsing->nul_escape && strstr(s, "%00")) parsing->nul_escape = 1;
    return MHD_http_unescape(s);
}

typedef struct {
    const char *lo, *hi; /* the raw header block in MHD's read buffer */
    const char *prev;    /* where the previous line's content ended in it */
    int raw_ok;          /* the header fields are where MHD 0.9.75 leaves them */
    int hosts, cls, tes, cl_differ, bad_name, ws_name, bad_value, nul, folded;
    const char *host, *cl, *te;
    size_t host_len, cl_len, te_len;
} scan_t;

static int all_nul(const char *a, const char *b)
{
    for (; a < b; a++)
        if (*a) return 0;
    return 1;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen,
                                   const char *value, size_t vlen)
{
    (void)kind;
    scan_t *s = cls;
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == ' ' || c == '\t') s->ws_name = 1;
        else if (c < 0x20 || c == 0x7f) s->bad_name = 1;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) s->bad_value = 1;
    }
    /* MHD keeps each field where it was read, its line ends replaced by NULs: anything but
     * NULs between one field's value and the next field's name is what followed a NUL byte in
     * a value; a field outside the block was joined from an obs-fold continuation line */
    if (s->raw_ok) {
        if (key < s->lo || key + klen > s->hi || value < s->lo || value + vlen > s->hi) {
            s->folded = 1; /* MHD 0.9.75 joins the continuation to a copy of the name */
            s->raw_ok = 0;
        } else if (key < s->prev) {
            s->raw_ok = 0;
        } else {
            if (!all_nul(s->prev, key)) s->nul = 1;
            s->prev = value + vlen;
        }
    }
    if (klen == 4 && strncasecmp(key, "Host", 4) == 0) {
        s->hosts++;
        s->host = value, s->host_len = vlen;
    } else if (klen == 14 && strncasecmp(key, "Content-Length", 14) == 0) {
        if (s->cls && (vlen != s->cl_len || memcmp(value, s->cl, vlen) != 0)) s->cl_differ = 1;
        s->cls++;
        s->cl = value, s->cl_len = vlen;
    } else if (klen == 17 && strncasecmp(key, "Transfer-Encoding", 17) == 0) {
        s->tes++;
        s->te = value, s->te_len = vlen;
    }
    return MHD_YES;
}

/* Refuses at once, closing the connection after the answer (what follows on it cannot be
 * trusted to be a request), a request that breaks RFC 9110/9112 where it matters. */
static void refuse(gw_req_t *r, int status, const char *slug, const char *fmt, const char *arg)
{
    gw_problem(r, status, slug, NULL, fmt, arg);
    gw_header(r, "Connection", "close");
}

/* The checks before routing; 0, or -1 once a refusal is made. May point r->path past the
 * scheme and authority of an absolute-form target. */
static int edge_check(gw_t *gw, gw_req_t *r, const char *method, const char *version)
{
    struct MHD_Connection *conn = r->conn;
    if (r->raw_uri) {
        /* MHD ends the target at the space before the version: a shorter string held a NUL */
        if (version[0] && version > r->raw_uri &&
            (size_t)(version - 1 - r->raw_uri) != r->raw_uri_len) {
            refuse(r, 400, "bad-request", "%s", "the request target holds a NUL byte");
            return -1;
        }
    }
    if (r->nul_escape) {
        refuse(r, 400, "bad-request", "%s",
               r->nul_escape == 1 ? "the request target holds %00 (a NUL byte)"
                                  : "the request target holds a space or a control character");
        return -1;
    }
    scan_t s = {0};
    const union MHD_ConnectionInfo *hs =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (hs && version[0]) {
        s.lo = method;
        s.hi = method + hs->header_size;
        s.prev = version + strlen(version);
        s.raw_ok = s.prev > s.lo && s.prev <= s.hi;
    }
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &s);
    if (s.raw_ok && !all_nul(s.prev, s.hi)) s.nul = 1;
    const char *why = s.ws_name     ? "whitespace in a header field name (before its colon)"
                      : s.bad_name  ? "a control character in a header field name"
                      : s.nul       ? "a NUL byte in a header field"
                      : s.folded    ? "a header field folded over lines (obs-fold)"
                      : s.bad_value ? "a control character (bare CR, LF or other) in a header field"
                      : s.hosts > 1 ? "more than one Host header"
                      : s.hosts == 0 && strncmp(version, "HTTP/1.", 7) == 0 && version[7] != '0'
                          ? "an HTTP/1.1 request without Host"
                      : s.tes && s.cls ? "both Content-Length and Transfer-Encoding"
                      : s.tes && strcmp(version, "HTTP/1.0") == 0
                          ? "Transfer-Encoding in an HTTP/1.0 request"
                      : s.cl_differ ? "Content-Length headers that differ"
                                    : NULL;
    if (why) {
        refuse(r, 400, "bad-request", "refused: %s", why);
        return -1;
    }
    if (s.tes && (s.tes > 1 || s.te_len != 7 || strncasecmp(s.te, "chunked", 7) != 0)) {
        refuse(r, 501, "not-implemented", "%s",
               "the only Transfer-Encoding supported is chunked (alone)");
        return -1;
    }
    if (strcmp(method, "CONNECT") == 0) {
        refuse(r, 501, "not-implemented", "%s", "CONNECT is not supported: this is no proxy");
        return -1;
    }
    /* an absolute-form target names the server itself, and stands for its origin form */
    const char *auth = s.host;
    size_t auth_len = s.host_len;
    size_t scheme = strncasecmp(r->path, "http://", 7) == 0    ? 7
                    : strncasecmp(r->path, "https://", 8) == 0 ? 8
                                                               : 0;
    if (scheme) {
        auth = r->path + scheme;
        const char *slash = strchr(auth, '/');
        auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
        r->path = slash ? slash : "/";
    } else if (r->path[0] != '/' && strcmp(r->path, "*") != 0) {
        refuse(r, 400, "bad-request", "%s", "the request target is not a path");
        return -1;
    }
    if (auth) {
        gw_host_kind_t kind = gw_host_kind(auth, auth_len);
        if (kind == GW_HOST_BAD) {
            refuse(r, 400, "bad-request", "%s", "the Host (or the target's authority) is invalid");
            return -1;
        }
        /* without API keys only loopback names are served: a page that rebinds its own name to
         * 127.0.0.1 sends that name, and is refused */
        if (kind != GW_HOST_LOOPBACK && gw->cfg.nkeys == 0) {
            refuse(r, 421, "misdirected-request", "%s",
                   "without API_KEYS the gateway serves loopback names only (Host: localhost, "
                   "127.0.0.1 or [::1])");
            return -1;
        }
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    gw_t *gw = cls;
    gw_req_t *r = *con_cls;
    if (!r || !r->started) {
        if (!r) r = pa_calloc(1, sizeof *r);
        if (parsing == r) parsing = NULL;
        *con_cls = r;
        r->started = 1;
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
        int body = has_body(conn);
        r->edge = conn_of(conn);
        if (r->edge) {
            atomic_store(&r->edge->in_request, 1);
            r->body_start_ms = pa_mono_ms();
            atomic_store(&r->edge->deadline_ms,
                         body ? r->body_start_ms + (uint64_t)gw->cfg.body_timeout_ms : 0);
        }
        if (edge_check(gw, r, method, version) < 0) {
            queue(r);
            return MHD_YES;
        }
        /* An early answer (404, 405, 401, preflight) is sent at once when a body may follow,
         * so no unwanted body is read (MHD then closes the connection); a request without a
         * body is answered at its final call, which keeps the connection alive. */
        if (route_request(gw, r) < 0 && (r->too_large || body)) queue(r);
        return MHD_YES;
    }
    if (*upload_size) {
        r->received += *upload_size;
        if (r->edge)
            atomic_store(&r->edge->deadline_ms,
                         r->body_start_ms + (uint64_t)gw->cfg.body_timeout_ms +
                             (uint64_t)(r->received * 1000u / (uint64_t)gw->cfg.body_min_rate));
        if (!r->queued && !r->resp) {
            size_t want = r->body.len + *upload_size;
            if (!r->too_large && !r->no_memory) {
                if (want > r->body_limit) {
                    /* A body without Content-Length grew past the limit: keep reading (without
                     * keeping it) so the 413 can be sent once the client has finished; a client
                     * that sends far more than the limit is cut off. */
                    r->too_large = 1;
                    body_drop(gw, r);
                } else if (want > r->body_held && body_reserve(gw, r, want - r->body_held) < 0) {
                    r->no_memory = 1; /* the same, answered 503 */
                    body_drop(gw, r);
                }
            }
            if (r->too_large || r->no_memory) {
                r->discarded += *upload_size;
                if (r->discarded > r->body_limit + ((size_t)16 << 20)) return MHD_NO;
            } else {
                pa_buf_put(&r->body, upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->edge) atomic_store(&r->edge->deadline_ms, 0); /* the whole request is in */
    if (r->queued) return MHD_YES;
    if (r->no_memory && !r->resp) no_memory_problem(r);
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
        /* REDIS_DURABILITY=strict or REDIS_WAIT_REPLICAS: the write is in Redis, but not known
         * to be on disk or on enough replicas */
        pa_error("write not confirmed durable", PA_S("request_id", r->request_id),
                 PA_S("why", why));
        gw_problem(r, 503, "not-durable", NULL,
                   "the change was made in Redis but is not known to be durable (%s); it may be "
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
    (void)conn, (void)toe;
    gw_t *gw = cls;
    gw_req_t *r = *con_cls;
    if (!r) return;
    if (parsing == r) parsing = NULL;
    if (r->edge) { /* kept alive: the next request's header is awaited */
        atomic_store(&r->edge->in_request, 0);
        atomic_store(&r->edge->deadline_ms, pa_mono_ms() + (uint64_t)gw->cfg.header_timeout_ms);
    }
    if (r->resp) MHD_destroy_response(r->resp);
    if (r->ctx_free) r->ctx_free(r->ctx);
    body_drop(gw, r);
    if (r->started) atomic_fetch_sub(&gw->inflight, 1);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    pa_warn("http server", PA_S("detail", msg));
}

static void conns_free(gw_t *gw)
{
    struct gw_conns *cs = gw->conns;
    if (!cs) return;
    atomic_store(&cs->stop, 1);
    pthread_join(cs->thread, NULL);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
    gw->conns = NULL;
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
    struct gw_conns *cs = pa_calloc(1, sizeof *cs);
    pthread_mutex_init(&cs->lock, NULL);
    cs->header_ms = (uint64_t)gw->cfg.header_timeout_ms;
    /* the last eighth of the bound (8 to 256 connections) is kept for new requests */
    size_t max = (size_t)gw->cfg.max_conns, reserve = max / 8;
    reserve = reserve < 8 ? 8 : reserve > 256 ? 256 : reserve;
    cs->high = max - reserve;
    cs->max = max;
    long shortest = gw->cfg.header_timeout_ms < gw->cfg.body_timeout_ms ? gw->cfg.header_timeout_ms
                                                                        : gw->cfg.body_timeout_ms;
    cs->tick_ms = (unsigned)(shortest / 4 < 10 ? 10 : shortest / 4 > 250 ? 250 : shortest / 4);
    gw->conns = cs;
    if (pthread_create(&cs->thread, NULL, watchdog, cs) != 0) {
        pthread_mutex_destroy(&cs->lock);
        free(cs);
        gw->conns = NULL;
        pa_error("cannot start the HTTP watchdog thread", PA_I("port", gw->cfg.port));
        return -1;
    }
    /* MHD splits its own limit between its threads, however unevenly connections come: the bound
     * is kept above (on_connection), MHD's limit is only a backstop past it */
    size_t mhd_limit = max * (size_t)gw->cfg.threads + reserve;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    gw->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, gw, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)gw->cfg.threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, gw, MHD_OPTION_URI_LOG_CALLBACK, on_uri, gw,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, gw, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)mhd_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)gw->cfg.max_conns_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (!gw->daemon) {
        pa_error("cannot listen", PA_S("host", gw->cfg.host), PA_I("port", gw->cfg.port));
        conns_free(gw);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->daemon, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : gw->cfg.port;
    return 0;
}

void gw_http_conn_stats(gw_t *gw, gw_http_conn_stats_t *st)
{
    memset(st, 0, sizeof *st);
    struct gw_conns *cs = gw->conns;
    if (!cs) return;
    pthread_mutex_lock(&cs->lock);
    st->open = cs->n;
    st->timed_out = cs->timed_out;
    st->evicted = cs->evicted;
    st->refused = cs->refused;
    pthread_mutex_unlock(&cs->lock);
    st->body_memory = atomic_load(&gw->body_memory);
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
    conns_free(gw);
    pa_info("http server stopped", PA_I("unfinished_requests", left));
}
