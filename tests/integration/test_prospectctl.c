/* prospectctl against a private Redis seeded by the job engine's own scripts: jobs, job, tasks,
 * workers, queues, dead, requeue and watch, as JSON and as tables, and its errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pa_buf.h"
#include "pa_jobs.h"
#include "pa_redis.h"
#include "pa_time.h"

#define CTL_BIN PA_BIN_DIR "/prospectctl"
#define JOB_A "j-01aaaaaaaaaaaaaaaaaaaaaaaa"
#define JOB_B "j-01bbbbbbbbbbbbbbbbbbbbbbbb"
#define LONG_ERROR                                                                                 \
    "boom: the form endpoint answered 500 Internal Server Error and the body was too long to "     \
    "keep in full"

extern char **environ;

static hr_redis_t *rd;
static pa_redis_t *rc;
static const char *url;
static pid_t child; /* a prospectctl still running (watch), killed in fini */

/* ---- running prospectctl ------------------------------------------------------------------ */

typedef struct {
    int status; /* exit status, or 128 + signal */
    const char *out, *err;
} run_t;

static pid_t spawn(const char *const *argv, int *out_fd, int *err_fd)
{
    int o[2], e[2];
    cr_assert(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        execve(argv[0], (char *const *)argv, environ);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    *out_fd = o[0];
    *err_fd = e[0];
    return pid;
}

/* Reads both pipes to their end and reaps pid; kills it after timeout_ms. */
static run_t collect(pid_t pid, int out_fd, int err_fd, int timeout_ms)
{
    pa_buf_t buf[2] = {PA_BUF_INIT, PA_BUF_INIT};
    struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    int open_fds = 2, killed = 0;
    while (open_fds > 0) {
        uint64_t now = hr_now_ms();
        if (now >= deadline && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        int n = poll(p, 2, killed ? 1000 : (int)(deadline - now));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char tmp[4096];
            ssize_t r = read(p[i].fd, tmp, sizeof tmp);
            if (r > 0) {
                pa_buf_put(&buf[i], tmp, (size_t)r);
            } else if (r == 0 || errno != EINTR) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (pid == child) child = 0;
    run_t res;
    res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    res.out = hr_fmt("%s", buf[0].data ? buf[0].data : "");
    res.err = hr_fmt("%s", buf[1].data ? buf[1].data : "");
    pa_buf_free(&buf[0]);
    pa_buf_free(&buf[1]);
    cr_assert(!killed, "prospectctl did not finish in %d ms; stderr: %s", timeout_ms, res.err);
    /* a leak or a sanitizer error exits 1, like an expected error: look for the report too */
    cr_assert(!strstr(res.err, "Sanitizer") && !strstr(res.err, "runtime error:"), "%s", res.err);
    return res;
}

/* prospectctl --redis <private redis> args... (NULL-terminated) */
static run_t ctl(const char *arg, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = CTL_BIN;
    argv[n++] = "--redis";
    argv[n++] = url;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int o, e;
    pid_t pid = spawn(argv, &o, &e);
    return collect(pid, o, e, 20000);
}

/* Runs it and parses stdout as JSON, asserting exit status 0. */
static json_t *ctl_json(const char *arg, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = CTL_BIN;
    argv[n++] = "--redis";
    argv[n++] = url;
    argv[n++] = "--json";
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int o, e;
    pid_t pid = spawn(argv, &o, &e);
    run_t r = collect(pid, o, e, 20000);
    cr_assert_eq(r.status, 0, "%s exited %d; stderr: %s", arg, r.status, r.err);
    json_t *j = hr_jparse(r.out);
    cr_assert(j, "%s: stdout is not JSON: %s", arg, r.out);
    return j;
}

/* ---- seeding through the engine's scripts ------------------------------------------------- */

static long long rint_(const char *fmt, const char *a1, const char *a2)
{
    redisReply *rep = pa_redis_cmd(rc, fmt, a1, a2);
    cr_assert(rep && rep->type == REDIS_REPLY_INTEGER, "%s: not an integer", fmt);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static const char *rstr(const char *fmt, const char *a1, const char *a2)
{
    redisReply *rep = pa_redis_cmd(rc, fmt, a1, a2);
    cr_assert(rep, "%s: %s", fmt, pa_redis_errstr(rc));
    const char *s = rep->type == REDIS_REPLY_STRING ? hr_fmt("%s", rep->str) : NULL;
    freeReplyObject(rep);
    return s;
}

static void create(const char *jid, uint64_t created_ms, int n, const char *stages, long max_enrich,
                   long max_compose)
{
    const char *targets[8], *inputs[8];
    for (int i = 0; i < n; i++) {
        targets[i] = hr_fmt("https://example.com/contact/%d", i + 1);
        inputs[i] = "{\"email\":\"a@example.com\"}";
    }
    char bucket[PA_KEY_MAX];
    pa_jobs_create_in_t in = {
        .prefix = "pa:",
        .job = jid,
        .now_ms = created_ms,
        .idem_ttl_s = 86400,
        .max_queued = 100000,
        .campaign_id = "c-001",
        .ctx = "{\"template\":\"t-1\"}",
        .stages = stages,
        .max_attempts = {[PA_STAGE_enrich] = max_enrich, [PA_STAGE_compose] = max_compose},
        .retention_s = 3600,
        .n = (size_t)n,
        .targets = targets,
        .inputs = inputs,
        .rate_key = pa_key_rate(bucket, "pa:", "run", 99),
        .rate_per_ms = 1,
        .burst = 1000};
    pa_jobs_create_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_create_call(rc, &in, &out, err, sizeof err), 0, "create: %s", err);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
    pa_jobs_leases_free(&out.leased);
}

/* Leases up to n tasks of svc to wid; returns their lease tokens in order of their keys. */
static void dispatch(const char *svc, int n, const char *wid, const char **keys,
                     const char **leases, int expect)
{
    pa_jobs_dispatch_in_t in = {
        .prefix = "pa:", .service = svc, .n = (unsigned)n, .worker = wid, .lease_ms = 60000};
    pa_jobs_leases_t l;
    char err[256];
    cr_assert_eq(pa_jobs_dispatch_call(rc, &in, &l, err, sizeof err), 0, "dispatch: %s", err);
    cr_assert_eq(l.n, (size_t)expect, "dispatch %s leased %zu", svc, l.n);
    for (int i = 0; i < expect; i++) {
        keys[i] = hr_fmt("%s", l.tasks[i].key);
        leases[i] = hr_fmt("%s", l.tasks[i].lease);
    }
    pa_jobs_leases_free(&l);
}

/* One outcome: task key, lease, outcome, result, error, delay ms. */
static void commit(const char *wid, const char *tk, const char *lease, pa_jobs_outcome_t outcome,
                   const char *result, const char *err, long delay_ms)
{
    pa_jobs_commit_item_t o = {.key = tk,
                               .lease = lease,
                               .outcome = outcome,
                               .result = result,
                               .error = err,
                               .delay_ms = delay_ms};
    pa_jobs_commit_in_t in = {.prefix = "pa:", .worker = wid, .items = &o, .n = 1};
    bool stale = false;
    pa_jobs_commit_out_t out = {.stale = &stale};
    char e[256];
    cr_assert_eq(pa_jobs_commit_call(rc, &in, &out, e, sizeof e), 0, "commit: %s", e);
    cr_assert_eq(out.ok, 1, "commit %s %s", tk, pa_jobs_outcome_name(outcome));
}

/* Job A (4 tasks; enrich, compose, submit; one enrich attempt, three compose attempts):
 *   000001 enrich succeeded, then compose retried          -> retry_wait (pa:delayed)
 *   000002 enrich retried with its one attempt spent       -> failed, dead letter
 *   000003 enrich skipped                                  -> skipped
 *   000004 leased to w-2                                   -> running (pa:worker:w-2:tasks)
 * Job B (2 tasks, enrich only), created later: both queued in pa:ready:mcp.
 * pa:jobs also names a job whose hash has expired, newest of all. */
static void seed(void)
{
    uint64_t now = pa_wall_ms();
    create(JOB_A, now - 2000, 4, "enrich,compose,submit", 1, 3);
    create(JOB_B, now - 1000, 2, "enrich", 0, 0);
    const char *k[3], *l[3];
    dispatch("mcp", 3, "w-1", k, l, 3);
    cr_assert_str_eq(k[0], JOB_A ":000001");
    cr_assert_str_eq(k[2], JOB_A ":000003");
    commit("w-1", k[0], l[0], PA_JOBS_OUT_SUCCEEDED, "{\"company\":\"Acme\"}", NULL, 0);
    commit("w-1", k[1], l[1], PA_JOBS_OUT_RETRY, NULL, LONG_ERROR, 0);
    commit("w-1", k[2], l[2], PA_JOBS_OUT_SKIPPED, NULL, NULL, 0);
    dispatch("mcp", 1, "w-2", k, l, 1);
    cr_assert_str_eq(k[0], JOB_A ":000004");
    dispatch("llm", 1, "w-1", k, l, 1);
    cr_assert_str_eq(k[0], JOB_A ":000001");
    commit("w-1", k[0], l[0], PA_JOBS_OUT_RETRY, NULL, "llm busy", 60000);
    redisReply *rep =
        pa_redis_cmd(rc, "ZADD pa:jobs %llu j-expired", (unsigned long long)now + 5000);
    cr_assert(rep && rep->type == REDIS_REPLY_INTEGER);
    freeReplyObject(rep);
}

static void setup(void)
{
    unsetenv("REDIS_URL");
    unsetenv("REDIS_PREFIX");
    rd = hr_redis_start(NULL);
    url = hr_redis_url(rd, 0);
    char err[256];
    rc = pa_redis_new(url, 3000, err, sizeof err);
    cr_assert(rc, "%s", err);
    seed();
}

static void teardown(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    pa_redis_destroy(&rc);
    hr_cleanup();
}

TestSuite(prospectctl, .init = setup, .fini = teardown, .timeout = 60);

static json_t *find(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *v = hr_jstr(o, key);
        if (v && strcmp(v, value) == 0) return o;
    }
    return NULL;
}

static long long count_of(json_t *o, const char *state)
{
    return hr_jint(json_object_get(o, "counts"), state, -1);
}

/* ---- tests -------------------------------------------------------------------------------- */

Test(prospectctl, jobs_newest_first_with_counts)
{
    json_t *jobs = ctl_json("jobs", NULL);
    cr_assert(json_is_array(jobs));
    cr_assert_eq(json_array_size(jobs), 2, "%s", hr_jdump(jobs)); /* j-expired skipped */
    cr_assert_str_eq(hr_jstr(json_array_get(jobs, 0), "id"), JOB_B);
    json_t *a = json_array_get(jobs, 1);
    cr_assert_str_eq(hr_jstr(a, "id"), JOB_A);
    cr_assert_str_eq(hr_jstr(a, "status"), "running");
    cr_assert_eq(hr_jint(a, "total", -1), 4);
    cr_assert_eq(count_of(a, "queued"), 0);
    cr_assert_eq(count_of(a, "running"), 1);
    cr_assert_eq(count_of(a, "succeeded"), 0);
    cr_assert_eq(count_of(a, "failed"), 1);
    cr_assert_eq(count_of(a, "retry_wait"), 1);
    cr_assert_eq(count_of(a, "skipped"), 1);
    cr_assert_eq(count_of(a, "cancelled"), 0);
    cr_assert_not_null(hr_jstr(a, "created"));
    json_t *b = json_array_get(jobs, 0);
    cr_assert_str_eq(hr_jstr(b, "status"), "queued");
    cr_assert_eq(count_of(b, "queued"), 2);

    json_t *one = ctl_json("jobs", "--limit", "1", NULL);
    cr_assert_eq(json_array_size(one), 1);
    cr_assert_str_eq(hr_jstr(json_array_get(one, 0), "id"), JOB_B);

    /* the table: header, one row per job, OTHER = captcha + skipped + uncertain + cancelled */
    run_t r = ctl("jobs", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_null(strchr(r.out, '\033'), "colour on a pipe: %s", r.out);
    cr_assert(strncmp(r.out, "ID ", 3) == 0, "%s", r.out);
    const char *hdr[] = {"STATUS", "TOTAL", "QUEUED", "RUNNING", "SUCCEEDED",
                         "FAILED", "RETRY", "OTHER",  "CREATED"};
    for (size_t i = 0; i < sizeof hdr / sizeof *hdr; i++)
        cr_assert(strstr(r.out, hdr[i]), "no %s in %s", hdr[i], r.out);
    const char *row = strstr(r.out, JOB_A);
    cr_assert(row, "%s", r.out);
    char status[32];
    int total, q, run, ok, failed, retry, other;
    cr_assert_eq(sscanf(row + strlen(JOB_A), "%31s %d %d %d %d %d %d %d", status, &total, &q, &run,
                        &ok, &failed, &retry, &other),
                 8, "%s", row);
    cr_assert_str_eq(status, "running");
    cr_assert(total == 4 && q == 0 && run == 1 && ok == 0 && failed == 1 && retry == 1 &&
                  other == 1,
              "%s", row);
    /* columns are aligned: the STATUS column starts at the same offset on every line */
    const char *b_row = strstr(r.out, JOB_B);
    const char *b_line = b_row, *a_line = row;
    cr_assert_eq(strstr(b_line, "queued") - b_line, strstr(a_line, "running") - a_line);
    cr_assert_eq(strstr(r.out, "STATUS") - r.out, strstr(a_line, "running") - a_line);
}

Test(prospectctl, job_shows_counts_stages_and_progress)
{
    json_t *j = ctl_json("job", JOB_A, NULL);
    cr_assert_str_eq(hr_jstr(j, "id"), JOB_A);
    cr_assert_str_eq(hr_jstr(j, "status"), "running");
    cr_assert_eq(hr_jint(j, "total", -1), 4);
    json_t *counts = json_object_get(j, "counts");
    cr_assert_eq(json_object_size(counts), 9, "%s", hr_jdump(counts));
    cr_assert_eq(count_of(j, "running"), 1);
    cr_assert_eq(count_of(j, "failed"), 1);
    cr_assert_eq(count_of(j, "retry_wait"), 1);
    cr_assert_eq(count_of(j, "skipped"), 1);
    cr_assert_eq(count_of(j, "captcha_required"), 0);
    cr_assert_eq(count_of(j, "uncertain"), 0);
    json_t *stages = json_object_get(j, "stages");
    cr_assert_eq(json_array_size(stages), 3);
    cr_assert_str_eq(json_string_value(json_array_get(stages, 1)), "compose");
    cr_assert_str_eq(hr_jstr(j, "campaign_id"), "c-001");
    cr_assert_not_null(hr_jstr(j, "created"));
    cr_assert_not_null(hr_jstr(j, "started"));
    cr_assert(hr_jnull(j, "finished"));
    cr_assert_eq(hr_jint(j, "done", -1), 2);
    cr_assert_float_eq(json_number_value(json_object_get(j, "progress")), 50.0, 1e-9);
    cr_assert_eq(hr_jint(json_object_get(j, "max_attempts"), "enrich", -1), 1);

    run_t r = ctl("job", JOB_A, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "progress  50.0% (2 of 4 tasks finished)"), "%s", r.out);
    cr_assert(strstr(r.out, "stages    enrich,compose,submit"), "%s", r.out);
    for (int s = 0; s < PA_NSTATES; s++)
        cr_assert(strstr(r.out, pa_task_states[s]), "no %s in %s", pa_task_states[s], r.out);

    r = ctl("job", "j-nope", NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "no job j-nope"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
}

Test(prospectctl, tasks_in_order_and_filtered_by_state)
{
    json_t *all = ctl_json("tasks", JOB_A, NULL);
    cr_assert_eq(json_array_size(all), 4, "%s", hr_jdump(all));
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(hr_jstr(json_array_get(all, i), "task"), hr_fmt("%06zu", i + 1));
    json_t *t1 = json_array_get(all, 0);
    cr_assert_str_eq(hr_jstr(t1, "stage"), "compose");
    cr_assert_str_eq(hr_jstr(t1, "state"), "retry_wait");
    cr_assert_eq(hr_jint(t1, "attempt", -1), 1);
    cr_assert_str_eq(hr_jstr(t1, "error"), "llm busy");
    cr_assert_str_eq(hr_jstr(t1, "key"), JOB_A ":000001");
    cr_assert_str_eq(hr_jstr(t1, "target"), "https://example.com/contact/1");

    json_t *failed = ctl_json("tasks", JOB_A, "--state", "failed", NULL);
    cr_assert_eq(json_array_size(failed), 1, "%s", hr_jdump(failed));
    json_t *t2 = json_array_get(failed, 0);
    cr_assert_str_eq(hr_jstr(t2, "task"), "000002");
    cr_assert_str_eq(hr_jstr(t2, "error"), "gave up after 1 attempts: " LONG_ERROR);

    json_t *running = ctl_json("tasks", JOB_A, "--state=running", NULL);
    cr_assert_eq(json_array_size(running), 1);
    cr_assert_str_eq(hr_jstr(json_array_get(running, 0), "task"), "000004");
    cr_assert_str_eq(hr_jstr(json_array_get(running, 0), "worker"), "w-2");

    cr_assert_eq(json_array_size(ctl_json("tasks", JOB_A, "--state", "succeeded", NULL)), 0);
    cr_assert_eq(json_array_size(ctl_json("tasks", JOB_A, "--limit", "2", NULL)), 2);
    cr_assert_eq(json_array_size(ctl_json("tasks", JOB_B, "--state", "queued", NULL)), 2);

    /* the table truncates the error to 60 characters when stdout is not a terminal */
    run_t r = ctl("tasks", JOB_A, "--state", "failed", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strncmp(r.out, "TASK", 4) == 0, "%s", r.out);
    const char *row = strstr(r.out, "000002");
    cr_assert(row, "%s", r.out);
    const char *err = strstr(row, "gave up after");
    cr_assert(err, "%s", row);
    const char *eol = strchr(err, '\n');
    cr_assert_eq(eol - err, 60, "error column is %td wide: %s", eol - err, row);
    cr_assert(strncmp(eol - 3, "...", 3) == 0, "%s", row);
    cr_assert_null(strstr(r.out, "000001"), "filter ignored: %s", r.out);

    r = ctl("tasks", "j-nope", NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "no job j-nope"), "%s", r.err);
    r = ctl("tasks", JOB_A, "--state", "bogus", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage:"), "%s", r.err);
}

Test(prospectctl, queues_show_depths)
{
    json_t *q = ctl_json("queues", NULL);
    json_t *ready = json_object_get(q, "ready");
    cr_assert_eq(hr_jint(ready, "mcp", -1), 2, "%s", hr_jdump(q));
    cr_assert_eq(hr_jint(ready, "llm", -1), 0);
    cr_assert_eq(hr_jint(ready, "form", -1), 0);
    cr_assert_eq(hr_jint(q, "delayed", -1), 1);
    cr_assert_eq(hr_jint(q, "inflight", -1), 1);
    cr_assert_eq(hr_jint(q, "dead", -1), 1);

    run_t r = ctl("queues", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "pa:ready:mcp"), "%s", r.out);
    cr_assert(strstr(r.out, "pa:delayed"), "%s", r.out);

    /* entries of cancelled tasks (cancel.lua counts them in ready:<service>:dead) are not
     * waiting: the depth shown is of the tasks that wait */
    redisReply *rep = pa_redis_cmd(rc, "SET pa:ready:mcp:dead 1");
    freeReplyObject(rep);
    q = ctl_json("queues", NULL);
    cr_assert_eq(hr_jint(json_object_get(q, "ready"), "mcp", -1), 1, "%s", hr_jdump(q));
    rep = pa_redis_cmd(rc, "DEL pa:ready:mcp:dead");
    freeReplyObject(rep);
}

Test(prospectctl, dead_letters)
{
    json_t *d = ctl_json("dead", NULL);
    cr_assert_eq(json_array_size(d), 1, "%s", hr_jdump(d));
    json_t *e = json_array_get(d, 0);
    cr_assert_str_eq(hr_jstr(e, "task"), JOB_A ":000002");
    cr_assert_str_eq(hr_jstr(e, "job"), JOB_A);
    cr_assert_str_eq(hr_jstr(e, "stage"), "enrich");
    cr_assert_eq(hr_jint(e, "attempts", -1), 1);
    cr_assert_str_eq(hr_jstr(e, "reason"), "gave up after 1 attempts: " LONG_ERROR);
    cr_assert_not_null(hr_jstr(e, "at"));

    run_t r = ctl("dead", "--limit", "5", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "REASON"), "%s", r.out);
    cr_assert(strstr(r.out, JOB_A ":000002"), "%s", r.out);
}

Test(prospectctl, requeue_moves_a_failed_task_back)
{
    run_t r = ctl("requeue", JOB_A ":000002", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "requeued " JOB_A ":000002"), "%s", r.out);
    cr_assert_str_eq(rstr("HGET %s %s", "pa:task:" JOB_A ":000002", "state"), "queued");
    cr_assert_str_eq(rstr("HGET %s %s", "pa:task:" JOB_A ":000002", "attempt"), "0");
    cr_assert_str_eq(rstr("HGET %s %s", "pa:job:" JOB_A, "failed"), "0");
    cr_assert_str_eq(rstr("HGET %s %s", "pa:job:" JOB_A, "queued"), "1");
    cr_assert_eq(rint_("LLEN %s%s", "pa:ready:", "mcp"), 3);
    cr_assert_str_eq(rstr("LINDEX %s %s", "pa:ready:mcp", "0"), JOB_A ":000002");

    /* now it is queued, not failed; "J T" with a short task number; a task that is not there */
    r = ctl("requeue", JOB_A ":000002", NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "is queued"), "%s", r.err);
    r = ctl("requeue", JOB_A, "3", NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, JOB_A ":000003 is skipped"), "%s", r.err);
    r = ctl("--json", "requeue", JOB_A, "000099", NULL);
    cr_assert_eq(r.status, 1);
    json_t *j = hr_jparse(r.out);
    cr_assert(j, "%s", r.out);
    cr_assert(json_is_false(json_object_get(j, "requeued")));
    cr_assert_str_eq(hr_jstr(j, "result"), "notfound");
    r = ctl("requeue", "no-colon", NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(rint_("LLEN %s%s", "pa:ready:", "mcp"), 3);
}

/* The gateway's /api/queues, /api/dead and /api/tasks/{id}/requeue (the dashboard's) answer
 * what prospectctl shows, on the same engine state. */
Test(prospectctl, the_api_shows_the_same_queues_and_dead_letters)
{
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"DISPATCH_BIND=", NULL});
    hr_resp_t *qr = hr_get(gw, "/api/queues");
    cr_assert_eq(qr->status, 200, "%s", hr_describe(qr));
    json_t *api = hr_json(qr), *cli = ctl_json("queues", NULL);
    cr_assert(json_equal(api, cli), "API %s, prospectctl %s", hr_jdump(api), hr_jdump(cli));
    cr_assert_eq(hr_jint(api, "dead", -1), 1);
    /* after Redis lost its scripts (a restart, a failover to a replica): the same answer */
    redisReply *fl = pa_redis_cmd(rc, "SCRIPT FLUSH");
    cr_assert(fl && fl->type == REDIS_REPLY_STATUS);
    freeReplyObject(fl);
    hr_resp_t *q2 = hr_get(gw, "/api/queues");
    cr_assert_eq(q2->status, 200, "%s", hr_describe(q2));
    cr_assert(json_equal(hr_json(q2), cli), "%s", q2->body);

    hr_resp_t *dr = hr_get(gw, "/api/dead?limit=10");
    cr_assert_eq(dr->status, 200, "%s", hr_describe(dr));
    json_t *items = json_object_get(hr_json(dr), "items");
    cr_assert_eq(json_array_size(items), 1, "%s", dr->body);
    json_t *e = json_array_get(items, 0);
    cr_assert_str_eq(hr_jstr(e, "task_id"), JOB_A "-000002");
    cr_assert_str_eq(hr_jstr(e, "job_id"), JOB_A);
    cr_assert_str_eq(hr_jstr(e, "stage"), "enrich");
    cr_assert_eq(hr_jint(e, "attempts", -1), 1);
    cr_assert_str_eq(hr_jstr(e, "reason"), "gave up after 1 attempts: " LONG_ERROR);
    cr_assert_str_eq(hr_jstr(e, "state"), "failed");
    cr_assert_eq(hr_jint(hr_json(dr), "total", -1), 1);
    cr_assert(hr_jnull(hr_json(dr), "next_cursor"));
    cr_assert_str_eq(hr_header(dr, "X-Total-Count"), "1");
    hr_assert_problem(hr_get(gw, "/api/dead?limit=0"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, "/api/dead?cursor=x"), 400, "invalid-field", "cursor");
    hr_assert_problem(hr_get(gw, "/api/dead?offset=1"), 400, "invalid-field", "offset");
}

Test(prospectctl, the_api_requeues_a_failed_task)
{
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"DISPATCH_BIND=", NULL});
    hr_resp_t *r = hr_post(gw, "/api/tasks/" JOB_A "-000002/requeue", NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "task_id"), JOB_A "-000002");
    cr_assert_str_eq(hr_jstr(hr_json(r), "state"), "queued");
    cr_assert_str_eq(rstr("HGET %s %s", "pa:task:" JOB_A ":000002", "state"), "queued");
    cr_assert_eq(rint_("LLEN %s%s", "pa:ready:", "mcp"), 3);
    /* the dead letter stays in the list (a log), showing the task's state now */
    hr_resp_t *d = hr_get(gw, "/api/dead");
    cr_assert_str_eq(hr_jstr(json_array_get(json_object_get(hr_json(d), "items"), 0), "state"),
                     "queued", "%s", d->body);
    /* again: it is queued, not failed; a skipped task; no such task; not a task id */
    r = hr_post(gw, "/api/tasks/" JOB_A "-000002/requeue", NULL);
    hr_assert_problem(r, 409, "conflict", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "queued"), "%s", r->body);
    hr_assert_problem(hr_post(gw, "/api/tasks/" JOB_A "-000003/requeue", NULL), 409, "conflict",
                      NULL);
    hr_assert_problem(hr_post(gw, "/api/tasks/" JOB_A "-000099/requeue", NULL), 404, "not-found",
                      NULL);
    hr_assert_problem(hr_post(gw, "/api/tasks/no-number/requeue", NULL), 404, "not-found", NULL);
    cr_assert_eq(rint_("LLEN %s%s", "pa:ready:", "mcp"), 3);
}

Test(prospectctl, workers_with_age_and_tasks)
{
    uint64_t now = pa_wall_ms();
    const char *w1 = hr_fmt("{\"service\":\"llm\",\"capacity\":4,\"credit\":3,\"gateway\":\"gw-1\","
                            "\"last_seen_ms\":%llu}",
                            (unsigned long long)now);
    const char *w2 = hr_fmt("{\"service\":\"mcp\",\"capacity\":2,\"credit\":0,\"gateway\":\"gw-2\","
                            "\"last_seen_ms\":%llu}",
                            (unsigned long long)now - 60000);
    cr_assert_eq(rint_("HSET pa:workers w-1 %s", w1, NULL), 1);
    cr_assert_eq(rint_("HSET pa:workers w-2 %s", w2, NULL), 1);

    json_t *ws = ctl_json("workers", NULL);
    cr_assert_eq(json_array_size(ws), 2, "%s", hr_jdump(ws));
    json_t *a = find(ws, "worker", "w-1"), *b = find(ws, "worker", "w-2");
    cr_assert(a && b, "%s", hr_jdump(ws));
    cr_assert_str_eq(hr_jstr(a, "service"), "llm");
    cr_assert_eq(hr_jint(a, "capacity", -1), 4);
    cr_assert_eq(hr_jint(a, "credit", -1), 3);
    cr_assert_str_eq(hr_jstr(a, "gateway"), "gw-1");
    cr_assert(json_is_false(json_object_get(a, "stale")));
    cr_assert_eq(hr_jint(a, "tasks", -1), 0);
    cr_assert(json_is_true(json_object_get(b, "stale")));
    cr_assert_geq(hr_jint(b, "age_ms", -1), 60000);
    cr_assert_eq(hr_jint(b, "tasks", -1), 1); /* 000004 is leased to w-2 */

    run_t r = ctl("workers", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *l2 = strstr(r.out, "w-2");
    cr_assert(l2 && strstr(l2, "stale"), "%s", r.out);
    const char *l1 = strstr(r.out, "w-1");
    cr_assert(l1 && strstr(l1, "ok") && strstr(l1, "ok") < l2, "%s", r.out);
}

/* Waits until a client is blocked in XREAD (the watch has started reading). */
static void wait_for_xread(void)
{
    uint64_t deadline = hr_now_ms() + 10000;
    for (;;) {
        redisReply *rep = pa_redis_cmd(rc, "CLIENT LIST");
        cr_assert(rep && rep->type != REDIS_REPLY_ERROR);
        int found = rep->str && strstr(rep->str, "cmd=xread") != NULL;
        freeReplyObject(rep);
        if (found) return;
        cr_assert(hr_now_ms() < deadline, "prospectctl watch never blocked in XREAD");
        hr_sleep_ms(20);
    }
}

static void xadd(const char *fields)
{
    redisReply *rep = pa_redis_cmd(rc, hr_fmt("XADD pa:events * %s", fields));
    cr_assert(rep && rep->type == REDIS_REPLY_STRING, "XADD %s", fields);
    freeReplyObject(rep);
}

/* An entry as the job engine writes task changes: a batch of one job's changes. */
static const char *xadd_batch(const char *job, const char *changes)
{
    redisReply *rep = pa_redis_cmd(rc, "XADD pa:events * job %s tasks %s", job, changes);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING, "XADD %s", changes);
    const char *id = hr_fmt("%s", rep->str);
    freeReplyObject(rep);
    return id;
}

Test(prospectctl, watch_prints_new_events_of_a_job)
{
    const char *argv[] = {CTL_BIN, "--redis", url,       "--json", "watch",
                          "--job", JOB_A,     "--count", "2",      NULL};
    int o, e;
    child = spawn(argv, &o, &e);
    wait_for_xread();
    xadd_batch(JOB_B, "[[\"000001\",\"enrich\",\"running\",\"1\",\"worker\",\"w-9\"]]");
    const char *id =
        xadd_batch(JOB_A, "[[\"000004\",\"enrich\",\"succeeded\",\"1\"],"
                          "[\"000001\",\"compose\",\"failed\",\"3\",\"error\",\"too slow\"]]");
    xadd("job " JOB_A " task 000002 stage compose state failed attempt 3"); /* past --count */
    run_t r = collect(child, o, e, 20000);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *nl = strchr(r.out, '\n');
    cr_assert(nl && strchr(nl + 1, '\n') && !strchr(nl + 1, '\n')[1], "two lines: %s", r.out);
    json_t *e1 = hr_jparse(hr_fmt("%.*s", (int)(nl - r.out), r.out));
    json_t *e2 = hr_jparse(nl + 1);
    cr_assert(e1 && e2, "%s", r.out);
    cr_assert_str_eq(hr_jstr(e1, "job"), JOB_A);
    cr_assert_str_eq(hr_jstr(e1, "task"), "000004");
    cr_assert_str_eq(hr_jstr(e1, "state"), "succeeded");
    cr_assert_eq(hr_jint(e1, "attempt", -1), 1);
    cr_assert_not_null(hr_jstr(e1, "time"));
    cr_assert_str_eq(hr_jstr(e1, "id"), id);
    cr_assert_str_eq(hr_jstr(e2, "id"), hr_fmt("%s.1", id), "the second change of the entry");
    cr_assert_str_eq(hr_jstr(e2, "error"), "too slow");
    cr_assert_str_eq(hr_jstr(e2, "stage"), "compose");

    /* as text, any job: one line per event; SIGTERM ends it with status 0 */
    const char *argv2[] = {CTL_BIN, "--redis", url, "watch", NULL};
    child = spawn(argv2, &o, &e);
    wait_for_xread();
    /* an entry written one change each (as before batches) is read too */
    xadd("job " JOB_B " task 000002 stage enrich state running attempt 1 worker w-7");
    xadd_batch(JOB_B, "[[\"000003\",\"submit\",\"captcha_required\",\"2\"]]");
    hr_sleep_ms(300);
    kill(child, SIGTERM);
    r = collect(child, o, e, 20000);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, JOB_B "  000002  enrich   running"), "%s", r.out);
    cr_assert(strstr(r.out, "attempt 1  worker=w-7"), "%s", r.out);
    cr_assert(strstr(r.out, JOB_B "  000003  submit   captcha_required  attempt 2"), "%s", r.out);
}

Test(prospectctl, usage_and_connection_errors)
{
    run_t r = ctl("frobnicate", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown command 'frobnicate'") && strstr(r.err, "usage:"), "%s",
              r.err);
    r = ctl("jobs", "--bogus", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage:"), "%s", r.err);
    r = ctl("queues", "--limit", "3", NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    r = ctl("jobs", "--limit", "x", NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    r = ctl(NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    r = ctl("--help", NULL);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: prospectctl"), "%s", r.out);

    /* the private Redis's port, but stopped: the message names the URL without the password */
    int port = hr_redis_port(rd);
    hr_redis_stop(rd);
    setenv("REDIS_URL", hr_fmt("redis://:hunter2@127.0.0.1:%d/0", port), 1);
    const char *argv[] = {CTL_BIN, "jobs", NULL};
    int o, e;
    pid_t pid = spawn(argv, &o, &e);
    r = collect(pid, o, e, 20000);
    unsetenv("REDIS_URL");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, hr_fmt("cannot reach Redis at redis://***@127.0.0.1:%d/0", port)), "%s",
              r.err);
    cr_assert_null(strstr(r.err, "hunter2"), "%s", r.err);
}

Test(prospectctl, prefix_selects_other_keys)
{
    json_t *j = ctl_json("--prefix", "other:", "jobs", NULL);
    cr_assert_eq(json_array_size(j), 0, "%s", hr_jdump(j));
    setenv("REDIS_PREFIX", "other:", 1);
    run_t r = ctl("job", JOB_A, NULL);
    unsetenv("REDIS_PREFIX");
    cr_assert_eq(r.status, 1, "%s", r.out);
}

/* ---- the password never in argv ------------------------------------------------------------ */

static run_t collect_argv(const char *const *argv)
{
    int o, e;
    pid_t pid = spawn(argv, &o, &e);
    return collect(pid, o, e, 20000);
}

/* 1 when the command line of pid holds s (/proc/<pid>/cmdline, NULs between the arguments). */
static int cmdline_has(pid_t pid, const char *s)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    for (ssize_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, s) != NULL;
}

Test(prospectctl, a_password_on_the_command_line_is_refused)
{
    const char *argv[] = {CTL_BIN, "--redis",
                          hr_fmt("redis://:hunter2@127.0.0.1:%d/0", hr_redis_port(rd)), "jobs",
                          NULL};
    run_t r = collect_argv(argv);
    cr_assert_eq(r.status, 2, "a password in --redis was used: %s", r.out);
    cr_assert(strstr(r.err, "REDIS_URL") && strstr(r.err, "REDIS_PASSWORD_FILE"), "%s", r.err);
    cr_assert_null(strstr(r.err, "hunter2"), "%s", r.err);
    const char *acl[] = {CTL_BIN, "--redis",
                         hr_fmt("redis://ops:hunter2@127.0.0.1:%d/0", hr_redis_port(rd)), "jobs",
                         NULL};
    r = collect_argv(acl);
    cr_assert_eq(r.status, 2, "a user's password in --redis was used: %s", r.out);
}

Test(prospectctl, the_password_comes_from_the_environment_or_a_file_never_argv)
{
    hr_redis_opts_t opts = {.password = "pw-Quartz-77"};
    hr_redis_t *locked = hr_redis_start(&opts);
    cr_assert_not(cmdline_has(hr_redis_pid(locked), "pw-Quartz-77"),
                  "redis-server got its password on the command line");
    /* REDIS_URL in the environment */
    setenv("REDIS_URL", hr_redis_url(locked, 0), 1);
    const char *jobs[] = {CTL_BIN, "--json", "jobs", NULL};
    int o, e;
    run_t r = collect_argv(jobs);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* a running prospectctl (watch) holds no password in its arguments */
    const char *watch[] = {CTL_BIN, "watch", NULL};
    pid_t pid = spawn(watch, &o, &e);
    child = pid;
    hr_sleep_ms(300);
    cr_assert_not(cmdline_has(pid, "pw-Quartz-77"), "the password is in prospectctl's argv");
    kill(pid, SIGTERM);
    collect(pid, o, e, 20000);
    unsetenv("REDIS_URL");
    /* REDIS_PASSWORD_FILE with a URL that names no password */
    const char *pwfile =
        hr_fmt("%s/pa-pw-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    FILE *f = fopen(pwfile, "w");
    cr_assert_not_null(f);
    fputs("pw-Quartz-77\n", f);
    fclose(f);
    setenv("REDIS_PASSWORD_FILE", pwfile, 1);
    const char *byfile[] = {
        CTL_BIN,  "--redis", hr_fmt("redis://127.0.0.1:%d/0", hr_redis_port(locked)),
        "--json", "jobs",    NULL};
    r = collect_argv(byfile);
    unsetenv("REDIS_PASSWORD_FILE");
    unlink(pwfile);
    cr_assert_eq(r.status, 0, "with REDIS_PASSWORD_FILE: %s", r.err);
    /* without either, Redis refuses */
    r = collect_argv(byfile);
    cr_assert_eq(r.status, 1, "no password, yet: %s", r.out);
    cr_assert_not_null(strstr(r.err, "NOAUTH"), "%s", r.err);
}
