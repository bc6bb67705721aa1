/* The headers MCP 2026-07-28 derives from a request (workers/mcp/mcp_headers.c): Mcp-Param-*
 * values (plain or Base64), x-mcp-header validation, the header lines of a tools/call. The
 * cases are those of the conformance suite's http-custom-headers and
 * http-invalid-tool-headers scenarios. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "mcp_headers.h"

static pa_buf_t out;

static void teardown(void)
{
    pa_buf_free(&out);
}

TestSuite(mcp_headers, .fini = teardown);

static const char *enc(const char *s)
{
    pa_buf_reset(&out);
    mcp_header_value_encode(&out, s, strlen(s));
    return out.len ? out.data : "";
}

static const char *param(json_t *v)
{
    pa_buf_reset(&out);
    int rc = mcp_param_value(&out, v);
    json_decref(v);
    if (rc == 1) return "<none>";
    if (rc < 0) return "<bad>";
    return out.len ? out.data : "";
}

Test(mcp_headers, plain_values)
{
    cr_assert(mcp_header_value_plain("us-west1", 8));
    cr_assert(mcp_header_value_plain("us west 1", 9));
    cr_assert(mcp_header_value_plain("", 0));
    cr_assert(mcp_header_value_plain("SELECT * FROM users", 19));
    cr_assert_not(mcp_header_value_plain(" padded ", 8));
    cr_assert_not(mcp_header_value_plain(" us-west1", 9));
    cr_assert_not(mcp_header_value_plain("us-west1 ", 9));
    cr_assert_not(mcp_header_value_plain("\tindented", 9));
    cr_assert_not(mcp_header_value_plain("line1\nline2", 11));
    cr_assert_not(mcp_header_value_plain("a\x7f", 2));
    cr_assert_not(mcp_header_value_plain("Hello, \xe4\xb8\x96\xe7\x95\x8c", 13));
}

Test(mcp_headers, base64_values)
{
    cr_assert_str_eq(enc("us-west1"), "us-west1");
    cr_assert_str_eq(enc(""), "");
    cr_assert_str_eq(enc(" padded "), "=?base64?IHBhZGRlZCA=?=");
    cr_assert_str_eq(enc("Hello, \xe4\xb8\x96\xe7\x95\x8c"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
    cr_assert_str_eq(enc("line1\r\nline2"), "=?base64?bGluZTENCmxpbmUy?=");
    cr_assert_str_eq(enc("\tindented"), "=?base64?CWluZGVudGVk?=");
    cr_assert_str_eq(enc(" "), "=?base64?IA==?=");
    cr_assert_str_eq(enc("ab "), "=?base64?YWIg?=");
}

Test(mcp_headers, argument_values)
{
    cr_assert_str_eq(param(json_integer(42)), "42");
    cr_assert_str_eq(param(json_integer(-7)), "-7");
    cr_assert_str_eq(param(json_true()), "true");
    cr_assert_str_eq(param(json_false()), "false");
    cr_assert_str_eq(param(json_real(3.14159)), "3.14159");
    cr_assert_str_eq(param(json_real(0.1)), "0.1");
    cr_assert_str_eq(param(json_string("test-method")), "test-method");
    cr_assert_str_eq(param(json_string("")), "");
    cr_assert_str_eq(param(json_null()), "<none>");
    cr_assert_str_eq(param(json_object()), "<bad>");
    cr_assert_str_eq(param(json_array()), "<bad>");
    pa_buf_reset(&out);
    cr_assert_eq(mcp_param_value(&out, NULL), 1);
}

Test(mcp_headers, names)
{
    cr_assert(mcp_header_name_valid("Region"));
    cr_assert(mcp_header_name_valid("X-Trace_id.1"));
    cr_assert_not(mcp_header_name_valid(""));
    cr_assert_not(mcp_header_name_valid(NULL));
    cr_assert_not(mcp_header_name_valid("My Region"));
    cr_assert_not(mcp_header_name_valid("Region:Primary"));
    cr_assert_not(mcp_header_name_valid("R\xc3\xa9gion"));
    cr_assert_not(mcp_header_name_valid("Region\t1"));
    char longname[MCP_HEADER_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    cr_assert_not(mcp_header_name_valid(longname));
    longname[MCP_HEADER_NAME_MAX] = 0;
    cr_assert(mcp_header_name_valid(longname));
}

static int check(const char *tool_json)
{
    json_error_t e;
    json_t *tool = json_loads(tool_json, 0, &e);
    cr_assert_not_null(tool, "%s", e.text);
    char err[256] = "";
    int rc = mcp_tool_headers_check(tool, err, sizeof err);
    if (rc != 0) cr_assert(err[0] != 0);
    json_decref(tool);
    return rc;
}

#define PROP(name, type, header)                                                                   \
    "{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"" name                 \
    "\":{\"type\":\"" type "\",\"x-mcp-header\":" header "}}}}"

Test(mcp_headers, tool_validation)
{
    cr_assert_eq(check("{\"name\":\"t\"}"), 0);
    cr_assert_eq(check("{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}"), 0);
    cr_assert_eq(check(PROP("region", "string", "\"Region\"")), 0);
    cr_assert_eq(check(PROP("n", "integer", "\"N\"")), 0);
    cr_assert_eq(check(PROP("b", "boolean", "\"B\"")), 0);
    cr_assert_eq(check(PROP("v", "string", "\"\"")), -1);
    cr_assert_eq(check(PROP("v", "object", "\"Data\"")), -1);
    cr_assert_eq(check(PROP("v", "array", "\"Items\"")), -1);
    cr_assert_eq(check(PROP("v", "null", "\"Nil\"")), -1);
    cr_assert_eq(check(PROP("v", "number", "\"Score\"")), -1);
    cr_assert_eq(check(PROP("v", "string", "\"My Region\"")), -1);
    cr_assert_eq(check(PROP("v", "string", "\"Region:Primary\"")), -1);
    cr_assert_eq(check(PROP("v", "string", "\"R\\u00e9gion\"")), -1);
    cr_assert_eq(check(PROP("v", "string", "\"Region\\t1\"")), -1);
    cr_assert_eq(check(PROP("v", "string", "5")), -1);
    cr_assert_eq(check("{\"name\":\"t\",\"inputSchema\":{\"properties\":{"
                       "\"a\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
                       "\"b\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"}}}}"),
                 -1);
    cr_assert_eq(check("{\"name\":\"t\",\"inputSchema\":{\"properties\":{"
                       "\"a\":{\"type\":\"string\",\"x-mcp-header\":\"MyField\"},"
                       "\"b\":{\"type\":\"string\",\"x-mcp-header\":\"myfield\"}}}}"),
                 -1);
}

Test(mcp_headers, call_lines)
{
    json_error_t e;
    json_t *tool = json_loads(
        "{\"name\":\"test_custom_headers\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
        "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
        "\"priority\":{\"type\":\"integer\",\"x-mcp-header\":\"Priority\"},"
        "\"verbose\":{\"type\":\"boolean\",\"x-mcp-header\":\"Verbose\"},"
        "\"empty_val\":{\"type\":\"string\",\"x-mcp-header\":\"EmptyVal\"},"
        "\"method_val\":{\"type\":\"string\",\"x-mcp-header\":\"Method\"},"
        "\"non_ascii\":{\"type\":\"string\",\"x-mcp-header\":\"NonAscii\"},"
        "\"float_val\":{\"type\":\"number\"},"
        "\"query\":{\"type\":\"string\"}}}}",
        0, &e);
    cr_assert_not_null(tool, "%s", e.text);
    json_t *args = json_loads("{\"region\":\"us-west1\",\"priority\":42,\"verbose\":null,"
                              "\"empty_val\":\"\",\"method_val\":\"test-method\","
                              "\"non_ascii\":\"Hello, \\u4e16\\u754c\",\"float_val\":3.14,"
                              "\"query\":\"SELECT 1\"}",
                              0, &e);
    cr_assert_not_null(args, "%s", e.text);
    size_t n = 0;
    char **lines = mcp_tool_param_headers(tool, args, &n);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(lines[0], "Mcp-Param-Region: us-west1");
    cr_assert_str_eq(lines[1], "Mcp-Param-Priority: 42");
    cr_assert_str_eq(lines[2], "Mcp-Param-EmptyVal;");
    cr_assert_str_eq(lines[3], "Mcp-Param-Method: test-method");
    cr_assert_str_eq(lines[4], "Mcp-Param-NonAscii: =?base64?SGVsbG8sIOS4lueVjA==?=");
    cr_assert_null(lines[5]);
    mcp_header_lines_free(lines);

    lines = mcp_tool_param_headers(tool, NULL, &n); /* no arguments: no header */
    cr_assert_eq(n, 0);
    cr_assert_null(lines[0]);
    mcp_header_lines_free(lines);
    json_decref(tool);
    json_decref(args);
}
