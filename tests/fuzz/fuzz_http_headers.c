/* libFuzzer target for the pure parts of the HTTP engine (common/pa_http.c): header lines split
 * into name and value, and Location resolved against a URL.
 *
 * Input: the bytes up to the first NUL are a header line, the next up to the second NUL a base
 * URL, the rest a Location. Checks: a split name is non-empty and within the line, without
 * blanks, controls or colons; a value is within the line and has no blank at either end; a
 * resolved URL is http:// or https://, has no blank or control byte, and resolves to itself;
 * nothing leaks (ASan).
 *
 * Sources: this file, common/pa_http.c, common/pa_loop.c, common/pa_buf.c, common/pa_time.c;
 * libs libcurl. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_http.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http_headers: check failed: %s: ", #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void split(const char *line, size_t len)
{
    const char *n, *v;
    size_t nl, vl;
    if (pa_http_header_split(line, len, &n, &nl, &v, &vl) < 0) return;
    CHECK(n == line && nl > 0 && nl < len, "name %zu of %zu", nl, len);
    for (size_t i = 0; i < nl; i++)
        CHECK((unsigned char)n[i] > ' ' && n[i] != 0x7f && n[i] != ':', "byte %zu of the name", i);
    CHECK(v >= line + nl + 1 && v + vl <= line + len, "value out of the line");
    if (vl) CHECK(v[0] != ' ' && v[0] != '\t' && v[vl - 1] != ' ' && v[vl - 1] != '\t', "blanks");
}

static void resolve(const char *base, const char *loc)
{
    char *u = pa_http_resolve(base, loc);
    if (!u) return;
    CHECK(strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0, "%s", u);
    for (const char *p = u; *p; p++)
        CHECK((unsigned char)*p > ' ' && *p != 0x7f, "byte %d in %s", *p, u);
    char *again = pa_http_resolve(u, u);
    CHECK(again && strcmp(again, u) == 0, "%s resolves to %s", u, again ? again : "NULL");
    free(again);
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *line = buf;
    size_t linelen = strlen(line);
    split(line, linelen);
    if (linelen < size) {
        const char *base = buf + linelen + 1;
        size_t blen = strlen(base);
        if (base + blen < buf + size) resolve(base, base + blen + 1);
        else resolve("http://a.example/b/c?d", base);
    }
    free(buf);
    return 0;
}
