/* HTTP POSTs on libcurl's multi socket interface inside the worker's poll loop (llm_http.h). */
#include "llm_http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "llm_provider.h"
#include "pa_buf.h"
#include "pa_time.h"

typedef struct req {
    struct llm_http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *url, *body;
    size_t body_len;
    pa_buf_t resp;
    size_t total; /* body bytes received, kept or streamed */
    int too_large;
    llm_http_chunk_fn chunk;
    int mode; /* the body: UNDECIDED, KEEP or STREAM */
    int aborted;
    long retry_after_ms;
    uint64_t started;
    char errbuf[CURL_ERROR_SIZE];
    llm_http_done_fn done;
    void *ctx;
    struct req *prev, *next;
} req_t;

enum { UNDECIDED, KEEP, STREAM };

typedef struct {
    curl_socket_t fd;
    int what; /* CURL_POLL_IN, _OUT, _INOUT */
} sock_t;

struct llm_http {
    llm_http_cfg_t cfg;
    CURLM *multi;
    req_t *queue_head, *queue_tail; /* waiting, FIFO (next links) */
    req_t *running;                 /* started (prev/next links) */
    size_t nqueued, nrunning;
    sock_t *socks;
    size_t nsocks, capsocks;
    int timer_set;
    uint64_t timer_due; /* monotonic ms */
};

static void req_free(req_t *r)
{
    if (!r) return;
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->url);
    free(r->body);
    pa_buf_free(&r->resp);
    free(r);
}

/* ---- libcurl callbacks -------------------------------------------------------------------- */

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)socketp;
    llm_http_t *h = userp;
    for (size_t i = 0; i < h->nsocks; i++)
        if (h->socks[i].fd == s) {
            if (what == CURL_POLL_REMOVE)
                h->socks[i] = h->socks[--h->nsocks];
            else
                h->socks[i].what = what;
            return 0;
        }
    if (what == CURL_POLL_REMOVE) return 0;
    if (h->nsocks == h->capsocks) {
        h->capsocks = h->capsocks ? h->capsocks * 2 : 16;
        h->socks = pa_realloc(h->socks, h->capsocks * sizeof *h->socks);
    }
    h->socks[h->nsocks++] = (sock_t){s, what};
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    llm_http_t *h = userp;
    if (timeout_ms < 0) {
        h->timer_set = 0;
    } else {
        h->timer_set = 1;
        h->timer_due = pa_mono_ms() + (uint64_t)timeout_ms;
    }
    return 0;
}

/* Whether a response's body goes to the chunk callback: a 2xx event stream. */
static int streams(req_t *r)
{
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
    return status >= 200 && status <= 299 && ct && strncasecmp(ct, "text/event-stream", 17) == 0 &&
           (ct[17] == '\0' || ct[17] == ';' || ct[17] == ' ');
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t k = size * n;
    if (r->total + k > r->h->cfg.max_response) {
        r->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    r->total += k;
    if (r->mode == UNDECIDED) r->mode = r->chunk && streams(r) ? STREAM : KEEP;
    if (r->mode == KEEP) {
        pa_buf_put(&r->resp, p, k);
    } else if (r->chunk(r->ctx, p, k) < 0) {
        r->aborted = 1;
        return 0;
    }
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t k = size * n;
    if (k >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after 100 Continue): reset */
        r->retry_after_ms = 0;
        return k;
    }
    const char *colon = memchr(p, ':', k);
    if (!colon) return k;
    size_t nl = (size_t)(colon - p);
    char val[80];
    size_t vl = k - nl - 1;
    if (vl >= sizeof val) return k;
    memcpy(val, colon + 1, vl);
    val[vl] = '\0';
    if (nl == 11 && strncasecmp(p, "retry-after", 11) == 0) {
        long ms = llm_retry_after_ms(val, time(NULL));
        if (ms > r->retry_after_ms) r->retry_after_ms = ms;
    } else if (nl == 14 && strncasecmp(p, "retry-after-ms", 14) == 0) {
        char *e;
        double ms = strtod(val, &e);
        while (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n')
            e++;
        if (!*e && ms >= 0 && ms <= (double)LLM_RETRY_AFTER_CAP_MS && (long)ms > r->retry_after_ms)
            r->retry_after_ms = (long)ms;
    }
    return k;
}

/* ---- engine ------------------------------------------------------------------------------- */

llm_http_t *llm_http_new(const llm_http_cfg_t *cfg)
{
    llm_http_t *h = pa_calloc(1, sizeof *h);
    h->cfg = *cfg;
    if (h->cfg.concurrency < 1) h->cfg.concurrency = 1;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void llm_http_destroy(llm_http_t **hp)
{
    llm_http_t *h = *hp;
    if (!h) return;
    for (req_t *r = h->running, *n; r; r = n) {
        n = r->next;
        curl_multi_remove_handle(h->multi, r->easy);
        req_free(r);
    }
    for (req_t *r = h->queue_head, *n; r; r = n) {
        n = r->next;
        req_free(r);
    }
    curl_multi_cleanup(h->multi);
    free(h->socks);
    free(h);
    *hp = NULL;
}

void llm_http_post(llm_http_t *h, const char *url, const char *const *headers, const char *body,
                   size_t len, llm_http_done_fn done, void *ctx)
{
    llm_http_post_stream(h, url, headers, body, len, NULL, done, ctx);
}

void llm_http_post_stream(llm_http_t *h, const char *url, const char *const *headers,
                          const char *body, size_t len, llm_http_chunk_fn chunk,
                          llm_http_done_fn done, void *ctx)
{
    req_t *r = pa_calloc(1, sizeof *r);
    r->chunk = chunk;
    r->h = h;
    r->url = pa_strdup(url);
    r->body = pa_malloc(len + 1);
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->body_len = len;
    r->done = done;
    r->ctx = ctx;
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *s = curl_slist_append(r->headers, headers[i]);
        if (s) r->headers = s;
    }
    if (h->queue_tail)
        h->queue_tail->next = r;
    else
        h->queue_head = r;
    h->queue_tail = r;
    h->nqueued++;
}

/* Delivers a finished (or failed-to-start) transfer and frees it. */
static void finish(llm_http_t *h, req_t *r, CURLcode code)
{
    llm_http_result_t res = {0};
    res.curl_code = (int)code;
    if (r->easy) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (code != CURLE_OK) {
        res.curl_error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
        res.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    }
    res.too_large = r->too_large;
    res.streamed = r->mode == STREAM;
    res.aborted = r->aborted;
    res.body = r->resp.data ? r->resp.data : "";
    res.len = r->resp.len;
    res.retry_after_ms = r->retry_after_ms;
    res.elapsed_ms = (long)(pa_mono_ms() - r->started);
    r->done(r->ctx, &res);
    req_free(r);
}

static void start(llm_http_t *h, req_t *r)
{
    r->started = pa_mono_ms();
    r->easy = curl_easy_init();
    CURL *e = r->easy;
    CURLcode rc = e ? CURLE_OK : CURLE_FAILED_INIT;
    if (e) {
        curl_easy_setopt(e, CURLOPT_URL, r->url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
        curl_easy_setopt(e, CURLOPT_PRIVATE, r);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->cfg.connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->cfg.timeout_ms);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "prospect-llm-worker/" PA_VERSION);
        if (curl_multi_add_handle(h->multi, e) != CURLM_OK) rc = CURLE_FAILED_INIT;
    }
    if (rc != CURLE_OK) {
        finish(h, r, rc);
        return;
    }
    r->prev = NULL;
    r->next = h->running;
    if (h->running) h->running->prev = r;
    h->running = r;
    h->nrunning++;
}

static void start_queued(llm_http_t *h)
{
    while (h->queue_head && h->nrunning < (size_t)h->cfg.concurrency) {
        req_t *r = h->queue_head;
        h->queue_head = r->next;
        if (!h->queue_head) h->queue_tail = NULL;
        h->nqueued--;
        r->next = NULL;
        start(h, r);
    }
}

/* Hands every finished transfer to its callback. */
static void drain(llm_http_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode code = m->data.result;
        req_t *r = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(h->multi, e);
        if (!r) continue;
        if (r->prev)
            r->prev->next = r->next;
        else
            h->running = r->next;
        if (r->next) r->next->prev = r->prev;
        h->nrunning--;
        finish(h, r, code);
    }
}

long llm_http_tick(llm_http_t *h)
{
    for (int round = 0; round < 4; round++) {
        start_queued(h);
        if (!h->timer_set || pa_mono_ms() < h->timer_due) break;
        h->timer_set = 0;
        int running;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain(h);
    }
    start_queued(h);
    if (!h->timer_set) return -1;
    uint64_t now = pa_mono_ms();
    return h->timer_due > now ? (long)(h->timer_due - now) : 0;
}

int llm_http_fds(llm_http_t *h, struct pollfd *out, int max)
{
    int n = 0;
    for (size_t i = 0; i < h->nsocks && n < max; i++) {
        short ev = 0;
        if (h->socks[i].what & CURL_POLL_IN) ev |= POLLIN;
        if (h->socks[i].what & CURL_POLL_OUT) ev |= POLLOUT;
        out[n++] = (struct pollfd){.fd = h->socks[i].fd, .events = ev};
    }
    return n;
}

void llm_http_on_fds(llm_http_t *h, const struct pollfd *fds, int n)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents) continue;
        int mask = 0;
        if (fds[i].revents & POLLIN) mask |= CURL_CSELECT_IN;
        if (fds[i].revents & POLLOUT) mask |= CURL_CSELECT_OUT;
        if (fds[i].revents & (POLLERR | POLLHUP)) mask |= CURL_CSELECT_ERR;
        int running;
        curl_multi_socket_action(h->multi, fds[i].fd, mask, &running);
        any = 1;
    }
    if (any) {
        drain(h);
        start_queued(h);
    }
}

size_t llm_http_running(const llm_http_t *h)
{
    return h->nrunning;
}

size_t llm_http_queued(const llm_http_t *h)
{
    return h->nqueued;
}
