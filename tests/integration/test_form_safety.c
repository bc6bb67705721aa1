/* The form worker's politeness and safety rules, each shown on real processes (gateway, Redis,
 * llm worker, prospect-form-worker) against the fixture websites on 127.0.0.1:
 *   - the per-origin rate limit: requests to one site are spaced by FORM_RATE_MS;
 *   - suppressions: a suppressed e-mail or domain is skipped before any request;
 *   - the SSRF guard: a private address not in ALLOWED_PRIVATE_TARGETS is never connected to;
 *   - cancel: after POST /api/jobs/{id}/cancel has answered, no form of the job is posted;
 *   - at most once: kill -9 of the worker mid-job, a new worker finishes the job, and no site
 *     receives a second post. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "form_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static fs_server_t *srv;
static lf_proc_t *worker;

TestSuite(form_safety, .fini = lf_cleanup, .timeout = 240);

static void start(const char *const *server_args, const char *const *worker_env)
{
    srv = fs_server(server_args);
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"HEARTBEAT_MS=200", "ALLOW_PRIVATE_TARGETS=1", "LEASE_MS=3000", NULL});
    lf_llm_worker(rd, gw, NULL);
    worker = ff_worker("form-1", rd, gw, srv, worker_env);
}

/* A listening socket on 127.0.0.1:port (non-blocking), to count connections made to it. */
static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0, "bind %d: %s", port,
                 strerror(errno));
    cr_assert_eq(listen(fd, 16), 0);
    return fd;
}

static int accepted(int fd)
{
    int n = 0, c;
    while ((c = accept(fd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    return n;
}

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* The first site of the manifest whose expected outcome is `outcome`. */
static const char *site_with(const char *outcome)
{
    size_t i;
    json_t *s;
    json_array_foreach(fs_manifest(), i, s) {
        if (strcmp(hr_jstr(json_object_get(s, "expect"), "outcome"), outcome) == 0)
            return hr_jstr(s, "name");
    }
    cr_assert_fail("no site in the manifest ends %s", outcome);
    return NULL;
}

Test(form_safety, requests_to_one_origin_are_spaced_by_the_rate_limit)
{
    start(NULL, (const char *[]){"FORM_RATE_MS=400", NULL});
    const char *site = site_with("submitted");
    const char *url = fs_url(srv, site, "/");
    /* two targets on the same origin: one task at a time, one request per 400 ms */
    const char *jid = ff_run(gw, hr_fmt("[{\"url\":\"%s\"},{\"url\":\"%s?ref=2\"}]", url, url), "");
    lf_wait_completed(gw, jid, 60000);
    json_t *reqs = fs_requests(srv, site);
    cr_assert_gt(json_array_size(reqs), 4, "%s", hr_jdump(reqs));
    size_t i;
    json_t *r;
    double last = -1;
    json_array_foreach(reqs, i, r) {
        double t = json_number_value(json_object_get(r, "time"));
        if (last >= 0)
            cr_expect_geq(t - last, 320, "requests %zu and %zu to %s were %.0f ms apart: %s", i - 1,
                          i, site, t - last, hr_jdump(reqs));
        last = t;
    }
    lf_finish();
}

Test(form_safety, a_crawl_delay_spaces_requests_more_than_the_rate_limit)
{
    /* robots-crawl-delay's robots.txt says Crawl-delay: 1; the worker's own rate is 50 ms */
    start((const char *[]){"--sites", "robots-crawl-delay", NULL}, NULL);
    const char *jid =
        ff_run(gw, hr_fmt("[{\"url\":\"%s\"}]", fs_url(srv, "robots-crawl-delay", "/")), "");
    lf_wait_completed(gw, jid, 60000);
    json_t *reqs = fs_requests(srv, "robots-crawl-delay");
    cr_assert_geq(json_array_size(reqs), 4, "%s", hr_jdump(reqs));
    size_t i;
    json_t *r;
    double last = -1;
    json_array_foreach(reqs, i, r) {
        double t = json_number_value(json_object_get(r, "time"));
        /* a redirect hop after the post is part of that request; every other one waits */
        if (last >= 0 && !strstr(hr_jstr(r, "path"), "thank"))
            cr_expect_geq(t - last, 900, "requests %zu and %zu were %.0f ms apart: %s", i - 1, i,
                          t - last, hr_jdump(reqs));
        last = t;
    }
    lf_finish();
}

Test(form_safety, suppressed_emails_and_domains_are_skipped_before_any_request)
{
    start(NULL, NULL);
    const char *site = site_with("submitted");
    const char *url = fs_url(srv, site, "/");
    hr_resp_t *r =
        hr_post(gw, "/api/suppressions",
                "{\"emails\":[\"Optout@Blocked.example\"],\"domains\":[\"gone.example\"]}");
    cr_assert(r->status == 200 || r->status == 201, "%s", hr_describe(r));
    const char *jid = ff_run(gw,
                             hr_fmt("[{\"url\":\"%s\",\"email\":\"optout@blocked.example\"},"
                                    "{\"url\":\"%s?b=1\",\"email\":\"ceo@sub.gone.example\"}]",
                                    url, url),
                             "");
    lf_wait_completed(gw, jid, 60000);
    json_t *tasks = lf_tasks(gw, jid);
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        cr_expect_str_eq(hr_jstr(t, "state"), "skipped", "%s", hr_jdump(t));
        cr_expect_str_eq(hr_jstr(ff_submit(t), "reason"), "suppressed", "%s", hr_jdump(t));
    }
    cr_expect_eq(json_array_size(fs_requests(srv, site)), 0, "a suppressed target was fetched: %s",
                 hr_jdump(fs_requests(srv, site)));
    lf_finish();
}

Test(form_safety, a_private_address_outside_the_allow_list_is_never_connected_to)
{
    start(NULL, NULL);
    const char *site = site_with("submitted");
    /* a port of 127.0.0.1 that is not the fixture's, where something listens: named as the
     * target, and as where a fixture site's home page redirects; and a redirect to 10.0.0.1 */
    int port = rf_free_port();
    int fd = listen_on(port);
    const char *direct = hr_fmt("http://127.0.0.1:%d/", port);
    const char *jid = ff_run(gw,
                             hr_fmt("[{\"url\":\"%s\"},{\"url\":\"%s\"},{\"url\":\"%s\"}]", direct,
                                    fs_url(srv, site, hr_fmt("/__redirect?to=%scontact", direct)),
                                    fs_url(srv, site, "/__redirect?to=http://10.0.0.1/")),
                             "");
    lf_wait_completed(gw, jid, 60000);
    size_t i;
    json_t *t;
    json_array_foreach(lf_tasks(gw, jid), i, t) {
        cr_expect_str_eq(hr_jstr(t, "state"), "failed", "%s", hr_jdump(t));
        cr_expect_str_eq(hr_jstr(ff_submit(t), "reason"), "refused_target", "%s", hr_jdump(t));
    }
    cr_expect_eq(accepted(fd), 0, "the worker connected to a refused address");
    close(fd);
    lf_finish();
}

/* A run over the first n bench sites (tests/form-sites --bench). */
static const char *bench_run(int n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    for (int i = 0; i < n; i++)
        pa_buf_printf(&b, "%s{\"url\":\"http://127.0.0.1:%d/\"}", i ? "," : "",
                      fs_port(srv, hr_fmt("bench-%d", i)));
    pa_buf_putc(&b, ']');
    const char *jid = ff_run(gw, b.data, "");
    pa_buf_free(&b);
    return jid;
}

Test(form_safety, no_form_is_posted_after_cancel_has_answered)
{
    /* 24 slow sites (every answer 400 ms): the cancel comes while most are on their way */
    start((const char *[]){"--bench", "24", "--delay-ms", "400", NULL},
          (const char *[]){"FORM_RATE_MS=0", NULL});
    const char *jid = bench_run(24);
    hr_sleep_ms(1200);
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    uint64_t answered = wall_ms();
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    hr_sleep_ms(3000);
    json_t *posts = fs_posts(srv, NULL);
    size_t i;
    json_t *p;
    json_array_foreach(posts, i, p) {
        double t = json_number_value(json_object_get(p, "time"));
        /* a post whose claim was taken before the cancel may still be arriving (its request starts
         * at once, but a loaded machine may take a while to send it) */
        cr_expect_leq(t, (double)answered + 1000,
                      "a form was posted %.0f ms after the cancel answered", t - (double)answered);
    }
    lf_finish();
}

Test(form_safety, a_killed_worker_never_makes_a_site_post_twice)
{
    start((const char *[]){"--bench", "30", "--delay-ms", "300", NULL},
          (const char *[]){"FORM_RATE_MS=0", "FORM_LOCK_MS=2000", NULL});
    const char *jid = bench_run(30);
    /* kill -9 once some forms were posted and others are on their way */
    uint64_t deadline = hr_now_ms() + 30000;
    while (json_array_size(fs_posts(srv, NULL)) < 3) {
        cr_assert_lt(hr_now_ms(), deadline, "no post arrived");
        hr_sleep_ms(20);
    }
    lf_stop(worker, SIGKILL, 2000);
    ff_worker("form-2", rd, gw, srv, (const char *[]){"FORM_RATE_MS=0", "FORM_LOCK_MS=2000", NULL});
    json_t *job = lf_wait_completed(gw, jid, 120000);
    json_t *tasks = lf_tasks(gw, jid);
    cr_assert_eq(json_array_size(tasks), 30, "%s", hr_jdump(job));
    size_t i, succeeded = 0, uncertain = 0;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *st = hr_jstr(t, "state");
        cr_expect(strcmp(st, "succeeded") == 0 || strcmp(st, "uncertain") == 0,
                  "task %zu ended %s: %s", i, st, hr_jdump(t));
        succeeded += strcmp(st, "succeeded") == 0;
        uncertain += strcmp(st, "uncertain") == 0;
        /* a task found uncertain is one whose claim an earlier try took: never posted again */
        if (strcmp(st, "uncertain") == 0)
            cr_expect_str_eq(hr_jstr(ff_submit(t), "reason"), "duplicate", "%s", hr_jdump(t));
    }
    /* every task ended once: the job's counts are the tasks' states, no more */
    json_t *counts = json_object_get(job, "counts");
    cr_expect_eq(hr_jint(counts, "succeeded", -1), (long long)succeeded, "%s", hr_jdump(job));
    cr_expect_eq(hr_jint(counts, "uncertain", -1), (long long)uncertain, "%s", hr_jdump(job));
    cr_expect_eq(succeeded + uncertain, 30, "%s", hr_jdump(job));
    for (int k = 0; k < 30; k++) {
        json_t *posts = fs_posts(srv, hr_fmt("bench-%d", k));
        cr_expect_leq(json_array_size(posts), 1, "site %d was posted to %zu times", k,
                      json_array_size(posts));
    }
    lf_finish();
}
