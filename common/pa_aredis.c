/* Non-blocking Redis on a pa_loop (pa_aredis.h): hiredis async, an adapter onto the loop. */
#include "pa_aredis.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/sds.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pa_buf.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_sentinel.h"
#include "pa_tls.h"

/* Exported by hiredis 0.14 (async.c) but declared in no installed header: hands the replies in
 * the reader to their callbacks, as redisAsyncHandleRead does after reading. The TLS path reads
 * itself and then calls it. */
void redisProcessCallbacks(redisAsyncContext *ac);

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

enum { DOWN, CONNECTING, UP };
enum { CMD_USER, CMD_EVALSHA, CMD_LOAD };

typedef struct cmd {
    pa_aredis_t *a;
    pa_aredis_fn fn; /* NULL for the client's own commands (AUTH, SELECT) */
    void *ud;
    int kind;
    pa_script_t *script;
    /* CMD_EVALSHA: the whole EVALSHA command (argv[1] is the SHA), kept for a NOSCRIPT retry */
    int argc;
    const char **argv;
    size_t *lens;
    uint64_t queued; /* loop ms */
    struct cmd *prev, *next;
} cmd_t;

typedef struct {
    pa_aredis_fn fn;
    void *ud;
} failed_t;

struct pa_aredis {
    pa_loop_t *loop;
    redisAsyncContext *ac; /* NULL while down */
    int state;
    int fd;         /* watched on the loop, or -1 */
    unsigned want;  /* PA_IO_READ | PA_IO_WRITE hiredis asked for */
    char *host;     /* or the unix socket's path */
    int port;       /* 0: unix socket */
    char *user;     /* NULL: AUTH with the password alone */
    char *password; /* NULL: no AUTH */
    int db;
    pa_tls_ctx_t *tls;       /* rediss:// */
    pa_sentinel_t *sentinel; /* REDIS_SENTINELS: host and port come from the sentinels */
    int had_master;          /* the sentinels named one before */
    pa_ssl_t *ssl; /* the session on the connection's socket (made once TCP is connected) */
    int tls_up;    /* handshake done */
    long tls_wait; /* what the last TLS call waits for: PA_TLS_WANT_READ / _WRITE, or 0 */
    int timeout_ms;
    unsigned backoff_ms;
    uint64_t since; /* CONNECTING: when it started; DOWN: when to try again */
    pa_timer_t *timer;
    cmd_t *head, *tail; /* waiting for a reply, oldest first */
    size_t npending;
    failed_t *failed; /* to be called with NULL on the next turn */
    size_t nfailed, capfailed;
    pa_timer_t *fail_timer;
    int destroying;
    char err[256];
};

static void arm(pa_aredis_t *a);
static void connect_now(pa_aredis_t *a);

/* ---- URL ----------------------------------------------------------------------------------- */

static int parse_url(pa_aredis_t *a, const char *url, char *err, size_t errlen)
{
    pa_redis_url_t u;
    if (pa_redis_url_parse(url, &u, err, errlen) < 0) return -1;
    if (pa_redis_url_password_file(&u, err, errlen) < 0 ||
        pa_redis_url_sentinel(&u, &a->sentinel, err, errlen) < 0 ||
        (u.tls && !(a->tls = pa_tls_ctx_from_env(u.host, err, errlen)))) {
        pa_redis_url_free(&u);
        return -1;
    }
    a->host = u.host, a->port = u.port, a->user = u.user, a->password = u.password, a->db = u.db;
    return 0;
}

/* ---- failures delivered on the next turn ---------------------------------------------------- */

static void on_fail_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pa_aredis_t *a = ud;
    a->fail_timer = NULL; /* one-shot: the loop frees it */
    /* callbacks may fail more calls: those wait for the next turn */
    failed_t *list = a->failed;
    size_t n = a->nfailed;
    a->failed = NULL;
    a->nfailed = a->capfailed = 0;
    for (size_t i = 0; i < n; i++) list[i].fn(NULL, list[i].ud);
    free(list);
}

static void fail_later(pa_aredis_t *a, pa_aredis_fn fn, void *ud)
{
    if (!fn) return;
    if (a->nfailed == a->capfailed) {
        a->capfailed = a->capfailed ? 2 * a->capfailed : 8;
        a->failed = pa_realloc(a->failed, a->capfailed * sizeof *a->failed);
    }
    a->failed[a->nfailed++] = (failed_t){fn, ud};
    if (!a->fail_timer) a->fail_timer = pa_loop_timer(a->loop, 0, 0, on_fail_timer, a);
}

/* ---- pending commands ---------------------------------------------------------------------- */

static cmd_t *cmd_new(pa_aredis_t *a, pa_aredis_fn fn, void *ud, int kind)
{
    cmd_t *c = pa_calloc(1, sizeof *c);
    c->a = a, c->fn = fn, c->ud = ud, c->kind = kind;
    return c;
}

static void cmd_link(pa_aredis_t *a, cmd_t *c)
{
    c->queued = pa_loop_now(a->loop);
    c->prev = a->tail, c->next = NULL;
    if (a->tail) a->tail->next = c;
    else a->head = c;
    a->tail = c;
    a->npending++;
    if (!a->timer) arm(a);
}

static void cmd_unlink(pa_aredis_t *a, cmd_t *c)
{
    if (c->prev) c->prev->next = c->next;
    else a->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else a->tail = c->prev;
    a->npending--;
}

static void cmd_free(cmd_t *c)
{
    free(c->argv); /* one block with lens and the copies */
    free(c);
}

/* ---- the connection ------------------------------------------------------------------------ */

/* The connection is gone (hiredis frees, or has freed, the context): try again after a backoff. */
static void went_down(pa_aredis_t *a, const char *why)
{
    a->ac = NULL;
    a->state = DOWN;
    pa_tls_free(&a->ssl); /* hiredis closes the socket */
    a->tls_up = 0, a->tls_wait = 0;
    if (a->fd >= 0) pa_loop_unwatch(a->loop, a->fd); /* hiredis closes it */
    a->fd = -1;
    a->want = 0;
    if (why) snprintf(a->err, sizeof a->err, "redis: %.240s", why);
    a->since = pa_loop_now(a->loop) + a->backoff_ms;
    a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
    if (!a->destroying) arm(a);
}

/* Drops the connection ourselves (a timeout): every pending callback gets NULL now. */
static void drop(pa_aredis_t *a, const char *why)
{
    redisAsyncContext *ac = a->ac;
    went_down(a, why);
    if (ac) redisAsyncFree(ac);
}

static void tls_io(pa_aredis_t *a, unsigned events);

static void on_io(pa_loop_t *l, int fd, unsigned events, void *ud)
{
    pa_aredis_t *a = ud;
    redisAsyncContext *ac = a->ac;
    if (!ac) return;
    if (a->tls) {
        tls_io(a, events);
        return;
    }
    if (events & (PA_IO_READ | PA_IO_ERROR)) redisAsyncHandleRead(ac);
    /* the read may have lost the connection (hiredis freed ac and went_down ran) */
    if (a->ac == ac && (events & PA_IO_WRITE)) redisAsyncHandleWrite(ac);
}

static void tls_watch(pa_aredis_t *a);

static void ev_set(pa_aredis_t *a, unsigned bit, int on)
{
    if (a->tls) { /* the TLS state decides, not hiredis (which never clears its write wish) */
        tls_watch(a);
        return;
    }
    unsigned w = on ? (a->want | bit) : (a->want & ~bit);
    if (w == a->want) return;
    a->want = w;
    if (a->fd >= 0) pa_loop_watch(a->loop, a->fd, a->want, on_io, a);
}

static void ev_add_read(void *p)
{
    ev_set(p, PA_IO_READ, 1);
}
static void ev_del_read(void *p)
{
    ev_set(p, PA_IO_READ, 0);
}
static void ev_add_write(void *p)
{
    ev_set(p, PA_IO_WRITE, 1);
}
static void ev_del_write(void *p)
{
    ev_set(p, PA_IO_WRITE, 0);
}

static void ev_cleanup(void *p)
{
    pa_aredis_t *a = p;
    if (a->fd >= 0) pa_loop_unwatch(a->loop, a->fd);
    a->fd = -1;
    a->want = 0;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    pa_aredis_t *a = ac->data;
    if (a->ac != ac) return;
    if (status != REDIS_OK) {
        /* hiredis frees ac after this; its pending callbacks then get NULL */
        went_down(a, ac->errstr[0] ? ac->errstr : "cannot connect");
        return;
    }
    a->state = UP;
    if (!a->sentinel) a->backoff_ms = BACKOFF_MIN_MS; /* with sentinels: once ROLE says master */
    a->err[0] = '\0';
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    pa_aredis_t *a = ac->data;
    if (a->ac != ac) return; /* we dropped it ourselves */
    went_down(a, status == REDIS_OK ? "disconnected"
                 : ac->errstr[0]    ? ac->errstr
                                    : "connection lost");
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);
static int send_argv(pa_aredis_t *a, cmd_t *c, int argc, const char **argv, const size_t *lens);

static void on_setup_reply(redisReply *rep, void *ud)
{
    pa_aredis_t *a = ud;
    if (rep && rep->type == REDIS_REPLY_ERROR && a->ac) {
        char why[200];
        snprintf(why, sizeof why, "setup refused: %.150s", rep->str);
        drop(a, why);
    }
}

/* With sentinels: the server they named must say it is the master (a failover may be under way).
 * An ACL that refuses ROLE leaves nothing to check: the sentinels' word is taken. */
static void on_role_reply(redisReply *rep, void *ud)
{
    pa_aredis_t *a = ud;
    char role[32];
    if (!rep || !a->ac) return;
    if (pa_redis_role_is_master(rep, role, sizeof role) != 0) {
        a->backoff_ms = BACKOFF_MIN_MS;
        return;
    }
    char why[200];
    snprintf(why, sizeof why, "%s:%d is not the master, its role: %s", a->host, a->port, role);
    drop(a, why);
}

static void connect_now(pa_aredis_t *a)
{
    if (a->sentinel) {
        /* Blocking, but short: each step with a sentinel gets at most 300 ms, and no sentinel is
         * asked after 500 ms (a sentinel that refuses answers at once; only an unreachable host
         * that drops packets costs the time). */
        char why[240], *host = NULL;
        int port;
        int tmo = a->timeout_ms < 300 ? a->timeout_ms : 300;
        if (pa_sentinel_master(a->sentinel, tmo, 500, &host, &port, why, sizeof why) < 0) {
            went_down(a, why);
            return;
        }
        if (a->had_master && (port != a->port || strcmp(host, a->host) != 0))
            pa_info("redis master moved (from the sentinels)", PA_S("from_host", a->host),
                    PA_I("from_port", a->port), PA_S("host", host), PA_I("port", port));
        free(a->host);
        a->host = host, a->port = port;
        a->had_master = 1;
    }
    redisAsyncContext *ac =
        a->port ? redisAsyncConnect(a->host, a->port) : redisAsyncConnectUnix(a->host);
    if (!ac || ac->err) {
        char why[200];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "cannot allocate a context");
        if (ac) redisAsyncFree(ac);
        went_down(a, why);
        return;
    }
    ac->data = a;
    a->ac = ac;
    a->state = CONNECTING;
    a->since = pa_loop_now(a->loop);
    a->fd = ac->c.fd;
    a->want = 0;
    ac->ev.data = a;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    pa_loop_watch(a->loop, a->fd, 0, on_io, a);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* AUTH and SELECT go first; a write watch makes the connect complete even with nothing to
     * send */
    char db[16];
    snprintf(db, sizeof db, "%d", a->db);
    const char *auth[] = {"AUTH", a->user ? a->user : a->password, a->password},
               *sel[] = {"SELECT", db};
    if (a->password)
        send_argv(a, cmd_new(a, on_setup_reply, a, CMD_USER), a->user ? 3 : 2, auth, NULL);
    if (a->db) send_argv(a, cmd_new(a, on_setup_reply, a, CMD_USER), 2, sel, NULL);
    if (a->sentinel) {
        const char *role[] = {"ROLE"};
        send_argv(a, cmd_new(a, on_role_reply, a, CMD_USER), 1, role, NULL);
    }
    ev_add_write(a);
    arm(a);
}

/* ---- TLS: hiredis formats and parses, OpenSSL moves the bytes ------------------------------- */

/* The socket's watch: what the handshake or the last TLS call waits for, reads once connected,
 * writes while hiredis's output buffer holds something. */
static void tls_watch(pa_aredis_t *a)
{
    if (a->fd < 0 || !a->ac) return;
    unsigned w = 0;
    if (!a->ssl) w = PA_IO_WRITE; /* the TCP connect */
    else if (!a->tls_up) w = a->tls_wait == PA_TLS_WANT_WRITE ? PA_IO_WRITE : PA_IO_READ;
    else {
        w = PA_IO_READ;
        if (sdslen(a->ac->c.obuf) > 0 || a->tls_wait == PA_TLS_WANT_WRITE) w |= PA_IO_WRITE;
    }
    if (w == a->want) return;
    a->want = w;
    pa_loop_watch(a->loop, a->fd, w, on_io, a);
}

/* The TCP connect, then the handshake; 1 once connected, 0 to wait, -1 dropped. */
static int tls_connect(pa_aredis_t *a)
{
    redisAsyncContext *ac = a->ac;
    char why[240];
    if (!a->ssl) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
        if (soerr == EINPROGRESS) return 0;
        if (soerr) {
            drop(a, strerror(soerr));
            return -1;
        }
        if (!(a->ssl = pa_tls_new(a->tls, a->fd, why, sizeof why))) {
            drop(a, why);
            return -1;
        }
    }
    int rc = pa_tls_handshake(a->ssl, why, sizeof why);
    if (rc == PA_TLS_ERR) {
        drop(a, why);
        return -1;
    }
    if (rc != 1) {
        a->tls_wait = rc;
        return 0;
    }
    a->tls_up = 1, a->tls_wait = 0;
    ac->c.flags |= REDIS_CONNECTED;
    on_connect(ac, REDIS_OK);
    return 1;
}

static void tls_io(pa_aredis_t *a, unsigned events)
{
    redisAsyncContext *ac = a->ac;
    char why[240], buf[16384];
    if (!a->tls_up && tls_connect(a) <= 0) {
        if (a->ac == ac) tls_watch(a);
        return;
    }
    /* read everything OpenSSL can give (a socket that polls quiet then means nothing is left) */
    size_t got = 0;
    long n;
    while ((n = pa_tls_read(a->ssl, buf, sizeof buf, why, sizeof why)) > 0) {
        if (redisReaderFeed(ac->c.reader, buf, (size_t)n) != REDIS_OK) {
            drop(a, "malformed reply");
            return;
        }
        got += (size_t)n;
        /* the rest on the next turn (what the socket holds still polls readable) */
        if (got >= ((size_t)1 << 20) && !pa_tls_pending(a->ssl)) break;
    }
    if (n == PA_TLS_ERR || n == PA_TLS_EOF) {
        if (got) redisProcessCallbacks(ac); /* what came before the end */
        if (a->ac == ac) drop(a, why);
        return;
    }
    a->tls_wait = n > 0 ? 0 : n;
    if (got) {
        redisProcessCallbacks(ac);
        if (a->ac != ac) return; /* a callback dropped it, or hiredis freed it */
    }
    while (sdslen(ac->c.obuf) > 0) {
        n = pa_tls_write(a->ssl, ac->c.obuf, sdslen(ac->c.obuf), why, sizeof why);
        if (n == PA_TLS_ERR) {
            drop(a, why);
            return;
        }
        if (n < 0) {
            a->tls_wait = n;
            break;
        }
        sdsrange(ac->c.obuf, (int)n, -1);
    }
    tls_watch(a);
}

/* The client's one timer: the connect deadline, the oldest command's deadline, or the next
 * reconnect. */
static void on_timer(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    pa_aredis_t *a = ud;
    a->timer = NULL; /* one-shot */
    uint64_t now = pa_loop_now(l);
    if (a->state == DOWN) {
        if (now >= a->since) connect_now(a);
    } else if (a->state == CONNECTING && now >= a->since + (uint64_t)a->timeout_ms) {
        drop(a, "connect timed out");
    } else if (a->state == UP && a->head && now >= a->head->queued + (uint64_t)a->timeout_ms) {
        drop(a, "command timed out");
    }
    if (!a->timer) arm(a);
}

static void arm(pa_aredis_t *a)
{
    uint64_t now = pa_loop_now(a->loop), due;
    if (a->state == DOWN) due = a->since;
    else if (a->state == CONNECTING) due = a->since + (uint64_t)a->timeout_ms;
    else if (a->head) due = a->head->queued + (uint64_t)a->timeout_ms;
    else return;
    uint64_t after = due > now ? due - now : 0;
    if (a->timer) pa_loop_timer_again(a->loop, a->timer, after);
    else a->timer = pa_loop_timer(a->loop, after, 0, on_timer, a);
}

/* ---- replies ------------------------------------------------------------------------------- */

static void set_sha(pa_script_t *s, const char *sha)
{
    pthread_mutex_lock(&s->lock);
    if (!atomic_load(&s->have_sha)) {
        memcpy(s->sha, sha, 40);
        s->sha[40] = '\0';
        atomic_store(&s->have_sha, 1);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    cmd_t *c = privdata;
    pa_aredis_t *a = c->a;
    redisReply *rep = r;
    cmd_unlink(a, c);
    if (!rep && a->ac == ac && (ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING)))
        went_down(a, ac->errstr[0] ? ac->errstr : "connection lost"); /* before the callbacks */
    if (c->kind == CMD_LOAD) {
        if (rep && rep->type == REDIS_REPLY_STRING && rep->len == 40) set_sha(c->script, rep->str);
    } else if (c->kind == CMD_EVALSHA && rep && rep->type == REDIS_REPLY_ERROR &&
               strncmp(rep->str, "NOSCRIPT", 8) == 0 && a->ac == ac && !a->destroying) {
        /* the script left Redis's cache: send its source */
        c->argv[0] = "EVAL", c->lens[0] = 4;
        c->argv[1] = c->script->src, c->lens[1] = strlen(c->script->src);
        c->kind = CMD_USER;
        cmd_link(a, c);
        if (redisAsyncCommandArgv(ac, on_reply, c, c->argc, c->argv, c->lens) == REDIS_OK) return;
        cmd_unlink(a, c);
        rep = NULL;
    }
    char why[200];
    int not_master =
        a->sentinel && rep && rep->type == REDIS_REPLY_ERROR && a->ac == ac && !a->destroying
            ? pa_redis_err_not_master(rep->str)
            : 0;
    if (not_master) { /* not an answer: the sentinels are asked again */
        snprintf(why, sizeof why, "%s:%d is not the master: %.120s", a->host, a->port, rep->str);
        snprintf(a->err, sizeof a->err, "redis: %s", why); /* what the callback may log */
        rep = NULL;
    }
    if (c->fn) c->fn(rep, c->ud);
    cmd_free(c);
    if (not_master && a->ac == ac) {
        drop(a, why);
        if (not_master == 2) { /* a replica: the sentinels know where the master went */
            a->since = pa_loop_now(a->loop);
            arm(a);
        }
        return;
    }
    if (a->ac && !a->timer && !a->destroying) arm(a);
}

/* ---- commands ------------------------------------------------------------------------------ */

/* Queues c on the connection, or fails it on the next turn. */
static int send_argv(pa_aredis_t *a, cmd_t *c, int argc, const char **argv, const size_t *lens)
{
    if (a->destroying) {
        cmd_free(c);
        return -1;
    }
    if (a->ac) {
        cmd_link(a, c);
        if (redisAsyncCommandArgv(a->ac, on_reply, c, argc, argv, lens) == REDIS_OK) return 0;
        cmd_unlink(a, c);
    }
    fail_later(a, c->fn, c->ud);
    cmd_free(c);
    return 0;
}

int pa_aredis_argv(pa_aredis_t *a, pa_aredis_fn fn, void *ud, int argc, const char **argv,
                   const size_t *lens)
{
    return send_argv(a, cmd_new(a, fn, ud, CMD_USER), argc, argv, lens);
}

int pa_aredis_cmd(pa_aredis_t *a, pa_aredis_fn fn, void *ud, const char *fmt, ...)
{
    if (a->destroying) return -1;
    cmd_t *c = cmd_new(a, fn, ud, CMD_USER);
    if (a->ac) {
        cmd_link(a, c);
        va_list ap;
        va_start(ap, fmt);
        int rc = redisvAsyncCommand(a->ac, on_reply, c, fmt, ap);
        va_end(ap);
        if (rc == REDIS_OK) return 0;
        cmd_unlink(a, c);
    }
    fail_later(a, fn, ud);
    cmd_free(c);
    return 0;
}

int pa_aredis_eval(pa_aredis_t *a, pa_script_t *s, pa_aredis_fn fn, void *ud, int nkeys, int argc,
                   const char **argv, const size_t *lens)
{
    if (a->destroying) return -1;
    int have = atomic_load(&s->have_sha);
    if (!have && a->ac) { /* learn the SHA for the next calls; this one sends the source */
        cmd_t *load = cmd_new(a, NULL, NULL, CMD_LOAD);
        load->script = s;
        const char *lv[] = {"SCRIPT", "LOAD", s->src};
        send_argv(a, load, 3, lv, NULL);
    }
    /* one block: argv, lens, the NKEYS digits and a copy of every argument */
    int n = argc + 3;
    size_t bytes = 0;
    for (int i = 0; i < argc; i++) bytes += (lens ? lens[i] : strlen(argv[i])) + 1;
    size_t head = (size_t)n * (sizeof(char *) + sizeof(size_t)) + 16;
    char *block = pa_malloc(head + bytes);
    cmd_t *c = cmd_new(a, fn, ud, have ? CMD_EVALSHA : CMD_USER);
    c->script = s;
    c->argc = n;
    c->argv = (const char **)(void *)block;
    c->lens = (size_t *)(void *)(block + (size_t)n * sizeof(char *));
    char *nk = block + (size_t)n * (sizeof(char *) + sizeof(size_t));
    char *data = nk + 16;
    snprintf(nk, 16, "%d", nkeys);
    c->argv[0] = have ? "EVALSHA" : "EVAL";
    c->argv[1] = have ? s->sha : s->src;
    c->argv[2] = nk;
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        memcpy(data, argv[i], l);
        data[l] = '\0';
        c->argv[i + 3] = data;
        data += l + 1;
    }
    for (int i = 0; i < n; i++) c->lens[i] = strlen(c->argv[i]);
    for (int i = 0; i < argc; i++) c->lens[i + 3] = lens ? lens[i] : strlen(argv[i]);
    return send_argv(a, c, c->argc, c->argv, c->lens);
}

/* ---- life ---------------------------------------------------------------------------------- */

pa_aredis_t *pa_aredis_new(pa_loop_t *l, const char *url, int timeout_ms, char *err, size_t errlen)
{
    pa_aredis_t *a = pa_calloc(1, sizeof *a);
    a->loop = l;
    a->fd = -1;
    a->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    a->backoff_ms = BACKOFF_MIN_MS;
    if (parse_url(a, url, err, errlen) < 0) {
        pa_aredis_destroy(&a);
        return NULL;
    }
    connect_now(a);
    return a;
}

void pa_aredis_destroy(pa_aredis_t **ap)
{
    pa_aredis_t *a = *ap;
    if (!a) return;
    a->destroying = 1;
    redisAsyncContext *ac = a->ac;
    a->ac = NULL;
    a->state = DOWN;
    if (ac) redisAsyncFree(ac); /* pending callbacks get NULL */
    if (a->fd >= 0) pa_loop_unwatch(a->loop, a->fd);
    while (a->nfailed) {
        failed_t *list = a->failed;
        size_t n = a->nfailed;
        a->failed = NULL;
        a->nfailed = a->capfailed = 0;
        for (size_t i = 0; i < n; i++) list[i].fn(NULL, list[i].ud);
        free(list);
    }
    pa_loop_timer_stop(a->loop, &a->timer);
    pa_loop_timer_stop(a->loop, &a->fail_timer);
    pa_tls_free(&a->ssl);
    pa_tls_ctx_free(&a->tls);
    pa_sentinel_free(&a->sentinel);
    free(a->host);
    free(a->user);
    free(a->password);
    free(a);
    *ap = NULL;
}

int pa_aredis_connected(const pa_aredis_t *a)
{
    return a->state == UP;
}

const char *pa_aredis_errstr(const pa_aredis_t *a)
{
    return a->err;
}

size_t pa_aredis_pending(const pa_aredis_t *a)
{
    return a->npending;
}
