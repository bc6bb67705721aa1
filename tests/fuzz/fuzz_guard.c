/* libFuzzer target for the SSRF guard (common/pa_guard.c).
 *
 * Input: a URL (any bytes; cut at the first NUL). Checks, with ALLOWED_PRIVATE_TARGETS
 * "127.0.0.1:18400-18499,[::1]:18400": an allowed URL has an origin "http(s)://host:port" that
 * is allowed again as itself (the origin is canonical); its host is a name or a public address,
 * or a listed address and port; a refused URL has a reason and no origin. The first 28 bytes
 * are also read as an IPv6 socket address: pa_guard_addr allows it only when pa_addr classes it
 * public or it is the listed [::1]:18400 (or v4-mapped 127.0.0.1:18400-18499). Nothing reads
 * outside the input (ASan) and nothing leaks (LSan).
 *
 * Sources: this file, common/pa_guard.c, common/pa_addr.c (and pa_buf, pa_mem, libcurl, ICU). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_addr.h"
#include "pa_guard.h"

static pa_guard_t *guard; /* made once; reachable at exit, so not a leak */

static void fail(const char *what, const char *url)
{
    fprintf(stderr, "fuzz_guard: %s: %s\n", what, url);
    abort();
}

static void check_origin(const char *url, const char *origin)
{
    char again[1200], reason[512];
    if (strncmp(origin, "http://", 7) != 0 && strncmp(origin, "https://", 8) != 0)
        fail("an origin that is not http(s)://", origin);
    if (pa_guard_url(guard, origin, again, sizeof again, reason, sizeof reason) != 0)
        fail("the origin of an allowed URL is refused", url);
    if (strcmp(again, origin) != 0) fail("the origin is not canonical", url);
    CURLU *h = curl_url();
    char *host = NULL, *port = NULL;
    if (!h || curl_url_set(h, CURLUPART_URL, origin, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        fail("curl cannot read the origin", origin);
    pa_addr_class_t c = pa_addr_classify_host(host, strlen(host), NULL);
    long p = strtol(port, NULL, 10);
    int listed = (strcmp(host, "127.0.0.1") == 0 && p >= 18400 && p <= 18499) ||
                 (strcmp(host, "[::ffff:127.0.0.1]") == 0 && p >= 18400 && p <= 18499) ||
                 (strcmp(host, "[::1]") == 0 && p == 18400);
    if (c != PA_ADDR_PUBLIC && !listed) fail("an internal host allowed", url);
    if (!listed && p != 80 && p != 443 && p != 8080 && p != 8443) fail("a port not allowed", url);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
}

static void check_addr(const uint8_t *data, size_t size)
{
    struct sockaddr_in6 s6;
    if (size < 18) return;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    memcpy(&s6.sin6_port, data, 2);
    memcpy(&s6.sin6_addr, data + 2, 16);
    char reason[256];
    if (pa_guard_addr(guard, (struct sockaddr *)&s6, sizeof s6, reason, sizeof reason) != 0) return;
    unsigned port = ntohs(s6.sin6_port);
    static const uint8_t loop6[16] = {[15] = 1};
    static const uint8_t mapped127[13] = {[10] = 0xff, [11] = 0xff, [12] = 127};
    int listed = (memcmp(s6.sin6_addr.s6_addr, loop6, 16) == 0 && port == 18400) ||
                 (memcmp(s6.sin6_addr.s6_addr, mapped127, 13) == 0 &&
                  s6.sin6_addr.s6_addr[13] == 0 && s6.sin6_addr.s6_addr[14] == 0 &&
                  s6.sin6_addr.s6_addr[15] == 1 && port >= 18400 && port <= 18499);
    if (pa_addr_classify_v6(s6.sin6_addr.s6_addr) != PA_ADDR_PUBLIC && !listed)
        fail("an internal address allowed", "(sockaddr)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!guard) {
        char err[256];
        guard = pa_guard_new(NULL, "127.0.0.1:18400-18499,[::1]:18400", err, sizeof err);
        if (!guard) fail("pa_guard_new", err);
    }
    check_addr(data, size);
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    char origin[1200] = "x", reason[512] = "";
    if (pa_guard_url(guard, url, origin, sizeof origin, reason, sizeof reason) == 0) {
        check_origin(url, origin);
    } else if (!reason[0] || origin[0]) {
        fail("a refusal without a reason, or with an origin", url);
    }
    free(url);
    return 0;
}
