/* libFuzzer target for the headers MCP 2026-07-28 derives from a request
 * (workers/mcp/mcp_headers.c).
 *
 * Input: any bytes, used twice. As a header value: the encoding is plain exactly when the input
 * is printable ASCII without a blank at either end, and a Base64 form decodes back to the input.
 * As JSON: an object is a tool (its "arguments" member, when there is one, the call's
 * arguments); the x-mcp-header check runs, and for a tool that passes it every header line is
 * "Mcp-Param-<token>: <printable ASCII>" or "Mcp-Param-<token>;". Nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_headers.c, common/pa_buf.c; flags -Iworkers/mcp -Icommon
 * plus jansson's cflags; libs jansson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_headers.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_headers: check failed: %s: ", #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int b64val(char ch)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch ? strchr(tab, ch) : NULL;
    return p ? (int)(p - tab) : -1;
}

/* Decodes padded Base64 s[0..n) into out; its length, or -1. */
static long unbase64(const char *s, size_t n, unsigned char *out)
{
    if (n % 4) return -1;
    long o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) v[k] = s[i + k] == '=' ? 0 : b64val(s[i + k]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) return -1;
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (s[i + 2] != '=') out[o++] = (unsigned char)(w >> 8);
        if (s[i + 3] != '=') out[o++] = (unsigned char)w;
    }
    return o;
}

static void check_value(const char *s, size_t n)
{
    pa_buf_t b = PA_BUF_INIT;
    mcp_header_value_encode(&b, s, n);
    int plain = mcp_header_value_plain(s, n);
    int expect = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) expect = 0;
    if (n && (s[0] == ' ' || s[n - 1] == ' ')) expect = 0;
    CHECK(plain == expect, "plain %d for %zu bytes", plain, n);
    if (plain) {
        CHECK(b.len == n && (n == 0 || memcmp(b.data, s, n) == 0), "plain value changed");
    } else {
        CHECK(b.len >= 11 && memcmp(b.data, "=?base64?", 9) == 0 &&
                  memcmp(b.data + b.len - 2, "?=", 2) == 0,
              "not the Base64 form");
        unsigned char *dec = malloc(b.len);
        long m = unbase64(b.data + 9, b.len - 11, dec);
        CHECK(m == (long)n && memcmp(dec, s, n) == 0, "Base64 does not decode back");
        free(dec);
    }
    pa_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_value((const char *)data, size);
    json_error_t e;
    json_t *tool = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (json_is_object(tool)) {
        char err[256];
        if (mcp_tool_headers_check(tool, err, sizeof err) == 0) {
            size_t n = 0;
            char **lines = mcp_tool_param_headers(tool, json_object_get(tool, "arguments"), &n);
            for (size_t i = 0; i < n; i++) {
                const char *l = lines[i];
                CHECK(strncmp(l, "Mcp-Param-", 10) == 0, "line %s", l);
                const char *colon = strpbrk(l + 10, ":;");
                CHECK(colon && colon > l + 10, "no name in %s", l);
                for (const char *p = l; *p; p++)
                    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e,
                          "byte %02x in a header line", (unsigned char)*p);
                if (*colon == ';') CHECK(colon[1] == 0, "text after ';' in %s", l);
            }
            CHECK(lines[n] == NULL, "lines not NULL-terminated");
            mcp_header_lines_free(lines);
        } else {
            CHECK(err[0], "a refusal without a reason");
        }
    }
    json_decref(tool);
    return 0;
}
