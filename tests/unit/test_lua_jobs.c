/* Every job-engine script (common/lua/) against a real redis-server (redis_fixture.h), called
 * through its typed wrapper (pa_jobs.h), with the clock given explicitly. Each test checks what an
 * operator would see in Redis: task hashes, the job's counts, queues, lease sets, the delayed set,
 * dead letters and the events stream. Also the stage table (pa_stages.h) and its Lua side. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "pa_jobs.h"
#include "pa_keys.h"
#include "pa_stages.h"
#include "redis_fixture.h"

static rf_redis_t srv = RF_REDIS_INIT;
static pa_redis_t *cli;
static uint64_t T0; /* the tests' "now" */

#define P "pa:"

static void setup(void)
{
    rf_redis_t init = RF_REDIS_INIT;
    srv = init;
    char err[512], url[200];
    if (rf_redis_start(&srv, err, sizeof err) < 0) cr_assert_fail("cannot start redis: %s", err);
    rf_redis_url(&srv, 0, url, sizeof url);
    cli = pa_redis_new(url, 2000, err, sizeof err);
    cr_assert_not_null(cli, "%s", err);
    T0 = 1700000000000ull;
}

static void release_kept(void);

static void teardown(void)
{
    release_kept();
    pa_redis_destroy(&cli);
    rf_redis_cleanup(&srv);
}

TestSuite(lua_jobs, .init = setup, .fini = teardown, .timeout = 30);

/* ---- reading Redis as an operator would -------------------------------------------------- */

/* Strings kept until the test ends (freed by its teardown). */
static char **kept;
static size_t nkept, capkept;

static const char *keep(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    if (nkept == capkept) {
        capkept = capkept ? 2 * capkept : 64;
        kept = realloc(kept, capkept * sizeof *kept);
    }
    kept[nkept++] = c;
    return c;
}

static void release_kept(void)
{
    for (size_t i = 0; i < nkept; i++) free(kept[i]);
    free(kept);
    kept = NULL, nkept = capkept = 0;
}

static redisReply *cmd2(const char *fmt, const char *a, const char *b)
{
    redisReply *r = pa_redis_cmd(cli, fmt, a, b);
    cr_assert(r, "%s: %s", fmt, pa_redis_errstr(cli));
    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    return r;
}

/* A hash field, or NULL when absent. */
static const char *hget(const char *key, const char *field)
{
    redisReply *r = cmd2("HGET %s %s", key, field);
    const char *v = r->type == REDIS_REPLY_STRING ? keep(r->str, r->len) : NULL;
    freeReplyObject(r);
    return v;
}

static long long num(redisReply *r)
{
    long long v = r->type == REDIS_REPLY_INTEGER  ? r->integer
                  : r->type == REDIS_REPLY_STRING ? atoll(r->str)
                                                  : -1;
    freeReplyObject(r);
    return v;
}

static long long hnum(const char *key, const char *field)
{
    const char *v = hget(key, field);
    return v ? atoll(v) : -1;
}

#define LLEN(k) num(cmd2("LLEN %s", (k), NULL))
#define ZCARD(k) num(cmd2("ZCARD %s", (k), NULL))
#define ZSCORE(k, m) num(cmd2("ZSCORE %s %s", (k), (m)))
#define SISMEMBER(k, m) num(cmd2("SISMEMBER %s %s", (k), (m)))
#define EXISTS(k) num(cmd2("EXISTS %s", (k), NULL))
#define TTL(k) num(cmd2("TTL %s", (k), NULL))

static const char *lindex(const char *key, long i)
{
    char is[24];
    snprintf(is, sizeof is, "%ld", i);
    redisReply *r = cmd2("LINDEX %s %s", key, is);
    const char *v = r->type == REDIS_REPLY_STRING ? keep(r->str, r->len) : NULL;
    freeReplyObject(r);
    return v;
}

/* Keys of the tests' job "j-1" and others. */
static const char *kjob(const char *job)
{
    char k[PA_KEY_MAX];
    pa_key_job(k, P, job);
    return keep(k, strlen(k));
}

static const char *ktask(const char *job, long n)
{
    char k[PA_KEY_MAX];
    pa_key_task_n(k, P, job, n);
    return keep(k, strlen(k));
}

static const char *kready(const char *svc)
{
    char k[PA_KEY_MAX];
    pa_key_ready(k, P, svc);
    return keep(k, strlen(k));
}

static const char *kworker(const char *wid)
{
    char k[PA_KEY_MAX];
    pa_key_worker_tasks(k, P, wid);
    return keep(k, strlen(k));
}

#define KDELAYED P "delayed"
#define KLEASING P "leasing"
#define KDEAD P "dead"
#define KJOBS P "jobs"

/* Every task change of job in the events stream, in order: [task, stage, state, attempt(, key,
 * value)] arrays; job-level entries as ["", "", "job:<state>", total]. */
static json_t *events_of(const char *job)
{
    redisReply *r = cmd2("XRANGE %s - +", P "events", NULL);
    json_t *out = json_array();
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        const char *ej = NULL, *tasks = NULL, *state = NULL, *total = "";
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            const char *name = f->element[k]->str, *v = f->element[k + 1]->str;
            if (!strcmp(name, "job")) ej = v;
            else if (!strcmp(name, "tasks")) tasks = v;
            else if (!strcmp(name, "state")) state = v;
            else if (!strcmp(name, "total")) total = v;
        }
        if (!ej || strcmp(ej, job)) continue;
        if (tasks) {
            json_t *a = json_loads(tasks, 0, NULL);
            cr_assert(json_is_array(a), "events: tasks is not a JSON array: %s", tasks);
            size_t j;
            json_t *x;
            json_array_foreach(a, j, x) json_array_append(out, x);
            json_decref(a);
        } else {
            char s[64];
            snprintf(s, sizeof s, "job:%s", state ? state : "?");
            json_array_append_new(out, json_pack("[s, s, s, s]", "", "", s, total));
        }
    }
    freeReplyObject(r);
    return out;
}

/* 1 when an event of the job says task tid moved to state at attempt (and, when k is given,
 * carries k = v; v NULL: any value). */
static int has_event(const char *job, const char *tid, const char *stage, const char *state,
                     const char *attempt, const char *k, const char *v)
{
    json_t *evs = events_of(job);
    int found = 0;
    size_t i;
    json_t *e;
    json_array_foreach(evs, i, e) {
        const char *f[6] = {0};
        for (size_t j = 0; j < 6 && j < json_array_size(e); j++)
            f[j] = json_string_value(json_array_get(e, j));
        if (strcmp(f[0], tid) || strcmp(f[2], state)) continue;
        if (stage && strcmp(f[1], stage)) continue;
        if (attempt && strcmp(f[3], attempt)) continue;
        if (k && (!f[4] || strcmp(f[4], k) || (v && strcmp(f[5], v)))) continue;
        found = 1;
    }
    json_decref(evs);
    return found;
}

/* What claim.lua stores: the task key and its lease. */
static const char *hr_fmt_lease(const char *key, const char *lease)
{
    char b[256];
    snprintf(b, sizeof b, "%s/%s", key, lease);
    return keep(b, strlen(b));
}

/* ---- calling the scripts -------------------------------------------------------------------- */

static const char *const TARGETS[] = {"https://a.example/contact", "https://b.example/contact",
                                      "https://c.example/contact", "https://d.example/contact",
                                      "https://e.example/contact", "https://f.example/contact"};
static const char *const INPUTS[] = {"{\"email\":\"a@a.example\"}", "{\"email\":\"b@b.example\"}",
                                     "{\"email\":\"c@c.example\"}", "{\"email\":\"d@d.example\"}",
                                     "{\"email\":\"e@e.example\"}", "{\"email\":\"f@f.example\"}"};

/* A run as the gateway makes one: n tasks (at most 6), the given stages, 2/3/3 attempts. */
static pa_jobs_create_in_t run_in(const char *job, size_t n, const char *stages)
{
    static char bucket[PA_KEY_MAX];
    pa_jobs_create_in_t in = {
        .prefix = P,
        .job = job,
        .now_ms = T0,
        .idem_key_index = -1,
        .idem_ttl_s = 86400,
        .max_queued = 100000,
        .campaign_id = "c-1",
        .ctx = "{\"template\":\"Hello\"}",
        .stages = stages,
        .max_attempts = {[PA_STAGE_enrich] = 2, [PA_STAGE_compose] = 3, [PA_STAGE_submit] = 3},
        .retention_s = 3600,
        .n = n,
        .targets = TARGETS,
        .inputs = INPUTS,
        .rate_key = pa_key_rate(bucket, P, "run", -1),
        .rate_per_ms = 1,
        .burst = 1000};
    return in;
}

static pa_jobs_create_out_t create_in(const pa_jobs_create_in_t *in)
{
    pa_jobs_create_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_create_call(cli, in, &out, err, sizeof err), 0, "create: %s", err);
    return out;
}

static void create(const char *job, size_t n, const char *stages)
{
    pa_jobs_create_in_t in = run_in(job, n, stages);
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
    pa_jobs_leases_free(&out.leased);
}

static pa_jobs_leases_t dispatch_at(const char *svc, unsigned n, const char *wid, uint64_t now,
                                    long lease_ms)
{
    pa_jobs_dispatch_in_t in = {
        .prefix = P, .service = svc, .n = n, .worker = wid, .now_ms = now, .lease_ms = lease_ms};
    pa_jobs_leases_t l;
    char err[256];
    cr_assert_eq(pa_jobs_dispatch_call(cli, &in, &l, err, sizeof err), 0, "dispatch: %s", err);
    return l;
}

static pa_jobs_leases_t dispatch(const char *svc, unsigned n, const char *wid)
{
    return dispatch_at(svc, n, wid, T0, 30000);
}

/* Commits one outcome; returns 1 when committed, 0 when refused as stale. */
static int commit_at(const char *wid, const pa_jobs_task_t *t, const char *lease,
                     pa_jobs_outcome_t outcome, const char *result, const char *error,
                     long delay_ms, uint64_t now)
{
    pa_jobs_commit_item_t o = {.key = t->key,
                               .lease = lease ? lease : t->lease,
                               .outcome = outcome,
                               .result = result,
                               .error = error,
                               .delay_ms = delay_ms};
    pa_jobs_commit_in_t in = {.prefix = P, .worker = wid, .now_ms = now, .items = &o, .n = 1};
    bool stale = true;
    pa_jobs_commit_out_t out = {.stale = &stale};
    char err[256];
    cr_assert_eq(pa_jobs_commit_call(cli, &in, &out, err, sizeof err), 0, "commit: %s", err);
    cr_assert_eq(out.ok + out.nstale, 1);
    return !stale;
}

static int commit(const char *wid, const pa_jobs_task_t *t, pa_jobs_outcome_t outcome,
                  const char *result, const char *error)
{
    return commit_at(wid, t, NULL, outcome, result, error, 0, T0 + 10);
}

static pa_jobs_maintain_out_t maintain(uint64_t now)
{
    pa_jobs_maintain_in_t in = {.prefix = P, .now_ms = now, .limit = 1000};
    pa_jobs_maintain_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_maintain_call(cli, &in, &out, err, sizeof err), 0, "maintain: %s", err);
    return out;
}

/* ---- the stage table ---------------------------------------------------------------------- */

Test(lua_jobs, stage_table_gives_services_order_and_defaults)
{
    cr_assert_eq(PA_NSTAGES, 3);
    cr_assert_str_eq(pa_stages[0], "enrich");
    cr_assert_str_eq(pa_stages[2], "submit");
    cr_assert_str_eq(pa_stage_service("enrich"), "mcp");
    cr_assert_str_eq(pa_stage_service("compose"), "llm");
    cr_assert_str_eq(pa_stage_service("submit"), "form");
    cr_assert_str_eq(pa_stage_service("generate"), "llm");
    cr_assert_null(pa_stage_service("fax"));
    cr_assert_eq(pa_stage_run_index("generate"), -1, "generate is not a stage of runs");
    cr_assert_eq(pa_service_find("form"), PA_SVC_form);
    cr_assert_eq(pa_stage_info[PA_STAGE_enrich].max_attempts, 2);
    cr_assert(pa_stage_info[PA_STAGE_submit].sends && pa_stage_info[PA_STAGE_submit].run);
    cr_assert(!pa_stage_info[PA_STAGE_compose].sends);
    cr_assert(!pa_stage_info[PA_STAGE_generate].run);
    char list[64];
    cr_assert_str_eq(pa_stages_list(list, sizeof list), "enrich, compose, submit");
    cr_assert_str_eq(pa_stages_list(list, 10), "enrich, c", "cut to the room given");
}

/* docs/architecture.md shows the table as it is: a line per stage. */
Test(lua_jobs, docs_show_the_stage_table)
{
    const char *src = getenv("PA_SOURCE_DIR");
    char path[4096];
    if (src) snprintf(path, sizeof path, "%s/docs/architecture.md", src);
    else snprintf(path, sizeof path, "%s", "docs/architecture.md");
    FILE *f = fopen(path, "rb");
    if (!f && !src) cr_skip_test("cannot read %s; set PA_SOURCE_DIR", path);
    cr_assert_not_null(f, "cannot read %s", path);
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
#define LINE(name, svc, max, kind)                                                                 \
    cr_assert_not_null(strstr(doc, "X(" #name ", " #svc ", " #max ", " #kind ")"),                 \
                       "docs/architecture.md lacks the stage line X(%s, %s, %d, %s)", #name, #svc, \
                       max, #kind);
    PA_STAGE_TABLE(LINE)
#undef LINE
}

Test(lua_jobs, lua_side_of_the_stage_table_routes_every_stage_to_its_service)
{
    /* a one-stage job per stage: its tasks go to that stage's service's queue */
    for (int s = 0; s < PA_NSTAGES_ALL; s++) {
        char job[32];
        snprintf(job, sizeof job, "j-%s", pa_stage_info[s].name);
        create(job, 1, pa_stage_info[s].name);
    }
    /* as many tasks in a service's queue as the table has stages for it */
    long per_svc[PA_NSERVICES] = {0};
    for (int s = 0; s < PA_NSTAGES_ALL; s++) per_svc[pa_stage_info[s].service]++;
    cr_assert_eq(per_svc[PA_SVC_mcp], 2, "enrich and mcp_call");
    cr_assert_eq(per_svc[PA_SVC_llm], 2, "compose and generate");
    for (int v = 0; v < PA_NSERVICES; v++)
        cr_assert_eq(LLEN(kready(pa_services[v])), per_svc[v], "the %s queue", pa_services[v]);
    /* the default attempts of a stage the job does not name come from the table */
    pa_jobs_create_in_t in = run_in("j-d", 1, "enrich");
    memset(in.max_attempts, 0, sizeof in.max_attempts);
    pa_jobs_create_out_t o = create_in(&in);
    pa_jobs_leases_free(&o.leased);
    pa_jobs_leases_t l = dispatch("mcp", (unsigned)per_svc[PA_SVC_mcp] + 1, "w-1");
    cr_assert_eq(l.n, (size_t)per_svc[PA_SVC_mcp] + 1);
    cr_assert_str_eq(l.tasks[l.n - 1].key, "j-d:000001");
    cr_assert_eq(l.tasks[l.n - 1].max_attempts,
                 (unsigned)pa_stage_info[PA_STAGE_enrich].max_attempts);
    pa_jobs_leases_free(&l);
}

/* ---- create ------------------------------------------------------------------------------- */

Test(lua_jobs, create_writes_the_job_its_tasks_and_the_first_queue)
{
    create("j-1", 3, "enrich,compose,submit");
    const char *jk = kjob("j-1");
    cr_assert_str_eq(hget(jk, "status"), "queued");
    cr_assert_eq(hnum(jk, "total"), 3);
    cr_assert_eq(hnum(jk, "queued"), 3);
    cr_assert_eq(hnum(jk, "running"), 0);
    cr_assert_str_eq(hget(jk, "stages"), "enrich,compose,submit");
    cr_assert_str_eq(hget(jk, "campaign_id"), "c-1");
    cr_assert_str_eq(hget(jk, "ctx"), "{\"template\":\"Hello\"}");
    json_t *m = json_loads(hget(jk, "max_attempts"), 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(m, "enrich")), 2);
    cr_assert_eq(json_integer_value(json_object_get(m, "submit")), 3);
    json_decref(m);
    cr_assert_eq(hnum(jk, "retention_s"), 3600);
    cr_assert_eq(hnum(jk, "created_ms"), (long long)T0);
    const char *tk = ktask("j-1", 2);
    cr_assert_str_eq(hget(tk, "target"), TARGETS[1]);
    cr_assert_str_eq(hget(tk, "input"), INPUTS[1]);
    cr_assert_str_eq(hget(tk, "stage"), "enrich");
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_null(hget(tk, "attempt"), "no attempt before the first");
    /* queued in order: the first task is taken first (from the right) */
    cr_assert_eq(LLEN(kready("mcp")), 3);
    cr_assert_str_eq(lindex(kready("mcp"), -1), "j-1:000001");
    cr_assert_eq(ZSCORE(KJOBS, "j-1"), (long long)T0);
    cr_assert(has_event("j-1", "", "", "job:queued", "3", NULL, NULL));
}

Test(lua_jobs, create_with_the_same_idempotency_key_answers_the_first_job)
{
    pa_jobs_create_in_t in = run_in("j-1", 2, "compose");
    in.idem = "abc";
    in.idem_key_index = 0;
    pa_jobs_create_out_t a = create_in(&in);
    cr_assert_eq(a.status, PA_JOBS_CREATED);
    in.job = "j-2";
    pa_jobs_create_out_t b = create_in(&in);
    cr_assert_eq(b.status, PA_JOBS_EXISTS);
    cr_assert_str_eq(b.job, "j-1");
    cr_assert_eq(EXISTS(kjob("j-2")), 0, "no second job");
    cr_assert_eq(LLEN(kready("llm")), 2);
    char k[PA_KEY_MAX];
    const char *ik = pa_key_idem(k, P, 0, "abc");
    cr_assert_str_eq(hget(kjob("j-1"), "id"), "j-1");
    redisReply *r = cmd2("GET %s", ik, NULL);
    cr_assert_str_eq(r->str, "j-1");
    freeReplyObject(r);
    cr_assert(TTL(ik) > 86000);
    /* another API key's same header value is another key */
    in.idem_key_index = 1;
    pa_jobs_create_out_t c = create_in(&in);
    cr_assert_eq(c.status, PA_JOBS_CREATED);
}

Test(lua_jobs, create_refuses_a_job_that_would_pass_the_queue_cap)
{
    create("j-1", 2, "enrich");
    pa_jobs_create_in_t in = run_in("j-2", 2, "enrich");
    in.max_queued = 3;
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_FULL);
    cr_assert_eq(out.depth, 2);
    cr_assert_eq(EXISTS(kjob("j-2")), 0);
    cr_assert_eq(LLEN(kready("mcp")), 2);
    /* another service's queue does not count */
    in.stages = "compose";
    out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
}

Test(lua_jobs, create_answers_limited_when_the_token_bucket_is_empty)
{
    pa_jobs_create_in_t in = run_in("j-1", 1, "enrich");
    in.burst = 1;
    in.rate_per_ms = 1.0 / 60000; /* one a minute */
    cr_assert_eq(create_in(&in).status, PA_JOBS_CREATED);
    in.job = "j-2";
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_LIMITED);
    cr_assert(out.wait_ms > 59000 && out.wait_ms <= 60000, "wait %lld", out.wait_ms);
    cr_assert_eq(EXISTS(kjob("j-2")), 0);
    in.now_ms = T0 + 60000; /* refilled */
    cr_assert_eq(create_in(&in).status, PA_JOBS_CREATED);
}

Test(lua_jobs, create_leases_the_first_tasks_to_a_worker_with_room)
{
    pa_jobs_create_in_t in = run_in("j-1", 3, "enrich,compose");
    in.lease_worker = "w-1";
    in.lease_k = 2;
    in.lease_ms = 30000;
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
    cr_assert_eq(out.leased.n, 2);
    const pa_jobs_task_t *t = &out.leased.tasks[0];
    cr_assert_str_eq(t->key, "j-1:000001");
    cr_assert_eq(t->job_len, 3);
    cr_assert_str_eq(t->stage, "enrich");
    cr_assert_eq(t->attempt, 1);
    cr_assert_eq(t->max_attempts, 2);
    cr_assert_str_eq(t->target, TARGETS[0]);
    cr_assert_str_eq(t->input, INPUTS[0]);
    cr_assert_str_eq(out.leased.tasks[1].ctx, "{\"template\":\"Hello\"}", "the context for each");
    cr_assert_null(t->results[0]);
    const char *jk = kjob("j-1");
    cr_assert_str_eq(hget(jk, "status"), "running");
    cr_assert_eq(hnum(jk, "running"), 2);
    cr_assert_eq(hnum(jk, "queued"), 1);
    cr_assert_eq(LLEN(kready("mcp")), 1, "only the third task is queued");
    cr_assert_str_eq(lindex(kready("mcp"), 0), "j-1:000003");
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "running");
    cr_assert_str_eq(hget(ktask("j-1", 1), "worker"), "w-1");
    cr_assert_str_eq(hget(ktask("j-1", 1), "lease"), t->lease);
    cr_assert_eq(ZCARD(kworker("w-1")), 2);
    cr_assert_eq((uint64_t)ZSCORE(kworker("w-1"), "j-1:000002"),
                 out.leased.tasks[1].lease_until_ms);
    cr_assert_eq(SISMEMBER(KLEASING, "w-1"), 1);
    cr_assert(has_event("j-1", "000001", "enrich", "running", "1", "worker", "w-1"));
    pa_jobs_leases_free(&out.leased);
}

/* A lease token must not repeat after a Redis restart that rolled lease:seq back (an older AOF or
 * RDB): a stale worker's token would then match a new lease. */
Test(lua_jobs, create_lease_tokens_do_not_repeat_after_the_counter_rolls_back)
{
    pa_jobs_create_in_t in = run_in("j-1", 1, "enrich");
    in.lease_worker = "w-1";
    in.lease_k = 1;
    in.lease_ms = 30000;
    pa_jobs_create_out_t a = create_in(&in);
    cr_assert_eq(a.leased.n, 1);
    char first[128];
    snprintf(first, sizeof first, "%s", a.leased.tasks[0].lease);
    pa_jobs_leases_free(&a.leased);
    freeReplyObject(cmd2("SET %s %s", P "lease:seq", "0"));
    usleep(2000); /* Redis's clock moves on, as it does across a restart */
    in = run_in("j-2", 1, "enrich");
    in.lease_worker = "w-1";
    in.lease_k = 1;
    in.lease_ms = 30000;
    pa_jobs_create_out_t b = create_in(&in);
    cr_assert_eq(b.leased.n, 1);
    cr_assert_str_neq(b.leased.tasks[0].lease, first, "the same lease token was given twice");
    pa_jobs_leases_free(&b.leased);
}

Test(lua_jobs, create_leases_nothing_at_once_when_the_queue_was_not_empty)
{
    create("j-0", 1, "enrich");
    pa_jobs_create_in_t in = run_in("j-1", 2, "enrich");
    in.lease_worker = "w-1";
    in.lease_k = 2;
    in.lease_ms = 30000;
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
    cr_assert_eq(out.leased.n, 0, "older tasks go first");
    cr_assert_eq(LLEN(kready("mcp")), 3);
    cr_assert_eq(ZCARD(kworker("w-1")), 0);
}

Test(lua_jobs, create_of_an_api_call_job_is_not_listed)
{
    pa_jobs_create_in_t in = run_in("j-gen", 1, "generate");
    in.unlisted = true;
    cr_assert_eq(create_in(&in).status, PA_JOBS_CREATED);
    cr_assert_eq(EXISTS(kjob("j-gen")), 1);
    cr_assert_eq(ZCARD(KJOBS), 0);
    cr_assert_eq(LLEN(kready("llm")), 1);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

Test(lua_jobs, dispatch_leases_queued_tasks_to_the_worker)
{
    create("j-1", 3, "enrich,compose,submit");
    pa_jobs_leases_t l = dispatch_at("mcp", 2, "w-1", T0 + 5, 30000);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.tasks[0].key, "j-1:000001");
    cr_assert_str_eq(l.tasks[1].key, "j-1:000002");
    cr_assert_str_neq(l.tasks[0].lease, l.tasks[1].lease);
    cr_assert_eq(l.tasks[0].attempt, 1);
    cr_assert_eq(l.tasks[0].max_attempts, 2);
    cr_assert_eq(l.tasks[0].lease_until_ms, T0 + 5 + 30000);
    cr_assert_str_eq(l.tasks[1].target, TARGETS[1]);
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "running");
    cr_assert_str_eq(hget(tk, "worker"), "w-1");
    cr_assert_str_eq(hget(tk, "lease"), l.tasks[0].lease);
    cr_assert_eq(hnum(tk, "attempt"), 1);
    cr_assert_eq(ZSCORE(kworker("w-1"), "j-1:000001"), (long long)(T0 + 5 + 30000));
    cr_assert_eq(SISMEMBER(KLEASING, "w-1"), 1);
    const char *jk = kjob("j-1");
    cr_assert_str_eq(hget(jk, "status"), "running");
    cr_assert_not_null(hget(jk, "started"));
    cr_assert_eq(hnum(jk, "running"), 2);
    cr_assert_eq(hnum(jk, "queued"), 1);
    cr_assert_eq(LLEN(kready("mcp")), 1);
    cr_assert(has_event("j-1", "000002", "enrich", "running", "1", "worker", "w-1"));
    pa_jobs_leases_free(&l);
    /* nothing queued for another service */
    l = dispatch("llm", 5, "w-2");
    cr_assert_eq(l.n, 0);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, dispatch_skips_queue_entries_of_tasks_no_longer_queued)
{
    create("j-1", 3, "enrich");
    /* task 1's entry stays in the queue while the task is no longer queued (as a task of a job
     * cancelled while its entry was being taken back, or moved on) */
    redisReply *r = cmd2("HSET %s state cancelled", ktask("j-1", 1), NULL);
    freeReplyObject(r);
    pa_jobs_leases_t l = dispatch("mcp", 2, "w-1");
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.tasks[0].key, "j-1:000002");
    cr_assert_str_eq(l.tasks[1].key, "j-1:000003");
    cr_assert_eq(LLEN(kready("mcp")), 0, "the stale entry was dropped");
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "cancelled");
    cr_assert_eq(hnum(kjob("j-1"), "running"), 2);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, dispatch_gives_a_jobs_context_once_per_run_of_its_tasks)
{
    create("j-1", 2, "enrich");
    pa_jobs_create_in_t in = run_in("j-2", 1, "enrich");
    in.ctx = "{\"template\":\"Other\"}";
    pa_jobs_create_out_t o = create_in(&in);
    pa_jobs_leases_free(&o.leased);
    pa_jobs_leases_t l = dispatch("mcp", 3, "w-1");
    cr_assert_eq(l.n, 3);
    /* the answer names the context once per run of tasks of one job ... */
    size_t stride = l.reply->elements / l.n;
    cr_assert_gt(l.reply->element[7]->len, 0);
    cr_assert_eq(l.reply->element[stride + 7]->len, 0, "the same job's context is not repeated");
    cr_assert_gt(l.reply->element[2 * stride + 7]->len, 0);
    /* ... and every parsed task has its job's */
    cr_assert_str_eq(l.tasks[1].ctx, "{\"template\":\"Hello\"}");
    cr_assert_str_eq(l.tasks[2].ctx, "{\"template\":\"Other\"}");
    cr_assert_eq(l.tasks[2].job_len, 3);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, dispatch_carries_the_earlier_stages_results)
{
    create("j-1", 1, "enrich,compose,submit");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{\"company\":\"Acme\"}", NULL));
    pa_jobs_leases_free(&l);
    l = dispatch("llm", 1, "w-2");
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.tasks[0].stage, "compose");
    cr_assert_eq(l.tasks[0].attempt, 1);
    cr_assert_eq(l.tasks[0].max_attempts, 3);
    cr_assert_str_eq(l.tasks[0].results[PA_STAGE_enrich], "{\"company\":\"Acme\"}");
    cr_assert_null(l.tasks[0].results[PA_STAGE_compose]);
    pa_jobs_leases_free(&l);
}

/* ---- commit ------------------------------------------------------------------------------- */

Test(lua_jobs, commit_succeeded_queues_the_next_stage)
{
    create("j-1", 2, "enrich,compose");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{\"x\":1}", NULL));
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_str_eq(hget(tk, "stage"), "compose");
    cr_assert_eq(hnum(tk, "attempt"), 0);
    cr_assert_str_eq(hget(tk, "result_enrich"), "{\"x\":1}");
    cr_assert_eq(LLEN(kready("llm")), 1);
    cr_assert_eq(ZCARD(kworker("w-1")), 0, "the lease ended");
    const char *jk = kjob("j-1");
    cr_assert_eq(hnum(jk, "queued"), 2);
    cr_assert_eq(hnum(jk, "running"), 0);
    cr_assert_eq(hnum(jk, "succeeded"), 0);
    cr_assert(has_event("j-1", "000001", "compose", "queued", "1", NULL, NULL));
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_of_the_last_stage_counts_succeeded_finishes_the_job_and_counts_sent)
{
    redisReply *r = cmd2("HSET %s sent 5", P "campaign:c-1", NULL);
    freeReplyObject(r);
    create("j-1", 2, "submit");
    pa_jobs_leases_t l = dispatch("form", 2, "w-1");
    cr_assert_eq(l.n, 2);
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{\"ok\":true}", NULL));
    const char *jk = kjob("j-1");
    cr_assert_eq(hnum(jk, "succeeded"), 1);
    cr_assert_str_eq(hget(jk, "status"), "running");
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 6);
    cr_assert(commit("w-1", &l.tasks[1], PA_JOBS_OUT_SKIPPED, NULL, "no form"));
    cr_assert_eq(hnum(jk, "succeeded"), 1);
    cr_assert_eq(hnum(jk, "skipped"), 1);
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 6, "only a message sent counts");
    cr_assert_str_eq(hget(jk, "status"), "completed");
    cr_assert_not_null(hget(jk, "finished"));
    cr_assert(TTL(jk) > 3500 && TTL(jk) <= 3600);
    cr_assert(TTL(ktask("j-1", 2)) > 3500, "the tasks expire with the job");
    cr_assert_str_eq(hget(ktask("j-1", 2), "error"), "no form");
    cr_assert(has_event("j-1", "", "", "job:completed", NULL, NULL, NULL));
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_of_a_preview_run_sends_nothing)
{
    /* options.stages ["compose"]: the job ends with compose, which is not a SEND stage */
    create("j-1", 1, "compose");
    pa_jobs_leases_t l = dispatch("llm", 1, "w-1");
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{\"message\":\"Hi\"}", NULL));
    cr_assert_str_eq(hget(kjob("j-1"), "status"), "completed");
    cr_assert_eq(EXISTS(P "campaign:c-1"), 0, "no sent count for a message not sent");
    pa_jobs_leases_free(&l);
}

/* A dry run posted nothing: a submit whose result says "outcome":"dry_run" (or "dry_run":true)
 * succeeds without moving the campaign's sent count; a result that only quotes the words (a field
 * value) is a real send. */
Test(lua_jobs, commit_of_a_dry_run_submit_does_not_count_sent)
{
    freeReplyObject(cmd2("HSET %s sent %s", P "campaign:c-1", "5"));
    create("j-1", 4, "submit");
    pa_jobs_leases_t l = dispatch("form", 4, "w-1");
    cr_assert_eq(l.n, 4);
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED,
                     "{\"outcome\":\"dry_run\",\"request\":{\"method\":\"POST\"}}", NULL));
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 5, "a dry run counted as sent");
    cr_assert(commit("w-1", &l.tasks[1], PA_JOBS_OUT_SUCCEEDED, "{\"dry_run\":true}", NULL));
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 5, "a dry run counted as sent");
    cr_assert(commit("w-1", &l.tasks[2], PA_JOBS_OUT_SUCCEEDED,
                     "{\"outcome\":\"submitted\",\"fields\":[{\"name\":\"m\",\"value\":"
                     "\"\\\"dry_run\\\"\"}],\"evidence\":{\"dry_run\":false}}",
                     NULL));
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 6, "a real send quoting dry_run not counted");
    cr_assert(
        commit("w-1", &l.tasks[3], PA_JOBS_OUT_SUCCEEDED, "{\"outcome\":\"submitted\"}", NULL));
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 7);
    cr_assert_eq(hnum(kjob("j-1"), "succeeded"), 4, "a dry run still succeeds");
    pa_jobs_leases_free(&l);
}

/* A task that ends captcha_required joins the hand-off queue, scored by the commit's time; no
 * other outcome does. */
Test(lua_jobs, commit_of_captcha_required_adds_the_task_to_the_handoffs)
{
    freeReplyObject(cmd2("HSET %s sent %s", P "campaign:c-1", "5"));
    create("j-1", 3, "submit");
    pa_jobs_leases_t l = dispatch("form", 3, "w-1");
    cr_assert_eq(l.n, 3);
    cr_assert(commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_CAPTCHA_REQUIRED,
                        "{\"outcome\":\"captcha_required\",\"reason\":\"captcha\"}",
                        "captcha: a reCAPTCHA guards the form", 0, T0 + 42));
    cr_assert(commit("w-1", &l.tasks[1], PA_JOBS_OUT_SKIPPED, NULL, "robots: disallowed"));
    cr_assert(commit("w-1", &l.tasks[2], PA_JOBS_OUT_SUCCEEDED, "{}", NULL));
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "captcha_required");
    cr_assert_eq(ZCARD(P "handoffs"), 1);
    cr_assert_eq(ZSCORE(P "handoffs", "j-1:000001"), (long long)(T0 + 42));
    cr_assert_eq(hnum(kjob("j-1"), "captcha_required"), 1);
    cr_assert_eq(hnum(P "campaign:c-1", "sent"), 6, "a hand-off is not sent");
    /* a stale commit of the same outcome adds nothing */
    cr_assert_not(
        commit_at("w-1", &l.tasks[1], "1", PA_JOBS_OUT_CAPTCHA_REQUIRED, "{}", "x", 0, T0 + 50));
    cr_assert_eq(ZCARD(P "handoffs"), 1);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_with_a_stale_lease_is_refused_and_changes_nothing)
{
    create("j-1", 1, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    cr_assert_not(
        commit_at("w-1", &l.tasks[0], "999999", PA_JOBS_OUT_SUCCEEDED, "{}", NULL, 0, T0 + 10));
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "running");
    cr_assert_null(hget(tk, "result_enrich"));
    cr_assert_eq(hnum(kjob("j-1"), "running"), 1);
    cr_assert_eq(ZCARD(kworker("w-1")), 1);
    /* committed once with the right token; a second commit of it is stale */
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL));
    cr_assert_not(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL));
    cr_assert_eq(hnum(kjob("j-1"), "succeeded"), 1);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_retry_waits_its_delay_in_the_delayed_set)
{
    create("j-1", 1, "compose");
    pa_jobs_leases_t l = dispatch("llm", 1, "w-1");
    cr_assert(commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_RETRY, NULL, "429 slow down", 5000,
                        T0 + 100));
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "retry_wait");
    cr_assert_str_eq(hget(tk, "error"), "429 slow down");
    cr_assert_eq(ZSCORE(KDELAYED, "j-1:000001"), (long long)(T0 + 5100));
    cr_assert_eq(hnum(kjob("j-1"), "retry_wait"), 1);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 0);
    cr_assert(has_event("j-1", "000001", "compose", "retry_wait", "1", "error", "429 slow down"));
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_retry_at_the_attempt_limit_fails_and_dead_letters)
{
    pa_jobs_create_in_t in = run_in("j-1", 1, "enrich");
    in.max_attempts[PA_STAGE_enrich] = 2;
    pa_jobs_create_out_t o = create_in(&in);
    pa_jobs_leases_free(&o.leased);
    for (int attempt = 1; attempt <= 2; attempt++) {
        pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
        cr_assert_eq(l.n, 1);
        cr_assert_eq(l.tasks[0].attempt, (unsigned)attempt);
        cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_RETRY, NULL, "timeout"));
        pa_jobs_leases_free(&l);
        if (attempt == 1) {
            cr_assert_eq(maintain(T0 + 1000).promoted, 1);
        }
    }
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "failed");
    cr_assert_str_eq(hget(tk, "error"), "gave up after 2 attempts: timeout");
    cr_assert_eq(ZCARD(KDELAYED), 0);
    cr_assert_eq(hnum(kjob("j-1"), "failed"), 1);
    cr_assert_str_eq(hget(kjob("j-1"), "status"), "completed");
    cr_assert_eq(LLEN(KDEAD), 1);
    json_t *d = json_loads(lindex(KDEAD, 0), 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(d, "task")), "j-1:000001");
    cr_assert_str_eq(json_string_value(json_object_get(d, "job")), "j-1");
    cr_assert_str_eq(json_string_value(json_object_get(d, "stage")), "enrich");
    cr_assert_eq(json_integer_value(json_object_get(d, "attempts")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(d, "reason")),
                     "gave up after 2 attempts: timeout");
    json_decref(d);
}

Test(lua_jobs, commit_failed_fails_at_once_without_a_dead_letter)
{
    create("j-1", 1, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    cr_assert(commit("w-1", &l.tasks[0], PA_JOBS_OUT_FAILED, NULL, "bad domain"));
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "failed");
    cr_assert_str_eq(hget(ktask("j-1", 1), "error"), "bad domain");
    cr_assert_eq(hnum(kjob("j-1"), "failed"), 1);
    cr_assert_eq(LLEN(KDEAD), 0);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_of_a_batch_sums_token_usage_and_answers_per_outcome)
{
    create("j-1", 3, "compose");
    pa_jobs_leases_t l = dispatch("llm", 3, "w-1");
    cr_assert_eq(l.n, 3);
    pa_jobs_commit_item_t items[3] = {
        {.key = l.tasks[0].key,
         .lease = l.tasks[0].lease,
         .outcome = PA_JOBS_OUT_SUCCEEDED,
         .result = "{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":4}}"},
        {.key = l.tasks[1].key, .lease = "1", .outcome = PA_JOBS_OUT_SUCCEEDED},
        {.key = l.tasks[2].key,
         .lease = l.tasks[2].lease,
         .outcome = PA_JOBS_OUT_SUCCEEDED,
         .result = "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}"},
    };
    pa_jobs_commit_in_t in = {.prefix = P, .worker = "w-1", .items = items, .n = 3};
    bool stale[3];
    pa_jobs_commit_out_t out = {.stale = stale};
    char err[256];
    cr_assert_eq(pa_jobs_commit_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.ok, 2);
    cr_assert_eq(out.nstale, 1);
    cr_assert(!stale[0] && stale[1] && !stale[2]);
    cr_assert_eq(hnum(kjob("j-1"), "tokens_prompt"), 15);
    cr_assert_eq(hnum(kjob("j-1"), "tokens_completion"), 5);
    cr_assert_eq(hnum(kjob("j-1"), "succeeded"), 2);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 1);
    cr_assert_eq(ZCARD(kworker("w-1")), 1, "the refused task's lease is still held");
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_pipelined_is_read_later)
{
    create("j-1", 2, "compose");
    pa_jobs_leases_t l = dispatch("llm", 2, "w-1");
    pa_jobs_commit_item_t items[2] = {
        {.key = l.tasks[0].key, .lease = l.tasks[0].lease, .outcome = PA_JOBS_OUT_SUCCEEDED},
        {.key = l.tasks[1].key,
         .lease = l.tasks[1].lease,
         .outcome = PA_JOBS_OUT_UNCERTAIN,
         .error = "no confirmation"},
    };
    pa_jobs_commit_in_t in = {.prefix = P, .worker = "w-1", .items = items, .n = 2};
    char err[256];
    cr_assert_eq(pa_jobs_commit_append(cli, &in, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pa_redis_flush(cli), 0);
    bool stale[2];
    pa_jobs_commit_out_t out = {.stale = stale};
    int rc;
    while ((rc = pa_jobs_commit_read(cli, 100, 2, &out, err, sizeof err)) == 1) {
    }
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(out.ok, 2);
    cr_assert_str_eq(hget(ktask("j-1", 2), "state"), "uncertain");
    cr_assert_eq(hnum(kjob("j-1"), "uncertain"), 1);
    cr_assert_str_eq(hget(kjob("j-1"), "status"), "completed");
    /* Redis forgot its scripts: the read fails and the next append loads the script again */
    redisReply *r = cmd2("SCRIPT FLUSH", NULL, NULL);
    freeReplyObject(r);
    cr_assert_eq(pa_jobs_commit_append(cli, &in, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pa_jobs_commit_read(cli, -1, 2, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "NOSCRIPT"), "%s", err);
    cr_assert_eq(pa_jobs_commit_append(cli, &in, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pa_jobs_commit_read(cli, -1, 2, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.nstale, 2, "committed before: stale now");
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, commit_of_a_cancelled_jobs_task_goes_no_further)
{
    create("j-1", 2, "enrich,compose");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    pa_jobs_cancel_in_t cin = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t cout;
    char err[256];
    cr_assert_eq(pa_jobs_cancel_call(cli, &cin, &cout, err, sizeof err), 0, "%s", err);
    pa_jobs_cancel_out_free(&cout);
    /* whether cancel ended the running task at once (its lease void) or let it finish its stage,
     * it does not reach the next stage's queue */
    commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "cancelled");
    cr_assert_eq(LLEN(kready("llm")), 0);
    cr_assert_eq(hnum(kjob("j-1"), "cancelled"), 2);
    cr_assert_str_eq(hget(kjob("j-1"), "status"), "cancelled");
    pa_jobs_leases_free(&l);
}

/* A try that answers "retry" for a job cancelled meanwhile (a task running in a cancelled job:
 * an operator sent a failed task of it round again) ends cancelled: no retry, no failure, no
 * dead letter. */
Test(lua_jobs, commit_retry_in_a_cancelled_job_ends_cancelled_without_a_dead_letter)
{
    create("j-1", 2, "compose");
    pa_jobs_leases_t l = dispatch("llm", 1, "w-1");
    freeReplyObject(cmd2("HSET %s status %s", kjob("j-1"), "cancelled"));
    commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_RETRY, NULL, "busy", 1000, T0);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "cancelled");
    cr_assert_eq(ZCARD(KDELAYED), 0);
    cr_assert_eq(LLEN(KDEAD), 0);
    cr_assert_eq(hnum(kjob("j-1"), "cancelled"), 1);
    cr_assert_eq(hnum(kjob("j-1"), "failed"), 0);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 0);
    cr_assert(has_event("j-1", "000001", "compose", "cancelled", "1", NULL, NULL));
    pa_jobs_leases_free(&l);
}

/* ---- maintain ----------------------------------------------------------------------------- */

Test(lua_jobs, maintain_puts_due_retries_back_in_their_queue)
{
    create("j-1", 2, "compose");
    pa_jobs_leases_t l = dispatch("llm", 2, "w-1");
    commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_RETRY, NULL, "busy", 1000, T0);
    commit_at("w-1", &l.tasks[1], NULL, PA_JOBS_OUT_RETRY, NULL, "busy", 9000, T0);
    pa_jobs_maintain_out_t m = maintain(T0 + 1000);
    cr_assert_eq(m.promoted, 1);
    cr_assert_eq(m.requeued, 0);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "queued");
    cr_assert_str_eq(hget(ktask("j-1", 2), "state"), "retry_wait", "not due yet");
    cr_assert_eq(LLEN(kready("llm")), 1);
    cr_assert_eq(ZCARD(KDELAYED), 1);
    cr_assert_eq(hnum(kjob("j-1"), "queued"), 1);
    cr_assert_eq(hnum(kjob("j-1"), "retry_wait"), 1);
    cr_assert(has_event("j-1", "000001", "compose", "queued", "1", NULL, NULL));
    /* its next try is attempt 2 */
    pa_jobs_leases_t l2 = dispatch("llm", 1, "w-1");
    cr_assert_eq(l2.tasks[0].attempt, 2);
    pa_jobs_leases_free(&l2);
    pa_jobs_leases_free(&l);
}

/* A retry that falls due in a cancelled job is not queued again: it ends cancelled. */
Test(lua_jobs, maintain_ends_a_due_retry_of_a_cancelled_job_cancelled)
{
    create("j-1", 1, "compose");
    pa_jobs_leases_t l = dispatch("llm", 1, "w-1");
    commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_RETRY, NULL, "busy", 1000, T0);
    freeReplyObject(cmd2("HSET %s status %s", kjob("j-1"), "cancelled"));
    pa_jobs_maintain_out_t m = maintain(T0 + 1000);
    cr_assert_eq(m.promoted, 0);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "cancelled");
    cr_assert_eq(LLEN(kready("llm")), 0);
    cr_assert_eq(ZCARD(KDELAYED), 0);
    cr_assert_eq(hnum(kjob("j-1"), "retry_wait"), 0);
    cr_assert_eq(hnum(kjob("j-1"), "cancelled"), 1);
    cr_assert_eq(LLEN(KDEAD), 0);
    cr_assert_neq(hget(kjob("j-1"), "finished"), NULL, "the job is over");
    pa_jobs_leases_free(&l);
}

/* The index of jobs forgets the jobs whose hash has expired, 20 entries a call from a cursor that
 * goes round it: every expired one goes, no live one, and the cursor starts again at the end. */
Test(lua_jobs, maintain_trims_expired_jobs_from_the_index)
{
    char id[16];
    for (int i = 0; i < 45; i++) {
        snprintf(id, sizeof id, "j-%02d", i);
        create(id, 1, "compose");
    }
    for (int i = 0; i < 45; i += 3) { /* 15 expired: their hashes are gone */
        snprintf(id, sizeof id, "j-%02d", i);
        freeReplyObject(cmd2("DEL %s", kjob(id), NULL));
    }
    cr_assert_eq(ZCARD(KJOBS), 45);
    maintain(T0);
    cr_assert_eq(ZCARD(KJOBS), 38, "the first 20 looked at: 7 expired");
    cr_assert_eq(num(cmd2("GET %s", KJOBS ":trim", NULL)), 13, "after the 13 kept");
    maintain(T0);
    maintain(T0);
    cr_assert_eq(ZCARD(KJOBS), 30, "every expired one gone");
    cr_assert_eq(num(cmd2("EXISTS %s", KJOBS ":trim", NULL)), 0, "the cursor starts again");
    for (int i = 0; i < 45; i++) {
        snprintf(id, sizeof id, "j-%02d", i);
        redisReply *r = cmd2("ZSCORE %s %s", KJOBS, id);
        cr_assert_eq(r->type != REDIS_REPLY_NIL, i % 3 != 0, "%s", id);
        freeReplyObject(r);
    }
    maintain(T0);
    cr_assert_eq(ZCARD(KJOBS), 30, "nothing live is removed");
}

Test(lua_jobs, maintain_requeues_expired_leases_and_counts_the_attempt)
{
    create("j-1", 2, "enrich");
    pa_jobs_leases_t l = dispatch_at("mcp", 1, "w-1", T0, 1000);
    pa_jobs_leases_t l2 = dispatch_at("mcp", 1, "w-2", T0, 60000);
    pa_jobs_maintain_out_t m = maintain(T0 + 500);
    cr_assert_eq(m.requeued, 0, "not expired yet");
    m = maintain(T0 + 1000);
    cr_assert_eq(m.requeued, 1);
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_str_eq(hget(tk, "error"), "lease expired");
    cr_assert_eq(hnum(tk, "attempt"), 1, "the attempt counts");
    cr_assert_eq(ZCARD(kworker("w-1")), 0);
    cr_assert_eq(SISMEMBER(KLEASING, "w-1"), 0, "a worker without leases leaves the set");
    cr_assert_eq(SISMEMBER(KLEASING, "w-2"), 1);
    cr_assert_str_eq(lindex(kready("mcp"), -1), "j-1:000001", "at the front");
    cr_assert(has_event("j-1", "000001", "enrich", "queued", "1", "error", "lease expired"));
    /* the late commit of the expired lease is refused */
    cr_assert_not(commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL));
    /* the second expiry is its last attempt (enrich: 2): failed, dead-lettered */
    pa_jobs_leases_t l3 = dispatch_at("mcp", 1, "w-1", T0 + 2000, 1000);
    cr_assert_eq(l3.tasks[0].attempt, 2);
    m = maintain(T0 + 3000);
    cr_assert_eq(m.requeued, 1);
    cr_assert_str_eq(hget(tk, "state"), "failed");
    cr_assert_str_eq(hget(tk, "error"), "gave up after 2 attempts: lease expired");
    cr_assert_eq(LLEN(KDEAD), 1);
    cr_assert_eq(hnum(kjob("j-1"), "failed"), 1);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 1);
    pa_jobs_leases_free(&l);
    pa_jobs_leases_free(&l2);
    pa_jobs_leases_free(&l3);
}

/* ---- worker_lost, release, renew ---------------------------------------------------------- */

Test(lua_jobs, worker_lost_requeues_its_tasks_at_once_counting_the_attempt)
{
    create("j-1", 3, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 2, "w-1");
    pa_jobs_worker_lost_in_t in = {.prefix = P, .worker = "w-1", .counted = true};
    pa_jobs_worker_lost_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_worker_lost_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.requeued, 2);
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_eq(hnum(tk, "attempt"), 1);
    cr_assert_str_eq(hget(tk, "error"), "worker w-1 lost");
    cr_assert_eq(EXISTS(kworker("w-1")), 0);
    cr_assert_eq(SISMEMBER(KLEASING, "w-1"), 0);
    cr_assert_eq(hnum(kjob("j-1"), "queued"), 3);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 0);
    cr_assert(has_event("j-1", "000002", "enrich", "queued", "1", "error", "worker w-1 lost"));
    /* requeued at the front: taken before task 3 */
    pa_jobs_leases_t l2 = dispatch("mcp", 1, "w-2");
    cr_assert_str_neq(l2.tasks[0].key, "j-1:000003");
    cr_assert_eq(l2.tasks[0].attempt, 2);
    pa_jobs_leases_free(&l2);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, worker_lost_after_bye_does_not_count_the_attempt)
{
    create("j-1", 1, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    pa_jobs_worker_lost_in_t in = {.prefix = P, .worker = "w-1", .counted = false};
    pa_jobs_worker_lost_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_worker_lost_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.requeued, 1);
    cr_assert_eq(hnum(ktask("j-1", 1), "attempt"), 0);
    cr_assert_null(hget(ktask("j-1", 1), "error"));
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, release_gives_tasks_back_without_counting_the_attempt)
{
    create("j-1", 3, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 2, "w-1");
    pa_jobs_lease_ref_t refs[2] = {{l.tasks[0].key, l.tasks[0].lease},
                                   {l.tasks[1].key, "not-the-lease"}};
    pa_jobs_release_in_t in = {.prefix = P, .worker = "w-1", .tasks = refs, .n = 2};
    pa_jobs_release_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_release_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.released, 1, "only a lease still held is given back");
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_eq(hnum(tk, "attempt"), 0);
    cr_assert_null(hget(tk, "error"));
    cr_assert_str_eq(hget(ktask("j-1", 2), "state"), "running");
    cr_assert_eq(ZCARD(kworker("w-1")), 1);
    cr_assert_str_eq(lindex(kready("mcp"), -1), "j-1:000001", "at the front");
    cr_assert_eq(hnum(kjob("j-1"), "queued"), 2);
    cr_assert_eq(hnum(kjob("j-1"), "running"), 1);
    pa_jobs_leases_t l2 = dispatch("mcp", 1, "w-2");
    cr_assert_str_eq(l2.tasks[0].key, "j-1:000001");
    cr_assert_eq(l2.tasks[0].attempt, 1, "the same attempt again");
    pa_jobs_leases_free(&l2);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, renew_checks_every_lease_and_extends_those_asked)
{
    create("j-1", 3, "enrich");
    pa_jobs_leases_t l = dispatch_at("mcp", 3, "w-1", T0, 1000);
    pa_jobs_renew_item_t items[3] = {{l.tasks[0].key, l.tasks[0].lease, T0 + 50000},
                                     {l.tasks[1].key, l.tasks[1].lease, 0},
                                     {l.tasks[2].key, "0", T0 + 50000}};
    pa_jobs_renew_in_t in = {.prefix = P, .worker = "w-1", .tasks = items, .n = 3};
    pa_jobs_lease_state_t st[3];
    pa_jobs_renew_out_t out = {.state = st};
    char err[256];
    cr_assert_eq(pa_jobs_renew_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert(st[0] == PA_LEASE_HELD && st[1] == PA_LEASE_HELD && st[2] == PA_LEASE_LOST);
    cr_assert_eq(out.held, 2);
    cr_assert_eq(out.lost, 1);
    cr_assert_eq(ZSCORE(kworker("w-1"), "j-1:000001"), (long long)(T0 + 50000));
    cr_assert_eq(ZSCORE(kworker("w-1"), "j-1:000002"), (long long)(T0 + 1000), "checked only");
    /* maintenance takes back the leases not extended */
    cr_assert_eq(maintain(T0 + 2000).requeued, 2);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "running");
    cr_assert_str_eq(hget(ktask("j-1", 2), "state"), "queued");
    /* the job cancelled: its lease answers cancelled */
    pa_jobs_cancel_in_t cin = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t cout;
    cr_assert_eq(pa_jobs_cancel_call(cli, &cin, &cout, err, sizeof err), 0, "%s", err);
    pa_jobs_cancel_out_free(&cout);
    in.n = 1;
    cr_assert_eq(pa_jobs_renew_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(st[0], PA_LEASE_CANCELLED);
    cr_assert_eq(out.cancelled, 1);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, claim_is_taken_once_and_never_after_a_cancel)
{
    create("j-1", 2, "submit");
    pa_jobs_leases_t l = dispatch("form", 2, "w-1");
    pa_jobs_claim_in_t in = {.prefix = P,
                             .worker = "w-1",
                             .key = l.tasks[0].key,
                             .lease = l.tasks[0].lease,
                             .name = "c-1:a.example",
                             .ttl_s = 0};
    pa_jobs_claim_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_claim_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_JOBS_CLAIM_OK);
    cr_assert_eq(pa_jobs_claim_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_JOBS_CLAIM_OK, "the same lease again");
    redisReply *r = cmd2("GET %s", P "claim:c-1:a.example", NULL);
    cr_assert_str_eq(r->str, hr_fmt_lease(l.tasks[0].key, l.tasks[0].lease));
    freeReplyObject(r);
    in.key = l.tasks[1].key, in.lease = l.tasks[1].lease;
    cr_assert_eq(pa_jobs_claim_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_JOBS_CLAIM_TAKEN);
    in.lease = "0", in.name = "c-1:b.example";
    cr_assert_eq(pa_jobs_claim_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_JOBS_CLAIM_STALE);
    /* cancel names the worker that held running tasks; after it, no claim is taken */
    pa_jobs_cancel_in_t cin = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t cout;
    cr_assert_eq(pa_jobs_cancel_call(cli, &cin, &cout, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cout.status, PA_CANCEL_CANCELLED);
    cr_assert_eq(cout.nworkers, 1);
    cr_assert_str_eq(cout.workers[0], "w-1");
    pa_jobs_cancel_out_free(&cout);
    in.lease = l.tasks[1].lease;
    cr_assert_eq(pa_jobs_claim_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_JOBS_CLAIM_CANCELLED);
    cr_assert_eq(EXISTS(P "claim:c-1:b.example"), 0);
    pa_jobs_leases_free(&l);
}

/* ---- cancel, requeue, leased -------------------------------------------------------------- */

Test(lua_jobs, cancel_ends_queued_and_waiting_tasks_and_counts_their_queue_entries_as_dead)
{
    create("j-1", 3, "compose");
    create("j-2", 1, "compose");
    pa_jobs_leases_t l = dispatch("llm", 1, "w-1");
    commit_at("w-1", &l.tasks[0], NULL, PA_JOBS_OUT_RETRY, NULL, "busy", 60000, T0);
    pa_jobs_cancel_in_t in = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_cancel_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_CANCEL_CANCELLED);
    pa_jobs_cancel_out_free(&out);
    const char *jk = kjob("j-1");
    cr_assert_str_eq(hget(jk, "status"), "cancelled");
    cr_assert_eq(hnum(jk, "cancelled"), 3);
    cr_assert_eq(hnum(jk, "queued"), 0);
    cr_assert_eq(hnum(jk, "retry_wait"), 0);
    cr_assert_str_eq(hget(ktask("j-1", 1), "state"), "cancelled");
    cr_assert_eq(ZCARD(KDELAYED), 0);
    /* the queue is not rewritten: the two cancelled tasks' entries stay, counted as dead */
    cr_assert_eq(LLEN(kready("llm")), 3);
    cr_assert_eq(num(cmd2("GET %s", P "ready:llm:dead", NULL)), 2);
    cr_assert(has_event("j-1", "000002", "compose", "cancelled", NULL, NULL, NULL));
    cr_assert(has_event("j-1", "", "", "job:cancelled", NULL, NULL, NULL));
    /* again: still cancelled; an unknown job is not found */
    cr_assert_eq(pa_jobs_cancel_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_CANCEL_CANCELLED);
    pa_jobs_cancel_out_free(&out);
    in.job = "j-none";
    cr_assert_eq(pa_jobs_cancel_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_CANCEL_NOTFOUND);
    pa_jobs_cancel_out_free(&out);
    pa_jobs_leases_free(&l);
}

/* The queue bound counts the tasks that wait, not the entries cancelled tasks left; dispatch
 * drops those entries (beyond its 4n pops) and the dead count with them. */
Test(lua_jobs, cancelled_entries_do_not_count_against_the_queue_bound_and_dispatch_drops_them)
{
    create("j-1", 3, "enrich");
    create("j-2", 1, "enrich");
    pa_jobs_cancel_in_t cin = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t cout;
    char err[256];
    cr_assert_eq(pa_jobs_cancel_call(cli, &cin, &cout, err, sizeof err), 0, "%s", err);
    pa_jobs_cancel_out_free(&cout);
    cr_assert_eq(LLEN(kready("mcp")), 4);
    /* one task waits (j-2's): a bound of 3 takes a 2-task job, not a 3-task one */
    pa_jobs_create_in_t in = run_in("j-3", 3, "enrich");
    in.max_queued = 3;
    pa_jobs_create_out_t out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_FULL);
    cr_assert_eq(out.depth, 1);
    in = run_in("j-3", 2, "enrich");
    in.max_queued = 3;
    out = create_in(&in);
    cr_assert_eq(out.status, PA_JOBS_CREATED);
    /* j-1's three entries are the oldest: a dispatch of 1 drops them and leases j-2's task */
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.tasks[0].key, "j-2:000001");
    cr_assert_eq(LLEN(kready("mcp")), 2);
    cr_assert_eq(EXISTS(P "ready:mcp:dead"), 0, "the dead count went back to 0");
    pa_jobs_leases_free(&l);
    /* an emptied queue forgets a dead count that drifted (an entry removed by hand) */
    freeReplyObject(cmd2("SET %s %s", P "ready:mcp:dead", "5"));
    l = dispatch("mcp", 2, "w-1");
    cr_assert_eq(l.n, 2);
    pa_jobs_leases_free(&l);
    l = dispatch("mcp", 2, "w-1");
    cr_assert_eq(l.n, 0);
    pa_jobs_leases_free(&l);
    cr_assert_eq(LLEN(kready("mcp")), 0);
    cr_assert_eq(EXISTS(P "ready:mcp:dead"), 1, "no entry was dropped: the count is kept");
}

Test(lua_jobs, cancel_of_a_completed_job_changes_nothing)
{
    create("j-1", 1, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    commit("w-1", &l.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL);
    pa_jobs_cancel_in_t in = {.prefix = P, .job = "j-1"};
    pa_jobs_cancel_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_cancel_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_CANCEL_COMPLETED);
    pa_jobs_cancel_out_free(&out);
    cr_assert_str_eq(hget(kjob("j-1"), "status"), "completed");
    cr_assert_eq(hnum(kjob("j-1"), "succeeded"), 1);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, requeue_sends_a_failed_task_round_again)
{
    create("j-1", 1, "enrich,compose");
    pa_jobs_leases_t l = dispatch("mcp", 1, "w-1");
    commit("w-1", &l.tasks[0], PA_JOBS_OUT_FAILED, NULL, "broken");
    const char *jk = kjob("j-1");
    cr_assert_str_eq(hget(jk, "status"), "completed");
    pa_jobs_requeue_in_t in = {.prefix = P, .key = "j-1:000001"};
    pa_jobs_requeue_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_requeue_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_REQUEUE_OK);
    const char *tk = ktask("j-1", 1);
    cr_assert_str_eq(hget(tk, "state"), "queued");
    cr_assert_str_eq(hget(tk, "stage"), "enrich", "from its failed stage");
    cr_assert_eq(hnum(tk, "attempt"), 0);
    cr_assert_eq(TTL(tk), -1, "it no longer expires");
    cr_assert_eq(LLEN(kready("mcp")), 1);
    cr_assert_str_eq(hget(jk, "status"), "running");
    cr_assert_null(hget(jk, "finished"));
    cr_assert_eq(TTL(jk), -1);
    cr_assert_eq(hnum(jk, "failed"), 0);
    cr_assert_eq(hnum(jk, "queued"), 1);
    cr_assert(has_event("j-1", "000001", "enrich", "queued", "0", "by", "operator"));
    /* a task not failed, or unknown */
    cr_assert_eq(pa_jobs_requeue_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_REQUEUE_NOT_FAILED);
    cr_assert_str_eq(out.state, "queued");
    in.key = "j-1:000009";
    cr_assert_eq(pa_jobs_requeue_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.status, PA_REQUEUE_NOTFOUND);
    pa_jobs_leases_free(&l);
}

Test(lua_jobs, leased_counts_every_workers_leases_also_pipelined)
{
    create("j-1", 5, "enrich");
    pa_jobs_leases_t a = dispatch("mcp", 2, "w-1");
    pa_jobs_leases_t b = dispatch("mcp", 1, "w-2");
    pa_jobs_leased_in_t in = {.prefix = P};
    pa_jobs_leased_out_t out;
    char err[256];
    cr_assert_eq(pa_jobs_leased_call(cli, &in, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.leased, 3);
    commit("w-1", &a.tasks[0], PA_JOBS_OUT_SUCCEEDED, "{}", NULL);
    /* pipelined with other commands, as /metrics and prospectctl queues do */
    cr_assert_eq(pa_jobs_leased_append(cli, &in, err, sizeof err), 0, "%s", err);
    const char *argv[] = {"LLEN", P "ready:mcp"};
    cr_assert_eq(pa_redis_append(cli, 2, argv, NULL), 0);
    redisReply *r = pa_redis_get_reply(cli);
    cr_assert_eq(pa_jobs_leased_parse(r, &out, err, sizeof err), 0, "%s", err);
    freeReplyObject(r);
    cr_assert_eq(out.leased, 2);
    cr_assert_eq(num(pa_redis_get_reply(cli)), 2);
    pa_jobs_leases_free(&a);
    pa_jobs_leases_free(&b);
}

Test(lua_jobs, args_and_parse_make_the_wrappers_call_for_a_caller_that_sends_it)
{
    create("j-1", 2, "enrich");
    pa_jobs_leases_t l = dispatch("mcp", 2, "w-1");
    pa_jobs_lease_ref_t refs[2] = {{l.tasks[0].key, l.tasks[0].lease},
                                   {l.tasks[1].key, l.tasks[1].lease}};
    pa_jobs_release_in_t in = {.prefix = P, .worker = "w-1", .tasks = refs, .n = 2};
    /* scripts are loaded before a pipeline (a load is a round trip of its own) */
    cr_assert_eq(pa_redis_script_load(cli, &pa_jobs_release), 0);
    cr_assert_eq(pa_redis_script_load(cli, &pa_jobs_maintain), 0);
    pa_jobs_args_t a;
    pa_jobs_release_args(&in, &a);
    cr_assert_eq(a.argc, 8);
    cr_assert_eq(pa_redis_append_evalsha(cli, &pa_jobs_release, 0, a.argc, a.argv, NULL), 0);
    pa_jobs_args_free(&a);
    pa_jobs_maintain_in_t min = {.prefix = P, .now_ms = T0, .limit = 10};
    pa_jobs_maintain_args(&min, &a);
    cr_assert_eq(pa_redis_append_evalsha(cli, &pa_jobs_maintain, 0, a.argc, a.argv, NULL), 0);
    pa_jobs_args_free(&a);
    char err[256];
    redisReply *r = pa_redis_get_reply(cli);
    pa_jobs_release_out_t out;
    cr_assert_eq(pa_jobs_release_parse(r, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.released, 2);
    freeReplyObject(r);
    r = pa_redis_get_reply(cli);
    pa_jobs_maintain_out_t mout;
    cr_assert_eq(pa_jobs_maintain_parse(r, &mout, err, sizeof err), 0, "%s", err);
    cr_assert_eq(mout.promoted + mout.requeued, 0);
    freeReplyObject(r);
    cr_assert_eq(LLEN(kready("mcp")), 2);
    /* a batch too long for the struct's own room */
    pa_jobs_commit_item_t items[40];
    for (int i = 0; i < 40; i++)
        items[i] = (pa_jobs_commit_item_t){.key = "j-1:000001", .lease = "1", .delay_ms = i};
    pa_jobs_commit_in_t cin = {.prefix = P, .worker = "w-1", .now_ms = T0, .items = items, .n = 40};
    pa_jobs_commit_args(&cin, &a);
    cr_assert_eq(a.argc, 5 + 6 * 40);
    cr_assert_str_eq(a.argv[5 + 6 * 39 + 5], "39");
    cr_assert_str_eq(a.argv[5 + 2], "succeeded");
    pa_jobs_args_free(&a);
    pa_jobs_leases_free(&l);
}

/* ---- keys --------------------------------------------------------------------------------- */

Test(lua_jobs, key_names_match_the_documented_layout)
{
    char k[PA_KEY_MAX], t[PA_TASK_KEY_MAX], id[24];
    cr_assert_str_eq(pa_key_job(k, P, "j-1"), "pa:job:j-1");
    cr_assert_str_eq(pa_key_task(k, P, "j-1:000042"), "pa:task:j-1:000042");
    cr_assert_str_eq(pa_key_task_n(k, P, "j-1", 42), "pa:task:j-1:000042");
    cr_assert_str_eq(pa_task_key(t, "j-1", 7), "j-1:000007");
    cr_assert_str_eq(pa_task_id(id, 1234567), "1234567");
    cr_assert_str_eq(pa_key_ready(k, P, "form"), "pa:ready:form");
    cr_assert_str_eq(pa_key_worker_tasks(k, P, "w-1"), "pa:worker:w-1:tasks");
    cr_assert_str_eq(pa_key_worker_status(k, P, "w-1"), "pa:worker:w-1:status");
    cr_assert_str_eq(pa_key_idem(k, P, -1, "x"), "pa:idem:key-1:x");
    cr_assert_str_eq(pa_key_rate(k, P, "gen", 2), "pa:rl:gen:key2");
    cr_assert_str_eq(pa_key_claim(k, P, "c-1:a.example"), "pa:claim:c-1:a.example");
    cr_assert_str_eq(pa_key_rate(k, P, "run", -1), "pa:rl:run:anonymous");
    cr_assert_str_eq(pa_key_prospects(k, P, "status:new"), "pa:prospects:status:new");
    cr_assert_str_eq(pa_key_llm_stream(k, P, "j-1"), "pa:llm:stream:j-1");
    cr_assert_str_eq(pa_key_llm_cache(k, P, "hits"), "pa:llm:cache:hits");
    cr_assert_str_eq(pa_key_campaign(k, P, "c-1"), "pa:campaign:c-1");
    cr_assert_str_eq(pa_key_campaigns(k, P), "pa:campaigns");
    cr_assert_str_eq(pa_key_prospect(k, P, "p-1"), "pa:prospect:p-1");
    cr_assert_str_eq(pa_key_prospects(k, P, NULL), "pa:prospects");
    cr_assert_str_eq(pa_key_workers(k, P), "pa:workers");
    cr_assert_str_eq(pa_key_jobs(k, P), "pa:jobs");
    cr_assert_str_eq(pa_key_delayed(k, P), "pa:delayed");
    cr_assert_str_eq(pa_key_dead(k, P), "pa:dead");
    cr_assert_str_eq(pa_key_llm_stream(k, P, "*"), "pa:llm:stream:*"); /* the gateways' pattern */
    cr_assert_str_eq(pa_key_handoffs(k, P, 0), "pa:handoffs");
    cr_assert_str_eq(pa_key_handoffs(k, P, 1), "pa:handoffs:done");
    cr_assert_str_eq(pa_key_suppress(k, P, "domains"), "pa:suppress:domains");
    cr_assert_str_eq(pa_key_suppress(k, P, "meta"), "pa:suppress:meta");
    /* the scripts name the same keys: a created task is where pa_keys says */
    create("j-1", 1, "enrich");
    cr_assert_eq(EXISTS(pa_key_task_n(k, P, "j-1", 1)), 1);
    cr_assert_eq(EXISTS(pa_key_job(k, P, "j-1")), 1);
    cr_assert_eq(LLEN(pa_key_ready(k, P, "mcp")), 1);
    cr_assert_eq(num(cmd2("XLEN %s", pa_key_events(k, P), NULL)), 1);
}
