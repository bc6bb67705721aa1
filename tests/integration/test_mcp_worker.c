/* prospect-mcp-worker without any MCP server configured (what `make run` starts): the enrich
 * stage of a run succeeds with the reason recorded and no company_info, the compose template's
 * company_info.* placeholders take their defaults; the /api/mcp/... endpoints answer clear
 * problems (no server configured, bad input, no mcp worker). Real gateway, Redis and workers. */
#include <criterion/criterion.h>
#include <string.h>

#include "../mcp-server/mcp_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(mcp_worker, .fini = lf_cleanup, .timeout = 120);

#define SENDER "{\"name\":\"Sam Seller\",\"email\":\"sam@seller.example\"}"

static void start(int with_worker)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    if (with_worker) {
        mf_mcp_worker("mcp-1", rd, gw, NULL);
        mf_wait_service(gw, "mcp");
    }
}

Test(mcp_worker, without_a_server_enrichment_is_skipped_with_the_reason)
{
    start(1);
    lf_llm_worker(rd, gw, NULL);
    const char *jid = lf_run(
        gw, "{\"message_template\":\"Hi {{first_name|there}}, {{company_info.name|your team}} "
            "({{company_info.industry|}})\",\"sender\":" SENDER ",\"targets\":[{\"url\":"
            "\"https://www.acme.example/contact\",\"name\":\"Ada Lee\"}],\"options\":{\"stages\":"
            "[\"enrich\",\"compose\"]}}");
    json_t *job = lf_wait_completed(gw, jid, 30000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 1, "%s", hr_jdump(job));
    json_t *t = json_array_get(lf_tasks(gw, jid), 0);
    json_t *e = mf_result(t, "enrich");
    cr_assert(json_is_true(json_object_get(e, "skipped")), "%s", hr_jdump(t));
    cr_assert_str_eq(
        hr_jstr(e, "reason"),
        "no MCP server configured (MCP_SERVERS, MCP_SERVER_COMMAND or MCP_SERVER_URL)");
    cr_assert_str_eq(hr_jstr(e, "domain"), "acme.example");
    cr_assert_null(json_object_get(e, "company_info"), "%s", hr_jdump(e));
    cr_assert_str_eq(hr_jstr(lf_compose(t), "message"), "Hi Ada, your team ()", "%s", hr_jdump(t));
    lf_finish();
}

Test(mcp_worker, the_status_record_says_enrichment_is_skipped)
{
    start(1);
    json_t *ws = json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers");
    json_t *st = json_object_get(json_array_get(ws, 0), "status");
    for (uint64_t t0 = hr_now_ms(); !st && hr_now_ms() - t0 < 3000; hr_sleep_ms(50)) {
        ws = json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers");
        st = json_object_get(json_array_get(ws, 0), "status");
    }
    const char *v = hr_jstr(st, "mcp_enrich");
    cr_assert(v && strstr(v, "skipped: no MCP server configured"), "%s", hr_jdump(ws));
    const char *m = lf_metrics(gw);
    cr_assert_eq(lf_metric(m, "pa_mcp_cache_hits_total"), 0, "%s", m);
    cr_assert(!strstr(m, "pa_mcp_breaker_state{"), "no server, no breaker: %s", m);
    lf_finish();
}

Test(mcp_worker, api_calls_without_a_server_are_clear_problems)
{
    start(1);
    hr_resp_t *r = hr_get(gw, "/api/mcp/tools");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(json_array_size(json_object_get(hr_json(r), "servers")), 0, "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    hr_assert_problem(r, 503, "mcp-not-configured", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "MCP_SERVERS"), "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"CTO\",\"limit\":2}");
    hr_assert_problem(r, 503, "mcp-not-configured", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"x\"}}");
    hr_assert_problem(r, 503, "mcp-not-configured", NULL);
    r = hr_post(gw, "/api/mcp/call", "{\"server\":\"acme\",\"tool\":\"echo\"}");
    hr_assert_problem(r, 404, "mcp-unknown-server", NULL);
    /* the calls are not campaign runs */
    cr_assert_eq(json_array_size(hr_json(hr_get(gw, "/api/jobs"))), 0);
    lf_finish();
}

Test(mcp_worker, bad_input_is_400_naming_the_field)
{
    start(0); /* checked before any worker is asked */
    hr_assert_problem(hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"https://acme.example/\"}"), 400,
                      "invalid-field", "domain");
    hr_assert_problem(hr_post(gw, "/api/mcp/enrich", "{}"), 400, "invalid-field", "domain");
    hr_assert_problem(hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"a.example\",\"x\":1}"), 400,
                      "invalid-field", "x");
    hr_assert_problem(hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"\"}"), 400,
                      "invalid-field", "query");
    hr_assert_problem(hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"a\",\"limit\":0}"), 400,
                      "invalid-field", "limit");
    hr_assert_problem(hr_post(gw, "/api/mcp/search-contacts", "{\"query\":\"a\",\"limit\":\"2\"}"),
                      400, "invalid-field", "limit");
    hr_assert_problem(hr_post(gw, "/api/mcp/call", "{\"arguments\":{}}"), 400, "invalid-field",
                      "tool");
    hr_assert_problem(hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"arguments\":[1]}"), 400,
                      "invalid-field", "arguments");
    hr_assert_problem(hr_post(gw, "/api/mcp/call", "{\"tool\":\"echo\",\"server\":\"A B\"}"), 400,
                      "invalid-field", "server");
    hr_assert_problem(hr_post(gw, "/api/mcp/call", "[1]"), 400, "invalid-field", NULL);
}

Test(mcp_worker, no_mcp_worker_is_503)
{
    start(0);
    hr_resp_t *r = hr_get(gw, "/api/mcp/tools");
    hr_assert_problem(r, 503, "no-mcp-worker", NULL);
    cr_assert_str_eq(hr_header(r, "Retry-After"), "5");
    hr_assert_problem(hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}"), 503,
                      "no-mcp-worker", NULL);
}

Test(mcp_worker, a_bad_configuration_stops_the_worker_naming_the_variable)
{
    start(0);
    lf_proc_t *w = mf_mcp_worker("mcp-bad", rd, gw,
                                 (const char *[]){"MCP_SERVER_URL=http://127.0.0.1:1/mcp",
                                                  "MCP_SERVER_COMMAND=node x.js", NULL});
    cr_assert(lf_wait_exit(w, 5000), "the worker did not stop");
    cr_assert(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 2, "status %d", w->status);
    cr_assert(strstr(lf_output(w), "set one of them"), "%s", lf_output(w));
    w = mf_mcp_worker("mcp-bad2", rd, gw,
                      (const char *[]){"MCP_SERVERS=/nonexistent/mcp.json", NULL});
    cr_assert(lf_wait_exit(w, 5000), "the worker did not stop");
    cr_assert(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 2, "status %d", w->status);
    cr_assert(strstr(lf_output(w), "MCP_SERVERS"), "%s", lf_output(w));
}
