/* The HTTP edge, over raw sockets against a real gateway (issue 9, "The HTTP edge"): what RFC
 * 9110/9112 say a server must refuse is refused with a problem document (and the connection
 * closed), request smuggling is refused, a NUL in the target is never the path without it, an
 * absolute-form target naming this server is served as its origin form, and a problem stays
 * valid JSON whatever the path held. What libmicrohttpd answers by itself is pinned as
 * docs/api.md ("The HTTP edge") says. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(http_edge, .init = setup, .fini = hr_cleanup, .timeout = 60);

#define RAW(s) hr_raw(gw, s, sizeof s - 1)

/* A refusal: the problem, the connection closed after it, nothing else answered on it. */
static void expect_refused(hr_raw_t *r, long status, const char *slug, const char *what)
{
    cr_assert_eq(r->status, status, "%s: expected %ld, got: %.500s", what, status, r->data);
    hr_raw_assert_problem(r, status, slug);
    cr_assert(r->closed, "%s: the connection stayed open after the refusal", what);
    cr_assert_eq(hr_raw_responses(r), 1, "%s: more than one answer: %.800s", what, r->data);
}

Test(http_edge, http11_without_host_or_with_two_is_400)
{
    expect_refused(RAW("GET /api/health HTTP/1.1\r\n\r\n"), 400, "bad-request", "no Host");
    expect_refused(RAW("GET /api/health HTTP/1.1\r\nHost: localhost\r\nHost: 127.0.0.1\r\n\r\n"),
                   400, "bad-request", "two Hosts");
    /* HTTP/1.0 needs no Host */
    hr_raw_t *r = RAW("GET /api/health HTTP/1.0\r\n\r\n");
    cr_assert_eq(r->status, 200, "HTTP/1.0 without Host: %.300s", r->data);
}

Test(http_edge, nul_or_bare_cr_in_a_header_is_400)
{
    static const char nul[] = "GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n";
    expect_refused(hr_raw(gw, nul, sizeof nul - 1), 400, "bad-request", "NUL in a value");
    expect_refused(RAW("GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n"), 400,
                   "bad-request", "bare CR in a value");
    expect_refused(RAW("GET /api/health HTTP/1.1\r\nHost: local\x01host\r\n\r\n"), 400,
                   "bad-request", "control character in Host");
}

Test(http_edge, obs_fold_is_400)
{
    expect_refused(RAW("GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n"), 400,
                   "bad-request", "obs-fold (SP)");
    expect_refused(RAW("GET /api/health HTTP/1.1\r\nX-A: a\r\n\tb\r\nHost: localhost\r\n\r\n"), 400,
                   "bad-request", "obs-fold (HTAB)");
}

Test(http_edge, unknown_transfer_encoding_is_501)
{
    expect_refused(RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                       "application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}"),
                   501, "not-implemented", "Transfer-Encoding: gzip");
    expect_refused(
        RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
            "application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
        501, "not-implemented", "Transfer-Encoding: gzip, chunked");
    /* chunked alone is served */
    hr_raw_t *r = RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "1b\r\n{\"name\":\"A\",\"company\":\"B\"}\r\n0\r\n\r\n");
    cr_assert_eq(r->status, 201, "chunked: %.400s", r->data);
}

Test(http_edge, connect_is_501)
{
    expect_refused(RAW("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 501,
                   "not-implemented", "CONNECT");
    expect_refused(RAW("CONNECT 127.0.0.1:6379 HTTP/1.1\r\nHost: localhost\r\n\r\n"), 501,
                   "not-implemented", "CONNECT to Redis's port");
}

Test(http_edge, nul_in_the_path_is_never_the_path_without_it)
{
    static const char raw[] = "GET /api/health\0.json HTTP/1.1\r\nHost: localhost\r\n\r\n";
    expect_refused(hr_raw(gw, raw, sizeof raw - 1), 400, "bad-request", "raw NUL in the path");
    expect_refused(RAW("GET /api/health%00.json HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400,
                   "bad-request", "%00 in the path");
    expect_refused(RAW("GET /api/prospects?search=a%00b HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400,
                   "bad-request", "%00 in the query");
    expect_refused(RAW("GET /api/he alth HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400, "bad-request",
                   "a space in the path");
    /* an escaped space is no space in the target: a path like any other */
    hr_raw_t *r404 = RAW("GET /api/he%20alth HTTP/1.1\r\nHost: localhost\r\n\r\n");
    hr_raw_assert_problem(r404, 404, "not-found");
    /* through libcurl too */
    hr_resp_t *r = hr_get(gw, "/api/health%00.json");
    cr_assert_eq(r->status, 400, "/api/health%%00.json: %s", hr_describe(r));
}

Test(http_edge, absolute_form_naming_this_server_is_its_origin_form)
{
    const char *req = hr_fmt("GET http://127.0.0.1:%d/api/health HTTP/1.1\r\nHost: "
                             "127.0.0.1:%d\r\n\r\n",
                             gw->port, gw->port);
    hr_raw_t *r = hr_raw(gw, req, strlen(req));
    cr_assert_eq(r->status, 200, "absolute form: %.400s", r->data);
    cr_assert_str_eq(hr_jstr(hr_raw_json(r), "status"), "ok");
    req = hr_fmt("GET http://localhost:%d/api/prospects?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                 gw->port);
    r = hr_raw(gw, req, strlen(req));
    cr_assert_eq(r->status, 200, "absolute form with a query: %.400s", r->data);
    cr_assert(json_is_array(hr_raw_json(r)), "%.400s", r->data);
    /* another server's name is not ours (and without API keys, not served) */
    req = "GET http://evil.example/api/prospects HTTP/1.1\r\nHost: localhost\r\n\r\n";
    r = hr_raw(gw, req, strlen(req));
    hr_raw_assert_problem(r, 421, "misdirected-request");
}

Test(http_edge, smuggling_content_length_with_transfer_encoding_is_400)
{
    /* the body holds a second request: it must not be answered */
    hr_raw_t *r = RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\n\r\nGET /api/nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    expect_refused(r, 400, "bad-request", "Content-Length with Transfer-Encoding");
}

Test(http_edge, smuggling_transfer_encoding_in_http10_is_400)
{
    hr_raw_t *r = RAW("POST /api/prospects HTTP/1.0\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    expect_refused(r, 400, "bad-request", "Transfer-Encoding in HTTP/1.0");
}

Test(http_edge, smuggling_two_content_lengths_is_400)
{
    hr_raw_t *r = RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nContent-Length: 2\r\nContent-Length: 48\r\n\r\n"
                      "{}GET /api/nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    expect_refused(r, 400, "bad-request", "two different Content-Lengths");
}

Test(http_edge, smuggling_whitespace_before_colon_is_400)
{
    /* "Content-Length :" is not Content-Length to MHD: the body would be read as a request */
    hr_raw_t *r = RAW("POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nContent-Length : 41\r\n\r\n"
                      "GET /api/nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    expect_refused(r, 400, "bad-request", "whitespace before the colon");
    cr_assert_null(strstr(r->data, "404"), "the smuggled request was answered: %.800s", r->data);
}

Test(http_edge, problem_is_valid_json_for_invalid_utf8_in_the_path)
{
    hr_raw_t *r = RAW("GET /api/\xff\xfe%C3%28/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    cr_assert_eq(r->status, 404, "%.400s", r->data);
    hr_raw_assert_problem(r, 404, "not-found");
    const char *inst = hr_jstr(hr_raw_json(r), "instance");
    cr_assert(inst && strstr(inst, "\xef\xbf\xbd"), "instance without U+FFFD: %s",
              inst ? inst : "(none)");
    hr_resp_t *c = hr_get(gw, "/api/prospects/%FF%FE");
    cr_assert(json_is_object(hr_json(c)), "not valid JSON: %s", hr_describe(c));
}

Test(http_edge, libmicrohttpd_answers_as_documented)
{
    /* docs/api.md lists what libmicrohttpd refuses before the gateway sees the request: its own
     * small HTML body, and the connection closed */
    static const char nul_name[] =
        "GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-\0A: b\r\n\r\n";
    struct {
        const char *req;
        size_t len;
        long status;
    } c[] = {
        {nul_name, sizeof nul_name - 1, 400},
        {"GET /api/health HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n", 0, 400},
        {"POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2, 2\r\n\r\n{}", 0,
         400},
        {"POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
         "99999999999999999999999\r\n\r\n",
         0, 413},
        {"POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
         "zz\r\n\r\n",
         0, 400},
        {"GET /api/health HTTP/2.0\r\nHost: localhost\r\n\r\n", 0, 505},
        {"GET /api/health\r\n\r\n", 0, 400},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        size_t n = c[i].len ? c[i].len : strlen(c[i].req);
        hr_raw_t *r = hr_raw(gw, c[i].req, n);
        cr_expect_eq(r->status, c[i].status, "case %zu: %.300s", i, r->data);
        cr_expect(r->closed, "case %zu: the connection stayed open", i);
    }
    /* a request line or header past libmicrohttpd's buffer */
    static char big[40100];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    const char *end = " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    memcpy(big + sizeof big - strlen(end), end, strlen(end));
    hr_raw_t *r = hr_raw(gw, big, sizeof big);
    cr_expect_eq(r->status, 414, "a 40 KB target: %.200s", r->data);
    const char *head = "GET /api/health HTTP/1.1\r\nHost: localhost\r\nX: ";
    memcpy(big, head, strlen(head));
    memset(big + strlen(head), 'a', sizeof big - strlen(head));
    memcpy(big + sizeof big - 4, "\r\n\r\n", 4);
    r = hr_raw(gw, big, sizeof big);
    cr_expect_eq(r->status, 431, "a 40 KB header: %.200s", r->data);
    /* and the gateway still serves */
    cr_assert_eq(hr_get(gw, "/api/health")->status, 200);
}
