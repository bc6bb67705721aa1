/* The Host rule of the HTTP edge; see gw_host.h. */
#include "gw_host.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

gw_host_kind_t gw_host_kind(const char *h, size_t n)
{
    size_t name = n;
    if (n && h[0] == '[') {
        const char *e = memchr(h, ']', n);
        if (!e) return GW_HOST_BAD;
        name = (size_t)(e - h) + 1;
    } else {
        const char *c = memchr(h, ':', n);
        if (c) name = (size_t)(c - h);
    }
    if (name == 0) return GW_HOST_BAD;
    if (name < n) { /* a port */
        if (h[name] != ':' || n - name - 1 < 1 || n - name - 1 > 5) return GW_HOST_BAD;
        for (size_t i = name + 1; i < n; i++)
            if (h[i] < '0' || h[i] > '9') return GW_HOST_BAD;
    }
    for (size_t i = 0; i < name; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c == 0x7f || c == '@' || c == '/' || c == '\\') return GW_HOST_BAD;
    }
    if (name == 9 && strncasecmp(h, "localhost", 9) == 0) return GW_HOST_LOOPBACK;
    if (name == 5 && memcmp(h, "[::1]", 5) == 0) return GW_HOST_LOOPBACK;
    char v4[16];
    if (name >= sizeof v4) return GW_HOST_OTHER;
    memcpy(v4, h, name);
    v4[name] = '\0';
    struct in_addr a;
    /* inet_pton takes the four-part dotted decimal form only (no 0x7f000001, no 127.1) */
    if (inet_pton(AF_INET, v4, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127) return GW_HOST_LOOPBACK;
    return GW_HOST_OTHER;
}
