/* pa_guard: the SSRF guard for target websites. Every refusal reason of pa_guard.h, the IP
 * spellings that name internal addresses, IDN spoofing, the ALLOWED_PRIVATE_TARGETS exception and
 * the check of the address actually connected to. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "pa_guard.h"

static pa_guard_t *g;

static void setup(void)
{
    char err[256];
    g = pa_guard_new(NULL, NULL, err, sizeof err);
    cr_assert(g, "%s", err);
}

static void teardown(void)
{
    pa_guard_free(&g);
}

TestSuite(guard, .init = setup, .fini = teardown);

/* url is refused with a reason holding want */
static void refused_by(const pa_guard_t *gd, const char *url, const char *want)
{
    char origin[256] = "x", reason[256] = "";
    int rc = pa_guard_url(gd, url, origin, sizeof origin, reason, sizeof reason);
    cr_expect_eq(rc, -1, "%s: allowed as %s, expected refused (%s)", url, origin, want);
    if (rc == -1) {
        cr_expect(strstr(reason, want), "%s: reason '%s' should say '%s'", url, reason, want);
        cr_expect_str_empty(origin, "%s: origin '%s' on refusal", url, origin);
    }
}

/* url is allowed, with this origin */
static void allowed_as(const pa_guard_t *gd, const char *url, const char *want_origin)
{
    char origin[256] = "", reason[256] = "";
    int rc = pa_guard_url(gd, url, origin, sizeof origin, reason, sizeof reason);
    cr_expect_eq(rc, 0, "%s: refused (%s)", url, reason);
    if (rc == 0 && want_origin)
        cr_expect_str_eq(origin, want_origin, "%s: origin %s, expected %s", url, origin,
                         want_origin);
}

static void refused(const char *url, const char *want)
{
    refused_by(g, url, want);
}

static void allowed(const char *url, const char *want_origin)
{
    allowed_as(g, url, want_origin);
}

Test(guard, public_urls_pass_with_their_origin)
{
    allowed("http://example.com/", "http://example.com:80");
    allowed("https://example.com", "https://example.com:443");
    allowed("HTTPS://WWW.Example.COM./Contact?x=1#top", "https://www.example.com:443");
    allowed("http://example.com:8080/a", "http://example.com:8080");
    allowed("https://example.com:8443/a", "https://example.com:8443");
    allowed("http://example.com:443/", "http://example.com:443");
    allowed("http://93.184.215.14/", "http://93.184.215.14:80");
    allowed("http://[2606:4700:4700::1111]/", "http://[2606:4700:4700::1111]:80");
    allowed("http://a_b.example.com/", "http://a_b.example.com:80");
    allowed("http://r3---sn-abc.googlevideo.com/", "http://r3---sn-abc.googlevideo.com:80");
    allowed("http://ex%61mple.com/", "http://example.com:80"); /* curl decodes the host */
    /* a leading zero is still the same decimal port: no wrap, no truncation */
    allowed("http://example.com:0080/", "http://example.com:80");
}

Test(guard, schemes)
{
    refused("ftp://example.com/", "scheme ftp is not http or https");
    refused("file:///etc/passwd", "scheme file is not http or https");
    refused("gopher://example.com/", "scheme gopher");
    refused("javascript:alert(1)", "");
    refused("example.com/contact", "not an absolute URL");
    refused("//example.com/", "");
    refused("", "empty URL");
    refused(NULL, "no URL");
}

Test(guard, userinfo)
{
    refused("http://user@example.com/", "userinfo");
    refused("http://user:pw@example.com/", "userinfo");
    refused("http://@example.com/", "userinfo");
    refused("http://:@example.com/", "userinfo");
    refused("http://example.com@10.0.0.1/", "userinfo");
}

Test(guard, control_characters_and_blanks)
{
    refused("http://example.com/a b", "control character or blank (byte 21");
    refused("http://exa\tmple.com/", "control character");
    refused("http://example.com/\r\nHost: evil", "control character");
    refused("http://example.com/\x7f", "control character");
    refused(" http://example.com/", "byte 1");
    char long_url[9000];
    memset(long_url, 'a', sizeof long_url);
    memcpy(long_url, "http://example.com/", 19);
    long_url[sizeof long_url - 1] = '\0';
    refused(long_url, "longer than");
}

Test(guard, ports)
{
    refused("http://example.com:22/", "port 22 is not an allowed port (80, 443, 8080, 8443)");
    refused("http://example.com:6379/", "port 6379");
    refused("http://example.com:65616/", "port is not a decimal number from 1 to 65535");
    refused("http://example.com:65536/", "port is not a decimal number");
    refused("http://example.com:99999999999999999999/", "port is not a decimal number");
    refused("http://example.com:0/", "port 0 is not a decimal number from 1 to 65535");
    refused("http://example.com:-80/", "port is not");
    refused("http://example.com:+80/", "port is not");
    refused("http://example.com:0x50/", "port is not");
    refused("http://example.com:80a/", "port is not");
    refused("http://example.com:65535/", "port 65535 is not an allowed port");
}

Test(guard, configured_ports)
{
    char err[256];
    pa_guard_t *p = pa_guard_new("80, 9000-9010", NULL, err, sizeof err);
    cr_assert(p, "%s", err);
    allowed_as(p, "http://example.com:9005/", "http://example.com:9005");
    allowed_as(p, "http://example.com/", "http://example.com:80");
    refused_by(p, "https://example.com/", "port 443 is not an allowed port (80, 9000-9010)");
    refused_by(p, "http://example.com:9011/", "port 9011");
    pa_guard_free(&p);
    cr_expect_null(p);
    static const char *const bad[] = {"80,",       ",80", "80,,443", "0",     "65536",   "x",
                                      "9010-9000", "80-", "-80",     "1-2-3", "080 443", "8O"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        p = pa_guard_new(bad[i], NULL, err, sizeof err);
        cr_expect_null(p, "ports '%s' should be refused", bad[i]);
        cr_expect(strncmp(err, "ports: ", 7) == 0, "'%s': %s", bad[i], err);
        pa_guard_free(&p);
    }
}

Test(guard, special_use_names)
{
    static const struct {
        const char *url, *why;
    } t[] = {
        {"http://localhost/", "host localhost is a special-use domain (localhost)"},
        {"http://LOCALHOST./", "special-use domain (localhost)"},
        {"http://app.localhost/", "host app.localhost is a special-use domain (.localhost)"},
        {"http://printer.local/", "(.local)"},
        {"http://db.internal/", "(.internal)"},
        {"http://metadata.google.internal/", "(.internal)"},
        {"http://nas.home.arpa/", "(.home.arpa)"},
        {"http://abcdefghij234567.onion/", "(.onion)"},
        {"http://site.test/", "(.test)"},
        {"http://x.invalid/", "(.invalid)"},
        {"http://foo.example/", "(.example)"},
        {"http://1.0.0.127.in-addr.arpa/", "(.arpa)"},
        {"http://x.alt/", "(.alt)"},
        {"http://\xEF\xBD\x8C\xEF\xBD\x8F\xEF\xBD\x83\xEF\xBD\x81\xEF\xBD\x8C\xEF\xBD\x88\xEF"
         "\xBD\x8F\xEF\xBD\x93\xEF\xBD\x94/",
         "(localhost)"}, /* fullwidth "localhost", mapped by UTS #46 */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) refused(t[i].url, t[i].why);
    /* the names themselves, not lookalikes further up */
    allowed("http://localhost.example.com/", "http://localhost.example.com:80");
    allowed("http://example.com/", NULL);
    allowed("http://test.com/", NULL);
}

Test(guard, single_label_names)
{
    refused("http://intranet/", "host intranet is a single-label name");
    refused("http://router./", "single-label");
    refused("http://com/", "single-label");
}

Test(guard, invalid_host_names)
{
    refused("http://a..b.com/", "not a valid host name");
    refused("http://example.com../", "not a valid host name");
    refused("http://./", "");
    refused("http://exa~mple.com/", "not allowed in a host name");
    refused("http://xn--zz.com/", "not a valid host name");
    refused("http://1.2.3.256/", "host 1.2.3.256 is not a valid IPv4 address");
    refused("http://[::1/", "");
    refused("http://[fe80::1%25eth0]/", "IPv6 zone");
}

/* Every spelling of 127.0.0.1 and of 10/8 a URL parser reads. */
Test(guard, ipv4_in_every_notation)
{
    static const char *const loop[] = {
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://0177.1/",
        "http://127.1/",
        "http://127.0.1/",
        "http://0x7F.0.0.1/",
        "http://017700000001/",
        "http://127.000.000.001/",
        "http://127.0.0.1./",
        "http://127.255.255.254/",
        "http://\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x97.0.0.1/", /* fullwidth 127 */
    };
    for (size_t i = 0; i < sizeof loop / sizeof *loop; i++)
        refused(loop[i], "is a loopback address");
    refused("http://2130706433/", "host 127.0.0.1 is a loopback address");
    static const char *const ten[] = {
        "http://10.0.0.1/", "http://167772161/", "http://0xa000001/",     "http://012.0.0.1/",
        "http://10.1/",     "http://0xa.0.0.1/", "http://10.255.255.255/"};
    for (size_t i = 0; i < sizeof ten / sizeof *ten; i++) refused(ten[i], "is a private address");
    refused("http://012.1/", "host 10.0.0.1 is a private address");
    refused("http://172.16.0.1/", "private");
    refused("http://192.168.0.1/", "private");
    refused("http://169.254.169.254/", "metadata");
    refused("http://169.254.1.1/", "link-local");
    refused("http://100.64.0.1/", "CGNAT");
    refused("http://0.0.0.0/", "host 0.0.0.0 is an unspecified address");
    refused("http://0/", "unspecified");
    refused("http://224.0.0.1/", "reserved");
    refused("http://255.255.255.255/", "reserved");
    refused("http://192.0.2.1/", "reserved");
}

Test(guard, ipv6)
{
    refused("http://[::1]/", "host [::1] is a loopback address");
    refused("http://[0:0:0:0:0:0:0:1]/", "host [::1] is a loopback");
    refused("http://[::ffff:127.0.0.1]/", "loopback");
    refused("http://[::ffff:7f00:1]/", "loopback");
    refused("http://[::ffff:10.0.0.1]/", "private");
    refused("http://[fe80::1]/", "link-local");
    refused("http://[fc00::1]/", "private");
    refused("http://[fd00:ec2::254]/", "metadata");
    refused("http://[ff02::1]/", "reserved"); /* multicast */
    refused("http://[ff05::2]:8080/", "reserved");
    refused("http://[::]/", "unspecified");
    refused("http://[64:ff9b::7f00:1]/", "loopback"); /* NAT64 of 127.0.0.1 */
    refused("http://[2002:7f00:1::]/", "loopback");   /* 6to4 of 127.0.0.1 */
    refused("http://[2001:db8::1]/", "reserved");
}

Test(guard, idn_mixed_scripts_and_invisible_characters)
{
    /* Cyrillic 'а' (U+0430) in "apple", in punycode and in Unicode */
    refused("http://xn--pple-43d.com/", "host xn--pple-43d.com mixes scripts (Cyrillic, Latin)");
    refused("http://\xD0\xB0pple.com/", "mixes scripts (Cyrillic, Latin)");
    /* a whole-script Cyrillic lookalike under a Latin TLD */
    refused("http://xn--80ak6aa92e.com/",
            "host xn--80ak6aa92e.com mixes scripts (Cyrillic, Latin)");
    /* Greek omicron in "google" */
    refused("http://g\xCE\xBFogle.com/", "mixes scripts (Greek, Latin)");
    /* invisible: ZERO WIDTH SPACE, ZERO WIDTH JOINER, SOFT HYPHEN, WORD JOINER */
    refused("http://app\xE2\x80\x8Ble.com/", "invisible character (U+200B)");
    refused("http://app\xE2\x80\x8Dle.com/", "invisible character (U+200D)");
    refused("http://app\xC2\xADle.com/", "invisible character (U+00AD)");
    refused("http://app\xE2\x81\xA0le.com/", "invisible character (U+2060)");
    /* digits of two numbering systems (Devanagari and Bengali) in one label */
    refused("http://\xE0\xA5\xA7\xE0\xA7\xA8.com/", "mixes digits of different numbering systems");
    /* a Unicode host UTS #46 refuses, and malformed UTF-8 */
    refused("http://\xE2\x98\x83.com/", "not recommended for identifiers"); /* a snowman */
    refused("http://\xE2\x98\x83\xCC\x88-.com/", "");
    refused("http://a\xC3\x28.com/", "");
    refused("http://xn--a.com/", "not a valid host name");
}

Test(guard, idn_of_one_script_passes)
{
    allowed("http://\xE4\xBE\x8B\xE3\x81\x88.jp/", "http://xn--r8jz45g.jp:80"); /* 例え.jp */
    allowed("http://xn--r8jz45g.jp/", "http://xn--r8jz45g.jp:80");
    allowed("http://\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.jp/", NULL); /* 日本語.jp */
    allowed("https://m\xC3\xBCnchen.de/", "https://xn--mnchen-3ya.de:443");
    allowed("https://xn--mnchen-3ya.de/", "https://xn--mnchen-3ya.de:443");
    allowed("https://stra\xC3\x9F"
            "e.de/",
            "https://xn--strae-oqa.de:443"); /* ß stays ß */
    allowed("http://\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.\xD1\x80\xD1\x84/",
            "http://xn--e1afmkfd.xn--p1ai:80");                          /* пример.рф */
    allowed("http://M\xC3\x9CNCHEN.DE/", "http://xn--mnchen-3ya.de:80"); /* mapped to lowercase */
    /* labels of different scripts in one name, none a lookalike of a Latin label */
    allowed("http://\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.com/",
            "http://xn--e1afmkfd.com:80"); /* пример.com */
    allowed("http://\xCE\xB5\xCE\xBB\xCE\xBB\xCE\xAC\xCE\xB4\xCE\xB1.gr/",
            "http://xn--hxakic4aa.gr:80"); /* ελλάδα.gr */
}

Test(guard, allowed_private_targets)
{
    char err[256];
    pa_guard_t *p =
        pa_guard_new(NULL, "127.0.0.1:18400-18499, [::1]:18400,10.9.8.7:9000", err, sizeof err);
    cr_assert(p, "%s", err);
    cr_expect_str_eq(pa_guard_allowed_private(p),
                     "127.0.0.1:18400-18499, [::1]:18400,10.9.8.7:9000");
    allowed_as(p, "http://127.0.0.1:18400/", "http://127.0.0.1:18400");
    allowed_as(p, "http://127.0.0.1:18499/x", "http://127.0.0.1:18499");
    allowed_as(p, "http://2130706433:18450/", "http://127.0.0.1:18450"); /* any spelling */
    allowed_as(p, "http://[::ffff:127.0.0.1]:18450/", "http://[::ffff:127.0.0.1]:18450");
    allowed_as(p, "https://[::1]:18400/", "https://[::1]:18400");
    allowed_as(p, "http://10.9.8.7:9000/", "http://10.9.8.7:9000"); /* 9000: not a web port */
    refused_by(p, "http://127.0.0.1:18399/", "127.0.0.1:18399 is not in ALLOWED_PRIVATE_TARGETS");
    refused_by(p, "http://127.0.0.1:18500/", "not in ALLOWED_PRIVATE_TARGETS");
    refused_by(p, "http://127.0.0.1/", "loopback");
    refused_by(p, "http://127.0.0.2:18450/", "loopback");
    refused_by(p, "http://[::1]:18401/", "loopback");
    refused_by(p, "http://10.0.0.1:18450/", "private");
    refused_by(p, "http://10.9.8.7:9001/", "private");
    refused_by(p, "http://169.254.169.254:18450/", "metadata");
    refused_by(p, "http://localhost:18450/", "special-use"); /* names are never exceptions */
    refused_by(p, "http://example.com:18450/", "port 18450 is not an allowed port");
    allowed_as(p, "http://example.com/", "http://example.com:80");
    pa_guard_free(&p);

    static const char *const bad[] = {
        "127.0.0.1", /* no port */
        "127.0.0.1:",        "127.0.0.1:0",
        "127.0.0.1:70000",   "127.0.0.1:18499-18400",
        "localhost:18400",   "[::1:18400",
        "::1:18400",         "2130706433:18400",
        "127.1:18400",       "93.184.215.14:80", /* public: no exception needed */
        "127.0.0.1:18400,,", "127.0.0.1:18400;10.0.0.1:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        p = pa_guard_new(NULL, bad[i], err, sizeof err);
        cr_expect_null(p, "'%s' should be refused", bad[i]);
        cr_expect(strncmp(err, "allowed private targets: ", 25) == 0, "'%s': %s", bad[i], err);
        pa_guard_free(&p);
    }
    /* the error names the bad item */
    p = pa_guard_new(NULL, "127.0.0.1:18400,10.0.0.1,[::1]:1", err, sizeof err);
    cr_expect_null(p);
    cr_expect(strstr(err, "'10.0.0.1'"), "%s", err);
    /* empty: none */
    p = pa_guard_new(NULL, "", err, sizeof err);
    cr_assert(p);
    cr_expect_str_eq(pa_guard_allowed_private(p), "");
    refused_by(p, "http://127.0.0.1:18400/", "host 127.0.0.1 is a loopback address");
    pa_guard_free(&p);
}

Test(guard, from_the_environment)
{
    char err[256];
    setenv("TARGET_PORTS", "80,9999", 1);
    setenv("ALLOWED_PRIVATE_TARGETS", "127.0.0.1:18400", 1);
    pa_guard_t *p = pa_guard_from_env(err, sizeof err);
    cr_assert(p, "%s", err);
    allowed_as(p, "http://example.com:9999/", NULL);
    allowed_as(p, "http://127.0.0.1:18400/", NULL);
    refused_by(p, "https://example.com/", "port 443");
    pa_guard_free(&p);
    setenv("TARGET_PORTS", "80,99999", 1);
    cr_expect_null(pa_guard_from_env(err, sizeof err));
    cr_expect(strncmp(err, "TARGET_PORTS: ", 14) == 0 && strstr(err, "'99999'"), "%s", err);
    unsetenv("TARGET_PORTS");
    setenv("ALLOWED_PRIVATE_TARGETS", "10.0.0.1", 1);
    cr_expect_null(pa_guard_from_env(err, sizeof err));
    cr_expect(strncmp(err, "ALLOWED_PRIVATE_TARGETS: ", 25) == 0 && strstr(err, "'10.0.0.1'"), "%s",
              err);
    unsetenv("ALLOWED_PRIVATE_TARGETS");
    p = pa_guard_from_env(err, sizeof err);
    cr_assert(p, "%s", err);
    allowed_as(p, "https://example.com:8443/", NULL);
    pa_guard_free(&p);
}

/* ---- the address connected to --------------------------------------------------------------- */

static int addr4(const pa_guard_t *gd, const char *ip, unsigned port, char *reason, size_t n)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    cr_assert(inet_pton(AF_INET, ip, &s.sin_addr) == 1);
    return pa_guard_addr(gd, (struct sockaddr *)&s, sizeof s, reason, n);
}

static int addr6(const pa_guard_t *gd, const char *ip, unsigned port, char *reason, size_t n)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    cr_assert(inet_pton(AF_INET6, ip, &s.sin6_addr) == 1);
    return pa_guard_addr(gd, (struct sockaddr *)&s, sizeof s, reason, n);
}

Test(guard, connected_addresses)
{
    char r[256];
    cr_expect_eq(addr4(g, "93.184.215.14", 443, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr6(g, "2606:4700:4700::1111", 80, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr4(g, "127.0.0.1", 80, r, sizeof r), -1);
    cr_expect_str_eq(r, "127.0.0.1 is a loopback address");
    cr_expect_eq(addr4(g, "10.1.2.3", 8080, r, sizeof r), -1);
    cr_expect_str_eq(r, "10.1.2.3 is a private address");
    cr_expect_eq(addr4(g, "169.254.169.254", 80, r, sizeof r), -1);
    cr_expect(strstr(r, "metadata"), "%s", r);
    cr_expect_eq(addr4(g, "0.0.0.0", 80, r, sizeof r), -1);
    cr_expect_str_eq(r, "0.0.0.0 is an unspecified address");
    cr_expect_eq(addr4(g, "224.0.0.251", 80, r, sizeof r), -1);
    cr_expect_eq(addr6(g, "::1", 80, r, sizeof r), -1);
    cr_expect_str_eq(r, "[::1] is a loopback address");
    cr_expect_eq(addr6(g, "::ffff:127.0.0.1", 80, r, sizeof r), -1); /* v4-mapped: as v4 */
    cr_expect(strstr(r, "loopback"), "%s", r);
    cr_expect_eq(addr6(g, "::ffff:10.0.0.1", 80, r, sizeof r), -1);
    cr_expect(strstr(r, "private"), "%s", r);
    cr_expect_eq(addr6(g, "fe80::1", 80, r, sizeof r), -1);
    cr_expect(strstr(r, "link-local"), "%s", r);
    cr_expect_eq(addr6(g, "ff02::1", 80, r, sizeof r), -1);
    cr_expect_eq(addr6(g, "::", 80, r, sizeof r), -1);
    /* not an IP address, a short length, NULL */
    struct sockaddr_in s = {.sin_family = AF_INET};
    cr_expect_eq(pa_guard_addr(g, (struct sockaddr *)&s, 4, r, sizeof r), -1);
    struct sockaddr u = {.sa_family = AF_UNIX};
    cr_expect_eq(pa_guard_addr(g, &u, sizeof u, r, sizeof r), -1);
    cr_expect_eq(pa_guard_addr(g, NULL, 0, r, sizeof r), -1);
    cr_expect_eq(pa_guard_addr(g, NULL, 0, NULL, 0), -1); /* no reason wanted */
}

Test(guard, connected_addresses_with_the_exception_list)
{
    char err[256], r[256];
    pa_guard_t *p = pa_guard_new(NULL, "127.0.0.1:18400-18499,[::1]:18400", err, sizeof err);
    cr_assert(p, "%s", err);
    cr_expect_eq(addr4(p, "127.0.0.1", 18400, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr4(p, "127.0.0.1", 18499, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr6(p, "::ffff:127.0.0.1", 18450, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr6(p, "::1", 18400, r, sizeof r), 0, "%s", r);
    cr_expect_eq(addr4(p, "127.0.0.1", 18500, r, sizeof r), -1);
    cr_expect_str_eq(r, "127.0.0.1:18500 is not in ALLOWED_PRIVATE_TARGETS (a loopback address)");
    cr_expect_eq(addr4(p, "127.0.0.2", 18450, r, sizeof r), -1);
    cr_expect_eq(addr6(p, "::1", 18401, r, sizeof r), -1);
    cr_expect_eq(addr4(p, "10.1.2.3", 8080, r, sizeof r), -1);
    cr_expect_str_eq(r, "10.1.2.3:8080 is not in ALLOWED_PRIVATE_TARGETS (a private address)");
    cr_expect_eq(addr4(p, "93.184.215.14", 22, r, sizeof r), 0, "%s", r);
    pa_guard_free(&p);
}

Test(guard, small_buffers_are_safe)
{
    char origin[8], reason[8];
    cr_expect_eq(
        pa_guard_url(g, "http://example.com/", origin, sizeof origin, reason, sizeof reason),
        -1); /* the origin does not fit: refused rather than cut */
    cr_expect_eq(pa_guard_url(g, "http://example.com/", NULL, 0, NULL, 0), 0);
    cr_expect_eq(pa_guard_url(g, "http://127.0.0.1/", NULL, 0, reason, sizeof reason), -1);
    cr_expect_eq(strlen(reason), 7);
}
