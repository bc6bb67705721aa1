/* ALLOWED_PRIVATE_TARGETS at the gateway (issue 11): a run may target exactly the non-public
 * addresses and ports the list names (the bundled demo sites, tests), said loudly at start;
 * another port of a listed address, another private address and any private name stay refused;
 * a malformed list stops the gateway with a message naming the bad item. */
#include <criterion/criterion.h>
#include <string.h>

#include "jobs_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(private_targets, .fini = jf_cleanup, .timeout = 60);

/* The run with targets ["a.example", <target>] is refused: 400 naming targets[1] and the kind. */
static void refused(const char *target, const char *kind)
{
    hr_resp_t *r = hr_post(gw, JF_RUN, jf_body(hr_fmt("[\"a.example\",\"%s\"]", target), NULL));
    cr_assert_eq(r->status, 400, "%s: expected 400, got %s", target, hr_describe(r));
    hr_assert_problem(r, 400, "invalid-field", "targets[1]");
    const char *d = hr_jstr(hr_json(r), "detail");
    cr_assert(d && strstr(d, "internal address") && strstr(d, kind), "%s: %s", target,
              hr_describe(r));
}

Test(private_targets, exactly_the_listed_addresses_and_ports_pass)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(
        rd, (const char *[]){"ALLOWED_PRIVATE_TARGETS=127.0.0.1:18400-18499,[::1]:18400", NULL});
    const char *out = hr_gateway_output(gw);
    cr_assert(strstr(out, "ALLOWED_PRIVATE_TARGETS is set") && strstr(out, "\"warn\"") &&
                  strstr(out, "127.0.0.1:18400-18499,[::1]:18400"),
              "no loud warning at start: %s", out);
    const char *jid = jf_run(gw, jf_body("[\"http://127.0.0.1:18400/\",\"http://127.0.0.1:18499/"
                                         "contact\",\"http://2130706433:18450/\","
                                         "\"http://[::1]:18400/\"]",
                                         NULL));
    json_t *tasks = jf_tasks(gw, jid, NULL);
    cr_assert_eq(json_array_size(tasks), 4, "%s", hr_jdump(tasks));
    cr_assert(jf_task_by_target(tasks, "http://127.0.0.1:18450/"), "%s", hr_jdump(tasks));
    refused("http://127.0.0.1:18500/", "loopback"); /* out of the range */
    refused("http://127.0.0.1:18399/", "loopback");
    refused("http://127.0.0.1/", "loopback");       /* port 80: not listed */
    refused("http://127.0.0.2:18450/", "loopback"); /* another loopback address */
    refused("http://[::1]:18401/", "loopback");
    refused("http://10.0.0.1:18450/", "private");
    refused("http://169.254.169.254:18450/", "metadata");
    refused("http://app.localhost:18450/", "loopback"); /* names are never exceptions */
}

Test(private_targets, a_malformed_list_stops_the_gateway_naming_the_item)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_spawn(
        rd, (const char *[]){"ALLOWED_PRIVATE_TARGETS=127.0.0.1:18400,10.0.0.1", NULL});
    cr_assert(hr_gateway_wait_exit(gw, 10000), "the gateway should refuse to start");
    const char *out = hr_gateway_output(gw);
    cr_assert(strstr(out, "ALLOWED_PRIVATE_TARGETS") && strstr(out, "'10.0.0.1'"), "%s", out);
}
