/* Campaign target normalisation. */
#include "gw_target.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pa_addr.h"

/* Longer than most functions on purpose: one pass over the URL's parts in order (scheme,
 * authority, host, port, path), each step reading where the last one stopped; split up, it would
 * hand half a dozen cursors from function to function. */
int gw_target_normalize(const char *s, size_t n, pa_buf_t *out, char *err, size_t errlen)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n > GW_TARGET_MAX) {
        snprintf(err, errlen, "must be a URL or domain of 1 to %d bytes", GW_TARGET_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
            c == '`' || c == '{' || c == '|' || c == '}') {
            snprintf(err, errlen, "contains a character not allowed in a URL (byte %zu)", i + 1);
            return -1;
        }
    }
    const char *scheme = "https";
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
    if (sep) {
        size_t sl = (size_t)(sep - s);
        if (sl == 4 && strncasecmp(s, "http", 4) == 0) scheme = "http";
        else if (!(sl == 5 && strncasecmp(s, "https", 5) == 0)) {
            snprintf(err, errlen, "only http and https URLs are allowed");
            return -1;
        }
        n -= (size_t)(sep + 3 - s);
        s = sep + 3;
    }
    size_t hl = 0; /* the authority: up to the first '/', '?' or '#' within the n bytes */
    while (hl < n && s[hl] != '/' && s[hl] != '?' && s[hl] != '#') hl++;
    const char *host = s, *rest = s + hl;
    size_t rl = n - hl;
    if (memchr(host, '@', hl)) {
        snprintf(err, errlen, "must not contain credentials (user@host)");
        return -1;
    }
    const char *colon;
    size_t namelen;
    char canon[48] = "";
    if (hl && host[0] == '[') { /* an IPv6 literal, written canonically (no zone: a target is
                                 * not on one of this host's links) */
        const char *rb = memchr(host, ']', hl);
        namelen = rb ? (size_t)(rb - host) + 1 : 0;
        if (!rb || (namelen < hl && host[namelen] != ':') ||
            pa_addr_classify_host(host, namelen, canon) == PA_ADDR_INVALID || !canon[0]) {
            snprintf(err, errlen, "has an invalid IPv6 address");
            return -1;
        }
        colon = namelen < hl ? host + namelen : NULL;
    } else {
        colon = memchr(host, ':', hl);
        namelen = colon ? (size_t)(colon - host) : hl;
    }
    if (namelen == 0 || namelen > 253) {
        snprintf(err, errlen, "has no host name");
        return -1;
    }
    int dots = 0;
    for (size_t i = 0; i < namelen && !canon[0]; i++) {
        char c = host[i];
        if (c == '.') {
            if (i == 0 || i == namelen - 1 || host[i - 1] == '.') {
                snprintf(err, errlen, "has an invalid host name");
                return -1;
            }
            dots++;
        } else if (!isalnum((unsigned char)c) && c != '-') {
            snprintf(err, errlen, "has an invalid host name");
            return -1;
        }
    }
    /* an IPv4 address in any spelling a URL parser reads (2130706433, 0x7f.1, 127.1) is
     * written as a dotted quad, so that what is checked is what is connected to */
    uint32_t v4 = 0;
    int ip = canon[0] ? 0 : pa_addr_parse_v4(host, namelen, &v4);
    if (ip < 0) {
        snprintf(err, errlen, "has an invalid IPv4 address");
        return -1;
    }
    if (ip > 0)
        snprintf(canon, sizeof canon, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255,
                 v4 & 255);
    if (!dots && !canon[0]) {
        snprintf(err, errlen, "needs a full host name such as example.com");
        return -1;
    }
    long port = 0;
    if (colon) {
        size_t pl = hl - namelen - 1;
        if (pl == 0 || pl > 5) {
            snprintf(err, errlen, "has an invalid port");
            return -1;
        }
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)colon[1 + i])) {
                snprintf(err, errlen, "has an invalid port");
                return -1;
            }
            port = port * 10 + (colon[1 + i] - '0');
        }
        if (port < 1 || port > 65535) {
            snprintf(err, errlen, "has an invalid port");
            return -1;
        }
    }
    pa_buf_puts(out, scheme);
    pa_buf_puts(out, "://");
    if (canon[0]) pa_buf_puts(out, canon);
    else
        for (size_t i = 0; i < namelen; i++)
            pa_buf_putc(out, (char)tolower((unsigned char)host[i]));
    if (port && !((port == 443 && scheme[4] == 's') || (port == 80 && scheme[4] == '\0')))
        pa_buf_printf(out, ":%ld", port);
    const char *frag = memchr(rest, '#', rl);
    if (frag) rl = (size_t)(frag - rest);
    if (rl == 0 || rest[0] != '/') pa_buf_putc(out, '/');
    pa_buf_put(out, rest, rl);
    return 0;
}

pa_addr_class_t gw_target_class(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h) return PA_ADDR_INVALID;
    h += 3;
    size_t n;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb) return PA_ADDR_INVALID;
        n = (size_t)(rb - h) + 1;
    } else {
        n = strcspn(h, ":/?#");
    }
    return pa_addr_classify_host(h, n, NULL);
}

int gw_target_private_listed(const pa_guard_t *g, const char *url)
{
    pa_addr_class_t c = gw_target_class(url);
    /* a non-public IP literal passes the guard only when listed with its port; a name is
     * never an exception (what it resolves to is checked where it is connected to) */
    if (!g || c == PA_ADDR_PUBLIC || c == PA_ADDR_INVALID) return 0;
    char reason[8];
    return pa_guard_url(g, url, NULL, 0, reason, sizeof reason) == 0;
}
