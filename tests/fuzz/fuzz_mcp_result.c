/* libFuzzer target for the mcp worker's pure parts (workers/mcp/mcp_result.c), which read what
 * MCP servers send (tool results, input schemas) and what runs hold (targets).
 *
 * Input: one selector byte, then text. 0: a tools/call result (JSON) -> mcp_result_value and
 * mcp_result_ttl_ms; 1: "schema\0arguments" (JSON each) -> mcp_args_check; 2: a target URL ->
 * mcp_domain_of (and the domain found is valid); 3: arguments (JSON) -> mcp_cache_key (the same
 * key for the same value, whatever its key order). Checks: a value is an object or array, an
 * error message names "arguments", nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_result.c, common/pa_buf.c; libs jansson, libcrypto. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_result.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_result: check failed: %s: ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (sel == 0) {
        json_t *r = json_loadb(text, len, JSON_DECODE_ANY, NULL);
        json_t *v = mcp_result_value(r);
        CHECK(!v || json_is_object(v) || json_is_array(v), "a value of another type");
        long long ttl;
        if (mcp_result_ttl_ms(r, &ttl)) CHECK(ttl >= 0, "a negative ttl");
        json_decref(v);
        json_decref(r);
    } else if (sel == 1) {
        const char *nul = memchr(text, '\0', len);
        size_t sl = nul ? (size_t)(nul - text) : len;
        json_t *schema = json_loadb(text, sl, JSON_DECODE_ANY, NULL);
        json_t *args = nul ? json_loadb(nul + 1, len - sl - 1, JSON_DECODE_ANY, NULL) : NULL;
        char err[300] = "";
        if (mcp_args_check(schema, args, err, sizeof err) < 0)
            CHECK(strncmp(err, "arguments", 9) == 0, "%s", err);
        json_decref(schema);
        json_decref(args);
    } else if (sel == 2) {
        char *t = malloc(len + 1);
        memcpy(t, text, len);
        t[len] = '\0';
        char d[256];
        if (mcp_domain_of(t, NULL, d, sizeof d) == 0) CHECK(mcp_domain_valid(d), "%s", d);
        else CHECK(d[0] == '\0', "a refusal left %s", d);
        free(t);
    } else {
        json_t *a = json_loadb(text, len, JSON_DECODE_ANY, NULL);
        char k1[MCP_CACHE_KEY_MAX], k2[MCP_CACHE_KEY_MAX];
        if (a && mcp_cache_key("pa:", "srv", "tool", a, k1, sizeof k1) == 0) {
            json_t *b = json_deep_copy(a);
            CHECK(mcp_cache_key("pa:", "srv", "tool", b, k2, sizeof k2) == 0, "second key");
            CHECK(strcmp(k1, k2) == 0, "%s != %s", k1, k2);
            json_decref(b);
        }
        json_decref(a);
    }
    return 0;
}
