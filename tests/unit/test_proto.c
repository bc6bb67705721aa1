/* Unit tests of the wire envelope and codec (proto/): round trips, every rejection, hostile sizes.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"
#include "pa_proto.h"
#include "pa_proto_internal.h"
#include "pa_task.h"

/* ---- Helpers ---- */

static const unsigned char HDR_HELLO[4] = {'P', 'A', PA_PROTO_VERSION, PA_CMD_HELLO};
static const unsigned char HDR_CREDIT[4] = {'P', 'A', PA_PROTO_VERSION, PA_CMD_CREDIT};
static const unsigned char HDR_TASK[4] = {'P', 'A', PA_PROTO_VERSION, PA_CMD_TASK};
static const unsigned char HDR_CANCEL[4] = {'P', 'A', PA_PROTO_VERSION, PA_CMD_CANCEL};

/* Decodes a copy of body in a buffer of exactly n bytes, so ASan sees any read past the end. */
static int decode_exact(const unsigned char *hdr, size_t hlen, const void *body, size_t n,
                        pa_msg_t **out, char *err, size_t errlen)
{
    unsigned char *h = malloc(hlen ? hlen : 1), *b = malloc(n ? n : 1);
    if (hlen) memcpy(h, hdr, hlen);
    if (n) memcpy(b, body, n);
    int rc = pa_proto_decode(h, hlen, b, n, out, err, errlen);
    free(h);
    free(b);
    return rc;
}

static void expect_error(const unsigned char hdr[4], const void *body, size_t n, const char *want)
{
    char err[PA_PROTO_ERRLEN];
    pa_msg_t *m = (pa_msg_t *)&err; /* must be reset to NULL on failure */
    int rc = decode_exact(hdr, 4, body, n, &m, err, sizeof err);
    cr_assert_eq(rc, -1, "decoded although '%s' was expected", want);
    cr_assert_null(m);
    cr_assert_str_eq(err, want);
}

static pa_msg_t *roundtrip(const pa_msg_t *m)
{
    unsigned char hdr[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "encode: %s", err);
    cr_assert_eq(hdr[0], 'P');
    cr_assert_eq(hdr[1], 'A');
    cr_assert_eq(hdr[2], PA_PROTO_VERSION);
    cr_assert_eq(hdr[3], (unsigned)pa_msg_cmd(m));
    pa_msg_t *back = NULL;
    cr_assert_eq(decode_exact(hdr, sizeof hdr, body.data, body.len, &back, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert_str_eq(err, "");
    cr_assert(pa_msg_equal(m, back));
    pa_buf_free(&body);
    return back;
}

/* A tiny msgpack writer for bodies the encoder would refuse to produce. */
enum { E_STR, E_UINT, E_INT, E_BIN, E_BOOL, E_NIL, E_RAW };
typedef struct {
    const char *key;
    int kind;
    const char *s; /* E_STR (NUL-terminated unless n), E_BIN, E_RAW */
    size_t n;
    uint64_t u;
    int64_t i;
} ent_t;

static int sbuf_write(void *data, const char *p, size_t n)
{
    pa_buf_put(data, p, n);
    return 0;
}

static void build(pa_buf_t *b, const ent_t *e, size_t n)
{
    msgpack_packer pk;
    pa_buf_reset(b);
    msgpack_packer_init(&pk, b, sbuf_write);
    msgpack_pack_map(&pk, n);
    for (size_t k = 0; k < n; k++) {
        msgpack_pack_str_with_body(&pk, e[k].key, strlen(e[k].key));
        size_t len = e[k].n ? e[k].n : (e[k].s ? strlen(e[k].s) : 0);
        switch (e[k].kind) {
        case E_STR: msgpack_pack_str_with_body(&pk, e[k].s, len); break;
        case E_BIN: msgpack_pack_bin_with_body(&pk, e[k].s, len); break;
        case E_UINT: msgpack_pack_uint64(&pk, e[k].u); break;
        case E_INT: msgpack_pack_int64(&pk, e[k].i); break;
        case E_BOOL: e[k].u ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk); break;
        case E_NIL: msgpack_pack_nil(&pk); break;
        case E_RAW: pa_buf_put(b, e[k].s, len); break;
        }
    }
}

static void expect_entries_error(const unsigned char hdr[4], const ent_t *e, size_t n,
                                 const char *want)
{
    pa_buf_t b = PA_BUF_INIT;
    build(&b, e, n);
    expect_error(hdr, b.data, b.len, want);
    pa_buf_free(&b);
}

#define TASK_N 11
static const ent_t task_ok[TASK_N] = {
    {"task_id", E_STR, "01hx0000000000000000000000", 0, 0, 0},
    {"job_id", E_STR, "01hx0000000000000000000001", 0, 0, 0},
    {"stage", E_STR, "compose", 0, 0, 0},
    {"lease", E_STR, "lease-7f3a", 0, 0, 0},
    {"attempt", E_UINT, NULL, 0, 2, 0},
    {"max_attempts", E_UINT, NULL, 0, 3, 0},
    {"deadline_ms", E_UINT, NULL, 0, 1700000000000ULL, 0},
    {"target", E_STR, "https://example.com/", 0, 0, 0},
    {"input", E_STR, "{\"name\":\"Ada\"}", 0, 0, 0},
    {"context", E_STR, "{\"template\":\"Hi\"}", 0, 0, 0},
    {"results", E_RAW,
     "\x81\xa6"
     "enrich\xa2{}",
     11, 0, 0},
};

#define HELLO_N 5
static const ent_t hello_ok[HELLO_N] = {
    {"service", E_STR, "llm", 0, 0, 0},
    {"worker_id", E_STR, "llm-host1-4242", 0, 0, 0},
    {"capacity", E_UINT, NULL, 0, 16, 0},
    {"version", E_STR, "0.1.0", 0, 0, 0},
    {"instance", E_STR, "0123456789abcdef0123456789abcdef", 0, 0, 0},
};

/* A TASK whose results field holds the raw msgpack value results[0..n). */
static pa_msg_t *make_task(const char *results, size_t n)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_TASK);
    pa_msg_set_str(m, PA_FIELD_TASK_TASK_ID, "01hx0000000000000000000000");
    pa_msg_set_str(m, PA_FIELD_TASK_JOB_ID, "01hx0000000000000000000001");
    pa_msg_set_str(m, PA_FIELD_TASK_STAGE, "compose");
    pa_msg_set_str(m, PA_FIELD_TASK_LEASE, "lease-7f3a");
    pa_msg_set_uint(m, PA_FIELD_TASK_ATTEMPT, 2);
    pa_msg_set_uint(m, PA_FIELD_TASK_MAX_ATTEMPTS, 3);
    pa_msg_set_uint(m, PA_FIELD_TASK_DEADLINE_MS, 1700000000000ULL);
    pa_msg_set_str(m, PA_FIELD_TASK_TARGET, "https://example.com/");
    pa_msg_set_str(m, PA_FIELD_TASK_INPUT, "{\"name\":\"Ada\"}");
    pa_msg_set_str(m, PA_FIELD_TASK_CONTEXT, "{}");
    pa_msg_set_any(m, PA_FIELD_TASK_RESULTS, results, n);
    return m;
}

static pa_msg_t *make_hello(void)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, "llm");
    pa_msg_set_str(m, PA_FIELD_HELLO_WORKER_ID, "llm-host1-4242");
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, 16);
    pa_msg_set_str(m, PA_FIELD_HELLO_VERSION, "0.1.0");
    pa_msg_set_str(m, PA_FIELD_HELLO_INSTANCE, "0123456789abcdef0123456789abcdef");
    return m;
}

static pa_msg_t *make_cancel(int with_reason)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_CANCEL);
    pa_msg_set_str(m, PA_FIELD_CANCEL_JOB_ID, "01hx0000000000000000000001");
    pa_msg_set_str(m, PA_FIELD_CANCEL_TASK_ID,
                   with_reason ? "01hx0000000000000000000001:000007"
                               : "01hx0000000000000000000001:000001");
    if (with_reason) pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "HTTP 503 from provider");
    return m;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A declaration of our own, for the field types no message uses yet (INT, BOOL, ANY). */
static const pa_proto_field_desc_t test_fields[] = {
    {"s", PA_PROTO_STR, false, 0, 8},
    {"i", PA_PROTO_INT, true, -100, 100},
    {"b", PA_PROTO_BOOL, false, 0, 0},
    {"a", PA_PROTO_ANY, false, 1, 64},
    {"u", PA_PROTO_UINT, false, 0, PA_PROTO_NOLIMIT},
    {"big", PA_PROTO_INT, false, INT64_MIN, INT64_MAX},
    {"s2", PA_PROTO_STR, false, 2, 8},
    {"x", PA_PROTO_BIN, false, 0, 2 * PA_PROTO_MAX_BODY},
};
static const pa_proto_msg_desc_t test_desc = {0xf0, "TEST", test_fields,
                                              sizeof test_fields / sizeof test_fields[0]};
#define TF(i) ((pa_field_t)((0xf0 << 8) | (i)))
enum { TF_S, TF_I, TF_B, TF_A, TF_U, TF_BIG, TF_S2, TF_X };

static void test_expect_error(const ent_t *e, size_t n, const char *want)
{
    pa_buf_t b = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    pa_msg_t *m = NULL;
    build(&b, e, n);
    cr_assert_eq(pa_proto__decode_body(&test_desc, b.data, b.len, &m, err, sizeof err), -1);
    cr_assert_null(m);
    cr_assert_str_eq(err, want);
    pa_buf_free(&b);
}

static pa_msg_t *test_roundtrip(const pa_msg_t *m)
{
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "encode: %s", err);
    cr_assert_eq(hdr[3], 0xf0);
    pa_msg_t *back = NULL;
    cr_assert_eq(pa_proto__decode_body(&test_desc, body.data, body.len, &back, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert(pa_msg_equal(m, back));
    pa_buf_free(&body);
    return back;
}

/* ---- Round trips ---- */

Test(proto_roundtrip, hello)
{
    pa_msg_t *m = make_hello();
    pa_msg_t *back = roundtrip(m);
    cr_assert_eq(pa_msg_cmd(back), PA_CMD_HELLO);
    cr_assert_str_eq(pa_msg_name(back), "HELLO");
    size_t len = 0;
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HELLO_SERVICE, &len), "llm");
    cr_assert_eq(len, 3);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HELLO_WORKER_ID, NULL), "llm-host1-4242");
    cr_assert_eq(pa_msg_uint(back, PA_FIELD_HELLO_CAPACITY), 16);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HELLO_VERSION, NULL), "0.1.0");
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
    cr_assert_null(m);
    cr_assert_null(back);
}

Test(proto_roundtrip, credit_bytes_on_the_wire)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_CREDIT);
    pa_msg_set_uint(m, PA_FIELD_CREDIT_N, 5);
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0);
    const unsigned char want_hdr[4] = {0x50, 0x41, PA_PROTO_VERSION, 0x02};
    const unsigned char want_body[] = {0x81, 0xa1, 'n', 0x05};
    cr_assert_arr_eq(hdr, want_hdr, 4);
    cr_assert_eq(body.len, sizeof want_body);
    cr_assert_arr_eq(body.data, want_body, sizeof want_body);
    pa_msg_t *back = roundtrip(m);
    cr_assert_eq(pa_msg_uint(back, PA_FIELD_CREDIT_N), 5);
    pa_buf_free(&body);
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, task_documents_through_the_typed_struct)
{
    pa_task_msg_t in = {
        .task_id = "j-1:000002",
        .job_id = "j-1:000002",
        .job_id_len = 3,
        .stage = "compose",
        .lease = "lease-7f3a",
        .attempt = 2,
        .max_attempts = 3,
        .deadline_ms = 1700000000000ULL,
        .target = "https://example.com/contact",
        .input = "{\"name\":\"Ada\",\"variables\":{\"x\":\"\u00e9\"}}",
        .context = "{\"template\":\"Hi {{name}}\"}",
        .nresults = 2,
        .results = {{"enrich", 0, "{\"facts\":[1,2]}", 0}, {"compose", 7, "\"text\"XXXX", 6}}};
    pa_msg_t *m = pa_task_msg_encode(&in);
    pa_msg_t *back = roundtrip(m);
    pa_task_msg_t out;
    char err[PA_PROTO_ERRLEN] = "";
    cr_assert_eq(pa_task_msg_decode(back, &out, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(out.task_id, "j-1:000002");
    cr_assert_str_eq(out.job_id, "j-1");
    cr_assert_eq(out.job_id_len, 3);
    cr_assert_str_eq(out.stage, "compose");
    cr_assert_str_eq(out.lease, "lease-7f3a");
    cr_assert_eq(out.attempt, 2);
    cr_assert_eq(out.max_attempts, 3);
    cr_assert_eq(out.deadline_ms, 1700000000000ULL);
    cr_assert_str_eq(out.target, "https://example.com/contact");
    cr_assert_eq(out.target_len, strlen(out.target));
    cr_assert_str_eq(out.input, in.input);
    cr_assert_str_eq(out.context, in.context);
    cr_assert_eq(out.nresults, 2);
    const pa_task_result_t *r = pa_task_msg_result(&out, "enrich");
    cr_assert_not_null(r);
    cr_assert_eq(r->json_len, strlen("{\"facts\":[1,2]}"));
    cr_assert_arr_eq(r->json, "{\"facts\":[1,2]}", r->json_len);
    r = pa_task_msg_result(&out, "compose");
    cr_assert_not_null(r);
    cr_assert_eq(r->json_len, 6);
    cr_assert_arr_eq(r->json, "\"text\"", 6);
    cr_assert_null(pa_task_msg_result(&out, "submit"));
    cr_assert_null(pa_task_msg_result(&out, "enric"));
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, task_without_target_documents_or_results)
{
    /* what the engine did not store travels as "" and {} */
    pa_task_msg_t in = {.task_id = "j:1",
                        .job_id = "j",
                        .stage = "generate",
                        .lease = "l",
                        .attempt = 1,
                        .max_attempts = 1};
    pa_msg_t *m = pa_task_msg_encode(&in);
    pa_msg_t *back = roundtrip(m);
    pa_task_msg_t out;
    cr_assert_eq(pa_task_msg_decode(back, &out, NULL, 0), 0);
    cr_assert_str_eq(out.target, "");
    cr_assert_eq(out.target_len, 0);
    cr_assert_str_eq(out.input, "{}");
    cr_assert_str_eq(out.context, "{}");
    cr_assert_eq(out.nresults, 0);
    size_t n;
    cr_assert_arr_eq(pa_msg_any(back, PA_FIELD_TASK_RESULTS, &n), "\x80", 1);
    cr_assert_eq(n, 1);
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_task, results_of_every_stage_round_trip)
{
    pa_task_msg_t in = {.task_id = "j:1",
                        .job_id = "j",
                        .stage = "s",
                        .lease = "l",
                        .attempt = 1,
                        .max_attempts = 1,
                        .nresults = PA_TASK_MAX_RESULTS};
    char names[PA_TASK_MAX_RESULTS][8];
    char *big = repeat('x', 70000); /* a str32 header */
    for (int i = 0; i < PA_TASK_MAX_RESULTS; i++) {
        snprintf(names[i], sizeof names[i], "s%d", i);
        in.results[i] = (pa_task_result_t){names[i], 0, i == 3 ? big : "{}", 0};
    }
    pa_msg_t *m = pa_task_msg_encode(&in);
    pa_msg_t *back = roundtrip(m);
    pa_task_msg_t out;
    char err[PA_PROTO_ERRLEN] = "";
    cr_assert_eq(pa_task_msg_decode(back, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.nresults, PA_TASK_MAX_RESULTS);
    cr_assert_eq(pa_task_msg_result(&out, "s3")->json_len, 70000);
    cr_assert_arr_eq(pa_task_msg_result(&out, "s15")->json, "{}", 2);
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
    free(big);
}

Test(proto_task, check_says_which_document_a_task_cannot_carry)
{
    char err[PA_PROTO_ERRLEN];
    char *big = repeat('x', PA_PROTO_MAX_RESULTS);
    pa_task_msg_t t = {.task_id = "j:1",
                       .job_id = "j",
                       .stage = "s",
                       .lease = "l",
                       .attempt = 1,
                       .max_attempts = 1,
                       .input = big,
                       .input_len = PA_PROTO_MAX_INPUT};
    cr_assert_eq(pa_task_msg_check(&t, err, sizeof err), 0, "%s", err);
    t.input_len++;
    cr_assert_eq(pa_task_msg_check(&t, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "the task's input of 262145 bytes exceeds the 262144 bytes a TASK carries");
    t.input_len = 2;
    t.context = big, t.context_len = PA_PROTO_MAX_CONTEXT + 1;
    cr_assert_eq(pa_task_msg_check(&t, err, sizeof err), -1);
    cr_assert(strstr(err, "context of 262145 bytes"), "%s", err);
    t.context_len = 2;
    /* results as encoded: {"e": str32 of n}: 1 + 2 + 5 + n bytes */
    t.nresults = 1;
    t.results[0] = (pa_task_result_t){"e", 0, big, PA_PROTO_MAX_RESULTS - 8};
    cr_assert_eq(pa_task_msg_check(&t, err, sizeof err), 0, "%s", err);
    pa_msg_t *m = pa_task_msg_encode(&t);
    unsigned char hdr[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT;
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "what passes encodes: %s",
                 err);
    pa_msg_destroy(&m);
    pa_buf_free(&body);
    t.results[0].json_len++;
    cr_assert_eq(pa_task_msg_check(&t, err, sizeof err), -1);
    cr_assert(strstr(err, "results of 524289 bytes"), "%s", err);
    free(big);
}

/* results that the codec accepts (any one msgpack value) but pa_task_msg_decode does not */
static void expect_task_error(const char *results, size_t n, const char *want)
{
    pa_msg_t *m = make_task(results, n);
    pa_task_msg_t out;
    char err[PA_PROTO_ERRLEN] = "";
    cr_assert_eq(pa_task_msg_decode(m, &out, err, sizeof err), -1, "decoded, expected '%s'", want);
    cr_assert_str_eq(err, want);
    pa_msg_destroy(&m);
}

Test(proto_task, malformed_results_are_refused)
{
    expect_task_error("\x92\x01\x02", 3, "TASK: results is not a map");
    expect_task_error("\xc0", 1, "TASK: results is not a map");
    expect_task_error("\x81\x01\xa2{}", 5, "TASK: results key 0 is not a str");
    expect_task_error("\x81\xa0\xa2{}", 5, "TASK: results key 0 is not a stage name");
    expect_task_error("\x81\xb1"
                      "enrichenrichenric\xa2{}",
                      22, "TASK: results key 0 is not a stage name");
    expect_task_error("\x81\xa1"
                      "e\x01",
                      4, "TASK: results value 0 is not a str");
    expect_task_error("\x81\xa1"
                      "e\xc4\x02{}",
                      7, "TASK: results value 0 is not a str");
    expect_task_error("\x82\xa1"
                      "e\xa0\xa1"
                      "e\xa0",
                      7, "TASK: results names a stage twice");
    /* 17 entries: more than any engine has stages */
    char b[3 + 17 * 4];
    b[0] = (char)0xde, b[1] = 0, b[2] = 17;
    for (int i = 0; i < 17; i++) {
        b[3 + 4 * i] = (char)0xa2, b[4 + 4 * i] = 's', b[5 + 4 * i] = (char)('a' + i);
        b[6 + 4 * i] = (char)0xa0;
    }
    expect_task_error(b, sizeof b, "TASK: results has 17 entries, at most 16");
    /* not a TASK */
    pa_msg_t *c = pa_msg_new(PA_CMD_CREDIT);
    pa_task_msg_t out;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_task_msg_decode(c, &out, err, sizeof err), -1);
    cr_assert_str_eq(err, "not a TASK message");
    pa_msg_destroy(&c);
}

Test(proto_roundtrip, task_at_every_limit)
{
    /* The largest TASK the table allows (every document at its bound, results a map of str
     * values filling theirs) still fits the body limit, and decodes to the typed struct. */
    char *input = repeat(' ', PA_PROTO_MAX_INPUT), *context = repeat(' ', PA_PROTO_MAX_CONTEXT);
    input[0] = context[0] = '{';
    input[PA_PROTO_MAX_INPUT - 1] = context[PA_PROTO_MAX_CONTEXT - 1] = '}';
    /* {"a": str32 of L bytes}: 1 + 2 + 5 + L bytes */
    size_t rl = PA_PROTO_MAX_RESULTS - 8;
    char *results = repeat('r', PA_PROTO_MAX_RESULTS);
    memcpy(results,
           "\x81\xa1"
           "a\xdb",
           4);
    results[4] = (char)(rl >> 24), results[5] = (char)(rl >> 16);
    results[6] = (char)(rl >> 8), results[7] = (char)rl;
    char *target = repeat('t', PA_PROTO_MAX_TARGET);
    char *s64 = repeat('i', 64), *s16 = repeat('s', 16);
    pa_msg_t *m = pa_msg_new(PA_CMD_TASK);
    pa_msg_set_str(m, PA_FIELD_TASK_TASK_ID, s64);
    pa_msg_set_str(m, PA_FIELD_TASK_JOB_ID, s64);
    pa_msg_set_str(m, PA_FIELD_TASK_STAGE, s16);
    pa_msg_set_str(m, PA_FIELD_TASK_LEASE, s64);
    pa_msg_set_uint(m, PA_FIELD_TASK_ATTEMPT, 1000);
    pa_msg_set_uint(m, PA_FIELD_TASK_MAX_ATTEMPTS, 1000);
    pa_msg_set_uint(m, PA_FIELD_TASK_DEADLINE_MS, UINT64_MAX);
    pa_msg_set_str(m, PA_FIELD_TASK_TARGET, target);
    pa_msg_set_str(m, PA_FIELD_TASK_INPUT, input);
    pa_msg_set_str(m, PA_FIELD_TASK_CONTEXT, context);
    pa_msg_set_any(m, PA_FIELD_TASK_RESULTS, results, PA_PROTO_MAX_RESULTS);
    unsigned char hdr[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "%s", err);
    cr_assert_gt(body.len, (size_t)1024 * 1024, "the documents alone are 1 MiB");
    cr_assert_leq(body.len, PA_PROTO_MAX_BODY);
    pa_buf_free(&body);
    pa_msg_t *back = roundtrip(m);
    cr_assert_eq(pa_msg_uint(back, PA_FIELD_TASK_DEADLINE_MS), UINT64_MAX);
    pa_task_msg_t out;
    cr_assert_eq(pa_task_msg_decode(back, &out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(out.input_len, PA_PROTO_MAX_INPUT);
    cr_assert_eq(out.nresults, 1);
    cr_assert_eq(out.results[0].json_len, rl);
    /* one byte more in any document is refused */
    char *more = repeat(' ', PA_PROTO_MAX_INPUT + 1);
    pa_msg_set_str(m, PA_FIELD_TASK_INPUT, more);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TASK: field 'input' longer than 262144 bytes");
    pa_buf_free(&body);
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
    free(more);
    free(input);
    free(context);
    free(results);
    free(target);
    free(s64);
    free(s16);
}

Test(proto_roundtrip, cancel_with_and_without_reason)
{
    for (int with = 0; with <= 1; with++) {
        pa_msg_t *m = make_cancel(with);
        pa_msg_t *back = roundtrip(m);
        cr_assert_eq(pa_msg_has(back, PA_FIELD_CANCEL_REASON), with);
        if (with)
            cr_assert_str_eq(pa_msg_str(back, PA_FIELD_CANCEL_REASON, NULL),
                             "HTTP 503 from provider");
        else cr_assert_null(pa_msg_str(back, PA_FIELD_CANCEL_REASON, NULL));
        cr_assert_str_eq(pa_msg_str(back, PA_FIELD_CANCEL_TASK_ID, NULL),
                         with ? "01hx0000000000000000000001:000007"
                              : "01hx0000000000000000000001:000001");
        pa_msg_destroy(&m);
        pa_msg_destroy(&back);
    }
}

Test(proto_roundtrip, cancel_empty_reason_text)
{
    pa_msg_t *m = make_cancel(0);
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, ""); /* optional and min 0: allowed */
    pa_msg_t *back = roundtrip(m);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_CANCEL_REASON, NULL), "");
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, heartbeat_empty_and_full)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HEARTBEAT);
    pa_msg_t *back = roundtrip(m);
    cr_assert_not(pa_msg_has(back, PA_FIELD_HEARTBEAT_WORKER_ID));
    cr_assert_not(pa_msg_has(back, PA_FIELD_HEARTBEAT_LOAD));
    cr_assert_eq(pa_msg_uint(back, PA_FIELD_HEARTBEAT_LOAD), 0);
    pa_msg_destroy(&back);

    pa_msg_set_str(m, PA_FIELD_HEARTBEAT_WORKER_ID, "form-1");
    pa_msg_set_uint(m, PA_FIELD_HEARTBEAT_LOAD, 0);
    back = roundtrip(m);
    cr_assert(pa_msg_has(back, PA_FIELD_HEARTBEAT_LOAD));
    cr_assert_eq(pa_msg_uint(back, PA_FIELD_HEARTBEAT_LOAD), 0);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HEARTBEAT_WORKER_ID, NULL), "form-1");
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, bye)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_BYE);
    pa_msg_set_str(m, PA_FIELD_BYE_WORKER_ID, "mcp-2");
    pa_msg_t *back = roundtrip(m);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_BYE_WORKER_ID, NULL), "mcp-2");
    cr_assert(!pa_msg_has(back, PA_FIELD_BYE_REASON));
    pa_msg_destroy(&back);
    pa_msg_set_str(m, PA_FIELD_BYE_REASON, "worker id held by another instance");
    back = roundtrip(m);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_BYE_REASON, NULL),
                     "worker id held by another instance");
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, hello_held)
{
    pa_msg_t *m = make_hello();
    pa_msg_set_str(m, PA_FIELD_HELLO_HELD, "j-1:000001 17-abc\nj-1:000002 18-abc\n");
    pa_msg_t *back = roundtrip(m);
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HELLO_HELD, NULL),
                     "j-1:000001 17-abc\nj-1:000002 18-abc\n");
    cr_assert_str_eq(pa_msg_str(back, PA_FIELD_HELLO_INSTANCE, NULL),
                     "0123456789abcdef0123456789abcdef");
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, utf8_strings)
{
    pa_msg_t *m = make_cancel(1);
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "formulaire refusé: «captcha» 验证码");
    pa_msg_t *back = roundtrip(m);
    pa_msg_destroy(&m);
    pa_msg_destroy(&back);
}

Test(proto_roundtrip, field_order_on_the_wire_is_free)
{
    ent_t e[HELLO_N] = {hello_ok[3], hello_ok[4], hello_ok[2], hello_ok[1], hello_ok[0]};
    pa_buf_t b = PA_BUF_INIT;
    build(&b, e, HELLO_N);
    pa_msg_t *m = NULL, *want = make_hello();
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(decode_exact(HDR_HELLO, 4, b.data, b.len, &m, err, sizeof err), 0, "%s", err);
    cr_assert(pa_msg_equal(m, want));
    pa_msg_destroy(&m);
    pa_msg_destroy(&want);
    pa_buf_free(&b);
}

Test(proto_roundtrip, non_minimal_integer_encodings)
{
    /* Other msgpack writers may use wider or signed encodings of small numbers. */
    const unsigned char bodies[][12] = {
        {0x81, 0xa1, 'n', 0xcc, 0x05},
        {0x81, 0xa1, 'n', 0xcd, 0x00, 0x05},
        {0x81, 0xa1, 'n', 0xce, 0x00, 0x00, 0x00, 0x05},
        {0x81, 0xa1, 'n', 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05},
        {0x81, 0xa1, 'n', 0xd0, 0x05},
        {0x81, 0xa1, 'n', 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x05},
    };
    const size_t lens[] = {5, 6, 8, 12, 5, 12};
    for (size_t k = 0; k < 6; k++) {
        pa_msg_t *m = NULL;
        char err[PA_PROTO_ERRLEN];
        cr_assert_eq(decode_exact(HDR_CREDIT, 4, bodies[k], lens[k], &m, err, sizeof err), 0,
                     "encoding %zu: %s", k, err);
        cr_assert_eq(pa_msg_uint(m, PA_FIELD_CREDIT_N), 5);
        pa_msg_destroy(&m);
    }
    /* map16 and str8 headers for small sizes are fine too */
    const unsigned char wide[] = {0xde, 0x00, 0x01, 0xd9, 0x01, 'n', 0x07};
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(decode_exact(HDR_CREDIT, 4, wide, sizeof wide, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pa_msg_uint(m, PA_FIELD_CREDIT_N), 7);
    pa_msg_destroy(&m);
}

/* ---- The message object ---- */

Test(proto_msg, setters_getters_unset)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_CANCEL);
    cr_assert_not(pa_msg_has(m, PA_FIELD_CANCEL_REASON));
    cr_assert_null(pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL));
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "one");
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "two"); /* replaces, frees the old value */
    cr_assert_str_eq(pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL), "two");
    /* setting a field from its own value is safe */
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL));
    cr_assert_str_eq(pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL), "two");
    pa_msg_set_strn(m, PA_FIELD_CANCEL_REASON, "threefold", 5);
    cr_assert_str_eq(pa_msg_str(m, PA_FIELD_CANCEL_REASON, NULL), "three");
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, NULL);
    cr_assert_not(pa_msg_has(m, PA_FIELD_CANCEL_REASON));
    pa_msg_set_str(m, PA_FIELD_CANCEL_REASON, "x");
    pa_msg_unset(m, PA_FIELD_CANCEL_REASON);
    cr_assert_not(pa_msg_has(m, PA_FIELD_CANCEL_REASON));
    pa_msg_destroy(&m);
    pa_msg_destroy(&m); /* a NULLed pointer is fine */
    pa_msg_destroy(NULL);
}

Test(proto_msg, equal_tells_messages_apart)
{
    pa_msg_t *a = make_cancel(1), *b = make_cancel(1), *c = make_cancel(0), *h = make_hello();
    cr_assert(pa_msg_equal(a, b));
    cr_assert_not(pa_msg_equal(a, c));
    cr_assert_not(pa_msg_equal(a, h));
    pa_msg_set_str(b, PA_FIELD_CANCEL_REASON, "HTTP 503 from providex");
    cr_assert_not(pa_msg_equal(a, b));
    pa_msg_destroy(&a);
    pa_msg_destroy(&b);
    pa_msg_destroy(&c);
    pa_msg_destroy(&h);
}

Test(proto_msg, field_of_another_message_aborts, .signal = SIGABRT)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    pa_msg_set_str(m, PA_FIELD_TASK_LEASE, "x");
}

Test(proto_msg, getter_of_another_type_aborts, .signal = SIGABRT)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_HELLO);
    (void)pa_msg_uint(m, PA_FIELD_HELLO_SERVICE);
}

Test(proto_msg, unknown_command_aborts, .signal = SIGABRT)
{
    (void)pa_msg_new((pa_cmd_t)0x2a);
}

/* ---- The table ---- */

Test(proto_table, declarations_are_consistent)
{
    size_t count = 0;
    for (unsigned code = 0; code < 256; code++) {
        const pa_proto_msg_desc_t *d = pa_proto_msg_desc(code);
        if (!d) {
            cr_assert_null(pa_proto_cmd_name(code));
            continue;
        }
        count++;
        cr_assert_neq(code, 0);
        cr_assert_eq(d->code, code);
        cr_assert_str_eq(pa_proto_cmd_name(code), d->name);
        cr_assert_leq(d->nfields, PA_PROTO_MAX_FIELDS);
        for (unsigned other = 0; other < code; other++)
            if (pa_proto_cmd_name(other)) cr_assert_str_neq(pa_proto_cmd_name(other), d->name);
        for (size_t i = 0; i < d->nfields; i++) {
            const pa_proto_field_desc_t *f = &d->fields[i];
            cr_assert_gt(strlen(f->name), 0);
            cr_assert_lt(strlen(f->name), 32);
            for (size_t j = 0; j < i; j++) cr_assert_str_neq(d->fields[j].name, f->name);
            if (f->type == PA_PROTO_BOOL) continue;
            if (f->type != PA_PROTO_INT) cr_assert_geq(f->min, 0, "%s.%s", d->name, f->name);
            if (f->min >= 0) cr_assert_leq((uint64_t)f->min, f->max, "%s.%s", d->name, f->name);
            if (f->type == PA_PROTO_INT) cr_assert_leq(f->max, (uint64_t)INT64_MAX);
            if (f->type == PA_PROTO_STR || f->type == PA_PROTO_BIN || f->type == PA_PROTO_ANY)
                cr_assert_lt(f->max, PA_PROTO_MAX_BODY, "%s.%s", d->name, f->name);
        }
    }
    cr_assert_eq(count, 6);
}

Test(proto_table, field_ids_name_their_message_and_slot)
{
    cr_assert_eq(PA_FIELD_HELLO_SERVICE, 0x0100);
    cr_assert_eq(PA_FIELD_CREDIT_N, 0x0200);
    cr_assert_eq(PA_FIELD_TASK_LEASE, 0x0303);
    cr_assert_eq(PA_FIELD_TASK_TARGET, 0x0307);
    cr_assert_eq(PA_FIELD_TASK_RESULTS, 0x030a);
    cr_assert_eq(PA_FIELD_BYE_WORKER_ID, 0x0600);
    const pa_proto_msg_desc_t *d = pa_proto_msg_desc(PA_CMD_TASK);
    cr_assert_str_eq(d->fields[PA_FIELD_TASK_LEASE & 0xff].name, "lease");
    cr_assert_eq(d->fields[PA_FIELD_TASK_RESULTS & 0xff].type, PA_PROTO_ANY);
    cr_assert_eq(d->fields[PA_FIELD_TASK_RESULTS & 0xff].max, 512 * 1024);
}

/* docs/protocol.md carries one table per message; it must say what the code says. */
static void doc_table(pa_buf_t *b, const pa_proto_msg_desc_t *d)
{
    pa_buf_printf(b, "### %s (0x%02x)\n\n", d->name, d->code);
    pa_buf_puts(b, "| field | type | presence | bounds |\n|---|---|---|---|\n");
    for (size_t i = 0; i < d->nfields; i++) {
        const pa_proto_field_desc_t *f = &d->fields[i];
        pa_buf_printf(b, "| `%s` | %s | %s | ", f->name, pa_proto_type_name(f->type),
                      f->required ? "required" : "optional");
        switch (f->type) {
        case PA_PROTO_STR:
        case PA_PROTO_BIN:
        case PA_PROTO_ANY:
            pa_buf_printf(b, "%" PRId64 "..%" PRIu64 " bytes |\n", f->min, f->max);
            break;
        case PA_PROTO_UINT:
        case PA_PROTO_INT:
            if (f->max == PA_PROTO_NOLIMIT) pa_buf_printf(b, "%" PRId64 "..2^64-1 |\n", f->min);
            else pa_buf_printf(b, "%" PRId64 "..%" PRIu64 " |\n", f->min, f->max);
            break;
        case PA_PROTO_BOOL: pa_buf_puts(b, "- |\n"); break;
        }
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    pa_buf_t b = PA_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) pa_buf_put(&b, chunk, n);
    fclose(f);
    return pa_buf_detach(&b, NULL);
}

Test(proto_table, docs_match_the_table)
{
    char path[4096];
    const char *src = getenv("PA_SOURCE_DIR");
    if (src) {
        snprintf(path, sizeof path, "%s/docs/protocol.md", src);
    } else { /* __FILE__ is .../tests/unit/test_proto.c */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *cut = strstr(path, "tests/unit/test_proto.c");
        if (!cut) cr_skip_test("cannot locate the source tree; set PA_SOURCE_DIR");
        strcpy(cut, "docs/protocol.md");
    }
    char *doc = slurp(path);
    if (!doc && !src) cr_skip_test("cannot read %s; set PA_SOURCE_DIR", path);
    cr_assert_not_null(doc, "cannot read %s", path);
    for (unsigned code = 1; code < 256; code++) {
        const pa_proto_msg_desc_t *d = pa_proto_msg_desc(code);
        if (!d) continue;
        pa_buf_t want = PA_BUF_INIT;
        doc_table(&want, d);
        cr_assert_not_null(strstr(doc, want.data),
                           "docs/protocol.md lacks or misstates this table:\n%s", want.data);
        pa_buf_free(&want);
    }
    free(doc);
}

/* ---- The header frame ---- */

Test(proto_header, wrong_length)
{
    const unsigned char body[] = {0x81, 0xa1, 'n', 0x01};
    const unsigned char hdr[5] = {'P', 'A', 1, 2, 0};
    for (size_t hl = 0; hl <= 5; hl++) {
        if (hl == 4) continue;
        char err[PA_PROTO_ERRLEN], want[64];
        pa_msg_t *m = NULL;
        cr_assert_eq(decode_exact(hdr, hl, body, sizeof body, &m, err, sizeof err), -1);
        cr_assert_null(m);
        snprintf(want, sizeof want, "header frame is %zu bytes, expected 4", hl);
        cr_assert_str_eq(err, want);
    }
}

Test(proto_header, bad_magic)
{
    const unsigned char body[] = {0x81, 0xa1, 'n', 0x01};
    const unsigned char h1[4] = {'G', 'E', 'T', ' '}, h2[4] = {'P', 'a', 1, 2};
    expect_error(h1, body, sizeof body, "bad magic");
    expect_error(h2, body, sizeof body, "bad magic");
}

Test(proto_header, unsupported_version)
{
    const unsigned char body[] = {0x81, 0xa1, 'n', 0x01};
    /* version 1 had RESULT and no CANCEL or max_attempts: its peers are refused, not half read */
    const unsigned char h2[4] = {'P', 'A', 1, 2}, h0[4] = {'P', 'A', 0, 2};
    expect_error(h2, body, sizeof body, "unsupported version 1");
    expect_error(h0, body, sizeof body, "unsupported version 0");
}

Test(proto_header, unknown_command)
{
    const unsigned char body[] = {0x80};
    const unsigned char h1[4] = {'P', 'A', PA_PROTO_VERSION, 0x2a},
                        h2[4] = {'P', 'A', PA_PROTO_VERSION, 0x00};
    expect_error(h1, body, sizeof body, "unknown command 0x2a");
    expect_error(h2, body, sizeof body, "unknown command 0x00");
}

Test(proto_header, no_error_buffer_is_fine)
{
    const unsigned char h[4] = {'P', 'A', 9, 2}, body[] = {0x80};
    pa_msg_t *m = NULL;
    cr_assert_eq(pa_proto_decode(h, 4, body, 1, &m, NULL, 0), -1);
    char tiny[4] = "xyz";
    cr_assert_eq(pa_proto_decode(h, 4, body, 1, &m, tiny, sizeof tiny), -1);
    cr_assert_str_eq(tiny, "uns");
    cr_assert_eq(pa_proto_decode(HDR_TASK, 4, body, 1, &m, tiny, sizeof tiny), -1);
    cr_assert_str_eq(tiny, "TAS");
}

/* ---- Body framing and structure ---- */

Test(proto_body, oversized_frame_refused_before_parsing)
{
    /* The bytes are all invalid; the size alone must decide. */
    size_t n = PA_PROTO_MAX_BODY + 1;
    unsigned char *body = malloc(n);
    memset(body, 0xc1, n);
    expect_error(HDR_TASK, body, n,
                 "TASK: body frame of 1052673 bytes exceeds the 1052672-byte limit");
    free(body);
}

Test(proto_body, empty_body)
{
    expect_error(HDR_CREDIT, "", 0, "CREDIT: empty body");
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_decode(HDR_CREDIT, 4, NULL, 0, &m, err, sizeof err), -1);
    cr_assert_str_eq(err, "CREDIT: empty body");
}

Test(proto_body, not_a_map)
{
    const unsigned char arr[] = {0x91, 0x01}, str[] = {0xa1, 'n'}, nil[] = {0xc0},
                        arr16[] = {0xdc, 0x00, 0x00};
    expect_error(HDR_CREDIT, arr, sizeof arr, "CREDIT: body is not a msgpack map");
    expect_error(HDR_CREDIT, str, sizeof str, "CREDIT: body is not a msgpack map");
    expect_error(HDR_CREDIT, nil, sizeof nil, "CREDIT: body is not a msgpack map");
    expect_error(HDR_CREDIT, arr16, sizeof arr16, "CREDIT: body is not a msgpack map");
}

Test(proto_body, trailing_bytes)
{
    const unsigned char b1[] = {0x81, 0xa1, 'n', 0x01, 0x00};
    const unsigned char b2[] = {0x81, 0xa1, 'n', 0x01, 0x81, 0xa1, 'n', 0x02};
    expect_error(HDR_CREDIT, b1, sizeof b1, "CREDIT: trailing bytes after body (1)");
    expect_error(HDR_CREDIT, b2, sizeof b2, "CREDIT: trailing bytes after body (4)");
}

Test(proto_body, invalid_msgpack_byte)
{
    const unsigned char b[] = {0x81, 0xa1, 'n', 0xc1};
    expect_error(HDR_CREDIT, b, sizeof b, "CREDIT: invalid msgpack byte 0xc1 at offset 3");
}

Test(proto_body, nesting_deeper_than_8)
{
    /* {"x": [[[[[[[[1]]]]]]]]}: the map and 8 arrays make 9 levels. */
    unsigned char b[16] = {0x81, 0xa1, 'x'};
    size_t n = 3;
    for (int k = 0; k < 8; k++) b[n++] = 0x91;
    b[n++] = 0x01;
    expect_error(HDR_TASK, b, n, "TASK: nesting deeper than 8");

    /* 8 levels are well-formed: the body is then refused for its content, not its shape. */
    n = 3;
    for (int k = 0; k < 7; k++) b[n++] = 0x91;
    b[n++] = 0x01;
    expect_error(HDR_TASK, b, n, "TASK: unknown field 'x'");

    /* depth counts maps too, and an empty container still counts */
    unsigned char c[32] = {0x81, 0xa1, 'x'};
    n = 3;
    for (int k = 0; k < 7; k++) c[n++] = 0x81, c[n++] = 0xa0;
    c[n++] = 0x90;
    expect_error(HDR_TASK, c, n, "TASK: nesting deeper than 8");
}

Test(proto_body, huge_counts_in_tiny_buffers)
{
    /* 20 bytes that declare 4 G elements: refused from the header, nothing allocated. */
    unsigned char arr[20] = {0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff};
    expect_error(HDR_TASK, arr, sizeof arr,
                 "TASK: body truncated: array at offset 3 declares 4294967295 elements, "
                 "12 bytes left");
    unsigned char map[20] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    expect_error(HDR_TASK, map, sizeof map,
                 "TASK: body truncated: map at offset 0 declares 4294967295 entries, "
                 "15 bytes left");
    unsigned char map16[20] = {0x81, 0xa1, 'x', 0xde, 0xff, 0xff};
    expect_error(HDR_TASK, map16, sizeof map16,
                 "TASK: body truncated: map at offset 3 declares 65535 entries, 14 bytes left");
    unsigned char bin[20] = {0x81, 0xa7, 'p',  'a',  'y',  'l',  'o',
                             'a',  'd',  0xc6, 0xff, 0xff, 0xff, 0xff};
    expect_error(HDR_TASK, bin, sizeof bin,
                 "TASK: body truncated: bin at offset 9 declares 4294967295 bytes, 6 left");
    unsigned char str[20] = {0x81, 0xdb, 0xff, 0xff, 0xff, 0xff};
    expect_error(HDR_TASK, str, sizeof str,
                 "TASK: body truncated: str at offset 1 declares 4294967295 bytes, 14 left");
    unsigned char ext[20] = {0x81, 0xa1, 'x', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_error(HDR_TASK, ext, sizeof ext,
                 "TASK: body truncated: ext at offset 3 declares 4294967295 bytes, 11 left");
    /* A full-size frame of nested maximal counts is refused just as fast. */
    for (int k = 0; k < 10000; k++) {
        pa_msg_t *m = NULL;
        cr_assert_eq(pa_proto_decode(HDR_TASK, 4, arr, sizeof arr, &m, NULL, 0), -1);
    }
}

static void check_every_truncation(const pa_msg_t *m)
{
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0, "%s", err);
    for (size_t len = 0; len < body.len; len++) {
        pa_msg_t *out = NULL;
        cr_assert_eq(decode_exact(hdr, 4, body.data, len, &out, err, sizeof err), -1,
                     "%s decoded from %zu of %zu bytes", pa_msg_name(m), len, body.len);
        cr_assert_null(out);
        if (len == 0) cr_assert_str_eq(strchr(err, ':'), ": empty body");
        else cr_assert_not_null(strstr(err, ": body truncated"), "%zu: %s", len, err);
    }
    pa_msg_t *out = NULL;
    cr_assert_eq(decode_exact(hdr, 4, body.data, body.len, &out, err, sizeof err), 0);
    pa_msg_destroy(&out);
    pa_buf_free(&body);
}

Test(proto_body, truncated_at_every_length)
{
    pa_msg_t *ms[7] = {make_hello(),   pa_msg_new(PA_CMD_CREDIT),    make_task("\x92\x01\x02", 3),
                       make_cancel(1), pa_msg_new(PA_CMD_HEARTBEAT), pa_msg_new(PA_CMD_BYE),
                       make_cancel(0)};
    pa_msg_set_uint(ms[1], PA_FIELD_CREDIT_N, 10000);
    pa_msg_set_str(ms[4], PA_FIELD_HEARTBEAT_WORKER_ID, "w-1");
    pa_msg_set_uint(ms[4], PA_FIELD_HEARTBEAT_LOAD, 300);
    pa_msg_set_str(ms[5], PA_FIELD_BYE_WORKER_ID, "w-1");
    for (size_t k = 0; k < 7; k++) {
        check_every_truncation(ms[k]);
        pa_msg_destroy(&ms[k]);
    }
}

Test(proto_body, every_single_byte_mutation_is_safe)
{
    /* Each byte of a valid TASK replaced by a few values: decodes or fails cleanly, and what
     * decodes encodes again to the same message. */
    pa_msg_t *m = make_task("\x81\xa1k\x01", 4);
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT, again = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), 0);
    const unsigned char vals[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf,
                                  0xc0, 0xc1, 0xc2, 0xc4, 0xc6, 0xc9, 0xcb, 0xcf,
                                  0xd3, 0xd8, 0xdb, 0xdd, 0xdf, 0xe0, 0xff};
    unsigned char *copy = malloc(body.len);
    for (size_t at = 0; at < body.len; at++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(copy, body.data, body.len);
            copy[at] = vals[v];
            pa_msg_t *out = NULL;
            if (decode_exact(hdr, 4, copy, body.len, &out, err, sizeof err) < 0) {
                cr_assert_null(out);
                cr_assert_gt(strlen(err), 0);
                continue;
            }
            unsigned char h2[4];
            cr_assert_eq(pa_proto_encode(out, h2, &again, err, sizeof err), 0, "%s", err);
            pa_msg_t *out2 = NULL;
            cr_assert_eq(decode_exact(h2, 4, again.data, again.len, &out2, err, sizeof err), 0);
            cr_assert(pa_msg_equal(out, out2));
            pa_msg_destroy(&out);
            pa_msg_destroy(&out2);
        }
    }
    free(copy);
    pa_buf_free(&body);
    pa_buf_free(&again);
    pa_msg_destroy(&m);
}

/* ---- Fields ---- */

Test(proto_fields, missing_required_field)
{
    ent_t e[TASK_N - 1];
    memcpy(e, task_ok + 1, sizeof e);
    expect_entries_error(HDR_TASK, e, TASK_N - 1, "TASK: missing required field 'task_id'");
    memcpy(e, task_ok, sizeof e); /* all but results */
    expect_entries_error(HDR_TASK, e, TASK_N - 1, "TASK: missing required field 'results'");
    expect_entries_error(HDR_CREDIT, NULL, 0, "CREDIT: missing required field 'n'");
}

Test(proto_fields, unknown_field)
{
    ent_t e[HELLO_N + 1];
    memcpy(e, hello_ok, sizeof hello_ok);
    e[HELLO_N] = (ent_t){"x", E_UINT, NULL, 0, 1, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N + 1, "HELLO: unknown field 'x'");
    /* a field of another message is unknown here */
    e[HELLO_N] = (ent_t){"lease", E_STR, "l", 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N + 1, "HELLO: unknown field 'lease'");
    /* names are matched whole and case-sensitively */
    e[HELLO_N] = (ent_t){"Service", E_STR, "l", 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N + 1, "HELLO: unknown field 'Service'");
}

Test(proto_fields, unknown_field_name_is_made_safe_to_print)
{
    const unsigned char b1[] = {0x81, 0xa5, 'a', 0x01, '\'', 0xff, '\\', 0x01};
    expect_error(HDR_CREDIT, b1, sizeof b1, "CREDIT: unknown field 'a\\x01\\x27\\xff\\x5c'");
    unsigned char b2[64] = {0x81, 0xd9, 40};
    memset(b2 + 3, 'k', 40);
    b2[43] = 0x01;
    expect_error(HDR_CREDIT, b2, 44, "CREDIT: unknown field 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
    /* a key with a NUL after a real name is not that name */
    const unsigned char b3[] = {0x81, 0xa2, 'n', 0x00, 0x01};
    expect_error(HDR_CREDIT, b3, sizeof b3, "CREDIT: unknown field 'n\\x00'");
}

Test(proto_fields, duplicate_field)
{
    const unsigned char b[] = {0x82, 0xa1, 'n', 0x01, 0xa1, 'n', 0x02};
    expect_error(HDR_CREDIT, b, sizeof b, "CREDIT: duplicate field 'n'");
}

Test(proto_fields, field_name_not_a_string)
{
    const unsigned char b1[] = {0x81, 0x01, 0x02};
    expect_error(HDR_CREDIT, b1, sizeof b1, "CREDIT: field name at offset 1 is uint, not str");
    const unsigned char b2[] = {0x81, 0xc4, 0x01, 'n', 0x02};
    expect_error(HDR_CREDIT, b2, sizeof b2, "CREDIT: field name at offset 1 is bin, not str");
}

Test(proto_fields, wrong_types)
{
    ent_t e[HELLO_N];
    memcpy(e, hello_ok, sizeof e);
    e[2] = (ent_t){"capacity", E_STR, "16", 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N, "HELLO: field 'capacity' must be uint, got str");
    e[2] = (ent_t){"capacity", E_NIL, NULL, 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N, "HELLO: field 'capacity' must be uint, got nil");
    e[2] = (ent_t){"capacity", E_RAW, "\xcb\x40\x30\x00\x00\x00\x00\x00\x00", 9, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N, "HELLO: field 'capacity' must be uint, got float");
    memcpy(e, hello_ok, sizeof e);
    e[0] = (ent_t){"service", E_BIN, "llm", 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N, "HELLO: field 'service' must be str, got bin");
    e[0] = (ent_t){"service", E_RAW, "\x91\xa3llm", 5, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N, "HELLO: field 'service' must be str, got array");

    ent_t t[TASK_N];
    memcpy(t, task_ok, sizeof t);
    t[8] = (ent_t){"input", E_BIN, "{}", 0, 0, 0};
    expect_entries_error(HDR_TASK, t, TASK_N, "TASK: field 'input' must be str, got bin");

    /* nil is not "absent", even for an optional field */
    const unsigned char r[] = {0x81, 0xa9, 'w', 'o', 'r', 'k', 'e', 'r', '_', 'i', 'd', 0xc0};
    const unsigned char hb[4] = {'P', 'A', PA_PROTO_VERSION, PA_CMD_HEARTBEAT};
    expect_error(hb, r, sizeof r, "HEARTBEAT: field 'worker_id' must be str, got nil");
}

Test(proto_fields, string_too_long)
{
    char *s65 = repeat('l', 65), *s64 = repeat('l', 64);
    ent_t e[TASK_N];
    memcpy(e, task_ok, sizeof e);
    e[3].s = s65;
    expect_entries_error(HDR_TASK, e, TASK_N, "TASK: field 'lease' longer than 64 bytes");
    e[3].s = s64; /* exactly at the bound: fine */
    pa_buf_t b = PA_BUF_INIT;
    build(&b, e, TASK_N);
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(decode_exact(HDR_TASK, 4, b.data, b.len, &m, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(pa_msg_str(m, PA_FIELD_TASK_LEASE, NULL), s64);
    pa_msg_destroy(&m);
    memcpy(e, task_ok, sizeof e);
    e[2].s = "composecomposecom"; /* 17 */
    expect_entries_error(HDR_TASK, e, TASK_N, "TASK: field 'stage' longer than 16 bytes");
    char *err1025 = repeat('e', 1025);
    ent_t r[2] = {task_ok[1], {"reason", E_STR, err1025, 0, 0, 0}};
    expect_entries_error(HDR_CANCEL, r, 2, "CANCEL: field 'reason' longer than 256 bytes");
    pa_buf_free(&b);
    free(s65);
    free(s64);
    free(err1025);
}

Test(proto_fields, string_empty)
{
    ent_t e[TASK_N];
    memcpy(e, task_ok, sizeof e);
    e[3].s = "";
    expect_entries_error(HDR_TASK, e, TASK_N, "TASK: field 'lease' is empty");
}

Test(proto_fields, string_not_utf8_or_with_nul)
{
    ent_t e[HELLO_N];
    memcpy(e, hello_ok, sizeof e);
    e[0] = (ent_t){"service", E_STR, "ll\xff", 0, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'service' is not valid UTF-8 or contains NUL");
    e[0] = (ent_t){"service", E_STR, "l\0m", 3, 0, 0};
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'service' is not valid UTF-8 or contains NUL");
    e[0] = (ent_t){"service", E_STR, "\xed\xa0\x80", 0, 0, 0}; /* a UTF-16 surrogate */
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'service' is not valid UTF-8 or contains NUL");
}

Test(proto_fields, integer_bounds)
{
    ent_t e[HELLO_N];
    memcpy(e, hello_ok, sizeof e);
    e[2].u = 0;
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'capacity' out of range 1..10000 (got 0)");
    e[2].u = 10001;
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'capacity' out of range 1..10000 (got 10001)");
    e[2].u = UINT64_MAX;
    expect_entries_error(HDR_HELLO, e, HELLO_N,
                         "HELLO: field 'capacity' out of range 1..10000 "
                         "(got 18446744073709551615)");
    for (uint64_t ok = 1; ok <= 10000; ok += 9999) {
        e[2].u = ok;
        pa_buf_t b = PA_BUF_INIT;
        build(&b, e, HELLO_N);
        pa_msg_t *m = NULL;
        cr_assert_eq(decode_exact(HDR_HELLO, 4, b.data, b.len, &m, NULL, 0), 0);
        cr_assert_eq(pa_msg_uint(m, PA_FIELD_HELLO_CAPACITY), ok);
        pa_msg_destroy(&m);
        pa_buf_free(&b);
    }
    ent_t t[TASK_N];
    memcpy(t, task_ok, sizeof t);
    t[4] = (ent_t){"attempt", E_INT, NULL, 0, 0, -1};
    expect_entries_error(HDR_TASK, t, TASK_N,
                         "TASK: field 'attempt' out of range 0..1000 (got -1)");
    t[4] = (ent_t){"attempt", E_INT, NULL, 0, 0, INT64_MIN};
    expect_entries_error(HDR_TASK, t, TASK_N,
                         "TASK: field 'attempt' out of range 0..1000 "
                         "(got -9223372036854775808)");
    t[4] = (ent_t){"attempt", E_UINT, NULL, 0, 1001, 0};
    expect_entries_error(HDR_TASK, t, TASK_N,
                         "TASK: field 'attempt' out of range 0..1000 (got 1001)");
    const unsigned char c[] = {0x81, 0xa1, 'n', 0xd0, 0xff}; /* int8 -1 */
    expect_error(HDR_CREDIT, c, sizeof c, "CREDIT: field 'n' out of range 1..10000 (got -1)");
}

Test(proto_fields, documents_too_long)
{
    size_t n = PA_PROTO_MAX_CONTEXT + 1;
    char *p = repeat('p', n);
    ent_t t[TASK_N];
    memcpy(t, task_ok, sizeof t);
    t[9] = (ent_t){"context", E_STR, p, n, 0, 0};
    expect_entries_error(HDR_TASK, t, TASK_N, "TASK: field 'context' longer than 262144 bytes");
    memcpy(t, task_ok, sizeof t);
    t[8] = (ent_t){"input", E_STR, "{", 0, 0, 0};
    expect_entries_error(HDR_TASK, t, TASK_N, "TASK: field 'input' shorter than 2 bytes");
    memcpy(t, task_ok, sizeof t);
    t[7] = (ent_t){"target", E_STR, p, PA_PROTO_MAX_TARGET + 1, 0, 0};
    expect_entries_error(HDR_TASK, t, TASK_N, "TASK: field 'target' longer than 2048 bytes");
    free(p);
}

/* ---- The encoder refuses what the decoder would ---- */

Test(proto_encode, refuses_invalid_messages)
{
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    pa_msg_t *m = make_hello();
    pa_msg_unset(m, PA_FIELD_HELLO_VERSION);
    pa_buf_put(&body, "stale", 5);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "HELLO: missing required field 'version'");
    cr_assert_eq(body.len, 0);
    pa_msg_destroy(&m);

    m = make_hello();
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, 0);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "HELLO: field 'capacity' out of range 1..10000 (got 0)");
    pa_msg_set_uint(m, PA_FIELD_HELLO_CAPACITY, 1);
    pa_msg_set_strn(m, PA_FIELD_HELLO_SERVICE, "l\0m", 3);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "HELLO: field 'service' is not valid UTF-8 or contains NUL");
    pa_msg_set_str(m, PA_FIELD_HELLO_SERVICE, "this-service-name-is-over-32-bytes");
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "HELLO: field 'service' longer than 32 bytes");
    pa_msg_destroy(&m);

    char *p = repeat('p', PA_PROTO_MAX_INPUT + 1);
    m = make_task("\x80", 1);
    pa_msg_set_str(m, PA_FIELD_TASK_INPUT, p);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TASK: field 'input' longer than 262144 bytes");
    pa_msg_destroy(&m);
    free(p);
    pa_buf_free(&body);
}

/* ---- Types no message uses yet, through a test declaration ---- */

Test(proto_types, int_bool_any_roundtrip)
{
    pa_msg_t *m = pa_msg__new_desc(&test_desc);
    pa_msg_set_int(m, TF(TF_I), -100);
    pa_msg_set_bool(m, TF(TF_B), true);
    const unsigned char any[] = {0x82, 0xa1, 'k', 0x93, 0x01, 0xc0, 0xcb, 0x3f, 0xf0, 0,
                                 0,    0,    0,   0,    0,    0xa1, 'e',  0xd4, 0x01, 0x02};
    pa_msg_set_any(m, TF(TF_A), any, sizeof any);
    pa_msg_set_uint(m, TF(TF_U), UINT64_MAX);
    pa_msg_set_int(m, TF(TF_BIG), INT64_MIN);
    pa_msg_t *back = test_roundtrip(m);
    cr_assert_eq(pa_msg_int(back, TF(TF_I)), -100);
    cr_assert_eq(pa_msg_bool(back, TF(TF_B)), true);
    size_t n = 0;
    const unsigned char *a = pa_msg_any(back, TF(TF_A), &n);
    cr_assert_eq(n, sizeof any);
    cr_assert_arr_eq(a, any, n);
    cr_assert_eq(pa_msg_uint(back, TF(TF_U)), UINT64_MAX);
    cr_assert_eq(pa_msg_int(back, TF(TF_BIG)), INT64_MIN);
    pa_msg_destroy(&back);

    pa_msg_set_bool(m, TF(TF_B), false);
    pa_msg_set_int(m, TF(TF_I), 100);
    pa_msg_set_int(m, TF(TF_BIG), INT64_MAX);
    pa_msg_unset(m, TF(TF_A));
    back = test_roundtrip(m);
    cr_assert_eq(pa_msg_bool(back, TF(TF_B)), false);
    cr_assert(pa_msg_has(back, TF(TF_B)));
    cr_assert_eq(pa_msg_int(back, TF(TF_BIG)), INT64_MAX);
    pa_msg_destroy(&back);
    pa_msg_destroy(&m);
}

Test(proto_types, int_bounds_and_types)
{
    ent_t e[2] = {{"i", E_INT, NULL, 0, 0, -101}, {"b", E_UINT, NULL, 0, 1, 0}};
    test_expect_error(e, 1, "TEST: field 'i' out of range -100..100 (got -101)");
    e[0].i = 101;
    test_expect_error(e, 1, "TEST: field 'i' out of range -100..100 (got 101)");
    e[0].i = 0;
    test_expect_error(e, 2, "TEST: field 'b' must be bool, got uint");
    ent_t big[2] = {{"i", E_INT, NULL, 0, 0, 1}, {"big", E_UINT, NULL, 0, UINT64_MAX, 0}};
    test_expect_error(big, 2,
                      "TEST: field 'big' out of range -9223372036854775808..9223372036854775807 "
                      "(got 18446744073709551615)");
    /* every signed encoding width of a negative value */
    const unsigned char negs[][12] = {
        {0x81, 0xa1, 'i', 0xd0, 0x9c},                   /* -100 */
        {0x81, 0xa1, 'i', 0xd1, 0xff, 0x9c},             /* -100 */
        {0x81, 0xa1, 'i', 0xd2, 0xff, 0xff, 0xff, 0x9c}, /* -100 */
        {0x81, 0xa1, 'i', 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x9c},
        {0x81, 0xa1, 'i', 0xe0}, /* -32 */
    };
    const size_t lens[] = {5, 6, 8, 12, 4};
    const int64_t want[] = {-100, -100, -100, -100, -32};
    for (size_t k = 0; k < 5; k++) {
        pa_msg_t *m = NULL;
        char err[PA_PROTO_ERRLEN];
        cr_assert_eq(pa_proto__decode_body(&test_desc, negs[k], lens[k], &m, err, sizeof err), 0,
                     "%zu: %s", k, err);
        cr_assert_eq(pa_msg_int(m, TF(TF_I)), want[k]);
        pa_msg_destroy(&m);
    }
}

Test(proto_types, any_is_bounded_too)
{
    /* {"i": 0, "a": <7 nested arrays>} is 8 levels; one more is refused, on decode and encode. */
    unsigned char b[32] = {0x82, 0xa1, 'i', 0x00, 0xa1, 'a'};
    size_t n = 6;
    for (int k = 0; k < 7; k++) b[n++] = 0x91;
    b[n++] = 0xc3;
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto__decode_body(&test_desc, b, n, &m, err, sizeof err), 0, "%s", err);
    pa_msg_t *back = test_roundtrip(m);
    pa_msg_destroy(&back);
    pa_msg_destroy(&m);

    n = 6;
    for (int k = 0; k < 8; k++) b[n++] = 0x91;
    b[n++] = 0xc3;
    cr_assert_eq(pa_proto__decode_body(&test_desc, b, n, &m, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: nesting deeper than 8");

    m = pa_msg__new_desc(&test_desc);
    pa_msg_set_int(m, TF(TF_I), 0);
    pa_msg_set_any(m, TF(TF_A), b + 6, n - 6);
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: field 'a' is not one well-formed msgpack value (of depth <= 7)");
    pa_msg_set_any(m, TF(TF_A), "\x01\x02", 2); /* two values */
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: field 'a' is not one well-formed msgpack value (of depth <= 7)");
    pa_msg_set_any(m, TF(TF_A), "\x92\x01", 2); /* truncated */
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    pa_msg_set_any(m, TF(TF_A), "", 0);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    unsigned char long_any[70] = {0xc4, 67};
    pa_msg_set_any(m, TF(TF_A), long_any, 69);
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: field 'a' longer than 64 bytes");
    pa_msg_destroy(&m);
    pa_buf_free(&body);
}

Test(proto_types, lower_length_bound_and_floats)
{
    ent_t e[2] = {{"i", E_INT, NULL, 0, 0, 1}, {"s2", E_STR, "a", 0, 0, 0}};
    test_expect_error(e, 2, "TEST: field 's2' shorter than 2 bytes");
    e[1] = (ent_t){"a", E_RAW, "\x92\xca\x3f\x80\x00\x00\xcb\x3f\xf0\0\0\0\0\0\0", 15, 0, 0};
    pa_buf_t b = PA_BUF_INIT;
    build(&b, e, 2);
    pa_msg_t *m = NULL;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto__decode_body(&test_desc, b.data, b.len, &m, err, sizeof err), 0, "%s",
                 err);
    size_t n = 0;
    pa_msg_any(m, TF(TF_A), &n);
    cr_assert_eq(n, 15);
    pa_msg_destroy(&m);
    /* a float32 cut short */
    e[1] = (ent_t){"a", E_RAW, "\xca\x3f\x80", 3, 0, 0};
    build(&b, e, 2);
    cr_assert_eq(pa_proto__decode_body(&test_desc, b.data, b.len, &m, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: body truncated at offset 6");
    pa_buf_free(&b);
}

Test(proto_encode, refuses_a_body_over_the_limit)
{
    /* Only a declaration whose bounds exceed the frame limit can get here; the real table cannot
     * (proto_table checks it), but the encoder must not produce a frame the decoder refuses. */
    size_t n = PA_PROTO_MAX_BODY;
    char *big = repeat('x', n);
    pa_msg_t *m = pa_msg__new_desc(&test_desc);
    pa_msg_set_int(m, TF(TF_I), 0);
    pa_msg_set_bin(m, TF(TF_X), big, n);
    unsigned char hdr[4];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    cr_assert_eq(pa_proto_encode(m, hdr, &body, err, sizeof err), -1);
    cr_assert_str_eq(err, "TEST: body of 1052683 bytes exceeds the 1052672-byte limit");
    cr_assert_eq(body.len, 0);
    pa_msg_destroy(&m);
    pa_buf_free(&body);
    free(big);
}
