/* The run/jobs HTTP API as a user and an operator see it: run validation, 202 + Location,
 * idempotency, rate limit, queue bound, a job through three stages on real test workers, per-task
 * outcomes, retries into the dead letters, a campaign's sent counter, cancel, the job list, the
 * worker list and the live events (SSE). Real gateway, real Redis, real prospect-test-worker
 * processes (stopped by PID in fini). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_api, .fini = jf_cleanup, .timeout = 60);

/* A Redis and a gateway with HEARTBEAT_MS=200 plus env. */
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

/* Stops the workers and the gateway and fails the test on a sanitizer report. */
static void finish(void)
{
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

static jf_worker_t *worker(const char *service, const char *id, const char *const *env)
{
    return jf_worker_start(rd, service, id, jf_endpoint(gw), env);
}

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static long long jobs_in_redis(void)
{
    return jf_rint(rd, -1, "ZCARD pa:jobs");
}

/* ---- validation ---------------------------------------------------------------------------- */

static void expect_400(const char *body, const char *field)
{
    hr_resp_t *r = hr_post(gw, JF_RUN, body);
    cr_assert_eq(r->status, 400, "POST %s %s: expected 400 naming %s, got %s", JF_RUN, body, field,
                 hr_describe(r));
    const char *f = hr_jstr(hr_json(r), "field");
    cr_assert(f && strcmp(f, field) == 0, "POST %s: expected field %s, got %s", body, field,
              hr_describe(r));
    hr_assert_problem(r, 400, "invalid-field", field);
}

Test(jobs_api, run_validation_names_the_bad_field_and_creates_nothing)
{
    start((const char *[]){"MAX_TARGETS=3", NULL});
    const char *sender = "\"sender\":{\"name\":\"S\",\"email\":\"s@x.example\"}";
    /* required fields */
    expect_400(hr_fmt("{%s,\"targets\":[\"a.example\"]}", sender), "message_template");
    expect_400(hr_fmt("{\"message_template\":\"\",%s,\"targets\":[\"a.example\"]}", sender),
               "message_template");
    expect_400("{\"message_template\":\"Hi\",\"targets\":[\"a.example\"]}", "sender");
    expect_400(
        "{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\"},\"targets\":[\"a.example\"]}",
        "sender.email");
    expect_400("{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\",\"email\":\"nope\"},"
               "\"targets\":[\"a.example\"]}",
               "sender.email");
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s}", sender), "targets");
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s,\"targets\":[]}", sender), "targets");
    /* bad targets are named by their index */
    expect_400(jf_body("[\"a.example\",\"not a url\"]", NULL), "targets[1]");
    expect_400(jf_body("[\"a.example\",\"b.example\",\"localhost\"]", NULL), "targets[2]");
    expect_400(jf_body("[\"https://user:pw@a.example/\"]", NULL), "targets[0]");
    expect_400(jf_body("[\"a.example\",{\"url\":\"https://b.example/\",\"colour\":\"red\"}]", NULL),
               "targets[1].colour");
    expect_400(jf_body("[{\"variables\":{\"test\":\"ok\"}}]", NULL), "targets[0].url");
    expect_400(jf_body("[42]", NULL), "targets[0]");
    /* ftp:// is refused, and the answer says what is allowed */
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body("[\"a.example\",\"ftp://files.example/x\"]", NULL));
    hr_assert_problem(r, 400, "invalid-field", "targets[1]");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "http"),
              "the detail does not say which schemes are allowed: %s", hr_describe(r));
    /* MAX_TARGETS=3: four are refused, three pass */
    r = hr_post(gw, JF_RUN,
                jf_body("[\"a.example\",\"b.example\",\"c.example\",\"d.example\"]", NULL));
    hr_assert_problem(r, 400, "invalid-field", "targets");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "3"), "the detail does not give the limit: %s",
              hr_describe(r));
    /* unknown fields, at any level */
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s,\"targets\":[\"a.example\"],\"priority\":1}",
                      sender),
               "priority");
    expect_400(jf_body("[\"a.example\"]", "{\"enrich\":false,\"turbo\":true}"), "options.turbo");
    expect_400(hr_fmt("{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\",\"email\":"
                      "\"s@x.example\",\"fax\":\"1\"},\"targets\":[\"a.example\"]}"),
               "sender.fax");
    expect_400(jf_body("[\"a.example\"]", "{\"stages\":[\"submit\",\"submit\"]}"),
               "options.stages");
    expect_400(jf_body("[\"a.example\"]", "{\"stages\":[\"launch\"]}"), "options.stages");
    /* an unknown campaign and an unknown prospect */
    expect_400(hr_fmt("{\"campaign_id\":\"c-nope\",\"message_template\":\"Hi\",%s,"
                      "\"targets\":[\"a.example\"]}",
                      sender),
               "campaign_id");
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s,\"prospect_ids\":[\"p-nobody\"]}", sender),
               "prospect_ids[0]");
    /* not JSON at all */
    hr_assert_problem(hr_post(gw, JF_RUN, "{\"message_template\":"), 400, "invalid-json", NULL);
    cr_assert_eq(jobs_in_redis(), 0, "a refused run created a job");
    r = hr_post(gw, JF_RUN, jf_body("[\"a.example\",\"b.example\",\"c.example\"]", SUBMIT_ONLY));
    cr_assert_eq(r->status, 202, "three targets with MAX_TARGETS=3: %s", hr_describe(r));
    cr_assert_eq(jobs_in_redis(), 1);
    finish();
}

Test(jobs_api, duplicate_targets_are_collapsed_and_counted)
{
    start(NULL);
    hr_resp_t *r = hr_post(gw, JF_RUN,
                           jf_body("[\"A.example\",\"https://a.example/\",\"a.example/#top\","
                                   "\"b.example\",{\"url\":\"B.EXAMPLE\",\"variables\":{\"x\":1}}]",
                                   SUBMIT_ONLY));
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_eq(hr_jint(j, "total", -1), 2, "two distinct sites: %s", hr_describe(r));
    cr_assert_eq(hr_jint(j, "duplicates", -1), 3, "three duplicates: %s", hr_describe(r));
    const char *jid = hr_jstr(j, "job_id");
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 2, "%s", hr_jdump(tasks));
    /* first occurrence wins and keeps the order given */
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 0), "target"), "https://a.example/");
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 0), "id"), "000001");
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 1), "target"), "https://b.example/");
    cr_assert_eq(hr_jint(jf_job(gw, jid), "total", -1), 2);
    finish();
}

Test(jobs_api, prospect_ids_become_targets_with_their_website)
{
    start(NULL);
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-acme\",\"name\":\"Ada Acme\",\"company\":\"Acme\","
                   "\"email\":\"ada@acme.example\",\"website\":\"https://Acme.example/contact\"}");
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-beta\",\"name\":\"Bo Beta\",\"company\":\"Beta\","
                   "\"website\":\"http://beta.example\"}");
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-nosite\",\"name\":\"No Site\",\"company\":\"Gamma\"}");
    const char *sender = "\"sender\":{\"name\":\"S\",\"email\":\"s@x.example\"}";
    /* one unknown id among known ones: 400 naming it, no job */
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s,\"prospect_ids\":[\"p-acme\",\"p-ghost\"]}",
                      sender),
               "prospect_ids[1]");
    /* a prospect without a website cannot be a target */
    expect_400(hr_fmt("{\"message_template\":\"Hi\",%s,\"prospect_ids\":[\"p-nosite\"]}", sender),
               "prospect_ids[0]");
    cr_assert_eq(jobs_in_redis(), 0);
    hr_resp_t *r =
        hr_post(gw, JF_RUN,
                hr_fmt("{\"message_template\":\"Hi {{name}}\",%s,\"targets\":[\"c.example\"],"
                       "\"prospect_ids\":[\"p-acme\",\"p-beta\"],\"options\":" SUBMIT_ONLY "}",
                       sender));
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    cr_assert_eq(hr_jint(hr_json(r), "total", -1), 3, "%s", hr_describe(r));
    const char *jid = hr_jstr(hr_json(r), "job_id");
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 3, "%s", hr_jdump(tasks));
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 0), "target"), "https://c.example/");
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 1), "target"), "https://acme.example/contact");
    cr_assert_str_eq(hr_jstr(json_array_get(tasks, 2), "target"), "http://beta.example/");
    /* the task carries the prospect's fields for the stages */
    json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:000002", jid));
    json_t *input = hr_jparse(hr_jstr(t, "input"));
    cr_assert_str_eq(hr_jstr(input, "prospect_id"), "p-acme", "%s", hr_jdump(t));
    cr_assert_str_eq(hr_jstr(input, "name"), "Ada Acme", "%s", hr_jdump(t));
    cr_assert_str_eq(hr_jstr(input, "email"), "ada@acme.example", "%s", hr_jdump(t));
    finish();
}

/* ---- accepting runs ------------------------------------------------------------------------ */

Test(jobs_api, accepted_run_is_202_with_location_and_queued_tasks)
{
    start(NULL);
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body(jf_targets(4, "q", NULL), SUBMIT_ONLY));
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    const char *jid = hr_jstr(j, "job_id");
    cr_assert(jid && strncmp(jid, "j-", 2) == 0, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "status"), "queued");
    cr_assert_eq(hr_jint(j, "total", -1), 4);
    cr_assert_eq(hr_jint(j, "duplicates", -1), 0);
    const char *loc = hr_header(r, "Location");
    cr_assert(loc && strcmp(loc, hr_fmt("/api/jobs/%s", jid)) == 0, "Location: %s",
              loc ? loc : "(none)");
    hr_resp_t *g = hr_get(gw, loc);
    cr_assert_eq(g->status, 200, "GET %s: %s", loc, hr_describe(g));
    json_t *job = hr_json(g);
    cr_assert_str_eq(hr_jstr(job, "id"), jid);
    cr_assert_str_eq(hr_jstr(job, "status"), "queued");
    cr_assert_eq(hr_jint(job, "total", -1), 4);
    cr_assert_eq(jf_count(job, "queued"), 4, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    cr_assert_str_eq(hr_jdump(json_object_get(job, "stages")), "[\"submit\"]");
    /* the operator's view: four tasks wait for a form worker */
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 4);
    hr_resp_t *m = hr_get(gw, "/metrics");
    cr_assert(strstr(m->body, "pa_queue_ready{service=\"form\"} 4"), "metrics: %.2000s", m->body);
    /* an unknown job is 404 */
    hr_assert_problem(hr_get(gw, "/api/jobs/j-01nosuchjob00000000000000"), 404, "not-found", NULL);
    finish();
}

Test(jobs_api, idempotency_key_returns_the_same_job_and_creates_one)
{
    start(NULL);
    const char *body = jf_body(jf_targets(3, "i", NULL), SUBMIT_ONLY);
    const char *h[] = {"Idempotency-Key: order-4711", NULL};
    hr_resp_t *a = hr_req(gw, "POST", JF_RUN, h, body);
    hr_resp_t *b = hr_req(gw, "POST", JF_RUN, h, body);
    cr_assert_eq(a->status, 202, "%s", hr_describe(a));
    cr_assert_eq(b->status, 202, "%s", hr_describe(b));
    const char *ja = hr_jstr(hr_json(a), "job_id"), *jb = hr_jstr(hr_json(b), "job_id");
    cr_assert(ja && jb && strcmp(ja, jb) == 0, "two job ids for one key: %s / %s", hr_describe(a),
              hr_describe(b));
    cr_assert_eq(hr_jint(hr_json(b), "total", -1), 3, "%s", hr_describe(b));
    cr_assert_str_eq(hr_header(b, "Location"), hr_fmt("/api/jobs/%s", ja));
    cr_assert_eq(jobs_in_redis(), 1, "the replay created a second job");
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 3, "the replay queued tasks again");
    json_t *list = hr_json(hr_get(gw, "/api/jobs"));
    cr_assert_eq(json_array_size(list), 1, "%s", hr_jdump(list));
    /* another key is another job */
    const char *h2[] = {"Idempotency-Key: order-4712", NULL};
    hr_resp_t *c = hr_req(gw, "POST", JF_RUN, h2, body);
    cr_assert_eq(c->status, 202, "%s", hr_describe(c));
    cr_assert_str_neq(hr_jstr(hr_json(c), "job_id"), ja);
    cr_assert_eq(jobs_in_redis(), 2);
    finish();
}

Test(jobs_api, rate_limit_answers_429_with_retry_after)
{
    start((const char *[]){"RUN_RATE_PER_MIN=1", "RUN_BURST=2", NULL});
    const char *body = jf_body("[\"a.example\"]", SUBMIT_ONLY);
    cr_assert_eq(hr_post(gw, JF_RUN, body)->status, 202);
    cr_assert_eq(hr_post(gw, JF_RUN, body)->status, 202);
    hr_resp_t *r = hr_post(gw, JF_RUN, body);
    cr_assert_eq(r->status, 429, "third run within the burst of 2: %s", hr_describe(r));
    hr_assert_problem(r, 429, "rate-limited", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra, "429 without Retry-After");
    long secs = atol(ra);
    cr_assert(secs >= 1 && secs <= 60 && strspn(ra, "0123456789") == strlen(ra),
              "Retry-After %s: expected 1..60 seconds at 1 run per minute", ra);
    cr_assert_eq(jobs_in_redis(), 2, "the refused run created a job");
    /* a refused request that is invalid anyway is a 400, not a 429 */
    hr_assert_problem(hr_post(gw, JF_RUN, jf_body("[\"ftp://a.example\"]", NULL)), 400,
                      "invalid-field", "targets[0]");
    finish();
}

Test(jobs_api, queue_bound_answers_503_with_retry_after)
{
    start((const char *[]){"MAX_QUEUED_TASKS=5", NULL});
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body(jf_targets(6, "f", NULL), SUBMIT_ONLY));
    hr_assert_problem(r, 503, "queue-full", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra && atol(ra) >= 1, "503 without a usable Retry-After: %s", ra ? ra : "(none)");
    cr_assert_eq(jobs_in_redis(), 0, "a refused run created a job");
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 0, "a refused run queued tasks");
    /* five fit; then nothing more does */
    cr_assert_eq(hr_post(gw, JF_RUN, jf_body(jf_targets(5, "f", NULL), SUBMIT_ONLY))->status, 202);
    r = hr_post(gw, JF_RUN, jf_body("[\"one-more.example\"]", SUBMIT_ONLY));
    hr_assert_problem(r, 503, "queue-full", NULL);
    cr_assert_not_null(hr_header(r, "Retry-After"));
    finish();
}

/* The queue bound is about tasks that wait: a cancelled job's tasks no longer wait, so
 * cancelling makes room again, also while no worker is connected. */
Test(jobs_api, cancelling_a_queued_job_frees_queue_room)
{
    start((const char *[]){"MAX_QUEUED_TASKS=5", NULL});
    const char *jid = jf_run(gw, jf_body(jf_targets(5, "c", NULL), SUBMIT_ONLY));
    hr_assert_problem(hr_post(gw, JF_RUN, jf_body("[\"x.example\"]", SUBMIT_ONLY)), 503,
                      "queue-full", NULL);
    hr_resp_t *c = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    json_t *job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "cancelled"), 5, "%s", hr_jdump(job));
    hr_resp_t *m = hr_get(gw, "/metrics");
    const char *q = strstr(m->body, "pa_queue_ready{service=\"form\"}");
    if (!q) q = "(no pa_queue_ready)";
    /* the queue still holds the five entries (cancel.lua leaves them to dispatch), but the
     * operator's gauge counts the tasks that wait */
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 5);
    static const char zero[] = "pa_queue_ready{service=\"form\"} 0\n";
    cr_assert(strncmp(q, zero, sizeof zero - 1) == 0, "/metrics: %.*s", (int)strcspn(q, "\n"), q);
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body("[\"x.example\"]", SUBMIT_ONLY));
    cr_assert_eq(r->status, 202,
                 "after cancelling the only job (5 tasks cancelled, none waiting), a 1-task run "
                 "is still refused: %s; LLEN pa:ready:form = %lld; /metrics: %.*s",
                 hr_describe(r), jf_rint(rd, -1, "LLEN pa:ready:form"), (int)strcspn(q, "\n"), q);
    finish();
}

/* ---- running jobs on test workers ---------------------------------------------------------- */

Test(jobs_api, job_runs_through_three_stages_on_three_workers)
{
    start(NULL);
    worker("mcp", "mcp-1", NULL);
    worker("llm", "llm-1", NULL);
    worker("form", "form-1", NULL);
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body(jf_targets(5, "s", NULL), NULL));
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    const char *jid = hr_jstr(hr_json(r), "job_id");
    json_t *job = jf_wait_status(gw, jid, "completed", 20000);
    cr_assert_eq(jf_count(job, "succeeded"), 5, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    cr_assert_str_eq(hr_jdump(json_object_get(job, "stages")),
                     "[\"enrich\",\"compose\",\"submit\"]");
    cr_assert(!hr_jnull(job, "started") && !hr_jnull(job, "finished"), "%s", hr_jdump(job));
    /* the times are RFC 3339 UTC with ms, in order (started comes from Redis's clock when the
     * first tasks are leased inside the create script: a calendar computed in Lua) */
    const char *created = hr_jstr(job, "created"), *started = hr_jstr(job, "started"),
               *finished = hr_jstr(job, "finished");
    for (const char *const *ts = (const char *const[]){created, started, finished, NULL}; *ts;
         ts++) {
        struct tm tm = {0};
        const char *end = strptime(*ts, "%Y-%m-%dT%H:%M:%S", &tm);
        cr_assert(end && strlen(end) == 5 && end[0] == '.' && end[4] == 'Z',
                  "not RFC 3339 with ms: %s", *ts);
    }
    cr_assert(strcmp(created, started) <= 0 && strcmp(started, finished) <= 0,
              "created %s, started %s, finished %s", created, started, finished);
    time_t now = time(NULL);
    struct tm st = {0};
    strptime(started, "%Y-%m-%dT%H:%M:%S", &st);
    cr_assert(labs((long)(timegm(&st) - now)) < 60, "started %s is not now", started);
    cr_assert(fabs(json_number_value(json_object_get(job, "progress")) - 1.0) < 1e-9, "%s",
              hr_jdump(job));
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 5);
    size_t i;
    json_t *t;
    static const char *const stages[] = {"enrich", "compose", "submit"};
    static const char *const workers[] = {"mcp-1", "llm-1", "form-1"};
    json_array_foreach(tasks, i, t) {
        cr_assert_str_eq(hr_jstr(t, "state"), "succeeded", "%s", hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "stage"), "submit", "%s", hr_jdump(t));
        json_t *res = json_object_get(t, "results");
        for (int s = 0; s < 3; s++) {
            json_t *x = json_object_get(res, stages[s]);
            cr_assert(json_is_object(x), "task %s has no %s result: %s", hr_jstr(t, "id"),
                      stages[s], hr_jdump(t));
            cr_assert_str_eq(hr_jstr(x, "stage"), stages[s], "%s", hr_jdump(t));
            cr_assert_str_eq(hr_jstr(x, "worker"), workers[s], "%s", hr_jdump(t));
        }
    }
    /* each stage ran once per task */
    json_t *ev = jf_events(rd, jid);
    for (int k = 1; k <= 5; k++) {
        const char *tid = hr_fmt("%06d", k);
        cr_assert_eq(jf_count_events(ev, tid, "running"), 3, "task %s: %s", tid, hr_jdump(ev));
        cr_assert_eq(jf_count_events(ev, tid, "succeeded"), 1, "task %s", tid);
    }
    cr_assert_eq(jf_leased(rd), 0, "leases left behind");
    finish();
}

Test(jobs_api, per_task_outcomes_end_in_their_states)
{
    start(NULL);
    worker("form", "form-1", NULL);
    const char *targets =
        "[{\"url\":\"fail.example\",\"variables\":{\"test\":\"fail\"}},"
        "{\"url\":\"captcha.example\",\"variables\":{\"test\":\"captcha\"}},"
        "{\"url\":\"skip.example\",\"variables\":{\"test\":\"skip\"}},"
        "{\"url\":\"uncertain.example\",\"variables\":{\"test\":\"uncertain\"}},"
        "{\"url\":\"retry-once.example\",\"variables\":{\"test_submit\":\"retry_once\"}},"
        "\"ok.example\"]";
    const char *jid = jf_run(gw, jf_body(targets, SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, jid, "completed", 15000);
    jf_assert_counts_add_up(job);
    cr_assert_eq(hr_jint(job, "total", -1), 6);
    cr_assert_eq(jf_count(job, "succeeded"), 2, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "failed"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "captcha_required"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "skipped"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "uncertain"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "queued") + jf_count(job, "running") + jf_count(job, "retry_wait"),
                 0);
    json_t *tasks = jf_tasks(gw, jid, NULL);
    static const char *const want[][3] = {
        {"https://fail.example/", "failed", "test: permanent failure"},
        {"https://captcha.example/", "captcha_required", "test: captcha"},
        {"https://skip.example/", "skipped", "test: skipped"},
        {"https://uncertain.example/", "uncertain", "test: uncertain"},
        {"https://retry-once.example/", "succeeded", NULL},
        {"https://ok.example/", "succeeded", NULL},
    };
    for (size_t k = 0; k < 6; k++) {
        json_t *t = jf_task_by_target(tasks, want[k][0]);
        cr_assert(t, "no task for %s: %s", want[k][0], hr_jdump(tasks));
        cr_assert_str_eq(hr_jstr(t, "state"), want[k][1], "%s", hr_jdump(t));
        if (want[k][2])
            cr_assert(hr_jstr(t, "error") && strstr(hr_jstr(t, "error"), want[k][2]), "%s",
                      hr_jdump(t));
    }
    /* retry_once: a second attempt, which succeeded */
    json_t *ro = jf_task_by_target(tasks, "https://retry-once.example/");
    cr_assert_eq(hr_jint(ro, "attempt", -1), 2, "%s", hr_jdump(ro));
    cr_assert_eq(hr_jint(jf_task_by_target(tasks, "https://ok.example/"), "attempt", -1), 1);
    /* the state filter */
    json_t *failed = jf_tasks(gw, jid, "failed");
    cr_assert_eq(json_array_size(failed), 1, "%s", hr_jdump(failed));
    cr_assert_str_eq(hr_jstr(json_array_get(failed, 0), "target"), "https://fail.example/");
    cr_assert_eq(json_array_size(jf_tasks(gw, jid, "succeeded")), 2);
    hr_assert_problem(hr_get(gw, hr_fmt("/api/jobs/%s/tasks?state=exploded", jid)), 400,
                      "invalid-field", "state");
    /* a permanent failure is not a dead letter of retries */
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:dead"), 0);
    finish();
}

Test(jobs_api, retries_exhaust_max_attempts_into_a_dead_letter)
{
    start((const char *[]){"MAX_ATTEMPTS_SUBMIT=2", NULL});
    worker("form", "form-1", NULL);
    const char *jid = jf_run(
        gw,
        jf_body("[{\"url\":\"flaky.example\",\"variables\":{\"test\":\"retry\"}},\"ok.example\"]",
                SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, jid, "completed", 15000);
    cr_assert_eq(jf_count(job, "failed"), 1, "%s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "succeeded"), 1, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    json_t *t = jf_task_by_target(jf_tasks(gw, jid, NULL), "https://flaky.example/");
    cr_assert(t);
    cr_assert_str_eq(hr_jstr(t, "state"), "failed", "%s", hr_jdump(t));
    cr_assert_eq(hr_jint(t, "attempt", -1), 2, "%s", hr_jdump(t));
    const char *err = hr_jstr(t, "error");
    cr_assert(err && strncmp(err, "gave up after 2 attempts", 24) == 0, "error: %s", hr_jdump(t));
    /* one retry_wait in between, then failed; never a third run */
    json_t *ev = jf_events(rd, jid);
    const char *tid = hr_jstr(t, "id");
    cr_assert_eq(jf_count_events(ev, tid, "running"), 2, "%s", hr_jdump(ev));
    cr_assert_eq(jf_count_events(ev, tid, "retry_wait"), 1, "%s", hr_jdump(ev));
    cr_assert_eq(jf_count_events(ev, tid, "failed"), 1, "%s", hr_jdump(ev));
    /* the dead letter, read from Redis ... */
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:dead"), 1);
    redisReply *d = jf_rcmd(rd, "LINDEX pa:dead 0");
    cr_assert(d && d->type == REDIS_REPLY_STRING);
    json_t *dl = hr_jparse(d->str);
    freeReplyObject(d);
    cr_assert_str_eq(hr_jstr(dl, "task"), hr_fmt("%s:%s", jid, tid), "%s", hr_jdump(dl));
    cr_assert_str_eq(hr_jstr(dl, "job"), jid);
    cr_assert_str_eq(hr_jstr(dl, "stage"), "submit");
    cr_assert_eq(hr_jint(dl, "attempts", -1), 2, "%s", hr_jdump(dl));
    cr_assert(hr_jstr(dl, "reason") &&
                  strncmp(hr_jstr(dl, "reason"), "gave up after 2 attempts", 24) == 0,
              "%s", hr_jdump(dl));
    /* ... and as the operator sees it */
    int st;
    const char *out = jf_ctl(rd, (const char *[]){"--json", "dead", NULL}, &st);
    cr_assert_eq(st, 0, "prospectctl --json dead exited %d: %s", st, out);
    json_t *arr = hr_jparse(out);
    cr_assert(json_is_array(arr) && json_array_size(arr) == 1, "prospectctl --json dead: %s", out);
    cr_assert_str_eq(hr_jstr(json_array_get(arr, 0), "task"), hr_fmt("%s:%s", jid, tid));
    finish();
}

Test(jobs_api, campaign_sent_counts_each_succeeded_submit_once)
{
    start(NULL);
    worker("llm", "llm-1", NULL);
    worker("form", "form-1", NULL);
    hr_must_create(
        gw, "/api/campaigns",
        "{\"id\":\"c-spring\",\"name\":\"Spring\",\"channel\":\"contact_form\",\"sent\":10}");
    const char *targets =
        "[\"ok1.example\",\"ok2.example\","
        "{\"url\":\"again.example\",\"variables\":{\"test_submit\":\"retry_once\"}},"
        "{\"url\":\"nope.example\",\"variables\":{\"test_submit\":\"fail\"}},"
        "{\"url\":\"skip.example\",\"variables\":{\"test_submit\":\"skip\"}},"
        "{\"url\":\"captcha.example\",\"variables\":{\"test_submit\":\"captcha\"}},"
        "{\"url\":\"nocompose.example\",\"variables\":{\"test_compose\":\"fail\"}}]";
    const char *body = hr_fmt("{\"campaign_id\":\"c-spring\",\"message_template\":\"Hi\","
                              "\"sender\":{\"name\":\"S\",\"email\":\"s@x.example\"},"
                              "\"targets\":%s,\"options\":{\"enrich\":false}}",
                              targets);
    const char *jid = jf_run(gw, body);
    json_t *job = jf_wait_status(gw, jid, "completed", 20000);
    cr_assert_str_eq(hr_jstr(job, "campaign_id"), "c-spring", "%s", hr_jdump(job));
    long long ok = jf_count(job, "succeeded");
    cr_assert_eq(ok, 3, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    hr_resp_t *c = hr_get(gw, "/api/campaigns/c-spring");
    cr_assert_eq(c->status, 200, "%s", hr_describe(c));
    cr_assert_eq(hr_jint(hr_json(c), "sent", -1), 10 + ok,
                 "sent moved by %lld for %lld succeeded submits: %s",
                 hr_jint(hr_json(c), "sent", -1) - 10, ok, hr_describe(c));
    finish();
}

/* The running tasks of a cancelled job end cancelled too, at once (their leases are void). */
Test(jobs_api, cancel_ends_queued_and_running_tasks_at_once)
{
    start(NULL);
    worker("form", "form-1", (const char *[]){"WORKER_CAPACITY=2", NULL});
    const char *jid = jf_run(gw, jf_body(jf_targets(6, "slow", "slow:1500"), SUBMIT_ONLY));
    /* wait for the worker to hold its two */
    uint64_t deadline = hr_now_ms() + 8000;
    json_t *job;
    for (;;) {
        job = jf_job(gw, jid);
        if (jf_count(job, "running") == 2) break;
        cr_assert_lt(hr_now_ms(), deadline, "two tasks never ran: %s", hr_jdump(job));
        hr_sleep_ms(20);
    }
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    job = hr_json(r);
    cr_assert_str_eq(hr_jstr(job, "status"), "cancelled", "%s", hr_describe(r));
    cr_assert_eq(jf_count(job, "cancelled"), 6, "%s", hr_describe(r));
    cr_assert_eq(jf_count(job, "queued"), 0, "%s", hr_describe(r));
    cr_assert_eq(jf_count(job, "running"), 0, "%s", hr_describe(r));
    jf_assert_counts_add_up(job);
    job = jf_wait_status(gw, jid, "cancelled", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 0, "the running two are cancelled: %s", hr_jdump(job));
    cr_assert_eq(jf_count(job, "cancelled"), 6, "%s", hr_jdump(job));
    jf_assert_counts_add_up(job);
    cr_assert_eq(json_array_size(jf_tasks(gw, jid, "cancelled")), 6);
    /* nothing of the job ran after the cancel: only two tasks ever started */
    json_t *ev = jf_events(rd, jid);
    int running = 0;
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e)
        running += hr_jstr(e, "state") && !strcmp(hr_jstr(e, "state"), "running");
    cr_assert_eq(running, 2, "%d tasks started: %s", running, hr_jdump(ev));
    /* cancelling again is harmless; an unknown job is 404 */
    r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "status"), "cancelled");
    hr_assert_problem(hr_post(gw, "/api/jobs/j-01nosuchjob00000000000000/cancel", NULL), 404,
                      "not-found", NULL);
    finish();
}

Test(jobs_api, cancel_of_a_completed_job_is_409)
{
    start(NULL);
    worker("form", "form-1", NULL);
    const char *jid = jf_run(gw, jf_body("[\"done.example\"]", SUBMIT_ONLY));
    jf_wait_status(gw, jid, "completed", 10000);
    hr_assert_problem(hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL), 409, "conflict", NULL);
    json_t *job = jf_job(gw, jid);
    cr_assert_str_eq(hr_jstr(job, "status"), "completed");
    cr_assert_eq(jf_count(job, "succeeded"), 1);
    finish();
}

/* ---- listing ------------------------------------------------------------------------------- */

Test(jobs_api, jobs_list_newest_first_with_cursor_paging)
{
    start(NULL);
    const char *ids[5];
    for (int i = 0; i < 5; i++) {
        ids[i] = jf_run(gw, jf_body(hr_fmt("[\"l%d.example\"]", i), SUBMIT_ONLY));
        hr_sleep_ms(3);
    }
    hr_resp_t *r = hr_get(gw, "/api/jobs?limit=2");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *p1 = hr_json(r);
    cr_assert_eq(json_array_size(p1), 2, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(p1, 0), "id"), ids[4], "newest first: %s",
                     hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(p1, 1), "id"), ids[3]);
    const char *next = hr_link_next(r);
    cr_assert(next, "no rel=next link on a full first page");
    hr_resp_t *r2 = hr_get(gw, next);
    json_t *p2 = hr_json(r2);
    cr_assert_eq(json_array_size(p2), 2, "%s", hr_describe(r2));
    cr_assert_str_eq(hr_jstr(json_array_get(p2, 0), "id"), ids[2]);
    cr_assert_str_eq(hr_jstr(json_array_get(p2, 1), "id"), ids[1]);
    next = hr_link_next(r2);
    cr_assert(next, "no rel=next link on the second page");
    hr_resp_t *r3 = hr_get(gw, next);
    json_t *p3 = hr_json(r3);
    cr_assert_eq(json_array_size(p3), 1, "%s", hr_describe(r3));
    cr_assert_str_eq(hr_jstr(json_array_get(p3, 0), "id"), ids[0]);
    cr_assert_null(hr_link_next(r3), "a rel=next link after the last job");
    /* all pages together: every job once */
    json_t *all = hr_get_all_pages(gw, "/api/jobs?limit=2", 2, NULL);
    cr_assert_eq(json_array_size(all), 5);
    /* the status filter */
    cr_assert_eq(hr_post(gw, hr_fmt("/api/jobs/%s/cancel", ids[2]), NULL)->status, 200);
    json_t *c = hr_json(hr_get(gw, "/api/jobs?status=cancelled"));
    cr_assert_eq(json_array_size(c), 1, "%s", hr_jdump(c));
    cr_assert_str_eq(hr_jstr(json_array_get(c, 0), "id"), ids[2]);
    cr_assert_eq(json_array_size(hr_json(hr_get(gw, "/api/jobs?status=queued"))), 4);
    hr_assert_problem(hr_get(gw, "/api/jobs?status=sleeping"), 400, "invalid-field", "status");
    hr_assert_problem(hr_get(gw, "/api/jobs?limit=0"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, "/api/jobs?cursor=j-01nosuchjob00000000000000"), 400,
                      "invalid-field", "cursor");
    finish();
}

/* docs/api.md: Link "for the next page" -- there is none after the page with the oldest job. */
Test(jobs_api, jobs_list_has_no_next_link_after_the_last_job)
{
    start(NULL);
    for (int i = 0; i < 4; i++) jf_run(gw, jf_body(hr_fmt("[\"n%d.example\"]", i), SUBMIT_ONLY));
    hr_resp_t *r = hr_get(gw, "/api/jobs?limit=4");
    cr_assert_eq(json_array_size(hr_json(r)), 4, "%s", hr_describe(r));
    const char *next = hr_link_next(r);
    hr_resp_t *r2 = next ? hr_get(gw, next) : NULL;
    cr_assert_null(next,
                   "all 4 jobs are on this page, yet it links to a next page (%s), which "
                   "answers %s",
                   next, r2 ? hr_describe(r2) : "");
    finish();
}

Test(jobs_api, workers_list_shows_connected_workers_per_service)
{
    start(NULL);
    hr_resp_t *r = hr_get(gw, "/api/workers");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(json_array_size(json_object_get(hr_json(r), "workers")), 0, "%s", hr_describe(r));
    worker("mcp", "mcp-a", (const char *[]){"WORKER_CAPACITY=3", NULL});
    worker("form", "form-a", (const char *[]){"WORKER_CAPACITY=5", NULL});
    jf_worker_t *fb = worker("form", "form-b", (const char *[]){"WORKER_CAPACITY=7", NULL});
    jf_wait_workers(gw, "form", 2, 5000);
    jf_wait_workers(gw, "mcp", 1, 5000);
    r = hr_get(gw, "/api/workers");
    json_t *j = hr_json(r);
    json_t *svc = json_object_get(j, "services");
    cr_assert_eq(hr_jint(json_object_get(svc, "form"), "capacity", -1), 12, "%s", hr_describe(r));
    cr_assert_eq(hr_jint(json_object_get(svc, "mcp"), "capacity", -1), 3, "%s", hr_describe(r));
    cr_assert_null(json_object_get(svc, "llm"), "no llm worker runs: %s", hr_describe(r));
    json_t *list = json_object_get(j, "workers");
    cr_assert_eq(json_array_size(list), 3, "%s", hr_describe(r));
    int seen = 0;
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        const char *id = hr_jstr(w, "id"), *s = hr_jstr(w, "service");
        cr_assert(id && s, "%s", hr_jdump(w));
        if (!strcmp(id, "form-b")) {
            seen++;
            cr_assert_str_eq(s, "form");
            cr_assert_eq(hr_jint(w, "capacity", -1), 7, "%s", hr_jdump(w));
        }
    }
    cr_assert_eq(seen, 1, "form-b is not listed: %s", hr_describe(r));
    /* a worker that dies leaves the list */
    jf_worker_kill9(fb);
    jf_wait_workers(gw, "form", 1, 5000);
    finish();
}

/* ---- live events --------------------------------------------------------------------------- */

Test(jobs_api, events_stream_snapshot_task_events_and_end, .timeout = 60)
{
    start(NULL);
    /* the stream opens before any worker runs, so that it sees every event of the job */
    const char *jid = jf_run(gw, jf_body(jf_targets(3, "sse", "slow:300"), SUBMIT_ONLY));
    jf_sse_bg_t *bg = jf_sse_open(gw, jid, 20000);
    worker("form", "form-1", (const char *[]){"WORKER_CAPACITY=1", NULL});
    jf_sse_t s = jf_sse_join(bg);
    cr_assert_eq(s.status, 200, "SSE status %ld: %.2000s", s.status, s.raw);
    cr_assert(strncmp(s.content_type, "text/event-stream", 17) == 0, "Content-Type %s",
              s.content_type);
    cr_assert(s.ended, "no end event within 20 s:\n%.4000s", s.raw);
    size_t n = json_array_size(s.events);
    cr_assert_geq(n, 3, "%s", s.raw);
    json_t *first = json_array_get(s.events, 0);
    cr_assert_str_eq(hr_jstr(first, "event"), "snapshot", "the first event: %s", s.raw);
    json_t *snap = json_object_get(first, "data");
    cr_assert_str_eq(hr_jstr(snap, "id"), jid, "%s", hr_jdump(first));
    cr_assert_eq(hr_jint(snap, "total", -1), 3, "%s", hr_jdump(first));
    cr_assert_str_eq(hr_jstr(json_array_get(s.events, n - 1), "event"), "end", "the last: %s",
                     s.raw);
    /* every task's start and success, in id order of the stream, all for this job */
    int succeeded[4] = {0}, running[4] = {0}, completed = 0;
    const char *prev = "0-0", *first_success = NULL;
    for (size_t i = 1; i + 1 < n; i++) {
        json_t *e = json_array_get(s.events, i);
        const char *id = hr_jstr(e, "id"), *ev = hr_jstr(e, "event");
        json_t *d = json_object_get(e, "data");
        cr_assert(id, "an event without an id: %s", hr_jdump(e));
        cr_assert_gt(jf_idcmp(id, prev), 0, "ids out of order: %s after %s", id, prev);
        prev = id;
        cr_assert_str_eq(hr_jstr(d, "job"), jid, "an event of another job: %s", hr_jdump(e));
        if (!strcmp(ev, "task")) {
            int k = atoi(hr_jstr(d, "task") ? hr_jstr(d, "task") : "0");
            cr_assert(k >= 1 && k <= 3, "%s", hr_jdump(e));
            if (!strcmp(hr_jstr(d, "state"), "running")) running[k]++;
            if (!strcmp(hr_jstr(d, "state"), "succeeded")) {
                succeeded[k]++;
                if (!first_success) first_success = id;
            }
        } else if (!strcmp(ev, "job") && !strcmp(hr_jstr(d, "state"), "completed")) {
            completed++;
        }
    }
    for (int k = 1; k <= 3; k++) {
        cr_assert_eq(succeeded[k], 1, "task %d: %d succeeded events:\n%s", k, succeeded[k], s.raw);
        cr_assert_eq(running[k], 1, "task %d: %d running events:\n%s", k, running[k], s.raw);
    }
    cr_assert_eq(completed, 1, "no job completed event before end:\n%s", s.raw);
    /* reconnecting with Last-Event-ID gets exactly the later events, no snapshot */
    jf_sse_t again = jf_sse(gw, jid, first_success, 10000);
    cr_assert_eq(again.status, 200);
    cr_assert(again.ended, "the resumed stream did not end:\n%.3000s", again.raw);
    json_t *want = hr_jkeep(json_array());
    for (size_t i = 1; i + 1 < n; i++) {
        json_t *e = json_array_get(s.events, i);
        if (jf_idcmp(hr_jstr(e, "id"), first_success) > 0) json_array_append(want, e);
    }
    size_t m = json_array_size(again.events);
    cr_assert_geq(m, 1);
    cr_assert_str_eq(hr_jstr(json_array_get(again.events, m - 1), "event"), "end");
    cr_assert_eq(m - 1, json_array_size(want),
                 "resumed after %s: expected %zu events, got %zu:\n%s\nfirst stream:\n%s",
                 first_success, json_array_size(want), m - 1, again.raw, s.raw);
    for (size_t i = 0; i + 1 < m; i++) {
        json_t *e = json_array_get(again.events, i);
        cr_assert_str_neq(hr_jstr(e, "event"), "snapshot", "a snapshot on resume: %s", again.raw);
        cr_assert_str_eq(hr_jstr(e, "id"), hr_jstr(json_array_get(want, i), "id"),
                         "resumed event %zu differs:\n%s", i, again.raw);
    }
    /* a finished job's stream: snapshot, then end at once */
    jf_sse_t done = jf_sse(gw, jid, NULL, 5000);
    cr_assert(done.ended, "%s", done.raw);
    cr_assert_lt(done.seconds, 3.0, "the stream of a finished job stays open %.1f s", done.seconds);
    cr_assert_str_eq(hr_jstr(json_array_get(done.events, 0), "event"), "snapshot");
    cr_assert_str_eq(hr_jstr(json_object_get(json_array_get(done.events, 0), "data"), "status"),
                     "completed");
    /* unknown job: 404 problem, not a stream */
    hr_assert_problem(hr_get(gw, "/api/jobs/j-01nosuchjob00000000000000/events"), 404, "not-found",
                      NULL);
    finish();
}

/* A worker with room for all six tasks gets them in one dispatch: the engine writes their six
 * changes as one stream entry, and each change still is an event of its own, with an id of its
 * own ("ms-seq", then "ms-seq.1", ...). Resuming from the middle of such an entry sends exactly
 * the changes after it. */
Test(jobs_api, events_of_one_batch_have_ids_of_their_own_and_resume_in_the_middle)
{
    start(NULL);
    const char *jid = jf_run(gw, jf_body(jf_targets(6, "batch", "ok"), SUBMIT_ONLY));
    jf_sse_bg_t *bg = jf_sse_open(gw, jid, 20000);
    worker("form", "form-1", (const char *[]){"WORKER_CAPACITY=6", NULL});
    jf_sse_t s = jf_sse_join(bg);
    cr_assert(s.ended, "no end event within 20 s:\n%.4000s", s.raw);
    size_t n = json_array_size(s.events);
    /* the running changes: one entry, six ids */
    const char *run_ids[6];
    size_t nrun = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(s.events, i);
        json_t *d = json_object_get(e, "data");
        if (!strcmp(hr_jstr(e, "event"), "task") && !strcmp(hr_jstr(d, "state"), "running")) {
            cr_assert_lt(nrun, 6, "more than six running events:\n%s", s.raw);
            run_ids[nrun++] = hr_jstr(e, "id");
        }
    }
    cr_assert_eq(nrun, 6, "%s", s.raw);
    const char *dash = strchr(run_ids[0], '-');
    size_t base = strcspn(run_ids[0], ".");
    cr_assert(dash && !run_ids[0][base], "the first change of an entry has a plain id: %s",
              run_ids[0]);
    for (size_t k = 1; k < 6; k++)
        cr_assert_str_eq(run_ids[k], hr_fmt("%.*s.%zu", (int)base, run_ids[0], k),
                         "change %zu of the dispatch's entry:\n%s", k, s.raw);
    /* resume after the third change of that entry */
    jf_sse_t again = jf_sse(gw, jid, run_ids[2], 10000);
    cr_assert(again.ended, "%s", again.raw);
    json_t *want = hr_jkeep(json_array());
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(s.events, i);
        const char *id = hr_jstr(e, "id");
        if (id && jf_idcmp(id, run_ids[2]) > 0) json_array_append(want, e);
    }
    size_t m = json_array_size(again.events);
    cr_assert_eq(m - 1, json_array_size(want), "resumed after %s:\n%s\nfirst stream:\n%s",
                 run_ids[2], again.raw, s.raw);
    for (size_t i = 0; i + 1 < m; i++)
        cr_assert_str_eq(hr_jstr(json_array_get(again.events, i), "id"),
                         hr_jstr(json_array_get(want, i), "id"), "resumed event %zu:\n%s", i,
                         again.raw);
    cr_assert_str_eq(hr_jstr(json_array_get(again.events, 0), "id"), run_ids[3]);
    finish();
}

/* While no stream is open, the gateway does not keep events in memory; a client resuming (while
 * the job still runs) from an event of that time gets the earlier events from Redis and the
 * later ones live: all of them. */
Test(jobs_api, events_resumed_from_a_time_nobody_watched_come_from_redis)
{
    start(NULL);
    worker("form", "form-1", (const char *[]){"WORKER_CAPACITY=1", NULL});
    const char *jid = jf_run(gw, jf_body(jf_targets(4, "unwatched", "slow:400"), SUBMIT_ONLY));
    uint64_t deadline = hr_now_ms() + 10000;
    for (;;) { /* the first task done, nobody watching */
        json_t *job = hr_json(hr_get(gw, hr_fmt("/api/jobs/%s", jid)));
        if (jf_count(job, "succeeded") >= 1) {
            cr_assert_lt(jf_count(job, "succeeded"), 4, "the job ended too soon: %s",
                         hr_jdump(job));
            break;
        }
        cr_assert_lt(hr_now_ms(), deadline, "no task done in 10 s: %s", hr_jdump(job));
        hr_sleep_ms(20);
    }
    json_t *ev = jf_events(rd, jid);
    cr_assert_geq(json_array_size(ev), 1);
    const char *first = hr_jstr(json_array_get(ev, 0), "id"); /* the job's "queued" entry */
    jf_sse_t s = jf_sse(gw, jid, first, 10000);
    cr_assert_eq(s.status, 200);
    cr_assert(s.ended, "%s", s.raw);
    int running = 0, succeeded = 0, completed = 0;
    size_t i;
    json_t *e;
    json_array_foreach(s.events, i, e) {
        json_t *d = json_object_get(e, "data");
        const char *st = hr_jstr(d, "state");
        if (!st) continue;
        if (!strcmp(hr_jstr(e, "event"), "task")) {
            running += !strcmp(st, "running");
            succeeded += !strcmp(st, "succeeded");
        } else if (!strcmp(st, "completed")) {
            completed++;
        }
    }
    cr_assert(running == 4 && succeeded == 4 && completed == 1,
              "running %d, succeeded %d, completed %d:\n%s", running, succeeded, completed, s.raw);
    finish();
}

/* An EventSource reconnects by itself after the stream ends, sending the id of the last event
 * it got (the job's "completed" event; "end" has no id). That resumed stream must end too,
 * not stay open for ever. */
Test(jobs_api, events_resumed_after_the_final_event_end_at_once)
{
    start(NULL);
    worker("form", "form-1", NULL);
    const char *jid = jf_run(gw, jf_body(jf_targets(2, "fin", NULL), SUBMIT_ONLY));
    jf_wait_status(gw, jid, "completed", 10000);
    jf_sse_t s = jf_sse(gw, jid, NULL, 5000);
    cr_assert(s.ended, "%s", s.raw);
    size_t n = json_array_size(s.events);
    const char *last_id = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *id = hr_jstr(json_array_get(s.events, i), "id");
        if (id) last_id = id;
    }
    /* a finished job's first stream has only the snapshot: take the last id from pa:events */
    if (!last_id) {
        json_t *ev = jf_events(rd, jid);
        last_id = hr_jstr(json_array_get(ev, json_array_size(ev) - 1), "id");
        cr_assert_str_eq(hr_jstr(json_array_get(ev, json_array_size(ev) - 1), "state"),
                         "completed");
    }
    cr_assert(last_id);
    jf_sse_t again = jf_sse(gw, jid, last_id, 4000);
    cr_assert_eq(again.status, 200);
    cr_assert(again.ended,
              "resumed with Last-Event-ID %s (the job's completed event) the stream of the "
              "finished job sends no end and stays open (%.1f s, cut by the client); got:\n%s",
              last_id, again.seconds, again.raw);
    finish();
}
