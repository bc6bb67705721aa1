/* Health, metrics and the OpenAPI document. */
#include <stdio.h>
#include <string.h>

#include "gw_http.h"
#include "gw_metrics.h"
#include "pa_jobs.h"
#include "pa_time.h"

extern const char pa_openapi_json[];
extern const size_t pa_openapi_json_len;

void gw_h_health(gw_t *gw, gw_req_t *r)
{
    int up = gw_store_redis_up(gw->store), loaded = gw_store_loaded(gw->store);
    int ok = up == 1 && loaded;
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b,
                  "{\"status\":\"%s\",\"redis\":\"%s\",\"store\":\"%s\",\"version\":\"%s\","
                  "\"uptime_s\":%llu,\"prospects\":%zu}",
                  ok ? "ok" : "degraded", up == 1 ? "up" : up == 0 ? "down" : "starting",
                  loaded ? "loaded" : "loading",
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
                  gw_store_redis_up(gw->store) == 1, gw_store_count(gw->store),
                  atomic_load(&gw->inflight),
                  (unsigned long long)((pa_mono_ms() - gw->start_ms) / 1000u));
    /* queue depths, read from Redis in one pipeline */
    static const char *const queues[][3] = {{"LLEN", "ready:mcp", "mcp"},
                                            {"LLEN", "ready:llm", "llm"},
                                            {"LLEN", "ready:form", "form"},
                                            {"ZCARD", "delayed", NULL},
                                            {"EVALSHA", "leased", NULL},
                                            {"LLEN", "dead", NULL}};
    pa_redis_t *rd = gw_redis(gw);
    long long depth[6];
    /* the leased count is the sum of every worker's lease set: a read-only script */
    const char *pfx = gw->cfg.prefix;
    int ok = pa_redis_script_load(rd, &pa_jobs_leased) == 0;
    for (int i = 0; i < 6 && ok; i++) {
        char key[96];
        snprintf(key, sizeof key, "%s%s", gw->cfg.prefix, queues[i][1]);
        const char *av[] = {queues[i][0], key};
        if (strcmp(queues[i][0], "EVALSHA") == 0)
            ok = pa_redis_append_evalsha(rd, &pa_jobs_leased, 0, 1, &pfx, NULL) == 0;
        else
            ok = pa_redis_append(rd, 2, av, NULL) == 0;
    }
    for (int i = 0; i < 6 && ok; i++) {
        redisReply *x = pa_redis_get_reply(rd);
        ok = x && x->type == REDIS_REPLY_INTEGER;
        depth[i] = ok ? x->integer : 0;
        if (x) freeReplyObject(x);
    }
    if (ok) {
        pa_buf_puts(&b, "# HELP pa_queue_ready Tasks waiting for a worker, per service.\n"
                        "# TYPE pa_queue_ready gauge\n");
        for (int i = 0; i < 3; i++)
            pa_buf_printf(&b, "pa_queue_ready{service=\"%s\"} %lld\n", queues[i][2], depth[i]);
        pa_buf_printf(&b,
                      "# HELP pa_tasks_retry_wait Tasks waiting to be retried.\n"
                      "# TYPE pa_tasks_retry_wait gauge\npa_tasks_retry_wait %lld\n"
                      "# HELP pa_tasks_leased Tasks leased to workers.\n"
                      "# TYPE pa_tasks_leased gauge\npa_tasks_leased %lld\n"
                      "# HELP pa_dead_letters Dead-lettered tasks kept.\n"
                      "# TYPE pa_dead_letters gauge\npa_dead_letters %lld\n",
                      depth[3], depth[4], depth[5]);
    }
    if (gw->dispatch) {
        gw_dispatch_stats_t st;
        gw_dispatch_stats(gw->dispatch, &st);
        pa_buf_printf(&b,
                      "# HELP pa_dispatch_tasks_total Tasks this gateway sent to workers.\n"
                      "# TYPE pa_dispatch_tasks_total counter\npa_dispatch_tasks_total %llu\n"
                      "# HELP pa_dispatch_dropped_messages_total Malformed or unexpected worker messages dropped.\n"
                      "# TYPE pa_dispatch_dropped_messages_total counter\npa_dispatch_dropped_messages_total %llu\n"
                      "# HELP pa_workers_lost_total Workers declared dead after missed heartbeats.\n"
                      "# TYPE pa_workers_lost_total counter\npa_workers_lost_total %llu\n"
                      "# HELP pa_workers_connected Workers connected to this gateway.\n"
                      "# TYPE pa_workers_connected gauge\npa_workers_connected %d\n",
                      st.dispatched, st.dropped_messages, st.workers_lost, st.workers);
    }
    if (gw->events)
        pa_buf_printf(&b, "# HELP pa_event_streams Open job event streams.\n"
                          "# TYPE pa_event_streams gauge\npa_event_streams %zu\n",
                      gw_events_streams(gw->events));
    if (gw->streams)
        pa_buf_printf(&b, "# HELP pa_llm_streams Open streamed answers of POST /api/llm/generate.\n"
                          "# TYPE pa_llm_streams gauge\npa_llm_streams %zu\n",
                      gw_streams_open(gw->streams));
    size_t len;
    char *s = pa_buf_detach(&b, &len);
    gw_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

void gw_h_openapi(gw_t *gw, gw_req_t *r)
{
    char *s = pa_strndup(pa_openapi_json, pa_openapi_json_len);
    gw_reply(r, 200, "application/json", s, pa_openapi_json_len);
}
