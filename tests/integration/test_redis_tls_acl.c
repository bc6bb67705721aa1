/* The suite over rediss:// with one ACL user per daemon: a real redis-server serving TLS only
 * (--port 0 --tls-port, client certificates required, certificates made with openssl here), the
 * ACL SETUSER lines of docs/redis-keys.md, a real gateway and a real llm worker each under its own
 * user, real HTTP. And the refusals: a Redis whose certificate no trusted CA signed is never talked
 * to; a user without a right is refused by Redis. */
#include <criterion/criterion.h>
#include <hiredis/sds.h>

#include "../llm-server/llm_fixture.h"
#include "acl_fixture.h" /* af_acl_from_docs: the documented ACL lines */
#include "pa_redis.h"

static hr_redis_t *rd;
static const char *certs;

#define ADMIN_PW "adm1n-pw-for-tests"

static const char *cert(const char *file)
{
    return hr_fmt("%s/%s", certs, file);
}

/* The TLS settings every process gets (the test's own admin connection too). */
static const char *tls_vars[4];
static const char *const *tls_env(const char *ca)
{
    tls_vars[0] = hr_fmt("REDIS_TLS_CA=%s", cert(ca));
    tls_vars[1] = hr_fmt("REDIS_TLS_CERT=%s", cert("client.crt"));
    tls_vars[2] = hr_fmt("REDIS_TLS_KEY=%s", cert("client.key"));
    tls_vars[3] = NULL;
    return tls_vars;
}

static pa_redis_t *admin(void)
{
    setenv("REDIS_TLS_CA", cert("ca.crt"), 1);
    setenv("REDIS_TLS_CERT", cert("client.crt"), 1);
    setenv("REDIS_TLS_KEY", cert("client.key"), 1);
    char err[256] = "";
    pa_redis_t *r = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    return r;
}

static void init(void)
{
    certs = hr_tls_certs();
    hr_redis_opts_t o = {.password = ADMIN_PW, .tls_dir = certs, .tls_auth_clients = "yes"};
    rd = hr_redis_start(&o);
}

TestSuite(redis_tls_acl, .init = init, .fini = lf_cleanup, .timeout = 90);

static const char *user_url(const char *user, const char *pw)
{
    return hr_fmt("rediss://%s:%s@127.0.0.1:%d/0", user, pw, hr_redis_port(rd));
}

/* The users connected right now, from CLIENT LIST ("user=..." of each connection). */
static int connections_of(pa_redis_t *a, const char *user)
{
    redisReply *rep = pa_redis_cmd(a, "CLIENT LIST");
    cr_assert(rep && rep->type == REDIS_REPLY_STRING, "CLIENT LIST");
    int n = 0;
    const char *want = hr_fmt(" user=%s ", user);
    for (const char *p = rep->str; (p = strstr(p, want)); p++) n++;
    freeReplyObject(rep);
    return n;
}

Test(redis_tls_acl, the_gateway_and_the_llm_worker_work_over_tls_as_their_own_users)
{
    pa_redis_t *a = admin();
    af_acl_from_docs(a, "pa-gateway", "gw-pw-1");
    af_acl_from_docs(a, "pa-worker", "wk-pw-1");
    const char *const *tls = tls_env("ca.crt");
    hr_gateway_t *gw = hr_gateway_start(
        rd, (const char *[]){hr_fmt("REDIS_URL=%s", user_url("pa-gateway", "gw-pw-1")), tls[0],
                             tls[1], tls[2], "HEARTBEAT_MS=200", NULL});
    /* the prospect store: a write, then the read of it (through the sync thread's stream) */
    hr_resp_t *r = hr_post(gw, "/api/prospects",
                           "{\"name\":\"Ada Lovelace\",\"company\":\"Engines\",\"status\":\"new\","
                           "\"email\":\"ada@engines.example\"}");
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    const char *id = hr_jstr(hr_json(r), "id");
    r = hr_get(gw, hr_fmt("/api/prospects/%s", id));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    /* a job through the dispatcher to the llm worker (a real provider: the test server), committed
     * by the worker over TLS; then a streamed call: the worker PUBLISHes the deltas, the gateway's
     * PSUBSCRIBE relays them, both over TLS within their users' channel rights */
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    lf_provider_worker(rd, gw, srv, "openai", NULL,
                       (const char *[]){hr_fmt("REDIS_URL=%s", user_url("pa-worker", "wk-pw-1")),
                                        tls[0], tls[1], tls[2], NULL});
    lf_wait_worker(gw);
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"Write to Ada\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    r = hr_post(gw, "/api/llm/generate",
                "{\"prompt\":\"llmfault=ok;delay=30 Say hello\",\"stream\":true}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_not_null(strstr(r->body, "event: delta"), "no delta relayed: %s", r->body);
    cr_assert_not_null(strstr(r->body, "event: done"), "%s", r->body);
    r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    /* they are connected as their users, and only as them */
    cr_assert_gt(connections_of(a, "pa-gateway"), 0);
    cr_assert_gt(connections_of(a, "pa-worker"), 0);
    cr_assert_eq(connections_of(a, "default"), 1, "a daemon connected as the default user");
    /* what a worker's credential does not grant: the prospect store, the server's configuration */
    setenv("REDIS_TLS_CA", cert("ca.crt"), 1);
    char err[256];
    pa_redis_t *w = pa_redis_new(user_url("pa-worker", "wk-pw-1"), 3000, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    redisReply *rep = pa_redis_cmd(w, "HGETALL pa:prospect:%s", id);
    cr_assert(rep && rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "NOPERM"),
              "a worker read a prospect: %s", rep ? (rep->str ? rep->str : "(data)") : "(none)");
    freeReplyObject(rep);
    rep = pa_redis_cmd(w, "CONFIG GET requirepass");
    cr_assert(rep && rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "NOPERM"),
              "a worker read the configuration");
    freeReplyObject(rep);
    pa_redis_destroy(&w);
    /* prospectctl as the read-only operator user: it reads; it cannot write */
    af_acl_from_docs(a, "pa-ctl", "ctl-pw-1");
    const char *v[16];
    size_t n = lf_envbase(v, 16);
    lf_envset(v, &n, 16, hr_fmt("REDIS_URL=%s", user_url("pa-ctl", "ctl-pw-1")));
    for (int i = 0; i < 3; i++) lf_envset(v, &n, 16, tls[i]);
    lf_proc_t *ctl =
        lf_spawn("ctl", (const char *[]){PA_BIN_DIR "/prospectctl", "queues", NULL}, v);
    cr_assert(lf_wait_exit(ctl, 20000), "prospectctl did not finish");
    cr_assert(WIFEXITED(ctl->status) && WEXITSTATUS(ctl->status) == 0, "prospectctl queues:\n%s",
              lf_output(ctl));
    pa_redis_t *ro = pa_redis_new(user_url("pa-ctl", "ctl-pw-1"), 3000, err, sizeof err);
    cr_assert_not_null(ro, "%s", err);
    rep = pa_redis_cmd(ro, "SET pa:x 1");
    cr_assert(rep && rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "NOPERM"),
              "the read-only user wrote");
    freeReplyObject(rep);
    pa_redis_destroy(&ro);
    pa_redis_destroy(&a);
    lf_finish();
}

Test(redis_tls_acl, a_redis_signed_by_an_untrusted_ca_is_never_talked_to)
{
    pa_redis_t *a = admin();
    af_acl_from_docs(a, "pa-gateway", "gw-pw-2");
    pa_redis_destroy(&a);
    const char *const *tls = tls_env("other-ca.crt");
    hr_gateway_t *gw = hr_gateway_spawn(
        rd, (const char *[]){hr_fmt("REDIS_URL=%s", user_url("pa-gateway", "gw-pw-2")), tls[0],
                             tls[1], tls[2], NULL});
    cr_assert_eq(hr_gateway_wait_ready(gw, 10000, 503), 0, "health did not answer 503");
    hr_sleep_ms(300);
    const char *out = hr_gateway_output(gw);
    cr_assert_not_null(strstr(out, "certificate"), "the log does not say why:\n%s", out);
    cr_assert_null(strstr(out, "gw-pw-2"), "the password reached the log:\n%s", out);
    lf_finish();
}
