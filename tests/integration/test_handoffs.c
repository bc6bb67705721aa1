/* The hand-off queue end to end: runs whose tasks a real prospect-test-worker (mode captcha) ends
 * captcha_required with the submit stage's result, committed by commit.lua (which puts them in
 * pa:handoffs); GET /api/handoffs lists them oldest first with the page, the CAPTCHA and every
 * prefilled value; POST /api/handoffs/{id}/complete takes one off the list once (then 409), and
 * unknown or malformed ids and bad notes get precise problems. The gateway and the worker run as
 * the ACL users docs/redis-keys.md documents (pa-gateway, pa-worker), and Redis is hand-checked
 * (pa:handoffs, pa:handoffs:done, the task's handoff fields) as the administrator. */
#include <criterion/criterion.h>
#include <string.h>

#include "acl_fixture.h"
#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static pa_redis_t *adm;

#define GW_PW "gw-pw-for-tests"
#define WK_PW "wk-pw-for-tests"
#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

/* Redis with the documented users; the gateway and a form test worker as those users. */
static void start(void)
{
    rd = af_redis_start();
    adm = af_admin(rd);
    af_acl_from_docs(adm, "pa-gateway", GW_PW);
    af_acl_from_docs(adm, "pa-worker", WK_PW);
    gw = hr_gateway_start(
        rd, (const char *[]){hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-gateway", GW_PW)),
                             "HEARTBEAT_MS=200", NULL});
    jf_worker_start(
        rd, "form", "form-1", jf_endpoint(gw),
        (const char *[]){hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-worker", WK_PW)), NULL});
    jf_wait_workers(gw, "form", 1, 10000);
}

static void fini(void)
{
    pa_redis_destroy(&adm);
    jf_cleanup();
}

TestSuite(handoffs, .fini = fini, .timeout = 90);

static void finish(void)
{
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

/* Runs targets (a JSON array) through the submit stage and waits for the job to end. */
static const char *run(const char *targets)
{
    const char *jid = jf_run(gw, jf_body(targets, SUBMIT_ONLY));
    json_t *job = jf_wait_status(gw, jid, "completed", 20000);
    jf_assert_counts_add_up(job);
    return jid;
}

/* n targets "<prefix><i>.example" ending captcha_required. */
static const char *captchas(int n, const char *prefix)
{
    return jf_targets(n, prefix, "captcha");
}

static json_t *list(const char *query, long long *total)
{
    hr_resp_t *r = hr_get(gw, hr_fmt("/api/handoffs%s", query));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    json_t *items = json_object_get(j, "items");
    cr_assert(json_is_array(items), "%s", hr_describe(r));
    if (total) *total = hr_jint(j, "total", -1);
    cr_assert_str_eq(hr_header(r, "X-Total-Count") ? hr_header(r, "X-Total-Count") : "-",
                     hr_fmt("%lld", hr_jint(j, "total", -1)));
    return items;
}

static json_t *find(json_t *items, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(items, i, x)
        if (strcmp(hr_jstr(x, "id"), id) == 0) return x;
    return NULL;
}

/* The field of a hand-off named name (NULL when absent). */
static json_t *field(json_t *item, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(item, "fields"), i, f)
        if (strcmp(hr_jstr(f, "name"), name) == 0) return f;
    return NULL;
}

static hr_resp_t *complete(const char *id, const char *body)
{
    return hr_req(gw, "POST", hr_fmt("/api/handoffs/%s/complete", id), NULL, body);
}

Test(handoffs, captcha_tasks_are_listed_with_every_value_and_completed_once)
{
    start();
    const char *jid = run("[{\"url\":\"captcha1.example\",\"variables\":{\"test\":\"captcha\"}},"
                          "\"ok.example\","
                          "{\"url\":\"captcha2.example\",\"variables\":{\"test\":\"captcha\"}}]");
    /* commit.lua indexed exactly the two hand-offs */
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs"), 2);
    cr_assert_gt(af_int(adm, "ZSCORE pa:handoffs %s:000001", jid), 1700000000000LL);
    cr_assert_gt(af_int(adm, "ZSCORE pa:handoffs %s:000003", jid), 1700000000000LL);
    cr_assert_eq(af_int(adm, "ZSCORE pa:handoffs %s:000002", jid), -1, "a sent task handed off");
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 state", jid), "captcha_required");
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 error", jid), "captcha: test: captcha");
    /* the list: both, with the page, the CAPTCHA and every prefilled value */
    long long total;
    json_t *items = list("", &total);
    cr_assert_eq(total, 2);
    cr_assert_eq(json_array_size(items), 2, "%s", hr_jdump(items));
    const char *id1 = hr_fmt("%s-000001", jid), *id3 = hr_fmt("%s-000003", jid);
    json_t *h = find(items, id1);
    cr_assert(h, "%s is not listed: %s", id1, hr_jdump(items));
    cr_assert_str_eq(hr_jstr(h, "job_id"), jid);
    cr_assert_str_eq(hr_jstr(h, "task"), "000001");
    cr_assert_str_eq(hr_jstr(h, "target"), "https://captcha1.example/");
    cr_assert_str_eq(hr_jstr(h, "page_url"), "https://captcha1.example/contact");
    cr_assert_str_eq(hr_jstr(h, "reason"), "captcha_required");
    cr_assert_str_eq(hr_jstr(h, "detail"), "test: captcha");
    json_t *cap = json_object_get(h, "captcha");
    cr_assert_str_eq(hr_jstr(cap, "kind"), "recaptcha_v2", "%s", hr_jdump(h));
    cr_assert(strstr(hr_jstr(cap, "evidence"), "g-recaptcha"), "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(json_object_get(h, "form"), "method"), "POST");
    cr_assert_eq(json_array_size(json_object_get(h, "fields")), 4, "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(field(h, "your-name"), "value"), "S");
    cr_assert_str_eq(hr_jstr(field(h, "your-email"), "value"), "s@x.example");
    cr_assert_str_eq(hr_jstr(field(h, "your-email"), "kind"), "email");
    cr_assert_str_eq(hr_jstr(field(h, "your-email"), "label"), "Your e-mail");
    cr_assert_str_eq(hr_jstr(field(h, "your-message"), "value"), "Hi {{name}}");
    const char *created = hr_jstr(h, "created");
    cr_assert(created && strlen(created) == 24 && created[23] == 'Z', "%s", hr_jdump(h));
    cr_assert(find(items, id3), "%s", hr_jdump(items));
    /* the same result is each task's evidence in the job's tasks */
    json_t *t =
        jf_task_by_target(jf_tasks(gw, jid, "captcha_required"), "https://captcha1.example/");
    cr_assert(t);
    json_t *res = json_object_get(json_object_get(t, "results"), "submit");
    cr_assert_str_eq(hr_jstr(res, "outcome"), "captcha_required", "%s", hr_jdump(t));
    /* complete one, with a note */
    const char *note = "Sent by hand: solved the CAPTCHA, pasted the values. «ok» ✓";
    hr_resp_t *r = complete(id1, hr_fmt("{\"note\":\"%s\"}", note));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "id"), id1);
    cr_assert_str_eq(hr_jstr(hr_json(r), "job_id"), jid);
    cr_assert_str_eq(hr_jstr(hr_json(r), "task"), "000001");
    cr_assert_str_eq(hr_jstr(hr_json(r), "handoff"), "done");
    cr_assert_str_eq(hr_jstr(hr_json(r), "note"), note);
    const char *when = hr_jstr(hr_json(r), "completed_at");
    cr_assert(when && strlen(when) == 24, "%s", hr_describe(r));
    /* it left the list */
    items = list("", &total);
    cr_assert_eq(total, 1);
    cr_assert_eq(json_array_size(items), 1);
    cr_assert_null(find(items, id1));
    /* Redis, by hand */
    cr_assert_eq(af_int(adm, "ZSCORE pa:handoffs %s:000001", jid), -1);
    cr_assert_gt(af_int(adm, "ZSCORE pa:handoffs:done %s:000001", jid), 1700000000000LL);
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 handoff", jid), "done");
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 handoff_note", jid), note);
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 handoff_done_at", jid), when);
    cr_assert_str_eq(af_str(adm, "HGET pa:task:%s:000001 state", jid), "captcha_required",
                     "completing a hand-off does not change the task's outcome");
    /* and the job's tasks show it */
    json_t *done =
        jf_task_by_target(jf_tasks(gw, jid, "captcha_required"), "https://captcha1.example/");
    json_t *ho = json_object_get(done, "handoff");
    cr_assert_str_eq(hr_jstr(ho, "status"), "done", "%s", hr_jdump(done));
    cr_assert_str_eq(hr_jstr(ho, "note"), note);
    cr_assert_str_eq(hr_jstr(ho, "completed_at"), when);
    /* again: 409, saying when */
    r = complete(id1, NULL);
    hr_assert_problem(r, 409, "conflict", NULL);
    cr_assert_str_eq(hr_jstr(hr_json(r), "completed_at"), when, "%s", hr_describe(r));
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), when), "%s", hr_describe(r));
    /* the other one, without a body: no note */
    r = complete(id3, NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(hr_jnull(hr_json(r), "note"), "%s", hr_describe(r));
    cr_assert_null(af_str(adm, "HGET pa:task:%s:000003 handoff_note", jid));
    items = list("", &total);
    cr_assert_eq(total, 0);
    cr_assert_eq(json_array_size(items), 0);
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs:done"), 2);
    /* the task that was sent, a job that does not exist: no open hand-off */
    hr_assert_problem(complete(hr_fmt("%s-000002", jid), NULL), 404, "not-found", NULL);
    hr_assert_problem(complete("j-nope-000001", NULL), 404, "not-found", NULL);
    finish();
}

Test(handoffs, malformed_ids_and_bad_notes_get_precise_problems)
{
    start();
    const char *jid = run(captchas(1, "c"));
    const char *id = hr_fmt("%s-000001", jid);
    static const char *const bad_ids[] = {
        "nohyphen",
        "j-1-12345",
        "j-1-1234567890",
        "-000001",
        "j-1-00000a",
        "j%2B1-000001",
        "j-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-000001"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        hr_resp_t *r = complete(bad_ids[i], NULL);
        cr_assert_eq(r->status, 400, "%s: %s", bad_ids[i], hr_describe(r));
        hr_assert_problem(r, 400, "invalid-field", "id");
    }
    char longnote[2100];
    memset(longnote, 'n', 2001);
    longnote[2001] = '\0';
    hr_assert_problem(complete(id, hr_fmt("{\"note\":\"%s\"}", longnote)), 400, "invalid-field",
                      "note");
    hr_assert_problem(complete(id, "{\"note\":42}"), 400, "invalid-field", "note");
    hr_assert_problem(complete(id, "{\"note\":\"x\",\"by\":\"me\"}"), 400, "invalid-field", "by");
    hr_assert_problem(complete(id, "[\"note\"]"), 400, "invalid-field", NULL);
    hr_assert_problem(complete(id, "{\"note\":"), 400, "invalid-json", NULL);
    hr_assert_problem(hr_req(gw, "POST", hr_fmt("/api/handoffs/%s/complete", id),
                             (const char *[]){"Content-Type: text/plain", NULL}, "done"),
                      415, "unsupported-media-type", NULL);
    /* none of them completed it; a note of exactly 2000 characters does */
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs"), 1);
    longnote[2000] = '\0';
    hr_resp_t *r = complete(id, hr_fmt("{\"note\":\"%s\"}", longnote));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    /* the list's own query */
    hr_assert_problem(hr_get(gw, "/api/handoffs?limit=0"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, "/api/handoffs?limit=501"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, "/api/handoffs?cursor=nope"), 400, "invalid-field", "cursor");
    hr_assert_problem(hr_get(gw, "/api/handoffs?cursor=12-nohyphen"), 400, "invalid-field",
                      "cursor");
    hr_assert_problem(hr_get(gw, "/api/handoffs?state=open"), 400, "invalid-field", "state");
    hr_assert_problem(hr_req(gw, "DELETE", "/api/handoffs", NULL, NULL), 405, "method-not-allowed",
                      NULL);
    finish();
}

Test(handoffs, pages_walk_every_handoff_once_oldest_first_even_while_completing)
{
    start();
    const char *first = run(captchas(4, "a"));
    const char *second = run(captchas(3, "b"));
    /* every page through the Link header: seven, each once, the first job's first */
    json_t *all = hr_jkeep(json_array());
    const char *url = "/api/handoffs?limit=3";
    int pages = 0;
    while (url) {
        hr_resp_t *r = hr_get(gw, url);
        cr_assert_eq(r->status, 200, "%s", hr_describe(r));
        json_t *items = json_object_get(hr_json(r), "items");
        cr_assert_leq(json_array_size(items), 3);
        json_array_extend(all, items);
        pages++;
        url = hr_link_next(r);
        const char *nc = hr_jstr(hr_json(r), "next_cursor");
        cr_assert((url == NULL) == (nc == NULL), "%s", hr_describe(r));
        cr_assert_lt(pages, 10);
    }
    cr_assert_eq(json_array_size(all), 7, "%s", hr_jdump(all));
    cr_assert_eq(pages, 3);
    for (size_t i = 0; i < 7; i++) {
        json_t *x = json_array_get(all, i);
        cr_assert_str_eq(hr_jstr(x, "job_id"), i < 4 ? first : second, "%s", hr_jdump(all));
        if (i)
            cr_assert_leq(
                strcmp(hr_jstr(json_array_get(all, i - 1), "created"), hr_jstr(x, "created")), 0,
                "not oldest first: %s", hr_jdump(all));
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(hr_jstr(json_array_get(all, k), "id"), hr_jstr(x, "id"),
                              "listed twice: %s", hr_jdump(all));
    }
    /* completing the page's last item before reading the next page loses nothing */
    hr_resp_t *r = hr_get(gw, "/api/handoffs?limit=3");
    json_t *page1 = json_object_get(hr_json(r), "items");
    const char *next = hr_link_next(r);
    cr_assert(next);
    cr_assert_eq(complete(hr_jstr(json_array_get(page1, 2), "id"), NULL)->status, 200);
    r = hr_get(gw, next);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(json_object_get(hr_json(r), "items"), 0), "id"),
                     hr_jstr(json_array_get(all, 3), "id"), "%s", hr_describe(r));
    cr_assert_eq(hr_jint(hr_json(r), "total", -1), 6);
    finish();
}

Test(handoffs, a_handoff_whose_task_expired_is_dropped)
{
    start();
    const char *jid = run(captchas(3, "e"));
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs"), 3);
    /* as when the job's retention ends: its task hashes expire */
    cr_assert_eq(af_int(adm, "DEL pa:task:%s:000002", jid), 1);
    long long total;
    json_t *items = list("", &total);
    cr_assert_eq(json_array_size(items), 2, "%s", hr_jdump(items));
    cr_assert_eq(total, 2);
    cr_assert_null(find(items, hr_fmt("%s-000002", jid)));
    cr_assert_eq(af_int(adm, "ZSCORE pa:handoffs %s:000002", jid), -1, "the member stayed");
    hr_assert_problem(complete(hr_fmt("%s-000002", jid), NULL), 404, "not-found", NULL);
    /* one expiring between the list and its completion: 404, and it leaves the set */
    cr_assert_eq(af_int(adm, "DEL pa:task:%s:000003", jid), 1);
    hr_assert_problem(complete(hr_fmt("%s-000003", jid), NULL), 404, "not-found", NULL);
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs"), 1);
    finish();
}
