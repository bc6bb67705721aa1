/* prospectctl: workers, queues, dead and watch. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_table.h"
#include "pa_events.h"
#include "pa_jobs.h"
#include "pa_keys.h"
#include "pa_time.h"

#define STALE_MS 5000 /* a worker not seen for longer than this is marked stale */
#define DEAD_DEFAULT_LIMIT 20
#define WATCH_BLOCK_MS 500 /* how long one XREAD waits; also how soon a signal is noticed */

/* ---- workers ------------------------------------------------------------------------------ */

typedef struct {
    const char *id;  /* borrowed from the HGETALL reply */
    const char *raw; /* its JSON value */
    json_t *doc;     /* parsed, or NULL */
    long long tasks;
} worker_t;

static int worker_cmp(const void *a, const void *b)
{
    return strcmp(((const worker_t *)a)->id, ((const worker_t *)b)->id);
}

static json_t *jget(json_t *doc, const char *k)
{
    json_t *v = json_is_object(doc) ? json_object_get(doc, k) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

int ctl_cmd_workers(ctl_t *c, const ctl_args_t *a)
{
    (void)a;
    char kb[PA_KEY_MAX];
    redisReply *h = ctl_check(c, pa_redis_cmd(c->r, "HGETALL %s", pa_key_workers(kb, c->prefix)));
    if (!h) return CTL_ERR;
    size_t n = h->type == REDIS_REPLY_ARRAY ? h->elements / 2 : 0;
    worker_t *w = pa_calloc(n ? n : 1, sizeof *w);
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = ctl_rstr(h->element[2 * i]), *raw = ctl_rstr(h->element[2 * i + 1]);
        if (!id) continue;
        w[nw].id = id;
        w[nw].raw = raw;
        w[nw].doc = raw ? json_loads(raw, 0, NULL) : NULL;
        nw++;
    }
    qsort(w, nw, sizeof *w, worker_cmp);

    int rc = CTL_OK;
    for (size_t i = 0; i < nw && rc == CTL_OK; i++) {
        const char *argv[2] = {"ZCARD", pa_key_worker_tasks(kb, c->prefix, w[i].id)};
        if (pa_redis_append(c->r, 2, argv, NULL) < 0) {
            ctl_unreachable(c);
            rc = CTL_ERR;
        }
    }
    for (size_t i = 0; i < nw && rc == CTL_OK; i++) {
        redisReply *r = ctl_check(c, pa_redis_get_reply(c->r));
        if (!r) {
            rc = CTL_ERR; /* the connection is not reused: the program ends */
            break;
        }
        w[i].tasks = ctl_rnum(r, 0);
        freeReplyObject(r);
    }

    if (rc == CTL_OK) {
        const long long now = (long long)pa_wall_ms();
        static const char *const hdr[] = {"WORKER",  "SERVICE", "CAPACITY", "CREDIT",
                                          "GATEWAY", "AGE",     "STATUS",   "TASKS"};
        static const unsigned fl[] = {
            0, 0, CTL_COL_RIGHT, CTL_COL_RIGHT, 0, CTL_COL_RIGHT, 0, CTL_COL_RIGHT};
        json_t *arr = c->json ? json_array() : NULL;
        ctl_table_t *t = c->json ? NULL : ctl_table_new(8, hdr, fl);
        for (size_t i = 0; i < nw; i++) {
            json_t *seen = jget(w[i].doc, "last_seen_ms");
            const int has_seen = json_is_integer(seen) || json_is_real(seen);
            const long long age = has_seen ? now - (long long)json_number_value(seen) : -1;
            const int stale = !has_seen || age > STALE_MS;
            json_t *svc = jget(w[i].doc, "service"), *cap = jget(w[i].doc, "capacity");
            json_t *cred = jget(w[i].doc, "credit"), *gw = jget(w[i].doc, "gateway");
            if (arr) {
                json_t *o = json_object();
                json_object_set_new(o, "worker", ctl_jstr(w[i].id));
                json_object_set(o, "service", svc ? svc : json_null());
                json_object_set(o, "capacity", cap ? cap : json_null());
                json_object_set(o, "credit", cred ? cred : json_null());
                json_object_set(o, "gateway", gw ? gw : json_null());
                json_object_set(o, "last_seen_ms", seen ? seen : json_null());
                json_object_set_new(o, "age_ms", has_seen ? json_integer(age) : json_null());
                json_object_set_new(o, "stale", json_boolean(stale));
                json_object_set_new(o, "tasks", json_integer(w[i].tasks));
                if (!json_is_object(w[i].doc)) json_object_set_new(o, "raw", ctl_jstr(w[i].raw));
                json_array_append_new(arr, o);
                continue;
            }
            char buf[64];
            ctl_table_row(t);
            ctl_table_set(t, 0, w[i].id, NULL);
            ctl_table_set(t, 1, json_is_string(svc) ? json_string_value(svc) : NULL, NULL);
            if (json_is_number(cap)) ctl_table_setf(t, 2, NULL, "%g", json_number_value(cap));
            else ctl_table_set(t, 2, NULL, NULL);
            if (json_is_number(cred)) ctl_table_setf(t, 3, NULL, "%g", json_number_value(cred));
            else ctl_table_set(t, 3, NULL, NULL);
            ctl_table_set(t, 4, json_is_string(gw) ? json_string_value(gw) : NULL, NULL);
            if (has_seen) ctl_fmt_age(age, buf, sizeof buf);
            ctl_table_set(t, 5, has_seen ? buf : NULL, NULL);
            ctl_table_set(t, 6, stale ? "stale" : "ok", stale ? ctl_state_color("stale") : "32");
            ctl_table_setf(t, 7, NULL, "%lld", w[i].tasks);
        }
        if (arr) ctl_print_json(arr, 0);
        else if (ctl_table_rows(t)) ctl_table_print(t, stdout, c->width, c->color);
        else puts("no workers");
        ctl_table_free(&t);
    }
    for (size_t i = 0; i < nw; i++) json_decref(w[i].doc);
    free(w);
    freeReplyObject(h);
    return rc;
}

/* ---- queues ------------------------------------------------------------------------------- */

int ctl_cmd_queues(ctl_t *c, const ctl_args_t *a)
{
    (void)a;
    /* a ready queue per service (pa_stages.h), then these */
    enum { RETRY = PA_NSERVICES, INFLIGHT, DEAD, NQ };
    char keys[NQ][PA_KEY_MAX];
    for (int i = 0; i < PA_NSERVICES; i++) pa_key_ready(keys[i], c->prefix, pa_services[i]);
    pa_key_delayed(keys[RETRY], c->prefix);
    pa_key_worker_tasks(keys[INFLIGHT], c->prefix, "*"); /* shown: every worker's lease set */
    pa_key_dead(keys[DEAD], c->prefix);
    long long depth[NQ];
    char err[256];
    /* one pipeline; the leased count (the sum of every worker's lease set: a read-only script)
     * goes first, since its first use loads the script */
    pa_jobs_leased_in_t lin = {.prefix = c->prefix};
    int rc = pa_jobs_leased_append(c->r, &lin, err, sizeof err);
    for (int i = 0; i < NQ && rc == 0; i++) {
        const char *argv[2] = {i == RETRY ? "ZCARD" : "LLEN", keys[i]};
        if (i != INFLIGHT) rc = pa_redis_append(c->r, 2, argv, NULL);
    }
    /* a queue's entries of cancelled tasks are not waiting (cancel.lua counts them) */
    char dead_keys[PA_NSERVICES][PA_KEY_MAX];
    for (int i = 0; i < PA_NSERVICES && rc == 0; i++) {
        const char *argv[2] = {"GET", pa_key_ready_dead(dead_keys[i], c->prefix, pa_services[i])};
        rc = pa_redis_append(c->r, 2, argv, NULL);
    }
    if (rc < 0) {
        ctl_unreachable(c);
        return CTL_ERR;
    }
    for (int k = 0; k < NQ; k++) {
        int i = k == 0 ? INFLIGHT : (k - 1 < INFLIGHT ? k - 1 : k); /* the order appended */
        redisReply *r = ctl_check(c, pa_redis_get_reply(c->r));
        if (!r) return CTL_ERR; /* the connection is not reused: the program ends */
        pa_jobs_leased_out_t lo;
        if (i == INFLIGHT)
            depth[i] = pa_jobs_leased_parse(r, &lo, err, sizeof err) == 0 ? lo.leased : 0;
        else depth[i] = ctl_rnum(r, 0);
        freeReplyObject(r);
    }
    for (int i = 0; i < PA_NSERVICES; i++) {
        redisReply *r = ctl_check(c, pa_redis_get_reply(c->r));
        if (!r) return CTL_ERR;
        long long dead = ctl_rnum(r, 0);
        freeReplyObject(r);
        depth[i] = depth[i] > dead ? depth[i] - dead : 0;
    }
    static const char *const names[] = {"delayed", "inflight", "dead"};
    if (c->json) {
        json_t *o = json_object(), *ready = json_object();
        for (int i = 0; i < PA_NSERVICES; i++)
            json_object_set_new(ready, pa_services[i], json_integer(depth[i]));
        json_object_set_new(o, "ready", ready);
        for (int i = RETRY; i < NQ; i++)
            json_object_set_new(o, names[i - RETRY], json_integer(depth[i]));
        ctl_print_json(o, 0);
        return CTL_OK;
    }
    static const char *const hdr[] = {"QUEUE", "KEY", "DEPTH"};
    static const unsigned fl[] = {0, 0, CTL_COL_RIGHT};
    static const char *const what[] = {"retry wait", "in flight", "dead letters"};
    ctl_table_t *t = ctl_table_new(3, hdr, fl);
    for (int i = 0; i < NQ; i++) {
        ctl_table_row(t);
        if (i < PA_NSERVICES) { /* "ready (enrich)": the stages the service runs */
            pa_buf_t w = PA_BUF_INIT;
            pa_buf_puts(&w, "ready (");
            for (int s = 0, k = 0; s < PA_NSTAGES_ALL; s++)
                if ((int)pa_stage_info[s].service == i)
                    pa_buf_printf(&w, "%s%s", k++ ? ", " : "", pa_stage_info[s].name);
            pa_buf_putc(&w, ')');
            ctl_table_set(t, 0, w.data, NULL);
            pa_buf_free(&w);
        } else {
            ctl_table_set(t, 0, what[i - RETRY], NULL);
        }
        ctl_table_set(t, 1, keys[i], NULL);
        ctl_table_setf(t, 2, depth[i] && i == DEAD ? "31" : NULL, "%lld", depth[i]);
    }
    ctl_table_print(t, stdout, c->width, c->color);
    ctl_table_free(&t);
    return CTL_OK;
}

/* ---- dead --------------------------------------------------------------------------------- */

int ctl_cmd_dead(ctl_t *c, const ctl_args_t *a)
{
    const long limit = a->limit < 0 ? DEAD_DEFAULT_LIMIT : a->limit;
    char kb[PA_KEY_MAX];
    redisReply *l = ctl_check(c, pa_redis_cmd(c->r, "LRANGE %s 0 %ld", pa_key_dead(kb, c->prefix),
                                              limit ? limit - 1 : -1L));
    if (!l) return CTL_ERR;
    size_t n = l->type == REDIS_REPLY_ARRAY ? l->elements : 0;
    static const char *const hdr[] = {"AT", "TASK", "STAGE", "ATTEMPTS", "REASON"};
    static const unsigned fl[] = {0, 0, 0, CTL_COL_RIGHT, CTL_COL_FLEX};
    json_t *arr = c->json ? json_array() : NULL;
    ctl_table_t *t = c->json ? NULL : ctl_table_new(5, hdr, fl);
    for (size_t i = 0; i < n; i++) {
        const char *raw = ctl_rstr(l->element[i]);
        json_t *doc = raw ? json_loads(raw, 0, NULL) : NULL;
        if (!json_is_object(doc)) {
            json_decref(doc);
            doc = json_object();
            json_object_set_new(doc, "raw", ctl_jstr(raw));
        }
        if (arr) {
            json_array_append_new(arr, doc);
            continue;
        }
        json_t *at = jget(doc, "at"), *task = jget(doc, "task"), *stage = jget(doc, "stage");
        json_t *att = jget(doc, "attempts"), *reason = jget(doc, "reason");
        ctl_table_row(t);
        ctl_table_set(t, 0, json_string_value(at), NULL);
        ctl_table_set(t, 1, json_string_value(task), NULL);
        ctl_table_set(t, 2, json_string_value(stage), NULL);
        if (json_is_number(att)) ctl_table_setf(t, 3, NULL, "%g", json_number_value(att));
        else ctl_table_set(t, 3, NULL, NULL);
        ctl_table_set(t, 4, reason ? json_string_value(reason) : raw, "31");
        json_decref(doc);
    }
    if (arr) ctl_print_json(arr, 0);
    else if (ctl_table_rows(t)) ctl_table_print(t, stdout, c->width, c->color);
    else puts("no dead letters");
    ctl_table_free(&t);
    freeReplyObject(l);
    return CTL_OK;
}

/* ---- watch -------------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

typedef struct {
    const ctl_t *c;
    const ctl_args_t *a;
    const char *id;
    long printed, limit; /* limit 0: no limit */
} watch_t;

/* Prints one change of a stream entry (when it passes the --job filter and the --count). */
static void print_event(const pa_event_t *ev, void *ud)
{
    watch_t *x = ud;
    const ctl_t *c = x->c;
    const char *job = pa_event_get(ev, "job");
    if (x->a->job && (!job || strcmp(job, x->a->job) != 0)) return;
    if (x->limit && x->printed >= x->limit) return;
    x->printed++;
    char id[64];
    if (ev->index) snprintf(id, sizeof id, "%s.%zu", x->id, ev->index);
    else snprintf(id, sizeof id, "%s", x->id);
    char when[25];
    ctl_fmt_time(strtoull(id, NULL, 10), when);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", ctl_jstr(id));
        json_object_set_new(o, "time", ctl_jstr(when));
        for (size_t i = 0; i < ev->n; i++) {
            const char *k = ev->k[i], *v = ev->v[i];
            if (!strcmp(k, "id") || !strcmp(k, "time")) continue;
            int numeric = !strcmp(k, "attempt") || !strcmp(k, "total");
            json_object_set_new(o, k, numeric ? ctl_jnum(v) : ctl_jstr(v));
        }
        ctl_print_json(o, 1);
        fflush(stdout); /* one line per event, as it happens, also into a pipe */
        return;
    }
    static const char *const cols[] = {"job", "task", "stage", "state"};
    static const int widths[] = {0, 6, 7, 16};
    pa_buf_t line = PA_BUF_INIT, b = PA_BUF_INIT;
    pa_buf_puts(&line, when);
    for (size_t k = 0; k < 4; k++) {
        const char *v = pa_event_get(ev, cols[k]);
        pa_buf_reset(&b);
        size_t w = ctl_text_clean(v ? v : "-", strlen(v ? v : "-"), &b);
        const char *color = k == 3 && c->color ? ctl_state_color(v) : NULL;
        pa_buf_puts(&line, "  ");
        if (color) pa_buf_printf(&line, "\033[%sm", color);
        pa_buf_put(&line, b.data, b.len);
        if (color) pa_buf_puts(&line, "\033[0m");
        for (; w < (size_t)widths[k]; w++) pa_buf_putc(&line, ' ');
    }
    const char *attempt = pa_event_get(ev, "attempt");
    if (attempt) pa_buf_printf(&line, "  attempt %s", attempt);
    /* the rest (worker, error, by, total, ...) as name=value, in the stream's order */
    for (size_t i = 0; i < ev->n; i++) {
        const char *k = ev->k[i], *v = ev->v[i];
        if (!strcmp(k, "job") || !strcmp(k, "task") || !strcmp(k, "stage") || !strcmp(k, "state") ||
            !strcmp(k, "attempt"))
            continue;
        pa_buf_puts(&line, "  ");
        ctl_text_clean(k, strlen(k), &line);
        pa_buf_putc(&line, '=');
        if (v) ctl_text_clean(v, strlen(v), &line);
    }
    while (line.len && line.data[line.len - 1] == ' ') line.len--; /* padding with nothing after */
    pa_buf_putc(&line, '\n');
    fwrite(line.data, 1, line.len, stdout);
    fflush(stdout);
    pa_buf_free(&line);
    pa_buf_free(&b);
}

int ctl_cmd_watch(ctl_t *c, const ctl_args_t *a)
{
    char kb[PA_KEY_MAX];
    pa_key_events(kb, c->prefix);
    /* Start after the newest entry (what '$' means), but by its id, so that no entry added
     * between two reads is missed. */
    redisReply *last = ctl_check(c, pa_redis_cmd(c->r, "XREVRANGE %s + - COUNT 1", kb));
    if (!last) {
        return CTL_ERR;
    }
    char from[64] = "0-0";
    if (last->type == REDIS_REPLY_ARRAY && last->elements == 1 &&
        last->element[0]->type == REDIS_REPLY_ARRAY && last->element[0]->elements >= 1 &&
        ctl_rstr(last->element[0]->element[0]))
        snprintf(from, sizeof from, "%s", last->element[0]->element[0]->str);
    freeReplyObject(last);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the wait at the next read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = CTL_OK, lost = 0;
    long printed = 0;
    while (!stop_signal && (a->count == 0 || printed < a->count)) {
        redisReply *rep =
            pa_redis_cmd(c->r, "XREAD COUNT 100 BLOCK %d STREAMS %s %s", WATCH_BLOCK_MS, kb, from);
        if (!rep) {
            if (stop_signal) break;
            if (!lost) {
                const char *why = pa_redis_errstr(c->r);
                if (strncmp(why, "redis: ", 7) == 0) why += 7;
                ctl_err("lost Redis at %s (%s); retrying until it is back or Ctrl-C",
                        pa_redis_url_safe(c->r), why);
            }
            lost = 1;
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            ctl_check(c, rep);
            rc = CTL_ERR;
            break;
        }
        if (lost) ctl_err("Redis is back");
        lost = 0;
        /* [[stream, [[id, [field, value, ...]], ...]]], or nil when the wait timed out */
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
            rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2 &&
            rep->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
            const redisReply *entries = rep->element[0]->element[1];
            for (size_t i = 0; i < entries->elements; i++) {
                const redisReply *e = entries->element[i];
                if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !ctl_rstr(e->element[0]))
                    continue;
                snprintf(from, sizeof from, "%s", e->element[0]->str);
                if (a->count && printed >= a->count) break;
                watch_t x = {c, a, e->element[0]->str, printed, a->count};
                pa_events_each(e->element[1], print_event, &x);
                printed = x.printed;
            }
        }
        freeReplyObject(rep);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return rc;
}
