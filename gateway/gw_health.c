/* Health, metrics and the OpenAPI document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_health.h"
#include "gw_http.h"

#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_llm_stream.h"
#include "gw_metrics.h"
#include "gw_store.h"
#include "gw_workers.h"
#include "pa_jobs.h"
#include "pa_time.h"

extern const char pa_openapi_json[];
extern const size_t pa_openapi_json_len;

/* The live llm and mcp workers with their status records, read once per health answer on the
 * status connection (see gw.h); NULL when Redis did not answer. */
static json_t *live_workers(gw_t *gw)
{
    pthread_mutex_lock(&gw->status_lock);
    json_t *live = gw_workers_live(gw, gw->status_redis, 1, "llm,mcp");
    pthread_mutex_unlock(&gw->status_lock);
    return live;
}

/* The circuit breakers of the MCP servers of the live mcp workers in live (their status records'
 * mcp_servers): [{worker, server, state, failures, retry_in_ms}], and in *open how many are not
 * closed; NULL when no mcp worker has a server. */
static json_t *mcp_breakers(const json_t *live, size_t *open)
{
    json_t *list = NULL;
    long long now = (long long)pa_wall_ms();
    size_t i, k;
    json_t *w, *e;
    *open = 0;
    json_array_foreach(live, i, w) {
        const char *svc = json_string_value(json_object_get(w, "service"));
        const char *v =
            json_string_value(json_object_get(json_object_get(w, "status"), "mcp_servers"));
        json_t *servers = svc && strcmp(svc, "mcp") == 0 && v ? json_loads(v, 0, NULL) : NULL;
        json_array_foreach(servers, k, e) {
            const char *st = json_string_value(json_object_get(e, "breaker_state"));
            if (!st) continue;
            long long until = json_integer_value(json_object_get(e, "open_until_ms"));
            if (!list) list = json_array();
            json_array_append_new(
                list, json_pack("{s:s?, s:s?, s:s, s:I, s:I}", "worker",
                                json_string_value(json_object_get(w, "id")), "server",
                                json_string_value(json_object_get(e, "name")), "state", st,
                                "failures", json_integer_value(json_object_get(e, "failures")),
                                "retry_in_ms", (json_int_t)(until > now ? until - now : 0)));
            if (strcmp(st, "closed") != 0) (*open)++;
        }
        json_decref(servers);
    }
    return list;
}

void gw_h_health(gw_t *gw, gw_req_t *r)
{
    int up = gw_store_redis_up(gw->store), loaded = gw_store_loaded(gw->store);
    pa_buf_t dur = PA_BUF_INIT; /* REDIS_DURABILITY: with strict, not durable is not ok */
    int ok = gw_store_durability_json(gw->store, gw->cfg.wait_replicas, &dur) && up == 1 && loaded;
    /* llm workers whose breaker is open cannot reach their provider: the suite is degraded
     * when every one of them is; the answer stays 200, as this gateway serves everything (its
     * own health is what load balancers and restart policies act on) */
    size_t open = 0;
    json_t *live = up == 1 ? live_workers(gw) : NULL;
    json_t *breakers = live ? gw_workers_breakers(live, &open) : NULL;
    int llm_down = breakers && json_array_size(breakers) && open == json_array_size(breakers);
    pa_buf_t b = PA_BUF_INIT;
    if (gw->cfg.nkeys && gw_key_index(r) < 0) {
        /* without a valid key (load balancers, probes): the summary, nothing about the
         * workers, their providers or models, the data or the version */
        pa_buf_printf(&b, "{\"status\":\"%s\",\"redis\":\"%s\",\"store\":\"%s\"}",
                      ok && !llm_down ? "ok" : "degraded",
                      up == 1   ? "up"
                      : up == 0 ? "down"
                                : "starting",
                      loaded ? "loaded" : "loading");
        pa_buf_free(&dur); /* the status says degraded: the reason is for the keyed view */
        json_decref(breakers);
        json_decref(live);
        gw_reply_buf(r, ok ? 200 : 503, &b);
        gw_header(r, "Cache-Control", "no-store");
        if (!ok) gw_header(r, "Retry-After", "1");
        return;
    }
    pa_buf_printf(&b,
                  "{\"status\":\"%s\",\"redis\":\"%s\",\"store\":\"%s\",\"version\":\"%s\","
                  "\"uptime_s\":%llu,\"prospects\":%zu",
                  ok && !llm_down ? "ok" : "degraded",
                  up == 1   ? "up"
                  : up == 0 ? "down"
                            : "starting",
                  loaded ? "loaded" : "loading", PA_VERSION,
                  (unsigned long long)((pa_mono_ms() - gw->start_ms) / 1000u),
                  gw_store_count(gw->store));
    pa_buf_put(&b, dur.data, dur.len);
    pa_buf_free(&dur);
    if (breakers) {
        char *list = json_dumps(breakers, JSON_COMPACT | JSON_PRESERVE_ORDER);
        pa_buf_printf(&b, ",\"llm\":{\"breakers_open\":%zu,\"breakers\":%s}", open,
                      list ? list : "[]");
        free(list);
        json_decref(breakers);
    }
    /* the MCP servers' breakers: enrichment is best effort, so they never make it degraded */
    size_t mopen = 0;
    json_t *mb = live ? mcp_breakers(live, &mopen) : NULL;
    json_decref(live);
    if (mb) {
        char *list = json_dumps(mb, JSON_COMPACT | JSON_PRESERVE_ORDER);
        pa_buf_printf(&b, ",\"mcp\":{\"breakers_open\":%zu,\"breakers\":%s}", mopen,
                      list ? list : "[]");
        free(list);
        json_decref(mb);
    }
    pa_buf_putc(&b, '}');
    gw_reply_buf(r, ok ? 200 : 503, &b);
    gw_header(r, "Cache-Control", "no-store");
    if (!ok) gw_header(r, "Retry-After", "1");
}

/* A Prometheus label value, escaped. */
static void label(pa_buf_t *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"') pa_buf_putc(b, '\\');
        if (*p == '\n') pa_buf_puts(b, "\\n");
        else pa_buf_putc(b, *p);
    }
}

/* The llm workers' response cache hits and misses (pa:llm:cache:hits, :misses). */
static void cache_metrics(const redisReply *c, pa_buf_t *b)
{
    if (!c || c->type != REDIS_REPLY_ARRAY || c->elements != 2) return;
    static const char *const what[2] = {"hits", "misses"};
    for (int i = 0; i < 2; i++)
        pa_buf_printf(
            b,
            "# HELP pa_llm_cache_%s_total llm calls %s by the response cache (every "
            "llm worker).\n# TYPE pa_llm_cache_%s_total counter\npa_llm_cache_%s_total %lld\n",
            what[i], i ? "not answered" : "answered", what[i], what[i],
            c->element[i]->type == REDIS_REPLY_STRING ? atoll(c->element[i]->str) : 0);
}

/* The llm workers' circuit breakers and response cache. */
static void llm_metrics(gw_t *gw, const json_t *live, pa_buf_t *b)
{
    size_t open = 0;
    if (!live) return; /* Redis is away */
    json_t *breakers = gw_workers_breakers(live, &open);
    pthread_mutex_lock(&gw->status_lock);
    char hits[PA_KEY_MAX], misses[PA_KEY_MAX];
    redisReply *c = breakers ? pa_redis_cmd(gw->status_redis, "MGET %s %s",
                                            pa_key_llm_cache(hits, gw->cfg.prefix, "hits"),
                                            pa_key_llm_cache(misses, gw->cfg.prefix, "misses"))
                             : NULL;
    pthread_mutex_unlock(&gw->status_lock);
    cache_metrics(c, b);
    if (c) freeReplyObject(c);
    if (!breakers) return;
    static const char *const metric[2] = {"pa_llm_breaker_state", "pa_llm_breaker_failures"};
    pa_buf_puts(b, "# HELP pa_llm_breaker_state Circuit breaker of each llm worker that calls a "
                   "provider: 0 closed, 1 half-open, 2 open.\n"
                   "# TYPE pa_llm_breaker_state gauge\n");
    for (int m = 0; m < 2; m++) {
        if (m)
            pa_buf_puts(b, "# HELP pa_llm_breaker_failures Consecutive provider failures each "
                           "llm worker's breaker counted.\n"
                           "# TYPE pa_llm_breaker_failures gauge\n");
        size_t i;
        json_t *e;
        json_array_foreach(breakers, i, e) {
            const char *st = json_string_value(json_object_get(e, "state"));
            long long v = m ? json_integer_value(json_object_get(e, "failures"))
                          : strcmp(st, "open") == 0      ? 2
                          : strcmp(st, "half_open") == 0 ? 1
                                                         : 0;
            pa_buf_printf(b, "%s{worker=\"", metric[m]);
            label(b, json_string_value(json_object_get(e, "worker")));
            pa_buf_puts(b, "\",provider=\"");
            label(b, json_string_value(json_object_get(e, "provider")));
            pa_buf_printf(b, "\"} %lld\n", v);
        }
    }
    pa_buf_printf(b,
                  "# HELP pa_llm_breakers_open llm workers whose circuit breaker is open or "
                  "half-open.\n# TYPE pa_llm_breakers_open gauge\npa_llm_breakers_open %zu\n",
                  open);
    json_decref(breakers);
}

/* The mcp workers' result cache (pa:mcp:cache:hits, :misses) and the circuit breaker of each
 * MCP server of each live mcp worker (the mcp_servers field of its status record). */
static void mcp_metrics(gw_t *gw, const json_t *live, pa_buf_t *b)
{
    if (!live) return; /* Redis is away */
    const char *pre = gw->cfg.prefix;
    pthread_mutex_lock(&gw->status_lock);
    redisReply *c =
        pa_redis_cmd(gw->status_redis, "MGET %smcp:cache:hits %smcp:cache:misses", pre, pre);
    pthread_mutex_unlock(&gw->status_lock);
    if (c && c->type == REDIS_REPLY_ARRAY && c->elements == 2) {
        static const char *const what[2] = {"hits", "misses"};
        for (int i = 0; i < 2; i++)
            pa_buf_printf(b,
                          "# HELP pa_mcp_cache_%s_total MCP tool calls %s by the result cache "
                          "(every mcp worker).\n# TYPE pa_mcp_cache_%s_total counter\n"
                          "pa_mcp_cache_%s_total %lld\n",
                          what[i], i ? "not answered" : "answered", what[i], what[i],
                          c->element[i]->type == REDIS_REPLY_STRING ? atoll(c->element[i]->str)
                                                                    : 0);
    }
    if (c) freeReplyObject(c);
    size_t open, i;
    json_t *list = mcp_breakers(live, &open), *e;
    if (list)
        pa_buf_puts(b, "# HELP pa_mcp_breaker_state Circuit breaker of each MCP server of each "
                       "mcp worker: 0 closed, 1 half-open, 2 open.\n"
                       "# TYPE pa_mcp_breaker_state gauge\n");
    json_array_foreach(list, i, e) {
        const char *st = json_string_value(json_object_get(e, "state"));
        pa_buf_puts(b, "pa_mcp_breaker_state{worker=\"");
        label(b, json_string_value(json_object_get(e, "worker")));
        pa_buf_puts(b, "\",server=\"");
        label(b, json_string_value(json_object_get(e, "server")));
        pa_buf_printf(b, "\"} %d\n",
                      strcmp(st, "open") == 0        ? 2
                      : strcmp(st, "half_open") == 0 ? 1
                                                     : 0);
    }
    json_decref(list);
}

/* Queue depths, read from Redis in one pipeline (nothing when Redis does not answer): a ready
 * queue per service (pa_stages.h), then the retries waiting, the leased count (the sum of every
 * worker's lease set: a read-only script, loaded before the pipeline) and the dead letters. */
static void queue_metrics(gw_t *gw, pa_buf_t *b)
{
    /* then, per service, how many of its queue's entries belong to cancelled tasks (not
     * waiting: cancel.lua counts them in ready:<service>:dead) */
    enum { RETRY = PA_NSERVICES, LEASED, DEAD, NQ, NALL = NQ + PA_NSERVICES };
    pa_redis_t *rd = gw_redis(gw);
    long long depth[NALL];
    char err[256];
    pa_jobs_leased_in_t lin = {.prefix = gw->cfg.prefix};
    int ok = pa_redis_script_load(rd, &pa_jobs_leased) == 0, sent = 0;
    for (int i = 0; i < NALL && ok; i++, sent += ok) {
        char key[PA_KEY_MAX];
        if (i < PA_NSERVICES) pa_key_ready(key, gw->cfg.prefix, pa_services[i]);
        else if (i == RETRY) pa_key_delayed(key, gw->cfg.prefix);
        else if (i >= NQ) pa_key_ready_dead(key, gw->cfg.prefix, pa_services[i - NQ]);
        else pa_key_dead(key, gw->cfg.prefix);
        const char *av[] = {i == RETRY ? "ZCARD" : i >= NQ ? "GET" : "LLEN", key};
        if (i == LEASED) ok = pa_jobs_leased_append(rd, &lin, err, sizeof err) == 0;
        else ok = pa_redis_append(rd, 2, av, NULL) == 0;
    }
    /* every reply sent for is read, even after a wrong one, so that none is left on the
     * connection for the thread's next command */
    for (int i = 0; i < sent; i++) {
        redisReply *x = pa_redis_get_reply(rd);
        if (!x) { /* the connection dropped, and the other replies with it */
            ok = 0;
            break;
        }
        pa_jobs_leased_out_t lo;
        int good = i == LEASED ? pa_jobs_leased_parse(x, &lo, err, sizeof err) == 0
                   : i >= NQ   ? x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_NIL
                               : x->type == REDIS_REPLY_INTEGER;
        depth[i] = !good         ? 0
                   : i == LEASED ? lo.leased
                   : i >= NQ     ? (x->type == REDIS_REPLY_STRING ? atoll(x->str) : 0)
                                 : x->integer;
        ok = ok && good;
        freeReplyObject(x);
    }
    if (!ok) return;
    pa_buf_puts(b, "# HELP pa_queue_ready Tasks waiting for a worker, per service.\n"
                   "# TYPE pa_queue_ready gauge\n");
    for (int i = 0; i < PA_NSERVICES; i++)
        pa_buf_printf(b, "pa_queue_ready{service=\"%s\"} %lld\n", pa_services[i],
                      depth[i] > depth[NQ + i] ? depth[i] - depth[NQ + i] : 0);
    pa_buf_printf(b,
                  "# HELP pa_tasks_retry_wait Tasks waiting to be retried.\n"
                  "# TYPE pa_tasks_retry_wait gauge\npa_tasks_retry_wait %lld\n"
                  "# HELP pa_tasks_leased Tasks leased to workers.\n"
                  "# TYPE pa_tasks_leased gauge\npa_tasks_leased %lld\n"
                  "# HELP pa_dead_letters Dead-lettered tasks kept.\n"
                  "# TYPE pa_dead_letters gauge\npa_dead_letters %lld\n",
                  depth[RETRY], depth[LEASED], depth[DEAD]);
}

void gw_h_metrics(gw_t *gw, gw_req_t *r)
{
    size_t n = gw->nroutes;
    const gw_route_t *rt = gw->routes;
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
    gw_http_conn_stats_t hs;
    gw_http_conn_stats(gw, &hs);
    pa_buf_printf(&b,
                  "# HELP pa_http_connections Open HTTP connections.\n"
                  "# TYPE pa_http_connections gauge\npa_http_connections %zu\n"
                  "# HELP pa_http_connections_closed_total HTTP connections the gateway closed: "
                  "timeout (header or body not received in time), evicted (idle, to keep room "
                  "near HTTP_MAX_CONNECTIONS), refused (past it).\n"
                  "# TYPE pa_http_connections_closed_total counter\n"
                  "pa_http_connections_closed_total{reason=\"timeout\"} %llu\n"
                  "pa_http_connections_closed_total{reason=\"evicted\"} %llu\n"
                  "pa_http_connections_closed_total{reason=\"refused\"} %llu\n"
                  "# HELP pa_http_body_memory_bytes Request body bytes held in memory now "
                  "(HTTP_MAX_BODY_MEMORY).\n"
                  "# TYPE pa_http_body_memory_bytes gauge\npa_http_body_memory_bytes %zu\n",
                  hs.open, (unsigned long long)hs.timed_out, (unsigned long long)hs.evicted,
                  (unsigned long long)hs.refused, hs.body_memory);
    queue_metrics(gw, &b);
    if (gw->dispatch) {
        gw_dispatch_stats_t st;
        gw_dispatch_stats(gw->dispatch, &st);
        pa_buf_printf(
            &b,
            "# HELP pa_dispatch_tasks_total Tasks this gateway sent to workers.\n"
            "# TYPE pa_dispatch_tasks_total counter\npa_dispatch_tasks_total %llu\n"
            "# HELP pa_dispatch_dropped_messages_total Malformed or unexpected worker messages "
            "dropped.\n"
            "# TYPE pa_dispatch_dropped_messages_total counter\npa_dispatch_dropped_messages_total "
            "%llu\n"
            "# HELP pa_workers_lost_total Workers declared dead after missed heartbeats.\n"
            "# TYPE pa_workers_lost_total counter\npa_workers_lost_total %llu\n"
            "# HELP pa_workers_connected Workers connected to this gateway.\n"
            "# TYPE pa_workers_connected gauge\npa_workers_connected %d\n",
            st.dispatched, st.dropped_messages, st.workers_lost, st.workers);
    }
    if (gw->events)
        pa_buf_printf(&b,
                      "# HELP pa_event_streams Open job event streams.\n"
                      "# TYPE pa_event_streams gauge\npa_event_streams %zu\n",
                      gw_events_streams(gw->events));
    if (gw->streams)
        pa_buf_printf(&b,
                      "# HELP pa_llm_streams Open streamed answers of POST /api/llm/generate.\n"
                      "# TYPE pa_llm_streams gauge\npa_llm_streams %zu\n",
                      gw_streams_open(gw->streams));
    /* the live llm and mcp workers, read once (nothing when Redis is known to be away) */
    json_t *live = gw_store_redis_up(gw->store) == 1 ? live_workers(gw) : NULL;
    llm_metrics(gw, live, &b);
    mcp_metrics(gw, live, &b);
    json_decref(live);
    size_t len;
    char *s = pa_buf_detach(&b, &len);
    gw_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

void gw_h_openapi(gw_t *gw, gw_req_t *r)
{
    char *s = pa_strndup(pa_openapi_json, pa_openapi_json_len);
    gw_reply(r, 200, "application/json", s, pa_openapi_json_len);
}
