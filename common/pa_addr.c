/* Internal-address classifiers (see pa_addr.h). */
#include "pa_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

const char *pa_addr_class_name(pa_addr_class_t c)
{
    switch (c) {
    case PA_ADDR_PUBLIC: return "public";
    case PA_ADDR_LOOPBACK: return "loopback";
    case PA_ADDR_PRIVATE: return "private";
    case PA_ADDR_LINK_LOCAL: return "link-local";
    case PA_ADDR_CGNAT: return "CGNAT";
    case PA_ADDR_METADATA: return "metadata";
    case PA_ADDR_UNSPECIFIED: return "unspecified";
    case PA_ADDR_RESERVED: return "reserved";
    case PA_ADDR_INVALID: break;
    }
    return "invalid";
}

int pa_addr_allowed(pa_addr_class_t c, int allow_loopback)
{
    return c == PA_ADDR_PUBLIC || (allow_loopback && c == PA_ADDR_LOOPBACK);
}

/* a in the prefix p/len (host order) */
static int in4(uint32_t a, uint32_t p, int len)
{
    uint32_t mask = len ? 0xffffffffu << (32 - len) : 0;
    return (a & mask) == (p & mask);
}

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

pa_addr_class_t pa_addr_classify_v4(uint32_t a)
{
    if (in4(a, V4(0, 0, 0, 0), 8)) return PA_ADDR_UNSPECIFIED; /* "this network"; 0.0.0.0 */
    if (in4(a, V4(127, 0, 0, 0), 8)) return PA_ADDR_LOOPBACK;
    if (a == V4(169, 254, 169, 254) || a == V4(100, 100, 100, 200)) return PA_ADDR_METADATA;
    if (in4(a, V4(10, 0, 0, 0), 8) || in4(a, V4(172, 16, 0, 0), 12) ||
        in4(a, V4(192, 168, 0, 0), 16))
        return PA_ADDR_PRIVATE;
    if (in4(a, V4(169, 254, 0, 0), 16)) return PA_ADDR_LINK_LOCAL;
    if (in4(a, V4(100, 64, 0, 0), 10)) return PA_ADDR_CGNAT;
    if (in4(a, V4(192, 0, 0, 0), 24) ||    /* IETF protocol assignments */
        in4(a, V4(192, 0, 2, 0), 24) ||    /* documentation */
        in4(a, V4(198, 51, 100, 0), 24) || /* documentation */
        in4(a, V4(203, 0, 113, 0), 24) ||  /* documentation */
        in4(a, V4(192, 88, 99, 0), 24) ||  /* 6to4 relays */
        in4(a, V4(198, 18, 0, 0), 15) ||   /* benchmarking */
        in4(a, V4(224, 0, 0, 0), 4) ||     /* multicast */
        in4(a, V4(240, 0, 0, 0), 4))       /* reserved, and 255.255.255.255 */
        return PA_ADDR_RESERVED;
    return PA_ADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static int zeros(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

pa_addr_class_t pa_addr_classify_v6(const uint8_t a[16])
{
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const uint8_t ec2_metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54};
    if (zeros(a, 15) && a[15] == 0) return PA_ADDR_UNSPECIFIED;
    if (zeros(a, 15) && a[15] == 1) return PA_ADDR_LOOPBACK;
    if (zeros(a, 10) && a[10] == 0xff && a[11] == 0xff) /* v4-mapped ::ffff:a.b.c.d */
        return pa_addr_classify_v4(v4_at(a + 12));
    if (zeros(a, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 &&
        a[11] == 0) /* ::ffff:0:a.b.c.d */
        return pa_addr_classify_v4(v4_at(a + 12));
    if (zeros(a, 12)) return pa_addr_classify_v4(v4_at(a + 12)); /* v4-compatible ::a.b.c.d */
    if (memcmp(a, nat64, 12) == 0) return pa_addr_classify_v4(v4_at(a + 12)); /* 64:ff9b::/96 */
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
        return PA_ADDR_PRIVATE; /* 64:ff9b:1::/48, local-use NAT64 */
    if (a[0] == 0x20 && a[1] == 0x02) return pa_addr_classify_v4(v4_at(a + 2)); /* 6to4 */
    if (memcmp(a, ec2_metadata, 16) == 0) return PA_ADDR_METADATA;
    if ((a[0] & 0xfe) == 0xfc) return PA_ADDR_PRIVATE; /* fc00::/7, unique local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return PA_ADDR_LINK_LOCAL; /* fe80::/10 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return PA_ADDR_PRIVATE; /* fec0::/10, site-local */
    if (a[0] == 0xff) return PA_ADDR_RESERVED;                         /* multicast */
    if (a[0] == 0x01 && a[1] == 0x00 && zeros(a + 2, 6)) return PA_ADDR_RESERVED; /* 100::/64 */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00)
        return PA_ADDR_RESERVED; /* 2001::/32, Teredo */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return PA_ADDR_RESERVED; /* 2001:db8::/32, documentation */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02 && a[4] == 0 && a[5] == 0)
        return PA_ADDR_RESERVED; /* 2001:2::/48, benchmarking */
    if (a[0] == 0x3f && (a[1] & 0xf0) == 0xf0)
        return PA_ADDR_RESERVED;                        /* 3fff::/20, documentation */
    if ((a[0] & 0xe0) != 0x20) return PA_ADDR_RESERVED; /* outside 2000::/3, the global unicast */
    return PA_ADDR_PUBLIC;
}

pa_addr_class_t pa_addr_classify_sockaddr(const struct sockaddr *sa, socklen_t len)
{
    if (!sa) return PA_ADDR_INVALID;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return pa_addr_classify_v4(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        return pa_addr_classify_v6(s6->sin6_addr.s6_addr);
    }
    return PA_ADDR_INVALID;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One part of an IPv4 address: decimal, octal (leading 0) or hex (0x); -1 when it is not one
 * or passes 2^32. An empty hex part ("0x") is 0, as browsers read it. */
static int64_t v4_part(const char *s, size_t n)
{
    if (n == 0) return -1;
    int base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s += 2, n -= 2;
    else if (n >= 2 && s[0] == '0') base = 8, s++, n--;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = base == 16 ? hex_value(s[i]) : is_digit(s[i]) ? s[i] - '0' : -1;
        if (d < 0 || d >= base) return -1;
        v = v * base + d;
        if (v > 0xffffffffLL) return -1;
    }
    return v;
}

/* Does the last label look like a number (the WHATWG URL standard's "ends in a number")? */
static int ends_in_number(const char *s, size_t n)
{
    size_t start = n;
    while (start > 0 && s[start - 1] != '.') start--;
    const char *l = s + start;
    size_t ln = n - start;
    if (ln == 0) return 0;
    size_t i = 0;
    for (; i < ln && is_digit(l[i]); i++) {
    }
    if (i == ln) return 1;
    if (ln >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
        for (i = 2; i < ln && hex_value(l[i]) >= 0; i++) {
        }
        return i == ln;
    }
    return 0;
}

int pa_addr_parse_v4(const char *s, size_t n, uint32_t *out)
{
    if (n && s[n - 1] == '.') n--; /* one trailing dot, as in a fully qualified name */
    if (!ends_in_number(s, n)) return 0;
    int64_t part[4];
    size_t np = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        if (np == 4) return -1;
        part[np] = v4_part(s + start, i - start);
        if (part[np] < 0) return -1;
        np++;
        start = i + 1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < np; i++) {
        if (part[i] > 255) return -1;
        v |= (uint64_t)part[i] << (24 - 8 * i);
    }
    uint64_t last = (uint64_t)part[np - 1];
    if (last >= ((uint64_t)1 << (8 * (5 - np)))) return -1;
    *out = (uint32_t)(v | last);
    return 1;
}

/* s[0..n) equals name, or ends with "." name (ASCII case-insensitive) */
static int name_is(const char *s, size_t n, const char *name, int subdomains)
{
    size_t m = strlen(name);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return 0;
    }
    if (n == m) return 1;
    return subdomains && s[n - m - 1] == '.';
}

static pa_addr_class_t classify_v6_literal(const char *s, size_t n, char canon[48])
{
    /* "[addr]" or "[addr%zone]" (a zone written %25 in a URL) */
    if (n < 3 || s[n - 1] != ']') return PA_ADDR_INVALID;
    s++, n -= 2;
    const char *pct = memchr(s, '%', n);
    size_t an = pct ? (size_t)(pct - s) : n;
    char buf[INET6_ADDRSTRLEN];
    if (an == 0 || an >= sizeof buf) return PA_ADDR_INVALID;
    memcpy(buf, s, an);
    buf[an] = '\0';
    struct in6_addr a;
    if (inet_pton(AF_INET6, buf, &a) != 1) return PA_ADDR_INVALID;
    pa_addr_class_t c = pa_addr_classify_v6(a.s6_addr);
    if (pct) /* a zone names an interface: only link-local addresses have one */
        return c == PA_ADDR_LINK_LOCAL ? c : PA_ADDR_INVALID;
    if (canon && inet_ntop(AF_INET6, &a, buf, sizeof buf)) snprintf(canon, 48, "[%s]", buf);
    return c;
}

pa_addr_class_t pa_addr_classify_host(const char *s, size_t n, char canon[48])
{
    if (canon) canon[0] = '\0';
    if (!s || n == 0) return PA_ADDR_INVALID;
    if (s[0] == '[') return classify_v6_literal(s, n, canon);
    uint32_t v4;
    int rc = pa_addr_parse_v4(s, n, &v4);
    if (rc < 0) return PA_ADDR_INVALID;
    if (rc > 0) {
        if (canon)
            snprintf(canon, 48, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255,
                     v4 & 255);
        return pa_addr_classify_v4(v4);
    }
    if (s[n - 1] == '.') n--;
    if (n == 0 || memchr(s, '\0', n)) return PA_ADDR_INVALID;
    if (name_is(s, n, "localhost", 1)) return PA_ADDR_LOOPBACK;
    if (name_is(s, n, "metadata.google.internal", 0) || name_is(s, n, "metadata", 0))
        return PA_ADDR_METADATA;
    if (name_is(s, n, "internal", 1) || name_is(s, n, "home.arpa", 1)) return PA_ADDR_PRIVATE;
    if (name_is(s, n, "local", 1)) return PA_ADDR_LINK_LOCAL;
    /* a single label is looked up through the resolver's local search domains */
    if (!memchr(s, '.', n)) return PA_ADDR_PRIVATE;
    return PA_ADDR_PUBLIC;
}
