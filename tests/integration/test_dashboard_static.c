/* The gateway serving the dashboard's built files (DASHBOARD_DIR, gateway/gw_static.c) against a
 * real gateway and Redis: index.html at / and for every page path (the dashboard routes in the
 * browser), assets gzipped when asked, ETags and 304s, long caching only for hashed assets, a
 * strict Content-Security-Policy on the page, a 404 problem for a missing asset, the API
 * untouched (keys still required there, not for the page), the "not built" page without
 * DASHBOARD_DIR, and a refusal to start on a directory without index.html. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>

#include "harness.h"

#define KEY "dashboard-test-key-0123456789"

static char dist[256];
static char big_js[20000];

static void put(const char *rel, const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dist, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(body, f);
    fclose(f);
}

static void make_dist(void)
{
    snprintf(dist, sizeof dist, "/tmp/pa-dash-XXXXXX");
    cr_assert_not_null(mkdtemp(dist));
    char assets[300];
    snprintf(assets, sizeof assets, "%s/assets", dist);
    cr_assert_eq(mkdir(assets, 0755), 0);
    put("index.html",
        "<!doctype html><html><head><title>Prospect AI</title><script type=\"module\" "
        "src=\"/assets/index-4f2a.js\"></script></head><body><div "
        "id=\"root\"></div></body></html>\n");
    size_t n = 0;
    while (n + 40 < sizeof big_js) n += (size_t)sprintf(big_js + n, "console.log('row %zu');\n", n);
    put("assets/index-4f2a.js", big_js);
    put("favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    put(".secret", "not served");
}

static void cleanup(void)
{
    hr_cleanup();
    if (dist[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dist);
        cr_expect_eq(system(cmd), 0);
    }
}

TestSuite(dashboard_static, .fini = cleanup, .timeout = 40);

static hr_gateway_t *start(hr_redis_t *rd)
{
    make_dist();
    const char *dd = hr_fmt("DASHBOARD_DIR=%s", dist);
    return hr_gateway_start(rd, (const char *[]){dd, "API_KEYS=" KEY, NULL});
}

Test(dashboard_static, the_page_its_paths_and_its_assets)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = start(rd);
    const char *pages[] = {"/", "/prospects", "/jobs/j-01abc", "/handoffs", "/index.html"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        hr_resp_t *r = hr_get(gw, pages[i]); /* no key: the page itself holds no data */
        cr_assert_eq(r->status, 200, "%s: %s", pages[i], hr_describe(r));
        cr_expect_not_null(strstr(r->body, "<div id=\"root\">"), "%s: %s", pages[i], r->body);
        cr_expect_str_eq(hr_header(r, "Content-Type"), "text/html; charset=utf-8");
        cr_expect_str_eq(hr_header(r, "Cache-Control"), "no-cache");
        const char *csp = hr_header(r, "Content-Security-Policy");
        cr_assert_not_null(csp, "%s: no CSP", pages[i]);
        cr_expect_not_null(strstr(csp, "script-src 'self'"), "%s", csp);
        cr_expect_not_null(strstr(csp, "frame-ancestors 'none'"), "%s", csp);
        cr_expect_null(strstr(csp, "unsafe-eval"), "%s", csp);
    }
    /* the asset, plain and gzipped, cached for good (its name is its content's hash) */
    hr_resp_t *a = hr_get(gw, "/assets/index-4f2a.js");
    cr_assert_eq(a->status, 200, "%s", hr_describe(a));
    cr_expect_eq(a->len, strlen(big_js));
    cr_expect_eq(memcmp(a->body, big_js, a->len), 0);
    cr_expect_str_eq(hr_header(a, "Content-Type"), "text/javascript; charset=utf-8");
    cr_expect_str_eq(hr_header(a, "Cache-Control"), "public, max-age=31536000, immutable");
    cr_expect_null(hr_header(a, "Content-Encoding"));
    hr_resp_t *g = hr_req(gw, "GET", "/assets/index-4f2a.js",
                          (const char *[]){"Accept-Encoding: gzip", NULL}, NULL);
    cr_assert_eq(g->status, 200);
    cr_expect_str_eq(hr_header(g, "Content-Encoding"), "gzip");
    cr_expect_lt(g->len, strlen(big_js) / 4, "gzip made %zu of %zu bytes", g->len, strlen(big_js));
    /* the gzip stream inflates to the file */
    char *out = malloc(sizeof big_js);
    z_stream z = {0};
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)g->body, z.avail_in = (uInt)g->len;
    z.next_out = (Bytef *)out, z.avail_out = sizeof big_js;
    cr_expect_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    cr_expect_eq(z.total_out, strlen(big_js));
    cr_expect_eq(memcmp(out, big_js, strlen(big_js)), 0);
    inflateEnd(&z);
    free(out);
    /* ETag: a second look costs a 304 and no body */
    const char *etag = hr_header(a, "ETag");
    cr_assert_not_null(etag);
    hr_resp_t *nm = hr_req(gw, "GET", "/assets/index-4f2a.js",
                           (const char *[]){hr_fmt("If-None-Match: %s", etag), NULL}, NULL);
    cr_expect_eq(nm->status, 304, "%s", hr_describe(nm));
    cr_expect_eq(nm->len, 0);
    /* each representation its own ETag; a weak or listed tag, and *, match too */
    const char *gz_etag = hr_header(g, "ETag");
    cr_assert_not_null(gz_etag);
    cr_expect_str_neq(gz_etag, etag);
    const char *inms[] = {hr_fmt("If-None-Match: W/%s", gz_etag),
                          hr_fmt("If-None-Match: \"x\", %s", gz_etag), "If-None-Match: *"};
    for (size_t i = 0; i < 3; i++) {
        hr_resp_t *c = hr_req(gw, "GET", "/assets/index-4f2a.js",
                              (const char *[]){"Accept-Encoding: gzip", inms[i], NULL}, NULL);
        cr_expect_eq(c->status, 304, "%s: %s", inms[i], hr_describe(c));
    }
    /* Accept-Encoding weights: q=0 refuses gzip (in any case), another element's q does not */
    const char *aes[] = {"Accept-Encoding: gzip;q=0", "Accept-Encoding: gzip; Q=0, identity",
                         "Accept-Encoding: br",       "Accept-Encoding: gzip;x=1, br;q=0",
                         "Accept-Encoding: *",        "Accept-Encoding: deflate, GZIP;q=0.5"};
    const int gzipped[] = {0, 0, 0, 1, 1, 1};
    for (size_t i = 0; i < sizeof aes / sizeof aes[0]; i++) {
        hr_resp_t *e =
            hr_req(gw, "GET", "/assets/index-4f2a.js", (const char *[]){aes[i], NULL}, NULL);
        cr_expect_eq(hr_header(e, "Content-Encoding") != NULL, gzipped[i], "%s", aes[i]);
        cr_expect_eq(e->len, gzipped[i] ? g->len : strlen(big_js), "%s", aes[i]);
    }
    /* a page path with a dot in its last segment is still a page */
    hr_resp_t *dp = hr_get(gw, "/jobs/j.1");
    cr_expect_eq(dp->status, 200, "%s", hr_describe(dp));
    cr_expect_not_null(strstr(dp->body, "<div id=\"root\">"));
    /* HEAD: the headers only */
    hr_resp_t *h = hr_req(gw, "HEAD", "/favicon.svg", NULL, NULL);
    cr_expect_eq(h->status, 200);
    cr_expect_eq(h->len, 0);
    cr_expect_str_eq(hr_header(h, "Content-Type"), "image/svg+xml");
    /* a missing asset, a hidden file, a file name that does not exist: 404 problems */
    hr_assert_problem(hr_get(gw, "/assets/index-old.js"), 404, "not-found", NULL);
    hr_assert_problem(hr_get(gw, "/.secret"), 404, "not-found", NULL);
    hr_assert_problem(hr_get(gw, "/robots.txt"), 404, "not-found", NULL);
    /* the API is as before: a key is required, an unknown /api path is a 404 */
    hr_assert_problem(hr_get(gw, "/api/prospects"), 401, "unauthorized", NULL);
    hr_resp_t *k = hr_req(gw, "GET", "/api/prospects",
                          (const char *[]){"Authorization: Bearer " KEY, NULL}, NULL);
    cr_expect_eq(k->status, 200, "%s", hr_describe(k));
    hr_assert_problem(
        hr_req(gw, "GET", "/api/nope", (const char *[]){"Authorization: Bearer " KEY, NULL}, NULL),
        404, "not-found", NULL);
    /* a write to a page path is not a page */
    hr_resp_t *p = hr_post(gw, "/prospects", "{}");
    cr_expect_eq(p->status, 404, "%s", hr_describe(p));
}

Test(dashboard_static, without_dashboard_dir_the_page_says_how_to_build_it)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, NULL);
    hr_resp_t *r = hr_get(gw, "/");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_expect_not_null(strstr(r->body, "npm run build"), "%s", r->body);
    cr_expect_not_null(strstr(r->body, "DASHBOARD_DIR"), "%s", r->body);
    cr_expect_eq(hr_get(gw, "/api/health")->status, 200);
}

Test(dashboard_static, a_directory_without_index_html_is_refused_at_start)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    snprintf(dist, sizeof dist, "/tmp/pa-dash-XXXXXX");
    cr_assert_not_null(mkdtemp(dist));
    hr_gateway_t *g =
        hr_gateway_spawn(rd, (const char *[]){hr_fmt("DASHBOARD_DIR=%s", dist), NULL});
    cr_assert(hr_gateway_wait_exit(g, 10000), "the gateway started without index.html");
    cr_expect(WIFEXITED(g->status) && WEXITSTATUS(g->status) == 2, "status %d", g->status);
    cr_expect_gt(hr_gateway_count_lines(g, "DASHBOARD_DIR", "index.html"), 0, "%s",
                 hr_gateway_output(g));
}
