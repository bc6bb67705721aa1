/* /api/campaigns: create (201 + Location), defaults, get, list ordered by id, validation and
 * duplicate ids. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

TestSuite(campaigns, .init = setup, .fini = hr_cleanup, .timeout = 40);

static const char *TIDAL = "{\"id\":\"c-001\",\"name\":\"Tidal Q1 SaaS outreach\","
                           "\"channel\":\"linkedin\",\"sent\":1548,\"opens\":607,\"clicks\":144,"
                           "\"responses\":80}";

static const char *COUNTERS[] = {"sent", "opens", "clicks", "responses", NULL};

Test(campaigns, create_full_then_get)
{
    hr_resp_t *r = hr_post(gw, "/api/campaigns", TIDAL);
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    const char *ct = hr_header(r, "Content-Type");
    cr_assert(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type %s", ct ? ct : "-");
    cr_assert_str_eq(hr_header(r, "Location") ? hr_header(r, "Location") : "(none)",
                     "/api/campaigns/c-001");
    json_t *want = hr_jparse(TIDAL);
    cr_assert(json_equal(hr_json(r), want), "created %s", hr_describe(r));
    r = hr_get(gw, "/api/campaigns/c-001");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_equal(hr_json(r), want), "GET %s", hr_describe(r));
}

Test(campaigns, create_minimal_gets_defaults_and_generated_id)
{
    hr_resp_t *r = hr_post(gw, "/api/campaigns", "{\"name\":\"Spring push\"}");
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    json_t *c = hr_json(r);
    const char *id = hr_jstr(c, "id");
    cr_assert(id && strncmp(id, "c-", 2) == 0 && strlen(id) == 28, "id is not c-<ulid>: %s",
              hr_describe(r));
    for (const char *p = id + 2; *p; p++)
        cr_assert(strchr("0123456789abcdefghjkmnpqrstvwxyz", tolower((unsigned char)*p)),
                  "id %s is not Crockford base32", id);
    cr_assert_str_eq(hr_header(r, "Location") ? hr_header(r, "Location") : "(none)",
                     hr_fmt("/api/campaigns/%s", id));
    cr_assert_str_eq(hr_jstr(c, "name"), "Spring push");
    cr_assert_str_eq(hr_jstr(c, "channel") ? hr_jstr(c, "channel") : "(none)", "contact_form",
                     "default channel: %s", hr_describe(r));
    for (int i = 0; COUNTERS[i]; i++) {
        json_t *v = json_object_get(c, COUNTERS[i]);
        cr_assert(json_is_integer(v) && json_integer_value(v) == 0, "%s should default to 0: %s",
                  COUNTERS[i], hr_describe(r));
    }
    r = hr_get(gw, hr_fmt("/api/campaigns/%s", id));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_equal(hr_json(r), c), "GET differs from 201: %s", hr_describe(r));
}

Test(campaigns, every_channel_is_accepted)
{
    const char *ch[] = {"contact_form", "email", "linkedin"};
    for (int i = 0; i < 3; i++) {
        json_t *c = hr_must_create(gw, "/api/campaigns",
                                   hr_fmt("{\"name\":\"C %d\",\"channel\":\"%s\"}", i, ch[i]));
        cr_assert_str_eq(hr_jstr(c, "channel"), ch[i]);
    }
}

Test(campaigns, list_is_ordered_by_id)
{
    hr_resp_t *r = hr_get(gw, "/api/campaigns");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert(json_is_array(hr_json(r)) && json_array_size(hr_json(r)) == 0, "empty: %s",
              hr_describe(r));
    const char *ids[] = {"c-003", "c-001", "c-010", "c-002"};
    for (int i = 0; i < 4; i++)
        hr_must_create(
            gw, "/api/campaigns",
            hr_fmt("{\"id\":\"%s\",\"name\":\"Campaign %s\",\"sent\":%d}", ids[i], ids[i], i * 10));
    json_t *gen = hr_must_create(gw, "/api/campaigns", "{\"name\":\"Generated\"}");
    const char *gid = hr_jstr(gen, "id");
    r = hr_get(gw, "/api/campaigns");
    cr_assert_eq(r->status, 200);
    json_t *arr = hr_json(r);
    cr_assert_eq(json_array_size(arr), 5, "%s", hr_describe(r));
    const char *want[] = {"c-001", "c-002", "c-003", "c-010", gid};
    for (size_t i = 1; i < 5; i++) {
        const char *a = hr_jstr(json_array_get(arr, i - 1), "id");
        const char *b = hr_jstr(json_array_get(arr, i), "id");
        cr_assert(a && b && strcmp(a, b) < 0, "not ordered by id at %zu: %s", i, hr_describe(r));
    }
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t k = 0; k < 5; k++)
            found += strcmp(hr_jstr(json_array_get(arr, k), "id"), want[i]) == 0;
        cr_assert_eq(found, 1, "%s listed %d times: %s", want[i], found, hr_describe(r));
    }
    /* the listed objects are whole campaigns */
    json_t *first = json_array_get(arr, 0);
    cr_assert_str_eq(hr_jstr(first, "name"), "Campaign c-001");
    cr_assert_eq(hr_jint(first, "sent", -1), 10);
    cr_assert_str_eq(hr_jstr(first, "channel"), "contact_form");
}

Test(campaigns, unknown_id_is_404)
{
    hr_assert_problem(hr_get(gw, "/api/campaigns/c-nope"), 404, "not-found", NULL);
}

Test(campaigns, duplicate_id_is_409)
{
    hr_must_create(gw, "/api/campaigns", TIDAL);
    hr_resp_t *r = hr_post(gw, "/api/campaigns", "{\"id\":\"c-001\",\"name\":\"Other\"}");
    hr_assert_problem(r, 409, "conflict", NULL);
    cr_assert_str_eq(hr_jstr(hr_json(hr_get(gw, "/api/campaigns/c-001")), "name"),
                     "Tidal Q1 SaaS outreach");
}

Test(campaigns, invalid_fields_are_400_naming_the_field)
{
    const char *n201 = hr_fmt("%0201d", 0);
    struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{}", "name"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":5}", "name"},
        {hr_fmt("{\"name\":\"%s\"}", n201), "name"},
        {"{\"name\":\"N\",\"channel\":\"fax\"}", "channel"},
        {"{\"name\":\"N\",\"sent\":-1}", "sent"},
        {"{\"name\":\"N\",\"opens\":1.5}", "opens"},
        {"{\"name\":\"N\",\"clicks\":\"3\"}", "clicks"},
        {"{\"name\":\"N\",\"responses\":true}", "responses"},
        {"{\"id\":\"bad id\",\"name\":\"N\"}", "id"},
        {hr_fmt("{\"id\":\"%065d\",\"name\":\"N\"}", 0), "id"},
        {"{\"name\":\"N\",\"budget\":100}", "budget"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_resp_t *r = hr_post(gw, "/api/campaigns", cases[i].body);
        cr_expect_eq(r->status, 400, "case %zu (%.80s): %s", i, cases[i].body, hr_describe(r));
        if (r->status != 400) continue;
        json_t *j = hr_json(r);
        const char *type = hr_jstr(j, "type"), *field = hr_jstr(j, "field");
        cr_expect(type && strstr(type, "/problems/invalid-field"), "case %zu: %s", i, hr_jdump(j));
        cr_expect(field && strcmp(field, cases[i].field) == 0,
                  "case %zu (%.80s): field should be \"%s\": %s", i, cases[i].body, cases[i].field,
                  hr_jdump(j));
    }
    hr_resp_t *r = hr_get(gw, "/api/campaigns");
    cr_assert_eq(json_array_size(hr_json(r)), 0, "rejected campaigns were stored: %s",
                 hr_describe(r));
}

Test(campaigns, boundaries_accepted)
{
    const char *e200 = "";
    for (int i = 0; i < 200; i++) e200 = hr_fmt("%sé", e200);
    json_t *c = hr_must_create(gw, "/api/campaigns", hr_fmt("{\"name\":\"%s\",\"sent\":0}", e200));
    cr_assert_str_eq(hr_jstr(c, "name"), e200);
    c = hr_must_create(gw, "/api/campaigns",
                       "{\"name\":\"Big\",\"sent\":4000000000,\"opens\":0,\"clicks\":0,"
                       "\"responses\":0}");
    cr_assert_eq(hr_jint(c, "sent", -1), 4000000000LL, "large counter: %s", hr_jdump(c));
}
