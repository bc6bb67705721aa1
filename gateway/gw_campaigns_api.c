/* /api/campaigns: list, create and read campaigns, stored as Redis hashes. */
#include "gw_campaigns_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_valid.h"
#include "pa_id.h"
#include "pa_keys.h"
#include "pa_time.h"

#define MAX_COUNTER 9007199254740991LL /* the largest integer a JSON reader keeps exactly */

static const char *const channels[] = {"contact_form", "email", "linkedin"};
static const char *const counters[] = {"sent", "opens", "clicks", "responses"};

extern const char gw_lua_campaign_create[];
static pa_script_t create_script = PA_SCRIPT(gw_lua_campaign_create);

/* A campaign as the API shows it; strings borrowed (from the request or a Redis reply). */
typedef struct {
    char id[GW_ID_MAX + 1];
    const char *name, *channel;
    long long cnt[4];
    const char *sender; /* JSON object text, or NULL */
} campaign_t;

static void render(pa_buf_t *b, const campaign_t *c)
{
    pa_buf_puts(b, "{\"id\":");
    pa_buf_json_str(b, c->id, strlen(c->id));
    pa_buf_puts(b, ",\"name\":");
    pa_buf_json_str(b, c->name, strlen(c->name));
    pa_buf_puts(b, ",\"channel\":");
    pa_buf_json_str(b, c->channel, strlen(c->channel));
    for (int k = 0; k < 4; k++) pa_buf_printf(b, ",\"%s\":%lld", counters[k], c->cnt[k]);
    if (c->sender) pa_buf_printf(b, ",\"sender\":%s", c->sender);
    pa_buf_putc(b, '}');
}

/* Fills c from an HGETALL reply; 0 when the hash is empty. */
static int from_hash(campaign_t *c, const char *id, const redisReply *h)
{
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements == 0) return 0;
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->name = "";
    c->channel = "contact_form";
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
        if (!k || !v) continue;
        if (strcmp(k, "name") == 0) c->name = v;
        else if (strcmp(k, "channel") == 0) c->channel = v;
        else if (strcmp(k, "sender") == 0) c->sender = v;
        for (int n = 0; n < 4; n++)
            if (strcmp(k, counters[n]) == 0) c->cnt[n] = atoll(v);
    }
    return 1;
}

void gw_h_campaigns_list(gw_t *gw, gw_req_t *r)
{
    pa_redis_t *rd = gw_redis(gw);
    const char *prefix = gw->cfg.prefix;
    char ck[PA_KEY_MAX];
    redisReply *ids = pa_redis_cmd(rd, "ZRANGE %s 0 -1", pa_key_campaigns(ck, prefix));
    if (!ids || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) freeReplyObject(ids);
        gw_unavailable(r);
        return;
    }
    int ok = 1;
    for (size_t i = 0; i < ids->elements && ok; i++) {
        char key[PA_KEY_MAX];
        const char *av[] = {"HGETALL", pa_key_campaign(key, prefix, ids->element[i]->str)};
        ok = pa_redis_append(rd, 2, av, NULL) == 0;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    for (size_t i = 0; i < ids->elements && ok; i++) {
        redisReply *h = pa_redis_get_reply(rd);
        campaign_t c;
        ok = h != NULL;
        if (h && from_hash(&c, ids->element[i]->str, h)) {
            if (b.len > 1) pa_buf_putc(&b, ',');
            render(&b, &c);
        }
        if (h) freeReplyObject(h);
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
    char ck[PA_KEY_MAX];
    redisReply *h =
        pa_redis_cmd(gw_redis(gw), "HGETALL %s", pa_key_campaign(ck, gw->cfg.prefix, r->id));
    if (!h) {
        gw_unavailable(r);
        return;
    }
    campaign_t c;
    if (from_hash(&c, r->id, h)) {
        pa_buf_t b = PA_BUF_INIT;
        render(&b, &c);
        gw_reply_buf(r, 200, &b);
    } else {
        gw_problem(r, 404, "not-found", NULL, "no campaign with this id");
    }
    freeReplyObject(h);
}

static int channel_index(const json_t *x)
{
    for (int k = 0; k < 3 && json_is_string(x); k++)
        if (strcmp(json_string_value(x), channels[k]) == 0) return k;
    return -1;
}

/* The body of POST /api/campaigns into c (c->sender is then the caller's to free). */
static int parse(gw_req_t *r, const json_t *j, campaign_t *c)
{
    static const char *const fields[] = {"id",     "name",      "channel", "sent", "opens",
                                         "clicks", "responses", "sender",  NULL};
    gw_valid_t v = GW_VALID(r);
    memset(c, 0, sizeof *c);
    gw_valid_object(&v, j, NULL, "a JSON object");
    gw_valid_only(&v, j, "", fields);
    const char *id = gw_valid_id(&v, j, "id", "id");
    if (id) snprintf(c->id, sizeof c->id, "%s", id);
    c->name = gw_valid_str(&v, j, "name", "name", 1, 200);
    json_t *ch = json_object_get(j, "channel");
    c->channel = ch ? json_string_value(ch) : "contact_form";
    if (ch && channel_index(ch) < 0)
        gw_valid_fail(&v, "channel", "channel: must be one of contact_form, email, linkedin");
    for (int k = 0; k < 4 && !v.failed; k++) {
        json_t *x = json_object_get(j, counters[k]);
        if (x && (!json_is_integer(x) || json_integer_value(x) < 0 ||
                  json_integer_value(x) > MAX_COUNTER))
            gw_valid_fail(&v, counters[k], "%s: must be an integer of at least 0", counters[k]);
        c->cnt[k] = x ? json_integer_value(x) : 0;
    }
    json_t *sender = json_object_get(j, "sender");
    if (sender && !json_is_null(sender) && gw_valid_sender(&v, sender, "sender") == 0)
        c->sender = json_dumps(sender, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return v.failed ? -1 : 0;
}

/* Stores c unless its id is taken: 1 created, 0 taken, -1 Redis away. */
static int store(gw_t *gw, const campaign_t *c)
{
    char nums[4][24], now[25];
    for (int k = 0; k < 4; k++) snprintf(nums[k], sizeof nums[k], "%lld", c->cnt[k]);
    pa_time_rfc3339(pa_wall_ms(), now);
    const char *argv[] = {gw->cfg.prefix, c->id,   c->name, c->channel, nums[0],
                          nums[1],        nums[2], nums[3], now,        c->sender ? c->sender : ""};
    redisReply *rep = pa_redis_eval(gw_redis(gw), &create_script, 0, 10, argv, NULL);
    int created = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer == 1 : -1;
    if (rep) freeReplyObject(rep);
    return created;
}

void gw_h_campaigns_create(gw_t *gw, gw_req_t *r)
{
    json_t *j = gw_json_body(r);
    if (!j) return;
    campaign_t c;
    if (parse(r, j, &c) < 0) goto done;
    if (!c.id[0]) {
        strcpy(c.id, "c-");
        pa_id_new(c.id + 2);
    }
    int created = store(gw, &c);
    if (created < 0) {
        gw_unavailable(r);
    } else if (!created) {
        gw_problem(r, 409, "conflict", "id", "id: a campaign with id %s already exists", c.id);
    } else {
        pa_buf_t b = PA_BUF_INIT;
        render(&b, &c);
        gw_reply_buf(r, 201, &b);
        char loc[GW_ID_MAX + 32];
        snprintf(loc, sizeof loc, "/api/campaigns/%s", c.id);
        gw_header(r, "Location", loc);
    }
done:
    free((char *)c.sender);
    json_decref(j);
}
