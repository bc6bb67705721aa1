/* prospect-form-worker: the "form" service. Runs the submit stage of campaign runs: for each
 * target website it finds the contact page and its contact form, fills it from the run's sender
 * and the composed message, posts it once, and judges the answer; politely and safely:
 *
 *   suppression lists -> the origin's lock and robots.txt -> home page -> contact links (or the
 *   common paths) -> the contact form -> opt-out notice? CAPTCHA (a person's hand-off)? fill ->
 *   dry run? -> the claim (at most once, not after a cancel) -> post -> judge
 *
 * Every request goes through the runtime's HTTP engine (pa_http) with the SSRF guard (pa_guard)
 * on its URL, on every redirect hop and on the address actually connected to; before each one the
 * origin's gate (lua/gate.lua) holds the origin for this task alone and takes a token from the
 * origin's bucket, shared by every form worker. The page work (parse, analyse, fill, judge) is
 * form_page.h's; robots.txt is form_robots.h's. The result of a task is the JSON document of
 * docs/redis-keys.md ("result_submit"). Configuration: docs/configuration.md (FORM_*). */
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "form_page.h"
#include "form_robots.h"
#include "llm_template.h"
#include "pa_buf.h"
#include "pa_config.h"
#include "pa_guard.h"
#include "pa_http.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_time.h"
#include "pa_worker.h"

extern const char form_lua_gate[], form_lua_unlock[];
static pa_script_t gate_script = PA_SCRIPT(form_lua_gate);
static pa_script_t unlock_script = PA_SCRIPT(form_lua_unlock);

#define ORIGIN_MAX 300
#define FORM_MAX_DOMAINS 32 /* a host and its parents, the e-mail's domain and its parents */
#define QUEUE_MAX 8
#define SHORT_MESSAGE 200
#define FORM_CONTACT_PLACEHOLDER "https://prospect-ai.example/bot"

/* Paths tried, in order, when the home page links to no contact page. */
static const char *const COMMON_PATHS[] = {"/contact",  "/contact-us", "/kontakt",
                                           "/contacto", "/contact/",   NULL};

typedef struct {
    long rate_ms, burst, lock_ms, lock_wait_ms, timeout_ms, connect_timeout_ms;
    long robots_ttl_s, claim_ttl_s, max_pages, max_redirects;
    size_t max_body;
    const char *accept_language, *prefix;
    int placeholder_contact; /* FORM_CONTACT_URL unset: the User-Agent's URL is a placeholder */
    char user_agent[512];
} fw_cfg_t;

typedef struct ft ft_t;

typedef struct {
    pa_worker_t *w;
    pa_http_t *http;
    pa_aredis_t *redis;
    pa_guard_t *guard;
    fw_cfg_t cfg;
    ft_t *tasks;
    unsigned long outcomes[6]; /* by pa_outcome_t */
    int stopping;
} fw_t;

typedef void (*step_fn)(ft_t *f);

/* One task in flight: malloc'd, owned by the worker's list; freed when its last Redis answer
 * comes back after the task ended (refs). */
struct ft {
    fw_t *F;
    pa_task_t *t; /* NULL once the task ended */
    ft_t *next, *prev;
    unsigned refs;
    char key[140];
    char target[2100];
    char home_origin[ORIGIN_MAX]; /* the target's origin: the one this task locks */
    char origin[ORIGIN_MAX];      /* the origin of the page being fetched */
    char owner[80];               /* the lock's owner: the task's lease */
    pa_http_jar_t *jar;
    pa_http_req_t *req;
    pa_timer_t *timer;
    uint64_t lock_deadline;
    /* robots.txt of `origin` */
    form_robots_t *robots;
    char robots_origin[ORIGIN_MAX];
    long crawl_ms;
    /* the run's inputs */
    json_t *sender_j; /* a reference to the context's sender */
    form_sender_t sender;
    char *message, *subject, *email, *campaign;
    int dry_run;
    /* discovery */
    char *queue[QUEUE_MAX];
    size_t nq;
    char *referer; /* the last page fetched */
    char *url;     /* the page being fetched (or the post's action) */
    int npages, hops, home_done, tried_common;
    char *moved; /* a redirect to another origin, followed as a new fetch */
    char robots_rule[300];
    int robots_blocked; /* a page we wanted was disallowed */
    char refused[300];  /* why the guard refused a hop or an address */
    char *embed;        /* a JavaScript form embed seen on a page */
    char *opt_out;      /* an opt-out notice seen on an earlier page of the site */
    /* the suppression check: the domains asked about (pointing into hostbuf and email) */
    char hostbuf[ORIGIN_MAX];
    const char *domains[FORM_MAX_DOMAINS];
    size_t ndomains;
    char suppressed[400]; /* what matched ("the domain x"), or "\x01<why>" when Redis failed */
    json_t *emails, *phones;
    /* the contact form */
    form_page_t *page;
    int form;
    form_fill_t fill;
    char *why;
    step_fn after_gate;
};

/* ---- configuration ------------------------------------------------------------------------ */

static int read_cfg(fw_cfg_t *c, char *err, size_t errlen)
{
    if (pa_env_long("FORM_RATE_MS", 2000, 0, 3600000, &c->rate_ms, err, errlen) < 0 ||
        pa_env_long("FORM_RATE_BURST", 1, 1, 1000, &c->burst, err, errlen) < 0 ||
        pa_env_long("FORM_LOCK_MS", 60000, 0, 3600000, &c->lock_ms, err, errlen) < 0 ||
        pa_env_long("FORM_LOCK_WAIT_MS", 600000, 0, 3600000, &c->lock_wait_ms, err, errlen) < 0 ||
        pa_env_long("FORM_TIMEOUT_MS", 15000, 100, 600000, &c->timeout_ms, err, errlen) < 0 ||
        pa_env_long("FORM_CONNECT_TIMEOUT_MS", 10000, 100, 600000, &c->connect_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("FORM_ROBOTS_TTL_S", 86400, 0, 86400 * 7, &c->robots_ttl_s, err, errlen) < 0 ||
        pa_env_long("FORM_CLAIM_TTL_S", 90L * 86400, 0, 3650L * 86400, &c->claim_ttl_s, err,
                    errlen) < 0 ||
        pa_env_long("FORM_MAX_PAGES", 4, 1, 20, &c->max_pages, err, errlen) < 0 ||
        pa_env_long("FORM_MAX_REDIRECTS", 5, 0, 20, &c->max_redirects, err, errlen) < 0 ||
        pa_env_size("FORM_MAX_BODY", 2u << 20, 4096, 64u << 20, &c->max_body, err, errlen) < 0)
        return -1;
    if (c->connect_timeout_ms > c->timeout_ms) c->connect_timeout_ms = c->timeout_ms;
    c->accept_language = pa_env_str("FORM_ACCEPT_LANGUAGE", "en-US,en;q=0.9");
    c->prefix = pa_env_str("REDIS_PREFIX", "pa:");
    /* the User-Agent names the product and a contact URL: FORM_USER_AGENT whole, else built
     * from FORM_CONTACT_URL (a placeholder until the operator sets it, said at start) */
    const char *ua = pa_env_str("FORM_USER_AGENT", NULL);
    char built[sizeof c->user_agent];
    if (!ua || !*ua) {
        const char *contact = pa_env_str("FORM_CONTACT_URL", NULL);
        c->placeholder_contact = !contact || !*contact;
        if (c->placeholder_contact) contact = FORM_CONTACT_PLACEHOLDER;
        snprintf(built, sizeof built, "ProspectAI/%s (+%s)", PA_VERSION, contact);
        ua = built;
    }
    if (strlen(ua) >= sizeof c->user_agent - 1 || strpbrk(ua, "\r\n")) {
        snprintf(err, errlen, "FORM_USER_AGENT / FORM_CONTACT_URL: at most %zu bytes on one line",
                 sizeof c->user_agent - 2);
        return -1;
    }
    snprintf(c->user_agent, sizeof c->user_agent, "%s", ua);
    /* the worker's global cap: FORM_CONCURRENCY targets at once (the runtime's capacity) */
    long conc;
    if (pa_env_long("FORM_CONCURRENCY", 64, 1, 10000, &conc, err, errlen) < 0) return -1;
    if (!getenv("WORKER_CAPACITY")) {
        char v[24];
        snprintf(v, sizeof v, "%ld", conc);
        setenv("WORKER_CAPACITY", v, 1);
    }
    return 0;
}

/* ---- tasks -------------------------------------------------------------------------------- */

static void ft_release(ft_t *f)
{
    if (--f->refs > 0) return;
    json_decref(f->sender_j);
    json_decref(f->emails);
    json_decref(f->phones);
    form_robots_free(&f->robots);
    form_page_free(&f->page);
    for (size_t i = 0; i < f->nq; i++) free(f->queue[i]);
    free(f->message);
    free(f->subject);
    free(f->email);
    free(f->campaign);
    free(f->referer);
    free(f->url);
    free(f->moved);
    free(f->embed);
    free(f->opt_out);
    free(f->why);
    free(f);
}

/* A Redis answer for f came back: drops the reference the call held; 0 when the task has ended
 * meanwhile (f may be gone: ignore the answer). */
static int ft_answered(ft_t *f)
{
    int live = f->t != NULL;
    ft_release(f);
    return live;
}

/* Lets go of the task (done, cancelled, or the worker stops): its transfers and timer stop, the
 * origin's lock is given back. */
static void ft_end(ft_t *f)
{
    fw_t *F = f->F;
    if (!f->t) return;
    f->t->user = NULL;
    f->t = NULL;
    if (f->req) pa_http_cancel(f->req);
    f->req = NULL;
    pa_loop_timer_stop(pa_worker_loop(F->w), &f->timer);
    pa_http_jar_destroy(&f->jar);
    if (f->home_origin[0] && F->cfg.lock_ms > 0 && !F->stopping) {
        char k[400];
        snprintf(k, sizeof k, "%sform:lock:%s", F->cfg.prefix, f->home_origin);
        const char *argv[] = {k, f->owner};
        pa_aredis_eval(F->redis, &unlock_script, NULL, NULL, 1, 2, argv, NULL);
    }
    if (f->prev) f->prev->next = f->next;
    else F->tasks = f->next;
    if (f->next) f->next->prev = f->prev;
    ft_release(f);
}

/* The message cut to SHORT_MESSAGE bytes on a character boundary, with "…" when cut. */
static json_t *short_text(const char *s)
{
    size_t n = strlen(s);
    if (n <= SHORT_MESSAGE) return json_string(s);
    size_t k = SHORT_MESSAGE;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_put(&b, s, k);
    pa_buf_puts(&b, "\xE2\x80\xA6");
    json_t *j = json_stringn(b.data, b.len);
    pa_buf_free(&b);
    return j;
}

enum { FIELDS_SENT = 0, FIELDS_FULL };

/* The fields of the fill as [{name, kind, label, value}] in document order: FIELDS_SENT is what
 * is sent with the message shortened (evidence), FIELDS_FULL every value in full (a hand-off's
 * prefilled values, a dry run's request). */
static json_t *fields_json(const form_fill_t *fl, int mode)
{
    json_t *a = json_array();
    for (size_t i = 0; i < fl->npairs; i++) {
        const form_pair_t *p = &fl->pairs[i];
        const char *v = p->value ? p->value : "";
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", p->name ? p->name : "", "kind",
                              form_kind_name(p->kind), "label", p->label ? p->label : "");
        json_object_set_new(o, "value",
                            mode == FIELDS_SENT && p->kind == FORM_KIND_MESSAGE ? short_text(v)
                                                                                : json_string(v));
        json_array_append_new(a, o);
    }
    return a;
}

static const char *outcome_word(pa_outcome_t o)
{
    switch (o) {
    case PA_OUT_SUCCEEDED: return "submitted";
    case PA_OUT_CAPTCHA_REQUIRED: return "captcha_required";
    case PA_OUT_SKIPPED: return "skipped";
    case PA_OUT_UNCERTAIN: return "uncertain";
    case PA_OUT_RETRY:
    case PA_OUT_FAILED: break;
    }
    return "failed";
}

/* Cuts s back to its last whole UTF-8 character (snprintf may have cut one in two). */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80 && n - k < 3) k--;
    if (k > 0 && (unsigned char)s[k - 1] >= 0xC0) {
        /* a lead byte: keep it only when its whole sequence is there */
        unsigned char c = (unsigned char)s[k - 1];
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (n - (k - 1) < need) s[k - 1] = '\0';
    }
}

/* Ends the task: result (stolen; may be NULL) gets outcome, reason and detail; the task's error
 * is "<reason>: <detail>". */
static void finish(ft_t *f, pa_outcome_t o, json_t *r, const char *reason, const char *detail,
                   long retry_after_ms)
{
    fw_t *F = f->F;
    if (!f->t) {
        json_decref(r);
        return;
    }
    char dbuf[600];
    if (detail) {
        snprintf(dbuf, sizeof dbuf, "%s", detail);
        utf8_trim(dbuf);
        detail = dbuf;
    }
    if (!r) r = json_object();
    if (!json_object_get(r, "outcome"))
        json_object_set_new(r, "outcome", json_string(outcome_word(o)));
    if (reason) json_object_set_new(r, "reason", json_string(reason));
    if (detail) json_object_set_new(r, "detail", json_string(detail));
    if (f->page && !json_object_get(r, "page_url"))
        json_object_set_new(r, "page_url", json_string(form_page_url(f->page)));
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    char err[700] = "";
    if (o != PA_OUT_SUCCEEDED) {
        snprintf(err, sizeof err, "%s: %s", reason ? reason : "error", detail ? detail : "");
        utf8_trim(err);
    }
    F->outcomes[o]++;
    char st[200];
    snprintf(st, sizeof st,
             "{\"succeeded\":%lu,\"retry\":%lu,\"failed\":%lu,\"captcha_required\":%lu,"
             "\"skipped\":%lu,\"uncertain\":%lu}",
             F->outcomes[PA_OUT_SUCCEEDED], F->outcomes[PA_OUT_RETRY], F->outcomes[PA_OUT_FAILED],
             F->outcomes[PA_OUT_CAPTCHA_REQUIRED], F->outcomes[PA_OUT_SKIPPED],
             F->outcomes[PA_OUT_UNCERTAIN]);
    pa_worker_set_status(F->w, "form_outcomes", st); /* published with the next heartbeat */
    pa_info(
        "target done", PA_S("task_id", f->key), PA_S("target", f->target),
        PA_S("outcome", s && strstr(s, "\"outcome\":\"dry_run\"") ? "dry_run" : outcome_word(o)),
        PA_S("reason", reason), PA_S("detail", detail));
    pa_worker_done(F->w, f->t, o, s, err[0] ? err : NULL, retry_after_ms);
    free(s);
    ft_end(f);
}

/* A transient fault before anything was posted: retried with backoff (failed on the stage's
 * last attempt, by the engine). */
static void transient(ft_t *f, const char *reason, const char *detail, long retry_after_ms)
{
    finish(f, PA_OUT_RETRY, NULL, reason, detail, retry_after_ms);
}

/* ---- the origin's gate: lock and token bucket --------------------------------------------- */

static void gate(ft_t *f, step_fn then);

static void on_gate_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    ft_t *f = ud;
    pa_loop_timer_stop(pa_worker_loop(f->F->w), &f->timer);
    gate(f, f->after_gate);
}

static void wait_then_gate(ft_t *f, long ms)
{
    if (ms < 1) ms = 1;
    f->timer = pa_loop_timer(pa_worker_loop(f->F->w), (uint64_t)ms, 0, on_gate_timer, f);
}

static void on_gate(redisReply *rep, void *ud)
{
    ft_t *f = ud;
    if (!ft_answered(f)) return;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER) {
        transient(f, "redis",
                  rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "Redis did not answer", 0);
        return;
    }
    long long code = rep->element[0]->integer, ms = rep->element[1]->integer;
    if (code == 0) {
        f->after_gate(f);
    } else if (code == 1) {
        /* another task holds the origin: wait for it, up to FORM_LOCK_WAIT_MS */
        uint64_t now = pa_mono_ms();
        if (now >= f->lock_deadline) {
            char d[ORIGIN_MAX + 80];
            snprintf(d, sizeof d, "another task holds %s", f->home_origin);
            transient(f, "origin_busy", d, ms);
            return;
        }
        wait_then_gate(f, ms < 500 ? ms : 500);
    } else {
        wait_then_gate(f, (long)ms);
    }
}

/* Before a request to f->origin: the lock (when it is the target's origin) and a token. */
static void gate(ft_t *f, step_fn then)
{
    fw_t *F = f->F;
    f->after_gate = then;
    char lk[400], bk[400], lock_ms[24], interval[24], burst[24];
    int own = strcmp(f->origin, f->home_origin) == 0;
    snprintf(lk, sizeof lk, "%sform:lock:%s", F->cfg.prefix, f->home_origin);
    snprintf(bk, sizeof bk, "%sform:rl:%s", F->cfg.prefix, f->origin);
    snprintf(lock_ms, sizeof lock_ms, "%ld", own ? F->cfg.lock_ms : 0);
    long iv = F->cfg.rate_ms;
    if (F->cfg.rate_ms > 0 && f->crawl_ms > iv) iv = f->crawl_ms;
    snprintf(interval, sizeof interval, "%ld", iv);
    snprintf(burst, sizeof burst, "%ld", F->cfg.burst);
    const char *argv[] = {lk, bk, f->owner, lock_ms, interval, burst};
    f->refs++;
    if (pa_aredis_eval(F->redis, &gate_script, on_gate, f, 2, 6, argv, NULL) < 0) {
        f->refs--;
        transient(f, "redis", "the Redis client is closing", 0);
    }
}

/* ---- fetching ----------------------------------------------------------------------------- */

/* The origin of url into out (lowercase scheme://host:port) with the guard's rules: -1 with the
 * reason in f->refused when the URL may not be fetched. */
static int guard_url(ft_t *f, const char *url, char *out, size_t outlen)
{
    return pa_guard_url(f->F->guard, url, out, outlen, f->refused, sizeof f->refused);
}

/* The path and query of url (what robots.txt rules match), or "/". */
static const char *robots_path(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p) return "/";
    p = strchr(p + 3, '/');
    return p ? p : "/";
}

static int robots_allows(ft_t *f, const char *url)
{
    if (!f->robots) return 1;
    form_robots_verdict_t v;
    form_robots_check(f->robots, robots_path(url), &v);
    if (v.allowed) return 1;
    snprintf(f->robots_rule, sizeof f->robots_rule, "%s disallowed by robots.txt (%s)",
             robots_path(url), v.rule ? v.rule : "?");
    return 0;
}

static int on_page_redirect(pa_http_req_t *req, const char *from, const char *to, long status,
                            void *ud)
{
    ft_t *f = ud;
    char o[ORIGIN_MAX];
    if (guard_url(f, to, o, sizeof o) < 0) return -1;
    if (strcmp(o, f->origin) != 0) {
        /* another origin: its own robots.txt and bucket first, as a new fetch */
        free(f->moved);
        f->moved = pa_strdup(to);
        return -1;
    }
    if (!robots_allows(f, to)) {
        f->robots_blocked = 1;
        return -1;
    }
    return 0;
}

static int on_post_redirect(pa_http_req_t *req, const char *from, const char *to, long status,
                            void *ud)
{
    ft_t *f = ud;
    char o[ORIGIN_MAX];
    return guard_url(f, to, o, sizeof o);
}

static int on_connect(pa_http_req_t *req, const struct sockaddr *addr, const char *ip, int port,
                      void *ud)
{
    ft_t *f = ud;
    socklen_t len =
        addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return pa_guard_addr(f->F->guard, addr, len, f->refused, sizeof f->refused);
}

static pa_http_req_t *request(ft_t *f, const char *method, const char *url, int post)
{
    fw_t *F = f->F;
    pa_http_req_t *r = pa_http_req_new(F->http, method, url);
    char h[300];
    pa_http_req_header(r,
                       post ? "Accept: text/html,application/xhtml+xml,*/*;q=0.8"
                            : "Accept: text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5");
    snprintf(h, sizeof h, "Accept-Language: %s", F->cfg.accept_language);
    pa_http_req_header(r, h);
    pa_http_req_jar(r, f->jar);
    pa_http_req_owner(r, f->t);
    pa_http_req_timeouts(r, F->cfg.connect_timeout_ms, F->cfg.timeout_ms);
    pa_http_req_max_body(r, F->cfg.max_body);
    pa_http_req_on_connect(r, on_connect);
    pa_http_req_redirects(r, (unsigned)F->cfg.max_redirects,
                          post ? on_post_redirect : on_page_redirect);
    return r;
}

/* ---- robots.txt (cached in Redis per origin) ---------------------------------------------- */

static void visit_next(ft_t *f);

static void robots_use(ft_t *f, long status, const char *body, size_t len)
{
    form_robots_free(&f->robots);
    f->robots = form_robots_parse(status, body, len, f->F->cfg.user_agent);
    snprintf(f->robots_origin, sizeof f->robots_origin, "%s", f->origin);
    f->crawl_ms = f->robots ? form_robots_crawl_delay_ms(f->robots) : 0;
}

static void on_robots_fetched(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    ft_t *f = ud;
    fw_t *F = f->F;
    f->req = NULL;
    /* 4xx: allowed; 5xx or unreachable (status 0): disallowed (RFC 9309 2.3.1) */
    long status = res->result == PA_HTTP_OK ? res->status : 0;
    size_t len = status >= 200 && status < 300 ? res->len : 0;
    if (len > FORM_ROBOTS_MAX_BYTES) len = FORM_ROBOTS_MAX_BYTES;
    robots_use(f, status, res->body, len);
    long ttl = F->cfg.robots_ttl_s;
    if (status == 0 || status >= 500) ttl = ttl < 600 ? ttl : 600; /* try again in 10 minutes */
    if (ttl > 0) {
        char k[400], head[24];
        snprintf(k, sizeof k, "%sform:robots:%s", F->cfg.prefix, f->origin);
        int hn = snprintf(head, sizeof head, "%ld\n", status);
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_put(&b, head, (size_t)hn);
        if (len) pa_buf_put(&b, res->body, len);
        pa_aredis_cmd(F->redis, NULL, NULL, "SET %s %b EX %ld", k, b.data, b.len, ttl);
        pa_buf_free(&b);
    }
    pa_debug("robots.txt fetched", PA_S("task_id", f->key), PA_S("origin", f->origin),
             PA_I("status", status), PA_I("crawl_delay_ms", f->crawl_ms));
    visit_next(f);
}

static void fetch_robots(ft_t *f)
{
    char url[ORIGIN_MAX + 16];
    snprintf(url, sizeof url, "%s/robots.txt", f->origin);
    pa_http_req_t *r = request(f, "GET", url, 0);
    pa_http_req_max_body(r, FORM_ROBOTS_MAX_BYTES + 1024);
    f->req = r;
    pa_http_start(r, on_robots_fetched, f);
}

static void on_robots_cached(redisReply *rep, void *ud)
{
    ft_t *f = ud;
    if (!ft_answered(f)) return;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char *nl = memchr(rep->str, '\n', rep->len);
        if (nl) {
            long status = strtol(rep->str, NULL, 10);
            size_t off = (size_t)(nl + 1 - rep->str);
            robots_use(f, status, nl + 1, rep->len - off);
            visit_next(f);
            return;
        }
    }
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        transient(f, "redis", rep ? rep->str : "Redis did not answer", 0);
        return;
    }
    gate(f, fetch_robots);
}

/* Makes sure f->robots is the robots.txt of f->origin, then goes on with visit_next. */
static void robots_for_origin(ft_t *f)
{
    if (f->robots && strcmp(f->robots_origin, f->origin) == 0) {
        visit_next(f);
        return;
    }
    fw_t *F = f->F;
    char k[400];
    snprintf(k, sizeof k, "%sform:robots:%s", F->cfg.prefix, f->origin);
    f->refs++;
    if (pa_aredis_cmd(F->redis, on_robots_cached, f, "GET %s", k) < 0) {
        f->refs--;
        transient(f, "redis", "the Redis client is closing", 0);
    }
}

/* ---- the contact form --------------------------------------------------------------------- */

static json_t *form_json(ft_t *f)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "action", f->fill.action, "method", f->fill.method,
                     "enctype", f->fill.enctype, "why", f->why ? f->why : "");
}

static void on_posted(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    ft_t *f = ud;
    f->req = NULL;
    json_t *r =
        json_pack("{s:o, s:o}", "form", form_json(f), "fields", fields_json(&f->fill, FIELDS_SENT));
    json_t *ev = json_object();
    json_object_set_new(r, "evidence", ev);
    if (res->result != PA_HTTP_OK) {
        /* the form may or may not have reached the site: never posted again (the claim) */
        json_object_set_new(ev, "error", json_string(res->error));
        char d[400];
        snprintf(d, sizeof d, "the post did not complete: %s%s%s", res->error,
                 f->refused[0] ? "; " : "", f->refused);
        finish(f, PA_OUT_UNCERTAIN, r, "post_error", d, 0);
        return;
    }
    json_object_set_new(ev, "status", json_integer(res->status));
    json_object_set_new(ev, "final_url", json_string(res->url));
    form_page_t *answer = NULL;
    if (res->len > 0) {
        char perr[200];
        answer =
            form_page_parse(res->body, res->len, res->content_type, res->url, perr, sizeof perr);
    }
    form_judgement_t j;
    form_page_judge(f->page, f->form, answer, res->status, res->url, &j);
    if (j.excerpt) json_object_set_new(ev, "excerpt", json_string(j.excerpt));
    if (j.nerrors) {
        json_t *e = json_array();
        for (size_t i = 0; i < j.nerrors; i++) json_array_append_new(e, json_string(j.errors[i]));
        json_object_set_new(ev, "errors", e);
    }
    char why[400];
    snprintf(why, sizeof why, "%s", j.why ? j.why : "");
    form_page_free(&answer);
    if (j.verdict == FORM_JUDGE_SUCCESS) finish(f, PA_OUT_SUCCEEDED, r, NULL, why, 0);
    else if (j.verdict == FORM_JUDGE_FAILED)
        finish(f, PA_OUT_FAILED, r, "validation_errors", why, 0);
    else finish(f, PA_OUT_UNCERTAIN, r, "no_confirmation", why, 0);
}

/* The post itself, right after the claim was taken (nothing waits between the two). */
static void post(ft_t *f)
{
    const form_fill_t *fl = &f->fill;
    int get = strcmp(fl->method, "GET") == 0;
    pa_http_req_t *r;
    if (get) {
        /* a GET form: the fields go in the query */
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_puts(&b, fl->action);
        char *hash = strchr(b.data, '#');
        if (hash) b.len = (size_t)(hash - b.data), b.data[b.len] = '\0';
        pa_buf_putc(&b, strchr(b.data, '?') ? '&' : '?');
        for (size_t i = 0; i < fl->npairs; i++) {
            size_t nl, vl;
            const char *name = form_page_encode(f->page, fl->pairs[i].name, &nl);
            const char *val =
                form_page_encode(f->page, fl->pairs[i].value ? fl->pairs[i].value : "", &vl);
            char *n = curl_easy_escape(NULL, name, (int)nl);
            char *v = curl_easy_escape(NULL, val, (int)vl);
            pa_buf_printf(&b, "%s%s=%s", i ? "&" : "", n ? n : "", v ? v : "");
            curl_free(n);
            curl_free(v);
        }
        r = request(f, "GET", b.data, 1);
        pa_buf_free(&b);
    } else {
        r = request(f, "POST", fl->action, 1);
        int multipart = strcmp(fl->enctype, "multipart/form-data") == 0;
        for (size_t i = 0; i < fl->npairs; i++) {
            /* in the page's charset, as a browser posts a form */
            const form_pair_t *p = &fl->pairs[i];
            size_t nl, vl;
            const char *name = form_page_encode(f->page, p->name, &nl);
            const char *v = form_page_encode(f->page, p->value ? p->value : "", &vl);
            if (multipart && p->file)
                pa_http_req_part(r, name, "", 0, "", "application/octet-stream");
            else if (multipart) pa_http_req_part(r, name, v, vl, NULL, NULL);
            else pa_http_req_form(r, name, v);
        }
        if (fl->npairs == 0 && !multipart)
            pa_http_req_body(r, "application/x-www-form-urlencoded", "", 0);
        char o[ORIGIN_MAX + 16];
        snprintf(o, sizeof o, "Origin: %s", f->origin);
        /* the origin as a browser writes it: without a default port */
        size_t n = strlen(o);
        if (n > 4 && strcmp(o + n - 4, ":443") == 0 && strncmp(o, "Origin: https:", 14) == 0)
            o[n - 4] = '\0';
        else if (n > 3 && strcmp(o + n - 3, ":80") == 0 && strncmp(o, "Origin: http:", 13) == 0)
            o[n - 3] = '\0';
        pa_http_req_header(r, o);
    }
    char ref[2200];
    snprintf(ref, sizeof ref, "Referer: %s", form_page_url(f->page));
    pa_http_req_header(r, ref);
    pa_info("posting a contact form", PA_S("task_id", f->key), PA_S("page", form_page_url(f->page)),
            PA_S("action", fl->action), PA_S("method", fl->method), PA_I("fields", fl->npairs));
    f->req = r;
    pa_http_start(r, on_posted, f);
}

static void on_claim(pa_worker_t *w, pa_task_t *t, pa_claim_t c, void *ud)
{
    ft_t *f = ud;
    switch (c) {
    case PA_CLAIM_OK: post(f); return;
    case PA_CLAIM_TAKEN:
        finish(f, PA_OUT_UNCERTAIN,
               json_pack("{s:o, s:o}", "form", form_json(f), "fields",
                         fields_json(&f->fill, FIELDS_SENT)),
               "duplicate",
               "this campaign's form for this target was already claimed by an earlier try or "
               "another task: not posted again (a person should check whether it was sent)",
               0);
        return;
    case PA_CLAIM_CANCELLED:
    case PA_CLAIM_STALE:
        /* on_cancel ends it (or has: the task is gone); nothing is committed either way */
        finish(f, PA_OUT_FAILED, NULL, pa_claim_name(c), "not posted", 0);
        return;
    case PA_CLAIM_ERROR: transient(f, "redis", "the claim got no answer: not posted", 0); return;
    case PA_CLAIM_NOT_REPLICATED:
        transient(f, "redis",
                  "the claim was not acknowledged by REDIS_WAIT_REPLICAS replicas in time: not "
                  "posted",
                  0);
        return;
    }
}

static void claim(ft_t *f)
{
    char name[2400];
    snprintf(name, sizeof name, "submit:%s:%s", f->campaign, f->target);
    pa_worker_claim(f->F->w, f->t, name, f->F->cfg.claim_ttl_s, on_claim, f);
}

/* The contact form is f->form of f->page: judge the page, fill the form, then hand off, stop at
 * a dry run, or claim and post. */
static void use_form(ft_t *f)
{
    form_analysis_t a;
    form_page_analyze(f->page, &a);
    free(f->why);
    f->why = pa_strdup(a.why ? a.why : "");
    const char *opt_out = a.opt_out ? a.opt_out : f->opt_out;
    if (opt_out) {
        char d[400];
        snprintf(d, sizeof d, "the site asks not to be sent sales messages: \"%s\"", opt_out);
        finish(f, PA_OUT_SKIPPED, NULL, "site_opt_out", d, 0);
        return;
    }
    if (form_page_fill(f->page, f->form, &f->sender, f->subject, f->message, &f->fill) < 0) {
        finish(f, PA_OUT_FAILED, NULL, "no_form", "the chosen form cannot be read", 0);
        return;
    }
    if (f->fill.unfillable) {
        char d[400];
        snprintf(d, sizeof d, "the required field \"%s\" cannot be filled from the sender",
                 f->fill.unfillable);
        json_t *r = json_pack("{s:o, s:s}", "form", form_json(f), "field", f->fill.unfillable);
        finish(f, PA_OUT_FAILED, r, "unfillable_field", d, 0);
        return;
    }
    if (a.captcha) {
        json_t *r = json_pack("{s:o, s:o, s:{s:s, s:s}}", "form", form_json(f), "fields",
                              fields_json(&f->fill, FIELDS_FULL), "captcha", "kind", a.captcha,
                              "evidence", a.captcha_evidence ? a.captcha_evidence : "");
        char d[200];
        if (f->dry_run) {
            /* a dry run hands nothing to a person: it says what a real run would do */
            json_object_set_new(r, "outcome", json_string("dry_run"));
            json_object_set_new(r, "would", json_string("captcha_required"));
            snprintf(d, sizeof d,
                     "dry run: the form has a CAPTCHA (%s); a real run hands it to a person",
                     a.captcha);
            finish(f, PA_OUT_SUCCEEDED, r, NULL, d, 0);
            return;
        }
        snprintf(d, sizeof d, "the form has a CAPTCHA (%s): handed to a person", a.captcha);
        finish(f, PA_OUT_CAPTCHA_REQUIRED, r, "captcha", d, 0);
        return;
    }
    char o[ORIGIN_MAX];
    if (guard_url(f, f->fill.action, o, sizeof o) < 0) {
        finish(f, PA_OUT_FAILED, json_pack("{s:o}", "form", form_json(f)), "refused_target",
               f->refused, 0);
        return;
    }
    /* the action is checked against robots.txt when it is on the origin whose rules we have */
    if (strcmp(f->robots_origin, o) == 0 && !robots_allows(f, f->fill.action)) {
        finish(f, PA_OUT_SKIPPED, NULL, "robots", f->robots_rule, 0);
        return;
    }
    if (f->dry_run) {
        json_t *r =
            json_pack("{s:s, s:s, s:o, s:o, s:{s:s, s:s, s:s, s:o}}", "outcome", "dry_run", "would",
                      "submit", "form", form_json(f), "fields", fields_json(&f->fill, FIELDS_SENT),
                      "request", "method", f->fill.method, "url", f->fill.action, "enctype",
                      f->fill.enctype, "fields", fields_json(&f->fill, FIELDS_FULL));
        finish(f, PA_OUT_SUCCEEDED, r, NULL, "dry run: the form was filled, not sent", 0);
        return;
    }
    snprintf(f->origin, sizeof f->origin, "%s", o);
    gate(f, claim);
}

/* ---- discovery ---------------------------------------------------------------------------- */

static void push_url(ft_t *f, const char *url, int front)
{
    for (size_t i = 0; i < f->nq; i++)
        if (strcmp(f->queue[i], url) == 0) return;
    if (f->nq == QUEUE_MAX) {
        if (!front) return;
        free(f->queue[--f->nq]);
    }
    if (front) {
        memmove(f->queue + 1, f->queue, f->nq * sizeof *f->queue);
        f->queue[0] = pa_strdup(url);
    } else {
        f->queue[f->nq] = pa_strdup(url);
    }
    f->nq++;
}

/* Appends each of v[0..n) not already in arr, up to 16 in all. */
static void add_unique(json_t *arr, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n && json_array_size(arr) < 16; i++) {
        size_t k;
        json_t *e;
        int seen = 0;
        json_array_foreach(arr, k, e) seen |= strcmp(json_string_value(e), v[i]) == 0;
        if (!seen) json_array_append_new(arr, json_string(v[i]));
    }
}

/* The e-mail addresses and phone numbers of every page visited, for a person. */
static void add_contacts(ft_t *f, const form_analysis_t *a)
{
    add_unique(f->emails, a->emails, a->nemails);
    add_unique(f->phones, a->phones, a->nphones);
}

/* No page had a contact form: skipped, and why. */
static void conclude_none(ft_t *f)
{
    if (f->robots_blocked) {
        finish(f, PA_OUT_SKIPPED, NULL, "robots", f->robots_rule, 0);
    } else if (f->embed) {
        char d[200];
        snprintf(d, sizeof d, "the contact form is rendered by JavaScript (%s)", f->embed);
        finish(f, PA_OUT_SKIPPED, json_pack("{s:s}", "embed", f->embed), "js_required", d, 0);
    } else {
        json_t *r =
            json_pack("{s:{s:O, s:O}}", "contacts", "emails", f->emails, "phones", f->phones);
        char d[160];
        snprintf(d, sizeof d, "no contact form on the %d page%s visited%s", f->npages,
                 f->npages == 1 ? "" : "s",
                 json_array_size(f->emails) + json_array_size(f->phones)
                     ? "; the page's e-mail addresses and phone numbers are kept for a person"
                     : "");
        finish(f, PA_OUT_SKIPPED, r, "no_form", d, 0);
    }
}

static void fetch_page(ft_t *f);

static void on_page(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    ft_t *f = ud;
    f->req = NULL;
    int home = !f->home_done;
    f->home_done = 1;
    free(f->referer);
    f->referer = pa_strdup(f->url);
    if (res->result == PA_HTTP_EREDIRECT && f->moved && f->hops < f->F->cfg.max_redirects) {
        f->hops++;
        char o[ORIGIN_MAX];
        if (guard_url(f, f->moved, o, sizeof o) < 0) {
            finish(f, PA_OUT_FAILED, NULL, "refused_target", f->refused, 0);
            return;
        }
        f->home_done = !home;
        push_url(f, f->moved, 1);
        free(f->moved);
        f->moved = NULL;
        snprintf(f->origin, sizeof f->origin, "%s", o);
        robots_for_origin(f);
        return;
    }
    if (res->result == PA_HTTP_EREDIRECT && f->robots_blocked) {
        if (home) finish(f, PA_OUT_SKIPPED, NULL, "robots", f->robots_rule, 0);
        else visit_next(f);
        return;
    }
    if (res->result == PA_HTTP_EREFUSED || (res->result == PA_HTTP_EREDIRECT && f->refused[0])) {
        finish(f, PA_OUT_FAILED, NULL, "refused_target", f->refused[0] ? f->refused : res->error,
               0);
        return;
    }
    if (res->result != PA_HTTP_OK) {
        if (home && (res->result == PA_HTTP_ETIMEDOUT || res->result == PA_HTTP_ECONNECT ||
                     res->result == PA_HTTP_ETRANSPORT)) {
            transient(f, "http_error", res->error, 0);
            return;
        }
        if (home && res->result != PA_HTTP_ETOOLARGE) {
            finish(f, PA_OUT_FAILED, NULL, "http_error", res->error, 0);
            return;
        }
        visit_next(f); /* a contact candidate that failed: the next one */
        return;
    }
    if (home && (res->status >= 500 || res->status == 429)) {
        char d[120];
        snprintf(d, sizeof d, "the home page answered %ld", res->status);
        long ra = 0;
        if (res->retry_after) ra = strtol(res->retry_after, NULL, 10) * 1000;
        transient(f, "http_error", d, ra > 0 && ra < 3600000 ? ra : 0);
        return;
    }
    if (res->status < 200 || res->status >= 300) {
        if (home && !f->tried_common) {
            f->tried_common = 1;
            for (size_t i = 0; COMMON_PATHS[i]; i++) {
                char u[ORIGIN_MAX + 32];
                snprintf(u, sizeof u, "%s%s", f->origin, COMMON_PATHS[i]);
                push_url(f, u, 0);
            }
        }
        visit_next(f);
        return;
    }
    char perr[200];
    form_page_t *p =
        form_page_parse(res->body, res->len, res->content_type, res->url, perr, sizeof perr);
    if (!p) {
        visit_next(f);
        return;
    }
    form_analysis_t a;
    form_page_analyze(p, &a);
    add_contacts(f, &a);
    if (a.verdict == FORM_VERDICT_CONTACT) {
        form_page_free(&f->page);
        f->page = p;
        f->form = a.form;
        use_form(f);
        return;
    }
    if (a.verdict == FORM_VERDICT_JS_REQUIRED && !f->embed) f->embed = pa_strdup(a.embed);
    if (a.opt_out && !f->opt_out) f->opt_out = pa_strdup(a.opt_out);
    if (home) {
        const char *links[QUEUE_MAX];
        size_t n = form_page_contact_links(p, links, QUEUE_MAX);
        for (size_t i = 0; i < n; i++) push_url(f, links[i], 0);
        if (n == 0 && !f->tried_common) {
            f->tried_common = 1;
            for (size_t i = 0; COMMON_PATHS[i]; i++) {
                char u[ORIGIN_MAX + 32];
                snprintf(u, sizeof u, "%s%s", f->origin, COMMON_PATHS[i]);
                push_url(f, u, 0);
            }
        }
    }
    form_page_free(&p);
    visit_next(f);
}

static void fetch_page(ft_t *f)
{
    f->npages++;
    f->refused[0] = '\0';
    pa_http_req_t *r = request(f, "GET", f->url, 0);
    if (f->referer) {
        char h[2200];
        snprintf(h, sizeof h, "Referer: %s", f->referer);
        pa_http_req_header(r, h);
    }
    f->req = r;
    pa_http_start(r, on_page, f);
}

/* The next page to look at (robots.txt of its origin first), or the conclusion. */
static void visit_next(ft_t *f)
{
    for (;;) {
        if (f->nq == 0 || f->npages >= f->F->cfg.max_pages) {
            conclude_none(f);
            return;
        }
        char o[ORIGIN_MAX];
        if (guard_url(f, f->queue[0], o, sizeof o) < 0) {
            free(f->queue[0]);
            memmove(f->queue, f->queue + 1, --f->nq * sizeof *f->queue);
            continue;
        }
        if (strcmp(o, f->origin) != 0) {
            snprintf(f->origin, sizeof f->origin, "%s", o);
            robots_for_origin(f); /* comes back here */
            return;
        }
        if (!f->robots || strcmp(f->robots_origin, o) != 0) {
            robots_for_origin(f);
            return;
        }
        char *url = f->queue[0];
        memmove(f->queue, f->queue + 1, --f->nq * sizeof *f->queue);
        if (!robots_allows(f, url)) {
            f->robots_blocked = 1;
            int home = !f->home_done;
            free(url);
            if (home) {
                finish(f, PA_OUT_SKIPPED, NULL, "robots", f->robots_rule, 0);
                return;
            }
            continue;
        }
        free(f->url);
        f->url = url;
        gate(f, fetch_page);
        return;
    }
}

/* ---- the start: inputs, guard, suppressions ----------------------------------------------- */

/* The suppression check: SISMEMBER of the prospect's e-mail (when it has one), then SMISMEMBER of
 * the domains, sent together; the answers come in that order, the second decides. Plain read
 * commands, so that the form worker's ACL user only reads the lists (a script's keys would need
 * write access too). */
static void on_suppressed_email(redisReply *rep, void *ud)
{
    ft_t *f = ud;
    if (f->t && rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
        snprintf(f->suppressed, sizeof f->suppressed, "the e-mail %s", f->email);
    else if (f->t && (!rep || rep->type == REDIS_REPLY_ERROR))
        snprintf(f->suppressed, sizeof f->suppressed, "\x01%s",
                 rep ? rep->str : "Redis did not answer");
    ft_release(f);
}

static void on_suppressed(redisReply *rep, void *ud)
{
    ft_t *f = ud;
    if (!ft_answered(f)) return;
    if (f->suppressed[0] == '\x01' || !rep || rep->type == REDIS_REPLY_ERROR) {
        transient(f, "redis",
                  f->suppressed[0] == '\x01' ? f->suppressed + 1
                  : rep                      ? rep->str
                                             : "Redis did not answer",
                  0);
        return;
    }
    for (size_t i = 0; !f->suppressed[0] && rep->type == REDIS_REPLY_ARRAY && i < rep->elements &&
                       i < f->ndomains;
         i++)
        if (rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer == 1)
            snprintf(f->suppressed, sizeof f->suppressed, "the domain %s", f->domains[i]);
    if (f->suppressed[0]) {
        char d[sizeof f->suppressed + 40];
        snprintf(d, sizeof d, "%s is on the suppression list", f->suppressed);
        finish(f, PA_OUT_SKIPPED, NULL, "suppressed", d, 0);
        return;
    }
    push_url(f, f->target, 0);
    robots_for_origin(f);
}

/* The host of an origin "scheme://host:port" (brackets kept for IPv6) into out. */
static void origin_host(const char *origin, char *out, size_t n)
{
    const char *h = strstr(origin, "://");
    h = h ? h + 3 : origin;
    const char *end = h[0] == '[' ? strchr(h, ']') : strrchr(h, ':');
    size_t len = end ? (size_t)(end - h) + (h[0] == '[') : strlen(h);
    if (len >= n) len = n - 1;
    memcpy(out, h, len);
    out[len] = '\0';
}

/* Appends name and each parent domain of it with two labels or more ("a.b.example.com",
 * "b.example.com", "example.com") to argv. */
static size_t add_domains(const char **argv, size_t n, size_t max, const char *name)
{
    for (const char *d = name; d && *d && n < max;) {
        if (!strchr(d, '.')) break;
        argv[n++] = d;
        d = strchr(d, '.');
        if (d) d++;
    }
    return n;
}

static void check_suppressed(ft_t *f)
{
    fw_t *F = f->F;
    char dk[200], ek[200], host[ORIGIN_MAX];
    snprintf(dk, sizeof dk, "%ssuppress:domains", F->cfg.prefix);
    snprintf(ek, sizeof ek, "%ssuppress:emails", F->cfg.prefix);
    origin_host(f->home_origin, host, sizeof host);
    snprintf(f->hostbuf, sizeof f->hostbuf, "%s", host);
    const char *argv[2 + FORM_MAX_DOMAINS] = {"SMISMEMBER", dk};
    int ip = f->hostbuf[0] == '[' || strspn(f->hostbuf, "0123456789.") == strlen(f->hostbuf);
    size_t n = ip ? 2 : add_domains(argv, 2, 2 + FORM_MAX_DOMAINS / 2, f->hostbuf);
    const char *at = f->email ? strrchr(f->email, '@') : NULL;
    if (at) n = add_domains(argv, n, 2 + FORM_MAX_DOMAINS, at + 1);
    f->ndomains = n - 2;
    memcpy(f->domains, argv + 2, f->ndomains * sizeof *argv);
    if (f->email) {
        f->refs++;
        if (pa_aredis_cmd(F->redis, on_suppressed_email, f, "SISMEMBER %s %s", ek, f->email) < 0)
            f->refs--;
    }
    f->refs++;
    if (f->ndomains == 0) argv[n++] = "-"; /* an IP literal: no domain (SMISMEMBER wants one) */
    if (pa_aredis_argv(F->redis, on_suppressed, f, (int)n, argv, NULL) < 0) {
        f->refs--;
        transient(f, "redis", "the Redis client is closing", 0);
    }
}

static char *lower_dup(const char *s)
{
    char *d = pa_strdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return d;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static void on_submit(fw_t *F, pa_task_t *t)
{
    ft_t *f = pa_calloc(1, sizeof *f);
    f->F = F;
    f->t = t;
    f->refs = 1;
    f->form = -1;
    t->user = f;
    snprintf(f->key, sizeof f->key, "%s", t->key);
    snprintf(f->owner, sizeof f->owner, "%s", t->lease);
    f->emails = json_array();
    f->phones = json_array();
    f->next = F->tasks;
    if (F->tasks) F->tasks->prev = f;
    F->tasks = f;

    const json_t *ctx = pa_task_context(t), *in = pa_task_input(t);
    const char *target = t->target && *t->target ? t->target : jstr(in, "website");
    if (!target) target = jstr(in, "url");
    if (!target) {
        finish(f, PA_OUT_FAILED, NULL, "no_target", "the task names no website", 0);
        return;
    }
    snprintf(f->target, sizeof f->target, "%s", target);
    if (guard_url(f, f->target, f->home_origin, sizeof f->home_origin) < 0) {
        finish(f, PA_OUT_FAILED, NULL, "refused_target", f->refused, 0);
        return;
    }
    snprintf(f->origin, sizeof f->origin, "%s", f->home_origin);
    const json_t *opts = json_object_get(ctx, "options");
    f->dry_run = json_is_true(json_object_get(opts, "dry_run"));
    const char *cid = jstr(ctx, "campaign_id");
    f->campaign = pa_strdup(cid ? cid : t->job);
    f->sender_j = json_incref(json_object_get(ctx, "sender"));
    f->sender = (form_sender_t){.name = jstr(f->sender_j, "name"),
                                .first_name = jstr(f->sender_j, "first_name"),
                                .last_name = jstr(f->sender_j, "last_name"),
                                .email = jstr(f->sender_j, "email"),
                                .phone = jstr(f->sender_j, "phone"),
                                .company = jstr(f->sender_j, "company"),
                                .website = jstr(f->sender_j, "website"),
                                .title = jstr(f->sender_j, "title")};
    /* the composed message; a run without the compose stage sends its template rendered for
     * this target as the template provider renders it (never the raw {{...}}) */
    const char *msg = jstr(pa_task_result(t, "compose"), "message");
    pa_buf_t rendered = PA_BUF_INIT;
    if (!msg && jstr(ctx, "template")) {
        const json_t *tmpl = json_object_get(ctx, "template");
        llm_fields_t lf = {in, f->sender_j, pa_task_result(t, "enrich")};
        char terr[300];
        if (llm_compose_template(json_string_value(tmpl), json_string_length(tmpl), &lf,
                                 LLM_MAX_CHARS_DEFAULT, &rendered, terr, sizeof terr) < 0) {
            pa_buf_free(&rendered);
            finish(f, PA_OUT_FAILED, NULL, "no_message", terr, 0);
            return;
        }
        msg = rendered.data;
    }
    if (!msg || !f->sender.email) {
        pa_buf_free(&rendered);
        finish(f, PA_OUT_FAILED, NULL, "no_message",
               !msg ? "the task has no composed message" : "the run's sender has no e-mail", 0);
        return;
    }
    f->message = pa_strdup(msg);
    pa_buf_free(&rendered);
    char subj[300];
    const char *who = f->sender.company ? f->sender.company : f->sender.name;
    if (who) snprintf(subj, sizeof subj, "Enquiry from %s", who);
    else snprintf(subj, sizeof subj, "Enquiry");
    f->subject = pa_strdup(subj);
    const char *email = jstr(in, "email");
    if (email) f->email = lower_dup(email);
    f->jar = pa_http_jar_new();
    f->lock_deadline = pa_mono_ms() + (uint64_t)F->cfg.lock_wait_ms;
    check_suppressed(f);
}

/* ---- the runtime's callbacks -------------------------------------------------------------- */

static void on_task(pa_worker_t *w, pa_task_t *t, void *ud)
{
    fw_t *F = ud;
    if (strcmp(t->stage, "submit") != 0) {
        char err[200];
        snprintf(err, sizeof err, "form: this worker runs the submit stage, not '%s'", t->stage);
        pa_worker_done(w, t, PA_OUT_FAILED, NULL, err, 0);
        return;
    }
    on_submit(F, t);
}

static void on_cancel(pa_worker_t *w, pa_task_t *t, const char *reason, void *ud)
{
    ft_t *f = t->user;
    char why[200];
    snprintf(why, sizeof why, "form: cancelled (%s)", reason ? reason : "?");
    pa_info("target cancelled", PA_S("task_id", t->key), PA_S("reason", reason),
            PA_B("posting", f && f->req && f->fill.action && f->page));
    pa_worker_done(w, t, PA_OUT_FAILED, NULL, why, 0);
    if (f) ft_end(f);
}

static int on_start(pa_worker_t *w, void *ud)
{
    fw_t *F = ud;
    char err[256];
    F->redis = pa_worker_aredis(w);
    pa_http_cfg_t hc = {.user_agent = F->cfg.user_agent,
                        .connect_timeout_ms = F->cfg.connect_timeout_ms,
                        .timeout_ms = F->cfg.timeout_ms,
                        .max_body = F->cfg.max_body};
    F->http = pa_http_new(pa_worker_loop(w), &hc, err, sizeof err);
    if (!F->http) {
        pa_error("cannot initialise libcurl", PA_S("error", err));
        return -1;
    }
    pa_worker_set_status(w, "form_user_agent", F->cfg.user_agent);
    return 0;
}

static void on_stop(pa_worker_t *w, void *ud)
{
    fw_t *F = ud;
    F->stopping = 1;
    while (F->tasks) ft_end(F->tasks);
    pa_http_destroy(&F->http);
}

int main(void)
{
    pa_mem_install_hooks();
    char err[700];
    pa_log_level_t lvl = PA_LOG_INFO;
    pa_log_parse_level(pa_env_str("LOG_LEVEL", "info"), &lvl);
    pa_log_init("form-worker", lvl, 2);
    fw_t F = {0};
    if (read_cfg(&F.cfg, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    F.guard = pa_guard_from_env(err, sizeof err);
    if (!F.guard) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pa_error("cannot initialise libcurl", PA_S("error", "curl_global_init failed"));
        pa_guard_free(&F.guard);
        return 1;
    }
    int rc = 1;
    pa_worker_ops_t ops = {.service = "form",
                           .on_start = on_start,
                           .on_task = on_task,
                           .on_cancel = on_cancel,
                           .on_stop = on_stop,
                           .ud = &F};
    F.w = pa_worker_new(&ops, err, sizeof err);
    if (!F.w) {
        pa_error("bad configuration", PA_S("error", err));
        rc = 2;
        goto out;
    }
    const char *allowed = pa_guard_allowed_private(F.guard);
    if (allowed && *allowed)
        pa_warn("ALLOWED_PRIVATE_TARGETS is set: this worker WILL connect to these private "
                "addresses and ports (tests and the bundled demo sites only)",
                PA_S("allowed_private_targets", allowed));
    if (F.cfg.placeholder_contact)
        pa_warn("FORM_CONTACT_URL is not set: the User-Agent names a placeholder contact URL; set "
                "it to a page that says who sends these messages and how to opt out",
                PA_S("user_agent", F.cfg.user_agent));
    pa_info("form worker configured", PA_S("user_agent", F.cfg.user_agent),
            PA_I("rate_ms", F.cfg.rate_ms), PA_I("rate_burst", F.cfg.burst),
            PA_I("timeout_ms", F.cfg.timeout_ms), PA_I("max_body", F.cfg.max_body),
            PA_I("max_redirects", F.cfg.max_redirects), PA_I("max_pages", F.cfg.max_pages),
            PA_S("capacity", getenv("WORKER_CAPACITY")));
    rc = pa_worker_run(F.w);
out:
    pa_worker_destroy(&F.w);
    pa_http_destroy(&F.http);
    pa_guard_free(&F.guard);
    curl_global_cleanup();
    return rc;
}
