/* Job-engine test fixture, on top of harness.h: prospect-test-worker processes started and
 * stopped by PID, direct Redis reads (hiredis), the events stream, job helpers over HTTP, an SSE
 * client on libcurl and prospectctl runs. Header-only (static functions) because the harness is
 * owned elsewhere; included by test_jobs_*.c.
 *
 *   TestSuite(jobs, .fini = jf_cleanup, .timeout = 60);
 *   hr_redis_t *rd = hr_redis_start(NULL);
 *   hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
 *   jf_worker_t *w = jf_worker_start(rd, "form", "form-1", jf_endpoint(g), NULL);
 *
 * jf_cleanup() SIGKILLs every worker still running (by PID), reports sanitizer errors found in
 * the workers' output, then calls hr_cleanup() (gateways and Redis). Every wait is bounded. */
#ifndef PA_TESTS_JOBS_FIXTURE_H
#define PA_TESTS_JOBS_FIXTURE_H

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../unit/redis_fixture.h"
#include "harness.h"
#include "pa_events.h"
#include "pa_jobs.h"

#define JF_WORKER_BIN PA_BIN_DIR "/prospect-test-worker"
#define JF_CTL_BIN PA_BIN_DIR "/prospectctl"
#define JF_RUN "/api/automation/contact-forms/run"
#define JF_MAX_WORKERS 16
#define JF_FN static __attribute__((unused))

extern char **environ;

/* ---- temporary directory for worker logs --------------------------------------------------- */

static char jf_dir[PATH_MAX];

JF_FN const char *jf_tmpdir(void)
{
    if (!jf_dir[0]) {
        snprintf(jf_dir, sizeof jf_dir, "%s/pa-jobs-XXXXXX", rf_tmpdir());
        if (!mkdtemp(jf_dir)) {
            jf_dir[0] = '\0';
            cr_assert_fail("mkdtemp: %s", strerror(errno));
        }
    }
    return jf_dir;
}

/* ---- workers ------------------------------------------------------------------------------- */

typedef struct {
    pid_t pid; /* 0 once reaped */
    int exited, status;
    char id[65];
    char service[8];
    char log_path[PATH_MAX + 32];
} jf_worker_t;

static jf_worker_t *jf_workers[JF_MAX_WORKERS];
static int jf_nworkers;

/* "tcp://127.0.0.1:<dispatch port>" of a gateway the harness started. */
JF_FN const char *jf_endpoint(const hr_gateway_t *g)
{
    cr_assert_gt(g->dispatch_port, 0, "the gateway has no known dispatch port");
    return hr_fmt("tcp://127.0.0.1:%d", g->dispatch_port);
}

JF_FN void jf_envset(char **v, size_t *n, size_t cap, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < *n; i++)
        if (strncmp(v[i], kv, kl) == 0 && v[i][kl] == '=') {
            v[i] = (char *)kv;
            return;
        }
    cr_assert_lt(*n + 1, cap, "too many environment variables");
    v[(*n)++] = (char *)kv;
    v[*n] = NULL;
}

/* Starts prospect-test-worker for service ("mcp", "llm", "form") with WORKER_ID=id, REDIS_URL of
 * rd, GATEWAY_ENDPOINTS=endpoints, HEARTBEAT_MS=200, RETRY_BASE_MS=50, RETRY_CAP_MS=200,
 * LOG_LEVEL=info; env ("NAME=value", NULL-terminated, may be NULL) adds or overrides. Waits until
 * the process runs (not until it is connected: see jf_wait_workers). */
JF_FN jf_worker_t *jf_worker_start(hr_redis_t *rd, const char *service, const char *id,
                                   const char *endpoints, const char *const *env)
{
    cr_assert_lt(jf_nworkers, JF_MAX_WORKERS, "too many workers in one test");
    cr_assert(access(JF_WORKER_BIN, X_OK) == 0, "%s: %s", JF_WORKER_BIN, strerror(errno));
    jf_worker_t *w = calloc(1, sizeof *w);
    cr_assert(w);
    jf_workers[jf_nworkers++] = w;
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->service, sizeof w->service, "%s", service);
    snprintf(w->log_path, sizeof w->log_path, "%s/worker-%s-%d.log", jf_tmpdir(), id, jf_nworkers);
    char *v[64];
    size_t n = 0;
    v[0] = NULL;
    static const char *pass[] = {
        "PATH",          "HOME",         "TMPDIR",          "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS",
        "UBSAN_OPTIONS", "LSAN_OPTIONS", "LD_LIBRARY_PATH", NULL};
    for (int i = 0; pass[i]; i++)
        if (getenv(pass[i])) jf_envset(v, &n, 64, hr_fmt("%s=%s", pass[i], getenv(pass[i])));
    jf_envset(v, &n, 64, hr_fmt("TEST_WORKER_SERVICE=%s", service));
    jf_envset(v, &n, 64, hr_fmt("WORKER_ID=%s", id));
    jf_envset(v, &n, 64, hr_fmt("REDIS_URL=%s", hr_redis_url(rd, 0)));
    jf_envset(v, &n, 64, hr_fmt("GATEWAY_ENDPOINTS=%s", endpoints));
    jf_envset(v, &n, 64, "HEARTBEAT_MS=200");
    jf_envset(v, &n, 64, "RETRY_BASE_MS=50");
    jf_envset(v, &n, 64, "RETRY_CAP_MS=200");
    jf_envset(v, &n, 64, "LOG_LEVEL=info");
    for (size_t i = 0; env && env[i]; i++) jf_envset(v, &n, 64, env[i]);
    int out = open(w->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    cr_assert_geq(out, 0, "open %s: %s", w->log_path, strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        rf_child_prepare(parent, out);
        char *const argv[] = {(char *)JF_WORKER_BIN, NULL};
        execve(JF_WORKER_BIN, argv, v);
        _exit(127);
    }
    close(out);
    cr_assert_gt(pid, 0, "fork: %s", strerror(errno));
    w->pid = pid;
    return w;
}

/* 1 when the worker exited within timeout_ms (w->status set), 0 when it still runs. */
JF_FN int jf_worker_wait_exit(jf_worker_t *w, int timeout_ms)
{
    if (w->exited) return 1;
    int st;
    int rc = rf_wait_pid(w->pid, timeout_ms, &st);
    if (rc != 0) {
        w->exited = 1;
        w->status = rc == 1 ? st : -1;
        w->pid = 0;
        return 1;
    }
    return 0;
}

/* Sends sig to the worker (by PID) without waiting. */
JF_FN void jf_worker_signal(jf_worker_t *w, int sig)
{
    if (!w->exited && w->pid > 0) kill(w->pid, sig);
}

/* kill -9 and reap. */
JF_FN void jf_worker_kill9(jf_worker_t *w)
{
    if (!w->exited && w->pid > 0) {
        w->status = rf_stop_pid(w->pid, SIGKILL, 2000);
        w->exited = 1;
        w->pid = 0;
    }
}

JF_FN const char *jf_worker_output(const jf_worker_t *w)
{
    return hr_read_file(w->log_path);
}

/* The first sanitizer report in a process's output, or NULL. */
JF_FN const char *jf_sanitizer_report(const char *out)
{
    static const char *const markers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                          "runtime error:", NULL};
    for (int i = 0; markers[i]; i++) {
        const char *m = strstr(out, markers[i]);
        if (m) {
            while (m > out && m[-1] != '\n') m--;
            return m;
        }
    }
    return NULL;
}

/* Ends a test the way an operator stops the system: every worker still running gets SIGTERM
 * (SIGKILL after 5 s), then each gateway in gws (NULL-terminated) that still runs; asserts that
 * none of them reported a sanitizer error (a leak shows at exit). A failed assertion in .fini
 * does not fail a Criterion test, so tests call this at their end. */
JF_FN void jf_finish(hr_gateway_t *const *gws)
{
    for (int i = 0; i < jf_nworkers; i++) {
        jf_worker_t *w = jf_workers[i];
        if (!w->exited && w->pid > 0) {
            w->status = rf_stop_pid(w->pid, SIGTERM, 5000);
            w->exited = 1;
            w->pid = 0;
        }
        const char *m = jf_sanitizer_report(jf_worker_output(w));
        cr_assert(!m, "worker %s reported a sanitizer error:\n%.6000s", w->id, m ? m : "");
    }
    for (size_t i = 0; gws && gws[i]; i++) {
        hr_gateway_t *g = gws[i];
        if (!g->exited) hr_gateway_stop(g, SIGTERM, 8000);
        const char *m = jf_sanitizer_report(hr_gateway_output(g));
        cr_assert(!m, "the gateway on port %d reported a sanitizer error:\n%.6000s", g->port,
                  m ? m : "");
    }
}

JF_FN void jf_cleanup(void)
{
    for (int i = 0; i < jf_nworkers; i++) {
        jf_worker_t *w = jf_workers[i];
        jf_worker_kill9(w);
        const char *out = jf_worker_output(w);
        const char *m = jf_sanitizer_report(out);
        if (m) cr_expect_fail("worker %s reported a sanitizer error:\n%.4000s", w->id, m);
        if (getenv("PA_TEST_VERBOSE")) fprintf(stderr, "---- worker %s ----\n%s----\n", w->id, out);
        free(w);
    }
    jf_nworkers = 0;
    hr_cleanup();
    if (jf_dir[0] && !getenv("PA_KEEP_TMP")) rf_rm_rf(jf_dir);
    jf_dir[0] = '\0';
}

/* ---- Redis, read directly ------------------------------------------------------------------ */

JF_FN redisContext *jf_redis_connect(hr_redis_t *rd)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", hr_redis_port(rd), tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* One command; the reply is owned by the caller (NULL when Redis does not answer). */
JF_FN redisReply *jf_rcmd(hr_redis_t *rd, const char *fmt, ...)
{
    redisContext *c = jf_redis_connect(rd);
    if (!c) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

/* An integer reply (or a string holding one); def when absent, nil or unreachable. */
JF_FN long long jf_rint(hr_redis_t *rd, long long def, const char *fmt, ...)
{
    redisContext *c = jf_redis_connect(rd);
    if (!c) return def;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    long long v = def;
    if (r && r->type == REDIS_REPLY_INTEGER) v = r->integer;
    else if (r && r->type == REDIS_REPLY_STRING) v = atoll(r->str);
    if (r) freeReplyObject(r);
    return v;
}

/* How many tasks are leased to workers, all workers together (the job engine's own count). */
JF_FN long long jf_leased(hr_redis_t *rd)
{
    return jf_rint(rd, -1, "EVAL %s 0 pa:", pa_jobs_leased.src);
}

/* HGETALL as a JSON object of strings (harness-owned); empty when the key does not exist. */
JF_FN json_t *jf_hgetall(hr_redis_t *rd, const char *key)
{
    json_t *o = hr_jkeep(json_object());
    redisReply *r = jf_rcmd(rd, "HGETALL %s", key);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY, "HGETALL %s: redis did not answer", key);
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        json_object_set_new(o, r->element[i]->str, json_string(r->element[i + 1]->str));
    freeReplyObject(r);
    return o;
}

/* Waits (at most 10 s) until Redis answers PING with PONG: after a restart it answers LOADING
 * errors while it replays its AOF. */
JF_FN void jf_redis_wait_loaded(hr_redis_t *rd)
{
    uint64_t deadline = hr_now_ms() + 10000;
    for (;;) {
        redisReply *r = jf_rcmd(rd, "PING");
        int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r) freeReplyObject(r);
        if (ok) return;
        cr_assert_lt(hr_now_ms(), deadline, "redis on port %d is not ready 10 s after its start",
                     hr_redis_port(rd));
        hr_sleep_ms(20);
    }
}

/* Sets appendfsync always (the fixture starts Redis with everysec). */
JF_FN void jf_redis_fsync_always(hr_redis_t *rd)
{
    redisReply *r = jf_rcmd(rd, "CONFIG SET appendfsync always");
    cr_assert(r && r->type == REDIS_REPLY_STATUS, "CONFIG SET appendfsync always failed");
    freeReplyObject(r);
}

typedef struct {
    json_t *arr;
    const char *job, *id;
} jf_events_t;

static void jf_event_one(const pa_event_t *ev, void *ud)
{
    jf_events_t *x = ud;
    const char *job = pa_event_get(ev, "job");
    if (x->job && (!job || strcmp(job, x->job) != 0)) return;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(x->id));
    json_object_set_new(o, "ms", json_integer(strtoll(x->id, NULL, 10)));
    for (size_t k = 0; k < ev->n; k++) json_object_set_new(o, ev->k[k], json_string(ev->v[k]));
    json_array_append_new(x->arr, o);
}

/* The changes in pa:events of one job (all of them when job is NULL), oldest first, as a JSON
 * array of objects: "id" (the stream entry's id), "ms" (its time part), and every field (an
 * entry holding a batch of task changes gives one object per change). */
JF_FN json_t *jf_events(hr_redis_t *rd, const char *job)
{
    json_t *arr = hr_jkeep(json_array());
    redisReply *r = jf_rcmd(rd, "XRANGE pa:events - +");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY, "XRANGE pa:events: redis did not answer");
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        jf_events_t x = {arr, job, e->element[0]->str};
        cr_assert(pa_events_each(e->element[1], jf_event_one, &x) >= 0,
                  "a malformed entry in pa:events");
    }
    freeReplyObject(r);
    return arr;
}

/* How many events of job say task tid reached state. */
JF_FN int jf_count_events(const json_t *events, const char *tid, const char *state)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        const char *t = hr_jstr(e, "task"), *s = hr_jstr(e, "state");
        if (t && s && strcmp(t, tid) == 0 && strcmp(s, state) == 0) n++;
    }
    return n;
}

/* Wall-clock ms (comparable with stream ids, which Redis takes from the same clock). */
JF_FN uint64_t jf_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- jobs over HTTP ------------------------------------------------------------------------ */

/* POSTs a run, asserts 202, returns the job id (harness-owned). */
JF_FN const char *jf_run(const hr_gateway_t *g, const char *body)
{
    hr_resp_t *r = hr_post(g, JF_RUN, body);
    cr_assert_eq(r->status, 202, "POST %s %s: expected 202, got %s", JF_RUN, body, hr_describe(r));
    const char *id = hr_jstr(hr_json(r), "job_id");
    cr_assert(id && strncmp(id, "j-", 2) == 0, "202 without a job_id: %s", hr_describe(r));
    return id;
}

/* A run body: template "Hi", a sender, the given targets JSON array and options JSON object. */
JF_FN const char *jf_body(const char *targets, const char *options)
{
    return hr_fmt("{\"message_template\":\"Hi {{name}}\",\"sender\":{\"name\":\"S\","
                  "\"email\":\"s@x.example\"},\"targets\":%s%s%s}",
                  targets, options ? ",\"options\":" : "", options ? options : "");
}

/* n targets "t<i>.example" (i from 1), each with variables {"test": mode} when mode is given. */
JF_FN const char *jf_targets(int n, const char *prefix, const char *mode)
{
    size_t cap = (size_t)n * 96 + 16, len = 0;
    char *s = malloc(cap);
    cr_assert(s);
    len += (size_t)snprintf(s + len, cap - len, "[");
    for (int i = 1; i <= n; i++) {
        if (mode)
            len += (size_t)snprintf(s + len, cap - len,
                                    "%s{\"url\":\"%s%d.example\",\"variables\":{\"test\":\"%s\"}}",
                                    i > 1 ? "," : "", prefix, i, mode);
        else
            len += (size_t)snprintf(s + len, cap - len, "%s\"%s%d.example\"", i > 1 ? "," : "",
                                    prefix, i);
    }
    snprintf(s + len, cap - len, "]");
    const char *out = hr_fmt("%s", s);
    free(s);
    return out;
}

/* GET /api/jobs/{id}, asserting 200 (response-owned JSON). */
JF_FN json_t *jf_job(const hr_gateway_t *g, const char *jid)
{
    hr_resp_t *r = hr_get(g, hr_fmt("/api/jobs/%s", jid));
    cr_assert_eq(r->status, 200, "GET /api/jobs/%s: %s", jid, hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "GET /api/jobs/%s: %s", jid, hr_describe(r));
    return j;
}

JF_FN long long jf_count(const json_t *job, const char *state)
{
    return hr_jint(json_object_get(job, "counts"), state, -1);
}

/* Polls the job until its status is want ("completed", "cancelled"...) and, for a finished
 * status, "finished" is set; fails the test after timeout_ms with the last answer. */
JF_FN json_t *jf_wait_status(const hr_gateway_t *g, const char *jid, const char *want,
                             int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    json_t *j = NULL;
    const char *last = "(no answer)";
    for (;;) {
        hr_resp_t *r = hr_get(g, hr_fmt("/api/jobs/%s", jid));
        if (r->status == 200 && json_is_object(hr_json(r))) {
            j = hr_json(r);
            last = hr_describe(r);
            const char *st = hr_jstr(j, "status");
            int fin = !hr_jnull(j, "finished");
            if (st && strcmp(st, want) == 0 &&
                (fin || strcmp(want, "queued") == 0 || strcmp(want, "running") == 0))
                return j;
        } else {
            last = hr_describe(r);
        }
        cr_assert_lt(hr_now_ms(), deadline, "job %s is not %s after %d ms; last answer: %s", jid,
                     want, timeout_ms, last);
        hr_sleep_ms(50);
    }
}

/* Asserts the per-state counts are all >= 0 and add up to total. */
JF_FN void jf_assert_counts_add_up(const json_t *job)
{
    json_t *c = json_object_get(job, "counts");
    cr_assert(json_is_object(c), "no counts: %s", hr_jdump(job));
    long long sum = 0;
    const char *k;
    json_t *v;
    json_object_foreach(c, k, v) {
        cr_assert(json_is_integer(v) && json_integer_value(v) >= 0, "count %s is %s in %s", k,
                  hr_jdump(v), hr_jdump(job));
        sum += json_integer_value(v);
    }
    cr_assert_eq(sum, hr_jint(job, "total", -1), "counts add up to %lld, total is %lld: %s", sum,
                 hr_jint(job, "total", -1), hr_jdump(job));
}

/* Every task of a job (all pages of GET /api/jobs/{id}/tasks, optionally ?state=). */
JF_FN json_t *jf_tasks(const hr_gateway_t *g, const char *jid, const char *state)
{
    return hr_get_all_pages(
        g, hr_fmt("/api/jobs/%s/tasks%s%s", jid, state ? "?state=" : "", state ? state : ""), 0,
        NULL);
}

/* The task of a job whose target is url (NULL when there is none). */
JF_FN json_t *jf_task_by_target(const json_t *tasks, const char *url)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *tg = hr_jstr(t, "target");
        if (tg && strcmp(tg, url) == 0) return t;
    }
    return NULL;
}

/* Waits until GET /api/workers shows n workers of service (fails the test after timeout_ms). */
JF_FN void jf_wait_workers(const hr_gateway_t *g, const char *service, long long n, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    const char *last = "";
    for (;;) {
        hr_resp_t *r = hr_get(g, "/api/workers");
        last = hr_describe(r);
        json_t *s = json_object_get(json_object_get(hr_json(r), "services"), service);
        if (r->status == 200 && hr_jint(s, "workers", 0) == n) return;
        cr_assert_lt(hr_now_ms(), deadline,
                     "GET /api/workers does not show %lld %s workers within "
                     "%d ms: %s",
                     n, service, timeout_ms, last);
        hr_sleep_ms(50);
    }
}

/* Waits until Redis says worker wid holds at least n tasks; returns their keys (JSON array). */
JF_FN json_t *jf_wait_held(hr_redis_t *rd, const char *wid, size_t n, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        redisReply *r = jf_rcmd(rd, "ZRANGE pa:worker:%s:tasks 0 -1", wid);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= n) {
            json_t *a = hr_jkeep(json_array());
            for (size_t i = 0; i < r->elements; i++)
                json_array_append_new(a, json_string(r->element[i]->str));
            freeReplyObject(r);
            return a;
        }
        size_t have = r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        if (r) freeReplyObject(r);
        cr_assert_lt(hr_now_ms(), deadline, "worker %s holds %zu tasks, not %zu, after %d ms", wid,
                     have, n, timeout_ms);
        hr_sleep_ms(20);
    }
}

/* Waits until test worker wid has started n tasks in all (its status record's tasks_started,
 * published every 50 ms and with the heartbeats): the TASKs reached the worker. A lease alone
 * (jf_wait_held) is taken before the TASK is sent: a worker killed in between never got it, and
 * its task goes back uncounted. */
JF_FN void jf_wait_started(hr_redis_t *rd, const char *wid, long n, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        long long got = jf_rint(rd, -1, "HGET pa:worker:%s:status tasks_started", wid);
        if (got >= n) return;
        cr_assert_lt(hr_now_ms(), deadline, "worker %s started %lld tasks, not %ld, after %d ms",
                     wid, got, n, timeout_ms);
        hr_sleep_ms(20);
    }
}

/* ---- SSE ----------------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int ended;          /* "event: end" seen */
    atomic_int *opened; /* set to 1 once the first bytes arrived (may be NULL) */
} jf_sse_sink_t;

JF_FN size_t jf_sse_write(char *data, size_t size, size_t nmemb, void *ud)
{
    jf_sse_sink_t *s = ud;
    size_t n = size * nmemb;
    if (s->len + n + 1 > s->cap) {
        while (s->len + n + 1 > s->cap) s->cap = s->cap ? s->cap * 2 : 8192;
        s->buf = realloc(s->buf, s->cap);
        if (!s->buf) abort();
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    if (s->opened) atomic_store(s->opened, 1);
    if (strstr(s->buf, "event: end\n")) {
        s->ended = 1;
        /* keep reading until the server closes, unless the event is complete */
        const char *e = strstr(s->buf, "event: end\n");
        if (strstr(e, "\n\n")) return 0; /* stop: everything up to the end event is in */
    }
    return n;
}

typedef struct {
    long status;
    const char *content_type;
    json_t *events; /* [{id?, event, data (parsed JSON or string)}] */
    int ended;
    double seconds;
    const char *raw;
} jf_sse_t;

/* Opens GET /api/jobs/{id}/events (with Last-Event-ID when given) and reads events until the
 * "end" event or timeout_ms; parses them. */
JF_FN jf_sse_t jf_sse_ex(const hr_gateway_t *g, const char *jid, const char *last_event_id,
                         long timeout_ms, atomic_int *opened)
{
    jf_sse_t out = {0};
    jf_sse_sink_t sink = {0};
    sink.opened = opened;
    CURL *c = curl_easy_init();
    if (!c) abort();
    char ct[256] = "";
    curl_easy_setopt(c, CURLOPT_URL, hr_fmt("%s/api/jobs/%s/events", g->url, jid));
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, jf_sse_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    struct curl_slist *hl = curl_slist_append(NULL, "Accept: text/event-stream");
    if (last_event_id) hl = curl_slist_append(hl, hr_fmt("Last-Event-ID: %s", last_event_id));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    uint64_t t0 = hr_now_ms();
    curl_easy_perform(c);
    out.seconds = (double)(hr_now_ms() - t0) / 1000.0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    char *ctp = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctp);
    if (ctp) snprintf(ct, sizeof ct, "%s", ctp);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out.content_type = hr_fmt("%s", ct);
    out.raw = hr_fmt("%s", sink.buf ? sink.buf : "");
    out.ended = sink.ended;
    out.events = hr_jkeep(json_array());
    /* parse: blocks separated by blank lines; "id:", "event:", "data:" fields; ':' comments */
    const char *p = out.raw;
    json_t *cur = NULL;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == 0) {
            if (cur && json_object_get(cur, "event")) json_array_append(out.events, cur);
            json_decref(cur);
            cur = NULL;
        } else if (p[0] != ':') {
            const char *colon = memchr(p, ':', n);
            size_t kl = colon ? (size_t)(colon - p) : n;
            const char *v = colon ? colon + 1 : p + n;
            if (v < p + n && *v == ' ') v++;
            char *key = strndup(p, kl), *val = strndup(v, (size_t)(p + n - v));
            if (!cur) cur = json_object();
            if (strcmp(key, "data") == 0) {
                json_t *d = json_loads(val, JSON_DECODE_ANY, NULL);
                json_object_set_new(cur, "data", d ? d : json_string(val));
            } else if (strcmp(key, "id") == 0 || strcmp(key, "event") == 0) {
                json_object_set_new(cur, key, json_string(val));
            }
            free(key);
            free(val);
        }
        p += n;
        if (*p == '\n') p++;
    }
    /* the last block when the stream was cut after its final line */
    if (cur && json_object_get(cur, "event") && json_object_get(cur, "data"))
        json_array_append(out.events, cur);
    json_decref(cur);
    free(sink.buf);
    return out;
}

JF_FN jf_sse_t jf_sse(const hr_gateway_t *g, const char *jid, const char *last_event_id,
                      long timeout_ms)
{
    return jf_sse_ex(g, jid, last_event_id, timeout_ms, NULL);
}

/* An SSE stream read on a thread, so that the test can act while it is open. */
typedef struct {
    const hr_gateway_t *g;
    const char *jid, *last_event_id;
    long timeout_ms;
    atomic_int opened;
    jf_sse_t out;
    pthread_t th;
} jf_sse_bg_t;

JF_FN void *jf_sse_thread(void *p)
{
    jf_sse_bg_t *b = p;
    b->out = jf_sse_ex(b->g, b->jid, b->last_event_id, b->timeout_ms, &b->opened);
    return NULL;
}

/* Opens the stream on a thread and waits (at most 10 s) until its first bytes arrived. */
JF_FN jf_sse_bg_t *jf_sse_open(const hr_gateway_t *g, const char *jid, long timeout_ms)
{
    static jf_sse_bg_t b;
    memset(&b, 0, sizeof b);
    b.g = g, b.jid = jid, b.timeout_ms = timeout_ms;
    atomic_init(&b.opened, 0);
    cr_assert_eq(pthread_create(&b.th, NULL, jf_sse_thread, &b), 0);
    uint64_t deadline = hr_now_ms() + 10000;
    while (!atomic_load(&b.opened) && hr_now_ms() < deadline) hr_sleep_ms(10);
    if (!atomic_load(&b.opened)) {
        pthread_join(b.th, NULL);
        cr_assert_fail("the event stream of %s did not open within 10 s: %s", jid, b.out.raw);
    }
    return &b;
}

/* Waits for the stream to end (bounded by its timeout) and returns what it read. */
JF_FN jf_sse_t jf_sse_join(jf_sse_bg_t *b)
{
    pthread_join(b->th, NULL);
    return b->out;
}

/* Compares two stream ids "ms-seq": <0, 0, >0. */
JF_FN int jf_idcmp(const char *a, const char *b)
{
    /* "ms-seq" or "ms-seq.idx" (the idx-th change of a stream entry; "ms-seq" is the 0th) */
    unsigned long long am = 0, as = 0, ai = 0, bm = 0, bs = 0, bi = 0;
    sscanf(a, "%llu-%llu.%llu", &am, &as, &ai);
    sscanf(b, "%llu-%llu.%llu", &bm, &bs, &bi);
    if (am != bm) return am < bm ? -1 : 1;
    if (as != bs) return as < bs ? -1 : 1;
    if (ai != bi) return ai < bi ? -1 : 1;
    return 0;
}

/* ---- prospectctl --------------------------------------------------------------------------- */

/* Runs prospectctl with args (NULL-terminated) against rd; returns its stdout (harness-owned)
 * and sets *status to the exit code (128 + signal). Bounded to 15 s. */
JF_FN const char *jf_ctl(hr_redis_t *rd, const char *const *args, int *status)
{
    cr_assert(access(JF_CTL_BIN, X_OK) == 0, "%s: %s", JF_CTL_BIN, strerror(errno));
    const char *outp = hr_fmt("%s/ctl-%llu.out", jf_tmpdir(), (unsigned long long)hr_now_ms());
    const char *argv[32];
    int n = 0;
    argv[n++] = JF_CTL_BIN;
    argv[n++] = "--redis";
    argv[n++] = hr_redis_url(rd, 0);
    for (int i = 0; args[i] && n < 30; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(out, 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out, 1); /* before rf_child_prepare, which closes every fd above 2 */
        rf_child_prepare(parent, -1);
        execve(JF_CTL_BIN, (char *const *)argv, environ);
        _exit(127);
    }
    close(out);
    cr_assert_gt(pid, 0);
    int st = 0;
    int rc = rf_wait_pid(pid, 15000, &st);
    if (rc == 0) {
        st = rf_stop_pid(pid, SIGKILL, 1000);
        cr_assert_fail("prospectctl did not finish within 15 s");
    }
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return hr_read_file(outp);
}

#endif
