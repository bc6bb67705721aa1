/* The MCP authorization client (workers/mcp/mcp_oauth.c) on pa_http against a real OAuth
 * server on 127.0.0.1 (tests/oauth-server/server.mjs, started per test): discovery, dynamic
 * registration, the authorization code with PKCE (checked by the server), each client
 * authentication method, refresh after a revoked token, the token store, pre-registered
 * clients, refusals (iss, resource, no registration), abandon and destroy mid-flow; the
 * conformance driver's hook. Tokens never appear in an error message. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "mcp_conformance_auth.h"
#include "mcp_oauth.h"
#include "pa_http.h"
#include "pa_loop.h"
#include "redis_fixture.h" /* rf_child_prepare, rf_now_ms, rf_stop_pid */

static pid_t srv_pid;
static int srv_port;
static char base[64], mcp_url[96];
static pa_loop_t *loop;
static pa_http_t *http;
static mcp_oauth_t *oa;
static const mcp_auth_ops_t *ops;

static void start_server(void)
{
    char js[4096];
    const char *src = getenv("PA_SOURCE_DIR");
    snprintf(js, sizeof js, "%s/tests/oauth-server/server.mjs", src ? src : ".");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t parent = getpid();
    srv_pid = fork();
    cr_assert_geq(srv_pid, 0);
    if (srv_pid == 0) {
        dup2(p[1], 1);
        rf_child_prepare(parent, -1);
        execlp("node", "node", js, "0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[64] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t k = read(p[0], line + n, 1);
        if (k <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(p[0]);
    cr_assert(sscanf(line, "listening %d", &srv_port) == 1, "server did not start: '%s'", line);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", srv_port);
    snprintf(mcp_url, sizeof mcp_url, "%s/mcp", base);
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server();
    char err[256];
    loop = pa_loop_new(err, sizeof err);
    cr_assert_not_null(loop, "%s", err);
    pa_http_cfg_t cfg = {0};
    http = pa_http_new(loop, &cfg, err, sizeof err);
    cr_assert_not_null(http, "%s", err);
    ops = mcp_oauth_ops();
}

static void teardown(void)
{
    mcp_oauth_destroy(&oa);
    pa_http_destroy(&http);
    pa_loop_destroy(&loop);
    if (srv_pid > 0) rf_stop_pid(srv_pid, SIGTERM, 2000);
    curl_global_cleanup();
}

TestSuite(mcp_oauth_flow, .init = setup, .fini = teardown, .timeout = 60);

/* ---- plain HTTP helpers ---- */

typedef struct {
    int done;
    long status;
    char *body;
    char *www;
} http_res_t;

static void on_http(pa_http_req_t *r, const pa_http_res_t *res, void *ud)
{
    http_res_t *h = ud;
    h->done = 1;
    h->status = res->status;
    h->body = strdup(res->body ? res->body : "");
    const char *w = pa_http_res_header(res, "WWW-Authenticate");
    h->www = w ? strdup(w) : NULL;
}

static void run_until(int *flag)
{
    uint64_t end = rf_now_ms() + 20000;
    while (!*flag && rf_now_ms() < end) pa_loop_run_once(loop, 100);
    cr_assert(*flag, "timed out");
}

/* One request; the result is owned by the caller (free body and www). */
static http_res_t request(const char *method, const char *url, const char *json, const char *auth)
{
    http_res_t h = {0};
    pa_http_req_t *r = pa_http_req_new(http, method, url);
    if (auth) {
        char line[4096];
        snprintf(line, sizeof line, "Authorization: %s", auth);
        pa_http_req_header(r, line);
    }
    if (json) pa_http_req_json(r, json);
    pa_http_start(r, on_http, &h);
    run_until(&h.done);
    return h;
}

static void res_free(http_res_t *h)
{
    free(h->body);
    free(h->www);
}

static void config(const char *json)
{
    char url[128];
    snprintf(url, sizeof url, "%s/admin/config", base);
    http_res_t h = request("POST", url, json, NULL);
    cr_assert_eq(h.status, 200);
    res_free(&h);
}

static json_t *server_log(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/admin/log", base);
    http_res_t h = request("GET", url, NULL, NULL);
    json_t *j = json_loads(h.body, 0, NULL);
    res_free(&h);
    cr_assert(json_is_array(j));
    return j;
}

/* How many logged requests have path (and, when given, field == value). */
static int count(json_t *log, const char *path, const char *field, const char *value)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "path")), path) != 0) continue;
        if (field) {
            json_t *v = json_object_get(e, field);
            if (json_is_string(v) ? strcmp(json_string_value(v), value) != 0
                                  : !(json_is_true(v) && strcmp(value, "true") == 0))
                continue;
        }
        n++;
    }
    return n;
}

/* ---- the provider ---- */

typedef struct {
    int done, ok;
    char error[256];
} auth_res_t;

static void on_auth(void *ud, int ok, const char *error)
{
    auth_res_t *a = ud;
    a->done++;
    a->ok = ok;
    snprintf(a->error, sizeof a->error, "%s", error ? error : "");
}

static void provider(const mcp_oauth_cfg_t *extra)
{
    mcp_oauth_cfg_t cfg = {0};
    if (extra) cfg = *extra;
    cfg.loop = loop;
    cfg.http = http;
    char err[256];
    mcp_oauth_destroy(&oa);
    oa = mcp_oauth_new(&cfg, err, sizeof err);
    cr_assert_not_null(oa, "%s", err);
}

/* POST /mcp as the client would: with the provider's header; a 401 is answered by a challenge
 * and the request sent again. Returns the final status; *a says how the challenge ended. */
static long call_mcp(auth_res_t *a)
{
    memset(a, 0, sizeof *a);
    http_res_t h = request("POST", mcp_url, "{}", ops->header(oa, mcp_url));
    long status = h.status;
    if (status == 401) {
        ops->challenge(oa, mcp_url, h.status, h.www, on_auth, a);
        cr_assert_eq(a->done, 0, "done called inside challenge");
        run_until(&a->done);
        if (a->ok) {
            http_res_t h2 = request("POST", mcp_url, "{}", ops->header(oa, mcp_url));
            status = h2.status;
            res_free(&h2);
        }
    }
    res_free(&h);
    return status;
}

Test(mcp_oauth_flow, registration_pkce_post_and_refresh)
{
    provider(NULL);
    cr_assert_null(ops->header(oa, mcp_url));
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    cr_assert(a.ok);
    const char *h = ops->header(oa, mcp_url);
    cr_assert(h && strncmp(h, "Bearer at-", 10) == 0);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/.well-known/oauth-protected-resource/mcp", NULL, NULL), 1);
    cr_assert_eq(count(log, "/.well-known/oauth-authorization-server", NULL, NULL), 1);
    cr_assert_eq(count(log, "/register", "application_type", "native"), 1);
    cr_assert_eq(count(log, "/authorize", "code_challenge_method", "S256"), 1);
    cr_assert_eq(count(log, "/authorize", "scope", "mcp:read"), 1);
    cr_assert_eq(count(log, "/authorize", "resource", mcp_url), 1);
    cr_assert_eq(count(log, "/token", "pkce", "true"), 1);
    cr_assert_eq(count(log, "/token", "client_auth", "client_secret_post"), 1);
    cr_assert_eq(count(log, "/mcp", "auth", "valid"), 1);
    json_decref(log);

    /* the token is revoked: the refresh token gets a new one, without a new authorization */
    char url[128];
    snprintf(url, sizeof url, "%s/admin/revoke", base);
    http_res_t r = request("POST", url, "{}", NULL);
    res_free(&r);
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    log = server_log();
    cr_assert_eq(count(log, "/authorize", NULL, NULL), 1);
    cr_assert_eq(count(log, "/token", "grant_type", "refresh_token"), 1);
    cr_assert_eq(count(log, "/mcp", "auth", "valid"), 2);
    json_decref(log);
}

Test(mcp_oauth_flow, expired_token_is_not_offered)
{
    config("{\"expires_in\":1}");
    provider(NULL);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    cr_assert_not_null(ops->header(oa, mcp_url));
    uint64_t end = rf_now_ms() + 1100;
    while (rf_now_ms() < end) pa_loop_run_once(loop, 50);
    cr_assert_null(ops->header(oa, mcp_url));
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error); /* 401, refreshed */
    json_t *log = server_log();
    cr_assert_eq(count(log, "/token", "grant_type", "refresh_token"), 1);
    json_decref(log);
}

Test(mcp_oauth_flow, basic_and_none_methods)
{
    config("{\"auth_methods\":[\"client_secret_basic\"]}");
    provider(NULL);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    config("{\"auth_methods\":[\"none\"]}");
    provider(NULL);
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/token", "client_auth", "client_secret_basic"), 1);
    cr_assert_eq(count(log, "/token", "client_auth", "none"), 1);
    json_decref(log);
}

Test(mcp_oauth_flow, pre_registered_client_and_forced_scope)
{
    config("{\"registration\":false,\"auth_methods\":[\"client_secret_basic\"]}");
    mcp_oauth_cfg_t cfg = {
        .client_id = "pre-client", .client_secret = "pre-secret", .scope = "mcp:read mcp:write"};
    provider(&cfg);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/register", NULL, NULL), 0);
    cr_assert_eq(count(log, "/authorize", "client_id", "pre-client"), 1);
    cr_assert_eq(count(log, "/authorize", "scope", "mcp:read mcp:write"), 1);
    cr_assert_eq(count(log, "/token", "client_auth", "client_secret_basic"), 1);
    json_decref(log);
}

Test(mcp_oauth_flow, refusals)
{
    struct {
        const char *config, *why;
    } cases[] = {
        {"{\"iss\":\"wrong\"}", "iss"},
        {"{\"iss\":\"omit\"}", "no iss"},
        {"{\"iss\":\"omit\",\"resource\":\"https://evil.example.com/mcp\"}", "resource"},
        {"{\"resource\":null,\"registration\":false}", "no registration endpoint"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config(cases[i].config);
        provider(NULL);
        auth_res_t a;
        cr_assert_eq(call_mcp(&a), 401);
        cr_assert_eq(a.done, 1);
        cr_assert_not(a.ok, "%s accepted", cases[i].config);
        cr_assert(strstr(a.error, cases[i].why), "%s: %s", cases[i].config, a.error);
        cr_assert_null(strstr(a.error, "at-"));
        cr_assert_null(ops->header(oa, mcp_url));
    }
    json_t *log = server_log();
    cr_assert_eq(count(log, "/token", NULL, NULL), 0, "a code was spent despite a refusal");
    json_decref(log);
}

Test(mcp_oauth_flow, iss_not_advertised_and_absent_is_accepted)
{
    config("{\"iss\":\"omit\",\"iss_supported\":false}");
    provider(NULL);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
}

Test(mcp_oauth_flow, step_up_that_cannot_help_gives_up)
{
    provider(NULL);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    /* a 403 asking for the scope the token has */
    memset(&a, 0, sizeof a);
    ops->challenge(oa, mcp_url, 403, "Bearer error=\"insufficient_scope\", scope=\"mcp:read\"",
                   on_auth, &a);
    cr_assert_eq(a.done, 0);
    run_until(&a.done);
    cr_assert_not(a.ok);
    cr_assert(strstr(a.error, "already"), "%s", a.error);
    /* a 403 asking for more: a new authorization with both scopes */
    memset(&a, 0, sizeof a);
    ops->challenge(oa, mcp_url, 403, "Bearer error=\"insufficient_scope\", scope=\"mcp:write\"",
                   on_auth, &a);
    run_until(&a.done);
    cr_assert(a.ok, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/authorize", "scope", "mcp:read mcp:write"), 1);
    json_decref(log);
}

/* ---- client credentials, private_key_jwt, the JWT-bearer grant, 2025-03-26 fallbacks ---- */

Test(mcp_oauth_flow, client_credentials_with_a_secret)
{
    config("{\"auth_methods\":[\"client_secret_basic\"]}");
    mcp_oauth_cfg_t cfg = {
        .client_id = "pre-client", .client_secret = "pre-secret", .client_credentials = 1};
    provider(&cfg);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/authorize", NULL, NULL), 0);
    cr_assert_eq(count(log, "/token", "grant_type", "client_credentials"), 1);
    cr_assert_eq(count(log, "/token", "client_auth", "client_secret_basic"), 1);
    json_decref(log);
}

/* A new P-256 key: the private key's PEM in *priv, the public key's in *pub (caller frees). */
static void ec_key(char **priv, char **pub)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    cr_assert_not_null(k);
    BIO *b = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
    char *p;
    long n = BIO_get_mem_data(b, &p);
    *priv = strndup(p, (size_t)n);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PUBKEY(b, k));
    n = BIO_get_mem_data(b, &p);
    *pub = strndup(p, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(k);
}

Test(mcp_oauth_flow, private_key_jwt)
{
    char *priv, *pub;
    ec_key(&priv, &pub);
    json_t *c = json_pack("{s:[s],s:s,s:s}", "auth_methods", "private_key_jwt", "jwt_client",
                          "jwt-client", "jwt_public_key", pub);
    char *text = json_dumps(c, 0);
    config(text);
    free(text);
    json_decref(c);
    mcp_oauth_cfg_t cfg = {
        .client_id = "jwt-client", .private_key_pem = priv, .client_credentials = 1};
    provider(&cfg);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/token", "client_auth", "private_key_jwt"), 1);
    json_decref(log);
    /* another key: refused by the server; a key that is not PEM: refused before sending */
    char *priv2, *pub2;
    ec_key(&priv2, &pub2);
    cfg.private_key_pem = priv2;
    provider(&cfg);
    cr_assert_eq(call_mcp(&a), 401);
    cr_assert(strstr(a.error, "invalid_client"), "%s", a.error);
    cfg.private_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    provider(&cfg);
    cr_assert_eq(call_mcp(&a), 401);
    cr_assert(strstr(a.error, "private_key_jwt"), "%s", a.error);
    cr_assert_null(strstr(a.error, "AAAA"));
    free(priv);
    free(pub);
    free(priv2);
    free(pub2);
}

Test(mcp_oauth_flow, jwt_bearer_grant_not_retried)
{
    config("{\"auth_methods\":[\"none\"],\"valid_assertion\":\"eyJ.good.jwt\",\"clients\":{"
           "\"workload\":null}}");
    mcp_oauth_cfg_t cfg = {.client_id = "workload", .assertion = "eyJ.good.jwt"};
    provider(&cfg);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    cfg.assertion = "eyJ.bad.jwt";
    provider(&cfg);
    cr_assert_eq(call_mcp(&a), 401);
    cr_assert(strstr(a.error, "invalid_grant"), "%s", a.error);
    cr_assert_eq(call_mcp(&a), 401); /* not sent again */
    cr_assert(strstr(a.error, "not tried again"), "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/token", "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                 2);
    json_decref(log);
}

Test(mcp_oauth_flow, no_protected_resource_metadata)
{
    /* 2025-03-26: the server's origin is the authorization server */
    config("{\"prm\":false}");
    provider(NULL);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    /* and without its metadata: the default endpoints */
    config("{\"as_metadata\":false,\"iss\":\"omit\"}");
    provider(NULL);
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/register", NULL, NULL), 2);
    cr_assert_eq(count(log, "/token", "pkce", "true"), 2);
    json_decref(log);
}

/* ---- DPoP ---- */

typedef struct {
    int done;
    long status;
    char *www;
} dpop_res_t;

static void on_dpop_http(pa_http_req_t *r, const pa_http_res_t *res, void *ud)
{
    dpop_res_t *h = ud;
    h->done = 1;
    h->status = res->status;
    ops->response(oa, res); /* as the client does, before a challenge */
    const char *w = pa_http_res_header(res, "WWW-Authenticate");
    h->www = w ? strdup(w) : NULL;
}

/* POST /mcp as the client does with a DPoP provider: the Authorization header and the proof
 * (extra_header); every response shown to response(); a 401 answered by a challenge. */
static long call_mcp_dpop(auth_res_t *a, int max_tries)
{
    memset(a, 0, sizeof *a);
    for (int i = 0;; i++) {
        dpop_res_t h = {0};
        pa_http_req_t *r = pa_http_req_new(http, "POST", mcp_url);
        const char *v = ops->header(oa, mcp_url);
        if (v) {
            char line[4096];
            snprintf(line, sizeof line, "Authorization: %s", v);
            pa_http_req_header(r, line);
            const char *extra = ops->extra_header(oa, "POST", mcp_url);
            cr_assert(extra && strncmp(extra, "DPoP: ", 6) == 0);
            pa_http_req_header(r, extra);
        }
        pa_http_req_json(r, "{}");
        pa_http_start(r, on_dpop_http, &h);
        run_until(&h.done);
        if (h.status != 401 || i == max_tries) {
            free(h.www);
            return h.status;
        }
        a->done = 0;
        ops->challenge(oa, mcp_url, h.status, h.www, on_auth, a);
        free(h.www);
        run_until(&a->done);
        if (!a->ok) return 401;
    }
}

Test(mcp_oauth_flow, dpop_with_nonces)
{
    config("{\"dpop\":true,\"dpop_nonce\":\"n-1\"}");
    provider(NULL);
    cr_assert_null(ops->extra_header(oa, "POST", mcp_url), "a proof without a token");
    auth_res_t a;
    cr_assert_eq(call_mcp_dpop(&a, 3), 200, "%s", a.error);
    const char *h = ops->header(oa, mcp_url);
    cr_assert(h && strncmp(h, "DPoP at-", 8) == 0, "%s", h ? h : "NULL");
    /* two proofs differ (jti) */
    char *p1 = strdup(ops->extra_header(oa, "POST", mcp_url));
    cr_assert_str_neq(p1, ops->extra_header(oa, "POST", mcp_url));
    free(p1);
    json_t *log = server_log();
    /* the token endpoint asked for its nonce once, then took the proof */
    cr_assert_eq(count(log, "/token", "dpop", "use_dpop_nonce"), 1);
    cr_assert_eq(count(log, "/token", "dpop", "valid"), 1);
    /* the MCP server too (RFC 9449 §9): the same token again with its nonce */
    cr_assert_eq(count(log, "/mcp", "auth", "dpop: use_dpop_nonce"), 1);
    cr_assert_eq(count(log, "/mcp", "auth", "valid"), 1);
    json_decref(log);
    /* a Bearer challenge keeps Bearer tokens */
    config("{\"dpop\":false}");
    provider(NULL);
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    cr_assert(strncmp(ops->header(oa, mcp_url), "Bearer ", 7) == 0);
    cr_assert_null(ops->extra_header(oa, "POST", mcp_url));
}

/* ---- the store ---- */

static char stored_key[256], stored_value[4096];
static long stored_ttl;
static int loads;

static void store(void *ud, const char *key, const char *value, long ttl_s)
{
    snprintf(stored_key, sizeof stored_key, "%s", key);
    snprintf(stored_value, sizeof stored_value, "%s", value);
    stored_ttl = ttl_s;
}

typedef struct {
    void (*cb)(void *, const char *);
    void *cb_ud;
} pending_load_t;
static pending_load_t pending;

static void answer_load(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pending_load_t p = pending;
    memset(&pending, 0, sizeof pending);
    if (p.cb) p.cb(p.cb_ud, stored_value[0] ? stored_value : NULL);
}

static void load(void *ud, const char *key, void (*cb)(void *, const char *), void *cb_ud)
{
    loads++;
    cr_assert_str_eq(key, stored_key);
    pending.cb = cb;
    pending.cb_ud = cb_ud;
    pa_loop_timer(loop, 1, 0, answer_load, NULL);
}

Test(mcp_oauth_flow, token_store)
{
    mcp_oauth_cfg_t cfg = {.store = store, .load = load};
    stored_key[0] = stored_value[0] = '\0';
    snprintf(stored_key, sizeof stored_key, "mcp:oauth:%s", mcp_url);
    provider(&cfg);
    auth_res_t a;
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error); /* load (empty), then the flow */
    cr_assert_eq(loads, 1);
    cr_assert(strstr(stored_value, "\"access_token\":\"at-"), "%s", stored_value);
    cr_assert(strstr(stored_value, "\"refresh_token\":\"rt-"), "%s", stored_value);
    cr_assert_gt(stored_ttl, 0);
    /* a new provider takes the stored token: no new authorization */
    provider(&cfg);
    cr_assert_eq(call_mcp(&a), 200, "%s", a.error);
    cr_assert_eq(loads, 2);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/authorize", NULL, NULL), 1);
    cr_assert_eq(count(log, "/token", NULL, NULL), 1);
    json_decref(log);
    /* destroyed while the store answers: the answer is ignored */
    provider(&cfg);
    memset(&a, 0, sizeof a);
    ops->challenge(oa, mcp_url, 401, NULL, on_auth, &a);
    mcp_oauth_destroy(&oa);
    uint64_t end = rf_now_ms() + 100;
    while (rf_now_ms() < end) pa_loop_run_once(loop, 10);
    cr_assert_eq(a.done, 0);
}

/* ---- waiters ---- */

Test(mcp_oauth_flow, waiters_share_a_flow_and_abandon)
{
    provider(NULL);
    auth_res_t a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    ops->challenge(oa, mcp_url, 401, NULL, on_auth, &a);
    ops->challenge(oa, mcp_url, 401, NULL, on_auth, &b);
    ops->challenge(oa, mcp_url, 401, NULL, on_auth, &c);
    ops->abandon(oa, &b);
    run_until(&a.done);
    run_until(&c.done);
    cr_assert(a.ok && c.ok, "%s", a.error);
    cr_assert_eq(b.done, 0);
    json_t *log = server_log();
    cr_assert_eq(count(log, "/authorize", NULL, NULL), 1);
    json_decref(log);
    /* destroyed mid-flow: nothing is called, nothing leaks */
    provider(NULL);
    memset(&a, 0, sizeof a);
    ops->challenge(oa, mcp_url, 401, NULL, on_auth, &a);
    pa_loop_run_once(loop, 5);
    mcp_oauth_destroy(&oa);
    uint64_t end = rf_now_ms() + 200;
    while (rf_now_ms() < end) pa_loop_run_once(loop, 10);
    cr_assert_eq(a.done, 0);
}

Test(mcp_oauth_flow, unreachable_server)
{
    provider(NULL);
    auth_res_t a = {0};
    ops->challenge(oa, "http://127.0.0.1:1/mcp", 401, NULL, on_auth, &a);
    run_until(&a.done);
    cr_assert_not(a.ok);
    cr_assert(strstr(a.error, "no authorization-server metadata"), "%s", a.error);
}

Test(mcp_oauth_flow, configuration_refused)
{
    char err[256];
    mcp_oauth_cfg_t cfg = {.loop = loop, .http = http, .client_secret = "s"};
    cr_assert_null(mcp_oauth_new(&cfg, err, sizeof err));
    cr_assert(strstr(err, "client_id"), "%s", err);
    cfg = (mcp_oauth_cfg_t){.loop = loop, .http = http, .client_credentials = 1};
    cr_assert_null(mcp_oauth_new(&cfg, err, sizeof err));
    cfg = (mcp_oauth_cfg_t){.loop = loop, .http = http, .redirect_uri = "myapp:/cb"};
    cr_assert_null(mcp_oauth_new(&cfg, err, sizeof err));
    cfg = (mcp_oauth_cfg_t){.loop = loop, .http = http, .client_metadata_url = "http://a/m"};
    cr_assert_null(mcp_oauth_new(&cfg, err, sizeof err));
    cr_assert_null(mcp_oauth_new(NULL, err, sizeof err));
}

/* ---- the conformance driver's hook ---- */

Test(mcp_oauth_flow, conformance_hook)
{
    char err[256];
    mcp_oauth_t *o = (mcp_oauth_t *)1;
    cr_assert_eq(mcp_conformance_auth(loop, http, "tools_call", NULL, &o, err, sizeof err), 0);
    cr_assert_null(o);
    cr_assert_eq(
        mcp_conformance_auth(loop, http, "auth/metadata-default", NULL, &o, err, sizeof err), 0,
        "%s", err);
    cr_assert_not_null(o);
    mcp_oauth_destroy(&o);
    cr_assert_eq(mcp_conformance_auth(loop, http, "auth/pre-registration",
                                      "{\"client_id\":\"a\",\"client_secret\":\"b\"}", &o, err,
                                      sizeof err),
                 0, "%s", err);
    mcp_oauth_destroy(&o);
    cr_assert_eq(mcp_conformance_auth(loop, http, "auth/client-credentials-basic", "{}", &o, err,
                                      sizeof err),
                 -1);
    cr_assert_null(o);
    cr_assert_eq(mcp_conformance_auth(loop, http, "auth/x", "[1]", &o, err, sizeof err), -1);
    cr_assert(strstr(err, "CONTEXT"), "%s", err);
}
