/* The HTTP engine (pa_http.h): libcurl multi on pa_loop watches and one pa_loop timer. */
#include "pa_http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pa_buf.h"
#include "pa_mem.h"
#include "pa_time.h"

#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define MAX_HEADER_BYTES (64u * 1024u)

enum { BODY_NONE, BODY_RAW, BODY_FORM, BODY_MULTIPART };
enum { ST_NEW, ST_FAILING, ST_DEFERRED, ST_RUNNING };

typedef struct {
    char *name, *data, *filename, *type;
    size_t len;
} part_t;

struct pa_http_jar {
    CURLSH *sh;
    int refs; /* the owner's (until destroyed) plus one per request using it */
};

typedef struct {
    size_t name, value; /* offsets in hbuf */
} hdr_t;

struct pa_http_req {
    pa_http_t *h;
    CURL *easy;
    int state;
    char *method, *url;
    char **hdrs; /* the caller's header lines */
    size_t nhdrs;
    int strip_auth; /* a hop went to another origin */
    int body_kind, drop_body;
    char *ctype;
    pa_buf_t body; /* BODY_RAW or BODY_FORM */
    part_t *parts;
    size_t nparts;
    curl_mime *mime;
    struct curl_slist *slist; /* this hop's headers */
    long connect_ms, total_ms;
    size_t max_body;
    const void *owner;
    pa_http_jar_t *jar;
    unsigned max_hops, hops;
    pa_http_redirect_fn on_redirect;
    pa_http_connect_fn on_connect;
    pa_http_data_fn on_data;
    pa_http_done_fn done;
    void *ud;
    uint64_t started; /* monotonic ms */
    /* the current hop's response */
    long status;
    pa_buf_t hbuf; /* "name\0value\0"... */
    hdr_t *hv;
    size_t nhv, caphv;
    pa_buf_t resp;
    size_t total; /* body bytes received (kept or taken) */
    int decided, discard;
    int too_large, headers_too_large, aborted, refused;
    char ip[64];
    long port;
    char errbuf[CURL_ERROR_SIZE];
    /* life */
    int in_multi, cancelled, busy, in_done;
    pa_http_result_t fail_result; /* ST_FAILING */
    char *fail_msg;
    struct pa_http_req *prev, *next; /* every request of the engine */
    struct pa_http_req *lnext;       /* the fail or the reap list */
};

struct pa_http {
    pa_loop_t *loop;
    CURLM *multi;
    char *ua;
    pa_http_cfg_t cfg;
    pa_timer_t *timer;  /* libcurl's timeout */
    unsigned char *fdw; /* fds libcurl asked us to watch, indexed by fd */
    size_t nfdw;
    pa_http_req_t *all;
    size_t nrunning;
    pa_http_req_t *fail_head, *fail_tail; /* failed at start: done on the next turn */
    pa_timer_t *fail_timer;
    pa_http_req_t *reap; /* cancelled inside libcurl: freed once it returns */
    int in_curl;
};

/* ---- pure helpers -------------------------------------------------------------------------- */

char *pa_http_resolve(const char *base, const char *location)
{
    CURLU *u = curl_url();
    if (!u) return NULL;
    char *out = NULL, *scheme = NULL, *full = NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
        out = pa_strdup(full);
    curl_free(scheme);
    curl_free(full);
    curl_url_cleanup(u);
    return out;
}

int pa_http_header_split(const char *line, size_t len, const char **name, size_t *nlen,
                         const char **value, size_t *vlen)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line) return -1;
    for (const char *p = line; p < colon; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) return -1;
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    *name = line, *nlen = (size_t)(colon - line);
    *value = v, *vlen = (size_t)(end - v);
    return 0;
}

/* The origin (scheme, host, port) of an absolute URL in out; -1 when it has none. */
static int origin(const char *url, char *out, size_t n)
{
    CURLU *u = curl_url();
    char *s = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(out, n, "%s://%s:%s", s, host, port);
        rc = 0;
    }
    curl_free(s);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* application/x-www-form-urlencoded: unreserved bytes as they are, space as '+', the rest %XX. */
static void form_encode(pa_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            pa_buf_putc(b, (char)*p);
        } else if (*p == ' ') {
            pa_buf_putc(b, '+');
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            pa_buf_put(b, e, 3);
        }
    }
}

/* ---- responses ----------------------------------------------------------------------------- */

const char *pa_http_res_header(const pa_http_res_t *res, const char *name)
{
    const pa_http_req_t *r = res->priv_;
    if (!r) return NULL;
    for (size_t i = r->nhv; i-- > 0;)
        if (strcasecmp(r->hbuf.data + r->hv[i].name, name) == 0)
            return r->hbuf.data + r->hv[i].value;
    return NULL;
}

int pa_http_res_header_at(const pa_http_res_t *res, size_t i, const char **name, const char **value)
{
    const pa_http_req_t *r = res->priv_;
    if (!r || i >= r->nhv) return -1;
    *name = r->hbuf.data + r->hv[i].name;
    *value = r->hbuf.data + r->hv[i].value;
    return 0;
}

static void fill_res(pa_http_req_t *r, pa_http_res_t *res, pa_http_result_t result,
                     const char *error, int code)
{
    memset(res, 0, sizeof *res);
    res->priv_ = r;
    res->result = result;
    res->error = error ? error : "";
    res->curl_code = code;
    res->status = r->status;
    res->body = r->resp.data ? r->resp.data : "";
    res->len = r->resp.len;
    res->url = r->url;
    res->ip = r->ip;
    res->port = r->port;
    res->hops = r->hops;
    res->content_type = pa_http_res_header(res, "content-type");
    res->location = pa_http_res_header(res, "location");
    res->retry_after = pa_http_res_header(res, "retry-after");
    res->elapsed_ms = (long)(pa_mono_ms() - r->started);
}

/* ---- requests: memory ------------------------------------------------------------------------ */

static void jar_unref(pa_http_jar_t *j)
{
    if (j && --j->refs == 0) {
        curl_share_cleanup(j->sh);
        free(j);
    }
}

static void hop_reset(pa_http_req_t *r)
{
    r->status = 0;
    pa_buf_reset(&r->hbuf);
    r->nhv = 0;
    pa_buf_reset(&r->resp);
    r->total = 0;
    r->decided = r->discard = 0;
    r->errbuf[0] = '\0';
}

static void req_unlink(pa_http_req_t *r)
{
    pa_http_t *h = r->h;
    if (r->prev) r->prev->next = r->next;
    else if (h->all == r) h->all = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void req_free(pa_http_req_t *r)
{
    pa_http_t *h = r->h;
    req_unlink(r);
    if (r->state == ST_RUNNING) h->nrunning--;
    if (r->in_multi) curl_multi_remove_handle(h->multi, r->easy);
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_mime_free(r->mime);
    curl_slist_free_all(r->slist);
    jar_unref(r->jar);
    for (size_t i = 0; i < r->nhdrs; i++) free(r->hdrs[i]);
    free(r->hdrs);
    for (size_t i = 0; i < r->nparts; i++) {
        free(r->parts[i].name);
        free(r->parts[i].data);
        free(r->parts[i].filename);
        free(r->parts[i].type);
    }
    free(r->parts);
    free(r->method);
    free(r->url);
    free(r->ctype);
    free(r->fail_msg);
    pa_buf_free(&r->body);
    pa_buf_free(&r->hbuf);
    pa_buf_free(&r->resp);
    free(r->hv);
    free(r);
}

/* Calls done and frees r. */
static void finish(pa_http_req_t *r, pa_http_result_t result, const char *error, int code)
{
    pa_http_res_t res;
    fill_res(r, &res, result, error, code);
    r->in_done = 1;
    if (r->done) r->done(r, &res, r->ud);
    req_free(r);
}

static void finishf(pa_http_req_t *r, pa_http_result_t result, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finishf(pa_http_req_t *r, pa_http_result_t result, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    finish(r, result, msg, code);
}

/* ---- failures at start, delivered on the next turn ---------------------------------------- */

static void start_now(pa_http_req_t *r);

/* Requests that failed at start, or were started from inside libcurl (a hook), on the next turn. */
static void on_fail_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pa_http_t *h = ud;
    h->fail_timer = NULL;
    pa_http_req_t *list = h->fail_head;
    h->fail_head = h->fail_tail = NULL;
    while (list) {
        pa_http_req_t *r = list;
        list = r->lnext;
        if (r->cancelled) req_free(r);
        else if (r->state == ST_DEFERRED) start_now(r);
        else finish(r, r->fail_result, r->fail_msg, 0);
    }
}

static void later(pa_http_req_t *r, int state, pa_http_result_t result, const char *msg)
{
    pa_http_t *h = r->h;
    r->state = state;
    r->fail_result = result;
    r->fail_msg = msg ? pa_strdup(msg) : NULL;
    r->lnext = NULL;
    if (h->fail_tail) h->fail_tail->lnext = r;
    else h->fail_head = r;
    h->fail_tail = r;
    if (!h->fail_timer) h->fail_timer = pa_loop_timer(h->loop, 0, 0, on_fail_timer, h);
}

static void fail_later(pa_http_req_t *r, pa_http_result_t result, const char *msg)
{
    later(r, ST_FAILING, result, msg);
}

/* ---- libcurl callbacks ------------------------------------------------------------------------
 */

static int is_redirect(long s)
{
    return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

/* Whether this hop's response is a redirect the engine will try to follow. */
static int will_follow(pa_http_req_t *r)
{
    pa_http_res_t probe = {.priv_ = r};
    return r->max_hops > 0 && is_redirect(r->status) && pa_http_res_header(&probe, "location");
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    pa_http_req_t *r = ud;
    size_t k = size * n;
    if (r->cancelled) return 0;
    if (k >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after a 1xx): start over */
        hop_reset(r);
        const char *sp = memchr(p, ' ', k);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return k;
    }
    const char *name, *value;
    size_t nl, vl;
    if (pa_http_header_split(p, k, &name, &nl, &value, &vl) < 0) return k;
    if (r->hbuf.len + nl + vl + 2 > MAX_HEADER_BYTES) {
        r->headers_too_large = 1;
        return 0;
    }
    if (r->nhv == r->caphv) {
        r->caphv = r->caphv ? 2 * r->caphv : 16;
        r->hv = pa_realloc(r->hv, r->caphv * sizeof *r->hv);
    }
    r->hv[r->nhv].name = r->hbuf.len;
    pa_buf_put(&r->hbuf, name, nl);
    pa_buf_putc(&r->hbuf, '\0');
    r->hv[r->nhv].value = r->hbuf.len;
    pa_buf_put(&r->hbuf, value, vl);
    pa_buf_putc(&r->hbuf, '\0');
    r->nhv++;
    return k;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    pa_http_req_t *r = ud;
    size_t k = size * n;
    if (r->cancelled) return 0;
    if (!r->decided) {
        r->decided = 1;
        r->discard = will_follow(r);
    }
    if (r->total + k > r->max_body) {
        r->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    r->total += k;
    if (r->discard) return k;
    int keep = PA_HTTP_DATA_KEEP;
    if (r->on_data) {
        pa_http_res_t head;
        fill_res(r, &head, PA_HTTP_OK, NULL, 0);
        keep = r->on_data(r, &head, p, k, r->ud);
        if (r->cancelled) return 0;
        if (keep == PA_HTTP_DATA_ABORT) {
            r->aborted = 1;
            return 0;
        }
    }
    if (keep == PA_HTTP_DATA_KEEP) pa_buf_put(&r->resp, p, k);
    return k;
}

static curl_socket_t on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    pa_http_req_t *r = ud;
    if (r->cancelled) return CURL_SOCKET_BAD;
    char ip[64] = "";
    int port = 0;
    if (a->family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)&a->addr;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        port = ntohs(s->sin_port);
    } else if (a->family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)&a->addr;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        port = ntohs(s->sin6_port);
    }
    /* anything but an IP connection (a unix socket) has no address to check: refused */
    if (!ip[0] || r->on_connect(r, &a->addr, ip, port, r->ud) < 0 || r->cancelled) {
        if (!r->cancelled) {
            r->refused = 1;
            snprintf(r->ip, sizeof r->ip, "%s", ip);
            r->port = port;
        }
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- hops ---------------------------------------------------------------------------------- */

static int has_header(const pa_http_req_t *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strncasecmp(r->hdrs[i], name, n) == 0 && r->hdrs[i][n] == ':') return 1;
    return 0;
}

static int auth_header(const char *line)
{
    static const char *const names[] = {"authorization:", "cookie:", "proxy-authorization:"};
    for (size_t i = 0; i < 3; i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

static void add_header(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (n) *l = n;
}

/* The method and the body of this hop. 1 when a body goes with it. */
static int set_method(pa_http_req_t *r, CURL *e)
{
    int body = r->body_kind != BODY_NONE && !r->drop_body;
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return 0;
    }
    if (strcmp(r->method, "GET") == 0 && !body) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return 0;
    }
    if (strcmp(r->method, "POST") == 0) curl_easy_setopt(e, CURLOPT_POST, 1L);
    else curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (body && r->body_kind == BODY_MULTIPART) {
        if (!r->mime) { /* made once: a 307/308 sends it again */
            r->mime = curl_mime_init(e);
            for (size_t i = 0; r->mime && i < r->nparts; i++) {
                curl_mimepart *p = curl_mime_addpart(r->mime);
                curl_mime_name(p, r->parts[i].name);
                curl_mime_data(p, r->parts[i].data, r->parts[i].len);
                if (r->parts[i].filename) curl_mime_filename(p, r->parts[i].filename);
                if (r->parts[i].type) curl_mime_type(p, r->parts[i].type);
            }
        }
        curl_easy_setopt(e, CURLOPT_MIMEPOST, r->mime);
    } else if (body || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
               strcmp(r->method, "PATCH") == 0) {
        /* an empty body still says Content-Length: 0 */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? r->body.len : 0));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body && r->body.data ? r->body.data : "");
    }
    return body;
}

/* This hop's header lines: no Expect (a 100-continue round trip helps nobody here), the body's
 * Content-Type, the caller's lines (without credentials after a change of origin, without a
 * Content-Type once the body was dropped). */
static void set_headers(pa_http_req_t *r, CURL *e, int body)
{
    curl_slist_free_all(r->slist);
    r->slist = NULL;
    if (!has_header(r, "Expect")) add_header(&r->slist, "Expect:");
    if (body && r->body_kind != BODY_MULTIPART && !has_header(r, "Content-Type")) {
        pa_buf_t ct = PA_BUF_INIT;
        pa_buf_printf(&ct, "Content-Type: %s", r->ctype ? r->ctype : "application/octet-stream");
        add_header(&r->slist, ct.data);
        pa_buf_free(&ct);
    }
    for (size_t i = 0; i < r->nhdrs; i++) {
        if (r->strip_auth && auth_header(r->hdrs[i])) continue;
        if (!body && strncasecmp(r->hdrs[i], "content-type:", 13) == 0) continue;
        add_header(&r->slist, r->hdrs[i]);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
}

/* Sets the easy handle up for the current hop and adds it to the multi. 0, or -1 (finished). */
static int start_hop(pa_http_req_t *r)
{
    pa_http_t *h = r->h;
    CURL *e = r->easy;
    long elapsed = (long)(pa_mono_ms() - r->started);
    if (elapsed >= r->total_ms) {
        finishf(r, PA_HTTP_ETIMEDOUT, CURLE_OPERATION_TIMEDOUT,
                "timed out after %ld ms (%u redirects followed)", elapsed, r->hops);
        return -1;
    }
    /* libcurl's reset forgets the cookie file list without freeing it: clear it first */
    if (r->jar) curl_easy_setopt(e, CURLOPT_COOKIEFILE, NULL);
    curl_easy_reset(e);
    hop_reset(r);
    r->too_large = r->headers_too_large = r->aborted = r->refused = 0;
    r->ip[0] = '\0';
    r->port = 0;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->ua);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->total_ms - elapsed);
    if (r->jar) {
        curl_easy_setopt(e, CURLOPT_SHARE, r->jar->sh);
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the cookie engine, no file */
    }
    if (r->on_connect) {
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    }
    set_headers(r, e, set_method(r, e));
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        finish(r, PA_HTTP_ETRANSPORT, "libcurl refused the transfer", CURLE_FAILED_INIT);
        return -1;
    }
    r->in_multi = 1;
    return 0;
}

static pa_http_result_t map_code(const pa_http_req_t *r, CURLcode code)
{
    if (r->too_large || r->headers_too_large) return PA_HTTP_ETOOLARGE;
    if (r->aborted) return PA_HTTP_EABORTED;
    if (r->refused && code == CURLE_COULDNT_CONNECT) return PA_HTTP_EREFUSED;
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return PA_HTTP_ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return PA_HTTP_ECONNECT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return PA_HTTP_EURL;
    default: return PA_HTTP_ETRANSPORT;
    }
}

/* Follows the redirect of this hop, or ends the transfer with why not. */
static void follow(pa_http_req_t *r)
{
    pa_http_res_t probe = {.priv_ = r};
    const char *loc = pa_http_res_header(&probe, "location");
    if (r->hops >= r->max_hops) {
        finishf(r, PA_HTTP_EREDIRECT, 0, "more than %u redirects", r->max_hops);
        return;
    }
    char *to = pa_http_resolve(r->url, loc);
    if (!to) {
        finishf(r, PA_HTTP_EREDIRECT, 0, "a %ld redirect to a bad or unsupported URL: %.200s",
                r->status, loc);
        return;
    }
    if (r->on_redirect) {
        r->busy = 1;
        int rc = r->on_redirect(r, r->url, to, r->status, r->ud);
        r->busy = 0;
        if (r->cancelled) {
            free(to);
            req_free(r);
            return;
        }
        if (rc < 0) {
            finishf(r, PA_HTTP_EREDIRECT, 0, "the %ld redirect to %.300s was refused", r->status,
                    to);
            free(to);
            return;
        }
    }
    char a[600], b[600];
    if (origin(r->url, a, sizeof a) < 0 || origin(to, b, sizeof b) < 0 || strcmp(a, b) != 0)
        r->strip_auth = 1;
    if (r->status != 307 && r->status != 308 && strcmp(r->method, "HEAD") != 0) {
        free(r->method);
        r->method = pa_strdup("GET");
        r->drop_body = 1;
    }
    free(r->url);
    r->url = to;
    r->hops++;
    start_hop(r);
}

/* A hop ended (r was removed from the multi). */
static void hop_done(pa_http_req_t *r, CURLcode code)
{
    char *ip = NULL;
    long port = 0;
    if (!r->refused && curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) {
        snprintf(r->ip, sizeof r->ip, "%s", ip);
        curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_PORT, &port);
        r->port = port;
    }
    if (code == CURLE_OK) {
        if (will_follow(r)) follow(r);
        else finish(r, PA_HTTP_OK, NULL, 0);
        return;
    }
    pa_http_result_t res = map_code(r, code);
    const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
    switch (res) {
    case PA_HTTP_ETOOLARGE:
        if (r->headers_too_large)
            finishf(r, res, code, "the response headers are larger than %u bytes",
                    MAX_HEADER_BYTES);
        else finishf(r, res, code, "the response body is larger than %zu bytes", r->max_body);
        break;
    case PA_HTTP_EABORTED:
        finish(r, res, "the transfer was stopped by its data callback", code);
        break;
    case PA_HTTP_EREFUSED:
        finishf(r, res, code, "the connection to %s port %ld was refused by the connect hook",
                r->ip, r->port);
        break;
    case PA_HTTP_ETIMEDOUT: finishf(r, res, code, "timed out: %s", why); break;
    default: finish(r, res, why, code); break;
    }
}

static void drain(pa_http_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode code = m->data.result;
        pa_http_req_t *r = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(h->multi, e);
        if (!r) continue;
        r->in_multi = 0;
        if (r->cancelled) continue; /* on the reap list */
        hop_done(r, code);
    }
}

static void reap(pa_http_t *h)
{
    while (h->reap) {
        pa_http_req_t *r = h->reap;
        h->reap = r->lnext;
        req_free(r);
    }
}

static void action(pa_http_t *h, curl_socket_t fd, int mask)
{
    int running;
    h->in_curl++;
    curl_multi_socket_action(h->multi, fd, mask, &running);
    h->in_curl--;
    reap(h);
    drain(h);
}

static void on_io(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    int mask = ((events & PA_IO_READ) ? CURL_CSELECT_IN : 0) |
               ((events & PA_IO_WRITE) ? CURL_CSELECT_OUT : 0) |
               ((events & PA_IO_ERROR) ? CURL_CSELECT_ERR : 0);
    action(ud, fd, mask);
}

static void on_loop_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pa_http_t *h = ud;
    h->timer = NULL; /* one-shot: the loop frees it */
    action(h, CURL_SOCKET_TIMEOUT, 0);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    pa_http_t *h = userp;
    if (s < 0) return 0;
    if (what == CURL_POLL_REMOVE) {
        pa_loop_unwatch(h->loop, s);
        if ((size_t)s < h->nfdw) h->fdw[s] = 0;
        return 0;
    }
    unsigned ev =
        ((what & CURL_POLL_IN) ? PA_IO_READ : 0u) | ((what & CURL_POLL_OUT) ? PA_IO_WRITE : 0u);
    if ((size_t)s >= h->nfdw) {
        size_t n = h->nfdw ? h->nfdw : 64;
        while (n <= (size_t)s) n *= 2;
        h->fdw = pa_realloc(h->fdw, n);
        memset(h->fdw + h->nfdw, 0, n - h->nfdw);
        h->nfdw = n;
    }
    h->fdw[s] = 1;
    return pa_loop_watch(h->loop, s, ev, on_io, h) < 0 ? -1 : 0;
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    pa_http_t *h = userp;
    if (timeout_ms < 0) {
        pa_loop_timer_stop(h->loop, &h->timer);
        return 0;
    }
    if (h->timer) pa_loop_timer_again(h->loop, h->timer, (uint64_t)timeout_ms);
    else h->timer = pa_loop_timer(h->loop, (uint64_t)timeout_ms, 0, on_loop_timer, h);
    return 0;
}

/* ---- the engine ---------------------------------------------------------------------------- */

pa_http_t *pa_http_new(pa_loop_t *l, const pa_http_cfg_t *cfg, char *err, size_t errlen)
{
    pa_http_t *h = pa_calloc(1, sizeof *h);
    h->loop = l;
    if (cfg) h->cfg = *cfg;
    if (h->cfg.connect_timeout_ms <= 0) h->cfg.connect_timeout_ms = DEFAULT_CONNECT_MS;
    if (h->cfg.timeout_ms <= 0) h->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!h->cfg.max_body) h->cfg.max_body = DEFAULT_MAX_BODY;
    const char *ua = h->cfg.user_agent;
    if (!ua || !*ua) ua = getenv("HTTP_USER_AGENT");
    h->ua = pa_strdup(ua && *ua ? ua : "prospect-ai/" PA_VERSION);
    h->cfg.user_agent = h->ua;
    h->multi = curl_multi_init();
    if (!h->multi) {
        if (err) snprintf(err, errlen, "curl_multi_init failed");
        free(h->ua);
        free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    if (h->cfg.max_host_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->cfg.max_host_connections);
    if (h->cfg.max_total_connections > 0)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, h->cfg.max_total_connections);
    return h;
}

void pa_http_destroy(pa_http_t **hp)
{
    pa_http_t *h = *hp;
    if (!h) return;
    reap(h);
    while (h->all) req_free(h->all); /* the fail list's entries are in h->all too */
    h->fail_head = h->fail_tail = NULL;
    curl_multi_cleanup(h->multi);
    for (size_t fd = 0; fd < h->nfdw; fd++)
        if (h->fdw[fd]) pa_loop_unwatch(h->loop, (int)fd);
    pa_loop_timer_stop(h->loop, &h->timer);
    pa_loop_timer_stop(h->loop, &h->fail_timer);
    free(h->fdw);
    free(h->ua);
    free(h);
    *hp = NULL;
}

const char *pa_http_user_agent(const pa_http_t *h)
{
    return h->ua;
}

size_t pa_http_running(const pa_http_t *h)
{
    return h->nrunning;
}

pa_http_req_t *pa_http_req_new(pa_http_t *h, const char *method, const char *url)
{
    pa_http_req_t *r = pa_calloc(1, sizeof *r);
    r->h = h;
    r->method = pa_strdup(method && *method ? method : "GET");
    r->url = pa_strdup(url ? url : "");
    r->connect_ms = h->cfg.connect_timeout_ms;
    r->total_ms = h->cfg.timeout_ms;
    r->max_body = h->cfg.max_body;
    r->next = h->all;
    if (h->all) h->all->prev = r;
    h->all = r;
    return r;
}

void pa_http_req_header(pa_http_req_t *r, const char *line)
{
    r->hdrs = pa_realloc(r->hdrs, (r->nhdrs + 1) * sizeof *r->hdrs);
    r->hdrs[r->nhdrs++] = pa_strdup(line);
}

static void body_kind(pa_http_req_t *r, int kind)
{
    if (r->body_kind == kind) return;
    pa_buf_reset(&r->body);
    for (size_t i = 0; i < r->nparts; i++) {
        free(r->parts[i].name);
        free(r->parts[i].data);
        free(r->parts[i].filename);
        free(r->parts[i].type);
    }
    r->nparts = 0;
    r->body_kind = kind;
}

void pa_http_req_body(pa_http_req_t *r, const char *content_type, const void *data, size_t len)
{
    body_kind(r, BODY_RAW);
    pa_buf_reset(&r->body);
    pa_buf_put(&r->body, data, len);
    free(r->ctype);
    r->ctype = content_type ? pa_strdup(content_type) : NULL;
}

void pa_http_req_json(pa_http_req_t *r, const char *json)
{
    pa_http_req_body(r, "application/json", json, strlen(json));
}

void pa_http_req_form(pa_http_req_t *r, const char *name, const char *value)
{
    body_kind(r, BODY_FORM);
    if (!r->ctype) r->ctype = pa_strdup("application/x-www-form-urlencoded");
    if (r->body.len) pa_buf_putc(&r->body, '&');
    form_encode(&r->body, name);
    pa_buf_putc(&r->body, '=');
    form_encode(&r->body, value ? value : "");
}

void pa_http_req_part(pa_http_req_t *r, const char *name, const void *data, size_t len,
                      const char *filename, const char *content_type)
{
    body_kind(r, BODY_MULTIPART);
    r->parts = pa_realloc(r->parts, (r->nparts + 1) * sizeof *r->parts);
    part_t *p = &r->parts[r->nparts++];
    p->name = pa_strdup(name);
    p->data = pa_malloc(len + 1);
    if (len) memcpy(p->data, data, len);
    p->data[len] = '\0';
    p->len = len;
    p->filename = filename ? pa_strdup(filename) : NULL;
    p->type = content_type ? pa_strdup(content_type) : NULL;
}

void pa_http_req_timeouts(pa_http_req_t *r, long connect_ms, long total_ms)
{
    if (connect_ms > 0) r->connect_ms = connect_ms;
    if (total_ms > 0) r->total_ms = total_ms;
}

void pa_http_req_max_body(pa_http_req_t *r, size_t max)
{
    if (max) r->max_body = max;
}

void pa_http_req_owner(pa_http_req_t *r, const void *owner)
{
    r->owner = owner;
}

void pa_http_req_jar(pa_http_req_t *r, pa_http_jar_t *jar)
{
    if (jar) jar->refs++;
    jar_unref(r->jar);
    r->jar = jar;
}

void pa_http_req_redirects(pa_http_req_t *r, unsigned max_hops, pa_http_redirect_fn fn)
{
    r->max_hops = max_hops;
    r->on_redirect = fn;
}

void pa_http_req_on_connect(pa_http_req_t *r, pa_http_connect_fn fn)
{
    r->on_connect = fn;
}

void pa_http_req_on_data(pa_http_req_t *r, pa_http_data_fn fn)
{
    r->on_data = fn;
}

void *pa_http_req_ud(const pa_http_req_t *r)
{
    return r->ud;
}

void pa_http_start(pa_http_req_t *r, pa_http_done_fn done, void *ud)
{
    r->done = done;
    r->ud = ud;
    r->started = pa_mono_ms();
    if (r->h->in_curl) /* called from a hook inside libcurl: it may not add a transfer now */
        later(r, ST_DEFERRED, PA_HTTP_OK, NULL);
    else start_now(r);
}

static void start_now(pa_http_req_t *r)
{
    pa_http_t *h = r->h;
    char *abs = pa_http_resolve(r->url, r->url);
    if (!abs) {
        char msg[400];
        snprintf(msg, sizeof msg, "not an http:// or https:// URL: %.300s", r->url);
        fail_later(r, PA_HTTP_EURL, msg);
        return;
    }
    free(abs);
    r->easy = curl_easy_init();
    if (!r->easy) {
        fail_later(r, PA_HTTP_ETRANSPORT, "curl_easy_init failed");
        return;
    }
    r->state = ST_RUNNING;
    h->nrunning++;
    if (start_hop(r) < 0) return; /* cannot happen before any time passed, but be safe */
}

void pa_http_cancel(pa_http_req_t *r)
{
    if (!r || r->cancelled || r->in_done) return;
    r->cancelled = 1;
    pa_http_t *h = r->h;
    if (r->state == ST_FAILING || r->state == ST_DEFERRED) return; /* freed by the fail timer */
    if (r->busy) return; /* freed by follow() when the hook returns */
    if (h->in_curl) {    /* libcurl is running it: free once it returns */
        r->lnext = h->reap;
        h->reap = r;
        return;
    }
    req_free(r);
}

size_t pa_http_cancel_owner(pa_http_t *h, const void *owner)
{
    size_t n = 0;
    for (pa_http_req_t *r = h->all, *next; r; r = next) {
        next = r->next;
        if (r->owner == owner && !r->cancelled && !r->in_done && r->state != ST_NEW) {
            pa_http_cancel(r);
            n++;
        }
    }
    return n;
}

pa_http_jar_t *pa_http_jar_new(void)
{
    pa_http_jar_t *j = pa_calloc(1, sizeof *j);
    j->sh = curl_share_init();
    if (!j->sh) abort(); /* out of memory, as pa_malloc */
    curl_share_setopt(j->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    j->refs = 1;
    return j;
}

void pa_http_jar_destroy(pa_http_jar_t **jp)
{
    pa_http_jar_t *j = *jp;
    if (!j) return;
    *jp = NULL;
    jar_unref(j);
}
