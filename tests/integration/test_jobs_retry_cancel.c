/* A retry that lands on a cancelled job ends `cancelled`, not `failed` and dead-lettered (issue
 * 9), with a real gateway, a real redis-server, real prospect-test-worker processes answering
 * transient errors, and prospectctl: a task whose try answers "retry" after its job was
 * cancelled (an operator sent a failed task of the cancelled job round again) ends cancelled,
 * with no second dead letter and the job's counts still adding up; and a task waiting for its
 * retry when the cancel comes ends cancelled and is never tried again. */
#include <criterion/criterion.h>
#include <string.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_retry_cancel, .fini = jf_cleanup, .timeout = 90);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static const char *task_state(const char *jid, const char *tid)
{
    redisReply *r = jf_rcmd(rd, "HGET pa:task:%s:%s state", jid, tid);
    const char *s = r && r->type == REDIS_REPLY_STRING ? hr_fmt("%s", r->str) : "(none)";
    if (r) freeReplyObject(r);
    return s;
}

/* Waits until the task's state is want (fails the test after timeout_ms). */
static void wait_state(const char *jid, const char *tid, const char *want, int timeout_ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    const char *s;
    while (strcmp(s = task_state(jid, tid), want) != 0) {
        cr_assert_lt(hr_now_ms(), deadline, "task %s:%s is %s, never %s", jid, tid, s, want);
        hr_sleep_ms(20);
    }
}

Test(jobs_retry_cancel, a_retry_answered_after_the_cancel_ends_cancelled_not_failed)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "MAX_ATTEMPTS_SUBMIT=3", NULL});
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw),
                    (const char *[]){"WORKER_CAPACITY=4", NULL});
    jf_wait_workers(gw, "form", 1, 5000);
    /* task 1 answers a transient error at every try; task 2 runs until it is cancelled */
    const char *jid =
        jf_run(gw, jf_body("[{\"url\":\"r1.example\",\"variables\":{\"test\":\"retry\"}},"
                           "{\"url\":\"w1.example\",\"variables\":{\"test\":\"wait_cancel\"}}]",
                           SUBMIT_ONLY));
    /* its three tries spent, task 1 fails and is dead-lettered, while task 2 still runs */
    wait_state(jid, "000001", "failed", 10000);
    wait_state(jid, "000002", "running", 5000);
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:dead"), 1);
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    json_t *job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "failed"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "cancelled"), 1, "%s", hr_jdump(job));

    /* the operator sends the failed task round again: the worker answers "retry" once more,
     * now for a cancelled job */
    int st = -1;
    const char *out = jf_ctl(rd, (const char *[]){"requeue", hr_fmt("%s:000001", jid), NULL}, &st);
    cr_assert_eq(st, 0, "prospectctl requeue: %s", out);
    uint64_t deadline = hr_now_ms() + 10000;
    const char *s;
    while ((strcmp(s = task_state(jid, "000001"), "queued") == 0 || strcmp(s, "running") == 0) &&
           hr_now_ms() < deadline)
        hr_sleep_ms(20);
    json_t *task = jf_hgetall(rd, hr_fmt("pa:task:%s:000001", jid));
    cr_assert_str_eq(s, "cancelled", "the retry of a cancelled job's task ended %s: %s", s,
                     hr_jdump(task));
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:dead"), 1, "a second dead letter: %s", hr_jdump(task));
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:delayed"), 0, "the cancelled task waits to retry");
    job = jf_job(gw, jid);
    cr_assert_eq(jf_count(job, "failed"), 0, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "cancelled"), 2, "%s", hr_jdump(job));
    cr_assert_str_eq(hr_jstr(job, "status"), "cancelled");
    jf_assert_counts_add_up(job);
}

Test(jobs_retry_cancel, a_task_waiting_for_its_retry_when_the_cancel_comes_is_never_tried_again)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "MAX_ATTEMPTS_SUBMIT=3", NULL});
    /* the worker asks for its retry 1 s later */
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw),
                    (const char *[]){"RETRY_BASE_MS=1000", "RETRY_CAP_MS=1000", NULL});
    jf_wait_workers(gw, "form", 1, 5000);
    const char *jid = jf_run(gw, jf_body("[{\"url\":\"r1.example\",\"variables\":{\"test\":"
                                         "\"retry\"}}]",
                                         SUBMIT_ONLY));
    wait_state(jid, "000001", "retry_wait", 10000);
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    hr_sleep_ms(1500); /* past the retry's due time: maintenance runs every 200 ms */
    cr_assert_str_eq(task_state(jid, "000001"), "cancelled");
    cr_assert_eq(jf_rint(rd, -1, "HGET pa:task:%s:000001 attempt", jid), 1, "tried again");
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:dead"), 0);
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:delayed"), 0);
    json_t *job = jf_job(gw, jid);
    cr_assert_eq(jf_count(job, "cancelled"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "failed"), 0, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
}
