/* Health, metrics and the OpenAPI document. */
#include <stdio.h>
#include <string.h>

#include "gw_http.h"
#include "gw_metrics.h"
#include "pa_time.h"

extern const char pa_openapi_json[];
extern const size_t pa_openapi_json_len;

void gw_h_health(gw_t *gw, gw_req_t *r)
{
    int up = gw_store_redis_up(gw->store), loaded = gw_store_loaded(gw->store);
    int ok = up && loaded;
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b,
                  "{\"status\":\"%s\",\"redis\":\"%s\",\"store\":\"%s\",\"version\":\"%s\","
                  "\"uptime_s\":%llu,\"prospects\":%zu}",
                  ok ? "ok" : "degraded", up ? "up" : "down", loaded ? "loaded" : "loading",
                  PA_VERSION, (unsigned long long)((pa_mono_ms() - gw->start_ms) / 1000u),
                  gw_store_count(gw->store));
    gw_reply_buf(r, ok ? 200 : 503, &b);
    gw_header(r, "Cache-Control", "no-store");
    if (!ok) gw_header(r, "Retry-After", "1");
}

void gw_h_metrics(gw_t *gw, gw_req_t *r)
{
    size_t n;
    const gw_route_t *rt = gw_routes(&n);
    const char *names[64], *methods[64];
    for (size_t i = 0; i < n && i < 64; i++) names[i] = rt[i].path, methods[i] = rt[i].method;
    pa_buf_t b = PA_BUF_INIT;
    gw_metrics_render(&b, names, methods, n);
    pa_buf_printf(&b,
                  "# HELP pa_redis_up Whether the gateway reaches Redis.\n"
                  "# TYPE pa_redis_up gauge\npa_redis_up %d\n"
                  "# HELP pa_prospects Prospects in this gateway's index.\n"
                  "# TYPE pa_prospects gauge\npa_prospects %zu\n"
                  "# HELP pa_http_requests_in_flight Requests being served.\n"
                  "# TYPE pa_http_requests_in_flight gauge\npa_http_requests_in_flight %d\n"
                  "# HELP pa_uptime_seconds Seconds since the gateway started.\n"
                  "# TYPE pa_uptime_seconds gauge\npa_uptime_seconds %llu\n",
                  gw_store_redis_up(gw->store), gw_store_count(gw->store),
                  atomic_load(&gw->inflight),
                  (unsigned long long)((pa_mono_ms() - gw->start_ms) / 1000u));
    size_t len;
    char *s = pa_buf_detach(&b, &len);
    gw_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

void gw_h_openapi(gw_t *gw, gw_req_t *r)
{
    char *s = pa_strndup(pa_openapi_json, pa_openapi_json_len);
    gw_reply(r, 200, "application/json", s, pa_openapi_json_len);
}
