/* The answer of a generate call from its task; see gw_llm_outcome.h. */
#include "gw_llm_outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_dispatch.h"
#include "gw_http.h"
#include "pa_jobs.h"
#include "pa_log.h"

char *gw_generate_outcome(gw_t *gw, const char *job, int timed_out, const char *instance,
                          const char *request_id, int *status, long *retry_after_s)
{
    *retry_after_s = 1;
    char tk[PA_KEY_MAX];
    redisReply *t = pa_redis_cmd(gw_redis(gw), "HMGET %s state result_generate error",
                                 pa_key_task_n(tk, gw->cfg.prefix, job, 1));
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 3) {
        if (t) freeReplyObject(t);
        *status = 503;
        return gw_problem_doc(503, "unavailable", NULL,
                              "the data store (Redis) is unreachable; try again", instance,
                              request_id, NULL);
    }
    const char *state = t->element[0]->str, *result = t->element[1]->str,
               *error = t->element[2]->str;
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
        /* the call is given up: its task stops, and the worker running it hears so at once */
        pa_jobs_cancel_in_t in = {.prefix = gw->cfg.prefix, .job = job};
        pa_jobs_cancel_out_t out;
        char err[256];
        if (pa_jobs_cancel_call(gw_redis(gw), &in, &out, err, sizeof err) == 0) {
            gw_dispatch_cancel(gw->dispatch, job, out.workers, out.nworkers);
            pa_jobs_cancel_out_free(&out);
        } else if (pa_redis_connected(gw_redis(gw))) {
            pa_error("cancelling a timed-out generate call failed", PA_S("job_id", job),
                     PA_S("error", err));
        }
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
