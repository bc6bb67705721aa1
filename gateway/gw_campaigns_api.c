/* /api/campaigns: list, create and read campaigns, stored as Redis hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "pa_id.h"
#include "pa_time.h"
#include "pa_utf8.h"

static const char *const channels[] = {"contact_form", "email", "linkedin"};
static const char *const counters[] = {"sent", "opens", "clicks", "responses"};

static pa_script_t create_script = PA_SCRIPT(
    "local p, id = ARGV[1], ARGV[2]\n"
    "local key = p..'campaign:'..id\n"
    "if redis.call('EXISTS', key) == 1 then return 0 end\n"
    "redis.call('HSET', key, 'name', ARGV[3], 'channel', ARGV[4], 'sent', ARGV[5],\n"
    "  'opens', ARGV[6], 'clicks', ARGV[7], 'responses', ARGV[8], 'created', ARGV[9])\n"
    "redis.call('ZADD', p..'campaigns', 0, id)\n"
    "return 1\n");

/* Renders a campaign from an HGETALL reply; 0 when the hash is empty. */
static int render(pa_buf_t *b, const char *id, const redisReply *h)
{
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements == 0) return 0;
    const char *name = "", *channel = "contact_form";
    long long cnt[4] = {0};
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
        if (!k || !v) continue;
        if (strcmp(k, "name") == 0) name = v;
        else if (strcmp(k, "channel") == 0) channel = v;
        for (int c = 0; c < 4; c++)
            if (strcmp(k, counters[c]) == 0) cnt[c] = atoll(v);
    }
    pa_buf_puts(b, "{\"id\":");
    pa_buf_json_str(b, id, strlen(id));
    pa_buf_puts(b, ",\"name\":");
    pa_buf_json_str(b, name, strlen(name));
    pa_buf_puts(b, ",\"channel\":");
    pa_buf_json_str(b, channel, strlen(channel));
    for (int c = 0; c < 4; c++) pa_buf_printf(b, ",\"%s\":%lld", counters[c], cnt[c]);
    pa_buf_putc(b, '}');
    return 1;
}

void gw_h_campaigns_list(gw_t *gw, gw_req_t *r)
{
    pa_redis_t *rd = gw_redis(gw);
    const char *prefix = gw->cfg.prefix;
    redisReply *ids = pa_redis_cmd(rd, "ZRANGE %scampaigns 0 -1", prefix);
    if (!ids || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) freeReplyObject(ids);
        gw_unavailable(r);
        return;
    }
    int ok = 1;
    for (size_t i = 0; i < ids->elements && ok; i++) {
        char key[128];
        snprintf(key, sizeof key, "%scampaign:%s", prefix, ids->element[i]->str);
        const char *av[] = {"HGETALL", key};
        ok = pa_redis_append(rd, 2, av, NULL) == 0;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    int first = 1;
    for (size_t i = 0; i < ids->elements && ok; i++) {
        redisReply *h = pa_redis_get_reply(rd);
        if (!h) {
            ok = 0;
            break;
        }
        pa_buf_t one = PA_BUF_INIT;
        if (render(&one, ids->element[i]->str, h)) {
            if (!first) pa_buf_putc(&b, ',');
            pa_buf_put(&b, one.data, one.len);
            first = 0;
        }
        pa_buf_free(&one);
        freeReplyObject(h);
    }
    pa_buf_putc(&b, ']');
    freeReplyObject(ids);
    if (!ok) {
        pa_buf_free(&b);
        gw_unavailable(r);
        return;
    }
    gw_reply_buf(r, 200, &b);
}

void gw_h_campaign_get(gw_t *gw, gw_req_t *r)
{
    if (r->id_invalid) {
        gw_problem(r, 404, "not-found", NULL, "no campaign with this id");
        return;
    }
    redisReply *h = pa_redis_cmd(gw_redis(gw), "HGETALL %scampaign:%s", gw->cfg.prefix, r->id);
    if (!h) {
        gw_unavailable(r);
        return;
    }
    pa_buf_t b = PA_BUF_INIT;
    if (render(&b, r->id, h)) gw_reply_buf(r, 200, &b);
    else gw_problem(r, 404, "not-found", NULL, "no campaign with this id");
    pa_buf_free(&b);
    freeReplyObject(h);
}

void gw_h_campaigns_create(gw_t *gw, gw_req_t *r)
{
    json_t *j = gw_json_body(r);
    if (!j) return;
    const char *k;
    json_t *v;
    const char *name = NULL, *channel = "contact_form";
    char id[GW_ID_MAX + 1] = "";
    long long cnt[4] = {0};
#define BAD(f, ...)                                                                                \
    do {                                                                                           \
        gw_problem(r, 400, "invalid-field", (f), __VA_ARGS__);                                     \
        json_decref(j);                                                                            \
        return;                                                                                    \
    } while (0)
    if (!json_is_object(j)) BAD(NULL, "expected a JSON object");
    json_object_foreach(j, k, v) {
        if (strcmp(k, "id") == 0) {
            if (!json_is_string(v) || !gw_id_valid(json_string_value(v), json_string_length(v)))
                BAD("id", "id: must be 1 to %d characters of A-Z a-z 0-9 . _ -", GW_ID_MAX);
            memcpy(id, json_string_value(v), json_string_length(v) + 1);
        } else if (strcmp(k, "name") == 0) {
            size_t cps = json_is_string(v) ? pa_utf8_len(json_string_value(v), json_string_length(v)) : 0;
            if (cps < 1 || cps > 200 || memchr(json_string_value(v), 0, json_string_length(v)))
                BAD("name", "name: must be a string of 1 to 200 characters");
            name = json_string_value(v);
        } else if (strcmp(k, "channel") == 0) {
            int ok = 0;
            for (int c = 0; c < 3 && json_is_string(v); c++)
                ok |= strcmp(json_string_value(v), channels[c]) == 0;
            if (!ok) BAD("channel", "channel: must be one of contact_form, email, linkedin");
            channel = json_string_value(v);
        } else {
            int c = 0;
            while (c < 4 && strcmp(k, counters[c]) != 0) c++;
            if (c == 4) BAD(k, "%.64s: unknown field", k);
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 9007199254740991LL)
                BAD(k, "%s: must be an integer of at least 0", k);
            cnt[c] = json_integer_value(v);
        }
    }
    if (!name) BAD("name", "name: is required");
#undef BAD
    if (!id[0]) {
        strcpy(id, "c-");
        pa_id_new(id + 2);
    }
    char nums[4][24], now[25];
    for (int c = 0; c < 4; c++) snprintf(nums[c], sizeof nums[c], "%lld", cnt[c]);
    pa_time_rfc3339(pa_wall_ms(), now);
    const char *argv[] = {gw->cfg.prefix, id, name, channel, nums[0], nums[1], nums[2], nums[3], now};
    redisReply *rep = pa_redis_eval(gw_redis(gw), &create_script, 0, 9, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        if (rep) freeReplyObject(rep);
        json_decref(j);
        gw_unavailable(r);
        return;
    }
    int created = rep->integer == 1;
    freeReplyObject(rep);
    if (!created) {
        gw_problem(r, 409, "conflict", "id", "id: a campaign with id %s already exists", id);
        json_decref(j);
        return;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "{\"id\":");
    pa_buf_json_str(&b, id, strlen(id));
    pa_buf_puts(&b, ",\"name\":");
    pa_buf_json_str(&b, name, strlen(name));
    pa_buf_printf(&b, ",\"channel\":\"%s\"", channel);
    for (int c = 0; c < 4; c++) pa_buf_printf(&b, ",\"%s\":%lld", counters[c], cnt[c]);
    pa_buf_putc(&b, '}');
    json_decref(j);
    gw_reply_buf(r, 201, &b);
    char loc[GW_ID_MAX + 32];
    snprintf(loc, sizeof loc, "/api/campaigns/%s", id);
    gw_header(r, "Location", loc);
}
