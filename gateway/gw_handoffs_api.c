/* /api/handoffs: the hand-off queue (pa:handoffs, task keys scored by when commit.lua put them
 * there), read with each task's submit result; completing one is handoff_complete.lua.
 *
 * A hand-off's id is its task's "<J>-<T>" (the task key "J:T" with the colon, which a path
 * segment would have to escape, made a hyphen; a task number is digits, so the last hyphen
 * splits it). A page's cursor is the position after its last member: "<score>-<id>", so that a
 * member completed meanwhile does not lose the place. */
#include "gw_handoffs_api.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_valid.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_time.h"

#define CHUNK 100     /* members read (and tasks asked for) per round trip */
#define SCAN_MAX 5000 /* members looked at per request at most (dropped ones included) */
#define NOTE_MAX 2000 /* characters of a completion note */

extern const char gw_lua_handoff_complete[];
static pa_script_t complete_script = PA_SCRIPT(gw_lua_handoff_complete);

/* ---- the list ------------------------------------------------------------------------------- */

typedef struct {
    gw_t *gw;
    size_t limit, count, scanned;
    /* the cursor: the position after which to read (have_cursor 0: from the start) */
    int have_cursor;
    double cur_score;
    char cur_key[PA_TASK_KEY_MAX];
    long long offset; /* into the members of score >= cur_score */
    /* the position after the last member consumed (shown or dropped) */
    int have_pos;
    double pos_score;
    char pos_key[PA_TASK_KEY_MAX];
    int more, ended;
    pa_buf_t b;
    /* members whose task is gone (expired with its job), dropped at the end of the chunk */
    const char *gone[CHUNK];
    size_t ngone;
} page_t;

/* A result's member k, rendered (null when absent); as_array: [] when it is not an array. */
static void put_member(pa_buf_t *b, const char *k, const json_t *res, int as_array)
{
    const json_t *x = json_object_get(res, k);
    pa_buf_printf(b, ",\"%s\":", k);
    if (as_array && !json_is_array(x)) {
        pa_buf_puts(b, "[]");
        return;
    }
    if (!x) {
        pa_buf_puts(b, "null");
        return;
    }
    char *s = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    pa_buf_puts(b, s ? s : "null");
    free(s);
}

/* One item of the list from the task's target and submit result (either may be NULL). */
static void render(pa_buf_t *b, const char *tk, double score, const char *target,
                   const char *result)
{
    char id[PA_TASK_KEY_MAX], iso[25];
    gw_task_id_of(tk, id, sizeof id);
    const char *c = strrchr(tk, ':');
    size_t jl = c ? (size_t)(c - tk) : strlen(tk);
    json_t *res = result ? json_loads(result, 0, NULL) : NULL;
    if (!json_is_object(res)) {
        json_decref(res);
        res = NULL;
    }
    pa_buf_puts(b, "{\"id\":");
    pa_buf_json_str(b, id, strlen(id));
    pa_buf_puts(b, ",\"job_id\":");
    pa_buf_json_str(b, tk, jl);
    pa_buf_puts(b, ",\"task\":");
    pa_buf_json_str(b, c ? c + 1 : "", c ? strlen(c + 1) : 0);
    pa_buf_puts(b, ",\"target\":");
    if (target) pa_buf_json_str(b, target, strlen(target));
    else pa_buf_puts(b, "null");
    put_member(b, "page_url", res, 0);
    /* why a person must finish it: the task's state (the CAPTCHA's kind is in "captcha") */
    pa_buf_puts(b, ",\"reason\":\"captcha_required\"");
    put_member(b, "detail", res, 0);
    put_member(b, "captcha", res, 0);
    put_member(b, "form", res, 0);
    put_member(b, "fields", res, 1);
    pa_time_rfc3339(score > 0 ? (uint64_t)llround(score) : 0, iso);
    pa_buf_printf(b, ",\"created\":\"%s\"}", iso);
    json_decref(res);
}

/* Drops the members of the chunk whose task is gone; how many went. */
static long long drop_gone(page_t *pg, pa_redis_t *rd, const char *key)
{
    long long n = 0;
    if (!pg->ngone) return 0;
    const char *av[CHUNK + 2];
    av[0] = "ZREM";
    av[1] = key;
    for (size_t i = 0; i < pg->ngone; i++) av[2 + i] = pg->gone[i];
    redisReply *rep = pa_redis_argv(rd, (int)pg->ngone + 2, av, NULL);
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
        n = rep->integer;
        pa_info("hand-offs of expired tasks dropped", PA_I("count", n));
    }
    if (rep) freeReplyObject(rep);
    pg->ngone = 0;
    return n;
}

/* Reads the next chunk of the set and the tasks of its members into the page: 1 read some, 0 the
 * set ended, -1 Redis failed. */
static int read_chunk(page_t *pg, pa_redis_t *rd)
{
    const char *prefix = pg->gw->cfg.prefix;
    char key[PA_KEY_MAX], min[40], off[24];
    pa_key_handoffs(key, prefix, 0);
    if (pg->have_cursor) snprintf(min, sizeof min, "%.17g", pg->cur_score);
    else snprintf(min, sizeof min, "-inf");
    snprintf(off, sizeof off, "%lld", pg->offset);
    const char *av[] = {"ZRANGE", key, min, "+inf", "BYSCORE", "LIMIT", off, "100", "WITHSCORES"};
    redisReply *ms = pa_redis_argv(rd, 9, av, NULL);
    if (!ms || ms->type != REDIS_REPLY_ARRAY) {
        if (ms) freeReplyObject(ms);
        return -1;
    }
    size_t n = ms->elements / 2;
    if (n == 0) {
        freeReplyObject(ms);
        return 0;
    }
    pg->offset += (long long)n;
    /* the members after the cursor (those of its score up to and including it come first) */
    size_t first = 0;
    while (pg->have_cursor && first < n && ms->element[2 * first + 1]->str &&
           strtod(ms->element[2 * first + 1]->str, NULL) == pg->cur_score &&
           strcmp(ms->element[2 * first]->str, pg->cur_key) <= 0)
        first++;
    for (size_t i = first; i < n; i++) {
        char tkey[PA_KEY_MAX];
        const char *hv[] = {"HMGET", pa_key_task(tkey, prefix, ms->element[2 * i]->str), "target",
                            "result_submit", "handoff"};
        pa_redis_append(rd, 5, hv, NULL);
    }
    int rc = 1;
    size_t i = first;
    for (; i < n; i++) {
        redisReply *h = pa_redis_get_reply(rd);
        if (!h) { /* Redis went away mid-chunk: the rest of the replies are lost too */
            rc = -1;
            break;
        }
        const char *tk = ms->element[2 * i]->str;
        double score = strtod(ms->element[2 * i + 1]->str, NULL);
        int ok = h->type == REDIS_REPLY_ARRAY && h->elements == 3;
        const char *target = ok ? h->element[0]->str : NULL;
        const char *result = ok ? h->element[1]->str : NULL;
        const char *done = ok ? h->element[2]->str : NULL;
        if (!pg->more) {
            pg->scanned++;
            if (ok && (!target || (done && strcmp(done, "done") == 0))) {
                pg->gone[pg->ngone++] = tk; /* its task expired (or was completed by hand) */
            } else if (ok && pg->count == pg->limit) {
                pg->more = 1;
            } else if (ok) {
                if (pg->count++) pa_buf_putc(&pg->b, ',');
                render(&pg->b, tk, score, target, result);
            }
            if (!pg->more) {
                pg->have_pos = 1;
                pg->pos_score = score;
                snprintf(pg->pos_key, sizeof pg->pos_key, "%s", tk);
            }
        }
        freeReplyObject(h);
    }
    if (rc > 0) pg->offset -= drop_gone(pg, rd, key); /* the members after them moved up */
    pg->ngone = 0;
    freeReplyObject(ms);
    return rc;
}

/* limit and cursor into pg; -1 answered. */
static int parse_query(gw_req_t *r, page_t *pg)
{
    static const char *const known[] = {"limit", "cursor", NULL};
    gw_valid_t v = GW_VALID(r);
    const char *bad = gw_arg_unknown(r, known);
    if (bad) return gw_valid_fail(&v, bad, "%.64s: unknown query parameter (limit, cursor)", bad);
    if (gw_valid_limit(&v, gw_arg(r, "limit"), 50, 500, &pg->limit) < 0) return -1;
    const char *c = gw_arg(r, "cursor");
    if (!c || !*c) return 0;
    char *e;
    size_t dl = strspn(c, "0123456789");
    unsigned long long score = strtoull(c, &e, 10);
    if (dl == 0 || dl > 16 || *e != '-' || gw_task_key_of(e + 1, strlen(e + 1), pg->cur_key) < 0)
        return gw_valid_fail(&v, "cursor", "cursor: not a cursor from this API");
    pg->have_cursor = 1;
    pg->cur_score = (double)score;
    return 0;
}

void gw_h_handoffs_list(gw_t *gw, gw_req_t *r)
{
    page_t *pg = pa_calloc(1, sizeof *pg);
    pg->gw = gw;
    pg->b = (pa_buf_t)PA_BUF_INIT;
    if (parse_query(r, pg) < 0) {
        free(pg);
        return;
    }
    pa_redis_t *rd = gw_redis(gw);
    pa_buf_puts(&pg->b, "{\"items\":[");
    int rc = 1;
    while (!pg->more && pg->scanned < SCAN_MAX && (rc = read_chunk(pg, rd)) > 0) {
    }
    char key[PA_KEY_MAX];
    redisReply *total =
        rc < 0 ? NULL : pa_redis_cmd(rd, "ZCARD %s", pa_key_handoffs(key, gw->cfg.prefix, 0));
    if (!total || total->type != REDIS_REPLY_INTEGER) {
        if (total) freeReplyObject(total);
        pa_buf_free(&pg->b);
        free(pg);
        gw_unavailable(r);
        return;
    }
    /* a next page when one more member was there, or when the scan stopped short of the end */
    int next = pg->have_pos && (pg->more || (rc > 0 && pg->scanned >= SCAN_MAX));
    char cursor[PA_TASK_KEY_MAX + 24] = "", id[PA_TASK_KEY_MAX];
    if (next) {
        gw_task_id_of(pg->pos_key, id, sizeof id);
        snprintf(cursor, sizeof cursor, "%.0f-%s", pg->pos_score, id);
    }
    pa_buf_printf(&pg->b, "],\"total\":%lld,\"next_cursor\":", total->integer);
    if (next) pa_buf_json_str(&pg->b, cursor, strlen(cursor));
    else pa_buf_puts(&pg->b, "null");
    pa_buf_putc(&pg->b, '}');
    char tc[24];
    snprintf(tc, sizeof tc, "%lld", total->integer);
    freeReplyObject(total);
    gw_reply_buf(r, 200, &pg->b);
    gw_header(r, "X-Total-Count", tc);
    if (next) {
        char link[PA_TASK_KEY_MAX + 96];
        snprintf(link, sizeof link, "</api/handoffs?limit=%zu&cursor=%s>; rel=\"next\"", pg->limit,
                 cursor);
        gw_header(r, "Link", link);
    }
    free(pg);
}

/* ---- completing one ------------------------------------------------------------------------- */

/* 409: completed before, at when (RFC 3339), which the problem also carries as completed_at. */
static void already_done(gw_req_t *r, const char *when)
{
    char detail[160];
    snprintf(detail, sizeof detail, "the hand-off was already completed%s%s", *when ? " at " : "",
             when);
    size_t len;
    char *doc = gw_problem_doc(409, "conflict", NULL, detail, r->path, r->request_id, &len);
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_put(&b, doc, len - 1); /* without its closing brace */
    free(doc);
    pa_buf_puts(&b, ",\"completed_at\":");
    if (*when) pa_buf_json_str(&b, when, strlen(when));
    else pa_buf_puts(&b, "null");
    pa_buf_putc(&b, '}');
    char *body = pa_buf_detach(&b, &len);
    gw_reply(r, 409, "application/problem+json", body, len);
}

/* The body {note?} (may be empty): 0 and the note (NULL: none; borrowed from *j), -1 answered. */
static int parse_note(gw_req_t *r, json_t **j, const char **note)
{
    static const char *const fields[] = {"note", NULL};
    *j = NULL;
    *note = NULL;
    if (r->body.len == 0) return 0;
    gw_valid_t v = GW_VALID(r);
    if (!(*j = gw_json_body(r))) return -1;
    gw_valid_object(&v, *j, NULL, "a JSON object {note?}");
    gw_valid_only(&v, *j, "", fields);
    *note = gw_valid_str(&v, *j, "note", "note", 0, NOTE_MAX);
    return v.failed ? -1 : 0;
}

void gw_h_handoff_complete(gw_t *gw, gw_req_t *r)
{
    char tk[PA_TASK_KEY_MAX];
    gw_valid_t v = GW_VALID(r);
    if (r->id_invalid || gw_task_key_of(r->id, strlen(r->id), tk) < 0) {
        gw_valid_fail(&v, "id",
                      "id: a hand-off id is <job id>-<task number> as GET /api/handoffs lists "
                      "it, e.g. j-01kbz3n4t5v6w7x8y9z0a1b2c3-000042");
        return;
    }
    json_t *j;
    const char *note;
    if (parse_note(r, &j, &note) < 0) {
        json_decref(j);
        return;
    }
    uint64_t now = pa_wall_ms();
    char ms[24], iso[25];
    snprintf(ms, sizeof ms, "%llu", (unsigned long long)now);
    pa_time_rfc3339(now, iso);
    const char *argv[] = {gw->cfg.prefix, tk, ms, iso, note ? note : "", note ? "1" : "0"};
    redisReply *rep = pa_redis_eval(gw_redis(gw), &complete_script, 0, 6, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            pa_error("handoff_complete failed", PA_S("error", rep->str));
        if (rep) freeReplyObject(rep);
        json_decref(j);
        gw_unavailable(r);
        return;
    }
    const char *st = rep->element[0]->str;
    if (strcmp(st, "ok") == 0) {
        pa_buf_t b = PA_BUF_INIT;
        const char *c = strrchr(tk, ':');
        pa_buf_puts(&b, "{\"id\":");
        pa_buf_json_str(&b, r->id, strlen(r->id));
        pa_buf_puts(&b, ",\"job_id\":");
        pa_buf_json_str(&b, tk, (size_t)(c - tk));
        pa_buf_printf(&b, ",\"task\":\"%s\",\"handoff\":\"done\",\"completed_at\":\"%s\",\"note\":",
                      c + 1, iso);
        if (note) pa_buf_json_str(&b, note, strlen(note));
        else pa_buf_puts(&b, "null");
        pa_buf_putc(&b, '}');
        gw_reply_buf(r, 200, &b);
        pa_info("hand-off completed", PA_S("request_id", r->request_id), PA_S("task", tk));
    } else if (strcmp(st, "done") == 0) {
        char when[25] = "";
        const char *iso_done = rep->elements > 1 ? rep->element[1]->str : NULL;
        const char *ms_done = rep->elements > 2 ? rep->element[2]->str : NULL;
        if (iso_done && *iso_done) snprintf(when, sizeof when, "%s", iso_done);
        else if (ms_done && *ms_done) pa_time_rfc3339(strtoull(ms_done, NULL, 10), when);
        already_done(r, when);
    } else {
        gw_problem(r, 404, "not-found", NULL,
                   "no open hand-off with this id (a task's hand-off goes when its job expires)");
    }
    freeReplyObject(rep);
    json_decref(j);
}
