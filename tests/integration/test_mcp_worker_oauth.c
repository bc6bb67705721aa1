/* The mcp worker against a server that needs authorization (MCP_SERVERS "oauth"; the flow is
 * workers/mcp/mcp_oauth.c's): the client_credentials grant with the secret from the environment,
 * the token kept in Redis only, with a TTL, under pa:mcp:oauth:<server>:*, never in a log, and
 * used again by a new worker process without a new token request. The protected endpoint is
 * tests/oauth-server (its /mcp is not an MCP server: the call itself then fails, after the
 * authorized request). Real gateway, Redis, worker and node server, stopped by PID. */
#include <criterion/criterion.h>
#include <string.h>

#include "../mcp-server/mcp_fixture.h"
#include "pa_redis.h"

#define SECRET "pre-secret"

TestSuite(mcp_oauth, .fini = lf_cleanup, .timeout = 120);

static int count(json_t *log, const char *path, const char *k, const char *v)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e) {
        const char *p = hr_jstr(e, "path"), *x = k ? hr_jstr(e, k) : NULL;
        if (p && strcmp(p, path) == 0 && (!k || (x && strcmp(x, v) == 0))) n++;
    }
    return n;
}

Test(mcp_oauth, a_token_by_client_credentials_is_kept_in_redis_with_a_ttl)
{
    const char *node = lf_find_node();
    if (!node) cr_skip_test("node is not installed");
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    int port = rf_free_port();
    const char *v[32];
    lf_envbase(v, 32);
    lf_proc_t *as =
        lf_spawn("oauth-server",
                 (const char *const[]){node, PA_SOURCE_DIR "/tests/oauth-server/server.mjs",
                                       hr_fmt("%d", port), NULL},
                 v);
    for (uint64_t t0 = hr_now_ms(); !strstr(lf_output(as), "listening"); hr_sleep_ms(20))
        cr_assert_lt(hr_now_ms() - t0, 10000, "the OAuth test server did not start: %s",
                     lf_output(as));
    const char *path = hr_fmt("%s/mcp.json", lf_tmpdir());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f,
            "{\"servers\":[{\"name\":\"secure\",\"transport\":\"http\",\"url\":"
            "\"http://127.0.0.1:%d/mcp\",\"protocol_version\":\"2025-11-25\",\"oauth\":{"
            "\"client_id\":\"pre-client\",\"client_secret\":{\"env\":\"SECURE_SECRET\"},"
            "\"client_credentials\":true},\"tools\":{\"enrich_company\":{\"tool\":"
            "\"enrich_company\"}}}]}",
            port);
    fclose(f);
    const char *env[] = {hr_fmt("MCP_SERVERS=%s", path), "SECURE_SECRET=" SECRET, "LOG_LEVEL=debug",
                         NULL};
    lf_proc_t *w = mf_mcp_worker("mcp-1", rd, gw, env);
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 502, "the endpoint is not an MCP server: %s", hr_describe(r));
    const char *url = hr_fmt("http://127.0.0.1:%d/admin/log", port);
    json_t *log = hr_json(hr_http("GET", url, NULL, NULL, 0));
    cr_assert_eq(count(log, "/token", "grant_type", "client_credentials"), 1, "%s", hr_jdump(log));
    cr_assert_eq(count(log, "/token", "client_auth", "client_secret_post"), 1, "%s", hr_jdump(log));
    cr_assert_geq(count(log, "/mcp", "auth", "valid"), 1, "the token was used: %s", hr_jdump(log));

    /* in Redis, with a TTL, under the server's name */
    char err[256];
    pa_redis_t *R = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert(R, "%s", err);
    redisReply *k = pa_redis_cmd(R, "KEYS pa:mcp:oauth:secure:*");
    cr_assert(k && k->type == REDIS_REPLY_ARRAY && k->elements == 1, "one token entry");
    redisReply *ttl = pa_redis_cmd(R, "TTL %s", k->element[0]->str);
    cr_assert(ttl && ttl->integer > 0, "a TTL: %lld", ttl ? ttl->integer : -9);
    redisReply *val = pa_redis_cmd(R, "GET %s", k->element[0]->str);
    json_t *tok = hr_jparse(val->str);
    const char *at = hr_jstr(tok, "access_token");
    cr_assert(at && strncmp(at, "at-", 3) == 0, "%s", val->str);
    /* never in a log, nor the secret */
    cr_assert_null(strstr(lf_output(w), at), "the token is in the worker's log");
    cr_assert_null(strstr(lf_output(w), SECRET), "the secret is in the worker's log");
    cr_assert_null(strstr(hr_gateway_output(gw), at), "the token is in the gateway's log");
    freeReplyObject(k);
    freeReplyObject(ttl);
    freeReplyObject(val);
    pa_redis_destroy(&R);

    /* a new worker process takes the token from Redis: no new token request */
    lf_stop(w, SIGTERM, 10000);
    cr_assert(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0, "%s", lf_output(w));
    lf_proc_t *w2 = mf_mcp_worker("mcp-2", rd, gw, env);
    for (uint64_t t0 = hr_now_ms(); !strstr(lf_output(w2), "mcp worker configured");
         hr_sleep_ms(20))
        cr_assert_lt(hr_now_ms() - t0, 5000, "%s", lf_output(w2));
    hr_sleep_ms(600); /* the gateway sees the first worker gone and the second one join */
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"beta.example\"}");
    cr_assert_eq(r->status, 502, "%s", hr_describe(r));
    log = hr_json(hr_http("GET", url, NULL, NULL, 0));
    cr_assert_eq(count(log, "/token", NULL, NULL), 1, "a second token request: %s", hr_jdump(log));
    cr_assert_null(strstr(lf_output(w2), at), "the token is in the worker's log");
    lf_stop(as, SIGKILL, 1000); /* a test server: not asked to exit cleanly */
    lf_finish();
}
