/* The Server-Sent Events parser (common/pa_sse.c): every rule of the WHATWG event stream
 * interpretation it follows, fed whole, byte by byte and split in two at every point. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "pa_sse.h"

/* Events appended to a buffer as "type=data|", with "#id" when the last event id is set,
 * "@ms" when the event carried a retry, a leading "!" for an event without data, and NUL bytes
 * written as "\0". */
static void put_bytes(pa_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') pa_buf_puts(b, "\\0");
        else pa_buf_putc(b, s[i]);
    }
}

static int collect(void *ud, const pa_sse_event_t *ev)
{
    pa_buf_t *b = ud;
    cr_assert_eq(ev->data[ev->data_len], '\0', "data is NUL-terminated at its length");
    cr_assert_eq(ev->type[ev->type_len], '\0', "the type is NUL-terminated at its length");
    cr_assert_eq(strlen(ev->id), ev->id_len, "an id holds no NUL and ends at its length");
    cr_assert(ev->has_data || ev->data_len == 0);
    if (!ev->has_data) pa_buf_putc(b, '!');
    put_bytes(b, ev->type, ev->type_len);
    pa_buf_putc(b, '=');
    put_bytes(b, ev->data, ev->data_len);
    if (ev->id_len) pa_buf_printf(b, "#%s", ev->id);
    if (ev->retry >= 0) pa_buf_printf(b, "@%lld", ev->retry);
    pa_buf_putc(b, '|');
    return 0;
}

/* What a parse left: its events, and the parser's state after it. */
typedef struct {
    char *events; /* or "ERROR: why" */
    char *last_id;
    long long retry;
} result_t;

static void result_free(result_t *r)
{
    free(r->events);
    free(r->last_id);
}

/* Parses in (len bytes) in pieces of the sizes in steps (cycled; {0}: whole). */
static result_t parse_steps(const char *in, size_t len, const size_t *steps, size_t nsteps,
                            size_t max_line, size_t max_event, int report_empty)
{
    pa_sse_t p;
    pa_buf_t out = PA_BUF_INIT;
    pa_sse_init(&p, max_line, max_event, collect, &out);
    p.report_empty = report_empty;
    int rc = 0;
    for (size_t i = 0, k = 0; i < len && rc == 0; k++) {
        size_t step = steps[k % nsteps] ? steps[k % nsteps] : len;
        size_t n = len - i < step ? len - i : step;
        rc = pa_sse_feed(&p, in + i, n);
        i += n;
    }
    if (rc < 0) {
        cr_assert_neq(p.error, PA_SSE_OK);
        pa_buf_reset(&out);
        pa_buf_printf(&out, "ERROR: %s", p.err);
    } else {
        cr_assert_eq(p.error, PA_SSE_OK);
    }
    pa_buf_putc(&out, '\0');
    size_t il;
    const char *id = pa_sse_last_id(&p, &il);
    cr_assert_eq(strlen(id), il);
    result_t r = {pa_buf_detach(&out, NULL), pa_strdup(id), pa_sse_retry(&p)};
    pa_sse_free(&p);
    return r;
}

static result_t parse(const char *in, size_t len, size_t step, size_t max_line, size_t max_event)
{
    return parse_steps(in, len, &step, 1, max_line, max_event, 0);
}

/* Asserts the same events and final state (last id, retry) whole, byte by byte, in pieces of 2
 * and 3 bytes, and split in two at every point. */
static void expect_full(const char *in, size_t len, int report_empty, const char *want,
                        const char *want_id, long long want_retry)
{
    static const size_t whole[] = {0}, one[] = {1}, two_three[] = {2, 3};
    struct {
        const size_t *steps;
        size_t n;
        const char *name;
    } ways[] = {{whole, 1, "whole"}, {one, 1, "byte by byte"}, {two_three, 2, "2 and 3 bytes"}};
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        result_t r = parse_steps(in, len, ways[w].steps, ways[w].n, 1024, 4096, report_empty);
        cr_assert_str_eq(r.events, want, "%s: %s", ways[w].name, in);
        cr_assert_str_eq(r.last_id, want_id, "%s: last id of %s", ways[w].name, in);
        cr_assert_eq(r.retry, want_retry, "%s: retry of %s", ways[w].name, in);
        result_free(&r);
    }
    for (size_t cut = 1; cut < len; cut++) {
        size_t steps[2] = {cut, len};
        result_t r = parse_steps(in, len, steps, 2, 1024, 4096, report_empty);
        cr_assert_str_eq(r.events, want, "split at %zu: %s", cut, in);
        cr_assert_str_eq(r.last_id, want_id, "split at %zu: last id of %s", cut, in);
        cr_assert_eq(r.retry, want_retry, "split at %zu: retry of %s", cut, in);
        result_free(&r);
    }
}

/* A string literal that may hold NUL bytes, and its length. */
#define LIT(s) s, sizeof(s) - 1

static void expect(const char *in, const char *want)
{
    expect_full(in, strlen(in), 0, want, "", -1);
}

static void expect_state(const char *in, const char *want, const char *want_id,
                         long long want_retry)
{
    expect_full(in, strlen(in), 0, want, want_id, want_retry);
}

static void expect_empty(const char *in, const char *want, const char *want_id)
{
    expect_full(in, strlen(in), 1, want, want_id, -1);
}

Test(sse, events_with_lf_crlf_and_cr_line_ends)
{
    expect("data: a\n\ndata: b\n\n", "message=a|message=b|");
    expect("data: a\r\n\r\ndata: b\r\n\r\n", "message=a|message=b|");
    expect("data: a\r\rdata: b\r\r", "message=a|message=b|");
    expect("data: a\r\n\ndata: b\r\r\n", "message=a|message=b|");
    /* a CR then a LF is one line end, a LF then a CR two */
    expect("data: a\r\ndata: b\n\rdata: c\n\n", "message=a\nb|message=c|");
    /* LF LF after a CR: the first LF belongs to the CR, the second is the blank line */
    expect("data: a\r\n\n", "message=a|");
    expect("data: a\r\n", "");
}

Test(sse, a_leading_bom_is_dropped_once_and_only_at_the_start)
{
    expect("\xef\xbb\xbf"
           "data: a\n\n",
           "message=a|");
    /* a second BOM is text: the field is "\xef\xbb\xbf" "data", unknown */
    expect("\xef\xbb\xbf\xef\xbb\xbf"
           "data: a\n\n",
           "");
    /* a broken BOM is kept as text */
    expect("\xef\xbb"
           "data: a\n\n",
           "");
    expect("\xef"
           "data: a\n\n",
           "");
    /* not at the start: text (here inside a data value) */
    expect("data: a\n\ndata: \xef\xbb\xbfx\n\n", "message=a|message=\xef\xbb\xbfx|");
    expect("\n\xef\xbb\xbf"
           "data: a\n\n",
           "");
    /* a broken BOM followed at once by a line end: a line of two bytes, an unknown field */
    expect("\xef\xbb\n"
           "data: a\n\n",
           "message=a|");
}

Test(sse, comments_are_ignored)
{
    expect(": keep-alive\n\n: another\ndata: x\n\n", "message=x|");
    expect(":data: x\n\n", "");
    expect(":\n\n", "");
    expect("data: x\n: between\ndata: y\n\n", "message=x\ny|");
    /* a comment line alone is not an event, not even an empty one */
    expect_empty(": ping\n\n", "", "");
}

Test(sse, one_optional_space_after_the_colon_and_fields_without_colon)
{
    expect("data:no space\n\n", "message=no space|");
    expect("data:  two spaces\n\n", "message= two spaces|");
    expect("data:\tx\n\n", "message=\tx|"); /* only a space is removed */
    expect("data: x \n\n", "message=x |");  /* trailing spaces stay */
    expect("data\n\n", "message=|");        /* a data field with an empty value */
    expect("data:\n\n", "message=|");
    expect("data: \n\n", "message=|");
    expect("data: a:b: c\n\n", "message=a:b: c|");
    expect("event\ndata: x\n\n", "message=x|"); /* an empty type */
}

Test(sse, field_names_are_exact_and_unknown_fields_ignored)
{
    expect("Data: x\n\n", "");
    expect("data : x\n\n", "");
    expect(" data: x\n\n", "");
    expect("datum: x\ndata: y\n\n", "message=y|");
    expect("foo: bar\nEvent: e\nID: 3\nRetry: 5\ndata: y\n\n", "message=y|");
    expect("dat\n\n", "");
}

Test(sse, multi_line_data_is_joined_with_newlines)
{
    expect("data: one\ndata: two\ndata:\ndata: four\n\n", "message=one\ntwo\n\nfour|");
    expect("data\ndata\n\n", "message=\n|");
    expect("data: a\r\ndata: b\rdata: c\n\n", "message=a\nb\nc|");
}

Test(sse, the_event_type)
{
    expect("event: message_start\ndata: {\"x\":1}\n\n", "message_start={\"x\":1}|");
    /* the last event line wins; an empty one means "message" */
    expect("event: a\nevent: b\ndata: 1\n\n", "b=1|");
    expect("event: a\nevent:\ndata: 1\n\n", "message=1|");
    /* the type does not carry over to the next event, even one not dispatched */
    expect("event: a\ndata: 1\n\ndata: 2\n\n", "a=1|message=2|");
    expect("event: a\n\ndata: 2\n\n", "message=2|");
    /* the type is bytes: a NUL in it is kept */
    expect_full(LIT("event: a\0b\ndata: 1\n\n"), 0, "a\\0b=1|", "", -1);
    expect_full(LIT("event: \0\ndata: 1\n\n"), 0, "\\0=1|", "", -1);
}

Test(sse, data_keeps_nul_bytes_and_utf8)
{
    expect_full(LIT("data: a\0b\n\n"), 0, "message=a\\0b|", "", -1);
    /* split inside every UTF-8 sequence by expect_full */
    expect("data: w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80\n\n",
           "message=w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80|");
}

Test(sse, an_event_without_data_is_not_dispatched)
{
    expect("event: x\n\n", "");
    expect_state("id: 1\n\n", "", "1", -1);
    expect_state("retry: 10\n\n", "", "", 10);
    expect("\n\n\n", "");
    /* ... unless asked for: then events with a field but no data are reported too */
    expect_empty("event: x\n\n", "!x=|", "");
    expect_empty("\n\n\r\n", "", "");
    expect_empty("foo: bar\n\n", "", ""); /* an unknown field is no field */
    expect_empty("data\n\n", "message=|", "");
}

Test(sse, the_last_event_id)
{
    /* reported with its event and after it; it carries over to later events */
    expect_state("id: 7\ndata: a\n\ndata: b\n\n", "message=a#7|message=b#7|", "7", -1);
    /* the id may come after the data, and a later id replaces it */
    expect_state("data: a\nid: 1\nid: 2\n\n", "message=a#2|", "2", -1);
    /* an empty id clears it */
    expect_state("id: 7\ndata: a\n\nid\ndata: b\n\n", "message=a#7|message=b|", "", -1);
    expect_state("id: 7\ndata: a\n\nid:\ndata: b\n\n", "message=a#7|message=b|", "", -1);
    /* the value is taken as it is, spaces after the first one included */
    expect_state("id:  x y \ndata: a\n\n", "message=a# x y |", " x y ", -1);
}

Test(sse, an_id_without_data_still_updates_the_last_event_id)
{
    /* a priming event: an id and an empty line, before the data arrive in later events */
    expect_state("id: prime-1\n\n", "", "prime-1", -1);
    expect_state("id: 1\n\ndata: a\n\n", "message=a#1|", "1", -1);
    expect_state("id: 1\ndata\n\n", "message=#1|", "1", -1); /* the MCP form: empty data */
    expect_empty("id: 1\n\n", "!message=#1|", "1");
    expect_full(LIT("id: 1\nretry: 50\n\n"), 1, "!message=#1@50|", "1", 50);
    /* not before the blank line: an event cut off by the end of the stream does not count */
    expect_state("id: 1\n\nid: 2\n", "", "1", -1);
    expect_state("id: 1\n\nid: 2\ndata: x\n", "", "1", -1);
}

Test(sse, an_id_containing_nul_is_ignored)
{
    expect_full(LIT("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"), 0, "message=a#1|message=b#1|", "1",
                -1);
    expect_full(LIT("id: \0\n\n"), 0, "", "", -1);
    expect_full(LIT("id: 5\nid: \0\n\n"), 0, "", "5", -1);
}

Test(sse, retry_only_when_all_ascii_digits)
{
    expect_state("retry: 1500\ndata: a\n\ndata: b\n\n", "message=a@1500|message=b|", "", 1500);
    expect_state("retry:0\ndata: a\n\n", "message=a@0|", "", 0);
    expect_state("retry: 007\ndata: a\n\n", "message=a@7|", "", 7);
    /* not all digits: ignored, an earlier value stays */
    static const char *const bad[] = {"retry: 12a\n",     "retry: -1\n",  "retry: 1.5\n",
                                      "retry: +10\n",     "retry:  10\n", "retry: 10 \n",
                                      "retry: 1e3\n",     "retry\n",      "retry:\n",
                                      "retry: \xd9\xa3\n"}; /* ARABIC-INDIC DIGIT THREE */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_buf_t in = PA_BUF_INIT;
        pa_buf_printf(&in, "%sdata: a\n\nretry: 30\n%sdata: b\n\n", bad[i], bad[i]);
        expect_state(in.data, "message=a|message=b@30|", "", 30);
        pa_buf_free(&in);
    }
    /* a retry takes effect as it arrives, without waiting for the end of its event */
    expect_state("retry: 20\ndata: a", "", "", 20);
    /* the last one of an event wins; huge values saturate */
    expect_state("retry: 5\nretry: 6\ndata: a\n\n", "message=a@6|", "", 6);
    expect_state("retry: 99999999999999999999999\ndata: a\n\n", "message=a@9223372036854775807|",
                 "", LLONG_MAX);
    expect_state("retry: 9223372036854775807\n\n", "", "", LLONG_MAX);
    expect_state("retry: 9223372036854775806\n\n", "", "", LLONG_MAX - 1);
}

Test(sse, an_event_not_closed_by_a_blank_line_is_dropped)
{
    expect("data: a\n\ndata: b\n", "message=a|");
    expect("data: a\n\ndata: b", "message=a|");
    expect("data: a\n\ndata: b\r", "message=a|");
    expect_empty("data: a\n\nevent: x\n", "message=a|", "");
}

static void too_long(const char *in, size_t len, size_t max_line, size_t max_event,
                     const char *want)
{
    for (size_t step = 0; step <= 7; step += step ? 3 : 1) { /* whole, 1, 4, 7 */
        result_t r = parse(in, len, step, max_line, max_event);
        cr_assert_str_eq(r.events, want, "step %zu", step);
        result_free(&r);
    }
}

Test(sse, a_line_longer_than_max_line_stops_the_parser)
{
    pa_buf_t in = PA_BUF_INIT;
    pa_buf_puts(&in, "data: ");
    for (int i = 0; i < 14; i++) pa_buf_putc(&in, 'x'); /* a line of 20 bytes */
    pa_buf_puts(&in, "\n\n");
    too_long(in.data, in.len, 20, 100, "message=xxxxxxxxxxxxxx|");
    too_long(in.data, in.len, 19, 100, "ERROR: a stream line is too long");
    /* without a line end ever arriving: still bounded */
    too_long(in.data, in.len - 2, 19, 100, "ERROR: a stream line is too long");
    too_long(in.data, in.len - 2, 20, 100, "");
    /* comments and unknown fields too */
    too_long(": 3456789012345678901\n", 22, 20, 100, "ERROR: a stream line is too long");
    too_long("x: 3456789012345678901\n", 23, 20, 100, "ERROR: a stream line is too long");
    /* the line end does not count, nor a BOM */
    too_long("\xef\xbb\xbf"
             "data: 4567890\r\n\r\n",
             20, 13, 100, "message=4567890|");
    pa_buf_free(&in);
    pa_sse_t p;
    pa_sse_init(&p, 19, 100, NULL, NULL);
    cr_assert_eq(pa_sse_feed(&p, "", 0), 0);
    cr_assert_eq(pa_sse_feed(&p, "data: 56789012345678901\n", 24), -1);
    cr_assert_eq(p.error, PA_SSE_ERR_LINE);
    pa_sse_free(&p);
}

Test(sse, data_longer_than_max_event_stops_the_parser)
{
    /* 5 lines of 10 bytes: 54 bytes of data with the 4 "\n" */
    pa_buf_t in = PA_BUF_INIT;
    for (int i = 0; i < 5; i++) pa_buf_puts(&in, "data: 0123456789\n");
    pa_buf_puts(&in, "\n");
    too_long(in.data, in.len, 100, 54,
             "message=0123456789\n0123456789\n0123456789\n0123456789\n0123456789|");
    too_long(in.data, in.len, 100, 53, "ERROR: an event's data is too long");
    /* the bound is per event */
    pa_buf_reset(&in);
    for (int i = 0; i < 5; i++) pa_buf_puts(&in, "data: 0123456789\n\n");
    too_long(in.data, in.len, 100, 10,
             "message=0123456789|message=0123456789|message=0123456789|message=0123456789|"
             "message=0123456789|");
    too_long(in.data, in.len, 100, 9, "ERROR: an event's data is too long");
    /* empty data lines count with their "\n" */
    pa_buf_reset(&in);
    for (int i = 0; i < 6; i++) pa_buf_puts(&in, "data\n");
    too_long(in.data, in.len, 100, 4, "ERROR: an event's data is too long");
    too_long(in.data, in.len, 100, 5, "");
    pa_buf_free(&in);
    pa_sse_t p;
    pa_sse_init(&p, 100, 3, NULL, NULL);
    cr_assert_eq(pa_sse_feed(&p, "data: 1234\n", 11), -1);
    cr_assert_eq(p.error, PA_SSE_ERR_EVENT);
    pa_sse_free(&p);
}

Test(sse, zero_bounds_are_the_defaults)
{
    pa_sse_t p;
    pa_sse_init(&p, 0, 0, NULL, NULL);
    cr_assert_eq(p.max_line, PA_SSE_DEFAULT_MAX_LINE);
    cr_assert_eq(p.max_event, PA_SSE_DEFAULT_MAX_EVENT);
    pa_sse_free(&p);
    /* a line of 200 KiB passes the default bound, one of 300 KiB does not */
    pa_buf_t in = PA_BUF_INIT;
    pa_buf_puts(&in, "data: ");
    for (int i = 0; i < 200 * 1024; i++) pa_buf_putc(&in, 'y');
    pa_buf_puts(&in, "\n");
    result_t r = parse(in.data, in.len, 4096, 0, 0);
    cr_assert_str_eq(r.events, "");
    result_free(&r);
    in.len--; /* the same line without its end, made longer */
    for (int i = 0; i < 100 * 1024; i++) pa_buf_putc(&in, 'y');
    r = parse(in.data, in.len, 4096, 0, 0);
    cr_assert_str_eq(r.events, "ERROR: a stream line is too long");
    result_free(&r);
    pa_buf_free(&in);
}

static int refuse(void *ud, const pa_sse_event_t *ev)
{
    (void)ev;
    (*(int *)ud)++;
    return -1;
}

Test(sse, a_refused_event_stops_the_parser)
{
    int calls = 0;
    pa_sse_t p;
    pa_sse_init(&p, 100, 100, refuse, &calls);
    cr_assert_eq(pa_sse_feed(&p, "data: a\n\ndata: b\n\n", 18), -1);
    cr_assert_eq(p.error, PA_SSE_ERR_REFUSED);
    cr_assert_str_eq(p.err, "the stream's reader refused an event");
    cr_assert_eq(pa_sse_feed(&p, "data: c\n\n", 9), -1);
    cr_assert_eq(pa_sse_feed(&p, "", 0), -1);
    cr_assert_eq(calls, 1);
    pa_sse_free(&p);
}

Test(sse, a_failed_parser_takes_nothing_more)
{
    pa_buf_t out = PA_BUF_INIT;
    pa_sse_t p;
    pa_sse_init(&p, 10, 100, collect, &out);
    cr_assert_eq(pa_sse_feed(&p, "data: 0123456789\n", 17), -1);
    cr_assert_eq(pa_sse_feed(&p, "\ndata: a\n\nretry: 5\nid: 3\n\n", 25), -1);
    cr_assert_null(out.data, "no event after the failure");
    cr_assert_eq(pa_sse_retry(&p), -1);
    cr_assert_str_eq(pa_sse_last_id(&p, NULL), "");
    pa_sse_free(&p);
}

Test(sse, the_state_without_a_callback)
{
    pa_sse_t p;
    pa_sse_init(&p, 0, 0, NULL, NULL);
    cr_assert_eq(pa_sse_retry(&p), -1);
    size_t n = 99;
    cr_assert_str_eq(pa_sse_last_id(&p, &n), "");
    cr_assert_eq(n, 0);
    cr_assert_eq(pa_sse_feed(&p, "id: abc\nretry: 3000\ndata: x\n\n", 29), 0);
    cr_assert_str_eq(pa_sse_last_id(&p, &n), "abc");
    cr_assert_eq(n, 3);
    cr_assert_eq(pa_sse_retry(&p), 3000);
    pa_sse_free(&p);
}

Test(sse, restart_keeps_the_last_id_and_retry_and_forgets_the_rest)
{
    pa_buf_t out = PA_BUF_INIT;
    pa_sse_t p;
    pa_sse_init(&p, 30, 100, collect, &out);
    p.report_empty = 1;
    /* a stream that primes, sends one event, and is cut inside the next one */
    const char *first = "\xef\xbb\xbfid: e1\nretry: 250\ndata:\n\nid: e2\ndata: one\n\n"
                        "event: t\nid: e3\ndata: cut";
    cr_assert_eq(pa_sse_feed(&p, first, strlen(first)), 0);
    cr_assert_str_eq(out.data, "message=#e1@250|message=one#e2|");
    cr_assert_str_eq(pa_sse_last_id(&p, NULL), "e2");
    pa_sse_restart(&p);
    cr_assert_str_eq(pa_sse_last_id(&p, NULL), "e2");
    cr_assert_eq(pa_sse_retry(&p), 250);
    pa_buf_reset(&out);
    /* the resumed stream: a BOM again, no leftover of the cut event (type, data, id e3), the id
     * buffer starting from e2 */
    const char *second = "\xef\xbb\xbf"
                         "data: two\n\nid: e4\ndata: three\n\n";
    cr_assert_eq(pa_sse_feed(&p, second, strlen(second)), 0);
    cr_assert_str_eq(out.data, "message=two#e2|message=three#e4|");
    /* a restart also clears a failure (and a CR left pending) */
    cr_assert_eq(pa_sse_feed(&p, "data: 012345678901234567890123456789\r", 37), -1);
    pa_sse_restart(&p);
    cr_assert_eq(p.error, PA_SSE_OK);
    pa_buf_reset(&out);
    cr_assert_eq(pa_sse_feed(&p, "data: 1\r", 8), 0);
    pa_sse_restart(&p);
    cr_assert_eq(pa_sse_feed(&p, "\ndata: 2\n\n", 10), 0);
    cr_assert_str_eq(out.data, "message=2#e4|", "the LF starts the new stream with a blank line");
    pa_buf_free(&out);
    pa_sse_free(&p);
}

Test(sse, a_realistic_mcp_stream)
{
    /* Streamable HTTP: a priming event, a comment, a notification, the response; CRLF framing */
    expect_full(
        LIT("id: 0\r\ndata:\r\n\r\n"
            ": progress follows\r\n"
            "event: message\r\nid: 1\r\ndata: {\"method\":\"notifications/progress\"}\r\n\r\n"
            "retry: 1000\r\nid: 2\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1}\r\n\r\n"),
        0,
        "message=#0|message={\"method\":\"notifications/progress\"}#1|"
        "message={\"jsonrpc\":\"2.0\",\n\"id\":1}#2@1000|",
        "2", 1000);
}
