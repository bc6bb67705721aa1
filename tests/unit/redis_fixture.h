/* A private redis-server for tests: started with fork/exec on a free 127.0.0.1 port in its own
 * temporary directory, stopped by its PID. Header-only (static inline) because only test_*.c
 * files are compiled; the integration harness includes it too.
 *
 *   rf_redis_t r = RF_REDIS_INIT;          // or set r.password / r.appendonly / r.port first
 *   if (rf_redis_start(&r, err, sizeof err) < 0) ...;
 *   ... redis://127.0.0.1:r.port ...
 *   rf_redis_stop(&r);                     // SIGTERM, then SIGKILL after a deadline
 *   rf_redis_start(&r, ...);               // restarts on the same port
 *   rf_redis_cleanup(&r);                  // stops it and removes its directory
 *
 * The child gets PR_SET_PDEATHSIG(SIGKILL), so a test process that crashes or is killed by a
 * timeout does not leave a redis-server behind. */
#ifndef PA_TESTS_REDIS_FIXTURE_H
#define PA_TESTS_REDIS_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;          /* 0 when not running */
    int port;           /* 0 until the first start picks a free one; kept across restarts */
    int appendonly;     /* 1: --appendonly yes (data survives a restart) */
    char password[64];  /* non-empty: --requirepass */
    char dir[PATH_MAX]; /* working directory (dump/AOF files, redis.log); made on first start */
    int own_dir;        /* 1 when rf made dir and removes it in rf_redis_cleanup */
    /* TLS: with tls_dir set (certificates from rf_tls_make_certs), Redis serves TLS only, on port
     * (--port 0 --tls-port <port>), with server.crt signed by ca.crt */
    char tls_dir[PATH_MAX];
    const char *tls_auth_clients; /* "yes" (Redis's default), "optional"; NULL: "no" */
    const char *extra[8];         /* more arguments ("--appendfsync", "always", ...), NULL-ended */
} rf_redis_t;

#define RF_REDIS_INIT                                                                              \
    {                                                                                              \
        0, 0, 0, {0}, {0}, 0, {0}, NULL,                                                           \
        {                                                                                          \
            NULL                                                                                   \
        }                                                                                          \
    }

static inline uint64_t rf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void rf_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void rf_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void rf_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice). */
static inline int rf_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Waits for pid to exit for up to timeout_ms (-1: forever). 1 when it exited (status set),
 * 0 when still running, -1 when pid is not our child. */
static inline int rf_wait_pid(pid_t pid, int timeout_ms, int *status)
{
    uint64_t deadline = rf_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        int st = 0;
        pid_t w = waitpid(pid, &st, timeout_ms < 0 ? 0 : WNOHANG);
        if (w == pid) {
            if (status) *status = st;
            return 1;
        }
        if (w < 0 && errno != EINTR) return -1;
        if (w == 0 && rf_now_ms() >= deadline) return 0;
        if (w == 0) rf_sleep_ms(5);
    }
}

/* Sends sig, waits up to grace_ms, then SIGKILLs and reaps. Returns the wait status (or -1 when
 * pid was not our child). */
static inline int rf_stop_pid(pid_t pid, int sig, int grace_ms)
{
    if (pid <= 0) return -1;
    int st = 0;
    kill(pid, sig);
    int rc = rf_wait_pid(pid, grace_ms, &st);
    if (rc == 0) {
        kill(pid, SIGKILL);
        rc = rf_wait_pid(pid, -1, &st);
    }
    return rc == 1 ? st : -1;
}

/* In a forked child, before execve: only async-signal-safe calls. Dies with the parent, gets
 * default signal dispositions and an empty mask, and keeps only fds 0-2. */
static inline void rf_child_prepare(pid_t parent, int out_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    int sigs[] = {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &dfl, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (out_fd >= 0) {
        dup2(out_fd, 1);
        dup2(out_fd, 2);
    }
    if (close_range(3, ~0u, 0) != 0) {
        long maxfd = sysconf(_SC_OPEN_MAX);
        if (maxfd < 0 || maxfd > 65536) maxfd = 65536;
        for (int fd = 3; fd < maxfd; fd++) close(fd);
    }
}

/* 1 when something accepts a TCP connection on 127.0.0.1:port. */
static inline int rf_port_listening(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Runs /bin/sh -c script with $1 = arg, output to log; 0 when it exits 0. */
static inline int rf_sh(const char *script, const char *arg, const char *log)
{
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        if (out >= 0) close(out);
        return -1;
    }
    if (pid == 0) {
        rf_child_prepare(parent, out);
        execl("/bin/sh", "sh", "-c", script, "sh", arg, (char *)NULL);
        _exit(127);
    }
    if (out >= 0) close(out);
    int st = 0;
    if (rf_wait_pid(pid, 60000, &st) != 1) {
        kill(pid, SIGKILL);
        rf_wait_pid(pid, -1, &st);
        return -1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Makes test certificates with the openssl command in dir (which must exist): ca.crt/ca.key (the
 * CA), server.crt/.key (localhost, 127.0.0.1 and ::1, signed by the CA), client.crt/.key (signed
 * by the CA), other-ca.crt (a CA that signed nothing here), elsewhere.crt/.key (a server
 * certificate for elsewhere.example, signed by the CA). 0, or -1 with a message. */
static inline int rf_tls_make_certs(const char *dir, char *err, size_t errlen)
{
    static const char script[] =
        "set -e; cd \"$1\"\n"
        "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1\"; }\n"
        "ca() { key $1.key; openssl req -x509 -new -key $1.key -days 2 -subj \"/CN=$2\" "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
        "-out $1.crt; }\n"
        "leaf() { key $1.key; openssl req -new -key $1.key -subj \"/CN=$2\" -out $1.csr;"
        " printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth,clientAuth\\n' \"$3\" > $1.ext;"
        " openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
        " -extfile $1.ext -out $1.crt; }\n"
        "ca ca pa-test-ca; ca other-ca pa-other-ca\n"
        "leaf server localhost DNS:localhost,IP:127.0.0.1,IP:::1\n"
        "leaf client pa-client DNS:pa-client\n"
        "leaf elsewhere elsewhere.example DNS:elsewhere.example\n"
        "chmod 600 *.key\n";
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/openssl.log", dir);
    if (rf_sh(script, dir, log) == 0) return 0;
    rf_errf(err, errlen, "making test certificates with openssl failed; see %s", log);
    return -1;
}

/* 1 when something answers PING-or-NOAUTH on 127.0.0.1:port. */
static inline int rf_redis_answers(int port)
{
    struct timeval tv = {0, 200 * 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *rep = redisCommand(c, "PING");
        ok = rep != NULL;
        if (rep) freeReplyObject(rep);
    }
    if (c) redisFree(c);
    return ok;
}

static inline int rf_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static inline void rf_rm_rf(const char *dir)
{
    if (dir && dir[0]) nftw(dir, rf_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *rf_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return (t && *t) ? t : "/tmp";
}

/* One attempt on r->port; 0 when redis answers, -1 when it exited (e.g. port taken) or did not
 * answer within 5 s. */
static inline int rf_redis_try_start(rf_redis_t *r, char *err, size_t errlen)
{
    char port[16], logpath[PATH_MAX + 16], conf[PATH_MAX + 16];
    char tls_cert[PATH_MAX + 16], tls_key[PATH_MAX + 16], tls_ca[PATH_MAX + 16];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(logpath, sizeof logpath, "%s/redis.log", r->dir);
    snprintf(conf, sizeof conf, "%s/auth.conf", r->dir);
    const char *argv[48];
    int n = 0;
    argv[n++] = "redis-server";
    if (r->password[0]) {
        /* the password goes in a config file (the first argument), never on the command line */
        int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            rf_errf(err, errlen, "open %s: %s", conf, strerror(errno));
            return -1;
        }
        char line[128];
        int len = snprintf(line, sizeof line, "requirepass \"%s\"\n", r->password);
        int ok = write(fd, line, (size_t)len) == len;
        close(fd);
        if (!ok) {
            rf_errf(err, errlen, "write %s failed", conf);
            return -1;
        }
        argv[n++] = conf;
    }
    if (r->tls_dir[0]) {
        snprintf(tls_cert, sizeof tls_cert, "%s/server.crt", r->tls_dir);
        snprintf(tls_key, sizeof tls_key, "%s/server.key", r->tls_dir);
        snprintf(tls_ca, sizeof tls_ca, "%s/ca.crt", r->tls_dir);
        argv[n++] = "--port";
        argv[n++] = "0";
        argv[n++] = "--tls-port";
        argv[n++] = port;
        argv[n++] = "--tls-cert-file";
        argv[n++] = tls_cert;
        argv[n++] = "--tls-key-file";
        argv[n++] = tls_key;
        argv[n++] = "--tls-ca-cert-file";
        argv[n++] = tls_ca;
        argv[n++] = "--tls-auth-clients";
        argv[n++] = r->tls_auth_clients ? r->tls_auth_clients : "no";
    } else {
        argv[n++] = "--port";
        argv[n++] = port;
    }
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = r->appendonly ? "yes" : "no";
    argv[n++] = "--appendfsync";
    argv[n++] = "everysec";
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = r->dir;
    argv[n++] = "--databases";
    argv[n++] = "16";
    for (int i = 0; i < 8 && r->extra[i]; i++) argv[n++] = r->extra[i];
    argv[n] = NULL;

    int out = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        rf_errf(err, errlen, "fork: %s", strerror(errno));
        if (out >= 0) close(out);
        return -1;
    }
    if (pid == 0) {
        rf_child_prepare(parent, out);
        execvp("redis-server", (char *const *)argv);
        static const char msg[] = "redis_fixture: cannot exec redis-server\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    if (out >= 0) close(out);
    uint64_t deadline = rf_now_ms() + 5000;
    while (rf_now_ms() < deadline) {
        int st;
        if (rf_wait_pid(pid, 0, &st) == 1) {
            rf_errf(err, errlen, "redis-server on port %d exited early (status 0x%x); see %s",
                    r->port, st, logpath);
            return -1;
        }
        if (r->tls_dir[0] ? rf_port_listening(r->port) : rf_redis_answers(r->port)) {
            r->pid = pid;
            return 0;
        }
        rf_sleep_ms(10);
    }
    rf_stop_pid(pid, SIGKILL, 1000);
    rf_errf(err, errlen, "redis-server on port %d did not answer within 5 s; see %s", r->port,
            logpath);
    return -1;
}

/* Starts redis (again). The first start picks a free port (retrying when another process grabs
 * it first); later starts reuse r->port. 0 on success, -1 with a message in err. */
static inline int rf_redis_start(rf_redis_t *r, char *err, size_t errlen)
{
    if (r->pid > 0) return 0;
    if (!r->dir[0]) {
        snprintf(r->dir, sizeof r->dir, "%s/pa-redis-XXXXXX", rf_tmpdir());
        if (!mkdtemp(r->dir)) {
            rf_errf(err, errlen, "mkdtemp %s: %s", r->dir, strerror(errno));
            r->dir[0] = '\0';
            return -1;
        }
        r->own_dir = 1;
    }
    int fixed = r->port > 0;
    for (int attempt = 0; attempt < (fixed ? 20 : 5); attempt++) {
        if (!fixed) r->port = rf_free_port();
        if (r->port <= 0) {
            rf_errf(err, errlen, "no free port: %s", strerror(errno));
            return -1;
        }
        if (rf_redis_try_start(r, err, errlen) == 0) return 0;
        if (fixed) rf_sleep_ms(100); /* the old socket may still be closing */
    }
    return -1;
}

/* Stops redis by its PID (SIGTERM, SIGKILL after 5 s). Keeps port and dir for a restart. */
static inline void rf_redis_stop(rf_redis_t *r)
{
    if (r->pid > 0) rf_stop_pid(r->pid, SIGTERM, 5000);
    r->pid = 0;
}

/* Stops redis and removes its directory (unless PA_KEEP_TMP is set). */
static inline void rf_redis_cleanup(rf_redis_t *r)
{
    rf_redis_stop(r);
    if (r->own_dir && !getenv("PA_KEEP_TMP")) rf_rm_rf(r->dir);
    r->dir[0] = '\0';
    r->own_dir = 0;
}

/* "redis://[:password@]127.0.0.1:port/db" (rediss:// with TLS) */
static inline void rf_redis_url(const rf_redis_t *r, int db, char *out, size_t outlen)
{
    const char *s = r->tls_dir[0] ? "s" : "";
    if (r->password[0])
        snprintf(out, outlen, "redis%s://:%s@127.0.0.1:%d/%d", s, r->password, r->port, db);
    else snprintf(out, outlen, "redis%s://127.0.0.1:%d/%d", s, r->port, db);
}

#endif
