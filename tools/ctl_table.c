/* Plain-text tables for prospectctl. See ctl_table.h. */
#include "ctl_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pa_utf8.h"

#define GAP 2 /* spaces between columns */

typedef struct {
    char *text; /* cleaned: printable, well-formed UTF-8 */
    size_t w;   /* code points */
    const char *color;
} cell_t;

struct ctl_table {
    int ncols;
    cell_t *headers;
    unsigned *flags;
    cell_t *cells; /* nrows * ncols */
    size_t nrows, caprows;
};

size_t ctl_utf8_seq(const char *s, size_t n)
{
    uint32_t cp;
    return pa_utf8_decode(s, n, &cp);
}

size_t ctl_text_clean(const char *s, size_t n, pa_buf_t *out)
{
    size_t w = 0;
    pa_buf_reserve(out, n);
    for (size_t i = 0; i < n; w++) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            pa_buf_putc(out, ' ');
            i++;
            continue;
        }
        size_t k = ctl_utf8_seq(s + i, n - i);
        if (!k) {
            pa_buf_putc(out, '?');
            i++;
            continue;
        }
        pa_buf_put(out, s + i, k);
        i += k;
    }
    return w;
}

static void cell_init(cell_t *cell, const char *text, const char *color)
{
    pa_buf_t b = PA_BUF_INIT;
    if (!text) text = "-";
    cell->w = ctl_text_clean(text, strlen(text), &b);
    free(cell->text);
    pa_buf_putc(&b, '\0'); /* an empty text still gets an allocation */
    cell->text = pa_buf_detach(&b, NULL);
    cell->color = color;
}

ctl_table_t *ctl_table_new(int ncols, const char *const *headers, const unsigned *flags)
{
    ctl_table_t *t = pa_calloc(1, sizeof *t);
    t->ncols = ncols;
    t->headers = pa_calloc((size_t)ncols, sizeof *t->headers);
    t->flags = pa_calloc((size_t)ncols, sizeof *t->flags);
    for (int i = 0; i < ncols; i++) {
        cell_init(&t->headers[i], headers[i], NULL);
        t->flags[i] = flags ? flags[i] : 0;
    }
    return t;
}

void ctl_table_row(ctl_table_t *t)
{
    if (t->nrows == t->caprows) {
        t->caprows = t->caprows ? t->caprows * 2 : 16;
        t->cells = pa_realloc(t->cells, t->caprows * (size_t)t->ncols * sizeof *t->cells);
    }
    cell_t *row = t->cells + t->nrows * (size_t)t->ncols;
    memset(row, 0, (size_t)t->ncols * sizeof *row);
    t->nrows++;
}

void ctl_table_set(ctl_table_t *t, int col, const char *text, const char *color)
{
    if (!t->nrows || col < 0 || col >= t->ncols) return;
    cell_init(&t->cells[(t->nrows - 1) * (size_t)t->ncols + (size_t)col], text, color);
}

void ctl_table_setf(ctl_table_t *t, int col, const char *color, const char *fmt, ...)
{
    pa_buf_t b = PA_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof tmp) {
        pa_buf_reserve(&b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b.data, (size_t)n + 1, fmt, ap);
        va_end(ap);
        ctl_table_set(t, col, b.data, color);
        pa_buf_free(&b);
    } else {
        ctl_table_set(t, col, n < 0 ? "" : tmp, color);
    }
}

size_t ctl_table_rows(const ctl_table_t *t)
{
    return t->nrows;
}

static void spaces(FILE *f, size_t n)
{
    while (n--) fputc(' ', f);
}

/* Prints the first `max` code points of a cell, with "..." when it is longer. */
static void put_text(FILE *f, const cell_t *cell, size_t max)
{
    if (!cell->text) return; /* a cell that was never set */
    if (cell->w <= max) {
        fputs(cell->text, f);
        return;
    }
    size_t keep = max > 3 ? max - 3 : max;
    const char *p = cell->text;
    for (size_t i = 0; i < keep && *p; i++) {
        p++;
        while ((*p & 0xc0) == 0x80) p++; /* continuation bytes of the same code point */
    }
    fwrite(cell->text, 1, (size_t)(p - cell->text), f);
    if (max > 3) fputs("...", f);
}

static void put_cell(FILE *f, const cell_t *cell, size_t width, unsigned flags, int last, int color,
                     const char *force_color)
{
    const char *sgr = force_color ? force_color : cell->color;
    size_t w = cell->w < width ? cell->w : width;
    if (flags & CTL_COL_RIGHT) spaces(f, width - w);
    if (color && sgr) fprintf(f, "\033[%sm", sgr);
    put_text(f, cell, width);
    if (color && sgr) fputs("\033[0m", f);
    if (!(flags & CTL_COL_RIGHT) && !last) spaces(f, width - w);
    if (!last) spaces(f, GAP);
}

void ctl_table_print(const ctl_table_t *t, FILE *f, int width, int color)
{
    const size_t nc = (size_t)t->ncols;
    size_t *w = pa_calloc(nc, sizeof *w);
    for (size_t c = 0; c < nc; c++) {
        w[c] = t->headers[c].w;
        for (size_t r = 0; r < t->nrows; r++)
            if (t->cells[r * nc + c].w > w[c]) w[c] = t->cells[r * nc + c].w;
    }
    for (size_t c = 0; c < nc; c++) {
        if (!(t->flags[c] & CTL_COL_FLEX)) continue;
        size_t max = CTL_FLEX_PIPE;
        if (width > 0) {
            size_t others = GAP * (nc - 1);
            for (size_t o = 0; o < nc; o++)
                if (o != c) others += w[o];
            max = (size_t)width > others + CTL_FLEX_MIN ? (size_t)width - others : CTL_FLEX_MIN;
        }
        if (max < t->headers[c].w) max = t->headers[c].w;
        if (w[c] > max) w[c] = max;
    }
    for (size_t c = 0; c < nc; c++)
        put_cell(f, &t->headers[c], w[c], t->flags[c], c + 1 == nc, color, "1");
    fputc('\n', f);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < nc; c++)
            put_cell(f, &t->cells[r * nc + c], w[c], t->flags[c], c + 1 == nc, color, NULL);
        fputc('\n', f);
    }
    free(w);
}

void ctl_table_free(ctl_table_t **tp)
{
    ctl_table_t *t = *tp;
    if (!t) return;
    for (int i = 0; i < t->ncols; i++) free(t->headers[i].text);
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i].text);
    free(t->headers);
    free(t->flags);
    free(t->cells);
    free(t);
    *tp = NULL;
}
