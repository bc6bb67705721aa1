/* libFuzzer target for the newline-delimited framer of the stdio channel (mcp_lines in
 * workers/mcp/mcp_chan.c), fed the same bytes in one piece, byte by byte and in chunks whose
 * sizes the input chooses, and checked against a plain model (split on LF, one CR before it
 * dropped, the first line longer than the bound fails everything).
 *
 * Input: byte 0 the bound (1..64, or 0: 4096), byte 1 the chunk size (1..64); the rest is the
 * stream. Checks: the three feedings and the model give the same lines and the same outcome;
 * every line is NUL-terminated at its length, holds no LF and is within the bound; a failed
 * framer takes nothing more; the buffer stays within the bound; nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_chan.c (and what it links); flags -Iworkers/mcp. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_chan.h"
#include "pa_buf.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_lines: check failed: %s: ", #cond);                          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    pa_buf_t log; /* every line as "<len>:<bytes>" */
    size_t max;
} run_t;

static void on_line(void *ud, const char *line, size_t len)
{
    run_t *r = ud;
    CHECK(len <= r->max, "a line of %zu bytes over %zu", len, r->max);
    CHECK(line[len] == '\0', "a line not terminated");
    CHECK(memchr(line, '\n', len) == NULL, "a LF inside a line");
    pa_buf_printf(&r->log, "%zu:", len);
    pa_buf_put(&r->log, line, len);
}

/* Feeds data in chunks of step bytes; the log, "!" at the end when it failed. */
static void feed(const char *data, size_t n, size_t max, size_t step, pa_buf_t *out)
{
    mcp_lines_t f;
    mcp_lines_init(&f, max);
    run_t r = {PA_BUF_INIT, max};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += step) {
        size_t k = n - i < step ? n - i : step;
        rc = mcp_lines_feed(&f, data + i, k, on_line, &r);
        CHECK(f.cap <= max + 3, "a buffer of %zu bytes for a bound of %zu", f.cap, max);
    }
    if (rc < 0) {
        CHECK(f.failed, "failed without the flag");
        CHECK(mcp_lines_feed(&f, "{}\n", 3, on_line, &r) == -1, "a failed framer took more");
        pa_buf_putc(&r.log, '!');
    }
    mcp_lines_free(&f);
    pa_buf_put(out, r.log.data ? r.log.data : "", r.log.len);
    pa_buf_free(&r.log);
}

static void model(const char *data, size_t n, size_t max, pa_buf_t *out)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] != '\n') continue;
        size_t len = i - start;
        if (len && data[start + len - 1] == '\r') len--;
        if (len > max) {
            pa_buf_putc(out, '!');
            return;
        }
        pa_buf_printf(out, "%zu:", len);
        pa_buf_put(out, data + start, len);
        start = i + 1;
    }
    /* a partial line past the bound (CR allowance aside) fails at once */
    size_t rest = n - start;
    if (rest > max + 1) pa_buf_putc(out, '!');
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2) return 0;
    size_t max = in[0] % 65 ? in[0] % 65 : 4096;
    size_t step = (size_t)in[1] % 64 + 1;
    const char *data = (const char *)in + 2;
    size_t n = size - 2;
    pa_buf_t whole = PA_BUF_INIT, bytes = PA_BUF_INIT, chunks = PA_BUF_INIT, want = PA_BUF_INIT;
    feed(data, n, max, n ? n : 1, &whole);
    feed(data, n, max, 1, &bytes);
    feed(data, n, max, step, &chunks);
    model(data, n, max, &want);
    pa_buf_putc(&whole, '\0');
    pa_buf_putc(&bytes, '\0');
    pa_buf_putc(&chunks, '\0');
    pa_buf_putc(&want, '\0');
    CHECK(whole.len == want.len && memcmp(whole.data, want.data, want.len) == 0, "whole != model");
    CHECK(bytes.len == want.len && memcmp(bytes.data, want.data, want.len) == 0,
          "byte by byte != model");
    CHECK(chunks.len == want.len && memcmp(chunks.data, want.data, want.len) == 0,
          "chunks != model");
    pa_buf_free(&whole);
    pa_buf_free(&bytes);
    pa_buf_free(&chunks);
    pa_buf_free(&want);
    return 0;
}
