/* pa_log: one valid JSON object per line with ts, level, service, msg and typed fields; level
 * threshold; NULL string fields left out; escaping; whole lines under concurrency. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pa_log.h"

static int log_fd = -1;
static char log_path[] = "/tmp/pa-test-log-XXXXXX";

static void setup(void)
{
    strcpy(log_path, "/tmp/pa-test-log-XXXXXX");
    log_fd = mkstemp(log_path);
    cr_assert_geq(log_fd, 0, "mkstemp failed");
    pa_log_init("gateway", PA_LOG_DEBUG, log_fd);
}

static void teardown(void)
{
    pa_log_init("prospect", PA_LOG_INFO, 2);
    if (log_fd >= 0) close(log_fd);
    unlink(log_path);
    log_fd = -1;
}

TestSuite(log, .init = setup, .fini = teardown);

/* Everything written so far (caller frees). */
static char *slurp(void)
{
    off_t end = lseek(log_fd, 0, SEEK_END);
    char *s = malloc((size_t)end + 1);
    ssize_t n = pread(log_fd, s, (size_t)end, 0);
    cr_assert_eq(n, end, "short read of the log file");
    s[end] = '\0';
    return s;
}

/* The log as a JSON array of objects; every line must be a JSON object ending in '\n'. */
static json_t *lines(void)
{
    char *s = slurp();
    json_t *arr = json_array();
    size_t len = strlen(s);
    if (len) cr_assert_eq(s[len - 1], '\n', "the log does not end with a newline: %s", s);
    char *p = s;
    while (*p) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        json_error_t e;
        json_t *j = json_loads(p, 0, &e);
        cr_assert_not_null(j, "line is not valid JSON (%s): %s", e.text, p);
        cr_assert(json_is_object(j), "line is not a JSON object: %s", p);
        json_array_append_new(arr, j);
        p = nl + 1;
    }
    free(s);
    return arr;
}

static json_t *only_line(void)
{
    json_t *arr = lines();
    cr_assert_eq(json_array_size(arr), 1, "expected one line, got %zu", json_array_size(arr));
    json_t *j = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return j;
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_string(v), "\"%s\" is not a string in %s", k, json_dumps(o, JSON_COMPACT));
    return json_string_value(v);
}

Test(log, line_has_ts_level_service_msg_and_typed_fields)
{
    pa_info("listening", PA_S("host", "127.0.0.1"), PA_I("port", 8080), PA_F("ratio", 0.25),
            PA_B("tls", 0), PA_B("ready", 5), PA_I("neg", -42));
    json_t *j = only_line();
    cr_assert_str_eq(str(j, "level"), "info");
    cr_assert_str_eq(str(j, "service"), "gateway");
    cr_assert_str_eq(str(j, "msg"), "listening");
    cr_assert_str_eq(str(j, "host"), "127.0.0.1");
    cr_assert(json_is_integer(json_object_get(j, "port")));
    cr_assert_eq(json_integer_value(json_object_get(j, "port")), 8080);
    cr_assert_eq(json_integer_value(json_object_get(j, "neg")), -42);
    cr_assert(json_is_number(json_object_get(j, "ratio")));
    cr_assert_float_eq(json_number_value(json_object_get(j, "ratio")), 0.25, 1e-9);
    cr_assert(json_is_false(json_object_get(j, "tls")));
    cr_assert(json_is_true(json_object_get(j, "ready")));
    json_decref(j);
}

Test(log, ts_is_rfc3339_utc_with_ms_and_is_now)
{
    time_t before = time(NULL);
    pa_warn("tick", PA_I("n", 1));
    time_t after = time(NULL);
    json_t *j = only_line();
    const char *ts = str(j, "ts");
    cr_assert_eq(strlen(ts), 24, "ts has the wrong length: %s", ts);
    struct tm tm = {0};
    int ms = -1;
    char z = 0;
    cr_assert_eq(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z),
                 8, "ts is not YYYY-MM-DDTHH:MM:SS.mmmZ: %s", ts);
    cr_assert_eq(z, 'Z', "ts is not UTC: %s", ts);
    cr_assert(ms >= 0 && ms <= 999);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    cr_assert(t >= before - 1 && t <= after + 1, "ts %s is not now", ts);
    json_decref(j);
}

Test(log, every_level_has_its_name)
{
    pa_debug("d", PA_I("i", 1));
    pa_info("i", PA_I("i", 2));
    pa_warn("w", PA_I("i", 3));
    pa_error("e", PA_I("i", 4));
    json_t *arr = lines();
    cr_assert_eq(json_array_size(arr), 4);
    const char *want[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) cr_assert_str_eq(str(json_array_get(arr, i), "level"), want[i]);
    json_decref(arr);
}

Test(log, threshold_drops_lower_levels)
{
    pa_log_init("gateway", PA_LOG_WARN, log_fd);
    cr_assert_not(pa_log_enabled(PA_LOG_DEBUG));
    cr_assert_not(pa_log_enabled(PA_LOG_INFO));
    cr_assert(pa_log_enabled(PA_LOG_WARN));
    cr_assert(pa_log_enabled(PA_LOG_ERROR));
    pa_debug("no", PA_I("i", 1));
    pa_info("no", PA_I("i", 2));
    pa_log_kv(PA_LOG_INFO, "no", NULL, 0); /* the function checks too, not only the macro */
    pa_warn("yes", PA_I("i", 3));
    pa_error("yes", PA_I("i", 4));
    json_t *arr = lines();
    cr_assert_eq(json_array_size(arr), 2, "expected only warn and error lines");
    cr_assert_str_eq(str(json_array_get(arr, 0), "level"), "warn");
    cr_assert_str_eq(str(json_array_get(arr, 1), "level"), "error");
    json_decref(arr);
}

Test(log, off_writes_nothing)
{
    pa_log_init("gateway", PA_LOG_OFF, log_fd);
    pa_error("no", PA_I("i", 1));
    pa_log_kv(PA_LOG_ERROR, "no", NULL, 0);
    char *s = slurp();
    cr_assert_str_eq(s, "");
    free(s);
}

Test(log, parse_level_names_and_alias)
{
    struct {
        const char *s;
        pa_log_level_t want;
    } ok[] = {{"debug", PA_LOG_DEBUG},  {"INFO", PA_LOG_INFO},   {"warn", PA_LOG_WARN},
              {"warning", PA_LOG_WARN}, {"Error", PA_LOG_ERROR}, {"off", PA_LOG_OFF}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        pa_log_level_t l = (pa_log_level_t)-1;
        cr_assert_eq(pa_log_parse_level(ok[i].s, &l), 0, "rejected \"%s\"", ok[i].s);
        cr_assert_eq(l, ok[i].want, "\"%s\" parsed as %d", ok[i].s, (int)l);
    }
    const char *bad[] = {"", "verbose", "trace", "infos", "3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_log_level_t l;
        cr_assert_eq(pa_log_parse_level(bad[i], &l), -1, "accepted \"%s\"", bad[i]);
    }
}

Test(log, null_string_fields_are_left_out)
{
    pa_info("req", PA_S("request_id", NULL), PA_S("path", "/api/x"), PA_S("user", NULL),
            PA_I("status", 200));
    json_t *j = only_line();
    cr_assert_null(json_object_get(j, "request_id"), "a NULL string field was written");
    cr_assert_null(json_object_get(j, "user"), "a NULL string field was written");
    cr_assert_str_eq(str(j, "path"), "/api/x");
    cr_assert_eq(json_integer_value(json_object_get(j, "status")), 200);
    json_decref(j);
}

Test(log, only_null_fields_still_valid)
{
    pa_info("x", PA_S("a", NULL));
    json_t *j = only_line();
    cr_assert_eq(json_object_size(j), 4, "expected ts, level, service, msg only");
    json_decref(j);
}

Test(log, no_fields_via_log_kv)
{
    pa_log_kv(PA_LOG_ERROR, "bare", NULL, 0);
    json_t *j = only_line();
    cr_assert_str_eq(str(j, "msg"), "bare");
    cr_assert_str_eq(str(j, "level"), "error");
    json_decref(j);
}

Test(log, escaping_of_msg_keys_values_and_service)
{
    const char *msg = "quote \" backslash \\ newline \n tab \t cr \r bell \x07 esc \x1b";
    const char *val = "Zoë \"Müller\"\n{\"inner\":1}";
    pa_log_init("svc \"q\"\n", PA_LOG_DEBUG, log_fd);
    pa_info(msg, PA_S("we\"ird\nkey", val), PA_S("utf8", "ΣΟΦΙΑ 東京 😀"));
    json_t *j = only_line();
    cr_assert_str_eq(str(j, "msg"), msg);
    cr_assert_str_eq(str(j, "service"), "svc \"q\"\n");
    cr_assert_str_eq(str(j, "we\"ird\nkey"), val);
    cr_assert_str_eq(str(j, "utf8"), "ΣΟΦΙΑ 東京 😀");
    json_decref(j);
}

Test(log, long_line_is_one_line)
{
    size_t n = 20000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    pa_info("big", PA_S("payload", big), PA_I("after", 7));
    json_t *j = only_line();
    cr_assert_str_eq(str(j, "payload"), big);
    cr_assert_eq(json_integer_value(json_object_get(j, "after")), 7);
    json_decref(j);
    free(big);
}

Test(log, extreme_integers)
{
    pa_info("ints", PA_I("min", LLONG_MIN), PA_I("max", LLONG_MAX), PA_I("zero", 0));
    json_t *j = only_line();
    cr_assert_eq(json_integer_value(json_object_get(j, "min")), LLONG_MIN);
    cr_assert_eq(json_integer_value(json_object_get(j, "max")), LLONG_MAX);
    cr_assert_eq(json_integer_value(json_object_get(j, "zero")), 0);
    json_decref(j);
}

Test(log, non_finite_doubles_keep_the_line_valid_json)
{
    /* A latency computed as 0/0 or an overflow must not turn the line into invalid JSON
     * ("nan" and "inf" are not JSON). */
    pa_info("nonfinite", PA_F("nan", NAN), PA_F("inf", INFINITY), PA_F("ninf", -INFINITY),
            PA_I("after", 1));
    json_t *j = only_line();
    cr_assert_eq(json_integer_value(json_object_get(j, "after")), 1);
    json_decref(j);
}

typedef struct {
    int thread;
    int count;
} worker_arg_t;

static void *worker(void *p)
{
    worker_arg_t *a = p;
    char pad[300];
    memset(pad, 'a' + a->thread, sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < a->count; i++)
        pa_info("concurrent", PA_I("thread", a->thread), PA_I("i", i), PA_S("pad", pad));
    return NULL;
}

Test(log, concurrent_threads_never_interleave_lines)
{
    enum { THREADS = 8, PER = 500 };
    pthread_t t[THREADS];
    worker_arg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg_t){i, PER};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    json_t *arr = lines(); /* asserts every line is a whole JSON object */
    cr_assert_eq(json_array_size(arr), THREADS * PER);
    static unsigned char seen[THREADS][PER];
    memset(seen, 0, sizeof seen);
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l) {
        long long th = json_integer_value(json_object_get(l, "thread"));
        long long k = json_integer_value(json_object_get(l, "i"));
        cr_assert(th >= 0 && th < THREADS && k >= 0 && k < PER);
        cr_assert_eq(strlen(str(l, "pad")), 299);
        cr_assert_eq(seen[th][k], 0, "line thread=%lld i=%lld written twice", th, k);
        seen[th][k] = 1;
    }
    json_decref(arr);
}
