/* prospect-mcp-worker against the real SDK test server (tests/mcp-server on 127.0.0.1: Streamable
 * HTTP, legacy HTTP+SSE, and stdio through MCP_SERVER_COMMAND): enrichment through a run reaching
 * the compose template as company_info.*, each /api/mcp endpoint and its problems, the cache (a
 * hit does not reach the server: its /admin/log says so; TTL), the breaker opening on a killed
 * server (status record, /metrics, /api/health), a call the gateway gives up cancelled on the
 * server, and the fall-over to the next server of MCP_SERVERS. Real gateway, Redis and workers,
 * stopped by PID. */
#include <criterion/criterion.h>
#include <string.h>

#include "../mcp-server/mcp_fixture.h"
#include "pa_redis.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static lf_proc_t *srv;

TestSuite(mcp_server, .fini = lf_cleanup, .timeout = 180);

#define SENDER "{\"name\":\"Sam Seller\",\"email\":\"sam@seller.example\"}"

/* The gateway's MCP_CALL_TIMEOUT_MS for start(). */
static const char *call_timeout = "MCP_CALL_TIMEOUT_MS=20000";

/* Redis, a gateway, the test server and an mcp worker on it (/mcp) with env. */
static lf_proc_t *start(const char *const *env)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", call_timeout, NULL});
    srv = mf_server(NULL);
    const char *e[16];
    size_t n = 0;
    e[0] = NULL;
    lf_envset(e, &n, 16, hr_fmt("MCP_SERVER_URL=http://127.0.0.1:%d/mcp", srv->port));
    for (size_t i = 0; env && env[i]; i++) lf_envset(e, &n, 16, env[i]);
    lf_proc_t *w = mf_mcp_worker("mcp-1", rd, gw, e);
    mf_wait_service(gw, "mcp");
    return w;
}

static size_t tool_calls(void)
{
    return mf_count_rpc(srv, "tools/call");
}

Test(mcp_server, enrichment_through_a_run_reaches_the_compose_template)
{
    start(NULL);
    lf_llm_worker(rd, gw, NULL);
    const char *jid = lf_run(
        gw, "{\"message_template\":\"Hi {{first_name}}, {{company_info.name}} makes "
            "{{company_info.industry}} ({{enrich.company_info.country}}).\",\"sender\":" SENDER
            ",\"targets\":[{\"url\":\"https://www.acme.example/contact\",\"name\":\"Ada Lee\"},"
            "{\"url\":\"https://beta.example/\",\"name\":\"Bo Chan\"}],\"options\":{\"stages\":"
            "[\"enrich\",\"compose\"]}}");
    json_t *job = lf_wait_completed(gw, jid, 60000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 2, "%s", hr_jdump(job));
    json_t *tasks = lf_tasks(gw, jid);
    json_t *a = lf_task_by_target(tasks, "https://www.acme.example/contact");
    json_t *e = mf_result(a, "enrich");
    cr_assert_str_eq(hr_jstr(e, "domain"), "acme.example", "%s", hr_jdump(a));
    cr_assert_str_eq(hr_jstr(e, "server"), "default");
    cr_assert_str_eq(hr_jstr(e, "tool"), "enrich_company");
    cr_assert_str_eq(hr_jstr(json_object_get(e, "company_info"), "name"), "Acme", "%s",
                     hr_jdump(e));
    cr_assert_str_eq(hr_jstr(lf_compose(a), "message"), "Hi Ada, Acme makes software (DE).", "%s",
                     hr_jdump(a));
    json_t *b = lf_task_by_target(tasks, "https://beta.example/");
    cr_assert_str_eq(hr_jstr(lf_compose(b), "message"), "Hi Bo, Beta makes software (DE).", "%s",
                     hr_jdump(b));
    cr_assert_eq(tool_calls(), 2);
    lf_finish();
}

Test(mcp_server, a_cache_hit_does_not_call_the_server)
{
    start(NULL);
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_is_false(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_object_get(hr_json(r), "company_info"), "name"), "Acme");
    cr_assert_eq(tool_calls(), 1);
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"Acme.Example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_is_true(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_object_get(hr_json(r), "company_info"), "name"), "Acme");
    cr_assert_eq(tool_calls(), 1, "a cache hit called the server");
    /* a run's enrich stage asks the same server, tool and arguments: the same entry */
    const char *jid = lf_run(gw, "{\"message_template\":\"Hi\",\"sender\":" SENDER
                                 ",\"targets\":[\"https://acme.example/\"],\"options\":{"
                                 "\"stages\":[\"enrich\"]}}");
    lf_wait_completed(gw, jid, 30000);
    json_t *e = mf_result(json_array_get(lf_tasks(gw, jid), 0), "enrich");
    cr_assert(json_is_true(json_object_get(e, "cached")), "%s", hr_jdump(e));
    cr_assert_eq(tool_calls(), 1);
    /* other arguments are another entry */
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"beta.example\"}");
    cr_assert(json_is_false(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_eq(tool_calls(), 2);
    /* the entry and the counters, as docs/redis-keys.md says */
    char err[256];
    pa_redis_t *R = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert(R, "%s", err);
    redisReply *k = pa_redis_cmd(R, "KEYS pa:mcp:cache:default:enrich_company:*");
    cr_assert(k && k->type == REDIS_REPLY_ARRAY && k->elements == 2, "entries");
    redisReply *ttl = pa_redis_cmd(R, "TTL %s", k->element[0]->str);
    cr_assert(ttl && ttl->integer > 86000 && ttl->integer <= 86400, "TTL %lld", ttl->integer);
    redisReply *c = pa_redis_cmd(R, "MGET pa:mcp:cache:hits pa:mcp:cache:misses");
    cr_assert_str_eq(c->element[0]->str, "2");
    cr_assert_str_eq(c->element[1]->str, "2");
    freeReplyObject(k);
    freeReplyObject(ttl);
    freeReplyObject(c);
    pa_redis_destroy(&R);
    cr_assert_eq(lf_metric(lf_metrics(gw), "pa_mcp_cache_hits_total"), 2);
    lf_finish();
}

Test(mcp_server, cached_results_expire)
{
    start((const char *[]){"MCP_CACHE_TTL_S=1", NULL});
    hr_resp_t *r = hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"CTO\",\"limit\":2}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"CTO\",\"limit\":2}");
    cr_assert(json_is_true(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_eq(tool_calls(), 1);
    hr_sleep_ms(1300);
    r = hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"CTO\",\"limit\":2}");
    cr_assert(json_is_false(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_eq(tool_calls(), 2);
    lf_finish();
}

Test(mcp_server, each_endpoint_answers)
{
    start(NULL);
    hr_resp_t *r = hr_get(gw, "/api/mcp/tools");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *s0 = json_array_get(json_object_get(hr_json(r), "servers"), 0);
    cr_assert_str_eq(hr_jstr(s0, "name"), "default", "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(s0, "transport"), "http");
    cr_assert_str_eq(hr_jstr(s0, "breaker_state"), "closed");
    json_t *tools = json_object_get(s0, "tools");
    cr_assert_geq(json_array_size(tools), 19, "every page: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_object_get(s0, "pipeline"), "enrich_company"), "enrich_company");

    r = hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"CTO\",\"limit\":2}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *c = json_object_get(hr_json(r), "contacts");
    cr_assert_eq(json_array_size(c), 2, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(c, 0), "name"), "CTO Person 1");

    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"hi there\"}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *res = json_object_get(hr_json(r), "result");
    cr_assert_str_eq(hr_jstr(json_array_get(json_object_get(res, "content"), 0), "text"),
                     "hi there", "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/call",
                "{\"server\":\"default\",\"tool\":\"add\",\"arguments\":{\"a\":2,\"b\":3}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    lf_finish();
}

Test(mcp_server, problems_are_precise)
{
    start((const char *[]){"MCP_TIMEOUT_MS=800", NULL});
    hr_resp_t *r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"no_such_tool\"}");
    hr_assert_problem(r, 404, "mcp-unknown-tool", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"server\":\"default\",\"tool\":\"no_such_tool\"}");
    hr_assert_problem(r, 404, "mcp-unknown-tool", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"server\":\"other\",\"tool\":\"echo\"}");
    hr_assert_problem(r, 404, "mcp-unknown-server", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{}}");
    hr_assert_problem(r, 422, "mcp-bad-arguments", "arguments.text");
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"add\",\"arguments\":{\"a\":\"2\",\"b\":3}}");
    hr_assert_problem(r, 422, "mcp-bad-arguments", "arguments.a");
    r = hr_post(gw, "/api/mcp/call",
                "{\"tool\":\"fail_tool\",\"arguments\":{\"message\":\"quota exceeded\"}}");
    hr_assert_problem(r, 502, "mcp-tool-error", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "quota exceeded"), "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/call",
                "{\"tool\":\"fail_rpc\",\"arguments\":{\"message\":\"backend down\"}}");
    hr_assert_problem(r, 502, "mcp-failed", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "backend down"), "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/call",
                "{\"tool\":\"fail_rpc\",\"arguments\":{\"message\":\"bad domain\","
                "\"code\":-32602}}");
    hr_assert_problem(r, 422, "mcp-bad-arguments", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "bad domain"), "%s", hr_describe(r));
    uint64_t t0 = hr_now_ms();
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"slow\",\"arguments\":{\"ms\":5000}}");
    hr_assert_problem(r, 504, "mcp-timeout", NULL);
    cr_assert_lt(hr_now_ms() - t0, 4000, "the server's timeout_ms (MCP_TIMEOUT_MS) ends it");
    lf_finish();
}

/* The worker's status record's mcp_servers entry for the default server. */
static json_t *breaker_of(void)
{
    json_t *ws = json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers");
    const char *v = hr_jstr(json_object_get(json_array_get(ws, 0), "status"), "mcp_servers");
    return v ? json_array_get(hr_jparse(v), 0) : NULL;
}

Test(mcp_server, the_breaker_opens_on_a_killed_server)
{
    start((const char *[]){"MCP_BREAKER_FAILURES=2", "MCP_BREAKER_COOLDOWN_MS=60000",
                           "MCP_CACHE_TTL_S=0", NULL});
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    lf_stop(srv, SIGKILL, 1000);
    for (int i = 0; i < 2; i++) {
        r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
        hr_assert_problem(r, 502, "mcp-unavailable", NULL);
    }
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    hr_assert_problem(r, 503, "mcp-unavailable", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "circuit breaker open"), "%s", hr_describe(r));
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra && atoi(ra) > 50 && atoi(ra) <= 60, "Retry-After %s", ra ? ra : "(none)");
    /* a run goes on without enrichment, the reason recorded */
    const char *jid = lf_run(gw, "{\"message_template\":\"Hi\",\"sender\":" SENDER
                                 ",\"targets\":[\"https://acme.example/\"],\"options\":{"
                                 "\"stages\":[\"enrich\"]}}");
    json_t *job = lf_wait_completed(gw, jid, 30000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 1, "%s", hr_jdump(job));
    json_t *e = mf_result(json_array_get(lf_tasks(gw, jid), 0), "enrich");
    cr_assert(json_is_true(json_object_get(e, "skipped")), "%s", hr_jdump(e));
    cr_assert(strstr(hr_jstr(e, "reason"), "default: circuit breaker open"), "%s", hr_jdump(e));
    json_t *b = breaker_of();
    for (uint64_t t0 = hr_now_ms(); hr_now_ms() - t0 < 3000; hr_sleep_ms(50)) {
        if (b && strcmp(hr_jstr(b, "breaker_state"), "open") == 0) break;
        b = breaker_of();
    }
    cr_assert_str_eq(hr_jstr(b, "breaker_state"), "open", "%s", hr_jdump(b));
    const char *m = lf_metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_mcp_breaker_state{worker=\"mcp-1\",server=\"default\"}"), 2, "%s",
                 m);
    json_t *h = json_object_get(hr_json(hr_get(gw, "/api/health")), "mcp");
    cr_assert_eq(hr_jint(h, "breakers_open", -1), 1, "%s", hr_jdump(h));
    json_t *hb = json_array_get(json_object_get(h, "breakers"), 0);
    cr_assert_str_eq(hr_jstr(hb, "server"), "default", "%s", hr_jdump(h));
    cr_assert_str_eq(hr_jstr(hb, "state"), "open", "%s", hr_jdump(h));
    cr_assert_gt(hr_jint(hb, "retry_in_ms", -1), 50000, "%s", hr_jdump(h));
    lf_finish();
}

Test(mcp_server, enrichment_falls_over_to_the_next_server)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    srv = mf_server(NULL);
    const char *path = hr_fmt("%s/mcp.json", lf_tmpdir());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f,
            "{\"servers\":[{\"name\":\"gone\",\"transport\":\"http\",\"url\":"
            "\"http://127.0.0.1:%d/mcp\",\"tools\":{\"enrich_company\":{\"tool\":\"x\"}}},"
            "{\"name\":\"off\",\"transport\":\"http\",\"url\":\"http://127.0.0.1:%d/mcp\","
            "\"enabled\":false,\"tools\":{\"enrich_company\":{\"tool\":\"enrich_company\"}}},"
            "{\"name\":\"local\",\"transport\":\"http\",\"url\":\"http://127.0.0.1:%d/mcp-json\","
            "\"tools\":{\"enrich_company\":{\"tool\":\"enrich_company\",\"arguments\":"
            "{\"domain\":\"{{domain}}\"}},\"search_contacts\":{\"tool\":\"search_contacts\","
            "\"arguments\":{\"query\":\"{{query}}\",\"limit\":\"{{limit}}\"}}}}]}",
            rf_free_port(), srv->port, srv->port);
    fclose(f);
    mf_mcp_worker("mcp-1", rd, gw, (const char *[]){hr_fmt("MCP_SERVERS=%s", path), NULL});
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "server"), "local", "%s", hr_describe(r));
    r = hr_get(gw, "/api/mcp/tools");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *s = json_object_get(hr_json(r), "servers");
    cr_assert_eq(json_array_size(s), 2, "the disabled server is left out: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(s, 0), "name"), "gone");
    cr_assert(hr_jstr(json_array_get(s, 0), "error"), "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(s, 1), "name"), "local");
    r = hr_post(gw, "/api/mcp/call", "{\"server\":\"off\",\"tool\":\"echo\"}");
    hr_assert_problem(r, 404, "mcp-unknown-server", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"x\"}}");
    cr_assert_eq(r->status, 200, "the server that lists it answers: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "server"), "local");
    lf_finish();
}

Test(mcp_server, a_stdio_server_from_mcp_server_command)
{
    if (!lf_find_node()) cr_skip_test("node is not installed: the MCP test server needs it");
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_proc_t *w = mf_mcp_worker(
        "mcp-1", rd, gw,
        (const char *[]){"MCP_SERVER_COMMAND='" MF_START "' --stdio --page-size 5", NULL});
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s\n%s", hr_describe(r), lf_output(w));
    cr_assert_str_eq(hr_jstr(json_object_get(hr_json(r), "company_info"), "name"), "Acme");
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"over stdio\"}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    r = hr_get(gw, "/api/mcp/tools");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *s0 = json_array_get(json_object_get(hr_json(r), "servers"), 0);
    cr_assert_str_eq(hr_jstr(s0, "transport"), "stdio");
    cr_assert_geq(json_array_size(json_object_get(s0, "tools")), 19, "%s", hr_describe(r));
    lf_finish();
}

Test(mcp_server, a_call_the_gateway_gives_up_is_cancelled_on_the_server)
{
    call_timeout = "MCP_CALL_TIMEOUT_MS=1000";
    lf_proc_t *w = start((const char *[]){"MCP_TIMEOUT_MS=30000", "LOG_LEVEL=debug", NULL});
    uint64_t t0 = hr_now_ms();
    hr_resp_t *r =
        hr_post(gw, "/api/mcp/call", "{\"tool\":\"slow\",\"arguments\":{\"ms\":8000,\"steps\":2}}");
    hr_assert_problem(r, 504, "mcp-timeout", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "MCP_CALL_TIMEOUT_MS"), "%s", hr_describe(r));
    cr_assert_lt(hr_now_ms() - t0, 4000);
    /* the job is cancelled, the worker hears it and the client tells the server */
    uint64_t deadline = hr_now_ms() + 5000;
    while (mf_count_rpc(srv, "notifications/cancelled") == 0 && hr_now_ms() < deadline)
        hr_sleep_ms(50);
    cr_assert_eq(mf_count_rpc(srv, "notifications/cancelled"), 1, "%s",
                 hr_jdump(mf_server_log(srv)));
    cr_assert(strstr(lf_output(w), "task cancelled"), "%s", lf_output(w));
    lf_finish();
}

Test(mcp_server, a_legacy_sse_server_from_mcp_servers)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    srv = mf_server(NULL);
    const char *path = hr_fmt("%s/mcp.json", lf_tmpdir());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f,
            "{\"servers\":[{\"name\":\"legacy\",\"transport\":\"sse\",\"url\":"
            "\"http://127.0.0.1:%d/sse\",\"tools\":{\"enrich_company\":{\"tool\":"
            "\"enrich_company\"}}}]}",
            srv->port);
    fclose(f);
    lf_proc_t *w =
        mf_mcp_worker("mcp-1", rd, gw, (const char *[]){hr_fmt("MCP_SERVERS=%s", path), NULL});
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s\n%s", hr_describe(r), lf_output(w));
    cr_assert_str_eq(hr_jstr(hr_json(r), "server"), "legacy");
    cr_assert_str_eq(hr_jstr(json_object_get(hr_json(r), "company_info"), "name"), "Acme");
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"over sse\"}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    lf_finish();
}

Test(mcp_server, a_results_ttl_ms_shortens_its_time_in_the_cache)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    srv = mf_server((const char *[]){"--ttl-ms", "700", NULL});
    mf_mcp_worker("mcp-1", rd, gw,
                  (const char *[]){hr_fmt("MCP_SERVER_URL=http://127.0.0.1:%d/mcp", srv->port),
                                   NULL}); /* MCP_CACHE_TTL_S: one day */
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    char err[256];
    pa_redis_t *R = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert(R, "%s", err);
    redisReply *k = NULL;
    for (uint64_t t0 = hr_now_ms(); hr_now_ms() - t0 < 2000; hr_sleep_ms(20)) {
        if (k) freeReplyObject(k);
        k = pa_redis_cmd(R, "KEYS pa:mcp:cache:default:*");
        if (k && k->type == REDIS_REPLY_ARRAY && k->elements == 1) break;
    }
    cr_assert(k && k->type == REDIS_REPLY_ARRAY && k->elements == 1, "no cache entry");
    redisReply *ttl = pa_redis_cmd(R, "PTTL %s", k->element[0]->str);
    cr_assert(ttl && ttl->integer > 0 && ttl->integer <= 700, "PTTL %lld", ttl->integer);
    freeReplyObject(k);
    freeReplyObject(ttl);
    pa_redis_destroy(&R);
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert(json_is_true(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    hr_sleep_ms(900);
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert(json_is_false(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_eq(tool_calls(), 2);
    lf_finish();
}
