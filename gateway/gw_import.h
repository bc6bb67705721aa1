/* Bulk import formats: a CSV record reader (RFC 4180) and line splitting, pure functions over
 * buffers so they are unit-tested and fuzzed without sockets. */
#ifndef GW_IMPORT_H
#define GW_IMPORT_H
#include <stddef.h>

#include "pa_buf.h"

#define GW_CSV_MAX_FIELDS 64

typedef struct {
    size_t nfields;
    size_t off[GW_CSV_MAX_FIELDS]; /* into the caller's buffer of unescaped text */
    size_t len[GW_CSV_MAX_FIELDS];
} gw_csv_rec_t;

/* Reads the record at s[*pos..n): its unescaped fields go to text (reset first). Returns 1 for
 * a record, 0 at the end, -1 on a malformed record (with a message in err); *pos moves past the
 * record either way and *lines counts the line breaks consumed. */
int gw_csv_next(const char *s, size_t n, size_t *pos, pa_buf_t *text, gw_csv_rec_t *rec,
                size_t *lines, char *err, size_t errlen);

/* Counts records (CSV, with the reader above) or non-blank lines (NDJSON). */
size_t gw_csv_count(const char *s, size_t n);
size_t gw_ndjson_count(const char *s, size_t n);

#endif
