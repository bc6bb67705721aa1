/* POST /api/llm/generate: one prompt to the llm service, answered on the open request.
 *
 * The call is a one-task job (stage "generate", not listed in /api/jobs) so that it gets the
 * job engine's leases, retries and crash safety. The request is suspended (no thread waits)
 * until the job's final event, and answered from the task's result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "pa_id.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_time.h"
#include "pa_utf8.h"

#define MAX_PROMPT_CHARS 100000

/* 1 when some gateway has a live llm worker (pa:workers), 0 when none, -1 when Redis is away. */
static int llm_worker_alive(gw_t *gw)
{
    json_t *list = gw_live_workers(gw);
    if (!list) return -1;
    int alive = 0;
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        const char *svc = json_string_value(json_object_get(w, "service"));
        alive |= svc && strcmp(svc, "llm") == 0;
    }
    json_decref(list);
    return alive;
}

char *gw_generate_outcome(gw_t *gw, const char *job, int timed_out, const char *instance,
                          const char *request_id, int *status, long *retry_after_s)
{
    *retry_after_s = 1;
    redisReply *t = pa_redis_cmd(gw_redis(gw), "HMGET %stask:%s:000001 state result_generate error",
                                 gw->cfg.prefix, job);
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 3) {
        if (t) freeReplyObject(t);
        *status = 503;
        return gw_problem_doc(503, "unavailable", NULL,
                              "the data store (Redis) is unreachable; try again", instance,
                              request_id, NULL);
    }
    const char *state = t->element[0]->str, *result = t->element[1]->str, *error = t->element[2]->str;
    char detail[1200];
    char *body;
    json_t *failure =
        state && strcmp(state, "failed") == 0 && result ? json_loads(result, 0, NULL) : NULL;
    const char *why = json_string_value(json_object_get(failure, "error"));
    if (state && strcmp(state, "succeeded") == 0 && result) {
        *status = 200;
        body = pa_strdup(result);
    } else if (why && strcmp(why, "circuit_open") == 0) {
        /* the worker's circuit breaker is open: it did not call the provider */
        json_int_t ms = json_integer_value(json_object_get(failure, "retry_after_ms"));
        *retry_after_s = ms > 0 ? (long)((ms + 999) / 1000) : 1;
        *status = 503;
        snprintf(detail, sizeof detail, "the llm provider is unavailable: %s",
                 error && *error ? error : "circuit breaker open");
        body = gw_problem_doc(503, "llm-unavailable", NULL, detail, instance, request_id, NULL);
    } else if (timed_out) {
        char iso[25];
        pa_time_rfc3339(pa_wall_ms(), iso);
        const char *argv[] = {gw->cfg.prefix, job, iso};
        redisReply *c = pa_redis_eval(gw_redis(gw), &pa_jobs_cancel, 0, 3, argv, NULL);
        if (c) freeReplyObject(c);
        *status = 504;
        snprintf(detail, sizeof detail,
                 "no answer from the llm service within %ld ms (LLM_GENERATE_TIMEOUT_MS)",
                 gw->cfg.generate_timeout_ms);
        body = gw_problem_doc(504, "llm-timeout", NULL, detail, instance, request_id, NULL);
    } else {
        *status = 502;
        snprintf(detail, sizeof detail, "the llm service failed: %s",
                 error && *error ? error : (state ? state : "no result"));
        body = gw_problem_doc(502, "llm-failed", NULL, detail, instance, request_id, NULL);
    }
    pa_info("generate answered", PA_S("request_id", request_id), PA_S("job_id", job),
            PA_S("state", state), PA_B("timed_out", timed_out));
    json_decref(failure);
    freeReplyObject(t);
    return body;
}

static void generate_done(gw_t *gw, gw_req_t *r)
{
    int timed_out = r->waiter && gw_waiter_timed_out(r->waiter);
    gw_events_unwait(gw->events, &r->waiter);
    int status;
    long retry_after;
    char *body =
        gw_generate_outcome(gw, r->job, timed_out, r->path, r->request_id, &status, &retry_after);
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
    redisReply *st = pa_redis_cmd(gw_redis(gw), "HGET %sjob:%s status", gw->cfg.prefix, jid);
    int over = st && st->type == REDIS_REPLY_STRING &&
               (strcmp(st->str, "completed") == 0 || strcmp(st->str, "cancelled") == 0);
    if (st) freeReplyObject(st);
    return over;
}

void gw_h_llm_generate(gw_t *gw, gw_req_t *r)
{
    json_t *body = gw_json_body(r);
    if (!body) return;
    char *input = NULL, *ctxs = NULL, *meta = NULL;
    gw_stream_t *st = NULL;
    if (!json_is_object(body)) {
        gw_problem(r, 400, "invalid-field", NULL, "expected a JSON object {prompt, params?}");
        goto done;
    }
    const char *k;
    json_t *x;
    json_object_foreach(body, k, x) {
        if (strcmp(k, "prompt") && strcmp(k, "params") && strcmp(k, "stream")) {
            gw_problem(r, 400, "invalid-field", k, "%.64s: unknown field", k);
            goto done;
        }
    }
    json_t *prompt = json_object_get(body, "prompt"), *params = json_object_get(body, "params");
    size_t cps = json_is_string(prompt) && pa_utf8_valid(json_string_value(prompt), json_string_length(prompt))
                     ? pa_utf8_len(json_string_value(prompt), json_string_length(prompt))
                     : 0;
    if (cps < 1 || cps > MAX_PROMPT_CHARS) {
        gw_problem(r, 400, "invalid-field", "prompt",
                   "prompt: must be a string of 1 to %d characters", MAX_PROMPT_CHARS);
        goto done;
    }
    if (params && gw_check_llm_params(r, params, "params") < 0) goto done;
    json_t *stream = json_object_get(body, "stream");
    if (stream && !json_is_boolean(stream)) {
        gw_problem(r, 400, "invalid-field", "stream", "stream: must be true or false");
        goto done;
    }
    int streaming = json_is_true(stream);
    if (streaming && !gw->streams) {
        gw_problem(r, 503, "unavailable", NULL, "streamed answers are not available on this gateway");
        goto done;
    }
    int alive = llm_worker_alive(gw);
    if (alive < 0) {
        gw_unavailable(r);
        goto done;
    }
    if (!alive) {
        gw_problem(r, 503, "no-llm-worker", NULL, "no llm-worker is connected; start prospect-llm-worker");
        gw_header(r, "Retry-After", "5");
        goto done;
    }
    json_t *in = json_pack("{s:O, s:O*}", "prompt", prompt, "params", params);
    if (streaming) json_object_set_new(in, "stream", json_true());
    input = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    json_t *ctx = json_pack("{s:{s:O*}}", "options", "params", params);
    ctxs = json_dumps(ctx, JSON_COMPACT);
    json_decref(ctx);
    char maxa[64];
    snprintf(maxa, sizeof maxa, "{\"generate\":%ld}", gw->cfg.max_attempts[1]);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}", "campaign_id", "", "ctx", ctxs,
                          "stages", "generate", "max_attempts", maxa, "retention_s", 3600,
                          "listed", 0);
    meta = json_dumps(m, JSON_COMPACT);
    json_decref(m);

    char jid[PA_ID_LEN + 3] = "j-", now[24], iso[25], bound[24], bkey[96], rate[32], burst[24];
    pa_id_new(jid + 2);
    snprintf(now, sizeof now, "%llu", (unsigned long long)pa_wall_ms());
    pa_time_rfc3339(pa_wall_ms(), iso);
    snprintf(bound, sizeof bound, "%ld", gw->cfg.max_queued);
    int ki = gw_key_index(r);
    if (ki >= 0) snprintf(bkey, sizeof bkey, "%srl:gen:key%d", gw->cfg.prefix, ki);
    else snprintf(bkey, sizeof bkey, "%srl:gen:anonymous", gw->cfg.prefix);
    snprintf(rate, sizeof rate, "%.9f", (double)gw->cfg.generate_rate_per_min / 60000.0);
    snprintf(burst, sizeof burst, "%ld", gw->cfg.generate_rate_per_min / 6 + 1);
    const char *argv[] = {gw->cfg.prefix, jid, now, iso, "", "60", bound, meta, "1",
                          bkey, rate, burst, "llm:generate", input};
    /* a stream is listening before the job exists, so that its first deltas are not missed */
    if (streaming) st = gw_stream_open(gw->streams, r, jid);
    redisReply *rep = pa_redis_eval(gw_redis(gw), &pa_jobs_create, 0, 14, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        if (rep && rep->type == REDIS_REPLY_ERROR) pa_error("generate failed", PA_S("error", rep->str));
        if (rep) freeReplyObject(rep);
        gw_unavailable(r);
        goto done;
    }
    const char *what = rep->element[0]->str;
    if (strcmp(what, "limited") == 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (atoll(rep->element[1]->str) + 999) / 1000);
        gw_problem(r, 429, "rate-limited", NULL, "too many generate calls; at most %ld per minute (LLM_GENERATE_RATE_PER_MIN)",
                   gw->cfg.generate_rate_per_min);
        gw_header(r, "Retry-After", ra);
    } else if (strcmp(what, "created") != 0) {
        gw_problem(r, 503, "queue-full", NULL, "the llm queue is full (MAX_QUEUED_TASKS)");
        gw_header(r, "Retry-After", "5");
    } else {
        if (gw->dispatch) gw_dispatch_wake(gw->dispatch);
        uint64_t deadline = pa_mono_ms() + (uint64_t)gw->cfg.generate_timeout_ms;
        gw_waiter_t *w;
        if (streaming) { /* answered now: 200 text/event-stream, the end comes as an event */
            w = gw_stream_respond(st, r, deadline);
            st = NULL;
        } else { /* answered when resumed */
            snprintf(r->job, sizeof r->job, "%s", jid);
            r->cont = generate_done;
            w = r->waiter = gw_events_wait_job(gw->events, r, jid, deadline);
        }
        if (job_over(gw, jid)) gw_events_poke(gw->events, w); /* ended before the wait began */
    }
    freeReplyObject(rep);
done:
    if (st) gw_stream_close(gw->streams, &st);
    free(input);
    free(ctxs);
    free(meta);
    json_decref(body);
}
