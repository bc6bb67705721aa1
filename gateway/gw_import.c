/* Bulk import formats: the CSV record reader and row counters (pure functions over buffers;
 * the handler is gw_import_api.c). */
#include "gw_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_csv_next(const char *s, size_t n, size_t *pos, pa_buf_t *text, gw_csv_rec_t *rec,
                size_t *lines, char *err, size_t errlen)
{
    size_t i = *pos;
    pa_buf_reset(text);
    rec->nfields = 0;
    if (i >= n) return 0;
    int quoted = 0, was_quoted = 0;
    size_t start = text->len;
    for (;;) {
        if (i >= n) {
            if (quoted) {
                *pos = n;
                snprintf(err, errlen, "unterminated quoted field");
                return -1;
            }
            break;
        }
        char c = s[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < n && s[i + 1] == '"') {
                    pa_buf_putc(text, '"');
                    i += 2;
                } else {
                    quoted = 0;
                    i++;
                }
                continue;
            }
            if (c == '\n') (*lines)++;
            pa_buf_putc(text, c);
            i++;
            continue;
        }
        if (c == '"' && text->len == start && !was_quoted) {
            quoted = was_quoted = 1;
            i++;
            continue;
        }
        if (c == ',' || c == '\n' || c == '\r') {
            if (rec->nfields == GW_CSV_MAX_FIELDS) {
                /* refuse this record only: skip to the end of its line */
                while (i < n && s[i] != '\n') i++;
                if (i < n) i++, (*lines)++;
                *pos = i;
                snprintf(err, errlen, "more than %d fields", GW_CSV_MAX_FIELDS);
                return -1;
            }
            rec->off[rec->nfields] = start;
            rec->len[rec->nfields++] = text->len - start;
            start = text->len;
            was_quoted = 0;
            if (c == ',') {
                i++;
                continue;
            }
            if (c == '\r' && i + 1 < n && s[i + 1] == '\n') i++;
            i++;
            (*lines)++;
            *pos = i;
            return 1;
        }
        if (was_quoted) {
            /* text after a closing quote: skip to the end of the line, then refuse */
            while (i < n && s[i] != '\n') i++;
            if (i < n) i++, (*lines)++;
            *pos = i;
            snprintf(err, errlen, "unexpected character after a closing quote");
            return -1;
        }
        pa_buf_putc(text, c);
        i++;
    }
    if (rec->nfields == GW_CSV_MAX_FIELDS) {
        *pos = n;
        snprintf(err, errlen, "more than %d fields", GW_CSV_MAX_FIELDS);
        return -1;
    }
    rec->off[rec->nfields] = start;
    rec->len[rec->nfields++] = text->len - start;
    *pos = n;
    return 1;
}

size_t gw_csv_count(const char *s, size_t n)
{
    /* Counts with the reader itself, so that the count that guards IMPORT_MAX_ROWS is exactly
     * what the import goes through: every refused record and every one that is not blank. */
    pa_buf_t text = PA_BUF_INIT;
    gw_csv_rec_t rec;
    char err[128];
    size_t pos = 0, lines = 0, count = 0;
    int rc;
    while ((rc = gw_csv_next(s, n, &pos, &text, &rec, &lines, err, sizeof err)) != 0)
        if (rc < 0 || !(rec.nfields == 1 && rec.len[0] == 0)) count++;
    pa_buf_free(&text);
    return count;
}

size_t gw_ndjson_count(const char *s, size_t n)
{
    size_t count = 0;
    int blank = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            count += !blank;
            blank = 1;
        } else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            blank = 0;
        }
    }
    return count + !blank;
}
