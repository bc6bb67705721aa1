/* gw_import: the RFC 4180 record reader gw_csv_next (quoting, escaped quotes, embedded line
 * breaks and line counting, CRLF, empty fields, blank lines, malformed records and recovery,
 * the field limit) and the row counters gw_csv_count / gw_ndjson_count. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_import.h"

typedef struct {
    const char *s;
    size_t n, pos, lines;
    pa_buf_t text;
    gw_csv_rec_t rec;
    char err[128];
} rd_t;

static void rd_init(rd_t *r, const char *s, size_t n)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->n = n;
}

#define RD(r, lit) rd_init((r), (lit), sizeof(lit) - 1)

static int rd_next(rd_t *r)
{
    size_t before = r->pos;
    r->err[0] = '\0';
    int rc = gw_csv_next(r->s, r->n, &r->pos, &r->text, &r->rec, &r->lines, r->err, sizeof r->err);
    cr_assert(rc >= -1 && rc <= 1, "gw_csv_next returned %d", rc);
    cr_assert_leq(r->pos, r->n, "pos %zu past the end %zu", r->pos, r->n);
    if (rc != 0) cr_assert_gt(r->pos, before, "pos did not advance (rc %d at %zu)", rc, before);
    else cr_assert_eq(r->pos, before, "pos moved at the end");
    if (rc < 0) cr_assert_neq(r->err[0], '\0', "no error message");
    if (rc > 0) {
        cr_assert_geq(r->rec.nfields, 1);
        cr_assert_leq(r->rec.nfields, GW_CSV_MAX_FIELDS);
        for (size_t i = 0; i < r->rec.nfields; i++)
            cr_assert_leq(r->rec.off[i] + r->rec.len[i], r->text.len, "field %zu out of the text",
                          i);
    }
    return rc;
}

static void rd_free(rd_t *r)
{
    pa_buf_free(&r->text);
}

/* Expects a record of exactly the given fields (NULL-terminated list). */
static void expect_fields(rd_t *r, const char *const *want, const char *ctx)
{
    size_t nw = 0;
    while (want[nw]) nw++;
    cr_assert_eq(r->rec.nfields, nw, "%s: %zu fields, want %zu", ctx, r->rec.nfields, nw);
    for (size_t i = 0; i < nw; i++) {
        size_t wl = strlen(want[i]);
        const char *got = r->text.data ? r->text.data + r->rec.off[i] : "";
        cr_assert(r->rec.len[i] == wl && (!wl || memcmp(got, want[i], wl) == 0),
                  "%s: field %zu is \"%.*s\", want \"%s\"", ctx, i, (int)r->rec.len[i], got,
                  want[i]);
    }
}

#define EXPECT_REC(r, ...)                                                                         \
    do {                                                                                           \
        int rc_ = rd_next(r);                                                                      \
        cr_assert_eq(rc_, 1, "line %d: rc %d (%s)", __LINE__, rc_, (r)->err);                      \
        static const char *const want_[] = {__VA_ARGS__, NULL};                                    \
        char ctx_[32];                                                                             \
        snprintf(ctx_, sizeof ctx_, "line %d", __LINE__);                                          \
        expect_fields((r), want_, ctx_);                                                           \
    } while (0)

#define EXPECT_END(r) cr_assert_eq(rd_next(r), 0, "line %d: not at the end", __LINE__)

Test(csv_next, simple_records_with_trailing_newline)
{
    rd_t r;
    RD(&r, "a,b,c\n1,2,3\n");
    EXPECT_REC(&r, "a", "b", "c");
    cr_assert_eq(r.pos, 6);
    cr_assert_eq(r.lines, 1);
    EXPECT_REC(&r, "1", "2", "3");
    cr_assert_eq(r.pos, 12);
    cr_assert_eq(r.lines, 2);
    EXPECT_END(&r);
    EXPECT_END(&r); /* stays at the end */
    cr_assert_eq(r.lines, 2);
    rd_free(&r);
}

Test(csv_next, last_record_without_newline)
{
    rd_t r;
    RD(&r, "a,b\n1,2");
    EXPECT_REC(&r, "a", "b");
    EXPECT_REC(&r, "1", "2");
    cr_assert_eq(r.pos, r.n);
    cr_assert_eq(r.lines, 1, "no line break after the last record");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, empty_input)
{
    rd_t r;
    RD(&r, "");
    EXPECT_END(&r);
    cr_assert_eq(r.lines, 0);
    rd_free(&r);
}

Test(csv_next, crlf_record_ends)
{
    rd_t r;
    RD(&r, "name,company\r\nZoe,Acme\r\nLast,One");
    EXPECT_REC(&r, "name", "company");
    cr_assert_eq(r.pos, 14, "past the CR and the LF");
    cr_assert_eq(r.lines, 1, "CRLF is one line break");
    EXPECT_REC(&r, "Zoe", "Acme");
    cr_assert_eq(r.lines, 2);
    EXPECT_REC(&r, "Last", "One");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, quoted_fields_with_commas)
{
    rd_t r;
    RD(&r, "\"Smith, John\",\"Acme, Inc.\",plain,\",\"\n");
    EXPECT_REC(&r, "Smith, John", "Acme, Inc.", "plain", ",");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, escaped_quotes)
{
    rd_t r;
    RD(&r, "\"say \"\"hi\"\"\",\"\"\"\"\n\"\"\"start\",\"end\"\"\"\n\"a\"\"\"\"b\"\n");
    EXPECT_REC(&r, "say \"hi\"", "\"");
    EXPECT_REC(&r, "\"start", "end\"");
    EXPECT_REC(&r, "a\"\"b");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, quote_inside_an_unquoted_field_is_literal)
{
    rd_t r;
    RD(&r, "O\"Brien,5\" disk\n");
    EXPECT_REC(&r, "O\"Brien", "5\" disk");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, embedded_lf_counts_lines)
{
    rd_t r;
    RD(&r, "id,note\n1,\"line one\nline two\nline three\"\n2,after\n");
    EXPECT_REC(&r, "id", "note");
    cr_assert_eq(r.lines, 1);
    EXPECT_REC(&r, "1", "line one\nline two\nline three");
    cr_assert_eq(r.lines, 4, "two embedded line breaks and the record end");
    EXPECT_REC(&r, "2", "after");
    cr_assert_eq(r.lines, 5);
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, embedded_crlf_is_kept_and_counted_once)
{
    rd_t r;
    RD(&r, "\"a\r\nb\",c\r\nd,e\r\n");
    EXPECT_REC(&r, "a\r\nb", "c");
    cr_assert_eq(r.lines, 2);
    EXPECT_REC(&r, "d", "e");
    cr_assert_eq(r.lines, 3);
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, empty_fields)
{
    rd_t r;
    RD(&r, ",,\na,,c\n\"\",x\na,\n,\"\"\n");
    EXPECT_REC(&r, "", "", "");
    EXPECT_REC(&r, "a", "", "c");
    EXPECT_REC(&r, "", "x");
    EXPECT_REC(&r, "a", "");
    EXPECT_REC(&r, "", "");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, blank_lines_are_one_empty_field)
{
    rd_t r;
    RD(&r, "a\n\nb\r\n\r\nc");
    EXPECT_REC(&r, "a");
    EXPECT_REC(&r, "");
    cr_assert_eq(r.lines, 2);
    EXPECT_REC(&r, "b");
    EXPECT_REC(&r, "");
    cr_assert_eq(r.lines, 4);
    EXPECT_REC(&r, "c");
    cr_assert_eq(r.lines, 4);
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, unterminated_quote_fails_at_the_end)
{
    rd_t r;
    RD(&r, "a,b\n1,\"never closed\nsecond line\n3,4\n");
    EXPECT_REC(&r, "a", "b");
    cr_assert_eq(rd_next(&r), -1);
    cr_assert_eq(r.pos, r.n, "the rest of the input is consumed");
    cr_assert_eq(r.lines, 4, "every line break consumed is counted");
    cr_assert(strstr(r.err, "unterminated") != NULL, "err: %s", r.err);
    EXPECT_END(&r);
    rd_free(&r);

    RD(&r, "\"");
    cr_assert_eq(rd_next(&r), -1);
    cr_assert_eq(r.pos, 1);
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, text_after_closing_quote_fails_and_reading_continues)
{
    rd_t r;
    RD(&r, "h1,h2\n\"ab\"x,c\nnext,1\n\"q\" ,z\r\nlast,2");
    EXPECT_REC(&r, "h1", "h2");
    cr_assert_eq(rd_next(&r), -1);
    cr_assert_eq(r.pos, 14, "moved past the bad line");
    cr_assert_eq(r.lines, 2);
    cr_assert(strstr(r.err, "closing quote") != NULL, "err: %s", r.err);
    EXPECT_REC(&r, "next", "1");
    cr_assert_eq(r.lines, 3);
    cr_assert_eq(rd_next(&r), -1, "a space after a closing quote");
    cr_assert_eq(r.lines, 4);
    EXPECT_REC(&r, "last", "2");
    EXPECT_END(&r);
    rd_free(&r);

    RD(&r, "\"ab\"cd");
    cr_assert_eq(rd_next(&r), -1);
    cr_assert_eq(r.pos, r.n);
    EXPECT_END(&r);
    rd_free(&r);
}

/* A line of n fields "f0,f1,...". */
static char *fields_line(size_t n, const char *end)
{
    pa_buf_t b = PA_BUF_INIT;
    for (size_t i = 0; i < n; i++) pa_buf_printf(&b, "%sf%zu", i ? "," : "", i);
    pa_buf_puts(&b, end);
    return pa_buf_detach(&b, NULL);
}

Test(csv_next, exactly_max_fields)
{
    char *line = fields_line(GW_CSV_MAX_FIELDS, "\n");
    rd_t r;
    rd_init(&r, line, strlen(line));
    cr_assert_eq(rd_next(&r), 1, "err: %s", r.err);
    cr_assert_eq(r.rec.nfields, GW_CSV_MAX_FIELDS);
    cr_assert_eq(r.rec.len[GW_CSV_MAX_FIELDS - 1], 3);
    cr_assert(memcmp(r.text.data + r.rec.off[GW_CSV_MAX_FIELDS - 1], "f63", 3) == 0);
    EXPECT_END(&r);
    rd_free(&r);
    free(line);

    line = fields_line(GW_CSV_MAX_FIELDS, ""); /* the same at the end of the input */
    rd_init(&r, line, strlen(line));
    cr_assert_eq(rd_next(&r), 1, "err: %s", r.err);
    cr_assert_eq(r.rec.nfields, GW_CSV_MAX_FIELDS);
    EXPECT_END(&r);
    rd_free(&r);
    free(line);
}

Test(csv_next, too_many_fields_at_the_end_of_input)
{
    char *line = fields_line(GW_CSV_MAX_FIELDS + 1, "");
    rd_t r;
    rd_init(&r, line, strlen(line));
    cr_assert_eq(rd_next(&r), -1);
    cr_assert(strstr(r.err, "fields") != NULL, "err: %s", r.err);
    cr_assert_eq(r.pos, r.n);
    EXPECT_END(&r);
    rd_free(&r);
    free(line);
}

/* A record over the field limit is refused like any malformed record: *pos moves past that
 * record (gw_import.h) and the records after it are still read, as import_csv reports each
 * rejected row and goes on with the next. */
Test(csv_next, too_many_fields_refuses_only_that_record)
{
    char *bad = fields_line(GW_CSV_MAX_FIELDS + 6, "\n");
    pa_buf_t in = PA_BUF_INIT;
    pa_buf_puts(&in, "a,b\n");
    pa_buf_puts(&in, bad);
    pa_buf_puts(&in, "1,2\n3,4\n");
    rd_t r;
    rd_init(&r, in.data, in.len);
    EXPECT_REC(&r, "a", "b");
    cr_assert_eq(rd_next(&r), -1);
    cr_assert(strstr(r.err, "fields") != NULL, "err: %s", r.err);
    cr_assert_eq(r.lines, 2, "the refused record's line break is consumed");
    cr_assert_eq(r.pos, 4 + strlen(bad), "pos %zu: should be just past the refused record, at %zu",
                 r.pos, 4 + strlen(bad));
    EXPECT_REC(&r, "1", "2");
    EXPECT_REC(&r, "3", "4");
    EXPECT_END(&r);
    rd_free(&r);
    pa_buf_free(&in);
    free(bad);
}

Test(csv_next, text_buffer_is_reset_per_record)
{
    rd_t r;
    RD(&r, "aaaa,bbbb\nc\n");
    EXPECT_REC(&r, "aaaa", "bbbb");
    EXPECT_REC(&r, "c");
    cr_assert_eq(r.text.len, 1, "the text holds only the current record");
    cr_assert_eq(r.rec.off[0], 0);
    rd_free(&r);
}

Test(csv_next, utf8_and_bytes_pass_through)
{
    rd_t r;
    RD(&r, "Müller,\"ÉMILE, Σοφία\",\xff\xfe\n");
    EXPECT_REC(&r, "Müller", "ÉMILE, Σοφία", "\xff\xfe");
    EXPECT_END(&r);
    rd_free(&r);
}

Test(csv_next, line_numbers_as_import_reports_them)
{
    /* import_csv reports line = lines + 1 before each record: the physical line it starts on */
    rd_t r;
    RD(&r, "h\n\"x\ny\"\nbad\"q\n\"z\"!\nok\n");
    size_t starts[8], k = 0;
    for (;;) {
        size_t line = r.lines + 1;
        int rc = rd_next(&r);
        if (!rc) break;
        starts[k++] = line;
    }
    cr_assert_eq(k, 5);
    cr_assert_eq(starts[0], 1);
    cr_assert_eq(starts[1], 2);
    cr_assert_eq(starts[2], 4);
    cr_assert_eq(starts[3], 5);
    cr_assert_eq(starts[4], 6);
    rd_free(&r);
}

/* ---- counters ---- */

#define CSV_COUNT(lit) gw_csv_count((lit), sizeof(lit) - 1)
#define NDJSON_COUNT(lit) gw_ndjson_count((lit), sizeof(lit) - 1)

Test(csv_count, records_and_blank_lines)
{
    cr_assert_eq(CSV_COUNT(""), 0);
    cr_assert_eq(CSV_COUNT("\n"), 0);
    cr_assert_eq(CSV_COUNT("\r\n\r\n"), 0);
    cr_assert_eq(CSV_COUNT("a,b\n1,2\n"), 2);
    cr_assert_eq(CSV_COUNT("a,b\n1,2"), 2);
    cr_assert_eq(CSV_COUNT("a,b\r\n1,2\r\n"), 2);
    cr_assert_eq(CSV_COUNT("a\n\n\nb\n\n"), 2);
    cr_assert_eq(CSV_COUNT(","), 1);
}

Test(csv_count, line_breaks_inside_quotes_do_not_count)
{
    cr_assert_eq(CSV_COUNT("h1,h2\n\"x\ny\nz\",w\n1,2\n"), 3);
    cr_assert_eq(CSV_COUNT("h\n\"a\"\"\nb\"\n"), 2);
    cr_assert_eq(CSV_COUNT("h\n\"a\r\n\r\nb\"\r\n"), 2);
}

/* Counts what import_csv goes through: every refused record and every record that is not a
 * single empty field (a blank line). */
static size_t parser_rows(const char *s, size_t n)
{
    rd_t r;
    rd_init(&r, s, n);
    size_t rows = 0;
    int rc;
    while ((rc = rd_next(&r)) != 0)
        if (rc < 0 || !(r.rec.nfields == 1 && r.rec.len[0] == 0)) rows++;
    rd_free(&r);
    return rows;
}

/* The count guards IMPORT_MAX_ROWS, so it must not count fewer rows than the parser reads. */
Test(csv_count, agrees_with_the_parser)
{
    static const char *const cases[] = {
        "a,b\n1,2\n3,4\n",
        "a,b\n\"1\n1\",2\n3,4",
        "a,b\n\n1,2\n\r\n3,4\r\n",
        "h\n\"\"\"\"\n\"a\"\"b\"\n",
        "h\n\"x\",\"y\nz\"\nw\n",
        "h\nO\"Brien,x\n1,2\n3,4\n5,6\n", /* a quote inside an unquoted field */
        "h\n\"ab\"x,c\n1,2\n3,4\n",       /* text after a closing quote */
        "h,i\r1,2\r3,4\r",                /* CR alone ends records too */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        cr_expect_eq(gw_csv_count(cases[i], n), parser_rows(cases[i], n),
                     "case %zu: gw_csv_count %zu, the parser reads %zu rows", i,
                     gw_csv_count(cases[i], n), parser_rows(cases[i], n));
    }
}

Test(ndjson_count, non_blank_lines)
{
    cr_assert_eq(NDJSON_COUNT(""), 0);
    cr_assert_eq(NDJSON_COUNT("\n\n"), 0);
    cr_assert_eq(NDJSON_COUNT(" \t\r\n"), 0);
    cr_assert_eq(NDJSON_COUNT("{}"), 1);
    cr_assert_eq(NDJSON_COUNT("{}\n"), 1);
    cr_assert_eq(NDJSON_COUNT("{}\n{}\n"), 2);
    cr_assert_eq(NDJSON_COUNT("{}\r\n\r\n  \n{\"a\":1}\r\n\t{}"), 3);
    cr_assert_eq(NDJSON_COUNT("{\"s\":\"x\\ny\"}\n"), 1, "an escaped newline is not a line break");
    cr_assert_eq(NDJSON_COUNT("garbage\nmore garbage"), 2,
                 "bad lines count too (they are reported)");
}
