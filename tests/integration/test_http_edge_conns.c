/* Slow, idle and many connections against a real gateway (issue 9, "And:"): a header or body
 * that stops arriving or trickles is cut off after HTTP_HEADER_TIMEOUT_MS / HTTP_BODY_TIMEOUT_MS
 * (short here so that the tests stay fast; the bound asserted is many times longer), thousands
 * of idle connections from one address (or from many) leave /api/health answering, and request
 * bodies held at once are capped by HTTP_MAX_BODY_MEMORY (503 with Retry-After). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup_fast(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"HTTP_HEADER_TIMEOUT_MS=400", "HTTP_BODY_TIMEOUT_MS=400", NULL});
}

static void setup(void)
{
    rd = hr_redis_start(NULL);
}

TestSuite(http_slow, .init = setup_fast, .fini = hr_cleanup, .timeout = 60);
TestSuite(http_conns, .init = setup, .fini = hr_cleanup, .timeout = 120);

/* Sends one byte of what every step_ms until the server closes; the ms it took, or -1 when it
 * was still open after limit_ms. */
static long trickle(int fd, const char *what, unsigned step_ms, unsigned limit_ms)
{
    uint64_t t0 = hr_now_ms();
    size_t n = strlen(what);
    for (size_t i = 0; hr_now_ms() - t0 < limit_ms; i++) {
        if (hr_raw_send(fd, what + i % n, 1) < 0) return (long)(hr_now_ms() - t0);
        hr_raw_t *r = hr_raw_read(fd, (int)step_ms);
        if (r->closed) return (long)(hr_now_ms() - t0);
    }
    return -1;
}

Test(http_slow, a_trickling_header_is_cut_off)
{
    int fd = hr_raw_connect(gw->port, NULL);
    cr_assert_geq(fd, 0);
    const char *start = "GET /api/health HTTP/1.1\r\nHost: localhost\r\n";
    hr_raw_send(fd, start, strlen(start));
    /* one header byte every 100 ms: MHD's idle timeout never fires, the header deadline does */
    long ms = trickle(fd, "X-Slow: aaaaaaaaaaaaaaaaaaaa", 100, 8000);
    close(fd);
    cr_assert_geq(ms, 0, "a header trickled for 8 s and the connection is still open");
}

Test(http_slow, a_trickling_body_is_cut_off)
{
    int fd = hr_raw_connect(gw->port, NULL);
    cr_assert_geq(fd, 0);
    const char *head = "POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                       "application/json\r\nContent-Length: 100000\r\n\r\n";
    hr_raw_send(fd, head, strlen(head));
    long ms = trickle(fd, "                ", 100, 8000);
    close(fd);
    cr_assert_geq(ms, 0, "a body trickled for 8 s and the connection is still open");
}

Test(http_slow, an_idle_connection_is_closed)
{
    int fd = hr_raw_connect(gw->port, NULL);
    cr_assert_geq(fd, 0);
    hr_raw_t *r = hr_raw_read(fd, 8000);
    close(fd);
    cr_assert(r->closed, "a connection that sent nothing for 8 s is still open");
    /* and one kept alive after a request */
    fd = hr_raw_connect(gw->port, NULL);
    const char *req = "GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    hr_raw_send(fd, req, strlen(req));
    r = hr_raw_read(fd, 8000);
    close(fd);
    cr_assert_eq(r->status, 200, "%.300s", r->data);
    cr_assert(r->closed, "an idle kept-alive connection is still open after 8 s");
    /* counted for operators */
    hr_resp_t *m = hr_get(gw, "/metrics");
    const char *line = strstr(m->body, "pa_http_connections_closed_total{reason=\"timeout\"} ");
    cr_assert(line && atol(strchr(line, '}') + 2) >= 2, "timeouts not counted: %s",
              line ? line : "(no metric)");
}

Test(http_slow, a_body_that_keeps_coming_is_read)
{
    /* 64 KiB sent at once is far above HTTP_BODY_MIN_RATE: served, not cut off */
    size_t n = 65536;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    memcpy(body, "{\"name\":\"A\",\"company\":\"B\"}", 26);
    body[n] = '\0';
    hr_resp_t *r = hr_post(gw, "/api/prospects", body);
    free(body);
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
}

/* Opens n idle connections from the addresses 127.0.0.<first..first+naddr-1> in turn; returns
 * how many connects succeeded. fds gets them (closed by the caller). */
static size_t open_idle(int *fds, size_t n, int first, int naddr)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        const char *src = hr_fmt("127.0.0.%d", first + (int)(i % (size_t)naddr));
        fds[i] = hr_raw_connect(gw->port, src);
        if (fds[i] >= 0) ok++;
    }
    return ok;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
}

static void expect_health_answers(const char *what)
{
    hr_http_timeout_ms = 5000;
    hr_resp_t *r = hr_get(gw, "/api/health");
    cr_assert_eq(r->status, 200, "%s: /api/health from 127.0.0.1: %s", what, hr_describe(r));
}

#define NIDLE 4500 /* more than the connection bound of the gateway before issue 9 (4096) */

Test(http_conns, thousands_of_idle_connections_from_one_address_leave_health_answering)
{
    gw = hr_gateway_start(rd, NULL);
    static int fds[NIDLE];
    size_t ok = open_idle(fds, NIDLE, 2, 1);
    cr_assert_gt(ok, 0, "no connection from 127.0.0.2: %s", strerror(errno));
    hr_sleep_ms(500); /* let the gateway accept them all */
    expect_health_answers("4500 idle connections from 127.0.0.2");
    expect_health_answers("again");
    close_all(fds, NIDLE);
}

Test(http_conns, idle_connections_from_many_addresses_leave_health_answering)
{
    gw = hr_gateway_start(
        rd, (const char *[]){"HTTP_MAX_CONNECTIONS=256", "HTTP_MAX_CONNECTIONS_PER_IP=64", NULL});
    static int fds[NIDLE];
    open_idle(fds, NIDLE, 2, 30); /* 30 addresses x 150 */
    hr_sleep_ms(500);
    expect_health_answers("4500 idle connections from 30 addresses");
    expect_health_answers("again");
    close_all(fds, NIDLE);
}

Test(http_conns, request_bodies_in_memory_are_capped_with_503_and_retry_after)
{
    gw = hr_gateway_start(rd, (const char *[]){"HTTP_MAX_BODY_MEMORY=64k", NULL});
    /* a request that declared 60,000 bytes and sent half holds them */
    int fd = hr_raw_connect(gw->port, NULL);
    cr_assert_geq(fd, 0);
    const char *head = "POST /api/prospects HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                       "application/json\r\nContent-Length: 60000\r\n\r\n";
    hr_raw_send(fd, head, strlen(head));
    static char spaces[30000];
    memset(spaces, ' ', sizeof spaces);
    hr_raw_send(fd, spaces, sizeof spaces);
    hr_raw_t *early = hr_raw_read(fd, 200);
    cr_assert_eq(early->len, 0, "the held request was answered: %.300s", early->data);
    /* another 10,000 bytes would pass 64 KiB */
    char *body = malloc(10001);
    memset(body, ' ', 10000);
    memcpy(body, "{\"name\":\"A\",\"company\":\"B\"}", 26);
    body[10000] = '\0';
    hr_resp_t *r = hr_post(gw, "/api/prospects", body);
    cr_assert_eq(r->status, 503, "a body past HTTP_MAX_BODY_MEMORY: %s", hr_describe(r));
    hr_assert_problem(r, 503, "unavailable", NULL);
    const char *ra = hr_header(r, "Retry-After");
    cr_assert(ra && strspn(ra, "0123456789") == strlen(ra), "Retry-After: %s", ra ? ra : "-");
    /* chunked (no declared length) is counted as it arrives */
    r = hr_req(gw, "POST", "/api/prospects", (const char *[]){"Transfer-Encoding: chunked", NULL},
               body);
    cr_assert_eq(r->status, 503, "a chunked body past HTTP_MAX_BODY_MEMORY: %s", hr_describe(r));
    /* bodies without one in memory are not refused */
    cr_assert_eq(hr_get(gw, "/api/health")->status, 200);
    /* once the first request is gone, the memory is free again */
    close(fd);
    hr_sleep_ms(300);
    r = hr_post(gw, "/api/prospects", body);
    free(body);
    cr_assert_eq(r->status, 201, "after the held body is gone: %s", hr_describe(r));
}
