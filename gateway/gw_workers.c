/* The workers and their status records; see gw_workers.h. */
#include "gw_workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_keys.h"
#include "pa_time.h"

/* service: NULL (any), one name, or several separated by commas ("llm,mcp") */
static int of_service(const json_t *w, const char *service)
{
    if (!service) return 1;
    const char *svc = json_string_value(json_object_get(w, "service"));
    if (!svc) return 0;
    size_t n = strlen(svc);
    for (const char *p = service; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, svc, n) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* Adds the status record of each live worker of service (NULL: every one) as "status", read with
 * pipelined HGETALLs. -1 when Redis failed. */
static int add_status(gw_t *gw, pa_redis_t *rd, json_t *list, const char *service)
{
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        if (!of_service(w, service)) continue;
        char key[PA_KEY_MAX];
        pa_key_worker_status(key, gw->cfg.prefix, json_string_value(json_object_get(w, "id")));
        const char *av[] = {"HGETALL", key};
        if (pa_redis_append(rd, 2, av, NULL) < 0) return -1;
    }
    json_array_foreach(list, i, w) {
        if (!of_service(w, service)) continue;
        redisReply *h = pa_redis_get_reply(rd);
        if (!h) return -1;
        if (h->type == REDIS_REPLY_ARRAY && h->elements >= 2) {
            json_t *st = json_object();
            for (size_t k = 0; k + 1 < h->elements; k += 2)
                if (h->element[k]->str && h->element[k + 1]->str)
                    json_object_set_new(
                        st, h->element[k]->str,
                        json_stringn(h->element[k + 1]->str, h->element[k + 1]->len));
            json_object_set_new(w, "status", st);
        }
        freeReplyObject(h);
    }
    return 0;
}

json_t *gw_workers_live(gw_t *gw, pa_redis_t *rd, int with_status, const char *service)
{
    char wk[PA_KEY_MAX];
    redisReply *h = rd ? pa_redis_cmd(rd, "HGETALL %s", pa_key_workers(wk, gw->cfg.prefix)) : NULL;
    if (!h || h->type != REDIS_REPLY_ARRAY) {
        if (h) freeReplyObject(h);
        return NULL;
    }
    /* an entry is live while its gateway has heard from it within 3 heartbeats (+ slack) */
    uint64_t now = pa_wall_ms(), stale_ms = 3u * (uint64_t)gw->cfg.heartbeat_ms + 2000u;
    json_t *list = json_array();
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        json_t *w = json_loads(h->element[i + 1]->str, 0, NULL);
        json_t *seen = json_object_get(w, "last_seen_ms");
        if (!json_is_object(w) || !json_is_integer(seen) ||
            now - (uint64_t)json_integer_value(seen) > stale_ms) {
            json_decref(w);
            continue;
        }
        json_object_set_new(w, "id", json_string(h->element[i]->str));
        json_array_append_new(list, w);
    }
    freeReplyObject(h);
    if (with_status && add_status(gw, rd, list, service) < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static int is_llm(const json_t *w)
{
    return of_service(w, "llm");
}

json_t *gw_workers_breakers(const json_t *live, size_t *open)
{
    long long now = (long long)pa_wall_ms();
    json_t *out = json_array(), *w;
    size_t i;
    *open = 0;
    json_array_foreach((json_t *)live, i, w) {
        json_t *st = json_object_get(w, "status");
        const char *state = json_string_value(json_object_get(st, "breaker_state"));
        if (!is_llm(w) || !state) continue;
        const char *failures = json_string_value(json_object_get(st, "breaker_failures"));
        const char *until_s = json_string_value(json_object_get(st, "breaker_open_until_ms"));
        long long until = until_s ? atoll(until_s) : 0;
        json_t *e = json_pack(
            "{s:O, s:O?, s:O?, s:s, s:I, s:I}", "worker", json_object_get(w, "id"), "provider",
            json_object_get(st, "breaker_provider"), "model", json_object_get(st, "breaker_model"),
            "state", state, "failures", (json_int_t)(failures ? atoll(failures) : 0), "retry_in_ms",
            (json_int_t)(until > now ? until - now : 0));
        if (e) json_array_append_new(out, e);
        *open += strcmp(state, "closed") != 0;
    }
    return out;
}

int gw_workers_llm_ready(gw_t *gw, long *retry_after_s)
{
    *retry_after_s = 1;
    json_t *live = gw_workers_live(gw, gw_redis(gw), 1, "llm");
    if (!live) return -1;
    int llm = 0, usable = 0;
    long long now = (long long)pa_wall_ms(), soonest = -1;
    size_t i;
    json_t *w;
    json_array_foreach(live, i, w) {
        if (!is_llm(w)) continue;
        llm = 1;
        json_t *st = json_object_get(w, "status");
        const char *state = json_string_value(json_object_get(st, "breaker_state"));
        const char *until_s = json_string_value(json_object_get(st, "breaker_open_until_ms"));
        long long until = until_s ? atoll(until_s) : 0;
        /* open until a time still to come: this worker would refuse the call at once */
        if (!state || strcmp(state, "open") != 0 || until <= now) {
            usable = 1;
            continue;
        }
        if (soonest < 0 || until < soonest) soonest = until;
    }
    json_decref(live);
    if (!llm) return 0;
    if (usable) return 1;
    *retry_after_s = (long)((soonest - now + 999) / 1000);
    if (*retry_after_s < 1) *retry_after_s = 1;
    return 2;
}

/* Adds a live worker's entry to its service's totals in svc. */
static void count_service(json_t *svc, json_t *w)
{
    json_int_t cap = json_integer_value(json_object_get(w, "capacity"));
    json_int_t credit = json_integer_value(json_object_get(w, "credit"));
    json_object_set_new(w, "load", json_integer(cap > credit ? cap - credit : 0));
    const char *s = json_string_value(json_object_get(w, "service"));
    if (!s) return;
    json_t *e = json_object_get(svc, s);
    if (!e) {
        e = json_pack("{s:i, s:i}", "workers", 0, "capacity", 0);
        json_object_set_new(svc, s, e);
    }
    json_object_set_new(e, "workers",
                        json_integer(json_integer_value(json_object_get(e, "workers")) + 1));
    json_object_set_new(e, "capacity",
                        json_integer(json_integer_value(json_object_get(e, "capacity")) + cap));
}

void gw_h_workers(gw_t *gw, gw_req_t *r)
{
    json_t *list = gw_workers_live(gw, gw_redis(gw), 1, NULL);
    if (!list) {
        gw_unavailable(r);
        return;
    }
    json_t *out = json_object(), *svc = json_object();
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) count_service(svc, w);
    json_object_set_new(out, "services", svc);
    json_object_set_new(out, "workers", list);
    gw_reply_json(r, 200, out);
}
