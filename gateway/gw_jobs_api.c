/* /api/jobs: list the campaign runs, read one, its tasks and its live events, cancel it. */
#include "gw_jobs_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_valid.h"
#include "pa_jobs.h"
#include "pa_log.h"

static const char *hget(const redisReply *h, const char *k)
{
    for (size_t i = 0; h && i + 1 < h->elements; i += 2)
        if (strcmp(h->element[i]->str, k) == 0) return h->element[i + 1]->str;
    return NULL;
}

static void put_str_or_null(pa_buf_t *b, const char *k, const char *v)
{
    pa_buf_printf(b, ",\"%s\":", k);
    if (v && *v) pa_buf_json_str(b, v, strlen(v));
    else pa_buf_puts(b, "null");
}

/* Renders a job from its HGETALL reply. */
static void render_job(pa_buf_t *b, const redisReply *h)
{
    pa_buf_puts(b, "{\"id\":");
    const char *id = hget(h, "id");
    pa_buf_json_str(b, id ? id : "", id ? strlen(id) : 0);
    put_str_or_null(b, "status", hget(h, "status"));
    put_str_or_null(b, "campaign_id", hget(h, "campaign_id"));
    long long total = atoll(hget(h, "total") ? hget(h, "total") : "0"), terminal = 0;
    pa_buf_printf(b, ",\"total\":%lld,\"counts\":{", total);
    for (int i = 0; i < PA_NSTATES; i++) {
        const char *c = hget(h, pa_task_states[i]);
        long long n = c ? atoll(c) : 0;
        if (i >= 2 && i != 4) terminal += n; /* all but queued, running, retry_wait */
        pa_buf_printf(b, "%s\"%s\":%lld", i ? "," : "", pa_task_states[i], n);
    }
    pa_buf_printf(b, "},\"progress\":%.4f,\"stages\":[",
                  total ? (double)terminal / (double)total : 1.0);
    const char *st = hget(h, "stages");
    for (const char *p = st ? st : ""; *p;) {
        size_t n = strcspn(p, ",");
        pa_buf_printf(b, "%s\"%.*s\"", p == st ? "" : ",", (int)n, p);
        p += n + (p[n] == ',');
    }
    pa_buf_putc(b, ']');
    const char *tp = hget(h, "tokens_prompt"), *tc = hget(h, "tokens_completion");
    pa_buf_printf(b, ",\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld}",
                  tp ? atoll(tp) : 0, tc ? atoll(tc) : 0);
    put_str_or_null(b, "created", hget(h, "created"));
    put_str_or_null(b, "started", hget(h, "started"));
    put_str_or_null(b, "updated", hget(h, "updated"));
    put_str_or_null(b, "finished", hget(h, "finished"));
    const char *ctx = hget(h, "ctx");
    json_t *c = ctx ? json_loads(ctx, 0, NULL) : NULL;
    json_t *opts = json_object_get(c, "options");
    if (opts) {
        char *o = json_dumps(opts, JSON_COMPACT);
        pa_buf_printf(b, ",\"options\":%s", o);
        free(o);
    }
    json_decref(c);
    pa_buf_putc(b, '}');
}

static redisReply *load_job(gw_t *gw, gw_req_t *r)
{
    if (r->id_invalid) {
        gw_problem(r, 404, "not-found", NULL, "no job with this id");
        return NULL;
    }
    char jk[PA_KEY_MAX];
    redisReply *h = pa_redis_cmd(gw_redis(gw), "HGETALL %s", pa_key_job(jk, gw->cfg.prefix, r->id));
    if (!h || h->type != REDIS_REPLY_ARRAY) {
        if (h) freeReplyObject(h);
        gw_unavailable(r);
        return NULL;
    }
    if (h->elements == 0) {
        freeReplyObject(h);
        gw_problem(r, 404, "not-found", NULL,
                   "no job with this id (finished jobs expire after JOB_RETENTION_S)");
        return NULL;
    }
    return h;
}

void gw_h_job_get(gw_t *gw, gw_req_t *r)
{
    redisReply *h = load_job(gw, r);
    if (!h) return;
    pa_buf_t b = PA_BUF_INIT;
    render_job(&b, h);
    freeReplyObject(h);
    gw_reply_buf(r, 200, &b);
}

void gw_h_job_cancel(gw_t *gw, gw_req_t *r)
{
    if (r->id_invalid) {
        gw_problem(r, 404, "not-found", NULL, "no job with this id");
        return;
    }
    pa_jobs_cancel_in_t in = {.prefix = gw->cfg.prefix, .job = r->id};
    pa_jobs_cancel_out_t out;
    char err[256];
    if (pa_jobs_cancel_call(gw_redis(gw), &in, &out, err, sizeof err) < 0) {
        if (pa_redis_connected(gw_redis(gw)))
            pa_error("cancel failed", PA_S("job_id", r->id), PA_S("error", err));
        gw_unavailable(r);
        return;
    }
    /* the workers that held running tasks of the job stop them now (a CANCEL message), not at
     * their next lease check */
    gw_dispatch_cancel(gw->dispatch, r->id, out.workers, out.nworkers);
    int notfound = out.status == PA_CANCEL_NOTFOUND, completed = out.status == PA_CANCEL_COMPLETED;
    pa_jobs_cancel_out_free(&out);
    if (notfound) {
        gw_problem(r, 404, "not-found", NULL, "no job with this id");
        return;
    }
    if (completed) {
        gw_problem(r, 409, "conflict", NULL, "the job has already completed");
        return;
    }
    gw_h_job_get(gw, r);
}

void gw_h_job_events(gw_t *gw, gw_req_t *r)
{
    redisReply *h = load_job(gw, r);
    if (!h) return;
    pa_buf_t b = PA_BUF_INIT;
    render_job(&b, h);
    const char *st = hget(h, "status");
    int finished = st && (strcmp(st, "completed") == 0 || strcmp(st, "cancelled") == 0);
    gw_events_respond(gw->events, r, r->id, gw_req_header(r, "Last-Event-ID"), b.data, finished);
    pa_buf_free(&b);
    freeReplyObject(h);
}

/* A page of GET /api/jobs being collected: newest first, filtered by status. */
typedef struct {
    const char *status; /* NULL: any */
    size_t limit, count, scanned;
    long long start; /* rank in the jobs index to read from */
    char last[GW_ID_MAX + 1];
    int more;
    pa_buf_t b;
} jobs_page_t;

/* Reads the next 100 jobs of the index into the page: 1 read some, 0 the index ended, -1 Redis
 * failed (no partial list). */
static int read_jobs(gw_t *gw, pa_redis_t *rd, jobs_page_t *pg)
{
    char jobs[PA_KEY_MAX];
    redisReply *ids = pa_redis_cmd(rd, "ZREVRANGE %s %lld %lld", pa_key_jobs(jobs, gw->cfg.prefix),
                                   pg->start, pg->start + 99);
    if (!ids || ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) {
        int rc = ids && ids->type == REDIS_REPLY_ARRAY ? 0 : -1;
        if (ids) freeReplyObject(ids);
        return rc;
    }
    for (size_t i = 0; i < ids->elements; i++) {
        char key[PA_KEY_MAX];
        const char *av[] = {"HGETALL", pa_key_job(key, gw->cfg.prefix, ids->element[i]->str)};
        pa_redis_append(rd, 2, av, NULL);
    }
    int rc = 1;
    for (size_t i = 0; i < ids->elements && rc > 0; i++) {
        redisReply *h = pa_redis_get_reply(rd);
        pg->scanned++;
        if (!h) { /* Redis went away mid-page */
            rc = -1;
            break;
        }
        int exists = h->type == REDIS_REPLY_ARRAY && h->elements; /* else it expired */
        const char *s = exists ? hget(h, "status") : NULL;
        if (exists && (!pg->status || (s && strcmp(s, pg->status) == 0))) {
            if (pg->count == pg->limit) {
                pg->more = 1;
            } else {
                if (pg->count++) pa_buf_putc(&pg->b, ',');
                render_job(&pg->b, h);
                snprintf(pg->last, sizeof pg->last, "%s", ids->element[i]->str);
            }
        }
        freeReplyObject(h);
    }
    pg->start += (long long)ids->elements;
    freeReplyObject(ids);
    return rc;
}

/* The rank after the job the cursor names: 0 and *start, or -1 answered. */
static int cursor_start(gw_t *gw, gw_req_t *r, gw_valid_t *v, const char *cursor, long long *start)
{
    *start = 0;
    if (!cursor || !*cursor) return 0;
    if (!gw_id_valid(cursor, strlen(cursor)))
        return gw_valid_fail(v, "cursor", "cursor: not a cursor from this API");
    char jobs[PA_KEY_MAX];
    redisReply *rk =
        pa_redis_cmd(gw_redis(gw), "ZREVRANK %s %s", pa_key_jobs(jobs, gw->cfg.prefix), cursor);
    if (!rk) {
        gw_unavailable(r);
        return -1;
    }
    int found = rk->type == REDIS_REPLY_INTEGER;
    if (found) *start = rk->integer + 1;
    freeReplyObject(rk);
    return found ? 0 : gw_valid_fail(v, "cursor", "cursor: that job no longer exists");
}

void gw_h_jobs_list(gw_t *gw, gw_req_t *r)
{
    static const char *const statuses[] = {"queued", "running", "completed", "cancelled"};
    jobs_page_t pg = {.b = PA_BUF_INIT};
    gw_valid_t v = GW_VALID(r);
    if (gw_valid_limit(&v, gw_arg(r, "limit"), 50, 500, &pg.limit) < 0) return;
    pg.status = gw_arg(r, "status");
    if (pg.status && !*pg.status) pg.status = NULL;
    int ok = !pg.status;
    for (int i = 0; i < 4 && !ok; i++) ok = strcmp(pg.status, statuses[i]) == 0;
    if (!ok) {
        gw_valid_fail(&v, "status", "status: one of queued, running, completed, cancelled");
        return;
    }
    if (cursor_start(gw, r, &v, gw_arg(r, "cursor"), &pg.start) < 0) return;
    pa_buf_putc(&pg.b, '[');
    int rc = 1;
    while (!pg.more && pg.scanned < 5000 && (rc = read_jobs(gw, gw_redis(gw), &pg)) > 0) {
    }
    if (rc < 0) {
        pa_buf_free(&pg.b);
        gw_unavailable(r);
        return;
    }
    pa_buf_putc(&pg.b, ']');
    gw_reply_buf(r, 200, &pg.b);
    if (pg.more || (pg.count == pg.limit && pg.scanned >= 5000)) {
        char link[256];
        snprintf(link, sizeof link, "</api/jobs?%s%s%slimit=%zu&cursor=%s>; rel=\"next\"",
                 pg.status ? "status=" : "", pg.status ? pg.status : "", pg.status ? "&" : "",
                 pg.limit, pg.last);
        gw_header(r, "Link", link);
    }
}

/* Renders task number i from its HGETALL reply; created stands for an untouched task's updated. */
static void render_task(pa_buf_t *b, long long i, const redisReply *h, const char *created)
{
    char tid[24];
    pa_buf_printf(b, "{\"id\":\"%s\"", pa_task_id(tid, (long)i));
    put_str_or_null(b, "target", hget(h, "target"));
    put_str_or_null(b, "stage", hget(h, "stage"));
    put_str_or_null(b, "state", hget(h, "state"));
    pa_buf_printf(b, ",\"attempt\":%s", hget(h, "attempt") ? hget(h, "attempt") : "0");
    put_str_or_null(b, "worker", hget(h, "worker"));
    put_str_or_null(b, "error", hget(h, "error"));
    const char *upd = hget(h, "updated");
    put_str_or_null(b, "updated", upd ? upd : (*created ? created : NULL));
    /* a CAPTCHA hand-off a person completed (POST /api/handoffs/{id}/complete) */
    if (hget(h, "handoff")) {
        pa_buf_puts(b, ",\"handoff\":{\"status\":");
        pa_buf_json_str(b, hget(h, "handoff"), strlen(hget(h, "handoff")));
        put_str_or_null(b, "completed_at", hget(h, "handoff_done_at"));
        put_str_or_null(b, "note", hget(h, "handoff_note"));
        pa_buf_putc(b, '}');
    }
    pa_buf_puts(b, ",\"results\":{");
    int first = 1;
    for (int k = 0; k < PA_NSTAGES; k++) {
        char f[32];
        snprintf(f, sizeof f, "result_%s", pa_stages[k]);
        const char *v = hget(h, f);
        if (!v) continue;
        pa_buf_printf(b, "%s\"%s\":%s", first ? "" : ",", pa_stages[k], v);
        first = 0;
    }
    pa_buf_puts(b, "}}");
}

/* A page of GET /api/jobs/{id}/tasks being collected: in task order, filtered by state. */
typedef struct {
    const char *state; /* NULL: any */
    size_t limit, count;
    long long from, total,
        last;         /* task numbers: the first to read, the job's count, the last shown */
    char created[40]; /* the job's: an untouched task's updated */
    int more;
    pa_buf_t b;
} tasks_page_t;

/* limit, state and cursor into pg; -1 answered. */
static int parse_tasks_query(gw_req_t *r, tasks_page_t *pg)
{
    gw_valid_t v = GW_VALID(r);
    if (gw_valid_limit(&v, gw_arg(r, "limit"), 100, 1000, &pg->limit) < 0) return -1;
    const char *cursor = gw_arg(r, "cursor");
    pg->state = gw_arg(r, "state");
    if (pg->state && !*pg->state) pg->state = NULL;
    if (pg->state && pa_state_index(pg->state) < 0)
        return gw_valid_fail(&v, "state",
                             "state: one of queued, running, succeeded, failed, retry_wait, "
                             "captcha_required, skipped, uncertain, cancelled");
    pg->from = 1;
    if (cursor && *cursor) {
        char *e;
        pg->from = strtoll(cursor, &e, 10) + 1;
        if (*e || pg->from < 2)
            return gw_valid_fail(&v, "cursor", "cursor: not a cursor from this API");
    }
    return 0;
}

/* Reads tasks pg->from.. (at most 256, pipelined) into the page; -1 when Redis failed. */
static int read_tasks(gw_t *gw, pa_redis_t *rd, const char *job, tasks_page_t *pg)
{
    long long end = pg->from + 255 > pg->total ? pg->total : pg->from + 255;
    for (long long i = pg->from; i <= end; i++) {
        char key[PA_KEY_MAX];
        const char *av[] = {"HGETALL", pa_key_task_n(key, gw->cfg.prefix, job, (long)i)};
        pa_redis_append(rd, 2, av, NULL);
    }
    for (long long i = pg->from; i <= end; i++) {
        redisReply *h = pa_redis_get_reply(rd);
        if (!h) return -1;
        const char *s = hget(h, "state");
        if (h->elements && (!pg->state || (s && strcmp(s, pg->state) == 0))) {
            if (pg->count == pg->limit) {
                pg->more = 1;
            } else {
                if (pg->count++) pa_buf_putc(&pg->b, ',');
                render_task(&pg->b, i, h, pg->created);
                pg->last = i;
            }
        }
        freeReplyObject(h);
    }
    pg->from = end + 1;
    return 0;
}

void gw_h_job_tasks(gw_t *gw, gw_req_t *r)
{
    tasks_page_t pg = {.b = PA_BUF_INIT};
    if (parse_tasks_query(r, &pg) < 0) return;
    redisReply *job = load_job(gw, r);
    if (!job) return;
    pg.total = atoll(hget(job, "total") ? hget(job, "total") : "0");
    /* a task never touched since the job was created has no updated of its own */
    if (hget(job, "created")) snprintf(pg.created, sizeof pg.created, "%s", hget(job, "created"));
    freeReplyObject(job);
    pa_buf_putc(&pg.b, '[');
    while (pg.from <= pg.total && !pg.more) {
        if (read_tasks(gw, gw_redis(gw), r->id, &pg) < 0) {
            pa_buf_free(&pg.b);
            gw_unavailable(r);
            return;
        }
    }
    pa_buf_putc(&pg.b, ']');
    gw_reply_buf(r, 200, &pg.b);
    char tc[24];
    snprintf(tc, sizeof tc, "%lld", pg.total);
    gw_header(r, "X-Total-Count", tc);
    if (pg.more) {
        char link[256];
        snprintf(link, sizeof link,
                 "</api/jobs/%s/tasks?%s%s%slimit=%zu&cursor=%lld>; rel=\"next\"", r->id,
                 pg.state ? "state=" : "", pg.state ? pg.state : "", pg.state ? "&" : "", pg.limit,
                 pg.last);
        gw_header(r, "Link", link);
    }
}
