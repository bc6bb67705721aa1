/* Suppression values (gateway/gw_suppress.h): what each spelling of a domain, URL or address is
 * normalised to, and what is refused and why. The form worker's look-up is an exact match, so
 * every spelling of one site must come out the same. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gw_suppress.h"

static const char *norm(gw_sup_kind_t kind, const char *in, int *got)
{
    static char out[GW_SUPPRESS_VALUE_MAX];
    char err[200] = "";
    *got = gw_suppress_normalize(kind, in, strlen(in), out, err, sizeof err);
    cr_assert(*got >= 0, "'%s' was refused: %s", in, err);
    return out;
}

static const char *refused(gw_sup_kind_t kind, const char *in)
{
    static char err[200];
    char out[GW_SUPPRESS_VALUE_MAX];
    err[0] = '\0';
    int got = gw_suppress_normalize(kind, in, strlen(in), out, err, sizeof err);
    cr_assert_eq(got, -1, "'%s' was accepted as '%s'", in, out);
    cr_assert_str_eq(out, "", "a refused value left '%s' behind", out);
    cr_assert(err[0], "'%s': refused without a reason", in);
    return err;
}

Test(suppress, domains_urls_and_their_spellings_come_out_the_same)
{
    static const char *const want[][2] = {
        {"acme.example", "acme.example"},
        {"  ACME.Example  ", "acme.example"},
        {"acme.example.", "acme.example"},
        {"https://acme.example", "acme.example"},
        {"HTTPS://ACME.EXAMPLE:8443/contact?x=1#top", "acme.example"},
        {"http://www.acme.example/", "www.acme.example"},
        {"acme.example:8080/contact", "acme.example"},
        {"https://a%2eb.example/", "a.b.example"}, /* percent-decoded by the URL parser */
        {"xn--bcher-kva.example", "xn--bcher-kva.example"},
        {"bücher.example", "xn--bcher-kva.example"},
        {"https://BÜCHER.example/kontakt", "xn--bcher-kva.example"},
        {"faß.de", "xn--fa-hia.de"}, /* UTS #46 non-transitional: ß stays */
        {"例え.テスト", "xn--r8jz45g.xn--zckzah"},
        {"bücher。example", "xn--bcher-kva.example"}, /* an ideographic full stop separates */
        {"gov", "gov"},                               /* a top-level domain: all of it */
        {"a-b.c-d.example", "a-b.c-d.example"},
        {"1and1.example", "1and1.example"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k;
        const char *v = norm(GW_SUP_DOMAIN, want[i][0], &k);
        cr_expect_str_eq(v, want[i][1], "'%s' -> '%s', want '%s'", want[i][0], v, want[i][1]);
        cr_expect_eq(k, GW_SUP_DOMAIN);
        v = norm(GW_SUP_ANY, want[i][0], &k); /* no '@': inferred a domain */
        cr_expect_str_eq(v, want[i][1]);
        cr_expect_eq(k, GW_SUP_DOMAIN);
    }
}

Test(suppress, domains_that_are_not_host_names_are_refused_with_the_reason)
{
    static const char *const bad[][2] = {
        {"", "empty"},
        {"   ", "empty"},
        {"127.0.0.1", "IP address"},
        {"http://127.1/", "IP address"},
        {"2130706433", "IP address"},
        {"[::1]", "IP address"},
        {"https://[2001:db8::1]/x", "IP address"},
        {"a_b.example", "letters, digits"},
        {"-acme.example", "neither starts nor ends"},
        {"acme-.example", "neither starts nor ends"},
        {"a..b.example", "1 to 63"},
        {"ftp://acme.example", "http or https"},
        {"javascript://acme.example", "http or https"},
        {"https://user:pw@acme.example/", "user name or password"},
        {"https://user@acme.example/", "user name or password"},
        {"ada@acme.example", "e-mail address"},
        {"acme example", "blank"},
        {"acme.example\x01", "control"},
        {"https://acme.example:99999/", "not a URL"},
        {"acme.\xff.example", "UTF-8"},
        {"a\xe2\x80\x8d"
         "b.example",
         "internationalised"}, /* a ZERO WIDTH JOINER out of context */
        {"xn--a.example", "internationalised"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *err = refused(GW_SUP_DOMAIN, bad[i][0]);
        cr_expect(strstr(err, bad[i][1]), "'%s': '%s' does not say '%s'", bad[i][0], err,
                  bad[i][1]);
    }
    char label[80], name[300];
    memset(label, 'a', 64);
    label[64] = '\0';
    snprintf(name, sizeof name, "%s.example", label);
    cr_expect(strstr(refused(GW_SUP_DOMAIN, name), "1 to 63"));
    char longname[400] = "";
    for (int i = 0; i < 40; i++) strcat(longname, "abcdefgh.");
    strcat(longname, "example");
    cr_expect(strstr(refused(GW_SUP_DOMAIN, longname), "1 to 253"), "%s",
              refused(GW_SUP_DOMAIN, longname));
    char huge[GW_SUPPRESS_INPUT_MAX + 10];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    cr_expect(strstr(refused(GW_SUP_ANY, huge), "longer than"));
}

Test(suppress, emails_are_lowercased_and_their_domain_normalised)
{
    static const char *const want[][2] = {
        {"ada@analytical-engines.example", "ada@analytical-engines.example"},
        {" Ada.Lovelace@Analytical-Engines.EXAMPLE ", "ada.lovelace@analytical-engines.example"},
        {"mailto:Bob@acme.example", "bob@acme.example"},
        {"mailto:MAILTO:bob@acme.example", "bob@acme.example"}, /* found by fuzz_suppress */
        {"bob@Bücher.example", "bob@xn--bcher-kva.example"},
        {"Bob+Sales@acme.example", "bob+sales@acme.example"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k;
        const char *v = norm(GW_SUP_EMAIL, want[i][0], &k);
        cr_expect_str_eq(v, want[i][1], "'%s' -> '%s', want '%s'", want[i][0], v, want[i][1]);
        cr_expect_eq(k, GW_SUP_EMAIL);
        v = norm(GW_SUP_ANY, want[i][0], &k); /* an '@': inferred an address */
        cr_expect_str_eq(v, want[i][1]);
        cr_expect_eq(k, GW_SUP_EMAIL);
    }
    static const char *const bad[][2] = {
        {"nope", "name@example.com"},
        {"@acme.example", "name@example.com"},
        {"ada@", "name@example.com"},
        {"ada@acme", "name@example.com"},
        {"a@b@acme.example", "name@example.com"},
        {"ada@acme_x.example", "domain after '@'"},
        {"ada@127.0.0.1", "domain after '@'"},
        {"ada@[1.2.3.4]", "domain after '@'"},
        {"ada@acme.example/x", "domain after '@'"},
        {"ada@acme.example.", "name@example.com"}, /* the prospects' rule: no final dot */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *err = refused(GW_SUP_EMAIL, bad[i][0]);
        cr_expect(strstr(err, bad[i][1]), "'%s': '%s' does not say '%s'", bad[i][0], err,
                  bad[i][1]);
    }
    /* an address given as a domain, and a URL with a user given as anything */
    cr_expect(strstr(refused(GW_SUP_DOMAIN, "ada@acme.example"), "e-mail address"));
    cr_expect(strstr(refused(GW_SUP_ANY, "https://ada@acme.example/"), "user name"));
}

Test(suppress, kind_names)
{
    cr_assert_eq(gw_sup_kind_parse(NULL), GW_SUP_ANY);
    cr_assert_eq(gw_sup_kind_parse(""), GW_SUP_ANY);
    cr_assert_eq(gw_sup_kind_parse("domain"), GW_SUP_DOMAIN);
    cr_assert_eq(gw_sup_kind_parse("emails"), GW_SUP_EMAIL);
    cr_assert_eq(gw_sup_kind_parse("phone"), -1);
    cr_assert_eq(gw_sup_kind_parse("Domain"), -1);
    cr_assert_str_eq(gw_sup_kind_name(GW_SUP_DOMAIN), "domain");
    cr_assert_str_eq(gw_sup_kind_name(GW_SUP_EMAIL), "email");
}
