/* Cancelling a job costs work in the size of that job, not of the queue it waits in (issue 9),
 * with a real gateway, a real redis-server and a real prospect-test-worker: the commands Redis
 * ran for the cancel of a 10-task job, counted by Redis itself (INFO commandstats), are the same
 * whether 10 or 100,000 tasks of another job wait in the same queue; the queue bound
 * (MAX_QUEUED_TASKS) counts only the tasks that still wait; and a worker's dispatch drops the
 * entries the cancelled tasks left, so the queue drains and the dead count goes back to 0. */
#include <criterion/criterion.h>
#include <string.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_queue, .fini = jf_cleanup, .timeout = 240);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

/* The commands a cancel can cost (cancel.lua's, and a queue rewrite's), counted by Redis. The
 * gateway's own background calls (the maintenance script's ZRANGEBYSCORE, SMEMBERS and ZCARD,
 * the followers' XREAD, the sync thread's GET) are not among them. */
static const char *const COUNTED[] = {"hmget",  "hset",  "hincrby", "xadd",   "zrem", "incrby",
                                      "lrange", "lpush", "rpush",   "del",    "llen", "expire",
                                      "lrem",   "ltrim", "lset",    "unlink", NULL};

/* calls per counted command since the last CONFIG RESETSTAT (harness-owned object) */
static json_t *command_calls(void)
{
    redisReply *r = jf_rcmd(rd, "INFO commandstats");
    cr_assert(r && r->type == REDIS_REPLY_STRING, "INFO commandstats: no answer");
    json_t *o = hr_jkeep(json_object());
    for (int i = 0; COUNTED[i]; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "cmdstat_%s:calls=", COUNTED[i]);
        const char *p = strstr(r->str, pat);
        json_object_set_new(o, COUNTED[i], json_integer(p ? atoll(p + strlen(pat)) : 0));
    }
    freeReplyObject(r);
    return o;
}

/* Creates a job of `other` tasks, then one of 10, cancels the 10-task job and answers the
 * commands Redis ran for that cancel. The other job's id goes to *other_id. */
static json_t *cancel_cost(int other, const char *tag, const char **other_id)
{
    *other_id = jf_run(gw, jf_body(jf_targets(other, hr_fmt("o%s-", tag), NULL), SUBMIT_ONLY));
    const char *small = jf_run(gw, jf_body(jf_targets(10, hr_fmt("s%s-", tag), NULL), SUBMIT_ONLY));
    redisReply *x = jf_rcmd(rd, "CONFIG RESETSTAT");
    cr_assert(x);
    freeReplyObject(x);
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", small), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    json_t *calls = command_calls();
    json_t *job = jf_wait_status(gw, small, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "cancelled"), 10, "%s", hr_jdump(job));
    return calls;
}

Test(jobs_queue, cancelling_a_small_job_costs_the_same_whatever_waits_in_its_queue)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "MAX_TARGETS=100000",
                                               "MAX_BODY_BYTES=8388608", "MAX_QUEUED_TASKS=100030",
                                               NULL});
    const char *o1, *o2;
    json_t *few = cancel_cost(10, "a", &o1);
    json_t *many = cancel_cost(100000, "b", &o2);
    for (int i = 0; COUNTED[i]; i++)
        cr_assert_eq(hr_jint(many, COUNTED[i], -1), hr_jint(few, COUNTED[i], -1),
                     "%s: the cancel of 10 tasks ran it %lld times with 100,000 other tasks "
                     "queued, %lld times with 10 (with 10: %s; with 100,000: %s)",
                     COUNTED[i], hr_jint(many, COUNTED[i], -1), hr_jint(few, COUNTED[i], -1),
                     hr_jdump(few), hr_jdump(many));
    cr_assert_eq(hr_jint(many, "lrange", -1), 0, "the cancel read the queue");
    cr_assert_eq(hr_jint(many, "rpush", -1), 0, "the cancel rewrote the queue");
    long long qlen = jf_rint(rd, -1, "LLEN pa:ready:form");
    cr_assert_eq(qlen, 100030, "LLEN pa:ready:form = %lld", qlen);
    cr_assert_eq(jf_rint(rd, -1, "GET pa:ready:form:dead"), 20);

    /* the bound counts the tasks that wait: 100,010 now, so 20 more fit, not 21 */
    hr_assert_problem(hr_post(gw, JF_RUN, jf_body(jf_targets(21, "x", NULL), SUBMIT_ONLY)), 503,
                      "queue-full", NULL);
    /* the big job cancelled (its own cost is its size): its room comes back at once */
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", o2), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    cr_assert_eq(jf_rint(rd, -1, "GET pa:ready:form:dead"), 100020);
    const char *big = jf_run(gw, jf_body(jf_targets(100000, "y", NULL), SUBMIT_ONLY));
    c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", big), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));

    /* a worker drains the queue: the 10 tasks that wait run, the dead entries are dropped */
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    json_t *job = jf_wait_status(gw, o1, "completed", 30000);
    cr_assert_eq(jf_count(job, "succeeded"), 10, "%s", hr_jdump(job));
    uint64_t deadline = hr_now_ms() + 60000;
    while (jf_rint(rd, -1, "LLEN pa:ready:form") > 0 && hr_now_ms() < deadline) hr_sleep_ms(100);
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 0, "the dead entries were not dropped");
    cr_assert_eq(jf_rint(rd, -1, "EXISTS pa:ready:form:dead"), 0, "the dead count is left");
}
