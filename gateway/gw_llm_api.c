/* POST /api/llm/generate: one prompt to the llm service, answered on the open request.
 *
 * The call is a one-task job (stage "generate", not listed in /api/jobs) so that it gets the
 * job engine's leases, retries and crash safety. The request is suspended (no thread waits)
 * until the job's final event, and answered from the task's result. The prompt is a template:
 * the worker renders it with the call's variables (with LLM_PROVIDER=template the rendered
 * prompt is the answer, provider "template"). */
#include "gw_llm_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_llm_outcome.h"
#include "gw_llm_stream.h"
#include "gw_valid.h"
#include "gw_workers.h"
#include "pa_id.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_time.h"

#define MAX_PROMPT_CHARS 100000

/* The call as the client wrote it (borrowed from the parsed body). */
typedef struct {
    const char *prompt;
    const json_t *params;    /* NULL: the provider's defaults */
    const json_t *variables; /* NULL: none */
    int stream;
} generate_in_t;

/* A request waiting for its job's end (r->ctx). */
typedef struct {
    gw_events_t *events;
    gw_waiter_t *waiter;
    char job[72];
} generate_wait_t;

static int parse(gw_req_t *r, const json_t *body, generate_in_t *in)
{
    static const char *const fields[] = {"prompt", "params", "variables", "stream", NULL};
    gw_valid_t v = GW_VALID(r);
    memset(in, 0, sizeof *in);
    gw_valid_object(&v, body, NULL, "a JSON object {prompt, params?, variables?, stream?}");
    gw_valid_only(&v, body, "", fields);
    in->prompt = gw_valid_str(&v, body, "prompt", "prompt", 1, MAX_PROMPT_CHARS);
    in->params = json_object_get(body, "params");
    if (in->params) gw_valid_llm_params(&v, in->params, "params");
    in->variables = json_object_get(body, "variables");
    if (in->variables) gw_valid_variables(&v, in->variables, "variables");
    in->stream = gw_valid_bool(&v, body, "stream", "stream", 0);
    return v.failed ? -1 : 0;
}

/* Answers 503 unless an llm worker can take the call now; 0 when one can. */
static int check_ready(gw_t *gw, gw_req_t *r, const generate_in_t *in)
{
    if (in->stream && !gw->streams) {
        gw_problem(r, 503, "unavailable", NULL,
                   "streamed answers are not available on this gateway");
        return -1;
    }
    long retry_after;
    char ra[24];
    switch (gw_workers_llm_ready(gw, &retry_after)) {
    case -1: gw_unavailable(r); return -1;
    case 0:
        gw_problem(r, 503, "no-llm-worker", NULL,
                   "no llm-worker is connected; start prospect-llm-worker");
        gw_header(r, "Retry-After", "5");
        return -1;
    case 2:
        gw_problem(r, 503, "llm-unavailable", NULL,
                   "the llm provider is unavailable: circuit breaker open on every llm worker");
        snprintf(ra, sizeof ra, "%ld", retry_after);
        gw_header(r, "Retry-After", ra);
        return -1;
    default: return 0;
    }
}

/* The task's input ({prompt, params?, variables?, stream?}) and the job's context. */
static void encode(const generate_in_t *in, char **input, char **ctx)
{
    json_t *i = json_pack("{s:s, s:O*, s:O*}", "prompt", in->prompt, "params", in->params,
                          "variables", in->variables);
    if (in->stream) json_object_set_new(i, "stream", json_true());
    *input = json_dumps(i, JSON_COMPACT);
    json_decref(i);
    json_t *c = json_pack("{s:{s:O*}}", "options", "params", in->params);
    *ctx = json_dumps(c, JSON_COMPACT);
    json_decref(c);
}

/* Runs create.lua for a one-task generate job (unlisted, with the generate rate limit of the API
 * key). 0 with out filled, -1 when Redis failed (logged). */
static int create_job(gw_t *gw, gw_req_t *r, const char *jid, const char *input, const char *ctx,
                      pa_jobs_create_out_t *out)
{
    static const char *const target = "llm:generate";
    char bkey[PA_KEY_MAX];
    pa_jobs_create_in_t in = {
        .prefix = gw->cfg.prefix,
        .job = jid,
        .idem_ttl_s = 60,
        .max_queued = gw->cfg.max_queued,
        .ctx = ctx,
        .stages = "generate",
        /* MAX_ATTEMPTS_COMPOSE, the run's llm stage's (an API call has no setting of its own) */
        .max_attempts = {[PA_STAGE_generate] = gw->cfg.max_attempts[PA_STAGE_compose]},
        .retention_s = 3600,
        .unlisted = true,
        .n = 1,
        .targets = &target,
        .inputs = &input,
        .rate_key = pa_key_rate(bkey, gw->cfg.prefix, "gen", gw_key_index(r)),
        .rate_per_ms = (double)gw->cfg.generate_rate_per_min / 60000.0,
        .burst = gw->cfg.generate_rate_per_min / 6 + 1};
    char err[256];
    if (pa_jobs_create_call(gw_redis(gw), &in, out, err, sizeof err) == 0) return 0;
    if (pa_redis_connected(gw_redis(gw))) pa_error("generate failed", PA_S("error", err));
    return -1;
}

static void wait_free(void *ctx)
{
    generate_wait_t *w = ctx;
    gw_events_unwait(w->events, &w->waiter);
    free(w);
}

/* The suspended request is resumed: the job ended, or the deadline passed. */
static void generate_done(gw_t *gw, gw_req_t *r)
{
    generate_wait_t *w = r->ctx;
    int timed_out = w->waiter && gw_waiter_timed_out(w->waiter);
    gw_events_unwait(gw->events, &w->waiter);
    int status;
    long retry_after;
    char *body =
        gw_generate_outcome(gw, w->job, timed_out, r->path, r->request_id, &status, &retry_after);
    gw_reply(r, status, status == 200 ? "application/json" : "application/problem+json", body,
             strlen(body));
    if (status == 503) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", retry_after);
        gw_header(r, "Retry-After", ra);
    }
}

/* 1 when the job is over (completed or cancelled). */
static int job_over(gw_t *gw, const char *jid)
{
    char jk[PA_KEY_MAX];
    redisReply *st =
        pa_redis_cmd(gw_redis(gw), "HGET %s status", pa_key_job(jk, gw->cfg.prefix, jid));
    int over = st && st->type == REDIS_REPLY_STRING &&
               (strcmp(st->str, "completed") == 0 || strcmp(st->str, "cancelled") == 0);
    if (st) freeReplyObject(st);
    return over;
}

/* The job exists: answer now with a stream (st), or suspend until its end. */
static void await_job(gw_t *gw, gw_req_t *r, const char *jid, gw_stream_t **st)
{
    if (gw->dispatch) gw_dispatch_wake(gw->dispatch);
    uint64_t deadline = pa_mono_ms() + (uint64_t)gw->cfg.generate_timeout_ms;
    gw_waiter_t *waiter;
    if (*st) { /* answered now: 200 text/event-stream, the end comes as an event */
        waiter = gw_stream_respond(*st, r, deadline);
        *st = NULL;
    } else { /* answered when resumed */
        generate_wait_t *w = pa_calloc(1, sizeof *w);
        w->events = gw->events;
        snprintf(w->job, sizeof w->job, "%s", jid);
        r->ctx = w;
        r->ctx_free = wait_free;
        r->cont = generate_done;
        waiter = w->waiter = gw_events_wait_job(gw->events, r, jid, deadline);
    }
    if (job_over(gw, jid)) gw_events_poke(gw->events, waiter); /* ended before the wait began */
}

void gw_h_llm_generate(gw_t *gw, gw_req_t *r)
{
    json_t *body = gw_json_body(r);
    if (!body) return;
    generate_in_t in;
    char *input = NULL, *ctx = NULL;
    gw_stream_t *st = NULL;
    if (parse(r, body, &in) < 0 || check_ready(gw, r, &in) < 0) goto done;
    encode(&in, &input, &ctx);
    char jid[PA_ID_LEN + 3] = "j-";
    pa_id_new(jid + 2);
    /* a stream is listening before the job exists, so that its first deltas are not missed */
    if (in.stream) st = gw_stream_open(gw->streams, r, jid);
    pa_jobs_create_out_t out;
    if (create_job(gw, r, jid, input, ctx, &out) < 0) {
        gw_unavailable(r);
        goto done;
    }
    if (out.status == PA_JOBS_LIMITED) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (out.wait_ms + 999) / 1000);
        gw_problem(r, 429, "rate-limited", NULL,
                   "too many generate calls; at most %ld per minute (LLM_GENERATE_RATE_PER_MIN)",
                   gw->cfg.generate_rate_per_min);
        gw_header(r, "Retry-After", ra);
    } else if (out.status != PA_JOBS_CREATED) {
        gw_problem(r, 503, "queue-full", NULL, "the llm queue is full (MAX_QUEUED_TASKS)");
        gw_header(r, "Retry-After", "5");
    } else {
        await_job(gw, r, jid, &st);
    }
    pa_jobs_leases_free(&out.leased);
done:
    if (st) gw_stream_close(gw->streams, &st);
    free(input);
    free(ctx);
    json_decref(body);
}
