/* POST /api/automation/contact-forms/run: parse the run, validate it (targets normalised and
 * de-duplicated, the sender from the body, else the campaign's, else SENDER_*), store it as a job
 * (create.lua, which may lease the first tasks to a worker with room), reply 202. */
#include "gw_runs_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_dispatch.h"
#include "gw_store.h"
#include "gw_target.h"
#include "gw_valid.h"
#include "pa_id.h"
#include "pa_jobs.h"
#include "pa_log.h"

#define MAX_TEMPLATE_CHARS 10000
#define MAX_TOKEN_BUDGET 1000000000000LL
#define IDEM_TTL_S 86400
/* tasks create.lua may lease at once to a worker with room */
#define DIRECT_LEASE_MAX 64u

/* The run's targets: normalised URLs (no duplicates) and each task's input (JSON text). */
typedef struct {
    char **url;
    char **input;
    size_t n, cap, duplicates;
    json_t *seen;
} targets_t;

/* A run as validated; strings borrowed from the body unless said. */
typedef struct {
    const char *tmpl;
    const char *campaign; /* NULL: none */
    json_t *sender;       /* a reference owned here */
    const json_t *opts;   /* the options object, or NULL */
    int enrich, personalize, dry_run;
    const json_t *params; /* options.params, or NULL */
    const json_t *budget; /* options.token_budget, or NULL */
    int want[PA_NSTAGES]; /* the stages to run */
    targets_t t;
} run_t;

static void run_free(run_t *run)
{
    targets_t *t = &run->t;
    for (size_t i = 0; i < t->n; i++) {
        free(t->url[i]);
        free(t->input[i]);
    }
    free(t->url);
    free(t->input);
    json_decref(t->seen);
    json_decref(run->sender);
}

/* ---- targets ------------------------------------------------------------------------------ */

/* Copies one prospect's fields (as the API shows them) into the task input. */
static void merge_prospect(json_t *input, const char *json)
{
    json_t *p = json_loads(json, 0, NULL);
    static const char *fields[] = {"name",  "company", "email",  "industry",
                                   "title", "website", "status", "lastContactDate"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *x = json_object_get(p, fields[i]);
        if (json_is_string(x) && !json_object_get(input, fields[i]))
            json_object_set(input, fields[i], x);
    }
    json_t *id = json_object_get(p, "id");
    if (id) json_object_set(input, "prospect_id", id);
    json_decref(p);
}

/* Adds a target unless its URL is already there; takes input (a JSON object reference). */
static void add_target(targets_t *t, const char *url, json_t *input)
{
    if (json_object_get(t->seen, url)) {
        t->duplicates++;
        json_decref(input);
        return;
    }
    json_object_set_new(t->seen, url, json_true());
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->url = pa_realloc(t->url, t->cap * sizeof *t->url);
        t->input = pa_realloc(t->input, t->cap * sizeof *t->input);
    }
    t->url[t->n] = pa_strdup(url);
    t->input[t->n++] = json_dumps(input, JSON_COMPACT);
    json_decref(input);
}

/* Adds the stored prospect id's fields to input; -1 (answered) when there is none. */
static int add_prospect(gw_t *gw, gw_valid_t *v, const json_t *id, json_t *input, const char *path)
{
    size_t len;
    char *pj =
        json_is_string(id) ? gw_store_get_json(gw->store, json_string_value(id), &len) : NULL;
    if (!pj) return gw_valid_fail(v, path, "%s: no such prospect", path);
    merge_prospect(input, pj);
    free(pj);
    return 0;
}

/* An object target {url, prospect_id?, name?, company?, email?, variables?}: its input filled,
 * its raw URL returned (NULL when it failed). */
static const char *target_object(gw_t *gw, gw_valid_t *v, const json_t *x, const char *path,
                                 json_t *input)
{
    static const char *const allowed[] = {"url",   "prospect_id", "name", "company",
                                          "email", "variables",   NULL};
    static const char *const names[] = {"name", "company", "email"};
    char fp[96];
    gw_valid_only(v, x, path, allowed);
    snprintf(fp, sizeof fp, "%s.url", path);
    const char *raw = gw_valid_str(v, x, "url", fp, 1, GW_TARGET_MAX);
    for (int k = 0; k < 3; k++) {
        snprintf(fp, sizeof fp, "%s.%s", path, names[k]);
        const char *s = gw_valid_str(v, x, names[k], fp, 0, 254);
        if (s) json_object_set_new(input, names[k], json_string(s));
    }
    json_t *vars = json_object_get(x, "variables");
    snprintf(fp, sizeof fp, "%s.variables", path);
    if (vars && gw_valid_variables(v, vars, fp) == 0) json_object_set(input, "variables", vars);
    json_t *pid = json_object_get(x, "prospect_id");
    snprintf(fp, sizeof fp, "%s.prospect_id", path);
    if (pid && !v->failed) add_prospect(gw, v, pid, input, fp);
    return v->failed ? NULL : raw;
}

/* A target naming an internal address (loopback, private, link-local, CGNAT, metadata, ...) is
 * refused with its index and URL; loopback passes with ALLOW_PRIVATE_TARGETS (tests only), and
 * an address and port ALLOWED_PRIVATE_TARGETS lists passes. The workers check again on the
 * address they connect to (pa_addr_classify_sockaddr). */
static int refuse_internal(gw_t *gw, gw_valid_t *v, const char *path, const char *url)
{
    pa_addr_class_t c = gw_target_class(url);
    if (pa_addr_allowed(c, gw->cfg.allow_private_targets)) return 0;
    if (gw_target_private_listed(gw->cfg.private_targets, url)) return 0;
    return gw_valid_fail(v, path,
                         "%s: %s names an internal address (%s); a run may only target public "
                         "web addresses",
                         path, url, pa_addr_class_name(c));
}

/* Adds targets[i] (a URL, a domain or an object); -1 (answered) when it is wrong. */
static int add_listed_target(gw_t *gw, gw_valid_t *v, const json_t *x, size_t i, targets_t *t,
                             pa_buf_t *url)
{
    char path[64], err[160];
    snprintf(path, sizeof path, "targets[%zu]", i);
    json_t *input = json_object();
    const char *raw = NULL;
    if (json_is_string(x)) raw = json_string_value(x);
    else if (json_is_object(x)) raw = target_object(gw, v, x, path, input);
    else gw_valid_fail(v, path, "%s: must be a URL, a domain or an object with a url", path);
    pa_buf_reset(url);
    if (raw && gw_target_normalize(raw, strlen(raw), url, err, sizeof err) < 0)
        gw_valid_fail(v, path, "%s: %s", path, err);
    else if (raw) refuse_internal(gw, v, path, url->data);
    if (v->failed) {
        json_decref(input);
        return -1;
    }
    add_target(t, url->data, input);
    return 0;
}

/* Adds prospect_ids[i]: the prospect's website is the target. */
static int add_prospect_target(gw_t *gw, gw_valid_t *v, const json_t *x, size_t i, targets_t *t,
                               pa_buf_t *url)
{
    char path[64], err[160];
    snprintf(path, sizeof path, "prospect_ids[%zu]", i);
    json_t *input = json_object();
    if (add_prospect(gw, v, x, input, path) == 0) {
        json_t *site = json_object_get(input, "website");
        pa_buf_reset(url);
        if (!json_is_string(site) ||
            gw_target_normalize(json_string_value(site), json_string_length(site), url, err,
                                sizeof err) < 0)
            gw_valid_fail(v, path, "%s: the prospect has no usable website", path);
        else refuse_internal(gw, v, path, url->data);
    }
    if (v->failed) {
        json_decref(input);
        return -1;
    }
    add_target(t, url->data, input);
    return 0;
}

static int parse_targets(gw_t *gw, gw_valid_t *v, const json_t *body, targets_t *t)
{
    json_t *targets = json_object_get(body, "targets"),
           *pids = json_object_get(body, "prospect_ids");
    if (targets && !json_is_array(targets))
        return gw_valid_fail(v, "targets", "targets: must be an array of URLs, domains or objects");
    if (pids && !json_is_array(pids))
        return gw_valid_fail(v, "prospect_ids", "prospect_ids: must be an array of prospect ids");
    size_t total = json_array_size(targets) + json_array_size(pids);
    if (total == 0)
        return gw_valid_fail(v, "targets",
                             "targets: give at least one target (targets or prospect_ids)");
    if (total > (size_t)gw->cfg.max_targets)
        return gw_valid_fail(v, "targets", "targets: at most %ld per run (MAX_TARGETS), got %zu",
                             gw->cfg.max_targets, total);
    t->seen = json_object();
    size_t i;
    json_t *x;
    pa_buf_t url = PA_BUF_INIT;
    json_array_foreach(targets, i, x) {
        if (add_listed_target(gw, v, x, i, t, &url) < 0) break;
    }
    if (!v->failed) {
        json_array_foreach(pids, i, x) {
            if (add_prospect_target(gw, v, x, i, t, &url) < 0) break;
        }
    }
    pa_buf_free(&url);
    return v->failed ? -1 : 0;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* The campaign the run names: its stored sender (a new reference, or NULL) in *sender. 0 when it
 * exists, -1 when answered (no such campaign, or Redis away). */
static int load_campaign(gw_t *gw, gw_valid_t *v, const char *id, json_t **sender)
{
    *sender = NULL;
    char ck[PA_KEY_MAX];
    redisReply *h =
        pa_redis_cmd(gw_redis(gw), "HMGET %s name sender", pa_key_campaign(ck, gw->cfg.prefix, id));
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements != 2) {
        if (h) freeReplyObject(h);
        gw_unavailable(v->r);
        v->failed = 1;
        return -1;
    }
    int exists = h->element[0]->type == REDIS_REPLY_STRING;
    if (exists && h->element[1]->type == REDIS_REPLY_STRING)
        *sender = json_loads(h->element[1]->str, 0, NULL);
    freeReplyObject(h);
    if (!exists) return gw_valid_fail(v, "campaign_id", "campaign_id: no campaign %s", id);
    return 0;
}

/* The sender: the body's, else the campaign's stored one, else the configured default (SENDER_*);
 * a 400 that says what to set when there is none. */
static int pick_sender(gw_t *gw, gw_valid_t *v, const json_t *body, json_t *stored, run_t *run)
{
    json_t *given = json_object_get(body, "sender");
    if (given && !json_is_null(given)) {
        if (gw_valid_sender(v, given, "sender") < 0) return -1;
        run->sender = json_incref(given);
    } else if (json_is_object(stored)) {
        run->sender = json_incref(stored);
    } else if (gw->cfg.sender_json) {
        run->sender = json_loads(gw->cfg.sender_json, 0, NULL);
    }
    if (run->sender) return 0;
    return gw_valid_fail(v, "sender",
                         "sender: is required: give sender {name, email, company?, phone?, title?, "
                         "website?}, store one on the campaign (campaign_id, POST /api/campaigns "
                         "with sender), or set SENDER_NAME and SENDER_EMAIL on the gateway");
}

/* options {enrich?, personalize?, dry_run?, stages?, params?, token_budget?} */
static int parse_options(gw_valid_t *v, const json_t *opts, run_t *run)
{
    static const char *const fields[] = {"enrich", "personalize",  "dry_run", "stages",
                                         "params", "token_budget", NULL};
    if (opts && gw_valid_object(v, opts, "options", "an object") == 0)
        gw_valid_only(v, opts, "options", fields);
    run->enrich = gw_valid_bool(v, opts, "enrich", "options.enrich", 1);
    run->personalize = gw_valid_bool(v, opts, "personalize", "options.personalize", 1);
    run->dry_run = gw_valid_bool(v, opts, "dry_run", "options.dry_run", 0);
    run->params = json_object_get(opts, "params");
    if (run->params) gw_valid_llm_params(v, run->params, "options.params");
    /* the most LLM tokens the job's compose calls may use; past it, the template's message */
    const json_t *b = run->budget = json_object_get(opts, "token_budget");
    if (b && (!json_is_integer(b) || json_integer_value(b) < 1 ||
              json_integer_value(b) > MAX_TOKEN_BUDGET))
        gw_valid_fail(v, "options.token_budget",
                      "options.token_budget: must be an integer from 1 to %lld (LLM tokens)",
                      (long long)MAX_TOKEN_BUDGET);
    if (v->failed) return -1;
    /* stages: by default every run stage (enrich unless off); options.stages picks a subset,
     * e.g. ["compose"] to preview messages without submitting anything */
    int want[PA_NSTAGES];
    for (int s = 0; s < PA_NSTAGES; s++) want[s] = 1;
    int e = pa_stage_run_index("enrich");
    if (e >= 0) want[e] = run->enrich;
    char names[128];
    pa_stages_list(names, sizeof names);
    json_t *st = json_object_get(opts, "stages"), *x;
    if (st && (!json_is_array(st) || json_array_size(st) == 0))
        return gw_valid_fail(v, "options.stages", "options.stages: must be a non-empty array of %s",
                             names);
    if (st) memset(want, 0, sizeof want);
    size_t i;
    json_array_foreach(st, i, x) {
        int k = pa_stage_run_index(json_string_value(x));
        if (k < 0 || want[k])
            return gw_valid_fail(v, "options.stages", "options.stages: each of %s at most once",
                                 names);
        want[k] = 1;
    }
    memcpy(run->want, want, sizeof want);
    return 0;
}

/* The body of a run into run: every check, in the order a client would fix them. */
static int parse_run(gw_t *gw, gw_req_t *r, const json_t *body, run_t *run)
{
    static const char *const top[] = {"campaign_id", "message_template", "targets", "prospect_ids",
                                      "sender",      "options",          NULL};
    gw_valid_t v = GW_VALID(r);
    json_t *stored = NULL;
    gw_valid_object(&v, body, NULL, "a JSON object");
    gw_valid_only(&v, body, "", top);
    run->tmpl =
        gw_valid_str(&v, body, "message_template", "message_template", 1, MAX_TEMPLATE_CHARS);
    json_t *cid = json_object_get(body, "campaign_id");
    if (cid && !json_is_null(cid) && !v.failed) {
        if (!json_is_string(cid) || !gw_id_valid(json_string_value(cid), json_string_length(cid)))
            gw_valid_fail(&v, "campaign_id", "campaign_id: must be a campaign id");
        else if (load_campaign(gw, &v, json_string_value(cid), &stored) == 0)
            run->campaign = json_string_value(cid);
    }
    if (!v.failed) pick_sender(gw, &v, body, stored, run);
    json_decref(stored);
    if (!v.failed) parse_options(&v, json_object_get(body, "options"), run);
    if (!v.failed) parse_targets(gw, &v, body, &run->t);
    return v.failed ? -1 : 0;
}

/* The job's context for create.lua (every task gets it): template, sender, options, and the
 * limits of the run stages. */
static char *encode_ctx(gw_t *gw, const run_t *run)
{
    json_t *ctx = json_pack("{s:s, s:O, s:{s:b, s:b, s:b, s:O*, s:O*}, s:s?}", "template",
                            run->tmpl, "sender", run->sender, "options", "enrich", run->enrich,
                            "personalize", run->personalize, "dry_run", run->dry_run, "params",
                            run->params, "token_budget", run->budget, "campaign_id", run->campaign);
    json_t *maxa = json_object();
    for (int s = 0; s < PA_NSTAGES; s++)
        json_object_set_new(maxa, pa_stages[s],
                            json_integer(gw->cfg.max_attempts[pa_stage_find(pa_stages[s])]));
    json_object_set_new(ctx, "max_attempts", maxa);
    char *ctxs = json_dumps(ctx, JSON_COMPACT);
    json_decref(ctx);
    return ctxs;
}

/* The chosen stages, comma-separated in run order ("enrich,compose,submit"), into out. */
static void stage_list(const run_t *run, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int s = 0; s < PA_NSTAGES; s++)
        if (run->want[s] && n < len)
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", pa_stages[s]);
}

/* The Idempotency-Key header (NULL when none) in *ik; -1 answered when it is malformed. */
static int idempotency_key(gw_req_t *r, const char **ik)
{
    *ik = gw_req_header(r, "Idempotency-Key");
    if (!*ik) return 0;
    size_t il = strlen(*ik);
    int ok = il >= 1 && il <= 200;
    for (size_t i = 0; i < il && ok; i++) ok = (*ik)[i] > ' ' && (*ik)[i] < 0x7f;
    if (ok) return 0;
    gw_valid_t v = GW_VALID(r);
    return gw_valid_fail(&v, "Idempotency-Key",
                         "Idempotency-Key: 1 to 200 visible ASCII characters");
}

/* Runs create.lua (pa_jobs_create_call) for the run: the job, a task per target, the run's token
 * bucket of the API key, and the reservation's worker taking the first tasks at once. 0 with out
 * filled, -1 when Redis failed (logged). */
static int create_job(gw_t *gw, gw_req_t *r, const run_t *run, const char *jid, const char *idem,
                      const char *ctx, const gw_reservation_t *res, pa_jobs_create_out_t *out)
{
    char stages[128], bkey[PA_KEY_MAX];
    stage_list(run, stages, sizeof stages);
    int ki = gw_key_index(r);
    pa_jobs_create_in_t in = {.prefix = gw->cfg.prefix,
                              .job = jid,
                              .idem = idem,
                              .idem_key_index = ki,
                              .idem_ttl_s = IDEM_TTL_S,
                              .max_queued = gw->cfg.max_queued,
                              .campaign_id = run->campaign,
                              .ctx = ctx,
                              .stages = stages,
                              .retention_s = gw->cfg.retention_s,
                              .n = run->t.n,
                              .targets = (const char *const *)run->t.url,
                              .inputs = (const char *const *)run->t.input,
                              .rate_key = pa_key_rate(bkey, gw->cfg.prefix, "run", ki),
                              .rate_per_ms = (double)gw->cfg.run_rate_per_min / 60000.0,
                              .burst = gw->cfg.run_burst,
                              .lease_worker = res->k ? res->wid : NULL,
                              .lease_k = res->k,
                              .lease_ms = gw->dispatch ? gw_dispatch_lease_ms(gw->dispatch) : 0};
    /* MAX_ATTEMPTS_<STAGE> of each run stage (gw_config.h) */
    for (int s = 0; s < PA_NSTAGES_ALL; s++) in.max_attempts[s] = gw->cfg.max_attempts[s];
    char err[256];
    if (pa_jobs_create_call(gw_redis(gw), &in, out, err, sizeof err) == 0) return 0;
    if (pa_redis_connected(gw_redis(gw))) pa_error("job creation failed", PA_S("error", err));
    return -1;
}

static void reply_created(gw_req_t *r, const char *jid, const char *state, long long total,
                          size_t dups, int replay)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "{\"job_id\":\"%s\",\"status\":\"%s\",\"total\":%lld", jid, state, total);
    if (!replay) pa_buf_printf(&b, ",\"duplicates\":%zu", dups);
    else pa_buf_puts(&b, ",\"idempotent_replay\":true");
    pa_buf_putc(&b, '}');
    gw_reply_buf(r, 202, &b);
    char loc[128];
    snprintf(loc, sizeof loc, "/api/jobs/%s", jid);
    gw_header(r, "Location", loc);
}

/* The job an Idempotency-Key already made: answered as it stands. */
static void reply_replay(gw_t *gw, gw_req_t *r, const char *jid)
{
    char jk[PA_KEY_MAX];
    redisReply *h =
        pa_redis_cmd(gw_redis(gw), "HMGET %s status total", pa_key_job(jk, gw->cfg.prefix, jid));
    int ok = h && h->type == REDIS_REPLY_ARRAY && h->elements == 2;
    const char *state = ok && h->element[0]->str ? h->element[0]->str : "expired";
    long long total = ok && h->element[1]->str ? atoll(h->element[1]->str) : 0;
    reply_created(r, jid, state, total, 0, 1);
    if (h) freeReplyObject(h);
}

/* create.lua's answer: created (the tasks it leased go to the dispatcher), exists, limited,
 * full. Takes out->leased. */
static void reply_job(gw_t *gw, gw_req_t *r, const run_t *run, const char *jid,
                      pa_jobs_create_out_t *out, const gw_reservation_t *res)
{
    unsigned leased = (unsigned)out->leased.n;
    if (gw->dispatch) gw_dispatch_unreserve(gw->dispatch, res, res->k - leased);
    switch (out->status) {
    case PA_JOBS_CREATED:
        reply_created(r, jid, "queued", (long long)run->t.n, run->t.duplicates, 0);
        pa_info("job created", PA_S("request_id", r->request_id), PA_S("job_id", jid),
                PA_I("tasks", run->t.n), PA_I("duplicates", run->t.duplicates),
                PA_I("leased", leased));
        if (leased < run->t.n && gw->dispatch) gw_dispatch_wake(gw->dispatch);
        if (leased) gw_dispatch_hand_leases(gw->dispatch, res, &out->leased); /* takes them */
        break;
    case PA_JOBS_EXISTS: reply_replay(gw, r, out->job); break;
    case PA_JOBS_LIMITED: {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (out->wait_ms + 999) / 1000);
        gw_problem(r, 429, "rate-limited", NULL,
                   "too many runs; this API key may start %ld per minute (RUN_RATE_PER_MIN)",
                   gw->cfg.run_rate_per_min);
        gw_header(r, "Retry-After", ra);
        break;
    }
    case PA_JOBS_FULL:
        gw_problem(r, 503, "queue-full", NULL,
                   "the queue holds %lld tasks; %zu more would pass MAX_QUEUED_TASKS (%ld)",
                   out->depth, run->t.n, gw->cfg.max_queued);
        gw_header(r, "Retry-After", "5");
        break;
    }
    pa_jobs_leases_free(&out->leased);
}

void gw_h_run(gw_t *gw, gw_req_t *r)
{
    json_t *body = gw_json_body(r);
    if (!body) return;
    run_t run = {0};
    char *ctx = NULL;
    const char *idem;
    if (parse_run(gw, r, body, &run) < 0 || idempotency_key(r, &idem) < 0) goto done;
    ctx = encode_ctx(gw, &run);
    char jid[PA_ID_LEN + 3] = "j-";
    pa_id_new(jid + 2);
    /* A worker of the first stage's service with room takes the first tasks in the same script
     * (create.lua): one Redis round trip less from the POST to the first result. */
    gw_reservation_t res = {.slot = -1};
    if (gw->dispatch) {
        const char *first = NULL;
        for (int s = 0; s < PA_NSTAGES && !first; s++)
            if (run.want[s]) first = pa_stages[s];
        gw_dispatch_reserve(gw->dispatch, pa_stage_service(first),
                            run.t.n < DIRECT_LEASE_MAX ? (unsigned)run.t.n : DIRECT_LEASE_MAX,
                            &res);
    }
    pa_jobs_create_out_t out;
    if (create_job(gw, r, &run, jid, idem, ctx, &res, &out) == 0) {
        reply_job(gw, r, &run, jid, &out, &res);
    } else {
        if (gw->dispatch) gw_dispatch_unreserve(gw->dispatch, &res, res.k);
        gw_unavailable(r);
    }
done:
    run_free(&run);
    free(ctx);
    json_decref(body);
}
