/* X-Request-Id (echoed when valid, made otherwise), one JSON access-log line per request, and the
 * Prometheus metrics at GET /metrics (request counter by route and status, duration histogram). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(observability, .init = setup, .fini = hr_cleanup, .timeout = 40);

static hr_resp_t *get_with_id(const char *path, const char *rid)
{
    return hr_req(gw, "GET", path, (const char *[]){hr_fmt("X-Request-Id: %s", rid), NULL}, NULL);
}

static int valid_request_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) return 0;
    return 1;
}

/* ---- X-Request-Id ------------------------------------------------------------------------- */

Test(observability, request_id_is_echoed_when_valid)
{
    const char *ids[] = {"abc-123_X.y", "1", hr_fmt("%0128d", 7), "01J0000000000000000000000Z"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        hr_resp_t *r = get_with_id("/api/health", ids[i]);
        cr_assert_eq(r->status, 200);
        const char *got = hr_header(r, "X-Request-Id");
        cr_assert(got && strcmp(got, ids[i]) == 0, "sent %s, got %s", ids[i], got ? got : "(none)");
    }
    /* on errors too */
    hr_resp_t *r = get_with_id("/api/prospects/p-missing", "err-404-id");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(hr_header(r, "X-Request-Id") ? hr_header(r, "X-Request-Id") : "-",
                     "err-404-id");
}

Test(observability, request_id_is_made_when_absent_or_invalid)
{
    hr_resp_t *a = hr_get(gw, "/api/health"), *b = hr_get(gw, "/api/health");
    const char *ia = hr_header(a, "X-Request-Id"), *ib = hr_header(b, "X-Request-Id");
    cr_assert(valid_request_id(ia), "made id %s is not 1-128 of A-Za-z0-9._-", ia ? ia : "(none)");
    cr_assert(valid_request_id(ib));
    cr_assert_neq(strcmp(ia, ib), 0, "two requests got the same id %s", ia);
    const char *bad[] = {"has space", hr_fmt("%0129d", 7), "semi;colon", "sl/ash",
                         "ümlaut",    "quote\"d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hr_resp_t *r = get_with_id("/api/health", bad[i]);
        cr_assert_eq(r->status, 200, "%s", hr_describe(r));
        const char *got = hr_header(r, "X-Request-Id");
        cr_assert(valid_request_id(got), "sent \"%s\", got invalid \"%s\"", bad[i],
                  got ? got : "(none)");
        cr_assert_neq(strcmp(got, bad[i]), 0, "invalid id \"%s\" was echoed", bad[i]);
    }
}

/* ---- access log --------------------------------------------------------------------------- */

static const char *LATENCY_KEYS[] = {"latency_ms", "latency",     "latency_s",
                                     "latency_us", "duration_ms", "duration",
                                     "elapsed_ms", "ms",          NULL};

/* The access-log lines (objects with method, path and status) for a request id. */
static json_t *access_lines(const char *rid)
{
    json_t *out = hr_jkeep(json_array());
    json_t *lines = hr_gateway_log_lines(gw);
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        const char *id = hr_jstr(l, "request_id");
        if (id && strcmp(id, rid) == 0 && json_object_get(l, "status") &&
            json_object_get(l, "method"))
            json_array_append(out, l);
    }
    return out;
}

/* Waits up to 2 s for the access line of rid and checks it. */
static void expect_access_line(const char *rid, const char *method, const char *path, long status)
{
    json_t *found = NULL;
    uint64_t t0 = hr_now_ms();
    do {
        found = access_lines(rid);
        if (json_array_size(found) > 0) break;
        hr_sleep_ms(20);
    } while (hr_now_ms() - t0 < 2000);
    cr_assert_eq(json_array_size(found), 1, "request %s: %zu access-log lines; output:\n%s", rid,
                 json_array_size(found), hr_gateway_output(gw));
    json_t *l = json_array_get(found, 0);
    const char *d = hr_jdump(l);
    cr_assert(hr_jstr(l, "ts") && hr_jstr(l, "level") && hr_jstr(l, "service") && hr_jstr(l, "msg"),
              "access line lacks ts/level/service/msg: %s", d);
    cr_assert_str_eq(hr_jstr(l, "method") ? hr_jstr(l, "method") : "-", method, "%s", d);
    const char *p = hr_jstr(l, "path");
    cr_assert(p && strncmp(p, path, strlen(path)) == 0, "path should be %s: %s", path, d);
    json_t *st = json_object_get(l, "status");
    cr_assert(json_is_integer(st) && json_integer_value(st) == status, "status should be %ld: %s",
              status, d);
    const char *lat = NULL;
    for (int i = 0; LATENCY_KEYS[i] && !lat; i++)
        if (json_is_number(json_object_get(l, LATENCY_KEYS[i]))) lat = LATENCY_KEYS[i];
    cr_assert_not_null(lat, "no numeric latency field in %s", d);
    double v = json_number_value(json_object_get(l, lat));
    cr_assert(v >= 0 && v < 60000, "latency %s = %g", lat, v);
}

Test(observability, one_access_line_per_request)
{
    cr_assert_eq(get_with_id("/api/health", "obs-health")->status, 200);
    hr_resp_t *r =
        hr_req(gw, "POST", "/api/prospects", (const char *[]){"X-Request-Id: obs-create", NULL},
               "{\"id\":\"p-1\",\"name\":\"A\",\"company\":\"B\"}");
    cr_assert_eq(r->status, 201);
    cr_assert_eq(get_with_id("/api/prospects/p-1", "obs-get")->status, 200);
    cr_assert_eq(get_with_id("/api/prospects/p-missing", "obs-missing")->status, 404);
    cr_assert_eq(get_with_id("/api/nope", "obs-noroute")->status, 404);
    r = hr_req(gw, "POST", "/api/prospects", (const char *[]){"X-Request-Id: obs-badjson", NULL},
               "{oops");
    cr_assert_eq(r->status, 400);
    r = hr_req(gw, "DELETE", "/api/prospects/p-1",
               (const char *[]){"X-Request-Id: obs-delete", NULL}, NULL);
    cr_assert_eq(r->status, 204);
    cr_assert_eq(get_with_id("/api/prospects?search=zz", "obs-list")->status, 200);

    expect_access_line("obs-health", "GET", "/api/health", 200);
    expect_access_line("obs-create", "POST", "/api/prospects", 201);
    expect_access_line("obs-get", "GET", "/api/prospects/p-1", 200);
    expect_access_line("obs-missing", "GET", "/api/prospects/p-missing", 404);
    expect_access_line("obs-noroute", "GET", "/api/nope", 404);
    expect_access_line("obs-badjson", "POST", "/api/prospects", 400);
    expect_access_line("obs-delete", "DELETE", "/api/prospects/p-1", 204);
    expect_access_line("obs-list", "GET", "/api/prospects", 200);
}

Test(observability, generated_request_id_is_the_logged_one)
{
    hr_resp_t *r = hr_get(gw, "/api/prospects");
    const char *rid = hr_header(r, "X-Request-Id");
    cr_assert_not_null(rid);
    expect_access_line(rid, "GET", "/api/prospects", 200);
}

Test(observability, every_output_line_is_json)
{
    for (int i = 0; i < 5; i++) hr_get(gw, "/api/health");
    hr_post(gw, "/api/prospects", "{\"name\":\"A\",\"company\":\"B\"}");
    hr_get(gw, "/api/nope");
    hr_sleep_ms(200);
    const char *out = hr_gateway_output(gw);
    const char *p = out;
    int n = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *j = json_loadb(p, len, 0, NULL);
        int ok = json_is_object(j);
        json_decref(j);
        cr_assert(ok, "output line %d is not a JSON object: %.*s", n + 1, (int)len, p);
        n++;
        p += len;
        if (*p) p++;
    }
    cr_assert_geq(n, 7, "only %d lines for 7 requests", n);
}

Test(observability, api_keys_never_reach_the_log)
{
    hr_cleanup();
    const char *key = "secret-key-DO-NOT-LOG-123456";
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){hr_fmt("API_KEYS=%s", key), NULL});
    const char *auth = hr_fmt("Authorization: Bearer %s", key);
    cr_assert_eq(hr_req(gw, "GET", "/api/prospects", (const char *[]){auth, NULL}, NULL)->status,
                 200);
    hr_req(gw, "GET", "/api/prospects",
           (const char *[]){"Authorization: Bearer wrong-secret-ALSO-NOT-LOGGED", NULL}, NULL);
    hr_sleep_ms(200);
    const char *out = hr_gateway_output(gw);
    cr_assert_null(strstr(out, key), "the API key is in the log:\n%s", out);
    cr_assert_null(strstr(out, "wrong-secret-ALSO-NOT-LOGGED"), "a presented key is in the log");
}

/* ---- metrics ------------------------------------------------------------------------------ */

/* The value of label k in a "{a="x",b="y"}" label set (harness-owned), or NULL. */
static const char *label(const char *labels, const char *k)
{
    size_t kl = strlen(k);
    const char *p = labels;
    while (p && *p) {
        while (*p == '{' || *p == ',' || *p == ' ') p++;
        if (!*p || *p == '}') break;
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"') return NULL;
        const char *v = eq + 2, *e = v;
        while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
        if ((size_t)(eq - p) == kl && strncmp(p, k, kl) == 0)
            return hr_fmt("%.*s", (int)(e - v), v);
        p = *e ? e + 1 : e;
    }
    return NULL;
}

typedef int (*series_pred_t)(const char *labels, void *ctx);

/* Sums the samples of metric `name` whose labels satisfy pred; counts them in *n. */
static double metric_sum(const char *text, const char *name, series_pred_t pred, void *ctx, int *n)
{
    double sum = 0;
    int count = 0;
    size_t nl = strlen(name);
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (*p != '#' && len > nl && strncmp(p, name, nl) == 0 && (p[nl] == '{' || p[nl] == ' ')) {
            const char *line = hr_fmt("%.*s", (int)len, p);
            const char *labels = line + nl;
            const char *sp = strrchr(line, ' ');
            if (sp && (!pred || pred(*labels == '{' ? labels : "", ctx))) {
                sum += strtod(sp + 1, NULL);
                count++;
            }
        }
        p += len;
        if (*p) p++;
    }
    if (n) *n = count;
    return sum;
}

typedef struct {
    const char *route_has;
    const char *status;
} route_status_t;

static int match_route_status(const char *labels, void *ctx)
{
    route_status_t *c = ctx;
    const char *route = label(labels, "route"), *status = label(labels, "status");
    return route && status && strstr(route, c->route_has) && strcmp(status, c->status) == 0;
}

static const char *metrics(void)
{
    hr_resp_t *r = hr_get(gw, "/metrics");
    cr_assert_eq(r->status, 200, "GET /metrics: %s", hr_describe(r));
    const char *ct = hr_header(r, "Content-Type");
    cr_assert(ct && strncmp(ct, "text/plain", 10) == 0, "Content-Type %s", ct ? ct : "-");
    return hr_fmt("%s", r->body);
}

Test(observability, request_counter_by_route_and_status)
{
    hr_get(gw, "/api/health");
    const char *m0 = metrics();
    cr_assert_not_null(strstr(m0, "# TYPE pa_http_requests_total counter"),
                       "no TYPE line for pa_http_requests_total:\n%.3000s", m0);
    route_status_t health200 = {"health", "200"};
    int n = 0;
    double before = metric_sum(m0, "pa_http_requests_total", match_route_status, &health200, &n);
    cr_assert_gt(
        n, 0, "no pa_http_requests_total series with a health route and status=\"200\":\n%.3000s",
        m0);
    for (int i = 0; i < 5; i++) hr_get(gw, "/api/health");
    const char *m1 = metrics();
    double after = metric_sum(m1, "pa_http_requests_total", match_route_status, &health200, NULL);
    cr_assert_float_eq(after - before, 5.0, 1e-9, "5 health requests counted as %g",
                       after - before);

    /* statuses other than 200 are told apart */
    for (int i = 0; i < 3; i++) hr_get(gw, "/api/prospects/p-missing");
    hr_must_create(gw, "/api/prospects", "{\"name\":\"A\",\"company\":\"B\"}");
    const char *m2 = metrics();
    route_status_t p404 = {"prospects", "404"}, p201 = {"prospects", "201"};
    cr_assert_float_eq(
        metric_sum(m2, "pa_http_requests_total", match_route_status, &p404, NULL) -
            metric_sum(m1, "pa_http_requests_total", match_route_status, &p404, NULL),
        3.0, 1e-9, "3 prospect 404s not counted:\n%.3000s", m2);
    cr_assert_float_eq(
        metric_sum(m2, "pa_http_requests_total", match_route_status, &p201, NULL) -
            metric_sum(m1, "pa_http_requests_total", match_route_status, &p201, NULL),
        1.0, 1e-9, "the 201 was not counted:\n%.3000s", m2);
}

Test(observability, route_label_is_the_template_not_the_raw_path)
{
    /* one series per route, not per id: ids must not become label values */
    hr_must_create(gw, "/api/prospects",
                   "{\"id\":\"p-raw-id-xyz\",\"name\":\"A\",\"company\":\"B\"}");
    hr_get(gw, "/api/prospects/p-raw-id-xyz");
    hr_get(gw, "/api/prospects/p-other-raw-id-abc");
    hr_get(gw, "/api/some/unknown/path-qwerty");
    const char *m = metrics();
    cr_assert_null(strstr(m, "p-raw-id-xyz"), "a prospect id is a label value:\n%.3000s", m);
    cr_assert_null(strstr(m, "p-other-raw-id-abc"), "a prospect id is a label value");
    cr_assert_null(strstr(m, "path-qwerty"), "an unknown path is a label value");
}

typedef struct {
    const char *labels_wo_le;
    double le;
    double v;
} bucket_t;

/* The label set without le (harness-owned): "{a="x",le="1"}" -> "{a="x"}", "{le="1"}" -> "". */
static const char *without_le(const char *labels)
{
    const char *p = strstr(labels, "le=\"");
    if (!p) return labels;
    const char *e = strchr(p + 4, '"');
    const char *start = p, *end = e ? e + 1 : p + strlen(p);
    if (*end == ',') end++;
    else if (start > labels + 1 && start[-1] == ',') start--;
    const char *s = hr_fmt("%.*s%s", (int)(start - labels), labels, end);
    return strcmp(s, "{}") == 0 ? "" : s;
}

Test(observability, duration_histogram)
{
    for (int i = 0; i < 4; i++) hr_get(gw, "/api/health");
    hr_get(gw, "/api/prospects");
    const char *m = metrics();
    cr_assert_not_null(strstr(m, "# TYPE pa_http_request_duration_seconds histogram"),
                       "no histogram TYPE line:\n%.3000s", m);
    /* collect buckets */
    bucket_t b[512];
    size_t nb = 0;
    const char *p = m;
    const char *name = "pa_http_request_duration_seconds_bucket{";
    while ((p = strstr(p, name)) != NULL) {
        const char *eol = strchr(p, '\n');
        const char *line = hr_fmt("%.*s", (int)(eol ? eol - p : (long)strlen(p)), p);
        const char *labels = line + strlen(name) - 1;
        const char *sp = strrchr(line, ' ');
        const char *le = label(labels, "le");
        cr_assert(le && sp, "bucket without le: %s", line);
        cr_assert_lt(nb, 512);
        b[nb].labels_wo_le = without_le(hr_fmt("%.*s", (int)(sp - labels), labels));
        b[nb].le = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL);
        b[nb].v = strtod(sp + 1, NULL);
        nb++;
        p += strlen(name);
    }
    cr_assert_gt(nb, 0, "no buckets:\n%.3000s", m);
    int series = 0, health_seen = 0;
    for (size_t i = 0; i < nb; i++) {
        if (i > 0 && strcmp(b[i].labels_wo_le, b[i - 1].labels_wo_le) == 0) continue;
        /* a new label set: its buckets must be cumulative and end in +Inf == _count */
        series++;
        double prev_le = -INFINITY, prev_v = 0;
        int has_inf = 0;
        double inf_v = 0;
        for (size_t k = i; k < nb && strcmp(b[k].labels_wo_le, b[i].labels_wo_le) == 0; k++) {
            cr_assert_gt(b[k].le, prev_le, "le not increasing in %s", b[i].labels_wo_le);
            cr_assert_geq(b[k].v, prev_v, "buckets not cumulative in %s", b[i].labels_wo_le);
            prev_le = b[k].le;
            prev_v = b[k].v;
            if (isinf(b[k].le)) has_inf = 1, inf_v = b[k].v;
        }
        cr_assert(has_inf, "no le=\"+Inf\" bucket in %s", b[i].labels_wo_le);
        const char *ls = b[i].labels_wo_le;
        const char *count_line = hr_fmt("pa_http_request_duration_seconds_count%s ", ls);
        const char *cl = strstr(m, count_line);
        cr_assert_not_null(cl, "no _count for %s", ls);
        double count = strtod(cl + strlen(count_line), NULL);
        cr_assert_float_eq(count, inf_v, 1e-9, "+Inf bucket %g != _count %g for %s", inf_v, count,
                           ls);
        cr_assert_not_null(strstr(m, hr_fmt("pa_http_request_duration_seconds_sum%s ", ls)),
                           "no _sum for %s", ls);
        const char *route = label(ls, "route");
        if (route && strstr(route, "health") && count >= 4) health_seen = 1;
    }
    cr_assert_gt(series, 0);
    cr_assert(health_seen, "no duration series for the health route with >= 4 requests:\n%.3000s",
              m);
}
