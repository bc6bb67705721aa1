/* prospect-test-worker: a worker daemon for tests and benchmarks, built on the real worker
 * runtime, and using every facility it offers (timers, per-task arenas, cancellation, claims,
 * the status record, the attempt numbers). It serves one service (TEST_WORKER_SERVICE: mcp, llm
 * or form) and does what each task's input asks in variables.test_<stage> (or variables.test):
 *   ok (the default), fail, retry, retry_once, stall, crash, skip, uncertain, slow:<ms>;
 *   captcha         ends captcha_required with the submit stage's result shape (docs/api.md,
 *                   "Hand-offs"): reason "captcha", page_url <target>contact, the form, a
 *                   recaptcha_v2 captcha and every prefilled field (the job's sender, the
 *                   composed message or the template), as the form worker hands a task off;
 *   transient       a transient failure unless this is the stage's last attempt, which succeeds;
 *   wait_cancel     runs until the task is cancelled (on_cancel ends it);
 *   claim           takes the claim "test:<task key>" and succeeds when it got it (PA_CLAIM_OK),
 *                   fails otherwise, the answer in the result and the log;
 *   claim_after:<ms> waits ms, then claims as above, even if cancelled meanwhile (to show that a
 *                   claim after a cancel answers "cancelled");
 *   count           INCR <prefix>test:count:<job> on the runtime's non-blocking Redis connection
 *                   (pa_worker_aredis) and succeeds with the value in the result ("count");
 *   fetch           GETs variables.fetch_url through the HTTP engine (pa_http on the runtime's
 *                   loop, owned by the task, so a cancel aborts it; User-Agent from
 *                   HTTP_USER_AGENT; total timeout variables.fetch_timeout_ms, default 10000)
 *                   and succeeds with {status, bytes, body (the first 4 KiB)}; a 5xx, a timeout
 *                   or a failed connect is a transient failure, anything else a permanent one;
 *   count_first     as count, but the INCR comes first (a side effect done at once, as a form's
 *                   POST), then the task waits TEST_WORKER_DELAY_MS and succeeds;
 *   big:<n>         succeeds with a result padded to about n bytes (a result too large);
 *   status          sets the fields of the worker's status record named by the variables
 *                   "status.<field>" (value "-": removes it) with pa_worker_set_status; they are
 *                   published at the next heartbeat.
 * TEST_WORKER_MODE sets the mode of tasks that do not say; TEST_WORKER_DELAY_MS delays every task
 * (a pa_loop timer). A task that outlives on_task keeps its state in its arena (one that ends at
 * once needs none: the benchmarks' no-op tasks stay cheap). For the stage "generate" (POST
 * /api/llm/generate) the result echoes the prompt as the llm-worker would. The status record
 * carries tasks_started, tasks_cancelled and last_claim. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pa_config.h"
#include "pa_http.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_time.h"
#include "pa_worker.h"

typedef struct {
    long delay_ms;
    unsigned long started, cancelled;
    unsigned long published_started, published_cancelled;
    pa_timer_t *status_timer;
    pa_http_t *http; /* the HTTP engine on the runtime's loop (fetch) */
} tw_t;

/* One task's state, in the task's arena. */
typedef struct {
    pa_worker_t *w;
    pa_task_t *t;
    pa_timer_t *timer;
    char mode[32];
    long claim_after_ms; /* claim_after:<ms>; -1 otherwise */
    int cancelled;
    int counting; /* an INCR in flight: its answer ends the task, even after a cancel */
    int fetching; /* a GET in flight (owner: the task): a cancel aborts it */
} tt_t;

static tw_t tw;

/* The result of a stage: for "generate" an answer shaped like the llm-worker's, echoing the
 * prompt; for the others, who ran it and which try it was. Caller frees. */
static char *result_of(tt_t *tt, const char *claim)
{
    pa_task_t *t = tt->t;
    json_t *r;
    if (strcmp(t->stage, "generate") == 0) {
        const char *prompt = json_string_value(json_object_get(pa_task_input(t), "prompt"));
        char *out = NULL;
        if (asprintf(&out, "test: %s", prompt ? prompt : "") < 0) out = NULL;
        r = json_pack("{s:s, s:s, s:s, s:{s:i, s:i}}", "output", out ? out : "", "provider", "test",
                      "model", "prospect-test-worker", "usage", "prompt_tokens",
                      (int)(prompt ? strlen(prompt) : 0), "completion_tokens", 1);
        free(out);
    } else {
        r = json_pack("{s:s, s:s, s:i}", "worker", pa_worker_id(tt->w), "stage", t->stage,
                      "attempt", (int)t->attempt);
        if (strcmp(tt->mode, "transient") == 0) { /* the limit it was told, and whether last */
            json_object_set_new(r, "max_attempts", json_integer(t->max_attempts));
            json_object_set_new(r, "last_attempt", json_boolean(t->last_attempt));
        }
        if (claim) json_object_set_new(r, "claim", json_string(claim));
    }
    if (strncmp(tt->mode, "big:", 4) == 0) { /* a result of about that many bytes */
        long n = atol(tt->mode + 4);
        char *pad = malloc(n > 0 ? (size_t)n + 1 : 1);
        if (pad) {
            memset(pad, 'x', n > 0 ? (size_t)n : 0);
            pad[n > 0 ? n : 0] = '\0';
            json_object_set_new(r, "pad", json_string(pad));
            free(pad);
        }
    }
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

/* A string member of o, or def. */
static const char *str_or(const json_t *o, const char *k, const char *def)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : def;
}

/* What a form worker hands off when a CAPTCHA guards the form (the submit stage's result for
 * captcha_required): the page, the form, the CAPTCHA's kind and evidence, and every value it
 * would have posted, in full. The values come from the job's sender and the composed message
 * (the template when no compose stage ran). Caller frees. */
static char *captcha_result(tt_t *tt)
{
    pa_task_t *t = tt->t;
    const json_t *ctx = pa_task_context(t);
    const json_t *sender = json_object_get(ctx, "sender");
    const char *msg = str_or(pa_task_result(t, "compose"), "message", NULL);
    if (!msg) msg = str_or(ctx, "template", "");
    const char *base = t->target && *t->target ? t->target : "https://example.invalid/";
    char page[2100];
    snprintf(page, sizeof page, "%s%scontact", base, base[strlen(base) - 1] == '/' ? "" : "/");
    json_t *fields = json_pack(
        "[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]",
        "name", "your-name", "kind", "full_name", "label", "Your name", "value",
        str_or(sender, "name", ""), "name", "your-email", "kind", "email", "label", "Your e-mail",
        "value", str_or(sender, "email", ""), "name", "your-subject", "kind", "subject", "label",
        "Subject", "value", "Enquiry", "name", "your-message", "kind", "message", "label",
        "Your message", "value", msg);
    json_t *r = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:o, s:{s:s, s:s}, s:s, s:s, s:i}", "outcome",
        "captcha_required", "reason", "captcha", "detail", "test: captcha", "page_url", page,
        "form", "action", page, "method", "POST", "enctype", "application/x-www-form-urlencoded",
        "why", "test: the only form", "fields", fields, "captcha", "kind", "recaptcha_v2",
        "evidence", "<div class=\"g-recaptcha\" data-sitekey=\"test-key\"></div>", "worker",
        pa_worker_id(tt->w), "stage", t->stage, "attempt", (int)t->attempt);
    char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    return s;
}

static void finish(tt_t *tt)
{
    pa_worker_t *w = tt->w;
    pa_task_t *t = tt->t;
    const char *mode = tt->mode;
    char *result = result_of(tt, NULL);
    if (strcmp(mode, "fail") == 0)
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, "test: permanent failure", 0);
    else if (strcmp(mode, "retry") == 0)
        pa_worker_done(w, t, PA_OUT_RETRY, NULL, "test: transient failure", 0);
    else if (strcmp(mode, "retry_once") == 0 && t->attempt == 1)
        pa_worker_done(w, t, PA_OUT_RETRY, NULL, "test: transient failure", 0);
    else if (strcmp(mode, "transient") == 0 && !t->last_attempt)
        pa_worker_done(w, t, PA_OUT_RETRY, NULL, "test: transient failure before the last attempt",
                       0);
    else if (strcmp(mode, "captcha") == 0) {
        char *handoff = captcha_result(tt);
        pa_worker_done(w, t, PA_OUT_CAPTCHA_REQUIRED, handoff, "captcha: test: captcha", 0);
        free(handoff);
    } else if (strcmp(mode, "skip") == 0)
        pa_worker_done(w, t, PA_OUT_SKIPPED, result, "test: skipped", 0);
    else if (strcmp(mode, "uncertain") == 0)
        pa_worker_done(w, t, PA_OUT_UNCERTAIN, result, "test: uncertain", 0);
    else pa_worker_done(w, t, PA_OUT_SUCCEEDED, result, NULL, 0);
    free(result);
}

static void on_claimed(pa_worker_t *w, pa_task_t *t, pa_claim_t c, void *ud)
{
    tt_t *tt = ud;
    const char *name = pa_claim_name(c);
    pa_info("claim answered", PA_S("task_id", t->key), PA_S("claim", name),
            PA_B("cancelled_before", tt->cancelled));
    char last[200];
    snprintf(last, sizeof last, "%s=%s", t->key, name);
    pa_worker_set_status(w, "last_claim", last);
    char *result = result_of(tt, name);
    if (c == PA_CLAIM_OK) pa_worker_done(w, t, PA_OUT_SUCCEEDED, result, NULL, 0);
    else pa_worker_done(w, t, PA_OUT_FAILED, result, "test: claim not taken", 0);
    free(result);
}

static void on_timer(pa_loop_t *l, pa_timer_t *timer, void *ud);

static void on_counted(redisReply *r, void *ud)
{
    tt_t *tt = ud;
    tt->counting = 0;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        pa_worker_done(tt->w, tt->t, PA_OUT_RETRY, NULL, "test: redis did not count", 0);
        return;
    }
    if (strcmp(tt->mode, "count_first") == 0 && tw.delay_ms > 0 && !tt->cancelled) {
        tt->timer = pa_loop_timer(pa_worker_loop(tt->w), (uint64_t)tw.delay_ms, 0, on_timer, tt);
        return; /* the side effect is done; the task goes on until the timer ends it */
    }
    json_t *j =
        json_pack("{s:I, s:i}", "count", (json_int_t)r->integer, "attempt", (int)tt->t->attempt);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    pa_worker_done(tt->w, tt->t, PA_OUT_SUCCEEDED, s, NULL, 0);
    free(s);
}

/* An INCR answered from the loop (a callback always comes, NULL when Redis is away or the
 * worker is going: the task, and tt in its arena, live until then). */
static void count(tt_t *tt)
{
    tt->counting = 1;
    if (pa_aredis_cmd(pa_worker_aredis(tt->w), on_counted, tt, "INCR %stest:count:%s",
                      pa_env_str("REDIS_PREFIX", "pa:"), tt->t->job) < 0) {
        tt->counting = 0;
        pa_worker_done(tt->w, tt->t, PA_OUT_RETRY, NULL, "test: redis client stopping", 0);
    }
}

static void on_fetched(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    (void)req;
    tt_t *tt = ud;
    tt->fetching = 0;
    if (res->result != PA_HTTP_OK) {
        int transient = res->result == PA_HTTP_ETIMEDOUT || res->result == PA_HTTP_ECONNECT;
        char err[300];
        snprintf(err, sizeof err, "test: fetch failed: %s", res->error);
        pa_worker_done(tt->w, tt->t, transient ? PA_OUT_RETRY : PA_OUT_FAILED, NULL, err, 0);
        return;
    }
    if (res->status >= 500) {
        char err[64];
        snprintf(err, sizeof err, "test: fetch answered %ld", res->status);
        pa_worker_done(tt->w, tt->t, PA_OUT_RETRY, NULL, err, 0);
        return;
    }
    json_t *j =
        json_pack("{s:i, s:I, s:s%}", "status", (int)res->status, "bytes", (json_int_t)res->len,
                  "body", res->body, res->len < 4096 ? res->len : (size_t)4096);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (res->status >= 400)
        pa_worker_done(tt->w, tt->t, PA_OUT_FAILED, s, "test: fetch answered a client error", 0);
    else pa_worker_done(tt->w, tt->t, PA_OUT_SUCCEEDED, s, NULL, 0);
    free(s);
}

/* GET variables.fetch_url on the runtime's loop; the task owns the request. */
static void fetch(tt_t *tt)
{
    const json_t *vars = json_object_get(pa_task_input(tt->t), "variables");
    const char *url = json_string_value(json_object_get(vars, "fetch_url"));
    if (!url) {
        pa_worker_done(tt->w, tt->t, PA_OUT_FAILED, NULL, "test: no variables.fetch_url", 0);
        return;
    }
    const char *ms = json_string_value(json_object_get(vars, "fetch_timeout_ms"));
    pa_http_req_t *r = pa_http_req_new(tw.http, "GET", url);
    pa_http_req_owner(r, tt->t);
    pa_http_req_timeouts(r, 0, ms ? atol(ms) : 10000);
    tt->fetching = 1;
    pa_http_start(r, on_fetched, tt);
}

/* Sets the status fields named by the variables "status.<field>", then succeeds. */
static void set_status(tt_t *tt)
{
    const char *k;
    const json_t *v;
    int n = 0;
    json_object_foreach((json_t *)json_object_get(pa_task_input(tt->t), "variables"), k, v) {
        if (strncmp(k, "status.", 7) != 0 || !k[7] || !json_is_string(v)) continue;
        const char *val = json_string_value(v);
        pa_worker_set_status(tt->w, k + 7, strcmp(val, "-") == 0 ? NULL : val);
        n++;
    }
    pa_info("status fields set", PA_S("task_id", tt->t->key), PA_I("fields", n));
    finish(tt);
}

static void claim(tt_t *tt)
{
    char *name = pa_arena_alloc(tt->t->arena, strlen(tt->t->key) + 6);
    snprintf(name, strlen(tt->t->key) + 6, "test:%s", tt->t->key);
    pa_worker_claim(tt->w, tt->t, name, 3600, on_claimed, tt);
}

static void on_timer(pa_loop_t *l, pa_timer_t *timer, void *ud)
{
    (void)l, (void)timer;
    tt_t *tt = ud;
    tt->timer = NULL; /* a one-shot timer: the loop frees it */
    if (tt->claim_after_ms >= 0 || strcmp(tt->mode, "claim") == 0) claim(tt);
    else if (strcmp(tt->mode, "count") == 0) count(tt);
    else if (strcmp(tt->mode, "fetch") == 0) fetch(tt);
    else finish(tt);
}

/* The counts go into the status record when they changed, from a timer (not per task: the
 * record is published with the heartbeats anyway). */
static void set_counts(pa_worker_t *w)
{
    char n[24];
    snprintf(n, sizeof n, "%lu", tw.started);
    pa_worker_set_status(w, "tasks_started", n);
    snprintf(n, sizeof n, "%lu", tw.cancelled);
    pa_worker_set_status(w, "tasks_cancelled", n);
    tw.published_started = tw.started, tw.published_cancelled = tw.cancelled;
}

static void on_status_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    if (tw.started != tw.published_started || tw.cancelled != tw.published_cancelled)
        set_counts(ud);
}

static void mode_of(tt_t *tt, long *slow_ms)
{
    pa_task_t *t = tt->t;
    snprintf(tt->mode, sizeof tt->mode, "%s", pa_env_str("TEST_WORKER_MODE", "ok"));
    *slow_ms = 0;
    tt->claim_after_ms = -1;
    const json_t *vars = json_object_get(pa_task_input(t), "variables");
    char key[40];
    snprintf(key, sizeof key, "test_%s", t->stage);
    const json_t *m = json_object_get(vars, key);
    if (!json_is_string(m)) m = json_object_get(vars, "test");
    if (json_is_string(m)) snprintf(tt->mode, sizeof tt->mode, "%s", json_string_value(m));
    if (strncmp(tt->mode, "slow:", 5) == 0) {
        *slow_ms = atol(tt->mode + 5);
        snprintf(tt->mode, sizeof tt->mode, "ok");
    } else if (strncmp(tt->mode, "claim_after:", 12) == 0) {
        tt->claim_after_ms = atol(tt->mode + 12);
        *slow_ms = tt->claim_after_ms;
        snprintf(tt->mode, sizeof tt->mode, "claim_after");
    }
}

static void on_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    (void)ud;
    tt_t now = {.w = w, .t = t};
    long slow;
    mode_of(&now, &slow);
    tw.started++;
    if (strcmp(now.mode, "crash") == 0) {
        pa_warn("crashing on request", PA_S("task_id", t->key));
        raise(SIGKILL);
    }
    long delay = slow + tw.delay_ms;
    int waits = delay > 0 || strcmp(now.mode, "stall") == 0 ||
                strcmp(now.mode, "wait_cancel") == 0 || strcmp(now.mode, "claim") == 0 ||
                strcmp(now.mode, "count") == 0 || strcmp(now.mode, "fetch") == 0 ||
                strcmp(now.mode, "count_first") == 0;
    if (!waits && strcmp(now.mode, "status") == 0) {
        set_status(&now);
        return;
    }
    if (!waits) { /* ends now: its state needs no arena */
        finish(&now);
        return;
    }
    /* the task outlives this call: its state lives in its arena */
    tt_t *tt = pa_arena_alloc(t->arena, sizeof *tt);
    *tt = now;
    t->user = tt;
    /* held until the lease runs out, the task is cancelled or we stop */
    if (strcmp(tt->mode, "stall") == 0 || strcmp(tt->mode, "wait_cancel") == 0) return;
    if (strcmp(tt->mode, "count_first") == 0) {
        count(tt);
        return;
    }
    if (delay <= 0) {
        if (strcmp(tt->mode, "claim") == 0) claim(tt);
        else if (strcmp(tt->mode, "fetch") == 0) fetch(tt);
        else count(tt);
        return;
    }
    tt->timer = pa_loop_timer(pa_worker_loop(w), (uint64_t)delay, 0, on_timer, tt);
}

static void on_cancel(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud)
{
    (void)ud;
    tt_t *tt = t->user;
    tt->cancelled = 1;
    tw.cancelled++;
    pa_info("task cancelled", PA_S("task_id", t->key), PA_S("reason", reason),
            PA_S("mode", tt->mode));
    /* claim_after goes on to its claim, to show what a claim after a cancel answers (unless
     * the runtime is giving the task back as it stops) */
    if (tt->claim_after_ms >= 0 && tt->timer && strcmp(reason, "released") != 0) return;
    if (tt->counting) return; /* on_counted ends it */
    if (tt->fetching) {       /* its done callback is never called now */
        size_t n = pa_http_cancel_owner(tw.http, t);
        tt->fetching = 0;
        pa_info("fetch aborted", PA_S("task_id", t->key), PA_I("requests", n));
    }
    pa_loop_timer_stop(pa_worker_loop(w), &tt->timer);
    pa_worker_done(w, t, PA_OUT_FAILED, NULL, "test: cancelled", 0);
}

static int on_start(pa_worker_t *w, void *ud)
{
    (void)ud;
    pa_worker_set_status(w, "test_mode", pa_env_str("TEST_WORKER_MODE", "ok"));
    char err[256];
    pa_http_cfg_t hc = {.user_agent = NULL}; /* HTTP_USER_AGENT, else the suite's own */
    tw.http = pa_http_new(pa_worker_loop(w), &hc, err, sizeof err);
    if (!tw.http) {
        pa_error("cannot make the HTTP engine", PA_S("error", err));
        return -1;
    }
    set_counts(w);
    tw.status_timer = pa_loop_timer(pa_worker_loop(w), 50, 50, on_status_timer, w);
    return 0;
}

static void on_stop(pa_worker_t *w, void *ud)
{
    (void)ud;
    pa_loop_timer_stop(pa_worker_loop(w), &tw.status_timer);
    pa_http_destroy(&tw.http); /* transfers of tasks still held stop without their callbacks */
    pa_info("test worker stopping", PA_S("worker", pa_worker_id(w)),
            PA_I("held", pa_worker_held(w)), PA_I("started", tw.started),
            PA_I("cancelled", tw.cancelled));
}

int main(void)
{
    pa_mem_install_hooks(); /* out of memory aborts in jansson and hiredis too */
    char err[256];
    pa_log_level_t lvl = PA_LOG_INFO;
    pa_log_parse_level(pa_env_str("LOG_LEVEL", "info"), &lvl);
    const char *svc = pa_env_str("TEST_WORKER_SERVICE", "form");
    pa_log_init("test-worker", lvl, 2);
    if (strcmp(svc, "mcp") && strcmp(svc, "llm") && strcmp(svc, "form")) {
        pa_error("bad configuration",
                 PA_S("error", "TEST_WORKER_SERVICE: expected mcp, llm or form"));
        return 2;
    }
    if (pa_env_long("TEST_WORKER_DELAY_MS", 0, 0, 3600000, &tw.delay_ms, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    pa_worker_ops_t ops = {.service = svc,
                           .on_start = on_start,
                           .on_task = on_task,
                           .on_cancel = on_cancel,
                           .on_stop = on_stop,
                           .ud = &tw};
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pa_error("cannot initialise libcurl", PA_S("error", "curl_global_init failed"));
        return 1;
    }
    pa_worker_t *w = pa_worker_new(&ops, err, sizeof err);
    if (!w) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    int rc = pa_worker_run(w);
    pa_worker_destroy(&w);
    curl_global_cleanup();
    return rc;
}
