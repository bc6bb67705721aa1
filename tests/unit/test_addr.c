/* pa_addr: internal-address classifiers of host strings and socket addresses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "pa_addr.h"

static pa_addr_class_t host(const char *s)
{
    return pa_addr_classify_host(s, strlen(s), NULL);
}

static const char *canon_of(const char *s)
{
    static char c[48];
    pa_addr_classify_host(s, strlen(s), c);
    return c;
}

typedef struct {
    const char *host;
    pa_addr_class_t want;
} case_t;

static void check(const case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pa_addr_class_t got = host(cases[i].host);
        cr_expect_eq(got, cases[i].want, "%s: %s, expected %s", cases[i].host,
                     pa_addr_class_name(got), pa_addr_class_name(cases[i].want));
    }
}

Test(addr, ipv4_ranges)
{
    static const case_t c[] = {
        {"127.0.0.1", PA_ADDR_LOOPBACK},       {"127.255.255.254", PA_ADDR_LOOPBACK},
        {"10.0.0.1", PA_ADDR_PRIVATE},         {"172.16.0.1", PA_ADDR_PRIVATE},
        {"172.31.255.255", PA_ADDR_PRIVATE},   {"172.32.0.1", PA_ADDR_PUBLIC},
        {"172.15.255.255", PA_ADDR_PUBLIC},    {"192.168.1.1", PA_ADDR_PRIVATE},
        {"169.254.1.1", PA_ADDR_LINK_LOCAL},   {"169.254.169.254", PA_ADDR_METADATA},
        {"100.100.100.200", PA_ADDR_METADATA}, {"100.64.0.1", PA_ADDR_CGNAT},
        {"100.127.255.255", PA_ADDR_CGNAT},    {"100.128.0.1", PA_ADDR_PUBLIC},
        {"0.0.0.0", PA_ADDR_UNSPECIFIED},      {"0.1.2.3", PA_ADDR_UNSPECIFIED},
        {"224.0.0.1", PA_ADDR_RESERVED},       {"255.255.255.255", PA_ADDR_RESERVED},
        {"240.0.0.1", PA_ADDR_RESERVED},       {"192.0.2.1", PA_ADDR_RESERVED},
        {"198.18.0.1", PA_ADDR_RESERVED},      {"192.0.0.8", PA_ADDR_RESERVED},
        {"8.8.8.8", PA_ADDR_PUBLIC},           {"93.184.216.34", PA_ADDR_PUBLIC},
        {"1.1.1.1", PA_ADDR_PUBLIC},           {"126.255.255.255", PA_ADDR_PUBLIC},
        {"128.0.0.1", PA_ADDR_PUBLIC},         {"127.0.0.1.", PA_ADDR_LOOPBACK},
    };
    check(c, sizeof c / sizeof c[0]);
}

Test(addr, odd_ipv4_spellings_are_read_as_a_url_parser_reads_them)
{
    static const case_t c[] = {
        {"2130706433", PA_ADDR_LOOPBACK},   /* one decimal number */
        {"0x7f000001", PA_ADDR_LOOPBACK},   /* one hex number */
        {"017700000001", PA_ADDR_LOOPBACK}, /* one octal number */
        {"0x7f.1", PA_ADDR_LOOPBACK},       /* two parts */
        {"127.1", PA_ADDR_LOOPBACK},
        {"127.0.1", PA_ADDR_LOOPBACK},
        {"0177.0.0.1", PA_ADDR_LOOPBACK},
        {"0x7F.0X0.0.01", PA_ADDR_LOOPBACK},
        {"0", PA_ADDR_UNSPECIFIED},
        {"0x", PA_ADDR_UNSPECIFIED},
        {"0xa9fea9fe", PA_ADDR_METADATA},
        {"2852039166", PA_ADDR_METADATA},
        {"0251.0376.0251.0376", PA_ADDR_METADATA},
        {"10.1", PA_ADDR_PRIVATE},
        {"167772161", PA_ADDR_PRIVATE},
        {"3232235777", PA_ADDR_PRIVATE},
        /* numeric-looking, but no address: refused, never passed to a resolver */
        {"1.2.3.256", PA_ADDR_INVALID},
        {"256.1.1.1", PA_ADDR_INVALID},
        {"1.2.3.4.5", PA_ADDR_INVALID},
        {"4294967296", PA_ADDR_INVALID},
        {"08.0.0.1", PA_ADDR_INVALID},
        {"0x1g", PA_ADDR_PRIVATE}, /* a name: one label */
        {"1..2", PA_ADDR_INVALID},
        {"example.0x10", PA_ADDR_INVALID},
        {"999999999999999999999", PA_ADDR_INVALID},
        {"1.2.3.0x100", PA_ADDR_INVALID},
        {"127.16777216", PA_ADDR_INVALID},
        {"127.16777215", PA_ADDR_LOOPBACK},
    };
    check(c, sizeof c / sizeof c[0]);
    cr_assert_str_eq(canon_of("2130706433"), "127.0.0.1");
    cr_assert_str_eq(canon_of("0x7f.1"), "127.0.0.1");
    cr_assert_str_eq(canon_of("8.8.2056"), "8.8.8.8");
    cr_assert_str_eq(canon_of("example.com"), "");
}

Test(addr, ipv6_literals)
{
    static const case_t c[] = {
        {"[::1]", PA_ADDR_LOOPBACK},
        {"[0:0:0:0:0:0:0:1]", PA_ADDR_LOOPBACK},
        {"[::]", PA_ADDR_UNSPECIFIED},
        {"[::ffff:127.0.0.1]", PA_ADDR_LOOPBACK}, /* v4-mapped */
        {"[::ffff:7f00:1]", PA_ADDR_LOOPBACK},
        {"[::ffff:169.254.169.254]", PA_ADDR_METADATA},
        {"[::ffff:10.0.0.1]", PA_ADDR_PRIVATE},
        {"[::ffff:8.8.8.8]", PA_ADDR_PUBLIC},
        {"[::127.0.0.1]", PA_ADDR_LOOPBACK},     /* v4-compatible */
        {"[64:ff9b::7f00:1]", PA_ADDR_LOOPBACK}, /* NAT64 */
        {"[64:ff9b::808:808]", PA_ADDR_PUBLIC},
        {"[2002:7f00:1::1]", PA_ADDR_LOOPBACK}, /* 6to4 */
        {"[2002:c0a8:101::1]", PA_ADDR_PRIVATE},
        {"[fc00::1]", PA_ADDR_PRIVATE},
        {"[fd12:3456:789a::1]", PA_ADDR_PRIVATE},
        {"[fd00:ec2::254]", PA_ADDR_METADATA},
        {"[fe80::1]", PA_ADDR_LINK_LOCAL},
        {"[febf::1]", PA_ADDR_LINK_LOCAL},
        {"[fe80::1%25eth0]", PA_ADDR_LINK_LOCAL},
        {"[2001:db8::1%25eth0]", PA_ADDR_INVALID}, /* a zone on a global address */
        {"[fec0::1]", PA_ADDR_PRIVATE},
        {"[ff02::1]", PA_ADDR_RESERVED},
        {"[2001:db8::1]", PA_ADDR_RESERVED},
        {"[2001::1]", PA_ADDR_RESERVED},
        {"[100::1]", PA_ADDR_RESERVED},
        {"[2606:4700:4700::1111]", PA_ADDR_PUBLIC},
        {"[2a00:1450:4001:81b::200e]", PA_ADDR_PUBLIC},
        {"[::1", PA_ADDR_INVALID},
        {"[]", PA_ADDR_INVALID},
        {"[not:an:address]", PA_ADDR_INVALID},
        {"[127.0.0.1]", PA_ADDR_INVALID},
    };
    check(c, sizeof c / sizeof c[0]);
    cr_assert_str_eq(canon_of("[0:0:0:0:0:0:0:1]"), "[::1]");
    cr_assert_str_eq(canon_of("[2606:4700:4700:0::1111]"), "[2606:4700:4700::1111]");
}

Test(addr, names)
{
    static const case_t c[] = {
        {"localhost", PA_ADDR_LOOPBACK},
        {"LOCALHOST", PA_ADDR_LOOPBACK},
        {"localhost.", PA_ADDR_LOOPBACK},
        {"app.localhost", PA_ADDR_LOOPBACK},
        {"a.b.LocalHost.", PA_ADDR_LOOPBACK},
        {"notlocalhost", PA_ADDR_PRIVATE}, /* one label */
        {"localhost.example.com", PA_ADDR_PUBLIC},
        {"metadata.google.internal", PA_ADDR_METADATA},
        {"metadata", PA_ADDR_METADATA},
        {"db.internal", PA_ADDR_PRIVATE},
        {"router.home.arpa", PA_ADDR_PRIVATE},
        {"printer.local", PA_ADDR_LINK_LOCAL},
        {"intranet", PA_ADDR_PRIVATE},
        {"example.com", PA_ADDR_PUBLIC},
        {"www.example.com.", PA_ADDR_PUBLIC},
        {"a.example", PA_ADDR_PUBLIC},
        {"1.2.3.4.example", PA_ADDR_PUBLIC}, /* its last label is a name */
        {"0x7f.example", PA_ADDR_PUBLIC},
        {"", PA_ADDR_INVALID},
        {".", PA_ADDR_INVALID},
    };
    check(c, sizeof c / sizeof c[0]);
}

Test(addr, sockaddrs_as_the_connect_hook_sees_them)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s4, sizeof s4), PA_ADDR_LOOPBACK);
    inet_pton(AF_INET, "169.254.169.254", &s4.sin_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s4, sizeof s4), PA_ADDR_METADATA);
    inet_pton(AF_INET, "93.184.216.34", &s4.sin_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s4, sizeof s4), PA_ADDR_PUBLIC);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s4, 4), PA_ADDR_INVALID);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s6, sizeof s6), PA_ADDR_PRIVATE);
    inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s6, sizeof s6), PA_ADDR_LINK_LOCAL);
    inet_pton(AF_INET6, "2606:4700:4700::1111", &s6.sin6_addr);
    cr_assert_eq(pa_addr_classify_sockaddr((struct sockaddr *)&s6, sizeof s6), PA_ADDR_PUBLIC);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    cr_assert_eq(pa_addr_classify_sockaddr(&sa, sizeof sa), PA_ADDR_INVALID);
    cr_assert_eq(pa_addr_classify_sockaddr(NULL, 0), PA_ADDR_INVALID);
}

Test(addr, allowed_is_public_only_unless_loopback_is_let_through)
{
    for (int c = PA_ADDR_PUBLIC; c <= PA_ADDR_INVALID; c++) {
        cr_assert_eq(pa_addr_allowed(c, 0), c == PA_ADDR_PUBLIC, "%s", pa_addr_class_name(c));
        cr_assert_eq(pa_addr_allowed(c, 1), c == PA_ADDR_PUBLIC || c == PA_ADDR_LOOPBACK, "%s",
                     pa_addr_class_name(c));
    }
    cr_assert_str_eq(pa_addr_class_name(PA_ADDR_METADATA), "metadata");
    cr_assert_str_eq(pa_addr_class_name(PA_ADDR_CGNAT), "CGNAT");
}

Test(addr, parse_v4_answers_name_address_or_invalid)
{
    uint32_t a = 0;
    cr_assert_eq(pa_addr_parse_v4("example.com", 11, &a), 0);
    cr_assert_eq(pa_addr_parse_v4("1.2.3.4", 7, &a), 1);
    cr_assert_eq(a, 0x01020304u);
    cr_assert_eq(pa_addr_parse_v4("1.2.3.4", 5, &a), 1, "only n bytes are read");
    cr_assert_eq(a, 0x01020003u);
    cr_assert_eq(pa_addr_parse_v4("1.2.3.999", 9, &a), -1);
}
