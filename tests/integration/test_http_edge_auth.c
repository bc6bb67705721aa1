/* Who the HTTP edge serves (issue 9, "And:"): without API keys only a loopback Host (DNS
 * rebinding), every answer that depends on Origin says Vary: Origin, and /api/health without a
 * valid key is a summary (no worker ids, providers, models). */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define KEY "edge-key-0123456789abcdef"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup_open(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

static void setup_keys(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"API_KEYS=" KEY, "CORS_ORIGINS=https://app.example", NULL});
}

TestSuite(edge_open, .init = setup_open, .fini = hr_cleanup, .timeout = 40);
TestSuite(edge_keys, .init = setup_keys, .fini = hr_cleanup, .timeout = 40);

static hr_resp_t *with_host(const char *method, const char *path, const char *host,
                            const char *body)
{
    return hr_req(gw, method, path, (const char *[]){hr_fmt("Host: %s", host), NULL}, body);
}

Test(edge_open, a_rebound_name_is_refused_without_api_keys)
{
    const char *evil[] = {
        "evil.example",           "evil.example:8000",      hr_fmt("attacker.test:%d", gw->port),
        "127.0.0.1.evil.example", "localhost.evil.example", "0x7f000001"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        hr_resp_t *r = with_host("GET", "/api/prospects", evil[i], NULL);
        cr_expect_eq(r->status, 421, "Host %s: %s", evil[i], hr_describe(r));
        if (r->status == 421) hr_assert_problem(r, 421, "misdirected-request", NULL);
    }
    /* nor can it start a run or write */
    hr_resp_t *r = with_host("POST", "/api/prospects", "evil.example",
                             "{\"id\":\"p-evil\",\"name\":\"A\",\"company\":\"B\"}");
    cr_assert_eq(r->status, 421, "%s", hr_describe(r));
    cr_assert_eq(hr_get(gw, "/api/prospects/p-evil")->status, 404, "the write went through");
    r = with_host("POST", "/api/automation/contact-forms/run", "evil.example",
                  "{\"message_template\":\"Hi\",\"targets\":[\"https://a.example\"]}");
    cr_assert_eq(r->status, 421, "%s", hr_describe(r));
}

Test(edge_open, loopback_names_are_served)
{
    const char *ok[] = {"localhost",      "LOCALHOST:8000", hr_fmt("127.0.0.1:%d", gw->port),
                        "127.1.2.3",      "[::1]",          hr_fmt("[::1]:%d", gw->port),
                        "localhost:65535"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hr_resp_t *r = with_host("GET", "/api/prospects", ok[i], NULL);
        cr_expect_eq(r->status, 200, "Host %s: %s", ok[i], hr_describe(r));
    }
}

Test(edge_keys, any_name_is_served_with_api_keys)
{
    hr_resp_t *r =
        hr_req(gw, "GET", "/api/prospects",
               (const char *[]){"Host: api.example.com", "Authorization: Bearer " KEY, NULL}, NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
}

static void expect_vary_origin(hr_resp_t *r, const char *what)
{
    cr_assert(hr_header_has_token(r, "Vary", "Origin"), "%s: no Vary: Origin (%s)", what,
              hr_describe(r));
}

Test(edge_keys, every_answer_varies_on_origin)
{
    const char *auth = "Authorization: Bearer " KEY;
    expect_vary_origin(hr_req(gw, "GET", "/api/prospects", (const char *[]){auth, NULL}, NULL),
                       "no Origin");
    expect_vary_origin(hr_req(gw, "GET", "/api/prospects",
                              (const char *[]){auth, "Origin: https://evil.example", NULL}, NULL),
                       "another origin");
    expect_vary_origin(hr_req(gw, "GET", "/api/prospects",
                              (const char *[]){auth, "Origin: https://app.example", NULL}, NULL),
                       "the allowed origin");
    expect_vary_origin(hr_get(gw, "/api/prospects"), "401");
    expect_vary_origin(hr_req(gw, "GET", "/api/nope", (const char *[]){auth, NULL}, NULL), "404");
    expect_vary_origin(hr_get(gw, "/api/health"), "health");
    hr_resp_t *r = hr_req(gw, "OPTIONS", "/api/prospects",
                          (const char *[]){"Origin: https://evil.example",
                                           "Access-Control-Request-Method: POST", NULL},
                          NULL);
    expect_vary_origin(r, "a preflight from another origin");
}

Test(edge_keys, health_without_a_key_is_a_summary)
{
    /* a worker publishes an llm breaker in its status record: the full view would name it */
    hr_resp_t *r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "status"), "ok", "%s", hr_describe(r));
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        cr_expect(strcmp(key, "status") == 0 || strcmp(key, "redis") == 0 ||
                      strcmp(key, "store") == 0,
                  "the summary has \"%s\": %s", key, hr_describe(r));
    }
    r = hr_req(gw, "GET", "/api/health",
               (const char *[]){"Authorization: Bearer wrong-key-0123456789abcdef", NULL}, NULL);
    cr_assert_null(json_object_get(hr_json(r), "llm"), "a wrong key sees: %s", hr_describe(r));
    /* with the key, the full view */
    r = hr_req(gw, "GET", "/api/health", (const char *[]){"Authorization: Bearer " KEY, NULL},
               NULL);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_not_null(json_object_get(hr_json(r), "version"), "%s", hr_describe(r));
    cr_assert_not_null(json_object_get(hr_json(r), "llm"), "%s", hr_describe(r));
}
