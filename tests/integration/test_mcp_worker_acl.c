/* The mcp worker under the documented pa-worker ACL user (docs/redis-keys.md): its cache (the
 * cache_get.lua script, SET PX) and the job engine work, and Redis logs no refusal. The gateway
 * runs as pa-gateway. Real redis-server, gateway, worker and the SDK test server. */
#include <criterion/criterion.h>
#include <hiredis/sds.h>

#include "../mcp-server/mcp_fixture.h"
#include "pa_redis.h"

#define ADMIN_PW "adm1n-pw-for-tests"

static hr_redis_t *rd;

TestSuite(mcp_acl, .fini = lf_cleanup, .timeout = 120);

/* Runs the documented `ACL SETUSER <user> reset ...` line for user with password. */
static void acl_from_docs(pa_redis_t *a, const char *user, const char *password)
{
    const char *doc = hr_read_file(PA_SOURCE_DIR "/docs/redis-keys.md");
    const char *want = hr_fmt("ACL SETUSER %s reset ", user);
    const char *line = strstr(doc, want);
    cr_assert_not_null(line, "docs/redis-keys.md has no '%s' line", want);
    int argc = 0;
    sds *argv = sdssplitargs(hr_fmt("%.*s", (int)strcspn(line, "\n"), line), &argc);
    cr_assert_not_null(argv);
    const char **av = calloc((size_t)argc, sizeof *av);
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i];
        if (argv[i][0] == '>' && strspn(argv[i] + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") > 3)
            av[i] = hr_fmt(">%s", password);
    }
    redisReply *rep = pa_redis_argv(a, argc, av, NULL);
    free(av);
    sdsfreesplitres(argv, argc);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS, "ACL SETUSER %s", user);
    freeReplyObject(rep);
}

static const char *user_url(const char *user, const char *pw)
{
    return hr_fmt("redis://%s:%s@127.0.0.1:%d/0", user, pw, hr_redis_port(rd));
}

Test(mcp_acl, the_mcp_worker_works_as_pa_worker)
{
    hr_redis_opts_t o = {.password = ADMIN_PW};
    rd = hr_redis_start(&o);
    char err[256];
    pa_redis_t *a = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert(a, "%s", err);
    acl_from_docs(a, "pa-gateway", "gw-pw-1");
    acl_from_docs(a, "pa-worker", "wk-pw-1");
    hr_gateway_t *gw = hr_gateway_start(
        NULL, (const char *[]){hr_fmt("REDIS_URL=%s", user_url("pa-gateway", "gw-pw-1")),
                               "HEARTBEAT_MS=200", NULL});
    lf_proc_t *srv = mf_server(NULL);
    mf_mcp_worker("mcp-1", rd, gw,
                  (const char *[]){hr_fmt("REDIS_URL=%s", user_url("pa-worker", "wk-pw-1")),
                                   hr_fmt("MCP_SERVER_URL=http://127.0.0.1:%d/mcp", srv->port),
                                   NULL});
    mf_wait_service(gw, "mcp");
    hr_resp_t *r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    r = hr_post(gw, "/api/mcp/enrich", "{\"domain\":\"acme.example\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_is_true(json_object_get(hr_json(r), "cached")), "%s", hr_describe(r));
    cr_assert_eq(mf_count_rpc(srv, "tools/call"), 1);
    redisReply *log = pa_redis_cmd(a, "ACL LOG");
    cr_assert(log && log->type == REDIS_REPLY_ARRAY, "ACL LOG");
    cr_assert_eq(log->elements, 0, "Redis refused some command of a daemon (ACL LOG has %zu)",
                 log->elements);
    freeReplyObject(log);
    pa_redis_destroy(&a);
    lf_finish();
}
