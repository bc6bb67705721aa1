/* Growable byte buffer and the aborting allocation wrappers. */
#include "pa_buf.h"
#include "pa_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
    abort();
}

void *pa_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *pa_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *pa_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *pa_strdup(const char *s)
{
    return pa_strndup(s, strlen(s));
}

char *pa_strndup(const char *s, size_t n)
{
    char *p = pa_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void pa_buf_reserve(pa_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = pa_realloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh buffer is an empty string, never garbage */
}

void pa_buf_put(pa_buf_t *b, const void *p, size_t n)
{
    pa_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pa_buf_puts(pa_buf_t *b, const char *s)
{
    pa_buf_put(b, s, strlen(s));
}

void pa_buf_putc(pa_buf_t *b, char c)
{
    pa_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void pa_buf_printf(pa_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        pa_buf_put(b, tmp, (size_t)n);
        return;
    }
    pa_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pa_buf_json_str(pa_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    pa_buf_reserve(b, n + 2);
    pa_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* a JSON text is UTF-8: a malformed sequence (a worker's text cut in two, say)
             * becomes U+FFFD rather than making the whole answer unreadable */
            uint32_t cp;
            size_t k = pa_utf8_decode(s + i, n - i, &cp);
            if (k) {
                i += k - 1;
                continue;
            }
            pa_buf_put(b, s + start, i - start);
            pa_buf_put(b, "\\ufffd", 6);
            start = i + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        pa_buf_put(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': pa_buf_put(b, "\\\"", 2); break;
        case '\\': pa_buf_put(b, "\\\\", 2); break;
        case '\n': pa_buf_put(b, "\\n", 2); break;
        case '\r': pa_buf_put(b, "\\r", 2); break;
        case '\t': pa_buf_put(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pa_buf_put(b, u, 6);
        }
        }
    }
    pa_buf_put(b, s + start, n - start);
    pa_buf_putc(b, '"');
}

void pa_buf_reset(pa_buf_t *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void pa_buf_free(pa_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *pa_buf_detach(pa_buf_t *b, size_t *len)
{
    if (!b->data) pa_buf_reserve(b, 0);
    char *p = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
