/* The wire envelope between gateway and workers: every message declared once, one codec for all. */
#ifndef PA_PROTO_H
#define PA_PROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"

/* A message is two ZeroMQ frames: a 4-byte header {'P', 'A', version, command} and a msgpack body
 * (a map with string keys). docs/protocol.md describes the wire format; keep it in step. */
#define PA_PROTO_MAGIC0 'P'
#define PA_PROTO_MAGIC1 'A'
#define PA_PROTO_VERSION 4
#define PA_PROTO_HEADER_LEN 4
/* Largest body frame accepted or produced: a TASK's 1 MiB of documents (input, context, results)
 * plus room for its other fields. */
#define PA_PROTO_MAX_BODY ((size_t)1024 * 1024 + 4096)
/* Deepest nesting of maps and arrays in a body; the body map itself is level 1. */
#define PA_PROTO_MAX_DEPTH 8
/* Most fields one message may declare (the decoder keeps per-field state on the stack). */
#define PA_PROTO_MAX_FIELDS 32
/* A size for error buffers that holds every message the codec writes. */
#define PA_PROTO_ERRLEN 256

/* ---------------------------------------------------------------------------------------------
 * The table. Every message and every field is declared here and nowhere else: the command and
 * field enums, the descriptors the codec validates against, and the tables in docs/protocol.md
 * (checked by tests/unit/test_proto.c) all come from it.
 *
 * PA_PROTO_COMMANDS: X(NAME, code). Code 0x00 is never used.
 * PA_PROTO_FIELDS_<NAME>: F(M, ID, "wire name", TYPE, REQ|OPT, min, max), where TYPE is STR, UINT,
 * INT, BOOL, BIN or ANY; min..max bound the length in bytes of STR, BIN and ANY (the raw msgpack
 * of one value) and the value of UINT and INT; BOOL ignores them. M is the message's NAME.
 * ------------------------------------------------------------------------------------------- */
#define PA_PROTO_NOLIMIT UINT64_MAX
/* Bounds of TASK's documents; together they fill the 1 MiB of PA_PROTO_MAX_BODY. */
#define PA_PROTO_MAX_TARGET 2048
#define PA_PROTO_MAX_INPUT (256 * 1024)
#define PA_PROTO_MAX_CONTEXT (256 * 1024)
#define PA_PROTO_MAX_RESULTS (512 * 1024)
/* HELLO's held list: "<task key> <lease>" lines, one per task the worker holds. */
#define PA_PROTO_MAX_HELD (512 * 1024)

#define PA_PROTO_COMMANDS(X)                                                                       \
    X(HELLO, 0x01)                                                                                 \
    X(CREDIT, 0x02)                                                                                \
    X(TASK, 0x03)                                                                                  \
    X(HEARTBEAT, 0x05)                                                                             \
    X(BYE, 0x06)                                                                                   \
    X(CANCEL, 0x07)

/* worker -> gateway: a worker joins (or joins again after losing the gateway). */
#define PA_PROTO_FIELDS_HELLO(F, M)                                                                \
    F(M, SERVICE, "service", STR, REQ, 1, 32)                                                      \
    F(M, WORKER_ID, "worker_id", STR, REQ, 1, 64)                                                  \
    F(M, CAPACITY, "capacity", UINT, REQ, 1, 10000)                                                \
    F(M, VERSION, "version", STR, REQ, 1, 32)                                                      \
    F(M, INSTANCE, "instance", STR, REQ, 32, 32)                                                   \
    F(M, HELD, "held", STR, OPT, 0, PA_PROTO_MAX_HELD)

/* worker -> gateway: n more tasks may be sent. */
#define PA_PROTO_FIELDS_CREDIT(F, M) F(M, N, "n", UINT, REQ, 1, 10000)

/* gateway -> worker: one stage of one task, under a lease. input and context are JSON objects as
 * text; results is a msgpack map {stage: JSON text}. proto/pa_task.h reads and writes them. */
#define PA_PROTO_FIELDS_TASK(F, M)                                                                 \
    F(M, TASK_ID, "task_id", STR, REQ, 1, 64)                                                      \
    F(M, JOB_ID, "job_id", STR, REQ, 1, 64)                                                        \
    F(M, STAGE, "stage", STR, REQ, 1, 16)                                                          \
    F(M, LEASE, "lease", STR, REQ, 1, 64)                                                          \
    F(M, ATTEMPT, "attempt", UINT, REQ, 0, 1000)                                                   \
    F(M, MAX_ATTEMPTS, "max_attempts", UINT, REQ, 1, 1000)                                         \
    F(M, DEADLINE_MS, "deadline_ms", UINT, REQ, 0, PA_PROTO_NOLIMIT)                               \
    F(M, TARGET, "target", STR, REQ, 0, PA_PROTO_MAX_TARGET)                                       \
    F(M, INPUT, "input", STR, REQ, 2, PA_PROTO_MAX_INPUT)                                          \
    F(M, CONTEXT, "context", STR, REQ, 2, PA_PROTO_MAX_CONTEXT)                                    \
    F(M, RESULTS, "results", ANY, REQ, 1, PA_PROTO_MAX_RESULTS)

/* both ways: I am alive. */
#define PA_PROTO_FIELDS_HEARTBEAT(F, M)                                                            \
    F(M, WORKER_ID, "worker_id", STR, OPT, 1, 64)                                                  \
    F(M, LOAD, "load", UINT, OPT, 0, 10000)

/* both ways: I am leaving; forget me. */
#define PA_PROTO_FIELDS_BYE(F, M)                                                                  \
    F(M, WORKER_ID, "worker_id", STR, REQ, 1, 64)                                                  \
    F(M, REASON, "reason", STR, OPT, 0, 256)

/* gateway -> worker: stop the tasks you hold of this job (or only this task): their leases are
 * void, and whatever the worker commits for them is refused. */
#define PA_PROTO_FIELDS_CANCEL(F, M)                                                               \
    F(M, JOB_ID, "job_id", STR, REQ, 1, 64)                                                        \
    F(M, TASK_ID, "task_id", STR, OPT, 1, 64)                                                      \
    F(M, REASON, "reason", STR, OPT, 0, 256)

/* ---- What the table generates ---- */

typedef enum {
#define PA_PROTO__CMD_ENUM(name, code) PA_CMD_##name = (code),
    PA_PROTO_COMMANDS(PA_PROTO__CMD_ENUM)
#undef PA_PROTO__CMD_ENUM
} pa_cmd_t;

/* One constant per field of each message, e.g. PA_FIELD_TASK_LEASE; the value is (command << 8) |
 * the field's index in its message, so a field names its message too. */
typedef enum {
#define PA_PROTO__FIELD_ENUM(M, id, name, type, presence, lo, hi) PA_FIELD_##M##_##id,
#define PA_PROTO__MSG_FIELDS_ENUM(name, code)                                                      \
    PA_FIELD__##name##_BASE = ((code) << 8) - 1, PA_PROTO_FIELDS_##name(PA_PROTO__FIELD_ENUM, name)
    PA_PROTO_COMMANDS(PA_PROTO__MSG_FIELDS_ENUM)
#undef PA_PROTO__MSG_FIELDS_ENUM
#undef PA_PROTO__FIELD_ENUM
} pa_field_t;

typedef enum {
    PA_PROTO_STR,  /* UTF-8 text without NUL bytes (msgpack str) */
    PA_PROTO_UINT, /* unsigned integer up to 2^64-1 (msgpack int >= 0) */
    PA_PROTO_INT,  /* signed 64-bit integer (msgpack int) */
    PA_PROTO_BOOL, /* msgpack true or false */
    PA_PROTO_BIN,  /* opaque bytes (msgpack bin) */
    PA_PROTO_ANY,  /* any one msgpack value (map, array...), kept as its raw msgpack bytes */
} pa_proto_type_t;

typedef struct {
    const char *name; /* the map key on the wire */
    pa_proto_type_t type;
    bool required;
    int64_t min;  /* STR, BIN, ANY: least length in bytes; UINT, INT: least value */
    uint64_t max; /* STR, BIN, ANY: greatest length in bytes; UINT, INT: greatest value */
} pa_proto_field_desc_t;

typedef struct {
    uint8_t code;
    const char *name; /* "TASK" */
    const pa_proto_field_desc_t *fields;
    size_t nfields;
} pa_proto_msg_desc_t;

/* The declaration of one command, or NULL for a code the protocol does not define. */
const pa_proto_msg_desc_t *pa_proto_msg_desc(unsigned code);
/* "TASK", or NULL for an unknown code. */
const char *pa_proto_cmd_name(unsigned code);
/* "str", "uint", "int", "bool", "bin", "any". */
const char *pa_proto_type_name(pa_proto_type_t type);

/* ---- Messages ----
 * A message owns every value it holds: setters copy, getters lend (valid until the field is set
 * again or the message is destroyed). Naming a field of another command, or using the getter or
 * setter of another type, is a programming error and aborts. */
typedef struct pa_msg pa_msg_t;

pa_msg_t *pa_msg_new(pa_cmd_t cmd);
void pa_msg_destroy(pa_msg_t **m);

pa_cmd_t pa_msg_cmd(const pa_msg_t *m);
const char *pa_msg_name(const pa_msg_t *m);
/* 1 when the field holds a value. */
int pa_msg_has(const pa_msg_t *m, pa_field_t f);
/* Leaves the field without a value (an optional field is then not sent). */
void pa_msg_unset(pa_msg_t *m, pa_field_t f);

void pa_msg_set_str(pa_msg_t *m, pa_field_t f, const char *s);
void pa_msg_set_strn(pa_msg_t *m, pa_field_t f, const char *s, size_t n);
void pa_msg_set_uint(pa_msg_t *m, pa_field_t f, uint64_t v);
void pa_msg_set_int(pa_msg_t *m, pa_field_t f, int64_t v);
void pa_msg_set_bool(pa_msg_t *m, pa_field_t f, bool v);
void pa_msg_set_bin(pa_msg_t *m, pa_field_t f, const void *p, size_t n);
/* p..n must be exactly one msgpack value (checked by pa_proto_encode). */
void pa_msg_set_any(pa_msg_t *m, pa_field_t f, const void *p, size_t n);

/* A NUL-terminated string, or NULL when the field has no value. len may be NULL. */
const char *pa_msg_str(const pa_msg_t *m, pa_field_t f, size_t *len);
/* The value, or 0 / false when the field has none (tell them apart with pa_msg_has). */
uint64_t pa_msg_uint(const pa_msg_t *m, pa_field_t f);
int64_t pa_msg_int(const pa_msg_t *m, pa_field_t f);
bool pa_msg_bool(const pa_msg_t *m, pa_field_t f);
/* The bytes (never NULL when set, even for length 0), or NULL when the field has no value. */
const unsigned char *pa_msg_bin(const pa_msg_t *m, pa_field_t f, size_t *len);
const unsigned char *pa_msg_any(const pa_msg_t *m, pa_field_t f, size_t *len);

/* 1 when both messages have the same command and the same fields with the same values. */
int pa_msg_equal(const pa_msg_t *a, const pa_msg_t *b);

/* ---- The codec ----
 * Pure functions over buffers: no I/O, no globals, safe to call from any thread. */

/* Validates m against its declaration (required fields, types, bounds, UTF-8) and writes the two
 * frames: the header into header and the body into body, whose previous contents are replaced.
 * Returns 0, or -1 with the reason in err (body then empty). Whatever encodes, decodes. */
int pa_proto_encode(const pa_msg_t *m, unsigned char header[PA_PROTO_HEADER_LEN], pa_buf_t *body,
                    char *err, size_t errlen);

/* Decodes and validates the two frames of one message. Returns 0 and sets *out to a new message
 * (the caller's, to pa_msg_destroy), or -1 with the reason in err and *out set to NULL. Never
 * trusts the input: sizes are checked before anything is read or allocated, and nothing is
 * allocated unless the whole message is valid. err may be NULL. */
int pa_proto_decode(const void *header, size_t header_len, const void *body, size_t body_len,
                    pa_msg_t **out, char *err, size_t errlen);

/* Encodes m and sends it on a ZeroMQ socket as [ident] header body, without blocking (ident is
 * the ROUTER routing id, or NULL on a DEALER). 0, or -1 when it could not be encoded (logged)
 * or sent (peer gone, or its queue full). */
int pa_proto_send(void *zsock, const void *ident, size_t ident_len, const pa_msg_t *m);

#endif
