/* libFuzzer target for the wire codec: the first 4 bytes are the header frame, the rest the body.
 * Whatever decodes must encode again, decode to an equal message, and encode to the same bytes;
 * a TASK also goes through the typed decoder (pa_task.h), and what that takes encodes back to
 * the same message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"
#include "pa_proto.h"
#include "pa_proto_internal.h"
#include "pa_task.h"

/* Command 0xf0 selects a declaration with every field type, so that INT, BOOL and ANY (which no
 * message uses yet) are fuzzed too. */
#define FUZZ_CODE 0xf0
static const pa_proto_field_desc_t fuzz_fields[] = {
    {"s", PA_PROTO_STR, false, 0, 8},
    {"i", PA_PROTO_INT, true, -100, 100},
    {"b", PA_PROTO_BOOL, false, 0, 0},
    {"a", PA_PROTO_ANY, false, 1, 256},
    {"u", PA_PROTO_UINT, false, 0, PA_PROTO_NOLIMIT},
    {"big", PA_PROTO_INT, false, INT64_MIN, INT64_MAX},
    {"x", PA_PROTO_BIN, false, 0, 64},
};
static const pa_proto_msg_desc_t fuzz_desc = {FUZZ_CODE, "FUZZ", fuzz_fields,
                                              sizeof fuzz_fields / sizeof fuzz_fields[0]};

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_proto: check failed: %s: ", #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int decode(const pa_proto_msg_desc_t *custom, const unsigned char *h, size_t hl,
                  const unsigned char *b, size_t bl, pa_msg_t **out, char *err, size_t errlen)
{
    if (custom) return pa_proto__decode_body(custom, b, bl, out, err, errlen);
    return pa_proto_decode(h, hl, b, bl, out, err, errlen);
}

static void check_roundtrip(const pa_msg_t *m, const pa_proto_msg_desc_t *custom)
{
    unsigned char hdr[PA_PROTO_HEADER_LEN], hdr2[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT, body2 = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    pa_msg_t *again = NULL;

    CHECK(pa_proto_encode(m, hdr, &body, err, sizeof err) == 0, "re-encode: %s", err);
    CHECK(body.len <= PA_PROTO_MAX_BODY, "%zu", body.len);
    CHECK(decode(custom, hdr, sizeof hdr, (const unsigned char *)body.data, body.len, &again, err,
                 sizeof err) == 0,
          "re-decode: %s", err);
    CHECK(pa_msg_equal(m, again), "re-decoded message differs");
    CHECK(pa_proto_encode(again, hdr2, &body2, err, sizeof err) == 0, "%s", err);
    CHECK(memcmp(hdr, hdr2, sizeof hdr) == 0 && body.len == body2.len &&
              memcmp(body.data, body2.data, body.len) == 0,
          "encoding is not stable");
    pa_msg_destroy(&again);
    pa_buf_free(&body);
    pa_buf_free(&body2);
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

/* The typed decoder never reads outside the message, and its struct encodes to a TASK that
 * decodes to the same struct (the results map may be written with other msgpack headers). */
static void check_task(const pa_msg_t *m)
{
    pa_task_msg_t t, u;
    char err[PA_PROTO_ERRLEN];
    if (pa_task_msg_decode(m, &t, err, sizeof err) < 0) return;
    CHECK(t.nresults <= PA_TASK_MAX_RESULTS, "%zu results", t.nresults);
    pa_msg_t *again = pa_task_msg_encode(&t);
    CHECK(pa_task_msg_decode(again, &u, err, sizeof err) == 0, "typed re-decode: %s", err);
    CHECK(same(t.input, t.input_len, u.input, u.input_len) &&
              same(t.context, t.context_len, u.context, u.context_len) &&
              same(t.target, t.target_len, u.target, u.target_len) && t.nresults == u.nresults,
          "typed round trip differs");
    for (size_t i = 0; i < t.nresults; i++)
        CHECK(same(t.results[i].stage, t.results[i].stage_len, u.results[i].stage,
                   u.results[i].stage_len) &&
                  same(t.results[i].json, t.results[i].json_len, u.results[i].json,
                       u.results[i].json_len),
              "result %zu differs", i);
    pa_msg_destroy(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t hl = size < PA_PROTO_HEADER_LEN ? size : PA_PROTO_HEADER_LEN, bl = size - hl;
    /* Each frame in its own allocation of its exact size, so ASan sees a read past either. */
    unsigned char *h = malloc(hl ? hl : 1), *b = malloc(bl ? bl : 1);
    if (hl) memcpy(h, data, hl);
    if (bl) memcpy(b, data + hl, bl);

    const pa_proto_msg_desc_t *custom = NULL;
    if (hl == 4 && h[0] == 'P' && h[1] == 'A' && h[2] == PA_PROTO_VERSION && h[3] == FUZZ_CODE)
        custom = &fuzz_desc;

    char err[PA_PROTO_ERRLEN];
    memset(err, 'x', sizeof err);
    pa_msg_t *m = (pa_msg_t *)err; /* the decoder must overwrite it */
    int rc = decode(custom, h, hl, b, bl, &m, err, sizeof err);
    CHECK(rc == 0 || rc == -1, "rc %d", rc);
    CHECK(memchr(err, '\0', sizeof err) != NULL, "error text not terminated");
    if (rc == 0) {
        CHECK(m != NULL, "success without a message");
        CHECK(err[0] == '\0', "success with an error text: %s", err);
        check_roundtrip(m, custom);
        if (!custom && pa_msg_cmd(m) == PA_CMD_TASK) check_task(m);
        pa_msg_destroy(&m);
    } else {
        CHECK(m == NULL, "failure left a message");
        CHECK(err[0] != '\0', "failure without an error text");
    }
    free(h);
    free(b);
    return 0;
}
