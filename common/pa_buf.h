/* Growable byte buffer used to build responses, log lines and Redis arguments. */
#ifndef PA_BUF_H
#define PA_BUF_H
#include <stdarg.h>
#include <stddef.h>
#include "pa_mem.h"

typedef struct {
    char *data; /* always NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
} pa_buf_t;

#define PA_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void pa_buf_reserve(pa_buf_t *b, size_t extra);
void pa_buf_put(pa_buf_t *b, const void *p, size_t n);
void pa_buf_puts(pa_buf_t *b, const char *s);
void pa_buf_putc(pa_buf_t *b, char c);
void pa_buf_printf(pa_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a JSON string literal, quotes included. */
void pa_buf_json_str(pa_buf_t *b, const char *s, size_t n);
void pa_buf_reset(pa_buf_t *b);
void pa_buf_free(pa_buf_t *b);
/* Hands the buffer to the caller (who frees it); b is left empty. Never NULL. */
char *pa_buf_detach(pa_buf_t *b, size_t *len);

#endif
