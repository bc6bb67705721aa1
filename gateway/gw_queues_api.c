/* Queues, dead letters and requeue (gw_queues_api.h): what `prospectctl queues`, `dead` and
 * `requeue` show and do, over HTTP. */
#include "gw_queues_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_valid.h"
#include "pa_jobs.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_stages.h"

#define DEAD_MAX 10000 /* the list's length (prelude.lua trims it) */

static long long rnum(const redisReply *r)
{
    if (!r) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) return atoll(r->str);
    return 0;
}

void gw_h_queues(gw_t *gw, gw_req_t *r)
{
    pa_redis_t *rd = gw_redis(gw);
    char ready[PA_NSERVICES][PA_KEY_MAX], rdead[PA_NSERVICES][PA_KEY_MAX], delayed[PA_KEY_MAX],
        dead[PA_KEY_MAX], err[256];
    pa_jobs_leased_in_t lin = {.prefix = gw->cfg.prefix};
    /* loaded on every call: after a Redis restart or a failover the cache is empty, and a
     * pipelined EVALSHA has no NOSCRIPT retry */
    int rc = pa_redis_script_load(rd, &pa_jobs_leased);
    if (rc == 0) rc = pa_jobs_leased_append(rd, &lin, err, sizeof err);
    for (int i = 0; i < PA_NSERVICES && rc == 0; i++) {
        const char *a1[] = {"LLEN", pa_key_ready(ready[i], gw->cfg.prefix, pa_services[i])};
        const char *a2[] = {"GET", pa_key_ready_dead(rdead[i], gw->cfg.prefix, pa_services[i])};
        rc = pa_redis_append(rd, 2, a1, NULL) < 0 ? -1 : pa_redis_append(rd, 2, a2, NULL);
    }
    const char *ad[] = {"ZCARD", pa_key_delayed(delayed, gw->cfg.prefix)};
    const char *al[] = {"LLEN", pa_key_dead(dead, gw->cfg.prefix)};
    if (rc == 0) rc = pa_redis_append(rd, 2, ad, NULL);
    if (rc == 0) rc = pa_redis_append(rd, 2, al, NULL);
    int nrep = 1 + 2 * PA_NSERVICES + 2;
    redisReply *rep[1 + 2 * PA_NSERVICES + 2] = {0};
    for (int i = 0; i < nrep && rc == 0; i++)
        if (!(rep[i] = pa_redis_get_reply(rd))) rc = -1;
    pa_jobs_leased_out_t lo = {0};
    if (rc == 0 && pa_jobs_leased_parse(rep[0], &lo, err, sizeof err) < 0) {
        pa_error("queues: leased failed", PA_S("error", err));
        rc = -1;
    }
    if (rc < 0) {
        for (int i = 0; i < nrep; i++)
            if (rep[i]) freeReplyObject(rep[i]);
        gw_unavailable(r);
        return;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "{\"ready\":{");
    for (int i = 0; i < PA_NSERVICES; i++) {
        /* a queue's entries of cancelled tasks are not waiting (cancel.lua counts them) */
        long long n = rnum(rep[1 + 2 * i]), gone = rnum(rep[2 + 2 * i]);
        pa_buf_printf(&b, "%s\"%s\":%lld", i ? "," : "", pa_services[i], n > gone ? n - gone : 0);
    }
    pa_buf_printf(&b, "},\"delayed\":%lld,\"inflight\":%lld,\"dead\":%lld}", rnum(rep[nrep - 2]),
                  lo.leased, rnum(rep[nrep - 1]));
    for (int i = 0; i < nrep; i++) freeReplyObject(rep[i]);
    gw_reply_buf(r, 200, &b);
}

/* A dead letter (prelude.lua's dead_letter: {task, job, stage, attempts, reason, at}) with its
 * task's state now (NULL: the task is gone, its job expired). */
static void put_dead(pa_buf_t *b, const char *raw, size_t len, const redisReply *state)
{
    json_t *d = json_loadb(raw, len, 0, NULL);
    const char *tk = json_string_value(json_object_get(d, "task"));
    char id[PA_TASK_KEY_MAX + 8] = "";
    if (tk) gw_task_id_of(tk, id, sizeof id);
    const char *c = tk ? strrchr(tk, ':') : NULL;
    pa_buf_puts(b, "{\"task_id\":");
    pa_buf_json_str(b, id, strlen(id));
    pa_buf_puts(b, ",\"job_id\":");
    if (tk) pa_buf_json_str(b, tk, c ? (size_t)(c - tk) : strlen(tk));
    else pa_buf_puts(b, "null");
    static const char *const fields[] = {"stage", "attempts", "reason", "at"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(d, fields[i]);
        char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        pa_buf_printf(b, ",\"%s\":%s", fields[i], s ? s : "null");
        free(s);
    }
    pa_buf_puts(b, ",\"state\":");
    if (state && state->type == REDIS_REPLY_STRING) pa_buf_json_str(b, state->str, state->len);
    else pa_buf_puts(b, "null");
    pa_buf_puts(b, "}");
    json_decref(d);
}

void gw_h_dead_list(gw_t *gw, gw_req_t *r)
{
    static const char *const known[] = {"limit", "cursor", NULL};
    gw_valid_t v = GW_VALID(r);
    const char *bad = gw_arg_unknown(r, known);
    if (bad) {
        gw_valid_fail(&v, bad, "%.64s: unknown query parameter (limit, cursor)", bad);
        return;
    }
    size_t limit;
    if (gw_valid_limit(&v, gw_arg(r, "limit"), 50, 500, &limit) < 0) return;
    long offset = 0;
    const char *cur = gw_arg(r, "cursor");
    if (cur && *cur) {
        char *e;
        offset = strtol(cur, &e, 10);
        if (*e || offset < 0 || offset >= DEAD_MAX || strspn(cur, "0123456789") != strlen(cur)) {
            gw_valid_fail(&v, "cursor", "cursor: not a cursor from this API");
            return;
        }
    }
    pa_redis_t *rd = gw_redis(gw);
    char dead[PA_KEY_MAX];
    pa_key_dead(dead, gw->cfg.prefix);
    redisReply *n = pa_redis_cmd(rd, "LLEN %s", dead);
    redisReply *l =
        n ? pa_redis_cmd(rd, "LRANGE %s %ld %ld", dead, offset, offset + (long)limit - 1) : NULL;
    if (!l || l->type != REDIS_REPLY_ARRAY || n->type != REDIS_REPLY_INTEGER) {
        if (n) freeReplyObject(n);
        if (l) freeReplyObject(l);
        gw_unavailable(r);
        return;
    }
    /* each task's state now, in one pipeline */
    int ok = 1;
    for (size_t i = 0; i < l->elements && ok; i++) {
        json_t *d = json_loadb(l->element[i]->str, l->element[i]->len, 0, NULL);
        const char *tk = json_string_value(json_object_get(d, "task"));
        char key[PA_KEY_MAX];
        const char *av[] = {"HGET", pa_key_task(key, gw->cfg.prefix, tk ? tk : ""), "state"};
        ok = pa_redis_append(rd, 3, av, NULL) == 0;
        json_decref(d);
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "{\"items\":[");
    for (size_t i = 0; i < l->elements && ok; i++) {
        redisReply *st = pa_redis_get_reply(rd);
        if (!st) {
            ok = 0;
            break;
        }
        if (i) pa_buf_puts(&b, ",");
        put_dead(&b, l->element[i]->str, l->element[i]->len, st);
        freeReplyObject(st);
    }
    long long total = n->integer;
    long next = offset + (long)l->elements;
    pa_buf_printf(&b, "],\"total\":%lld,\"next_cursor\":", total);
    if (l->elements == limit && next < total) pa_buf_printf(&b, "\"%ld\"}", next);
    else pa_buf_puts(&b, "null}");
    freeReplyObject(n);
    freeReplyObject(l);
    if (!ok) {
        pa_buf_free(&b);
        gw_unavailable(r);
        return;
    }
    char tc[24];
    snprintf(tc, sizeof tc, "%lld", total);
    gw_reply_buf(r, 200, &b);
    gw_header(r, "X-Total-Count", tc);
}

void gw_h_task_requeue(gw_t *gw, gw_req_t *r)
{
    char tk[PA_TASK_KEY_MAX];
    /* the route's {id} holds what gw_id_valid allows; a task id is "<job>-<number>" */
    if (r->id_invalid || gw_task_key_of(r->id, strlen(r->id), tk) < 0) {
        gw_problem(r, 404, "not-found", NULL, "no task with this id (a task id is <job id>-<n>)");
        return;
    }
    pa_jobs_requeue_in_t in = {.prefix = gw->cfg.prefix, .key = tk};
    pa_jobs_requeue_out_t out;
    char err[256];
    if (pa_jobs_requeue_call(gw_redis(gw), &in, &out, err, sizeof err) < 0) {
        if (pa_redis_connected(gw_redis(gw)))
            pa_error("requeue failed", PA_S("task", tk), PA_S("error", err));
        gw_unavailable(r);
        return;
    }
    if (out.status == PA_REQUEUE_NOTFOUND) {
        gw_problem(r, 404, "not-found", NULL, "no task with this id");
        return;
    }
    if (out.status == PA_REQUEUE_NOT_FAILED) {
        gw_problem(r, 409, "conflict", NULL, "only a failed task can be requeued; this one is %s",
                   out.state);
        return;
    }
    pa_info("task requeued by an operator", PA_S("task", tk), PA_S("request_id", r->request_id));
    pa_buf_t b = PA_BUF_INIT;
    const char *c = strrchr(tk, ':');
    pa_buf_puts(&b, "{\"task_id\":");
    pa_buf_json_str(&b, r->id, strlen(r->id));
    pa_buf_puts(&b, ",\"job_id\":");
    pa_buf_json_str(&b, tk, (size_t)(c - tk));
    pa_buf_puts(&b, ",\"state\":\"queued\"}");
    gw_reply_buf(r, 200, &b);
}
