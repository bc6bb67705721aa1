/* prospect-llm-worker: the "llm" service. Runs the compose stage of campaign runs: renders the
 * job's template for each target and, with LLM_PROVIDER=openai or anthropic, asks the model for
 * a personalised message (workers/llm/README.md). Built on the worker runtime
 * (common/pa_worker.h): provider calls go through the HTTP engine (pa_http) and Redis questions
 * through the non-blocking connection (pa_aredis), both on the runtime's loop, so no call stalls
 * the other tasks. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "llm_breaker.h"
#include "llm_provider.h"
#include "llm_redis.h"
#include "llm_stream.h"
#include "llm_template.h"
#include "pa_aredis.h"
#include "pa_config.h"
#include "pa_http.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_time.h"
#include "pa_worker.h"

typedef struct {
    llm_provider_t provider;
    const char *model;
    char *endpoint;
    const char *api_key; /* borrowed from the environment; never logged */
    char *auth_header;
    long max_chars;
    long breaker_failures, breaker_cooldown_ms;
    long cache_ttl_s;    /* LLM_CACHE_TTL_S; 0: no response cache */
    llm_rate_cfg_t rate; /* LLM_RPM, LLM_TPM, LLM_RATE_BURST_S */
    char *rate_key;      /* the provider's bucket in Redis, when rate.rpm or rate.tpm */
    const char *prefix;  /* REDIS_PREFIX, as the runtime reads it */
    long concurrency;    /* LLM_CONCURRENCY: provider calls out at once */
    long connect_timeout_ms, timeout_ms;
    size_t max_response;
} cfg_t;

typedef struct job job_t;

typedef struct {
    cfg_t cfg;
    pa_worker_t *w;
    pa_http_t *http;    /* NULL with the template provider */
    pa_aredis_t *redis; /* the runtime's (pa_worker_aredis) */
    job_t *jobs;        /* every task held for the provider */
    size_t njobs;
    job_t *wait_head, *wait_tail; /* not sent yet, in arrival order (wnext links) */
    size_t inflight;              /* provider calls out */
    job_t *asking;                /* the waiting job whose budget or rate question is out */
    llm_breaker_t breaker;
    pa_timer_t *timer; /* the breaker's cool-down or the rate limit's wait */
    uint64_t next_try; /* monotonic ms: the rate limit refused; ask again then */
    int rate_down;     /* the rate limit could not be asked (Redis away): logged once */
    int stopping;
} llm_t;

/* a free prompt's answer is not a contact-form message: it may be long */
#define GENERATE_MAX_CHARS 100000
/* While Redis cannot be asked for the rate limit, calls wait and ask again this often. */
#define RATE_RETRY_MS 500

enum { BODY_UNDECIDED, BODY_KEEP, BODY_STREAM };

/* A task held for the provider. It outlives its task while a Redis question about it is out
 * (refs): the answer then only releases it. */
struct job {
    llm_t *L;
    pa_task_t *t; /* NULL once the task is done */
    char key[140], jobid[72];
    int refs;             /* 1 while the task is held, + 1 per Redis question out */
    char *draft;          /* the template's message: the fallback (compose only) */
    int generate;         /* a free prompt (POST /api/llm/generate): no template, no fallback */
    llm_stream_t *stream; /* generate with "stream": true: the answer as it arrives */
    int body_mode;        /* BODY_*: whether the answer streams (decided on its first bytes) */
    size_t published;     /* bytes of the stream's text published so far */
    unsigned attempt, max_attempts;
    int last_attempt;
    char *body;                        /* the request, until it is sent */
    long est_tokens;                   /* what the request may use: the rate limit reserves it */
    int reserved;                      /* est_tokens were taken from the shared bucket */
    int budget_ok;                     /* the job's token budget was checked */
    char cache_key[LLM_CACHE_KEY_MAX]; /* "" when the answer is not cached */
    long long budget;                  /* compose: the job's options.token_budget, 0: none */
    int probe;                         /* the breaker's half-open probe */
    int queued;                        /* in the waiting queue */
    pa_http_req_t *req;                /* the provider call, while out */
    job_t *prev, *next;
    job_t *wnext; /* in the waiting queue */
};

static void pump(llm_t *L);

/* ---- results ------------------------------------------------------------------------------ */

static char *result_json(const char *message, const char *provider, const char *model, long pt,
                         long ct, const char *fallback_reason, int cached)
{
    json_t *r = json_pack("{s:s, s:s, s:o, s:{s:I, s:I}, s:b, s:b}", "message", message, "provider",
                          provider, "model", model ? json_string(model) : json_null(), "usage",
                          "prompt_tokens", (json_int_t)pt, "completion_tokens", (json_int_t)ct,
                          "fallback", fallback_reason != NULL, "cached", cached);
    if (r && fallback_reason)
        json_object_set_new(r, "fallback_reason", json_string(fallback_reason));
    char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    return s;
}

static void done_template(pa_worker_t *w, pa_task_t *t, const char *draft,
                          const char *fallback_reason)
{
    char *res = result_json(draft, "template", NULL, 0, 0, fallback_reason, 0);
    if (res) pa_worker_done(w, t, PA_OUT_SUCCEEDED, res, fallback_reason, 0);
    else pa_worker_done(w, t, PA_OUT_FAILED, NULL, "llm: cannot encode the result", 0);
    free(res);
}

/* ---- jobs --------------------------------------------------------------------------------- */

static void job_release(job_t *j)
{
    if (--j->refs > 0) return;
    llm_stream_destroy(&j->stream);
    free(j->draft);
    free(j->body);
    free(j);
}

static void unqueue(llm_t *L, job_t *j)
{
    if (!j->queued) return;
    job_t **pp = &L->wait_head, *prev = NULL;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->wnext;
    }
    if (*pp) *pp = j->wnext;
    if (L->wait_tail == j) L->wait_tail = prev;
    j->wnext = NULL;
    j->queued = 0;
}

/* The task was ended (pa_worker_done: the task is gone, j->t is not touched) or is given up: j
 * lets go of it. Its call, if out, is cancelled; j itself goes once no Redis answer about it is
 * awaited. */
static void job_end(job_t *j)
{
    llm_t *L = j->L;
    if (!j->t) return;
    j->t = NULL;
    unqueue(L, j);
    if (j->req) {
        pa_http_cancel(j->req);
        j->req = NULL;
        L->inflight--;
        llm_breaker_abandon(&L->breaker, j->probe);
    }
    if (j->prev) j->prev->next = j->next;
    else L->jobs = j->next;
    if (j->next) j->next->prev = j->prev;
    L->njobs--;
    job_release(j);
}

static void enqueue(llm_t *L, job_t *j)
{
    j->queued = 1;
    if (L->wait_tail) L->wait_tail->wnext = j;
    else L->wait_head = j;
    L->wait_tail = j;
}

/* ---- streamed answers --------------------------------------------------------------------- */

/* Publishes one message of a streamed generate call on <prefix>llm:stream:<job>, best effort: the
 * gateway relays it to the client as it comes; the committed result is what counts. */
static void publish(llm_t *L, const job_t *j, const char *msg, size_t len)
{
    char ch[PA_KEY_MAX];
    pa_aredis_cmd(L->redis, NULL, NULL, "PUBLISH %s %b",
                  pa_key_llm_stream(ch, L->cfg.prefix, j->jobid), msg, len);
}

/* Publishes the text that arrived since the last call, as {"attempt":n,"text":"..."}. */
static void publish_delta(llm_t *L, job_t *j)
{
    size_t len;
    const char *text = j->stream ? llm_stream_text(j->stream, &len) : NULL;
    if (!text || len <= j->published) return;
    pa_buf_t m = PA_BUF_INIT;
    pa_buf_printf(&m, "{\"attempt\":%u,\"text\":", j->attempt);
    pa_buf_json_str(&m, text + j->published, len - j->published);
    pa_buf_putc(&m, '}');
    publish(L, j, m.data, m.len);
    pa_buf_free(&m);
    j->published = len;
}

/* Whether a response's body is a stream: a 2xx text/event-stream. */
static int streams(const pa_http_res_t *head)
{
    const char *ct = head->content_type;
    return head->status >= 200 && head->status <= 299 && ct &&
           strncasecmp(ct, "text/event-stream", 17) == 0 &&
           (ct[17] == '\0' || ct[17] == ';' || ct[17] == ' ');
}

/* Body bytes of a call that asked for a stream: an event stream is parsed as it arrives and its
 * new text published at once; any other answer is kept and read whole. */
static int on_data(pa_http_req_t *req, const pa_http_res_t *head, const char *data, size_t len,
                   void *ud)
{
    job_t *j = ud;
    if (j->body_mode == BODY_UNDECIDED) j->body_mode = streams(head) ? BODY_STREAM : BODY_KEEP;
    if (j->body_mode == BODY_KEEP) return PA_HTTP_DATA_KEEP;
    int rc = llm_stream_feed(j->stream, data, len);
    publish_delta(j->L, j);
    return rc < 0 ? PA_HTTP_DATA_ABORT : PA_HTTP_DATA_TAKEN;
}

/* ---- the circuit breaker (llm_breaker.h) ---------------------------------------------------- */

/* The breaker's fields of the worker status record, for the gateways' /metrics and /api/health
 * (published by the runtime with its next heartbeat). */
static void breaker_publish(llm_t *L)
{
    const llm_breaker_t *b = &L->breaker;
    long in = llm_breaker_retry_in_ms(b, pa_mono_ms());
    char failures[24], until[24];
    snprintf(failures, sizeof failures, "%ld", b->failures);
    snprintf(until, sizeof until, "%llu",
             b->state == LLM_BREAKER_OPEN ? (unsigned long long)(pa_wall_ms() + (uint64_t)in)
                                          : 0ull);
    pa_worker_set_status(L->w, "breaker_state", llm_breaker_state_name(b->state));
    pa_worker_set_status(L->w, "breaker_provider", llm_provider_name(L->cfg.provider));
    pa_worker_set_status(L->w, "breaker_model", L->cfg.model);
    pa_worker_set_status(L->w, "breaker_failures", failures);
    pa_worker_set_status(L->w, "breaker_open_until_ms", until);
}

/* Logs a change of the breaker's state (once per change) and publishes it. */
static void breaker_changed(llm_t *L, const char *last_error)
{
    const llm_breaker_t *b = &L->breaker;
    const char *pn = llm_provider_name(L->cfg.provider);
    switch (b->state) {
    case LLM_BREAKER_OPEN:
        pa_warn("circuit breaker open: no provider calls until the cool-down ends",
                PA_S("provider", pn), PA_I("failures", b->failures),
                PA_I("cooldown_ms", b->cooldown_ms), PA_S("error", last_error));
        break;
    case LLM_BREAKER_HALF_OPEN:
        pa_info("circuit breaker half-open: the next call is a probe", PA_S("provider", pn));
        break;
    case LLM_BREAKER_CLOSED:
        pa_info("circuit breaker closed: the provider answers again", PA_S("provider", pn));
        break;
    }
    breaker_publish(L);
}

/* Why no call goes out while the breaker is open. */
static void breaker_reason(const llm_t *L, char *out, size_t n)
{
    const llm_breaker_t *b = &L->breaker;
    snprintf(out, n,
             "%s: circuit breaker open after %ld consecutive failures (LLM_BREAKER_FAILURES); "
             "no provider call for %ld s",
             llm_provider_name(L->cfg.provider), b->failures,
             (llm_breaker_retry_in_ms(b, pa_mono_ms()) + 999) / 1000);
}

/* ---- the worker's timer ------------------------------------------------------------------- */

static void on_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    llm_t *L = ud;
    L->timer = NULL; /* one-shot */
    if (llm_breaker_tick(&L->breaker, pa_mono_ms())) breaker_changed(L, NULL);
    pump(L);
}

/* Arms the timer for what waits on time: the end of the breaker's cool-down, and the rate
 * limit's wait while requests wait for it. */
static void arm(llm_t *L)
{
    if (L->stopping) return;
    uint64_t now = pa_mono_ms();
    long in = -1;
    if (L->breaker.state == LLM_BREAKER_OPEN) in = llm_breaker_retry_in_ms(&L->breaker, now);
    if (L->wait_head && !L->asking && L->next_try > now) {
        long r = (long)(L->next_try - now);
        if (in < 0 || r < in) in = r;
    }
    pa_loop_t *loop = pa_worker_loop(L->w);
    if (in < 0) {
        pa_loop_timer_stop(loop, &L->timer);
        return;
    }
    if (L->timer) pa_loop_timer_again(loop, L->timer, (uint64_t)in);
    else L->timer = pa_loop_timer(loop, (uint64_t)in, 0, on_timer, L);
}

/* ---- the provider's answer ---------------------------------------------------------------- */

/* How an answer counts for the breaker (see llm_breaker.h). */
static llm_call_outcome_t call_outcome(const pa_http_res_t *r, const llm_res_t *res)
{
    if (r->result == PA_HTTP_ETOOLARGE) return LLM_CALL_OK; /* the provider answered, too much */
    if (r->result != PA_HTTP_OK && r->result != PA_HTTP_EABORTED) return LLM_CALL_FAILED;
    if (r->status == 429) return LLM_CALL_NEUTRAL;
    return res->kind == LLM_RES_TRANSIENT ? LLM_CALL_FAILED : LLM_CALL_OK;
}

static void transport_failure(const llm_t *L, const pa_http_res_t *r, llm_res_t *res)
{
    const char *pn = llm_provider_name(L->cfg.provider);
    memset(res, 0, sizeof *res);
    res->kind = LLM_RES_TRANSIENT;
    if (r->result == PA_HTTP_ETOOLARGE) {
        res->kind = LLM_RES_PERMANENT;
        snprintf(res->reason, sizeof res->reason,
                 "%s: the answer is larger than LLM_MAX_RESPONSE_BYTES (%zu bytes)", pn,
                 L->cfg.max_response);
        return;
    }
    if (r->result == PA_HTTP_EURL) res->kind = LLM_RES_PERMANENT;
    switch ((CURLcode)r->curl_code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_FAILED_INIT: res->kind = LLM_RES_PERMANENT; break;
    default: break;
    }
    snprintf(res->reason, sizeof res->reason, "%s: %s: %s", pn,
             r->result == PA_HTTP_ETIMEDOUT ? "timed out" : "request failed", r->error);
}

/* The least delay the answer asks for: Retry-After (seconds or a date) or retry-after-ms. */
static long retry_after_ms(const pa_http_res_t *r)
{
    long best = 0;
    const char *v = pa_http_res_header(r, "retry-after");
    if (v) {
        long ms = llm_retry_after_ms(v, time(NULL));
        if (ms > best) best = ms;
    }
    v = pa_http_res_header(r, "retry-after-ms");
    if (v) {
        char *e;
        double ms = strtod(v, &e);
        if (e != v && !*e && ms >= 0 && ms <= (double)LLM_RETRY_AFTER_CAP_MS && (long)ms > best)
            best = (long)ms;
    }
    return best;
}

/* The model's message (text, past the guardrails) as job j's result. cached: it comes from the
 * response cache, and then its usage is 0: the tokens were spent, and counted, by the call that
 * filled the cache. */
static void answer(llm_t *L, job_t *j, const char *text, const char *model, long pt, long ct,
                   int cached)
{
    const char *pn = llm_provider_name(L->cfg.provider);
    char *out;
    if (j->generate) {
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:{s:I, s:I}, s:b}", "output", text, "provider", pn, "model",
                      model && *model ? json_string(model) : json_null(), "usage", "prompt_tokens",
                      (json_int_t)pt, "completion_tokens", (json_int_t)ct, "cached", cached);
        out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    } else {
        out = result_json(text, pn, model, pt, ct, NULL, cached);
    }
    if (out) pa_worker_done(L->w, j->t, PA_OUT_SUCCEEDED, out, NULL, 0);
    else pa_worker_done(L->w, j->t, PA_OUT_FAILED, NULL, "llm: cannot encode the result", 0);
    free(out);
}

/* Stores a message that passed the guardrails in the response cache. */
static void cache_put(llm_t *L, job_t *j, const char *text, const char *model)
{
    if (!j->cache_key[0]) return;
    json_t *v = json_pack("{s:s, s:s}", "text", text, "model", model);
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (s) llm_cache_put(L->redis, j->cache_key, s, L->cfg.cache_ttl_s);
    free(s);
}

static void on_answer(pa_http_req_t *req, const pa_http_res_t *r, void *ud)
{
    job_t *j = ud;
    llm_t *L = j->L;
    cfg_t *c = &L->cfg;
    const char *pn = llm_provider_name(c->provider);
    j->req = NULL;
    L->inflight--;
    llm_res_t res;
    if (j->stream) publish_delta(L, j);
    int streamed = j->body_mode == BODY_STREAM;
    if (r->result == PA_HTTP_EABORTED || (streamed && r->result == PA_HTTP_OK))
        llm_stream_result(j->stream, &res); /* the stream said how it ended */
    else if (r->result != PA_HTTP_OK) transport_failure(L, r, &res);
    else
        llm_parse_answer(c->provider, r->status, r->body, r->len, retry_after_ms(r), c->model,
                         &res);
    llm_call_outcome_t outcome = call_outcome(r, &res);
    if (res.kind == LLM_RES_OK && j->reserved && c->rate.tpm) {
        /* the real usage replaces the estimate (a failed call keeps its reservation) */
        long used = res.prompt_tokens + res.completion_tokens;
        if (used != j->est_tokens)
            llm_rate_adjust(L->redis, c->prefix, c->rate_key, &c->rate, j->est_tokens - used,
                            pa_wall_ms());
    }
    pa_buf_t msg = PA_BUF_INIT;
    char gerr[256];
    size_t max_chars = j->generate ? GENERATE_MAX_CHARS : (size_t)c->max_chars;
    if (res.kind == LLM_RES_OK &&
        llm_guard(res.text, strlen(res.text), max_chars, &msg, gerr, sizeof gerr) < 0) {
        res.kind = LLM_RES_PERMANENT;
        snprintf(res.reason, sizeof res.reason, "%s: the model's message failed the guardrails: %s",
                 pn, gerr);
    }
    llm_redact(res.reason, c->api_key);
    if (llm_breaker_record(&L->breaker, outcome, j->probe, pa_mono_ms()))
        breaker_changed(L, res.reason);
    pa_task_t *t = j->t;
    int retry = res.kind == LLM_RES_TRANSIENT && !j->last_attempt;
    if (res.kind == LLM_RES_OK) cache_put(L, j, msg.data, res.model);
    if (j->generate) {
        if (res.kind == LLM_RES_OK)
            answer(L, j, msg.data, res.model, res.prompt_tokens, res.completion_tokens, 0);
        else if (retry) pa_worker_done(L->w, t, PA_OUT_RETRY, NULL, res.reason, res.retry_after_ms);
        else pa_worker_done(L->w, t, PA_OUT_FAILED, NULL, res.reason, 0);
    } else if (res.kind == LLM_RES_OK) {
        pa_debug("message composed", PA_S("task_id", j->key), PA_S("provider", pn),
                 PA_S("model", res.model), PA_I("attempt", j->attempt), PA_I("ms", r->elapsed_ms),
                 PA_I("prompt_tokens", res.prompt_tokens),
                 PA_I("completion_tokens", res.completion_tokens));
        answer(L, j, msg.data, res.model, res.prompt_tokens, res.completion_tokens, 0);
    } else if (retry) {
        pa_info("provider failed; the job engine retries", PA_S("task_id", j->key),
                PA_S("provider", pn), PA_I("attempt", j->attempt),
                PA_I("max_attempts", j->max_attempts), PA_S("error", res.reason),
                PA_I("retry_after_ms", res.retry_after_ms), PA_I("ms", r->elapsed_ms));
        pa_worker_done(L->w, t, PA_OUT_RETRY, NULL, res.reason, res.retry_after_ms);
    } else {
        pa_warn("provider failed; the message is the template's", PA_S("task_id", j->key),
                PA_S("provider", pn), PA_I("attempt", j->attempt),
                PA_I("max_attempts", j->max_attempts),
                PA_B("permanent", res.kind == LLM_RES_PERMANENT), PA_S("error", res.reason));
        done_template(L->w, t, j->draft, res.reason);
    }
    pa_buf_free(&msg);
    llm_res_free(&res);
    job_end(j);
    pump(L);
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Sends job j's request to the provider; the answer comes to on_answer (and, for a stream, as
 * it arrives to on_data). */
static void post(llm_t *L, job_t *j)
{
    cfg_t *c = &L->cfg;
    pa_http_req_t *r = pa_http_req_new(L->http, "POST", c->endpoint);
    pa_http_req_json(r, j->body);
    pa_http_req_header(r, j->stream ? "Accept: text/event-stream" : "Accept: application/json");
    pa_http_req_header(r, c->auth_header);
    if (c->provider == LLM_PROVIDER_ANTHROPIC)
        pa_http_req_header(r, "anthropic-version: " LLM_ANTHROPIC_VERSION);
    pa_http_req_owner(r, j);
    if (j->stream) pa_http_req_on_data(r, on_data);
    pa_http_start(r, on_answer, j);
    j->req = r;
    L->inflight++;
    free(j->body);
    j->body = NULL;
}

/* No call may go out (the breaker is open): a compose task takes the template's message at
 * once, a generate task fails at once with when to try again (the gateway answers 503 with
 * Retry-After). */
static void refuse_open(llm_t *L, job_t *j)
{
    char why[300];
    breaker_reason(L, why, sizeof why);
    if (!j->generate) {
        done_template(L->w, j->t, j->draft, why);
    } else {
        long in = llm_breaker_retry_in_ms(&L->breaker, pa_mono_ms());
        char res[96];
        snprintf(res, sizeof res, "{\"error\":\"circuit_open\",\"retry_after_ms\":%ld}",
                 in > 0 ? in : 1000);
        pa_worker_done(L->w, j->t, PA_OUT_FAILED, res, why, 0);
    }
    job_end(j);
}

/* The answer to "how many tokens has the job used": once they reach its budget
 * (options.token_budget) the task takes the template's message without a call. The question is
 * asked once this worker's finished tasks are committed; calls still out (and other workers'
 * uncommitted ones) are not counted, so a job can pass its budget by what those use. While Redis
 * does not answer (-1), the budget is not enforced (the call goes). */
static void on_budget(long long used, void *ud)
{
    job_t *j = ud;
    llm_t *L = j->L;
    if (L->asking == j) L->asking = NULL;
    if (!j->t) { /* the task is gone (done, cancelled, or the worker stops) */
        job_release(j);
        if (!L->stopping) pump(L);
        return;
    }
    if (used >= j->budget) {
        char why[200];
        snprintf(why, sizeof why,
                 "llm: the job's token budget is spent (%lld of %lld tokens used; "
                 "options.token_budget)",
                 used, j->budget);
        pa_debug("token budget spent; the message is the template's", PA_S("task_id", j->key),
                 PA_S("reason", why));
        done_template(L->w, j->t, j->draft, why);
        job_end(j);
    } else {
        j->budget_ok = 1;
    }
    job_release(j);
    if (!L->stopping) pump(L);
}

/* Asks for the job's usage once this worker's finished tasks are committed (their usage counts):
 * with one call at a time, the budget then holds exactly. */
static void ask_budget(pa_worker_t *w, void *ud)
{
    job_t *j = ud;
    (void)w;
    llm_job_tokens(j->L->redis, j->L->cfg.prefix, j->jobid, on_budget, j);
}

/* The rate limit's answer for job j (LLM_RPM, LLM_TPM): 0, it may go; > 0, every request waits
 * that long (the task stays held here, its attempt not spent); -1, Redis did not answer: they
 * wait RATE_RETRY_MS and ask again. */
static void on_rate(long long wait, void *ud)
{
    job_t *j = ud;
    llm_t *L = j->L;
    if (L->asking == j) L->asking = NULL;
    if (!j->t) {
        job_release(j);
        if (!L->stopping) pump(L);
        return;
    }
    uint64_t now = pa_mono_ms();
    if (wait < 0) {
        if (!L->rate_down)
            pa_warn("rate limit: redis does not answer; provider calls wait for it",
                    PA_S("error", pa_aredis_errstr(L->redis)));
        L->rate_down = 1;
        L->next_try = now + RATE_RETRY_MS;
    } else {
        if (L->rate_down) pa_info("rate limit: redis answers again");
        L->rate_down = 0;
        if (wait > 0) {
            pa_debug("rate limit: waiting", PA_S("task_id", j->key), PA_I("wait_ms", wait),
                     PA_I("tokens", j->est_tokens));
            L->next_try = now + (uint64_t)wait;
        } else {
            j->reserved = 1;
        }
    }
    job_release(j);
    if (!L->stopping) pump(L);
}

/* 1 while the rate limit's last refusal holds: nothing is asked before L->next_try. */
static int rate_waiting(const llm_t *L)
{
    return (L->cfg.rate.rpm || L->cfg.rate.tpm) && pa_mono_ms() < L->next_try;
}

static job_t *dequeue(llm_t *L)
{
    job_t *j = L->wait_head;
    unqueue(L, j);
    return j;
}

/* Sends waiting requests while fewer than LLM_CONCURRENCY are out, each only once the breaker
 * lets it go (while it is open they are refused; while its half-open probe is out they wait),
 * the job's token budget is not spent (else the template's message) and the shared rate limit
 * has room for it (else they wait, in order). A request waits here, not in the HTTP engine, so
 * that these checks are made just before it is sent; one Redis question is out at a time, so
 * requests go in arrival order. */
static void pump(llm_t *L)
{
    cfg_t *c = &L->cfg;
    while (L->wait_head && !L->asking && !L->stopping) {
        job_t *j = L->wait_head;
        if (L->breaker.state == LLM_BREAKER_OPEN) {
            refuse_open(L, dequeue(L));
            continue;
        }
        if (!llm_breaker_allows(&L->breaker) || /* half-open, the probe out: wait for it */
            L->inflight >= (size_t)c->concurrency || rate_waiting(L))
            break;
        if (j->budget > 0 && !j->budget_ok) {
            L->asking = j;
            j->refs++;
            pa_worker_when_committed(L->w, ask_budget, j);
            break;
        }
        if ((c->rate.rpm || c->rate.tpm) && !j->reserved) {
            L->asking = j;
            j->refs++;
            llm_rate_take(L->redis, c->prefix, c->rate_key, &c->rate, j->est_tokens, pa_wall_ms(),
                          on_rate, j);
            break;
        }
        dequeue(L);
        j->probe = llm_breaker_start(&L->breaker);
        post(L, j);
    }
    arm(L);
}

/* ---- tasks -------------------------------------------------------------------------------- */

/* What a request may use, for the rate limit: its prompt's bytes / 4 (about 4 bytes a token
 * in English) plus the most it may write (params.max_tokens, else LLM_DEFAULT_MAX_TOKENS). */
static long estimate_tokens(size_t prompt_bytes, const json_t *params)
{
    const json_t *mt = json_object_get(params, "max_tokens");
    json_int_t out = json_is_integer(mt) ? json_integer_value(mt) : 0;
    if (out < 1 || out > 100000) out = LLM_DEFAULT_MAX_TOKENS;
    return (long)(prompt_bytes / 4) + (long)out;
}

/* The response cache's answer for job j: a hit finishes it; a miss sends it to wait its turn. */
static void on_cached(const char *v, size_t len, void *ud)
{
    job_t *j = ud;
    llm_t *L = j->L;
    if (j->t) {
        json_t *o = v ? json_loadb(v, len, 0, NULL) : NULL;
        const char *text = json_string_value(json_object_get(o, "text"));
        if (text) {
            answer(L, j, text, json_string_value(json_object_get(o, "model")), 0, 0, 1);
            pa_debug("answered from the cache", PA_S("task_id", j->key));
            job_end(j);
        } else {
            enqueue(L, j);
        }
        json_decref(o);
    }
    job_release(j);
    if (!L->stopping) pump(L);
}

/* A request is ready (body): answered from the response cache when it holds the answer to this
 * very request (provider, endpoint, stage, and the body: model, prompt, params); else it waits
 * its turn (sent by pump). */
static void submit(llm_t *L, job_t *j, const char *stage, char *body, long est_tokens)
{
    cfg_t *c = &L->cfg;
    j->body = body;
    j->est_tokens = est_tokens;
    if (c->cache_ttl_s > 0 &&
        llm_cache_key(c->prefix, llm_provider_name(c->provider), c->endpoint, stage, body,
                      strlen(body), j->cache_key, sizeof j->cache_key) == 0) {
        j->refs++;
        llm_cache_get(L->redis, c->prefix, j->cache_key, on_cached, j);
        return;
    }
    enqueue(L, j);
    pump(L);
}

static job_t *new_job(llm_t *L, pa_task_t *t)
{
    job_t *j = pa_calloc(1, sizeof *j);
    j->L = L;
    j->t = t;
    j->refs = 1;
    t->user = j;
    snprintf(j->key, sizeof j->key, "%s", t->key);
    snprintf(j->jobid, sizeof j->jobid, "%s", t->job);
    j->attempt = t->attempt;
    j->max_attempts = t->max_attempts; /* from the engine (TASK's max_attempts) */
    j->last_attempt = t->last_attempt;
    j->next = L->jobs;
    if (L->jobs) L->jobs->prev = j;
    L->jobs = j;
    L->njobs++;
    return j;
}

/* A free prompt from POST /api/llm/generate: the provider's answer, or a clear failure. The
 * prompt is a template over the call's variables (gateway: POST /api/llm/generate
 * {prompt, variables?}); the template provider answers with it rendered, a model gets it
 * rendered when the call has variables. */
static void on_generate(llm_t *L, pa_worker_t *w, pa_task_t *t)
{
    cfg_t *c = &L->cfg;
    const json_t *in = pa_task_input(t);
    const char *prompt = json_string_value(json_object_get(in, "prompt"));
    if (!prompt) {
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, "llm: the generate task has no prompt", 0);
        return;
    }
    const json_t *vars = json_object_get(in, "variables");
    pa_buf_t rendered = PA_BUF_INIT;
    if (c->provider == LLM_PROVIDER_TEMPLATE || json_is_object(vars)) {
        char err[600];
        json_t *fin = json_pack("{s:O*}", "variables", vars);
        llm_fields_t f = {fin, NULL, NULL};
        int rc = llm_compose_template(prompt, strlen(prompt), &f, GENERATE_MAX_CHARS, &rendered,
                                      err, sizeof err);
        json_decref(fin);
        if (rc < 0) {
            pa_worker_done(w, t, PA_OUT_FAILED, NULL, err, 0);
            pa_buf_free(&rendered);
            return;
        }
        prompt = rendered.data;
    }
    if (c->provider == LLM_PROVIDER_TEMPLATE) {
        json_t *o = json_pack("{s:s, s:s, s:n, s:{s:i, s:i}, s:b}", "output", prompt, "provider",
                              "template", "model", "usage", "prompt_tokens", 0, "completion_tokens",
                              0, "cached", 0);
        char *res = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (res) pa_worker_done(w, t, PA_OUT_SUCCEEDED, res, NULL, 0);
        else pa_worker_done(w, t, PA_OUT_FAILED, NULL, "llm: cannot encode the result", 0);
        free(res);
        pa_buf_free(&rendered);
        return;
    }
    job_t *j = new_job(L, t);
    j->generate = 1;
    int stream = json_is_true(json_object_get(in, "stream"));
    if (stream) {
        size_t max_line =
            c->max_response < LLM_STREAM_MAX_LINE ? c->max_response : LLM_STREAM_MAX_LINE;
        j->stream = llm_stream_new(c->provider, c->model, max_line);
        if (j->attempt > 1) { /* what an earlier attempt streamed is void */
            char m[64];
            int n = snprintf(m, sizeof m, "{\"attempt\":%u,\"restart\":true}", j->attempt);
            publish(L, j, m, (size_t)n);
        }
    }
    pa_buf_t ignored = PA_BUF_INIT;
    const char *sys = "Answer in plain text.";
    const json_t *params = json_object_get(in, "params");
    submit(L, j, "generate",
           llm_request_body(c->provider, c->model, sys, prompt, params, stream, &ignored),
           estimate_tokens(strlen(sys) + strlen(prompt), params));
    pa_buf_free(&ignored);
    pa_buf_free(&rendered);
}

static void on_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    llm_t *L = ud;
    cfg_t *c = &L->cfg;
    char err[600];
    pa_buf_t draft = PA_BUF_INIT;
    if (strcmp(t->stage, "generate") == 0) {
        on_generate(L, w, t);
        goto out;
    }
    if (strcmp(t->stage, "compose") != 0) {
        snprintf(err, sizeof err, "llm: this worker runs the compose and generate stages, not '%s'",
                 t->stage);
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, err, 0);
        goto out;
    }
    const json_t *ctx = pa_task_context(t);
    const json_t *tmpl = json_object_get(ctx, "template");
    if (!json_is_string(tmpl)) {
        pa_worker_done(w, t, PA_OUT_FAILED, NULL,
                       "llm: the job has no message template (context.template)", 0);
        goto out;
    }
    llm_fields_t f = {pa_task_input(t), json_object_get(ctx, "sender"),
                      pa_task_result(t, "enrich")};
    if (llm_compose_template(json_string_value(tmpl), json_string_length(tmpl), &f,
                             (size_t)c->max_chars, &draft, err, sizeof err) < 0) {
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, err, 0);
        goto out;
    }
    const json_t *opts = json_object_get(ctx, "options");
    int personalize = !json_is_false(json_object_get(opts, "personalize"));
    if (c->provider == LLM_PROVIDER_TEMPLATE || !personalize) {
        done_template(w, t, draft.data, NULL);
        goto out;
    }
    job_t *j = new_job(L, t);
    j->draft = pa_buf_detach(&draft, NULL);
    const json_t *budget = json_object_get(opts, "token_budget");
    j->budget = json_is_integer(budget) && json_integer_value(budget) > 0
                    ? (long long)json_integer_value(budget)
                    : 0;
    pa_buf_t sys = PA_BUF_INIT, user = PA_BUF_INIT, ignored = PA_BUF_INIT;
    llm_prompt(&f, json_string_value(tmpl), j->draft, (size_t)c->max_chars, &sys, &user);
    char *body = llm_request_body(c->provider, c->model, sys.data, user.data,
                                  json_object_get(opts, "params"), 0, &ignored);
    if (ignored.len)
        pa_debug("params ignored", PA_S("task_id", t->key), PA_S("params", ignored.data));
    submit(L, j, "compose", body,
           estimate_tokens(sys.len + user.len, json_object_get(opts, "params")));
    pa_buf_free(&sys);
    pa_buf_free(&user);
    pa_buf_free(&ignored);
out:
    pa_buf_free(&draft);
}

/* The task was cancelled (its job cancelled, its lease lost, or released at the stop deadline):
 * its provider call, if out, is aborted; nothing it did is committed. */
static void on_cancel(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud)
{
    llm_t *L = ud;
    job_t *j = t->user;
    char why[200];
    snprintf(why, sizeof why, "llm: cancelled (%s)", reason ? reason : "?");
    pa_debug("task cancelled", PA_S("task_id", t->key), PA_S("reason", reason),
             PA_B("call_out", j && j->req));
    pa_worker_done(w, t, PA_OUT_FAILED, NULL, why, 0);
    if (j) job_end(j); /* aborts the call; the task is gone */
    pump(L);
}

/* ---- the runtime's loop ------------------------------------------------------------------- */

static int on_start(pa_worker_t *w, void *ud)
{
    llm_t *L = ud;
    if (L->cfg.provider == LLM_PROVIDER_TEMPLATE) return 0; /* no calls, no Redis of its own */
    char err[256];
    pa_http_cfg_t hc = {.connect_timeout_ms = L->cfg.connect_timeout_ms,
                        .timeout_ms = L->cfg.timeout_ms,
                        .max_body = L->cfg.max_response};
    L->http = pa_http_new(pa_worker_loop(w), &hc, err, sizeof err);
    if (!L->http) {
        pa_error("cannot initialise libcurl", PA_S("error", err));
        return -1;
    }
    L->redis = pa_worker_aredis(w);
    breaker_publish(L);
    return 0;
}

/* The loop is about to go: calls still out are abandoned (their tasks were released by the
 * runtime); Redis answers still awaited only release their jobs. */
static void on_stop(pa_worker_t *w, void *ud)
{
    llm_t *L = ud;
    L->stopping = 1;
    pa_loop_timer_stop(pa_worker_loop(w), &L->timer);
    pa_http_destroy(&L->http);
    for (job_t *j = L->jobs; j; j = j->next)
        j->req = NULL; /* the engine is gone, and its requests with it */
    L->inflight = 0;
    while (L->jobs) job_end(L->jobs);
}

/* ---- configuration ------------------------------------------------------------------------ */

/* The endpoint without user information or query, for logs. */
static void loggable_url(const char *url, char *out, size_t n)
{
    const char *sch = strstr(url, "://");
    int pre = sch ? (int)(sch + 3 - url) : 0;
    const char *s = url + pre, *at = strchr(s, '@'), *slash = strchr(s, '/');
    if (at && (!slash || at < slash)) s = at + 1;
    snprintf(out, n, "%.*s%.*s", pre, url, (int)strcspn(s, "?#"), s);
}

static int read_cfg(cfg_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->prefix = pa_env_str("REDIS_PREFIX", "pa:"); /* as the worker runtime reads it */
    const char *prov = pa_env_str("LLM_PROVIDER", "template");
    if (!*prov) prov = "template";
    if (llm_provider_parse(prov, &c->provider) < 0) {
        snprintf(err, errlen, "LLM_PROVIDER: expected template, openai or anthropic, got '%.40s'",
                 prov);
        return -1;
    }
    if (pa_env_long("LLM_MAX_CHARS", LLM_MAX_CHARS_DEFAULT, 1, LLM_MAX_CHARS_LIMIT, &c->max_chars,
                    err, errlen) < 0 ||
        pa_env_long("LLM_CONCURRENCY", 16, 1, 200, &c->concurrency, err, errlen) < 0 ||
        pa_env_long("LLM_CONNECT_TIMEOUT_MS", 10000, 100, 600000, &c->connect_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("LLM_TIMEOUT_MS", 60000, 100, 3600000, &c->timeout_ms, err, errlen) < 0 ||
        pa_env_size("LLM_MAX_RESPONSE_BYTES", 1u << 20, 1024, 64u << 20, &c->max_response, err,
                    errlen) < 0 ||
        pa_env_long("LLM_BREAKER_FAILURES", 5, 0, 1000, &c->breaker_failures, err, errlen) < 0 ||
        pa_env_long("LLM_BREAKER_COOLDOWN_MS", 30000, 100, 3600000, &c->breaker_cooldown_ms, err,
                    errlen) < 0 ||
        pa_env_long("LLM_RPM", 0, 0, 10000000, &c->rate.rpm, err, errlen) < 0 ||
        pa_env_long("LLM_TPM", 0, 0, 1000000000, &c->rate.tpm, err, errlen) < 0 ||
        pa_env_long("LLM_RATE_BURST_S", 5, 1, 60, &c->rate.burst_s, err, errlen) < 0 ||
        pa_env_long("LLM_CACHE_TTL_S", 86400, 0, 31536000, &c->cache_ttl_s, err, errlen) < 0)
        return -1;
    if (c->provider == LLM_PROVIDER_TEMPLATE) return 0;
    const char *base = pa_env_str("LLM_BASE_URL", NULL);
    if (!base || !*base) base = llm_default_base(c->provider);
    if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) ||
        strlen(base) > 1000 || strpbrk(base, " \t\r\n")) {
        snprintf(err, errlen, "LLM_BASE_URL: expected an http:// or https:// URL");
        return -1;
    }
    c->model = pa_env_str("LLM_MODEL", NULL);
    if (!c->model || !*c->model) c->model = llm_default_model(c->provider);
    if (strlen(c->model) > 100 || strpbrk(c->model, "\r\n\"")) {
        snprintf(err, errlen, "LLM_MODEL: at most 100 characters, no quotes or line breaks");
        return -1;
    }
    const char *keyvar =
        c->provider == LLM_PROVIDER_ANTHROPIC ? "ANTHROPIC_API_KEY" : "LLM_API_KEY";
    c->api_key = pa_env_str(keyvar, NULL);
    if ((!c->api_key || !*c->api_key) && c->provider == LLM_PROVIDER_ANTHROPIC) {
        keyvar = "LLM_API_KEY";
        c->api_key = pa_env_str(keyvar, NULL);
    }
    if (!c->api_key || !*c->api_key) {
        snprintf(err, errlen, "%s: required with LLM_PROVIDER=%s",
                 c->provider == LLM_PROVIDER_ANTHROPIC ? "ANTHROPIC_API_KEY" : "LLM_API_KEY", prov);
        return -1;
    }
    if (strlen(c->api_key) > 1000 || strpbrk(c->api_key, "\r\n")) {
        snprintf(err, errlen, "%s: at most 1000 characters, no line breaks", keyvar);
        return -1;
    }
    c->endpoint = llm_endpoint(c->provider, base);
    if (c->rate.rpm || c->rate.tpm) {
        pa_buf_t k = PA_BUF_INIT;
        llm_rate_key(c->prefix, llm_provider_name(c->provider), c->endpoint, c->model, &k);
        c->rate_key = pa_buf_detach(&k, NULL);
    }
    pa_buf_t h = PA_BUF_INIT;
    pa_buf_printf(&h, "%s%s",
                  c->provider == LLM_PROVIDER_ANTHROPIC ? "x-api-key: " : "Authorization: Bearer ",
                  c->api_key);
    c->auth_header = pa_buf_detach(&h, NULL);
    return 0;
}

static void free_cfg(cfg_t *c)
{
    free(c->endpoint);
    free(c->rate_key);
    if (c->auth_header) { /* the key does not outlive its use in this process's heap */
        memset(c->auth_header, 0, strlen(c->auth_header));
        free(c->auth_header);
    }
}

int main(void)
{
    pa_mem_install_hooks(); /* out of memory aborts in jansson and hiredis too */
    char err[256];
    pa_log_level_t lvl = PA_LOG_INFO;
    pa_log_parse_level(pa_env_str("LOG_LEVEL", "info"), &lvl);
    pa_log_init("llm-worker", lvl, 2);
    llm_t L = {0};
    if (read_cfg(&L.cfg, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        free_cfg(&L.cfg);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pa_error("cannot initialise libcurl", PA_S("error", "curl_global_init failed"));
        free_cfg(&L.cfg);
        return 1;
    }
    int rc = 1;
    pa_worker_ops_t ops = {.service = "llm",
                           .on_start = on_start,
                           .on_task = on_task,
                           .on_cancel = on_cancel,
                           .on_stop = on_stop,
                           .ud = &L};
    L.w = pa_worker_new(&ops, err, sizeof err);
    if (!L.w) {
        pa_error("bad configuration", PA_S("error", err));
        rc = 2;
        goto out;
    }
    char where[256] = "";
    if (L.cfg.endpoint) loggable_url(L.cfg.endpoint, where, sizeof where);
    pa_info("llm worker configured", PA_S("provider", llm_provider_name(L.cfg.provider)),
            PA_S("model", L.cfg.model), PA_S("endpoint", L.cfg.endpoint ? where : NULL),
            PA_S("api_key", L.cfg.api_key ? "set" : NULL), PA_I("concurrency", L.cfg.concurrency),
            PA_I("connect_timeout_ms", L.cfg.connect_timeout_ms),
            PA_I("timeout_ms", L.cfg.timeout_ms), PA_I("max_response_bytes", L.cfg.max_response),
            PA_I("max_chars", L.cfg.max_chars), PA_I("breaker_failures", L.cfg.breaker_failures),
            PA_I("breaker_cooldown_ms", L.cfg.breaker_cooldown_ms), PA_I("rpm", L.cfg.rate.rpm),
            PA_I("tpm", L.cfg.rate.tpm), PA_I("rate_burst_s", L.cfg.rate.burst_s),
            PA_S("rate_key", L.cfg.rate_key), PA_I("cache_ttl_s", L.cfg.cache_ttl_s));
    llm_breaker_init(&L.breaker, L.cfg.breaker_failures, L.cfg.breaker_cooldown_ms);
    rc = pa_worker_run(L.w);
out:
    /* the runtime's Redis connection goes with the worker: answers still awaited get NULL and
     * release the jobs they hold */
    pa_worker_destroy(&L.w);
    pa_http_destroy(&L.http);
    free_cfg(&L.cfg);
    curl_global_cleanup();
    return rc;
}
