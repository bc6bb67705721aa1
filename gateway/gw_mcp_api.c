/* The MCP look-ups (gw_mcp_api.h).
 *
 * Each call is a one-task job (stage "mcp_call", not listed in /api/jobs) whose input says what to
 * do: {op: "tools"}, {op: "enrich", domain}, {op: "search_contacts", query, limit?} or
 * {op: "call", server?, tool, arguments}. The mcp worker knows the servers (MCP_SERVERS): it
 * answers with the result, or fails the task with a result {error, message, server?, tool?,
 * retry_after_ms?} that says which problem the caller gets:
 *
 *   unknown_server 404 mcp-unknown-server    bad_arguments 422 mcp-bad-arguments
 *   unknown_tool   404 mcp-unknown-tool      tool_error    502 mcp-tool-error (the tool's text)
 *   rpc_error      502 mcp-failed            unavailable   502 mcp-unavailable
 *   timeout        504 mcp-timeout           circuit_open  503 mcp-unavailable + Retry-After
 *   not_configured 503 mcp-not-configured
 *
 * No live mcp worker: 503 no-mcp-worker; no answer within MCP_CALL_TIMEOUT_MS: 504 mcp-timeout
 * (and the job is cancelled, so the worker stops at once). */
#include "gw_mcp_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_call.h"
#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_valid.h"
#include "gw_workers.h"
#include "pa_id.h"
#include "pa_jobs.h"
#include "pa_log.h"
#include "pa_time.h"

#define MAX_QUERY_CHARS 1000
#define MAX_LIMIT 100

/* 1 when s is a domain name: labels of letters, digits and '-' (not at either end), at least two,
 * at most 253 characters in all. */
static int domain_ok(const char *s)
{
    size_t len = strlen(s), label = 0, labels = 0;
    if (len < 1 || len > 253) return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            labels++;
            label = 0;
        } else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

/* 503 unless a live mcp worker can take the call; 0 when one can. */
static int check_ready(gw_t *gw, gw_req_t *r)
{
    json_t *live = gw_workers_live(gw, gw_redis(gw), 0, "mcp");
    if (!live) {
        gw_unavailable(r);
        return -1;
    }
    int n = 0;
    size_t i;
    json_t *w;
    json_array_foreach(live, i, w) {
        const char *s = json_string_value(json_object_get(w, "service"));
        if (s && strcmp(s, "mcp") == 0) n++;
    }
    json_decref(live);
    if (n) return 0;
    gw_problem(r, 503, "no-mcp-worker", NULL,
               "no mcp-worker is connected; start prospect-mcp-worker");
    gw_header(r, "Retry-After", "5");
    return -1;
}

/* The problem of a failed task's result ({error, message, ...}). */
static void failure_status(const char *code, int *status, const char **slug)
{
    static const struct {
        const char *code;
        int status;
        const char *slug;
    } map[] = {
        {"unknown_server", 404, "mcp-unknown-server"},
        {"unknown_tool", 404, "mcp-unknown-tool"},
        {"bad_arguments", 422, "mcp-bad-arguments"},
        {"tool_error", 502, "mcp-tool-error"},
        {"rpc_error", 502, "mcp-failed"},
        {"unavailable", 502, "mcp-unavailable"},
        {"timeout", 504, "mcp-timeout"},
        {"circuit_open", 503, "mcp-unavailable"},
        {"not_configured", 503, "mcp-not-configured"},
    };
    for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0) {
            *status = map[i].status;
            *slug = map[i].slug;
            return;
        }
    *status = 502;
    *slug = "mcp-failed";
}

/* Cancels a call given up, so that its worker stops at once. */
static void cancel_job(gw_t *gw, const char *job)
{
    pa_jobs_cancel_in_t in = {.prefix = gw->cfg.prefix, .job = job};
    pa_jobs_cancel_out_t out;
    char err[256];
    if (pa_jobs_cancel_call(gw_redis(gw), &in, &out, err, sizeof err) == 0) {
        gw_dispatch_cancel(gw->dispatch, job, out.workers, out.nworkers);
        pa_jobs_cancel_out_free(&out);
    } else if (pa_redis_connected(gw_redis(gw))) {
        pa_error("cancelling a timed-out mcp call failed", PA_S("job_id", job), PA_S("error", err));
    }
}

/* Answers r from the job's task (or its absence at the deadline). */
static void answer(gw_t *gw, gw_req_t *r, const char *job, int timed_out)
{
    char tk[PA_KEY_MAX];
    redisReply *t = pa_redis_cmd(gw_redis(gw), "HMGET %s state result_mcp_call error",
                                 pa_key_task_n(tk, gw->cfg.prefix, job, 1));
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 3) {
        if (t) freeReplyObject(t);
        gw_unavailable(r);
        return;
    }
    const char *state = t->element[0]->str, *result = t->element[1]->str,
               *error = t->element[2]->str;
    json_t *failure =
        state && strcmp(state, "failed") == 0 && result ? json_loads(result, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(failure, "error"));
    const char *msg = json_string_value(json_object_get(failure, "message"));
    if (state && strcmp(state, "succeeded") == 0 && result) {
        gw_reply(r, 200, "application/json", pa_strdup(result), strlen(result));
    } else if (code) {
        int status;
        const char *slug;
        failure_status(code, &status, &slug);
        const char *server = json_string_value(json_object_get(failure, "server"));
        const char *tool = json_string_value(json_object_get(failure, "tool"));
        char detail[1200], field[128] = "";
        if (strcmp(code, "tool_error") == 0)
            snprintf(detail, sizeof detail,
                     "the tool %s of the MCP server %s failed: ", tool ? tool : "?",
                     server ? server : "?");
        else if (server && msg &&
                 (strcmp(code, "rpc_error") == 0 || strcmp(code, "unavailable") == 0 ||
                  strcmp(code, "timeout") == 0) &&
                 !(strncmp(msg, server, strlen(server)) == 0 && msg[strlen(server)] == ':'))
            snprintf(detail, sizeof detail, "MCP server %s: ", server);
        else detail[0] = '\0';
        size_t dl = strlen(detail);
        snprintf(detail + dl, sizeof detail - dl, "%s", msg ? msg : code);
        if (strcmp(code, "bad_arguments") == 0 && msg) {
            /* "arguments.domain: is required" names its field */
            size_t n = strcspn(msg, ": ");
            if (n < sizeof field && msg[n] == ':')
                snprintf(field, sizeof field, "%.*s", (int)n, msg);
        }
        gw_problem(r, status, slug, field[0] ? field : NULL, "%s", detail);
        if (strcmp(code, "circuit_open") == 0) {
            json_int_t ms = json_integer_value(json_object_get(failure, "retry_after_ms"));
            char ra[24];
            snprintf(ra, sizeof ra, "%lld", ms > 0 ? (long long)((ms + 999) / 1000) : 1LL);
            gw_header(r, "Retry-After", ra);
        }
    } else if (timed_out) {
        cancel_job(gw, job);
        gw_problem(r, 504, "mcp-timeout", NULL,
                   "no answer from the mcp service within %ld ms (MCP_CALL_TIMEOUT_MS)",
                   gw->cfg.mcp_call_timeout_ms);
    } else {
        gw_problem(r, 502, "mcp-failed", NULL, "the mcp service failed: %s",
                   error && *error ? error : (state ? state : "no result"));
    }
    pa_info("mcp call answered", PA_S("request_id", r->request_id), PA_S("job_id", job),
            PA_S("state", state), PA_S("error", code), PA_B("timed_out", timed_out));
    json_decref(failure);
    freeReplyObject(t);
}

/* Makes the job for input (stolen) and suspends r until it ends. */
static void submit(gw_t *gw, gw_req_t *r, json_t *input)
{
    char *in = json_dumps(input, JSON_COMPACT);
    json_decref(input);
    if (!in) {
        gw_problem(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    if (check_ready(gw, r) < 0) {
        free(in);
        return;
    }
    char jid[PA_ID_LEN + 3] = "j-";
    pa_id_new(jid + 2);
    pa_jobs_create_out_t out;
    const gw_call_t call = {.stage = "mcp_call",
                            /* MAX_ATTEMPTS_ENRICH, the run's mcp stage's: tries only after a
                             * worker is lost */
                            .max_attempts = gw->cfg.max_attempts[PA_STAGE_enrich],
                            .target = "mcp:call",
                            .ctx = "{}",
                            .rate = "mcp",
                            .rate_per_min = gw->cfg.mcp_call_rate_per_min};
    if (gw_call_create(gw, r, &call, jid, in, &out) < 0) {
        gw_unavailable(r);
        free(in);
        return;
    }
    free(in);
    if (out.status == PA_JOBS_LIMITED) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (out.wait_ms + 999) / 1000);
        gw_problem(r, 429, "rate-limited", NULL,
                   "too many MCP calls; at most %ld per minute (MCP_CALL_RATE_PER_MIN)",
                   gw->cfg.mcp_call_rate_per_min);
        gw_header(r, "Retry-After", ra);
    } else if (out.status != PA_JOBS_CREATED) {
        gw_problem(r, 503, "queue-full", NULL, "the mcp queue is full (MAX_QUEUED_TASKS)");
        gw_header(r, "Retry-After", "5");
    } else {
        gw_call_await(gw, r, jid, pa_mono_ms() + (uint64_t)gw->cfg.mcp_call_timeout_ms, answer);
    }
    pa_jobs_leases_free(&out.leased);
}

void gw_h_mcp_tools(gw_t *gw, gw_req_t *r)
{
    submit(gw, r, json_pack("{s:s}", "op", "tools"));
}

void gw_h_mcp_enrich(gw_t *gw, gw_req_t *r)
{
    static const char *const fields[] = {"domain", NULL};
    json_t *body = gw_json_body(r);
    if (!body) return;
    gw_valid_t v = GW_VALID(r);
    gw_valid_object(&v, body, NULL, "a JSON object {domain}");
    gw_valid_only(&v, body, "", fields);
    const char *d = gw_valid_str(&v, body, "domain", "domain", 1, 253);
    if (!v.failed && !domain_ok(d))
        gw_valid_fail(&v, "domain",
                      "must be a domain name such as example.com (no scheme, path "
                      "or port)");
    if (!v.failed) submit(gw, r, json_pack("{s:s, s:s}", "op", "enrich", "domain", d));
    json_decref(body);
}

void gw_h_mcp_search_contacts(gw_t *gw, gw_req_t *r)
{
    static const char *const fields[] = {"query", "limit", NULL};
    json_t *body = gw_json_body(r);
    if (!body) return;
    gw_valid_t v = GW_VALID(r);
    gw_valid_object(&v, body, NULL, "a JSON object {query, limit?}");
    gw_valid_only(&v, body, "", fields);
    const char *q = gw_valid_str(&v, body, "query", "query", 1, MAX_QUERY_CHARS);
    const json_t *lim = json_object_get(body, "limit");
    if (!v.failed && lim && !json_is_null(lim) &&
        (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
         json_integer_value(lim) > MAX_LIMIT))
        gw_valid_fail(&v, "limit", "must be an integer from 1 to %d", MAX_LIMIT);
    if (!v.failed) {
        json_t *in = json_pack("{s:s, s:s}", "op", "search_contacts", "query", q);
        if (json_is_integer(lim)) json_object_set(in, "limit", (json_t *)lim);
        submit(gw, r, in);
    }
    json_decref(body);
}

/* A server name as MCP_SERVERS has them: 1 to 64 of a-z 0-9 _ -. */
static int server_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

void gw_h_mcp_call(gw_t *gw, gw_req_t *r)
{
    static const char *const fields[] = {"server", "tool", "arguments", NULL};
    json_t *body = gw_json_body(r);
    if (!body) return;
    gw_valid_t v = GW_VALID(r);
    gw_valid_object(&v, body, NULL, "a JSON object {server?, tool, arguments?}");
    gw_valid_only(&v, body, "", fields);
    const char *server = gw_valid_str(&v, body, "server", "server", 0, 64);
    const char *tool = gw_valid_str(&v, body, "tool", "tool", 1, 128);
    const json_t *args = json_object_get(body, "arguments");
    if (!v.failed && server && !server_name_ok(server))
        gw_valid_fail(&v, "server", "must be 1 to 64 of a-z 0-9 _ - (a name in MCP_SERVERS)");
    if (!v.failed && args && !json_is_object(args) && !json_is_null(args))
        gw_valid_fail(&v, "arguments", "must be an object (the tool's arguments)");
    if (!v.failed) {
        json_t *in = json_pack("{s:s, s:s}", "op", "call", "tool", tool);
        if (server) json_object_set_new(in, "server", json_string(server));
        json_object_set_new(in, "arguments",
                            json_is_object(args) ? json_incref((json_t *)args) : json_object());
        submit(gw, r, in);
    }
    json_decref(body);
}
