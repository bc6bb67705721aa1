/* gw_host_kind: the HTTP edge's Host rule (without API keys only loopback names are served). */
#include <criterion/criterion.h>
#include <string.h>

#include "gw_host.h"

static gw_host_kind_t kind(const char *s)
{
    return gw_host_kind(s, strlen(s));
}

Test(host, loopback_names)
{
    const char *ok[] = {"localhost",       "LocalHost",    "localhost:8000",
                        "127.0.0.1",       "127.0.0.1:80", "127.255.255.254",
                        "127.1.2.3:65535", "[::1]",        "[::1]:8000"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect_eq(kind(ok[i]), GW_HOST_LOOPBACK, "%s", ok[i]);
}

Test(host, other_names)
{
    const char *other[] = {"evil.example",
                           "evil.example:8000",
                           "localhost.evil.example",
                           "127.0.0.1.nip.io",
                           "128.0.0.1",
                           "0x7f000001",
                           "2130706433",
                           "127.1",
                           "0177.0.0.1",
                           "localhost.",
                           "[::2]",
                           "[::ffff:127.0.0.1]",
                           "10.0.0.1:80"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        cr_expect_eq(kind(other[i]), GW_HOST_OTHER, "%s", other[i]);
}

Test(host, not_authorities)
{
    const char *bad[] = {"",
                         ":80",
                         "localhost:",
                         "localhost:8o",
                         "localhost:123456",
                         "[::1",
                         "[::1]x",
                         "user@localhost",
                         "a/b",
                         "a\\b",
                         "local host",
                         "localhost:80:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(kind(bad[i]), GW_HOST_BAD, "\"%s\"", bad[i]);
    cr_expect_eq(gw_host_kind("local\0host", 10), GW_HOST_BAD, "a NUL byte");
}
