/* prospectctl: jobs, job, tasks and requeue. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"
#include "pa_jobs.h"
#include "pa_keys.h"
#include "pa_mem.h"
#include "pa_time.h"

#define JOBS_DEFAULT_LIMIT 20
#define TASKS_DEFAULT_LIMIT 100
#define BATCH 256 /* commands per pipeline round trip */

/* Sends one HMGET per key, pipelined, and reads the replies into out[0..n). Returns 0, or -1
 * with the failure reported and nothing left allocated. */
static int hmget_many(ctl_t *c, char *const *keys, size_t n, const char *const *fields, int nfields,
                      redisReply **out)
{
    const int argc = nfields + 2;
    const char *argv[32];
    if (argc > (int)(sizeof argv / sizeof *argv)) return -1;
    argv[0] = "HMGET";
    for (int f = 0; f < nfields; f++) argv[f + 2] = fields[f];
    for (size_t i = 0; i < n; i++) {
        argv[1] = keys[i];
        if (pa_redis_append(c->r, argc, argv, NULL) < 0) {
            ctl_unreachable(c);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = pa_redis_get_reply(c->r);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == (size_t)nfields) {
            out[i] = rep;
            continue;
        }
        if (rep && rep->type != REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            rep = NULL;
            ctl_err("unexpected reply to HMGET %s", keys[i]);
        } else {
            ctl_check(c, rep);
        }
        for (size_t k = 0; k < i; k++) freeReplyObject(out[k]);
        /* drain the rest so the connection could be reused; it is dropped on I/O errors */
        for (size_t k = i + 1; k < n && pa_redis_connected(c->r); k++) {
            redisReply *rest = pa_redis_get_reply(c->r);
            if (rest) freeReplyObject(rest);
        }
        return -1;
    }
    return 0;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++) free(keys[i]);
}

/* Sum of the terminal counts (succeeded, failed, captcha_required, skipped, uncertain,
 * cancelled), given the nine counts in pa_task_states order. */
static long long done_count(const long long *counts)
{
    long long d = 0;
    for (int s = 0; s < PA_NSTATES; s++) {
        const char *st = pa_task_states[s];
        if (strcmp(st, "queued") && strcmp(st, "running") && strcmp(st, "retry_wait"))
            d += counts[s];
    }
    return d;
}

static json_t *counts_json(const long long *counts)
{
    json_t *o = json_object();
    for (int s = 0; s < PA_NSTATES; s++)
        json_object_set_new(o, pa_task_states[s], json_integer(counts[s]));
    return o;
}

/* ---- jobs --------------------------------------------------------------------------------- */

enum { JF_ID, JF_STATUS, JF_TOTAL, JF_COUNTS, JF_CREATED = JF_COUNTS + PA_NSTATES, JF_N };

static void jobs_emit(ctl_t *c, const redisReply *h, const char *id, json_t *arr, ctl_table_t *t)
{
    long long counts[PA_NSTATES];
    for (int s = 0; s < PA_NSTATES; s++) counts[s] = ctl_rnum(h->element[JF_COUNTS + s], 0);
    const char *status = ctl_rstr(h->element[JF_STATUS]);
    const char *jid = ctl_rstr(h->element[JF_ID]);
    if (!jid) jid = id;
    long long total = ctl_rnum(h->element[JF_TOTAL], 0);
    const char *created = ctl_rstr(h->element[JF_CREATED]);
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "id", ctl_jstr(jid));
        json_object_set_new(o, "status", ctl_jstr(status));
        json_object_set_new(o, "total", json_integer(total));
        json_object_set_new(o, "counts", counts_json(counts));
        json_object_set_new(o, "done", json_integer(done_count(counts)));
        json_object_set_new(o, "created", ctl_jstr(created));
        json_array_append_new(arr, o);
        return;
    }
    /* OTHER: captcha_required + skipped + uncertain + cancelled */
    long long other = counts[pa_state_index("captcha_required")] +
                      counts[pa_state_index("skipped")] + counts[pa_state_index("uncertain")] +
                      counts[pa_state_index("cancelled")];
    ctl_table_row(t);
    ctl_table_set(t, 0, jid, NULL);
    ctl_table_set(t, 1, status, ctl_state_color(status));
    ctl_table_setf(t, 2, NULL, "%lld", total);
    static const char *const shown[] = {"queued", "running", "succeeded", "failed", "retry_wait"};
    for (int k = 0; k < 5; k++) {
        long long v = counts[pa_state_index(shown[k])];
        ctl_table_setf(t, 3 + k, v ? ctl_state_color(shown[k]) : NULL, "%lld", v);
    }
    ctl_table_setf(t, 8, NULL, "%lld", other);
    ctl_table_set(t, 9, created, NULL);
}

int ctl_cmd_jobs(ctl_t *c, const ctl_args_t *a)
{
    const long limit = a->limit < 0 ? JOBS_DEFAULT_LIMIT : a->limit;
    const char *fields[JF_N];
    fields[JF_ID] = "id";
    fields[JF_STATUS] = "status";
    fields[JF_TOTAL] = "total";
    for (int s = 0; s < PA_NSTATES; s++) fields[JF_COUNTS + s] = pa_task_states[s];
    fields[JF_CREATED] = "created";

    static const char *const hdr[] = {"ID",        "STATUS", "TOTAL", "QUEUED", "RUNNING",
                                      "SUCCEEDED", "FAILED", "RETRY", "OTHER",  "CREATED"};
    static const unsigned fl[] = {0,
                                  0,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  CTL_COL_RIGHT,
                                  0};
    json_t *arr = c->json ? json_array() : NULL;
    ctl_table_t *t = c->json ? NULL : ctl_table_new(10, hdr, fl);
    char kb[PA_KEY_MAX];
    int rc = CTL_OK;
    long shown = 0;
    /* Ids whose hash has expired are skipped, so read on in batches until the limit is met. */
    for (long start = 0; limit == 0 || shown < limit; start += BATCH) {
        redisReply *ids =
            ctl_check(c, pa_redis_cmd(c->r, "ZREVRANGE %s %ld %ld", pa_key_jobs(kb, c->prefix),
                                      start, start + BATCH - 1));
        if (!ids) {
            rc = CTL_ERR;
            break;
        }
        size_t n = ids->type == REDIS_REPLY_ARRAY ? ids->elements : 0;
        char *keys[BATCH];
        redisReply *h[BATCH];
        for (size_t i = 0; i < n; i++)
            keys[i] = pa_strdup(
                pa_key_job(kb, c->prefix, ctl_rstr(ids->element[i]) ? ids->element[i]->str : ""));
        int ok = hmget_many(c, keys, n, fields, JF_N, h);
        free_keys(keys, n);
        if (ok < 0) {
            freeReplyObject(ids);
            rc = CTL_ERR;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (ctl_rstr(h[i]->element[JF_STATUS]) && (limit == 0 || shown < limit)) {
                jobs_emit(c, h[i], ids->element[i]->str, arr, t);
                shown++;
            }
            freeReplyObject(h[i]);
        }
        freeReplyObject(ids);
        if (n < BATCH) break;
    }
    if (rc == CTL_OK) {
        if (arr) {
            ctl_print_json(arr, 0);
            arr = NULL;
        } else if (ctl_table_rows(t)) {
            ctl_table_print(t, stdout, c->width, c->color);
        } else {
            puts("no jobs");
        }
    }
    json_decref(arr);
    ctl_table_free(&t);
    return rc;
}

/* ---- job ---------------------------------------------------------------------------------- */

static const char *hget(const redisReply *h, const char *field)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (ctl_rstr(h->element[i]) && strcmp(h->element[i]->str, field) == 0)
            return ctl_rstr(h->element[i + 1]);
    return NULL;
}

static void print_kv(const ctl_t *c, const char *k, const char *v, const char *color)
{
    pa_buf_t b = PA_BUF_INIT;
    ctl_text_clean(v ? v : "-", strlen(v ? v : "-"), &b);
    if (c->color && color) printf("%-10s\033[%sm%s\033[0m\n", k, color, b.data ? b.data : "");
    else printf("%-10s%s\n", k, b.data ? b.data : "");
    pa_buf_free(&b);
}

/* JSON text as a JSON value; the string itself when it does not parse. */
static json_t *json_or_string(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    return j ? j : ctl_jstr(s);
}

int ctl_cmd_job(ctl_t *c, const ctl_args_t *a)
{
    const char *id = a->pos[0];
    char kb[PA_KEY_MAX];
    pa_key_job(kb, c->prefix, id);
    redisReply *h = ctl_check(c, pa_redis_cmd(c->r, "HGETALL %s", kb));
    if (!h) return CTL_ERR;
    if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
        freeReplyObject(h);
        ctl_err("no job %s", id);
        return CTL_ERR;
    }
    redisReply *ttl = ctl_check(c, pa_redis_cmd(c->r, "TTL %s", kb));
    if (!ttl) {
        freeReplyObject(h);
        return CTL_ERR;
    }
    long long ttl_s = ttl->type == REDIS_REPLY_INTEGER ? ttl->integer : -1;
    freeReplyObject(ttl);

    long long counts[PA_NSTATES];
    for (int s = 0; s < PA_NSTATES; s++) {
        const char *v = hget(h, pa_task_states[s]);
        counts[s] = v ? strtoll(v, NULL, 10) : 0;
    }
    const char *total_s = hget(h, "total");
    long long total = total_s ? strtoll(total_s, NULL, 10) : 0;
    long long done = done_count(counts);
    double pct = total > 0 ? 100.0 * (double)done / (double)total : 0.0;
    const char *status = hget(h, "status"), *stages = hget(h, "stages");
    static const char *const times[] = {"created", "started", "updated", "finished"};

    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", ctl_jstr(hget(h, "id") ? hget(h, "id") : id));
        json_object_set_new(o, "status", ctl_jstr(status));
        json_object_set_new(o, "total", json_integer(total));
        json_object_set_new(o, "counts", counts_json(counts));
        json_object_set_new(o, "done", json_integer(done));
        json_object_set_new(o, "progress", json_real((double)(long long)(pct * 10.0 + 0.5) / 10.0));
        json_t *st = json_array();
        if (stages) {
            for (const char *p = stages; *p;) {
                size_t n = strcspn(p, ",");
                char *one = pa_strndup(p, n);
                json_array_append_new(st, ctl_jstr(one));
                free(one);
                p += n;
                if (*p == ',') p++;
            }
        }
        json_object_set_new(o, "stages", st);
        json_object_set_new(o, "campaign_id", ctl_jstr(hget(h, "campaign_id")));
        for (size_t i = 0; i < sizeof times / sizeof *times; i++)
            json_object_set_new(o, times[i], ctl_jstr(hget(h, times[i])));
        json_object_set_new(o, "max_attempts", json_or_string(hget(h, "max_attempts")));
        json_object_set_new(o, "ctx", json_or_string(hget(h, "ctx")));
        json_object_set_new(o, "retention_s", ctl_jnum(hget(h, "retention_s")));
        json_object_set_new(o, "ttl_s", ttl_s >= 0 ? json_integer(ttl_s) : json_null());
        ctl_print_json(o, 0);
        freeReplyObject(h);
        return CTL_OK;
    }

    char line[128];
    print_kv(c, "job", hget(h, "id") ? hget(h, "id") : id, NULL);
    print_kv(c, "status", status, ctl_state_color(status));
    print_kv(c, "campaign", hget(h, "campaign_id"), NULL);
    print_kv(c, "stages", stages, NULL);
    print_kv(c, "total", total_s, NULL);
    snprintf(line, sizeof line, "%.1f%% (%lld of %lld tasks finished)", pct, done, total);
    print_kv(c, "progress", line, NULL);
    for (size_t i = 0; i < sizeof times / sizeof *times; i++)
        print_kv(c, times[i], hget(h, times[i]), NULL);
    if (ttl_s >= 0) {
        char age[32];
        ctl_fmt_age(ttl_s * 1000, age, sizeof age);
        snprintf(line, sizeof line, "in %s", age);
        print_kv(c, "expires", line, NULL);
    }
    putchar('\n');
    static const char *const hdr[] = {"STATE", "TASKS"};
    static const unsigned fl[] = {0, CTL_COL_RIGHT};
    ctl_table_t *t = ctl_table_new(2, hdr, fl);
    for (int s = 0; s < PA_NSTATES; s++) {
        ctl_table_row(t);
        const char *color = counts[s] ? ctl_state_color(pa_task_states[s]) : NULL;
        ctl_table_set(t, 0, pa_task_states[s], color);
        ctl_table_setf(t, 1, color, "%lld", counts[s]);
    }
    ctl_table_print(t, stdout, c->width, c->color);
    ctl_table_free(&t);
    freeReplyObject(h);
    return CTL_OK;
}

/* ---- tasks -------------------------------------------------------------------------------- */

enum { TF_STAGE, TF_STATE, TF_ATTEMPT, TF_WORKER, TF_TARGET, TF_ERROR, TF_UPDATED, TF_N };

int ctl_cmd_tasks(ctl_t *c, const ctl_args_t *a)
{
    const char *id = a->pos[0];
    const long limit = a->limit < 0 ? TASKS_DEFAULT_LIMIT : a->limit;
    char kb[PA_KEY_MAX];
    redisReply *j = ctl_check(
        c, pa_redis_cmd(c->r, "HMGET %s status total created", pa_key_job(kb, c->prefix, id)));
    if (!j) return CTL_ERR;
    if (j->type != REDIS_REPLY_ARRAY || j->elements != 3 || !ctl_rstr(j->element[0])) {
        freeReplyObject(j);
        ctl_err("no job %s", id);
        return CTL_ERR;
    }
    const long long total = ctl_rnum(j->element[1], 0);
    /* a task never touched since the job was created has no updated of its own */
    char *created = ctl_rstr(j->element[2]) ? pa_strdup(ctl_rstr(j->element[2])) : NULL;
    freeReplyObject(j);

    static const char *const fields[TF_N] = {"stage",  "state", "attempt", "worker",
                                             "target", "error", "updated"};
    static const char *const hdr[] = {"TASK",   "STAGE",  "STATE", "ATTEMPT",
                                      "WORKER", "TARGET", "ERROR"};
    static const unsigned fl[] = {0, 0, 0, CTL_COL_RIGHT, 0, 0, CTL_COL_FLEX};
    json_t *arr = c->json ? json_array() : NULL;
    ctl_table_t *t = c->json ? NULL : ctl_table_new(7, hdr, fl);
    int rc = CTL_OK, more = 0;
    long shown = 0;
    for (long long first = 1; first <= total && rc == CTL_OK && !more; first += BATCH) {
        size_t n = (size_t)(total - first + 1 < BATCH ? total - first + 1 : BATCH);
        char *keys[BATCH], tids[BATCH][24];
        redisReply *h[BATCH];
        for (size_t i = 0; i < n; i++) {
            pa_task_id(tids[i], (long)(first + (long long)i));
            keys[i] = pa_strdup(pa_key_task_n(kb, c->prefix, id, (long)(first + (long long)i)));
        }
        int ok = hmget_many(c, keys, n, fields, TF_N, h);
        free_keys(keys, n);
        if (ok < 0) {
            rc = CTL_ERR;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            redisReply *r = h[i];
            const char *state = ctl_rstr(r->element[TF_STATE]);
            int want = state && (!a->state || strcmp(state, a->state) == 0);
            if (want && limit && shown >= limit) more = 1;
            if (want && !more) {
                shown++;
                const char *worker = ctl_rstr(r->element[TF_WORKER]);
                const char *error = ctl_rstr(r->element[TF_ERROR]);
                if (worker && !*worker) worker = NULL;
                if (error && !*error) error = NULL;
                if (arr) {
                    json_t *o = json_object();
                    json_object_set_new(o, "task", json_string(tids[i]));
                    char tk[PA_TASK_KEY_MAX];
                    json_object_set_new(
                        o, "key", ctl_jstr(pa_task_key(tk, id, (long)(first + (long long)i))));
                    json_object_set_new(o, "stage", ctl_jstr(ctl_rstr(r->element[TF_STAGE])));
                    json_object_set_new(o, "state", ctl_jstr(state));
                    json_object_set_new(o, "attempt",
                                        json_integer(ctl_rnum(r->element[TF_ATTEMPT], 0)));
                    json_object_set_new(o, "worker", ctl_jstr(worker));
                    json_object_set_new(o, "target", ctl_jstr(ctl_rstr(r->element[TF_TARGET])));
                    json_object_set_new(o, "error", ctl_jstr(error));
                    const char *upd = ctl_rstr(r->element[TF_UPDATED]);
                    json_object_set_new(o, "updated", ctl_jstr(upd ? upd : created));
                    json_array_append_new(arr, o);
                } else {
                    ctl_table_row(t);
                    ctl_table_set(t, 0, tids[i], NULL);
                    ctl_table_set(t, 1, ctl_rstr(r->element[TF_STAGE]), NULL);
                    ctl_table_set(t, 2, state, ctl_state_color(state));
                    ctl_table_set(t, 3, ctl_rstr(r->element[TF_ATTEMPT]), NULL);
                    ctl_table_set(t, 4, worker, NULL);
                    ctl_table_set(t, 5, ctl_rstr(r->element[TF_TARGET]), NULL);
                    ctl_table_set(t, 6, error, error ? "31" : NULL);
                }
            }
            freeReplyObject(r);
        }
    }
    if (rc == CTL_OK) {
        if (arr) {
            ctl_print_json(arr, 0);
            arr = NULL;
        } else if (ctl_table_rows(t)) {
            ctl_table_print(t, stdout, c->width, c->color);
        } else {
            printf("no tasks%s%s of %lld\n", a->state ? " in state " : "", a->state ? a->state : "",
                   total);
        }
        if (more && !c->json)
            fprintf(stderr, "(first %ld shown; --limit N for more, --limit 0 for all)\n", limit);
    }
    json_decref(arr);
    ctl_table_free(&t);
    free(created);
    return rc;
}

/* ---- requeue ------------------------------------------------------------------------------ */

int ctl_cmd_requeue(ctl_t *c, const ctl_args_t *a)
{
    const char *job = a->pos[0], *task = a->pos[1];
    size_t jlen = strlen(job);
    if (a->npos == 1) {
        const char *colon = strrchr(job, ':');
        if (!colon || colon == job || !colon[1]) {
            fprintf(stderr, "prospectctl: requeue wants a task as J:T or J T, not '%s'\n", job);
            return CTL_USAGE;
        }
        jlen = (size_t)(colon - job);
        task = colon + 1;
    }
    /* A task number may be given short: "42" is task 000042. */
    char tid[32];
    size_t tlen = strlen(task), digits = strspn(task, "0123456789");
    if (digits == tlen && tlen < PA_TASK_DIGITS) pa_task_id(tid, strtol(task, NULL, 10));
    else snprintf(tid, sizeof tid, "%.31s", task);
    pa_buf_t tk = PA_BUF_INIT;
    pa_buf_printf(&tk, "%.*s:%s", (int)jlen, job, tid);

    pa_jobs_requeue_in_t in = {.prefix = c->prefix, .key = tk.data};
    pa_jobs_requeue_out_t out;
    char err[256];
    if (pa_jobs_requeue_call(c->r, &in, &out, err, sizeof err) < 0) {
        if (pa_redis_connected(c->r)) ctl_err("requeue %s: %s", tk.data, err);
        else ctl_unreachable(c);
        pa_buf_free(&tk);
        return CTL_ERR;
    }
    int rc = CTL_ERR;
    const int ok = out.status == PA_REQUEUE_OK;
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "task", ctl_jstr(tk.data));
        json_object_set_new(o, "requeued", json_boolean(ok));
        json_object_set_new(o, "result", ctl_jstr(ok ? "requeued" : out.state));
        json_object_set_new(o, "state",
                            ctl_jstr(ok                                  ? "queued"
                                     : out.status == PA_REQUEUE_NOTFOUND ? NULL
                                                                         : out.state));
        ctl_print_json(o, 0);
        rc = ok ? CTL_OK : CTL_ERR;
    } else if (ok) {
        printf("requeued %s\n", tk.data);
        rc = CTL_OK;
    } else if (out.status == PA_REQUEUE_NOTFOUND) {
        ctl_err("no task %s", tk.data);
    } else {
        ctl_err("task %s is %s, not failed: not requeued", tk.data, out.state);
    }
    pa_buf_free(&tk);
    return rc;
}
