/* Integration-test harness: processes, HTTP client, JSON helpers. See harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>

#include "../unit/redis_fixture.h"

#ifndef PA_BIN_DIR
#error "PA_BIN_DIR must be defined (tests/CMakeLists.txt does)"
#endif

/* ---- ownership pool: everything handed out is freed by hr_cleanup ------------------------- */

typedef struct owned {
    void *p;
    void (*fn)(void *);
    struct owned *next;
} owned_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static owned_t *pool;

static void *own(void *p, void (*fn)(void *))
{
    if (!p) return p;
    owned_t *o = malloc(sizeof *o);
    if (!o) abort();
    o->p = p;
    o->fn = fn;
    pthread_mutex_lock(&pool_lock);
    o->next = pool;
    pool = o;
    pthread_mutex_unlock(&pool_lock);
    return p;
}

static void pool_free(void)
{
    pthread_mutex_lock(&pool_lock);
    owned_t *o = pool;
    pool = NULL;
    pthread_mutex_unlock(&pool_lock);
    while (o) {
        owned_t *next = o->next;
        o->fn(o->p);
        free(o);
        o = next;
    }
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) abort();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void json_decref_fn(void *p)
{
    json_decref(p);
}

const char *hr_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return own(s, free);
}

uint64_t hr_now_ms(void)
{
    return rf_now_ms();
}

void hr_sleep_ms(unsigned ms)
{
    rf_sleep_ms(ms);
}

const char *hr_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return "";
    size_t cap = 65536, len = 0;
    char *s = malloc(cap);
    if (!s) abort();
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            if (!s) abort();
        }
    }
    fclose(f);
    s[len] = '\0';
    return own(s, free);
}

/* Fails the test after stopping everything: a failed assertion in a suite's .init skips its
 * .fini, so the harness cleans up itself before failing. */
void hr_cleanup(void);
static int in_fatal;
static void hr_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void hr_fatal(const char *fmt, ...)
{
    static char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    in_fatal = 1; /* the test fails anyway: hr_cleanup must not abort before saying why */
    hr_cleanup();
    in_fatal = 0;
    cr_assert_fail("%s", msg);
    abort(); /* not reached */
}

/* ---- temporary directory ---------------------------------------------------------------- */

static char tmp_dir[PATH_MAX];

static const char *harness_dir(void)
{
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "%s/pa-it-XXXXXX", rf_tmpdir());
        if (!mkdtemp(tmp_dir)) {
            tmp_dir[0] = '\0';
            hr_fatal("mkdtemp: %s", strerror(errno));
        }
    }
    return tmp_dir;
}

/* ---- redis -------------------------------------------------------------------------------- */

struct hr_redis {
    rf_redis_t rf;
    char url[160];
};

#define HR_MAX_PROCS 16
static hr_redis_t *redises[HR_MAX_PROCS];
static int nredis;
static hr_gateway_t *gateways[HR_MAX_PROCS];
static int ngateways;

hr_redis_t *hr_redis_start(const hr_redis_opts_t *opts)
{
    cr_assert_lt(nredis, HR_MAX_PROCS, "too many redis servers in one test");
    hr_redis_t *r = xcalloc(1, sizeof *r);
    rf_redis_t init = RF_REDIS_INIT;
    r->rf = init;
    if (opts) {
        r->rf.appendonly = opts->appendonly;
        if (opts->password) snprintf(r->rf.password, sizeof r->rf.password, "%s", opts->password);
        if (opts->tls_dir) snprintf(r->rf.tls_dir, sizeof r->rf.tls_dir, "%s", opts->tls_dir);
        r->rf.tls_auth_clients = opts->tls_auth_clients;
        for (int i = 0; i < 8; i++) r->rf.extra[i] = opts->extra[i];
    }
    redises[nredis++] = r;
    char err[512];
    if (rf_redis_start(&r->rf, err, sizeof err) < 0) hr_fatal("cannot start redis: %s", err);
    return r;
}

void hr_redis_stop(hr_redis_t *r)
{
    rf_redis_stop(&r->rf);
}

void hr_redis_kill(hr_redis_t *r)
{
    if (r->rf.pid > 0) rf_stop_pid(r->rf.pid, SIGKILL, 5000);
    r->rf.pid = 0;
}

void hr_redis_restart(hr_redis_t *r)
{
    char err[512];
    if (rf_redis_start(&r->rf, err, sizeof err) < 0)
        hr_fatal("cannot restart redis on port %d: %s", r->rf.port, err);
}

int hr_redis_port(const hr_redis_t *r)
{
    return r->rf.port;
}

pid_t hr_redis_pid(const hr_redis_t *r)
{
    return r->rf.pid;
}

const char *hr_redis_url(const hr_redis_t *r, int db)
{
    char buf[200];
    rf_redis_url(&r->rf, db, buf, sizeof buf);
    return hr_fmt("%s", buf);
}

const char *hr_tls_certs(void)
{
    const char *dir = hr_fmt("%s/certs", harness_dir());
    if (access(hr_fmt("%s/ca.crt", dir), R_OK) == 0) return dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) hr_fatal("mkdir %s: %s", dir, strerror(errno));
    char err[512];
    if (rf_tls_make_certs(dir, err, sizeof err) < 0) hr_fatal("%s", err);
    return dir;
}

/* ---- gateway ------------------------------------------------------------------------------ */

const char *hr_gateway_bin(void)
{
    const char *b = getenv("PA_GATEWAY_BIN");
    return (b && *b) ? b : PA_BIN_DIR "/prospect-gateway";
}

typedef struct {
    char **v;
    size_t n, cap;
} envlist_t;

static void env_set(envlist_t *e, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
            free(e->v[i]);
            if (eq) {
                e->v[i] = strdup(kv);
            } else {
                e->v[i] = e->v[--e->n];
            }
            return;
        }
    }
    if (!eq) return;
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 32;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v) abort();
    }
    e->v[e->n++] = strdup(kv);
    e->v[e->n] = NULL;
}

static void env_free(envlist_t *e)
{
    for (size_t i = 0; i < e->n; i++) free(e->v[i]);
    free(e->v);
}

static pid_t spawn_gateway(hr_gateway_t *g, hr_redis_t *redis, const char *const *env)
{
    static const char *pass[] = {
        "PATH",          "HOME",         "TMPDIR",          "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS",
        "UBSAN_OPTIONS", "LSAN_OPTIONS", "LD_LIBRARY_PATH", NULL};
    envlist_t e = {0};
    char kv[4096];
    for (int i = 0; pass[i]; i++) {
        const char *v = getenv(pass[i]);
        if (v) {
            snprintf(kv, sizeof kv, "%s=%s", pass[i], v);
            env_set(&e, kv);
        }
    }
    env_set(&e, "HOST=127.0.0.1");
    snprintf(kv, sizeof kv, "PORT=%d", g->port);
    env_set(&e, kv);
    if (redis) {
        char url[200];
        rf_redis_url(&redis->rf, 0, url, sizeof url);
        snprintf(kv, sizeof kv, "REDIS_URL=%s", url);
        env_set(&e, kv);
    }
    if (g->dispatch_port > 0) {
        snprintf(kv, sizeof kv, "DISPATCH_BIND=tcp://127.0.0.1:%d", g->dispatch_port);
        env_set(&e, kv);
    }
    env_set(&e, "LOG_LEVEL=info");
    for (size_t i = 0; env && env[i]; i++) env_set(&e, env[i]);
    if (!e.v) env_set(&e, "PA_EMPTY=1");

    const char *bin = hr_gateway_bin();
    char *const argv[] = {(char *)bin, NULL};
    int out = open(g->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) {
        env_free(&e);
        hr_fatal("open %s: %s", g->log_path, strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        rf_child_prepare(parent, out);
        execve(bin, argv, e.v);
        static const char msg[] = "harness: cannot exec the gateway binary\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    int fork_errno = errno;
    close(out);
    env_free(&e);
    if (pid < 0) hr_fatal("fork: %s", strerror(fork_errno));
    return pid;
}

hr_gateway_t *hr_gateway_spawn(hr_redis_t *redis, const char *const *env)
{
    cr_assert_lt(ngateways, HR_MAX_PROCS, "too many gateways in one test");
    if (access(hr_gateway_bin(), X_OK) != 0)
        hr_fatal("gateway binary %s: %s", hr_gateway_bin(), strerror(errno));
    hr_gateway_t *g = xcalloc(1, sizeof *g);
    int idx = ngateways;
    gateways[ngateways++] = g;
    g->port = rf_free_port();
    cr_assert_gt(g->port, 0, "no free port");
    do g->dispatch_port = rf_free_port();
    while (g->dispatch_port == g->port);
    /* A DISPATCH_BIND in env wins: dispatch_port is its port (0 when it has none). */
    for (size_t i = 0; env && env[i]; i++) {
        if (strncmp(env[i], "DISPATCH_BIND", 13) != 0 || (env[i][13] && env[i][13] != '='))
            continue;
        const char *colon = strrchr(env[i], ':');
        g->dispatch_port = colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)
                               ? atoi(colon + 1)
                               : 0;
    }
    snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d", g->port);
    if (snprintf(g->log_path, sizeof g->log_path, "%s/gateway-%d.log", harness_dir(), idx) >=
        (int)sizeof g->log_path)
        hr_fatal("temporary directory path too long: %s", harness_dir());
    /* A PORT=... in env wins over the free port; keep g->port and g->url in step with it. */
    for (size_t i = 0; env && env[i]; i++) {
        if (strncmp(env[i], "PORT=", 5) == 0) {
            g->port = atoi(env[i] + 5);
            snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d", g->port);
        }
    }
    g->pid = spawn_gateway(g, redis, env);
    return g;
}

static int reap(hr_gateway_t *g, int timeout_ms)
{
    if (g->exited) return 1;
    if (g->pid <= 0) return 1;
    int st;
    int rc = rf_wait_pid(g->pid, timeout_ms, &st);
    if (rc == 1 || rc < 0) {
        g->exited = 1;
        g->status = rc == 1 ? st : -1;
        g->pid = 0;
        return 1;
    }
    return 0;
}

static const char *describe_status(int st)
{
    if (st == -1) return "unknown";
    if (WIFEXITED(st)) return hr_fmt("exit code %d", WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        return hr_fmt("killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    return hr_fmt("wait status 0x%x", st);
}

/* The last max bytes of s. */
static const char *tail(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > max ? s + n - max : s;
}

static char last_health[1024];

int hr_gateway_wait_ready(hr_gateway_t *g, int timeout_ms, long want_status)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)timeout_ms;
    long saved = hr_http_timeout_ms;
    int rc = -1;
    last_health[0] = '\0';
    while (hr_now_ms() < deadline) {
        if (reap(g, 0)) break;
        hr_http_timeout_ms = 1000;
        hr_resp_t *r = hr_http("GET", hr_fmt("%s/api/health", g->url), NULL, NULL, 0);
        hr_http_timeout_ms = saved;
        snprintf(last_health, sizeof last_health, "%s", hr_describe(r));
        if (r->status > 0 && (want_status == 0 || r->status == want_status)) {
            rc = 0;
            break;
        }
        hr_sleep_ms(r->status > 0 ? 10 : 25);
    }
    hr_http_timeout_ms = saved;
    return rc;
}

hr_gateway_t *hr_gateway_start(hr_redis_t *redis, const char *const *env)
{
    const char *why = "";
    for (int attempt = 0; attempt < 3; attempt++) {
        hr_gateway_t *g = hr_gateway_spawn(redis, env);
        if (hr_gateway_wait_ready(g, 10000, 200) == 0) return g;
        if (!reap(g, 0)) {
            hr_gateway_stop(g, SIGKILL, 1000);
            hr_fatal("gateway (%s) did not answer GET /api/health with 200 within 10 s; "
                     "last answer: %s; output:\n%s",
                     hr_gateway_bin(), last_health, tail(hr_gateway_output(g), 4000));
        }
        why = hr_fmt("gateway exited before answering (%s); output:\n%s",
                     describe_status(g->status), tail(hr_gateway_output(g), 4000));
        /* The free port may have been taken in between: try another unless PORT was forced. */
        int forced = 0;
        for (size_t i = 0; env && env[i]; i++) forced |= strncmp(env[i], "PORT=", 5) == 0;
        if (forced) break;
    }
    hr_fatal("%s", why);
}

int hr_gateway_wait_exit(hr_gateway_t *g, int timeout_ms)
{
    return reap(g, timeout_ms);
}

/* Criterion ignores assertions in .fini, so a sanitizer report found while cleaning up is
 * printed and the test process aborts once everything is stopped: Criterion then warns that the
 * test "crashed during its setup or teardown" and the runner exits non-zero (ctest fails). */
static int sanitizer_failed;

static void report_sanitizer(const hr_gateway_t *g)
{
    const char *out = hr_gateway_output(g);
    const char *markers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                             "runtime error:", "ERROR: ThreadSanitizer", NULL};
    for (int i = 0; markers[i]; i++) {
        const char *m = strstr(out, markers[i]);
        if (m) {
            const char *start = m;
            while (start > out && start[-1] != '\n') start--;
            fprintf(stderr,
                    "harness: the gateway on port %d reported a sanitizer error:\n%.6000s\n",
                    g->port, start);
            sanitizer_failed = 1;
            return;
        }
    }
}

int hr_gateway_stop(hr_gateway_t *g, int sig, int grace_ms)
{
    if (!g->exited && g->pid > 0) {
        int st = rf_stop_pid(g->pid, sig, grace_ms);
        g->exited = 1;
        g->status = st;
        g->pid = 0;
    }
    if (getenv("PA_TEST_VERBOSE"))
        fprintf(stderr, "---- gateway on port %d (%s) ----\n%s----\n", g->port,
                describe_status(g->status), hr_gateway_output(g));
    return g->status;
}

const char *hr_gateway_output(const hr_gateway_t *g)
{
    return hr_read_file(g->log_path);
}

int hr_gateway_count_lines(const hr_gateway_t *g, const char *a, const char *b)
{
    const char *p = hr_gateway_output(g);
    int n = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
        free(line);
        p += len + (nl != NULL);
    }
    return n;
}

json_t *hr_gateway_log_lines(const hr_gateway_t *g)
{
    const char *out = hr_gateway_output(g);
    json_t *arr = hr_jkeep(json_array());
    const char *p = out;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        json_t *j = json_loadb(p, n, 0, NULL);
        if (j && json_is_object(j)) json_array_append(arr, j);
        json_decref(j);
        p += n;
        if (*p == '\n') p++;
    }
    return arr;
}

void hr_cleanup(void)
{
    for (int i = 0; i < ngateways; i++) {
        hr_gateway_t *g = gateways[i];
        if (!g->exited) hr_gateway_stop(g, SIGTERM, 5000);
        report_sanitizer(g);
        free(g);
    }
    ngateways = 0;
    for (int i = 0; i < nredis; i++) {
        rf_redis_cleanup(&redises[i]->rf);
        free(redises[i]);
    }
    nredis = 0;
    if (tmp_dir[0] && !getenv("PA_KEEP_TMP")) rf_rm_rf(tmp_dir);
    tmp_dir[0] = '\0';
    pool_free();
    if (sanitizer_failed && !in_fatal) {
        fprintf(stderr, "harness: failing the test because of the sanitizer report above\n");
        fflush(stderr);
        abort();
    }
}

/* ---- HTTP --------------------------------------------------------------------------------- */

long hr_http_timeout_ms = 15000;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

static void resp_free(void *p)
{
    hr_resp_t *r = p;
    free(r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->names);
    free(r->values);
    json_decref(r->json_);
    free(r);
}

typedef struct {
    hr_resp_t *r;
    size_t cap;
    size_t hcap;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb;
    if (s->r->len + n + 1 > s->cap) {
        while (s->r->len + n + 1 > s->cap) s->cap = s->cap ? s->cap * 2 : 4096;
        s->r->body = realloc(s->r->body, s->cap);
        if (!s->r->body) abort();
    }
    memcpy(s->r->body + s->r->len, data, n);
    s->r->len += n;
    s->r->body[s->r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    hr_resp_t *r = s->r;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue or a redirect): drop earlier headers. */
        for (size_t i = 0; i < r->nheaders; i++) {
            free(r->names[i]);
            free(r->values[i]);
        }
        r->nheaders = 0;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon) return n;
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->nheaders + 1 > s->hcap) {
        s->hcap = s->hcap ? s->hcap * 2 : 16;
        r->names = realloc(r->names, s->hcap * sizeof *r->names);
        r->values = realloc(r->values, s->hcap * sizeof *r->values);
        if (!r->names || !r->values) abort();
    }
    r->names[r->nheaders] = xstrndup(data, (size_t)(colon - data));
    r->values[r->nheaders] = xstrndup(v, (size_t)(end - v));
    r->nheaders++;
    return n;
}

hr_resp_t *hr_http(const char *method, const char *url, const char *const *headers,
                   const void *body, size_t len)
{
    pthread_once(&curl_once, curl_init_once);
    hr_resp_t *r = own(xcalloc(1, sizeof *r), resp_free);
    r->body = xcalloc(1, 1);
    sink_t sink = {r, 1, 0};
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(r->err, sizeof r->err, "curl_easy_init failed");
        return r;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, hr_http_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        }
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    if (hl) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        /* A response may have arrived even though sending failed (e.g. an early 413). */
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        r->status = code;
        snprintf(r->err, sizeof r->err, "%.200s: %.280s", curl_easy_strerror(rc),
                 errbuf[0] ? errbuf : "-");
    }
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

static int has_header_named(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':') return 1;
    return 0;
}

hr_resp_t *hr_req(const hr_gateway_t *g, const char *method, const char *path,
                  const char *const *headers, const char *body)
{
    const char *url = strncmp(path, "http://", 7) == 0 ? path : hr_fmt("%s%s", g->url, path);
    const char *hv[64];
    size_t n = 0;
    for (size_t i = 0; headers && headers[i] && n < 60; i++) hv[n++] = headers[i];
    if (body && !has_header_named(headers, "Content-Type"))
        hv[n++] = "Content-Type: application/json";
    hv[n] = NULL;
    return hr_http(method, url, hv, body, body ? strlen(body) : 0);
}

hr_resp_t *hr_get(const hr_gateway_t *g, const char *path)
{
    return hr_req(g, "GET", path, NULL, NULL);
}

hr_resp_t *hr_post(const hr_gateway_t *g, const char *path, const char *json_body)
{
    return hr_req(g, "POST", path, NULL, json_body);
}

const char *hr_header(const hr_resp_t *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->names[i], name) == 0) return r->values[i];
    return NULL;
}

size_t hr_header_count(const hr_resp_t *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++) n += strcasecmp(r->names[i], name) == 0;
    return n;
}

int hr_header_has_token(const hr_resp_t *r, const char *name, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->names[i], name) != 0) continue;
        const char *p = r->values[i];
        while (*p) {
            while (*p == ' ' || *p == ',' || *p == '\t') p++;
            const char *e = p;
            while (*e && *e != ',') e++;
            const char *te = e;
            while (te > p && (te[-1] == ' ' || te[-1] == '\t')) te--;
            if ((size_t)(te - p) == tl && strncasecmp(p, token, tl) == 0) return 1;
            p = e;
        }
    }
    return 0;
}

const char *hr_link_next(const hr_resp_t *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->names[i], "Link") != 0) continue;
        const char *p = r->values[i];
        while ((p = strchr(p, '<')) != NULL) {
            const char *gt = strchr(p, '>');
            if (!gt) break;
            const char *next = strchr(gt, '<');
            size_t plen = next ? (size_t)(next - gt) : strlen(gt);
            char *params = xstrndup(gt, plen);
            int is_next = strstr(params, "rel=\"next\"") || strstr(params, "rel=next");
            free(params);
            if (is_next) return hr_fmt("%.*s", (int)(gt - p - 1), p + 1);
            p = gt;
        }
    }
    return NULL;
}

json_t *hr_json(hr_resp_t *r)
{
    if (!r->json_ && r->len) r->json_ = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    return r->json_;
}

const char *hr_describe(const hr_resp_t *r)
{
    if (r->status == 0) return hr_fmt("no response (%s)", r->err);
    return hr_fmt("%ld %.600s%s", r->status, r->body, r->len > 600 ? "..." : "");
}

void hr_assert_problem(hr_resp_t *r, long status, const char *slug, const char *field)
{
    cr_assert_eq(r->status, status, "expected HTTP %ld, got %s", status, hr_describe(r));
    const char *ct = hr_header(r, "Content-Type");
    cr_assert(ct && strncasecmp(ct, "application/problem+json", 24) == 0,
              "expected Content-Type application/problem+json, got %s (body %s)",
              ct ? ct : "(none)", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "problem body is not a JSON object: %s", hr_describe(r));
    const char *type = hr_jstr(j, "type");
    const char *want = hr_fmt("https://prospect-ai.example/problems/%s", slug);
    cr_assert(type && strcmp(type, want) == 0, "expected type %s, got %s", want, hr_jdump(j));
    const char *title = hr_jstr(j, "title");
    cr_assert(title && *title, "problem has no title: %s", hr_jdump(j));
    /* docs/api.md: the title is fixed per type */
    static const char *titles[][2] = {
        {"invalid-field", "Invalid field"},
        {"invalid-json", "Invalid JSON"},
        {"unauthorized", "Unauthorized"},
        {"not-found", "Not found"},
        {"method-not-allowed", "Method not allowed"},
        {"conflict", "Conflict"},
        {"payload-too-large", "Payload too large"},
        {"unsupported-media-type", "Unsupported media type"},
        {"unavailable", "Service unavailable"},
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (strcmp(slug, titles[i][0]) == 0)
            cr_assert_str_eq(title, titles[i][1], "the title of %s is \"%s\": %s", slug,
                             titles[i][1], hr_jdump(j));
    cr_assert(json_is_integer(json_object_get(j, "status")) && hr_jint(j, "status", -1) == status,
              "problem status member is not %ld: %s", status, hr_jdump(j));
    const char *detail = hr_jstr(j, "detail");
    cr_assert(detail && *detail, "problem has no detail: %s", hr_jdump(j));
    if (field) {
        const char *f = hr_jstr(j, "field");
        cr_assert(f && strcmp(f, field) == 0, "expected field \"%s\", got %s", field, hr_jdump(j));
    }
}

json_t *hr_must_create(const hr_gateway_t *g, const char *path, const char *body)
{
    hr_resp_t *r = hr_post(g, path, body);
    cr_assert_eq(r->status, 201, "POST %s %s: expected 201, got %s", path, body, hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "POST %s: 201 without a JSON object: %s", path, hr_describe(r));
    return j;
}

json_t *hr_get_all_pages(const hr_gateway_t *g, const char *path, size_t limit, int *pages)
{
    json_t *all = hr_jkeep(json_array());
    const char *url = path;
    int n = 0;
    while (url) {
        cr_assert_lt(n, 10000, "more than 10000 pages: the Link header loops");
        hr_resp_t *r = hr_get(g, url);
        cr_assert_eq(r->status, 200, "GET %s: %s", url, hr_describe(r));
        json_t *arr = hr_json(r);
        cr_assert(json_is_array(arr), "GET %s: not a JSON array: %s", url, hr_describe(r));
        if (limit)
            cr_assert_leq(json_array_size(arr), limit, "GET %s: page of %zu > limit %zu", url,
                          json_array_size(arr), limit);
        json_array_extend(all, arr);
        n++;
        const char *next = hr_link_next(r);
        if (next && json_array_size(arr) == 0)
            cr_assert_fail("GET %s: empty page with a rel=\"next\" link", url);
        url = next;
    }
    if (pages) *pages = n;
    return all;
}

/* ---- JSON and strings --------------------------------------------------------------------- */

const char *hr_urlenc(const char *s)
{
    pthread_once(&curl_once, curl_init_once);
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e) abort();
    const char *out = hr_fmt("%s", e);
    curl_free(e);
    return out;
}

json_t *hr_jkeep(json_t *j)
{
    return own(j, json_decref_fn);
}

json_t *hr_jparse(const char *s)
{
    return hr_jkeep(json_loads(s, JSON_DECODE_ANY, NULL));
}

const char *hr_jdump(const json_t *j)
{
    if (!j) return "(null)";
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return "(unprintable)";
    return own(s, free);
}

const char *hr_jstr(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long hr_jint(const json_t *o, const char *key, long long def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

int hr_jnull(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return !v || json_is_null(v);
}
