/* Graceful shutdown: SIGTERM makes the gateway exit with status 0, and a request in flight when
 * the signal arrives (a large import, caught while still uploading or while being processed)
 * still completes, with every row stored. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(sigterm, .init = setup, .fini = hr_cleanup, .timeout = 60);

static void assert_clean_exit(hr_gateway_t *g, int timeout_ms)
{
    int exited = hr_gateway_wait_exit(g, timeout_ms);
    if (!exited) {
        hr_gateway_stop(g, SIGKILL, 1000);
        cr_assert_fail("still running %d ms after SIGTERM; output:\n%s", timeout_ms,
                       hr_gateway_output(g));
    }
    cr_assert(WIFEXITED(g->status) && WEXITSTATUS(g->status) == 0,
              "SIGTERM: expected exit status 0, got %s%d; output tail:\n%.4000s",
              WIFSIGNALED(g->status) ? "signal " : "exit ",
              WIFSIGNALED(g->status) ? WTERMSIG(g->status) : WEXITSTATUS(g->status),
              hr_gateway_output(g) +
                  (strlen(hr_gateway_output(g)) > 4000 ? strlen(hr_gateway_output(g)) - 4000 : 0));
}

Test(sigterm, idle_gateway_exits_0)
{
    hr_must_create(gw, "/api/prospects", "{\"name\":\"A\",\"company\":\"B\"}");
    uint64_t t0 = hr_now_ms();
    kill(gw->pid, SIGTERM);
    assert_clean_exit(gw, 10000);
    uint64_t dt = hr_now_ms() - t0;
    cr_assert_lt(dt, 5000, "an idle gateway took %llu ms to stop", (unsigned long long)dt);
    hr_resp_t *r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 0, "still answering after exit: %s", hr_describe(r));
}

Test(sigterm, keep_alive_connection_does_not_block_exit)
{
    /* an idle keep-alive client must not hold the gateway up until the shutdown timeout */
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, hr_fmt("%s/api/health", gw->url));
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, (curl_write_callback)NULL);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    uint64_t t0 = hr_now_ms();
    kill(gw->pid, SIGTERM);
    int exited = hr_gateway_wait_exit(gw, 8000);
    uint64_t dt = hr_now_ms() - t0;
    curl_easy_cleanup(c);
    fclose(devnull);
    cr_assert(exited, "not stopped within 8 s with an idle keep-alive connection open");
    assert_clean_exit(gw, 0);
    cr_assert_lt(dt, 5000, "took %llu ms with an idle keep-alive connection open",
                 (unsigned long long)dt);
}

/* ---- a large import in flight ------------------------------------------------------------- */

#define ROWS 20000

typedef struct {
    const char *body;
    size_t len, off;
    size_t pause_at; /* stop sending here until released (0: never) */
    int paused, released, sent_all;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long status;
    char *resp;
    size_t resp_len;
    CURLcode rc;
    const char *url;
} upload_t;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload_t *u = ud;
    size_t room = size * nitems;
    pthread_mutex_lock(&u->mu);
    if (u->pause_at && u->off >= u->pause_at && !u->released) {
        u->paused = 1;
        pthread_cond_broadcast(&u->cv);
        while (!u->released) pthread_cond_wait(&u->cv, &u->mu);
    }
    pthread_mutex_unlock(&u->mu);
    size_t limit = (u->pause_at && !u->released) ? u->pause_at : u->len;
    size_t n = limit - u->off < room ? limit - u->off : room;
    memcpy(buf, u->body + u->off, n);
    u->off += n;
    if (u->off == u->len) {
        pthread_mutex_lock(&u->mu);
        u->sent_all = 1;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
    }
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    upload_t *u = ud;
    size_t n = size * nmemb;
    u->resp = realloc(u->resp, u->resp_len + n + 1);
    memcpy(u->resp + u->resp_len, data, n);
    u->resp_len += n;
    u->resp[u->resp_len] = '\0';
    return n;
}

static void *do_upload(void *p)
{
    upload_t *u = p;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, u->url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, u);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 45000L);
    u->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &u->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    pthread_mutex_lock(&u->mu);
    u->sent_all = 1; /* also on failure, so waiters wake */
    u->paused = 1;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

static const char *big_import(void)
{
    size_t cap = (size_t)ROWS * 160 + 1, len = 0;
    char *s = malloc(cap);
    for (int i = 0; i < ROWS; i++)
        len += (size_t)snprintf(
            s + len, cap - len,
            "{\"id\":\"p-t%05d\",\"name\":\"Person %d\",\"company\":\"Company %d\","
            "\"email\":\"person%d@sigterm.example\",\"industry\":\"Logistics\"}\n",
            i, i, i % 50, i);
    const char *out = hr_fmt("%s", s);
    free(s);
    return out;
}

static void check_import_result(upload_t *u)
{
    cr_assert_eq(u->rc, CURLE_OK, "the in-flight import failed: %s (status %ld, body %s)",
                 curl_easy_strerror(u->rc), u->status, u->resp ? u->resp : "");
    cr_assert_eq(u->status, 200, "in-flight import: %ld %s", u->status, u->resp ? u->resp : "");
    json_t *j = hr_jparse(u->resp);
    cr_assert_eq(hr_jint(j, "imported", -1), ROWS, "not every row imported: %s", u->resp);
    cr_assert_eq(json_array_size(json_object_get(j, "rejected")), 0, "%s", u->resp);
}

/* After the old gateway is gone: a new one on the same Redis serves every row. */
static void check_rows_persisted(void)
{
    hr_gateway_t *g2 = hr_gateway_start(rd, NULL);
    hr_resp_t *r = hr_get(g2, "/api/prospects?limit=1");
    cr_assert_eq(r->status, 200);
    const char *t = hr_header(r, "X-Total-Count");
    cr_assert(t && atoi(t) == ROWS, "a new gateway sees %s of %d imported rows", t ? t : "-", ROWS);
    r = hr_get(g2, "/api/prospects/p-t19999");
    cr_assert_eq(r->status, 200, "the last row: %s", hr_describe(r));
}

Test(sigterm, import_caught_mid_upload_completes)
{
    upload_t u = {0};
    pthread_mutex_init(&u.mu, NULL);
    pthread_cond_init(&u.cv, NULL);
    u.body = big_import();
    u.len = strlen(u.body);
    u.pause_at = u.len / 2;
    u.url = hr_fmt("%s/api/prospects/import", gw->url);
    pthread_t th;
    pthread_create(&th, NULL, do_upload, &u);
    pthread_mutex_lock(&u.mu);
    while (!u.paused) pthread_cond_wait(&u.cv, &u.mu);
    pthread_mutex_unlock(&u.mu);

    /* half the body is on its way: stop the gateway, then send the rest */
    kill(gw->pid, SIGTERM);
    hr_sleep_ms(300);
    pthread_mutex_lock(&u.mu);
    u.released = 1;
    pthread_cond_broadcast(&u.cv);
    pthread_mutex_unlock(&u.mu);
    pthread_join(th, NULL);
    const char *resp = u.resp ? hr_fmt("%s", u.resp) : "";
    free(u.resp);
    u.resp = (char *)resp;
    check_import_result(&u);
    assert_clean_exit(gw, 15000);
    check_rows_persisted();
}

Test(sigterm, import_being_processed_completes)
{
    upload_t u = {0};
    pthread_mutex_init(&u.mu, NULL);
    pthread_cond_init(&u.cv, NULL);
    u.body = big_import();
    u.len = strlen(u.body);
    u.url = hr_fmt("%s/api/prospects/import", gw->url);
    pthread_t th;
    pthread_create(&th, NULL, do_upload, &u);
    pthread_mutex_lock(&u.mu);
    while (!u.sent_all) pthread_cond_wait(&u.cv, &u.mu);
    pthread_mutex_unlock(&u.mu);
    /* the whole body is sent; the gateway is parsing and storing it */
    hr_sleep_ms(20);
    kill(gw->pid, SIGTERM);
    pthread_join(th, NULL);
    const char *resp = u.resp ? hr_fmt("%s", u.resp) : "";
    free(u.resp);
    u.resp = (char *)resp;
    check_import_result(&u);
    assert_clean_exit(gw, 15000);
    check_rows_persisted();
}
