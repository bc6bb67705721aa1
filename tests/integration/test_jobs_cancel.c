/* Cancellation that reaches running tasks, and the task's attempt numbers, as a user and an
 * operator see them with the real gateway, real Redis and real prospect-test-worker processes:
 * a cancelled job's running tasks end `cancelled` at once and the worker holding them stops
 * them (and takes new work); a claim made after the cancel answers `cancelled` and takes
 * nothing; the counts of GET /api/jobs/{id} stay consistent; a task learns it is on its last
 * attempt from the engine; a daemon's own Redis calls are answered on the runtime's loop. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_cancel, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static void start(const char *const *env)
{
    const char *e[16];
    size_t n = 0;
    e[n++] = "HEARTBEAT_MS=200";
    for (size_t i = 0; env && env[i] && n < 15; i++) e[n++] = env[i];
    e[n] = NULL;
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, e);
}

/* Waits until the job has n running tasks. */
static void wait_running(const char *jid, long long n)
{
    uint64_t deadline = hr_now_ms() + 8000;
    for (;;) {
        json_t *job = jf_job(gw, jid);
        if (jf_count(job, "running") == n) return;
        cr_assert_lt(hr_now_ms(), deadline, "%lld tasks never ran: %s", n, hr_jdump(job));
        hr_sleep_ms(20);
    }
}

/* How many lines of a worker's log hold both a and b. */
static int log_lines(const jf_worker_t *w, const char *a, const char *b)
{
    int n = 0;
    const char *out = jf_worker_output(w);
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
        free(line);
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

/* Waits (at most timeout_ms) until a worker's log has n lines with a and b. */
static int wait_log(const jf_worker_t *w, const char *a, const char *b, int n, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    int got;
    while ((got = log_lines(w, a, b)) < n && hr_now_ms() < deadline) hr_sleep_ms(20);
    return got;
}

Test(jobs_cancel, cancelling_a_job_ends_its_running_tasks_at_once_and_the_worker_stops_them)
{
    start(NULL);
    jf_worker_t *w = jf_worker_start(rd, "form", "form-1", jf_endpoint(gw),
                                     (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(gw, "form", 1, 5000);
    /* four tasks that run until they are cancelled, and two that wait behind them */
    const char *jid = jf_run(gw, jf_body(jf_targets(6, "wc", "wait_cancel"), SUBMIT_ONLY));
    wait_running(jid, 4);
    uint64_t t0 = hr_now_ms();
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *job = hr_json(r);
    cr_assert_str_eq(hr_jstr(job, "status"), "cancelled", "%s", hr_describe(r));
    cr_assert_eq(jf_count(job, "cancelled"), 6, "every task, running ones too: %s", hr_describe(r));
    cr_assert_eq(jf_count(job, "running"), 0, "%s", hr_describe(r));
    jf_assert_counts_add_up(job);
    /* the worker hears of it (a CANCEL, or its lease check within a second) and stops them */
    int heard = wait_log(w, "\"task cancelled\"", jid, 4, 3000);
    cr_assert_eq(heard, 4, "the worker stopped %d of its 4 tasks within 3 s:\n%s", heard,
                 jf_worker_output(w));
    cr_assert_leq(hr_now_ms() - t0, 2500, "took %llu ms", (unsigned long long)(hr_now_ms() - t0));
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:worker:form-1:tasks"), 0, "the leases ended");
    /* its status record says so (pa_worker_set_status, published with the heartbeats) */
    uint64_t deadline = hr_now_ms() + 3000;
    while (jf_rint(rd, -1, "HGET pa:worker:form-1:status tasks_cancelled") != 4 &&
           hr_now_ms() < deadline)
        hr_sleep_ms(50);
    json_t *st = jf_hgetall(rd, "pa:worker:form-1:status");
    cr_assert_str_eq(hr_jstr(st, "tasks_cancelled") ? hr_jstr(st, "tasks_cancelled") : "-", "4",
                     "%s", hr_jdump(st));
    cr_assert_str_eq(hr_jstr(st, "service") ? hr_jstr(st, "service") : "-", "form");
    cr_assert_str_eq(hr_jstr(st, "held") ? hr_jstr(st, "held") : "-", "0", "%s", hr_jdump(st));
    /* the job stays as it was answered: every task once cancelled, nothing succeeded */
    job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "cancelled"), 6, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    json_t *ev = jf_events(rd, jid);
    for (int k = 1; k <= 6; k++) {
        const char *tid = hr_fmt("%06d", k);
        cr_assert_eq(jf_count_events(ev, tid, "cancelled"), 1, "task %s: %s", tid, hr_jdump(ev));
        cr_assert_eq(jf_count_events(ev, tid, "succeeded"), 0, "task %s: %s", tid, hr_jdump(ev));
    }
    /* the slots came back: the worker takes the next job */
    const char *next = jf_run(gw, jf_body(jf_targets(4, "after", NULL), SUBMIT_ONLY));
    job = jf_wait_status(gw, next, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 4, "%s", hr_jdump(job));
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

/* A log line's time ("ts": RFC 3339 with ms, UTC) in wall-clock ms; 0 when it has none. */
static uint64_t log_ts_ms(const json_t *line)
{
    const char *ts = hr_jstr(line, "ts");
    struct tm tm = {0};
    int ms = 0;
    if (!ts || sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    return (uint64_t)timegm(&tm) * 1000u + (uint64_t)ms;
}

/* When the worker's log says it stopped the task (on_cancel, "task cancelled"): wall-clock ms,
 * or 0 while it has not. */
static uint64_t cancelled_at(const jf_worker_t *w, const char *task)
{
    const char *out = jf_worker_output(w);
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *line = json_loadb(p, len, 0, NULL);
        uint64_t at = 0;
        if (line &&
            strcmp(hr_jstr(line, "msg") ? hr_jstr(line, "msg") : "", "task cancelled") == 0 &&
            strcmp(hr_jstr(line, "task_id") ? hr_jstr(line, "task_id") : "", task) == 0)
            at = log_ts_ms(line);
        json_decref(line);
        if (at) return at;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Watches Redis (MONITOR) until worker wid checks its leases on task (the renew script, which
 * names the worker and the task), then returns the wall-clock ms it saw it; 0 when it did not
 * within timeout_ms. */
static uint64_t wait_lease_check(const char *wid, const char *task, int timeout_ms)
{
    redisContext *c = jf_redis_connect(rd);
    cr_assert(c, "no connection to redis");
    redisReply *ok = redisCommand(c, "MONITOR");
    cr_assert(ok && ok->type == REDIS_REPLY_STATUS, "MONITOR refused");
    freeReplyObject(ok);
    char w[80], t[160];
    snprintf(w, sizeof w, "\"%s\"", wid);
    snprintf(t, sizeof t, "\"%s\"", task);
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms, seen = 0;
    while (!seen && hr_now_ms() < deadline) {
        redisReply *line = NULL;
        if (redisGetReply(c, (void **)&line) != REDIS_OK || !line) break;
        /* e.g. 1733471234.123456 [0 127.0.0.1:40000] "EVALSHA" "<sha>" "0" "pa:" "form-1" "1"
         * "j-...:000001" "<lease>" "0": the script's own commands come as [0 lua] lines */
        if (line->type == REDIS_REPLY_STATUS && !strstr(line->str, " lua]") &&
            strcasestr(line->str, "] \"eval") && strstr(line->str, w) && strstr(line->str, t))
            seen = jf_wall_ms();
        freeReplyObject(line);
    }
    redisFree(c);
    return seen;
}

Test(jobs_cancel, the_worker_hears_a_cancel_at_once_not_at_its_next_lease_check)
{
    /* The worker checks its leases every second (the runtime's CHECK_EVERY_MS, with this lease
     * time); a cancelled job's task is void from then on, so a worker that is not told learns
     * it at its next check, up to a second late. The dispatcher's CANCEL (gw_dispatch_cancel,
     * after cancel.lua named the worker) tells it at once. The cancel is sent right after a
     * lease check, so that only a CANCEL can reach the worker well within the second. */
    start((const char *[]){"LEASE_MS=30000", NULL});
    jf_worker_t *w = jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    jf_wait_workers(gw, "form", 1, 5000);
    const char *jid = jf_run(gw, jf_body(jf_targets(1, "now", "wait_cancel"), SUBMIT_ONLY));
    wait_running(jid, 1);
    const char *task = hr_fmt("%s:000001", jid);
    uint64_t checked = wait_lease_check("form-1", task, 5000);
    cr_assert(checked, "the worker never checked its lease on %s", task);
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    uint64_t answered = jf_wall_ms();
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(jf_count(hr_json(r), "cancelled"), 1, "%s", hr_describe(r));
    uint64_t deadline = hr_now_ms() + 3000, heard = 0;
    while (!(heard = cancelled_at(w, task)) && hr_now_ms() < deadline) hr_sleep_ms(10);
    cr_assert(heard, "the worker never stopped the task:\n%s", jf_worker_output(w));
    long long after_answer = (long long)(heard - answered),
              after_check = (long long)(heard - checked);
    cr_log_info("stopped %lld ms after the cancel's answer, %lld ms after the lease check",
                after_answer, after_check);
    cr_assert_lt(after_answer, 300,
                 "the worker stopped the task %lld ms after the cancel was answered (%lld ms "
                 "after its lease check): it was not told (CANCEL) but found out by its next "
                 "lease check\n%s",
                 after_answer, after_check, jf_worker_output(w));
    cr_assert_lt(after_check, 800,
                 "the worker stopped the task %lld ms after its last lease check: its next lease "
                 "check told it, not a CANCEL\n%s",
                 after_check, jf_worker_output(w));
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:worker:form-1:tasks"), 0, "the lease ended");
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(jobs_cancel, claim_after_the_cancel_answers_cancelled_and_takes_nothing)
{
    start(NULL);
    jf_worker_t *w = jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    jf_wait_workers(gw, "form", 1, 5000);
    /* a claim with nothing in the way is taken */
    const char *ok = jf_run(gw, jf_body(jf_targets(1, "claim", "claim"), SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, ok, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_rint(rd, -1, "EXISTS pa:claim:test:%s:000001", ok), 1, "the claim was taken");
    /* a task that claims 1.5 s after it started, cancelled meanwhile */
    const char *jid = jf_run(gw, jf_body(jf_targets(1, "late", "claim_after:1500"), SUBMIT_ONLY));
    wait_running(jid, 1);
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(jf_count(hr_json(r), "cancelled"), 1, "%s", hr_describe(r));
    int n = wait_log(w, "\"claim answered\"", hr_fmt("%s:000001", jid), 1, 5000);
    cr_assert_eq(n, 1, "the late task never claimed:\n%s", jf_worker_output(w));
    cr_assert_eq(log_lines(w, "\"claim answered\"", "\"claim\":\"cancelled\""), 1,
                 "a claim after the cancel must answer cancelled:\n%s", jf_worker_output(w));
    cr_assert_eq(jf_rint(rd, -1, "EXISTS pa:claim:test:%s:000001", jid), 0,
                 "a claim was taken after the cancel answered");
    /* the worker's late outcome changed nothing */
    job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "cancelled"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "failed"), 0, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:000001", jid));
    cr_assert_str_eq(hr_jstr(t, "state"), "cancelled", "%s", hr_jdump(t));
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(jobs_cancel, counts_stay_consistent_while_a_mixed_job_is_cancelled)
{
    start(NULL);
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw),
                    (const char *[]){"WORKER_CAPACITY=8", NULL});
    jf_wait_workers(gw, "form", 1, 5000);
    /* 20 tasks of mixed speeds: some succeed, some run, some wait when the cancel comes */
    const char *targets = jf_targets(20, "mix", "slow:300");
    const char *jid = jf_run(gw, jf_body(targets, SUBMIT_ONLY));
    uint64_t deadline = hr_now_ms() + 8000;
    while (jf_count(jf_job(gw, jid), "succeeded") < 4) {
        cr_assert_lt(hr_now_ms(), deadline, "nothing succeeded");
        hr_sleep_ms(20);
    }
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *at = hr_json(r);
    jf_assert_counts_add_up(at);
    long long ok = jf_count(at, "succeeded");
    cr_assert_eq(ok + jf_count(at, "cancelled"), 20, "%s", hr_describe(r));
    /* polled for a while: every answer adds up, and nothing moves after the cancel */
    for (int i = 0; i < 20; i++) {
        json_t *job = jf_job(gw, jid);
        jf_assert_counts_add_up(job);
        cr_assert_eq(jf_count(job, "succeeded"), ok, "a task succeeded after the cancel: %s",
                     hr_jdump(job));
        hr_sleep_ms(50);
    }
    json_t *job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "succeeded") + jf_count(job, "cancelled"), 20, "%s", hr_jdump(job));
    cr_assert_eq(jf_leased(rd), 0, "no lease is left");
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(jobs_cancel, a_task_knows_its_last_attempt)
{
    /* not the engine's default (3): the limit travels from the gateway's configuration */
    start((const char *[]){"MAX_ATTEMPTS_SUBMIT=4", NULL});
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    jf_wait_workers(gw, "form", 1, 5000);
    /* fails transiently unless it is the last attempt: it succeeds on the fourth */
    const char *jid = jf_run(gw, jf_body(jf_targets(1, "last", "transient"), SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, jid, "completed", 15000);
    cr_assert_eq(jf_count(job, "succeeded"), 1, "%s", hr_jdump(job));
    json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:000001", jid));
    cr_assert_str_eq(hr_jstr(t, "attempt"), "4", "%s", hr_jdump(t));
    json_t *res = hr_jkeep(json_loads(hr_jstr(t, "result_submit"), 0, NULL));
    cr_assert(json_is_object(res), "%s", hr_jdump(t));
    cr_assert_eq(hr_jint(res, "attempt", -1), 4, "%s", hr_jdump(res));
    cr_assert_eq(hr_jint(res, "max_attempts", -1), 4, "%s", hr_jdump(res));
    cr_assert(json_is_true(json_object_get(res, "last_attempt")), "%s", hr_jdump(res));
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(jobs_cancel, a_task_calls_redis_without_blocking_the_worker)
{
    start(NULL);
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    jf_wait_workers(gw, "form", 1, 5000);
    /* each task INCRs a counter on pa_worker_aredis and succeeds with the value it saw */
    const char *jid = jf_run(gw, jf_body(jf_targets(5, "count", "count"), SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 5, "%s", hr_jdump(job));
    cr_assert_eq(jf_rint(rd, -1, "GET pa:test:count:%s", jid), 5);
    int seen[6] = {0};
    for (int k = 1; k <= 5; k++) {
        json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:%06d", jid, k));
        json_t *res = hr_jkeep(json_loads(hr_jstr(t, "result_submit"), 0, NULL));
        long long n = hr_jint(res, "count", -1);
        cr_assert(n >= 1 && n <= 5 && !seen[n], "task %d counted %lld: %s", k, n, hr_jdump(t));
        seen[n] = 1;
    }
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}
