/* Suppression values normalised; see gw_suppress.h. */
#include "gw_suppress.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unicode/uidna.h>

#include "gw_text.h"
#include "pa_utf8.h"

#define HOST_MAX 253

const char *gw_sup_kind_name(gw_sup_kind_t k)
{
    return k == GW_SUP_EMAIL ? "email" : "domain";
}

int gw_sup_kind_parse(const char *s)
{
    if (!s || !*s) return GW_SUP_ANY;
    if (strcmp(s, "domain") == 0 || strcmp(s, "domains") == 0) return GW_SUP_DOMAIN;
    if (strcmp(s, "email") == 0 || strcmp(s, "emails") == 0) return GW_SUP_EMAIL;
    return -1;
}

/* UTS #46 processing, opened once: an ICU UIDNA is immutable and safe to share between threads.
 * It lives as long as the process. */
static UIDNA *idna;
static pthread_once_t idna_once = PTHREAD_ONCE_INIT;

static void idna_open(void)
{
    UErrorCode st = U_ZERO_ERROR;
    idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_USE_STD3_RULES |
                               UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ,
                           &st);
    if (U_FAILURE(st)) idna = NULL;
}

/* Checks an ASCII host name of lowercase letters, digits, hyphens and dots: 0, or -1 with why. */
static int host_check(const char *h, size_t n, char *err, size_t errlen)
{
    if (n == 0 || n > HOST_MAX) {
        snprintf(err, errlen, "a host name is 1 to %d characters", HOST_MAX);
        return -1;
    }
    size_t start = 0;
    int digits_only = 1;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            size_t len = i - start;
            if (len == 0 || len > 63) {
                snprintf(err, errlen, "each label of a host name is 1 to 63 characters");
                return -1;
            }
            if (h[start] == '-' || h[i - 1] == '-') {
                snprintf(err, errlen, "a label of a host name neither starts nor ends with '-'");
                return -1;
            }
            if (i < n) digits_only = 1;
            start = i + 1;
            continue;
        }
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            snprintf(err, errlen, "a host name holds only letters, digits, '-' and '.'");
            return -1;
        }
        if (!(c >= '0' && c <= '9')) digits_only = 0;
    }
    if (digits_only) { /* the last label: no top-level domain is numeric, an IPv4 address is */
        snprintf(err, errlen, "an IP address is not suppressed: give the site's domain name");
        return -1;
    }
    return 0;
}

/* A host name (no port, no brackets) into out: lowercase ASCII, its A-labels for an
 * internationalised one; the final dot of a fully qualified name dropped. 0, or -1 with why. */
static int host_normalize(const char *h, size_t n, char out[GW_SUPPRESS_VALUE_MAX], char *err,
                          size_t errlen)
{
    if (n && h[n - 1] == '.') n--;
    /* an ASCII name without A-labels is checked here; one with them ("xn--", which must decode
     * to a valid U-label) or with non-ASCII characters goes through UTS #46 */
    int ascii = 1;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)h[i] < 0x80 &&
                !((i == 0 || h[i - 1] == '.') && n - i >= 4 && strncasecmp(h + i, "xn--", 4) == 0);
    if (ascii) {
        if (n > HOST_MAX) {
            snprintf(err, errlen, "a host name is 1 to %d characters", HOST_MAX);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
        out[n] = '\0';
        return host_check(out, n, err, errlen);
    }
    pthread_once(&idna_once, idna_open);
    if (!idna) {
        snprintf(err, errlen,
                 "internationalised domain names cannot be converted here; give "
                 "its A-label form (xn--...)");
        return -1;
    }
    if (n > GW_SUPPRESS_INPUT_MAX) n = GW_SUPPRESS_INPUT_MAX;
    UErrorCode st = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t len =
        uidna_nameToASCII_UTF8(idna, h, (int32_t)n, out, GW_SUPPRESS_VALUE_MAX - 1, &info, &st);
    if (U_FAILURE(st) || info.errors || len <= 0 || len >= GW_SUPPRESS_VALUE_MAX) {
        snprintf(err, errlen, "is not a valid internationalised domain name (UTS #46%s)",
                 st == U_BUFFER_OVERFLOW_ERROR ? ": too long" : "");
        return -1;
    }
    out[len] = '\0';
    if (len && out[len - 1] == '.') out[--len] = '\0';
    return host_check(out, (size_t)len, err, errlen);
}

/* A URL or a bare domain (with or without port and path) reduced to its host. */
static int domain_normalize(const char *s, size_t n, char out[GW_SUPPRESS_VALUE_MAX], char *err,
                            size_t errlen)
{
    char url[GW_SUPPRESS_INPUT_MAX + 16];
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n && !sep; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') sep = s + i;
    if (sep) {
        size_t sl = (size_t)(sep - s);
        if (!((sl == 4 && strncasecmp(s, "http", 4) == 0) ||
              (sl == 5 && strncasecmp(s, "https", 5) == 0))) {
            snprintf(err, errlen, "only an http or https URL, or a bare domain, is accepted");
            return -1;
        }
        snprintf(url, sizeof url, "%.*s", (int)n, s);
    } else {
        if (memchr(s, '@', n)) {
            snprintf(err, errlen, "is an e-mail address, not a domain (give it as an email)");
            return -1;
        }
        snprintf(url, sizeof url, "http://%.*s", (int)n, s);
    }
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *host = NULL, *user = NULL, *pass = NULL;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    int out_rc = -1;
    if (rc != CURLUE_OK) {
        snprintf(err, errlen, "is not a URL or domain name (%s)", curl_url_strerror(rc));
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
               curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
        snprintf(err, errlen, "a URL with a user name or password is not accepted");
    } else if ((rc = curl_url_get(u, CURLUPART_HOST, &host, 0)) != CURLUE_OK || !host || !*host) {
        snprintf(err, errlen, "has no host name");
    } else if (host[0] == '[') {
        snprintf(err, errlen, "an IP address is not suppressed: give the site's domain name");
    } else {
        out_rc = host_normalize(host, strlen(host), out, err, errlen);
    }
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return out_rc;
}

static int email_normalize(const char *s, size_t n, char out[GW_SUPPRESS_VALUE_MAX], char *err,
                           size_t errlen)
{
    /* every "mailto:" in front, so that no result starts with one (normalising it again would
     * change it) */
    while (n >= 7 && strncasecmp(s, "mailto:", 7) == 0) s += 7, n -= 7;
    if (!gw_email_valid(s, n)) {
        snprintf(err, errlen, "must be an address like name@example.com");
        return -1;
    }
    const char *at = memchr(s, '@', n);
    size_t local = (size_t)(at - s);
    char dom[GW_SUPPRESS_VALUE_MAX], why[160];
    if (host_normalize(at + 1, n - local - 1, dom, why, sizeof why) < 0) {
        snprintf(err, errlen, "the domain after '@': %s", why);
        return -1;
    }
    size_t dl = strlen(dom);
    if (local + 1 + dl > 254) {
        snprintf(err, errlen, "an address is at most 254 bytes");
        return -1;
    }
    for (size_t i = 0; i < local; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    out[local] = '@';
    memcpy(out + local + 1, dom, dl + 1);
    return 0;
}

int gw_suppress_normalize(gw_sup_kind_t kind, const char *s, size_t n,
                          char out[GW_SUPPRESS_VALUE_MAX], char *err, size_t errlen)
{
    out[0] = '\0';
    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
    if (n == 0) {
        snprintf(err, errlen, "is empty");
        return -1;
    }
    if (n > GW_SUPPRESS_INPUT_MAX) {
        snprintf(err, errlen, "is longer than %d bytes", GW_SUPPRESS_INPUT_MAX);
        return -1;
    }
    if (!pa_utf8_valid(s, n)) {
        snprintf(err, errlen, "is not UTF-8 (or holds a NUL byte)");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
            snprintf(err, errlen, "holds a blank or a control character");
            return -1;
        }
    if (kind == GW_SUP_ANY) {
        int url = 0;
        for (size_t i = 0; i + 2 < n && !url; i++)
            url = s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/';
        kind = !url && memchr(s, '@', n) ? GW_SUP_EMAIL : GW_SUP_DOMAIN;
    }
    int rc = kind == GW_SUP_EMAIL ? email_normalize(s, n, out, err, errlen)
                                  : domain_normalize(s, n, out, err, errlen);
    if (rc < 0) {
        out[0] = '\0';
        return -1;
    }
    return (int)kind;
}
