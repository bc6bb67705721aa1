/* libFuzzer target for pa_addr: the host classifier on any bytes (as a URL's host, and in
 * brackets as an IPv6 literal), the IPv4 parser, and the IPv6 and sockaddr classifiers on the
 * input's bytes. Checks: a class is always one of the enum's; a canonical form is NUL-terminated,
 * re-classifies to the same class and is its own canonical form; a host that parses as IPv4
 * classifies as that address does; pa_addr_allowed never lets anything but public (and
 * loopback when asked) through. And the gateway's target normaliser (gateway/gw_target.c) on the
 * input as a URL: a normalised URL normalises to itself, and its host always classifies (never
 * PA_ADDR_INVALID), so what the gateway checks is what the URL names.
 *
 * Sources: this file, common/pa_addr.c, gateway/gw_target.c, common/pa_buf.c; flags -Icommon
 * -Igateway. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_target.h"
#include "pa_addr.h"
#include "pa_buf.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_addr: check failed: %s: ", #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void host(const char *s, size_t n)
{
    char canon[48];
    memset(canon, 'x', sizeof canon);
    pa_addr_class_t c = pa_addr_classify_host(s, n, canon);
    CHECK(c >= PA_ADDR_PUBLIC && c <= PA_ADDR_INVALID, "class %d", (int)c);
    CHECK(memchr(canon, '\0', sizeof canon), "canon not terminated");
    CHECK(pa_addr_allowed(c, 0) == (c == PA_ADDR_PUBLIC), "allowed");
    if (canon[0]) {
        char again[48];
        pa_addr_class_t c2 = pa_addr_classify_host(canon, strlen(canon), again);
        CHECK(c2 == c, "%s: %s, its canonical form %s: %s", "input", pa_addr_class_name(c), canon,
              pa_addr_class_name(c2));
        CHECK(strcmp(again, canon) == 0, "canonical form %s is not its own (%s)", canon, again);
    }
    uint32_t a;
    int rc = pa_addr_parse_v4(s, n, &a);
    if (rc == 1) CHECK(c == pa_addr_classify_v4(a), "v4 %08x", a);
    if (rc == -1)
        CHECK(c == PA_ADDR_INVALID, "a numeric host that is no address: %s", pa_addr_class_name(c));
}

static void target(const char *s, size_t n)
{
    pa_buf_t a = PA_BUF_INIT, b = PA_BUF_INIT;
    char err[160];
    if (gw_target_normalize(s, n, &a, err, sizeof err) == 0) {
        CHECK(gw_target_normalize(a.data, a.len, &b, err, sizeof err) == 0, "%s: %s", a.data, err);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "%s -> %s", a.data, b.data);
        CHECK(gw_target_class(a.data) != PA_ADDR_INVALID, "%s: invalid host", a.data);
    }
    pa_buf_free(&a);
    pa_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    host((const char *)data, size);
    target((const char *)data, size);
    char *b = malloc(size + 2);
    if (!b) return 0;
    b[0] = '[';
    memcpy(b + 1, data, size);
    b[size + 1] = ']';
    host(b, size + 2);
    free(b);
    if (size >= 16) {
        pa_addr_class_t c = pa_addr_classify_v6(data);
        CHECK(c >= PA_ADDR_PUBLIC && c < PA_ADDR_INVALID, "v6 class %d", (int)c);
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
        memcpy(s6.sin6_addr.s6_addr, data, 16);
        CHECK(pa_addr_classify_sockaddr((struct sockaddr *)&s6, sizeof s6) == c, "sockaddr v6");
    }
    if (size >= 4) {
        uint32_t a = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
                     ((uint32_t)data[2] << 8) | data[3];
        struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(a)};
        CHECK(pa_addr_classify_sockaddr((struct sockaddr *)&s4, sizeof s4) ==
                  pa_addr_classify_v4(a),
              "sockaddr v4");
    }
    return 0;
}
