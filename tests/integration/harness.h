/* Integration-test harness: private redis-server and gateway processes, an HTTP client on
 * libcurl, and JSON helpers on jansson.
 *
 * Every test file follows the same pattern:
 *
 *   static hr_redis_t *rd;
 *   static hr_gateway_t *gw;
 *   static void setup(void) { rd = hr_redis_start(NULL); gw = hr_gateway_start(rd, NULL); }
 *   TestSuite(prospects, .init = setup, .fini = hr_cleanup, .timeout = 30);
 *
 * Start functions fail the current test (cr_fatal) with the reason when something does not come
 * up. hr_cleanup() stops every process the harness started (SIGTERM, SIGKILL after a deadline),
 * removes their temporary directories and frees every response, string and JSON value the
 * harness handed out, so a test never has to free anything and nothing leaks when it fails.
 * Children also get PR_SET_PDEATHSIG(SIGKILL) so a crashed or timed-out test leaves nothing.
 * When a gateway's output holds a sanitizer report (ASan, LSan at exit, UBSan), hr_cleanup prints
 * it and aborts, which fails the run even if the test's own assertions passed.
 *
 * Everything listens on 127.0.0.1 only. Set PA_KEEP_TMP=1 to keep the temporary directories and
 * PA_TEST_VERBOSE=1 to print the gateway's output when it is stopped. */
#ifndef PA_TESTS_HARNESS_H
#define PA_TESTS_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- processes ---------------------------------------------------------------------------- */

typedef struct {
    int appendonly;       /* --appendonly yes */
    const char *password; /* requirepass (in a config file, never on the command line) */
    /* TLS only (--port 0 --tls-port): certificates from rf_tls_make_certs in this directory;
     * hr_redis_url then gives rediss:// */
    const char *tls_dir;
    const char *tls_auth_clients; /* "yes", "optional"; NULL: "no" */
    const char *extra[8];         /* more redis-server arguments, NULL-ended */
} hr_redis_opts_t;

typedef struct hr_redis hr_redis_t;

/* Starts a redis-server on a free port in a fresh temporary directory (opts may be NULL). */
hr_redis_t *hr_redis_start(const hr_redis_opts_t *opts);
/* Stops it by its PID (SIGTERM, SIGKILL after 5 s); the port and directory are kept. */
void hr_redis_stop(hr_redis_t *r);
/* Kills it with SIGKILL (a crash: nothing is flushed) and reaps it; the port and directory are
 * kept for hr_redis_restart. */
void hr_redis_kill(hr_redis_t *r);
/* Starts it again on the same port (and directory, so an AOF is replayed). */
void hr_redis_restart(hr_redis_t *r);
int hr_redis_port(const hr_redis_t *r);
pid_t hr_redis_pid(const hr_redis_t *r);
/* "redis://127.0.0.1:<port>/<db>" (with the password when there is one; rediss:// with TLS). */
const char *hr_redis_url(const hr_redis_t *r, int db);

typedef struct hr_gateway {
    pid_t pid;           /* 0 once reaped */
    int port;            /* the PORT it was given */
    int dispatch_port;   /* the port of its DISPATCH_BIND (ZeroMQ dispatcher); 0 if none */
    char url[64];        /* "http://127.0.0.1:<port>" */
    char log_path[4096]; /* its stdout and stderr */
    int exited;          /* 1 once reaped; then status is the wait status */
    int status;
} hr_gateway_t;

/* The gateway binary: $PA_GATEWAY_BIN, else PA_BIN_DIR "/prospect-gateway". */
const char *hr_gateway_bin(void);

/* Starts the gateway with a clean environment: PATH, HOME, TMPDIR, LANG, LC_ALL, TZ and the
 * sanitizer options are passed through; then HOST=127.0.0.1, PORT=<free port>,
 * DISPATCH_BIND=tcp://127.0.0.1:<free port> (so gateways never share the default dispatcher
 * port), REDIS_URL=<redis, db 0> (none when redis is NULL), LOG_LEVEL=info; then env (a
 * NULL-terminated list, may be NULL) adds or overrides: "NAME=value" sets, "NAME" alone removes.
 * hr_gateway_start waits until GET /api/health answers 200, at most 10 s (fails the test with
 * the last answer and the gateway's output otherwise). */
hr_gateway_t *hr_gateway_start(hr_redis_t *redis, const char *const *env);
/* Same without waiting for health: for a gateway that is expected to refuse to start. */
hr_gateway_t *hr_gateway_spawn(hr_redis_t *redis, const char *const *env);
/* 0 when GET /api/health answered with want_status (0: any status) within timeout_ms, -1 when
 * the process exited or the time ran out. */
int hr_gateway_wait_ready(hr_gateway_t *g, int timeout_ms, long want_status);
/* 1 when it exited within timeout_ms (g->status set), 0 when still running. */
int hr_gateway_wait_exit(hr_gateway_t *g, int timeout_ms);
/* Sends sig (SIGTERM normally); waits up to grace_ms, then SIGKILLs. Returns the wait status. */
int hr_gateway_stop(hr_gateway_t *g, int sig, int grace_ms);
/* Everything the gateway wrote to stdout and stderr so far (harness-owned). */
const char *hr_gateway_output(const hr_gateway_t *g);
/* How many lines of the gateway's output hold a and (when not NULL) b. */
int hr_gateway_count_lines(const hr_gateway_t *g, const char *a, const char *b);
/* Its output lines that parse as JSON objects, as a JSON array (harness-owned). */
json_t *hr_gateway_log_lines(const hr_gateway_t *g);

/* Stops all processes, removes temp dirs, frees everything the harness handed out. Use as
 * .fini of every suite; safe to call twice. */
void hr_cleanup(void);

/* A harness-owned temporary directory holding test certificates (rf_tls_make_certs: ca.crt,
 * server.crt/.key for 127.0.0.1 and localhost, client.crt/.key, other-ca.crt); removed by
 * hr_cleanup. */
const char *hr_tls_certs(void);

/* ---- HTTP --------------------------------------------------------------------------------- */

typedef struct {
    long status; /* 0 when no response arrived (err says why) */
    char *body;  /* NUL-terminated (len excludes the NUL) */
    size_t len;
    size_t nheaders; /* headers of the final response (not of a 100 Continue) */
    char **names;
    char **values;
    double seconds; /* total time */
    char err[512];
    json_t *json_; /* parsed body, made by hr_json */
} hr_resp_t;

/* Timeout for every request, default 15000 ms. */
extern long hr_http_timeout_ms;

/* Any method; headers is a NULL-terminated list of "Name: value" (may be NULL; "Name:" removes a
 * header curl would add). body may be NULL. */
hr_resp_t *hr_http(const char *method, const char *url, const char *const *headers,
                   const void *body, size_t len);
/* Against a gateway: path is appended to g->url unless it is absolute. When body is not NULL and
 * headers name no Content-Type, "Content-Type: application/json" is sent. */
hr_resp_t *hr_req(const hr_gateway_t *g, const char *method, const char *path,
                  const char *const *headers, const char *body);
hr_resp_t *hr_get(const hr_gateway_t *g, const char *path);
hr_resp_t *hr_post(const hr_gateway_t *g, const char *path, const char *json_body);

/* First header with that name (case-insensitive), value trimmed; NULL when absent. */
const char *hr_header(const hr_resp_t *r, const char *name);
/* Number of headers with that name. */
size_t hr_header_count(const hr_resp_t *r, const char *name);
/* 1 when a comma-separated header (all occurrences) contains token (case-insensitive). */
int hr_header_has_token(const hr_resp_t *r, const char *name, const char *token);
/* The URL of the rel="next" link in Link, or NULL. */
const char *hr_link_next(const hr_resp_t *r);

/* The body parsed as JSON (NULL when it is not JSON); owned by the response. */
json_t *hr_json(hr_resp_t *r);
/* Asserts r is an RFC 9457 problem: status, Content-Type application/problem+json, type
 * ".../problems/<slug>", title, status and detail members; and field when field is not NULL. */
void hr_assert_problem(hr_resp_t *r, long status, const char *slug, const char *field);
/* For messages: "<status> <body>" trimmed to a readable length. */
const char *hr_describe(const hr_resp_t *r);

/* POSTs body to path and asserts 201 with a JSON object; returns the object (response-owned). */
json_t *hr_must_create(const hr_gateway_t *g, const char *path, const char *body);
/* GETs path (following rel="next" links) and returns every element of every page in one JSON
 * array (harness-owned); asserts 200 and that no page has more than limit items (0: no check). */
json_t *hr_get_all_pages(const hr_gateway_t *g, const char *path, size_t limit, int *pages);

/* ---- JSON and strings --------------------------------------------------------------------- */

/* printf into a harness-owned string. */
const char *hr_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* URL-encodes s (harness-owned). */
const char *hr_urlenc(const char *s);
/* Parses JSON (NULL on error); harness-owned. */
json_t *hr_jparse(const char *s);
/* Hands a reference to the harness, which drops it in hr_cleanup; returns j. */
json_t *hr_jkeep(json_t *j);
/* Compact dump (harness-owned); "(null)" for NULL. */
const char *hr_jdump(const json_t *j);
/* Member accessors: NULL / def when absent or of another type. */
const char *hr_jstr(const json_t *o, const char *key);
long long hr_jint(const json_t *o, const char *key, long long def);
/* 1 when key is absent or null. */
int hr_jnull(const json_t *o, const char *key);

uint64_t hr_now_ms(void);
void hr_sleep_ms(unsigned ms);
/* Harness-owned copy of a file's contents ("" when unreadable). */
const char *hr_read_file(const char *path);

/* ---- raw HTTP over a socket (harness_raw.c) ----------------------------------------------- */

/* What came back on a connection: every byte read (NUL-terminated), the first response's status
 * line, headers and body, and whether the server closed the connection. */
typedef struct {
    char *data;
    size_t len;
    long status;      /* 0 when nothing parseable arrived */
    const char *body; /* into data: after the first response's header (to the end of data) */
    int closed;       /* the server closed (EOF or reset) before the read gave up */
    json_t *json_;
} hr_raw_t;

/* A TCP connection to 127.0.0.1:port, from the source address src when not NULL (e.g.
 * "127.0.0.2"); -1 on failure (errno set). The caller closes it. */
int hr_raw_connect(int port, const char *src);
/* Sends n bytes; 0, or -1 when the connection failed. */
int hr_raw_send(int fd, const void *p, size_t n);
/* Reads until the server closes or nothing arrives for idle_ms (harness-owned). */
hr_raw_t *hr_raw_read(int fd, int idle_ms);
/* Connects to g, sends the n bytes of req, reads (until closed, or idle 1 s) and closes. */
hr_raw_t *hr_raw(const hr_gateway_t *g, const void *req, size_t n);
/* The first response's header value (trimmed, harness-owned), NULL when absent. */
const char *hr_raw_header(const hr_raw_t *r, const char *name);
/* How many responses (status lines) arrived. */
int hr_raw_responses(const hr_raw_t *r);
/* The first response's body parsed as JSON (NULL when it is not JSON: invalid UTF-8 too). */
json_t *hr_raw_json(hr_raw_t *r);
/* Asserts the first response is an RFC 9457 problem with that status and type slug, in valid
 * JSON. */
void hr_raw_assert_problem(hr_raw_t *r, long status, const char *slug);

#endif
