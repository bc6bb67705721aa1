/* A run's targets may not name internal addresses (issue 9), against a real gateway and a real
 * redis-server: loopback, private, link-local, CGNAT, the metadata service, unique-local and
 * link-local IPv6, v4-mapped IPv6, 0.0.0.0, localhost names and the odd IPv4 spellings a URL
 * parser reads as 127.0.0.1 (2130706433, 0x7f.1, 0177.0.0.1, 127.1) are refused when the run is
 * created, with a 400 problem naming the target by its index and URL, and nothing is queued;
 * a prospect whose website is internal is refused the same way. Public addresses pass, written
 * in their canonical form. ALLOW_PRIVATE_TARGETS=1 (tests only, logged as a warning at start)
 * lets loopback through, and nothing else. */
#include <criterion/criterion.h>
#include <string.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_targets, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

/* The run with targets ["a.example", <target>] is refused: 400 naming targets[1], its URL and
 * the kind of address. */
static void refused(const char *target, const char *url, const char *kind)
{
    const char *body = jf_body(hr_fmt("[\"a.example\",\"%s\"]", target), SUBMIT_ONLY);
    hr_resp_t *r = hr_post(gw, JF_RUN, body);
    cr_assert_eq(r->status, 400, "%s: expected 400, got %s", target, hr_describe(r));
    hr_assert_problem(r, 400, "invalid-field", "targets[1]");
    const char *d = hr_jstr(hr_json(r), "detail");
    cr_assert(d && strstr(d, "targets[1]") && strstr(d, url) && strstr(d, "internal address") &&
                  strstr(d, kind),
              "%s: the problem should name targets[1], %s and %s: %s", target, url, kind,
              hr_describe(r));
}

static const struct {
    const char *target, *url, *kind;
} INTERNAL[] = {
    {"http://127.0.0.1/", "http://127.0.0.1/", "loopback"},
    {"127.0.0.1:8080/admin", "https://127.0.0.1:8080/admin", "loopback"},
    {"http://2130706433/", "http://127.0.0.1/", "loopback"},
    {"http://0x7f.1/", "http://127.0.0.1/", "loopback"},
    {"http://0177.0.0.1/", "http://127.0.0.1/", "loopback"},
    {"http://127.1/", "http://127.0.0.1/", "loopback"},
    {"http://[::1]/", "http://[::1]/", "loopback"},
    {"http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]/", "loopback"},
    {"http://app.localhost/", "http://app.localhost/", "loopback"},
    {"http://10.1.2.3/", "http://10.1.2.3/", "private"},
    {"http://172.16.0.10/", "http://172.16.0.10/", "private"},
    {"http://192.168.1.1/", "http://192.168.1.1/", "private"},
    {"http://3232235777/", "http://192.168.1.1/", "private"},
    {"http://[fd12:3456::1]/", "http://[fd12:3456::1]/", "private"},
    {"http://db.internal/", "http://db.internal/", "private"},
    {"http://169.254.169.254/latest/meta-data/", "http://169.254.169.254/latest/meta-data/",
     "metadata"},
    {"http://0xa9fea9fe/", "http://169.254.169.254/", "metadata"},
    {"http://[::ffff:169.254.169.254]/", "http://[::ffff:169.254.169.254]/", "metadata"},
    {"http://metadata.google.internal/", "http://metadata.google.internal/", "metadata"},
    {"http://169.254.10.1/", "http://169.254.10.1/", "link-local"},
    {"http://[fe80::1]/", "http://[fe80::1]/", "link-local"},
    {"http://100.64.0.1/", "http://100.64.0.1/", "CGNAT"},
    {"http://0.0.0.0/", "http://0.0.0.0/", "unspecified"},
    {"http://224.0.0.1/", "http://224.0.0.1/", "reserved"},
};

Test(jobs_targets, internal_targets_are_refused_when_the_run_is_created)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
    for (size_t i = 0; i < sizeof INTERNAL / sizeof INTERNAL[0]; i++)
        refused(INTERNAL[i].target, INTERNAL[i].url, INTERNAL[i].kind);
    /* the object form, and a number that is no address */
    hr_resp_t *r = hr_post(
        gw, JF_RUN, jf_body("[{\"url\":\"a.example\"},{\"url\":\"http://127.0.0.2/x\"}]", NULL));
    hr_assert_problem(r, 400, "invalid-field", "targets[1]");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "http://127.0.0.2/x"), "%s", hr_describe(r));
    r = hr_post(gw, JF_RUN, jf_body("[\"a.example\",\"http://1.2.3.256/\"]", NULL));
    hr_assert_problem(r, 400, "invalid-field", "targets[1]");
    /* nothing was queued or created */
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:form"), 0);
    cr_assert_eq(jf_rint(rd, -1, "LLEN pa:ready:mcp"), 0);
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:jobs"), 0);

    /* public addresses pass, in their canonical form */
    const char *jid = jf_run(gw, jf_body("[\"http://93.184.216.34/\",\"http://1.0x1.257/\","
                                         "\"http://[2606:4700:4700:0::1111]:8443/\"]",
                                         SUBMIT_ONLY));
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 3, "%s", hr_jdump(tasks));
    cr_assert(jf_task_by_target(tasks, "http://93.184.216.34/"), "%s", hr_jdump(tasks));
    cr_assert(jf_task_by_target(tasks, "http://1.1.1.1/"), "%s", hr_jdump(tasks));
    cr_assert(jf_task_by_target(tasks, "http://[2606:4700:4700::1111]:8443/"), "%s",
              hr_jdump(tasks));
}

Test(jobs_targets, a_prospect_whose_website_is_internal_is_refused)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
    json_t *p = hr_must_create(gw, "/api/prospects",
                               "{\"name\":\"Ann\",\"company\":\"Intra\",\"website\":"
                               "\"http://10.0.0.5/contact\"}");
    const char *id = hr_jstr(p, "id");
    hr_resp_t *r = hr_post(gw, JF_RUN,
                           hr_fmt("{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\","
                                  "\"email\":\"s@x.example\"},\"prospect_ids\":[\"%s\"]}",
                                  id));
    hr_assert_problem(r, 400, "invalid-field", "prospect_ids[0]");
    const char *d = hr_jstr(hr_json(r), "detail");
    cr_assert(d && strstr(d, "http://10.0.0.5/contact") && strstr(d, "private"), "%s",
              hr_describe(r));
}

Test(jobs_targets, allow_private_targets_lets_loopback_through_and_nothing_else)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"ALLOW_PRIVATE_TARGETS=1", NULL});
    const char *out = hr_gateway_output(gw);
    cr_assert(strstr(out, "ALLOW_PRIVATE_TARGETS is on") && strstr(out, "\"warn\""),
              "no warning at start: %s", out);
    const char *jid = jf_run(
        gw, jf_body("[\"http://127.0.0.1:8080/\",\"http://0x7f.1/\",\"http://[::1]/\"]", NULL));
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 3, "%s", hr_jdump(tasks));
    refused("http://169.254.169.254/", "http://169.254.169.254/", "metadata");
    refused("http://10.1.2.3/", "http://10.1.2.3/", "private");
    refused("http://[fe80::1]/", "http://[fe80::1]/", "link-local");
    refused("http://100.64.0.1/", "http://100.64.0.1/", "CGNAT");
}
