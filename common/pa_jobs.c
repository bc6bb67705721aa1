/* The job engine's scripts, embedded from common/lua/ at build time, and their typed wrappers:
 * each script's ARGV list is written here and nowhere else. */
#include "pa_jobs.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"
#include "pa_mem.h"
#include "pa_time.h"

#define SCRIPT(name)                                                                               \
    extern const char pa_lua_##name[];                                                             \
    pa_script_t pa_jobs_##name = PA_SCRIPT(pa_lua_##name);

SCRIPT(create)
SCRIPT(dispatch)
SCRIPT(commit)
SCRIPT(maintain)
SCRIPT(worker_lost)
SCRIPT(release)
SCRIPT(renew)
SCRIPT(cancel)
SCRIPT(requeue)
SCRIPT(leased)
SCRIPT(claim)
SCRIPT(reconcile)
SCRIPT(unclaim)

const char *const pa_task_states[PA_NSTATES] = {"queued",  "running",    "succeeded",
                                                "failed",  "retry_wait", "captcha_required",
                                                "skipped", "uncertain",  "cancelled"};

int pa_state_index(const char *state)
{
    for (int i = 0; i < PA_NSTATES; i++)
        if (strcmp(state, pa_task_states[i]) == 0) return i;
    return -1;
}

static const char *const outcome_names[PA_JOBS_NOUTCOMES] = {
#define NAME(e, s) #s,
    PA_JOBS_OUTCOMES(NAME)
#undef NAME
};

const char *pa_jobs_outcome_name(pa_jobs_outcome_t o)
{
    return (unsigned)o < PA_JOBS_NOUTCOMES ? outcome_names[o] : "failed";
}

int pa_jobs_outcome_parse(const char *name)
{
    for (int i = 0; name && i < PA_JOBS_NOUTCOMES; i++)
        if (strcmp(name, outcome_names[i]) == 0) return i;
    return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- ARGV lists ----------------------------------------------------------------------------- */

/* Short lists live in the struct (on the caller's stack); long ones (a batch of tasks) take one
 * allocation per call, none per task. */
typedef pa_jobs_args_t args_t;
typedef char num_t[24];

static void args_init(args_t *a, size_t nargs, size_t nnums)
{
    a->argc = a->nnum = 0;
    a->cap = (int)nargs, a->numcap = (int)nnums;
    a->heap = NULL;
    if (nargs <= PA_JOBS_ARGS_INLINE && nnums <= PA_JOBS_NUMS_INLINE) {
        a->argv = a->argv_inline;
        a->num = a->num_inline;
        return;
    }
    a->heap = pa_malloc(nargs * sizeof *a->argv + nnums * sizeof(num_t));
    a->argv = a->heap;
    a->num = (num_t *)(void *)(a->argv + nargs);
}

void pa_jobs_args_free(pa_jobs_args_t *a)
{
    free(a->heap);
    a->heap = NULL;
    a->argv = NULL;
    a->argc = 0;
}

static void args_free(args_t *a)
{
    pa_jobs_args_free(a);
}

static void arg(args_t *a, const char *s)
{
    assert(a->argc < a->cap);
    a->argv[a->argc++] = s ? s : "";
}

static void arg_ll(args_t *a, long long v)
{
    assert(a->nnum < a->numcap);
    char *p = a->num[a->nnum++];
    snprintf(p, sizeof(num_t), "%lld", v);
    arg(a, p);
}

static void arg_ull(args_t *a, unsigned long long v)
{
    assert(a->nnum < a->numcap);
    char *p = a->num[a->nnum++];
    snprintf(p, sizeof(num_t), "%llu", v);
    arg(a, p);
}

static uint64_t now_or(uint64_t ms)
{
    return ms ? ms : pa_wall_ms();
}

/* The now ms and now iso pair most scripts take. */
static void arg_now(args_t *a, uint64_t now_ms, int with_ms)
{
    pa_time_rfc3339(now_ms, a->iso);
    if (with_ms) arg_ull(a, now_ms);
    arg(a, a->iso);
}

static redisReply *eval(pa_redis_t *r, pa_script_t *s, args_t *a, char *err, size_t errlen)
{
    redisReply *rep = pa_redis_eval(r, s, 0, a->argc, a->argv, NULL);
    args_free(a);
    if (!rep) {
        fail(err, errlen, "redis unreachable: %s", pa_redis_errstr(r));
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        fail(err, errlen, "script error: %s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static int is_str(const redisReply *e)
{
    return e && e->type == REDIS_REPLY_STRING;
}

static int integer_reply(const redisReply *rep, long long *v, char *err, size_t errlen)
{
    if (!rep || rep->type != REDIS_REPLY_INTEGER)
        return fail(err, errlen, "unexpected answer (type %d)", rep ? rep->type : -1);
    *v = rep->integer;
    return 0;
}

/* ---- leased tasks --------------------------------------------------------------------------- */

/* Values per task: key, stage, lease, attempt, expiry, target, input, context, the results
 * (PA_NRESULTS), then in dispatch.lua's answer the max attempts. */
#define TASK_VALUES (8 + PA_NRESULTS)

void pa_jobs_leases_free(pa_jobs_leases_t *l)
{
    free(l->tasks);
    if (l->reply) freeReplyObject(l->reply);
    memset(l, 0, sizeof *l);
}

void pa_jobs_leases_move(pa_jobs_leases_t *dst, pa_jobs_leases_t *src)
{
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* A value the script may give as nil (a field the task hash lacks): "" then. */
static const char *opt_str(const redisReply *e, size_t *len)
{
    if (is_str(e)) {
        *len = e->len;
        return e->str;
    }
    *len = 0;
    return "";
}

/* Takes reply (freed on failure). */
static int leases_parse(pa_jobs_leases_t *l, redisReply *reply, size_t first, int with_max,
                        unsigned max_attempts, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    const size_t stride = TASK_VALUES + (with_max ? 1 : 0);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < first ||
        (reply->elements - first) % stride) {
        fail(err, errlen, "unexpected answer: not %zu values per leased task", stride);
        if (reply) freeReplyObject(reply);
        return -1;
    }
    size_t n = (reply->elements - first) / stride;
    l->tasks = n ? pa_malloc(n * sizeof *l->tasks) : NULL;
    const redisReply *ctx = NULL; /* given once per run of tasks of the same job */
    for (size_t i = 0; i < n; i++) {
        redisReply **e = reply->element + first + i * stride;
        if (!is_str(e[0]) || !is_str(e[1]) || !is_str(e[2]) || !is_str(e[3]) || !is_str(e[4])) {
            free(l->tasks);
            l->tasks = NULL;
            freeReplyObject(reply);
            return fail(err, errlen, "unexpected answer: leased task %zu is malformed", i);
        }
        pa_jobs_task_t *t = &l->tasks[i];
        t->key = e[0]->str;
        const char *colon = strrchr(t->key, ':');
        t->job_len = colon ? (size_t)(colon - t->key) : e[0]->len;
        t->stage = e[1]->str;
        t->lease = e[2]->str;
        t->attempt = (unsigned)strtoul(e[3]->str, NULL, 10);
        t->lease_until_ms = strtoull(e[4]->str, NULL, 10);
        t->target = opt_str(e[5], &t->target_len);
        t->input = opt_str(e[6], &t->input_len);
        if (!t->input_len) t->input = "{}", t->input_len = 2;
        if (!ctx || (is_str(e[7]) && e[7]->len)) ctx = e[7];
        t->ctx = opt_str(ctx, &t->ctx_len);
        if (!t->ctx_len) t->ctx = "{}", t->ctx_len = 2;
        for (int k = 0; k < PA_NRESULTS; k++) {
            t->results[k] = opt_str(e[8 + k], &t->results_len[k]);
            if (!t->results_len[k]) t->results[k] = NULL;
        }
        t->max_attempts = with_max && is_str(e[TASK_VALUES])
                              ? (unsigned)strtoul(e[TASK_VALUES]->str, NULL, 10)
                              : max_attempts;
    }
    l->n = n;
    l->reply = reply;
    return 0;
}

/* ---- create --------------------------------------------------------------------------------- */

/* The job's fields create.lua reads from one JSON argument. */
static void create_meta(pa_buf_t *b, const pa_jobs_create_in_t *in)
{
    pa_buf_puts(b, "{\"campaign_id\":");
    const char *c = in->campaign_id ? in->campaign_id : "";
    pa_buf_json_str(b, c, strlen(c));
    pa_buf_puts(b, ",\"ctx\":");
    c = in->ctx ? in->ctx : "{}";
    pa_buf_json_str(b, c, strlen(c));
    pa_buf_puts(b, ",\"stages\":");
    pa_buf_json_str(b, in->stages, strlen(in->stages));
    /* max_attempts is itself JSON text, stored as is in the job hash */
    pa_buf_t m = PA_BUF_INIT;
    pa_buf_putc(&m, '{');
    for (int s = 0; s < PA_NSTAGES_ALL; s++)
        if (in->max_attempts[s] > 0)
            pa_buf_printf(&m, "%s\"%s\":%ld", m.len > 1 ? "," : "", pa_stage_info[s].name,
                          in->max_attempts[s]);
    pa_buf_putc(&m, '}');
    pa_buf_puts(b, ",\"max_attempts\":");
    pa_buf_json_str(b, m.data, m.len);
    pa_buf_free(&m);
    pa_buf_printf(b, ",\"retention_s\":%ld", in->retention_s);
    if (in->unlisted) pa_buf_puts(b, ",\"listed\":false");
    pa_buf_putc(b, '}');
}

/* The tries of the job's first stage, for the tasks leased at once. */
static unsigned first_stage_max(const pa_jobs_create_in_t *in)
{
    char first[32];
    size_t len = strcspn(in->stages, ",");
    snprintf(first, sizeof first, "%.*s", (int)(len < sizeof first ? len : sizeof first - 1),
             in->stages);
    int s = pa_stage_find(first);
    if (s < 0) return 0;
    return (unsigned)(in->max_attempts[s] > 0 ? in->max_attempts[s]
                                              : pa_stage_info[s].max_attempts);
}

int pa_jobs_create_call(pa_redis_t *r, const pa_jobs_create_in_t *in, pa_jobs_create_out_t *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    uint64_t now = now_or(in->now_ms);
    pa_buf_t meta = PA_BUF_INIT, idem = PA_BUF_INIT;
    create_meta(&meta, in);
    if (in->idem && *in->idem) pa_buf_printf(&idem, "key%d:%s", in->idem_key_index, in->idem);
    char rate[32];
    snprintf(rate, sizeof rate, "%.9f", in->rate_per_ms);
    args_t a;
    args_init(&a, 15 + 2 * in->n, 8);
    /* ARGV as create.lua reads it */
    arg(&a, in->prefix);
    arg(&a, in->job);
    arg_now(&a, now, 1);
    arg(&a, idem.data);
    arg_ll(&a, in->idem_ttl_s);
    arg_ll(&a, in->max_queued);
    arg(&a, meta.data);
    arg_ull(&a, in->n);
    arg(&a, in->rate_key);
    arg(&a, rate);
    arg_ll(&a, in->burst);
    for (size_t i = 0; i < in->n; i++) {
        arg(&a, in->targets[i]);
        arg(&a, in->inputs[i]);
    }
    if (in->lease_worker && *in->lease_worker && in->lease_k) {
        arg(&a, in->lease_worker);
        arg_ull(&a, in->lease_k);
        arg_ll(&a, in->lease_ms);
    }
    redisReply *rep = eval(r, &pa_jobs_create, &a, err, errlen);
    pa_buf_free(&meta);
    pa_buf_free(&idem);
    if (!rep) return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 || !is_str(rep->element[0]) ||
        !is_str(rep->element[1])) {
        freeReplyObject(rep);
        return fail(err, errlen, "unexpected answer from create");
    }
    const char *what = rep->element[0]->str, *val = rep->element[1]->str;
    if (strcmp(what, "created") == 0 || strcmp(what, "exists") == 0) {
        out->status = what[0] == 'c' ? PA_JOBS_CREATED : PA_JOBS_EXISTS;
        snprintf(out->job, sizeof out->job, "%s", val);
    } else if (strcmp(what, "full") == 0) {
        out->status = PA_JOBS_FULL;
        out->depth = atoll(val);
    } else if (strcmp(what, "limited") == 0) {
        out->status = PA_JOBS_LIMITED;
        out->wait_ms = atoll(val);
    } else {
        freeReplyObject(rep);
        return fail(err, errlen, "unexpected answer from create: %s", what);
    }
    if (out->status != PA_JOBS_CREATED || rep->elements == 2) {
        freeReplyObject(rep);
        return 0;
    }
    return leases_parse(&out->leased, rep, 2, 0, first_stage_max(in), err, errlen);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

void pa_jobs_dispatch_args(const pa_jobs_dispatch_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 8, 3);
    /* ARGV as dispatch.lua reads it */
    arg(a, in->prefix);
    arg(a, in->service);
    arg_ull(a, in->n);
    arg(a, in->worker);
    arg_now(a, now_or(in->now_ms), 1);
    arg_ll(a, in->lease_ms);
    arg(a, in->via ? in->via : "");
}

int pa_jobs_dispatch_call(pa_redis_t *r, const pa_jobs_dispatch_in_t *in, pa_jobs_leases_t *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_dispatch_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_dispatch, &a, err, errlen);
    if (!rep) return -1;
    return leases_parse(out, rep, 0, 1, 0, err, errlen);
}

/* ---- commit --------------------------------------------------------------------------------- */

void pa_jobs_commit_args(const pa_jobs_commit_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 5 + 6 * in->n, 2 + in->n);
    /* ARGV as commit.lua reads it */
    arg(a, in->prefix);
    arg(a, in->worker);
    arg_now(a, now_or(in->now_ms), 1);
    arg_ull(a, in->n);
    for (size_t i = 0; i < in->n; i++) {
        const pa_jobs_commit_item_t *o = &in->items[i];
        arg(a, o->key);
        arg(a, o->lease);
        arg(a, pa_jobs_outcome_name(o->outcome));
        arg(a, o->result);
        arg(a, o->error);
        arg_ll(a, o->delay_ms);
    }
}

int pa_jobs_commit_parse(const redisReply *rep, size_t n, pa_jobs_commit_out_t *out, char *err,
                         size_t errlen)
{
    out->ok = out->nstale = 0;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            return fail(err, errlen, "script error: %s", rep->str);
        return fail(err, errlen, "unexpected answer from commit");
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];
        int ok = is_str(e) && strcmp(e->str, "ok") == 0;
        if (out->stale) out->stale[i] = !ok;
        if (ok) out->ok++;
        else out->nstale++;
    }
    return 0;
}

int pa_jobs_commit_call(pa_redis_t *r, const pa_jobs_commit_in_t *in, pa_jobs_commit_out_t *out,
                        char *err, size_t errlen)
{
    args_t a;
    pa_jobs_commit_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_commit, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_commit_parse(rep, in->n, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

int pa_jobs_commit_append(pa_redis_t *r, const pa_jobs_commit_in_t *in, char *err, size_t errlen)
{
    args_t a;
    pa_jobs_commit_args(in, &a);
    /* hiredis copies the command into its output buffer: the list is not needed after this */
    int rc = pa_redis_append_evalsha(r, &pa_jobs_commit, 0, a.argc, a.argv, NULL);
    args_free(&a);
    if (rc < 0) return fail(err, errlen, "redis unreachable: %s", pa_redis_errstr(r));
    return 0;
}

int pa_jobs_commit_read(pa_redis_t *r, int wait_ms, size_t n, pa_jobs_commit_out_t *out, char *err,
                        size_t errlen)
{
    redisReply *rep = wait_ms < 0 ? pa_redis_get_reply(r) : pa_redis_wait_reply(r, wait_ms);
    if (!rep && wait_ms >= 0 && pa_redis_connected(r)) return 1;
    if (!rep) return fail(err, errlen, "redis unreachable: %s", pa_redis_errstr(r));
    /* Redis lost its script cache (restarted): the next append loads it again */
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0)
        atomic_store(&pa_jobs_commit.have_sha, 0);
    int rc = pa_jobs_commit_parse(rep, n, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

/* ---- maintain, worker_lost ------------------------------------------------------------------ */

void pa_jobs_maintain_args(const pa_jobs_maintain_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 4, 2);
    /* ARGV as maintain.lua reads it */
    arg(a, in->prefix);
    arg_now(a, now_or(in->now_ms), 1);
    arg_ll(a, in->limit);
}

int pa_jobs_maintain_parse(const redisReply *rep, pa_jobs_maintain_out_t *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        return fail(err, errlen, "unexpected answer from maintain");
    out->promoted = rep->element[0]->integer, out->requeued = rep->element[1]->integer;
    return 0;
}

int pa_jobs_maintain_call(pa_redis_t *r, const pa_jobs_maintain_in_t *in,
                          pa_jobs_maintain_out_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_maintain_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_maintain, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_maintain_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

void pa_jobs_worker_lost_args(const pa_jobs_worker_lost_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 5, 0);
    /* ARGV as worker_lost.lua reads it */
    arg(a, in->prefix);
    arg(a, in->worker);
    arg_now(a, now_or(in->now_ms), 0);
    arg(a, in->counted ? "1" : "0");
    if (in->instance) arg(a, in->instance);
}

int pa_jobs_worker_lost_parse(const redisReply *rep, pa_jobs_worker_lost_out_t *out, char *err,
                              size_t errlen)
{
    out->requeued = 0;
    return integer_reply(rep, &out->requeued, err, errlen);
}

int pa_jobs_worker_lost_call(pa_redis_t *r, const pa_jobs_worker_lost_in_t *in,
                             pa_jobs_worker_lost_out_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_worker_lost_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_worker_lost, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_worker_lost_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

/* ---- release, renew ------------------------------------------------------------------------- */

void pa_jobs_release_args(const pa_jobs_release_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 4 + 2 * in->n, 1);
    /* ARGV as release.lua reads it */
    arg(a, in->prefix);
    arg(a, in->worker);
    arg_now(a, now_or(in->now_ms), 0);
    arg_ull(a, in->n);
    for (size_t i = 0; i < in->n; i++) {
        arg(a, in->tasks[i].key);
        arg(a, in->tasks[i].lease);
    }
}

int pa_jobs_release_parse(const redisReply *rep, pa_jobs_release_out_t *out, char *err,
                          size_t errlen)
{
    out->released = 0;
    return integer_reply(rep, &out->released, err, errlen);
}

int pa_jobs_release_call(pa_redis_t *r, const pa_jobs_release_in_t *in, pa_jobs_release_out_t *out,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_release_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_release, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_release_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

void pa_jobs_renew_args(const pa_jobs_renew_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 5 + 3 * in->n, 2 + in->n);
    /* ARGV as renew.lua reads it */
    arg(a, in->prefix);
    arg(a, in->worker);
    arg_ull(a, in->n);
    for (size_t i = 0; i < in->n; i++) {
        arg(a, in->tasks[i].key);
        arg(a, in->tasks[i].lease);
        arg_ull(a, in->tasks[i].until_ms);
    }
    if (in->instance && in->alive_ms > 0) {
        arg(a, in->instance);
        arg_ll(a, in->alive_ms);
    }
}

int pa_jobs_renew_parse(const redisReply *rep, size_t n, pa_jobs_renew_out_t *out, char *err,
                        size_t errlen)
{
    out->held = out->cancelled = out->lost = 0;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            return fail(err, errlen, "script error: %s", rep->str);
        return fail(err, errlen, "unexpected answer from renew");
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];
        pa_jobs_lease_state_t st = !is_str(e)                         ? PA_LEASE_LOST
                                   : strcmp(e->str, "ok") == 0        ? PA_LEASE_HELD
                                   : strcmp(e->str, "cancelled") == 0 ? PA_LEASE_CANCELLED
                                                                      : PA_LEASE_LOST;
        if (out->state) out->state[i] = st;
        if (st == PA_LEASE_HELD) out->held++;
        else if (st == PA_LEASE_CANCELLED) out->cancelled++;
        else out->lost++;
    }
    return 0;
}

int pa_jobs_renew_call(pa_redis_t *r, const pa_jobs_renew_in_t *in, pa_jobs_renew_out_t *out,
                       char *err, size_t errlen)
{
    args_t a;
    pa_jobs_renew_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_renew, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_renew_parse(rep, in->n, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

/* ---- reconcile ------------------------------------------------------------------------------ */

int pa_jobs_reconcile_call(pa_redis_t *r, const pa_jobs_reconcile_in_t *in,
                           pa_jobs_reconcile_out_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t n = in->with_held ? in->n : 0;
    args_t a;
    args_init(&a, 6 + 2 * n, 1);
    /* ARGV as reconcile.lua reads it */
    arg(&a, in->prefix);
    arg(&a, in->worker);
    arg(&a, in->via);
    arg_now(&a, now_or(in->now_ms), 0);
    arg(&a, in->instance);
    arg_ll(&a, in->with_held ? (long long)n : -1);
    for (size_t i = 0; i < n; i++) {
        arg(&a, in->held[i].key);
        arg(&a, in->held[i].lease);
    }
    redisReply *rep = eval(r, &pa_jobs_reconcile, &a, err, errlen);
    if (!rep) return -1;
    int rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        rc = fail(err, errlen, "unexpected answer from reconcile");
    else out->released = rep->element[0]->integer, out->requeued = rep->element[1]->integer;
    freeReplyObject(rep);
    return rc;
}

/* ---- claim ---------------------------------------------------------------------------------- */

void pa_jobs_claim_args(const pa_jobs_claim_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 6, 1);
    /* ARGV as claim.lua reads it */
    arg(a, in->prefix);
    arg(a, in->worker);
    arg(a, in->key);
    arg(a, in->lease);
    arg(a, in->name);
    arg_ll(a, in->ttl_s);
}

int pa_jobs_claim_parse(const redisReply *rep, pa_jobs_claim_out_t *out, char *err, size_t errlen)
{
    if (!is_str(rep)) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            return fail(err, errlen, "script error: %s", rep->str);
        return fail(err, errlen, "unexpected answer from claim");
    }
    if (strcmp(rep->str, "ok") == 0) out->status = PA_JOBS_CLAIM_OK;
    else if (strcmp(rep->str, "taken") == 0) out->status = PA_JOBS_CLAIM_TAKEN;
    else if (strcmp(rep->str, "cancelled") == 0) out->status = PA_JOBS_CLAIM_CANCELLED;
    else if (strcmp(rep->str, "stale") == 0) out->status = PA_JOBS_CLAIM_STALE;
    else return fail(err, errlen, "unexpected answer from claim: %s", rep->str);
    return 0;
}

void pa_jobs_unclaim_args(const pa_jobs_unclaim_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 4, 0);
    /* ARGV as unclaim.lua reads it */
    arg(a, in->prefix);
    arg(a, in->key);
    arg(a, in->lease);
    arg(a, in->name);
}

int pa_jobs_claim_call(pa_redis_t *r, const pa_jobs_claim_in_t *in, pa_jobs_claim_out_t *out,
                       char *err, size_t errlen)
{
    args_t a;
    pa_jobs_claim_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_claim, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_claim_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

/* ---- cancel, requeue ------------------------------------------------------------------------ */

void pa_jobs_cancel_args(const pa_jobs_cancel_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 4, 0);
    /* ARGV as cancel.lua reads it; '1': answer with the workers that held running tasks */
    arg(a, in->prefix);
    arg(a, in->job);
    arg_now(a, now_or(in->now_ms), 0);
    arg(a, "1");
}

int pa_jobs_cancel_call(pa_redis_t *r, const pa_jobs_cancel_in_t *in, pa_jobs_cancel_out_t *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_cancel_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_cancel, &a, err, errlen);
    if (!rep) return -1;
    const redisReply *st = rep;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1) st = rep->element[0];
    int rc = 0;
    if (!is_str(st)) rc = fail(err, errlen, "unexpected answer from cancel");
    else if (strcmp(st->str, "cancelled") == 0) out->status = PA_CANCEL_CANCELLED;
    else if (strcmp(st->str, "completed") == 0) out->status = PA_CANCEL_COMPLETED;
    else if (strcmp(st->str, "notfound") == 0) out->status = PA_CANCEL_NOTFOUND;
    else rc = fail(err, errlen, "unexpected answer from cancel: %s", st->str);
    if (rc < 0 || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
        freeReplyObject(rep);
        return rc;
    }
    out->workers = pa_malloc((rep->elements - 1) * sizeof *out->workers);
    for (size_t i = 1; i < rep->elements; i++)
        if (is_str(rep->element[i])) out->workers[out->nworkers++] = rep->element[i]->str;
    out->reply = rep;
    return 0;
}

void pa_jobs_cancel_out_free(pa_jobs_cancel_out_t *out)
{
    free(out->workers);
    if (out->reply) freeReplyObject(out->reply);
    memset(out, 0, sizeof *out);
}

void pa_jobs_requeue_args(const pa_jobs_requeue_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 3, 0);
    /* ARGV as requeue.lua reads it */
    arg(a, in->prefix);
    arg(a, in->key);
    arg_now(a, now_or(in->now_ms), 0);
}

int pa_jobs_requeue_parse(const redisReply *rep, pa_jobs_requeue_out_t *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!is_str(rep)) return fail(err, errlen, "unexpected answer from requeue");
    snprintf(out->state, sizeof out->state, "%s", rep->str);
    out->status = strcmp(rep->str, "ok") == 0         ? PA_REQUEUE_OK
                  : strcmp(rep->str, "notfound") == 0 ? PA_REQUEUE_NOTFOUND
                                                      : PA_REQUEUE_NOT_FAILED;
    return 0;
}

int pa_jobs_requeue_call(pa_redis_t *r, const pa_jobs_requeue_in_t *in, pa_jobs_requeue_out_t *out,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    args_t a;
    pa_jobs_requeue_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_requeue, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_requeue_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

/* ---- leased --------------------------------------------------------------------------------- */

int pa_jobs_leased_parse(const redisReply *rep, pa_jobs_leased_out_t *out, char *err, size_t errlen)
{
    out->leased = 0;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        return fail(err, errlen, "script error: %s", rep->str);
    return integer_reply(rep, &out->leased, err, errlen);
}

void pa_jobs_leased_args(const pa_jobs_leased_in_t *in, pa_jobs_args_t *a)
{
    args_init(a, 1, 0);
    /* ARGV as leased.lua reads it */
    arg(a, in->prefix);
}

int pa_jobs_leased_call(pa_redis_t *r, const pa_jobs_leased_in_t *in, pa_jobs_leased_out_t *out,
                        char *err, size_t errlen)
{
    args_t a;
    pa_jobs_leased_args(in, &a);
    redisReply *rep = eval(r, &pa_jobs_leased, &a, err, errlen);
    if (!rep) return -1;
    int rc = pa_jobs_leased_parse(rep, out, err, errlen);
    freeReplyObject(rep);
    return rc;
}

int pa_jobs_leased_append(pa_redis_t *r, const pa_jobs_leased_in_t *in, char *err, size_t errlen)
{
    args_t a;
    pa_jobs_leased_args(in, &a);
    int rc = pa_redis_append_evalsha(r, &pa_jobs_leased, 0, a.argc, a.argv, NULL);
    args_free(&a);
    if (rc < 0) return fail(err, errlen, "redis unreachable: %s", pa_redis_errstr(r));
    return 0;
}
