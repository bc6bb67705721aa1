/* Fixture of the llm worker's integration tests (tests/integration/test_llm_*.c), on top of
 * tests/integration/harness.h: processes started with posix_spawn and stopped by their PID
 * (prospect-llm-worker, prospect-test-worker, the Node LLM test server), their logs, and job
 * helpers over HTTP. Header-only (static functions): only test_*.c files are compiled.
 *
 *   TestSuite(llm, .fini = lf_cleanup, .timeout = 120);
 *   hr_redis_t *rd = hr_redis_start(NULL);
 *   hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
 *   lf_proc_t *llm = lf_llm_worker(rd, gw, (const char *[]){"LLM_PROVIDER=template", NULL});
 *   ...
 *   lf_finish(); // SIGTERM to every process, asserts clean exits and no sanitizer report
 *
 * Children are spawned through setpriv --pdeathsig KILL when /usr/bin/setpriv exists, so that a
 * test killed by its timeout leaves nothing running; their output goes to files (never to the
 * test's pipes) and they inherit no descriptor but 0-2. lf_cleanup() SIGKILLs what is left and
 * then calls hr_cleanup(). */
#ifndef PA_TESTS_LLM_FIXTURE_H
#define PA_TESTS_LLM_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/redis_fixture.h"
#include "harness.h"
#include "pa_buf.h"

#define LF_RUN "/api/automation/contact-forms/run"
#define LF_LLM_BIN PA_BIN_DIR "/prospect-llm-worker"
#define LF_TEST_WORKER_BIN PA_BIN_DIR "/prospect-test-worker"
#define LF_SERVER_JS PA_SOURCE_DIR "/tests/llm-server/server.mjs"
#define LF_MAX_PROCS 16
#define LF_FN static __attribute__((unused))

extern char **environ;

typedef struct {
    pid_t pid; /* 0 once reaped */
    int exited, status;
    char name[64];
    char log_path[PATH_MAX];
    int port; /* the test server's */
} lf_proc_t;

static lf_proc_t *lf_procs[LF_MAX_PROCS];
static int lf_nprocs;
static char lf_dir[PATH_MAX];

LF_FN const char *lf_tmpdir(void)
{
    if (!lf_dir[0]) {
        snprintf(lf_dir, sizeof lf_dir, "%s/pa-llm-XXXXXX", rf_tmpdir());
        if (!mkdtemp(lf_dir)) {
            lf_dir[0] = '\0';
            cr_assert_fail("mkdtemp: %s", strerror(errno));
        }
    }
    return lf_dir;
}

/* Sets NAME=value in a NULL-terminated list of at most cap-1 entries (replacing NAME). */
LF_FN void lf_envset(const char **v, size_t *n, size_t cap, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < *n; i++)
        if (strncmp(v[i], kv, kl) == 0 && v[i][kl] == '=') {
            v[i] = kv;
            return;
        }
    cr_assert_lt(*n + 1, cap, "too many environment variables");
    v[(*n)++] = kv;
    v[*n] = NULL;
}

/* The base environment of a child: PATH, HOME, TMPDIR, locale and the sanitizer options. */
LF_FN size_t lf_envbase(const char **v, size_t cap)
{
    static const char *pass[] = {
        "PATH",          "HOME",         "TMPDIR",          "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS",
        "UBSAN_OPTIONS", "LSAN_OPTIONS", "LD_LIBRARY_PATH", NULL};
    size_t n = 0;
    v[0] = NULL;
    for (int i = 0; pass[i]; i++)
        if (getenv(pass[i])) lf_envset(v, &n, cap, hr_fmt("%s=%s", pass[i], getenv(pass[i])));
    return n;
}

/* Starts argv[0] with env (NULL-terminated "NAME=value"), output to <tmpdir>/<name>.log. */
LF_FN lf_proc_t *lf_spawn(const char *name, const char *const *argv, const char *const *env)
{
    cr_assert_lt(lf_nprocs, LF_MAX_PROCS, "too many processes in one test");
    cr_assert(access(argv[0], X_OK) == 0, "%s: %s", argv[0], strerror(errno));
    lf_proc_t *p = calloc(1, sizeof *p);
    cr_assert(p);
    lf_procs[lf_nprocs++] = p;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->log_path, sizeof p->log_path, "%s/%s-%d.log", lf_tmpdir(), name, lf_nprocs);
    /* setpriv --pdeathsig KILL -- argv...: the child dies with this test process */
    const char *av[40];
    size_t n = 0;
    if (access("/usr/bin/setpriv", X_OK) == 0) {
        av[n++] = "/usr/bin/setpriv";
        av[n++] = "--pdeathsig";
        av[n++] = "KILL";
        av[n++] = "--";
    }
    for (size_t i = 0; argv[i] && n < 39; i++) av[n++] = argv[i];
    av[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    int sigs[] = {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&def, sigs[i]);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, av[0], &fa, &at, (char *const *)av, (char *const *)env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", argv[0], strerror(rc));
    p->pid = pid;
    return p;
}

LF_FN const char *lf_output(const lf_proc_t *p)
{
    return hr_read_file(p->log_path);
}

/* 1 when it exited within timeout_ms (p->status set), 0 when it still runs. */
LF_FN int lf_wait_exit(lf_proc_t *p, int timeout_ms)
{
    if (p->exited) return 1;
    int st = 0;
    int rc = rf_wait_pid(p->pid, timeout_ms, &st);
    if (rc == 0) return 0;
    p->exited = 1;
    p->status = rc == 1 ? st : -1;
    p->pid = 0;
    return 1;
}

/* Sends sig, waits up to grace_ms, then SIGKILLs. Returns the wait status. */
LF_FN int lf_stop(lf_proc_t *p, int sig, int grace_ms)
{
    if (!p->exited && p->pid > 0) {
        p->status = rf_stop_pid(p->pid, sig, grace_ms);
        p->exited = 1;
        p->pid = 0;
    }
    return p->status;
}

/* The first sanitizer report in a process's output, or NULL. */
LF_FN const char *lf_sanitizer_report(const char *out)
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

/* "tcp://127.0.0.1:<dispatch port>" of a gateway the harness started. */
LF_FN const char *lf_endpoint(const hr_gateway_t *g)
{
    cr_assert_gt(g->dispatch_port, 0, "the gateway has no known dispatch port");
    return hr_fmt("tcp://127.0.0.1:%d", g->dispatch_port);
}

/* A worker binary with the runtime's settings for tests, then env (may be NULL). */
LF_FN lf_proc_t *lf_worker(const char *bin, const char *name, hr_redis_t *rd,
                           const hr_gateway_t *gw, const char *const *env)
{
    const char *v[64];
    size_t n = lf_envbase(v, 64);
    lf_envset(v, &n, 64, hr_fmt("REDIS_URL=%s", hr_redis_url(rd, 0)));
    lf_envset(v, &n, 64, hr_fmt("GATEWAY_ENDPOINTS=%s", lf_endpoint(gw)));
    lf_envset(v, &n, 64, hr_fmt("WORKER_ID=%s", name));
    lf_envset(v, &n, 64, "HEARTBEAT_MS=200");
    lf_envset(v, &n, 64, "RETRY_BASE_MS=50");
    lf_envset(v, &n, 64, "RETRY_CAP_MS=200");
    lf_envset(v, &n, 64, "LOG_LEVEL=info");
    for (size_t i = 0; env && env[i]; i++) lf_envset(v, &n, 64, env[i]);
    return lf_spawn(name, (const char *const[]){bin, NULL}, v);
}

LF_FN lf_proc_t *lf_llm_worker(hr_redis_t *rd, const hr_gateway_t *gw, const char *const *env)
{
    return lf_worker(LF_LLM_BIN, "llm-1", rd, gw, env);
}

/* prospect-test-worker for a service (ok by default: see tests/worker/test_worker.c). */
LF_FN lf_proc_t *lf_test_worker(hr_redis_t *rd, const hr_gateway_t *gw, const char *service)
{
    return lf_worker(LF_TEST_WORKER_BIN, hr_fmt("%s-1", service), rd, gw,
                     (const char *[]){hr_fmt("TEST_WORKER_SERVICE=%s", service), NULL});
}

/* The `node` in PATH, or NULL. */
LF_FN const char *lf_find_node(void)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        const char *cand = hr_fmt("%.*s/node", (int)n, p);
        struct stat st;
        if (n && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        p += n;
        if (*p == ':') p++;
    }
    return NULL;
}

/* Starts tests/llm-server/server.mjs on a free port of 127.0.0.1 with env (may be NULL); waits
 * until GET /_health answers. Skips the test when node is not installed. */
LF_FN lf_proc_t *lf_llm_server(const char *const *env)
{
    const char *node = lf_find_node();
    if (!node)
        cr_skip_test("node is not installed (PATH has no node): the LLM test server needs it");
    const char *v[32];
    size_t n = lf_envbase(v, 32);
    for (size_t i = 0; env && env[i]; i++) lf_envset(v, &n, 32, env[i]);
    int port = rf_free_port();
    cr_assert_gt(port, 0, "no free port");
    lf_proc_t *p = lf_spawn("llm-server",
                            (const char *const[]){node, LF_SERVER_JS, hr_fmt("%d", port), NULL}, v);
    p->port = port;
    uint64_t deadline = hr_now_ms() + 10000;
    for (;;) {
        hr_resp_t *r = hr_http("GET", hr_fmt("http://127.0.0.1:%d/_health", port), NULL, NULL, 0);
        if (r->status == 200) break;
        cr_assert(!lf_wait_exit(p, 0), "the LLM test server exited: %s", lf_output(p));
        cr_assert_lt(hr_now_ms(), deadline,
                     "the LLM test server does not answer on port %d: %s\n%s", port, hr_describe(r),
                     lf_output(p));
        hr_sleep_ms(50);
    }
    return p;
}

/* Waits (at most 5 s) until /api/workers of gw lists a worker. */
LF_FN void lf_wait_worker(const hr_gateway_t *gw)
{
    uint64_t t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 5000) {
        if (json_array_size(json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers")))
            return;
        hr_sleep_ms(20);
    }
    cr_assert_fail("the worker did not join");
}

/* The test server's record of the requests it received (JSON array, harness-owned). */
LF_FN json_t *lf_server_requests(const lf_proc_t *srv)
{
    hr_resp_t *r =
        hr_http("GET", hr_fmt("http://127.0.0.1:%d/_requests", srv->port), NULL, NULL, 0);
    cr_assert_eq(r->status, 200, "GET /_requests: %s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_array(j), "GET /_requests: %s", hr_describe(r));
    return j;
}

/* Stops every process (SIGTERM, SIGKILL after 10 s) and asserts that each exited by itself
 * with status 0 (a server may be killed) and wrote no sanitizer report. Call at the end of a
 * test: assertions in .fini do not fail a Criterion test. */
LF_FN void lf_finish(void)
{
    for (int i = lf_nprocs - 1; i >= 0; i--) {
        lf_proc_t *p = lf_procs[i];
        int was_running = !p->exited;
        int st = lf_stop(p, SIGTERM, 10000);
        const char *m = lf_sanitizer_report(lf_output(p));
        cr_assert(!m, "%s reported a sanitizer error:\n%.6000s", p->name, m ? m : "");
        if (was_running && strcmp(p->name, "llm-server") != 0)
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "%s did not stop cleanly (status %d):\n%.4000s", p->name, st, lf_output(p));
    }
}

LF_FN void lf_cleanup(void)
{
    for (int i = 0; i < lf_nprocs; i++) {
        lf_proc_t *p = lf_procs[i];
        lf_stop(p, SIGKILL, 2000);
        if (getenv("PA_TEST_VERBOSE"))
            fprintf(stderr, "---- %s ----\n%s----\n", p->name, lf_output(p));
        free(p);
    }
    lf_nprocs = 0;
    hr_cleanup();
    if (lf_dir[0] && !getenv("PA_KEEP_TMP")) rf_rm_rf(lf_dir);
    lf_dir[0] = '\0';
}

/* ---- jobs over HTTP ------------------------------------------------------------------------ */

/* POSTs a run, asserts 202, returns the job id (harness-owned). */
LF_FN const char *lf_run(const hr_gateway_t *g, const char *body)
{
    hr_resp_t *r = hr_post(g, LF_RUN, body);
    cr_assert_eq(r->status, 202, "POST %s: expected 202, got %s", LF_RUN, hr_describe(r));
    const char *id = hr_jstr(hr_json(r), "job_id");
    cr_assert(id, "202 without a job_id: %s", hr_describe(r));
    return id;
}

/* Polls GET /api/jobs/{id} until it is completed; fails after timeout_ms with the last answer. */
LF_FN json_t *lf_wait_completed(const hr_gateway_t *g, const char *jid, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    const char *last = "(no answer)";
    for (;;) {
        hr_resp_t *r = hr_get(g, hr_fmt("/api/jobs/%s", jid));
        last = hr_describe(r);
        json_t *j = hr_json(r);
        const char *st = hr_jstr(j, "status");
        if (r->status == 200 && st && strcmp(st, "completed") == 0 && !hr_jnull(j, "finished"))
            return j;
        cr_assert_lt(hr_now_ms(), deadline, "job %s is not completed after %d ms; last answer: %s",
                     jid, timeout_ms, last);
        hr_sleep_ms(50);
    }
}

/* Every task of a job (GET /api/jobs/{id}/tasks?limit=100, all pages; harness-owned). */
LF_FN json_t *lf_tasks(const hr_gateway_t *g, const char *jid)
{
    return hr_get_all_pages(g, hr_fmt("/api/jobs/%s/tasks?limit=100", jid), 100, NULL);
}

/* The task with that target URL in a task list, or NULL. */
LF_FN json_t *lf_task_by_target(const json_t *tasks, const char *target)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *u = hr_jstr(t, "target");
        if (u && strcmp(u, target) == 0) return t;
    }
    return NULL;
}

/* results.compose of a task (NULL when absent). */
LF_FN json_t *lf_compose(const json_t *task)
{
    return json_object_get(json_object_get(task, "results"), "compose");
}

/* GET /metrics: its body (harness-owned), asserting 200. */
LF_FN const char *lf_metrics(const hr_gateway_t *g)
{
    hr_resp_t *r = hr_get(g, "/metrics");
    cr_assert_eq(r->status, 200, "GET /metrics: %s", hr_describe(r));
    return r->body;
}

/* The value of one sample line of /metrics ("name{labels}" exactly as rendered), or -1. */
LF_FN double lf_metric(const char *metrics, const char *sample)
{
    size_t n = strlen(sample);
    for (const char *p = metrics; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, sample, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

/* Waits until GET /api/workers lists n workers (at most 5 s). */
LF_FN void lf_wait_workers(const hr_gateway_t *g, size_t n)
{
    uint64_t deadline = hr_now_ms() + 5000;
    json_t *w;
    while (json_array_size(w = json_object_get(hr_json(hr_get(g, "/api/workers")), "workers")) <
           n) {
        cr_assert_lt(hr_now_ms(), deadline, "%zu workers did not join: %s", n, hr_jdump(w));
        hr_sleep_ms(20);
    }
}

/* The number of server records (GET /_requests). */
LF_FN size_t lf_server_count(const lf_proc_t *srv)
{
    return json_array_size(lf_server_requests(srv));
}

/* ---- provider scenarios (test_llm_openai.c, test_llm_anthropic.c) ------------------------- */

#define LF_KEY "sk-test-4f8a2c9e1b7d3a6f0e5c"
#define LF_MODEL "test-model"
#define LF_TEMPLATE "Hi {{first_name|there}}, a note for {{company}}."

/* prospect-llm-worker named name (its WORKER_ID) for provider ("openai", "anthropic") against
 * the test server, with key (NULL: the server's), LLM_MODEL=test-model, MAX_ATTEMPTS_COMPOSE=3,
 * then env (may be NULL). */
LF_FN lf_proc_t *lf_provider_worker_as(const char *name, hr_redis_t *rd, const hr_gateway_t *gw,
                                       const lf_proc_t *srv, const char *provider, const char *key,
                                       const char *const *env)
{
    int anthropic = strcmp(provider, "anthropic") == 0;
    const char *e[32];
    size_t n = 0;
    e[0] = NULL;
    lf_envset(e, &n, 32, hr_fmt("LLM_PROVIDER=%s", provider));
    lf_envset(e, &n, 32,
              hr_fmt("LLM_BASE_URL=http://127.0.0.1:%d%s", srv->port, anthropic ? "" : "/v1"));
    lf_envset(e, &n, 32,
              hr_fmt("%s=%s", anthropic ? "ANTHROPIC_API_KEY" : "LLM_API_KEY", key ? key : LF_KEY));
    lf_envset(e, &n, 32, "LLM_MODEL=" LF_MODEL);
    lf_envset(e, &n, 32, "MAX_ATTEMPTS_COMPOSE=3");
    for (size_t i = 0; env && env[i]; i++) lf_envset(e, &n, 32, env[i]);
    return lf_worker(LF_LLM_BIN, name, rd, gw, e);
}

/* The same, named llm-1. */
LF_FN lf_proc_t *lf_provider_worker(hr_redis_t *rd, const hr_gateway_t *gw, const lf_proc_t *srv,
                                    const char *provider, const char *key, const char *const *env)
{
    return lf_provider_worker_as("llm-1", rd, gw, srv, provider, key, env);
}

/* A JSON array of targets https://<tag><i>.example/ for i from..to, each named "<tag><i> Lee"
 * of company "Co<i>", with the variable llmfault=fault when fault is not NULL (harness-owned). */
LF_FN const char *lf_targets(const char *tag, int from, int to, const char *fault)
{
    pa_buf_t t = PA_BUF_INIT;
    pa_buf_putc(&t, '[');
    for (int i = from; i <= to; i++) {
        pa_buf_printf(
            &t, "%s{\"url\":\"https://%s%d.example/\",\"name\":\"%s%d Lee\",\"company\":\"Co%d\"",
            i > from ? "," : "", tag, i, tag, i, i);
        if (fault) pa_buf_printf(&t, ",\"variables\":{\"llmfault\":\"%s\"}", fault);
        pa_buf_putc(&t, '}');
    }
    pa_buf_putc(&t, ']');
    const char *s = hr_fmt("%s", t.data);
    pa_buf_free(&t);
    return s;
}

/* A run of the given targets JSON through the compose stage only. */
LF_FN const char *lf_compose_run(const hr_gateway_t *gw, const char *targets)
{
    return lf_run(gw,
                  hr_fmt("{\"message_template\":\"" LF_TEMPLATE "\",\"sender\":{\"name\":\"Sam\","
                         "\"email\":\"sam@us.example\",\"company\":\"Us Ltd\"},\"targets\":%s,"
                         "\"options\":{\"enrich\":false,\"stages\":[\"compose\"]}}",
                         targets));
}

/* The requests the server saw carrying that fault marker, oldest first (harness-owned). */
LF_FN json_t *lf_records_for(const json_t *recs, const char *marker)
{
    json_t *out = hr_jkeep(json_array());
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        const char *m = hr_jstr(r, "marker");
        if (m && strcmp(m, marker) == 0) json_array_append(out, r);
    }
    return out;
}

typedef struct {
    const char *fault;   /* the llmfault marker */
    int attempts;        /* tries of the compose stage */
    int fallback;        /* the message is the template's */
    const char *reason;  /* in the fallback reason and the task's last error (NULL: no error) */
    long retry_after_ms; /* least gap between the first two requests */
} lf_case_t;

/* Every fault mode of the test server through a real run: attempts, Retry-After honoured,
 * fallbacks with their reason, the task's last error, usage and model of the answers. */
LF_FN void lf_provider_faults(const char *provider)
{
    static const lf_case_t cases[] = {
        {"ok;id=1", 1, 0, NULL, 0},
        {"429;times=1;ra=2;id=2", 2, 0, "HTTP 429", 2000},
        {"503;id=3", 3, 1, "HTTP 503", 0},
        {"500;times=1;id=4", 2, 0, "HTTP 500", 0},
        {"hang;id=5", 3, 1, "timed out", 0},
        {"slow;ms=300;id=6", 1, 0, NULL, 0},
        {"truncated;id=7", 3, 1, "not valid JSON", 0},
        {"cut;times=1;id=8", 2, 0, "request failed", 0},
        {"error200;times=1;id=9", 2, 0, "HTTP 200 with an error", 0},
        {"big;bytes=200000;id=10", 1, 1, "LLM_MAX_RESPONSE_BYTES", 0},
        {"400;id=11", 1, 1, "HTTP 400", 0},
        {"refusal;id=12", 1, 1, "refused", 0},
        {"placeholder;id=13", 1, 1, "unfilled placeholder {{first_name}}", 0},
        {"empty;id=14", 1, 1, "empty", 0},
        {"529;times=1;id=15", 2, 0, "HTTP 529", 0},
        /* an exhausted quota or credit (openai: a 429) is not retried: the template at once */
        {"quota;id=16", 1, 1, "quota or credit is exhausted (not retried)", 0},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "MAX_ATTEMPTS_COMPOSE=3", NULL});
    /* the breaker off: each fault's own handling is under test, and consecutive failures of
     * different cases would open it (test_llm_breaker.c tests it) */
    lf_proc_t *llm =
        lf_provider_worker(rd, gw, srv, provider, NULL,
                           (const char *[]){"LLM_TIMEOUT_MS=1500", "LLM_CONNECT_TIMEOUT_MS=1000",
                                            "LLM_MAX_RESPONSE_BYTES=64k", "LLM_CONCURRENCY=4",
                                            "LLM_BREAKER_FAILURES=0", NULL});
    pa_buf_t t = PA_BUF_INIT;
    pa_buf_putc(&t, '[');
    for (size_t i = 0; i < ncases; i++)
        pa_buf_printf(&t,
                      "%s{\"url\":\"https://t%zu.example/\",\"name\":\"Person%zu "
                      "Surname\",\"company\":\"Co %zu\","
                      "\"variables\":{\"llmfault\":\"%s\"}}",
                      i ? "," : "", i + 1, i + 1, i + 1, cases[i].fault);
    pa_buf_putc(&t, ']');
    const char *jid = lf_compose_run(gw, t.data);
    pa_buf_free(&t);
    lf_wait_completed(gw, jid, 90000);
    json_t *tasks = lf_tasks(gw, jid);
    json_t *recs = lf_server_requests(srv);
    cr_assert_eq(json_array_size(tasks), ncases, "%s", hr_jdump(tasks));
    for (size_t i = 0; i < ncases; i++) {
        const lf_case_t *c = &cases[i];
        json_t *task = lf_task_by_target(tasks, hr_fmt("https://t%zu.example/", i + 1));
        const char *what = hr_fmt("%s, fault %s: %s", provider, c->fault, hr_jdump(task));
        cr_assert(task, "no task: %s", what);
        cr_assert_str_eq(hr_jstr(task, "state"), "succeeded", "%s", what);
        cr_assert_eq(hr_jint(task, "attempt", -1), c->attempts, "attempts: %s", what);
        json_t *recs_i = lf_records_for(recs, c->fault);
        cr_assert_eq(json_array_size(recs_i), (size_t)c->attempts,
                     "requests the server saw: %s\n%s", what, hr_jdump(recs_i));
        json_t *cmp = lf_compose(task);
        const char *draft = hr_fmt("Hi Person%zu, a note for Co %zu.", i + 1, i + 1);
        const char *err = hr_jstr(task, "error");
        if (c->fallback) {
            cr_assert(json_is_true(json_object_get(cmp, "fallback")), "%s", what);
            cr_assert_str_eq(hr_jstr(cmp, "provider"), "template", "%s", what);
            cr_assert_str_eq(hr_jstr(cmp, "message"), draft, "%s", what);
            const char *fr = hr_jstr(cmp, "fallback_reason");
            cr_assert(fr && strstr(fr, c->reason) && strncmp(fr, provider, strlen(provider)) == 0,
                      "the fallback reason names the provider and says '%s': %s", c->reason, what);
        } else {
            cr_assert(json_is_false(json_object_get(cmp, "fallback")), "%s", what);
            cr_assert(hr_jnull(cmp, "fallback_reason"), "%s", what);
            cr_assert_str_eq(hr_jstr(cmp, "provider"), provider, "%s", what);
            cr_assert_str_eq(hr_jstr(cmp, "message"), hr_fmt("[model] %s", draft), "%s", what);
            cr_assert_str_eq(hr_jstr(cmp, "model"), LF_MODEL "-2024-07-18", "%s", what);
            json_t *last = json_array_get(recs_i, json_array_size(recs_i) - 1);
            json_t *u = json_object_get(cmp, "usage"), *su = json_object_get(last, "usage");
            cr_assert(hr_jint(u, "prompt_tokens", -1) == hr_jint(su, "prompt", -2) &&
                          hr_jint(u, "completion_tokens", -1) == hr_jint(su, "completion", -2) &&
                          hr_jint(u, "prompt_tokens", 0) > 0,
                      "usage is the server's %s: %s", hr_jdump(su), what);
        }
        if (c->reason)
            cr_assert(err && strstr(err, c->reason), "the task's last error says '%s': %s",
                      c->reason, what);
        else cr_assert(!err, "no error: %s", what);
        if (c->retry_after_ms) {
            json_t *a = json_array_get(recs_i, 0), *b = json_array_get(recs_i, 1);
            long long gap = hr_jint(b, "start", 0) - hr_jint(a, "end", 0);
            cr_assert_geq(gap, c->retry_after_ms - 5,
                          "Retry-After %ld ms honoured: the next try came after %lld ms: %s",
                          c->retry_after_ms, gap, what);
        }
    }
    /* the job sums the token usage of its tasks' messages */
    long long sum_p = 0, sum_c = 0;
    for (size_t k = 0; k < json_array_size(tasks); k++) {
        json_t *u = json_object_get(lf_compose(json_array_get(tasks, k)), "usage");
        sum_p += hr_jint(u, "prompt_tokens", 0);
        sum_c += hr_jint(u, "completion_tokens", 0);
    }
    json_t *job = hr_json(hr_get(gw, hr_fmt("/api/jobs/%s", jid)));
    json_t *ju = json_object_get(job, "usage");
    cr_assert(sum_p > 0 && hr_jint(ju, "prompt_tokens", -1) == sum_p &&
                  hr_jint(ju, "completion_tokens", -1) == sum_c,
              "job usage %s, tasks sum to %lld / %lld", hr_jdump(ju), sum_p, sum_c);
    /* every request was well formed and authorised (the server answers 400/401 otherwise) */
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        cr_assert(json_is_true(json_object_get(r, "auth")), "%s", hr_jdump(r));
    }
    const char *out = lf_output(llm);
    cr_assert(!strstr(out, LF_KEY), "the API key reached the worker's log");
    lf_finish();
}

/* A wrong key: 401 is permanent, so the template's message at once; the key the server echoes
 * in its error is redacted, and no key reaches the log or the task. */
LF_FN void lf_provider_wrong_key(const char *provider)
{
    const char *wrong = "sk-wrong-9c1d7e3b5a2f8e6d4c";
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_proc_t *llm =
        lf_provider_worker(rd, gw, srv, provider, wrong, (const char *[]){"LOG_LEVEL=debug", NULL});
    const char *jid =
        lf_compose_run(gw, "[{\"url\":\"a.example\",\"name\":\"Ann Lee\",\"company\":\"Acme\"}]");
    lf_wait_completed(gw, jid, 30000);
    json_t *task = json_array_get(lf_tasks(gw, jid), 0);
    const char *dump = hr_jdump(task);
    cr_assert_eq(hr_jint(task, "attempt", -1), 1, "%s", dump);
    json_t *c = lf_compose(task);
    cr_assert(json_is_true(json_object_get(c, "fallback")), "%s", dump);
    cr_assert_str_eq(hr_jstr(c, "message"), "Hi Ann, a note for Acme.", "%s", dump);
    cr_assert(strstr(hr_jstr(c, "fallback_reason"), "HTTP 401"), "%s", dump);
    cr_assert(strstr(hr_jstr(c, "fallback_reason"), "[redacted]"), "the echoed key is redacted: %s",
              dump);
    cr_assert(!strstr(dump, wrong) && !strstr(dump, "sk-wrong"), "the key reached the task: %s",
              dump);
    json_t *recs = lf_server_requests(srv);
    cr_assert_eq(json_array_size(recs), 1, "%s", hr_jdump(recs));
    cr_assert(json_is_false(json_object_get(json_array_get(recs, 0), "auth")), "%s",
              hr_jdump(recs));
    lf_finish();
    const char *out = lf_output(llm);
    cr_assert(!strstr(out, wrong) && !strstr(out, "sk-wrong"),
              "the API key reached the worker's log:\n%s", out);
    cr_assert(strstr(out, "\"api_key\":\"set\""), "the log says a key is set:\n%s", out);
}

/* LLM_CONCURRENCY bounds the requests in flight; more tasks than that wait their turn. */
LF_FN void lf_provider_concurrency(const char *provider)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, provider, NULL, (const char *[]){"LLM_CONCURRENCY=3", NULL});
    pa_buf_t t = PA_BUF_INIT;
    pa_buf_putc(&t, '[');
    for (int i = 1; i <= 24; i++)
        pa_buf_printf(&t,
                      "%s{\"url\":\"https://c%d.example/\",\"name\":\"P%d\",\"company\":\"C%d\","
                      "\"variables\":{\"llmfault\":\"slow;ms=150;id=%d\"}}",
                      i > 1 ? "," : "", i, i, i, i);
    pa_buf_putc(&t, ']');
    const char *jid = lf_compose_run(gw, t.data);
    pa_buf_free(&t);
    json_t *job = lf_wait_completed(gw, jid, 60000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 24, "%s", hr_jdump(job));
    hr_resp_t *r = hr_http("GET", hr_fmt("http://127.0.0.1:%d/_stats", srv->port), NULL, NULL, 0);
    json_t *st = hr_json(r);
    cr_assert_eq(hr_jint(st, "requests", -1), 24, "%s", hr_describe(r));
    long long maxin = hr_jint(st, "max_inflight", -1);
    cr_assert(maxin >= 2 && maxin <= 3, "at most 3 at once (and more than one): %s",
              hr_describe(r));
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        json_t *c = lf_compose(task);
        cr_assert_str_eq(hr_jstr(c, "provider"), provider, "%s", hr_jdump(task));
        cr_assert_eq(hr_jint(task, "attempt", -1), 1, "%s", hr_jdump(task));
    }
    lf_finish();
}

/* SIGTERM while requests hang: after STOP_TIMEOUT_S the worker gives its tasks back, abandons
 * the transfers (the server sees the connections close) and exits 0, leak-free. */
LF_FN void lf_provider_sigterm(const char *provider)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_proc_t *llm =
        lf_provider_worker(rd, gw, srv, provider, NULL,
                           (const char *[]){"STOP_TIMEOUT_S=1", "LLM_TIMEOUT_MS=60000", NULL});
    const char *jid = lf_compose_run(
        gw,
        "[{\"url\":\"a.example\",\"company\":\"a\",\"variables\":{\"llmfault\":\"hang;id=a\"}},"
        "{\"url\":\"b.example\",\"company\":\"b\",\"variables\":{\"llmfault\":\"hang;id=b\"}},"
        "{\"url\":\"c.example\",\"company\":\"c\",\"variables\":{\"llmfault\":\"hang;id=c\"}}]");
    uint64_t deadline = hr_now_ms() + 15000;
    for (;;) {
        hr_resp_t *r =
            hr_http("GET", hr_fmt("http://127.0.0.1:%d/_stats", srv->port), NULL, NULL, 0);
        if (hr_jint(hr_json(r), "inflight", 0) == 3) break;
        cr_assert_lt(hr_now_ms(), deadline, "the three requests did not arrive: %s",
                     hr_describe(r));
        hr_sleep_ms(20);
    }
    uint64_t t0 = hr_now_ms();
    kill(llm->pid, SIGTERM);
    cr_assert(lf_wait_exit(llm, 8000), "the worker did not stop within 8 s of SIGTERM");
    uint64_t took = hr_now_ms() - t0;
    cr_assert(WIFEXITED(llm->status) && WEXITSTATUS(llm->status) == 0, "exit status %d:\n%s",
              llm->status, lf_output(llm));
    cr_assert_lt(took, 5000, "stopping took %llu ms with STOP_TIMEOUT_S=1",
                 (unsigned long long)took);
    const char *m = lf_sanitizer_report(lf_output(llm));
    cr_assert(!m, "sanitizer report:\n%.6000s", m ? m : "");
    cr_assert(
        strstr(lf_output(llm), "\"msg\":\"released unfinished tasks\",\"tasks\":3,\"requeued\":3"),
        "the three tasks were given back:\n%s", lf_output(llm));
    /* Given back, they are queued again; but the gateway may lease them once more to this
     * worker before its BYE arrives (it still holds credit), and then they wait for that lease
     * to expire: a gateway/runtime race outside this worker. They are never finished, though. */
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        const char *st = hr_jstr(task, "state");
        cr_assert(st && (strcmp(st, "queued") == 0 || strcmp(st, "running") == 0),
                  "not finished: %s", hr_jdump(task));
        cr_assert(hr_jnull(task, "results") || !lf_compose(task), "no result: %s", hr_jdump(task));
    }
    /* the server sees the connections go */
    deadline = hr_now_ms() + 5000;
    for (;;) {
        hr_resp_t *r =
            hr_http("GET", hr_fmt("http://127.0.0.1:%d/_stats", srv->port), NULL, NULL, 0);
        if (hr_jint(hr_json(r), "inflight", -1) == 0) break;
        cr_assert_lt(hr_now_ms(), deadline, "connections left open: %s", hr_describe(r));
        hr_sleep_ms(20);
    }
    lf_finish();
}

/* Cancelling a run while its calls hang: the worker hears of it (on_cancel) and aborts the
 * calls at once (the server sees the connections close long before LLM_TIMEOUT_MS), the tasks
 * end cancelled without a result, and the worker's call slots are free for the next run. */
LF_FN void lf_provider_cancel(const char *provider)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, provider, NULL,
                       (const char *[]){"LLM_TIMEOUT_MS=60000", "LLM_CONCURRENCY=3", NULL});
    const char *jid = lf_compose_run(
        gw,
        "[{\"url\":\"a.example\",\"company\":\"a\",\"variables\":{\"llmfault\":\"hang;id=ca\"}},"
        "{\"url\":\"b.example\",\"company\":\"b\",\"variables\":{\"llmfault\":\"hang;id=cb\"}},"
        "{\"url\":\"c.example\",\"company\":\"c\",\"variables\":{\"llmfault\":\"hang;id=cc\"}}]");
    uint64_t deadline = hr_now_ms() + 15000;
    for (;;) {
        hr_resp_t *r =
            hr_http("GET", hr_fmt("http://127.0.0.1:%d/_stats", srv->port), NULL, NULL, 0);
        if (hr_jint(hr_json(r), "inflight", 0) == 3) break;
        cr_assert_lt(hr_now_ms(), deadline, "the three requests did not arrive: %s",
                     hr_describe(r));
        hr_sleep_ms(20);
    }
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert(c->status >= 200 && c->status < 300, "%s", hr_describe(c));
    uint64_t t0 = hr_now_ms();
    deadline = t0 + 5000;
    for (;;) {
        hr_resp_t *r =
            hr_http("GET", hr_fmt("http://127.0.0.1:%d/_stats", srv->port), NULL, NULL, 0);
        if (hr_jint(hr_json(r), "inflight", -1) == 0) break;
        cr_assert_lt(hr_now_ms(), deadline, "the calls were not aborted: %s", hr_describe(r));
        hr_sleep_ms(20);
    }
    size_t i;
    json_t *task;
    json_array_foreach(lf_tasks(gw, jid), i, task) {
        cr_assert_str_eq(hr_jstr(task, "state"), "cancelled", "%s", hr_jdump(task));
        cr_assert(hr_jnull(task, "results") || !lf_compose(task), "no result: %s", hr_jdump(task));
    }
    /* the slots are free: a new run of three goes through */
    const char *j2 = lf_compose_run(gw, lf_targets("after", 1, 3, "ok"));
    json_t *job = lf_wait_completed(gw, j2, 20000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 3, "%s", hr_jdump(job));
    lf_finish();
}

/* options.personalize=false: the template's message, and the provider is never asked. */
LF_FN void lf_provider_personalize_off(const char *provider)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, provider, NULL, NULL);
    const char *jid =
        lf_run(gw, "{\"message_template\":\"" LF_TEMPLATE "\",\"sender\":{\"name\":\"Sam\","
                   "\"email\":\"sam@us.example\"},\"targets\":[{\"url\":\"a.example\",\"name\":"
                   "\"Ann Lee\",\"company\":\"Acme\"}],\"options\":{\"enrich\":false,"
                   "\"personalize\":false,\"stages\":[\"compose\"]}}");
    lf_wait_completed(gw, jid, 30000);
    json_t *task = json_array_get(lf_tasks(gw, jid), 0);
    json_t *c = lf_compose(task);
    cr_assert_str_eq(hr_jstr(c, "message"), "Hi Ann, a note for Acme.", "%s", hr_jdump(task));
    cr_assert_str_eq(hr_jstr(c, "provider"), "template", "%s", hr_jdump(task));
    cr_assert(json_is_false(json_object_get(c, "fallback")), "%s", hr_jdump(task));
    cr_assert_eq(json_array_size(lf_server_requests(srv)), 0, "the provider was asked");
    lf_finish();
}

#endif
