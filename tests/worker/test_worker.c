/* prospect-test-worker: a worker daemon for tests and benchmarks, built on the real worker
 * runtime. It serves one service (TEST_WORKER_SERVICE: mcp, llm or form) and does what each
 * task's input asks in variables.test_<stage> (or variables.test): ok (the default), fail,
 * retry, retry_once, stall, crash, captcha, skip, uncertain, or slow:<ms>; TEST_WORKER_MODE sets
 * the mode of tasks that do not say. TEST_WORKER_DELAY_MS delays every task. For the stage
 * "generate" (POST /api/llm/generate) the result echoes the prompt as the llm-worker would. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pa_config.h"
#include "pa_mem.h"
#include "pa_log.h"
#include "pa_time.h"
#include "pa_worker.h"

typedef struct timer {
    uint64_t due;
    pa_task_t *t;
    char mode[32];
    struct timer *next;
} timer_t_;

typedef struct {
    long delay_ms;
    timer_t_ *timers;
} tw_t;

static void finish_with(pa_worker_t *w, pa_task_t *t, const char *mode, const char *result);

/* The result of a stage: for "generate" (POST /api/llm/generate) an answer shaped like the
 * llm-worker's, echoing the prompt; for the others, who ran it. Caller frees. */
static char *result_of(pa_worker_t *w, pa_task_t *t)
{
    json_t *r;
    if (strcmp(t->stage, "generate") == 0) {
        json_t *j = json_loadb(t->payload, t->payload_len, 0, NULL);
        const char *prompt = json_string_value(json_object_get(json_object_get(j, "input"), "prompt"));
        char *out = NULL;
        if (asprintf(&out, "test: %s", prompt ? prompt : "") < 0) out = NULL;
        r = json_pack("{s:s, s:s, s:s, s:{s:i, s:i}}", "output", out ? out : "", "provider", "test",
                      "model", "prospect-test-worker", "usage", "prompt_tokens",
                      (int)(prompt ? strlen(prompt) : 0), "completion_tokens", 1);
        free(out);
        json_decref(j);
    } else {
        r = json_pack("{s:s, s:s, s:i}", "worker", pa_worker_id(w), "stage", t->stage, "attempt",
                      (int)t->attempt);
    }
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

static void finish(pa_worker_t *w, pa_task_t *t, const char *mode)
{
    char *result = result_of(w, t);
    finish_with(w, t, mode, result);
    free(result);
}

static void finish_with(pa_worker_t *w, pa_task_t *t, const char *mode, const char *result)
{
    if (strcmp(mode, "fail") == 0) pa_worker_done(w, t, PA_OUT_FAILED, NULL, "test: permanent failure", 0);
    else if (strcmp(mode, "retry") == 0) pa_worker_done(w, t, PA_OUT_RETRY, NULL, "test: transient failure", 0);
    else if (strcmp(mode, "retry_once") == 0 && t->attempt == 1)
        pa_worker_done(w, t, PA_OUT_RETRY, NULL, "test: transient failure", 0);
    else if (strcmp(mode, "captcha") == 0) pa_worker_done(w, t, PA_OUT_CAPTCHA_REQUIRED, result, "test: captcha", 0);
    else if (strcmp(mode, "skip") == 0) pa_worker_done(w, t, PA_OUT_SKIPPED, result, "test: skipped", 0);
    else if (strcmp(mode, "uncertain") == 0) pa_worker_done(w, t, PA_OUT_UNCERTAIN, result, "test: uncertain", 0);
    else pa_worker_done(w, t, PA_OUT_SUCCEEDED, result, NULL, 0);
}

static void mode_of(const pa_task_t *t, char mode[32], long *slow_ms)
{
    snprintf(mode, 32, "%s", pa_env_str("TEST_WORKER_MODE", "ok"));
    *slow_ms = 0;
    json_t *j = json_loadb(t->payload, t->payload_len, 0, NULL);
    json_t *vars = json_object_get(json_object_get(j, "input"), "variables");
    char key[40];
    snprintf(key, sizeof key, "test_%s", t->stage);
    json_t *m = json_object_get(vars, key);
    if (!json_is_string(m)) m = json_object_get(vars, "test");
    if (json_is_string(m)) snprintf(mode, 32, "%s", json_string_value(m));
    if (strncmp(mode, "slow:", 5) == 0) {
        *slow_ms = atol(mode + 5);
        snprintf(mode, 32, "ok");
    }
    json_decref(j);
}

static void on_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    tw_t *tw = ud;
    char mode[32];
    long slow;
    mode_of(t, mode, &slow);
    if (strcmp(mode, "crash") == 0) {
        pa_warn("crashing on request", PA_S("task_id", t->key));
        raise(SIGKILL);
    }
    if (strcmp(mode, "stall") == 0) return; /* held until the lease runs out or we stop */
    long delay = slow + tw->delay_ms;
    if (delay <= 0) {
        finish(w, t, mode);
        return;
    }
    timer_t_ *tm = pa_calloc(1, sizeof *tm);
    tm->due = pa_mono_ms() + (uint64_t)delay;
    tm->t = t;
    snprintf(tm->mode, sizeof tm->mode, "%s", mode);
    tm->next = tw->timers;
    tw->timers = tm;
}

static long on_tick(pa_worker_t *w, void *ud)
{
    tw_t *tw = ud;
    uint64_t now = pa_mono_ms();
    long next = -1;
    for (timer_t_ **pp = &tw->timers; *pp;) {
        timer_t_ *tm = *pp;
        if (tm->due <= now) {
            finish(w, tm->t, tm->mode);
            *pp = tm->next;
            free(tm);
            continue;
        }
        long left = (long)(tm->due - now);
        if (next < 0 || left < next) next = left;
        pp = &tm->next;
    }
    return next;
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
        pa_error("bad configuration", PA_S("error", "TEST_WORKER_SERVICE: expected mcp, llm or form"));
        return 2;
    }
    tw_t tw = {0};
    if (pa_env_long("TEST_WORKER_DELAY_MS", 0, 0, 3600000, &tw.delay_ms, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    pa_worker_ops_t ops = {.service = svc, .on_task = on_task, .on_tick = on_tick, .ud = &tw};
    pa_worker_t *w = pa_worker_new(&ops, err, sizeof err);
    if (!w) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    int rc = pa_worker_run(w);
    while (tw.timers) {
        timer_t_ *n = tw.timers->next;
        free(tw.timers);
        tw.timers = n;
    }
    pa_worker_destroy(&w);
    return rc;
}
