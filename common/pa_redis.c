/* Redis client with reconnect and backoff over hiredis's blocking API. */
#include "pa_redis.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <fcntl.h>
#include <hiredis/sds.h>

#include "pa_buf.h"
#include "pa_log.h"
#include "pa_sentinel.h"
#include "pa_tls.h"
#include "pa_time.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

struct pa_redis {
    redisContext *c;
    char *host; /* or unix socket path */
    int port;   /* 0 for a unix socket */
    char *user;
    char *password;
    int db;
    int timeout_ms;
    char *url_safe;
    uint64_t next_try_ms;
    unsigned backoff_ms;
    pa_tls_ctx_t *tls;       /* rediss:// */
    pa_ssl_t *ssl;           /* the session on c's socket while connected over TLS */
    pa_sentinel_t *sentinel; /* REDIS_SENTINELS: host and port come from the sentinels */
    int had_master;          /* the sentinels named one before */
    char err[256];
};

/* %XX in the user and password, as redis-cli decodes them; NULL on a malformed escape. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = pa_malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int v = 0;
        for (size_t k = 1; k <= 2; k++) {
            char ch = i + k < n ? s[i + k] : '\0';
            int d = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (d < 0) {
                free(out);
                return NULL;
            }
            v = v * 16 + d;
        }
        if (v == 0) {
            free(out);
            return NULL;
        }
        *o++ = (char)v;
        i += 2;
    }
    *o = '\0';
    return out;
}

int pa_redis_url_parse(const char *url, pa_redis_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strncmp(url, "unix://", 7) == 0) {
        if (!url[7]) goto bad;
        out->host = pa_strdup(url + 7);
        return 0;
    }
    const char *p;
    if (strncmp(url, "redis://", 8) == 0) p = url + 8;
    else if (strncmp(url, "rediss://", 9) == 0) p = url + 9, out->tls = 1;
    else goto bad;
    const char *at = strrchr(p, '@'); /* the last: a password may hold '@' and '/' unencoded */
    if (at) {
        /* userinfo: "user:password", ":password", or "password" (redis-cli's reading) */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        if (colon && colon > p && !(out->user = pct_decode(p, (size_t)(colon - p)))) goto bad;
        if (!(out->password = pct_decode(pw, (size_t)(at - pw)))) goto bad;
        if (!out->password[0]) {
            free(out->password);
            out->password = NULL;
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *hstart = p, *hend, *colon;
    if (*p == '[') { /* [IPv6]:port */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb || rb == p + 1) goto bad;
        hstart = p + 1, hend = rb;
        colon = rb + 1 < end ? rb + 1 : NULL;
        if (colon && *colon != ':') goto bad;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    out->port = 6379;
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port < 1 || port > 65535) goto bad;
        out->port = (int)port;
    }
    if (hend == hstart) out->host = pa_strdup("127.0.0.1");
    else out->host = pa_strndup(hstart, (size_t)(hend - hstart));
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
             "REDIS_URL: expected redis[s]://[[user]:password@]host[:port][/db] (user and password "
             "percent-encoded) or unix:///path");
    return -1;
}

void pa_redis_url_free(pa_redis_url_t *u)
{
    free(u->host);
    free(u->user);
    free(u->password);
    memset(u, 0, sizeof *u);
}

int pa_redis_url_password_file(pa_redis_url_t *u, char *err, size_t errlen)
{
    const char *path = getenv("REDIS_PASSWORD_FILE");
    if (u->password || !path || !*path) return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "REDIS_PASSWORD_FILE: %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    size_t n = fread(line, 1, sizeof line - 1, f);
    int bad = ferror(f);
    fclose(f);
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (bad || !line[0] || n == sizeof line - 1) {
        snprintf(err, errlen, "REDIS_PASSWORD_FILE: %s: %s", path,
                 bad        ? "cannot be read"
                 : !line[0] ? "is empty"
                            : "longer than 1,000 bytes");
        return -1;
    }
    u->password = pa_strdup(line);
    return 0;
}

char *pa_redis_url_safe_str(const pa_redis_url_t *u, const char *url)
{
    if (!u->port) return pa_strdup(url);
    pa_buf_t b = PA_BUF_INIT;
    int v6 = strchr(u->host, ':') != NULL;
    pa_buf_printf(&b, "redis%s://", u->tls ? "s" : "");
    if (u->user) pa_buf_printf(&b, "%s:%s@", u->user, u->password ? "***" : "");
    else if (u->password) pa_buf_puts(&b, "***@");
    pa_buf_printf(&b, "%s%s%s:%d/%d", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
    return pa_buf_detach(&b, NULL);
}

int pa_redis_url_sentinel(const pa_redis_url_t *u, pa_sentinel_t **out, char *err, size_t errlen)
{
    if (pa_sentinel_from_env(out, err, errlen) < 0) return -1;
    if (*out && (u->tls || !u->port)) {
        snprintf(err, errlen,
                 "REDIS_SENTINELS: not supported with a %s REDIS_URL (the sentinels name a TCP "
                 "master; give REDIS_URL as redis://[[user]:password@]host/db, its host unused)",
                 u->tls ? "rediss:// (TLS)" : "unix://");
        pa_sentinel_free(out);
        return -1;
    }
    return 0;
}

static int parse_url(pa_redis_t *r, const char *url, char *err, size_t errlen)
{
    pa_redis_url_t u;
    if (pa_redis_url_parse(url, &u, err, errlen) < 0) return -1;
    if (pa_redis_url_password_file(&u, err, errlen) < 0) {
        pa_redis_url_free(&u);
        return -1;
    }
    if (pa_redis_url_sentinel(&u, &r->sentinel, err, errlen) < 0) {
        pa_redis_url_free(&u);
        return -1;
    }
    if (u.tls && !(r->tls = pa_tls_ctx_from_env(u.host, err, errlen))) {
        pa_redis_url_free(&u);
        return -1;
    }
    r->url_safe = r->sentinel ? pa_sentinel_url_safe(r->sentinel, u.user, u.password != NULL, u.db)
                              : pa_redis_url_safe_str(&u, url);
    r->host = u.host, r->port = u.port, r->user = u.user, r->password = u.password, r->db = u.db;
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
    pa_tls_free(&r->ssl);
    if (r->c) redisFree(r->c);
    pa_tls_ctx_free(&r->tls);
    pa_sentinel_free(&r->sentinel);
    free(r->host);
    free(r->user);
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
    pa_tls_free(&r->ssl);
    if (r->c) redisFree(r->c);
    r->c = NULL;
    r->next_try_ms = pa_mono_ms() + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* ---- TLS: hiredis formats and parses, OpenSSL moves the bytes -------------------------------- */

/* Marks the context failed with why (check() then drops the connection with that reason). */
static void tls_fail(pa_redis_t *r, const char *why)
{
    r->c->err = REDIS_ERR_IO;
    snprintf(r->c->errstr, sizeof r->c->errstr, "%.120s", why);
}

/* Waits up to ms (-1: forever) for the socket; 1 ready, 0 time out, -1 error. */
static int tls_poll(pa_redis_t *r, long want, int ms)
{
    struct pollfd pfd = {.fd = r->c->fd, .events = want == PA_TLS_WANT_WRITE ? POLLOUT : POLLIN};
    for (;;) {
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR) continue;
        return n > 0 ? 1 : n;
    }
}

/* Writes out hiredis's output buffer; 0, or -1 with the context failed. */
static int tls_flush(pa_redis_t *r)
{
    uint64_t deadline = pa_mono_ms() + (uint64_t)r->timeout_ms;
    char why[200];
    while (sdslen(r->c->obuf) > 0) {
        long n = pa_tls_write(r->ssl, r->c->obuf, sdslen(r->c->obuf), why, sizeof why);
        if (n > 0) {
            sdsrange(r->c->obuf, (int)n, -1);
            continue;
        }
        if (n == PA_TLS_ERR) {
            tls_fail(r, why);
            return -1;
        }
        uint64_t now = pa_mono_ms();
        if (now >= deadline || tls_poll(r, n, (int)(deadline - now)) <= 0) {
            tls_fail(r, "write timed out");
            return -1;
        }
    }
    return 0;
}

/* Reads what the server sent into hiredis's reader, waiting up to wait_ms (0: not at all) for
 * the first bytes. Everything OpenSSL has decrypted is handed over, so a socket that polls quiet
 * means there is nothing to read. 1 read, 0 nothing came in time, -1 with the context failed. */
static int tls_fill(pa_redis_t *r, int wait_ms)
{
    uint64_t deadline = pa_mono_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);
    char buf[16384], why[200];
    size_t got = 0;
    for (;;) {
        long n = pa_tls_read(r->ssl, buf, sizeof buf, why, sizeof why);
        if (n > 0) {
            if (redisReaderFeed(r->c->reader, buf, (size_t)n) != REDIS_OK) {
                tls_fail(r, "malformed reply");
                return -1;
            }
            got += (size_t)n;
            /* the rest on the next call (what the socket holds still polls readable) */
            if (got >= ((size_t)1 << 20) && !pa_tls_pending(r->ssl)) return 1;
            continue;
        }
        if (n == PA_TLS_ERR || n == PA_TLS_EOF) {
            tls_fail(r, why);
            return -1;
        }
        if (got) return 1;
        uint64_t now = pa_mono_ms();
        if (now >= deadline) return 0;
        int rc = tls_poll(r, n, (int)(deadline - now));
        if (rc == 0) return 0;
        if (rc < 0) {
            tls_fail(r, strerror(errno));
            return -1;
        }
    }
}

/* redisGetReply for a TLS connection: NULL with the context failed (a timeout included). */
static void *tls_get_reply(pa_redis_t *r)
{
    for (;;) {
        void *rep = NULL;
        if (redisGetReplyFromReader(r->c, &rep) != REDIS_OK) return NULL;
        if (rep) return rep;
        if (tls_flush(r) < 0) return NULL;
        int rc = tls_fill(r, r->timeout_ms);
        if (rc < 0) return NULL;
        if (rc == 0) {
            tls_fail(r, "Resource temporarily unavailable (no reply in time)");
            return NULL;
        }
    }
}

/* The TLS session on the socket hiredis connected (made non-blocking for it). 0 or -1 with why. */
static int tls_start(pa_redis_t *r, char *why, size_t whylen)
{
    int fd = r->c->fd;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(why, whylen, "fcntl: %s", strerror(errno));
        return -1;
    }
    if (!(r->ssl = pa_tls_new(r->tls, fd, why, whylen))) return -1;
    uint64_t deadline = pa_mono_ms() + (uint64_t)r->timeout_ms;
    for (;;) {
        int rc = pa_tls_handshake(r->ssl, why, whylen);
        if (rc == 1) return 0;
        if (rc == PA_TLS_ERR) return -1;
        uint64_t now = pa_mono_ms();
        if (now >= deadline || tls_poll(r, rc, (int)(deadline - now)) <= 0) {
            snprintf(why, whylen, "TLS handshake timed out");
            return -1;
        }
    }
}

/* ---- commands on either kind of connection --------------------------------------------------- */

static void *argv_cmd(pa_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    if (!r->ssl) return redisCommandArgv(r->c, argc, argv, lens);
    if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) return NULL;
    return tls_get_reply(r);
}

static int setup(pa_redis_t *r)
{
    redisReply *rep;
    if (r->password) {
        const char *av[] = {"AUTH", r->user ? r->user : r->password, r->password};
        rep = argv_cmd(r, r->user ? 3 : 2, av, NULL);
        int ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (!ok)
            snprintf(r->err, sizeof r->err, "redis: AUTH failed%s%.200s", rep ? ": " : "",
                     rep ? rep->str : "");
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->db);
        const char *av[] = {"SELECT", db};
        rep = argv_cmd(r, 2, av, NULL);
        int ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (!ok)
            snprintf(r->err, sizeof r->err, "redis: SELECT failed%s%.200s", rep ? ": " : "",
                     rep ? rep->str : "");
        if (rep) freeReplyObject(rep);
        if (!ok) return -1;
    }
    return 0;
}

/* With sentinels: the server they named must say it is the master (a failover may be under way).
 * An ACL that refuses ROLE leaves nothing to check: the sentinels' word is taken. */
static int role_check(pa_redis_t *r)
{
    const char *av[] = {"ROLE"};
    redisReply *rep = argv_cmd(r, 1, av, NULL);
    char role[32];
    int m = pa_redis_role_is_master(rep, role, sizeof role);
    if (!rep || m == 0)
        snprintf(r->err, sizeof r->err, "redis: %s:%d %s%s", r->host, r->port,
                 rep ? "is not the master, its role: " : "did not answer ROLE", rep ? role : "");
    if (rep) freeReplyObject(rep);
    return rep && m != 0 ? 0 : -1;
}

/* Connects when not connected and the backoff allows; 0 when connected. */
static int ensure(pa_redis_t *r)
{
    if (r->c) return 0;
    if (pa_mono_ms() < r->next_try_ms) return -1;
    if (r->sentinel) {
        char why[240], *host = NULL;
        int port;
        if (pa_sentinel_master(r->sentinel, r->timeout_ms, r->timeout_ms, &host, &port, why,
                               sizeof why) < 0) {
            drop(r, why);
            return -1;
        }
        if (r->host && (port != r->port || strcmp(host, r->host) != 0) && r->had_master)
            pa_info("redis master moved (from the sentinels)", PA_S("from_host", r->host),
                    PA_I("from_port", r->port), PA_S("host", host), PA_I("port", port));
        free(r->host);
        r->host = host, r->port = port;
        r->had_master = 1;
    }
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->c = r->port ? redisConnectWithTimeout(r->host, r->port, tv)
                   : redisConnectUnixWithTimeout(r->host, tv);
    if (!r->c || r->c->err) {
        drop(r, r->c ? r->c->errstr : "cannot allocate context");
        return -1;
    }
    redisSetTimeout(r->c, tv);
    if (r->port) redisEnableKeepAlive(r->c);
    if (r->tls) {
        char why[240];
        if (tls_start(r, why, sizeof why) < 0) {
            drop(r, why);
            return -1;
        }
    }
    if (setup(r) < 0 || (r->sentinel && role_check(r) < 0)) {
        char why[sizeof r->err];
        memcpy(why, r->err, sizeof why);
        drop(r, why + 7); /* past the "redis: " that setup() and role_check() wrote */
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
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(r->err, sizeof r->err, "%s", rep->str);
        int nm = r->sentinel ? pa_redis_err_not_master(rep->str) : 0;
        if (nm) {
            /* not the master (now): not an answer; the sentinels are asked again */
            char why[200];
            snprintf(why, sizeof why, "%s:%d is not the master: %.120s", r->host, r->port,
                     rep->str);
            freeReplyObject(rep);
            drop(r, why);
            if (nm == 2) r->next_try_ms = 0; /* a replica: the sentinels know where it went */
            return NULL;
        }
    }
    return rep;
}

redisReply *pa_redis_cmd(pa_redis_t *r, const char *fmt, ...)
{
    if (ensure(r) < 0) return NULL;
    va_list ap;
    va_start(ap, fmt);
    void *rep;
    if (!r->ssl) rep = redisvCommand(r->c, fmt, ap);
    else rep = redisvAppendCommand(r->c, fmt, ap) == REDIS_OK ? tls_get_reply(r) : NULL;
    va_end(ap);
    return check(r, rep);
}

redisReply *pa_redis_argv(pa_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    if (ensure(r) < 0) return NULL;
    return check(r, argv_cmd(r, argc, argv, lens));
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
    if (r->ssl) {
        if (tls_flush(r) == 0) return 0;
        drop(r, r->c->errstr);
        return -1;
    }
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
    if (r->ssl) rep = tls_get_reply(r);
    else if (redisGetReply(r->c, &rep) != REDIS_OK) rep = NULL;
    return check(r, rep);
}

redisReply *pa_redis_wait_reply(pa_redis_t *r, int wait_ms)
{
    if (!r->c) return NULL;
    void *rep = NULL;
    if (redisGetReplyFromReader(r->c, &rep) != REDIS_OK) return check(r, NULL);
    if (rep) return check(r, rep);
    if (r->ssl) {
        int rc = tls_fill(r, wait_ms);
        if (rc < 0 || redisGetReplyFromReader(r->c, &rep) != REDIS_OK) return check(r, NULL);
        return rep ? check(r, rep) : NULL; /* quiet, or part of a reply */
    }
    struct pollfd pfd = {.fd = r->c->fd, .events = POLLIN};
    int n = poll(&pfd, 1, wait_ms);
    if (n < 0 && errno == EINTR) return NULL;
    if (n == 0) return NULL; /* quiet */
    if (n < 0 || redisBufferRead(r->c) != REDIS_OK ||
        redisGetReplyFromReader(r->c, &rep) != REDIS_OK)
        return check(r, NULL);
    return rep ? check(r, rep) : NULL; /* part of a reply */
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
