/* gw_valid and gw_text: checks that pass, or answer one 400 invalid-field problem (the first
 * failure wins, later checks do nothing); the pure predicates; and the default sender the
 * gateway's configuration makes of SENDER_*. */
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config.h"
#include "gw_http.h"
#include "gw_text.h"
#include "gw_valid.h"

static gw_req_t req;

static void reset(void)
{
    if (req.resp) MHD_destroy_response(req.resp);
    memset(&req, 0, sizeof req);
    req.path = "/api/test";
    strcpy(req.request_id, "rid-1");
}

static void fini(void)
{
    reset();
    static const char *const vars[] = {"SENDER_NAME",  "SENDER_EMAIL", "SENDER_COMPANY",
                                       "SENDER_PHONE", "SENDER_TITLE", "SENDER_WEBSITE"};
    for (size_t i = 0; i < 6; i++) unsetenv(vars[i]);
}

TestSuite(valid, .init = reset, .fini = fini);

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, JSON_ALLOW_NUL, NULL);
    cr_assert(j, "bad test JSON %s", s);
    return j;
}

Test(valid, a_passing_check_answers_nothing)
{
    gw_valid_t v = GW_VALID(&req);
    json_t *o = J("{\"name\":\"Ada\",\"flag\":true}");
    cr_assert_str_eq(gw_valid_str(&v, o, "name", "name", 1, 10), "Ada");
    cr_assert_eq(gw_valid_bool(&v, o, "flag", "flag", 0), 1);
    cr_assert_eq(gw_valid_bool(&v, o, "absent", "absent", 1), 1, "the default when absent");
    static const char *const ok[] = {"name", "flag", NULL};
    cr_assert_eq(gw_valid_only(&v, o, "", ok), 0);
    cr_assert_not(v.failed);
    cr_assert_null(req.resp);
    json_decref(o);
}

Test(valid, the_first_failure_answers_400_and_later_checks_do_nothing)
{
    gw_valid_t v = GW_VALID(&req);
    json_t *o = J("{\"name\":\"\",\"n\":5}");
    cr_assert_null(gw_valid_str(&v, o, "name", "name", 1, 10));
    cr_assert(v.failed);
    cr_assert_eq(req.status, 400);
    struct MHD_Response *first = req.resp;
    cr_assert_not_null(first);
    cr_assert_null(gw_valid_str(&v, o, "missing", "missing", 1, 10), "no-op once failed");
    cr_assert_eq(gw_valid_fail(&v, "x", "another"), -1);
    cr_assert_eq(req.resp, first, "a later check replaced the first problem");
    json_decref(o);
}

Test(valid, strings_count_characters_not_bytes_and_refuse_nul)
{
    json_t *o = J("{\"a\":\"\\u00e9\\u00e9\",\"b\":\"x\\u0000y\",\"c\":3}");
    gw_valid_t v = GW_VALID(&req);
    cr_assert_not_null(gw_valid_str(&v, o, "a", "a", 1, 2), "2 characters in 4 bytes");
    v = GW_VALID(&req);
    cr_assert_null(gw_valid_str(&v, o, "b", "b", 0, 10));
    cr_assert(v.failed, "a NUL byte passed");
    reset();
    v = GW_VALID(&req);
    cr_assert_null(gw_valid_str(&v, o, "c", "c", 0, 10));
    cr_assert(v.failed, "a number passed as a string");
    json_decref(o);
}

Test(valid, unknown_members_fail)
{
    gw_valid_t v = GW_VALID(&req);
    json_t *o = J("{\"name\":\"a\",\"fax\":1}");
    static const char *const ok[] = {"name", NULL};
    cr_assert_eq(gw_valid_only(&v, o, "sender", ok), -1);
    cr_assert_eq(req.status, 400);
    json_decref(o);
}

Test(valid, senders)
{
    static const struct {
        const char *json;
        int ok;
    } cases[] = {
        {"{\"name\":\"S\",\"email\":\"s@x.example\"}", 1},
        {"{\"name\":\"S\",\"email\":\"s@x.example\",\"company\":\"\",\"phone\":\"+1\","
         "\"title\":\"CEO\",\"website\":\"https://x.example\"}",
         1},
        {"{\"email\":\"s@x.example\"}", 0},
        {"{\"name\":\"S\"}", 0},
        {"{\"name\":\"S\",\"email\":\"nope\"}", 0},
        {"{\"name\":\"S\",\"email\":\"s@x.example\",\"fax\":\"1\"}", 0},
        {"[]", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset();
        gw_valid_t v = GW_VALID(&req);
        json_t *s = J(cases[i].json);
        int rc = gw_valid_sender(&v, s, "sender");
        cr_assert_eq(rc == 0, cases[i].ok, "%s: %d", cases[i].json, rc);
        json_decref(s);
    }
}

Test(valid, llm_params_and_variables)
{
    static const struct {
        const char *json;
        int params_ok, vars_ok;
    } cases[] = {
        {"{\"temperature\":0,\"top_p\":1,\"max_tokens\":50,\"stop\":[\"a\"],\"seed\":1}", 1, 0},
        {"{\"temperature\":0,\"seed\":1,\"name\":\"Ada\"}", 0, 1},
        {"{\"temperature\":3}", 0, 1},
        {"{\"max_tokens\":0}", 0, 1},
        {"{\"stop\":[]}", 0, 0},
        {"{\"nope\":1}", 0, 1},
        {"{\"bad name\":1}", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = J(cases[i].json);
        reset();
        gw_valid_t v = GW_VALID(&req);
        cr_assert_eq(gw_valid_llm_params(&v, o, "params") == 0, cases[i].params_ok, "params %s",
                     cases[i].json);
        reset();
        v = GW_VALID(&req);
        cr_assert_eq(gw_valid_variables(&v, o, "variables") == 0, cases[i].vars_ok, "variables %s",
                     cases[i].json);
        json_decref(o);
    }
}

Test(valid, limits)
{
    size_t out = 0;
    gw_valid_t v = GW_VALID(&req);
    cr_assert_eq(gw_valid_limit(&v, NULL, 50, 500, &out), 0);
    cr_assert_eq(out, 50);
    cr_assert_eq(gw_valid_limit(&v, "500", 50, 500, &out), 0);
    cr_assert_eq(out, 500);
    cr_assert_eq(gw_valid_limit(&v, "501", 50, 500, &out), -1);
    reset();
    v = GW_VALID(&req);
    cr_assert_eq(gw_valid_limit(&v, "1x", 50, 500, &out), -1);
}

Test(valid, text_predicates)
{
    cr_assert(gw_id_valid("c-001_A.b", 9));
    cr_assert_not(gw_id_valid("", 0));
    cr_assert_not(gw_id_valid("a/b", 3));
    char longid[GW_ID_MAX + 2];
    memset(longid, 'a', sizeof longid);
    cr_assert(gw_id_valid(longid, GW_ID_MAX));
    cr_assert_not(gw_id_valid(longid, GW_ID_MAX + 1));
    cr_assert(gw_email_valid("a@b.co", 6));
    cr_assert_not(gw_email_valid("a@b", 3));
    cr_assert_not(gw_email_valid("a@@b.co", 7));
    cr_assert_not(gw_email_valid("a b@c.co", 8));
    cr_assert_not(gw_email_valid("a@.co", 5));
}

Test(valid, the_default_sender_comes_from_sender_variables)
{
    gw_config_t c;
    char err[256];
    cr_assert_eq(gw_config_load(&c, err, sizeof err), 0, "%s", err);
    cr_assert_null(c.sender_json, "no SENDER_*: no default sender");
    gw_config_free(&c);
    setenv("SENDER_NAME", "Sam", 1);
    setenv("SENDER_EMAIL", "sam@seller.example", 1);
    setenv("SENDER_TITLE", "CEO", 1);
    cr_assert_eq(gw_config_load(&c, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(c.sender_json,
                     "{\"name\":\"Sam\",\"email\":\"sam@seller.example\",\"title\":\"CEO\"}");
    gw_config_free(&c);
    unsetenv("SENDER_NAME");
    cr_assert_eq(gw_config_load(&c, err, sizeof err), -1);
    cr_assert(strstr(err, "SENDER_NAME"), "%s", err);
    gw_config_free(&c);
    setenv("SENDER_NAME", "Sam", 1);
    setenv("SENDER_EMAIL", "nope", 1);
    cr_assert_eq(gw_config_load(&c, err, sizeof err), -1);
    cr_assert(strstr(err, "SENDER_EMAIL"), "%s", err);
    gw_config_free(&c);
}
