/* The SSRF guard for target websites (see pa_guard.h). URLs are parsed by libcurl's URL API;
 * host names are mapped by ICU's UTS #46 and checked by its UTS #39 spoof checker. The guard is
 * immutable once made, so one guard may be shared by threads (ICU's UIDNA and USpoofChecker are
 * thread-safe for checking). */
#include "pa_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/uscript.h>
#include <unicode/uset.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_mem.h"

#define URL_MAX 8192  /* longer URLs are refused */
#define HOST_MAX 1024 /* bytes of a host name as written (UTF-8), and of its mapped forms */
#define LIST_MAX 256  /* items of TARGET_PORTS or ALLOWED_PRIVATE_TARGETS */
#define DEFAULT_PORTS "80,443,8080,8443"

typedef struct {
    uint16_t lo, hi;
} port_range_t;

typedef struct {
    int family;       /* AF_INET or AF_INET6; v4-mapped IPv6 is stored as AF_INET */
    uint8_t addr[16]; /* AF_INET: the first 4 bytes, network order */
    port_range_t ports;
} private_target_t;

struct pa_guard {
    port_range_t *ports;
    size_t nports;
    char *ports_text; /* "80, 443, 8080, 8443", for reasons */
    private_target_t *priv;
    size_t npriv;
    char *priv_text; /* ALLOWED_PRIVATE_TARGETS as given, "" when none */
    UIDNA *idna;
    USpoofChecker *spoof;
};

/* A formatted message in buf (NULL or zero-sized: dropped); -1, for "return refuse(...)". */
static int refuse(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *buf, size_t n, const char *fmt, ...)
{
    if (buf && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "a loopback", "an unspecified": the class with its article */
static const char *article(pa_addr_class_t c)
{
    return c == PA_ADDR_UNSPECIFIED || c == PA_ADDR_INVALID ? "an" : "a";
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- configuration lists ------------------------------------------------------------------- */

/* A port written as 1 to 5 decimal digits, 1..65535; -1 otherwise. */
static long parse_port(const char *s, size_t n)
{
    if (n == 0 || n > 5) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* "P" or "P-Q" (P <= Q); 0 or -1. */
static int parse_range(const char *s, size_t n, port_range_t *r)
{
    const char *dash = memchr(s, '-', n);
    long lo = parse_port(s, dash ? (size_t)(dash - s) : n);
    long hi = dash ? parse_port(dash + 1, n - (size_t)(dash + 1 - s)) : lo;
    if (lo < 0 || hi < 0 || lo > hi) return -1;
    r->lo = (uint16_t)lo;
    r->hi = (uint16_t)hi;
    return 0;
}

/* Splits s at commas into trimmed items; calls fn on each. 0, or -1 with err naming the item. */
typedef int (*item_fn)(pa_guard_t *g, const char *item, size_t n, char *err, size_t errlen);

static int each_item(pa_guard_t *g, const char *s, item_fn fn, char *err, size_t errlen)
{
    for (size_t count = 1;; count++) {
        size_t n = strcspn(s, ",");
        const char *item = s;
        size_t len = n;
        while (len && is_blank(*item)) item++, len--;
        while (len && is_blank(item[len - 1])) len--;
        if (len == 0) return refuse(err, errlen, "an empty item");
        if (count > LIST_MAX) return refuse(err, errlen, "more than %d items", LIST_MAX);
        if (fn(g, item, len, err, errlen) < 0) return -1;
        if (s[n] != ',') return 0;
        s += n + 1;
    }
}

static int add_port(pa_guard_t *g, const char *item, size_t n, char *err, size_t errlen)
{
    port_range_t r;
    if (parse_range(item, n, &r) < 0)
        return refuse(err, errlen, "'%.*s' is not a port (1-65535) or a range of ports (P-Q)",
                      (int)n, item);
    g->ports = pa_realloc(g->ports, (g->nports + 1) * sizeof *g->ports);
    g->ports[g->nports++] = r;
    return 0;
}

/* "ADDR:PORT" or "ADDR:P-Q", ADDR a dotted-quad IPv4 address or a bracketed IPv6 address of a
 * non-public class. */
static int add_private(pa_guard_t *g, const char *item, size_t n, char *err, size_t errlen)
{
    private_target_t t;
    memset(&t, 0, sizeof t);
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = NULL;
    if (item[0] == '[') {
        const char *rb = memchr(item, ']', n);
        if (rb && (size_t)(rb + 1 - item) < n && rb[1] == ':') colon = rb + 1;
    } else {
        colon = memchr(item, ':', n);
    }
    size_t hl = colon ? (size_t)(colon - item) : 0;
    if (!colon || hl == 0 || hl >= sizeof host || parse_range(colon + 1, n - hl - 1, &t.ports) < 0)
        return refuse(
            err, errlen,
            "'%.*s' is not ADDRESS:PORT or ADDRESS:P-Q (IPv4 dotted, IPv6 in brackets, e.g. "
            "127.0.0.1:18400-18499 or [::1]:18400)",
            (int)n, item);
    memcpy(host, item, hl);
    host[hl] = '\0';
    int ok;
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        t.family = AF_INET6;
        ok = inet_pton(AF_INET6, host + 1, t.addr) == 1;
        static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (ok && memcmp(t.addr, mapped, 12) == 0) {
            memmove(t.addr, t.addr + 12, 4);
            memset(t.addr + 4, 0, 12);
            t.family = AF_INET;
        }
    } else {
        t.family = AF_INET;
        ok = inet_pton(AF_INET, host, t.addr) == 1;
    }
    if (!ok)
        return refuse(err, errlen,
                      "'%.*s': '%.*s' is not an IPv4 address (dotted quad) or an IPv6 address "
                      "in brackets",
                      (int)n, item, (int)hl, item);
    pa_addr_class_t c =
        t.family == AF_INET
            ? pa_addr_classify_v4(((uint32_t)t.addr[0] << 24) | ((uint32_t)t.addr[1] << 16) |
                                  ((uint32_t)t.addr[2] << 8) | t.addr[3])
            : pa_addr_classify_v6(t.addr);
    if (c == PA_ADDR_PUBLIC)
        return refuse(err, errlen, "'%.*s' is a public address (the list is for non-public ones)",
                      (int)n, item);
    g->priv = pa_realloc(g->priv, (g->npriv + 1) * sizeof *g->priv);
    g->priv[g->npriv++] = t;
    return 0;
}

void pa_guard_free(pa_guard_t **gp)
{
    if (!gp || !*gp) return;
    pa_guard_t *g = *gp;
    free(g->ports);
    free(g->ports_text);
    free(g->priv);
    free(g->priv_text);
    if (g->idna) uidna_close(g->idna);
    if (g->spoof) uspoof_close(g->spoof);
    free(g);
    *gp = NULL;
}

static int open_icu(pa_guard_t *g, char *err, size_t errlen)
{
    UErrorCode st = U_ZERO_ERROR;
    /* nontransitional (IDNA2008: ß stays ß), with the bidi and CONTEXTJ rules; not the STD3
     * rules: underscores are in real host names and hyphens are harmless (checked below) */
    g->idna = uidna_openUTS46(UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_CHECK_CONTEXTO |
                                  UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE,
                              &st);
    if (U_FAILURE(st)) return refuse(err, errlen, "ICU: uidna_openUTS46: %s", u_errorName(st));
    g->spoof = uspoof_open(&st);
    if (U_SUCCESS(st)) uspoof_setRestrictionLevel(g->spoof, USPOOF_HIGHLY_RESTRICTIVE);
    /* only the characters UTS #39 recommends for identifiers (no symbols, no obsolete scripts) */
    if (U_SUCCESS(st)) {
        USet *chars = uset_openEmpty();
        uset_addAll(chars, uspoof_getRecommendedSet(&st));
        uset_addAll(chars, uspoof_getInclusionSet(&st));
        if (U_SUCCESS(st)) uspoof_setAllowedChars(g->spoof, chars, &st);
        uset_close(chars);
    }
    if (U_SUCCESS(st))
        uspoof_setChecks(g->spoof,
                         USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS |
                             USPOOF_CHAR_LIMIT,
                         &st);
    if (U_FAILURE(st)) return refuse(err, errlen, "ICU: uspoof_open: %s", u_errorName(st));
    return 0;
}

/* pa_guard_new with the names its messages give the two lists. */
static pa_guard_t *guard_new(const char *ports, const char *allowed_private, const char *ports_name,
                             const char *private_name, char *err, size_t errlen)
{
    pa_guard_t *g = pa_calloc(1, sizeof *g);
    char why[200] = "";
    if (!ports || !*ports) ports = DEFAULT_PORTS;
    if (each_item(g, ports, add_port, why, sizeof why) < 0) {
        refuse(err, errlen, "%s: %s", ports_name, why);
    } else if (allowed_private && *allowed_private &&
               each_item(g, allowed_private, add_private, why, sizeof why) < 0) {
        refuse(err, errlen, "%s: %s", private_name, why);
    } else if (open_icu(g, err, errlen) == 0) {
        pa_buf_t b = PA_BUF_INIT;
        for (size_t i = 0; i < g->nports; i++) {
            if (i) pa_buf_puts(&b, ", ");
            if (g->ports[i].lo == g->ports[i].hi) pa_buf_printf(&b, "%u", g->ports[i].lo);
            else pa_buf_printf(&b, "%u-%u", g->ports[i].lo, g->ports[i].hi);
        }
        g->ports_text = pa_buf_detach(&b, NULL);
        g->priv_text = pa_strdup(allowed_private ? allowed_private : "");
        return g;
    }
    pa_guard_free(&g);
    return NULL;
}

pa_guard_t *pa_guard_new(const char *ports, const char *allowed_private, char *err, size_t errlen)
{
    return guard_new(ports, allowed_private, "ports", "allowed private targets", err, errlen);
}

pa_guard_t *pa_guard_from_env(char *err, size_t errlen)
{
    return guard_new(getenv("TARGET_PORTS"), getenv("ALLOWED_PRIVATE_TARGETS"), "TARGET_PORTS",
                     "ALLOWED_PRIVATE_TARGETS", err, errlen);
}

const char *pa_guard_allowed_private(const pa_guard_t *g)
{
    return g && g->priv_text ? g->priv_text : "";
}

/* ---- checks -------------------------------------------------------------------------------- */

static int port_listed(const pa_guard_t *g, unsigned port)
{
    for (size_t i = 0; i < g->nports; i++)
        if (port >= g->ports[i].lo && port <= g->ports[i].hi) return 1;
    return 0;
}

/* Is (family, addr, port) in ALLOWED_PRIVATE_TARGETS? addr: 4 or 16 bytes, network order. */
static int private_listed(const pa_guard_t *g, int family, const uint8_t *addr, unsigned port)
{
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) family = AF_INET, addr += 12;
    size_t alen = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < g->npriv; i++) {
        const private_target_t *t = &g->priv[i];
        if (t->family == family && memcmp(t->addr, addr, alen) == 0 && port >= t->ports.lo &&
            port <= t->ports.hi)
            return 1;
    }
    return 0;
}

/* The special-use domain a lowercase ASCII name (no trailing dot) falls in, or NULL. */
static const char *special_use(const char *h, size_t n)
{
    static const char *const names[] = {"localhost", "local",   "internal", "home.arpa", "onion",
                                        "test",      "invalid", "example",  "arpa",      "alt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t m = strlen(names[i]);
        if (n >= m && memcmp(h + n - m, names[i], m) == 0 && (n == m || h[n - m - 1] == '.'))
            return names[i];
    }
    return NULL;
}

/* The scripts of a UTF-8 name, apart from Common and Inherited, as "Cyrillic, Latin". */
static void script_names(const char *s, int32_t n, char *out, size_t outlen)
{
    UScriptCode seen[8];
    size_t nseen = 0;
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        UErrorCode st = U_ZERO_ERROR;
        UScriptCode sc = c < 0 ? USCRIPT_INVALID_CODE : uscript_getScript(c, &st);
        if (U_FAILURE(st) || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED ||
            sc == USCRIPT_INVALID_CODE)
            continue;
        size_t k = 0;
        while (k < nseen && seen[k] != sc) k++;
        if (k == nseen && nseen < sizeof seen / sizeof *seen) seen[nseen++] = sc;
    }
    /* by name, so that the message does not depend on the order of the characters */
    for (size_t i = 1; i < nseen; i++)
        for (size_t j = i;
             j > 0 && strcmp(uscript_getName(seen[j - 1]), uscript_getName(seen[j])) > 0; j--) {
            UScriptCode t = seen[j];
            seen[j] = seen[j - 1];
            seen[j - 1] = t;
        }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nseen && len < outlen; i++) {
        int w = snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", uscript_getName(seen[i]));
        if (w < 0) break;
        len += (size_t)w;
    }
}

/* The first default-ignorable (invisible) code point of a UTF-8 string, or -1. Malformed UTF-8
 * is -2. */
static UChar32 first_invisible(const char *s, int32_t n)
{
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0) return -2;
        if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) return c;
    }
    return -1;
}

static int has_non_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 1;
    return 0;
}

/* Is s[0..n) plain ASCII letters, digits and hyphens? */
static int ascii_label(const char *s, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return n > 0;
}

/* UTS #39 on the Unicode form of a name (ascii: its punycode, for messages). Invisible
 * characters and characters not recommended for identifiers are refused anywhere. Scripts are
 * checked per label at the "highly restrictive" level; labels of different scripts may meet in
 * one name (a Greek name under .gr, "пример.com"), except a label whose skeleton is plain ASCII,
 * a lookalike of a Latin label (Cyrillic "аррӏе.com"). */
static int spoof_check(const pa_guard_t *g, const char *ascii, const char *uni, int32_t un,
                       char *reason, size_t reasonlen)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t checks = uspoof_check2UTF8(g->spoof, uni, un, NULL, &st);
    if (U_FAILURE(st))
        return refuse(reason, reasonlen, "host %s cannot be checked (ICU: %s)", ascii,
                      u_errorName(st));
    if (checks & USPOOF_INVISIBLE)
        return refuse(reason, reasonlen, "host %s holds invisible characters", ascii);
    if (checks & USPOOF_CHAR_LIMIT)
        return refuse(reason, reasonlen,
                      "host %s holds characters not recommended for identifiers (UTS #39)", ascii);
    if (!checks) return 0;
    char scripts[128];
    for (int32_t s = 0; s < un;) {
        int32_t e = s;
        while (e < un && uni[e] != '.') e++;
        const char *label = uni + s;
        int32_t ln = e - s;
        s = e + 1;
        if (ln == 0 || ascii_label(label, ln)) continue;
        checks = uspoof_check2UTF8(g->spoof, label, ln, NULL, &st);
        char skel[HOST_MAX * 2];
        int32_t kn = U_SUCCESS(st) && !checks
                         ? uspoof_getSkeletonUTF8(g->spoof, 0, label, ln, skel, sizeof skel, &st)
                         : 0;
        if (U_FAILURE(st))
            return refuse(reason, reasonlen, "host %s cannot be checked (ICU: %s)", ascii,
                          u_errorName(st));
        if (checks & USPOOF_MIXED_NUMBERS)
            return refuse(reason, reasonlen, "host %s mixes digits of different numbering systems",
                          ascii);
        if (checks || (kn > 0 && kn < (int32_t)sizeof skel && ascii_label(skel, kn))) {
            script_names(checks ? label : uni, checks ? ln : un, scripts, sizeof scripts);
            if (strchr(scripts, ','))
                return refuse(reason, reasonlen, "host %s mixes scripts (%s)", ascii, scripts);
            return refuse(reason, reasonlen,
                          "host %s holds characters outside the identifier profile (UTS #39)",
                          ascii);
        }
    }
    return 0;
}

/* UTS #46 errors that do not matter to us: hyphens where RFC 5891 does not want them (the WHATWG
 * URL standard sets CheckHyphens=false too: "r3---sn-abc.googlevideo.com" is a real name). */
#define IDNA_IGNORED                                                                               \
    (UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4)

/* Maps a host name (UTF-8 or ASCII, no trailing dot) to its lowercase ASCII form (punycode) in
 * ascii, refusing names UTS #46 refuses, invisible characters, and mixed scripts. */
static int check_name(const pa_guard_t *g, const char *raw, size_t rn, char *ascii, size_t asciilen,
                      char *reason, size_t reasonlen)
{
    if (rn >= HOST_MAX) return refuse(reason, reasonlen, "host name is too long");
    int uni_in = has_non_ascii(raw, rn);
    if (uni_in) {
        UChar32 c = first_invisible(raw, (int32_t)rn);
        if (c == -2) return refuse(reason, reasonlen, "host name is not valid UTF-8");
        if (c >= 0)
            return refuse(reason, reasonlen, "host %.*s holds an invisible character (U+%04X)",
                          (int)rn, raw, (unsigned)c);
    }
    UErrorCode st = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t an =
        uidna_nameToASCII_UTF8(g->idna, raw, (int32_t)rn, ascii, (int32_t)asciilen - 1, &info, &st);
    if (U_FAILURE(st) || an <= 0 || (size_t)an >= asciilen)
        return refuse(reason, reasonlen, "host %.*s is not a valid host name", (int)rn, raw);
    ascii[an] = '\0';
    if (info.errors & ~(uint32_t)IDNA_IGNORED)
        return refuse(reason, reasonlen, "host %.*s is not a valid host name (UTS #46 errors 0x%x)",
                      (int)rn, raw, (unsigned)(info.errors & ~(uint32_t)IDNA_IGNORED));
    for (int32_t i = 0; i < an; i++) {
        char c = ascii[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return refuse(reason, reasonlen, "host %.*s has a character not allowed in a host name",
                          (int)rn, raw);
    }
    if (!uni_in && !strstr(ascii, "xn--")) return 0; /* plain ASCII: nothing to spoof */

    char uni[HOST_MAX * 2];
    st = U_ZERO_ERROR;
    UIDNAInfo uinfo = UIDNA_INFO_INITIALIZER;
    int32_t un =
        uidna_nameToUnicodeUTF8(g->idna, ascii, an, uni, (int32_t)sizeof uni - 1, &uinfo, &st);
    if (U_FAILURE(st) || un <= 0 || (size_t)un >= sizeof uni ||
        (uinfo.errors & ~(uint32_t)IDNA_IGNORED))
        return refuse(reason, reasonlen, "host %s is not a valid internationalized name", ascii);
    uni[un] = '\0';
    UChar32 c = first_invisible(uni, un);
    if (c >= 0 || c == -2)
        return refuse(reason, reasonlen, "host %s holds an invisible character (U+%04X)", ascii,
                      c >= 0 ? (unsigned)c : 0xFFFDu);
    return spoof_check(g, ascii, uni, un, reason, reasonlen);
}

/* The URL's host checked: the canonical host for the origin goes to canon (a dotted quad, a
 * bracketed IPv6 address, or the lowercase ASCII name). *literal: a non-public IP literal, listed
 * in ALLOWED_PRIVATE_TARGETS with the port (then the port passes too). */
static int check_host(const pa_guard_t *g, const char *host, const char *zone, unsigned port,
                      char *canon, size_t canonlen, int *listed, char *reason, size_t reasonlen)
{
    *listed = 0;
    size_t hn = strlen(host);
    if (hn == 0) return refuse(reason, reasonlen, "URL has no host");
    char ip[48];
    pa_addr_class_t cls;
    if (host[0] == '[') {
        if (zone) return refuse(reason, reasonlen, "host %s has an IPv6 zone", host);
        cls = pa_addr_classify_host(host, hn, ip);
        if (cls == PA_ADDR_INVALID || !ip[0])
            return refuse(reason, reasonlen, "host %s is not a valid IPv6 address", host);
    } else {
        if (host[hn - 1] == '.') hn--; /* a fully qualified name: the same host */
        if (hn == 0 || host[hn - 1] == '.')
            return refuse(reason, reasonlen, "host %s is not a valid host name", host);
        char ascii[HOST_MAX];
        if (check_name(g, host, hn, ascii, sizeof ascii, reason, reasonlen) < 0) return -1;
        size_t an = strlen(ascii);
        uint32_t v4;
        int rc = pa_addr_parse_v4(ascii, an, &v4);
        if (rc < 0) return refuse(reason, reasonlen, "host %s is not a valid IPv4 address", ascii);
        if (rc == 0) {
            if (an > 253) return refuse(reason, reasonlen, "host name is too long");
            const char *su = special_use(ascii, an);
            if (su)
                return refuse(reason, reasonlen, "host %s is a special-use domain (%s%s)", ascii,
                              strcmp(su, "localhost") == 0 && an == 9 ? "" : ".", su);
            if (!memchr(ascii, '.', an))
                return refuse(reason, reasonlen, "host %s is a single-label name", ascii);
            snprintf(canon, canonlen, "%s", ascii);
            return 0;
        }
        cls = pa_addr_classify_host(ascii, an, ip);
    }
    snprintf(canon, canonlen, "%s", ip);
    if (cls == PA_ADDR_PUBLIC) return 0;
    uint8_t a[16];
    int family = ip[0] == '[' ? AF_INET6 : AF_INET;
    char bare[48];
    snprintf(bare, sizeof bare, "%s", ip + (family == AF_INET6));
    if (family == AF_INET6) bare[strlen(bare) - 1] = '\0';
    if (inet_pton(family, bare, a) == 1 && private_listed(g, family, a, port)) {
        *listed = 1;
        return 0;
    }
    if (g->npriv)
        return refuse(reason, reasonlen,
                      "host %s is %s %s address (%s:%u is not in ALLOWED_PRIVATE_TARGETS)", ip,
                      article(cls), pa_addr_class_name(cls), ip, port);
    return refuse(reason, reasonlen, "host %s is %s %s address", ip, article(cls),
                  pa_addr_class_name(cls));
}

static int url_error(CURLUcode rc, char *reason, size_t reasonlen)
{
    switch (rc) {
    case CURLUE_BAD_PORT_NUMBER:
        return refuse(reason, reasonlen, "port is not a decimal number from 1 to 65535");
    case CURLUE_BAD_SCHEME: return refuse(reason, reasonlen, "not an absolute URL with a scheme");
    case CURLUE_BAD_HOSTNAME:
    case CURLUE_BAD_IPV6: return refuse(reason, reasonlen, "host is not a valid host name");
    case CURLUE_OUT_OF_MEMORY: return refuse(reason, reasonlen, "out of memory");
    default: return refuse(reason, reasonlen, "not a valid URL (%s)", curl_url_strerror(rc));
    }
}

/* The URL's parts the guard reads; each freed with curl_free. */
typedef struct {
    char *scheme, *user, *password, *options, *host, *port, *zone;
} url_parts_t;

static void parts_free(url_parts_t *p)
{
    curl_free(p->scheme);
    curl_free(p->user);
    curl_free(p->password);
    curl_free(p->options);
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->zone);
}

static int check_parsed(const pa_guard_t *g, const url_parts_t *p, char *origin, size_t originlen,
                        char *reason, size_t reasonlen)
{
    if (!p->scheme) return refuse(reason, reasonlen, "URL has no scheme");
    int https = strcmp(p->scheme, "https") == 0;
    if (!https && strcmp(p->scheme, "http") != 0)
        return refuse(reason, reasonlen, "scheme %.32s is not http or https", p->scheme);
    if (p->user || p->password || p->options)
        return refuse(reason, reasonlen, "URL has userinfo (user@host)");
    if (!p->host) return refuse(reason, reasonlen, "URL has no host");
    long port = https ? 443 : 80;
    if (p->port) {
        port = parse_port(p->port, strlen(p->port));
        if (port < 0)
            return refuse(reason, reasonlen, "port %.16s is not a decimal number from 1 to 65535",
                          p->port);
    }
    char canon[HOST_MAX];
    int listed;
    if (check_host(g, p->host, p->zone, (unsigned)port, canon, sizeof canon, &listed, reason,
                   reasonlen) < 0)
        return -1;
    if (!listed && !port_listed(g, (unsigned)port))
        return refuse(reason, reasonlen, "port %ld is not an allowed port (%s)", port,
                      g->ports_text);
    if (origin && originlen) {
        int w = snprintf(origin, originlen, "%s://%s:%ld", p->scheme, canon, port);
        if (w < 0 || (size_t)w >= originlen)
            return refuse(reason, reasonlen, "origin does not fit in %zu bytes", originlen);
    }
    return 0;
}

int pa_guard_url(const pa_guard_t *g, const char *url, char *origin, size_t originlen, char *reason,
                 size_t reasonlen)
{
    if (origin && originlen) origin[0] = '\0';
    if (!g || !url) return refuse(reason, reasonlen, "no URL");
    size_t n = strnlen(url, URL_MAX + 1);
    if (n == 0) return refuse(reason, reasonlen, "empty URL");
    if (n > URL_MAX) return refuse(reason, reasonlen, "URL is longer than %d bytes", URL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return refuse(reason, reasonlen,
                          "URL contains a control character or blank (byte %zu: 0x%02x)", i + 1, c);
    }
    CURLU *h = curl_url();
    if (!h) return refuse(reason, reasonlen, "out of memory");
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    int ret;
    if (rc != CURLUE_OK) {
        ret = url_error(rc, reason, reasonlen);
    } else {
        url_parts_t p;
        memset(&p, 0, sizeof p);
        struct {
            CURLUPart part;
            char **out;
        } want[] = {{CURLUPART_SCHEME, &p.scheme},     {CURLUPART_USER, &p.user},
                    {CURLUPART_PASSWORD, &p.password}, {CURLUPART_OPTIONS, &p.options},
                    {CURLUPART_HOST, &p.host},         {CURLUPART_PORT, &p.port},
                    {CURLUPART_ZONEID, &p.zone}};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            if (curl_url_get(h, want[i].part, want[i].out, 0) != CURLUE_OK) *want[i].out = NULL;
        ret = check_parsed(g, &p, origin, originlen, reason, reasonlen);
        parts_free(&p);
    }
    curl_url_cleanup(h);
    if (ret < 0 && origin && originlen) origin[0] = '\0';
    return ret;
}

int pa_guard_addr(const pa_guard_t *g, const struct sockaddr *addr, socklen_t len, char *reason,
                  size_t reasonlen)
{
    if (!g || !addr) return refuse(reason, reasonlen, "no address");
    pa_addr_class_t cls = pa_addr_classify_sockaddr(addr, len);
    char text[INET6_ADDRSTRLEN + 2] = "?";
    unsigned port = 0;
    const uint8_t *bytes = NULL;
    int family = addr->sa_family;
    if (cls == PA_ADDR_INVALID)
        return refuse(reason, reasonlen, "not an IPv4 or IPv6 address (family %d)", family);
    if (family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text);
        port = ntohs(s4->sin_port);
        bytes = (const uint8_t *)&s4->sin_addr;
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        snprintf(text, sizeof text, "[%s]", a);
        port = ntohs(s6->sin6_port);
        bytes = s6->sin6_addr.s6_addr;
    }
    if (cls == PA_ADDR_PUBLIC) return 0;
    if (private_listed(g, family, bytes, port)) return 0;
    if (g->npriv)
        return refuse(reason, reasonlen, "%s:%u is not in ALLOWED_PRIVATE_TARGETS (%s %s address)",
                      text, port, article(cls), pa_addr_class_name(cls));
    return refuse(reason, reasonlen, "%s is %s %s address", text, article(cls),
                  pa_addr_class_name(cls));
}
