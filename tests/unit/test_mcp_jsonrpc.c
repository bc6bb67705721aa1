/* JSON-RPC 2.0 for MCP (workers/mcp/mcp_jsonrpc.c): classification, bounds, encoding. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "mcp_jsonrpc.h"

static mcp_msg_t m;
static pa_buf_t out;
static char err[256];

static void teardown(void)
{
    mcp_msg_free(&m);
    pa_buf_free(&out);
}

TestSuite(mcp_jsonrpc, .fini = teardown);

static int parse_flags(const char *s, unsigned flags)
{
    mcp_msg_free(&m);
    return mcp_jsonrpc_parse(s, strlen(s), 0, 0, flags, &m, err, sizeof err);
}

static int parse(const char *s)
{
    return parse_flags(s, 0);
}

/* s must be refused with code, and err must contain what. */
static void refused(const char *s, int code, const char *what)
{
    cr_assert_eq(parse(s), -1, "accepted: %s", s);
    cr_assert_eq(m.kind, MCP_MSG_INVALID);
    cr_assert_eq(m.invalid_code, code, "%s: code %d (%s)", s, m.invalid_code, err);
    cr_assert(strstr(err, what), "%s: the reason '%s' lacks '%s'", s, err, what);
}

Test(mcp_jsonrpc, request_with_integer_and_string_ids)
{
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}"), 0, "%s", err);
    cr_assert_eq(m.kind, MCP_MSG_REQUEST);
    cr_assert_eq(m.id.kind, MCP_ID_INT);
    cr_assert_eq(m.id.num, 7);
    cr_assert_str_eq(m.method, "ping");
    cr_assert_null(m.params);

    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"a-1\",\"method\":\"elicitation/create\","
                       "\"params\":{\"message\":\"hi\"}}"),
                 0, "%s", err);
    cr_assert_eq(m.kind, MCP_MSG_REQUEST);
    cr_assert_eq(m.id.kind, MCP_ID_STR);
    cr_assert_eq(m.id.len, 3);
    cr_assert_eq(memcmp(m.id.str, "a-1", 3), 0);
    cr_assert_str_eq(json_string_value(json_object_get(m.params, "message")), "hi");
    cr_assert_str_eq(mcp_msg_kind_name(m.kind), "request");
}

Test(mcp_jsonrpc, notification_result_and_error)
{
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                       "\"params\":{\"progress\":1}}"),
                 0);
    cr_assert_eq(m.kind, MCP_MSG_NOTIFICATION);
    cr_assert_eq(m.id.kind, MCP_ID_NONE);

    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]}}"), 0);
    cr_assert_eq(m.kind, MCP_MSG_RESULT);
    cr_assert(json_is_array(json_object_get(m.result, "tools")));
    cr_assert_null(m.method);

    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,"
                       "\"message\":\"Method not found\",\"data\":[1]}}"),
                 0);
    cr_assert_eq(m.kind, MCP_MSG_ERROR);
    cr_assert_eq(m.error.code, -32601);
    cr_assert_str_eq(m.error.message, "Method not found");
    cr_assert(json_is_array(m.error.data));

    /* an error answering an unreadable request: id null or absent */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                       "\"message\":\"Parse error\"}}"),
                 0);
    cr_assert_eq(m.kind, MCP_MSG_ERROR);
    cr_assert_eq(m.id.kind, MCP_ID_NONE);
    cr_assert_null(m.error.data);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Invalid\"}}"),
                 0);
    cr_assert_eq(m.kind, MCP_MSG_ERROR);
}

Test(mcp_jsonrpc, unsupported_version_error_lists_the_versions)
{
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":"
                       "\"Unsupported protocol version\",\"data\":{\"supported\":"
                       "[\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"],"
                       "\"requested\":\"2026-07-28\"}}}"),
                 0);
    const char *v[2], *req;
    size_t n;
    cr_assert_eq(mcp_rpc_error_supported_versions(&m.error, v, 2, &n, &req), 0);
    cr_assert_eq(n, 2); /* bounded by max */
    cr_assert_str_eq(v[0], "2025-11-25");
    cr_assert_str_eq(v[1], "2025-06-18");
    cr_assert_str_eq(req, "2026-07-28");

    /* another code, or data that is not a list of strings */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":"
                       "\"x\",\"data\":{\"supported\":[\"2025-11-25\"]}}}"),
                 0);
    cr_assert_eq(mcp_rpc_error_supported_versions(&m.error, v, 2, &n, &req), -1);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":"
                       "\"x\",\"data\":{\"supported\":[\"2025-11-25\",3]}}}"),
                 0);
    cr_assert_eq(mcp_rpc_error_supported_versions(&m.error, v, 2, &n, &req), -1);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":"
                       "\"x\",\"data\":{\"supported\":[]}}}"),
                 0);
    cr_assert_eq(mcp_rpc_error_supported_versions(&m.error, v, 2, &n, &req), -1);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":"
                       "\"x\"}}"),
                 0);
    cr_assert_eq(mcp_rpc_error_supported_versions(&m.error, v, 2, &n, &req), -1);
}

Test(mcp_jsonrpc, invalid_messages_say_why)
{
    refused("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}", MCP_RPC_INVALID_REQUEST,
            "id: must not be null");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}", MCP_RPC_INVALID_REQUEST,
            "id: must be a string or an integer");
    refused("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"x\"}", MCP_RPC_INVALID_REQUEST,
            "id: must be a string or an integer");
    refused("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", MCP_RPC_INVALID_REQUEST,
            "jsonrpc: must be \"2.0\"");
    refused("{\"id\":1,\"method\":\"x\"}", MCP_RPC_INVALID_REQUEST, "jsonrpc");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":{}}",
            MCP_RPC_INVALID_REQUEST, "either method or result");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"\"}}",
            MCP_RPC_INVALID_REQUEST, "either result or error");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_RPC_INVALID_REQUEST, "neither");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", MCP_RPC_INVALID_REQUEST,
            "method: must be a string");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", MCP_RPC_INVALID_REQUEST,
            "method: must be a string");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}",
            MCP_RPC_INVALID_REQUEST, "params: must be an object");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}", MCP_RPC_INVALID_REQUEST,
            "result: must be an object");
    refused("{\"jsonrpc\":\"2.0\",\"result\":{}}", MCP_RPC_INVALID_REQUEST,
            "a result needs a string or integer id");
    refused("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", MCP_RPC_INVALID_REQUEST,
            "a result needs");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"-1\",\"message\":\"m\"}}",
            MCP_RPC_INVALID_REQUEST, "error.code: must be an integer");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1.5,\"message\":\"m\"}}",
            MCP_RPC_INVALID_REQUEST, "error.code");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1}}", MCP_RPC_INVALID_REQUEST,
            "error.message: must be a string");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", MCP_RPC_INVALID_REQUEST,
            "error: must be an object");
    refused("\"hello\"", MCP_RPC_INVALID_REQUEST, "must be a JSON object");
    refused("{\"jsonrpc\":\"2.0\",", MCP_RPC_PARSE_ERROR, "not JSON");
    refused("", MCP_RPC_PARSE_ERROR, "not JSON");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"x\"}", MCP_RPC_PARSE_ERROR,
            "duplicate");
}

Test(mcp_jsonrpc, an_invalid_request_keeps_its_id_for_the_answer)
{
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"r9\",\"method\":\"x\",\"params\":7}"), -1);
    cr_assert_eq(m.id.kind, MCP_ID_STR);
    cr_assert_eq(memcmp(m.id.str, "r9", 2), 0);
    cr_assert_eq(mcp_jsonrpc_encode_error(&out, &m.id, m.invalid_code, err, NULL), 0);
    cr_assert(strstr(out.data, "\"id\":\"r9\",\"error\":{\"code\":-32600,"), "%s", out.data);
}

Test(mcp_jsonrpc, batches_refused_unless_allowed)
{
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},7]";
    refused(batch, MCP_RPC_INVALID_REQUEST, "batch");
    cr_assert_eq(parse_flags(batch, MCP_JSONRPC_ALLOW_BATCH), 0, "%s", err);
    cr_assert_eq(m.kind, MCP_MSG_BATCH);
    cr_assert_eq(json_array_size(m.root), 3);
    mcp_msg_t e;
    cr_assert_eq(mcp_jsonrpc_classify(json_array_get(m.root, 0), &e, err, sizeof err), 0);
    cr_assert_eq(e.kind, MCP_MSG_RESULT);
    cr_assert_null(e.root);
    cr_assert_eq(mcp_jsonrpc_classify(json_array_get(m.root, 1), &e, err, sizeof err), 0);
    cr_assert_eq(e.kind, MCP_MSG_NOTIFICATION);
    cr_assert_eq(mcp_jsonrpc_classify(json_array_get(m.root, 2), &e, err, sizeof err), -1);
    cr_assert_eq(e.kind, MCP_MSG_INVALID);
    mcp_msg_free(&e); /* owns nothing: a no-op */

    cr_assert_eq(parse_flags("[]", MCP_JSONRPC_ALLOW_BATCH), -1);
    cr_assert(strstr(err, "empty batch"));
    cr_assert_eq(parse_flags("[[{}]]", MCP_JSONRPC_ALLOW_BATCH), 0);
    cr_assert_eq(mcp_jsonrpc_classify(json_array_get(m.root, 0), &e, err, sizeof err), -1);
    cr_assert(strstr(err, "a batch inside a batch"));
}

Test(mcp_jsonrpc, size_and_depth_bounds)
{
    const char *s = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":{\"b\":[[1]]}}}";
    size_t n = strlen(s);
    cr_assert_eq(mcp_jsonrpc_parse(s, n, n, 5, 0, &m, err, sizeof err), 0, "%s", err);
    mcp_msg_free(&m);
    cr_assert_eq(mcp_jsonrpc_parse(s, n, n - 1, 5, 0, &m, err, sizeof err), -1);
    cr_assert_eq(m.invalid_code, MCP_RPC_PARSE_ERROR);
    cr_assert(strstr(err, "over the limit"), "%s", err);
    mcp_msg_free(&m);
    cr_assert_eq(mcp_jsonrpc_parse(s, n, n, 4, 0, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "nested deeper than 4"), "%s", err);
    mcp_msg_free(&m);

    /* brackets inside strings (escaped quotes too) do not count */
    const char *q = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"[[[[\\\"{{{{\"}}";
    cr_assert_eq(mcp_jsonrpc_parse(q, strlen(q), 0, 2, 0, &m, err, sizeof err), 0, "%s", err);
    cr_assert(mcp_json_depth_ok("[\"]\"]", 5, 1));
    cr_assert(!mcp_json_depth_ok("[[]]", 4, 1));
    cr_assert(mcp_json_depth_ok("]]]][", 5, 1));

    /* a deep document is refused before jansson recurses into it */
    size_t deep = 100000;
    char *d = malloc(deep * 2);
    memset(d, '[', deep);
    memset(d + deep, ']', deep);
    mcp_msg_free(&m);
    cr_assert_eq(mcp_jsonrpc_parse(d, deep * 2, 0, 0, MCP_JSONRPC_ALLOW_BATCH, &m, err, sizeof err),
                 -1);
    cr_assert(strstr(err, "nested deeper than 64"), "%s", err);
    free(d);
}

Test(mcp_jsonrpc, ids_compare_by_type_and_value)
{
    mcp_id_t a = mcp_id_int(1), b = mcp_id_str("1"), c = mcp_id_int(1), d = mcp_id_str("1");
    cr_assert(!mcp_id_eq(&a, &b));
    cr_assert(mcp_id_eq(&a, &c));
    cr_assert(mcp_id_eq(&b, &d));
    mcp_id_t e = mcp_id_str("12");
    cr_assert(!mcp_id_eq(&b, &e));
}

Test(mcp_jsonrpc, encodes_requests_and_notifications)
{
    json_t *p = json_pack("{s:s,s:{s:s}}", "name", "lookup", "arguments", "domain", "a\"b.io");
    mcp_id_t id = mcp_id_int(42);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "tools/call", p), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\","
                               "\"params\":{\"name\":\"lookup\",\"arguments\":"
                               "{\"domain\":\"a\\\"b.io\"}}}");
    pa_buf_reset(&out);
    id = mcp_id_str("req-\n1");
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "tools/list", NULL), 0);
    cr_assert_str_eq(out.data,
                     "{\"jsonrpc\":\"2.0\",\"id\":\"req-\\n1\",\"method\":\"tools/list\"}");
    pa_buf_reset(&out);
    cr_assert_eq(mcp_jsonrpc_encode_notification(&out, "notifications/initialized", NULL), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");

    /* what is encoded classifies back to the same */
    pa_buf_reset(&out);
    id = mcp_id_int(-3);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "tools/call", p), 0);
    cr_assert_eq(parse(out.data), 0);
    cr_assert_eq(m.kind, MCP_MSG_REQUEST);
    cr_assert(mcp_id_eq(&m.id, &id));
    cr_assert(json_equal(m.params, p));
    json_decref(p);
}

Test(mcp_jsonrpc, encodes_answers_to_server_requests)
{
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"roots/list\"}"), 0);
    cr_assert_eq(mcp_jsonrpc_encode_method_not_found(&out, &m), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"error\":{\"code\":-32601,"
                               "\"message\":\"Method not found\"}}");
    pa_buf_reset(&out);
    mcp_id_t id = mcp_id_int(5);
    cr_assert_eq(mcp_jsonrpc_encode_result(&out, &id, NULL), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
    pa_buf_reset(&out);
    json_t *r = json_pack("{s:s}", "action", "accept");
    cr_assert_eq(mcp_jsonrpc_encode_result(&out, &id, r), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"action\":\"accept\"}}");
    json_decref(r);
    pa_buf_reset(&out);
    json_t *data = json_pack("{s:[s]}", "supported", "2025-11-25");
    cr_assert_eq(mcp_jsonrpc_encode_error(&out, NULL, -32022, "Unsupported", data), 0);
    cr_assert_str_eq(out.data,
                     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32022,\"message\":"
                     "\"Unsupported\",\"data\":{\"supported\":[\"2025-11-25\"]}}}");
    json_decref(data);
    /* a notification is not answered */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"), 0);
    pa_buf_reset(&out);
    cr_assert_eq(mcp_jsonrpc_encode_method_not_found(&out, &m), -1);
    cr_assert_eq(out.len, 0);
}

Test(mcp_jsonrpc, encodes_cancellation)
{
    mcp_id_t id = mcp_id_int(9);
    cr_assert_eq(mcp_jsonrpc_encode_cancelled(&out, &id, "timed out"), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                               "\"params\":{\"requestId\":9,\"reason\":\"timed out\"}}");
    pa_buf_reset(&out);
    id = mcp_id_str("abc");
    cr_assert_eq(mcp_jsonrpc_encode_cancelled(&out, &id, NULL), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                               "\"params\":{\"requestId\":\"abc\"}}");
    cr_assert_eq(parse(out.data), 0);
    cr_assert_eq(m.kind, MCP_MSG_NOTIFICATION);
    cr_assert_str_eq(json_string_value(json_object_get(m.params, "requestId")), "abc");
}

Test(mcp_jsonrpc, bad_arguments_append_nothing)
{
    pa_buf_puts(&out, "keep");
    mcp_id_t none = {MCP_ID_NONE, 0, NULL, 0}, id = mcp_id_int(1);
    json_t *arr = json_array();
    char longm[MCP_JSONRPC_MAX_METHOD + 2];
    memset(longm, 'm', sizeof longm - 1);
    longm[sizeof longm - 1] = '\0';
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &none, "x", NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, NULL, "x", NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "", NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, longm, NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "x\xff", NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_request(&out, &id, "x", arr), -1);
    cr_assert_eq(mcp_jsonrpc_encode_notification(&out, NULL, NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_result(&out, &none, NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_result(&out, &id, arr), -1);
    cr_assert_eq(mcp_jsonrpc_encode_error(&out, &id, 1, "\xc3", NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_error(&out, &id, 1, NULL, NULL), -1);
    mcp_id_t badstr = {MCP_ID_STR, 0, "\xff", 1};
    cr_assert_eq(mcp_jsonrpc_encode_cancelled(&out, &badstr, NULL), -1);
    cr_assert_eq(mcp_jsonrpc_encode_cancelled(&out, &none, NULL), -1);
    cr_assert_str_eq(out.data, "keep");
    longm[MCP_JSONRPC_MAX_METHOD] = '\0'; /* exactly the limit is fine */
    cr_assert_eq(mcp_jsonrpc_encode_notification(&out, longm, NULL), 0);
    json_decref(arr);
}

Test(mcp_jsonrpc, integers_beyond_64_bits)
{
    /* jansson has no big integers: such a message is read with every integer as a real */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"big\":123456789012345678901,"
                       "\"neg\":-99999999999999999999,\"n\":2}}"),
                 0, "%s", err);
    cr_assert_eq(m.kind, MCP_MSG_RESULT);
    cr_assert_eq(m.id.kind, MCP_ID_INT);
    cr_assert_eq(m.id.num, 5);
    cr_assert(json_is_real(json_object_get(m.result, "big")));
    cr_assert(json_real_value(json_object_get(m.result, "neg")) < -9e19);
    cr_assert_eq(json_number_value(json_object_get(m.result, "n")), 2);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"error\":{\"code\":-32000,\"message\":"
                       "\"m\",\"data\":{\"x\":123456789012345678901}}}"),
                 0, "%s", err);
    cr_assert_eq(m.error.code, -32000);
    /* an id that is itself beyond 2^53, or fractional, is still refused */
    refused("{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901,\"method\":\"x\"}",
            MCP_RPC_INVALID_REQUEST, "id: must be a string or an integer");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":{\"b\":123456789012345678901}}",
            MCP_RPC_INVALID_REQUEST, "id: a result needs");
    refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1e300,\"message\":\"m\","
            "\"data\":123456789012345678901}}",
            MCP_RPC_INVALID_REQUEST, "error.code");
}
