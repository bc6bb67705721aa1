/* Authentication with API_KEYS (401 + WWW-Authenticate; health and preflights open), CORS for
 * CORS_ORIGINS, and the refusal to serve beyond loopback without keys. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "harness.h"

#define KEY1 "test-key-0123456789abcdef"
#define KEY2 "second-key-fedcba9876543210"
#define ORIGIN "https://app.example"
#define ORIGIN2 "http://localhost:5173"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup_keys(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"API_KEYS=" KEY1 "," KEY2, "CORS_ORIGINS=" ORIGIN "," ORIGIN2, NULL});
}

static void setup_plain(void)
{
    rd = hr_redis_start(NULL);
}

TestSuite(auth, .init = setup_keys, .fini = hr_cleanup, .timeout = 40);
TestSuite(startup, .init = setup_plain, .fini = hr_cleanup, .timeout = 40);

static const char *AUTH1 = "Authorization: Bearer " KEY1;
static const char *AUTH2 = "Authorization: Bearer " KEY2;

static void expect_401(hr_resp_t *r, const char *what)
{
    cr_assert_eq(r->status, 401, "%s: %s", what, hr_describe(r));
    hr_assert_problem(r, 401, "unauthorized", NULL);
    const char *wa = hr_header(r, "WWW-Authenticate");
    cr_assert(wa && strncasecmp(wa, "Bearer", 6) == 0, "%s: WWW-Authenticate is %s", what,
              wa ? wa : "(none)");
}

/* ---- authentication ----------------------------------------------------------------------- */

Test(auth, missing_key_is_401_on_every_api_route)
{
    expect_401(hr_get(gw, "/api/prospects"), "GET /api/prospects");
    expect_401(hr_post(gw, "/api/prospects", "{\"name\":\"A\",\"company\":\"B\"}"),
               "POST /api/prospects");
    expect_401(hr_get(gw, "/api/prospects/p-1"), "GET /api/prospects/p-1");
    expect_401(hr_req(gw, "PATCH", "/api/prospects/p-1", NULL, "{}"), "PATCH");
    expect_401(hr_req(gw, "DELETE", "/api/prospects/p-1", NULL, NULL), "DELETE");
    expect_401(hr_req(gw, "POST", "/api/prospects/import",
                      (const char *[]){"Content-Type: application/x-ndjson", NULL},
                      "{\"name\":\"A\",\"company\":\"B\"}\n"),
               "POST /api/prospects/import");
    expect_401(hr_get(gw, "/api/campaigns"), "GET /api/campaigns");
    expect_401(hr_get(gw, "/api/openapi.json"), "GET /api/openapi.json");
    expect_401(hr_get(gw, "/metrics"), "GET /metrics");
}

Test(auth, wrong_keys_are_401)
{
    const char *bad[] = {
        "Authorization: Bearer wrong-key-0123456789abcdef",
        "Authorization: Bearer " KEY1 "x",
        "Authorization: Bearer test-key-0123456789abcde", /* a prefix of KEY1 */
        "Authorization: Bearer " KEY1 "," KEY2,
        "Authorization: Bearer",
        "Authorization: Bearer ",
        "Authorization: Basic " KEY1,
        "Authorization: " KEY1,
        "X-Api-Key: " KEY1,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_401(hr_req(gw, "GET", "/api/prospects", (const char *[]){bad[i], NULL}, NULL),
                   bad[i]);
}

Test(auth, each_configured_key_works)
{
    hr_resp_t *r = hr_req(gw, "GET", "/api/prospects", (const char *[]){AUTH1, NULL}, NULL);
    cr_assert_eq(r->status, 200, "KEY1: %s", hr_describe(r));
    r = hr_req(gw, "POST", "/api/prospects", (const char *[]){AUTH2, NULL},
               "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    cr_assert_eq(r->status, 201, "KEY2: %s", hr_describe(r));
    r = hr_req(gw, "GET", "/api/prospects/p-1", (const char *[]){AUTH1, NULL}, NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    r = hr_req(gw, "GET", "/metrics", (const char *[]){AUTH1, NULL}, NULL);
    cr_assert_eq(r->status, 200, "/metrics with a key: %s", hr_describe(r));
}

Test(auth, refused_requests_change_nothing)
{
    hr_resp_t *r = hr_req(gw, "POST", "/api/prospects",
                          (const char *[]){"Authorization: Bearer nope-nope-nope-nope-nope", NULL},
                          "{\"id\":\"p-x\",\"name\":\"A\",\"company\":\"B\"}");
    expect_401(r, "POST with a wrong key");
    r = hr_req(gw, "POST", "/api/prospects", (const char *[]){AUTH1, NULL},
               "{\"id\":\"p-y\",\"name\":\"A\",\"company\":\"B\"}");
    cr_assert_eq(r->status, 201);
    expect_401(hr_req(gw, "DELETE", "/api/prospects/p-y", NULL, NULL), "DELETE without a key");
    r = hr_req(gw, "GET", "/api/prospects", (const char *[]){AUTH1, NULL}, NULL);
    json_t *arr = hr_json(r);
    cr_assert_eq(json_array_size(arr), 1, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(arr, 0), "id"), "p-y");
}

Test(auth, health_is_open)
{
    hr_resp_t *r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 200, "health without a key: %s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "status"), "ok");
    r = hr_req(gw, "GET", "/api/health",
               (const char *[]){"Authorization: Bearer wrong-key-0123456789abcdef", NULL}, NULL);
    cr_assert_eq(r->status, 200, "health with a wrong key: %s", hr_describe(r));
}

/* ---- CORS --------------------------------------------------------------------------------- */

Test(auth, allowed_origin_gets_acao_and_vary)
{
    const char *origins[] = {ORIGIN, ORIGIN2};
    for (int i = 0; i < 2; i++) {
        hr_resp_t *r =
            hr_req(gw, "GET", "/api/prospects",
                   (const char *[]){AUTH1, hr_fmt("Origin: %s", origins[i]), NULL}, NULL);
        cr_assert_eq(r->status, 200, "%s", hr_describe(r));
        const char *acao = hr_header(r, "Access-Control-Allow-Origin");
        cr_assert(acao && strcmp(acao, origins[i]) == 0, "Origin %s: ACAO is %s", origins[i],
                  acao ? acao : "(none)");
        cr_assert(hr_header_has_token(r, "Vary", "Origin"), "Origin %s: no Vary: Origin",
                  origins[i]);
    }
}

Test(auth, other_origins_get_no_acao)
{
    const char *others[] = {"https://evil.example", "https://app.example.evil.example",
                            "http://app.example", "https://app.example:8443", "null"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        hr_resp_t *r = hr_req(gw, "GET", "/api/prospects",
                              (const char *[]){AUTH1, hr_fmt("Origin: %s", others[i]), NULL}, NULL);
        cr_assert_eq(r->status, 200, "%s", hr_describe(r));
        const char *acao = hr_header(r, "Access-Control-Allow-Origin");
        cr_assert_null(acao, "Origin %s got ACAO %s", others[i], acao);
    }
}

Test(auth, errors_carry_cors_headers_for_allowed_origins)
{
    /* a browser can only read a 401 (or any error) when it carries ACAO */
    hr_resp_t *r =
        hr_req(gw, "GET", "/api/prospects", (const char *[]){"Origin: " ORIGIN, NULL}, NULL);
    expect_401(r, "GET without a key from an allowed origin");
    const char *acao = hr_header(r, "Access-Control-Allow-Origin");
    cr_assert(acao && strcmp(acao, ORIGIN) == 0, "401 without ACAO (%s)", acao ? acao : "none");
    r = hr_req(gw, "GET", "/api/prospects/p-none", (const char *[]){AUTH1, "Origin: " ORIGIN, NULL},
               NULL);
    cr_assert_eq(r->status, 404);
    acao = hr_header(r, "Access-Control-Allow-Origin");
    cr_assert(acao && strcmp(acao, ORIGIN) == 0, "404 without ACAO (%s)", acao ? acao : "none");
}

static hr_resp_t *preflight(const char *path, const char *origin, const char *method)
{
    return hr_req(gw, "OPTIONS", path,
                  (const char *[]){hr_fmt("Origin: %s", origin),
                                   hr_fmt("Access-Control-Request-Method: %s", method),
                                   "Access-Control-Request-Headers: authorization, content-type",
                                   NULL},
                  NULL);
}

Test(auth, preflight_is_204_without_a_key)
{
    hr_resp_t *r = preflight("/api/prospects", ORIGIN, "POST");
    cr_assert_eq(r->status, 204, "preflight: %s", hr_describe(r));
    cr_assert_eq(r->len, 0, "204 with a body");
    const char *acao = hr_header(r, "Access-Control-Allow-Origin");
    cr_assert(acao && strcmp(acao, ORIGIN) == 0, "preflight ACAO %s", acao ? acao : "(none)");
    const char *acam = hr_header(r, "Access-Control-Allow-Methods");
    cr_assert_not_null(acam, "preflight without Access-Control-Allow-Methods");
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Methods", "POST"), "ACAM %s", acam);
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Methods", "GET"), "ACAM %s", acam);
    const char *acah = hr_header(r, "Access-Control-Allow-Headers");
    cr_assert_not_null(acah, "preflight without Access-Control-Allow-Headers");
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Headers", "Authorization"), "ACAH %s",
              acah);
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Headers", "Content-Type"), "ACAH %s",
              acah);

    r = preflight("/api/prospects/p-1", ORIGIN2, "PATCH");
    cr_assert_eq(r->status, 204, "preflight: %s", hr_describe(r));
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Methods", "PATCH"), "ACAM %s",
              hr_header(r, "Access-Control-Allow-Methods"));
    cr_assert(hr_header_has_token(r, "Access-Control-Allow-Methods", "DELETE"), "ACAM %s",
              hr_header(r, "Access-Control-Allow-Methods"));
}

Test(auth, preflight_from_other_origin_gets_no_acao)
{
    hr_resp_t *r = preflight("/api/prospects", "https://evil.example", "POST");
    cr_assert_null(hr_header(r, "Access-Control-Allow-Origin"), "evil origin got ACAO: %s",
                   hr_header(r, "Access-Control-Allow-Origin"));
}

/* ---- startup ------------------------------------------------------------------------------ */

Test(startup, refuses_all_interfaces_without_api_keys)
{
    hr_gateway_t *g = hr_gateway_spawn(rd, (const char *[]){"HOST=0.0.0.0", "API_KEYS", NULL});
    int exited = hr_gateway_wait_exit(g, 5000);
    const char *out = hr_gateway_output(g);
    if (!exited) {
        hr_gateway_stop(g, SIGKILL, 1000);
        cr_assert_fail("the gateway is running on 0.0.0.0 without API_KEYS; output:\n%s", out);
    }
    cr_assert(WIFEXITED(g->status) && WEXITSTATUS(g->status) != 0,
              "expected a non-zero exit, got status 0x%x; output:\n%s", g->status, out);
    cr_assert_not_null(strstr(out, "API_KEYS"), "the message does not name API_KEYS:\n%s", out);
    hr_resp_t *r = hr_get(g, "/api/health");
    cr_assert_eq(r->status, 0, "something answers on its port: %s", hr_describe(r));
}

Test(startup, keys_on_loopback_start_and_enforce)
{
    gw = hr_gateway_start(rd, (const char *[]){"HOST=127.0.0.1", "API_KEYS=" KEY1, NULL});
    expect_401(hr_get(gw, "/api/prospects"), "GET without a key");
    cr_assert_eq(hr_req(gw, "GET", "/api/prospects", (const char *[]){AUTH1, NULL}, NULL)->status,
                 200);
}

Test(startup, no_keys_on_loopback_is_open)
{
    gw = hr_gateway_start(rd, NULL);
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    cr_assert_eq(r->status, 200, "no API_KEYS: %s", hr_describe(r));
    cr_assert_null(hr_header(r, "WWW-Authenticate"));
}
