/* POST /api/llm/generate with "stream": true: Server-Sent Events on the open request. Real
 * gateway, Redis and prospect-llm-worker against the Node test server speaking the OpenAI and
 * Anthropic streaming formats (tests/llm-server/server.mjs), or prospect-test-worker where no
 * provider is needed. Checks what a client sees: deltas as the text arrives, then one final
 * event whose output is authoritative; restarts after a retried attempt; errors as problem
 * events; plain problems before any streaming; a client going away mid-stream. */
#include <criterion/criterion.h>
#include <curl/curl.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_generate_stream, .fini = lf_cleanup, .timeout = 60);

/* ---- a streaming client ------------------------------------------------------------------- */

typedef struct {
    pa_buf_t raw;
    uint64_t t0;
    json_t *events; /* [{event, data, ms}] in arrival order; ms since the request began */
    size_t parsed;  /* bytes of raw parsed into events */
    int comments;   /* comment lines (keep-alives) */
    int stop_after; /* >0: hang up once this many deltas arrived */
    int deltas;
} sse_t;

/* Parses the complete events in raw (blank-line terminated) into events. */
static void sse_parse(sse_t *s)
{
    for (;;) {
        const char *start = s->raw.data + s->parsed;
        const char *end = strstr(start, "\n\n");
        if (!end) return;
        const char *event = NULL, *data = NULL;
        size_t el = 0, dl = 0;
        for (const char *p = start; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (n && p[0] == ':') s->comments++;
            else if (n > 7 && !strncmp(p, "event: ", 7)) event = p + 7, el = n - 7;
            else if (n > 6 && !strncmp(p, "data: ", 6)) data = p + 6, dl = n - 6;
            p += n + 1;
        }
        if (event) {
            json_t *d = data ? json_loadb(data, dl, 0, NULL) : NULL;
            json_array_append_new(s->events, json_pack("{s:s%, s:o, s:I}", "event", event, el,
                                                       "data", d ? d : json_null(), "ms",
                                                       (json_int_t)(hr_now_ms() - s->t0)));
            if (el == 5 && !strncmp(event, "delta", 5)) s->deltas++;
        }
        s->parsed = (size_t)(end + 2 - s->raw.data);
    }
}

static size_t sse_write(char *p, size_t size, size_t n, void *ud)
{
    sse_t *s = ud;
    pa_buf_put(&s->raw, p, size * n);
    sse_parse(s);
    if (s->stop_after && s->deltas >= s->stop_after) return 0; /* hang up */
    return size * n;
}

typedef struct {
    long status;
    const char *ctype;
    const char *raw;
    json_t *events; /* harness-owned */
    int comments;
} stream_resp_t;

/* POSTs body to /api/llm/generate and reads the answer as it comes (at most timeout_ms);
 * stop_after > 0 hangs up after that many deltas. */
static stream_resp_t stream_call(const hr_gateway_t *gw, const char *body, int stop_after,
                                 long timeout_ms)
{
    sse_t s = {.events = json_array(), .stop_after = stop_after, .t0 = hr_now_ms()};
    pa_buf_puts(&s.raw, "");
    CURL *c = curl_easy_init();
    cr_assert(c);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: text/event-stream");
    curl_easy_setopt(c, CURLOPT_URL, hr_fmt("%s/api/llm/generate", gw->url));
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_perform(c);
    stream_resp_t r = {0};
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    r.ctype = hr_fmt("%s", ct ? ct : "");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.raw = hr_fmt("%s", s.raw.data);
    r.events = hr_jkeep(s.events);
    r.comments = s.comments;
    pa_buf_free(&s.raw);
    return r;
}

static const char *ev_name(const json_t *e)
{
    return hr_jstr(e, "event");
}

/* The text of the delta events after the last restart; *n their count, first and last their
 * arrival times. */
static const char *deltas_text(const stream_resp_t *r, int *n, long long *first, long long *last)
{
    pa_buf_t t = PA_BUF_INIT;
    pa_buf_puts(&t, "");
    *n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(r->events, i, e) {
        if (!strcmp(ev_name(e), "restart")) {
            pa_buf_reset(&t);
            *n = 0;
        } else if (!strcmp(ev_name(e), "delta")) {
            const char *x = hr_jstr(json_object_get(e, "data"), "text");
            cr_assert(x, "a delta without text: %s", hr_jdump(e));
            pa_buf_puts(&t, x);
            if (!(*n)++ && first) *first = hr_jint(e, "ms", 0);
            if (last) *last = hr_jint(e, "ms", 0);
        }
    }
    const char *out = hr_fmt("%s", t.data);
    pa_buf_free(&t);
    return out;
}

static int count_events(const stream_resp_t *r, const char *name)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(r->events, i, e) n += !strcmp(ev_name(e), name);
    return n;
}

/* Asserts a well-formed stream: 200 text/event-stream, "start" with the job id first, exactly one
 * final event (want: "done" or "error") last; returns the final event's data. */
static json_t *assert_stream(const stream_resp_t *r, const char *want)
{
    cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
    cr_assert(!strncmp(r->ctype, "text/event-stream", 17), "Content-Type %s", r->ctype);
    size_t n = json_array_size(r->events);
    cr_assert_geq(n, 2, "%s", r->raw);
    json_t *first = json_array_get(r->events, 0), *last = json_array_get(r->events, n - 1);
    cr_assert_str_eq(ev_name(first), "start", "%s", r->raw);
    const char *jid = hr_jstr(json_object_get(first, "data"), "job_id");
    cr_assert(jid && !strncmp(jid, "j-", 2), "%s", r->raw);
    cr_assert_str_eq(ev_name(last), want, "%s", r->raw);
    cr_assert_eq(count_events(r, "done") + count_events(r, "error"), 1, "one final event: %s",
                 r->raw);
    return json_object_get(last, "data");
}

/* ---- set-ups ------------------------------------------------------------------------------ */

static lf_proc_t *srv;
static hr_gateway_t *gw;

/* The test server, Redis, a gateway and the llm worker for provider. */
static void start_provider(const char *provider, const char *const *gw_env)
{
    srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, gw_env ? gw_env : (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, provider, NULL,
                       (const char *[]){"LLM_TIMEOUT_MS=5000", "LLM_MAX_RESPONSE_BYTES=64k", NULL});
    lf_wait_worker(gw);
}

/* A test worker serving "llm" in mode (no provider). */
static void start_test_worker(const char *mode, const char *const *gw_env)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, gw_env);
    lf_worker(LF_TEST_WORKER_BIN, "llm-test", rd, gw,
              (const char *[]){"TEST_WORKER_SERVICE=llm", hr_fmt("TEST_WORKER_MODE=%s", mode),
                               "STOP_TIMEOUT_S=1", NULL});
    lf_wait_worker(gw);
}

/* ---- with a provider ---------------------------------------------------------------------- */

/* Several deltas, spread in time, before done; their text is done's output; done carries the
 * provider, the model that answered and the stream's usage; the provider was asked to stream. */
static void deltas_then_done(const char *provider)
{
    start_provider(provider, NULL);
    stream_resp_t r = stream_call(
        gw, "{\"prompt\":\"llmfault=ok;delay=60 Say hello\",\"stream\":true}", 0, 15000);
    json_t *done = assert_stream(&r, "done");
    int n;
    long long first = 0, last = 0;
    const char *text = deltas_text(&r, &n, &first, &last);
    cr_assert_geq(n, 3, "several deltas: %s", r.raw);
    cr_assert_eq(count_events(&r, "restart"), 0, "%s", r.raw);
    cr_assert_str_eq(text, "Hello from the test model.", "%s", r.raw);
    cr_assert_str_eq(hr_jstr(done, "output"), text, "%s", r.raw);
    cr_assert_str_eq(hr_jstr(done, "provider"), provider);
    cr_assert_str_eq(hr_jstr(done, "model"), LF_MODEL "-2024-07-18", "%s", r.raw);
    json_t *rec = json_array_get(lf_records_for(lf_server_requests(srv), "ok;delay=60"), 0);
    json_t *u = json_object_get(done, "usage"), *su = json_object_get(rec, "usage");
    cr_assert(hr_jint(u, "prompt_tokens", -1) == hr_jint(su, "prompt", -2) &&
                  hr_jint(u, "completion_tokens", -1) == hr_jint(su, "completion", -2) &&
                  hr_jint(u, "completion_tokens", 0) > 0,
              "usage %s is the stream's %s", hr_jdump(u), hr_jdump(su));
    /* streamed as it came, not all at the end (the server sends a piece every 60 ms) */
    cr_assert_geq(last - first, 120, "deltas from %lld to %lld ms: %s", first, last, r.raw);
    json_t *req = json_object_get(rec, "body");
    cr_assert(json_is_true(json_object_get(req, "stream")), "%s", hr_jdump(rec));
    cr_assert(json_is_true(json_object_get(rec, "stream")), "the server streamed: %s",
              hr_jdump(rec));
    if (!strcmp(provider, "openai"))
        cr_assert(
            json_is_true(json_object_get(json_object_get(req, "stream_options"), "include_usage")),
            "%s", hr_jdump(req));
    /* the same call without stream is the same answer in one piece */
    hr_resp_t *plain = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"Say hello\"}");
    cr_assert_eq(plain->status, 200, "%s", hr_describe(plain));
    cr_assert_str_eq(hr_jstr(hr_json(plain), "output"), text);
    lf_finish();
}

Test(llm_generate_stream, openai_deltas_then_done)
{
    deltas_then_done("openai");
}

Test(llm_generate_stream, anthropic_deltas_then_done)
{
    deltas_then_done("anthropic");
}

/* A stream broken half way (cut connection, error event, no end marker) is retried by the job
 * engine: the client is told to drop what it had (restart), then gets the new attempt and done.
 * A 4xx from the provider is an error event with a 502 problem. */
static void faults(const char *provider)
{
    start_provider(provider, NULL);
    static const char *const retried[] = {"cut;times=1", "error200;times=1", "truncated;times=1"};
    for (size_t i = 0; i < 3; i++) {
        stream_resp_t r = stream_call(
            gw, hr_fmt("{\"prompt\":\"llmfault=%s;delay=30 hi\",\"stream\":true}", retried[i]), 0,
            15000);
        json_t *done = assert_stream(&r, "done");
        int n;
        const char *text = deltas_text(&r, &n, NULL, NULL);
        cr_assert_eq(count_events(&r, "restart"), 1, "%s: one restart: %s", retried[i], r.raw);
        json_t *rs = NULL;
        size_t k;
        json_t *e;
        json_array_foreach(r.events, k, e)
            if (!strcmp(ev_name(e), "restart")) rs = e;
        cr_assert_eq(hr_jint(json_object_get(rs, "data"), "attempt", 0), 2, "%s", r.raw);
        cr_assert(strstr(r.raw, "event: delta") < strstr(r.raw, "event: restart"),
                  "%s: the first attempt's deltas came first: %s", retried[i], r.raw);
        cr_assert_str_eq(text, "Hello from the test model.", "%s: %s", retried[i], r.raw);
        cr_assert_str_eq(hr_jstr(done, "output"), text, "%s", r.raw);
        cr_assert_eq(json_array_size(lf_records_for(lf_server_requests(srv),
                                                    hr_fmt("%s;delay=30", retried[i]))),
                     2, "%s: a failed try and a retry", retried[i]);
    }
    /* a permanent refusal: an error event with the 502 problem, and nothing after it */
    stream_resp_t r = stream_call(gw, "{\"prompt\":\"llmfault=400 hi\",\"stream\":true}", 0, 15000);
    json_t *p = assert_stream(&r, "error");
    cr_assert_eq(hr_jint(p, "status", 0), 502, "%s", r.raw);
    cr_assert_str_eq(hr_jstr(p, "type"), "https://prospect-ai.example/problems/llm-failed");
    cr_assert(strstr(hr_jstr(p, "detail"), provider) && strstr(hr_jstr(p, "detail"), "HTTP 400"),
              "%s", r.raw);
    cr_assert_str_eq(hr_jstr(p, "instance"), "/api/llm/generate");
    cr_assert_eq(count_events(&r, "delta"), 0, "%s", r.raw);
    lf_finish();
}

Test(llm_generate_stream, openai_faults_retried_with_restart_or_an_error_event)
{
    faults("openai");
}

Test(llm_generate_stream, anthropic_faults_retried_with_restart_or_an_error_event)
{
    faults("anthropic");
}

/* Every attempt cut: a clear error event once the attempts are spent. */
Test(llm_generate_stream, a_stream_cut_every_time_ends_with_an_error_event)
{
    start_provider("anthropic",
                   (const char *[]){"HEARTBEAT_MS=200", "MAX_ATTEMPTS_COMPOSE=2", NULL});
    stream_resp_t r =
        stream_call(gw, "{\"prompt\":\"llmfault=cut;delay=20 hi\",\"stream\":true}", 0, 15000);
    json_t *p = assert_stream(&r, "error");
    cr_assert_eq(hr_jint(p, "status", 0), 502, "%s", r.raw);
    cr_assert(strstr(hr_jstr(p, "detail"), "anthropic: request failed"), "%s", r.raw);
    cr_assert_eq(count_events(&r, "restart"), 1, "%s", r.raw);
    lf_finish();
}

/* A client that hangs up mid-stream: the gateway frees the stream, stays healthy, and streams
 * the next call; its exit is clean (and leak-free under ASan, which hr_cleanup checks). */
Test(llm_generate_stream, a_client_leaving_mid_stream_frees_everything)
{
    start_provider("openai", NULL);
    stream_resp_t r =
        stream_call(gw, "{\"prompt\":\"llmfault=ok;delay=300 hi\",\"stream\":true}", 1, 15000);
    cr_assert_eq(count_events(&r, "delta"), 1, "%s", r.raw);
    cr_assert_eq(count_events(&r, "done"), 0, "%s", r.raw);
    uint64_t deadline = hr_now_ms() + 8000;
    for (;;) {
        hr_resp_t *m = hr_get(gw, "/metrics");
        if (strstr(m->body, "\npa_llm_streams 0\n")) break;
        cr_assert_lt(hr_now_ms(), deadline, "the stream was not freed:\n%s", m->body);
        hr_sleep_ms(50);
    }
    cr_assert_eq(hr_get(gw, "/api/health")->status, 200);
    r = stream_call(gw, "{\"prompt\":\"llmfault=ok;delay=5 again\",\"stream\":true}", 0, 15000);
    cr_assert_str_eq(hr_jstr(assert_stream(&r, "done"), "output"), "Hello from the test model.");
    lf_finish();
}

/* ---- without a provider ------------------------------------------------------------------- */

Test(llm_generate_stream, no_worker_is_a_503_problem_not_a_stream)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
    hr_resp_t *r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"hi\",\"stream\":true}");
    hr_assert_problem(r, 503, "no-llm-worker", NULL);
    cr_assert_not_null(hr_header(r, "Retry-After"));
}

Test(llm_generate_stream, a_bad_stream_value_is_400_naming_the_field)
{
    start_test_worker("ok", NULL);
    static const char *const bad[] = {"\"yes\"", "1", "null", "[]", "{}"};
    for (size_t i = 0; i < 5; i++) {
        hr_resp_t *r =
            hr_post(gw, "/api/llm/generate", hr_fmt("{\"prompt\":\"hi\",\"stream\":%s}", bad[i]));
        hr_assert_problem(r, 400, "invalid-field", "stream");
        cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "stream: must be true or false"), "%s",
                  hr_describe(r));
    }
    /* false is the plain answer */
    hr_resp_t *r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"hi\",\"stream\":false}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "output"), "test: hi");
    lf_finish();
}

/* A worker that publishes no deltas: start, then done with the whole result. */
Test(llm_generate_stream, a_worker_without_deltas_still_ends_with_done)
{
    start_test_worker("ok", NULL);
    stream_resp_t r = stream_call(gw, "{\"prompt\":\"Write to Ada\",\"stream\":true}", 0, 10000);
    json_t *done = assert_stream(&r, "done");
    cr_assert_str_eq(hr_jstr(done, "output"), "test: Write to Ada");
    cr_assert_str_eq(hr_jstr(done, "provider"), "test");
    cr_assert_eq(json_array_size(r.events), 2, "%s", r.raw);
    lf_finish();
}

/* No answer in time: keep-alive comments while waiting, then an error event with the 504. */
Test(llm_generate_stream, keep_alives_while_waiting_then_a_504_error_event)
{
    start_test_worker("stall", (const char *[]){"HEARTBEAT_MS=200", "LLM_GENERATE_TIMEOUT_MS=1500",
                                                "LLM_STREAM_KEEPALIVE_MS=200", NULL});
    uint64_t t0 = hr_now_ms();
    stream_resp_t r = stream_call(gw, "{\"prompt\":\"hi\",\"stream\":true}", 0, 10000);
    uint64_t took = hr_now_ms() - t0;
    json_t *p = assert_stream(&r, "error");
    cr_assert_eq(hr_jint(p, "status", 0), 504, "%s", r.raw);
    cr_assert_str_eq(hr_jstr(p, "type"), "https://prospect-ai.example/problems/llm-timeout");
    cr_assert_geq(r.comments, 3, "keep-alive comments: %s", r.raw);
    cr_assert(took >= 1400 && took < 5000, "ended after %llu ms", (unsigned long long)took);
    /* the job was cancelled, as for the plain call */
    const char *jid = hr_jstr(json_object_get(json_array_get(r.events, 0), "data"), "job_id");
    cr_assert_str_eq(hr_jstr(hr_json(hr_get(gw, hr_fmt("/api/jobs/%s", jid))), "status"),
                     "cancelled");
    lf_finish();
}
