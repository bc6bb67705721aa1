/* libFuzzer target for the CSV import reader: gw_csv_next over the whole input until the end.
 * Each call must move pos forward and never past the end, count only line breaks it consumed,
 * and describe fields that lie inside the unescaped text; the row counters must not crash.
 *
 * Sources: this file, gateway/gw_import.c (pure: the import handler is gw_import_api.c),
 * common/pa_buf.c (or an archive of common/ objects); flags -Igateway -Icommon.
 * -DFUZZ_CSV_STRICT_COUNT also checks that gw_csv_count covers every row the reader yields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static size_t breaks_in(const char *s, size_t from, size_t to)
{
    size_t k = 0;
    for (size_t i = from; i < to; i++) k += s[i] == '\n' || s[i] == '\r';
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
        if (rec.nfields == 1 && rec.len[0] == 0) blank++;
        else records++;
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
