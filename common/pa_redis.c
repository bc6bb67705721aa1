/* Redis client with reconnect and backoff over hiredis's blocking API. */
#include "pa_redis.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "pa_buf.h"
#include "pa_time.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

struct pa_redis {
    redisContext *c;
    char *host; /* or unix socket path */
    int port;   /* 0 for a unix socket */
    char *password;
    int db;
    int timeout_ms;
    char *url_safe;
    uint64_t next_try_ms;
    unsigned backoff_ms;
    char err[256];
};

int pa_redis_url_parse(const char *url, pa_redis_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strncmp(url, "unix://", 7) == 0) {
        if (!url[7]) goto bad;
        out->host = pa_strdup(url + 7);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) goto bad;
    const char *p = url + 8, *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        out->password = pa_strndup(pw, (size_t)(at - pw));
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    out->port = 6379;
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port < 1 || port > 65535) goto bad;
        out->port = (int)port;
    }
    const char *hend = colon ? colon : end;
    if (hend == p) out->host = pa_strdup("127.0.0.1");
    else out->host = pa_strndup(p, (size_t)(hend - p));
    if (slash && slash[1]) {
        char *e;
        long db = strtol(slash + 1, &e, 10);
        if (*e || db < 0 || db > 1000) goto bad;
        out->db = (int)db;
    }
    return 0;
bad:
    pa_redis_url_free(out);
    snprintf(err, errlen,
             "REDIS_URL: expected redis://[:password@]host[:port][/db] or unix:///path");
    return -1;
}

void pa_redis_url_free(pa_redis_url_t *u)
{
    free(u->host);
    free(u->password);
    memset(u, 0, sizeof *u);
}

static int parse_url(pa_redis_t *r, const char *url, char *err, size_t errlen)
{
    pa_redis_url_t u;
    if (pa_redis_url_parse(url, &u, err, errlen) < 0) return -1;
    r->host = u.host, r->port = u.port, r->password = u.password, r->db = u.db;
    if (!r->port) {
        r->url_safe = pa_strdup(url);
        return 0;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "redis://%s%s:%d/%d", r->password ? "***@" : "", r->host, r->port, r->db);
    r->url_safe = pa_buf_detach(&b, NULL);
    return 0;
}

pa_redis_t *pa_redis_new(const char *url, int timeout_ms, char *err, size_t errlen)
{
    pa_redis_t *r = pa_calloc(1, sizeof *r);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (parse_url(r, url, err, errlen) < 0) {
        pa_redis_destroy(&r);
        return NULL;
    }
    return r;
}

void pa_redis_destroy(pa_redis_t **rp)
{
    pa_redis_t *r = *rp;
    if (!r) return;
    if (r->c) redisFree(r->c);
    free(r->host);
    free(r->password);
    free(r->url_safe);
    free(r);
    *rp = NULL;
}

int pa_redis_connected(const pa_redis_t *r)
{
    return r->c != NULL;
}

const char *pa_redis_errstr(const pa_redis_t *r)
{
    return r->err;
}

const char *pa_redis_url_safe(const pa_redis_t *r)
{
    return r->url_safe;
}

static void drop(pa_redis_t *r, const char *why)
{
    snprintf(r->err, sizeof r->err, "redis: %.240s", why);
    if (r->c) redisFree(r->c);
    r->c = NULL;
    r->next_try_ms = pa_mono_ms() + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static int setup(pa_redis_t *r)
{
    redisReply *rep;
    if (r->password) {
        rep = redisCommand(r->c, "AUTH %s", r->password);
        int ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (!ok) snprintf(r->err, sizeof r->err, "redis: AUTH failed");
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    if (r->db) {
        rep = redisCommand(r->c, "SELECT %d", r->db);
        int ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    return 0;
}

/* Connects when not connected and the backoff allows; 0 when connected. */
static int ensure(pa_redis_t *r)
{
    if (r->c) return 0;
    if (pa_mono_ms() < r->next_try_ms) return -1;
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->c = r->port ? redisConnectWithTimeout(r->host, r->port, tv)
                   : redisConnectUnixWithTimeout(r->host, tv);
    if (!r->c || r->c->err) {
        drop(r, r->c ? r->c->errstr : "cannot allocate context");
        return -1;
    }
    redisSetTimeout(r->c, tv);
    if (r->port) redisEnableKeepAlive(r->c);
    if (setup(r) < 0) {
        char why[sizeof r->err];
        memcpy(why, r->err, sizeof why);
        drop(r, why + 7); /* past the "redis: " that setup() wrote */
        return -1;
    }
    r->backoff_ms = BACKOFF_MIN_MS;
    r->err[0] = '\0';
    return 0;
}

static redisReply *check(pa_redis_t *r, void *reply)
{
    if (!reply) {
        drop(r, r->c && r->c->errstr[0] ? r->c->errstr : "connection lost");
        return NULL;
    }
    redisReply *rep = reply;
    if (rep->type == REDIS_REPLY_ERROR) snprintf(r->err, sizeof r->err, "%s", rep->str);
    return rep;
}

redisReply *pa_redis_cmd(pa_redis_t *r, const char *fmt, ...)
{
    if (ensure(r) < 0) return NULL;
    va_list ap;
    va_start(ap, fmt);
    void *rep = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return check(r, rep);
}

redisReply *pa_redis_argv(pa_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    if (ensure(r) < 0) return NULL;
    return check(r, redisCommandArgv(r->c, argc, argv, lens));
}

int pa_redis_append(pa_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    if (ensure(r) < 0) return -1;
    if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) {
        drop(r, "append failed");
        return -1;
    }
    return 0;
}

int pa_redis_flush(pa_redis_t *r)
{
    if (!r->c) return -1;
    int done = 0;
    while (!done)
        if (redisBufferWrite(r->c, &done) != REDIS_OK) {
            drop(r, r->c->errstr[0] ? r->c->errstr : "write failed");
            return -1;
        }
    return 0;
}

int pa_redis_fd(const pa_redis_t *r)
{
    return r->c ? r->c->fd : -1;
}

redisReply *pa_redis_get_reply(pa_redis_t *r)
{
    if (!r->c) return NULL;
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK) rep = NULL;
    return check(r, rep);
}

redisReply *pa_redis_wait_reply(pa_redis_t *r, int wait_ms)
{
    if (!r->c) return NULL;
    void *rep = NULL;
    if (redisGetReplyFromReader(r->c, &rep) != REDIS_OK) return check(r, NULL);
    if (rep) return check(r, rep);
    struct pollfd pfd = {.fd = r->c->fd, .events = POLLIN};
    int n = poll(&pfd, 1, wait_ms);
    if (n < 0 && errno == EINTR) return NULL;
    if (n == 0) return NULL; /* quiet */
    if (n < 0 || redisBufferRead(r->c) != REDIS_OK ||
        redisGetReplyFromReader(r->c, &rep) != REDIS_OK)
        return check(r, NULL);
    return rep ? check(r, rep) : NULL; /* part of a reply: the rest comes with the next call */
}

int pa_redis_script_load(pa_redis_t *r, pa_script_t *s)
{
    redisReply *rep = pa_redis_cmd(r, "SCRIPT LOAD %s", s->src);
    if (!rep) return -1;
    int ok = rep->type == REDIS_REPLY_STRING && rep->len == 40;
    if (ok) {
        pthread_mutex_lock(&s->lock);
        if (!atomic_load(&s->have_sha)) {
            memcpy(s->sha, rep->str, 40);
            s->sha[40] = '\0';
            atomic_store(&s->have_sha, 1);
        }
        pthread_mutex_unlock(&s->lock);
    }
    freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* Builds EVALSHA/EVAL argv: cmd, sha-or-src, nkeys, argv... */
static redisReply *run_script(pa_redis_t *r, const char *cmd, const char *body, int nkeys, int argc,
                              const char **argv, const size_t *lens)
{
    char nk[16];
    int n = argc + 3;
    const char *stackv[32];
    size_t stackl[32];
    const char **av = n <= 32 ? stackv : pa_malloc(sizeof *av * (size_t)n);
    size_t *al = n <= 32 ? stackl : pa_malloc(sizeof *al * (size_t)n);
    snprintf(nk, sizeof nk, "%d", nkeys);
    av[0] = cmd, al[0] = strlen(cmd);
    av[1] = body, al[1] = strlen(body);
    av[2] = nk, al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    redisReply *rep = pa_redis_argv(r, n, av, al);
    if (av != stackv) free(av);
    if (al != stackl) free(al);
    return rep;
}

redisReply *pa_redis_eval(pa_redis_t *r, pa_script_t *s, int nkeys, int argc, const char **argv,
                          const size_t *lens)
{
    if (atomic_load(&s->have_sha)) {
        redisReply *rep = run_script(r, "EVALSHA", s->sha, nkeys, argc, argv, lens);
        if (!rep || rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "NOSCRIPT", 8) != 0)
            return rep;
        freeReplyObject(rep);
    } else if (pa_redis_script_load(r, s) == 0) {
        return run_script(r, "EVALSHA", s->sha, nkeys, argc, argv, lens);
    }
    /* NOSCRIPT (Redis restarted or flushed its cache), or loading failed: send the source. */
    return run_script(r, "EVAL", s->src, nkeys, argc, argv, lens);
}

int pa_redis_append_evalsha(pa_redis_t *r, pa_script_t *s, int nkeys, int argc, const char **argv,
                            const size_t *lens)
{
    if (!atomic_load(&s->have_sha) && pa_redis_script_load(r, s) < 0) return -1;
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int n = argc + 3;
    const char **av = pa_malloc(sizeof *av * (size_t)n);
    size_t *al = pa_malloc(sizeof *al * (size_t)n);
    av[0] = "EVALSHA", al[0] = 7;
    av[1] = s->sha, al[1] = 40;
    av[2] = nk, al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    int rc = pa_redis_append(r, n, av, al);
    free(av);
    free(al);
    return rc;
}
