/* JSON-RPC 2.0 as MCP uses it: classifying one received message and encoding the client's own.
 * Pure functions on jansson, no I/O.
 *
 * Receiving. mcp_jsonrpc_parse takes the bytes of one message (an HTTP body, one SSE event's
 * data, one stdio line), refuses more than max_bytes or nesting deeper than max_depth before
 * jansson sees them (jansson recurses), and classifies what it parsed:
 *
 *   request        {"jsonrpc":"2.0","id":ID,"method":M,"params"?:{...}}     (a server request)
 *   notification   {"jsonrpc":"2.0","method":M,"params"?:{...}}             (no id)
 *   result         {"jsonrpc":"2.0","id":ID,"result":{...}}
 *   error          {"jsonrpc":"2.0","id"?:ID|null,"error":{"code":INT,"message":S,"data"?:ANY}}
 *
 * ID is a string or an integer: never null in a request or a result (MCP), absent or null only
 * in an error answering a message whose id could not be read. params and result are objects
 * (MCP); duplicate keys are refused. A message holding an integer beyond 64 bits (a tool's
 * result may) is read with every integer as a real (jansson has no big integers); its id and
 * error code are then taken from integral reals below 2^53. A top-level array is a batch: MCP
 * 2025-06-18 and later have none, so it is invalid unless MCP_JSONRPC_ALLOW_BATCH is given (a
 * 2025-03-26 peer), in which case the message is MCP_MSG_BATCH and each element is classified with
 * mcp_jsonrpc_classify. An invalid message says why (err) and which JSON-RPC code answers it
 * (-32700 when it is not JSON or is too large or deep, -32600 otherwise), with its id when one
 * could be read.
 *
 * Sending. The encoders append one compact message to a pa_buf_t; the caller numbers requests. */
#ifndef MCP_JSONRPC_H
#define MCP_JSONRPC_H
#include <jansson.h>
#include <stddef.h>

#include "pa_buf.h"

/* JSON-RPC 2.0 codes, and the MCP ones a client meets. */
#define MCP_RPC_PARSE_ERROR -32700
#define MCP_RPC_INVALID_REQUEST -32600
#define MCP_RPC_METHOD_NOT_FOUND -32601
#define MCP_RPC_INVALID_PARAMS -32602
#define MCP_RPC_INTERNAL_ERROR -32603
#define MCP_RPC_HEADER_MISMATCH -32020              /* 2026-07-28 */
#define MCP_RPC_MISSING_CLIENT_CAPABILITY -32021    /* 2026-07-28 */
#define MCP_RPC_UNSUPPORTED_PROTOCOL_VERSION -32022 /* 2026-07-28: data {supported, requested} */
#define MCP_RPC_URL_ELICITATION_REQUIRED -32042     /* 2025-11-25 only */
#define MCP_RPC_RESOURCE_NOT_FOUND_LEGACY -32002    /* 2025-11-25 and earlier */

#define MCP_JSONRPC_MAX_BYTES_DEFAULT ((size_t)8 << 20)
#define MCP_JSONRPC_MAX_DEPTH_DEFAULT 64
#define MCP_JSONRPC_MAX_METHOD 256 /* bytes of a method name */

/* Flags of mcp_jsonrpc_parse. */
#define MCP_JSONRPC_ALLOW_BATCH 1u

typedef enum {
    MCP_MSG_INVALID = 0,
    MCP_MSG_REQUEST,
    MCP_MSG_NOTIFICATION,
    MCP_MSG_RESULT,
    MCP_MSG_ERROR,
    MCP_MSG_BATCH
} mcp_msg_kind_t;

typedef enum { MCP_ID_NONE = 0, MCP_ID_INT, MCP_ID_STR } mcp_id_kind_t;

/* A request id. str points into the message it came from (or the caller's string). */
typedef struct {
    mcp_id_kind_t kind;
    json_int_t num;
    const char *str;
    size_t len;
} mcp_id_t;

typedef struct {
    json_int_t code;
    const char *message; /* never NULL in an MCP_MSG_ERROR */
    json_t *data;        /* borrowed; NULL when absent */
} mcp_rpc_error_t;

typedef struct {
    mcp_msg_kind_t kind;
    json_t *root;          /* owned after mcp_jsonrpc_parse (the message or the batch); else NULL */
    mcp_id_t id;           /* request, result, error (MCP_ID_NONE when absent or null) */
    const char *method;    /* request, notification */
    json_t *params;        /* request, notification: borrowed, NULL when absent */
    json_t *result;        /* result: borrowed */
    mcp_rpc_error_t error; /* error */
    int invalid_code;      /* invalid: MCP_RPC_PARSE_ERROR or MCP_RPC_INVALID_REQUEST */
} mcp_msg_t;

mcp_id_t mcp_id_int(json_int_t n);
mcp_id_t mcp_id_str(const char *s); /* s stays the caller's */
/* 1 when both are the same id (an integer never equals a string, even "1" and 1). */
int mcp_id_eq(const mcp_id_t *a, const mcp_id_t *b);

/* 1 when s[0..n) nests arrays and objects at most max_depth deep (strings skipped); a pure
 * scan, safe on any bytes. */
int mcp_json_depth_ok(const char *s, size_t n, int max_depth);

/* Parses and classifies one message (see above). 0 with m->kind set, or -1 with m->kind
 * MCP_MSG_INVALID, m->invalid_code and m->id (when readable) set and a reason in err. Either
 * way mcp_msg_free releases m. max_bytes/max_depth 0 take the defaults. */
int mcp_jsonrpc_parse(const char *s, size_t n, size_t max_bytes, int max_depth, unsigned flags,
                      mcp_msg_t *m, char *err, size_t errlen);
/* Classifies an already parsed value v (a batch element); m borrows from v and owns nothing.
 * Arrays are invalid here. 0 or -1 as mcp_jsonrpc_parse. */
int mcp_jsonrpc_classify(json_t *v, mcp_msg_t *m, char *err, size_t errlen);
void mcp_msg_free(mcp_msg_t *m);
const char *mcp_msg_kind_name(mcp_msg_kind_t k);

/* For an error whose code is MCP_RPC_UNSUPPORTED_PROTOCOL_VERSION: the strings of
 * data.supported, up to max of them, in out (borrowed from the message), their number in *n,
 * and data.requested in *requested (NULL when absent). 0, or -1 when the code differs or
 * data.supported is not a non-empty array of strings. */
int mcp_rpc_error_supported_versions(const mcp_rpc_error_t *e, const char **out, size_t max,
                                     size_t *n, const char **requested);

/* Encoders: each appends one message and returns 0, or -1 (nothing appended) when an argument
 * is wrong: a method that is empty, longer than MCP_JSONRPC_MAX_METHOD or not UTF-8; params or
 * result that are not an object (NULL: params left out, result {}); an id of kind MCP_ID_NONE
 * where one is needed; a string id that is not UTF-8. */
int mcp_jsonrpc_encode_request(pa_buf_t *out, const mcp_id_t *id, const char *method,
                               const json_t *params);
int mcp_jsonrpc_encode_notification(pa_buf_t *out, const char *method, const json_t *params);
int mcp_jsonrpc_encode_result(pa_buf_t *out, const mcp_id_t *id, const json_t *result);
/* id NULL or MCP_ID_NONE: "id":null. message must be UTF-8; data may be NULL. */
int mcp_jsonrpc_encode_error(pa_buf_t *out, const mcp_id_t *id, long long code, const char *message,
                             const json_t *data);
/* The answer to a server request the client does not implement: -32601 "Method not found". */
int mcp_jsonrpc_encode_method_not_found(pa_buf_t *out, const mcp_msg_t *request);
/* notifications/cancelled {requestId, reason?} (reason NULL: left out). */
int mcp_jsonrpc_encode_cancelled(pa_buf_t *out, const mcp_id_t *request_id, const char *reason);

#endif
