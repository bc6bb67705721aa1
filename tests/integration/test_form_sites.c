/* The form worker end to end against the fixture corpus (tests/form-sites: 25+ websites modelled
 * on real form builders, one origin each on 127.0.0.1): one campaign run over every site through
 * the real gateway, Redis, llm worker (template provider) and prospect-form-worker. For each site
 * the task ends as the manifest (tests/form-sites/sites.json) says — submitted, a CAPTCHA hand-off,
 * skipped (robots, opt-out, no form, JavaScript only), failed (unfillable, validation errors) —
 * and the fixture server received exactly the expected fields, with the CSRF cookie, a Referer,
 * an Accept-Language and the configured User-Agent; sites that must not be posted to received no
 * post at all. A dry run of the same sites posts nothing and stores each request it would send. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include "acl_fixture.h"
#include "form_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static fs_server_t *srv;

TestSuite(form_sites, .fini = lf_cleanup, .timeout = 240);

static void start(void)
{
    srv = fs_server(NULL);
    rd = hr_redis_start(NULL);
    gw =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "ALLOW_PRIVATE_TARGETS=1", NULL});
    lf_llm_worker(rd, gw, NULL);
    ff_worker("form-1", rd, gw, srv, NULL);
}

/* Every site of the manifest as run targets, each with its manifest name in variables.site. */
static const char *all_targets(void)
{
    json_t *sites = fs_manifest();
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    size_t i;
    json_t *s;
    json_array_foreach(sites, i, s) {
        const char *name = hr_jstr(s, "name");
        pa_buf_printf(&b,
                      "%s{\"url\":\"%s\",\"company\":\"Site %zu\",\"variables\":{\"site\":\"%s\"}}",
                      i ? "," : "", fs_url(srv, name, hr_jstr(s, "path")), i, name);
    }
    pa_buf_putc(&b, ']');
    const char *t = hr_fmt("%s", b.data);
    pa_buf_free(&b);
    return t;
}

/* The task of a site (by its URL). */
static json_t *task_of(json_t *tasks, const json_t *site)
{
    const char *url = fs_url(srv, hr_jstr(site, "name"), hr_jstr(site, "path"));
    json_t *t = lf_task_by_target(tasks, url);
    cr_assert(t, "no task for %s (%s)", hr_jstr(site, "name"), url);
    return t;
}

Test(form_sites, every_site_ends_as_its_manifest_says)
{
    start();
    const char *jid = ff_run(gw, all_targets(), "");
    json_t *job = lf_wait_completed(gw, jid, 180000);
    json_t *tasks = lf_tasks(gw, jid);
    json_t *sites = fs_manifest();
    cr_assert_eq(json_array_size(tasks), json_array_size(sites), "%s", hr_jdump(job));
    size_t i, submitted = 0;
    json_t *site;
    json_array_foreach(sites, i, site) {
        const char *name = hr_jstr(site, "name");
        json_t *exp = json_object_get(site, "expect");
        const char *outcome = hr_jstr(exp, "outcome");
        json_t *t = task_of(tasks, site);
        json_t *res = ff_submit(t);
        cr_assert(res, "%s: the task has no submit result: %s", name, hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "state"), ff_state_of(outcome), "%s: %s", name, hr_jdump(t));
        fs_expect_result(site, res);
        if (hr_jstr(exp, "captcha")) {
            /* a hand-off carries the page and every value a person pastes */
            cr_assert(hr_jstr(res, "page_url"), "%s: no page_url: %s", name, hr_jdump(res));
            if (json_object_get(exp, "fields"))
                fs_expect_fields(json_object_get(exp, "fields"), json_object_get(res, "fields"),
                                 NULL, NULL);
        }
        const char *msg =
            hr_jstr(json_object_get(json_object_get(t, "results"), "compose"), "message");
        fs_expect_posts(srv, site, NULL, msg);
        json_t *posts = fs_posts(srv, name);
        if (strcmp(outcome, "submitted") == 0) submitted++;
        size_t k;
        json_t *p;
        json_array_foreach(posts, k, p) {
            json_t *h = json_object_get(p, "headers");
            const char *ref = hr_jstr(h, "referer"), *al = hr_jstr(h, "accept-language"),
                       *ua = hr_jstr(h, "user-agent");
            cr_assert(ref && strncmp(ref, "http://127.0.0.1:", 17) == 0, "%s: referer %s", name,
                      ref);
            cr_assert(al && *al, "%s: no Accept-Language", name);
            cr_assert(ua && strstr(ua, "ProspectAI/1.0-test"), "%s: user-agent %s", name, ua);
            /* in the page's charset, as a browser posts it (the message holds ° and ×) */
            const char *cs = hr_jstr(site, "charset"), *enc = hr_jstr(p, "encoding");
            const char *want = !cs || strcasecmp(cs, "utf-8") == 0 ? "utf-8" : cs;
            cr_assert(enc && strcasecmp(enc, want) == 0, "%s: posted as %s, the page is %s: %s",
                      name, enc, want, hr_jdump(p));
        }
    }
    cr_expect_gt(submitted, 10, "only %zu sites submitted", submitted);
    lf_finish();
}

Test(form_sites, a_dry_run_posts_nothing_and_keeps_the_request)
{
    start();
    const char *jid = ff_run(gw, all_targets(), "\"dry_run\":true");
    lf_wait_completed(gw, jid, 180000);
    json_t *tasks = lf_tasks(gw, jid);
    json_t *sites = fs_manifest();
    size_t i, dry = 0;
    json_t *site;
    json_array_foreach(sites, i, site) {
        const char *name = hr_jstr(site, "name");
        cr_expect_eq(json_array_size(fs_posts(srv, name)), 0, "%s was posted to in a dry run",
                     name);
        json_t *exp = json_object_get(site, "expect");
        const char *outcome = hr_jstr(exp, "outcome");
        json_t *res = ff_submit(task_of(tasks, site));
        if (strcmp(outcome, "captcha_required") == 0) {
            /* what a real run would do, and nothing handed to a person */
            cr_expect_str_eq(hr_jstr(res, "outcome"), "dry_run", "%s: %s", name, hr_jdump(res));
            cr_expect_str_eq(hr_jstr(res, "would"), "captcha_required", "%s", hr_jdump(res));
            continue;
        }
        if (hr_jint(exp, "posts", 0) == 0) {
            /* the rest end as in a real run: skipped, failed before posting */
            fs_expect_result(site, res);
            continue;
        }
        cr_expect_str_eq(hr_jstr(res, "outcome"), "dry_run", "%s: %s", name, hr_jdump(res));
        cr_expect_str_eq(hr_jstr(res, "would"), "submit", "%s", hr_jdump(res));
        json_t *req = json_object_get(res, "request");
        json_t *form = json_object_get(exp, "form");
        if (form) cr_expect_str_eq(hr_jstr(req, "method"), hr_jstr(form, "method"), "%s", name);
        /* the request it would have sent: exactly the fields a real run posts (sites that judge
         * the post, such as one that always answers with errors, included) */
        fs_expect_fields(json_object_get(exp, "fields"), json_object_get(req, "fields"), NULL,
                         NULL);
        dry++;
    }
    cr_expect_gt(dry, 10);
    json_t *h = hr_json(hr_get(gw, "/api/handoffs"));
    cr_expect_eq(hr_jint(h, "total", -1), 0, "a dry run handed tasks to a person: %s", hr_jdump(h));
    lf_finish();
}

/* The form worker as the ACL user docs/redis-keys.md gives it (pa-form-worker: the engine's keys,
 * its pa:form:* keys, the suppression lists read-only), the gateway as pa-gateway, the llm worker
 * as pa-worker: a posted form, a hand-off, a robots skip and a suppressed target all work. */
Test(form_sites, the_form_worker_works_as_its_own_redis_user)
{
    srv = fs_server(
        (const char *[]){"--sites", "php-prg,recaptcha-v2,robots-disallow,no-form", NULL});
    rd = af_redis_start();
    pa_redis_t *adm = af_admin(rd);
    af_acl_from_docs(adm, "pa-gateway", "gw-pw-1");
    af_acl_from_docs(adm, "pa-worker", "wk-pw-1");
    af_acl_from_docs(adm, "pa-form-worker", "fw-pw-1");
    gw = hr_gateway_start(
        rd, (const char *[]){hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-gateway", "gw-pw-1")),
                             "HEARTBEAT_MS=200", "ALLOW_PRIVATE_TARGETS=1", NULL});
    lf_llm_worker(
        rd, gw,
        (const char *[]){hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-worker", "wk-pw-1")), NULL});
    ff_worker("form-1", rd, gw, srv,
              (const char *[]){hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-form-worker", "fw-pw-1")),
                               NULL});
    hr_resp_t *r = hr_post(gw, "/api/suppressions", "{\"emails\":[\"no@thanks.example\"]}");
    cr_assert(r->status == 200 || r->status == 201, "%s", hr_describe(r));
    const char *names[] = {"php-prg", "recaptcha-v2", "robots-disallow", "no-form"};
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    for (int i = 0; i < 4; i++) pa_buf_printf(&b, "{\"url\":\"%s\"},", fs_url(srv, names[i], "/"));
    pa_buf_printf(&b, "{\"url\":\"%s\",\"email\":\"no@thanks.example\"}]",
                  fs_url(srv, "php-prg", "/?again=1"));
    const char *jid = ff_run(gw, b.data, "");
    pa_buf_free(&b);
    lf_wait_completed(gw, jid, 60000);
    json_t *tasks = lf_tasks(gw, jid);
    for (int i = 0; i < 4; i++) {
        json_t *t = lf_task_by_target(tasks, fs_url(srv, names[i], "/"));
        cr_assert(t, "%s: no task", names[i]);
        fs_expect_result(fs_site(names[i]), ff_submit(t));
    }
    json_t *t = lf_task_by_target(tasks, fs_url(srv, "php-prg", "/?again=1"));
    cr_assert(t);
    cr_assert_str_eq(hr_jstr(ff_submit(t), "reason"), "suppressed", "%s", hr_jdump(t));
    cr_assert_eq(json_array_size(fs_posts(srv, "php-prg")), 1);
    cr_assert_eq(af_int(adm, "ZCARD pa:handoffs"), 1);
    /* the robots.txt cache the worker wrote as its own user */
    cr_assert_eq(
        af_int(adm, "EXISTS pa:form:robots:http://127.0.0.1:%d", fs_port(srv, "robots-disallow")),
        1);
    /* the worker's status record counts its outcomes (published at its next heartbeat) */
    uint64_t deadline = hr_now_ms() + 5000;
    const char *st;
    while (!(st = af_str(adm, "HGET pa:worker:form-1:status form_outcomes")) ||
           !strstr(st, "\"captcha_required\":1")) {
        cr_assert_lt(hr_now_ms(), deadline, "status record: %s", st ? st : "(none)");
        hr_sleep_ms(50);
    }
    cr_assert(strstr(st, "\"succeeded\":1") && strstr(st, "\"skipped\":3"), "%s", st);
    pa_redis_destroy(&adm);
    lf_finish();
}

/* A run without the compose stage sends its template rendered for each target (as the template
 * provider renders it), never the raw placeholders. */
Test(form_sites, a_run_without_compose_sends_the_rendered_template)
{
    srv = fs_server((const char *[]){"--sites", "php-prg", NULL});
    rd = hr_redis_start(NULL);
    gw =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "ALLOW_PRIVATE_TARGETS=1", NULL});
    ff_worker("form-1", rd, gw, srv, NULL);
    const char *jid =
        lf_run(gw, hr_fmt("{\"message_template\":\"" FF_TEMPLATE "\",\"sender\":" FF_SENDER
                          ",\"targets\":[{\"url\":\"%s\",\"company\":\"Rendered Co\"}],"
                          "\"options\":{\"enrich\":false,\"stages\":[\"submit\"]}}",
                          fs_url(srv, "php-prg", "/")));
    lf_wait_completed(gw, jid, 60000);
    json_t *t = json_array_get(lf_tasks(gw, jid), 0);
    cr_assert_str_eq(hr_jstr(t, "state"), "succeeded", "%s", hr_jdump(t));
    fs_expect_posts(srv, fs_site("php-prg"), NULL,
                    "Hello Rendered Co, our engines run at 40°C × 2. May we talk?");
    lf_finish();
}
