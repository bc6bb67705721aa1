/* Redis Sentinel (pa_sentinel.h): the master's address, asked of the sentinels with hiredis's
 * blocking API. */
#include "pa_sentinel.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "pa_buf.h"
#include "pa_mem.h"
#include "pa_time.h"

#define MAX_SENTINELS 16

typedef struct {
    char *host;
    int port;
} addr_t;

struct pa_sentinel {
    addr_t a[MAX_SENTINELS];
    size_t n;
    char *master;
    char *password;
};

void pa_sentinel_free(pa_sentinel_t **sp)
{
    pa_sentinel_t *s = *sp;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->a[i].host);
    free(s->master);
    free(s->password);
    free(s);
    *sp = NULL;
}

/* One "host:port" or "[v6]:port" of n bytes; 0 or -1. */
static int parse_addr(const char *p, size_t n, addr_t *out)
{
    const char *hs = p, *he, *colon;
    if (n && *p == '[') {
        const char *rb = memchr(p, ']', n);
        if (!rb || rb == p + 1 || rb + 1 >= p + n || rb[1] != ':') return -1;
        hs = p + 1, he = rb, colon = rb + 1;
    } else {
        colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (p[i] == ':') colon = p + i;
        if (!colon || colon == p || memchr(p, ':', (size_t)(colon - p))) return -1;
        he = colon;
    }
    long port = 0;
    const char *q = colon + 1, *end = p + n;
    if (q == end || end - q > 5) return -1;
    for (; q < end; q++) {
        if (*q < '0' || *q > '9') return -1;
        port = port * 10 + (*q - '0');
    }
    if (port < 1 || port > 65535) return -1;
    for (const char *h = hs; h < he; h++)
        if (*h <= ' ' || *h == '/' || *h == '@' || *h == ',') return -1;
    out->host = pa_strndup(hs, (size_t)(he - hs));
    out->port = (int)port;
    return 0;
}

pa_sentinel_t *pa_sentinel_new(const char *list, const char *master, const char *password,
                               char *err, size_t errlen)
{
    pa_sentinel_t *s = pa_calloc(1, sizeof *s);
    const char *p = list;
    while (*p) {
        while (*p == ' ') p++;
        const char *e = p + strcspn(p, ",");
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if (s->n == MAX_SENTINELS) {
            snprintf(err, errlen, "REDIS_SENTINELS: more than %d sentinels", MAX_SENTINELS);
            goto bad;
        }
        if (parse_addr(p, (size_t)(t - p), &s->a[s->n]) < 0) {
            snprintf(err, errlen,
                     "REDIS_SENTINELS: \"%.*s\" is not host:port (a comma-separated list, IPv6 as "
                     "[addr]:port)",
                     (int)(t - p > 80 ? 80 : t - p), p);
            goto bad;
        }
        s->n++;
        p = *e ? e + 1 : e;
    }
    if (!s->n) {
        snprintf(err, errlen, "REDIS_SENTINELS: no sentinel named");
        goto bad;
    }
    if (!master || !*master) {
        snprintf(err, errlen,
                 "REDIS_MASTER_NAME: required with REDIS_SENTINELS (the name the sentinels "
                 "monitor the master by: `sentinel monitor <name> ...`)");
        goto bad;
    }
    if (strlen(master) > 200 || strpbrk(master, " \t\r\n")) {
        snprintf(err, errlen, "REDIS_MASTER_NAME: not a sentinel master name");
        goto bad;
    }
    s->master = pa_strdup(master);
    if (password && *password) s->password = pa_strdup(password);
    return s;
bad:
    pa_sentinel_free(&s);
    return NULL;
}

int pa_sentinel_from_env(pa_sentinel_t **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *list = getenv("REDIS_SENTINELS");
    if (!list || !*list) return 0;
    *out = pa_sentinel_new(list, getenv("REDIS_MASTER_NAME"), getenv("REDIS_SENTINEL_PASSWORD"),
                           err, errlen);
    return *out ? 0 : -1;
}

/* One sentinel's answer: 0 with host and port, or -1 with why. */
static int ask(const pa_sentinel_t *s, const addr_t *a, int timeout_ms, char **host, int *port,
               char *why, size_t whylen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
    if (!c || c->err) {
        snprintf(why, whylen, "sentinel %s:%d: %s", a->host, a->port,
                 c ? c->errstr : "cannot allocate a context");
        if (c) redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    redisReply *rep = NULL;
    if (s->password) {
        rep = redisCommand(c, "AUTH %s", s->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(why, whylen, "sentinel %s:%d: AUTH: %.120s", a->host, a->port,
                     rep ? rep->str : c->errstr);
            goto fail;
        }
        freeReplyObject(rep);
    }
    rep = redisCommand(c, "SENTINEL get-master-addr-by-name %s", s->master);
    if (!rep) {
        snprintf(why, whylen, "sentinel %s:%d: %s", a->host, a->port, c->errstr);
        goto fail;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        snprintf(why, whylen, "sentinel %s:%d does not know master \"%s\"", a->host, a->port,
                 s->master);
        goto fail;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING) {
        snprintf(why, whylen, "sentinel %s:%d: unexpected answer%s%.120s", a->host, a->port,
                 rep->type == REDIS_REPLY_ERROR ? ": " : "",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        goto fail;
    }
    char *e;
    long p = strtol(rep->element[1]->str, &e, 10);
    if (*e || p < 1 || p > 65535 || !rep->element[0]->len) {
        snprintf(why, whylen, "sentinel %s:%d: bad address in its answer", a->host, a->port);
        goto fail;
    }
    *host = pa_strdup(rep->element[0]->str);
    *port = (int)p;
    freeReplyObject(rep);
    redisFree(c);
    return 0;
fail:
    if (rep) freeReplyObject(rep);
    redisFree(c);
    return -1;
}

int pa_sentinel_master(pa_sentinel_t *s, int timeout_ms, int budget_ms, char **host, int *port,
                       char *why, size_t whylen)
{
    char last[200] = "";
    uint64_t end = pa_mono_ms() + (uint64_t)(budget_ms > 0 ? budget_ms : timeout_ms);
    for (size_t i = 0; i < s->n && (i == 0 || pa_mono_ms() < end); i++) {
        if (ask(s, &s->a[i], timeout_ms > 0 ? timeout_ms : 500, host, port, last, sizeof last) ==
            0) {
            if (i) { /* the one that answered goes first (the sentinel clients' rule) */
                addr_t t = s->a[i];
                memmove(&s->a[1], &s->a[0], i * sizeof *s->a);
                s->a[0] = t;
            }
            return 0;
        }
    }
    snprintf(why, whylen, "no sentinel gave master \"%.60s\" (last: %.150s)", s->master, last);
    return -1;
}

char *pa_sentinel_url_safe(const pa_sentinel_t *s, const char *user, int has_password, int db)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "redis-sentinel://");
    if (user) pa_buf_printf(&b, "%s:%s@", user, has_password ? "***" : "");
    else if (has_password) pa_buf_puts(&b, "***@");
    for (size_t i = 0; i < s->n; i++) {
        int v6 = strchr(s->a[i].host, ':') != NULL;
        pa_buf_printf(&b, "%s%s%s%s:%d", i ? "," : "", v6 ? "[" : "", s->a[i].host, v6 ? "]" : "",
                      s->a[i].port);
    }
    pa_buf_printf(&b, "/%d#%s", db, s->master);
    return pa_buf_detach(&b, NULL);
}

int pa_redis_err_not_master(const char *err)
{
    if (!err) return 0;
    if (strncmp(err, "READONLY", 8) == 0) return 2;
    return strncmp(err, "MASTERDOWN", 10) == 0 || strncmp(err, "LOADING", 7) == 0;
}

int pa_redis_role_is_master(const redisReply *rep, char *role, size_t rolelen)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        snprintf(role, rolelen, "?");
        return -1;
    }
    snprintf(role, rolelen, "%s", rep->element[0]->str);
    return strcmp(rep->element[0]->str, "master") == 0;
}
