/* libFuzzer target for JSON-RPC 2.0 classification and encoding (workers/mcp/mcp_jsonrpc.c).
 *
 * Input: byte 0 chooses the flags (bit 0: batches allowed) and a depth bound (bits 1-4: 1..16);
 * the rest is one message. Checks: whatever classifies encodes again (request, notification,
 * result, error) and that encoding classifies to the same kind, id, method, params, result and
 * error; every batch element classifies or is refused with a reason; an invalid message has a
 * reason and a JSON-RPC code, and the error answering it classifies as an error with its id; the
 * depth bound holds; nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_jsonrpc.c, common/pa_buf.c, common/pa_utf8.c;
 * flags -Iworkers/mcp -Icommon plus jansson's cflags; libs jansson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_jsonrpc.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_jsonrpc: check failed: %s: ", #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Encodes m (a classified message) again; 0 when it could (a string id or method that is not
 * UTF-8 cannot come out of jansson, so it always can). */
static int reencode(const mcp_msg_t *m, pa_buf_t *out)
{
    switch (m->kind) {
    case MCP_MSG_REQUEST: return mcp_jsonrpc_encode_request(out, &m->id, m->method, m->params);
    case MCP_MSG_NOTIFICATION: return mcp_jsonrpc_encode_notification(out, m->method, m->params);
    case MCP_MSG_RESULT: return mcp_jsonrpc_encode_result(out, &m->id, m->result);
    case MCP_MSG_ERROR:
        return mcp_jsonrpc_encode_error(out, &m->id, m->error.code, m->error.message,
                                        m->error.data);
    default: return -1;
    }
}

static int same_json(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

static void check_round_trip(const mcp_msg_t *m)
{
    pa_buf_t out = PA_BUF_INIT;
    CHECK(reencode(m, &out) == 0, "a %s did not encode", mcp_msg_kind_name(m->kind));
    mcp_msg_t b;
    char err[256];
    CHECK(mcp_jsonrpc_parse(out.data, out.len, 0, 0, 0, &b, err, sizeof err) == 0,
          "the encoding of a %s is refused: %s: %s", mcp_msg_kind_name(m->kind), err, out.data);
    CHECK(b.kind == m->kind, "%s became %s", mcp_msg_kind_name(m->kind), mcp_msg_kind_name(b.kind));
    CHECK(mcp_id_eq(&b.id, &m->id), "the id changed: %s", out.data);
    CHECK((!b.method && !m->method) || (b.method && m->method && !strcmp(b.method, m->method)),
          "the method changed");
    CHECK(same_json(b.params, m->params), "params changed");
    CHECK(same_json(b.result, m->result), "result changed");
    CHECK(b.error.code == m->error.code, "error code changed");
    CHECK((!b.error.message && !m->error.message) ||
              (b.error.message && m->error.message && !strcmp(b.error.message, m->error.message)),
          "error message changed");
    CHECK(same_json(b.error.data, m->error.data), "error data changed");
    mcp_msg_free(&b);
    pa_buf_free(&out);
}

static void check_invalid(const mcp_msg_t *m, const char *err)
{
    CHECK(err[0], "an invalid message without a reason");
    CHECK(m->invalid_code == MCP_RPC_PARSE_ERROR || m->invalid_code == MCP_RPC_INVALID_REQUEST,
          "code %d", m->invalid_code);
    pa_buf_t out = PA_BUF_INIT;
    CHECK(mcp_jsonrpc_encode_error(&out, &m->id, m->invalid_code, err, NULL) == 0,
          "the answer to an invalid message did not encode");
    mcp_msg_t b;
    char e2[256];
    CHECK(mcp_jsonrpc_parse(out.data, out.len, 0, 0, 0, &b, e2, sizeof e2) == 0, "%s", e2);
    CHECK(b.kind == MCP_MSG_ERROR && mcp_id_eq(&b.id, &m->id), "the answer lost its id");
    mcp_msg_free(&b);
    pa_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned flags = data[0] & 1 ? MCP_JSONRPC_ALLOW_BATCH : 0;
    int depth = ((data[0] >> 1) & 15) + 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    mcp_msg_t m;
    char err[256];
    int rc = mcp_jsonrpc_parse(s, n, 1 << 16, depth, flags, &m, err, sizeof err);
    if (rc == 0) {
        CHECK(mcp_json_depth_ok(s, n, depth), "over the depth bound");
        CHECK(m.kind != MCP_MSG_INVALID, "0 for an invalid message");
        if (m.kind == MCP_MSG_BATCH) {
            CHECK(flags & MCP_JSONRPC_ALLOW_BATCH, "a batch without the flag");
            size_t i;
            json_t *x;
            json_array_foreach(m.root, i, x) {
                mcp_msg_t e;
                if (mcp_jsonrpc_classify(x, &e, err, sizeof err) == 0) check_round_trip(&e);
                else check_invalid(&e, err);
                mcp_msg_free(&e);
            }
        } else {
            check_round_trip(&m);
        }
    } else {
        CHECK(m.kind == MCP_MSG_INVALID, "-1 for a valid message");
        check_invalid(&m, err);
    }
    mcp_msg_free(&m);
    return 0;
}
