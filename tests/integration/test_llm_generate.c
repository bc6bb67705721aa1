/* POST /api/llm/generate: answered on the open (suspended) request once the llm service's task
 * ends; clear problems when no worker is there, when it fails and when it does not answer. Real
 * gateway, Redis and a test worker serving "llm". */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

/* A test worker serving "llm" whose tasks all end as mode says; ready once /api/workers lists
 * it. */
static void start_worker(const char *mode)
{
    lf_worker(
        LF_TEST_WORKER_BIN, "llm-test", rd, gw,
        (const char *[]){"TEST_WORKER_SERVICE=llm", hr_fmt("TEST_WORKER_MODE=%s", mode), NULL});
    uint64_t t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 5000) {
        json_t *w = json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers");
        if (json_array_size(w) > 0) return;
        hr_sleep_ms(20);
    }
    cr_assert_fail("the llm test worker did not join");
}

static void init(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"HEARTBEAT_MS=200", "LLM_GENERATE_TIMEOUT_MS=1500", NULL});
}

TestSuite(generate, .init = init, .fini = lf_cleanup, .timeout = 60);

static hr_resp_t *generate(const char *body)
{
    return hr_post(gw, "/api/llm/generate", body);
}

Test(generate, answers_with_the_workers_output)
{
    start_worker("ok");
    hr_resp_t *r =
        generate("{\"prompt\":\"Write to Ada\",\"params\":{\"temperature\":0,\"max_tokens\":50}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "output"), "test: Write to Ada");
    cr_assert_str_eq(hr_jstr(j, "provider"), "test");
    cr_assert_eq(hr_jint(json_object_get(j, "usage"), "prompt_tokens", -1), 12);
    /* one-off calls do not clutter the list of campaign runs */
    cr_assert_eq(json_array_size(hr_json(hr_get(gw, "/api/jobs"))), 0);
    lf_finish();
}

Test(generate, many_calls_at_once_are_all_answered)
{
    start_worker("ok");
    for (int i = 0; i < 20; i++) {
        hr_resp_t *r = generate(hr_fmt("{\"prompt\":\"p%d\"}", i));
        cr_assert_eq(r->status, 200, "%s", hr_describe(r));
        cr_assert_str_eq(hr_jstr(hr_json(r), "output"), hr_fmt("test: p%d", i));
    }
    lf_finish();
}

Test(generate, no_llm_worker_is_503)
{
    hr_resp_t *r = generate("{\"prompt\":\"hi\"}");
    hr_assert_problem(r, 503, "no-llm-worker", NULL);
    cr_assert_not_null(hr_header(r, "Retry-After"));
}

Test(generate, a_failing_provider_is_502_with_its_message)
{
    start_worker("fail");
    hr_resp_t *r = generate("{\"prompt\":\"hi\"}");
    hr_assert_problem(r, 502, "llm-failed", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "test: permanent failure"), "%s",
              hr_describe(r));
}

Test(generate, no_answer_in_time_is_504)
{
    start_worker("stall");
    uint64_t t0 = hr_now_ms();
    hr_resp_t *r = generate("{\"prompt\":\"hi\"}");
    uint64_t took = hr_now_ms() - t0;
    hr_assert_problem(r, 504, "llm-timeout", NULL);
    cr_assert(took >= 1400 && took < 5000, "answered after %llu ms", (unsigned long long)took);
}

/* The lines of a process's output (JSON log lines) with msg and a field k holding v (prefix
 * match when v ends with '*'). */
static int log_count(const char *out, const char *msg, const char *k, const char *v)
{
    int n = 0;
    size_t vl = strlen(v);
    int prefix = vl && v[vl - 1] == '*';
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *line = json_loadb(p, len, 0, NULL);
        const char *m = hr_jstr(line, "msg"), *x = hr_jstr(line, k);
        if (m && x && strcmp(m, msg) == 0 &&
            (prefix ? strncmp(x, v, vl - 1) == 0 : strcmp(x, v) == 0))
            n++;
        json_decref(line);
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

Test(generate, a_call_given_up_stops_its_task_on_the_worker_at_once)
{
    /* a gateway that logs what its dispatcher sends (debug), with the worker on it */
    hr_gateway_t *g =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "LLM_GENERATE_TIMEOUT_MS=1000",
                                              "LOG_LEVEL=debug", NULL});
    lf_proc_t *w = lf_worker(
        LF_TEST_WORKER_BIN, "llm-wait", rd, g,
        (const char *[]){"TEST_WORKER_SERVICE=llm", "TEST_WORKER_MODE=wait_cancel", NULL});
    uint64_t t0 = hr_now_ms();
    while (json_array_size(json_object_get(hr_json(hr_get(g, "/api/workers")), "workers")) == 0) {
        cr_assert_lt(hr_now_ms() - t0, 5000, "the llm test worker did not join");
        hr_sleep_ms(20);
    }
    hr_resp_t *r = hr_post(g, "/api/llm/generate", "{\"prompt\":\"hi\"}");
    hr_assert_problem(r, 504, "llm-timeout", NULL);
    /* the timed-out call's job is cancelled, and the worker holding its task is told (CANCEL)
     * rather than finding out at its next lease check */
    json_t *lines = hr_gateway_log_lines(g);
    const char *job = NULL;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        if (strcmp(hr_jstr(l, "msg") ? hr_jstr(l, "msg") : "", "generate answered") == 0)
            job = hr_jstr(l, "job_id");
    }
    cr_assert(job, "no generate answered line:\n%s", hr_gateway_output(g));
    uint64_t deadline = hr_now_ms() + 3000;
    while (log_count(hr_gateway_output(g), "cancel sent", "job_id", job) == 0 &&
           hr_now_ms() < deadline)
        hr_sleep_ms(10);
    cr_assert_eq(log_count(hr_gateway_output(g), "cancel sent", "worker", "llm-wait"), 1,
                 "the dispatcher did not send CANCEL to the worker:\n%s", hr_gateway_output(g));
    while (log_count(lf_output(w), "task cancelled", "task_id", hr_fmt("%s:*", job)) == 0 &&
           hr_now_ms() < deadline)
        hr_sleep_ms(10);
    cr_assert_eq(log_count(lf_output(w), "task cancelled", "task_id", hr_fmt("%s:*", job)), 1,
                 "the worker did not stop the task:\n%s", lf_output(w));
    lf_finish();
}

Test(generate, bad_input_is_400_naming_the_field)
{
    start_worker("ok");
    hr_assert_problem(generate("{}"), 400, "invalid-field", "prompt");
    hr_assert_problem(generate("{\"prompt\":\"\"}"), 400, "invalid-field", "prompt");
    hr_assert_problem(generate("{\"prompt\":\"x\",\"params\":{\"temperature\":7}}"), 400,
                      "invalid-field", "params.temperature");
    hr_assert_problem(generate("{\"prompt\":\"x\",\"params\":{\"colour\":1}}"), 400,
                      "invalid-field", "params.colour");
    hr_assert_problem(generate("{\"prompt\":\"x\",\"mood\":1}"), 400, "invalid-field", "mood");
    hr_assert_problem(generate("{\"prompt\":\"x\",\"stream\":\"yes\"}"), 400, "invalid-field",
                      "stream");
}
