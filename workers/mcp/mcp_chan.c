/* Message channels (mcp_chan.h): the stdio transport (a child process speaking newline-delimited
 * JSON) and the legacy HTTP+SSE transport (a GET event stream plus a POST per message).
 *
 * Lifetime. Every entry from the loop (a watch, a timer, an HTTP hook) runs between enter() and
 * leave(): a callback of the user may call mcp_chan_destroy, which stops everything at once
 * (chan_stop) but frees the memory only when the outermost frame leaves (chan_free), so that no
 * frame of ours touches freed memory. After a user callback, code checks ch->dead.
 *
 * Children. Every child has a reaper: a small object on the loop that polls waitpid(WNOHANG)
 * every REAP_POLL_MS until the child is reaped. While the channel owns the child the reaper
 * tells it when the child exits; once detached (the link went down, or the channel was
 * destroyed) the reaper sends SIGTERM and then SIGKILL to the child's process group at its
 * deadlines and frees itself after the reaping. Detached reapers stay on a process-wide list so
 * that one still pending when the program ends is reachable memory, not a leak. */
#include "mcp_chan.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp_jsonrpc.h"
#include "pa_buf.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_sse.h"
#include "pa_utf8.h"

extern char **environ;

#define BACKOFF_MIN_MS 500L
#define BACKOFF_MAX_MS 30000L
#define BACKOFF_RESET_MS 60000L /* up this long: the next restart starts from BACKOFF_MIN_MS */
#define REAP_POLL_MS 100
#define RESTART_GRACE_MS 2000L /* a child whose stdout closed: time to exit before SIGTERM */
#define KILL_AFTER_MS 2000L    /* SIGTERM to SIGKILL */
#define READ_CHUNK 65536
#define STDERR_LINE_MAX 1024                /* bytes of one logged stderr line (the rest is cut) */
#define STDERR_BURST 50                     /* stderr lines logged per window, the rest counted */
#define STDERR_WINDOW_MS 10000              /* the window of STDERR_BURST */
#define QUEUE_MIN ((size_t)16 << 20)        /* bytes queued to send, at least */
#define SSE_STREAM_MS (24L * 3600L * 1000L) /* a GET stream is opened again after a day */
#define SSE_POST_MAX_BODY ((size_t)64 << 10)

/* ---- mcp_lines: the newline-delimited framer ---------------------------------------------- */

void mcp_lines_init(mcp_lines_t *f, size_t max)
{
    memset(f, 0, sizeof *f);
    f->max = max ? max : MCP_JSONRPC_MAX_BYTES_DEFAULT;
}

static void lines_put(mcp_lines_t *f, const char *p, size_t n)
{
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + n + 1) cap *= 2;
        if (cap > f->max + 3) cap = f->max + 3; /* the bound (+ CR + LF room + NUL) */
        f->buf = pa_realloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

int mcp_lines_feed(mcp_lines_t *f, const char *data, size_t n,
                   void (*fn)(void *ud, const char *line, size_t len), void *ud)
{
    if (f->failed) return -1;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t seg = nl ? (size_t)(nl - (data + i)) : n - i;
        /* a partial line may hold one byte more than max: the CR of a CRLF not yet seen */
        if (seg > f->max + 1 || f->len > f->max + 1 - seg) goto fail;
        lines_put(f, data + i, seg);
        if (!nl) break;
        size_t len = f->len;
        if (len && f->buf[len - 1] == '\r') len--;
        if (len > f->max) goto fail;
        if (!f->buf) lines_put(f, "", 0); /* an empty first line: a buffer for the NUL */
        f->buf[len] = '\0';
        f->len = 0;
        fn(ud, f->buf, len);
        i += seg + 1;
    }
    return 0;
fail:
    f->failed = 1;
    f->len = 0;
    return -1;
}

void mcp_lines_free(mcp_lines_t *f)
{
    free(f->buf);
    f->buf = NULL;
    f->len = f->cap = 0;
}

/* ---- reapers ------------------------------------------------------------------------------ */

typedef struct reaper reaper_t;
struct reaper {
    pid_t pid;
    pa_loop_t *loop;
    pa_timer_t *poll;
    mcp_chan_t *ch;            /* attached: told when the child exits; NULL once detached */
    uint64_t term_at, kill_at; /* detached: loop times of SIGTERM and SIGKILL */
    int termed;
    reaper_t *prev, *next; /* the process-wide list */
};

static pthread_mutex_t reapers_mu = PTHREAD_MUTEX_INITIALIZER;
static reaper_t *reapers;

static void on_child_exit(mcp_chan_t *ch, int status);

/* Signals the child's process group (it is its leader until reaped), and the child itself in
 * case the group could not be made. */
static void reaper_signal(reaper_t *r, int sig)
{
    kill(-r->pid, sig);
    kill(r->pid, sig);
}

static void reaper_free(reaper_t *r)
{
    pthread_mutex_lock(&reapers_mu);
    if (r->prev) r->prev->next = r->next;
    else reapers = r->next;
    if (r->next) r->next->prev = r->prev;
    pthread_mutex_unlock(&reapers_mu);
    pa_loop_timer_stop(r->loop, &r->poll);
    free(r);
}

/* waitpid(WNOHANG): 1 with *status when the child is gone (reaped, or not ours any more), else
 * 0. */
static int reaper_try(reaper_t *r, int *status)
{
    for (;;) {
        pid_t p = waitpid(r->pid, status, WNOHANG);
        if (p == r->pid) return 1;
        if (p == 0) return 0;
        if (errno == EINTR) continue;
        *status = -1; /* ECHILD: reaped elsewhere (SIGCHLD ignored) */
        return 1;
    }
}

static void reaper_poll(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    reaper_t *r = ud;
    int status = 0;
    if (reaper_try(r, &status)) {
        mcp_chan_t *ch = r->ch;
        reaper_free(r); /* stops this repeating timer: allowed inside its callback */
        if (ch) on_child_exit(ch, status);
        return;
    }
    if (r->ch) return;
    uint64_t now = pa_loop_now(l);
    if (now >= r->kill_at) {
        reaper_signal(r, SIGKILL);
        r->kill_at = UINT64_MAX;
    } else if (!r->termed && now >= r->term_at) {
        reaper_signal(r, SIGTERM);
        r->termed = 1;
        r->kill_at = now + KILL_AFTER_MS;
    }
}

static reaper_t *reaper_new(pa_loop_t *l, pid_t pid, mcp_chan_t *ch)
{
    reaper_t *r = pa_calloc(1, sizeof *r);
    r->pid = pid;
    r->loop = l;
    r->ch = ch;
    r->term_at = r->kill_at = UINT64_MAX;
    r->poll = pa_loop_timer(l, REAP_POLL_MS, REAP_POLL_MS, reaper_poll, r);
    pthread_mutex_lock(&reapers_mu);
    r->next = reapers;
    if (reapers) reapers->prev = r;
    reapers = r;
    pthread_mutex_unlock(&reapers_mu);
    return r;
}

/* The channel lets the child go: SIGTERM after grace_ms (at once when <= 0), SIGKILL
 * KILL_AFTER_MS later; freed once reaped (maybe now). */
static void reaper_detach(reaper_t *r, long grace_ms)
{
    int status;
    r->ch = NULL;
    if (reaper_try(r, &status)) {
        reaper_free(r);
        return;
    }
    uint64_t now = pa_loop_update(r->loop);
    if (grace_ms <= 0) {
        reaper_signal(r, SIGTERM);
        r->termed = 1;
        r->kill_at = now + KILL_AFTER_MS;
    } else {
        r->term_at = now + (uint64_t)grace_ms;
    }
}

/* ---- the channel -------------------------------------------------------------------------- */

typedef struct qmsg {
    struct qmsg *next;
    size_t len;
    char data[];
} qmsg_t;

struct mcp_chan {
    pa_loop_t *loop;
    pa_http_t *http;
    const mcp_server_conf_t *server;
    char **headers;
    size_t nheaders;
    pa_http_connect_fn on_connect;
    size_t max_message, max_queue;
    mcp_chan_ops_t ops;
    void *ud;
    mcp_transport_t transport;
    const char *name; /* the server's, for logs */

    int open; /* on_open delivered, on_closed not yet */
    int dead; /* mcp_chan_destroy was called: no more callbacks */
    int busy; /* frames of ours on the stack */
    long backoff_ms;
    uint64_t up_since;
    pa_timer_t *retry; /* the next restart or reconnection */
    pa_timer_t *kick;  /* stdio: on_open of the first child; a write failure to report */
    char why[256];     /* a failure found where it cannot be reported at once */

    /* stdio */
    pid_t pid;
    reaper_t *reaper;
    int in_fd, out_fd, err_fd;
    int in_watched;
    int exit_status; /* of the child reaped while its stdout was still open; -2: none */
    mcp_lines_t lines;
    pa_buf_t wq;
    size_t wq_off;
    char errline[STDERR_LINE_MAX + 1];
    size_t errlen;
    int errcut;
    uint64_t err_window;
    unsigned err_count, err_dropped;

    /* sse */
    char *url;
    pa_http_req_t *get, *post;
    pa_sse_t sse;
    int get_checked, refused;
    char *endpoint;
    qmsg_t *qhead, *qtail;
    size_t queued;
};

static void enter(mcp_chan_t *ch)
{
    ch->busy++;
}

static void chan_free(mcp_chan_t *ch);

/* 1 when the channel was destroyed and freed: the caller returns at once. */
static int leave(mcp_chan_t *ch)
{
    if (--ch->busy == 0 && ch->dead) {
        chan_free(ch);
        return 1;
    }
    return 0;
}

static void schedule_retry(mcp_chan_t *ch, int was_up);
static void stdio_stop_child(mcp_chan_t *ch, long grace_ms);
static void sse_stop(mcp_chan_t *ch);

/* The link went down (or an attempt failed before it came up): stops what it used, schedules
 * the next attempt, and reports on_closed when on_open had been reported. */
static void link_down(mcp_chan_t *ch, const char *why)
{
    if (ch->dead) return;
    int was_open = ch->open;
    ch->open = 0;
    pa_loop_timer_stop(ch->loop, &ch->kick);
    if (ch->transport == MCP_TRANSPORT_STDIO) stdio_stop_child(ch, RESTART_GRACE_MS);
    else sse_stop(ch);
    char reason[sizeof ch->why];
    snprintf(reason, sizeof reason, "%s", why); /* why may be ch->why */
    if (why != ch->why) snprintf(ch->why, sizeof ch->why, "%s", reason);
    schedule_retry(ch, was_open);
    if (was_open) ch->ops.on_closed(ch->ud, reason);
}

static void link_up(mcp_chan_t *ch)
{
    ch->open = 1;
    ch->up_since = pa_loop_now(ch->loop);
    pa_info("mcp channel up", PA_S("server", ch->name),
            PA_S("transport", mcp_transport_name(ch->transport)),
            PA_I("pid", ch->transport == MCP_TRANSPORT_STDIO ? ch->pid : 0));
    ch->ops.on_open(ch->ud);
}

static void on_retry(pa_loop_t *l, pa_timer_t *t, void *ud);

static void schedule_retry(mcp_chan_t *ch, int was_up)
{
    if (was_up && pa_loop_now(ch->loop) - ch->up_since >= (uint64_t)BACKOFF_RESET_MS)
        ch->backoff_ms = BACKOFF_MIN_MS;
    long delay = ch->backoff_ms;
    ch->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    pa_loop_timer_stop(ch->loop, &ch->retry);
    ch->retry = pa_loop_timer(ch->loop, (uint64_t)delay, 0, on_retry, ch);
    pa_warn("mcp channel down", PA_S("server", ch->name),
            PA_S("transport", mcp_transport_name(ch->transport)), PA_S("reason", ch->why),
            PA_I("retry_ms", delay));
}

static void note(mcp_chan_t *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(mcp_chan_t *ch, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->why, sizeof ch->why, fmt, ap);
    va_end(ap);
}

/* ---- stdio -------------------------------------------------------------------------------- */

/* SIGPIPE blocked around a write to the child's stdin (a daemon ignores it already; a program
 * that does not would die of a server that went away); one raised is taken off the thread. */
static ssize_t write_nopipe(int fd, const void *p, size_t n)
{
    sigset_t pipe_set, pending, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    int had = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = write(fd, p, n);
    int saved = errno;
    if (!had && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

static void close_fd(mcp_chan_t *ch, int *fd)
{
    if (*fd < 0) return;
    pa_loop_unwatch(ch->loop, *fd);
    close(*fd);
    *fd = -1;
}

/* The child is gone from the channel: fds closed (its stdin first, so that it sees EOF), the
 * reaper detached, what was queued dropped. */
static void stdio_stop_child(mcp_chan_t *ch, long grace_ms)
{
    close_fd(ch, &ch->in_fd);
    ch->in_watched = 0;
    close_fd(ch, &ch->out_fd);
    close_fd(ch, &ch->err_fd);
    if (ch->reaper) reaper_detach(ch->reaper, grace_ms);
    ch->reaper = NULL;
    ch->pid = 0;
    pa_buf_reset(&ch->wq);
    ch->wq_off = 0;
    mcp_lines_free(&ch->lines);
    mcp_lines_init(&ch->lines, ch->max_message);
}

static void on_kick_fail(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_chan_t *ch = ud;
    ch->kick = NULL;
    enter(ch);
    link_down(ch, ch->why);
    leave(ch);
}

static void on_stdin(pa_loop_t *l, int fd, unsigned ev, void *ud);

/* Writes what is queued; arms the write watch when the pipe is full. A failure is reported from
 * the loop (a 0 ms timer), since this may run inside mcp_chan_send. */
static void stdio_flush(mcp_chan_t *ch)
{
    while (ch->wq_off < ch->wq.len) {
        ssize_t w = write_nopipe(ch->in_fd, ch->wq.data + ch->wq_off, ch->wq.len - ch->wq_off);
        if (w > 0) {
            ch->wq_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!ch->in_watched) {
                pa_loop_watch(ch->loop, ch->in_fd, PA_IO_WRITE, on_stdin, ch);
                ch->in_watched = 1;
            }
            return;
        }
        note(ch, "writing to the server's stdin failed: %s",
             w < 0 ? strerror(errno) : "no progress");
        if (ch->in_watched) pa_loop_unwatch(ch->loop, ch->in_fd);
        ch->in_watched = 0;
        pa_buf_reset(&ch->wq);
        ch->wq_off = 0;
        if (!ch->kick) ch->kick = pa_loop_timer(ch->loop, 0, 0, on_kick_fail, ch);
        return;
    }
    pa_buf_reset(&ch->wq);
    ch->wq_off = 0;
    if (ch->in_watched) {
        pa_loop_unwatch(ch->loop, ch->in_fd);
        ch->in_watched = 0;
    }
}

static void on_stdin(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    mcp_chan_t *ch = ud;
    enter(ch);
    stdio_flush(ch);
    leave(ch);
}

static void on_line(void *ud, const char *line, size_t len)
{
    mcp_chan_t *ch = ud;
    if (ch->dead || !ch->open) return;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
    if (i == len) return; /* blank lines are not messages */
    ch->ops.on_message(ch->ud, line, len);
}

static void note_exit(mcp_chan_t *ch, int status)
{
    if (status >= 0 && WIFEXITED(status))
        note(ch, "the server exited with status %d", WEXITSTATUS(status));
    else if (status >= 0 && WIFSIGNALED(status))
        note(ch, "the server was killed by signal %d", WTERMSIG(status));
    else note(ch, "the server exited");
}

/* A child whose stdout reached EOF has usually exited: its status is waited for up to 50 ms (a
 * loaded machine may not have scheduled the exit's end yet), so that the reason says how. */
static int reaper_wait_briefly(reaper_t *rp, int *status)
{
    for (int i = 0; i < 50; i++) {
        if (reaper_try(rp, status)) return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Reads stdout once: 1 when data came, 0 when nothing was there, -1 when the link went down. */
static int stdio_read_out(mcp_chan_t *ch)
{
    char buf[READ_CHUNK];
    ssize_t n = read(ch->out_fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    if (n > 0) {
        if (mcp_lines_feed(&ch->lines, buf, (size_t)n, on_line, ch) < 0 && !ch->dead) {
            note(ch, "the server wrote a line longer than %zu bytes", ch->max_message);
            link_down(ch, ch->why);
            return -1;
        }
        return ch->dead ? -1 : 1;
    }
    if (n == 0) {
        /* EOF: often the child has just exited; say how when it has */
        int status = 0;
        if (ch->exit_status != -2) {
            note_exit(ch, ch->exit_status);
        } else if (ch->reaper && reaper_wait_briefly(ch->reaper, &status)) {
            reaper_free(ch->reaper);
            ch->reaper = NULL;
            note_exit(ch, status);
        } else {
            note(ch, "the server closed its stdout");
        }
    } else {
        note(ch, "reading the server's stdout failed: %s", strerror(errno));
    }
    link_down(ch, ch->why);
    return -1;
}

static void on_stdout(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    mcp_chan_t *ch = ud;
    enter(ch);
    stdio_read_out(ch);
    leave(ch);
}

/* One stderr line to the log: bytes that are not UTF-8 (or NUL) as '?', at most STDERR_BURST
 * lines per STDERR_WINDOW_MS (the others counted and reported once). */
static void stderr_emit(mcp_chan_t *ch)
{
    uint64_t now = pa_loop_now(ch->loop);
    if (now - ch->err_window >= (uint64_t)STDERR_WINDOW_MS) {
        if (ch->err_dropped)
            pa_warn("mcp stdio server stderr lines not logged", PA_S("server", ch->name),
                    PA_I("lines", ch->err_dropped));
        ch->err_window = now;
        ch->err_count = ch->err_dropped = 0;
    }
    size_t n = ch->errlen;
    int cut = ch->errcut;
    ch->errlen = 0;
    ch->errcut = 0;
    if (n && ch->errline[n - 1] == '\r') n--;
    if (ch->err_count >= STDERR_BURST) {
        ch->err_dropped++;
        return;
    }
    ch->err_count++;
    char out[STDERR_LINE_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = pa_utf8_decode(ch->errline + i, n - i, &cp);
        if (k == 0 || cp == 0) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, ch->errline + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    pa_info("mcp stdio server stderr", PA_S("server", ch->name), PA_I("pid", ch->pid),
            PA_S("line", out), PA_B("cut", cut));
}

static void on_stderr(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    mcp_chan_t *ch = ud;
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        if (ch->errlen) stderr_emit(ch);
        close_fd(ch, &ch->err_fd);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            stderr_emit(ch);
        } else if (ch->errlen < STDERR_LINE_MAX) {
            ch->errline[ch->errlen++] = buf[i];
        } else {
            ch->errcut = 1;
        }
    }
}

/* A file descriptor of ours at 3 or above (so that dup2 onto 0..2 in the child always copies),
 * close-on-exec. */
static int fd_high(int fd)
{
    if (fd > 2) return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return h;
}

static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    p[0] = fd_high(p[0]);
    p[1] = fd_high(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        if (p[0] >= 0) close(p[0]);
        if (p[1] >= 0) close(p[1]);
        return -1;
    }
    return 0;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* "NAME=value" strings of the child's environment: PATH, HOME, LANG from ours, then the
 * server's env refs (a later one replaces an earlier of the same name). */
static char **build_env(const mcp_chan_t *ch, size_t *count)
{
    const mcp_server_conf_t *s = ch->server;
    static const char *const pass[] = {"PATH", "HOME", "LANG"};
    size_t cap = 3 + s->nenv + 1, n = 0;
    char **env = pa_calloc(cap, sizeof *env);
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(pass[i]);
        if (!v) continue;
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_printf(&b, "%s=%s", pass[i], v);
        env[n++] = pa_buf_detach(&b, NULL);
    }
    for (size_t i = 0; i < s->nenv; i++) {
        const mcp_env_ref_t *ref = &s->env[i];
        char *v = mcp_env_ref_value(ref);
        if (!v) {
            pa_warn("mcp stdio server variable not set", PA_S("server", ch->name),
                    PA_S("name", ref->name), PA_S("env", ref->env));
            continue;
        }
        size_t nl = strlen(ref->name), vl = strlen(v);
        char *e = pa_malloc(nl + vl + 2);
        memcpy(e, ref->name, nl);
        e[nl] = '=';
        memcpy(e + nl + 1, v, vl + 1);
        explicit_bzero(v, vl);
        free(v);
        size_t j = 0;
        while (j < n && !(strncmp(env[j], e, nl + 1) == 0)) j++;
        if (j < n) {
            explicit_bzero(env[j], strlen(env[j]));
            free(env[j]);
            env[j] = e;
        } else {
            env[n++] = e;
        }
    }
    env[n] = NULL;
    *count = n;
    return env;
}

static void free_env(char **env, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        explicit_bzero(env[i], strlen(env[i]));
        free(env[i]);
    }
    free(env);
}

/* Starts the child: 0, or -1 with err. */
static int stdio_spawn(mcp_chan_t *ch, char *err, size_t errlen)
{
    const mcp_server_conf_t *s = ch->server;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
    if (make_pipe(in) < 0 || make_pipe(out) < 0 || make_pipe(er) < 0) {
        snprintf(err, errlen, "cannot make pipes: %s", strerror(errno));
        int *fds[] = {in, out, er};
        for (size_t i = 0; i < 3; i++) {
            if (fds[i][0] >= 0) close(fds[i][0]);
            if (fds[i][1] >= 0) close(fds[i][1]);
        }
        return -1;
    }
    char **argv = pa_calloc(s->nargs + 2, sizeof *argv);
    argv[0] = s->command;
    for (size_t i = 0; i < s->nargs; i++) argv[i + 1] = s->args[i];
    size_t nenv;
    char **envp = build_env(ch, &nenv);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, er[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&at);
    sigset_t none, deflt;
    sigemptyset(&none);
    sigemptyset(&deflt);
    static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                               SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&deflt, sigs[i]);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &deflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, s->command, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free_env(envp, nenv);
    free(argv);
    close(in[0]);
    close(out[1]);
    close(er[1]);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start %s: %s", s->command, strerror(rc));
        close(in[1]);
        close(out[0]);
        close(er[0]);
        return -1;
    }
    set_nonblock(in[1]);
    set_nonblock(out[0]);
    set_nonblock(er[0]);
    ch->in_fd = in[1];
    ch->out_fd = out[0];
    ch->err_fd = er[0];
    ch->pid = pid;
    ch->exit_status = -2;
    ch->reaper = reaper_new(ch->loop, pid, ch);
    ch->errlen = 0;
    ch->errcut = 0;
    pa_info("mcp stdio server started", PA_S("server", ch->name), PA_S("command", s->command),
            PA_I("args", s->nargs), PA_I("pid", pid));
    return 0;
}

/* The child is running: its output is watched and on_open reported. */
static void stdio_up(mcp_chan_t *ch)
{
    pa_loop_watch(ch->loop, ch->out_fd, PA_IO_READ, on_stdout, ch);
    pa_loop_watch(ch->loop, ch->err_fd, PA_IO_READ, on_stderr, ch);
    link_up(ch);
}

static void on_kick_open(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_chan_t *ch = ud;
    ch->kick = NULL;
    enter(ch);
    stdio_up(ch);
    leave(ch);
}

/* From the reaper: the child of the channel exited. What it wrote before is read first. */
static void on_child_exit(mcp_chan_t *ch, int status)
{
    ch->reaper = NULL;
    ch->exit_status = status;
    enter(ch);
    if (ch->open && ch->out_fd >= 0) {
        while (stdio_read_out(ch) > 0) {
        }
    }
    if (!ch->dead && ch->pid) {
        note_exit(ch, status);
        link_down(ch, ch->why);
    }
    leave(ch);
}

/* ---- legacy HTTP+SSE ---------------------------------------------------------------------- */

static void qclear(mcp_chan_t *ch)
{
    for (qmsg_t *m = ch->qhead, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    ch->qhead = ch->qtail = NULL;
    ch->queued = 0;
}

static void sse_stop(mcp_chan_t *ch)
{
    if (ch->get) pa_http_cancel(ch->get);
    ch->get = NULL;
    if (ch->post) pa_http_cancel(ch->post);
    ch->post = NULL;
    qclear(ch);
    free(ch->endpoint);
    ch->endpoint = NULL;
}

static int chan_connect(pa_http_req_t *req, const struct sockaddr *addr, const char *ip, int port,
                        void *ud)
{
    mcp_chan_t *ch = ud;
    return ch->on_connect ? ch->on_connect(req, addr, ip, port, ch->ud) : 0;
}

static void add_headers(mcp_chan_t *ch, pa_http_req_t *r)
{
    for (size_t i = 0; i < ch->nheaders; i++) pa_http_req_header(r, ch->headers[i]);
    if (ch->on_connect) pa_http_req_on_connect(r, chan_connect);
}

/* 1 when a and b (absolute URLs) have the same scheme, host and port. */
static int same_origin(const char *a, const char *b)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    CURLU *ua = curl_url(), *ub = curl_url();
    int same = ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
               curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;
    for (size_t i = 0; same && i < sizeof parts / sizeof parts[0]; i++) {
        char *pa = NULL, *pb = NULL;
        unsigned fl = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
        if (curl_url_get(ua, parts[i], &pa, fl) != CURLUE_OK ||
            curl_url_get(ub, parts[i], &pb, fl) != CURLUE_OK || strcasecmp(pa, pb) != 0)
            same = 0;
        curl_free(pa);
        curl_free(pb);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

static void on_post_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud);

static void sse_post_next(mcp_chan_t *ch)
{
    if (ch->post || !ch->qhead || !ch->endpoint) return;
    qmsg_t *m = ch->qhead;
    ch->qhead = m->next;
    if (!ch->qhead) ch->qtail = NULL;
    ch->queued -= m->len;
    pa_http_req_t *r = pa_http_req_new(ch->http, "POST", ch->endpoint);
    add_headers(ch, r);
    pa_http_req_body(r, "application/json", m->data, m->len);
    pa_http_req_max_body(r, SSE_POST_MAX_BODY);
    free(m);
    ch->post = r;
    pa_http_start(r, on_post_done, ch);
}

static void on_post_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_chan_t *ch = ud;
    ch->post = NULL;
    enter(ch);
    if (res->result == PA_HTTP_OK && res->status >= 200 && res->status < 300) {
        sse_post_next(ch);
    } else if (res->result != PA_HTTP_OK) {
        note(ch, "POST of a message failed: %s", res->error);
        link_down(ch, ch->why);
    } else if (res->status == 404 || res->status == 410) {
        note(ch, "POST of a message answered %ld: the server forgot the session", res->status);
        link_down(ch, ch->why);
    } else {
        pa_warn("mcp sse message refused", PA_S("server", ch->name), PA_I("status", res->status));
        sse_post_next(ch);
    }
    leave(ch);
}

static int on_sse_event(void *ud, const pa_sse_event_t *ev)
{
    mcp_chan_t *ch = ud;
    if (ch->dead) return -1;
    if (strcmp(ev->type, "endpoint") == 0) {
        if (ch->endpoint) return 0; /* the first one counts */
        char *u = pa_http_resolve(ch->url, ev->data);
        if (!u) {
            note(ch, "the endpoint event is not a URL");
        } else if (!same_origin(ch->url, u)) {
            /* the endpoint holds the session id: only that it was refused is logged */
            note(ch, "the endpoint event names another origin");
            free(u);
            u = NULL;
        }
        if (!u) {
            pa_error("mcp sse endpoint refused", PA_S("server", ch->name), PA_S("reason", ch->why));
            ch->refused = 1;
            return -1;
        }
        ch->endpoint = u;
        link_up(ch);
        if (ch->dead) return -1;
        sse_post_next(ch);
        return 0;
    }
    if (strcmp(ev->type, "message") == 0 && ch->open && ev->data_len) {
        ch->ops.on_message(ch->ud, ev->data, ev->data_len);
        return ch->dead ? -1 : 0;
    }
    return 0;
}

static int on_get_data(pa_http_req_t *req, const pa_http_res_t *head, const char *data, size_t len,
                       void *ud)
{
    mcp_chan_t *ch = ud;
    int rc = PA_HTTP_DATA_TAKEN;
    enter(ch);
    if (!ch->get_checked) {
        ch->get_checked = 1;
        if (head->status != 200) {
            note(ch, "GET of the event stream answered %ld", head->status);
            ch->refused = 1;
        } else if (!head->content_type ||
                   strncasecmp(head->content_type, "text/event-stream", 17) != 0) {
            note(ch, "GET of the event stream answered %s, not text/event-stream",
                 head->content_type ? head->content_type : "no Content-Type");
            ch->refused = 1;
        }
    }
    if (!ch->refused && pa_sse_feed(&ch->sse, data, len) < 0 && !ch->dead && !ch->refused) {
        note(ch, "the event stream is malformed: %s", ch->sse.err);
        ch->refused = 1;
    }
    if (ch->refused || ch->dead) rc = PA_HTTP_DATA_ABORT;
    leave(ch);
    return rc;
}

static void on_get_done(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_chan_t *ch = ud;
    ch->get = NULL;
    enter(ch);
    if (!ch->refused) {
        if (res->result != PA_HTTP_OK) note(ch, "the event stream failed: %s", res->error);
        else if (res->status != 200) note(ch, "GET of the event stream answered %ld", res->status);
        else note(ch, "the server ended the event stream");
    }
    link_down(ch, ch->why);
    leave(ch);
}

static void sse_start(mcp_chan_t *ch)
{
    pa_sse_restart(&ch->sse);
    ch->get_checked = ch->refused = 0;
    pa_http_req_t *r = pa_http_req_new(ch->http, "GET", ch->url);
    pa_http_req_header(r, "Accept: text/event-stream");
    pa_http_req_header(r, "Cache-Control: no-cache");
    add_headers(ch, r);
    pa_http_req_on_data(r, on_get_data);
    pa_http_req_timeouts(r, 0, SSE_STREAM_MS);
    pa_http_req_max_body(r, (size_t)1 << 62);
    ch->get = r;
    pa_http_start(r, on_get_done, ch);
}

/* ---- both --------------------------------------------------------------------------------- */

static void on_retry(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_chan_t *ch = ud;
    ch->retry = NULL;
    enter(ch);
    if (ch->transport == MCP_TRANSPORT_STDIO) {
        char err[256];
        if (stdio_spawn(ch, err, sizeof err) < 0) {
            snprintf(ch->why, sizeof ch->why, "%s", err);
            schedule_retry(ch, 0);
        } else {
            stdio_up(ch);
        }
    } else {
        sse_start(ch);
    }
    leave(ch);
}

mcp_chan_t *mcp_chan_open(const mcp_chan_cfg_t *cfg, char *err, size_t errlen)
{
    const mcp_server_conf_t *s = cfg ? cfg->server : NULL;
    if (!cfg || !cfg->loop || !s || !cfg->ops || !cfg->ops->on_open || !cfg->ops->on_message ||
        !cfg->ops->on_closed) {
        snprintf(err, errlen, "mcp channel: a loop, a server and three callbacks are needed");
        return NULL;
    }
    if (s->transport == MCP_TRANSPORT_STDIO) {
        if (!s->command || !*s->command) {
            snprintf(err, errlen, "mcp server %s: no command", s->name ? s->name : "?");
            return NULL;
        }
    } else if (s->transport == MCP_TRANSPORT_SSE) {
        char *u = s->url ? pa_http_resolve(s->url, s->url) : NULL;
        if (!u || !cfg->http) {
            free(u);
            snprintf(err, errlen, "mcp server %s: %s", s->name ? s->name : "?",
                     cfg->http ? "the url is not an http:// or https:// URL"
                               : "no HTTP engine for the sse transport");
            return NULL;
        }
        free(u);
    } else {
        snprintf(err, errlen, "mcp server %s: the transport %s is not a channel",
                 s->name ? s->name : "?", mcp_transport_name(s->transport));
        return NULL;
    }
    mcp_chan_t *ch = pa_calloc(1, sizeof *ch);
    ch->loop = cfg->loop;
    ch->http = cfg->http;
    ch->server = s;
    ch->transport = s->transport;
    ch->name = s->name ? s->name : "?";
    ch->on_connect = cfg->on_connect;
    ch->max_message = cfg->max_message ? cfg->max_message : MCP_JSONRPC_MAX_BYTES_DEFAULT;
    ch->max_queue = ch->max_message * 2 > QUEUE_MIN ? ch->max_message * 2 : QUEUE_MIN;
    ch->ops = *cfg->ops;
    ch->ud = cfg->ud;
    ch->backoff_ms = BACKOFF_MIN_MS;
    ch->in_fd = ch->out_fd = ch->err_fd = -1;
    ch->err_window = pa_loop_now(ch->loop);
    mcp_lines_init(&ch->lines, ch->max_message);
    if (cfg->headers) {
        while (cfg->headers[ch->nheaders]) ch->nheaders++;
        ch->headers = pa_calloc(ch->nheaders + 1, sizeof *ch->headers);
        for (size_t i = 0; i < ch->nheaders; i++) ch->headers[i] = pa_strdup(cfg->headers[i]);
    }
    if (ch->transport == MCP_TRANSPORT_STDIO) {
        if (stdio_spawn(ch, err, errlen) < 0) {
            chan_free(ch);
            return NULL;
        }
        ch->kick = pa_loop_timer(ch->loop, 0, 0, on_kick_open, ch);
    } else {
        ch->url = pa_strdup(s->url);
        pa_sse_init(&ch->sse, ch->max_message + 64, ch->max_message, on_sse_event, ch);
        sse_start(ch);
    }
    return ch;
}

int mcp_chan_send(mcp_chan_t *ch, const char *json, size_t len)
{
    if (!ch || ch->dead || !ch->open || !json || len == 0 || len > ch->max_message) return -1;
    if (ch->transport == MCP_TRANSPORT_STDIO) {
        if (memchr(json, '\n', len)) return -1;
        if (ch->in_fd < 0 || ch->wq.len - ch->wq_off + len + 1 > ch->max_queue) return -1;
        if (ch->wq_off && ch->wq_off == ch->wq.len) {
            pa_buf_reset(&ch->wq);
            ch->wq_off = 0;
        } else if (ch->wq_off > ((size_t)1 << 20) && ch->wq_off > ch->wq.len / 2) {
            memmove(ch->wq.data, ch->wq.data + ch->wq_off, ch->wq.len - ch->wq_off);
            ch->wq.len -= ch->wq_off;
            ch->wq_off = 0;
        }
        int idle = ch->wq.len == ch->wq_off;
        pa_buf_put(&ch->wq, json, len);
        pa_buf_putc(&ch->wq, '\n');
        if (idle && !ch->kick) stdio_flush(ch);
        return 0;
    }
    if (ch->queued + len > ch->max_queue) return -1;
    qmsg_t *m = pa_malloc(sizeof *m + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->data, json, len);
    if (ch->qtail) ch->qtail->next = m;
    else ch->qhead = m;
    ch->qtail = m;
    ch->queued += len;
    sse_post_next(ch);
    return 0;
}

int mcp_chan_is_open(const mcp_chan_t *ch)
{
    return ch && !ch->dead && ch->open;
}

int mcp_chan_pid(const mcp_chan_t *ch)
{
    if (!ch || ch->dead || ch->transport != MCP_TRANSPORT_STDIO || !ch->reaper) return 0;
    return (int)ch->pid;
}

const char *mcp_chan_last_error(const mcp_chan_t *ch)
{
    return ch ? ch->why : "";
}

/* Stops everything the channel runs (no callback after this). */
static void chan_stop(mcp_chan_t *ch, long grace_ms)
{
    pa_loop_timer_stop(ch->loop, &ch->retry);
    pa_loop_timer_stop(ch->loop, &ch->kick);
    if (ch->transport == MCP_TRANSPORT_STDIO) stdio_stop_child(ch, grace_ms);
    else sse_stop(ch);
    ch->open = 0;
}

static void chan_free(mcp_chan_t *ch)
{
    mcp_lines_free(&ch->lines);
    pa_buf_free(&ch->wq);
    qclear(ch);
    free(ch->endpoint);
    free(ch->url);
    if (ch->transport == MCP_TRANSPORT_SSE) pa_sse_free(&ch->sse);
    for (size_t i = 0; i < ch->nheaders; i++) free(ch->headers[i]);
    free(ch->headers);
    free(ch);
}

void mcp_chan_destroy(mcp_chan_t **chp, long grace_ms)
{
    if (!chp || !*chp) return;
    mcp_chan_t *ch = *chp;
    *chp = NULL;
    if (ch->dead) return;
    ch->dead = 1;
    chan_stop(ch, grace_ms);
    if (ch->busy == 0) chan_free(ch);
}
