/* robots.txt as RFC 9309 reads it (see form_robots.h).
 *
 * One pass over the lines keeps the rules of two rule sets: the groups that name our product
 * token, and the "*" groups; the first applies when any group named us (even one without rules),
 * else the second. A group is one or more user-agent lines and the rules after them; blank lines,
 * comments, Sitemap and unknown lines do not end it, the next user-agent line after a rule does.
 * Patterns and paths are compared after the RFC's percent-encoding normalisation: octets outside
 * printable ASCII are %-encoded (uppercase hex), %XX of an unreserved character is decoded, any
 * other %xx gets uppercase hex. All strings live in one pool owned by the form_robots_t. */
#include "form_robots.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"
#include "pa_mem.h"

#define CRAWL_DELAY_MAX_MS 60000L
/* a longer path is compared on its first 8 KiB (pa_guard refuses longer URLs) */
#define PATH_MAX_BYTES 8192

typedef struct {
    size_t pat, patlen; /* the normalised pattern in the pool ('$' kept at its end) */
    size_t text;        /* the rule as written, "Disallow: /private/" */
    int line;
    bool allow;
} rule_t;

typedef struct {
    rule_t *v;
    size_t n, cap;
    bool named;     /* a group applies (named us, or is "*"), even one without rules */
    long delay_ms;  /* the largest Crawl-delay of the groups, 0 when none */
    pa_buf_t group; /* their user-agent lines, ", "-separated */
} ruleset_t;

typedef enum { MODE_RULES, MODE_ALLOW_ALL, MODE_DISALLOW_ALL } robots_mode_t;

struct form_robots {
    robots_mode_t mode;
    char sentence[96]; /* the verdict's rule when no rule of the file decides */
    ruleset_t mine, star;
    pa_buf_t pool;
};

/* ---- normalisation and matching ------------------------------------------------------------ */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Appends s[0..n) to b normalised as RFC 9309 2.2.2 says. */
static void normalise(pa_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int hi, lo;
        if (c == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            unsigned char d = (unsigned char)(hi << 4 | lo);
            if (unreserved(d)) {
                pa_buf_putc(b, (char)d);
            } else {
                char e[3] = {'%', hex[d >> 4], hex[d & 15]};
                pa_buf_put(b, e, 3);
            }
            i += 2;
        } else if (c <= 0x20 || c >= 0x7f) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            pa_buf_put(b, e, 3);
        } else {
            pa_buf_putc(b, (char)c);
        }
    }
}

/* Does the pattern match the start of path ('*' any run, a final '$' the end of path)? Greedy
 * with backtracking to the last '*' only: O(len(pat) * len(path)) at worst. */
static bool match(const char *pat, size_t plen, const char *path, size_t n)
{
    bool anchored = plen && pat[plen - 1] == '$';
    if (anchored) plen--;
    size_t p = 0, s = 0, star_p = SIZE_MAX, star_s = 0;
    for (;;) {
        if (p == plen) {
            if (!anchored || s == n) return true;
        } else if (pat[p] == '*') {
            while (p < plen && pat[p] == '*') p++;
            star_p = p;
            star_s = s;
            continue;
        } else if (s < n && pat[p] == path[s]) {
            p++, s++;
            continue;
        }
        if (star_p == SIZE_MAX || star_s >= n) return false;
        p = star_p;
        s = ++star_s;
    }
}

/* ---- parsing ------------------------------------------------------------------------------- */

static bool key_is(const char *k, size_t n, const char *name)
{
    size_t m = strlen(name);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* The product token at the start of s[0..n): up to the first blank or '/'. */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && !is_ws(s[i]) && s[i] != '/') i++;
    return i;
}

/* Crawl-delay: seconds, decimal, maybe fractional; -1 when it is not one. */
static long parse_delay_ms(const char *s, size_t n)
{
    size_t i = 0;
    long secs = 0, ms = 0;
    if (n == 0) return -1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        if (secs <= CRAWL_DELAY_MAX_MS) secs = secs * 10 + (s[i] - '0');
    size_t int_digits = i;
    if (i < n && s[i] == '.') {
        i++;
        long scale = 100;
        size_t frac_start = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10) ms += (s[i] - '0') * scale;
        if (i == frac_start && int_digits == 0) return -1;
    } else if (int_digits == 0) {
        return -1;
    }
    if (i != n) return -1;
    if (secs >= CRAWL_DELAY_MAX_MS / 1000) return CRAWL_DELAY_MAX_MS;
    long v = secs * 1000 + ms;
    return v > CRAWL_DELAY_MAX_MS ? CRAWL_DELAY_MAX_MS : v;
}

static void add_rule(ruleset_t *set, bool allow, size_t pat, size_t patlen, size_t text, int line)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->v = pa_realloc(set->v, set->cap * sizeof *set->v);
    }
    set->v[set->n++] =
        (rule_t){.pat = pat, .patlen = patlen, .text = text, .line = line, .allow = allow};
}

/* The state of the group being read. */
typedef struct {
    bool started;      /* a user-agent line has been seen */
    bool in_agents;    /* the last record was a user-agent line */
    bool mine, star;   /* the group names our token / "*" */
    pa_buf_t agents;   /* its user-agent lines */
    const char *token; /* ours */
    size_t token_n;
} group_state_t;

/* The group's user-agent lines are over: it applies to the sets it named. */
static void end_agents(form_robots_t *r, group_state_t *g)
{
    if (!g->in_agents) return;
    g->in_agents = false;
    ruleset_t *sets[2] = {g->mine ? &r->mine : NULL, g->star ? &r->star : NULL};
    for (int i = 0; i < 2; i++) {
        if (!sets[i]) continue;
        sets[i]->named = true;
        if (sets[i]->group.len) pa_buf_puts(&sets[i]->group, ", ");
        pa_buf_put(&sets[i]->group, g->agents.data, g->agents.len);
    }
}

static void agent_line(group_state_t *g, const char *line, size_t ln, const char *v, size_t vn)
{
    if (!g->in_agents) { /* a new group */
        g->mine = g->star = false;
        pa_buf_reset(&g->agents);
    }
    g->started = g->in_agents = true;
    size_t tn = token_len(v, vn);
    if (tn == 1 && v[0] == '*') g->star = true;
    else if (tn && g->token_n == tn) {
        bool same = true;
        for (size_t i = 0; i < tn && same; i++) {
            char a = v[i], b = g->token[i];
            if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
            same = a == b;
        }
        if (same) g->mine = true;
    }
    if (g->agents.len) pa_buf_puts(&g->agents, ", ");
    pa_buf_put(&g->agents, line, ln);
}

static void rule_line(form_robots_t *r, group_state_t *g, bool allow, const char *line, size_t ln,
                      const char *v, size_t vn, int lineno)
{
    end_agents(r, g);
    if (!g->started || vn == 0 || !(g->mine || g->star)) return; /* empty: matches nothing */
    size_t text = r->pool.len;
    pa_buf_put(&r->pool, line, ln);
    pa_buf_putc(&r->pool, '\0');
    size_t pat = r->pool.len;
    if (v[0] != '/' && v[0] != '*') pa_buf_putc(&r->pool, '/'); /* "Disallow: private" */
    normalise(&r->pool, v, vn);
    size_t patlen = r->pool.len - pat;
    pa_buf_putc(&r->pool, '\0');
    if (g->mine) add_rule(&r->mine, allow, pat, patlen, text, lineno);
    if (g->star) add_rule(&r->star, allow, pat, patlen, text, lineno);
}

static void delay_line(form_robots_t *r, group_state_t *g, const char *v, size_t vn)
{
    end_agents(r, g);
    long ms = parse_delay_ms(v, vn);
    if (!g->started || ms < 0) return;
    if (g->mine && ms > r->mine.delay_ms) r->mine.delay_ms = ms;
    if (g->star && ms > r->star.delay_ms) r->star.delay_ms = ms;
}

/* One line (no terminator): comment cut, blanks trimmed, "key: value" dispatched. */
static void parse_line(form_robots_t *r, group_state_t *g, const char *s, size_t n, int lineno)
{
    const char *hash = memchr(s, '#', n);
    if (hash) n = (size_t)(hash - s);
    while (n && is_ws(*s)) s++, n--;
    while (n && is_ws(s[n - 1])) n--;
    const char *colon = memchr(s, ':', n);
    if (!colon) return; /* blank, or not a record */
    size_t kn = (size_t)(colon - s);
    while (kn && is_ws(s[kn - 1])) kn--;
    const char *v = colon + 1;
    size_t vn = n - (size_t)(v - s);
    while (vn && is_ws(*v)) v++, vn--;
    if (key_is(s, kn, "user-agent")) agent_line(g, s, n, v, vn);
    else if (key_is(s, kn, "allow")) rule_line(r, g, true, s, n, v, vn, lineno);
    else if (key_is(s, kn, "disallow")) rule_line(r, g, false, s, n, v, vn, lineno);
    else if (key_is(s, kn, "crawl-delay")) delay_line(r, g, v, vn);
    /* Sitemap and unknown records: ignored, they do not end a group */
}

static void parse_body(form_robots_t *r, const char *body, size_t len, const char *user_agent)
{
    if (len > FORM_ROBOTS_MAX_BYTES) len = FORM_ROBOTS_MAX_BYTES;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) body += 3, len -= 3;
    group_state_t g = {.agents = PA_BUF_INIT};
    const char *ua = user_agent ? user_agent : "";
    while (is_ws(*ua)) ua++;
    g.token = ua;
    g.token_n = token_len(ua, strlen(ua));
    int lineno = 1;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && body[e] != '\n' && body[e] != '\r') e++;
        parse_line(r, &g, body + i, e - i, lineno++);
        if (e < len && body[e] == '\r' && e + 1 < len && body[e + 1] == '\n') e++;
        i = e + 1;
    }
    end_agents(r, &g);
    pa_buf_free(&g.agents);
}

form_robots_t *form_robots_parse(long status, const char *body, size_t len, const char *user_agent)
{
    form_robots_t *r = pa_calloc(1, sizeof *r);
    if (status >= 200 && status <= 299) {
        r->mode = MODE_RULES;
        if (body && len) parse_body(r, body, len, user_agent);
        pa_buf_putc(&r->pool, '\0'); /* data is never NULL below */
    } else if ((status >= 400 && status <= 499) || (status >= 300 && status <= 399)) {
        /* RFC 9309 2.3.1.3: unavailable (4xx; a redirect not followed to its end is no file
         * either) allows everything */
        r->mode = MODE_ALLOW_ALL;
        snprintf(r->sentence, sizeof r->sentence, "robots.txt answered %ld: everything allowed",
                 status);
    } else {
        r->mode = MODE_DISALLOW_ALL; /* 2.3.1.4: unreachable (5xx, no answer) */
        if (status >= 500 && status <= 599)
            snprintf(r->sentence, sizeof r->sentence,
                     "robots.txt answered %ld: everything disallowed", status);
        else if (status == 0)
            snprintf(r->sentence, sizeof r->sentence,
                     "robots.txt could not be fetched: everything disallowed");
        else
            snprintf(r->sentence, sizeof r->sentence,
                     "robots.txt answered %ld (not a final status): everything disallowed", status);
    }
    return r;
}

void form_robots_free(form_robots_t **rp)
{
    if (!rp || !*rp) return;
    form_robots_t *r = *rp;
    free(r->mine.v);
    free(r->star.v);
    pa_buf_free(&r->mine.group);
    pa_buf_free(&r->star.group);
    pa_buf_free(&r->pool);
    free(r);
    *rp = NULL;
}

static const ruleset_t *applying(const form_robots_t *r)
{
    if (r->mine.named) return &r->mine;
    if (r->star.named) return &r->star;
    return NULL;
}

/* The path and query of a whole URL (curl's URL API), or NULL. */
static char *url_path(const char *url)
{
    CURLU *h = curl_url();
    if (!h) return NULL;
    char *path = NULL, *query = NULL, *out = NULL;
    if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        if (curl_url_get(h, CURLUPART_QUERY, &query, 0) != CURLUE_OK) query = NULL;
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_puts(&b, path[0] ? path : "/");
        if (query) pa_buf_printf(&b, "?%s", query);
        out = pa_buf_detach(&b, NULL);
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(h);
    return out;
}

void form_robots_check(const form_robots_t *r, const char *path, form_robots_verdict_t *v)
{
    v->allowed = false;
    v->rule = "no robots.txt";
    v->line = 0;
    v->group = "";
    if (!r) return;
    if (r->mode != MODE_RULES) {
        v->allowed = r->mode == MODE_ALLOW_ALL;
        v->rule = r->sentence;
        return;
    }
    const ruleset_t *set = applying(r);
    if (set) v->group = set->group.data ? set->group.data : "";
    char *whole = path && path[0] != '/' && strstr(path, "://") ? url_path(path) : NULL;
    const char *p = whole ? whole : path ? path : "/";
    size_t pn = strcspn(p, "#");
    if (pn > PATH_MAX_BYTES) pn = PATH_MAX_BYTES;
    pa_buf_t norm = PA_BUF_INIT;
    if (pn == 0 || p[0] != '/') pa_buf_putc(&norm, '/');
    normalise(&norm, p, pn);
    v->allowed = true;
    if (norm.len == 11 && memcmp(norm.data, "/robots.txt", 11) == 0) {
        v->rule = "/robots.txt is always allowed";
    } else {
        v->rule = "no rule matches";
        const rule_t *best = NULL;
        for (size_t i = 0; set && i < set->n; i++) {
            const rule_t *x = &set->v[i];
            if (best && (x->patlen < best->patlen ||
                         (x->patlen == best->patlen && (best->allow || !x->allow))))
                continue;
            if (match(r->pool.data + x->pat, x->patlen, norm.data, norm.len)) best = x;
        }
        if (best) {
            v->allowed = best->allow;
            v->rule = r->pool.data + best->text;
            v->line = best->line;
        }
    }
    pa_buf_free(&norm);
    free(whole);
}

long form_robots_crawl_delay_ms(const form_robots_t *r)
{
    const ruleset_t *set = r && r->mode == MODE_RULES ? applying(r) : NULL;
    return set ? set->delay_ms : 0;
}
