/* JSON-RPC 2.0 for MCP: classification and encoding (see mcp_jsonrpc.h). */
#include "mcp_jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pa_utf8.h"

mcp_id_t mcp_id_int(json_int_t n)
{
    return (mcp_id_t){MCP_ID_INT, n, NULL, 0};
}

mcp_id_t mcp_id_str(const char *s)
{
    return (mcp_id_t){MCP_ID_STR, 0, s, strlen(s)};
}

int mcp_id_eq(const mcp_id_t *a, const mcp_id_t *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == MCP_ID_INT) return a->num == b->num;
    if (a->kind == MCP_ID_STR) return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    return 1;
}

int mcp_json_depth_ok(const char *s, size_t n, int max_depth)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) return 0;
        } else if ((c == ']' || c == '}') && depth > 0) depth--;
    }
    return 1;
}

const char *mcp_msg_kind_name(mcp_msg_kind_t k)
{
    switch (k) {
    case MCP_MSG_REQUEST: return "request";
    case MCP_MSG_NOTIFICATION: return "notification";
    case MCP_MSG_RESULT: return "result";
    case MCP_MSG_ERROR: return "error";
    case MCP_MSG_BATCH: return "batch";
    case MCP_MSG_INVALID: break;
    }
    return "invalid";
}

static int invalid(mcp_msg_t *m, int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int invalid(mcp_msg_t *m, int code, char *err, size_t errlen, const char *fmt, ...)
{
    m->kind = MCP_MSG_INVALID;
    m->invalid_code = code;
    m->method = NULL;
    m->params = m->result = NULL;
    memset(&m->error, 0, sizeof m->error);
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* printable ASCII only: jansson quotes the input near an error, and the reason may go
         * back to the peer in an error answer, which must be UTF-8 */
        for (char *c = err; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
    }
    return -1;
}

/* An integer, or (ints_as_real: the message was read with every integer as a real, because one
 * was beyond 64 bits) a real with an integral value below 2^53, in *out. */
static int int_value(const json_t *x, int ints_as_real, json_int_t *out)
{
    if (json_is_integer(x)) {
        *out = json_integer_value(x);
        return 1;
    }
    if (!ints_as_real || !json_is_real(x)) return 0;
    double d = json_real_value(x);
    if (!(d <= 9007199254740992.0 && d >= -9007199254740992.0) || d != (double)(long long)d)
        return 0;
    *out = (json_int_t)d;
    return 1;
}

/* Reads v's id: 1 when absent, 2 when null, 0 when a good id (in *id), -1 when of a bad type. */
static int read_id(const json_t *v, int ints_as_real, mcp_id_t *id)
{
    json_t *x = json_object_get(v, "id");
    json_int_t num;
    *id = (mcp_id_t){MCP_ID_NONE, 0, NULL, 0};
    if (!x) return 1;
    if (json_is_null(x)) return 2;
    if (int_value(x, ints_as_real, &num)) {
        *id = mcp_id_int(num);
        return 0;
    }
    if (json_is_string(x)) {
        *id = (mcp_id_t){MCP_ID_STR, 0, json_string_value(x), json_string_length(x)};
        return 0;
    }
    return -1;
}

static int classify(json_t *v, int ints_as_real, mcp_msg_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (err && errlen) err[0] = '\0';
    if (json_is_array(v))
        return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "a batch inside a batch");
    if (!json_is_object(v))
        return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "a message must be a JSON object");
    int idr = read_id(v, ints_as_real, &m->id);
    json_t *ver = json_object_get(v, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "jsonrpc: must be \"2.0\"");
    json_t *method = json_object_get(v, "method");
    json_t *result = json_object_get(v, "result");
    json_t *error = json_object_get(v, "error");

    if (method) {
        if (result || error)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "a message has either method or %s, not both",
                           result ? "result" : "error");
        if (!json_is_string(method) || json_string_length(method) == 0 ||
            json_string_length(method) > MCP_JSONRPC_MAX_METHOD)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "method: must be a string of 1 to %d bytes", MCP_JSONRPC_MAX_METHOD);
        json_t *params = json_object_get(v, "params");
        if (params && !json_is_object(params))
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "params: must be an object");
        if (idr == 2)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "id: must not be null in a request");
        if (idr < 0)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "id: must be a string or an integer");
        m->kind = idr == 1 ? MCP_MSG_NOTIFICATION : MCP_MSG_REQUEST;
        m->method = json_string_value(method);
        m->params = params;
        return 0;
    }
    if (result && error)
        return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                       "a response has either result or error, not both");
    if (result) {
        if (idr != 0)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "id: a result needs a string or integer id");
        if (!json_is_object(result))
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "result: must be an object");
        m->kind = MCP_MSG_RESULT;
        m->result = result;
        return 0;
    }
    if (error) {
        if (idr < 0)
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "id: must be a string, an integer or null");
        if (!json_is_object(error))
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "error: must be an object {code, message, data?}");
        json_t *code = json_object_get(error, "code");
        json_t *msg = json_object_get(error, "message");
        json_int_t code_value;
        if (!int_value(code, ints_as_real, &code_value))
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "error.code: must be an integer");
        if (!json_is_string(msg))
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "error.message: must be a string");
        m->kind = MCP_MSG_ERROR;
        m->error.code = code_value;
        m->error.message = json_string_value(msg);
        m->error.data = json_object_get(error, "data");
        return 0;
    }
    return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                   "neither a request (method) nor a response (result or error)");
}

int mcp_jsonrpc_classify(json_t *v, mcp_msg_t *m, char *err, size_t errlen)
{
    return classify(v, 0, m, err, errlen);
}

int mcp_jsonrpc_parse(const char *s, size_t n, size_t max_bytes, int max_depth, unsigned flags,
                      mcp_msg_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (err && errlen) err[0] = '\0';
    if (!max_bytes) max_bytes = MCP_JSONRPC_MAX_BYTES_DEFAULT;
    if (max_depth <= 0) max_depth = MCP_JSONRPC_MAX_DEPTH_DEFAULT;
    if (n > max_bytes)
        return invalid(m, MCP_RPC_PARSE_ERROR, err, errlen,
                       "a message of %zu bytes is over the limit of %zu", n, max_bytes);
    if (!mcp_json_depth_ok(s, n, max_depth))
        return invalid(m, MCP_RPC_PARSE_ERROR, err, errlen, "nested deeper than %d", max_depth);
    json_error_t je;
    json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    int ints_as_real = 0;
    if (!root && strstr(je.text, "too big")) {
        /* a tool's result may hold an integer beyond 64 bits: read every integer as a real */
        ints_as_real = 1;
        root = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                          &je);
    }
    if (!root)
        return invalid(m, MCP_RPC_PARSE_ERROR, err, errlen, "not JSON: line %d column %d: %s",
                       je.line, je.column, je.text);
    if (json_is_array(root)) {
        if (!(flags & MCP_JSONRPC_ALLOW_BATCH)) {
            json_decref(root);
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen,
                           "a batch (JSON array): MCP has none since 2025-06-18");
        }
        if (json_array_size(root) == 0) {
            json_decref(root);
            return invalid(m, MCP_RPC_INVALID_REQUEST, err, errlen, "an empty batch");
        }
        m->kind = MCP_MSG_BATCH;
        m->root = root;
        return 0;
    }
    int rc = classify(root, ints_as_real, m, err, errlen);
    m->root = root; /* owned either way: an invalid message's id points into it */
    return rc;
}

void mcp_msg_free(mcp_msg_t *m)
{
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}

int mcp_rpc_error_supported_versions(const mcp_rpc_error_t *e, const char **out, size_t max,
                                     size_t *n, const char **requested)
{
    *n = 0;
    if (requested) *requested = NULL;
    if (e->code != MCP_RPC_UNSUPPORTED_PROTOCOL_VERSION || !json_is_object(e->data)) return -1;
    json_t *sup = json_object_get(e->data, "supported");
    if (!json_is_array(sup) || json_array_size(sup) == 0) return -1;
    size_t i;
    json_t *x;
    json_array_foreach(sup, i, x)
        if (!json_is_string(x)) return -1;
    json_array_foreach(sup, i, x)
        if (*n < max) out[(*n)++] = json_string_value(x);
    json_t *req = json_object_get(e->data, "requested");
    if (requested && json_is_string(req)) *requested = json_string_value(req);
    return 0;
}

/* ---- encoding ---- */

static int dump_cb(const char *buffer, size_t size, void *data)
{
    pa_buf_put(data, buffer, size);
    return 0;
}

static int put_json(pa_buf_t *out, const json_t *v)
{
    return json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int method_ok(const char *method)
{
    if (!method) return 0;
    size_t n = strlen(method);
    return n >= 1 && n <= MCP_JSONRPC_MAX_METHOD && pa_utf8_valid(method, n);
}

static int id_ok(const mcp_id_t *id)
{
    if (!id || id->kind == MCP_ID_NONE) return 0;
    return id->kind == MCP_ID_INT || (id->str && pa_utf8_valid(id->str, id->len));
}

static void put_id(pa_buf_t *out, const mcp_id_t *id)
{
    if (!id || id->kind == MCP_ID_NONE) pa_buf_puts(out, "null");
    else if (id->kind == MCP_ID_INT) pa_buf_printf(out, "%" JSON_INTEGER_FORMAT, id->num);
    else pa_buf_json_str(out, id->str, id->len);
}

/* Undoes a partly appended message. */
static int rollback(pa_buf_t *out, size_t start)
{
    out->len = start;
    if (out->data) out->data[start] = '\0';
    return -1;
}

static int encode_call(pa_buf_t *out, const mcp_id_t *id, const char *method, const json_t *params)
{
    if (!method_ok(method) || (params && !json_is_object(params))) return -1;
    size_t start = out->len;
    pa_buf_puts(out, "{\"jsonrpc\":\"2.0\",");
    if (id) {
        pa_buf_puts(out, "\"id\":");
        put_id(out, id);
        pa_buf_putc(out, ',');
    }
    pa_buf_puts(out, "\"method\":");
    pa_buf_json_str(out, method, strlen(method));
    if (params) {
        pa_buf_puts(out, ",\"params\":");
        if (put_json(out, params) < 0) return rollback(out, start);
    }
    pa_buf_putc(out, '}');
    return 0;
}

int mcp_jsonrpc_encode_request(pa_buf_t *out, const mcp_id_t *id, const char *method,
                               const json_t *params)
{
    if (!id_ok(id)) return -1;
    return encode_call(out, id, method, params);
}

int mcp_jsonrpc_encode_notification(pa_buf_t *out, const char *method, const json_t *params)
{
    return encode_call(out, NULL, method, params);
}

int mcp_jsonrpc_encode_result(pa_buf_t *out, const mcp_id_t *id, const json_t *result)
{
    if (!id_ok(id) || (result && !json_is_object(result))) return -1;
    size_t start = out->len;
    pa_buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
    put_id(out, id);
    pa_buf_puts(out, ",\"result\":");
    if (!result) pa_buf_puts(out, "{}");
    else if (put_json(out, result) < 0) return rollback(out, start);
    pa_buf_putc(out, '}');
    return 0;
}

int mcp_jsonrpc_encode_error(pa_buf_t *out, const mcp_id_t *id, long long code, const char *message,
                             const json_t *data)
{
    if (!message || !pa_utf8_valid(message, strlen(message))) return -1;
    if (id && id->kind != MCP_ID_NONE && !id_ok(id)) return -1;
    size_t start = out->len;
    pa_buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
    put_id(out, id);
    pa_buf_printf(out, ",\"error\":{\"code\":%lld,\"message\":", code);
    pa_buf_json_str(out, message, strlen(message));
    if (data) {
        pa_buf_puts(out, ",\"data\":");
        if (put_json(out, data) < 0) return rollback(out, start);
    }
    pa_buf_puts(out, "}}");
    return 0;
}

int mcp_jsonrpc_encode_method_not_found(pa_buf_t *out, const mcp_msg_t *request)
{
    if (!request || request->kind != MCP_MSG_REQUEST) return -1;
    return mcp_jsonrpc_encode_error(out, &request->id, MCP_RPC_METHOD_NOT_FOUND, "Method not found",
                                    NULL);
}

int mcp_jsonrpc_encode_cancelled(pa_buf_t *out, const mcp_id_t *request_id, const char *reason)
{
    if (!id_ok(request_id)) return -1;
    if (reason && !pa_utf8_valid(reason, strlen(reason))) return -1;
    pa_buf_puts(out, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                     "\"params\":{\"requestId\":");
    put_id(out, request_id);
    if (reason) {
        pa_buf_puts(out, ",\"reason\":");
        pa_buf_json_str(out, reason, strlen(reason));
    }
    pa_buf_puts(out, "}}");
    return 0;
}
