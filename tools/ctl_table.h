/* Plain-text tables for prospectctl: a header row, columns aligned by code points, control
 * characters and malformed UTF-8 made harmless, one column that may be truncated, and ANSI
 * colours only when asked for. */
#ifndef PA_TOOLS_CTL_TABLE_H
#define PA_TOOLS_CTL_TABLE_H
#include <stddef.h>
#include <stdio.h>

#include "pa_buf.h"

#define CTL_COL_RIGHT 1u /* right-aligned (numbers) */
#define CTL_COL_FLEX 2u  /* truncated to fit the terminal, or to CTL_FLEX_PIPE columns */

#define CTL_FLEX_PIPE 60 /* width of the flex column when stdout is not a terminal */
#define CTL_FLEX_MIN 20  /* narrowest the flex column gets on a narrow terminal */

typedef struct ctl_table ctl_table_t;

/* headers: ncols column names; flags: ncols CTL_COL_* values, or NULL. */
ctl_table_t *ctl_table_new(int ncols, const char *const *headers, const unsigned *flags);
/* Starts a new row; its cells are empty until set. */
void ctl_table_row(ctl_table_t *t);
/* Sets a cell of the current row (text NULL: "-"); color is an ANSI SGR code such as "31",
 * or NULL. The text is copied. */
void ctl_table_set(ctl_table_t *t, int col, const char *text, const char *color);
void ctl_table_setf(ctl_table_t *t, int col, const char *color, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t ctl_table_rows(const ctl_table_t *t);
/* Prints the table. width: terminal columns (0: not a terminal, the flex column gets
 * CTL_FLEX_PIPE); color: emit ANSI colours. */
void ctl_table_print(const ctl_table_t *t, FILE *f, int width, int color);
void ctl_table_free(ctl_table_t **t);

/* Appends s to out as printable text: control characters become spaces and malformed UTF-8
 * becomes '?'. Returns the number of code points appended. */
size_t ctl_text_clean(const char *s, size_t n, pa_buf_t *out);
/* Length of the well-formed UTF-8 sequence at s (1 for ASCII), 0 when it is malformed. */
size_t ctl_utf8_seq(const char *s, size_t n);

#endif
