/* The newline-delimited framer of the stdio channel (mcp_lines in workers/mcp/mcp_chan.c): lines
 * split on LF with an optional CR dropped, fed whole, byte by byte and split in two at every
 * point; the bound on a line; a failed framer refusing everything after. */
#include <criterion/criterion.h>
#include <string.h>

#include "mcp_chan.h"
#include "pa_buf.h"
#include "mcp_jsonrpc.h"

/* Lines appended as "<line>|", a NUL byte written as "\0". */
static void collect(void *ud, const char *line, size_t len)
{
    pa_buf_t *b = ud;
    cr_assert_eq(line[len], '\0', "a line is NUL-terminated at its length");
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\0') pa_buf_puts(b, "\\0");
        else pa_buf_putc(b, line[i]);
    }
    pa_buf_putc(b, '|');
}

/* Feeds s in pieces of at most step bytes (0: whole); the lines, then "!" when it failed. */
static char *frame(const char *s, size_t n, size_t max, size_t step)
{
    mcp_lines_t f;
    mcp_lines_init(&f, max);
    pa_buf_t out = PA_BUF_INIT;
    int rc = 0;
    if (step == 0) step = n ? n : 1;
    for (size_t i = 0; i < n && rc == 0; i += step) {
        size_t k = n - i < step ? n - i : step;
        rc = mcp_lines_feed(&f, s + i, k, collect, &out);
    }
    if (n == 0) rc = mcp_lines_feed(&f, s, 0, collect, &out);
    if (rc < 0) {
        pa_buf_putc(&out, '!');
        cr_assert(f.failed);
        cr_assert_eq(mcp_lines_feed(&f, "ok\n", 3, collect, &out), -1, "a failed framer refuses");
    }
    mcp_lines_free(&f);
    pa_buf_putc(&out, '\0');
    return pa_buf_detach(&out, NULL);
}

/* The same outcome fed whole, byte by byte and split in two at every point. */
static void check(const char *s, size_t n, size_t max, const char *want)
{
    char *got = frame(s, n, max, 0);
    cr_assert_str_eq(got, want, "whole: %s", s);
    free(got);
    got = frame(s, n, max, 1);
    cr_assert_str_eq(got, want, "byte by byte: %s", s);
    free(got);
    for (size_t cut = 1; cut < n; cut++) {
        mcp_lines_t f;
        mcp_lines_init(&f, max);
        pa_buf_t out = PA_BUF_INIT;
        int rc = mcp_lines_feed(&f, s, cut, collect, &out);
        if (rc == 0) rc = mcp_lines_feed(&f, s + cut, n - cut, collect, &out);
        if (rc < 0) pa_buf_putc(&out, '!');
        pa_buf_putc(&out, '\0');
        cr_assert_str_eq(out.data, want, "cut at %zu: %s", cut, s);
        pa_buf_free(&out);
        mcp_lines_free(&f);
    }
}

#define CHECK(lit, max, want) check(lit, sizeof(lit) - 1, max, want)

Test(mcp_lines, splits_on_lf_and_drops_one_cr)
{
    CHECK("{\"a\":1}\n{\"b\":2}\n", 100, "{\"a\":1}|{\"b\":2}|");
    CHECK("one\r\ntwo\r\n", 100, "one|two|");
    CHECK("a\r\r\nb\n", 100, "a\r|b|"); /* only the CR right before the LF */
    CHECK("a\rb\n", 100, "a\rb|");      /* a lone CR is text */
    CHECK("\n\r\n\n", 100, "|||");      /* empty lines are lines (the channel skips them) */
    CHECK("", 100, "");
    CHECK("no end", 100, ""); /* a partial line waits for its LF */
    CHECK("x\nrest", 100, "x|");
    CHECK("a\0b\n", 100, "a\\0b|"); /* bytes are bytes */
}

Test(mcp_lines, a_partial_line_is_kept_across_feeds)
{
    mcp_lines_t f;
    mcp_lines_init(&f, 100);
    pa_buf_t out = PA_BUF_INIT;
    cr_assert_eq(mcp_lines_feed(&f, "{\"jsonrpc\":", 11, collect, &out), 0);
    cr_assert_eq(out.len, 0);
    cr_assert_eq(mcp_lines_feed(&f, "\"2.0\"}\r", 7, collect, &out), 0);
    cr_assert_eq(out.len, 0);
    cr_assert_eq(mcp_lines_feed(&f, "\nnext", 5, collect, &out), 0);
    cr_assert_str_eq(out.data, "{\"jsonrpc\":\"2.0\"}|");
    pa_buf_free(&out);
    mcp_lines_free(&f);
}

Test(mcp_lines, the_bound_is_the_line_without_its_end)
{
    CHECK("12345\n", 5, "12345|");
    CHECK("12345\r\n", 5, "12345|");
    CHECK("123456\n", 5, "!");
    CHECK("123456\r\n", 5, "!");
    CHECK("12345\r6\n", 5, "!");
    CHECK("ok\n123456\nlater\n", 5, "ok|!"); /* lines before the long one still come */
    CHECK("ok\n1234567890", 5, "ok|!");      /* found before its LF: memory stays bounded */
}

Test(mcp_lines, memory_stays_bounded_without_a_newline)
{
    mcp_lines_t f;
    mcp_lines_init(&f, 1000);
    pa_buf_t out = PA_BUF_INIT;
    char chunk[100];
    memset(chunk, 'x', sizeof chunk);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = mcp_lines_feed(&f, chunk, sizeof chunk, collect, &out);
    cr_assert_eq(rc, -1);
    cr_assert_leq(f.cap, 1003, "the buffer never grows past the bound");
    cr_assert_eq(out.len, 0);
    pa_buf_free(&out);
    mcp_lines_free(&f);
}

Test(mcp_lines, zero_means_the_default_bound)
{
    mcp_lines_t f;
    mcp_lines_init(&f, 0);
    cr_assert_eq(f.max, MCP_JSONRPC_MAX_BYTES_DEFAULT);
    mcp_lines_free(&f);
    mcp_lines_free(&f); /* twice is harmless */
}
