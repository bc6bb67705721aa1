/* A stale worker can't commit (issue 9, the worker link): commit and release check the worker id
 * as well as the lease token, and a lease token never repeats after a Redis restart that rolled
 * back its counter. Real gateway (its maintenance runs) and real Redis; the scripts are called as
 * a worker calls them. */
#include <signal.h>

#include "link_peer.h"
#include "pa_redis.h"

static hr_redis_t *rd;

TestSuite(link_stale, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static void lease(pa_redis_t *c, const char *wid, char key[128], char tok[72])
{
    pa_jobs_dispatch_in_t in = {
        .prefix = "pa:", .service = "form", .n = 1, .worker = wid, .lease_ms = 30000};
    pa_jobs_leases_t out;
    char err[256];
    cr_assert_eq(pa_jobs_dispatch_call(c, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.n, 1);
    snprintf(key, 128, "%s", out.tasks[0].key);
    snprintf(tok, 72, "%s", out.tasks[0].lease);
    pa_jobs_leases_free(&out);
}

Test(link_stale, commit_and_release_with_another_worker_id_are_refused)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    const char *jid = jf_run(g, jf_body(jf_targets(1, "stale", NULL), SUBMIT_ONLY));
    char err[256], key[128], tok[72];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    lease(c, "form-owner", key, tok);
    /* another worker id presents the owner's token (a stale process, or one that read it) */
    pa_jobs_lease_ref_t ref = {key, tok};
    pa_jobs_release_in_t rin = {.prefix = "pa:", .worker = "form-other", .tasks = &ref, .n = 1};
    pa_jobs_release_out_t rout;
    cr_assert_eq(pa_jobs_release_call(c, &rin, &rout, err, sizeof err), 0, "%s", err);
    pa_jobs_commit_item_t o = {
        .key = key, .lease = tok, .outcome = PA_JOBS_OUT_SUCCEEDED, .result = "{\"by\":\"other\"}"};
    pa_jobs_commit_in_t in = {.prefix = "pa:", .worker = "form-other", .items = &o, .n = 1};
    bool stale = false;
    pa_jobs_commit_out_t out = {.stale = &stale};
    cr_assert_eq(pa_jobs_commit_call(c, &in, &out, err, sizeof err), 0, "%s", err);
    const char *state = hr_fmt("%s", lp_task_field(rd, key, "state"));
    const char *owner = hr_fmt("%s", lp_task_field(rd, key, "worker"));
    /* the owner's own commit still goes through */
    bool stale2 = true;
    pa_jobs_commit_out_t out2 = {.stale = &stale2};
    in.worker = "form-owner";
    int rc = pa_jobs_commit_call(c, &in, &out2, err, sizeof err);
    pa_redis_destroy(&c);
    cr_assert_eq(rout.released, 0, "a release by another worker id requeued the task");
    cr_assert(stale, "a commit by another worker id was accepted");
    cr_assert_str_eq(state, "running");
    cr_assert_str_eq(owner, "form-owner");
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(!stale2, "the owner's commit was refused");
    jf_wait_status(g, jid, "completed", 5000);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}

Test(link_stale, lease_tokens_do_not_repeat_after_redis_rolls_back_its_counter)
{
    rd = hr_redis_start(&(hr_redis_opts_t){.appendonly = 1});
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    jf_run(g, jf_body(jf_targets(2, "roll", NULL), SUBMIT_ONLY));
    char err[256], k1[128], t1[72], k2[128], t2[72];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    long long seq = jf_rint(rd, -1, "GET pa:lease:seq");
    lease(c, "form-1", k1, t1);
    pa_redis_destroy(&c);
    /* Redis restarts having lost the last second of its AOF: the counter is back where it was
     * (the task's lease, written in the same second, survived here; the worker holds it) */
    hr_redis_stop(rd);
    hr_redis_restart(rd);
    jf_redis_wait_loaded(rd);
    redisReply *r = jf_rcmd(rd, "SET pa:lease:seq %lld", seq < 0 ? 0 : seq);
    cr_assert(r);
    freeReplyObject(r);
    c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    lease(c, "form-2", k2, t2);
    pa_redis_destroy(&c);
    cr_assert_str_neq(t1, t2, "the same lease token was given twice (%s)", t1);
    jf_finish((hr_gateway_t *const[]){g, NULL});
}
