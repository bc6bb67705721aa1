/* Raw HTTP over a socket for the tests of the HTTP edge; see harness.h. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

int hr_raw_connect(int port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (src) {
        /* the port is chosen at connect, per destination: thousands of connections from one
         * source address do not run out of ports held by earlier tests' TIME_WAIT */
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int hr_raw_send(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static void raw_free(void *p)
{
    hr_raw_t *r = p;
    json_decref(r->json_);
    free(r->data);
    free(r);
}

/* raw responses are kept in a list of their own, freed when the test's process exits */
static hr_raw_t **kept;
static size_t nkept;

static void free_kept(void)
{
    for (size_t i = 0; i < nkept; i++) raw_free(kept[i]);
    free(kept);
    kept = NULL;
    nkept = 0;
}

static hr_raw_t *keep(hr_raw_t *r)
{
    if (!kept) atexit(free_kept);
    hr_raw_t **k = realloc(kept, (nkept + 1) * sizeof *k);
    if (!k) abort();
    kept = k;
    kept[nkept++] = r;
    return r;
}

hr_raw_t *hr_raw_read(int fd, int idle_ms)
{
    hr_raw_t *r = calloc(1, sizeof *r);
    if (!r) abort();
    size_t cap = 4096;
    r->data = malloc(cap);
    if (!r->data) abort();
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int k = poll(&p, 1, idle_ms);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break; /* nothing for idle_ms */
        if (r->len + 4096 + 1 > cap) {
            cap *= 2;
            r->data = realloc(r->data, cap);
            if (!r->data) abort();
        }
        ssize_t n = recv(fd, r->data + r->len, cap - r->len - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            r->closed = 1;
            break;
        }
        r->len += (size_t)n;
    }
    r->data[r->len] = '\0';
    if (r->len > 12 && strncmp(r->data, "HTTP/1.", 7) == 0) r->status = atol(r->data + 9);
    const char *e = strstr(r->data, "\r\n\r\n");
    r->body = e ? e + 4 : r->data + r->len;
    return keep(r);
}

hr_raw_t *hr_raw(const hr_gateway_t *g, const void *req, size_t n)
{
    int fd = hr_raw_connect(g->port, NULL);
    cr_assert_geq(fd, 0, "cannot connect to the gateway: %s", strerror(errno));
    hr_raw_send(fd, req, n);
    hr_raw_t *r = hr_raw_read(fd, 1000);
    close(fd);
    return r;
}

const char *hr_raw_header(const hr_raw_t *r, const char *name)
{
    size_t nl = strlen(name);
    const char *p = strstr(r->data, "\r\n");
    while (p && p < r->body - 2) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ') v++;
            return hr_fmt("%.*s", (int)(e ? e - v : (long)strlen(v)), v);
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

int hr_raw_responses(const hr_raw_t *r)
{
    int n = 0;
    for (const char *p = r->data; (p = strstr(p, "HTTP/1.1 ")) != NULL; p += 9)
        if (p == r->data || (p >= r->data + 2 && p[-1] == '\n')) n++;
    return n;
}

json_t *hr_raw_json(hr_raw_t *r)
{
    if (!r->json_) {
        const char *cl = hr_raw_header(r, "Content-Length");
        size_t n = cl ? (size_t)atol(cl) : strlen(r->body);
        if (n > (size_t)(r->data + r->len - r->body)) n = (size_t)(r->data + r->len - r->body);
        r->json_ = json_loadb(r->body, n, 0, NULL);
    }
    return r->json_;
}

void hr_raw_assert_problem(hr_raw_t *r, long status, const char *slug)
{
    cr_assert_eq(r->status, status, "expected %ld %s, got: %.400s", status, slug, r->data);
    const char *ct = hr_raw_header(r, "Content-Type");
    cr_assert(ct && strcmp(ct, "application/problem+json") == 0, "Content-Type %s: %.400s",
              ct ? ct : "(none)", r->data);
    json_t *j = hr_raw_json(r);
    cr_assert(json_is_object(j), "the problem is not valid JSON: %.400s", r->data);
    const char *type = hr_jstr(j, "type");
    const char *want = hr_fmt("/problems/%s", slug);
    cr_assert(type && strlen(type) >= strlen(want) &&
                  strcmp(type + strlen(type) - strlen(want), want) == 0,
              "type %s, expected %s", type ? type : "(none)", slug);
    cr_assert_eq(hr_jint(j, "status", 0), status, "%.400s", r->data);
    cr_assert_not_null(hr_jstr(j, "title"));
    cr_assert_not_null(hr_jstr(j, "detail"));
}
