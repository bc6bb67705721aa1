/* Errors as RFC 9457 problems (docs/api.md "Errors"): unknown routes 404, wrong methods 405 with
 * Allow, bodies over the limit 413, wrong Content-Type 415, invalid JSON 400 with line and column,
 * and the problem document's members. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

static void setup_small(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"MAX_BODY_BYTES=2k", NULL});
}

TestSuite(http_errors, .init = setup, .fini = hr_cleanup, .timeout = 40);
TestSuite(http_errors_small, .init = setup_small, .fini = hr_cleanup, .timeout = 40);

static const char *MINIMAL = "{\"name\":\"A\",\"company\":\"B\"}";

/* ---- 404 ---------------------------------------------------------------------------------- */

/* (a GET outside /api/ is the dashboard's: its page, or its 404 for a missing file; see
 * test_dashboard_static.c) */
Test(http_errors, unknown_routes_are_404)
{
    const char *paths[] = {"/api/nope", "/api", "/api/prospects/p-1/extra",
                           "/api/campaigns/c-1/stats", "/api/prospects/p-1/extra/more"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        hr_resp_t *r = hr_get(gw, paths[i]);
        cr_expect_eq(r->status, 404, "GET %s: %s", paths[i], hr_describe(r));
        if (r->status == 404) hr_assert_problem(r, 404, "not-found", NULL);
    }
    hr_assert_problem(hr_post(gw, "/api/nope", MINIMAL), 404, "not-found", NULL);
}

/* ---- 405 ---------------------------------------------------------------------------------- */

static void expect_405(const char *method, const char *path, const char *const *allowed,
                       const char *body)
{
    hr_resp_t *r = hr_req(gw, method, path, NULL, body);
    cr_assert_eq(r->status, 405, "%s %s: %s", method, path, hr_describe(r));
    hr_assert_problem(r, 405, "method-not-allowed", NULL);
    const char *allow = hr_header(r, "Allow");
    cr_assert_not_null(allow, "%s %s: 405 without Allow", method, path);
    for (size_t i = 0; allowed[i]; i++)
        cr_assert(hr_header_has_token(r, "Allow", allowed[i]), "%s %s: Allow \"%s\" lacks %s",
                  method, path, allow, allowed[i]);
    cr_assert_not(hr_header_has_token(r, "Allow", method), "%s %s: Allow \"%s\" lists %s", method,
                  path, allow, method);
}

Test(http_errors, wrong_method_is_405_with_allow)
{
    expect_405("PUT", "/api/prospects", (const char *[]){"GET", "POST", NULL}, MINIMAL);
    expect_405("DELETE", "/api/prospects", (const char *[]){"GET", "POST", NULL}, NULL);
    expect_405("POST", "/api/prospects/p-1", (const char *[]){"GET", "PATCH", "DELETE", NULL},
               MINIMAL);
    expect_405("PUT", "/api/prospects/p-1", (const char *[]){"GET", "PATCH", "DELETE", NULL},
               MINIMAL);
    expect_405("PATCH", "/api/campaigns", (const char *[]){"GET", "POST", NULL}, MINIMAL);
    expect_405("DELETE", "/api/campaigns/c-1", (const char *[]){"GET", NULL}, NULL);
    expect_405("POST", "/api/health", (const char *[]){"GET", NULL}, "{}");
    expect_405("POST", "/metrics", (const char *[]){"GET", NULL}, "{}");
    expect_405("DELETE", "/api/openapi.json", (const char *[]){"GET", NULL}, NULL);
}

/* ---- 413 ---------------------------------------------------------------------------------- */

/* MINIMAL padded with JSON whitespace to exactly n bytes (harness-owned). */
static const char *padded(size_t n)
{
    size_t m = strlen(MINIMAL);
    char *s = malloc(n + 1);
    memset(s, ' ', n);
    memcpy(s, MINIMAL, m);
    s[n] = '\0';
    const char *out = hr_fmt("%s", s);
    free(s);
    return out;
}

Test(http_errors, body_over_1_mib_is_413)
{
    hr_resp_t *r = hr_post(gw, "/api/prospects", padded((1u << 20) + 1));
    cr_assert_eq(r->status, 413, "1 MiB + 1 byte: %s", hr_describe(r));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    r = hr_post(gw, "/api/prospects", padded(5u << 20));
    cr_assert_eq(r->status, 413, "5 MiB: %s", hr_describe(r));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    /* nothing was created, and the gateway still serves */
    r = hr_get(gw, "/api/prospects");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_array_size(hr_json(r)), 0);
}

Test(http_errors, body_of_exactly_1_mib_is_accepted)
{
    hr_resp_t *r = hr_post(gw, "/api/prospects", padded(1u << 20));
    cr_assert_eq(r->status, 201, "exactly 1 MiB: %s", hr_describe(r));
}

Test(http_errors, chunked_body_over_the_limit_is_413)
{
    /* without Content-Length the gateway must count while reading */
    const char *body = padded((1u << 20) + 4096);
    hr_http_timeout_ms = 3000; /* an answer takes milliseconds; do not wait 15 s for none */
    hr_resp_t *r = hr_req(gw, "POST", "/api/prospects",
                          (const char *[]){"Transfer-Encoding: chunked", NULL}, body);
    cr_assert_eq(r->status, 413, "chunked 1 MiB + 4 KiB: %s", hr_describe(r));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    r = hr_req(gw, "POST", "/api/prospects", (const char *[]){"Transfer-Encoding: chunked", NULL},
               MINIMAL);
    cr_assert_eq(r->status, 201, "small chunked body: %s", hr_describe(r));
}

Test(http_errors_small, max_body_bytes_is_configurable)
{
    hr_resp_t *r = hr_post(gw, "/api/prospects", padded(2049));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    r = hr_req(gw, "PATCH", "/api/prospects/p-1", NULL, padded(4096));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    r = hr_post(gw, "/api/prospects", padded(2048));
    cr_assert_eq(r->status, 201, "2048 bytes with MAX_BODY_BYTES=2k: %s", hr_describe(r));
}

/* ---- 415 ---------------------------------------------------------------------------------- */

Test(http_errors, wrong_content_type_is_415)
{
    const char *cts[] = {"Content-Type: text/plain",
                         "Content-Type: application/x-www-form-urlencoded",
                         "Content-Type: application/xml", "Content-Type:"};
    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) {
        hr_resp_t *r =
            hr_req(gw, "POST", "/api/prospects", (const char *[]){cts[i], NULL}, MINIMAL);
        cr_expect_eq(r->status, 415, "POST with \"%s\": %s", cts[i], hr_describe(r));
        if (r->status == 415) hr_assert_problem(r, 415, "unsupported-media-type", NULL);
    }
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    hr_resp_t *r = hr_req(gw, "PATCH", "/api/prospects/p-1",
                          (const char *[]){"Content-Type: text/plain", NULL}, "{\"name\":\"Z\"}");
    hr_assert_problem(r, 415, "unsupported-media-type", NULL);
    r = hr_req(gw, "POST", "/api/campaigns", (const char *[]){"Content-Type: text/csv", NULL},
               "name\nX\n");
    hr_assert_problem(r, 415, "unsupported-media-type", NULL);
    cr_assert_str_eq(hr_jstr(hr_json(hr_get(gw, "/api/prospects/p-1")), "name"), "A");
    r = hr_get(gw, "/api/prospects");
    cr_assert_eq(json_array_size(hr_json(r)), 1, "a 415 request created something: %s",
                 hr_describe(r));
}

/* ---- 400 invalid-json ----------------------------------------------------------------------- */

Test(http_errors, invalid_json_is_400_with_line_and_column)
{
    const char *body = "{\n  \"name\": \"A\",\n  oops: 1,\n  \"company\": \"B\"\n}";
    hr_resp_t *r = hr_post(gw, "/api/prospects", body);
    hr_assert_problem(r, 400, "invalid-json", NULL);
    const char *detail = hr_jstr(hr_json(r), "detail");
    cr_assert(strcasestr(detail, "line") && strcasestr(detail, "column"),
              "detail does not give line and column: %s", detail);
    cr_assert_not_null(strstr(detail, "3"), "the error is on line 3: %s", detail);
}

Test(http_errors, malformed_bodies_are_400)
{
    const char *bad[] = {
        "",
        "{\"name\":\"A\",",
        "{\"name\":\"A\",\"company\":\"B\"} trailing",
        "{'name':'A'}",
        "nul",
        "{\"name\":\"A\",\"company\":\"B\",}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_resp_t *r = hr_post(gw, "/api/prospects", bad[i]);
        cr_expect_eq(r->status, 400, "body \"%s\": %s", bad[i], hr_describe(r));
        if (r->status == 400) hr_assert_problem(r, 400, "invalid-json", NULL);
    }
    /* well-formed JSON that is not an object, and invalid UTF-8: 400 of either kind */
    const char *wrong[] = {"[1,2,3]",
                           "\"a string\"",
                           "42",
                           "null",
                           "{\"name\":\"\xff\xfe\",\"company\":\"B\"}",
                           "{\"name\":\"\xed\xa0\x80\",\"company\":\"B\"}"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        hr_resp_t *r = hr_post(gw, "/api/prospects", wrong[i]);
        cr_expect_eq(r->status, 400, "body %zu: %s", i, hr_describe(r));
        json_t *j = hr_json(r);
        const char *type = hr_jstr(j, "type");
        cr_expect(type && (strstr(type, "/invalid-json") || strstr(type, "/invalid-field")),
                  "body %zu: %s", i, hr_describe(r));
        cr_expect_eq(hr_jint(j, "status", 0), 400);
    }
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    cr_assert_eq(json_array_size(hr_json(r)), 0, "a malformed body created something: %s",
                 hr_describe(r));
}

Test(http_errors, invalid_json_in_patch_and_campaigns)
{
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    hr_assert_problem(hr_req(gw, "PATCH", "/api/prospects/p-1", NULL, "{\"name\":"), 400,
                      "invalid-json", NULL);
    hr_assert_problem(hr_post(gw, "/api/campaigns", "{name: x}"), 400, "invalid-json", NULL);
}

/* ---- the problem document ----------------------------------------------------------------- */

Test(http_errors, problem_has_instance_and_request_id)
{
    hr_resp_t *r =
        hr_req(gw, "POST", "/api/prospects", (const char *[]){"X-Request-Id: err-req-1", NULL},
               "{\"name\":\"\",\"company\":\"B\"}");
    hr_assert_problem(r, 400, "invalid-field", "name");
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "title"), "Invalid field", "%s", hr_jdump(j));
    cr_assert_str_eq(hr_jstr(j, "instance") ? hr_jstr(j, "instance") : "(none)", "/api/prospects",
                     "%s", hr_jdump(j));
    cr_assert_str_eq(hr_jstr(j, "request_id") ? hr_jstr(j, "request_id") : "(none)", "err-req-1",
                     "%s", hr_jdump(j));
    cr_assert_str_eq(hr_header(r, "X-Request-Id") ? hr_header(r, "X-Request-Id") : "(none)",
                     "err-req-1");
    /* a generated request id is the same in the body and the header */
    r = hr_get(gw, "/api/prospects/p-missing");
    hr_assert_problem(r, 404, "not-found", NULL);
    const char *hid = hr_header(r, "X-Request-Id"), *bid = hr_jstr(hr_json(r), "request_id");
    cr_assert(hid && bid && strcmp(hid, bid) == 0, "header %s, body %s", hid, bid);
    cr_assert_str_eq(hr_jstr(hr_json(r), "instance") ? hr_jstr(hr_json(r), "instance") : "(none)",
                     "/api/prospects/p-missing");
}

/* ---- HEAD and OPTIONS --------------------------------------------------------------------- */

Test(http_errors, head_works_wherever_get_does)
{
    hr_must_create(gw, "/api/prospects", "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    hr_must_create(gw, "/api/campaigns", "{\"id\":\"c-1\",\"name\":\"Q1\"}");
    const char *paths[] = {"/api/health",        "/api/prospects", "/api/prospects?search=a",
                           "/api/prospects/p-1", "/api/campaigns", "/api/campaigns/c-1",
                           "/api/openapi.json",  "/metrics"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        hr_resp_t *g = hr_get(gw, paths[i]);
        hr_resp_t *h = hr_req(gw, "HEAD", paths[i], NULL, NULL);
        cr_expect_eq(h->status, g->status, "HEAD %s: %s (GET: %ld)", paths[i], hr_describe(h),
                     g->status);
        cr_expect_eq(h->len, 0, "HEAD %s returned a body", paths[i]);
        const char *gct = hr_header(g, "Content-Type"), *hct = hr_header(h, "Content-Type");
        cr_expect(gct && hct && strcmp(gct, hct) == 0, "HEAD %s: Content-Type %s, GET has %s",
                  paths[i], hct ? hct : "-", gct ? gct : "-");
    }
    hr_resp_t *h = hr_req(gw, "HEAD", "/api/prospects", NULL, NULL);
    cr_assert_str_eq(hr_header(h, "X-Total-Count") ? hr_header(h, "X-Total-Count") : "-", "1");
    h = hr_req(gw, "HEAD", "/api/prospects/p-missing", NULL, NULL);
    cr_assert_eq(h->status, 404, "HEAD of a missing prospect: %s", hr_describe(h));
}

static void expect_options(const char *path, const char *const *allowed)
{
    hr_resp_t *r = hr_req(gw, "OPTIONS", path, NULL, NULL);
    cr_assert_eq(r->status, 204, "OPTIONS %s: %s", path, hr_describe(r));
    const char *allow = hr_header(r, "Allow");
    cr_assert_not_null(allow, "OPTIONS %s without Allow", path);
    for (size_t i = 0; allowed[i]; i++)
        cr_assert(hr_header_has_token(r, "Allow", allowed[i]), "OPTIONS %s: Allow \"%s\" lacks %s",
                  path, allow, allowed[i]);
    /* no Origin: not a CORS preflight, so no Access-Control-Allow-Origin */
    cr_assert_null(hr_header(r, "Access-Control-Allow-Origin"));
}

Test(http_errors, options_is_204_with_allow)
{
    expect_options("/api/prospects", (const char *[]){"GET", "POST", NULL});
    expect_options("/api/prospects/p-1", (const char *[]){"GET", "PATCH", "DELETE", NULL});
    expect_options("/api/prospects/import", (const char *[]){"POST", NULL});
    expect_options("/api/campaigns", (const char *[]){"GET", "POST", NULL});
    expect_options("/api/campaigns/c-1", (const char *[]){"GET", NULL});
    expect_options("/api/health", (const char *[]){"GET", NULL});
}

/* ---- other routes of the table ------------------------------------------------------------ */

Test(http_errors, openapi_document_is_served)
{
    hr_resp_t *r = hr_get(gw, "/api/openapi.json");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "not JSON");
    const char *v = hr_jstr(j, "openapi");
    cr_assert(v && strncmp(v, "3.1", 3) == 0, "openapi version %s", v ? v : "(none)");
    json_t *paths = json_object_get(j, "paths");
    cr_assert(json_is_object(paths), "no paths");
    const char *want[] = {"/api/health",         "/api/prospects", "/api/prospects/import",
                          "/api/prospects/{id}", "/api/campaigns", "/api/campaigns/{id}"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect_not_null(json_object_get(paths, want[i]), "OpenAPI lacks %s", want[i]);
}
