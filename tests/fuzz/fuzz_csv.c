/* libFuzzer target for the CSV import reader: gw_csv_next over the whole input until the end.
 * Each call must move pos forward and never past the end, count only line breaks it consumed,
 * and describe fields that lie inside the unescaped text; the row counters must not crash.
 *
 * Sources: this file, gateway/gw_import.c, gateway/gw_prospect.c, common/pa_buf.c,
 * common/pa_utf8.c, common/pa_log.c, common/pa_time.c (or an archive of common/ objects);
 * flags -Igateway -Icommon plus the cflags of jansson, libmicrohttpd and hiredis (gw_import.c
 * includes gw_http.h, which includes their headers); libs jansson and pthread. The HTTP handler in
 * gw_import.c is never called here: the few gateway functions it refers to get weak stubs below,
 * so the rest of the gateway need not be linked (real definitions win if it is).
 * -DFUZZ_CSV_STRICT_COUNT also checks that gw_csv_count covers every row the reader yields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "gw_import.h"
#include "pa_buf.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_csv: check failed: %s: ", #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- link stubs for gw_h_prospects_import's callees (never reached) ---- */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STUB_UNREACHED()                                                                           \
    do {                                                                                           \
        fprintf(stderr, "fuzz_csv: %s called\n", __func__);                                        \
        abort();                                                                                   \
    } while (0)
__attribute__((weak)) int gw_content_type_is(gw_req_t *r, const char *const *types)
{
    STUB_UNREACHED();
}
__attribute__((weak)) void gw_problem(gw_req_t *r, int status, const char *slug, const char *field,
                                      const char *fmt, ...)
{
    STUB_UNREACHED();
}
__attribute__((weak)) pa_redis_t *gw_redis(gw_t *gw)
{
    STUB_UNREACHED();
}
__attribute__((weak)) void gw_reply_buf(gw_req_t *r, int status, pa_buf_t *b)
{
    STUB_UNREACHED();
}
__attribute__((weak)) void gw_unavailable(gw_req_t *r)
{
    STUB_UNREACHED();
}
__attribute__((weak)) int gw_store_redis_up(gw_store_t *s)
{
    STUB_UNREACHED();
}
__attribute__((weak)) void gw_store_put_many(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode,
                                             const gw_prospect_in_t *in, size_t n,
                                             gw_write_result_t *res, int want_doc)
{
    STUB_UNREACHED();
}
__attribute__((weak)) void gw_write_result_free(gw_write_result_t *res)
{
    STUB_UNREACHED();
}
#pragma GCC diagnostic pop

static size_t breaks_in(const char *s, size_t from, size_t to)
{
    size_t k = 0;
    for (size_t i = from; i < to; i++)
        k += s[i] == '\n' || s[i] == '\r';
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy with no slack after it, so any read past the end is caught by ASan */
    char *s = malloc(size ? size : 1);
    if (size) memcpy(s, data, size);

    pa_buf_t text = PA_BUF_INIT;
    gw_csv_rec_t rec;
    char err[128];
    size_t pos = 0, lines = 0, records = 0, refused = 0, blank = 0;
    for (;;) {
        size_t before = pos, lines_before = lines;
        err[0] = '\0';
        int rc = gw_csv_next(s, size, &pos, &text, &rec, &lines, err, sizeof err);
        CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
        CHECK(pos <= size, "pos %zu past the end %zu", pos, size);
        if (rc == 0) {
            CHECK(before >= size, "end reported at %zu of %zu", before, size);
            CHECK(pos == before, "pos moved from %zu to %zu at the end", before, pos);
            CHECK(lines == lines_before, "lines changed at the end");
            break;
        }
        CHECK(pos > before, "pos did not advance from %zu (rc %d)", before, rc);
        CHECK(lines >= lines_before, "lines went back");
        CHECK(lines - lines_before <= breaks_in(s, before, pos),
              "%zu line breaks counted in %zu..%zu, which holds %zu", lines - lines_before, before,
              pos, breaks_in(s, before, pos));
        if (rc < 0) {
            CHECK(err[0] != '\0', "no message for a refused record at %zu", before);
            refused++;
            continue;
        }
        CHECK(rec.nfields >= 1 && rec.nfields <= GW_CSV_MAX_FIELDS, "nfields %zu", rec.nfields);
        CHECK(text.len <= pos - before, "%zu bytes of text from %zu input bytes", text.len,
              pos - before);
        size_t end = 0;
        for (size_t f = 0; f < rec.nfields; f++) {
            CHECK(rec.off[f] >= end, "field %zu overlaps the one before", f);
            CHECK(rec.off[f] + rec.len[f] <= text.len, "field %zu (%zu+%zu) outside %zu bytes", f,
                  rec.off[f], rec.len[f], text.len);
            end = rec.off[f] + rec.len[f];
        }
        if (rec.nfields == 1 && rec.len[0] == 0)
            blank++;
        else
            records++;
    }
    CHECK(lines <= breaks_in(s, 0, size), "%zu line breaks counted of %zu", lines,
          breaks_in(s, 0, size));

    size_t c = gw_csv_count(s, size), nd = gw_ndjson_count(s, size);
    CHECK(c <= size && nd <= size, "counts %zu %zu for %zu bytes", c, nd, size);
#ifdef FUZZ_CSV_STRICT_COUNT
    /* The count guards IMPORT_MAX_ROWS: it must cover every row import_csv goes through. */
    CHECK(c >= records + refused, "gw_csv_count %zu, the reader went through %zu rows", c,
          records + refused);
#endif
    (void)blank;
    pa_buf_free(&text);
    free(s);
    return 0;
}
