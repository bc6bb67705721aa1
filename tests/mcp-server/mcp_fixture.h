/* Fixture of the mcp worker's integration tests (tests/integration/test_mcp_worker*.c), on top of
 * tests/llm-server/llm_fixture.h (processes by PID, logs, job helpers): prospect-mcp-worker, the
 * SDK test server (tests/mcp-server/start, over HTTP on 127.0.0.1) and its request log. Header-only
 * (static functions). */
#ifndef PA_TESTS_MCP_FIXTURE_H
#define PA_TESTS_MCP_FIXTURE_H

#include "../llm-server/llm_fixture.h"

#define MF_MCP_BIN PA_BIN_DIR "/prospect-mcp-worker"
#define MF_START PA_SOURCE_DIR "/tests/mcp-server/start"

/* prospect-mcp-worker named name (its WORKER_ID) with env (may be NULL). */
LF_FN lf_proc_t *mf_mcp_worker(const char *name, hr_redis_t *rd, const hr_gateway_t *gw,
                               const char *const *env)
{
    return lf_worker(MF_MCP_BIN, name, rd, gw, env);
}

/* The port the test server printed alone on a line of its output, or 0. */
LF_FN int mf_port_of(const char *out)
{
    for (const char *p = out; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (n > 0 && n < 6 && strspn(p, "0123456789") == n) return atoi(p);
        p += n;
        if (*p) p++;
    }
    return 0;
}

/* tests/mcp-server/start over HTTP on a free port of 127.0.0.1 (its args: may be NULL); waits
 * until /healthz answers. Skips the test when node is not installed. */
LF_FN lf_proc_t *mf_server(const char *const *args)
{
    if (!lf_find_node()) cr_skip_test("node is not installed: the MCP test server needs it");
    const char *v[32];
    lf_envbase(v, 32);
    int port = rf_free_port();
    cr_assert_gt(port, 0, "no free port");
    const char *av[16] = {MF_START, "--port", hr_fmt("%d", port)};
    size_t k = 3;
    for (size_t i = 0; args && args[i] && k < 15; i++) av[k++] = args[i];
    av[k] = NULL;
    lf_proc_t *p = lf_spawn("mcp-server", av, v);
    p->port = port;
    uint64_t deadline = hr_now_ms() + 20000;
    for (;;) {
        hr_resp_t *r = hr_http("GET", hr_fmt("http://127.0.0.1:%d/healthz", port), NULL, NULL, 0);
        if (r->status == 200) break;
        cr_assert(!lf_wait_exit(p, 0), "the MCP test server exited: %s", lf_output(p));
        cr_assert_lt(hr_now_ms(), deadline, "the MCP test server does not answer on %d: %s\n%s",
                     port, hr_describe(r), lf_output(p));
        hr_sleep_ms(50);
    }
    return p;
}

/* The server's request log (GET /admin/log: a JSON array, harness-owned). */
LF_FN json_t *mf_server_log(const lf_proc_t *srv)
{
    hr_resp_t *r =
        hr_http("GET", hr_fmt("http://127.0.0.1:%d/admin/log", srv->port), NULL, NULL, 0);
    cr_assert_eq(r->status, 200, "GET /admin/log: %s", hr_describe(r));
    return hr_json(r);
}

/* How many tools/call requests for tool the server received (its log names methods only, so
 * every tools/call counts when tool is NULL). */
LF_FN size_t mf_count_rpc(const lf_proc_t *srv, const char *method)
{
    size_t n = 0, i, k;
    json_t *e, *m;
    json_array_foreach(mf_server_log(srv), i, e) {
        json_array_foreach(json_object_get(e, "rpc"), k, m) {
            const char *x = hr_jstr(m, "method");
            if (x && strcmp(x, method) == 0) n++;
        }
    }
    return n;
}

/* Waits until /api/workers lists a worker of service (at most 5 s). */
LF_FN void mf_wait_service(const hr_gateway_t *g, const char *service)
{
    uint64_t deadline = hr_now_ms() + 5000;
    for (;;) {
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(hr_json(hr_get(g, "/api/workers")), "workers"), i, w) {
            const char *s = hr_jstr(w, "service");
            if (s && strcmp(s, service) == 0) return;
        }
        cr_assert_lt(hr_now_ms(), deadline, "no %s worker joined", service);
        hr_sleep_ms(20);
    }
}

/* The task's result of stage (NULL when absent). */
LF_FN json_t *mf_result(const json_t *task, const char *stage)
{
    return json_object_get(json_object_get(task, "results"), stage);
}

#endif
