/* Campaign runs and jobs: POST /api/automation/contact-forms/run, /api/jobs..., /api/workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "gw_target.h"
#include "pa_id.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_time.h"
#include "pa_utf8.h"

#define MAX_TEMPLATE_CHARS 10000
#define MAX_VARIABLES 50
#define MAX_TOKEN_BUDGET 1000000000000LL
#define IDEM_TTL_S "86400"
/* tasks create.lua may lease at once to a worker with room */
#define DIRECT_LEASE_MAX 64u

/* ---- validation helpers ---- */

typedef struct {
    gw_req_t *r;
    int failed;
} vctx_t;

#define BAD(v, field, ...)                                                                         \
    do {                                                                                           \
        gw_problem((v)->r, 400, "invalid-field", (field), __VA_ARGS__);                            \
        (v)->failed = 1;                                                                           \
    } while (0)

static int only_fields(vctx_t *v, const json_t *o, const char *where, const char *const *allowed)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, k) == 0;
        if (!ok) {
            char f[160];
            snprintf(f, sizeof f, "%s%s%.64s", where, *where ? "." : "", k);
            BAD(v, f, "%s: unknown field", f);
            return -1;
        }
    }
    return 0;
}

/* A string field of 1..max characters (0..max when !required). NULL when absent or bad. */
static const char *str_field(vctx_t *v, const json_t *o, const char *name, const char *path,
                             size_t max, int required)
{
    json_t *x = json_object_get(o, name);
    if (!x || json_is_null(x)) {
        if (required) BAD(v, path, "%s: is required", path);
        return NULL;
    }
    if (!json_is_string(x) || !pa_utf8_valid(json_string_value(x), json_string_length(x))) {
        BAD(v, path, "%s: must be a string (UTF-8, no NUL bytes)", path);
        return NULL;
    }
    size_t cps = pa_utf8_len(json_string_value(x), json_string_length(x));
    if ((required && cps == 0) || cps > max) {
        BAD(v, path, "%s: must be %s to %zu characters", path, required ? "1" : "0", max);
        return NULL;
    }
    return json_string_value(x);
}

static int bool_field(vctx_t *v, const json_t *o, const char *name, const char *path, int def)
{
    json_t *x = json_object_get(o, name);
    if (!x) return def;
    if (!json_is_boolean(x)) {
        BAD(v, path, "%s: must be true or false", path);
        return def;
    }
    return json_is_true(x);
}

static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && strchr(at + 1, '.') && !strchr(at + 1, '@') &&
           !strpbrk(s, " \t\r\n<>,") && strlen(s) <= 254;
}

/* Copies one prospect's fields (as the API shows them) into the task input. */
static void merge_prospect(json_t *input, const char *json)
{
    json_t *p = json_loads(json, 0, NULL);
    static const char *fields[] = {"name", "company", "email", "industry", "title", "website",
                                   "status", "lastContactDate"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *x = json_object_get(p, fields[i]);
        if (json_is_string(x) && !json_object_get(input, fields[i]))
            json_object_set(input, fields[i], x);
    }
    json_t *id = json_object_get(p, "id");
    if (id) json_object_set(input, "prospect_id", id);
    json_decref(p);
}

static json_t *check_variables(vctx_t *v, json_t *vars, const char *path)
{
    if (!json_is_object(vars)) {
        BAD(v, path, "%s: must be an object of names to strings, numbers or booleans", path);
        return NULL;
    }
    if (json_object_size(vars) > MAX_VARIABLES) {
        BAD(v, path, "%s: at most %d variables", path, MAX_VARIABLES);
        return NULL;
    }
    const char *k;
    json_t *x;
    json_object_foreach(vars, k, x) {
        size_t kl = strlen(k);
        int ok = kl >= 1 && kl <= 64;
        for (size_t i = 0; i < kl && ok; i++)
            ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
                 (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '.';
        if (!ok) {
            BAD(v, path, "%s: variable names are 1 to 64 of A-Z a-z 0-9 _ .", path);
            return NULL;
        }
        if (!(json_is_string(x) || json_is_number(x) || json_is_boolean(x)) ||
            (json_is_string(x) && (json_string_length(x) > 2000 ||
                                   !pa_utf8_valid(json_string_value(x), json_string_length(x))))) {
            BAD(v, path, "%s.%s: must be a string of at most 2000 bytes, a number or a boolean",
                path, k);
            return NULL;
        }
    }
    return vars;
}

/* LLM parameters that pass through to the provider: temperature 0..2, top_p 0..1, max_tokens
 * 1..100000, stop (a string or 1 to 4 strings), seed (an integer). */
static int check_params(vctx_t *v, json_t *p, const char *path)
{
    if (!json_is_object(p)) {
        BAD(v, path, "%s: must be an object", path);
        return -1;
    }
    const char *k;
    json_t *x;
    char f[96];
    json_object_foreach(p, k, x) {
        snprintf(f, sizeof f, "%s.%.40s", path, k);
        int ok;
        if (strcmp(k, "temperature") == 0)
            ok = json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 2;
        else if (strcmp(k, "top_p") == 0)
            ok = json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 1;
        else if (strcmp(k, "max_tokens") == 0)
            ok = json_is_integer(x) && json_integer_value(x) >= 1 && json_integer_value(x) <= 100000;
        else if (strcmp(k, "seed") == 0)
            ok = json_is_integer(x);
        else if (strcmp(k, "stop") == 0) {
            ok = json_is_string(x) || (json_is_array(x) && json_array_size(x) >= 1 &&
                                       json_array_size(x) <= 4);
            size_t i;
            json_t *y;
            if (json_is_array(x)) json_array_foreach(x, i, y) ok &= json_is_string(y);
        } else {
            BAD(v, f, "%s: unknown parameter (temperature, top_p, max_tokens, stop, seed)", f);
            return -1;
        }
        if (!ok) {
            BAD(v, f, "%s: out of range or of the wrong type", f);
            return -1;
        }
    }
    return 0;
}

int gw_check_llm_params(gw_req_t *r, json_t *p, const char *path)
{
    vctx_t v = {r, 0};
    return check_params(&v, p, path);
}

typedef struct {
    char **url;
    char **input;
    size_t n, cap, duplicates;
    json_t *seen;
} targets_t;

static void targets_free(targets_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->url[i]);
        free(t->input[i]);
    }
    free(t->url);
    free(t->input);
    json_decref(t->seen);
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

static void parse_targets(gw_t *gw, vctx_t *v, json_t *body, targets_t *t)
{
    json_t *targets = json_object_get(body, "targets"), *pids = json_object_get(body, "prospect_ids");
    if (targets && !json_is_array(targets)) {
        BAD(v, "targets", "targets: must be an array of URLs, domains or objects");
        return;
    }
    if (pids && !json_is_array(pids)) {
        BAD(v, "prospect_ids", "prospect_ids: must be an array of prospect ids");
        return;
    }
    size_t total = json_array_size(targets) + json_array_size(pids);
    if (total == 0) {
        BAD(v, "targets", "targets: give at least one target (targets or prospect_ids)");
        return;
    }
    if (total > (size_t)gw->cfg.max_targets) {
        BAD(v, "targets", "targets: at most %ld per run (MAX_TARGETS), got %zu",
            gw->cfg.max_targets, total);
        return;
    }
    t->seen = json_object();
    size_t i;
    json_t *x;
    char path[64], err[160];
    pa_buf_t url = PA_BUF_INIT;
    json_array_foreach(targets, i, x) {
        snprintf(path, sizeof path, "targets[%zu]", i);
        json_t *input = json_object();
        const char *raw = NULL;
        if (json_is_string(x)) {
            raw = json_string_value(x);
        } else if (json_is_object(x)) {
            static const char *const allowed[] = {"url", "prospect_id", "name", "company", "email",
                                                  "variables", NULL};
            if (only_fields(v, x, path, allowed) < 0) {
                json_decref(input);
                break;
            }
            char fp[96];
            snprintf(fp, sizeof fp, "%s.url", path);
            raw = str_field(v, x, "url", fp, GW_TARGET_MAX, 1);
            static const char *const names[] = {"name", "company", "email"};
            for (int k = 0; k < 3 && !v->failed; k++) {
                snprintf(fp, sizeof fp, "%s.%s", path, names[k]);
                const char *s = str_field(v, x, names[k], fp, 254, 0);
                if (s) json_object_set_new(input, names[k], json_string(s));
            }
            json_t *vars = json_object_get(x, "variables");
            if (vars && !v->failed) {
                snprintf(fp, sizeof fp, "%s.variables", path);
                if (check_variables(v, vars, fp)) json_object_set(input, "variables", vars);
            }
            json_t *pid = json_object_get(x, "prospect_id");
            if (pid && !v->failed) {
                size_t len;
                char *pj = json_is_string(pid) ? gw_store_get_json(gw->store, json_string_value(pid), &len)
                                               : NULL;
                if (!pj) {
                    snprintf(fp, sizeof fp, "%s.prospect_id", path);
                    BAD(v, fp, "%s: no such prospect", fp);
                } else {
                    merge_prospect(input, pj);
                    free(pj);
                }
            }
        } else {
            BAD(v, path, "%s: must be a URL, a domain or an object with a url", path);
        }
        if (v->failed || !raw) {
            json_decref(input);
            if (!v->failed) BAD(v, path, "%s: is required", path);
            break;
        }
        pa_buf_reset(&url);
        if (gw_target_normalize(raw, strlen(raw), &url, err, sizeof err) < 0) {
            BAD(v, path, "%s: %s", path, err);
            json_decref(input);
            break;
        }
        add_target(t, url.data, input);
    }
    if (!v->failed) {
        json_array_foreach(pids, i, x) {
            snprintf(path, sizeof path, "prospect_ids[%zu]", i);
            size_t len;
            char *pj = json_is_string(x) ? gw_store_get_json(gw->store, json_string_value(x), &len) : NULL;
            if (!pj) {
                BAD(v, path, "%s: no such prospect", path);
                break;
            }
            json_t *input = json_object();
            merge_prospect(input, pj);
            free(pj);
            json_t *site = json_object_get(input, "website");
            pa_buf_reset(&url);
            if (!json_is_string(site) ||
                gw_target_normalize(json_string_value(site), json_string_length(site), &url, err,
                                    sizeof err) < 0) {
                BAD(v, path, "%s: the prospect has no usable website", path);
                json_decref(input);
                break;
            }
            add_target(t, url.data, input);
        }
    }
    pa_buf_free(&url);
}

static void reply_created(gw_req_t *r, int status, const char *jid, const char *state, long long total,
                          size_t dups, int replay)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "{\"job_id\":\"%s\",\"status\":\"%s\",\"total\":%lld", jid, state, total);
    if (!replay) pa_buf_printf(&b, ",\"duplicates\":%zu", dups);
    else pa_buf_puts(&b, ",\"idempotent_replay\":true");
    pa_buf_putc(&b, '}');
    gw_reply_buf(r, status, &b);
    char loc[128];
    snprintf(loc, sizeof loc, "/api/jobs/%s", jid);
    gw_header(r, "Location", loc);
}

void gw_h_run(gw_t *gw, gw_req_t *r)
{
    json_t *body = gw_json_body(r);
    if (!body) return;
    vctx_t v = {r, 0};
    targets_t t = {0};
    json_t *ctx = NULL;
    char *meta = NULL, *ctxs = NULL;
    if (!json_is_object(body)) {
        BAD(&v, NULL, "expected a JSON object");
        goto done;
    }
    static const char *const top[] = {"campaign_id", "message_template", "targets", "prospect_ids",
                                      "sender", "options", NULL};
    if (only_fields(&v, body, "", top) < 0) goto done;
    const char *tmpl = str_field(&v, body, "message_template", "message_template", MAX_TEMPLATE_CHARS, 1);
    if (v.failed) goto done;
    const char *campaign = NULL;
    json_t *cid = json_object_get(body, "campaign_id");
    if (cid && !json_is_null(cid)) {
        if (!json_is_string(cid) || !gw_id_valid(json_string_value(cid), json_string_length(cid))) {
            BAD(&v, "campaign_id", "campaign_id: must be a campaign id");
            goto done;
        }
        campaign = json_string_value(cid);
        redisReply *e = pa_redis_cmd(gw_redis(gw), "EXISTS %scampaign:%s", gw->cfg.prefix, campaign);
        long long exists = e && e->type == REDIS_REPLY_INTEGER ? e->integer : -1;
        if (e) freeReplyObject(e);
        if (exists < 0) {
            gw_unavailable(r);
            goto done;
        }
        if (!exists) {
            BAD(&v, "campaign_id", "campaign_id: no campaign %s", campaign);
            goto done;
        }
    }
    json_t *sender = json_object_get(body, "sender");
    if (!json_is_object(sender)) {
        BAD(&v, "sender", "sender: is required: {name, email, company?, phone?}");
        goto done;
    }
    static const char *const sender_fields[] = {"name", "email", "company", "phone", NULL};
    if (only_fields(&v, sender, "sender", sender_fields) < 0) goto done;
    str_field(&v, sender, "name", "sender.name", 200, 1);
    const char *email = v.failed ? NULL : str_field(&v, sender, "email", "sender.email", 254, 1);
    if (!v.failed && !valid_email(email)) BAD(&v, "sender.email", "sender.email: must be an address like name@example.com");
    if (!v.failed) str_field(&v, sender, "company", "sender.company", 200, 0);
    if (!v.failed) str_field(&v, sender, "phone", "sender.phone", 50, 0);
    if (v.failed) goto done;
    json_t *opts = json_object_get(body, "options");
    if (opts && !json_is_object(opts)) {
        BAD(&v, "options", "options: must be an object");
        goto done;
    }
    static const char *const opt_fields[] = {"enrich", "personalize", "dry_run", "stages", "params",
                                             "token_budget", NULL};
    if (opts && only_fields(&v, opts, "options", opt_fields) < 0) goto done;
    int enrich = bool_field(&v, opts, "enrich", "options.enrich", 1);
    int personalize = bool_field(&v, opts, "personalize", "options.personalize", 1);
    int dry_run = bool_field(&v, opts, "dry_run", "options.dry_run", 0);
    if (v.failed) goto done;
    json_t *params = json_object_get(opts, "params");
    if (params && check_params(&v, params, "options.params") < 0) goto done;
    /* the most LLM tokens the job's compose calls may use; past it, the template's message */
    json_t *budget = json_object_get(opts, "token_budget");
    if (budget && (!json_is_integer(budget) || json_integer_value(budget) < 1 ||
                   json_integer_value(budget) > MAX_TOKEN_BUDGET)) {
        BAD(&v, "options.token_budget",
            "options.token_budget: must be an integer from 1 to %lld (LLM tokens)",
            (long long)MAX_TOKEN_BUDGET);
        goto done;
    }
    /* stages: by default enrich (unless off), compose, submit; options.stages picks a subset,
     * e.g. ["compose"] to preview messages without submitting anything */
    int want[PA_NSTAGES] = {enrich, 1, 1};
    json_t *st = json_object_get(opts, "stages");
    if (st) {
        if (!json_is_array(st) || json_array_size(st) == 0) {
            BAD(&v, "options.stages", "options.stages: must be a non-empty array of enrich, compose, submit");
            goto done;
        }
        memset(want, 0, sizeof want);
        size_t i;
        json_t *x;
        json_array_foreach(st, i, x) {
            int k = -1;
            for (int s = 0; s < PA_NSTAGES && json_is_string(x); s++)
                if (strcmp(json_string_value(x), pa_stages[s]) == 0) k = s;
            if (k < 0 || want[k]) {
                BAD(&v, "options.stages", "options.stages: each of enrich, compose, submit at most once");
                goto done;
            }
            want[k] = 1;
        }
    }
    parse_targets(gw, &v, body, &t);
    if (v.failed) goto done;

    pa_buf_t stages = PA_BUF_INIT;
    for (int s = 0; s < PA_NSTAGES; s++)
        if (want[s]) pa_buf_printf(&stages, "%s%s", stages.len ? "," : "", pa_stages[s]);
    ctx = json_pack("{s:s, s:O, s:{s:b, s:b, s:b, s:O*, s:O*}, s:s?, s:{s:I, s:I, s:I}}", "template",
                    tmpl, "sender", sender, "options", "enrich", enrich, "personalize", personalize,
                    "dry_run", dry_run, "params", params, "token_budget", budget, "campaign_id",
                    campaign, "max_attempts",
                    "enrich", (json_int_t)gw->cfg.max_attempts[0], "compose",
                    (json_int_t)gw->cfg.max_attempts[1], "submit",
                    (json_int_t)gw->cfg.max_attempts[2]);
    ctxs = json_dumps(ctx, JSON_COMPACT);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:I}", "campaign_id", campaign ? campaign : "",
                          "ctx", ctxs, "stages", stages.data, "max_attempts", "",
                          "retention_s", (json_int_t)gw->cfg.retention_s);
    char maxa[128];
    snprintf(maxa, sizeof maxa, "{\"enrich\":%ld,\"compose\":%ld,\"submit\":%ld}",
             gw->cfg.max_attempts[0], gw->cfg.max_attempts[1], gw->cfg.max_attempts[2]);
    json_object_set_new(m, "max_attempts", json_string(maxa));
    meta = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    pa_buf_free(&stages);

    char jid[PA_ID_LEN + 3] = "j-", now[24], iso[25], bound[24], ns[24], idem[300] = "";
    pa_id_new(jid + 2);
    snprintf(now, sizeof now, "%llu", (unsigned long long)pa_wall_ms());
    pa_time_rfc3339(pa_wall_ms(), iso);
    snprintf(bound, sizeof bound, "%ld", gw->cfg.max_queued);
    snprintf(ns, sizeof ns, "%zu", t.n);
    const char *ik = gw_req_header(r, "Idempotency-Key");
    if (ik) {
        size_t il = strlen(ik);
        int ok = il >= 1 && il <= 200;
        for (size_t i = 0; i < il && ok; i++) ok = ik[i] > ' ' && ik[i] < 0x7f;
        if (!ok) {
            gw_problem(r, 400, "invalid-field", "Idempotency-Key",
                       "Idempotency-Key: 1 to 200 visible ASCII characters");
            goto done;
        }
        snprintf(idem, sizeof idem, "key%d:%s", gw_key_index(r), ik);
    }
    /* the run's token bucket (per API key) is checked inside the same script */
    char bkey[96], rate[32], burst[24];
    int ki = gw_key_index(r);
    if (ki >= 0) snprintf(bkey, sizeof bkey, "%srl:run:key%d", gw->cfg.prefix, ki);
    else snprintf(bkey, sizeof bkey, "%srl:run:anonymous", gw->cfg.prefix);
    snprintf(rate, sizeof rate, "%.9f", (double)gw->cfg.run_rate_per_min / 60000.0);
    snprintf(burst, sizeof burst, "%ld", gw->cfg.run_burst);
    /* A worker of the first stage's service with room takes the first tasks in the same script
     * (create.lua): one Redis round trip less from the POST to the first result. */
    gw_reservation_t res = {.slot = -1};
    char lk[16] = "0", lms[16] = "0";
    if (gw->dispatch) {
        const char *first = NULL;
        for (int s = 0; s < PA_NSTAGES && !first; s++)
            if (want[s]) first = pa_stages[s];
        gw_dispatch_reserve(gw->dispatch, pa_stage_service(first),
                            t.n < DIRECT_LEASE_MAX ? (unsigned)t.n : DIRECT_LEASE_MAX, &res);
        snprintf(lk, sizeof lk, "%u", res.k);
        snprintf(lms, sizeof lms, "%d", gw_dispatch_lease_ms(gw->dispatch));
    }
    size_t argc = 15 + 2 * t.n;
    const char **argv = pa_malloc(argc * sizeof *argv);
    argv[0] = gw->cfg.prefix, argv[1] = jid, argv[2] = now, argv[3] = iso, argv[4] = idem;
    argv[5] = IDEM_TTL_S, argv[6] = bound, argv[7] = meta, argv[8] = ns;
    argv[9] = bkey, argv[10] = rate, argv[11] = burst;
    for (size_t i = 0; i < t.n; i++) argv[12 + 2 * i] = t.url[i], argv[13 + 2 * i] = t.input[i];
    argv[12 + 2 * t.n] = res.k ? res.wid : "", argv[13 + 2 * t.n] = lk, argv[14 + 2 * t.n] = lms;
    redisReply *rep = pa_redis_eval(gw_redis(gw), &pa_jobs_create, 0, (int)argc, argv, NULL);
    free(argv);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 || (rep->elements - 2) % 10) {
        if (rep && rep->type == REDIS_REPLY_ERROR) pa_error("job creation failed", PA_S("error", rep->str));
        if (rep) freeReplyObject(rep);
        if (gw->dispatch) gw_dispatch_unreserve(gw->dispatch, &res, res.k);
        gw_unavailable(r);
        goto done;
    }
    const char *what = rep->element[0]->str, *arg = rep->element[1]->str;
    unsigned leased = (unsigned)((rep->elements - 2) / 10);
    if (gw->dispatch) gw_dispatch_unreserve(gw->dispatch, &res, res.k - leased);
    if (strcmp(what, "created") == 0) {
        reply_created(r, 202, jid, "queued", (long long)t.n, t.duplicates, 0);
        pa_info("job created", PA_S("request_id", r->request_id), PA_S("job_id", jid),
                PA_I("tasks", t.n), PA_I("duplicates", t.duplicates), PA_I("leased", leased));
        if (leased < t.n && gw->dispatch) gw_dispatch_wake(gw->dispatch);
        if (leased) {
            gw_dispatch_hand(gw->dispatch, &res, rep, 2); /* takes rep */
            rep = NULL;
        }
    } else if (strcmp(what, "exists") == 0) {
        redisReply *h = pa_redis_cmd(gw_redis(gw), "HMGET %sjob:%s status total", gw->cfg.prefix, arg);
        const char *state = h && h->type == REDIS_REPLY_ARRAY && h->element[0]->str ? h->element[0]->str : "expired";
        long long total = h && h->type == REDIS_REPLY_ARRAY && h->element[1]->str ? atoll(h->element[1]->str) : 0;
        reply_created(r, 202, arg, state, total, 0, 1);
        if (h) freeReplyObject(h);
    } else if (strcmp(what, "limited") == 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (atoll(arg) + 999) / 1000);
        gw_problem(r, 429, "rate-limited", NULL,
                   "too many runs; this API key may start %ld per minute (RUN_RATE_PER_MIN)",
                   gw->cfg.run_rate_per_min);
        gw_header(r, "Retry-After", ra);
    } else {
        gw_problem(r, 503, "queue-full", NULL,
                   "the queue holds %s tasks; %zu more would pass MAX_QUEUED_TASKS (%ld)", arg, t.n,
                   gw->cfg.max_queued);
        gw_header(r, "Retry-After", "5");
    }
    if (rep) freeReplyObject(rep);
done:
    targets_free(&t);
    json_decref(ctx);
    free(ctxs);
    free(meta);
    json_decref(body);
}

/* ---- reading jobs ---- */

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
    pa_buf_printf(b, "},\"progress\":%.4f,\"stages\":[", total ? (double)terminal / (double)total : 1.0);
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
    redisReply *h = pa_redis_cmd(gw_redis(gw), "HGETALL %sjob:%s", gw->cfg.prefix, r->id);
    if (!h || h->type != REDIS_REPLY_ARRAY) {
        if (h) freeReplyObject(h);
        gw_unavailable(r);
        return NULL;
    }
    if (h->elements == 0) {
        freeReplyObject(h);
        gw_problem(r, 404, "not-found", NULL, "no job with this id (finished jobs expire after JOB_RETENTION_S)");
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
    char iso[25];
    pa_time_rfc3339(pa_wall_ms(), iso);
    const char *argv[] = {gw->cfg.prefix, r->id, iso};
    redisReply *rep = pa_redis_eval(gw_redis(gw), &pa_jobs_cancel, 0, 3, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_STRING) {
        if (rep) freeReplyObject(rep);
        gw_unavailable(r);
        return;
    }
    int notfound = strcmp(rep->str, "notfound") == 0, completed = strcmp(rep->str, "completed") == 0;
    freeReplyObject(rep);
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

static int parse_limit(gw_req_t *r, size_t def, size_t max, size_t *out)
{
    const char *s = gw_arg(r, "limit");
    *out = def;
    if (!s) return 0;
    char *e;
    long v = strtol(s, &e, 10);
    if (!*s || *e || v < 1 || (size_t)v > max) {
        gw_problem(r, 400, "invalid-field", "limit", "limit: must be an integer from 1 to %zu", max);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

void gw_h_jobs_list(gw_t *gw, gw_req_t *r)
{
    size_t limit;
    if (parse_limit(r, 50, 500, &limit) < 0) return;
    const char *status = gw_arg(r, "status"), *cursor = gw_arg(r, "cursor");
    static const char *const statuses[] = {"queued", "running", "completed", "cancelled"};
    if (status && *status) {
        int ok = 0;
        for (int i = 0; i < 4; i++) ok |= strcmp(status, statuses[i]) == 0;
        if (!ok) {
            gw_problem(r, 400, "invalid-field", "status",
                       "status: one of queued, running, completed, cancelled");
            return;
        }
    } else {
        status = NULL;
    }
    pa_redis_t *rd = gw_redis(gw);
    long long start = 0;
    if (cursor && *cursor) {
        if (!gw_id_valid(cursor, strlen(cursor))) {
            gw_problem(r, 400, "invalid-field", "cursor", "cursor: not a cursor from this API");
            return;
        }
        redisReply *rk = pa_redis_cmd(rd, "ZREVRANK %sjobs %s", gw->cfg.prefix, cursor);
        if (!rk) {
            gw_unavailable(r);
            return;
        }
        if (rk->type != REDIS_REPLY_INTEGER) {
            freeReplyObject(rk);
            gw_problem(r, 400, "invalid-field", "cursor", "cursor: that job no longer exists");
            return;
        }
        start = rk->integer + 1;
        freeReplyObject(rk);
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    size_t count = 0, scanned = 0;
    char last[GW_ID_MAX + 1] = "";
    int more = 0;
    while (!more && scanned < 5000) {
        redisReply *ids = pa_redis_cmd(rd, "ZREVRANGE %sjobs %lld %lld", gw->cfg.prefix, start,
                                       start + 99);
        if (!ids || ids->type != REDIS_REPLY_ARRAY) {
            if (ids) freeReplyObject(ids);
            pa_buf_free(&b);
            gw_unavailable(r);
            return;
        }
        if (ids->elements == 0) {
            freeReplyObject(ids);
            break;
        }
        for (size_t i = 0; i < ids->elements; i++) {
            char key[128];
            snprintf(key, sizeof key, "%sjob:%s", gw->cfg.prefix, ids->element[i]->str);
            const char *av[] = {"HGETALL", key};
            pa_redis_append(rd, 2, av, NULL);
        }
        for (size_t i = 0; i < ids->elements; i++) {
            redisReply *h = pa_redis_get_reply(rd);
            scanned++;
            if (!h) { /* Redis went away mid-page: no partial list */
                freeReplyObject(ids);
                pa_buf_free(&b);
                gw_unavailable(r);
                return;
            }
            if (h->type == REDIS_REPLY_ARRAY && h->elements) {
                const char *s = hget(h, "status");
                if (!status || (s && strcmp(s, status) == 0)) {
                    if (count == limit) {
                        more = 1;
                    } else {
                        if (count) pa_buf_putc(&b, ',');
                        render_job(&b, h);
                        snprintf(last, sizeof last, "%s", ids->element[i]->str);
                        count++;
                    }
                }
            }
            if (h) freeReplyObject(h);
        }
        start += (long long)ids->elements;
        freeReplyObject(ids);
    }
    pa_buf_putc(&b, ']');
    gw_reply_buf(r, 200, &b);
    if (more || (count == limit && scanned >= 5000)) {
        char link[256];
        snprintf(link, sizeof link, "</api/jobs?%s%s%slimit=%zu&cursor=%s>; rel=\"next\"",
                 status ? "status=" : "", status ? status : "", status ? "&" : "", limit, last);
        gw_header(r, "Link", link);
    }
}

void gw_h_job_tasks(gw_t *gw, gw_req_t *r)
{
    size_t limit;
    if (parse_limit(r, 100, 1000, &limit) < 0) return;
    const char *state = gw_arg(r, "state"), *cursor = gw_arg(r, "cursor");
    if (state && *state && pa_state_index(state) < 0) {
        gw_problem(r, 400, "invalid-field", "state",
                   "state: one of queued, running, succeeded, failed, retry_wait, captcha_required, "
                   "skipped, uncertain, cancelled");
        return;
    }
    if (state && !*state) state = NULL;
    long long from = 1;
    if (cursor && *cursor) {
        char *e;
        from = strtoll(cursor, &e, 10) + 1;
        if (*e || from < 2) {
            gw_problem(r, 400, "invalid-field", "cursor", "cursor: not a cursor from this API");
            return;
        }
    }
    redisReply *job = load_job(gw, r);
    if (!job) return;
    long long total = atoll(hget(job, "total") ? hget(job, "total") : "0");
    /* a task never touched since the job was created has no updated of its own */
    char created[40] = "";
    if (hget(job, "created")) snprintf(created, sizeof created, "%s", hget(job, "created"));
    freeReplyObject(job);
    pa_redis_t *rd = gw_redis(gw);
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    size_t count = 0;
    long long idx = from, last = 0;
    int more = 0;
    while (idx <= total && !more) {
        long long end = idx + 255 > total ? total : idx + 255;
        for (long long i = idx; i <= end; i++) {
            char key[160];
            snprintf(key, sizeof key, "%stask:%s:%06lld", gw->cfg.prefix, r->id, i);
            const char *av[] = {"HGETALL", key};
            pa_redis_append(rd, 2, av, NULL);
        }
        for (long long i = idx; i <= end; i++) {
            redisReply *h = pa_redis_get_reply(rd);
            if (!h) {
                pa_buf_free(&b);
                gw_unavailable(r);
                return;
            }
            const char *s = hget(h, "state");
            if (h->elements && (!state || (s && strcmp(s, state) == 0))) {
                if (count == limit) {
                    more = 1;
                } else {
                    pa_buf_printf(&b, "%s{\"id\":\"%06lld\"", count ? "," : "", i);
                    put_str_or_null(&b, "target", hget(h, "target"));
                    put_str_or_null(&b, "stage", hget(h, "stage"));
                    put_str_or_null(&b, "state", s);
                    pa_buf_printf(&b, ",\"attempt\":%s", hget(h, "attempt") ? hget(h, "attempt") : "0");
                    put_str_or_null(&b, "worker", hget(h, "worker"));
                    put_str_or_null(&b, "error", hget(h, "error"));
                    const char *upd = hget(h, "updated");
                    put_str_or_null(&b, "updated", upd ? upd : (*created ? created : NULL));
                    pa_buf_puts(&b, ",\"results\":{");
                    int first = 1;
                    for (int k = 0; k < PA_NSTAGES; k++) {
                        char f[32];
                        snprintf(f, sizeof f, "result_%s", pa_stages[k]);
                        const char *v = hget(h, f);
                        if (!v) continue;
                        pa_buf_printf(&b, "%s\"%s\":%s", first ? "" : ",", pa_stages[k], v);
                        first = 0;
                    }
                    pa_buf_puts(&b, "}}");
                    count++;
                    last = i;
                }
            }
            freeReplyObject(h);
        }
        idx = end + 1;
    }
    pa_buf_putc(&b, ']');
    gw_reply_buf(r, 200, &b);
    char tc[24];
    snprintf(tc, sizeof tc, "%lld", total);
    gw_header(r, "X-Total-Count", tc);
    if (more) {
        char link[256];
        snprintf(link, sizeof link, "</api/jobs/%s/tasks?%s%s%slimit=%zu&cursor=%lld>; rel=\"next\"",
                 r->id, state ? "state=" : "", state ? state : "", state ? "&" : "", limit, last);
        gw_header(r, "Link", link);
    }
}

json_t *gw_live_workers(gw_t *gw)
{
    redisReply *h = pa_redis_cmd(gw_redis(gw), "HGETALL %sworkers", gw->cfg.prefix);
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
    return list;
}

void gw_h_workers(gw_t *gw, gw_req_t *r)
{
    json_t *list = gw_live_workers(gw);
    if (!list) {
        gw_unavailable(r);
        return;
    }
    json_t *out = json_object(), *svc = json_object();
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        json_int_t cap = json_integer_value(json_object_get(w, "capacity"));
        json_int_t credit = json_integer_value(json_object_get(w, "credit"));
        json_object_set_new(w, "load", json_integer(cap > credit ? cap - credit : 0));
        const char *s = json_string_value(json_object_get(w, "service"));
        if (!s) continue;
        json_t *e = json_object_get(svc, s);
        if (!e) {
            e = json_pack("{s:i, s:i}", "workers", 0, "capacity", 0);
            json_object_set_new(svc, s, e);
        }
        json_object_set_new(e, "workers", json_integer(json_integer_value(json_object_get(e, "workers")) + 1));
        json_object_set_new(e, "capacity", json_integer(json_integer_value(json_object_get(e, "capacity")) + cap));
    }
    json_object_set_new(out, "services", svc);
    json_object_set_new(out, "workers", list);
    gw_reply_json(r, 200, out);
}
