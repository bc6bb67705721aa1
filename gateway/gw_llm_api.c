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

#include "gw_call.h"
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

/* The suspended request is resumed: the job ended, or the deadline passed. */
static void generate_done(gw_t *gw, gw_req_t *r, const char *job, int timed_out)
{
    int status;
    long retry_after;
    char *body =
        gw_generate_outcome(gw, job, timed_out, r->path, r->request_id, &status, &retry_after);
    gw_reply(r, status, status == 200 ? "application/json" : "application/problem+json", body,
             strlen(body));
    if (status == 503) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", retry_after);
        gw_header(r, "Retry-After", ra);
    }
}

/* The job exists: answer now with a stream (st), or suspend until its end. */
static void await_job(gw_t *gw, gw_req_t *r, const char *jid, gw_stream_t **st)
{
    uint64_t deadline = pa_mono_ms() + (uint64_t)gw->cfg.generate_timeout_ms;
    if (!*st) { /* answered when resumed */
        gw_call_await(gw, r, jid, deadline, generate_done);
        return;
    }
    /* answered now: 200 text/event-stream, the end comes as an event */
    if (gw->dispatch) gw_dispatch_wake(gw->dispatch);
    gw_waiter_t *waiter = gw_stream_respond(*st, r, deadline);
    *st = NULL;
    gw_call_poke_if_over(gw, jid, waiter);
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
    const gw_call_t call = {.stage = "generate",
                            /* MAX_ATTEMPTS_COMPOSE, the run's llm stage's (an API call has no
                             * setting of its own) */
                            .max_attempts = gw->cfg.max_attempts[PA_STAGE_compose],
                            .target = "llm:generate",
                            .ctx = ctx,
                            .rate = "gen",
                            .rate_per_min = gw->cfg.generate_rate_per_min};
    if (gw_call_create(gw, r, &call, jid, input, &out) < 0) {
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
