/* form_robots: robots.txt as RFC 9309 reads it. Each test is one rule of the RFC (the section in
 * its name), with the RFC's own examples where it has them (5.1, 5.2, the table of 2.2.2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_robots.h"

#define UA "ProspectAI/1.0 (+https://prospect.example/bot)"

static form_robots_t *parse(const char *body, const char *ua)
{
    form_robots_t *r = form_robots_parse(200, body, strlen(body), ua);
    cr_assert(r);
    return r;
}

/* The verdict for path, checked: allowed as want, and the deciding rule (when rule is not NULL)
 * exactly as written. */
static void expect(const form_robots_t *r, const char *path, bool want, const char *rule)
{
    form_robots_verdict_t v;
    form_robots_check(r, path, &v);
    cr_expect_eq(v.allowed, want, "%s: %s, expected %s (rule: %s)", path,
                 v.allowed ? "allowed" : "disallowed", want ? "allowed" : "disallowed", v.rule);
    if (rule)
        cr_expect_str_eq(v.rule, rule, "%s: decided by '%s', expected '%s'", path, v.rule, rule);
}

static void check1(const char *body, const char *ua, const char *path, bool want, const char *rule)
{
    form_robots_t *r = parse(body, ua);
    expect(r, path, want, rule);
    form_robots_free(&r);
}

/* RFC 9309 5.1, the simple example, for each of its crawlers. */
static const char RFC_5_1[] = "User-Agent: *\n"
                              "Disallow: *.gif$\n"
                              "Disallow: /example/\n"
                              "Allow: /publications/\n"
                              "\n"
                              "User-Agent: foobot\n"
                              "Disallow:/\n"
                              "Allow:/example/page.html\n"
                              "Allow:/example/allowed.gif\n"
                              "\n"
                              "User-Agent: barbot\n"
                              "User-Agent: bazbot\n"
                              "Disallow: /example/page.html\n"
                              "\n"
                              "User-Agent: quxbot\n";

Test(robots, rfc_5_1_simple_example)
{
    form_robots_t *r = parse(RFC_5_1, "foobot");
    expect(r, "/example/page.html", true, "Allow:/example/page.html");
    expect(r, "/example/allowed.gif", true, "Allow:/example/allowed.gif");
    expect(r, "/example/disallowed.gif", false, "Disallow:/");
    expect(r, "/publications/", false, "Disallow:/");
    form_robots_verdict_t v;
    form_robots_check(r, "/x", &v);
    cr_expect_eq(v.line, 7);
    cr_expect_str_eq(v.group, "User-Agent: foobot");
    form_robots_free(&r);

    r = parse(RFC_5_1, "barbot/2.0");
    expect(r, "/example/page.html", false, "Disallow: /example/page.html");
    expect(r, "/example/other.gif", true, "no rule matches"); /* not the * group */
    form_robots_check(r, "/example/page.html", &v);
    cr_expect_str_eq(v.group, "User-Agent: barbot, User-Agent: bazbot");
    form_robots_free(&r);
    check1(RFC_5_1, "bazbot", "/example/page.html", false, NULL);

    /* quxbot has a group without rules: everything is allowed, the * group does not apply */
    check1(RFC_5_1, "quxbot", "/example/page.gif", true, "no rule matches");

    r = parse(RFC_5_1, UA); /* no group names us: the * group */
    expect(r, "/a/b.gif", false, "Disallow: *.gif$");
    expect(r, "/a/b.gif?x", true, "no rule matches");
    expect(r, "/example/x", false, "Disallow: /example/");
    expect(r, "/publications/x", true, "Allow: /publications/");
    form_robots_free(&r);
}

Test(robots, rfc_5_2_longest_match)
{
    static const char body[] = "User-Agent: foobot\n"
                               "Allow: /example/page/\n"
                               "Disallow: /example/page/disallowed.gif\n";
    form_robots_t *r = parse(body, "foobot");
    expect(r, "/example/page/disallowed.gif", false, "Disallow: /example/page/disallowed.gif");
    expect(r, "/example/page/allowed.gif", true, "Allow: /example/page/");
    form_robots_free(&r);
    /* the order of the rules does not matter */
    check1("User-agent: *\nDisallow: /a/b\nAllow: /a\n", UA, "/a/bc", false, "Disallow: /a/b");
    check1("User-agent: *\nAllow: /a\nDisallow: /a/b\n", UA, "/a/bc", false, "Disallow: /a/b");
}

Test(robots, rfc_2_2_2_allow_wins_a_tie)
{
    check1("User-agent: *\nDisallow: /page\nAllow: /page\n", UA, "/page", true, "Allow: /page");
    check1("User-agent: *\nAllow: /page\nDisallow: /page\n", UA, "/page", true, "Allow: /page");
    /* equally long patterns with wildcards: allow */
    check1("User-agent: *\nDisallow: /*.php\nAllow: /a/b.ph*\n", UA, "/a/b.php", true,
           "Allow: /a/b.ph*");
}

Test(robots, rfc_2_2_3_wildcards)
{
    form_robots_t *r = parse("User-agent: *\n"
                             "Disallow: /private*/\n"
                             "Disallow: /*.pdf$\n"
                             "Allow: /$\n"
                             "Disallow: /\n"
                             "Allow: /contact$\n"
                             "Allow: /this/*/exactly\n",
                             UA);
    expect(r, "/", true, "Allow: /$");
    expect(r, "/index.html", false, "Disallow: /");
    expect(r, "/contact", true, "Allow: /contact$");
    expect(r, "/contact/", false, "Disallow: /");
    expect(r, "/contact?x=1", false, "Disallow: /"); /* $ ends the path and query */
    expect(r, "/files/a.pdf", false, "Disallow: /*.pdf$");
    expect(r, "/this/is/exactly/it", true, "Allow: /this/*/exactly");
    expect(r, "/this/exactly", false, "Disallow: /"); /* '*' matches a run, the '/'s stay */
    expect(r, "/privateer/x", false, "Disallow: /private*/");
    form_robots_free(&r);
    /* '*' matches the empty run; repeated '*' is one; '$' inside a pattern is literal */
    check1("User-agent: *\nDisallow: /a**b\n", UA, "/ab", false, NULL);
    check1("User-agent: *\nDisallow: /a$b\n", UA, "/a$b/c", false, NULL);
    check1("User-agent: *\nDisallow: /a$b\n", UA, "/a", true, NULL);
    check1("User-agent: *\nDisallow: *\n", UA, "/anything", false, "Disallow: *");
    /* a pattern needs all of itself: backtracking over many candidates */
    check1("User-agent: *\nDisallow: /*a*a*a*b$\n", UA, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true,
           NULL);
    check1("User-agent: *\nDisallow: /*a*a*a*b$\n", UA, "/xaxxaxxaxxb", false, NULL);
}

Test(robots, rfc_2_2_1_user_agent_matching)
{
    static const char body[] = "User-agent: prospectai\n"
                               "Disallow: /mine\n"
                               "\n"
                               "User-agent: ProspectAI-News\n"
                               "Disallow: /news\n"
                               "\n"
                               "User-agent: *\n"
                               "Disallow: /star\n";
    form_robots_t *r = parse(body, UA); /* case-insensitive, product token only */
    expect(r, "/mine", false, "Disallow: /mine");
    expect(r, "/news", true, NULL); /* another product's token, not a prefix match */
    expect(r, "/star", true, NULL); /* a group names us: * does not apply */
    form_robots_free(&r);
    /* the line's value is the token up to '/' or a blank too */
    check1("User-agent: ProspectAI/2.0\nDisallow: /x\n", UA, "/x", false, NULL);
    check1("User-agent: ProspectAI # us\nDisallow: /x\n", UA, "/x", false, NULL);
    /* the user agent given as the bare token */
    check1(body, "PROSPECTAI", "/mine", false, NULL);
    /* no group for us and none for *: nothing applies */
    check1("User-agent: other\nDisallow: /\n", UA, "/x", true, "no rule matches");
    /* rules before any user-agent line belong to no group */
    check1("Disallow: /\nUser-agent: *\nDisallow: /private\n", UA, "/x", true, NULL);
}

Test(robots, rfc_2_2_1_groups_naming_us_are_merged)
{
    static const char body[] = "User-agent: ProspectAI\n"
                               "Disallow: /foo\n"
                               "Disallow: /bar\n"
                               "\n"
                               "User-agent: other\n"
                               "Disallow: /baz\n"
                               "\n"
                               "user-agent: prospectai\n"
                               "Disallow: /baz\n"
                               "Allow: /foo/open\n";
    form_robots_t *r = parse(body, UA);
    expect(r, "/foo/x", false, "Disallow: /foo");
    expect(r, "/bar", false, "Disallow: /bar");
    expect(r, "/baz", false, "Disallow: /baz");
    expect(r, "/foo/open", true, "Allow: /foo/open");
    form_robots_verdict_t v;
    form_robots_check(r, "/baz", &v);
    cr_expect_eq(v.line, 9);
    cr_expect_str_eq(v.group, "User-agent: ProspectAI, user-agent: prospectai");
    form_robots_free(&r);
    /* the * groups are merged too */
    check1("User-agent: *\nDisallow: /a\nUser-agent: x\nDisallow: /b\nUser-agent: *\n"
           "Disallow: /c\n",
           UA, "/c", false, "Disallow: /c");
    /* a group naming both us and *: its rules apply to us */
    check1("User-agent: *\nUser-agent: ProspectAI\nDisallow: /both\n", UA, "/both", false, NULL);
}

Test(robots, blank_lines_comments_and_unknown_lines_do_not_end_a_group)
{
    static const char body[] = "# robots.txt for example.com\n"
                               "User-agent: a\n"
                               "\n"
                               "User-agent: ProspectAI   # us\n"
                               "Sitemap: https://example.com/sitemap.xml\n"
                               "Host: example.com\n"
                               "\n"
                               "# the private part\n"
                               "Disallow: /private/  # keep out\n"
                               "this line is no record\n"
                               "Disallow:/tmp\n"
                               "User-agent: b\n"
                               "Disallow: /b-only\n";
    form_robots_t *r = parse(body, UA);
    expect(r, "/private/x", false, "Disallow: /private/");
    expect(r, "/tmp/1", false, "Disallow:/tmp");
    expect(r, "/b-only", true, NULL); /* a user-agent line after rules starts a new group */
    form_robots_free(&r);
    /* keys in any case, blanks around the colon */
    check1("USER-AGENT : *\nDISALLOW :  /x\n", UA, "/x", false, "DISALLOW :  /x");
}

Test(robots, bom_crlf_and_cr_line_ends)
{
    check1("\xEF\xBB\xBFUser-agent: *\r\nDisallow: /x\r\n", UA, "/x", false, "Disallow: /x");
    check1("User-agent: *\rDisallow: /x\rAllow: /x/y\r", UA, "/x/y", true, "Allow: /x/y");
    form_robots_t *r = parse("User-agent: *\r\n\r\nDisallow: /a\r\nDisallow: /b\n", UA);
    form_robots_verdict_t v;
    form_robots_check(r, "/b", &v);
    cr_expect_eq(v.line, 4, "CRLF is one line end: line %d", v.line);
    form_robots_free(&r);
}

Test(robots, empty_disallow_allows)
{
    check1("User-agent: *\nDisallow:\n", UA, "/anything", true, "no rule matches");
    check1("User-agent: *\nDisallow: \nDisallow: /x\n", UA, "/x", false, NULL);
}

Test(robots, the_robots_txt_file_itself_is_always_allowed)
{
    check1("User-agent: *\nDisallow: /\n", UA, "/robots.txt", true,
           "/robots.txt is always allowed");
}

Test(robots, rfc_2_2_2_percent_encoding)
{
    /* the RFC's table: path in the rule, URL path */
    static const struct {
        const char *rule, *path;
        bool match;
    } t[] = {
        {"/foo/bar?baz=quz", "/foo/bar?baz=quz", true},
        {"/foo/bar/\xE3\x83\x84", "/foo/bar/%E3%83%84", true},
        {"/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", true},
        {"/foo/bar/%E3%83%84", "/foo/bar/\xE3\x83\x84", true},
        {"/foo/bar/%62%61%7A", "/foo/bar/baz", true},
        {"/foo/bar/baz", "/foo/bar/%62%61%7A", true},
        {"/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84", true}, /* hex in any case */
        {"/a%2Fb", "/a/b", false},                          /* reserved: stays encoded */
        {"/a/b", "/a%2fb", false},
        {"/a%2fb", "/a%2Fb", true},
        {"/%7Euser", "/~user", true},
        {"/Foo", "/foo", false}, /* case-sensitive */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char body[128];
        snprintf(body, sizeof body, "User-agent: *\nDisallow: %s\n", t[i].rule);
        form_robots_t *r = parse(body, UA);
        form_robots_verdict_t v;
        form_robots_check(r, t[i].path, &v);
        cr_expect_eq(!v.allowed, t[i].match, "rule %s, path %s: %s", t[i].rule, t[i].path,
                     v.allowed ? "allowed" : "disallowed");
        form_robots_free(&r);
    }
}

Test(robots, a_whole_url_is_checked_on_its_path_and_query)
{
    form_robots_t *r = parse("User-agent: *\nDisallow: /contact?\nDisallow: /a/b\n", UA);
    expect(r, "https://example.com/contact?x=1#top", false, "Disallow: /contact?");
    expect(r, "https://example.com/contact#x?y", true, NULL);
    expect(r, "https://example.com", true, NULL);
    expect(r, "https://example.com/a/./c/../b", false, "Disallow: /a/b"); /* dot segments */
    expect(r, "/contact?x#frag", false, NULL);
    form_robots_free(&r);
}

Test(robots, rfc_2_3_1_status_codes)
{
    static const char body[] = "User-agent: *\nAllow: /\n";
    static const struct {
        long status;
        bool allowed;
        const char *rule;
    } t[] = {
        {404, true, "robots.txt answered 404: everything allowed"},
        {401, true, "robots.txt answered 401: everything allowed"},
        {403, true, "robots.txt answered 403: everything allowed"},
        {410, true, "robots.txt answered 410: everything allowed"},
        {500, false, "robots.txt answered 500: everything disallowed"},
        {503, false, "robots.txt answered 503: everything disallowed"},
        {0, false, "robots.txt could not be fetched: everything disallowed"},
        {301, true, "robots.txt answered 301: everything allowed"},
        {100, false, NULL},
        {600, false, NULL},
        {-1, false, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        form_robots_t *r = form_robots_parse(t[i].status, body, strlen(body), UA);
        form_robots_verdict_t v;
        form_robots_check(r, "/x", &v);
        cr_expect_eq(v.allowed, t[i].allowed, "status %ld", t[i].status);
        if (t[i].rule) cr_expect_str_eq(v.rule, t[i].rule);
        cr_expect_eq(v.line, 0);
        cr_expect_eq(form_robots_crawl_delay_ms(r), 0);
        form_robots_free(&r);
    }
    /* a 200 without a body: nothing disallowed */
    form_robots_t *r = form_robots_parse(200, NULL, 0, UA);
    expect(r, "/x", true, "no rule matches");
    form_robots_free(&r);
}

Test(robots, crawl_delay)
{
    static const struct {
        const char *body;
        long ms;
    } t[] = {
        {"User-agent: *\nCrawl-delay: 10\n", 10000},
        {"User-agent: *\nCrawl-delay: 2.5\n", 2500},
        {"User-agent: *\nCrawl-delay: 0.25\n", 250},
        {"User-agent: *\nCrawl-delay: .5\n", 500},
        {"User-agent: *\nCrawl-delay: 3600\n", 60000}, /* capped at 60 s */
        {"User-agent: *\nCrawl-delay: 99999999999999999999999\n", 60000},
        {"User-agent: *\nCrawl-delay: -1\n", 0},
        {"User-agent: *\nCrawl-delay: soon\n", 0},
        {"User-agent: *\nCrawl-delay: 1e3\n", 0},
        {"Crawl-delay: 5\nUser-agent: *\n", 0}, /* outside a group */
        {"User-agent: other\nCrawl-delay: 5\n", 0},
        {"User-agent: *\nCrawl-delay: 5\nUser-agent: ProspectAI\nCrawl-delay: 1\n", 1000},
        {"User-agent: ProspectAI\nCrawl-delay: 1\nUser-agent: prospectai\nCrawl-delay: 3\n",
         3000}, /* merged groups: the largest */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        form_robots_t *r = parse(t[i].body, UA);
        cr_expect_eq(form_robots_crawl_delay_ms(r), t[i].ms, "%s: %ld ms, expected %ld", t[i].body,
                     form_robots_crawl_delay_ms(r), t[i].ms);
        form_robots_free(&r);
    }
    /* a Crawl-delay line ends the user-agent lines: the next one starts a new group */
    check1("User-agent: ProspectAI\nCrawl-delay: 1\nUser-agent: other\nDisallow: /\n", UA, "/x",
           true, NULL);
}

Test(robots, rfc_2_5_parsed_up_to_500_kib)
{
    size_t n = FORM_ROBOTS_MAX_BYTES + 4096;
    char *body = malloc(n + 1);
    cr_assert(body);
    static const char head[] = "User-agent: *\nDisallow: /early\n";
    memcpy(body, head, sizeof head - 1);
    memset(body + sizeof head - 1, '\n', n - (sizeof head - 1));
    static const char late[] = "Disallow: /late\n"; /* past the bound */
    memcpy(body + FORM_ROBOTS_MAX_BYTES + 100, late, sizeof late - 1);
    static const char edge[] = "Disallow: /edge\n"; /* ends right at the bound */
    memcpy(body + FORM_ROBOTS_MAX_BYTES - (sizeof edge - 1), edge, sizeof edge - 1);
    body[n] = '\0';
    form_robots_t *r = form_robots_parse(200, body, n, UA);
    expect(r, "/early", false, "Disallow: /early");
    expect(r, "/edge", false, "Disallow: /edge");
    expect(r, "/late", true, NULL);
    form_robots_free(&r);
    free(body);
}

Test(robots, odd_input_is_harmless)
{
    static const char *const bodies[] = {
        "",
        ":",
        "::::",
        "User-agent:",
        "User-agent:\nDisallow: /",
        "#",
        "\r\r\n\n",
        "User-agent: *\nDisallow: %",
        "User-agent: *\nDisallow: /%zz%4",
        "User-agent: *\nAllow: $",
        "User-agent: *\nDisallow: \xff\xfe",
        "User-agent: *\nDisallow: /a\0b",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        form_robots_t *r = form_robots_parse(200, bodies[i], strlen(bodies[i]), NULL);
        form_robots_verdict_t v;
        form_robots_check(r, "/a", &v);
        form_robots_check(r, "", &v);
        form_robots_check(r, NULL, &v);
        form_robots_check(r, "no-slash", &v);
        form_robots_free(&r);
        cr_expect_null(r);
    }
    form_robots_free(NULL);
    form_robots_verdict_t v;
    form_robots_check(NULL, "/a", &v);
    cr_expect_not(v.allowed);
}
