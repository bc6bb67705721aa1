/* The mcp worker's pure parts (workers/mcp/mcp_result.h): what a tool's result means, the domain
 * of a target, arguments against an input schema, and the cache key of a call. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "mcp_result.h"

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    cr_assert(j, "bad JSON in the test: %s", s);
    return j;
}

static void value_is(const char *result, const char *want)
{
    json_t *r = J(result), *v = mcp_result_value(r), *w = want ? J(want) : NULL;
    if (!want) cr_assert_null(v, "%s", json_dumps(v, JSON_COMPACT));
    else cr_assert(json_equal(v, w), "got %s", v ? json_dumps(v, JSON_COMPACT) : "NULL");
    json_decref(r);
    json_decref(v);
    json_decref(w);
}

Test(mcp_result, value_prefers_structured_content)
{
    value_is("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}],"
             "\"structuredContent\":{\"name\":\"Acme\"}}",
             "{\"name\":\"Acme\"}");
}

Test(mcp_result, value_parses_json_text_else_keeps_the_text)
{
    value_is("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}", "{\"a\":1}");
    value_is("{\"content\":[{\"type\":\"text\",\"text\":\"[1,2]\"}]}", "[1,2]");
    value_is("{\"content\":[{\"type\":\"text\",\"text\":\"Acme makes\"},"
             "{\"type\":\"image\",\"data\":\"x\"},{\"type\":\"text\",\"text\":\"rockets\"}]}",
             "{\"text\":\"Acme makes\\nrockets\"}");
    value_is("{\"content\":[{\"type\":\"text\",\"text\":\"42\"}]}", "{\"text\":\"42\"}");
    value_is("{\"content\":[]}", NULL);
    value_is("{}", NULL);
}

Test(mcp_result, ttl_ms)
{
    long long t = -1;
    json_t *r = J("{\"ttlMs\":1500}");
    cr_assert_eq(mcp_result_ttl_ms(r, &t), 1);
    cr_assert_eq(t, 1500);
    json_decref(r);
    r = J("{\"ttlMs\":-1}");
    cr_assert_eq(mcp_result_ttl_ms(r, &t), 0);
    json_decref(r);
    r = J("{\"ttlMs\":\"5\"}");
    cr_assert_eq(mcp_result_ttl_ms(r, &t), 0);
    json_decref(r);
    r = J("{}");
    cr_assert_eq(mcp_result_ttl_ms(r, &t), 0);
    json_decref(r);
}

static void domain_is(const char *target, const char *input, const char *want)
{
    json_t *in = input ? J(input) : NULL;
    char d[256];
    int rc = mcp_domain_of(target, in, d, sizeof d);
    if (want) {
        cr_assert_eq(rc, 0, "%s: no domain", target ? target : "(null)");
        cr_assert_str_eq(d, want);
    } else {
        cr_assert_eq(rc, -1, "%s: got %s", target ? target : "(null)", d);
        cr_assert_str_eq(d, "");
    }
    json_decref(in);
}

Test(mcp_result, domain_of_a_target)
{
    domain_is("https://www.Acme.example/contact?x=1", NULL, "acme.example");
    domain_is("http://user:pw@shop.acme.example:8080/", NULL, "shop.acme.example");
    domain_is("https://acme.example./", NULL, "acme.example");
    domain_is("https://www.example/", NULL, "www.example"); /* www is the name here */
    domain_is("https://127.0.0.1:9/", NULL, "127.0.0.1");   /* digits are labels too */
    domain_is("", "{\"website\":\"https://www.beta.example\"}", "beta.example");
    domain_is(NULL, "{\"email\":\"ada@Gamma.example\"}", "gamma.example");
    domain_is("http://[::1]/", NULL, NULL);
    domain_is("http://localhost/", "{\"email\":\"x\"}", NULL);
    domain_is(NULL, NULL, NULL);
}

Test(mcp_result, domain_valid)
{
    cr_assert(mcp_domain_valid("a.example"));
    cr_assert(mcp_domain_valid("x-y.b.example"));
    cr_assert_not(mcp_domain_valid("example"));
    cr_assert_not(mcp_domain_valid("-a.example"));
    cr_assert_not(mcp_domain_valid("a-.example"));
    cr_assert_not(mcp_domain_valid("a..example"));
    cr_assert_not(mcp_domain_valid("a.example/x"));
    cr_assert_not(mcp_domain_valid("a_b.example"));
    cr_assert_not(mcp_domain_valid(""));
}

static void args(const char *schema, const char *a, const char *want_err)
{
    json_t *s = J(schema), *v = J(a);
    char err[300] = "";
    int rc = mcp_args_check(s, v, err, sizeof err);
    if (want_err) {
        cr_assert_eq(rc, -1, "%s accepted", a);
        cr_assert_str_eq(err, want_err);
    } else {
        cr_assert_eq(rc, 0, "%s: %s", a, err);
    }
    json_decref(s);
    json_decref(v);
}

Test(mcp_result, arguments_against_the_schema)
{
    const char *s = "{\"type\":\"object\",\"properties\":{\"domain\":{\"type\":\"string\"},"
                    "\"limit\":{\"type\":\"integer\"},\"x\":{\"type\":[\"number\",\"null\"]}},"
                    "\"required\":[\"domain\"]}";
    args(s, "{\"domain\":\"a.example\"}", NULL);
    args(s, "{\"domain\":\"a.example\",\"limit\":3,\"x\":null,\"other\":1}", NULL);
    args(s, "{\"domain\":\"a.example\",\"limit\":3.0}", NULL);
    args(s, "{}", "arguments.domain: is required");
    args(s, "{\"domain\":5}", "arguments.domain: must be string, not an integer");
    args(s, "{\"domain\":\"a\",\"limit\":2.5}", "arguments.limit: must be integer, not a number");
    args(s, "{\"domain\":\"a\",\"x\":\"1\"}", "arguments.x: must be number or null, not a string");
    args(s, "[]", "arguments: must be an object");
    args("{\"properties\":{},\"additionalProperties\":false}", "{\"a\":1}",
         "arguments.a: is not a parameter of this tool");
    args("true", "{\"a\":1}", NULL);
}

Test(mcp_result, cache_key_is_canonical)
{
    char a[MCP_CACHE_KEY_MAX], b[MCP_CACHE_KEY_MAX], c[MCP_CACHE_KEY_MAX];
    json_t *x = J("{\"domain\":\"a.example\",\"n\":{\"b\":1,\"a\":2}}");
    json_t *y = J("{\"n\":{\"a\":2,\"b\":1},\"domain\":\"a.example\"}");
    json_t *z = J("{\"domain\":\"b.example\",\"n\":{\"b\":1,\"a\":2}}");
    cr_assert_eq(mcp_cache_key("pa:", "acme", "enrich_company", x, a, sizeof a), 0);
    cr_assert_eq(mcp_cache_key("pa:", "acme", "enrich_company", y, b, sizeof b), 0);
    cr_assert_eq(mcp_cache_key("pa:", "acme", "enrich_company", z, c, sizeof c), 0);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    cr_assert_eq(strncmp(a, "pa:mcp:cache:acme:enrich_company:", 33), 0, "%s", a);
    cr_assert_eq(strlen(a), 33 + 64);
    /* another tool or server is another key; an odd tool name does not reach the key */
    cr_assert_eq(mcp_cache_key("pa:", "acme", "lookup", x, b, sizeof b), 0);
    cr_assert_str_neq(a, b);
    cr_assert_eq(mcp_cache_key("pa:", "acme", "a b:c", x, b, sizeof b), 0);
    cr_assert_eq(strncmp(b, "pa:mcp:cache:acme:~:", 20), 0, "%s", b);
    cr_assert_eq(mcp_cache_key("pa:", "acme", "enrich_company", x, c, 40), -1);
    json_decref(x);
    json_decref(y);
    json_decref(z);
}
