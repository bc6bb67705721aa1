/* The HTTP engine inside a real worker, end to end: a job's task fetches from a local HTTP server
 * (tests/http-server/server.mjs) through pa_http on the runtime's loop in prospect-test-worker
 * (mode "fetch"), with the real gateway and Redis; the result carries the status and the body; a
 * 5xx is retried up to the stage's limit; and cancelling the job aborts a fetch that hangs, so
 * the task ends `cancelled` at once and the server sees the connection go. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "jobs_fixture.h"
#include "../http-server/http_server.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static pid_t srv_pid;
static int srv_port;

static void start_server(void)
{
    srv_pid = hs_start(PA_SOURCE_DIR, &srv_port);
}

static void fini(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGTERM);
        waitpid(srv_pid, NULL, 0);
        srv_pid = 0;
    }
    jf_cleanup();
}

TestSuite(worker_fetch, .fini = fini, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

static jf_worker_t *start(const char *const *gw_env)
{
    const char *e[8] = {"HEARTBEAT_MS=200"};
    size_t n = 1;
    for (size_t i = 0; gw_env && gw_env[i] && n < 7; i++) e[n++] = gw_env[i];
    e[n] = NULL;
    start_server();
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, e);
    jf_worker_t *w = jf_worker_start(rd, "form", "form-1", jf_endpoint(gw),
                                     (const char *[]){"HTTP_USER_AGENT=pa-fetch-test/1", NULL});
    jf_wait_workers(gw, "form", 1, 5000);
    return w;
}

/* A run of one target whose task fetches path from the test server. */
static const char *run_fetch(const char *path)
{
    return jf_run(gw,
                  jf_body(hr_fmt("[{\"url\":\"fetch.example\",\"variables\":{\"test\":\"fetch\","
                                 "\"fetch_url\":\"http://127.0.0.1:%d%s\"}}]",
                                 srv_port, path),
                          SUBMIT_ONLY));
}

static json_t *task_of(const char *jid)
{
    return jf_hgetall(rd, hr_fmt("pa:task:%s:000001", jid));
}

/* The server's counts for key ({active, max, count, aborted}). */
static json_t *server_stats(const char *key)
{
    CURL *c = curl_easy_init();
    cr_assert(c);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    curl_easy_setopt(c, CURLOPT_URL, hr_fmt("http://127.0.0.1:%d/stats?key=%s", srv_port, key));
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    CURLcode rc = curl_easy_perform(c);
    fclose(f);
    curl_easy_cleanup(c);
    cr_assert_eq(rc, CURLE_OK);
    json_t *j = hr_jkeep(json_loads(buf, 0, NULL));
    free(buf);
    cr_assert(json_is_object(j));
    return j;
}

Test(worker_fetch, a_task_fetches_through_the_http_engine_and_reports_status_and_body)
{
    start(NULL);
    const char *jid = run_fetch("/echo");
    json_t *job = jf_wait_status(gw, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 1, "%s", hr_jdump(job));
    json_t *t = task_of(jid);
    json_t *res = hr_jkeep(json_loads(hr_jstr(t, "result_submit"), 0, NULL));
    cr_assert(json_is_object(res), "%s", hr_jdump(t));
    cr_assert_eq(hr_jint(res, "status", -1), 200, "%s", hr_jdump(res));
    cr_assert_gt(hr_jint(res, "bytes", -1), 0, "%s", hr_jdump(res));
    /* /echo answers with the request it saw: a GET with the configured User-Agent */
    json_t *echo = hr_jkeep(json_loads(hr_jstr(res, "body"), 0, NULL));
    cr_assert_str_eq(hr_jstr(echo, "method"), "GET", "%s", hr_jdump(res));
    cr_assert_str_eq(hr_jstr(json_object_get(echo, "headers"), "user-agent"), "pa-fetch-test/1",
                     "%s", hr_jdump(echo));
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(worker_fetch, a_5xx_is_a_transient_failure_retried_up_to_the_stage_limit)
{
    start((const char *[]){"MAX_ATTEMPTS_SUBMIT=2", NULL});
    const char *jid = run_fetch("/status?code=503&key=five");
    json_t *job = jf_wait_status(gw, jid, "completed", 15000);
    cr_assert_eq(jf_count(job, "failed"), 1, "%s", hr_jdump(job));
    json_t *t = task_of(jid);
    cr_assert_str_eq(hr_jstr(t, "attempt"), "2", "%s", hr_jdump(t));
    cr_assert(strstr(hr_jstr(t, "error"), "503"), "%s", hr_jdump(t));
    cr_assert_eq(hr_jint(server_stats("five"), "count", -1), 2, "one request per attempt");
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}

Test(worker_fetch, cancelling_the_job_aborts_a_hanging_fetch_and_the_task_ends_cancelled_at_once)
{
    jf_worker_t *w = start(NULL);
    const char *jid = run_fetch("/hold?ms=30000&key=hang");
    /* the request reached the server and hangs there */
    uint64_t deadline = hr_now_ms() + 8000;
    while (hr_jint(server_stats("hang"), "active", -1) != 1) {
        cr_assert_lt(hr_now_ms(), deadline, "the fetch never reached the server:\n%s",
                     jf_worker_output(w));
        hr_sleep_ms(20);
    }
    uint64_t t0 = hr_now_ms();
    hr_resp_t *r = hr_post(gw, hr_fmt("/api/jobs/%s/cancel", jid), NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *job = jf_wait_status(gw, jid, "cancelled", 5000);
    cr_assert_eq(jf_count(job, "cancelled"), 1, "%s", hr_jdump(job));
    /* the worker aborted the transfer: the server sees the connection closed, well before the
     * 30 s the answer would take */
    deadline = hr_now_ms() + 3000;
    json_t *st;
    while (hr_jint(st = server_stats("hang"), "aborted", -1) != 1) {
        cr_assert_lt(hr_now_ms(), deadline, "the fetch was not aborted: %s\n%s", hr_jdump(st),
                     jf_worker_output(w));
        hr_sleep_ms(20);
    }
    uint64_t took = hr_now_ms() - t0;
    cr_assert_lt(took, 2000, "aborted %llu ms after the cancel", (unsigned long long)took);
    cr_assert_eq(hr_jint(st, "active", -1), 0);
    cr_assert(strstr(jf_worker_output(w), "fetch aborted"), "%s", jf_worker_output(w));
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:worker:form-1:tasks"), 0, "the lease ended");
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}
